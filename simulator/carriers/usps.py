"""USPS: OAuth 2.0 v3 token, Tracking 3.0 (``GET``, one number) and Tracking 3.2 (``POST``, 1–35).

Sources: ``tests/contract/specs/NOTES.md`` §3 and the USPS OpenAPI files
``usps/oauth2_3_update.yaml`` (USPS-OAUTH), ``usps/tracking-v3.yaml`` (USPS-V3) and
``usps/tracking-v3r2_4.yaml`` (USPS-V3R2). Tags beside each choice: [spec], [obs] (production
as captured by integrators: KAR-USPS and USPS-FIX live DETAIL bodies, USPS-ISS threads),
[unverified] (no source; a documented choice of this simulator).

Request flow: bearer token -> claims (401 envelope on any token problem, on a token used under
another tenant's ``/t/{tenant}`` prefix, on expiry on the tenant's clock, and on a token
without the ``tracking`` scope) -> request validation (400 envelopes) -> lookup (the tenant's
own created shipments, else the catalog) -> body from the render cache.

Production versus spec, and which one is imitated:

* Tracking 3.0 ``expand=DETAIL`` imitates the live bodies [obs: NOTES §3.4, KAR-USPS,
  USPS-FIX], which break the spec's types: booleans are the strings ``"true"``/``"false"``,
  absent values are explicit ``null``, ``mailClass`` is the human name with HTML entities
  (``USPS Ground Advantage<SUP>&#153;</SUP>``) instead of the spec's enum, ``mailType`` is
  ``DM``, ``eventTimestamp`` is local time without offset (to the minute, seconds ``:00`` as
  live) beside ``GMTTimestamp`` (``…Z``, to the second) and ``GMTOffset`` (``-06:00``), and
  the label-created scan carries no GMT fields at all (NOTES: "pre-shipment and partner
  events lack the GMT fields entirely"; USPS-FIX GX/MA events).
* Tracking 3.0 ``expand=SUMMARY`` (the default) follows the spec's ``TrackingSummary``
  (``trackingNumber``, ``expectedDeliveryDate``, ``eventSummaries``). NOTES calls SUMMARY
  unstable because the USPS README shows a Web-Tools-shaped ``TrackResults`` body, but that
  README example is for ``/tracking/v1`` (its curl line), so no production v3 SUMMARY body
  is known and the spec wins. ``eventSummaries`` copies the spec example's style: the
  newest entry is the status sentence, older ones ``"<event>, MM/DD/YYYY, h:mm am, <place>"``.
* Tracking 3.2 follows the spec's types (real booleans, absent fields omitted, offsets in
  ``eventTimestamp``, ``GMTOffset`` like ``-7:00``): NOTES has no live 3.2 success body.
* Unknown number on 3.0: production answers **400** with subcode 150001 and the USPS-FIX
  text (also for a known number whose first scan lies in the future), or 150002 ("The
  tracking number may be incorrect…", Web Tools / Error Inventory text) for a number that
  is not a well-formed USPS number (syntax or check digit). ``settings.not_found ==
  "spec"`` answers the spec's **404** ``Resource Not Found`` instead, except for numbers
  that are not 4–34 alphanumerics, which stay a 400 in both forms.
* Unknown numbers on 3.2: a batch mixing found and unknown numbers answers **207** with
  ``statusCode`` items [spec MultiStatusResponse, NOTES §3.4]; a batch with none found
  answers **404** with the observed 150006 body [obs: USPS-ISS #82] and one ``errors``
  entry per unknown number, in request order. Production and spec agree here.
* Token: JSON or form body [spec, NOTES §3.2], HTTP Basic credentials accepted as RFC 6749
  §2.3.1 allows; other content types get ``invalid_request``. A requested ``scope`` is
  narrowed to the app's scopes, down to an empty one, rather than refused [obs: USPS-ISS
  #28]; a token without ``tracking`` gets the tracking APIs' 401 [obs: USPS-ISS #56].
  The spec's 200 schema cannot hold any client-credentials body (see the tests); the body
  copies the spec's own example field for field.

Faults (``simulator.faulting``; the section "Fault hooks" at the end has the details):

* ``error_response``: the token endpoint answers every status in the RFC 6749 shape of its
  live errors [obs: KAR-USPS; spec StandardErrorResponse], the tracking APIs in their error
  envelope with the ``apiVersion`` of the API called (``/tracking/v3`` or ``/tracking/v3r2``):
  401 as the live scope refusal [obs: USPS-ISS #56], 429 as the live quota body [obs:
  magento/magento2 #40394], 404 as each API's not-found body, the rest with the Error
  Inventory's "General Errors" texts [NOTES §3.6].
* Lies: ``ok_with_error`` is the error inside a 200 (3.0: the 150001 body with HTTP 200;
  3.2: every found number as a ``statusCode`` 404 item in a 200); ``mixed_results`` is the
  3.2 ``207`` with every second found number answered as a 404 item (one number: as
  ``ok_with_error``); ``wrong_number`` answers for the next valid number of the same format.
  In a 3.2 batch a lie or quirk reaches only the numbers its fault was for
  (``faulting.fault_targets``): "every found number" means every one it targets.
* Format quirks: see :func:`distort_detail`, :func:`distort_summary`, :func:`distort_v3r2`.

Choices the sources leave open are marked [unverified] in the tables below.
"""

from __future__ import annotations

import base64
import hashlib
import re
import sys
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import Enum
from functools import lru_cache
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import Scope

from simulator import faulting, numbers, quirks, replay
from simulator.carriers.common import (
    basic_credentials,
    bearer_tenant,
    dumps,
    form_body,
    header,
    json_body,
    raw,
    respond,
    tenant_for,
    tenant_mismatch,
)
from simulator.engine import Simulation
from simulator.faults import Decision
from simulator.scenario import EventKind, ExceptionReason, Service
from simulator.timeline import Event, Place, Shipment, seed_int
from simulator.tokens import TokenError, bearer

NAME = "usps"

TOKEN_PATH = "/oauth2/v3/token"
TRACK_PATH = "/tracking/v3/tracking/{trackingNumber}"
BATCH_PATH = "/tracking/v3r2/tracking"
"""Production paths on ``https://apis.usps.com`` [spec: servers + paths; NOTES §3.1]."""

API_V3 = "/tracking/v3"
API_V3R2 = "/tracking/v3r2"
"""The ``apiVersion`` each tracking API writes into its error envelope [obs: NOTES §3.6]."""

# --------------------------------------------------------------------------------------------
# OAuth
# --------------------------------------------------------------------------------------------

TOKEN_LIFETIME = 28799
"""``expires_in`` as an integer [spec example; obs USPS-ISS #28, #56]: 8 h less a second."""

ISSUER = "api.usps.com"
"""[spec example, obs USPS-ISS #28]; newer live tokens say https://keyc.usps.com/realms/USPS."""

APPLICATION_NAME = "Silver Shipper Developer"
API_PRODUCTS = "[Shipping-Silver]"
"""``application_name`` / ``api_products`` of the spec's client-credentials example."""

APP_SCOPES: tuple[str, ...] = (
    "addresses",
    "international-prices",
    "subscriptions",
    "payments",
    "pickup",
    "tracking",
    "labels",
    "scan-form",
    "companies",
    "service-delivery-standards",
    "locations",
    "international-labels",
    "prices",
)
"""The scopes every simulated app holds: the spec example's ``scope``, in its order."""

_APP_SCOPE_SET = frozenset(APP_SCOPES)
TRACKING_SCOPE = "tracking"
"""The scope the tracking APIs require [spec: security OAuth: tracking]."""

ERROR_URI = "https://datatracker.ietf.org/doc/html/rfc6749#page-45"
"""``error_uri`` of the live ``invalid_client`` answer [obs: KAR-USPS]; page 45 of RFC 6749
is its §5.2 (error response), so every token error links it."""

WWW_AUTHENTICATE = {"WWW-Authenticate": 'Bearer realm="https://api.usps.com"'}
"""[spec: components.headers.WWWAuthenticate example; NOTES §3.6]."""


def _public_key() -> str:
    # A stable stand-in for the base64-encoded PEM the spec returns: the same shape (base64
    # of "-----BEGIN PUBLIC KEY-----…"), derived from nothing secret.
    der = b"".join(hashlib.sha256(b"carriersim usps %d" % i).digest() for i in range(9))[:294]
    lines = base64.b64encode(der).decode()
    pem = "-----BEGIN PUBLIC KEY-----\n"
    pem += "\n".join(lines[i : i + 64] for i in range(0, len(lines), 64))
    pem += "\n-----END PUBLIC KEY-----"
    return base64.b64encode(pem.encode()).decode()


PUBLIC_KEY = _public_key()

_SUPPORTED_GRANTS = frozenset({"client_credentials"})
# The spec supports these two as well, but the simulator never issues refresh tokens or
# authorization codes, so any presented one is invalid (RFC 6749 §5.2 invalid_grant).
_UNISSUED_GRANTS = frozenset({"refresh_token", "authorization_code"})


def _oauth_error(status: int, error: str, description: str) -> Response:
    body = {"error": error, "error_description": description, "error_uri": ERROR_URI}
    return respond(body, status, WWW_AUTHENTICATE if status == 401 else None)


def _bad_client() -> Response:
    # [obs: KAR-USPS] the live answer to unknown or wrong credentials.
    return _oauth_error(401, "invalid_client", "Client authentication failed.")


# --------------------------------------------------------------------------------------------
# Code tables: canonical kind -> USPS eventCode, eventType, statusCategory, status sentence
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Scan:
    """What USPS prints for one scan.

    ``summary`` is the ``statusSummary`` sentence when this scan is the newest one:
    ``{time}`` is like ``1:10 pm``, ``{date}`` like ``November 23, 2024`` and ``{where}``
    the scan's place as USPS writes it (``MILWAUKEE, WI 53207`` or a facility name).
    """

    code: str | None
    event_type: str
    category: str
    summary: str


_MOVING = "Moving Through Network"  # [obs] statusCategory of regional-facility scans
_IN_TRANSIT_TAIL = " The item is currently in transit to the destination."

SCANS: dict[EventKind, Scan] = {
    # [obs: KAR-USPS, USPS-FIX] GX "Shipping Label Created, USPS Awaiting Item"; category
    # "Pre-Shipment" [obs NOTES §3.5]; sentence [unverified].
    EventKind.label_created: Scan(
        "GX",
        "Shipping Label Created, USPS Awaiting Item",
        "Pre-Shipment",
        "A shipping label has been prepared for your item at {time} on {date} in {where}. "
        "This does not indicate receipt by the USPS or the actual mailing date.",
    ),
    # [obs: KAR-USPS, USPS-FIX, USPS README] 03, category, sentence.
    EventKind.picked_up: Scan(
        "03",
        "USPS in possession of item",
        "Accepted",
        "USPS is now in possession of your item as of {time} on {date} in {where}.",
    ),
    # [obs: KAR-USPS, USPS-FIX] A1 (10 for the first regional facility, 07 at the delivery
    # Post Office: see scan_for); category and sentence [obs: USPS-FIX in-progress body].
    EventKind.arrived_at_facility: Scan(
        "A1",
        "Arrived at USPS Regional Facility",
        _MOVING,
        "Your item arrived at our USPS facility in {where} on {date} at {time}." + _IN_TRANSIT_TAIL,
    ),
    # [obs: KAR-USPS, USPS-FIX] T1 (SF when leaving the origin Post Office: see scan_for);
    # sentence [unverified], modelled on the arrival one.
    EventKind.departed_facility: Scan(
        "T1",
        "Departed USPS Regional Facility",
        _MOVING,
        "Your item departed our USPS facility in {where} on {date} at {time}." + _IN_TRANSIT_TAIL,
    ),
    # [obs: KAR-USPS] TL, live without place; category "In Transit" [obs NOTES §3.5];
    # sentence [unverified].
    EventKind.in_transit: Scan(
        "TL",
        "In Transit to Next Facility",
        "In Transit",
        "Your item is in transit to the next facility as of {time} on {date}." + _IN_TRANSIT_TAIL,
    ),
    # [unverified] NOTES lists no USPS customs scan code: eventCode null, texts invented.
    EventKind.customs_hold: Scan(
        None,
        "Held in Customs",
        "Alert",
        "Your item is being held in customs in {where} as of {time} on {date}.",
    ),
    # [unverified] as customs_hold.
    EventKind.customs_cleared: Scan(
        None,
        "Customs Clearance",
        "In Transit",
        "Your item cleared customs in {where} at {time} on {date}." + _IN_TRANSIT_TAIL,
    ),
    # [obs: KAR-USPS, USPS-FIX] OF; category [obs NOTES §3.5]; sentence [unverified].
    EventKind.out_for_delivery: Scan(
        "OF",
        "Out for Delivery",
        "Out for Delivery",
        "Your item is out for delivery on {date} at {time} in {where}.",
    ),
    # [obs: NOTES §3.5, USPS-CODES] 52 "Notice Left"; category "Delivery Attempt" [obs];
    # sentence [unverified].
    EventKind.delivery_attempted: Scan(
        "52",
        "Notice Left",
        "Delivery Attempt",
        "We attempted to deliver your item at {time} on {date} in {where} and a notice was "
        "left. You can schedule redelivery or pick up your item at the Post Office.",
    ),
    # [obs: NOTES §3.5, USPS-CODES] 16; category [obs]; sentence [unverified].
    EventKind.available_for_pickup: Scan(
        "16",
        "Available for Pickup",
        "Available for Pickup",
        "Your item arrived at the Post Office at {time} on {date} in {where} and is ready "
        "for pickup.",
    ),
    # [obs: NOTES §3.9 status, spec statusSummary example for the sentence] 01.
    EventKind.delivered: Scan(
        "01",
        "Delivered, Front Door/Porch",
        "Delivered",
        "Your item was delivered at the front door or porch at {time} on {date} in {where}.",
    ),
    # [obs: NOTES §3.5, USPS-CODES] 06 "Forwarded": the item moves on to the corrected
    # address; category and sentence [unverified].
    EventKind.address_corrected: Scan(
        "06",
        "Forwarded",
        "In Transit",
        "Your item was forwarded to a corrected address at {time} on {date} in {where}."
        + _IN_TRANSIT_TAIL,
    ),
    # [obs: NOTES §3.5, USPS-CODES] 09 "Return to Sender"; category "Returning to Sender"
    # [obs NOTES §3.5]; sentence [unverified].
    EventKind.returned_to_sender: Scan(
        "09",
        "Return to Sender",
        "Returning to Sender",
        "Your item is being returned to the sender as of {time} on {date} in {where}.",
    ),
    # [obs: NOTES §3.5, USPS-CODES] 44 "Customer Recall": the shipper withdrew the item;
    # category and sentence [unverified].
    EventKind.cancelled: Scan(
        "44",
        "Customer Recall",
        "Alert",
        "Your item was recalled by the sender at {time} on {date} in {where}.",
    ),
}
"""Every EventKind but ``exception`` (see :data:`EXCEPTION_SCANS`)."""

EXCEPTION_SCANS: dict[ExceptionReason, Scan] = {
    # [unverified] no weather scan in NOTES: eventCode null.
    ExceptionReason.weather: Scan(
        None,
        "Delayed Due to Weather",
        "Alert",
        "Your item was delayed by severe weather in {where} as of {time} on {date}.",
    ),
    # [unverified] no delay scan in NOTES: eventCode null.
    ExceptionReason.delay: Scan(
        None,
        "In Transit, Arriving Late",
        "In Transit",
        "Your package will arrive later than expected, but is still on its way. It was last "
        "scanned in {where} at {time} on {date}.",
    ),
    # [obs: NOTES §3.5, USPS-CODES] 22 "Insufficient Address"; category "Alert" [obs];
    # sentence [unverified].
    ExceptionReason.address: Scan(
        "22",
        "Insufficient Address",
        "Alert",
        "Your item could not be delivered at {time} on {date} in {where} because the address "
        "was insufficient.",
    ),
    # [unverified] no damage scan in NOTES: eventCode null.
    ExceptionReason.damaged: Scan(
        None,
        "Item Damaged",
        "Alert",
        "Your item was found damaged in {where} at {time} on {date}.",
    ),
    # [obs: NOTES §3.9 status "Awaiting Delivery"]; eventCode null, sentence [unverified].
    ExceptionReason.lost: Scan(
        None,
        "Awaiting Delivery",
        "Alert",
        "Your item has not been scanned since it left {where}. We are looking for it as of "
        "{time} on {date}.",
    ),
    # [obs: NOTES §3.5, USPS-CODES] 04 "Refused"; category "Alert" [obs]; sentence
    # [unverified].
    ExceptionReason.refused: Scan(
        "04",
        "Refused",
        "Alert",
        "Your item was refused by the addressee at {time} on {date} in {where} and is being "
        "returned to the sender.",
    ),
    # [obs: NOTES §3.5, USPS-CODES] 56 "No Authorized Recipient Available"; category
    # "Delivery Attempt" [obs]; sentence [unverified].
    ExceptionReason.recipient_unavailable: Scan(
        "56",
        "No Authorized Recipient Available",
        "Delivery Attempt",
        "We attempted to deliver your item at {time} on {date} in {where} but no authorized "
        "recipient was available.",
    ),
}

FIRST_REGIONAL_ARRIVAL = Scan(
    "10",
    "Arrived at USPS Regional Origin Facility",
    _MOVING,
    SCANS[EventKind.arrived_at_facility].summary,
)
"""[obs: KAR-USPS] the first arrival at a network facility after acceptance."""

POST_OFFICE_ARRIVAL = Scan(
    "07",
    "Arrived at Post Office",
    _MOVING,
    "Your item arrived at the Post Office at {time} on {date} in {where}.",
)
"""[obs: KAR-USPS, USPS-FIX] arrival at the delivering Post Office; sentence [unverified]."""

POST_OFFICE_DEPARTURE = Scan(
    "SF",
    "Departed Post Office",
    _MOVING,
    "Your item departed the Post Office in {where} at {time} on {date}." + _IN_TRANSIT_TAIL,
)
"""[obs: KAR-USPS, USPS-FIX] departure from the accepting Post Office; sentence [unverified]."""


class Role(Enum):
    """Where on its route a scan happened, which picks USPS's facility wording."""

    origin = "origin"
    network = "network"
    destination = "destination"


def role_of(shipment: Shipment, place: Place) -> Role:
    """The accepting Post Office, the delivering one, or a network facility between."""
    if place == shipment.shipper.place:
        return Role.origin
    if place == shipment.recipient.place:
        return Role.destination
    return Role.network


def scan_for(shipment: Shipment, index: int) -> Scan:
    """The scan USPS shows for the shipment's event at ``index`` (depends on earlier events)."""
    event = shipment.events[index]
    kind = event.kind
    if kind is EventKind.exception:
        assert event.reason is not None
        return EXCEPTION_SCANS[event.reason]
    if kind is EventKind.arrived_at_facility:
        role = role_of(shipment, event.place)
        if role is Role.destination:
            return POST_OFFICE_ARRIVAL
        # A copy of this very scan (duplicate_scans) is no earlier arrival: it reads the same.
        earlier = shipment.events[:index]
        if role is Role.network and not any(
            e.kind is EventKind.arrived_at_facility and e != event for e in earlier
        ):
            return FIRST_REGIONAL_ARRIVAL
    if kind is EventKind.departed_facility and role_of(shipment, event.place) is Role.origin:
        return POST_OFFICE_DEPARTURE
    return SCANS[kind]


# After these the promised date no longer applies, so the body drops it (live bodies of
# delivered items carry no expectedDeliveryTimeStamp [obs: KAR-USPS, USPS-FIX]; the rest
# [unverified]).
_TERMINAL_KINDS = frozenset(
    {
        EventKind.delivered,
        EventKind.returned_to_sender,
        EventKind.cancelled,
        EventKind.available_for_pickup,
    }
)
_TERMINAL_REASONS = frozenset({ExceptionReason.lost, ExceptionReason.damaged})

# --------------------------------------------------------------------------------------------
# Mail classes (Service level -> USPS product)
# --------------------------------------------------------------------------------------------

TRACKING_SERVICE = "USPS Tracking<SUP>&#174;</SUP>"
INSURANCE_SERVICE = "Up to $100 insurance included"
"""``services`` entries as live [obs: KAR-USPS, USPS-FIX]."""


@dataclass(frozen=True, slots=True)
class MailClass:
    """A USPS product as the tracking API prints it."""

    name: str
    service_type_code: str | None
    class_code: str | None
    services: tuple[str, ...]


MAIL_CLASSES: dict[tuple[Service, bool], MailClass] = {
    # [obs: KAR-USPS] name, serviceTypeCode 001, services.
    (Service.ground, False): MailClass(
        "USPS Ground Advantage<SUP>&#153;</SUP>", "001", None, (TRACKING_SERVICE, INSURANCE_SERVICE)
    ),
    # [obs: USPS README (v1 body)] "Priority Mail<SUP>&reg;</SUP>", ClassOfMailCode PM,
    # same services; the entity is written numerically as v3 writes its services
    # [unverified]; serviceTypeCode unknown -> null.
    (Service.priority, False): MailClass(
        "Priority Mail<SUP>&#174;</SUP>", None, "PM", (TRACKING_SERVICE, INSURANCE_SERVICE)
    ),
    # [unverified] product name per NOTES §3; entity and services modelled on Priority Mail.
    (Service.express, False): MailClass(
        "Priority Mail Express<SUP>&#174;</SUP>", None, None, (TRACKING_SERVICE, INSURANCE_SERVICE)
    ),
    # [obs: USPS-FIX] "Parcel Select", serviceTypeCode 612, tracking only: the economy
    # (bulk ground) product.
    (Service.economy, False): MailClass("Parcel Select", "612", None, (TRACKING_SERVICE,)),
    # International outbound [unverified]: names from the spec's mailClass enum
    # (PRIORITY_MAIL_EXPRESS_INTERNATIONAL, PRIORITY_MAIL_INTERNATIONAL_PARCELS,
    # FIRST-CLASS_PACKAGE_INTERNATIONAL_SERVICE) written as live names with entities.
    (Service.express, True): MailClass(
        "Priority Mail Express International<SUP>&#153;</SUP>", None, None, (TRACKING_SERVICE,)
    ),
    (Service.priority, True): MailClass(
        "Priority Mail International<SUP>&#174;</SUP>", None, None, (TRACKING_SERVICE,)
    ),
    (Service.ground, True): MailClass(
        "First-Class Package International Service<SUP>&#174;</SUP>",
        None,
        None,
        (TRACKING_SERVICE,),
    ),
    (Service.economy, True): MailClass(
        "First-Class Package International Service<SUP>&#174;</SUP>",
        None,
        None,
        (TRACKING_SERVICE,),
    ),
}

MAIL_TYPE_V3 = {False: "DM", True: "IM"}
"""[obs] ``DM`` live for domestic; ``IM`` is the code the spec's mailType text names for
international mail [spec: TrackingDetails.mailType description]."""

MAIL_TYPE_V3R2 = {False: "Domestic", True: "International Outbound"}
"""[unverified] words from the 3.2 spec's own mailType description ("e.g. Domestic,
International Inbound, Military Outbound")."""

# --------------------------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------------------------

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def long_date(d: datetime | date) -> str:
    """``November 23, 2024`` [obs: statusSummary]."""
    return f"{_MONTHS[d.month - 1]} {d.day}, {d.year}"


def clock_time(d: datetime) -> str:
    """``1:10 pm`` [obs: statusSummary]."""
    return f"{d.hour % 12 or 12}:{d.minute:02d} {'am' if d.hour < 12 else 'pm'}"


def _offset_minutes(local: datetime) -> int:
    delta = local.utcoffset()
    return int(delta.total_seconds()) // 60 if delta is not None else 0


def gmt_offset_v3(local: datetime) -> str:
    """``-06:00`` [obs: NOTES §3.4]."""
    m = _offset_minutes(local)
    sign = "-" if m < 0 else "+"
    return f"{sign}{abs(m) // 60:02d}:{abs(m) % 60:02d}"


def gmt_offset_v3r2(local: datetime) -> str:
    """``-7:00`` [spec: TrackingEvent.GMTOffset example]."""
    m = _offset_minutes(local)
    sign = "-" if m < 0 else "+"
    return f"{sign}{abs(m) // 60}:{abs(m) % 60:02d}"


def gmt_timestamp(at: datetime) -> str:
    """``2024-11-23T19:10:09Z`` [obs]."""
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def local_timestamp_v3(local: datetime) -> str:
    """``2024-11-23T13:10:00``: local, no offset, seconds zeroed as every live scan shows."""
    return local.strftime("%Y-%m-%dT%H:%M:00")


def _bool(value: bool) -> str:
    # [obs: NOTES §3.4] Tracking 3.0 prints booleans as strings.
    return "true" if value else "false"


@dataclass(frozen=True, slots=True)
class Spot:
    """A scan's place as USPS prints it (None = explicit null / omitted)."""

    city: str | None
    state: str | None
    zip: str | None
    country: str | None

    def text(self) -> str:
        """The place inside a status sentence: ``MILWAUKEE, WI 53207`` or a facility name."""
        if self.city is None:
            return ""
        if self.state and self.zip:
            return f"{self.city}, {self.state} {self.zip}"
        if self.country:
            return f"{self.city}, {self.country}"
        return self.city


_NOWHERE = Spot(None, None, None, None)


def spot_of(shipment: Shipment, event: Event) -> Spot:
    """Where USPS says a scan happened [obs: KAR-USPS, USPS-FIX].

    Post Office scans print city, state and ZIP; network facilities print
    ``<CITY> <ST> DISTRIBUTION CENTER`` with null state and ZIP; "In Transit to Next
    Facility" prints no place at all. Foreign places print the country's name [unverified].
    """
    if event.kind is EventKind.in_transit:
        return _NOWHERE
    place = event.place
    city = place.city.upper()
    if place.country != "US":
        return Spot(city, None, None, place.country_name.upper())
    if role_of(shipment, place) is Role.network and place.state:
        return Spot(f"{city} {place.state} DISTRIBUTION CENTER", None, None, None)
    return Spot(city, place.state, place.postal_code or None, None)


def latest_index(visible: tuple[Event, ...]) -> int:
    """Where the current (latest) event is: the last one, unless quirks have put the list
    out of order (ties go to the later position, so a clean timeline's last wins)."""
    return max(range(len(visible)), key=lambda i: (visible[i].at, i))


def _summary(scan: Scan, event: Event, spot: Spot) -> str:
    local = event.local
    return scan.summary.format(time=clock_time(local), date=long_date(local), where=spot.text())


def _expected_delivery(shipment: Shipment, visible: tuple[Event, ...]) -> datetime | None:
    """The promised delivery in the recipient's zone, while one is still meaningful."""
    expected = shipment.expected_delivery
    if expected is None or len(visible) < 2:
        return None
    latest = visible[latest_index(visible)]
    if latest.kind in _TERMINAL_KINDS or latest.reason in _TERMINAL_REASONS:
        return None
    return shipment.recipient.place.localize(expected)


def _mail_class(shipment: Shipment) -> MailClass:
    return MAIL_CLASSES[(shipment.service, shipment.international)]


def _mail_piece_id(shipment: Shipment) -> str:
    # [obs] uniqueMailPieceID is a 9-digit number.
    return str(seed_int("usps-mailpiece", shipment.number) % 900_000_000 + 100_000_000)


def _us_or_none(place: Place, value: str | None) -> str | None:
    return value if place.country == "US" and value else None


# --------------------------------------------------------------------------------------------
# Renderers: pure functions of (shipment, visible count)
# --------------------------------------------------------------------------------------------


def render_detail(shipment: Shipment, count: int) -> dict[str, Any]:
    """The Tracking 3.0 ``expand=DETAIL`` body, as production writes it (module docstring)."""
    visible = shipment.events[:count]
    newest = latest_index(visible)
    latest_scan = scan_for(shipment, newest)
    latest = visible[newest]
    mail = _mail_class(shipment)
    origin, dest = shipment.shipper.place, shipment.recipient.place
    events: list[dict[str, Any]] = []
    for i in range(count - 1, -1, -1):
        event = visible[i]
        scan = scan_for(shipment, i)
        spot = spot_of(shipment, event)
        local = event.local
        item: dict[str, Any] = {
            "eventType": event.description or scan.event_type,
            "eventTimestamp": local_timestamp_v3(local),
        }
        if event.kind is not EventKind.label_created:
            item["GMTTimestamp"] = gmt_timestamp(event.at)
            item["GMTOffset"] = gmt_offset_v3(local)
        delivered = event.kind is EventKind.delivered
        item.update(
            {
                "eventCountry": spot.country,
                "eventCity": spot.city,
                "eventState": spot.state,
                "eventZIP": spot.zip,
                "firm": shipment.recipient.company if delivered else None,
                "name": shipment.signer.upper() if delivered else None,
                "authorizedAgent": _bool(False),
                "eventCode": scan.code,
                "additionalProp": None,
            }
        )
        events.append(item)
    body: dict[str, Any] = {
        "destinationCity": dest.city.upper(),
        "destinationState": _us_or_none(dest, dest.state),
        "destinationZIP": _us_or_none(dest, dest.postal_code),
    }
    if shipment.international:
        body["destinationCountryCode"] = dest.country
    body["emailEnabled"] = _bool(True)
    expected = _expected_delivery(shipment, visible)
    if expected is not None:
        body["expectedDeliveryTimeStamp"] = expected.strftime("%Y-%m-%dT00:00:00")
    body.update(
        {
            "kahalaIndicator": _bool(False),
            "mailClass": mail.name,
            "mailType": MAIL_TYPE_V3[shipment.international],
            "originCity": origin.city.upper(),
            "originState": _us_or_none(origin, origin.state),
            "originZIP": _us_or_none(origin, origin.postal_code),
            "proofOfDeliveryEnabled": _bool(False),
            "restoreEnabled": _bool(False),
            "RRAMEnabled": _bool(False),
            "RREEnabled": _bool(False),
            "services": list(mail.services),
            "serviceTypeCode": mail.service_type_code,
            "status": latest.description or latest_scan.event_type,
            "statusCategory": latest_scan.category,
            "statusSummary": _summary(latest_scan, latest, spot_of(shipment, latest)),
            "tableCode": "T",
            "uniqueMailPieceID": _mail_piece_id(shipment),
            "mailPieceIntakeDate": shipment.events[0].local.strftime("%Y-%m-%d %H:%M:%S.000000"),
            "trackingEvents": events,
            "trackingNumber": shipment.number,
        }
    )
    return body


def _summary_line(scan: Scan, event: Event, spot: Spot) -> str:
    # [spec: examples.TrackingSummary] "Out for Delivery, 06/17/2022, 6:10 am, FAIRFAX, VA 22032"
    local = event.local
    parts = [
        scan.event_type if event.description is None else event.description,
        local.strftime("%m/%d/%Y"),
        clock_time(local),
    ]
    where = spot.text()
    if where:
        parts.append(where)
    return ", ".join(parts)


def render_summary(shipment: Shipment, count: int) -> dict[str, Any]:
    """The Tracking 3.0 ``expand=SUMMARY`` body, per the spec's ``TrackingSummary``."""
    visible = shipment.events[:count]
    lines: list[str] = []
    for i in range(count - 1, -1, -1):
        scan = scan_for(shipment, i)
        spot = spot_of(shipment, visible[i])
        if i == count - 1:
            lines.append(_summary(scan, visible[i], spot))
        else:
            lines.append(_summary_line(scan, visible[i], spot))
    body: dict[str, Any] = {"trackingNumber": shipment.number}
    expected = _expected_delivery(shipment, visible)
    if expected is not None:
        body["expectedDeliveryDate"] = expected.date().isoformat()
    body["eventSummaries"] = lines
    return body


def _put(target: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        target[key] = value


def render_v3r2(shipment: Shipment, count: int, multi_status: bool) -> dict[str, Any]:
    """One Tracking 3.2 ``TrackingDetail`` (with ``statusCode`` "200" inside a 207 answer)."""
    visible = shipment.events[:count]
    newest = latest_index(visible)
    latest_scan = scan_for(shipment, newest)
    latest = visible[newest]
    mail = _mail_class(shipment)
    origin, dest = shipment.shipper.place, shipment.recipient.place
    body: dict[str, Any] = {"statusCode": "200"} if multi_status else {}
    body["trackingNumber"] = shipment.number
    body["destinationCity"] = dest.city.upper()
    body["destinationCountry"] = dest.country
    _put(body, "destinationState", _us_or_none(dest, dest.state))
    _put(body, "destinationZIPCode", _us_or_none(dest, dest.postal_code))
    body["kahalaIndicator"] = False
    body["mailClass"] = mail.name
    _put(body, "mailClassCode", mail.class_code)
    body["mailingDate"] = shipment.events[0].local.date().isoformat()
    body["mailType"] = MAIL_TYPE_V3R2[shipment.international]
    body["originCity"] = origin.city.upper()
    body["originCountry"] = origin.country
    _put(body, "originState", _us_or_none(origin, origin.state))
    _put(body, "originZIPCode", _us_or_none(origin, origin.postal_code))
    body["services"] = list(mail.services)
    _put(body, "serviceTypeCode", mail.service_type_code)
    body["status"] = latest.description or latest_scan.event_type
    body["statusCategory"] = latest_scan.category
    body["statusSummary"] = _summary(latest_scan, latest, spot_of(shipment, latest))
    body["uniqueTrackingID"] = _mail_piece_id(shipment)
    expected = _expected_delivery(shipment, visible)
    if expected is not None:
        body["deliveryDateExpectation"] = {"expectedDeliveryDate": expected.date().isoformat()}
    body["servicesEligibility"] = {
        "proofOfDeliveryEnabled": False,
        "RREEnabled": False,
        "trackingProofOfDeliveryEnabled": False,
    }
    events: list[dict[str, Any]] = []
    for i in range(count - 1, -1, -1):
        event = visible[i]
        scan = scan_for(shipment, i)
        spot = spot_of(shipment, event)
        local = event.local
        item: dict[str, Any] = {}
        _put(item, "eventCity", spot.city)
        _put(item, "eventCode", scan.code)
        _put(item, "eventCountry", spot.country)
        _put(item, "eventState", spot.state)
        item["eventTimestamp"] = local.isoformat(timespec="seconds")
        item["eventType"] = event.description or scan.event_type
        _put(item, "eventZIPCode", spot.zip)
        if event.kind is EventKind.delivered:
            _put(item, "firm", shipment.recipient.company)
            item["recipientName"] = shipment.signer.upper()
        item["GMTTimestamp"] = gmt_timestamp(event.at)
        item["GMTOffset"] = gmt_offset_v3r2(local)
        events.append(item)
    body["trackingEvents"] = events
    return body


# --------------------------------------------------------------------------------------------
# Error envelopes
# --------------------------------------------------------------------------------------------

NOT_YET_AVAILABLE_V3 = (
    "12: A status update is not yet available on your package. It will be available when "
    "the shipper provides an update or the package is given to USPS. Check back soon. Sign "
    "up for Informed Delivery<SUP>reg;</SUP> to receive notifications for packages addressed "
    "to you. - "
)
"""[obs: USPS-FIX] subcode 150001, with its legacy ``12: `` prefix, ``reg;`` and trailing ``- ``."""

MAY_BE_INCORRECT_V3 = (
    "7: The tracking number may be incorrect or the status update is not yet available. "
    "Please verify your tracking number and try again later. - "
)
"""Subcode 150002 [NOTES §3.6 (Error Inventory), full sentence as Web Tools printed it]."""

NOT_YET_AVAILABLE_V3R2 = (
    "A status update is not yet available for your package. It will be available when the "
    "shipper provides an update or the package is given to USPS. Check back soon. Sign up "
    "for Informed Delivery<SUP>&reg;</SUP> to receive notifications for packages addressed "
    "to you."
)
"""[obs: USPS-ISS #82] the 3.2 404 detail, subcode 150006."""

UNAUTHORIZED_MESSAGE = "The client application identifier is invalid."
"""[obs: USPS-ISS #56] the 401 for a token without the tracking scope."""

BAD_REQUEST_MESSAGE = "THERE IS AN ERROR IN THE RECEIVED REQUEST"
"""The 400 text of the Error Inventory's "General Errors" sheet [NOTES §3.6]."""


def envelope(api: str, status: int, message: str, errors: list[dict[str, Any]]) -> dict[str, Any]:
    """The tracking APIs' error envelope [spec: ErrorMessage; obs: NOTES §3.6]."""
    return {"apiVersion": api, "error": {"code": str(status), "message": message, "errors": errors}}


def _subcode_body(api: str, status: int, code: str, text: str) -> dict[str, Any]:
    # [obs: USPS-FIX] the message repeated as the title, an empty detail, no status.
    return envelope(api, status, text, [{"title": text, "detail": "", "code": code}])


def not_found_v3(subcode: str, spec_form: bool) -> bytes:
    """The 3.0 answer for a number USPS has nothing on (see the module docstring)."""
    return _NOT_FOUND_V3[(subcode, spec_form)]


_NOT_FOUND_TEXTS = {"150001": NOT_YET_AVAILABLE_V3, "150002": MAY_BE_INCORRECT_V3}
_NOT_FOUND_V3: dict[tuple[str, bool], bytes] = {
    (code, False): dumps(_subcode_body(API_V3, 400, code, text))
    for code, text in _NOT_FOUND_TEXTS.items()
}


def _spec_not_found_body(code: str) -> dict[str, Any]:
    # [spec] 404 "Resource Not Found" with the ErrorMessage schema; the subcode and its
    # text are kept so a client can still tell the two cases apart [unverified].
    text = _NOT_FOUND_TEXTS[code]
    return envelope(
        API_V3,
        404,
        "Resource Not Found",
        [{"status": "404", "code": code, "title": text, "detail": ""}],
    )


_NOT_FOUND_V3.update({(code, True): dumps(_spec_not_found_body(code)) for code in _NOT_FOUND_TEXTS})


def _batch_not_found_error() -> dict[str, Any]:
    # [obs: USPS-ISS #82] key order and the empty title as live.
    return {"title": "", "detail": NOT_YET_AVAILABLE_V3R2, "status": "404", "code": "150006"}


def batch_not_found_item(number: str) -> dict[str, Any]:
    """A 207 item for a number with no tracking [spec: FailureResponse; NOTES §3.4]."""
    return {
        "statusCode": "404",
        "trackingNumber": number,
        **envelope(API_V3R2, 404, "", [_batch_not_found_error()]),
    }


_UNAUTHORIZED = {
    api: dumps(envelope(api, 401, UNAUTHORIZED_MESSAGE, [])) for api in (API_V3, API_V3R2)
}


def unauthorized(api: str) -> Response:
    """The 401 every token problem gets [obs: USPS-ISS #56; spec: WWW-Authenticate]."""
    return raw(_UNAUTHORIZED[api], 401, WWW_AUTHENTICATE)


def problem(
    title: str, detail: str, parameter: str | None = None, example: str | None = None
) -> dict[str, Any]:
    """One ``errors`` entry of a request-validation 400 [spec: ErrorMessage.errors items]."""
    item: dict[str, Any] = {"status": "400", "title": title, "detail": detail}
    if parameter is not None:
        source = {"parameter": parameter}
        if example is not None:
            source["example"] = example
        item["source"] = source
    return item


def bad_request(api: str, problems: list[dict[str, Any]]) -> Response:
    """A 400 envelope listing every problem found in the request [unverified wording]."""
    return respond(envelope(api, 400, BAD_REQUEST_MESSAGE, problems), 400)


# --------------------------------------------------------------------------------------------
# Request validation helpers
# --------------------------------------------------------------------------------------------

_ZIP5 = re.compile(r"\d{5}", re.ASCII).fullmatch
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII).fullmatch
_EXPANDS = frozenset({"SUMMARY", "DETAIL"})
BATCH_LIMIT = 35
"""[spec: TrackingRequest maxItems 35; NOTES §3.3]."""
_BATCH_FIELDS = frozenset({"trackingNumber", "mailingDate", "destinationZIPCode"})
_NUMBER_EXAMPLE = "9400100000000000000006"  # a valid IMpb-22 (NOTES §3.8 check digit)


def _is_date(value: str) -> bool:
    if not _ISO_DATE(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _optional_field_problems(values: Mapping[str, Any], prefix: str = "") -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    zip_code = values.get("destinationZIPCode")
    if zip_code is not None and not (isinstance(zip_code, str) and _ZIP5(zip_code)):
        found.append(
            problem(
                "Invalid destinationZIPCode",
                "destinationZIPCode must be a 5-digit ZIP Code.",
                prefix + "destinationZIPCode",
                "20500",
            )
        )
    mailing = values.get("mailingDate")
    if mailing is not None and not (isinstance(mailing, str) and _is_date(mailing)):
        found.append(
            problem(
                "Invalid mailingDate",
                "mailingDate must be a date in the form YYYY-MM-DD.",
                prefix + "mailingDate",
                "2026-01-01",
            )
        )
    return found


_COMMON_QUERIES: dict[bytes, str] = {
    b"": "SUMMARY",
    **{f"expand={m}".encode(): m.upper() for m in ("DETAIL", "SUMMARY", "detail", "summary")},
}
"""Query strings most clients send, mapped to their mode without parsing (hot path)."""


def _parse_query(query: Mapping[str, str]) -> tuple[str, list[dict[str, Any]]]:
    """The ``expand`` mode of a 3.0 query and the problems that make it a 400."""
    expand = query.get("expand")
    # The USPS README calls it with expand=summary / expand=detail: case-insensitive.
    mode = "SUMMARY" if expand is None else expand.upper()
    problems: list[dict[str, Any]] = []
    if mode not in _EXPANDS:
        problems.append(
            problem(
                "Invalid expand",
                f"expand must be SUMMARY or DETAIL, not {expand!r}.",
                "expand",
                "DETAIL",
            )
        )
    return mode, problems + _optional_field_problems(query)


async def _json(request: Request) -> tuple[bool, Any]:
    """``common.json_body``, also refusing bodies nested too deeply to parse."""
    try:
        return await json_body(request)
    except RecursionError:
        return False, None


@lru_cache(maxsize=256)
def _grants_tracking(scope: str) -> bool:
    """Whether a token's space-separated scope includes ``tracking`` (cached: hot path)."""
    return TRACKING_SCOPE in scope.split()


def _is_json_type(request: Request) -> bool:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return ctype == "application/json" or ctype.endswith("+json")


# --------------------------------------------------------------------------------------------
# Routes
# --------------------------------------------------------------------------------------------


def routes(sim: Simulation) -> list[BaseRoute]:
    """The USPS endpoints at their production paths."""
    spec_not_found = sim.settings.not_found == "spec"

    def authorize(request: Request, api: str) -> tuple[float, str, Response | None, float]:
        """(tenant's now, tenant, None, token expiry) for a usable token, else (…, the 401
        to send, …)."""
        token = bearer(header(request.scope, b"authorization"))
        try:
            claims = sim.tokens.decode(token, NAME)
        except TokenError:
            return 0.0, "", unauthorized(api), 0.0
        if tenant_mismatch(request, claims):
            return 0.0, "", unauthorized(api), 0.0
        tenant = claims.tenant
        now = sim.clock.now(tenant)
        if now >= claims.expires_at or not _grants_tracking(claims.scope):
            return now, tenant, unauthorized(api), 0.0
        return now, tenant, None, claims.expires_at

    async def token_endpoint(request: Request) -> Response:
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        fields: Mapping[str, Any]
        if ctype == "application/x-www-form-urlencoded":
            form = await form_body(request)
            if form is None:
                return _oauth_error(
                    400,
                    "invalid_request",
                    "The request body is not valid application/x-www-form-urlencoded.",
                )
            fields = form
        elif ctype == "application/json" or ctype.endswith("+json"):
            ok, data = await _json(request)
            if not ok or not isinstance(data, dict):
                return _oauth_error(
                    400, "invalid_request", "The request body must be a JSON object."
                )
            fields = data
        else:
            return _oauth_error(
                400,
                "invalid_request",
                "Send the token request as application/x-www-form-urlencoded or application/json.",
            )
        for key in ("grant_type", "client_id", "client_secret", "scope"):
            if key in fields and not isinstance(fields[key], str):
                return _oauth_error(
                    400, "invalid_request", f"The parameter {key} must be a string."
                )
        grant = fields.get("grant_type")
        if not grant:
            return _oauth_error(400, "invalid_request", "The parameter grant_type is missing.")
        if grant in _UNISSUED_GRANTS:
            return _oauth_error(
                400,
                "invalid_grant",
                f"The {'refresh token' if grant == 'refresh_token' else 'authorization code'} "
                "is missing, invalid, expired or revoked.",
            )
        if grant not in _SUPPORTED_GRANTS:
            return _oauth_error(
                400, "unsupported_grant_type", f"The grant type {grant} is not supported."
            )
        client_id, secret = fields.get("client_id"), fields.get("client_secret")
        if not client_id:
            # RFC 6749 §2.3.1 also allows the credentials as HTTP Basic.
            basic = basic_credentials(request.headers.get("authorization"))
            if basic is not None:
                client_id, secret = basic
        if not client_id or secret is None or not sim.accepts(NAME, client_id, secret):
            return _bad_client()
        requested = fields.get("scope")
        if requested is None:
            scope = " ".join(APP_SCOPES)
        else:
            # [obs: USPS-ISS #28] a requested scope the app does not hold is dropped, not
            # refused, down to an empty scope.
            scope = " ".join(s for s in requested.split() if s in _APP_SCOPE_SET)
        tenant = tenant_for(request, client_id)
        now = sim.clock.now(tenant)
        access_token, _ = sim.tokens.issue(
            carrier=NAME,
            client_id=client_id,
            tenant=tenant,
            now=now,
            lifetime=TOKEN_LIFETIME,
            scope=scope,
        )
        return respond(
            {
                "access_token": access_token,
                "token_type": "Bearer",
                "issued_at": int(now * 1000),
                "expires_in": TOKEN_LIFETIME,
                "status": "approved",
                "scope": scope,
                "issuer": ISSUER,
                "client_id": client_id,
                "application_name": APPLICATION_NAME,
                "api_products": API_PRODUCTS,
                "public_key": PUBLIC_KEY,
            }
        )

    async def track(request: Request) -> Response:
        now, tenant, refused, expires = authorize(request, API_V3)
        if refused is not None:
            return refused
        mode = _COMMON_QUERIES.get(request.scope["query_string"])
        if mode is None:
            mode, problems = _parse_query(request.query_params)
            if problems:
                return bad_request(API_V3, problems)
        number = numbers.normalize(request.path_params["trackingNumber"])
        if not numbers.is_plausible(NAME, number):
            return raw(not_found_v3("150002", False), 400)
        shipment = sim.lookup(NAME, number, tenant)
        count = 0 if shipment is None else shipment.visible_count(now)
        if shipment is None or count == 0:
            subcode = "150001" if numbers.is_valid(NAME, number) or shipment else "150002"
            return raw(not_found_v3(subcode, spec_not_found), 404 if spec_not_found else 400)
        decision = faulting.data_faults(request)
        if decision.lies or decision.quirks:
            return faulted_v3(shipment, count, mode, decision)
        render: Callable[[Shipment, int], dict[str, Any]] = (
            render_detail if mode == "DETAIL" else render_summary
        )
        key = (shipment.key, count, "v3", mode)
        body = sim.rendered(key, lambda: dumps(render(shipment, count)))
        since, until = shipment.window(count)
        # This answer holds for this token and URL while the tenant's clock stays in
        # [since, until) and the token is valid: it may be replayed (simulator/replay.py).
        request.scope[replay.MARK] = (tenant, since, min(until, expires), key)
        return raw(body)

    async def track_batch(request: Request) -> Response:
        now, tenant, refused, _ = authorize(request, API_V3R2)
        if refused is not None:
            return refused
        if not _is_json_type(request):
            return bad_request(
                API_V3R2,
                [
                    problem(
                        "Unsupported content type",
                        "The request body must be application/json.",
                    )
                ],
            )
        ok, data = await _json(request)
        if not ok:
            return bad_request(
                API_V3R2, [problem("Malformed JSON", "The request body is not valid JSON.")]
            )
        items, problems = _batch_items(data)
        if problems:
            return bad_request(API_V3R2, problems)
        found: list[tuple[str, Shipment | None, int]] = []
        for number in items:
            shipment = sim.lookup(NAME, number, tenant)
            count = 0 if shipment is None else shipment.visible_count(now)
            found.append((number, shipment if count else None, count))
        hits = sum(1 for _, s, _ in found if s is not None)
        if hits == 0:
            return respond(
                envelope(API_V3R2, 404, "", [_batch_not_found_error() for _ in found]), 404
            )
        decision = faulting.data_faults(request)
        if decision.lies or decision.quirks:
            return faulted_batch(found, decision)
        multi = hits < len(found)
        parts = [
            dumps(batch_not_found_item(number))
            if shipment is None
            else batch_item(shipment, count, multi)
            for number, shipment, count in found
        ]
        return raw(b"[" + b",".join(parts) + b"]", 207 if multi else 200)

    def batch_item(shipment: Shipment, count: int, multi: bool) -> bytes:
        return sim.rendered(
            (shipment.key, count, "v3r2", multi),
            lambda: dumps(render_v3r2(shipment, count, multi)),
        )

    # Data faults (lies and quirks): off the clean path, and cached under keys that name
    # them, so clean and faulted bodies never mix.

    def faulted_v3(shipment: Shipment, count: int, mode: str, decision: Decision) -> Response:
        lies, wanted = decision.lies, decision.quirks
        if lies & _NOT_FOUND_LIES:
            # One number: its error, as production words it, inside a 200 [unverified].
            return raw(not_found_v3("150001", spec_not_found))
        shown, shown_count = _faulted_timeline(shipment, count, decision)
        detailed = mode == "DETAIL"

        def render() -> bytes:
            if detailed:
                return dumps(distort_detail(render_detail(shown, shown_count), shown, wanted))
            return dumps(distort_summary(render_summary(shown, shown_count), shown, wanted))

        return raw(sim.rendered((shown.key, shown_count, "v3", mode, wanted, lies), render))

    def faulted_batch(
        found: list[tuple[str, Shipment | None, int]], decision: Decision
    ) -> Response:
        # Each fired lie or quirk reaches only the numbers it was for (faulting.fault_targets):
        # one matched to a number leaves that number's batch neighbours alone.
        scenario_of = {n: s.scenario.name for n, s, _ in found if s is not None}
        applies = faulting.fault_targets(sim, decision, scenario_of)
        mine = [
            replace(
                decision,
                lies=frozenset(m for m in decision.lies if applies(m, number)),
                quirks=frozenset(m for m in decision.quirks if applies(m, number)),
            )
            for number, _, _ in found
        ]
        hits = [i for i, (_, shipment, _) in enumerate(found) if shipment is not None]
        # ok_with_error: each targeted found number as a 404 item. mixed_results: every
        # second targeted found number so (one targeted number: as ok_with_error).
        hidden = {i for i in hits if "ok_with_error" in mine[i].lies}
        mixed = [i for i in hits if "mixed_results" in mine[i].lies and i not in hidden]
        hidden.update(mixed if len(mixed) < 2 else mixed[1::2])
        if len(hidden) == len(hits):
            status = 200  # every found number a 404 item, and still HTTP 200 [unverified]
        else:
            status = 207 if len(hits) - len(hidden) < len(found) else 200  # NOTES §3.4
        multi = status == 207
        parts = [
            dumps(batch_not_found_item(number))
            if shipment is None or i in hidden
            else faulted_item(shipment, count, multi, mine[i])
            if mine[i].lies or mine[i].quirks
            else batch_item(shipment, count, multi)
            for i, (number, shipment, count) in enumerate(found)
        ]
        return raw(b"[" + b",".join(parts) + b"]", status)

    def faulted_item(shipment: Shipment, count: int, multi: bool, decision: Decision) -> bytes:
        shown, shown_count = _faulted_timeline(shipment, count, decision)
        wanted = decision.quirks
        return sim.rendered(
            (shown.key, shown_count, "v3r2", multi, wanted, decision.lies),
            lambda: dumps(distort_v3r2(render_v3r2(shown, shown_count, multi), shown, wanted)),
        )

    return [
        Route(TOKEN_PATH, token_endpoint, methods=["POST"]),
        Route(TRACK_PATH, track, methods=["GET"]),
        Route(BATCH_PATH, track_batch, methods=["POST"]),
    ]


def _batch_items(data: Any) -> tuple[list[str], list[dict[str, Any]]]:
    """The normalized numbers of a 3.2 request body, or the problems that make it a 400.

    The body must satisfy the spec's ``TrackingRequest``: an array of 1–35 objects with a
    ``trackingNumber`` (alphanumeric, 4–34) and no properties besides ``mailingDate`` and
    ``destinationZIPCode`` (``additionalProperties: false``).
    """
    if not isinstance(data, list) or not 1 <= len(data) <= BATCH_LIMIT:
        return [], [
            problem(
                "Invalid request body",
                f"The request body must be a JSON array of 1 to {BATCH_LIMIT} tracking requests.",
                "body",
                f'[{{"trackingNumber":"{_NUMBER_EXAMPLE}"}}]',
            )
        ]
    numbers_: list[str] = []
    found: list[dict[str, Any]] = []
    for i, item in enumerate(data):
        at = f"[{i}]."
        if not isinstance(item, dict):
            found.append(
                problem(
                    "Invalid tracking request",
                    f"Item {i} must be an object with a trackingNumber.",
                    f"[{i}]",
                    f'{{"trackingNumber":"{_NUMBER_EXAMPLE}"}}',
                )
            )
            continue
        for extra in sorted(set(item) - _BATCH_FIELDS):
            found.append(
                problem(
                    "Unknown property", f"Item {i} has an unknown property {extra!r}.", at + extra
                )
            )
        number = item.get("trackingNumber")
        if not isinstance(number, str) or not numbers.is_plausible(NAME, number):
            found.append(
                problem(
                    "Invalid trackingNumber",
                    "trackingNumber is required and must be 4 to 34 alphanumeric characters.",
                    at + "trackingNumber",
                    _NUMBER_EXAMPLE,
                )
            )
        else:
            numbers_.append(numbers.normalize(number))
        found += _optional_field_problems(item, at)
    return numbers_, found


# --------------------------------------------------------------------------------------------
# Data faults: USPS-format quirks and lies (simulator.faulting.data_faults)
# --------------------------------------------------------------------------------------------

_NOT_FOUND_LIES = frozenset({"ok_with_error", "mixed_results"})
"""Lies that answer found numbers with USPS's not-found form."""

UNKNOWN_EVENT_CODE = "ZZ"
"""``unknown_codes``: an ``eventCode`` on no list of NOTES §3.5 (Pub 199 scan codes)
[unverified: any code USPS adds later looks like this to a client]."""

WRONG_OFFSET_V3, WRONG_OFFSET_V3_ALT = "+00:00", "-05:00"
WRONG_OFFSET_V3R2, WRONG_OFFSET_V3R2_ALT = "+0:00", "-5:00"
"""``wrong_offsets``: the offset every scan claims, whatever its place: UTC, as if the
local wall time were GMT (NOTES §6 item 5: USPS's GMT fields already mix local and UTC
values); scans really at UTC get US Eastern instead [unverified: no source names the wrong
offset]. Each form is the one its API prints (``-06:00`` in 3.0, ``-7:00`` in 3.2)."""

PADDED_WIDTH = 34
"""``padded_number`` for numbers without a routing-code form: right-padded with spaces to
the longest number the API takes (34, NOTES §3.3), as a fixed-width field prints it
[unverified]."""

ROUTED_FORMATS = frozenset({"impb22", "impb26"})
"""IMpb numbers that take the ``420`` + ZIP5 routing prefix (30 / 34 digits, NOTES §3.8)."""

_PLACE_FIELDS_V3 = ("eventCountry", "eventCity", "eventState", "eventZIP", "firm", "name")
_PLACE_FIELDS_V3R2 = (
    "eventCity", "eventCountry", "eventState", "eventZIPCode", "firm", "recipientName",
)  # fmt: skip
_ZIP5 = re.compile(r"[0-9]{5}", re.ASCII).fullmatch


def other_number(number: str) -> str:
    """Another valid number of the same format, derived from ``number`` (``wrong_number``).

    The last serial digit is stepped and the check digit recomputed, so an IMpb stays an
    IMpb of the same mailer (its neighbour mail piece) and an S10 keeps its service and
    country. A number of no known format has its last character stepped.
    """
    fmt = numbers.format_of(NAME, number)
    digits = [i for i, c in enumerate(number) if c.isdigit()]
    if fmt is None or len(digits) < 2:
        return number[:-1] + _next_char(number[-1])
    serial, check = digits[-2], digits[-1]
    stepped = number[:serial] + _next_char(number[serial]) + number[serial + 1 :]
    for d in "0123456789":
        candidate = stepped[:check] + d + stepped[check + 1 :]
        if numbers.format_of(NAME, candidate) == fmt:
            return candidate
    return stepped  # unreachable for the formats of numbers.py: one check digit fits


def _next_char(c: str) -> str:
    if c.isdigit():
        return str((int(c) + 1) % 10)
    if "A" <= c <= "Z":
        return chr((ord(c) - ord("A") + 1) % 26 + ord("A"))
    return "0"


def relabelled(shipment: Shipment, number: str) -> Shipment:
    """The same parcel's timeline under another number (whose mail-piece id follows it)."""
    return Shipment(shipment.variant, shipment.carrier, number, shipment.t0)


def _faulted_timeline(shipment: Shipment, count: int, decision: Decision) -> tuple[Shipment, int]:
    if "wrong_number" in decision.lies:
        shipment = relabelled(shipment, other_number(shipment.number))
    return quirks.apply(shipment, count, decision.quirks)


def padded_number(shipment: Shipment, number: str) -> str:
    """``padded_number``: the number as its routing-code form when it has one, else padded.

    An IMpb-22/26 to a US ZIP becomes ``420`` + ZIP5 + IMpb, the 30/34-digit form a label's
    barcode carries (NOTES §3.8), so the answer no longer equals the number asked; other
    numbers (legacy 20, already routed, S10) are right-padded with spaces.
    """
    place = shipment.recipient.place
    zip5 = place.postal_code[:5] if place.country == "US" else ""
    if numbers.format_of(NAME, number) in ROUTED_FORMATS and _ZIP5(zip5):
        return "420" + zip5 + number
    return number.ljust(PADDED_WIDTH)


def _shown_number(shipment: Shipment, wanted: frozenset[str]) -> str:
    number = shipment.number
    if "lowercase_number" in wanted:
        # Only S10 numbers have letters; a digit has no lower case [unverified quirk form].
        number = number.lower()
    if "padded_number" in wanted:
        number = padded_number(shipment, number)
    return number


def _wrong(real: str, wrong: str, alternative: str) -> str:
    return wrong if real != wrong else alternative


def distort_detail(
    body: dict[str, Any], shipment: Shipment, wanted: frozenset[str]
) -> dict[str, Any]:
    """The 3.0 DETAIL quirks, in place (timeline quirks are already in the events).

    * missing_offsets: no scan has ``GMTTimestamp``/``GMTOffset``, as live pre-shipment and
      partner scans (NOTES §3.4); only the offset-less local ``eventTimestamp`` is left.
    * wrong_offsets: ``GMTOffset`` no longer matches the place (see ``WRONG_OFFSET_V3``);
      ``GMTTimestamp`` stays right, so the two disagree with ``eventTimestamp``.
    * unknown_codes: the newest scan's ``eventCode`` is ``UNKNOWN_EVENT_CODE``; its
      ``eventType`` and the status texts stay.
    * empty_events: found, with its status, and ``trackingEvents`` empty.
    * missing_optional_fields: every scan's place and signer are explicit nulls, as live
      partner scans (NOTES §6 item 11; 3.0 writes absent values as null, NOTES §3.4), and
      the expected delivery is gone. TrackingDetails requires no field [spec].
    * padded_number / lowercase_number: ``trackingNumber`` (see :func:`padded_number`).
    """
    events: list[dict[str, Any]] = body["trackingEvents"]
    if "empty_events" in wanted:
        events.clear()
    for event in events:
        if "missing_offsets" in wanted:
            event.pop("GMTTimestamp", None)
            event.pop("GMTOffset", None)
        if "wrong_offsets" in wanted and "GMTOffset" in event:
            event["GMTOffset"] = _wrong(event["GMTOffset"], WRONG_OFFSET_V3, WRONG_OFFSET_V3_ALT)
        if "missing_optional_fields" in wanted:
            event.update(dict.fromkeys(_PLACE_FIELDS_V3))
    if "unknown_codes" in wanted and events:
        events[0]["eventCode"] = UNKNOWN_EVENT_CODE
    if "missing_optional_fields" in wanted:
        body.pop("expectedDeliveryTimeStamp", None)
    body["trackingNumber"] = _shown_number(shipment, wanted)
    return body


def distort_summary(
    body: dict[str, Any], shipment: Shipment, wanted: frozenset[str]
) -> dict[str, Any]:
    """The 3.0 SUMMARY quirks, in place. SUMMARY has no codes, offsets or place fields, so
    those quirks leave it as it is; empty_events empties ``eventSummaries``,
    missing_optional_fields drops ``expectedDeliveryDate``, and the number quirks change
    ``trackingNumber``."""
    if "empty_events" in wanted:
        body["eventSummaries"] = []
    if "missing_optional_fields" in wanted:
        body.pop("expectedDeliveryDate", None)
    body["trackingNumber"] = _shown_number(shipment, wanted)
    return body


def distort_v3r2(
    item: dict[str, Any], shipment: Shipment, wanted: frozenset[str]
) -> dict[str, Any]:
    """The 3.2 quirks on one TrackingDetail, in place.

    * missing_offsets: ``eventTimestamp`` loses its offset (the 3.0 form) and the GMT fields
      go.
    * wrong_offsets: ``eventTimestamp`` keeps its local wall time under the wrong offset and
      ``GMTOffset`` says the same (see ``WRONG_OFFSET_V3R2``); ``GMTTimestamp`` stays right.
    * unknown_codes, empty_events: as in :func:`distort_detail`.
    * missing_optional_fields: scans without place or signer fields, and no
      ``deliveryDateExpectation`` or ``servicesEligibility`` objects (all optional [spec];
      3.2 omits absent values).
    * padded_number / lowercase_number: ``trackingNumber``.
    """
    events: list[dict[str, Any]] = item["trackingEvents"]
    if "empty_events" in wanted:
        events.clear()
    for event in events:
        stamp: str = event["eventTimestamp"]
        local, offset = stamp[:19], stamp[19:]
        if "missing_offsets" in wanted:
            event["eventTimestamp"] = local
            event.pop("GMTTimestamp", None)
            event.pop("GMTOffset", None)
        if "wrong_offsets" in wanted and offset:
            wrong = _wrong(offset, WRONG_OFFSET_V3, WRONG_OFFSET_V3_ALT)
            event["eventTimestamp"] = local + wrong
            event["GMTOffset"] = (
                WRONG_OFFSET_V3R2 if wrong == WRONG_OFFSET_V3 else WRONG_OFFSET_V3R2_ALT
            )
        if "missing_optional_fields" in wanted:
            for key in _PLACE_FIELDS_V3R2:
                event.pop(key, None)
    if "unknown_codes" in wanted and events:
        events[0]["eventCode"] = UNKNOWN_EVENT_CODE
    if "missing_optional_fields" in wanted:
        item.pop("deliveryDateExpectation", None)
        item.pop("servicesEligibility", None)
    item["trackingNumber"] = _shown_number(shipment, wanted)
    return item


# --------------------------------------------------------------------------------------------
# Fault hooks (simulator.faulting.CarrierFaults)
# --------------------------------------------------------------------------------------------

GENERAL_ERRORS: dict[int, str] = {
    400: BAD_REQUEST_MESSAGE,
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    429: "TOO_MANY_REQUESTS",
    500: "INTERNAL_SERVER_ERROR",
    502: "BAD_GATEWAY",  # [unverified] not on the Error Inventory's list
    503: "SERVICE_UNAVAILABLE",
    504: "GATEWAY_TIMEOUT",  # [unverified] not on the Error Inventory's list
}
"""The Error Inventory's "General Errors" text per status [NOTES §3.6]."""

QUOTA_MESSAGE = (
    "Exceeded quota limit. Please contact https://emailus.usps.com/s/web-tools-inquiry and a "
    "representative will assist."
)
QUOTA_TITLE = "Too Many Requests."
QUOTA_DETAIL = "Quota limit exceeded."
"""The live 429 [obs: NOTES §3.6, magento/magento2 #40394]. The source cuts the detail off
after "Quota l"; the rest of ``QUOTA_DETAIL`` is [unverified]."""

_TOKEN_FAULT_ERRORS = {401: "invalid_client", 403: "unauthorized_client"}
"""RFC 6749 ``error`` per status on the token endpoint; the others say ``invalid_request``,
the one code of the spec's enum that is not about credentials or grants (the spec declares
this shape for 429 and 503 too, but its enum has no code for them) [unverified]."""

_FAULT_TARGET: ContextVar[tuple[str, tuple[str, ...]]] = ContextVar(
    "usps_fault_target", default=(API_V3, ())
)
"""(API, numbers) of the request being faulted. ``error_response`` is not told which of the
two tracking APIs it answers for, yet each writes its own ``apiVersion``; ``describe``,
which the fault wrapper always awaits first in the same context, records it here."""


def token_fault_body(status: int) -> dict[str, Any]:
    """A fault's answer on the token endpoint: RFC 6749 shape [spec; obs: KAR-USPS]."""
    if status == 401:
        description = "Client authentication failed."  # [obs: KAR-USPS]
    elif status == 429:
        description = QUOTA_MESSAGE  # token calls count against the quota (NOTES §3.7)
    else:
        description = GENERAL_ERRORS[status]
    return {
        "error": _TOKEN_FAULT_ERRORS.get(status, "invalid_request"),
        "error_description": description,
        "error_uri": ERROR_URI,
    }


def track_fault_body(api: str, status: int, asked: tuple[str, ...] = ()) -> dict[str, Any]:
    """A fault's answer on a tracking API, in its error envelope [spec ErrorMessage]."""
    if status == 401:
        # Whether the token expired or the app was revoked, USPS says the same [obs:
        # USPS-ISS #56], and so does this module for every token problem.
        return envelope(api, 401, UNAUTHORIZED_MESSAGE, [])
    if status == 429:
        return envelope(api, 429, QUOTA_MESSAGE, [{"title": QUOTA_TITLE, "detail": QUOTA_DETAIL}])
    if status == 404:
        if api == API_V3R2:
            # [obs: USPS-ISS #82] one entry per number asked, as "nothing found" answers.
            return envelope(api, 404, "", [_batch_not_found_error() for _ in asked or ("",)])
        return _spec_not_found_body("150001")
    # [obs: USPS-FIX 150001 body; verbb/postie #167, a live 403] the message repeated as
    # the title with an empty detail; the texts are the General Errors ones [NOTES §3.6].
    text = GENERAL_ERRORS[status]
    return envelope(api, status, text, [{"title": text, "detail": ""}])


def error_response(
    status: int, endpoint: str, retry_after: int | None, reason: str | None
) -> Response:
    """A fault's HTTP error as USPS sends it (``reason`` does not change USPS's words)."""
    headers: dict[str, str] = {}
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    if status == 401:
        headers.update(WWW_AUTHENTICATE)
    if endpoint == "token":
        body = token_fault_body(status)
    else:
        api, asked = _FAULT_TARGET.get()
        body = track_fault_body(api, status, asked)
    return respond(body, status, headers)


async def _login_id(request: Request) -> str:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    fields: Any = {}
    if ctype == "application/x-www-form-urlencoded":
        fields = await form_body(request) or {}
    elif ctype == "application/json" or ctype.endswith("+json"):
        ok, data = await _json(request)
        fields = data if ok and isinstance(data, dict) else {}
    client_id = fields.get("client_id")
    if isinstance(client_id, str) and client_id:
        return client_id
    basic = basic_credentials(request.headers.get("authorization"))
    return basic[0] if basic is not None else ""


def replay_credential(scope: Scope) -> str | None:
    """What a clean 3.0 tracking answer depends on besides the URL and the clock: the bearer
    token (simulator/replay.py). None: never replay."""
    authorization = header(scope, b"authorization")
    # Interned: every kept answer of one client shares one copy of its (long) token.
    return None if authorization is None else sys.intern(authorization)


async def describe(request: Request) -> tuple[str, tuple[str, ...]]:
    """(tenant, tracking numbers) of a request, best effort, never raising."""
    try:
        path = request.url.path
        if path.endswith(TOKEN_PATH):
            return tenant_for(request, await _login_id(request)), ()
        api = API_V3R2 if path.endswith(BATCH_PATH) else API_V3
        _FAULT_TARGET.set((api, ()))
        sim: Simulation = request.app.state.sim
        tenant = bearer_tenant(request, sim.tokens, NAME, request.headers.get("authorization"))
        asked: tuple[str, ...] = ()
        if api == API_V3:
            asked = (numbers.normalize(request.path_params["trackingNumber"]),)
        else:
            ok, data = await _json(request)
            if ok and isinstance(data, list):
                asked = tuple(
                    numbers.normalize(item["trackingNumber"])
                    for item in data
                    if isinstance(item, dict) and isinstance(item.get("trackingNumber"), str)
                )
        _FAULT_TARGET.set((api, asked))
        return tenant, asked
    except Exception:  # a fault hook must never be the reason a request fails
        return "", ()
