"""DHL Shipment Tracking – Unified: ``GET /track/shipments`` behind a static ``DHL-API-Key``.

Sources: ``tests/contract/specs/NOTES.md`` §4 and ``dhl/utapi-traking-api-1.4.1.yaml``
(DHL-SPEC). NOTES tags are repeated beside each choice: [spec], [obs] (production as seen by
integrators), [unverified] (no source; a documented choice of this simulator).

Request flow: API key (401) -> query validation (400) -> tenant clock -> lookup (404) -> body
from the render cache. The tenant is the ``/t/{tenant}`` path prefix's, else the
``X-Carriersim-Tenant`` header's, else the key itself; the lookup sees the tenant's own
created shipments before the catalog. There is no token and so no expiry; whether a key is
accepted is decided in :func:`key_accepted` alone, so a later "revoked key" rule has one
place to go.

Choices the sources leave open:

* The portal template also allows the key in the query string (NOTES §4.2), but NOTES does
  not name that parameter, so only the header is read.
* Timestamps are ISO 8601 with the scan's own UTC offset (``2023-11-21T15:27:20+01:00``):
  one of the production forms (NOTES §4.4, karrio #439), it keeps both the local wall-clock
  time a customer sees and the exact instant, which the spec's ``Z`` example and the
  offset-less local form each lose half of.
* Spec 1.4.1 declares only 200 and 404 on the operation; malformed queries get a 400 in the
  RFC 7807 problem+json shape every DHL error uses (NOTES §4.5) [unverified wording].
* ``language`` is validated (ISO 639-1) but every text here is English, so
  ``Content-Language`` is always ``en``: the spec says that header names the *actual*
  response language, "language availability depends on the service used".
* A ``service`` hint, ``originCountryCode`` or ``recipientPostalCode`` that does not fit the
  shipment makes it not found (they "further qualify" the number [spec]); Parcel DE shows
  names and signer only with a matching ``recipientPostalCode`` [spec].
* NOTES has no DHL event vocabulary. Express checkpoint texts are the ones integrators'
  fixtures show from the live API ("Shipment picked up", "Arrived at DHL Sort Facility  X"
  with its double space, "Shipment is out with courier for delivery", "Delivered", ...)
  [obs]; the remaining texts follow the spec's example style (statusCode + lower-case
  ``status`` + sentence ``description`` + ``remark``/``nextSteps``) and are marked
  [unverified] in the tables.

Faults (:mod:`simulator.faulting` calls :func:`describe` and :func:`error_response`; the
tracking handler applies the data faults of ``faulting.data_faults``):

* Every fault error is a problem+json body with ``Content-Language: en`` (NOTES §4.5). 401 is
  the gateway body of NOTES §4.2 whatever the reason: a DHL key never expires, so "expired"
  and "revoked" both mean a key the gateway no longer accepts. 404 is the production body with
  a ``Correlation-Id``; 429 is the body of NOTES §4.5, with ``Retry-After`` only when the
  fault sets one (DHL documents none, §4.6). 400/403/500/502/503/504 use the same RFC 7807
  shape with the HTTP reason phrase as title; their details are [unverified]. There is no
  token endpoint, so "token" and "track" answer alike.
* missing_offsets: offset-less local wall-clock times, one of the production forms (NOTES
  §4.4). wrong_offsets: the local wall-clock time labelled ``Z`` (the spec's UTC form, §4.4),
  so the instant is off by the place's offset; at places on UTC, ``+01:00`` [unverified].
  Both apply to every timestamp of a shipment: formats differ by service, not by field.
* unknown_codes: the newest event (and so ``status``) carries :data:`UNDOCUMENTED_STATUS_CODE`,
  outside the spec's statusCode enum; texts kept [unverified value].
* missing_optional_fields: ``location`` without ``address`` in ``status`` and every event
  (NOTES §4.4, §6 item 11; itsvic-dev/deliveries #211: "Required value 'address' missing at
  $.shipments[0].status.location"); Place has no other property, so ``location`` is ``{}``.
* empty_events: the shipment with its ``status`` but ``events: []`` [unverified form].
* padded_number: ``id`` with a leading zero when all digits (a 10-digit Express waybill
  becomes a valid 11-digit one: zeros never change the mod-7 or GS1 check), else with a
  trailing space [unverified]. lowercase_number: ``id`` lower-cased (digits stay as they are).
* ok_with_error and mixed_results (one number per call, so alike): 200 with
  ``{"shipments": []}``, for found and unknown numbers alike, instead of the 404 [unverified:
  the shape of the spec's paged answers past the last result]. wrong_number: the answer is
  the asked shipment under :func:`other_number` (another valid number of the same format).
"""

from __future__ import annotations

import hashlib
import itertools
import random
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from http import HTTPStatus
from typing import Any, NamedTuple
from urllib.parse import quote, unquote_plus

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import Scope

from simulator import faulting, numbers, quirks, replay
from simulator.carriers.common import TENANT_HEADER, dumps, header, raw, tenant_for
from simulator.engine import Simulation
from simulator.faults import Decision
from simulator.scenario import EventKind, ExceptionReason, Service
from simulator.timeline import Event, Place, Shipment, seed_int

NAME = "dhl"

PATH = "/track/shipments"
"""Production is ``https://api-eu.dhl.com/track/shipments``; the spec puts ``/track`` in the
server URL and ``/shipments`` in the path (NOTES §4.1, DHL-SPEC ``servers``)."""

API_KEY_HEADER = "dhl-api-key"
"""``DHL-API-Key`` [spec: securitySchemes.ApiKeyAuth]; header names are case-insensitive."""

PROBLEM_JSON = "application/problem+json"

# --------------------------------------------------------------------------------------------
# Code tables: canonical kind -> DHL statusCode (spec enum) and texts
# --------------------------------------------------------------------------------------------

STATUS_CODES: tuple[str, ...] = ("pre-transit", "transit", "delivered", "failure", "unknown")
"""The ``statusCode`` enum [spec: supermodelIoLogisticsTrackingShipmentEvent; NOTES §4.4]."""


@dataclass(frozen=True, slots=True)
class Text:
    """What DHL prints for one kind of event; ``{loc}`` stands for the scan's location."""

    status_code: str
    status: str
    description: str
    remark: str | None = None
    next_steps: str | None = None


_NOT_HOME = "The recipient was not available at the time of delivery."  # [unverified]
_MOVING_AGAIN = "The status will be updated as soon as the shipment is on its way again."

EVENT_TEXTS: dict[EventKind, Text] = {
    # [obs] express checkpoint "Shipment information received".
    EventKind.label_created: Text("pre-transit", "shipment information received",
                                  "Shipment information received"),
    # [obs] "Shipment picked up".
    EventKind.picked_up: Text("transit", "shipment picked up", "Shipment picked up"),
    # [obs] "Arrived at DHL Sort Facility  LEIPZIG - GERMANY" (two spaces, as live).
    EventKind.arrived_at_facility: Text("transit", "arrived at sort facility",
                                        "Arrived at DHL Sort Facility  {loc}"),
    # [obs] "Shipment has departed from a DHL facility BRUSSELS - BELGIUM".
    EventKind.departed_facility: Text("transit", "departed facility",
                                      "Shipment has departed from a DHL facility {loc}"),
    # [obs] "Shipment is in transit to destination".
    EventKind.in_transit: Text("transit", "in transit", "Shipment is in transit to destination"),
    # [obs] description; [spec] status/remark/nextSteps are the spec's own event example.
    EventKind.customs_hold: Text(
        "transit", "customs inspection",
        "Customs clearance status updated. Note - The Customs clearance process may start "
        "while the shipment is in transit to the destination.",
        "The shipment is pending completion of customs inspection.",
        "The status will be updated following customs inspection.",
    ),
    # [obs] "Clearance processing complete at MANILA - PHILIPPINES, THE".
    EventKind.customs_cleared: Text("transit", "clearance complete",
                                    "Clearance processing complete at {loc}"),
    # [obs] "Shipment is out with courier for delivery".
    EventKind.out_for_delivery: Text("transit", "out for delivery",
                                     "Shipment is out with courier for delivery"),
    # [obs] description; remark/nextSteps [unverified].
    EventKind.delivery_attempted: Text(
        "failure", "delivery attempt", "Delivery attempt could not be completed", _NOT_HOME,
        "The shipment will be taken to a DHL Parcelshop, where the recipient can pick it up.",
    ),
    # [unverified]
    EventKind.available_for_pickup: Text(
        "transit", "ready for pickup", "Shipment is ready for pickup at a DHL Parcelshop",
        "The shipment is waiting to be picked up at a DHL Parcelshop.",
        "The recipient can pick up the shipment at the DHL Parcelshop with an ID.",
    ),
    # [obs] "Delivered".
    EventKind.delivered: Text("delivered", "delivered", "Delivered"),
    # [unverified]
    EventKind.address_corrected: Text("transit", "address corrected",
                                      "Consignee address has been corrected",
                                      None, "A new delivery attempt will be made."),
    # [unverified]
    EventKind.returned_to_sender: Text("failure", "returned to shipper", "Returned to shipper",
                                       "The shipment is being returned to the sender."),
    # [unverified]
    EventKind.cancelled: Text("failure", "cancelled", "Shipment cancelled",
                              "The shipment was cancelled by the sender."),
}  # fmt: skip
"""Every EventKind but ``exception`` (which :data:`EXCEPTION_TEXTS` covers by reason)."""

ARRIVED_AT_DELIVERY_FACILITY = Text(
    "transit", "arrived at delivery facility", "Arrived at DHL Delivery Facility  {loc}"
)
"""[obs] the arrival scan at the destination, told apart from sort facilities on the way."""

EXCEPTION_TEXTS: dict[ExceptionReason, Text] = {
    # [unverified] weather and delay stay "transit": the parcel still travels, only later.
    ExceptionReason.weather: Text("transit", "delay",
                                  "Shipment delayed due to adverse weather conditions",
                                  "The shipment is delayed due to adverse weather conditions.",
                                  _MOVING_AGAIN),
    # [obs] "Shipment is on hold"; remark/nextSteps [unverified].
    ExceptionReason.delay: Text("transit", "on hold", "Shipment is on hold",
                                "The shipment is delayed.", _MOVING_AGAIN),
    # [obs] "Further consignee information needed"; remark/nextSteps [unverified].
    ExceptionReason.address: Text("failure", "address issue",
                                  "Further consignee information needed",
                                  "The delivery address is incomplete or incorrect.",
                                  "Please contact DHL Customer Service with the correct address."),
    # [unverified]
    ExceptionReason.damaged: Text("failure", "damaged", "Shipment damaged",
                                  "The shipment was damaged in transit.",
                                  "Please contact the sender of the shipment."),
    # [unverified]
    ExceptionReason.lost: Text("failure", "lost", "Shipment could not be located",
                               "The shipment could not be located in the DHL network.",
                               "Please contact the sender of the shipment."),
    # [obs] "Delivery not accepted"; remark/nextSteps [unverified].
    ExceptionReason.refused: Text("failure", "delivery refused", "Delivery not accepted",
                                  "The recipient refused to accept the shipment.",
                                  "The shipment will be returned to the sender."),
    # [obs] description; nextSteps [unverified].
    ExceptionReason.recipient_unavailable: Text(
        "failure", "delivery attempt", "Delivery attempt could not be completed", _NOT_HOME,
        "A new delivery attempt will be made on the next business day.",
    ),
}  # fmt: skip

_TERMINAL_KINDS = frozenset(
    {EventKind.delivered, EventKind.returned_to_sender, EventKind.cancelled}
)
_TERMINAL_REASONS = frozenset({ExceptionReason.lost, ExceptionReason.damaged})

# --------------------------------------------------------------------------------------------
# Services, products, locations
# --------------------------------------------------------------------------------------------

REQUEST_SERVICES: frozenset[str] = frozenset(
    {"express", "parcel-de", "ecommerce", "dgf", "parcel-uk", "post-de", "sameday", "freight",
     "parcel-nl", "parcel-pl", "dsc", "ecommerce-europe"}
)  # fmt: skip
"""The ``service`` query parameter's enum [spec: components.parameters.service]."""

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

_FULL_DATA_SERVICES = frozenset({"parcel-de", "parcel-nl"})
"""Units that show the full data set only with a matching ``recipientPostalCode`` [spec]."""

# Express prints "CITY - COUNTRY" with DHL's own country labels [obs: "CINCINNATI HUB - USA",
# "AMSTERDAM - NETHERLANDS, THE"]; other countries use their upper-cased English name.
_EXPRESS_COUNTRY = {"US": "USA", "NL": "NETHERLANDS, THE"}

_NAME_NOISE = frozenset({"MD", "DDS", "PHD", "DVM", "JR", "SR", "II", "III", "IV", "V"})

PROOF_DOCUMENT_URL = "https://webpod.dhl.com/webPOD/DHLePODRequest"  # [spec] example

# --------------------------------------------------------------------------------------------
# Fixed response parts
# --------------------------------------------------------------------------------------------

LINK = (
    '<https://api-eu.dhl.com/track/context>; rel="http://www.w3.org/ns/json-ld#context"; '
    'type="application/ld+json"'
)
"""[spec: 200 headers; NOTES §4.4]."""

_OK_HEADERS = {"Content-Language": "en", "Link": LINK}

UNAUTHORIZED = {
    "status": 401,
    "title": "Unauthorized",
    "detail": "Unauthorized for given resource.",
}
"""[obs] the api-eu.dhl.com gateway's body (NOTES §4.2), in its key order."""

NOT_FOUND = {
    "title": "No result found",
    "status": 404,
    "detail": "No shipment with given tracking number found.",
}
"""[spec example; obs netresearch/dhl-shipping-m2 #23 (97 bytes, no ``instance``)]."""

TOO_MANY_REQUESTS = {
    "status": 429,
    "title": "Too Many Requests",
    "detail": "Too many requests within defined time period, please try again later.",
}
"""[obs itsvic-dev/deliveries #68] (NOTES §4.5), in its key order."""

_UNAUTHORIZED_BODY = dumps(UNAUTHORIZED)
_NOT_FOUND_BODY = dumps(NOT_FOUND)

_COUNTRY = re.compile(r"[A-Za-z]{2}", re.ASCII).fullmatch
_LANGUAGE = re.compile(r"[A-Za-z]{2}", re.ASCII).fullmatch
_COUNT = re.compile(r"[0-9]{1,9}", re.ASCII).fullmatch

DEFAULT_OFFSET = 0
DEFAULT_LIMIT = 5  # [spec] parameter defaults

# --------------------------------------------------------------------------------------------
# Auth
# --------------------------------------------------------------------------------------------


def key_accepted(sim: Simulation, key: str | None) -> bool:
    """Whether this API key may call the API (the one place key rules live)."""
    return bool(key) and sim.accepts(NAME, key or "", None)


# --------------------------------------------------------------------------------------------
# Query validation
# --------------------------------------------------------------------------------------------


class Query(NamedTuple):
    """A validated tracking query (a NamedTuple: built on every request, cheaply)."""

    number: str
    service: str | None = None
    origin_country: str | None = None
    postal_code: str | None = None
    offset: int = DEFAULT_OFFSET
    limit: int = DEFAULT_LIMIT


class BadQuery(Exception):
    """A query DHL would refuse; ``str(self)`` is the problem's ``detail``."""


PARAMETERS = frozenset(
    {"trackingNumber", "service", "requesterCountryCode", "originCountryCode",
     "recipientPostalCode", "language", "offset", "limit"}
)  # fmt: skip
"""The operation's query parameters [spec]; others are ignored, as gateways do."""


def query_pairs(query_string: bytes) -> list[tuple[str, str]]:
    """(name, value) pairs of a raw query string, blanks kept, ``%xx`` and ``+`` decoded."""
    # Cheaper than parse_qsl (and Starlette's multi-dict) for the common plain query.
    pairs = []
    for part in query_string.decode("latin-1").split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        if "%" in part or "+" in part:
            name, value = unquote_plus(name), unquote_plus(value)
        pairs.append((name, value))
    return pairs


def parse_query(pairs: Sequence[tuple[str, str]]) -> Query:
    """Validate the query string's (name, value) pairs against the spec's parameters."""
    if len(pairs) == 1 and pairs[0][0] == "trackingNumber" and pairs[0][1].strip():
        # The common request: nothing but the number.
        return Query(numbers.normalize(pairs[0][1]))
    given: dict[str, str] = {}
    for name, value in pairs:
        if name not in PARAMETERS:
            continue
        if name in given:
            raise BadQuery(f"Query parameter '{name}' may be given only once.")
        given[name] = value.strip()
    # ``.get(...) or None``: an empty optional parameter is what clients send for "not set".
    raw_number = given.get("trackingNumber")
    if not raw_number:
        raise BadQuery("Missing required query parameter 'trackingNumber'.")
    service = given.get("service") or None
    if service is not None and service not in REQUEST_SERVICES:
        raise BadQuery(
            f"Invalid value '{service}' for query parameter 'service'; expected one of: "
            + ", ".join(sorted(REQUEST_SERVICES))
            + "."
        )
    for name in ("requesterCountryCode", "originCountryCode"):
        code = given.get(name)
        if code and not _COUNTRY(code):
            raise BadQuery(
                f"Invalid value '{code}' for query parameter '{name}'; "
                "expected an ISO 3166-1 alpha-2 country code such as 'DE'."
            )
    language = given.get("language")
    if language and not _LANGUAGE(language):
        raise BadQuery(
            f"Invalid value '{language}' for query parameter 'language'; "
            "expected an ISO 639-1 language code such as 'en'."
        )
    origin = given.get("originCountryCode")
    return Query(
        number=numbers.normalize(raw_number),
        service=service,
        origin_country=origin.upper() if origin else None,
        postal_code=given.get("recipientPostalCode") or None,
        offset=_count(given, "offset", DEFAULT_OFFSET, 0),
        limit=_count(given, "limit", DEFAULT_LIMIT, 1),
    )


def _count(given: dict[str, str], name: str, default: int, minimum: int) -> int:
    value = given.get(name)
    if not value:
        return default
    if not _COUNT(value) or int(value) < minimum:
        raise BadQuery(
            f"Invalid value '{value}' for query parameter '{name}'; "
            f"expected a whole number of at least {minimum}."
        )
    return int(value)


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


# --------------------------------------------------------------------------------------------
# Responses and routes
# --------------------------------------------------------------------------------------------


class _Ok(Response):
    """A 200 with prebuilt headers; Response.__init__ rebuilds them on every request."""

    def __init__(self, body: bytes) -> None:
        self.status_code = 200
        self.body = body
        self.background = None
        self.raw_headers = [(b"content-length", str(len(body)).encode()), *_OK_RAW_HEADERS]


_OK_RAW_HEADERS = [
    (b"content-type", b"application/json"),
    *((k.lower().encode(), v.encode()) for k, v in _OK_HEADERS.items()),
]


def _problem(body: bytes, status: int, headers: dict[str, str] | None = None) -> Response:
    return raw(body, status, {"Content-Language": "en", **(headers or {})}, PROBLEM_JSON)


def bad_request(detail: str) -> Response:
    """400 problem+json (RFC 7807 shape of NOTES §4.5; wording [unverified])."""
    return _problem(dumps({"status": 400, "title": "Bad Request", "detail": detail}), 400)


def correlation_id(*parts: object) -> str:
    """A stable UUID-shaped ``Correlation-Id`` for the same request at the same instant."""
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=16).digest()
    return str(uuid.UUID(bytes=digest, version=4))


def not_found(sim: Simulation, number: str, tenant: str, now: float) -> Response:
    """404: production's body, or with the spec example's ``instance`` in "spec" mode."""
    body = _NOT_FOUND_BODY
    if sim.settings.not_found == "spec":
        body = dumps({**NOT_FOUND, "instance": f"/shipment/{number}"})
    cid = correlation_id(NAME, tenant, number, now)
    return _problem(body, 404, {"Correlation-Id": cid})


def _qualifies(shipment: Shipment, service: str, query: Query) -> bool:
    # A service hint or a qualifier that does not fit makes DHL look elsewhere and find
    # nothing (NOTES §4.3, §4.6: without the right unit a number resolves differently).
    if query.service is not None and query.service != service:
        return False
    if query.origin_country is not None and query.origin_country != shipment.shipper.place.country:
        return False
    return query.postal_code is None or _same_postal(query.postal_code, shipment)


def _same_postal(given: str, shipment: Shipment) -> bool:
    want = shipment.recipient.place.postal_code
    return "".join(given.split()).upper() == "".join(want.split()).upper()


def routes(sim: Simulation) -> list[BaseRoute]:
    """The Unified Tracking endpoint at its production path."""

    def missing(request: Request, number: str, tenant: str, now: float) -> Response:
        if faulting.data_faults(request).lies & ERROR_LIES:
            return _Ok(_EMPTY_BODY)
        return not_found(sim, number, tenant, now)

    async def track(request: Request) -> Response:
        key = request.headers.get(API_KEY_HEADER)
        if not key_accepted(sim, key):
            return _problem(_UNAUTHORIZED_BODY, 401)
        tenant = tenant_for(request, key or "")
        try:
            query = parse_query(query_pairs(request.scope["query_string"]))
        except BadQuery as problem:
            return bad_request(str(problem))
        now = sim.clock.now(tenant)
        number = query.number
        shipment = sim.lookup(NAME, number, tenant)
        count = shipment.visible_count(now) if shipment is not None else 0
        if shipment is None or count == 0:
            return missing(request, number, tenant, now)
        service = service_of(number)
        if not _qualifies(shipment, service, query):
            return missing(request, number, tenant, now)
        full = service not in _FULL_DATA_SERVICES or query.postal_code is not None
        offset, limit = query.offset, query.limit
        decision = faulting.data_faults(request)
        if decision.lies or decision.quirks:
            if decision.lies & ERROR_LIES:
                return _Ok(_EMPTY_BODY)
            found = shipment
            body = sim.rendered(
                (NAME, found.key, count, service, full, offset, limit,
                 decision.quirks, decision.lies),
                lambda: dumps(render_faulted(found, count, service, full, offset, limit,
                                             decision)),
            )  # fmt: skip
            return _Ok(body)
        render_key = (NAME, shipment.key, count, service, full, offset, limit)
        body = sim.rendered(
            render_key, lambda: dumps(render(shipment, count, service, full, offset, limit))
        )
        since, until = shipment.window(count)
        # This answer holds for this key (and tenant header) and URL while the tenant's
        # clock stays in [since, until): it may be replayed (simulator/replay.py).
        request.scope[replay.MARK] = (tenant, since, until, render_key)
        return _Ok(body)

    return [Route(PATH, track, methods=["GET"], name="dhl.track")]


# --------------------------------------------------------------------------------------------
# Data faults: lies and carrier-format quirks (see the module docstring for the forms)
# --------------------------------------------------------------------------------------------

ERROR_LIES = frozenset({"ok_with_error", "mixed_results"})
"""Lies answered with a 200 that holds no shipment."""

EMPTY_ANSWER: dict[str, Any] = {"shipments": []}
_EMPTY_BODY = dumps(EMPTY_ANSWER)

UNDOCUMENTED_STATUS_CODE = "in-customs"
"""[unverified] A statusCode outside the spec's enum (NOTES §4.4). No source shows which value
DHL sends beyond the five documented ones; this one keeps their lower-case hyphenated style."""

OFFSET_AT_UTC_PLACES = "+01:00"
"""[unverified] wrong_offsets at a place on UTC, where ``Z`` would be right: Central European
time, DHL's home zone."""


def other_number(number: str) -> str:
    """wrong_number: another valid number of the same format, fixed by the asked one.

    Numbers of no checked format keep their letters and get other digits.
    """
    fmt = numbers.format_of(NAME, number)
    for attempt in itertools.count():
        rng = random.Random(seed_int("dhl-wrong-number", number, attempt))
        if fmt is not None:
            other = numbers.generate(NAME, rng, fmt)
        else:
            other = "".join(str(rng.randrange(10)) if c.isdigit() else c for c in number)
            if other == number and not any(c.isdigit() for c in number):
                other = number[:2] + "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ")
                                             for _ in number[2:])  # fmt: skip
        if other != number:
            return other
    raise AssertionError("unreachable")  # pragma: no cover


def padded(number: str) -> str:
    """padded_number: a leading zero on an all-digit number, else a trailing space."""
    return "0" + number if number.isdigit() else number + " "


def offsetless(stamp: str) -> str:
    """missing_offsets: the same wall-clock time without its UTC offset."""
    return datetime.fromisoformat(stamp).replace(tzinfo=None).isoformat(timespec="seconds")


def wrong_offset(stamp: str) -> str:
    """wrong_offsets: the same wall-clock time labelled with an offset the place does not have."""
    local = datetime.fromisoformat(stamp)
    wall = local.replace(tzinfo=None).isoformat(timespec="seconds")
    return wall + ("Z" if local.utcoffset() else OFFSET_AT_UTC_PLACES)


def _restamp(entry: dict[str, Any], change: Callable[[str], str]) -> None:
    for event in (entry["status"], *entry["events"]):
        event["timestamp"] = change(event["timestamp"])
    if "estimatedTimeOfDelivery" in entry:
        entry["estimatedTimeOfDelivery"] = change(entry["estimatedTimeOfDelivery"])
    frame = entry.get("estimatedDeliveryTimeFrame")
    if frame is not None:
        entry["estimatedDeliveryTimeFrame"] = {k: change(v) for k, v in frame.items()}
    proof = entry["details"].get("proofOfDelivery")
    if proof is not None:
        proof["timestamp"] = change(proof["timestamp"])


def _quirk_entry(entry: dict[str, Any], wanted: frozenset[str]) -> None:
    """Apply the carrier-format quirks to one freshly rendered ``shipments[]`` entry."""
    # ``status`` is the same dict as one of ``events``: copy it so each is changed once.
    entry["status"] = status = dict(entry["status"])
    events: list[dict[str, Any]] = entry["events"]
    if "empty_events" in wanted:
        events.clear()
    if "unknown_codes" in wanted:
        status["statusCode"] = UNDOCUMENTED_STATUS_CODE
        if events:
            events[0] = {**events[0], "statusCode": UNDOCUMENTED_STATUS_CODE}
    if "missing_optional_fields" in wanted:
        for event in (status, *events):
            event["location"] = {}
    if "missing_offsets" in wanted:
        _restamp(entry, offsetless)
    elif "wrong_offsets" in wanted:
        _restamp(entry, wrong_offset)
    if "padded_number" in wanted:
        entry["id"] = padded(entry["id"])
    if "lowercase_number" in wanted:
        entry["id"] = entry["id"].lower()


def render_faulted(
    shipment: Shipment,
    count: int,
    service: str,
    full: bool,
    offset: int,
    limit: int,
    decision: Decision,
) -> dict[str, Any]:
    """The 200 body with a decision's wrong_number lie and its quirks applied."""
    if "wrong_number" in decision.lies:
        shipment = Shipment(shipment.variant, NAME, other_number(shipment.number), shipment.t0)
    shipment, count = quirks.apply(shipment, count, decision.quirks)
    body = render(shipment, count, service, full, offset, limit)
    if decision.quirks:
        for entry in body["shipments"]:
            _quirk_entry(entry, decision.quirks)
    return body


# --------------------------------------------------------------------------------------------
# Fault hooks (simulator.faulting.CarrierFaults)
# --------------------------------------------------------------------------------------------


def _titled(status: int, title: str, detail: str) -> dict[str, Any]:
    return {"status": status, "title": title, "detail": detail}


FAULT_PROBLEMS: dict[int, dict[str, Any]] = {
    # [unverified] detail; shape and title as the simulator's own 400s.
    400: _titled(400, "Bad Request", "The request could not be understood by the server."),
    401: UNAUTHORIZED,
    # [unverified] detail.
    403: _titled(403, "Forbidden", "Access to the requested resource is forbidden."),
    404: NOT_FOUND,
    429: TOO_MANY_REQUESTS,
    # [spec] the ``internalError`` component is problem+json; its texts are [unverified].
    500: _titled(500, "Internal Server Error", "An unexpected error occurred."),
    # [unverified] gateway answers in DHL's problem shape.
    502: _titled(502, "Bad Gateway", "The upstream service returned an invalid response."),
    503: _titled(503, "Service Unavailable", "The service is temporarily unavailable."),
    504: _titled(504, "Gateway Timeout", "The upstream service did not respond in time."),
}
"""A fault's problem+json body per HTTP status (NOTES §4.2, §4.5 where sourced)."""

_FAULT_BODIES = {status: dumps(problem) for status, problem in FAULT_PROBLEMS.items()}
_FAULT_ORDINALS = itertools.count(1)


def error_response(
    status: int, endpoint: str, retry_after: int | None, reason: str | None
) -> Response:
    """A fault's HTTP error as DHL sends it: problem+json, the same for every endpoint."""
    body = _FAULT_BODIES.get(status)
    if body is None:
        body = dumps(_titled(status, HTTPStatus(status).phrase, HTTPStatus(status).description))
    headers: dict[str, str] = {}
    if status == 404:
        headers["Correlation-Id"] = correlation_id(NAME, "fault", next(_FAULT_ORDINALS))
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return _problem(body, status, headers)


_TENANT_HEADER, _API_KEY_HEADER = TENANT_HEADER.encode(), API_KEY_HEADER.encode()


def replay_credential(scope: Scope) -> tuple[str, str | None] | None:
    """What a clean tracking answer depends on besides the URL and the clock: the API key
    and the tenant header, which names the tenant (simulator/replay.py). None: never
    replay."""
    key = header(scope, _API_KEY_HEADER)
    return None if key is None else (key, header(scope, _TENANT_HEADER))


async def describe(request: Request) -> tuple[str, tuple[str, ...]]:
    """(tenant, tracking numbers) of a request, best effort, never raising."""
    try:
        tenant = tenant_for(request, request.headers.get(API_KEY_HEADER) or "")
        try:
            query = parse_query(query_pairs(request.scope["query_string"]))
        except BadQuery:
            return tenant, ()
        return tenant, (query.number,)
    except Exception:  # a fault hook must never be the reason a request fails
        return "", ()
