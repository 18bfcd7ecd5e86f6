"""FedEx Track API v1 (NOTES §2): OAuth with credentials in the form body, ≤ 30 numbers a POST.

- Token: ``POST {base}/oauth/token``, form ``grant_type=client_credentials&client_id=…&
  client_secret=…`` (not Basic auth); ``expires_in`` is an integer (3599).
- Tracking: ``POST {base}/track/v1/trackingnumbers`` with ``{"includeDetailedScans": true,
  "trackingInfo": [{"trackingNumberInfo": {"trackingNumber": …}}, …]}``, at most 30 entries.
- Not found: **200** with a per-number ``trackResults[0].error``
  (``TRACKING.TRACKINGNUMBER.NOTFOUND``); a batch mixes good and bad numbers (§2.6).
- Duplicated numbers: several ``trackResults`` for one number; the one with the most recent
  scan is used and the result says ``multiple_results`` (§6 item 6).
- Times: ISO 8601 with the scan's own offset; offsets change along the route (§2.4).
- Status: the scan code (``eventType`` / ``latestStatusDetail.code``) through
  :data:`SCAN_CODES`; the coarser derived code only when no scan code is given (§2.5: ``OD``
  comes with derived ``IT``). Exception codes refine exception scans (§2.5).
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import httpx

from client.carriers._parse import (
    Summary,
    clean,
    current_status,
    items,
    location,
    newest,
    obj,
    order_events,
    parse_iso,
    regressed,
    same_number,
    text,
    tracking_result,
)
from client.carriers.base import CarrierAdapter, CarrierConfig, Outcome
from client.errors import InvalidNumber, NotFound, RequestRejected, TrackingError
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

__all__ = ["DERIVED_CODES", "EXCEPTION_CODES", "SCAN_CODES", "FedexAdapter"]

_S, _R = Status, ExceptionReason
_T, _PRE, _X = _S.in_transit, _S.pre_transit, _S.exception

# fmt: off
SCAN_CODES: Mapping[str, tuple[Status, ExceptionReason | None]] = {
    "AA": (_T, None), "AC": (_T, None), "AD": (_T, None), "AE": (_T, None), "AF": (_T, None),
    "AO": (_T, None), "AP": (_PRE, None), "AR": (_T, None), "AX": (_T, None),
    "CA": (_S.cancelled, None), "CC": (_T, None), "CD": (_X, _R.customs), "CH": (_T, None),
    "CP": (_T, None), "DD": (_X, _R.delay), "DE": (_X, None), "DL": (_S.delivered, None),
    "DP": (_T, None), "DR": (_PRE, None), "DS": (_PRE, None), "DY": (_X, _R.delay),
    "EA": (_T, None), "ED": (_S.out_for_delivery, None), "EO": (_T, None), "EP": (_PRE, None),
    "FD": (_T, None), "HL": (_S.available_for_pickup, None),
    "HP": (_S.available_for_pickup, None), "IT": (_T, None), "IX": (_T, None),
    "LO": (_T, None), "OC": (_PRE, None), "OD": (_S.out_for_delivery, None), "OF": (_T, None),
    "OW": (_T, None), "OX": (_T, None), "PD": (_X, _R.delay), "PF": (_T, None),
    "PL": (_T, None), "PM": (_T, None), "PU": (_T, None), "PX": (_T, None), "RR": (_T, None),
    "RM": (_T, None), "RC": (_T, None), "RS": (_S.returned_to_sender, None),
    "RP": (_PRE, None), "LP": (_PRE, None), "RG": (_PRE, None), "RD": (_PRE, None),
    "SE": (_X, None), "SF": (_T, None), "SP": (_T, None), "TR": (_T, None),
}
# fmt: on
"""Scan/status codes (NOTES §2.5, FX-CODES table; ``Ow`` matched case-insensitively)."""

# fmt: off
DERIVED_CODES: Mapping[str, tuple[Status, ExceptionReason | None]] = {
    "IN": (_PRE, None), "PU": (_T, None), "IT": (_T, None), "DL": (_S.delivered, None),
    "DE": (_X, None), "DY": (_X, _R.delay), "RL": (_T, None), "SE": (_X, None),
    "RS": (_S.returned_to_sender, None), "CA": (_S.cancelled, None),
    "HL": (_S.available_for_pickup, None), "HP": (_S.available_for_pickup, None),
}
# fmt: on
"""Derived status codes (NOTES §2.5); used only when an event has no scan code."""

EXCEPTION_CODES: Mapping[str, tuple[Status, ExceptionReason | None]] = {
    "007": (_S.failed_attempt, _R.recipient_unavailable),  # customer not available / closed
    "083": (_X, _R.other),  # local delivery restriction
    "03": (_X, _R.address),  # incorrect address
    "099": (_X, _R.other),  # unable to deliver
    "060G": (_S.returned_to_sender, None),  # returning to shipper
    "015A": (_S.available_for_pickup, None),
    "A12": (_S.available_for_pickup, None),  # hold at FedEx Office
    "A13": (_S.available_for_pickup, None),  # redirect to FedEx Office
}
"""``exceptionCode`` values seen live (NOTES §2.5); they refine exception scans only."""

_DELAY_TYPES: Mapping[str, ExceptionReason] = {
    "WEATHER": _R.weather,
    "CLEARANCE": _R.customs,
    "OPERATIONAL": _R.delay,
    "LOCAL": _R.delay,
    "GENERAL": _R.delay,
}

NOT_FOUND_CODES = frozenset(
    {
        "TRACKING.TRACKINGNUMBER.NOTFOUND",
        "TRACKING.DATA.NOTFOUND",
        "NOT.FOUND.ERROR",
        "TRACKING.REFERENCENUMBER.NOTFOUND",
        "TRACKING.TCN.NOTFOUND",
    }
)
INVALID_CODES = frozenset({"TRACKING.TRACKINGNUMBER.INVALID", "TRACKING.TRACKINGNUMBER.EMPTY"})


def _map(
    code: str | None,
    derived: str | None,
    exception_code: str | None,
    delay: Mapping[str, Any],
) -> tuple[Status, ExceptionReason | None, str | None]:
    """(status, reason, raw code) from a scan's codes."""
    if code is not None:
        status, reason = SCAN_CODES.get(code.upper(), (Status.unknown, None))
        raw = code
    elif derived is not None:
        status, reason = DERIVED_CODES.get(derived.upper(), (Status.unknown, None))
        raw = derived
    else:
        return Status.unknown, None, None
    if status in (Status.exception, Status.failed_attempt) and exception_code:
        status, reason = EXCEPTION_CODES.get(exception_code.upper(), (status, reason))
    if status is Status.exception:
        # The delay detail names the cause (WEATHER, CLEARANCE…, N§2.4); the code's own
        # reason (DY "Delay") is only the generic one.
        reason = _DELAY_TYPES.get((text(delay.get("type")) or "").upper(), reason)
    return status, reason, raw


class FedexAdapter(CarrierAdapter):
    """FedEx: form-body OAuth, batched POST, per-number errors inside a 200."""

    carrier = Carrier.fedex
    default_base_url = "https://apis.fedex.com"
    batch_size = 30
    token_lifetime = 3599.0

    def token_url(self, config: CarrierConfig) -> str:
        """``/oauth/token``."""
        return config.url("/oauth/token")

    def token_request(self, config: CarrierConfig) -> httpx.Request:
        """Credentials in the form body (NOTES §2.2)."""
        return self.form_token_request(config)

    def track_request(
        self, config: CarrierConfig, numbers: Sequence[str], token: str | None
    ) -> httpx.Request:
        """``POST /track/v1/trackingnumbers`` for up to 30 numbers (NOTES §2.3)."""
        if not 1 <= len(numbers) <= self.batch_size:
            raise ValueError(f"FedEx takes 1–{self.batch_size} numbers a request")
        return httpx.Request(
            "POST",
            config.url("/track/v1/trackingnumbers"),
            json={
                "includeDetailedScans": True,
                "trackingInfo": [{"trackingNumberInfo": {"trackingNumber": n}} for n in numbers],
            },
            headers={
                "Authorization": f"Bearer {token}",
                "x-locale": "en_US",
                "x-customer-transaction-id": uuid.uuid4().hex,
            },
        )

    def _post(
        self, config: CarrierConfig, path: str, body: Any, token: str | None
    ) -> httpx.Request:
        return httpx.Request(
            "POST",
            config.url(path),
            json=body,
            headers={
                "Authorization": f"Bearer {token}",
                "x-locale": "en_US",
                "x-customer-transaction-id": uuid.uuid4().hex,
            },
        )

    def _results(self, reply: HttpReply, key: str) -> list[TrackingResult]:
        """Every found result of ``output.completeTrackResults`` (per-result errors skipped);
        NotFound when there is none."""
        body = self.json_object(reply, (key,))
        output = obj(body.get("output"))
        found: list[TrackingResult] = []
        first_error: Mapping[str, Any] = {}
        for complete in items(output.get("completeTrackResults")):
            number = text(complete.get("trackingNumber")) or key
            outcome = self._outcome(number, items(complete.get("trackResults")), body)
            if isinstance(outcome, TrackingResult):
                found.append(outcome)
            elif not first_error:
                first_error = {"code": outcome.code, "message": outcome.message}
        if not found and first_error:
            raise self._result_error(key, first_error)
        return found

    def reference_request(
        self, config: CarrierConfig, reference: str, token: str | None
    ) -> httpx.Request:
        """``POST /track/v1/referencenumbers`` (NOTES §2.3) for a customer reference."""
        body = {
            "includeDetailedScans": True,
            "referencesInformation": {"type": "CUSTOMER_REFERENCE", "value": reference},
        }
        return self._post(config, "/track/v1/referencenumbers", body, token)

    def parse_reference(self, reply: HttpReply, reference: str) -> list[TrackingResult]:
        """A result per shipment the reference names; NotFound for none."""
        found = self._results(reply, reference)
        if not found:
            raise NotFound(f"no shipment has reference {reference!r}", carrier=self.carrier)
        return found

    def pieces_request(
        self, config: CarrierConfig, master: str, token: str | None
    ) -> httpx.Request:
        """``POST /track/v1/associatedshipments`` for a standard multi-piece master."""
        body = {
            "includeDetailedScans": True,
            "associatedType": "STANDARD_MPS",
            "masterTrackingNumberInfo": {"trackingNumberInfo": {"trackingNumber": master}},
        }
        return self._post(config, "/track/v1/associatedshipments", body, token)

    def parse_pieces(self, reply: HttpReply, master: str) -> tuple[TrackingResult, ...]:
        """The master's other pieces (none for a single-piece shipment)."""
        return tuple(r for r in self._results(reply, master) if not same_number(master, r.number))

    def pod_request(self, config: CarrierConfig, number: str, token: str | None) -> httpx.Request:
        """``POST /track/v1/trackingdocuments`` for the signature proof of delivery as PDF."""
        body = {
            "trackDocumentDetail": {
                "documentType": "SIGNATURE_PROOF_OF_DELIVERY",
                "documentFormat": "PDF",
            },
            "trackDocumentSpecification": [{"trackingNumberInfo": {"trackingNumber": number}}],
        }
        return self._post(config, "/track/v1/trackingdocuments", body, token)

    def pod_error(self, reply: HttpReply, number: str) -> TrackingError | None:
        """Here the documented 404 means "no document (yet)", not a wrong base URL."""
        if reply.status_code == 404:
            code, message = self.error_details(reply)
            return NotFound(
                message or "no proof of delivery yet",
                carrier=self.carrier,
                number=number,
                status_code=404,
                code=code,
            )
        error = self.track_error(reply, (number,))
        if isinstance(error, RequestRejected) and error.code in NOT_FOUND_CODES:
            return NotFound(error.message, carrier=self.carrier, number=number, code=error.code)
        return error

    def parse_pod(self, reply: HttpReply, number: str) -> ProofOfDelivery:
        """The first document of ``output.document`` (base64) in its ``documentFormat``."""
        output = obj(self.json_object(reply, (number,)).get("output"))
        documents = output.get("document")
        if not isinstance(documents, list) or not documents or not isinstance(documents[0], str):
            raise self.malformed(reply, (number,), "no output.document in the answer")
        try:
            content = base64.b64decode(documents[0], validate=True)
        except ValueError:
            raise self.malformed(reply, (number,), "output.document is not base64") from None
        fmt = (text(output.get("documentFormat")) or "PDF").upper()
        media = {"PDF": "application/pdf", "PNG": "image/png"}.get(fmt, "application/octet-stream")
        return ProofOfDelivery(self.carrier, number, media, content)

    def error_details(self, reply: HttpReply) -> tuple[str | None, str | None]:
        """``{"errors":[{code, message}]}`` (NOTES §2.6)."""
        errors = items(obj(self.safe_json(reply)).get("errors"))
        if not errors:
            return None, None
        return text(errors[0].get("code")), clean(errors[0].get("message")) or None

    def track_error(self, reply: HttpReply, numbers: Sequence[str]) -> TrackingError | None:
        """Generic classes; 400 with an invalid-number code → InvalidNumber; 404 → rejected.

        FedEx's 404 ``NOT.FOUND.ERROR`` means the *resource* (the URL) does not exist — unknown
        numbers come back inside a 200 — so it points at the base URL, not at the number.
        """
        error = super().track_error(reply, numbers)
        if error is None:
            return None
        if reply.status_code == 400 and error.code in INVALID_CODES:
            return InvalidNumber(
                error.message,
                carrier=self.carrier,
                number=error.number,
                status_code=400,
                code=error.code,
            )
        if reply.status_code == 404:
            return RequestRejected(
                error.message,
                carrier=self.carrier,
                number=error.number,
                status_code=404,
                code=error.code,
                hint=f"FedEx has no resource at {reply.url}; check the base URL",
            )
        return error

    def parse_track(self, reply: HttpReply, numbers: Sequence[str]) -> dict[str, Outcome]:
        """An outcome per number from ``output.completeTrackResults``."""
        body = self.json_object(reply, numbers)
        output = obj(body.get("output"))
        if not output:
            code, message = self.error_details(reply)
            if code:
                raise RequestRejected(
                    message or code, carrier=self.carrier, status_code=reply.status_code, code=code
                )
            raise self.malformed(reply, numbers, "no output in the answer")
        by_number: dict[str, list[Mapping[str, Any]]] = {}
        for complete in items(output.get("completeTrackResults")):
            results = items(complete.get("trackResults"))
            key = text(complete.get("trackingNumber")) or (
                text(obj(results[0].get("trackingNumberInfo")).get("trackingNumber"))
                if results
                else None
            )
            if key is not None:
                by_number.setdefault(key.upper(), []).extend(results)
        outcomes: dict[str, Outcome] = {}
        for number in numbers:
            found = by_number.get(number) or [
                r for key, rs in by_number.items() if same_number(number, key) for r in rs
            ]
            if found:
                outcomes[number] = self._outcome(number, found, body)
            else:
                alert = self._not_found_alert(output)
                if alert is not None and len(numbers) == 1:
                    outcomes[number] = alert.for_number(number)
        return outcomes

    def _not_found_alert(self, output: Mapping[str, Any]) -> TrackingError | None:
        for alert in items(output.get("alerts")):
            code = text(alert.get("code"))
            if code in NOT_FOUND_CODES:
                return NotFound(
                    clean(alert.get("message")) or code, carrier=self.carrier, code=code
                )
        return None

    def _outcome(
        self, number: str, results: list[Mapping[str, Any]], body: Mapping[str, Any]
    ) -> Outcome:
        good = [r for r in results if not obj(r.get("error"))]
        if not good:
            return self._result_error(number, obj(results[0].get("error")))
        parsed = [self._result(number, r, body) for r in good]
        if len(parsed) == 1:
            return parsed[0]
        # A reused number (§6 item 6): report the shipment that moved last.
        best = max(parsed, key=lambda r: r.events[-1].time.timestamp() if r.events else 0.0)
        return _with_anomaly(best, Anomaly.multiple_results)

    def _result_error(self, number: str, error: Mapping[str, Any]) -> TrackingError:
        code = text(error.get("code"))
        message = clean(error.get("message")) or code or "FedEx returned an error"
        if code in NOT_FOUND_CODES:
            return NotFound(
                message, carrier=self.carrier, number=number, status_code=200, code=code
            )
        if code in INVALID_CODES:
            return InvalidNumber(
                message, carrier=self.carrier, number=number, status_code=200, code=code
            )
        return RequestRejected(
            message, carrier=self.carrier, number=number, status_code=200, code=code
        )

    def _event(self, scan: Mapping[str, Any]) -> Event | None:
        parsed = parse_iso(scan.get("date"))
        if parsed is None:
            return None
        status, reason, raw = _map(
            text(scan.get("eventType")),
            text(scan.get("derivedStatusCode")),
            text(scan.get("exceptionCode")),
            obj(scan.get("delayDetail")),
        )
        place = obj(scan.get("scanLocation"))
        return Event(
            time=parsed[0],
            status=status,
            description=clean(scan.get("eventDescription")) or clean(scan.get("derivedStatus")),
            location=location(
                place.get("city"),
                place.get("stateOrProvinceCode"),
                place.get("postalCode"),
                place.get("countryCode"),
            ),
            raw_code=raw,
            exception_reason=reason,
            offset_known=parsed[1],
            raw=RawJSON.of(scan),
        )

    def _result(
        self, number: str, result: Mapping[str, Any], body: Mapping[str, Any]
    ) -> TrackingResult:
        drafted = [self._event(s) for s in items(result.get("scanEvents"))]
        events, anomalies = order_events([e for e in drafted if e is not None])
        latest = obj(result.get("latestStatusDetail"))
        summary = None
        if text(latest.get("code")) or text(latest.get("derivedCode")):
            # The latest status has no exceptionCode; its ancillary reason carries the same
            # codes (007, 060G…, NOTES §2.4, §2.5), which matters when no scan is listed.
            ancillary = items(latest.get("ancillaryDetails"))
            status, reason, raw = _map(
                text(latest.get("code")),
                text(latest.get("derivedCode")),
                text(ancillary[0].get("reason")) if ancillary else None,
                obj(latest.get("delayDetail")),
            )
            description = clean(latest.get("description")) or clean(latest.get("statusByLocale"))
            summary = Summary(status, raw, description, reason)
        now = current_status(summary, events)
        if regressed(now.status, events):
            anomalies.append(Anomaly.status_regression)
        moments = {
            (text(d.get("type")) or "").upper(): parse_iso(d.get("dateTime"))
            for d in items(result.get("dateAndTimes"))
        }
        delivered_at = None
        if now.status is Status.delivered:
            delivered = newest(events, Status.delivered)
            actual = moments.get("ACTUAL_DELIVERY")
            delivered_at = delivered.time if delivered else (actual[0] if actual else None)
        estimate: datetime | None = None
        estimate_end: datetime | None = None
        if delivered_at is None:
            window = obj(obj(result.get("estimatedDeliveryTimeWindow")).get("window"))
            begins, ends = parse_iso(window.get("begins")), parse_iso(window.get("ends"))
            single = moments.get("ESTIMATED_DELIVERY")
            if single is not None:
                estimate = single[0]
            elif begins is not None:
                estimate, estimate_end = begins[0], ends[0] if ends else None
            elif ends is not None:
                estimate = ends[0]
        details = obj(result.get("deliveryDetails"))
        signed = text(details.get("receivedByName")) or text(details.get("signedByName"))
        return tracking_result(
            self.carrier,
            number,
            now,
            events,
            anomalies,
            result,
            estimated_delivery=estimate,
            estimated_delivery_end=estimate_end,
            delivered_at=delivered_at,
            signed_by=signed if now.status is Status.delivered else None,
            service=clean(obj(result.get("serviceDetail")).get("description")) or None,
        )


def _with_anomaly(result: TrackingResult, anomaly: Anomaly) -> TrackingResult:
    return replace(result, anomalies=(*result.anomalies, anomaly))
