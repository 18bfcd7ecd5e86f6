"""DHL response bodies: shipments, events, addresses and pieces of the Unified Tracking answer."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any
from urllib.parse import quote

from simulator import numbers
from simulator.carriers.dhl.codes import (
    ARRIVED_AT_DELIVERY_FACILITY,
    EVENT_TEXTS,
    EXCEPTION_TEXTS,
    NAME,
    PATH,
    PROOF_DOCUMENT_URL,
    Text,
)
from simulator.scenario import EventKind, ExceptionReason, Service
from simulator.timeline import Event, Place, Shipment, seed_int

_TERMINAL_KINDS = frozenset(
    {EventKind.delivered, EventKind.returned_to_sender, EventKind.cancelled}
)

_TERMINAL_REASONS = frozenset({ExceptionReason.lost, ExceptionReason.damaged})

_SERVICE_BY_FORMAT = {"express10": "express", "express11": "express", "sscc20": "parcel-de",
                      "s10": "post-de"}  # fmt: skip
"""NOTES §4.7: Express waybills, Parcel DE ``00`` + SSCC-18, Post DE UPU S10."""

# For declared numbers of a format numbers.py does not check (NOTES §4.7): the business unit
# that issues numbers of that shape.
_SERVICE_BY_SHAPE: tuple[tuple[Any, str], ...] = (
    (re.compile(r"(?:JJD|JD|JVGL)[0-9A-Z]+", re.ASCII).fullmatch, "express"),
    (re.compile(r"[0-9]{10,11}", re.ASCII).fullmatch, "express"),
    (re.compile(r"(?:00[0-9]{18}|[0-9]{12})", re.ASCII).fullmatch, "parcel-de"),
    (re.compile(r"[A-Z]{2}[0-9]{9}[A-Z]{2}", re.ASCII).fullmatch, "post-de"),
    (re.compile(r"(?:GM|LX|RX|UV|CN|SG|TH|IN|HK|MY)[0-9A-Z]{10,39}", re.ASCII).fullmatch,
     "ecommerce"),
    (re.compile(r"[0-9]{14}", re.ASCII).fullmatch, "ecommerce"),
)  # fmt: skip

_EXPRESS_PRODUCTS = {
    Service.express: "EXPRESS WORLDWIDE",
    Service.priority: "EXPRESS 12:00",
    Service.ground: "ECONOMY SELECT",
    Service.economy: "ECONOMY SELECT",
}
"""DHL Express product names as the API prints them [obs: "EXPRESS 12:00" in integrator
docs, "Economy Select"/"Express Worldwide" in integrator rate tables; not in NOTES]."""

_PRODUCT_BY_SERVICE = {"parcel-de": "DHL PAKET (parcel)"}
"""[obs] parcel-de product name from a live response; other units use the spec's example."""

_UNKNOWN_PRODUCT = "UNKNOWN - Product unknown"  # [spec] Product example

_EXPRESS_ORGANIZATION = "EXPRESS"  # [spec] Organization example

# Express prints "CITY - COUNTRY" with DHL's own country labels [obs: "CINCINNATI HUB - USA",
# "AMSTERDAM - NETHERLANDS, THE"]; other countries use their upper-cased English name.
_EXPRESS_COUNTRY = {"US": "USA", "NL": "NETHERLANDS, THE"}

_NAME_NOISE = frozenset({"MD", "DDS", "PHD", "DVM", "JR", "SR", "II", "III", "IV", "V"})

# --------------------------------------------------------------------------------------------
# Rendering (pure: shipment, visible count, options -> JSON value)
# --------------------------------------------------------------------------------------------


@lru_cache(maxsize=8192)
def service_of(number: str) -> str:
    """The DHL business unit that issues numbers of this shape (NOTES §4.7)."""
    fmt = numbers.format_of(NAME, number)
    if fmt is not None and fmt in _SERVICE_BY_FORMAT:
        return _SERVICE_BY_FORMAT[fmt]
    for fullmatch, service in _SERVICE_BY_SHAPE:
        if fullmatch(number):
            return service
    return "express"


def timestamp(instant: datetime, place: Place) -> str:
    """ISO 8601 at the place's wall clock with its UTC offset, to the second."""
    return place.localize(instant).isoformat(timespec="seconds")


def locality(place: Place, service: str) -> str:
    """``addressLocality``: Express prints "CITY - COUNTRY", the other units the city."""
    if service != "express":
        return place.city
    country = _EXPRESS_COUNTRY.get(place.country) or place.country_name.upper()
    return f"{place.city.upper()} - {country}"


def _address(place: Place, service: str) -> dict[str, Any]:
    address = {"countryCode": place.country}
    if place.postal_code:
        address["postalCode"] = place.postal_code
    address["addressLocality"] = locality(place, service)
    return {"address": address}


def text_for(event: Event, shipment: Shipment) -> Text:
    """The status code and texts DHL shows for a canonical event."""
    if event.kind is EventKind.exception:
        assert event.reason is not None  # the scenario model guarantees it
        return EXCEPTION_TEXTS[event.reason]
    if event.kind is EventKind.arrived_at_facility and event.place == shipment.recipient.place:
        return ARRIVED_AT_DELIVERY_FACILITY
    return EVENT_TEXTS[event.kind]


def _event(event: Event, shipment: Shipment, service: str, pieces: list[str]) -> dict[str, Any]:
    text = text_for(event, shipment)
    loc = locality(event.place, service)
    body: dict[str, Any] = {
        "timestamp": timestamp(event.at, event.place),
        "location": _address(event.place, service),
        "statusCode": text.status_code,
        "status": text.status,
        "description": event.description or text.description.format(loc=loc),
    }
    if text.remark:
        body["remark"] = text.remark
    if text.next_steps:
        body["nextSteps"] = text.next_steps
    if service == "express":
        # [obs] live Express events carry the piece ids they concern.
        body["pieceIds"] = pieces
    return body


def _person(name: str) -> dict[str, str]:
    words = [w for w in name.split() if not w.endswith(".") and w.upper() not in _NAME_NOISE]
    person = {"name": name}
    if len(words) >= 2:
        person["givenName"] = words[0]
        person["familyName"] = words[-1]
    return person


def piece_ids(number: str, service: str) -> list[str]:
    """The piece ids DHL lists for a one-piece shipment."""
    if service == "express":
        # [obs/spec] Express piece ids look like "JD014600006281230704" (JD + 18 digits).
        return [f"JD0146{seed_int('dhl-piece', number) % 10**14:014d}"]
    if service == "parcel-de" and number.startswith("00") and len(number) == 20:
        # [obs] a Parcel DE piece id is the SSCC without its "00" application identifier.
        return [number[2:]]
    return [number]


def _product(shipment: Shipment, service: str) -> str:
    if service == "express":
        return _EXPRESS_PRODUCTS[shipment.service]
    return _PRODUCT_BY_SERVICE.get(service, _UNKNOWN_PRODUCT)


def _page_url(number: str, offset: int, limit: int) -> str:
    return f"{PATH}?trackingNumber={quote(number, safe='')}&offset={offset}&limit={limit}"


def _estimate(shipment: Shipment, latest: Event) -> dict[str, Any]:
    due = shipment.expected_delivery
    if due is None or latest.kind in _TERMINAL_KINDS or latest.reason in _TERMINAL_REASONS:
        return {}
    place = shipment.recipient.place
    local = place.localize(due)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    # [spec] the example frame runs from the day's start to 22:00 with remark "By End of Day".
    through = max(day + timedelta(hours=22), local)
    return {
        "estimatedTimeOfDelivery": timestamp(due, place),
        "estimatedDeliveryTimeFrame": {
            "estimatedFrom": day.isoformat(timespec="seconds"),
            "estimatedThrough": through.isoformat(timespec="seconds"),
        },
        "estimatedTimeOfDeliveryRemark": "By End of Day",
    }


def render_shipment(shipment: Shipment, count: int, service: str, full: bool) -> dict[str, Any]:
    """One ``shipments[]`` entry for the first ``count`` events (count >= 1)."""
    number = shipment.number
    pieces = piece_ids(number, service)
    visible = shipment.events[:count]
    events = [_event(e, shipment, service, pieces) for e in reversed(visible)]
    # The current status is the latest scan's: the newest listed, unless quirks have put the
    # list out of order (ties go to the later position, so a clean timeline's last wins).
    newest = max(range(count), key=lambda i: (visible[i].at, i))
    latest = visible[newest]
    body: dict[str, Any] = {
        "id": number,
        "service": service,
        "origin": _address(shipment.shipper.place, service),
        "destination": _address(shipment.recipient.place, service),
        "status": events[count - 1 - newest],
        **_estimate(shipment, latest),
    }
    if service == "parcel-de":
        # [spec example, obs] Parcel DE links to its consumer tracking page.
        page = f"https://www.dhl.de/de/privatkunden.html?piececode={quote(number, safe='')}"
        body["serviceUrl"] = page
        body["rerouteUrl"] = page + "&verfuegen_selected_tab=FIRST"
    details: dict[str, Any] = {}
    if service == "express":
        details["carrier"] = {"organizationName": _EXPRESS_ORGANIZATION}
    details["product"] = {"productName": _product(shipment, service)}
    if full:
        sender = _person(shipment.shipper.name)
        if shipment.shipper.company:
            sender = {"organizationName": shipment.shipper.company, **sender}
        details["receiver"] = _person(shipment.recipient.name)
        details["sender"] = sender
    delivered = next((e for e in shipment.events[:count] if e.kind is EventKind.delivered), None)
    if delivered is not None:
        proof: dict[str, Any] = {
            "timestamp": timestamp(delivered.at, delivered.place),
            "documentUrl": PROOF_DOCUMENT_URL,
        }
        if full:
            proof["signed"] = _person(shipment.signer)
        details["proofOfDelivery"] = proof
    # [obs] live responses carry this undeclared flag beside proofOfDelivery.
    details["proofOfDeliverySignedAvailable"] = delivered is not None and full
    details["totalNumberOfPieces"] = 1
    details["pieceIds"] = pieces
    details["weight"] = {"value": shipment.weight_kg, "unitText": "kg"}
    body["details"] = details
    body["events"] = events
    return body


def render(
    shipment: Shipment, count: int, service: str, full: bool, offset: int, limit: int
) -> dict[str, Any]:
    """The 200 body: one shipment, paged by offset/limit like DHL's result set."""
    total = 1
    if offset == 0:
        # [obs] live single-result answers carry no paging links.
        return {"shipments": [render_shipment(shipment, count, service, full)]}
    number = shipment.number
    last = ((total - 1) // limit) * limit
    return {
        "url": _page_url(number, offset, limit),
        "prevUrl": _page_url(number, max(offset - limit, 0), limit),
        "firstUrl": _page_url(number, 0, limit),
        "lastUrl": _page_url(number, last, limit),
        "shipments": [],
    }
