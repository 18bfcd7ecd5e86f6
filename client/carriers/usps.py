"""USPS Tracking 3.0 and 3.2 (NOTES §3): OAuth, one number a GET or ≤ 35 a POST.

- Token: ``POST {base}/oauth2/v3/token``, form ``grant_type=client_credentials&client_id=…&
  client_secret=…``; ``expires_in`` may be an integer or a string (§3.2).
- One number: ``GET {base}/tracking/v3/tracking/{number}?expand=DETAIL`` (SUMMARY is
  unstable, §3.4). Several: ``POST {base}/tracking/v3r2/tracking`` with a JSON array of up
  to 35 ``{"trackingNumber": …}`` (§3.3); ``track_many`` uses it.
- Not found: 3.0 answers **400** with subcodes 150001…150013 ("not yet available", "may be
  incorrect"), 3.2 answers **404**, or **207** mixing ``statusCode`` "200" details with
  "404" errors per number (§3.4, §3.6). All become :class:`~client.errors.NotFound`.
- Times: 3.0 ``eventTimestamp`` has no offset; ``GMTTimestamp`` (``…Z``) is the instant when
  present, corrected by whole days when it kept the local date across midnight (§6 item 5),
  and ``GMTOffset`` (``-06:00``, ``-7:00`` or minutes ``-420``) gives the local zone.
  Pre-shipment and partner scans have no GMT fields: their wall clock is read as UTC
  (``offset_known=False``). 3.2 ``eventTimestamp`` carries its offset.
- Status: ``eventCode`` (Pub 199, :data:`EVENT_CODES`); events without a code fall back to
  their words. The current status is ``statusCategory`` (:data:`CATEGORIES`), refined by the
  newest scan where the category is coarser than the scan (:data:`REFINEMENTS`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx

from client.carriers._parse import (
    Stamp,
    Summary,
    at_day,
    clean,
    compact_date,
    compact_time,
    current_status,
    implied_zone,
    items,
    location,
    newest,
    obj,
    order_events,
    parse_iso,
    parse_offset,
    reason_from_words,
    regressed,
    repair_gmt,
    same_number,
    status_from_words,
    text,
    tracking_result,
    wrong_number,
)
from client.carriers.base import CarrierAdapter, CarrierConfig, Outcome
from client.errors import (
    AuthenticationError,
    CarrierUnavailable,
    InvalidNumber,
    NotFound,
    RequestRejected,
    TrackingError,
)
from client.model import (
    Anomaly,
    Carrier,
    Event,
    ExceptionReason,
    RawJSON,
    Status,
    TrackingResult,
)
from client.transport import HttpReply

__all__ = ["CATEGORIES", "EVENT_CODES", "REFINEMENTS", "UspsAdapter", "event_time"]

_S, _R = Status, ExceptionReason
_T, _FA, _X, _RTS = _S.in_transit, _S.failed_attempt, _S.exception, _S.returned_to_sender

# fmt: off
EVENT_CODES: Mapping[str, tuple[Status, ExceptionReason | None]] = {
    "01": (_S.delivered, None), "02": (_FA, _R.recipient_unavailable), "03": (_T, None),
    "04": (_X, _R.refused), "05": (_X, _R.address), "06": (_T, None), "07": (_T, None),
    "08": (_T, None), "09": (_RTS, None), "10": (_T, None), "11": (_X, _R.lost),
    "14": (_S.available_for_pickup, None), "15": (_T, None),
    "16": (_S.available_for_pickup, None), "17": (_S.delivered, None), "19": (_T, None),
    "21": (_X, _R.address), "22": (_X, _R.address), "23": (_X, _R.address),
    "24": (_X, _R.address), "25": (_X, _R.address), "26": (_X, _R.address),
    "27": (_X, _R.other), "28": (_X, _R.other), "29": (_RTS, None), "30": (_FA, None),
    "31": (_X, _R.other), "41": (_T, None), "42": (_T, None), "43": (_S.delivered, None),
    "44": (_RTS, None), "51": (_FA, _R.recipient_unavailable),
    "52": (_FA, _R.recipient_unavailable), "53": (_FA, None), "54": (_FA, None),
    "55": (_FA, None), "56": (_FA, _R.recipient_unavailable), "71": (_T, None),
    "80": (_T, None), "81": (_T, None), "82": (_T, None), "MA": (_S.pre_transit, None),
    "GX": (_S.pre_transit, None), "OF": (_S.out_for_delivery, None), "PC": (_T, None),
    "DX": (_S.unknown, None), "TM": (_T, None), "PA": (_T, None), "EF": (_T, None),
    "SF": (_T, None), "A1": (_T, None), "T1": (_T, None), "AD": (_T, None), "TL": (_T, None),
}
# fmt: on
"""Pub 199 scan event codes (NOTES §3.5) → status, reason."""

CATEGORIES: Mapping[str, Status] = {
    "pre-shipment": _S.pre_transit,
    "accepted": _T,
    "in transit": _T,
    "moving through network": _T,
    "out for delivery": _S.out_for_delivery,
    "available for pickup": _S.available_for_pickup,
    "delivery attempt": _FA,
    "alert": _X,
    "delivered": _S.delivered,
    "delivered to agent": _S.delivered,
    "returning to sender": _RTS,
}
"""``statusCategory`` values seen live (NOTES §3.5; USPS does not enumerate them)."""

REFINEMENTS: Mapping[Status, frozenset[Status]] = {
    _X: frozenset({_RTS, _S.cancelled, _FA}),
}
"""Statuses the newest scan may refine a category's status to.

"Alert" is a family, not a status: USPS files refusals, recalls, returns and missed deliveries
under it alike (NOTES §3.5), while the scan's event code says which. When the newest scan
reads as one of these, it is the more precise statement of the current status.
"""

_NOT_FOUND_SUBCODES = frozenset(f"1500{i:02d}" for i in range(1, 14)) - {"150005"}


def event_time(event: Mapping[str, Any]) -> Stamp | None:
    """When a USPS event happened (see the module docstring for the rules)."""
    local = parse_iso(event.get("eventTimestamp"))
    gmt = parse_iso(event.get("GMTTimestamp"))
    offset = parse_offset(event.get("GMTOffset"))
    if gmt is not None and gmt[1]:
        instant = gmt[0].astimezone(UTC)
        if local is None:
            return Stamp(instant.astimezone(offset or UTC), True)
        if local[1]:
            # 3.2 gives the offset on the local time itself; the instant must agree with it.
            zone = timezone(local[0].utcoffset() or timedelta(0))
            naive = local[0].replace(tzinfo=None)
            fixed, repaired = repair_gmt(instant, naive, zone)
            return Stamp(fixed.astimezone(zone), True, repaired)
        naive = local[0].replace(tzinfo=None)
        fixed, repaired = repair_gmt(instant, naive, offset)
        return Stamp(fixed.astimezone(offset or implied_zone(fixed, naive)), True, repaired)
    if local is None:
        return None
    if local[1]:
        return Stamp(local[0], True)
    if offset is not None:
        return Stamp(local[0].replace(tzinfo=offset), True)
    return Stamp(local[0], False)


def _map(event: Mapping[str, Any]) -> tuple[Status, ExceptionReason | None, str | None]:
    code = text(event.get("eventCode"))
    if code is not None:
        status, reason = EVENT_CODES.get(code.upper(), (Status.unknown, None))
        return status, reason, code
    words = clean(event.get("eventType"))
    status = status_from_words(words) or Status.unknown
    reason = reason_from_words(words) if status in (_X, _FA) else None
    return status, reason, None


class UspsAdapter(CarrierAdapter):
    """USPS: form OAuth, GET 3.0 for one number, POST 3.2 for up to 35."""

    carrier = Carrier.usps
    default_base_url = "https://apis.usps.com"
    batch_size = 35
    token_lifetime = 28799.0

    def token_url(self, config: CarrierConfig) -> str:
        """``/oauth2/v3/token``."""
        return config.url("/oauth2/v3/token")

    def token_request(self, config: CarrierConfig) -> httpx.Request:
        """Client credentials, form-encoded (NOTES §3.2)."""
        return self.form_token_request(config)

    def track_request(
        self, config: CarrierConfig, numbers: Sequence[str], token: str | None
    ) -> httpx.Request:
        """3.0 GET for one number, 3.2 POST for 2–35."""
        headers = {"Authorization": f"Bearer {token}"}
        if len(numbers) == 1:
            return httpx.Request(
                "GET",
                config.url(f"/tracking/v3/tracking/{numbers[0]}"),
                params={"expand": "DETAIL"},
                headers=headers,
            )
        if len(numbers) > self.batch_size:
            raise ValueError(f"USPS takes at most {self.batch_size} numbers a request")
        return httpx.Request(
            "POST",
            config.url("/tracking/v3r2/tracking"),
            json=[{"trackingNumber": n} for n in numbers],
            headers=headers,
        )

    def error_details(self, reply: HttpReply) -> tuple[str | None, str | None]:
        """The API envelope ``{"error":{code, message, errors[]}}`` or an OAuth error."""
        body = obj(self.safe_json(reply))
        return _error_details(body)

    def track_error(self, reply: HttpReply, numbers: Sequence[str]) -> TrackingError | None:
        """Generic classes; 400 with a 1500xx subcode → NotFound; 401 hints at the scope."""
        error = super().track_error(reply, numbers)
        if error is None:
            return None
        if reply.status_code == 400 and error.code in _NOT_FOUND_SUBCODES:
            return NotFound(
                error.message,
                carrier=self.carrier,
                number=error.number,
                status_code=400,
                code=error.code,
            )
        if reply.status_code == 401:
            return AuthenticationError(
                error.message,
                carrier=self.carrier,
                number=error.number,
                status_code=401,
                code=error.code,
                hint="USPS answers 401 when the token lacks the 'tracking' scope: enable the "
                "Tracking API for the app, and check USPS_CLIENT_ID / USPS_CLIENT_SECRET",
            )
        return error

    def parse_track(self, reply: HttpReply, numbers: Sequence[str]) -> dict[str, Outcome]:
        """3.0: one TrackingDetails object. 3.2: an array of details and per-number errors."""
        body = self.json_any(reply, numbers)
        if isinstance(body, Mapping) and len(numbers) == 1:
            if not any(k in body for k in ("trackingEvents", "statusCategory", "status")):
                if isinstance(body.get("error"), Mapping):
                    # The error envelope inside a 200 (NOTES §6 item 1: success codes
                    # hiding failures): read it as the status it names would be read.
                    return {numbers[0]: self._entry_error(numbers[0], body)}
                raise self.malformed(reply, numbers, "no tracking details in the answer")
            answered = body.get("trackingNumber")
            if same_number(numbers[0], answered) is False:
                return {numbers[0]: wrong_number(self.carrier, numbers[0], answered)}
            return {numbers[0]: self._result(numbers[0], body)}
        if isinstance(body, Mapping):
            body = [body]
        if not isinstance(body, list):
            raise self.malformed(reply, numbers, "expected a JSON array of tracking details")
        outcomes: dict[str, Outcome] = {}
        for entry in items(body):
            answered = entry.get("trackingNumber")
            number = next(
                (n for n in numbers if n not in outcomes and same_number(n, answered)), None
            )
            if number is None:
                continue
            status = text(entry.get("statusCode")) or "200"
            outcomes[number] = (
                self._result(number, entry) if status == "200" else self._entry_error(number, entry)
            )
        return outcomes

    def _entry_error(self, number: str, entry: Mapping[str, Any]) -> TrackingError:
        code, message = _error_details(entry)
        try:
            # 3.2 items carry statusCode; a bare envelope names the status in error.code.
            named = text(entry.get("statusCode")) or text(obj(entry.get("error")).get("code"))
            status = int(named or 0)
        except ValueError:
            status = 0
        what = message or f"USPS reported status {status} for this number"
        kwargs: dict[str, Any] = {
            "carrier": self.carrier,
            "number": number,
            "status_code": status or None,
            "code": code,
        }
        if status == 404 or code in _NOT_FOUND_SUBCODES:
            return NotFound(what, **kwargs)
        if status >= 500:
            return CarrierUnavailable(what, **kwargs)
        if status == 400:
            return InvalidNumber(what, **kwargs)
        return RequestRejected(what, **kwargs)

    def _event(self, entry: Mapping[str, Any], stamp: Stamp | None) -> Event | None:
        if stamp is None:
            return None
        status, reason, raw = _map(entry)
        return Event(
            time=stamp.at,
            status=status,
            description=clean(entry.get("eventType")),
            location=location(
                entry.get("eventCity"),
                entry.get("eventState"),
                entry.get("eventZIP") or entry.get("eventZIPCode"),
                entry.get("eventCountry"),
            ),
            raw_code=raw,
            exception_reason=reason,
            offset_known=stamp.offset_known,
            raw=RawJSON.of(entry),
        )

    def _result(self, number: str, detail: Mapping[str, Any]) -> TrackingResult:
        entries = items(detail.get("trackingEvents"))
        stamps = [event_time(e) for e in entries]
        drafted = [self._event(e, stamp) for e, stamp in zip(entries, stamps, strict=True)]
        events, anomalies = order_events([e for e in drafted if e is not None])
        if any(s is not None and s.repaired for s in stamps):
            anomalies.append(Anomaly.repaired_times)
        category = clean(detail.get("statusCategory"))
        summary = None
        if category.lower() in CATEGORIES:
            status = CATEGORIES[category.lower()]
            summary = Summary(status, category, clean(detail.get("status")))
            # The scan the category speaks of is the newest one whose instant is known: an
            # offset-less scan (pre-shipment, NOTES §3.4) keeps the carrier's position, which
            # may be wrong when USPS lists scans out of order.
            timed = [e for e in events if e.offset_known]
            latest = timed[-1] if timed else (events[-1] if events else None)
            if latest is not None and latest.status in REFINEMENTS.get(status, frozenset()):
                summary = Summary(
                    latest.status, latest.raw_code, summary.description, latest.exception_reason
                )
        now = current_status(summary, events)
        if regressed(now.status, events):
            anomalies.append(Anomaly.status_regression)
        delivered_at, signed = None, None
        if now.status is Status.delivered:
            # The category describes the newest scan (NOTES §3.4): when no scan reads as
            # delivered (a code the table lacks), the newest one is the delivery.
            delivered = newest(events, Status.delivered) or (events[-1] if events else None)
            if delivered is not None:
                delivered_at = delivered.time
                raw = delivered.raw
                signed = text(raw.get("name")) or text(raw.get("recipientName"))
                signed = signed or text(raw.get("firm"))
        estimate, estimate_end = (None, None) if delivered_at else _estimate(detail)
        return tracking_result(
            self.carrier,
            number,
            now,
            events,
            anomalies,
            detail,
            status_description=now.description or clean(detail.get("statusSummary")),
            estimated_delivery=estimate,
            estimated_delivery_end=estimate_end,
            delivered_at=delivered_at,
            signed_by=signed,
            service=clean(detail.get("mailClass")) or None,
        )


def _error_details(body: Mapping[str, Any]) -> tuple[str | None, str | None]:
    if "error" in body and not isinstance(body["error"], Mapping):
        # RFC 6749 token error: {"error": "invalid_client", "error_description": "…"}.
        return text(body.get("error")), clean(body.get("error_description")) or None
    error = obj(body.get("error"))
    if not error:
        return None, None
    subs = items(error.get("errors"))
    code = text(subs[0].get("code")) if subs else None
    message = clean(error.get("message"))
    if not message and subs:
        message = clean(subs[0].get("detail")) or clean(subs[0].get("title"))
    # The envelope's own "code" only repeats the HTTP status; the subcode is the information.
    return code, message or None


def _estimate(detail: Mapping[str, Any]) -> tuple[datetime | None, datetime | None]:
    for field in ("expectedDeliveryTimeStamp", "predictedDeliveryTimeStamp"):
        parsed = parse_iso(detail.get(field))
        if parsed is not None:
            return parsed[0], None
    expectation = obj(detail.get("deliveryDateExpectation"))
    day = compact_date(expectation.get("predictedDeliveryDate")) or compact_date(
        expectation.get("expectedDeliveryDate")
    )
    if day is None:
        day = compact_date(detail.get("expectedDeliveryDate"))
    if day is None:
        return None, None
    start = compact_time(expectation.get("predictedDeliveryWindowStartTime"))
    end = compact_time(expectation.get("predictedDeliveryWindowEndTime"))
    return at_day(day, start), at_day(day, end) if end else None
