"""Push bodies → :class:`PushUpdate`, through the tracking adapters (NOTES §7).

Each carrier's push carries what its tracking answer carries, so each body is handed to that
carrier's tracking adapter (``parse_track``) in the shape of a tracking answer: a push and a
poll of the same shipment are read by the same status tables, time rules and quirk repairs.

- UPS (spec ``TrackingEventRequest``): one flat scan. Its fields are renamed to the Track
  API's activity fields (``localActivityDate`` → ``date``, ``gmtActivityTime`` →
  ``gmtTime``, ``activityStatus.descriptionCode`` → ``status.statusCode``…); ``gmtOffset``
  is written ``-04.00`` with a dot.
- USPS (spec ``scanEventEx`` / ``detailedScanEventEx``): ``payload`` is a JSON *string*
  holding a Tracking 3.2 record.
- FedEx: **inferred** (no public schema; NOTES §7.2 says integrators treat it as Track API
  shaped): a Track API answer ``{"output": {"completeTrackResults": […]}}``, or one bare
  ``trackResult``.
- DHL: **inferred** from the envelope fields DHL is seen to send (NOTES §7.4): ``{scope,
  self, secret?, expires?, failure?, shipments[]}``, each shipment a Unified tracking one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import httpx
import orjson

from client.carriers._parse import items, obj, parse_iso, text
from client.carriers.base import CarrierAdapter
from client.carriers.dhl import DhlAdapter
from client.carriers.fedex import FedexAdapter
from client.carriers.ups import UpsAdapter
from client.carriers.usps import UspsAdapter
from client.errors import MalformedPush
from client.model import Carrier, RawJSON, TrackingResult, loads
from client.push.model import PushDelivery, PushUpdate
from client.transport import HttpReply

__all__ = ["delivery_id", "dhl_delivery", "load_body", "updates_for", "usps_fields"]

_ADAPTERS: Mapping[Carrier, CarrierAdapter] = {
    Carrier.ups: UpsAdapter(),
    Carrier.fedex: FedexAdapter(),
    Carrier.usps: UspsAdapter(),
    Carrier.dhl: DhlAdapter(),
}


def load_body(carrier: Carrier, body: bytes) -> dict[str, Any]:
    """The body as a JSON object, or MalformedPush."""
    try:
        doc = loads(body)
    except ValueError:
        snippet = body[:60].decode("utf-8", "replace")
        raise MalformedPush(f"the push body is not JSON ({snippet!r}…)", carrier=carrier) from None
    if not isinstance(doc, dict):
        raise MalformedPush("the push body is not a JSON object", carrier=carrier)
    return doc


def delivery_id(carrier: Carrier, doc: Mapping[str, Any]) -> str:
    """sha256 of the carrier and the body's JSON with sorted keys: a resend has the same."""
    try:
        canonical = orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)
    except TypeError:  # integers beyond 64 bits
        canonical = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(carrier.value.encode() + b"\n" + canonical).hexdigest()


def usps_fields(doc: Mapping[str, Any]) -> tuple[str, str]:
    """(``timestamp``, ``payload``) as sent, the two strings the X-HMAC signs."""
    timestamp, payload = doc.get("timestamp"), doc.get("payload")
    if not isinstance(timestamp, str) or not isinstance(payload, str):
        raise MalformedPush(
            "a USPS notification has string fields timestamp and payload", carrier=Carrier.usps
        )
    return timestamp, payload


def updates_for(carrier: Carrier, doc: Mapping[str, Any], ident: str) -> PushDelivery:
    """The delivery a (verified) push body describes."""
    if carrier is Carrier.dhl:
        return dhl_delivery(doc, ident)
    if carrier is Carrier.ups:
        number, answer = _ups_answer(doc)
        update = _update(carrier, number, answer, ident)
        # The result speaks of the push as received, not of the tracking-shaped copy.
        raw = RawJSON.of(doc)
        events = tuple(replace(e, raw=raw) for e in update.result.events)
        update = replace(update, result=replace(update.result, raw=raw, events=events))
        return PushDelivery(carrier, ident, (update,), raw=RawJSON.of(doc))
    if carrier is Carrier.fedex:
        found = [_update(carrier, n, a, ident) for n, a in _fedex_answers(doc)]
        return PushDelivery(carrier, ident, tuple(found), raw=RawJSON.of(doc))
    timestamp, payload = usps_fields(doc)
    number, answer = _usps_answer(payload)
    sent = parse_iso(timestamp)
    sent_at = sent[0] if sent else None
    subscription = text(doc.get("subscriptionId"))
    update = replace(
        _update(carrier, number, answer, ident), subscription_id=subscription, sent_at=sent_at
    )
    return PushDelivery(carrier, ident, (update,), subscription, sent_at, raw=RawJSON.of(doc))


def _update(carrier: Carrier, number: str, answer: object, ident: str) -> PushUpdate:
    reply = HttpReply(200, httpx.Headers(), orjson.dumps(answer), f"push:{carrier.value}")
    outcome = _ADAPTERS[carrier].parse_track_safely(reply, [number])[number]
    if not isinstance(outcome, TrackingResult):
        raise MalformedPush(
            f"the push could not be read as tracking data: {outcome.message}",
            carrier=carrier,
            number=number,
        )
    return PushUpdate(carrier, number, outcome, ident)


def _number(carrier: Carrier, value: Any) -> str:
    # UPS's own v1 example sends " 1ZABCXYZ0112346789" with a leading space (NOTES §7.1).
    raw = text(value)
    if raw is None:
        raise MalformedPush("the push names no tracking number", carrier=carrier)
    return "".join(raw.split()).upper()


# ------------------------------------------------------------------------------------- UPS


def _ups_offset(value: Any) -> str | None:
    raw = text(value)
    return raw.replace(".", ":") if raw else None


def _description_code(value: Any) -> str | None:
    # JSON sends "011"; a body built from the YAML examples (descriptionCode: 021 unquoted)
    # may carry the number 11 instead.
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:03d}"
    return text(value)


def _ups_answer(doc: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    number = _number(Carrier.ups, doc.get("trackingNumber"))
    status = obj(doc.get("activityStatus"))
    if not status:
        raise MalformedPush("a UPS push has an activityStatus", carrier=Carrier.ups, number=number)
    place = obj(doc.get("activityLocation"))
    activity = {
        "date": doc.get("localActivityDate"),
        "time": doc.get("localActivityTime"),
        "gmtDate": doc.get("gmtActivityDate"),
        "gmtTime": doc.get("gmtActivityTime"),
        "gmtOffset": _ups_offset(doc.get("gmtOffset")),
        "location": {
            "address": {
                "city": place.get("city"),
                "stateProvince": place.get("stateProvince"),
                "postalCode": place.get("postalCode"),
                "countryCode": place.get("country"),
            }
        },
        "status": {
            "type": status.get("type"),
            "code": status.get("code"),
            "statusCode": _description_code(status.get("descriptionCode")),
            "description": status.get("description"),
        },
    }
    dates = [{"type": "SDD", "date": doc.get("scheduledDeliveryDate")}]
    window: dict[str, Any] = {}
    if text(doc.get("actualDeliveryDate")):
        dates.append({"type": "DEL", "date": doc.get("actualDeliveryDate")})
        window = {"type": "DEL", "endTime": doc.get("actualDeliveryTime")}
    elif text(doc.get("deliveryStartTime")) and text(doc.get("deliveryEndTime")):
        window = {
            "type": "EDW",
            "startTime": doc.get("deliveryStartTime"),
            "endTime": doc.get("deliveryEndTime"),
        }
    package = {
        "trackingNumber": number,
        "activity": [activity],
        "deliveryDate": [d for d in dates if text(d["date"])],
        "deliveryTime": window,
        "deliveryInformation": {"receivedBy": doc.get("receivedBy")},
    }
    return number, {"trackResponse": {"shipment": [{"package": [package]}]}}


# ----------------------------------------------------------------------------------- FedEx


def _fedex_answers(doc: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    # Inferred shape (NOTES §7.2): a Track API answer, or one bare trackResult.
    completes = items(obj(doc.get("output")).get("completeTrackResults"))
    if not completes and "trackingNumberInfo" in doc:
        completes = [{"trackResults": [doc]}]
    found = []
    for complete in completes:
        results = items(complete.get("trackResults"))
        named = complete.get("trackingNumber") or (
            obj(results[0].get("trackingNumberInfo")).get("trackingNumber") if results else None
        )
        number = _number(Carrier.fedex, named)
        answer = {"output": {"completeTrackResults": [{**complete, "trackingNumber": number}]}}
        found.append((number, answer))
    if not found:
        raise MalformedPush(
            "a FedEx push has output.completeTrackResults (or is one trackResult)",
            carrier=Carrier.fedex,
        )
    return found


# ------------------------------------------------------------------------------------ USPS


def _usps_answer(payload: str) -> tuple[str, dict[str, Any]]:
    try:
        record = loads(payload.encode("utf-8"))
    except ValueError:
        raise MalformedPush(
            "the USPS payload is not a JSON string (it is double-encoded JSON)",
            carrier=Carrier.usps,
        ) from None
    if not isinstance(record, dict):
        raise MalformedPush("the USPS payload is not a JSON object", carrier=Carrier.usps)
    number = _number(Carrier.usps, record.get("trackingNumber"))
    single = obj(record.get("trackingEvent"))
    if single and "trackingEvents" not in record:
        # A Scan Event Extract record carries one trackingEvent (spec detailedScanEvent).
        record = {**record, "trackingEvents": [single]}
    return number, record


# ------------------------------------------------------------------------------------- DHL


def dhl_delivery(doc: Mapping[str, Any], ident: str) -> PushDelivery:
    """A DHL message: shipments, an activation secret, or a failure report (inferred)."""
    # The subscription's id is the last segment of its ``self`` link (inferred, NOTES §7.4).
    link = text(doc.get("self"))
    subscription = link.rstrip("/").rsplit("/", 1)[-1] if link else None
    shipments = items(doc.get("shipments"))
    updates = []
    for shipment in shipments:
        number = _number(Carrier.dhl, shipment.get("id"))
        update = _update(Carrier.dhl, number, {"shipments": [shipment]}, ident)
        updates.append(replace(update, subscription_id=subscription))
    secret = text(doc.get("secret"))
    failure = obj(doc.get("failure")) or None
    if not updates and secret is None and failure is None:
        raise MalformedPush(
            "a DHL push has shipments, an activation secret or a failure", carrier=Carrier.dhl
        )
    return PushDelivery(
        Carrier.dhl,
        ident,
        tuple(updates),
        subscription,
        None,  # DHL's envelope gives no send time (``expires`` is the subscription's end)
        text(doc.get("scope")),
        secret,
        failure,
        raw=RawJSON.of(doc),
    )
