"""FedEx Track API v1: ``POST /oauth/token`` and ``POST /track/v1/trackingnumbers``.

Sources: ``tests/contract/specs/NOTES.md`` §2 and the FedEx OpenAPI files
``fedex/track.json`` (FX-SPEC) and ``fedex/APIAuthorization-Resource.json`` (FX-AUTH). Each
choice carries its tag: [spec], [obs] (production or sandbox as captured in the sources NOTES
cites: FX-SBX sandbox captures, KAR-FX production-shaped fixtures, FX-CODES status table),
[unverified] (no source; a documented choice of this simulator).

Request flow (tracking): bearer token -> tenant clock -> expiry (401) -> body (400) -> one
``completeTrackResults`` entry per requested number, in request order. Unknown and
malformed numbers are answered *inside* a 200, per number, as production does (NOTES §2.6).
Each found entry is a pure function of (shipment, visible events, includeDetailedScans) and
comes from the render cache as bytes; only the envelope (transaction ids) is per request.

Choices the sources leave open:

* Token errors: FX-AUTH declares only 401/500/503, so every refused login (wrong content
  type, unreadable form, missing or unknown grant type, missing child credentials for the
  csp/parent-child grants, unknown id, wrong secret) gets the spec's 401
  ``NOT.AUTHORIZED.ERROR`` "The given client credentials were not valid…" [spec].
* Tracking 401s: the spec's only 401 example says "Access token expired…"; it is used for
  every unusable token (missing, garbage, tampered, another carrier's, another tenant's
  under a ``/t/{tenant}`` prefix, expired) [spec].
* Request-level 400s (NOTES §2.6): no usable tracking number (non-JSON content type,
  unparseable JSON, missing/empty ``trackingInfo``, entry without a string
  ``trackingNumber``, blank number) -> ``TRACKING.TRACKINGNUMBER.EMPTY`` [spec wording];
  more than 30 entries -> ``TRACKING.TRACKINGNUMBERS.LIMITEXCEEDED`` [obs: FedEx's Track
  error catalog as transcribed in integrators' code; not yet in NOTES].
* Invalid-format numbers (not 1–34 digits) are per-number ``TRACKING.TRACKINGNUMBER.INVALID``
  results in a 200, like NOTFOUND: clients read that code from ``trackResults[].error``
  [obs: integrators' parsers/tests]; message from the same catalog transcription [obs].
  Well-formed numbers with a wrong check digit are simply not found.
* Not found: production's ``carrierCode: ""`` in per-number errors is outside the spec's
  enum; ``Settings.not_found == "spec"`` leaves the empty value out so the body validates.
* ``includeDetailedScans`` other than JSON ``true`` leaves ``scanEvents`` out: the spec says
  the scans are included "if true" [spec]; a missing flag is not refused because NOTES has
  no error for it [unverified].
* ``transactionId`` is UUID-shaped like the spec example and production fixtures [spec,
  obs KAR-FX], made from a per-simulation counter so a fresh server answering the same
  requests gives the same bytes. The sandbox's forms (``APIF_SV_TRKC_TxID`` prefixes, the
  ``customertransactionId`` spelling, the ``VIRTUAL.RESPONSE`` alert; NOTES §2.9) are not
  imitated: this is production.

Data faults (``simulator.faulting.data_faults``; see "Data faults" below for each form and
its source). A FedEx request carries up to 30 numbers but the fault decision is made per
request, so each fired lie or quirk is applied only to the numbers its fault targets: a
scenario's fault to that scenario's numbers, a fault matching one number to that number, any
other fault to every number of the request. Faulted entries are cached under their own keys.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from simulator import faulting, numbers, quirks
from simulator.carriers.common import (
    bearer_tenant,
    dumps,
    form_body,
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

NAME = "fedex"

TOKEN_PATH = "/oauth/token"  # [spec: FX-AUTH]
TRACK_PATH = "/track/v1/trackingnumbers"  # [spec: FX-SPEC]

TOKEN_LIFETIME = 3599
"""Seconds; an integer in the body. Spec says one hour (example 3600), live says 3599 [obs]."""

TOKEN_SCOPE = "CXS-TP"  # [obs] live token body (NOTES §2.2); the spec example says "CXS"
TOKEN_TYPE = "bearer"  # [spec, obs] lower case

GRANT_TYPES = frozenset({"client_credentials", "csp_credentials", "client_pc_credentials"})
"""[spec: FullSchema.grant_type]."""

CHILD_GRANTS = frozenset({"csp_credentials", "client_pc_credentials"})
"""Grants that add the customer's ``child_Key`` and ``child_secret`` [spec examples]."""

MAX_NUMBERS = 30  # [spec] "Maximum limit is 30."

# --------------------------------------------------------------------------------------------
# Error codes and messages
# --------------------------------------------------------------------------------------------

Error = tuple[str, str]

BAD_CREDENTIALS: Error = (
    "NOT.AUTHORIZED.ERROR",
    "The given client credentials were not valid. Please modify your request and try again.",
)  # [spec: FX-AUTH 401 example]
TOKEN_EXPIRED: Error = (
    "NOT.AUTHORIZED.ERROR",
    "Access token expired. Please modify your request and try again.",
)  # [spec: FX-SPEC 401 example]
NUMBER_EMPTY: Error = ("TRACKING.TRACKINGNUMBER.EMPTY", "Please provide tracking number.")  # [spec]
NUMBER_INVALID: Error = (
    "TRACKING.TRACKINGNUMBER.INVALID",
    "Invalid tracking number. Please correct the tracking number format and try again.",
)  # code [obs: NOTES §2.6]; message [obs: FedEx error catalog via integrators' code]
NUMBER_NOT_FOUND: Error = (
    "TRACKING.TRACKINGNUMBER.NOTFOUND",
    "Tracking number cannot be found. Please correct the tracking number and try again.",
)  # [obs: FX-SBX] NOTES §2.6
LIMIT_EXCEEDED: Error = (
    "TRACKING.TRACKINGNUMBERS.LIMITEXCEEDED",
    "Please limit your inquiry to 30 tracking numbers or references.",
)  # [obs: FedEx error catalog via integrators' code; not in NOTES]

FORBIDDEN: Error = (
    "FORBIDDEN.ERROR",
    "We could not authorize your credentials. Please check your permissions and try again.",
)  # [spec: FX-SPEC 403 example]
RESOURCE_NOT_FOUND: Error = (
    "NOT.FOUND.ERROR",
    "The resource you requested is no longer available. Please modify your request and try again.",
)  # [spec: FX-SPEC 404 example]
TOO_MANY_REQUESTS: Error = (
    "TOO.MANY.REQUESTS.ERROR",
    "Too many requests – Daily transaction quota exceeded. Retry after 12:00AM GMT",
)  # message [obs: FX-RL, NOTES §2.7]; code [unverified: NOTES "TOO.MANY.REQUESTS.ERROR-style"]
INTERNAL_ERROR: Error = (
    "INTERNAL.SERVER.ERROR",
    "We encountered an unexpected error and are working to resolve the issue. We apologize "
    "for any inconvenience. Please check back at a later time.",
)  # [spec: FX-SPEC, FX-AUTH 500 example]
UNAVAILABLE: Error = (
    "SERVICE.UNAVAILABLE.ERROR",
    "The service is currently unavailable and we are working to resolve the issue. We "
    "apologize for any inconvenience. Please check back at a later time.",
)  # [spec: FX-SPEC, FX-AUTH 503 example]

# --------------------------------------------------------------------------------------------
# Code tables: canonical kind -> FedEx scan code, texts, derived status
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ancillary:
    """``latestStatusDetail.ancillaryDetails[]``: why, and what happens next."""

    reason: str
    reason_description: str
    action: str
    action_description: str


@dataclass(frozen=True, slots=True)
class Code:
    """What FedEx prints for one kind of scan."""

    event_type: str
    description: str
    derived_code: str
    derived_status: str
    location_type: str
    exception_code: str = ""
    exception_description: str = ""
    delay_type: str | None = None
    ancillary: Ancillary | None = None


_IN_TRANSIT = ("IT", "In transit")  # [obs] derived layer for AR/DP/OD/HP/IT... (NOTES §2.5)
_EXCEPTION = ("DE", "Delivery exception")  # [obs]
_DELAY = ("DY", "Delay")  # [obs: KAR-FX] derivedStatus "Delay"

_CHECK_BACK_LATER = Ancillary(
    "IN001",
    "Please check back later for shipment status or subscribe for e-mail notifications",
    "",
    "",
)  # [obs: FX-SBX] label-only shipments (NOTES §2.5 "IN001 check back later")
_NOT_AVAILABLE = Ancillary(
    "007",
    "Customer not available or business closed",
    "Delivery will be re-attempted the next business day.",
    "Customer Not Available or Business Closed",
)  # [obs: FX-SBX]; reasonDescription also [spec] ancillaryDetails example
_RETURNING = Ancillary(
    "060G",
    "Shipper requested shipment to be returned - Unable to deliver shipment - Returning to shipper",
    "No action is required.  The package is being returned to the shipper.",
    "Shipper requested shipment to be returned - Unable to deliver shipment - Returning to shipper",
)  # [obs: FX-SBX] (two spaces after "required." as captured)

EVENT_CODES: dict[EventKind, Code] = {
    # [obs] OC "Shipment information sent to FedEx", derived IN "Initiated" (NOTES §2.5,
    # FX-SBX; a 2024 KAR-FX production fixture says "Label created" for the same code).
    EventKind.label_created: Code("OC", "Shipment information sent to FedEx", "IN", "Initiated",
                                  "CUSTOMER", ancillary=_CHECK_BACK_LATER),
    # [obs] PU "Picked up" / derived PU.
    EventKind.picked_up: Code("PU", "Picked up", "PU", "Picked up", "PICKUP_LOCATION"),
    # [obs] AR "Arrived at FedEx location".
    EventKind.arrived_at_facility: Code("AR", "Arrived at FedEx location", *_IN_TRANSIT,
                                        "FEDEX_FACILITY"),
    # [obs] DP "Departed FedEx location".
    EventKind.departed_facility: Code("DP", "Departed FedEx location", *_IN_TRANSIT,
                                      "FEDEX_FACILITY"),
    # [obs] IT "In transit".
    EventKind.in_transit: Code("IT", "In transit", *_IN_TRANSIT, "FEDEX_FACILITY"),
    # [spec: FX-CODES] CD "Clearance Delay", in the sentence case live texts use [obs];
    # derived DY and delayDetail CLEARANCE [unverified].
    EventKind.customs_hold: Code("CD", "Clearance delay", *_DELAY, "PORT_OF_ENTRY",
                                 delay_type="CLEARANCE"),
    # [spec: FX-CODES] CC "Cleared Customs"; derived IT [unverified].
    EventKind.customs_cleared: Code("CC", "Cleared customs", *_IN_TRANSIT, "PORT_OF_ENTRY"),
    # [obs] OD "On FedEx vehicle for delivery", derived IT.
    EventKind.out_for_delivery: Code("OD", "On FedEx vehicle for delivery", *_IN_TRANSIT,
                                     "VEHICLE"),
    # [obs] DE with exception 007.
    EventKind.delivery_attempted: Code("DE", "Delivery exception", *_EXCEPTION,
                                       "DESTINATION_FEDEX_FACILITY", "007",
                                       "Customer not available or business closed",
                                       ancillary=_NOT_AVAILABLE),
    # [obs] HP "Ready for recipient pickup", derived IT, exception 015A (its address text is
    # left empty: the simulator has no FedEx Office address to print) [unverified].
    EventKind.available_for_pickup: Code("HP", "Ready for recipient pickup", *_IN_TRANSIT,
                                         "DESTINATION_FEDEX_FACILITY", "015A"),
    # [obs] DL "Delivered".
    EventKind.delivered: Code("DL", "Delivered", "DL", "Delivered", "DELIVERY_LOCATION"),
    # [spec: FX-CODES] CH "Location Changed" [unverified as the address-correction scan].
    EventKind.address_corrected: Code("CH", "Location changed", *_IN_TRANSIT,
                                      "DESTINATION_FEDEX_FACILITY"),
    # [obs: FX-SBX] RS "Returning package to shipper" with 060G; derived RS [unverified:
    # NOTES §2.5 "likely"; the sandbox capture says derived DL, which we do not copy].
    EventKind.returned_to_sender: Code("RS", "Returning package to shipper", "RS",
                                       "Return to shipper", "DESTINATION_FEDEX_FACILITY",
                                       "060G", _RETURNING.reason_description,
                                       ancillary=_RETURNING),
    # [spec: FX-CODES] CA "Shipment Cancelled"; derived CA [unverified: NOTES "likely"].
    EventKind.cancelled: Code("CA", "Shipment cancelled", "CA", "Shipment cancelled",
                              "CUSTOMER"),
}  # fmt: skip
"""Every EventKind but ``exception`` (which :data:`EXCEPTION_CODES` covers by reason)."""

EXCEPTION_CODES: dict[ExceptionReason, Code] = {
    # [obs: KAR-FX] DY "Delay" with delayDetail; type WEATHER [spec enum].
    ExceptionReason.weather: Code("DY", "Delay", *_DELAY, "FEDEX_FACILITY",
                                  delay_type="WEATHER"),
    # [obs: KAR-FX] DY "Delay", A52 "Package delayed", delayDetail GENERAL.
    ExceptionReason.delay: Code("DY", "Delay", *_DELAY, "FEDEX_FACILITY", "A52",
                                "Package delayed", delay_type="GENERAL"),
    # [obs: NOTES §2.5/§2.9] exception 03 incorrect address.
    ExceptionReason.address: Code("DE", "Delivery exception", *_EXCEPTION,
                                  "DESTINATION_FEDEX_FACILITY", "03", "Incorrect address"),
    # [spec: FX-CODES] SE "Shipment Exception"; derived SE [unverified: NOTES "likely"].
    # NOTES has no FedEx exception code for damage or loss, so none is printed.
    ExceptionReason.damaged: Code("SE", "Shipment exception", "SE", "Shipment exception",
                                  "FEDEX_FACILITY"),
    ExceptionReason.lost: Code("SE", "Shipment exception", "SE", "Shipment exception",
                               "FEDEX_FACILITY"),
    # [obs: NOTES §2.5] 099 unable to deliver; as a DE at the door [unverified].
    ExceptionReason.refused: Code("DE", "Delivery exception", *_EXCEPTION,
                                  "DESTINATION_FEDEX_FACILITY", "099", "Unable to deliver"),
    # [obs] same as a failed attempt: DE 007.
    ExceptionReason.recipient_unavailable: EVENT_CODES[EventKind.delivery_attempted],
}  # fmt: skip

ARRIVED_AT_DESTINATION = Code(
    "AR", "At local FedEx facility", *_IN_TRANSIT, "DESTINATION_FEDEX_FACILITY"
)
"""[obs] the arrival scan at the delivering station, told apart from hubs on the way."""

LEFT_ORIGIN = Code("DP", "Left FedEx origin facility", *_IN_TRANSIT, "ORIGIN_FEDEX_FACILITY")
"""[obs] the departure scan at the origin station."""

READY_FOR_PICKUP_STATUS = ("HL", "HL", "Ready for pickup")
"""[obs: FX-SBX 843119172384577] an HP scan shows in ``latestStatusDetail`` as code HL,
derived HL, "Ready for pickup" — the latest status is not a copy of the newest scan here."""

_AT_THE_DOOR = frozenset(
    {ExceptionReason.recipient_unavailable, ExceptionReason.refused, ExceptionReason.address}
)
_TERMINAL_KINDS = frozenset(
    {EventKind.delivered, EventKind.returned_to_sender, EventKind.cancelled}
)
_TERMINAL_REASONS = frozenset({ExceptionReason.lost, ExceptionReason.damaged})
_DOORSTEP = frozenset({"CUSTOMER", "DELIVERY_LOCATION"})

SERVICE_DETAILS: dict[Service, dict[str, str]] = {
    # [obs: FX-SBX] FEDEX_GROUND "FedEx Ground" "FG".
    Service.ground: {"type": "FEDEX_GROUND", "description": "FedEx Ground",
                     "shortDescription": "FG"},
    # [obs: KAR-FX] PRIORITY_OVERNIGHT "FedEx Priority Overnight" "P-1": the only Express
    # product name in the sources, so it serves express and priority alike.
    Service.express: {"type": "PRIORITY_OVERNIGHT", "description": "FedEx Priority Overnight",
                      "shortDescription": "P-1"},
    Service.priority: {"type": "PRIORITY_OVERNIGHT", "description": "FedEx Priority Overnight",
                       "shortDescription": "P-1"},
    # [obs: FX-SBX] SMART_POST "FedEx SmartPost" "SP" (now Ground Economy).
    Service.economy: {"type": "SMART_POST", "description": "FedEx SmartPost",
                      "shortDescription": "SP"},
}  # fmt: skip

OPERATING_COMPANY: dict[Service, tuple[str, str]] = {
    # (carrierCode [spec enum], trackingNumberUniqueId suffix) [obs: FX-SBX, KAR-FX]
    Service.ground: ("FDXG", "FDEG"),
    Service.express: ("FDXE", "FX"),
    Service.priority: ("FDXE", "FX"),
    Service.economy: ("FXSP", "FXSP"),
}

DELIVERY_OPTIONS = (
    "INDIRECT_SIGNATURE_RELEASE",
    "REDIRECT_TO_HOLD_AT_LOCATION",
    "REROUTE",
    "RESCHEDULE",
    "RETURN_TO_SHIPPER",
    "DISPUTE_DELIVERY",
    "SUPPLEMENT_ADDRESS",
)
"""[spec enum; obs order] ``deliveryOptionEligibilityDetails[].option``."""

LABEL_CREATED_COMMIT = {
    "message": "The delivery date may be updated when FedEx receives the package.",
    "type": "SHIPMENT_LABEL_CREATED",
}  # [obs: FX-SBX]
NO_DATE_COMMIT = {
    "message": "No scheduled delivery date available at this time.",
    "type": "ESTIMATED_DELIVERY_DATE_UNAVAILABLE",
}  # [spec] ServiceCommitMessage example

SHIP_DATE_OFFSET = "-06:00"
"""[obs] SHIP is stamped at midnight -06:00 wherever the parcel is (NOTES §2.4)."""

_LB_PER_KG = 2.20462

# --------------------------------------------------------------------------------------------
# Rendering (pure: shipment, visible count, options -> JSON value)
# --------------------------------------------------------------------------------------------


def code_for(event: Event, shipment: Shipment) -> Code:
    """The scan code and texts FedEx shows for a canonical event."""
    if event.kind is EventKind.exception:
        assert event.reason is not None  # the scenario model guarantees it
        return EXCEPTION_CODES[event.reason]
    if event.kind is EventKind.arrived_at_facility and event.place == shipment.recipient.place:
        return ARRIVED_AT_DESTINATION
    if event.kind is EventKind.departed_facility and event.place == shipment.shipper.place:
        return LEFT_ORIGIN
    return EVENT_CODES[event.kind]


def timestamp(event: Event) -> str:
    """ISO 8601 at the scan's wall clock with its own UTC offset (NOTES §2.4)."""
    return event.local.isoformat(timespec="seconds")


def address(place: Place, *, city: bool = True) -> dict[str, Any]:
    """An address as FedEx prints parties and latest status: no street, no postal code [obs]."""
    body: dict[str, Any] = {}
    if city:
        body["city"] = place.city
        if place.state:
            body["stateOrProvinceCode"] = place.state
    body["countryCode"] = place.country
    body["residential"] = False  # [obs] false in every capture
    body["countryName"] = place.country_name
    return body


def scan_location(place: Place, *, city: bool = True) -> dict[str, Any]:
    """A scan's location: ``streetLines: [""]`` and the postal code included [obs]."""
    body: dict[str, Any] = {"streetLines": [""]}
    if city:
        body["city"] = place.city
        if place.state:
            body["stateOrProvinceCode"] = place.state
    body["postalCode"] = place.postal_code
    body["countryCode"] = place.country
    body["residential"] = False
    body["countryName"] = place.country_name
    return body


def _scan_event(event: Event, shipment: Shipment) -> dict[str, Any]:
    code = code_for(event, shipment)
    # [obs] the OC scan is the shipper's upload: a postal code without a city (NOTES §6.11).
    located = event.kind is not EventKind.label_created
    body: dict[str, Any] = {
        "date": timestamp(event),
        "eventType": code.event_type,
        "eventDescription": event.description or code.description,
        "exceptionCode": code.exception_code,
        "exceptionDescription": code.exception_description,
        "scanLocation": scan_location(event.place, city=located),
    }
    # [obs] station scans name the station; the shipper's and recipient's doors have no id.
    if code.location_type not in _DOORSTEP and event.place.facility_id:
        body["locationId"] = event.place.facility_id
    body["locationType"] = code.location_type
    body["derivedStatusCode"] = code.derived_code
    body["derivedStatus"] = code.derived_status
    if code.delay_type is not None:
        body["delayDetail"] = {"type": code.delay_type}
    return body


def _latest_status(event: Event, shipment: Shipment) -> dict[str, Any]:
    code = code_for(event, shipment)
    status_code, derived, status = code.event_type, code.derived_code, code.derived_status
    description = event.description or code.description
    if event.kind is EventKind.available_for_pickup:
        status_code, derived, status = READY_FOR_PICKUP_STATUS
        description = event.description or status
    body: dict[str, Any] = {
        "code": status_code,
        "derivedCode": derived,
        "statusByLocale": status,
        "description": description,
        "scanLocation": address(event.place, city=event.kind is not EventKind.label_created),
    }
    if code.ancillary is not None:
        a = code.ancillary
        body["ancillaryDetails"] = [
            {
                "reason": a.reason,
                "reasonDescription": a.reason_description,
                "action": a.action,
                "actionDescription": a.action_description,
            }
        ]
    if code.delay_type is not None:
        body["delayDetail"] = {"type": code.delay_type, "status": "DELAYED"}
    elif code.derived_code in ("DE", "SE"):
        body["delayDetail"] = {"status": "DELAYED"}  # [obs: FX-SBX] on DE latest statuses
    return body


def _first(events: tuple[Event, ...], kind: EventKind) -> Event | None:
    return next((e for e in events if e.kind is kind), None)


def ship_date(shipment: Shipment) -> date:
    """The ship date: the local date of the shipment's first event."""
    return shipment.events[0].local.date()


def _in_flight(latest: Event) -> bool:
    return latest.kind not in _TERMINAL_KINDS and latest.reason not in _TERMINAL_REASONS


def _weights(kg: float) -> list[dict[str, str]]:
    # [obs] weights are strings, pounds first (NOTES §2.4).
    return [
        {"value": f"{kg * _LB_PER_KG:.1f}", "unit": "LB"},
        {"value": str(round(kg, 2)), "unit": "KG"},
    ]


def unique_id(shipment: Shipment) -> str:
    """``trackingNumberUniqueId``: ``<id>~<number>~<opco>`` (NOTES §2.3)."""
    _, opco = OPERATING_COMPANY[shipment.service]
    prefix = seed_int(NAME, "unique", shipment.number) % 90000 + 10000
    return f"{prefix}~{shipment.number}~{opco}"


def render_result(shipment: Shipment, count: int, detailed: bool) -> dict[str, Any]:
    """One ``completeTrackResults[]`` entry for the first ``count`` events (count >= 1)."""
    events = shipment.events[:count]
    # The current status is the latest scan's: the last one, unless quirks have put the list
    # out of order (ties go to the later position, so a clean timeline's last wins).
    latest = max(reversed(events), key=lambda e: e.at)
    carrier_code, _ = OPERATING_COMPANY[shipment.service]
    delivered = _first(events, EventKind.delivered)
    pickup = _first(events, EventKind.picked_up)
    due = shipment.expected_delivery
    estimate = due if due is not None and delivered is None and _in_flight(latest) else None
    destination = shipment.recipient.place

    times: list[dict[str, str]] = []
    if delivered is not None:
        times.append({"type": "ACTUAL_DELIVERY", "dateTime": timestamp(delivered)})
    if estimate is not None:
        local_due = destination.localize(estimate).isoformat(timespec="seconds")
        times.append({"type": "ESTIMATED_DELIVERY", "dateTime": local_due})
    if pickup is not None:
        times.append({"type": "ACTUAL_PICKUP", "dateTime": timestamp(pickup)})
    times.append(
        {
            "type": "SHIP",
            "dateTime": f"{ship_date(shipment).isoformat()}T00:00:00{SHIP_DATE_OFFSET}",
        }
    )
    if pickup is not None:
        times.append({"type": "ACTUAL_TENDER", "dateTime": timestamp(pickup)})  # [obs: KAR-FX]

    attempts = sum(
        1
        for e in events
        if e.kind is EventKind.delivery_attempted
        or (e.kind is EventKind.exception and e.reason in _AT_THE_DOOR)
    )
    eligibility = "POSSIBLY_ELIGIBLE" if _in_flight(latest) else "INELIGIBLE"  # [obs] values
    delivery: dict[str, Any] = {}
    if delivered is not None:
        delivery["actualDeliveryAddress"] = address(delivered.place)
    delivery["deliveryAttempts"] = str(attempts)  # [obs] a string
    if delivered is not None:
        delivery["receivedByName"] = shipment.signer
    delivery["deliveryOptionEligibilityDetails"] = [
        {"option": option, "eligibility": eligibility} for option in DELIVERY_OPTIONS
    ]

    weights = _weights(shipment.weight_kg)
    body: dict[str, Any] = {
        "trackingNumberInfo": {
            "trackingNumber": shipment.number,
            "trackingNumberUniqueId": unique_id(shipment),
            "carrierCode": carrier_code,
        },
        "additionalTrackingInfo": {"nickname": "", "hasAssociatedShipments": False},  # [obs]
        # [obs: KAR-FX] production names no contact: an empty object.
        "shipperInformation": {"contact": {}, "address": address(shipment.shipper.place)},
        "recipientInformation": {"contact": {}, "address": address(destination)},
        "latestStatusDetail": _latest_status(latest, shipment),
        "dateAndTimes": times,
        "availableImages": (
            [{"type": "SIGNATURE_PROOF_OF_DELIVERY"}] if delivered is not None else []
        ),
        "packageDetails": {
            "sequenceNumber": "1",
            "count": "1",
            "weightAndDimensions": {"weight": weights},
            "packageContent": [],
        },
        "shipmentDetails": {"possessionStatus": pickup is not None, "weight": weights},
    }
    if detailed:
        body["scanEvents"] = [_scan_event(e, shipment) for e in reversed(events)]
    body["availableNotifications"] = (
        ["ON_DELIVERY"]
        if delivered is not None
        else ["ON_DELIVERY", "ON_EXCEPTION", "ON_ESTIMATED_DELIVERY"]
    )  # [obs: FX-SBX]
    body["deliveryDetails"] = delivery
    origin = shipment.shipper.place
    origin_location: dict[str, Any] = {"locationContactAndAddress": {"address": address(origin)}}
    if origin.facility_id:
        origin_location["locationId"] = origin.facility_id
    body["originLocation"] = origin_location
    body["lastUpdatedDestinationAddress"] = address(destination)
    if latest.kind is EventKind.label_created and count == 1:
        body["serviceCommitMessage"] = LABEL_CREATED_COMMIT
    elif estimate is None and delivered is None and latest.kind is not EventKind.cancelled:
        body["serviceCommitMessage"] = NO_DATE_COMMIT
    body["serviceDetail"] = SERVICE_DETAILS[shipment.service]
    # [obs] the windows are there even when empty: "window": {} (NOTES §2.4).
    window = {} if due is None else {"ends": destination.localize(due).isoformat("T", "seconds")}
    body["standardTransitTimeWindow"] = {"window": window}
    body["estimatedDeliveryTimeWindow"] = {
        "window": {} if estimate is None else {"ends": window["ends"]}
    }
    body["goodsClassificationCode"] = ""  # [obs] empty strings, not null
    body["returnDetail"] = {}  # [obs] empty object
    return {"trackingNumber": shipment.number, "trackResults": [body]}


def render_error_result(number: str, error: Error, spec_form: bool) -> dict[str, Any]:
    """A per-number error entry: NOTFOUND or INVALID inside a 200 (NOTES §2.6).

    Production sends ``carrierCode: ""``, which the spec's enum does not allow; the "spec"
    form of ``Settings.not_found`` leaves the empty value out so the body validates.
    """
    info: dict[str, str] = {"trackingNumber": number, "trackingNumberUniqueId": ""}
    if not spec_form:
        info["carrierCode"] = ""
    code, message = error
    return {
        "trackingNumber": number,
        "trackResults": [{"trackingNumberInfo": info, "error": {"code": code, "message": message}}],
    }


def error_body(transaction_id: str, error: Error, customer_id: str | None = None) -> dict[str, Any]:
    """The FedEx error envelope ``{transactionId, customerTransactionId?, errors[]}``."""
    body: dict[str, Any] = {"transactionId": transaction_id}
    if customer_id is not None:
        body["customerTransactionId"] = customer_id
    code, message = error
    body["errors"] = [{"code": code, "message": message}]
    return body


# --------------------------------------------------------------------------------------------
# Request parsing
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Wanted:
    """One ``trackingInfo[]`` entry, validated."""

    number: str
    ship_begin: date | None
    ship_end: date | None


class BadRequest(Exception):
    """A tracking request FedEx refuses as a whole; carries the error to answer with."""

    def __init__(self, error: Error) -> None:
        super().__init__(error[0])
        self.error = error


_JSON = json.JSONDecoder()


def _is_json(content_type: str | None) -> bool:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def _day(value: Any) -> date | None:
    # Unreadable dates narrow nothing: NOTES has no error for them [unverified].
    if not isinstance(value, str) or len(value) != 10:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def parse_request(content_type: str | None, payload: bytes) -> tuple[bool, list[Wanted]]:
    """(includeDetailedScans, entries) of a tracking request, or raise BadRequest."""
    if not _is_json(content_type):
        raise BadRequest(NUMBER_EMPTY)
    try:
        # JSON over HTTP is UTF-8 (RFC 8259); decoding first is also the faster path.
        body = _JSON.decode(payload.decode())
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise BadRequest(NUMBER_EMPTY) from None
    if not isinstance(body, dict):
        raise BadRequest(NUMBER_EMPTY)
    infos = body.get("trackingInfo")
    if not isinstance(infos, list) or not infos:
        raise BadRequest(NUMBER_EMPTY)
    if len(infos) > MAX_NUMBERS:
        raise BadRequest(LIMIT_EXCEEDED)
    wanted: list[Wanted] = []
    for info in infos:
        if not isinstance(info, dict):
            raise BadRequest(NUMBER_EMPTY)
        number_info = info.get("trackingNumberInfo")
        number = number_info.get("trackingNumber") if isinstance(number_info, dict) else None
        if not isinstance(number, str) or not number.strip():
            raise BadRequest(NUMBER_EMPTY)
        begin, end = _day(info.get("shipDateBegin")), _day(info.get("shipDateEnd"))
        wanted.append(Wanted(numbers.normalize(number), begin, end))
    return body.get("includeDetailedScans") is True, wanted


# --------------------------------------------------------------------------------------------
# Routes
# --------------------------------------------------------------------------------------------


_MASK48 = (1 << 48) - 1
_SPREAD = 0x9E3779B97F4B  # odd, so n -> n * _SPREAD mod 2**48 is a bijection


def transaction_ids(seed: int) -> Iterator[str]:
    """UUID-shaped ``transactionId`` values: a per-seed stem and a scrambled counter.

    Deterministic (same seed, same request order, same ids) and cheap per request; the
    counter is scrambled so consecutive ids do not look consecutive.
    """
    digest = hashlib.blake2b(f"{NAME}|{seed}".encode(), digest_size=16).digest()
    stem = str(uuid.UUID(bytes=digest, version=4))[:24]
    for n in itertools.count(1):
        yield f"{stem}{(n * _SPREAD) & _MASK48:012x}"


def routes(sim: Simulation) -> list[BaseRoute]:
    """The OAuth token endpoint and Track by Tracking Number, at their production paths."""
    ids = transaction_ids(sim.settings.seed)
    spec_form = sim.settings.not_found == "spec"

    def transaction_id() -> str:
        return next(ids)

    def refuse(status: int, error: Error, customer_id: str | None = None) -> Response:
        return respond(error_body(transaction_id(), error, customer_id), status)

    async def token(request: Request) -> Response:
        form = await form_body(request)
        if form is None:
            return refuse(401, BAD_CREDENTIALS)
        grant = form.get("grant_type", "")
        client_id = form.get("client_id", "")
        secret = form.get("client_secret", "")
        if grant not in GRANT_TYPES or not client_id or not secret:
            return refuse(401, BAD_CREDENTIALS)
        if grant in CHILD_GRANTS and not (
            (form.get("child_Key") or form.get("child_key")) and form.get("child_secret")
        ):
            return refuse(401, BAD_CREDENTIALS)
        if not sim.accepts(NAME, client_id, secret):
            return refuse(401, BAD_CREDENTIALS)
        tenant = tenant_for(request, client_id)
        access, _ = sim.tokens.issue(
            carrier=NAME,
            client_id=client_id,
            tenant=tenant,
            now=sim.clock.now(tenant),
            lifetime=TOKEN_LIFETIME,
            scope=TOKEN_SCOPE,
        )
        return respond(
            {
                "access_token": access,
                "token_type": TOKEN_TYPE,
                "expires_in": TOKEN_LIFETIME,
                "scope": TOKEN_SCOPE,
            }
        )

    def error_part(number: str, error: Error) -> bytes:
        return sim.rendered(
            (NAME, "error", number, error[0], spec_form),
            lambda: dumps(render_error_result(number, error, spec_form)),
        )

    def found_part(shipment: Shipment, count: int, detailed: bool) -> bytes:
        return sim.rendered(
            (NAME, shipment.key, count, detailed),
            lambda: dumps(render_result(shipment, count, detailed)),
        )

    def faulted_part(
        shipment: Shipment, count: int, detailed: bool, modes: frozenset[str], lies: frozenset[str]
    ) -> bytes:
        view, shown = quirks.apply(shipment, count, modes)
        # The timeline quirks already change view.key; the format quirks and lies must too,
        # so that clean and faulted bodies never share a cache entry.
        key = (NAME, view.key, shown, detailed, tuple(sorted(modes)), tuple(sorted(lies)))
        return sim.rendered(
            key,
            lambda: dumps(apply_format_quirks(render_result(view, shown, detailed), modes)),
        )

    def neighbour(shipment: Shipment, count: int, now: float, tenant: str) -> tuple[Shipment, int]:
        # The parcel of the asked number's neighbour label, as the tenant would track it;
        # when that number tracks nothing (default mix off, or not yet shipped), the asked
        # scenario replayed under it.
        other = wrong_number(shipment.number)
        found = sim.lookup(NAME, other, tenant)
        if found is not None and (shown := found.visible_count(now)) > 0:
            return found, shown
        return sim.catalog.shipment(NAME, shipment.scenario.name, other, shipment.t0), count

    def faulty_parts(
        wanted: list[Wanted], detailed: bool, now: float, tenant: str, decision: Decision
    ) -> list[bytes]:
        """The clean path's parts with the decision's lies and quirks applied per number."""
        # Per entry: (shipment, visible count, the error a lie answers with), or
        # (None, 0, the error the clean path sends).
        resolved: list[tuple[Shipment | None, int, Error]] = []
        for entry in wanted:
            number = entry.number
            if not numbers.is_plausible(NAME, number):
                resolved.append((None, 0, NUMBER_INVALID))
                continue
            shipment = sim.lookup(NAME, number, tenant)
            count = shipment.visible_count(now) if shipment is not None else 0
            if shipment is None or count == 0 or not _ships_within(shipment, entry):
                resolved.append((None, 0, NUMBER_NOT_FOUND))
                continue
            resolved.append((shipment, count, NUMBER_NOT_FOUND))
        scenario_of = {s.number: s.scenario.name for s, _, _ in resolved if s is not None}
        applies = faulting.fault_targets(sim, decision, scenario_of)
        # mixed_results: every other existing number it targets, from the first, is denied.
        mixed = [
            i
            for i, (entry, (s, _, _)) in enumerate(zip(wanted, resolved, strict=True))
            if s is not None and applies("mixed_results", entry.number)
        ]
        denied = frozenset(mixed[::2])
        parts: list[bytes] = []
        for i, (entry, (found, count, error)) in enumerate(zip(wanted, resolved, strict=True)):
            number = entry.number
            lies = frozenset(m for m in decision.lies if applies(m, number))
            if found is None or "ok_with_error" in lies or i in denied:
                parts.append(error_part(number, error))
                continue
            shipment = found
            if "wrong_number" in lies:
                shipment, count = neighbour(found, count, now, tenant)
            modes = frozenset(m for m in decision.quirks if applies(m, number))
            if modes or lies:
                parts.append(faulted_part(shipment, count, detailed, modes, lies))
            else:
                parts.append(found_part(shipment, count, detailed))
        return parts

    async def track(request: Request) -> Response:
        headers = request.headers
        try:
            claims = sim.tokens.decode(bearer(headers.get("authorization")), NAME)
        except TokenError:
            return refuse(401, TOKEN_EXPIRED)
        if tenant_mismatch(request, claims):
            # Not this credential's token: the same 401 as any token FedEx did not issue.
            return refuse(401, TOKEN_EXPIRED)
        tenant = claims.tenant
        now = sim.clock.now(tenant)
        if now >= claims.expires_at:
            return refuse(401, TOKEN_EXPIRED)
        customer_id = headers.get("x-customer-transaction-id")
        try:
            detailed, wanted = parse_request(headers.get("content-type"), await request.body())
        except BadRequest as bad:
            return refuse(400, bad.error, customer_id)
        decision = faulting.data_faults(request)
        if decision.quirks or decision.lies:
            parts = faulty_parts(wanted, detailed, now, tenant, decision)
        else:
            parts = []
            for entry in wanted:
                number = entry.number
                if not numbers.is_plausible(NAME, number):
                    parts.append(error_part(number, NUMBER_INVALID))
                    continue
                shipment = sim.lookup(NAME, number, tenant)
                count = shipment.visible_count(now) if shipment is not None else 0
                if shipment is None or count == 0 or not _ships_within(shipment, entry):
                    parts.append(error_part(number, NUMBER_NOT_FOUND))
                    continue
                parts.append(found_part(shipment, count, detailed))
        head = b'{"transactionId":' + dumps(transaction_id())
        if customer_id is not None:
            head += b',"customerTransactionId":' + dumps(customer_id)
        return raw(head + b',"output":{"completeTrackResults":[' + b",".join(parts) + b"]}}")

    return [
        Route(TOKEN_PATH, token, methods=["POST"], name="fedex.token"),
        Route(TRACK_PATH, track, methods=["POST"], name="fedex.track"),
    ]


# --------------------------------------------------------------------------------------------
# Fault hooks (simulator.faulting.CarrierFaults)
# --------------------------------------------------------------------------------------------

_FAULT_IDS = transaction_ids(-1)


def fault_error(status: int, endpoint: str, reason: str | None = None) -> Error:
    """The code and message FedEx sends with this status on the token or track endpoint."""
    if status == 401:
        # The token endpoint, or a revoked key, is about credentials; otherwise the token.
        return BAD_CREDENTIALS if endpoint == "token" or reason == "revoked" else TOKEN_EXPIRED
    if status == 400:
        # FX-AUTH declares no 400; the credential refusal is what a bad login gets here.
        return BAD_CREDENTIALS if endpoint == "token" else NUMBER_EMPTY
    if status == 403:
        return FORBIDDEN
    if status == 404:
        return RESOURCE_NOT_FOUND
    if status == 429:
        return TOO_MANY_REQUESTS
    if status == 500:
        return INTERNAL_ERROR
    return UNAVAILABLE  # 503 [spec]; 502 and 504 behind FedEx's gateway [unverified]


def error_response(
    status: int, endpoint: str, retry_after: int | None, reason: str | None
) -> Response:
    """A fault's HTTP error in the FedEx envelope (no Retry-After unless the fault sets one)."""
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    body = error_body(next(_FAULT_IDS), fault_error(status, endpoint, reason))
    return respond(body, status, headers)


async def describe(request: Request) -> tuple[str, tuple[str, ...]]:
    """(tenant, tracking numbers) of a request, best effort, never raising."""
    try:
        sim: Simulation = request.app.state.sim
        if request.url.path.endswith(TOKEN_PATH):
            form = await form_body(request)
            client_id = (form or {}).get("client_id", "")
            return tenant_for(request, client_id), ()
        headers = request.headers
        tenant = bearer_tenant(request, sim.tokens, NAME, headers.get("authorization"))
        try:
            _, wanted = parse_request(headers.get("content-type"), await request.body())
        except BadRequest:
            return tenant, ()
        return tenant, tuple(entry.number for entry in wanted)
    except Exception:  # a fault hook must never be the reason a request fails
        return "", ()


def _ships_within(shipment: Shipment, entry: Wanted) -> bool:
    # A ship-date range narrows the search (NOTES §2.3): outside it, FedEx finds nothing.
    if entry.ship_begin is None and entry.ship_end is None:
        return True
    shipped = ship_date(shipment)
    if entry.ship_begin is not None and shipped < entry.ship_begin:
        return False
    return entry.ship_end is None or shipped <= entry.ship_end


# --------------------------------------------------------------------------------------------
# Data faults: lies and quirks in a 200 (NOTES §2.4-2.6, §6)
# --------------------------------------------------------------------------------------------
#
# Lies
#   ok_with_error    every targeted existing number answered as production answers an unknown
#                    one: TRACKING.TRACKINGNUMBER.NOTFOUND inside the 200 [obs: NOTES §2.6,
#                    §6.1].
#   mixed_results    the same error for every other targeted existing number, from the first,
#                    so a batch mixes good and "not found" results (NOTES §2.6 "Mixed
#                    batches"); a batch with one targeted number gets the error for it, as
#                    ok_with_error would.
#   wrong_number     the answer is about the neighbouring label: the asked number's data
#                    digits plus one, with the check digit of the same format (wrong_number)
#                    [unverified: a choice; a mix-up of consecutive labels is the plausible
#                    cause]. It shows that number's own parcel, or, when that number tracks
#                    nothing, the asked scenario replayed under it.
# Format quirks (the timeline ones come from simulator.quirks)
#   missing_offsets  ISO times without their offset, "2026-03-02T09:00:00" (every scan date,
#                    dateAndTimes, delivery windows) [unverified for FedEx: NOTES §6.5
#                    documents offset-less times for USPS; FedEx has no GMT fields to drop].
#   wrong_offsets    the wall-clock digits kept, the offset replaced by -06:00, the offset
#                    FedEx pins SHIP dates to wherever the parcel is [obs: NOTES §2.4, §6.5];
#                    where -06:00 is the place's true offset, +00:00 (UTC) [unverified]. SHIP
#                    keeps its (already pinned) -06:00. With missing_offsets, no offset is left
#                    to be wrong.
#   unknown_codes    every scan's eventType and latestStatusDetail.code are "ZX", a code the
#                    FX-CODES table lacks (NOTES §2.5); descriptions and the derived layer stay
#                    so a client can fall back on them [unverified: code chosen].
#   empty_events     scanEvents: [] while the status, dates and details stay; without
#                    includeDetailedScans there is no list to empty.
#   missing_optional_fields
#                    nested locations thinned as NOTES §6.11 describes for FedEx: each
#                    scanLocation keeps only its postalCode, and scan locationId,
#                    latestStatusDetail.scanLocation, shipper/recipientInformation,
#                    originLocation, lastUpdatedDestinationAddress and
#                    deliveryDetails.actualDeliveryAddress are left out (all optional in
#                    FX-SPEC: its response schemas require nothing).
#   padded_number    trackingNumber (both places) with two leading zeros, the digits-only
#                    padding FedEx's format allows [unverified: not in NOTES; integrators
#                    report FedEx labels with 12-digit numbers written as "00" + number].
#   lowercase_number FedEx numbers are digits (NOTES §2.8), so lower-casing them changes
#                    nothing; the letters of the number's identity, trackingNumberUniqueId's
#                    operating company ("…~fdeg"), are lower-cased instead [unverified].

UNKNOWN_CODE = "ZX"
"""A scan code absent from FX-CODES (NOTES §2.5) [unverified: chosen]."""

WRONG_OFFSET = "-06:00"
"""[obs: NOTES §2.4] the offset FedEx stamps SHIP dates with regardless of place."""

_UTC_OFFSET = "+00:00"
NUMBER_PADDING = "00"
"""[unverified: not in NOTES] leading zeros seen on FedEx numbers by integrators."""

_OPTIONAL_OBJECTS = (
    "shipperInformation",
    "recipientInformation",
    "originLocation",
    "lastUpdatedDestinationAddress",
)


def wrong_number(number: str) -> str:
    """The neighbouring label's number: data digits plus one, same format, valid check digit.

    Deterministic; for a number of no known format, the next number of its length.
    """
    width = len(number) - 1
    if width >= 1 and number.isdigit():
        fmt = numbers.format_of(NAME, number)
        data = int(number[:-1])
        for step in range(1, 1000):
            bumped = f"{(data + step) % 10**width:0{width}d}"
            for check in "0123456789":
                candidate = bumped + check
                if candidate != number and numbers.format_of(NAME, candidate) == fmt:
                    return candidate
    return number + "0"  # not a FedEx number at all: any other will do


def _no_offset(stamp: str) -> str:
    return stamp[:19]


def _wrong_offset(stamp: str) -> str:
    if len(stamp) != 25:  # not "YYYY-MM-DDTHH:MM:SS±HH:MM": nothing to falsify
        return stamp
    return stamp[:19] + (WRONG_OFFSET if stamp[19:] != WRONG_OFFSET else _UTC_OFFSET)


def _retime(result: dict[str, Any], change: Callable[[str], str], *, ship: bool) -> None:
    for scan in result.get("scanEvents", ()):
        scan["date"] = change(scan["date"])
    for moment in result.get("dateAndTimes", ()):
        if ship or moment["type"] != "SHIP":
            moment["dateTime"] = change(moment["dateTime"])
    for name in ("standardTransitTimeWindow", "estimatedDeliveryTimeWindow"):
        window = result.get(name, {}).get("window", {})
        for edge in ("begins", "ends"):
            if edge in window:
                window[edge] = change(window[edge])


def _thin(result: dict[str, Any]) -> None:
    for scan in result.get("scanEvents", ()):
        scan["scanLocation"] = {"postalCode": scan["scanLocation"]["postalCode"]}
        scan.pop("locationId", None)
    result["latestStatusDetail"].pop("scanLocation", None)
    for name in _OPTIONAL_OBJECTS:
        result.pop(name, None)
    result.get("deliveryDetails", {}).pop("actualDeliveryAddress", None)


def apply_format_quirks(entry: dict[str, Any], modes: frozenset[str]) -> dict[str, Any]:
    """A freshly rendered ``completeTrackResults[]`` entry with FedEx-format quirks applied.

    Changes ``entry`` in place (render_result builds it afresh; the module's shared tables it
    points to are never touched) and returns it.
    """
    result = entry["trackResults"][0]
    if "empty_events" in modes and "scanEvents" in result:
        result["scanEvents"] = []
    if "unknown_codes" in modes:
        for scan in result.get("scanEvents", ()):
            scan["eventType"] = UNKNOWN_CODE
        result["latestStatusDetail"]["code"] = UNKNOWN_CODE
    if "missing_offsets" in modes:
        _retime(result, _no_offset, ship=True)
    elif "wrong_offsets" in modes:
        _retime(result, _wrong_offset, ship=False)
    if "missing_optional_fields" in modes:
        _thin(result)
    info = result["trackingNumberInfo"]
    if "padded_number" in modes:
        entry["trackingNumber"] = NUMBER_PADDING + entry["trackingNumber"]
        info["trackingNumber"] = NUMBER_PADDING + info["trackingNumber"]
    if "lowercase_number" in modes:
        entry["trackingNumber"] = entry["trackingNumber"].lower()
        info["trackingNumber"] = info["trackingNumber"].lower()
        info["trackingNumberUniqueId"] = info["trackingNumberUniqueId"].lower()
    return entry
