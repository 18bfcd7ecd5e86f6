"""UPS: the OAuth client-credentials token and Track API v1 ``details``, as production answers.

Sources (all under tests/contract/specs): NOTES.md §1 (cited ``N§…``), the official
specs ``ups/Tracking.yaml`` (SPEC) and ``ups/OAuthClientCredentials.yaml`` (OAUTH), the saved
200 body of the official Postman collection ``ups/UPS-Tracking.postman_collection.json`` (PM,
the template for shape and field presence), and the two tables N§1.5 names as its sources:
the developer-portal appendix tabs (APPX: package-exception and manifest texts) and the
activity code → status code → milestone category table in UPS-API/api-documentation
issue #7 (ISS7).

Production behaviour imitated where it departs from the spec (each proven in a test):

- an unknown number is HTTP 200 with warning ``TW0001`` (N§1.6), not the documented 404;
  ``settings.not_found == "spec"`` gives the 404 instead;
- ``gmtTime`` is ``HH:MM:SS`` with colons, not the spec example's ``"74700"`` (N§1.4);
- ``currentStatus.code`` carries the 3-digit status code, not the 2-char activity code (N§1.4);
- a bad bearer token is 401 ``250002`` (N§1.6), a status the Tracking spec does not declare;
- every token field is a string, numbers included (N§1.2).

Faults (:mod:`simulator.faulting`): :func:`describe` and :func:`error_response` are the hooks
the fault wrapper calls; the tracking handler applies the data faults (timeline quirks via
:mod:`simulator.quirks`, then the UPS-format quirks and lies of :func:`apply_format_faults`).
"""

from __future__ import annotations

import base64
import html
import re
import struct
import sys
import zlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from starlette.datastructures import QueryParams
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
    raw,
    respond,
    tenant_for,
    tenant_mismatch,
)
from simulator.engine import Simulation
from simulator.faults import CLEAN, Decision
from simulator.scenario import EventKind, ExceptionReason, Service
from simulator.timeline import Event, Party, Shipment, zone
from simulator.tokens import TokenError, bearer

NAME = "ups"

TOKEN_PATH = "/security/v1/oauth/token"
"""At the host root, not under ``/api`` (N§1.1; the ``/api`` prefix 404s, UPS-ISS #26)."""

TRACK_PATH = "/api/track/v1/details/{inquiryNumber}"
"""SPEC path under the real base ``https://onlinetools.ups.com/api`` (N§1.1)."""

TOKEN_LIFETIME = 14399
"""Seconds; sent as the string ``"14399"`` (N§1.2)."""


@dataclass(frozen=True, slots=True)
class UpsStatus:
    """What UPS prints for one canonical event."""

    type: str
    """Activity status type letter (N§1.5): M, P, I, X, D, MV."""
    code: str
    """2-character activity code (``status.code``)."""
    status_code: str
    """3-digit status/description code, zero-padded (N§1.5)."""
    description: str
    """The activity text, as UPS writes it (trailing spaces included)."""
    milestone: str | None
    """Milestone category (ISS7), None where no source gives one."""


# 3-digit status code -> its name in the appendix list (N§1.5). currentStatus and the
# package-level statusDescription print this name.
STATUS_NAMES: dict[str, str] = {
    "003": "Shipment Ready for UPS",
    "005": "On the Way",
    "007": "Shipment Information Voided",
    "011": "Delivered",
    "012": "Clearance in Progress",
    "013": "Exception",
    "014": "Clearance Completed",
    "017": "Held for Customer Pickup",
    "021": "Out for Delivery",
    "022": "First Attempt Made",
    "028": "Delivery Address Changed",
    "029": "Exception: Action Required",
    "035": "Returning to Sender",
    "038": "Picked Up by UPS",
    "048": "Delay",
    "052": "Delay: Severe Weather",
    "059": "Damage Reported",
    "060": "Delivery Attempted",
    "064": "Delivery Refused",
}

# Canonical kind -> UPS.  Where ISS7 lists the (activity code, status code) pair, the pair is
# taken whole; otherwise the activity code and its text come from N§1.5/APPX and the status
# code is the N§1.5 name that says the same thing ("chosen" below).
#
# | kind                 | type/code/stat | source
# | label_created        | M  MP 003 | PM sample activity, text verbatim incl. trailing space
# | picked_up            | P  PU 038 | N§1.5: type P "Pickup" [obs], PU "pickup scan",
# |                      |           |   38 "Picked Up by UPS"; ISS7 VS→38 category IN TRANSIT
# | arrived_at_facility  | I  AR 005 | N§1.5 AR "arrival scan", 5 "On the Way"; APPX text
# |                      |           |   "Arrival Scan" (code F0)
# | departed_facility    | I  DP 005 | N§1.5 DP "departure scan"; APPX "Departure Scan" (F3)
# | in_transit           | I  AG 005 | N§1.5 AG "in transit to facility"; ISS7 movement AG→5
# | customs_hold         | X  ER 012 | ISS7 ER→12 "Clearance in Progress"; APPX ER text
# | customs_cleared      | I  DA 014 | APPX DA text; N§1.5 14 "Clearance Completed" (chosen;
# |                      |           |   type I, not X: nothing is wrong any more)
# | out_for_delivery     | I  OT 021 | N§1.5 OT "out for delivery (today)", 21 "Out for
# |                      |           |   Delivery"; ISS7 names it "Out for Delivery Today";
# |                      |           |   live OT scans print "Out For Delivery Today"
# | delivery_attempted   | X  48 022 | APPX exception 48 text; N§1.5 22 "First Attempt Made"
# | available_for_pickup | X  VN 017 | ISS7 VN→17 "Held for Customer Pickup", its text
# | delivered            | D  F4 011 | PM sample activity, "DELIVERED " with trailing space
# | address_corrected    | X  AH 028 | APPX AH text; ISS7 address changes (EG, VM) → 28
# | returned_to_sender   | X  DL 035 | APPX DL text; N§1.5 35 "Returning to Sender" (chosen)
# | cancelled            | MV VP 007 | N§1.5 MV "Billing information voided", manifest VP;
# |                      |           |   APPX manifest VP text; ISS7 VP→7 SHIPMENT VOID
# fmt: off
KIND_STATUS: dict[EventKind, UpsStatus] = {
    EventKind.label_created: UpsStatus(
        "M", "MP", "003", "Shipper created a label, UPS has not received the package yet. ", None),
    EventKind.picked_up: UpsStatus("P", "PU", "038", "Pickup Scan", "IN TRANSIT"),
    EventKind.arrived_at_facility: UpsStatus("I", "AR", "005", "Arrival Scan", "IN TRANSIT"),
    EventKind.departed_facility: UpsStatus("I", "DP", "005", "Departure Scan", "IN TRANSIT"),
    EventKind.in_transit: UpsStatus("I", "AG", "005", "In Transit to Facility", "IN TRANSIT"),
    EventKind.customs_hold: UpsStatus(
        "X", "ER", "012",
        "UPS is preparing your package for clearance. We will notify you if additional "
        "information is needed.", "IN TRANSIT"),
    EventKind.customs_cleared: UpsStatus(
        "I", "DA", "014", "Released By Clear Agency. Now In-Transit", "IN TRANSIT"),
    EventKind.out_for_delivery: UpsStatus(
        "I", "OT", "021", "Out For Delivery Today", "OUT FOR DELIVERY"),
    EventKind.delivery_attempted: UpsStatus(
        "X", "48", "022",
        "The receiver was not available for delivery. We'll make a second attempt the next "
        "business day.", "UPDATE"),
    EventKind.available_for_pickup: UpsStatus(
        "X", "VN", "017",
        "The package is being held at the selected UPS location for 5 business days as "
        "requested.", "UPDATE"),
    EventKind.delivered: UpsStatus("D", "F4", "011", "DELIVERED ", "DELIVERED"),
    EventKind.address_corrected: UpsStatus(
        "X", "AH", "028", "Address Corrected, Delivery Rescheduled", "UPDATE"),
    EventKind.returned_to_sender: UpsStatus(
        "X", "DL", "035", "The package will be returned to the sender.", "UPDATE"),
    EventKind.cancelled: UpsStatus(
        "MV", "VP", "007", "Manifest cancelled and shipment voided", "SHIPMENT VOID"),
}

# Exception reason -> UPS (type X).  Activity codes are APPX package-exception codes with
# their customer-facing text.
#
# | reason                | code | stat | source
# | weather               | 7W   | 052  | ISS7 7W→52 "Delay: Severe Weather", DELAY; APPX 7W text
# | address               | AG   | 029  | ISS7 AG→29 "Exception: Action Required", UPDATE; APPX AG
# | damaged               | HR   | 059  | APPX HR text; N§1.5 59 "Damage Reported" (chosen)
# | lost                  | F8   | 013  | APPX F8 text; N§1.5 13 "Exception" (chosen; ISS7 maps
# |                       |      |      |   most exception codes to 13 UPDATE)
# | refused               | AM   | 064  | APPX AM text; N§1.5 64 "Delivery Refused" (chosen)
# | delay                 | CC   | 048  | ISS7 CC→48 "Delay", DELAY; APPX CC text
# | recipient_unavailable | C4   | 060  | APPX C4 text; N§1.5 60 "Delivery Attempted" (chosen)
REASON_STATUS: dict[ExceptionReason, UpsStatus] = {
    ExceptionReason.weather: UpsStatus(
        "X", "7W", "052", "Severe weather conditions have delayed delivery.", "DELAY"),
    ExceptionReason.address: UpsStatus(
        "X", "AG", "029",
        "The address is incomplete. This may delay delivery. We're attempting to update the "
        "address.", "UPDATE"),
    ExceptionReason.damaged: UpsStatus(
        "X", "HR", "059",
        "The package was damaged in transit. We will notify the sender with details.", "UPDATE"),
    ExceptionReason.lost: UpsStatus(
        "X", "F8", "013", "We're attempting to verify the package location.", "UPDATE"),
    ExceptionReason.refused: UpsStatus(
        "X", "AM", "064",
        "The receiver has canceled the product order and refused delivery.", "UPDATE"),
    ExceptionReason.delay: UpsStatus(
        "X", "CC", "048", "Due to operating conditions, your package may be delayed.", "DELAY"),
    ExceptionReason.recipient_unavailable: UpsStatus(
        "X", "C4", "060",
        "The receiver was not available at the time of the delivery attempt.", "UPDATE"),
}
# fmt: on

# Service level -> the ``service`` object.  Only UPS Ground has a code pair in the sources
# (SPEC example: code 518, levelCode 011); the other names are the product names of the
# N§1.9 test-number table, printed without codes rather than with invented ones. No source
# names a cross-border economy product, so international economy prints UPS Ground.
_SERVICES: dict[tuple[Service, bool], dict[str, str]] = {
    (Service.ground, False): {"code": "518", "description": "UPS Ground", "levelCode": "011"},
    (Service.ground, True): {"code": "518", "description": "UPS Ground", "levelCode": "011"},
    (Service.express, False): {"description": "UPS Next Day Air Saver"},
    (Service.express, True): {"description": "UPS Worldwide Express"},
    (Service.priority, False): {"description": "UPS 2nd Day Air"},
    (Service.priority, True): {"description": "UPS Worldwide Express"},
    (Service.economy, False): {"description": "UPS SurePost"},
    (Service.economy, True): {"description": "UPS Ground"},
}

_TIMED_SERVICES = frozenset({Service.express, Service.priority})
_NO_DELIVERY_KINDS = frozenset({EventKind.cancelled, EventKind.returned_to_sender})
_NO_DELIVERY_REASONS = frozenset(
    {ExceptionReason.lost, ExceptionReason.damaged, ExceptionReason.refused}
)
_RESCHEDULING_KINDS = frozenset(
    {EventKind.exception, EventKind.address_corrected, EventKind.delivery_attempted}
)
_KG_TO_LBS = 2.20462


def status_of(event: Event) -> UpsStatus:
    """The UPS type, codes and text for a canonical event (description override applied)."""
    if event.kind is EventKind.exception:
        base = REASON_STATUS[event.reason or ExceptionReason.delay]
    else:
        base = KIND_STATUS[event.kind]
    if event.description is None:
        return base
    return UpsStatus(base.type, base.code, base.status_code, event.description, base.milestone)


class Options(NamedTuple):
    """The query flags that change a tracking body."""

    signature: bool = False
    pod: bool = False
    milestones: bool = False


# ------------------------------------------------------------------------------ rendering


def _offset(local: datetime) -> str:
    delta = local.utcoffset()
    minutes = int(delta.total_seconds() // 60) if delta is not None else 0
    sign = "-" if minutes < 0 else "+"
    minutes = abs(minutes)
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _activity(event: Event, status: UpsStatus) -> dict[str, Any]:
    # Cities upper-case as in PM ("PARAMUS"); names and streets as the shipment has them.
    place = event.place
    location: dict[str, Any]
    if event.kind is EventKind.label_created:
        # PM: the label record carries only the country, no city and no SLIC.
        location = {"address": {"countryCode": place.country, "country": place.country}}
    else:
        address: dict[str, str] = {"city": place.city.upper()}
        if place.state:
            address["stateProvince"] = place.state
        address["countryCode"] = place.country
        address["country"] = place.country
        location = {"address": address, "slic": place.facility_id}
    local = event.local
    return {
        "location": location,
        "status": {
            "type": status.type,
            "description": status.description,
            "code": status.code,
            "statusCode": status.status_code,
        },
        "date": local.strftime("%Y%m%d"),
        "time": local.strftime("%H%M%S"),
        "gmtDate": event.at.strftime("%Y%m%d"),
        "gmtOffset": _offset(local),
        "gmtTime": event.at.strftime("%H:%M:%S"),
    }


def _delivery(
    shipment: Shipment, visible: tuple[Event, ...], last: Event
) -> tuple[list[dict[str, str]], dict[str, str] | None]:
    """deliveryDate[] and deliveryTime: DEL once delivered, else SDD (or RDD after trouble).

    ``shipment`` is the plan (its whole timeline), ``visible`` what the answer shows and
    ``last`` its current (latest) event.
    """
    tz = zone(shipment.recipient.place.tz)
    for event in reversed(visible):
        if event.kind is EventKind.delivered:
            local = event.local
            return (
                [{"type": "DEL", "date": local.strftime("%Y%m%d")}],
                {"type": "DEL", "endTime": local.strftime("%H%M%S")},
            )
    if last.kind in _NO_DELIVERY_KINDS or (
        last.kind is EventKind.exception and last.reason in _NO_DELIVERY_REASONS
    ):
        return [], None
    if any(e.kind in _RESCHEDULING_KINDS for e in visible):
        planned = next((e for e in shipment.events if e.kind is EventKind.delivered), None)
        if planned is not None:
            return [{"type": "RDD", "date": planned.local.strftime("%Y%m%d")}], {"type": "EOD"}
    expected = shipment.expected_delivery
    if expected is None:
        return [], None
    local = expected.astimezone(tz)
    dates = [{"type": "SDD", "date": local.strftime("%Y%m%d")}]
    if shipment.service in _TIMED_SERVICES:
        # SPEC DeliveryTime: CMT (commit time) carries endTime; EOD carries none.
        return dates, {"type": "CMT", "endTime": local.strftime("%H%M%S")}
    return dates, {"type": "EOD"}


def _package_address(kind: str, party: Party, *, shipper: bool) -> dict[str, Any]:
    place = party.place
    address: dict[str, str] = {}
    if place.street:
        address["addressLine1"] = place.street
    address["city"] = place.city.upper()
    if place.state:
        address["stateProvince"] = place.state
    if place.postal_code:
        address["postalCode"] = place.postal_code
    address["countryCode"] = place.country
    address["country"] = place.country
    entry: dict[str, Any] = {"type": kind}
    if shipper and party.company:
        entry["name"] = party.company
        entry["attentionName"] = party.name
    else:
        entry["name"] = party.name
    entry["address"] = address
    return entry


def _weight(shipment: Shipment) -> dict[str, str]:
    # The shipper's unit: pounds from the US, kilograms elsewhere (N§1.4: LBS | KGS).
    if shipment.shipper.place.country == "US":
        return {"unitOfMeasurement": "LBS", "weight": f"{shipment.weight_kg * _KG_TO_LBS:.2f}"}
    return {"unitOfMeasurement": "KGS", "weight": f"{shipment.weight_kg:.2f}"}


def _milestones(statuses: list[UpsStatus]) -> list[dict[str, Any]]:
    """Reached milestones, oldest first; a run of one category is one milestone.

    SPEC: ``linkedActivity`` is the 0-based index (newest first) of the activity that
    completed the milestone, ``category`` is present only in the COMPLETE state. Only
    reached milestones are listed: the sources name no literal for a pending state.
    """
    out: list[dict[str, Any]] = []
    last_category: str | None = None
    newest = len(statuses) - 1
    for i, status in enumerate(statuses):
        if status.milestone is None:
            continue
        entry = {
            "category": status.milestone,
            "code": status.status_code,
            "current": False,
            "description": STATUS_NAMES[status.status_code],
            "linkedActivity": str(newest - i),
            "state": "COMPLETE",
        }
        if status.milestone == last_category:
            out[-1] = entry
        else:
            out.append(entry)
        last_category = status.milestone
    if out:
        out[-1]["current"] = True
    return out


def _png(width: int, height: int) -> bytes:
    """A valid grayscale PNG with a diagonal stroke: the stand-in signature image."""
    rows = b"".join(
        b"\x00" + bytes(0 if abs(x * height - y * width) < width else 255 for x in range(width))
        for y in range(height)
    )

    def chunk(tag: bytes, data: bytes) -> bytes:
        body = tag + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


SIGNATURE_IMAGE = base64.b64encode(_png(48, 16)).decode()
"""Base64 of a small valid PNG, sent as ``deliveryInformation.signature.image``."""


def _pod(shipment: Shipment, delivered: Event, service: str) -> str:
    local = delivered.local
    doc = (
        "<html><head><title>Proof of Delivery</title></head><body>"
        "<h1>Proof of Delivery</h1>"
        f"<p>Tracking Number: {html.escape(shipment.number)}</p>"
        f"<p>Service: {html.escape(service)}</p>"
        f"<p>Delivered On: {local.strftime('%m/%d/%Y %I:%M %p')}</p>"
        f"<p>Delivered To: {html.escape(shipment.recipient.place.city.upper())}, "
        f"{html.escape(shipment.recipient.place.country)}</p>"
        "<p>Left At: Front Door</p>"
        f"<p>Received By: {html.escape(shipment.signer)}</p>"
        "</body></html>"
    )
    return base64.b64encode(doc.encode()).decode()


def render(
    shipment: Shipment, count: int, options: Options, plan: Shipment | None = None
) -> dict[str, Any]:
    """The 200 body for a shipment showing its first ``count`` events (count >= 1).

    Pure: depends only on the shipment, the count and the options, so the render cache
    can keep the bytes. Events are printed in the list's order, newest (last) first, even
    when quirks have made them unsorted; the current status is the latest event's.
    ``plan`` is the unquirked shipment when ``shipment`` is a quirked copy, whose events
    stop at the visible ones: delivery dates still come from the whole planned timeline.
    """
    visible = shipment.events[:count]
    statuses = [status_of(e) for e in visible]
    activity = [_activity(e, s) for e, s in zip(reversed(visible), reversed(statuses), strict=True)]
    # The current status is the latest scan's: the last one, unless quirks have put the
    # list out of order (ties go to the later position, so a clean timeline's last wins).
    latest = max(range(count), key=lambda i: (visible[i].at, i)) if count > 1 else 0
    current = statuses[latest]
    name = STATUS_NAMES[current.status_code]
    dates, time = _delivery(plan or shipment, visible, visible[latest])
    service = _SERVICES[(shipment.service, shipment.international)]

    package: dict[str, Any] = {"trackingNumber": shipment.number, "deliveryDate": dates}
    if time is not None:
        package["deliveryTime"] = time
    package["activity"] = activity
    # N§1.4: live currentStatus puts the 3-digit code in ``code`` (the spec example has the
    # 2-char activity code there); statusCode repeats it.
    package["currentStatus"] = {
        "type": current.type,
        "description": name,
        "code": current.status_code,
        "statusCode": current.status_code,
        "simplifiedTextDescription": name,
    }
    package["statusCode"] = current.status_code
    package["statusDescription"] = name
    package["packageAddress"] = [
        _package_address("ORIGIN", shipment.shipper, shipper=True),
        _package_address("DESTINATION", shipment.recipient, shipper=False),
    ]
    package["weight"] = _weight(shipment)
    package["service"] = service
    delivered = next((e for e in reversed(visible) if e.kind is EventKind.delivered), None)
    if delivered is not None:
        info: dict[str, Any] = {"location": "Front Door", "receivedBy": shipment.signer}
        if options.signature:
            info["signature"] = {"image": SIGNATURE_IMAGE}
        if options.pod:
            info["pod"] = {"content": _pod(shipment, delivered, service["description"])}
        package["deliveryInformation"] = info
    if options.milestones:
        package["milestones"] = _milestones(statuses)
    package["packageCount"] = 1
    return {
        "trackResponse": {"shipment": [{"inquiryNumber": shipment.number, "package": [package]}]}
    }


def not_found_body(inquiry: str) -> dict[str, Any]:
    """Production's answer for an unknown number: a shipment with only a warning (N§1.6)."""
    return {
        "trackResponse": {
            "shipment": [
                {
                    "inquiryNumber": inquiry,
                    "warnings": [{"code": "TW0001", "message": "Tracking Information Not Found"}],
                }
            ]
        }
    }


# ---------------------------------------------------------------------------- data faults

# N§1.5 lists no activity code "ZZ" and says status codes 150-152 are absent from the
# appendix: a scan carrying them is one no documented table explains. (The 688-row
# package-exception table of UPS-APPX is not copied here, so that "ZZ" is absent from it
# too is [unverified].)
UNKNOWN_ACTIVITY_CODE = "ZZ"
UNKNOWN_STATUS_CODE = "150"

# wrong_offsets: the offset printed for every scan whose real offset differs from it: local
# wall-clock times labelled as UTC. No source says which wrong offset UPS prints
# [unverified]. Scans really at UTC get US Eastern standard time (UPS's home, Atlanta).
WRONG_OFFSET = "+00:00"
_WRONG_OFFSET_ALT = "-05:00"

# padded_number: the number right-padded with spaces to the longest inquiry number the API
# takes (34, N§1.3), as a fixed-width field would print it. UPS text fields do carry
# trailing spaces ("DELIVERED ", N§1.4); a padded number in live data is [unverified].
PADDED_WIDTH = 34

# Lies that replace the whole answer with production's not-found form.
_NOT_FOUND_LIES = frozenset({"ok_with_error", "mixed_results"})

_1Z = re.compile(r"1Z[0-9A-Z]{15}[0-9]", re.ASCII).fullmatch


def _next_char(c: str) -> str:
    if c.isdigit():
        return str((int(c) + 1) % 10)
    if "A" <= c <= "Z":
        return chr((ord(c) - ord("A") + 1) % 26 + ord("A"))
    return "0"


def other_number(number: str) -> str:
    """Another number of the same format, derived from ``number`` (the ``wrong_number`` lie).

    A 1Z number becomes its neighbour parcel: same shipper account and service, the last
    package character stepped, and a valid check digit (N§1.8). Any other form has its
    last character stepped.
    """
    if _1Z(number):
        body = number[2:16] + _next_char(number[16])
        return "1Z" + body + str(numbers.ups_1z_check_digit(body))
    return number[:-1] + _next_char(number[-1])


def apply_format_faults(
    body: dict[str, Any], quirks: frozenset[str], lies: frozenset[str]
) -> dict[str, Any]:
    """Apply the UPS-format quirks and the ``wrong_number`` lie to a rendered 200 body.

    The timeline quirks (duplicates, order, regression, future times, non-ASCII places)
    are already in the events the body was rendered from; these change only the format.
    The body is changed in place and returned.
    """
    shipment = body["trackResponse"]["shipment"][0]
    package: dict[str, Any] = shipment["package"][0]
    if "empty_events" in quirks:
        # Found, with its status, but no scans at all.
        package["activity"] = []
    activities: list[dict[str, Any]] = package["activity"]
    if "missing_offsets" in quirks:
        # Only the local date/time (no separators, no offset) is left: nothing tells
        # which zone it is in (N§1.4, N§6 item 5). All three fields are optional in SPEC.
        for activity in activities:
            for key in ("gmtDate", "gmtTime", "gmtOffset"):
                activity.pop(key, None)
    if "wrong_offsets" in quirks:
        # gmtDate/gmtTime stay right; gmtOffset no longer matches the scan's place, so
        # local date+time+offset and gmtDate+gmtTime disagree (N§6 item 5).
        for activity in activities:
            if "gmtOffset" in activity:
                real = activity["gmtOffset"]
                activity["gmtOffset"] = WRONG_OFFSET if real != WRONG_OFFSET else _WRONG_OFFSET_ALT
    if "unknown_codes" in quirks:
        # The newest scan (and so the current status) carries codes no table has; the
        # descriptions stay, as they would for a code UPS added after the client shipped.
        if activities:
            status = activities[0]["status"]
            status["code"] = UNKNOWN_ACTIVITY_CODE
            status["statusCode"] = UNKNOWN_STATUS_CODE
        current = package["currentStatus"]
        current["code"] = current["statusCode"] = UNKNOWN_STATUS_CODE
        package["statusCode"] = UNKNOWN_STATUS_CODE
        for milestone in package.get("milestones", ()):
            if milestone.get("linkedActivity") == "0":
                milestone["code"] = UNKNOWN_STATUS_CODE
    if "missing_optional_fields" in quirks:
        # N§6 item 11: nested objects parsers assume. Every field here is optional in SPEC
        # (no schema of Tracking.yaml has a ``required`` list). Scans keep only the SLIC
        # (the label record, which has no SLIC, loses its location), addresses go, and so
        # do the package's service and weight.
        for activity in activities:
            location = activity.get("location", {})
            location.pop("address", None)
            if not location:
                activity.pop("location", None)
        for entry in package.get("packageAddress", ()):
            entry.pop("address", None)
        package.pop("service", None)
        package.pop("weight", None)
    number: str = package["trackingNumber"]
    if "wrong_number" in lies:
        number = other_number(number)
    if "lowercase_number" in quirks:
        # Production echoes numbers as sent, lower case included (UPS-ISS #166, N§1.6).
        number = number.lower()
    if "padded_number" in quirks:
        number = number.ljust(PADDED_WIDTH)
    shipment["inquiryNumber"] = package["trackingNumber"] = number
    return body


def faulty_body(shipment: Shipment, count: int, options: Options, decision: Decision) -> bytes:
    """The 200 body showing the decision's quirks and ``wrong_number`` lie.

    Pure, like :func:`render`: the handler caches it under the shipment's key plus the
    decision's quirks and lies, so clean and faulty bodies never mix.
    """
    shown, shown_count = quirks.apply(shipment, count, decision.quirks)
    body = render(shown, shown_count, options, plan=shipment)
    return dumps(apply_format_faults(body, decision.quirks, decision.lies))


def _data_faults(request: Request) -> Decision:
    """The data faults of a request; on the clean path one dict lookup.

    ``faulting.data_faults`` reads ``request.state``, whose miss costs building a
    ``State`` and raising an AttributeError (about 3 µs, 40 % of this handler's clean
    path in-process). ``request.state`` stores into ``scope["state"]``, so the key is
    looked up there first and the official accessor is used only when it is set.
    """
    state = request.scope.get("state")
    if not state or "faults" not in state:
        return CLEAN
    return faulting.data_faults(request)


# --------------------------------------------------------------------------------- errors


def error_body(code: str, message: str) -> bytes:
    """The UPS error envelope every non-2xx carries (N§1.6)."""
    return dumps({"response": {"errors": [{"code": code, "message": message}]}})


# N§1.6 [obs]: bad, expired or missing bearer tokens.
_INVALID_AUTH = error_body("250002", "Invalid Authentication Information.")
# N§1.6 [obs: KAR-UPS]: structurally invalid inquiry numbers.
_INVALID_NUMBER = error_body("TV1002", "Invalid inquiry number")
# SPEC 404 "Tracking number information not found". The spec gives no code; TW0001 is the
# code production uses for the same condition.
_SPEC_NOT_FOUND = error_body("TW0001", "Tracking number information not found")
# SPEC requires transId and transactionSrc but neither NOTES nor the spec says what production
# answers without them, so the spec's 400 envelope; code and wording are ours.
_MISSING_TRANS_ID = error_body("400", "Missing required header: transId")
_MISSING_TRANS_SRC = error_body("400", "Missing required header: transactionSrc")
# N§1.2 [obs: karrio #503]: unknown client id (also: no or unreadable Basic credentials,
# wrong secret).
_BAD_CLIENT = error_body("10401", "ClientId is Invalid")
# OAUTH declares 400 "Invalid Request" without a code; 10400 follows the 10401 / 10429
# pattern of the other token-gateway errors (N§1.2, N§1.6).
_INVALID_REQUEST = error_body("10400", "Invalid Request")

# Fault answers per (status, endpoint); the envelope is N§1.6's for every status. Where a
# literal has no source the comment says so; messages otherwise are the observed bodies or
# the spec's response descriptions.
_FAULT_ERRORS: dict[tuple[int, str], bytes] = {
    # N§1.6 [obs: KAR-UPS]: the 400 production sends a tracking request.
    (400, "track"): _INVALID_NUMBER,
    # OAUTH 400 "Invalid Request" (code: see _INVALID_REQUEST).
    (400, "token"): _INVALID_REQUEST,
    # N§1.6 [obs]: bad, expired or missing bearer, or an app without the Tracking product
    # (N§6 item 3): 250002 for an expired token and for a revoked credential's token alike.
    (401, "track"): _INVALID_AUTH,
    # N§1.2 [obs: karrio #503]: the token endpoint's refusal of a client id.
    (401, "token"): _BAD_CLIENT,
    # SPEC / OAUTH 403 "Blocked Merchant"; the code is [unverified] (no source gives one;
    # 10403 follows the gateway's 10400 / 10401 / 10429 pattern).
    (403, "track"): error_body("10403", "Blocked Merchant"),
    (403, "token"): error_body("10403", "Blocked Merchant"),
    # SPEC 404 "Tracking number information not found" (see _SPEC_NOT_FOUND).
    (404, "track"): _SPEC_NOT_FOUND,
    # OAUTH declares no 404; code and message [unverified].
    (404, "token"): error_body("10404", "Resource Not Found"),
    # N§1.6, N§1.7 [obs: UPS-ISS #8, #123]: 10429 "Too Many Requests", no rate-limit
    # headers. OAUTH names the token endpoint's 429 "Quota Limit Exceeded"; no body of it
    # was observed, so the token endpoint sends the observed body too.
    (429, "track"): error_body("10429", "Too Many Requests"),
    (429, "token"): error_body("10429", "Too Many Requests"),
}
# N§1.6: 500 / 503 in the same envelope [spec]; the messages are the SPEC response
# descriptions. Codes, and 502 / 504 entirely, are [unverified]: no source shows them.
_SERVER_ERRORS: dict[int, bytes] = {
    500: error_body("10500", "Internal server error"),
    502: error_body("10502", "Bad Gateway"),
    503: error_body("10503", "Resource is not available"),
    504: error_body("10504", "Gateway Timeout"),
}


def fault_error_body(status: int, endpoint: str) -> bytes:
    """The UPS body sent with a fault's HTTP status on the token or track endpoint."""
    body = _FAULT_ERRORS.get((status, "token" if endpoint == "token" else "track"))
    if body is None:
        body = _SERVER_ERRORS.get(status) or error_body(str(status), "Error")
    return body


def error_response(
    status: int, endpoint: str, retry_after: int | None, reason: str | None
) -> Response:
    """A fault's HTTP error in the UPS envelope; Retry-After only when the fault sets one.

    ``reason`` ("expired" / "revoked") does not change the body: UPS answers both with
    the same 401 per endpoint (N§1.6, N§1.2).
    """
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return raw(fault_error_body(status, endpoint), status, headers)


def replay_credential(scope: Scope) -> str | None:
    """What a clean tracking answer depends on besides the URL and the clock: the bearer
    token (transId and transactionSrc only need to be there). None: never replay."""
    authorization, trans_id, trans_src = _track_headers(scope)
    if authorization is None or not trans_id.strip() or not trans_src.strip():
        return None
    # Interned: every kept answer of one client shares one copy of its (long) bearer token.
    return sys.intern(authorization)


def _track_headers(scope: Scope) -> tuple[str | None, str, str]:
    """Authorization, transId and transactionSrc (first of each; ASGI names are lower-case)
    in one pass over the raw list: cheaper than three ``request.headers.get``."""
    authorization: str | None = None
    trans_id = trans_src = None
    for key, value in scope["headers"]:
        if key == b"authorization":
            if authorization is None:
                authorization = value.decode("latin-1")
        elif key == b"transid":
            if trans_id is None:
                trans_id = value.decode("latin-1")
        elif key == b"transactionsrc" and trans_src is None:
            trans_src = value.decode("latin-1")
    return authorization, trans_id or "", trans_src or ""


async def describe(request: Request) -> tuple[str, tuple[str, ...]]:
    """(tenant, tracking numbers) of a request as the handlers would name them; never raises.

    Token endpoint: the ``/t/{tenant}`` prefix, else the tenant header, else the Basic
    client id; no numbers. Tracking: the prefix, else the bearer token's tenant (the tenant
    header when the token is bad), and the normalized inquiry number.
    """
    try:
        scope = request.scope
        authorization = header(scope, b"authorization")
        if scope["path"].endswith(TOKEN_PATH):
            credentials = basic_credentials(authorization)
            return tenant_for(request, credentials[0] if credentials else ""), ()
        sim: Simulation = scope["app"].state["sim"]
        tenant = bearer_tenant(request, sim.tokens, NAME, authorization)
        inquiry = scope.get("path_params", {}).get("inquiryNumber")
        return tenant, (numbers.normalize(inquiry),) if inquiry else ()
    except Exception:  # a fault hook must never be the reason a request fails
        return "", ()


def _flag(value: str | None) -> bool:
    # SPEC: string flags, default "false".
    return value is not None and value.strip().lower() == "true"


_NO_OPTIONS = Options()
_OPTIONS_BY_QUERY: dict[bytes, Options] = {}


def _options(query: bytes) -> Options:
    """The flags of a raw query string; clients repeat the same few, so parse each once."""
    options = _OPTIONS_BY_QUERY.get(query)
    if options is None:
        if b"true" not in query.lower():
            options = _NO_OPTIONS
        else:
            q = QueryParams(query)
            options = Options(
                _flag(q.get("returnSignature")),
                _flag(q.get("returnPOD")),
                _flag(q.get("returnMilestones")),
            )
        if len(_OPTIONS_BY_QUERY) >= 1024:
            _OPTIONS_BY_QUERY.clear()
        _OPTIONS_BY_QUERY[query] = options
    return options


# --------------------------------------------------------------------------------- routes


def routes(sim: Simulation) -> list[BaseRoute]:
    """The token and tracking endpoints at their real paths."""
    spec_not_found = sim.settings.not_found == "spec"

    async def token(request: Request) -> Response:
        credentials = basic_credentials(request.headers.get("authorization"))
        if credentials is None:
            return raw(_BAD_CLIENT, 401)
        client_id, secret = credentials
        if not sim.accepts(NAME, client_id, secret):
            return raw(_BAD_CLIENT, 401)
        form = await form_body(request)
        if form is None or form.get("grant_type") != "client_credentials":
            return raw(_INVALID_REQUEST, 400)
        tenant = tenant_for(request, client_id)
        now = sim.clock.now(tenant)
        access_token, _ = sim.tokens.issue(
            carrier=NAME, client_id=client_id, tenant=tenant, now=now, lifetime=TOKEN_LIFETIME
        )
        # N§1.2: this field order, every value a string, issued_at in epoch milliseconds.
        return respond(
            {
                "token_type": "Bearer",
                "issued_at": str(int(now * 1000)),
                "client_id": client_id,
                "access_token": access_token,
                "scope": "",
                "expires_in": str(TOKEN_LIFETIME),
                "refresh_count": "0",
                "status": "approved",
            }
        )

    async def track(request: Request) -> Response:
        authorization, trans_id, trans_src = _track_headers(request.scope)
        try:
            claims = sim.tokens.decode(bearer(authorization), NAME)
        except TokenError:
            return raw(_INVALID_AUTH, 401)
        if tenant_mismatch(request, claims):
            return raw(_INVALID_AUTH, 401)
        tenant = claims.tenant
        now = sim.clock.now(tenant)
        if now >= claims.expires_at:
            return raw(_INVALID_AUTH, 401)
        if not trans_id.strip():
            return raw(_MISSING_TRANS_ID, 400)
        if not trans_src.strip():
            return raw(_MISSING_TRANS_SRC, 400)
        inquiry: str = request.path_params["inquiryNumber"]
        number = numbers.normalize(inquiry)
        if not numbers.is_plausible(NAME, number):
            return raw(_INVALID_NUMBER, 400)
        shipment = sim.lookup(NAME, number, tenant)
        count = shipment.visible_count(now) if shipment is not None else 0
        if shipment is None or count == 0:
            if spec_not_found:
                return raw(_SPEC_NOT_FOUND, 404)
            # Production echoes the number as sent (UPS-ISS #166 shows lower-case "xxxx").
            return raw(dumps(not_found_body(inquiry)))
        options = _options(request.scope["query_string"])
        found = shipment
        decision = _data_faults(request)
        if decision is not CLEAN and (decision.quirks or decision.lies):
            if decision.lies & _NOT_FOUND_LIES:
                # N§1.6 / N§6 item 1: TW0001 even for numbers the website can track. One
                # number per call, so mixed_results can only be this too; the warning
                # replaces the whole answer, so no other quirk shows.
                return raw(dumps(not_found_body(inquiry)))
            return raw(
                sim.rendered(
                    (found.key, count, options, decision.quirks, decision.lies),
                    lambda: faulty_body(found, count, options, decision),
                )
            )
        key = (found.key, count, options)
        body = sim.rendered(key, lambda: dumps(render(found, count, options)))
        since, until = found.window(count)
        # This answer holds for this credential and URL while the tenant's clock stays in
        # [since, until) and the token is valid: the fault wrapper may replay it.
        request.scope[replay.MARK] = (tenant, since, min(until, claims.expires_at), key)
        return raw(body)

    return [
        Route(TOKEN_PATH, token, methods=["POST"]),
        Route(TRACK_PATH, track, methods=["GET"]),
    ]
