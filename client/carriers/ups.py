"""UPS Track API v1 (NOTES §1): OAuth with Basic auth, one number per GET.

- Token: ``POST {base}/security/v1/oauth/token`` (host root, not under ``/api`` — §1.1),
  HTTP Basic ``client_id:client_secret``, form ``grant_type=client_credentials``; every value
  in the answer is a string (``"expires_in": "14399"``).
- Tracking: ``GET {base}/api/track/v1/details/{number}?locale=en_US`` with ``transId`` and
  ``transactionSrc`` headers.
- Not found: production answers **200** with ``warnings[{code: TW0001}]`` and no ``package``;
  the documented 404 ``{"response":{"errors":[…]}}`` form is handled too (§1.6).
- Times: ``gmtDate`` + ``gmtTime`` (live ``HH:MM:SS``, spec ``74700``) is the instant, and
  ``gmtOffset`` the scan's local offset; without the ``gmt*`` fields the local ``date`` +
  ``time`` is used, read as UTC when no offset is given at all (§1.4, §6 item 5).
- Status: the 3-digit status code (activity ``statusCode``; ``currentStatus.code`` in live
  answers) through :data:`STATUS_CODES`, else the type letter through :data:`STATUS_TYPES`.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx

from client.carriers._parse import (
    Stamp,
    Summary,
    at_day,
    clean,
    compact_date,
    compact_time,
    current_status,
    items,
    location,
    newest,
    obj,
    order_events,
    parse_offset,
    reason_from_words,
    regressed,
    same_number,
    text,
    tracking_result,
    wrong_number,
)
from client.carriers.base import CarrierAdapter, CarrierConfig, Outcome
from client.errors import InvalidNumber, MalformedResponse, NotFound, TrackingError
from client.model import (
    Anomaly,
    Carrier,
    Event,
    ExceptionReason,
    ProofOfDelivery,
    RawJSON,
    Status,
    TrackingResult,
)
from client.transport import HttpReply

__all__ = ["STATUS_CODES", "STATUS_TYPES", "UpsAdapter", "activity_time"]

_S, _R = Status, ExceptionReason

STATUS_TYPES: Mapping[str, Status] = {
    "D": _S.delivered,
    "I": _S.in_transit,  # "in transit, incl. out for delivery" — the code tells them apart
    "M": _S.pre_transit,  # billing information received (label created)
    "MV": _S.cancelled,  # billing information voided
    "X": _S.exception,
    "P": _S.in_transit,  # pickup
    "DO": _S.in_transit,  # freight: delivered to the origin CFS, not to the consignee
    "DD": _S.in_transit,  # freight: delivered to the destination CFS
    "W": _S.in_transit,  # freight warehousing
    "NA": _S.unknown,
}
"""``status.type`` letters (NOTES §1.5) → status, used when no 3-digit code is given."""

_T, _OFD, _FA, _PU, _DL = (
    _S.in_transit,
    _S.out_for_delivery,
    _S.failed_attempt,
    _S.available_for_pickup,
    _S.delivered,
)
_X, _RTS, _PRE = _S.exception, _S.returned_to_sender, _S.pre_transit

# fmt: off
STATUS_CODES: Mapping[int, tuple[Status, ExceptionReason | None]] = {
    0: (_S.unknown, None), 3: (_PRE, None), 5: (_T, None), 6: (_OFD, None),
    7: (_S.cancelled, None), 10: (_T, None), 11: (_DL, None), 12: (_T, None),
    13: (_X, None), 14: (_T, None), 16: (_T, None), 17: (_PU, None), 18: (_T, None),
    19: (_T, None), 20: (_T, None), 21: (_OFD, None), 22: (_FA, None), 23: (_FA, None),
    24: (_FA, None), 25: (_T, None), 26: (_DL, None), 27: (_T, None), 28: (_T, None),
    29: (_X, None), 30: (_X, None), 32: (_X, _R.weather), 33: (_RTS, None), 34: (_RTS, None),
    35: (_RTS, None), 36: (_RTS, None), 37: (_OFD, None), 38: (_T, None), 39: (_T, None),
    40: (_PU, None), 41: (_T, None), 42: (_T, None), 43: (_PRE, None), 44: (_PRE, None),
    45: (_PRE, None), 46: (_X, _R.delay), 47: (_T, None), 48: (_X, _R.delay),
    49: (_X, _R.delay), 50: (_X, _R.address), 51: (_X, _R.weather), 52: (_X, _R.weather),
    53: (_X, _R.weather), 54: (_T, None), 55: (_T, None), 56: (_T, None), 57: (_T, None),
    58: (_X, _R.customs), 59: (_X, _R.damaged), 60: (_FA, None), 61: (_FA, None),
    62: (_FA, None), 63: (_T, None), 64: (_X, _R.refused), 65: (_PRE, None), 66: (_FA, None),
    67: (_RTS, None), 68: (_X, _R.lost), 69: (_X, _R.other), 70: (_T, None), 71: (_T, None),
    72: (_OFD, None), 73: (_T, None), 74: (_T, None), 75: (_T, None), 76: (_X, _R.other),
    77: (_PRE, None), 78: (_OFD, None), 79: (_PRE, None), 80: (_PRE, None),
    81: (_RTS, _R.damaged), 82: (_T, None), 83: (_X, _R.other), 84: (_T, None),
    85: (_X, _R.other), 86: (_X, _R.delay), 87: (_T, None), 88: (_S.unknown, None),
    89: (_OFD, None), 90: (_X, _R.delay), 91: (_OFD, None), 92: (_T, None),
    93: (_X, _R.other), 94: (_T, None), 95: (_T, None), 96: (_T, None), 97: (_T, None),
    98: (_T, None), 99: (_T, None), 100: (_T, None), 101: (_T, None), 102: (_T, None),
    103: (_T, None), 104: (_T, None), 105: (_T, None), 106: (_T, None), 107: (_T, None),
    108: (_T, None), 109: (_T, None), 110: (_T, None), 111: (_T, None), 112: (_T, None),
    113: (_T, None), 114: (_T, None), 115: (_T, None), 116: (_T, None), 117: (_T, None),
    118: (_RTS, None), 119: (_RTS, None), 120: (_T, None), 121: (_T, None), 122: (_T, None),
    123: (_X, _R.customs), 124: (_X, _R.customs), 125: (_X, _R.customs),
    126: (_X, _R.customs), 127: (_X, _R.other), 128: (_X, _R.other), 129: (_X, _R.lost),
    130: (_X, _R.other), 131: (_PRE, None), 132: (_X, _R.delay), 133: (_PRE, None),
    134: (_T, None), 135: (_PRE, None), 136: (_T, None), 137: (_T, None), 138: (_T, None),
    139: (_X, _R.other), 140: (_X, _R.other), 141: (_X, _R.customs), 142: (_X, _R.other),
    143: (_DL, None), 144: (_PU, None), 145: (_FA, None), 146: (_OFD, None),
    147: (_X, _R.other), 148: (_S.unknown, None), 149: (_X, _R.other), 153: (_T, None),
    154: (_T, None), 155: (_DL, None), 156: (_T, None), 157: (_PRE, None), 158: (_T, None),
    159: (_T, None), 160: (_T, None), 161: (_PU, None), 162: (_OFD, None),
    163: (_S.unknown, None), 164: (_T, None), 165: (_T, None), 166: (_PRE, None),
    167: (_T, None), 168: (_T, None), 169: (_T, None),
}
# fmt: on
"""UPS status/description codes (NOTES §1.5, sent zero-padded: ``"011"``) → status, reason."""

NOT_FOUND_WARNING = "TW0001"
INVALID_NUMBER_CODE = "TV1002"


def _three_digit(status: Mapping[str, Any]) -> str | None:
    # The spec puts the 3-digit code in statusCode; live currentStatus puts it in code
    # (NOTES §1.4). Take whichever field holds digits.
    for field in ("statusCode", "code"):
        value = text(status.get(field))
        if value is not None and value.isdigit() and len(value) <= 3:
            return value
    return None


def _map(status: Mapping[str, Any]) -> tuple[Status, ExceptionReason | None, str | None]:
    """(status, reason, raw code) for a UPS status object."""
    code = _three_digit(status)
    if code is not None:
        mapped = STATUS_CODES.get(int(code))
        return (mapped[0], mapped[1], code) if mapped else (Status.unknown, None, code)
    letter = text(status.get("type"))
    if letter is not None:
        return STATUS_TYPES.get(letter.upper(), Status.unknown), None, letter
    raw = text(status.get("code"))
    return Status.unknown, None, raw


def activity_time(activity: Mapping[str, Any]) -> Stamp | None:
    """When a UPS activity happened: the gmt fields if present, else local date and time."""
    offset = parse_offset(activity.get("gmtOffset"))
    gmt_day, gmt_clock = (
        compact_date(activity.get("gmtDate")),
        compact_time(activity.get("gmtTime")),
    )
    if gmt_day is not None and gmt_clock is not None:
        instant = datetime.combine(gmt_day, gmt_clock, tzinfo=UTC)
        return Stamp(instant.astimezone(offset or UTC), True)
    day, clock = compact_date(activity.get("date")), compact_time(activity.get("time"))
    if day is None:
        return None
    local = at_day(day, clock)
    assert local is not None
    if offset is not None:
        return Stamp(local.replace(tzinfo=offset), True)
    return Stamp(local, False)


class UpsAdapter(CarrierAdapter):
    """UPS: Basic-auth OAuth, one GET per number, 200 + TW0001 for unknown numbers."""

    carrier = Carrier.ups
    default_base_url = "https://onlinetools.ups.com"
    batch_size = 1
    token_lifetime = 14399.0
    transaction_source = "carriersim-client"

    def token_url(self, config: CarrierConfig) -> str:
        """``/security/v1/oauth/token`` at the host root."""
        return config.url("/security/v1/oauth/token")

    def token_request(self, config: CarrierConfig) -> httpx.Request:
        """Basic auth + ``grant_type=client_credentials`` (NOTES §1.2)."""
        client_id, secret = self.oauth_credentials(config)
        basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode("ascii")
        return httpx.Request(
            "POST",
            self.token_url(config),
            data={"grant_type": "client_credentials"},
            headers={"Authorization": f"Basic {basic}"},
        )

    def track_request(
        self, config: CarrierConfig, numbers: Sequence[str], token: str | None
    ) -> httpx.Request:
        """``GET /api/track/v1/details/{number}`` (NOTES §1.3)."""
        (number,) = numbers
        return httpx.Request(
            "GET",
            config.url(f"/api/track/v1/details/{number}"),
            params={"locale": "en_US"},
            headers={
                "Authorization": f"Bearer {token}",
                "transId": uuid.uuid4().hex,
                "transactionSrc": self.transaction_source,
            },
        )

    def _get(
        self, config: CarrierConfig, path: str, token: str | None, **params: str
    ) -> httpx.Request:
        return httpx.Request(
            "GET",
            config.url(path),
            params={"locale": "en_US", **params},
            headers={
                "Authorization": f"Bearer {token}",
                "transId": uuid.uuid4().hex,
                "transactionSrc": self.transaction_source,
            },
        )

    def reference_request(
        self, config: CarrierConfig, reference: str, token: str | None
    ) -> httpx.Request:
        """``GET /api/track/v1/reference/details/{reference}`` (NOTES §1.3)."""
        path = f"/api/track/v1/reference/details/{quote(reference, safe='')}"
        return self._get(config, path, token)

    def parse_reference(self, reply: HttpReply, reference: str) -> list[TrackingResult]:
        """A result per package of every shipment the reference names; NotFound for none."""
        body = self.json_object(reply, (reference,))
        shipments = items(obj(body.get("trackResponse")).get("shipment"))
        found = [
            self._result(text(p.get("trackingNumber")) or reference, p, body)
            for s in shipments
            for p in items(s.get("package"))
        ]
        if not found:
            error = self._no_package(shipments[0] if shipments else {}, reference, reply)
            raise error
        return found

    def pieces_request(
        self, config: CarrierConfig, master: str, token: str | None
    ) -> httpx.Request:
        """``GET /api/track/v1/shipment/details/{master}`` (NOTES §1.3)."""
        return self._get(config, f"/api/track/v1/shipment/details/{master}", token)

    def parse_pieces(self, reply: HttpReply, master: str) -> tuple[TrackingResult, ...]:
        """Every package of the shipment but the master's, in the answer's order."""
        body = self.json_object(reply, (master,))
        shipments = items(obj(body.get("trackResponse")).get("shipment"))
        packages = [p for s in shipments for p in items(s.get("package"))]
        if not packages:
            raise self._no_package(shipments[0] if shipments else {}, master, reply)
        out = []
        for package in packages:
            number = text(package.get("trackingNumber"))
            if number and not same_number(master, number):
                out.append(self._result(number, package, body))
        return tuple(out)

    def pod_request(self, config: CarrierConfig, number: str, token: str | None) -> httpx.Request:
        """Details with ``returnPOD`` (NOTES §1.3: base64 in ``deliveryInformation.pod``)."""
        return self._get(config, f"/api/track/v1/details/{number}", token, returnPOD="true")

    def parse_pod(self, reply: HttpReply, number: str) -> ProofOfDelivery:
        """The POD letter; NotFound until the package is delivered and signed for."""
        body = self.json_object(reply, (number,))
        shipments = items(obj(body.get("trackResponse")).get("shipment"))
        packages = items(shipments[0].get("package")) if shipments else []
        if not packages:
            raise self._no_package(shipments[0] if shipments else {}, number, reply)
        info = obj(packages[0].get("deliveryInformation"))
        content = text(obj(info.get("pod")).get("content"))
        if not content:
            raise NotFound(
                "no proof of delivery yet (not delivered, or delivered without signature)",
                carrier=self.carrier,
                number=number,
                status_code=reply.status_code,
            )
        try:
            document = base64.b64decode(content, validate=True)
        except ValueError:
            raise self.malformed(reply, (number,), "pod.content is not base64") from None
        # UPS names no media type; its letter is an HTML page (a PDF when it starts so).
        media = "application/pdf" if document.startswith(b"%PDF") else "text/html"
        return ProofOfDelivery(self.carrier, number, media, document)

    def error_details(self, reply: HttpReply) -> tuple[str | None, str | None]:
        """``{"response":{"errors":[{code, message}]}}`` (NOTES §1.6)."""
        errors = items(obj(obj(self.safe_json(reply)).get("response")).get("errors"))
        if not errors:
            return None, None
        return text(errors[0].get("code")), clean(errors[0].get("message")) or None

    def track_error(self, reply: HttpReply, numbers: Sequence[str]) -> TrackingError | None:
        """The generic classes, plus 400 TV1002 → InvalidNumber."""
        error = super().track_error(reply, numbers)
        if error is not None and reply.status_code == 400 and error.code == INVALID_NUMBER_CODE:
            return InvalidNumber(
                error.message,
                carrier=self.carrier,
                number=error.number,
                status_code=400,
                code=error.code,
            )
        return error

    def parse_track(self, reply: HttpReply, numbers: Sequence[str]) -> dict[str, Outcome]:
        """One outcome from ``trackResponse.shipment[0]``."""
        (number,) = numbers
        body = self.json_object(reply, numbers)
        shipments = items(obj(body.get("trackResponse")).get("shipment"))
        if not shipments:
            raise self.malformed(reply, numbers, "no trackResponse.shipment in the answer")
        shipment = shipments[0]
        packages = items(shipment.get("package"))
        if not packages:
            return {number: self._no_package(shipment, number, reply)}
        verdicts = [same_number(number, p.get("trackingNumber")) for p in packages]
        package = next((p for p, v in zip(packages, verdicts, strict=True) if v), None)
        if package is None:
            package = next((p for p, v in zip(packages, verdicts, strict=True) if v is None), None)
        if package is None:
            return {number: wrong_number(self.carrier, number, packages[0].get("trackingNumber"))}
        return {number: self._result(number, package, body)}

    def _no_package(
        self, shipment: Mapping[str, Any], number: str, reply: HttpReply
    ) -> TrackingError:
        warnings = items(shipment.get("warnings"))
        if warnings:
            code = text(warnings[0].get("code"))
            message = clean(warnings[0].get("message")) or "no tracking information"
            return NotFound(
                message, carrier=self.carrier, number=number, status_code=200, code=code
            )
        return MalformedResponse(
            "the shipment has neither packages nor warnings",
            carrier=self.carrier,
            number=number,
            status_code=reply.status_code,
        )

    def _event(self, activity: Mapping[str, Any]) -> Event | None:
        stamp = activity_time(activity)
        if stamp is None:
            return None
        status, reason, raw = _map(obj(activity.get("status")))
        description = clean(obj(activity.get("status")).get("description"))
        if reason is None and status in (Status.exception, Status.failed_attempt):
            # Generic codes (29 "Exception: Action Required", 60 "Delivery Attempted") leave
            # the cause to the activity's text ("The address is incomplete…", NOTES §1.5).
            reason = reason_from_words(description)
        address = obj(obj(activity.get("location")).get("address"))
        return Event(
            time=stamp.at,
            status=status,
            description=description,
            location=location(
                address.get("city"),
                address.get("stateProvince"),
                address.get("postalCode"),
                address.get("countryCode") or address.get("country"),
            ),
            raw_code=raw,
            exception_reason=reason,
            offset_known=stamp.offset_known,
            raw=RawJSON.of(activity),
        )

    def _result(
        self, number: str, package: Mapping[str, Any], body: Mapping[str, Any]
    ) -> TrackingResult:
        drafted = [self._event(a) for a in items(package.get("activity"))]
        events, anomalies = order_events([e for e in drafted if e is not None])
        summary = None
        current = obj(package.get("currentStatus"))
        if current or text(package.get("statusCode")):
            status_obj = (
                current
                if _three_digit(current) or text(current.get("type"))
                else {"statusCode": package.get("statusCode")}
            )
            status, reason, raw = _map(status_obj)
            description = clean(current.get("description")) or clean(
                package.get("statusDescription")
            )
            summary = Summary(status, raw, description, reason)
        now = current_status(summary, events)
        if regressed(now.status, events):
            anomalies.append(Anomaly.status_regression)
        delivered_at = None
        if now.status is Status.delivered:
            delivered = newest(events, Status.delivered)
            delivered_at = delivered.time if delivered else self._delivery_moment(package)
        estimate, estimate_end = (None, None) if delivered_at else self._estimate(package)
        signed = text(obj(package.get("deliveryInformation")).get("receivedBy"))
        return tracking_result(
            self.carrier,
            number,
            now,
            events,
            anomalies,
            body,
            estimated_delivery=estimate,
            estimated_delivery_end=estimate_end,
            delivered_at=delivered_at,
            signed_by=signed if now.status is Status.delivered else None,
            service=clean(obj(package.get("service")).get("description")) or None,
        )

    @staticmethod
    def _dates(package: Mapping[str, Any]) -> dict[str, datetime | None]:
        return {
            (text(d.get("type")) or "").upper(): at_day(compact_date(d.get("date")), None)
            for d in items(package.get("deliveryDate"))
        }

    def _delivery_moment(self, package: Mapping[str, Any]) -> datetime | None:
        day = self._dates(package).get("DEL")
        window = obj(package.get("deliveryTime"))
        clock = compact_time(window.get("endTime"))
        if day is None or clock is None:
            return day
        return day.replace(hour=clock.hour, minute=clock.minute, second=clock.second)

    def _estimate(self, package: Mapping[str, Any]) -> tuple[datetime | None, datetime | None]:
        dates = self._dates(package)
        # A rescheduled date replaces the scheduled one (NOTES §1.4: SDD|RDD).
        day = dates.get("RDD") or dates.get("SDD")
        if day is None:
            return None, None
        window = obj(package.get("deliveryTime"))
        kind = (text(window.get("type")) or "").upper()
        start, end = compact_time(window.get("startTime")), compact_time(window.get("endTime"))

        def on_day(clock: Any) -> datetime:
            assert day is not None
            return day.replace(hour=clock.hour, minute=clock.minute, second=clock.second)

        if kind in ("EDW", "CDW", "IDW") and start and end:
            return on_day(start), on_day(end)
        if kind == "CMT" and end:
            return on_day(end), None
        return day, None
