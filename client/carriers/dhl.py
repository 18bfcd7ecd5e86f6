"""DHL Shipment Tracking – Unified (NOTES §4): API key header, one number per GET.

- Auth: header ``DHL-API-Key: <key>`` on every call; no token, so no token renewal — a 401
  means the key itself is wrong.
- Tracking: ``GET {base}/track/shipments?trackingNumber=<n>``.
- Not found: **404** ``application/problem+json`` ``{"title":"No result found","status":404,
  "detail":…}`` (§4.5); an empty ``shipments`` list is treated the same way.
- Times: ISO 8601 in every variant DHL's services produce — ``Z``, offsets, no offset
  (read as UTC, ``offset_known=False``) and nanosecond fractions (§4.4).
- Status: ``statusCode`` is coarse (``pre-transit``, ``transit``, ``delivered``, ``failure``,
  ``unknown``); within a family, DHL's words refine it (``transit`` + "out for delivery" →
  out_for_delivery; ``failure`` + "returned to sender" → returned_to_sender). Any other
  statusCode is unknown, kept in ``raw_code``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
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
    reason_from_words,
    regressed,
    same_number,
    status_from_words,
    text,
    tracking_result,
    wrong_number,
)
from client.carriers.base import CarrierAdapter, CarrierConfig, Outcome
from client.errors import AuthenticationError, ConfigurationError, NotFound, TrackingError
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

__all__ = ["FAMILIES", "DhlAdapter"]

_S = Status

FAMILIES: Mapping[str, tuple[Status, frozenset[Status]]] = {
    "pre-transit": (_S.pre_transit, frozenset({_S.cancelled})),
    "transit": (
        _S.in_transit,
        frozenset(
            {
                _S.out_for_delivery,
                _S.available_for_pickup,
                _S.returned_to_sender,
                _S.failed_attempt,
            }
        ),
    ),
    "delivered": (_S.delivered, frozenset()),
    "failure": (
        _S.exception,
        frozenset({_S.failed_attempt, _S.returned_to_sender, _S.cancelled}),
    ),
    "unknown": (_S.unknown, frozenset()),
}
"""DHL ``statusCode`` → (base status, statuses DHL's words may refine it to)."""


def _map(entry: Mapping[str, Any]) -> tuple[Status, ExceptionReason | None, str | None]:
    code = text(entry.get("statusCode"))
    words = " ".join(clean(entry.get(k)) for k in ("status", "description", "remark"))
    if code is None:
        return status_from_words(words) or Status.unknown, None, None
    family = FAMILIES.get(code.lower())
    if family is None:
        return Status.unknown, None, code
    status, refinements = family
    refined = status_from_words(words)
    if refined in refinements:
        status = refined
    reason = reason_from_words(words) if status in (_S.exception, _S.failed_attempt) else None
    return status, reason, code


class DhlAdapter(CarrierAdapter):
    """DHL: API key header, one GET per number, 404 problem+json for unknown numbers."""

    carrier = Carrier.dhl
    default_base_url = "https://api-eu.dhl.com"
    batch_size = 1
    uses_token = False

    def track_request(
        self, config: CarrierConfig, numbers: Sequence[str], token: str | None
    ) -> httpx.Request:
        """``GET /track/shipments?trackingNumber=…`` with ``DHL-API-Key`` (NOTES §4.2–4.3)."""
        if not config.api_key:
            raise ConfigurationError(
                "no DHL API key configured",
                carrier=self.carrier,
                hint="pass dhl=CarrierSettings(api_key=…) or set DHL_API_KEY",
            )
        (number,) = numbers
        return httpx.Request(
            "GET",
            config.url("/track/shipments"),
            params={"trackingNumber": number},
            headers={"DHL-API-Key": config.api_key},
        )

    def error_details(self, reply: HttpReply) -> tuple[str | None, str | None]:
        """RFC 7807 ``{title, status, detail}`` (NOTES §4.5)."""
        body = obj(self.safe_json(reply))
        title, detail = clean(body.get("title")), clean(body.get("detail"))
        message = ": ".join(x for x in (title, detail) if x)
        return None, message or None

    def track_error(self, reply: HttpReply, numbers: Sequence[str]) -> TrackingError | None:
        """Generic classes; a 401/403 names the API key, since there is no token to renew."""
        error = super().track_error(reply, numbers)
        if isinstance(error, AuthenticationError):
            error.hint = "check DHL_API_KEY (the DHL-API-Key header) and the app's API access"
        return error

    def parse_track(self, reply: HttpReply, numbers: Sequence[str]) -> dict[str, Outcome]:
        """One outcome from ``shipments[]``."""
        (number,) = numbers
        body = self.json_object(reply, numbers)
        shipments = items(body.get("shipments"))
        if not shipments:
            return {
                number: NotFound(
                    "DHL returned no shipment for this number",
                    carrier=self.carrier,
                    number=number,
                    status_code=reply.status_code,
                )
            }
        # Without a service hint DHL may answer with several divisions' shipments (§4.6).
        verdicts = [same_number(number, s.get("id")) for s in shipments]
        mine = [s for s, v in zip(shipments, verdicts, strict=True) if v]
        mine = mine or [s for s, v in zip(shipments, verdicts, strict=True) if v is None]
        if not mine:
            return {number: wrong_number(self.carrier, number, shipments[0].get("id"))}
        shipment = mine[0]
        result = self._result(number, shipment)
        if len(shipments) > 1:
            result = _add(result, Anomaly.multiple_results)
        return {number: result}

    def _event(self, entry: Mapping[str, Any]) -> Event | None:
        parsed = parse_iso(entry.get("timestamp"))
        if parsed is None:
            return None
        status, reason, raw = _map(entry)
        address = obj(obj(entry.get("location")).get("address"))
        return Event(
            time=parsed[0],
            status=status,
            description=clean(entry.get("description")) or clean(entry.get("status")),
            location=location(
                address.get("addressLocality"),
                None,
                address.get("postalCode"),
                address.get("countryCode"),
            ),
            raw_code=raw,
            exception_reason=reason,
            offset_known=parsed[1],
            raw=RawJSON.of(entry),
        )

    def _result(self, number: str, shipment: Mapping[str, Any]) -> TrackingResult:
        drafted = [self._event(e) for e in items(shipment.get("events"))]
        events, anomalies = order_events([e for e in drafted if e is not None])
        current = obj(shipment.get("status"))
        summary = None
        if current:
            status, reason, raw = _map(current)
            description = clean(current.get("description")) or clean(current.get("status"))
            summary = Summary(status, raw, description, reason)
        now = current_status(summary, events)
        if regressed(now.status, events):
            anomalies.append(Anomaly.status_regression)
        details = obj(shipment.get("details"))
        proof = obj(details.get("proofOfDelivery"))
        delivered_at, signed = None, None
        if now.status is Status.delivered:
            delivered = newest(events, Status.delivered)
            pod = parse_iso(proof.get("timestamp"))
            delivered_at = delivered.time if delivered else (pod[0] if pod else None)
            person = obj(proof.get("signed"))
            parts = (text(person.get("givenName")), text(person.get("familyName")))
            signed = text(person.get("name")) or " ".join(p for p in parts if p) or None
        estimate = estimate_end = None
        if delivered_at is None:
            frame = obj(shipment.get("estimatedDeliveryTimeFrame"))
            start = parse_iso(frame.get("estimatedFrom")) or parse_iso(
                shipment.get("estimatedTimeOfDelivery")
            )
            end = parse_iso(frame.get("estimatedThrough"))
            estimate = start[0] if start else None
            estimate_end = end[0] if end else None
        service = clean(obj(details.get("product")).get("productName")) or text(
            shipment.get("service")
        )
        return tracking_result(
            self.carrier,
            number,
            now,
            events,
            anomalies,
            shipment,
            estimated_delivery=estimate,
            estimated_delivery_end=estimate_end,
            delivered_at=delivered_at,
            signed_by=signed,
            service=service,
        )


def _add(result: TrackingResult, anomaly: Anomaly) -> TrackingResult:
    return replace(result, anomalies=(*result.anomalies, anomaly))
