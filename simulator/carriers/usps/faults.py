"""USPS data faults: the format quirks and lies applied to a rendered answer."""

from __future__ import annotations

import re
from typing import Any

from simulator import numbers, quirks
from simulator.carriers.usps.codes import NAME
from simulator.faults import Decision
from simulator.timeline import Shipment

# --------------------------------------------------------------------------------------------
# Data faults: USPS-format quirks and lies (simulator.faulting.data_faults)
# --------------------------------------------------------------------------------------------


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
      With missing_offsets no offset is left to get wrong: the scan stays offset-less.
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
            offset = ""  # nothing left for wrong_offsets to change (as in 3.0)
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


def faulted_timeline(shipment: Shipment, count: int, decision: Decision) -> tuple[Shipment, int]:
    """The timeline a faulted answer shows: relabelled for ``wrong_number``, then quirked."""
    if "wrong_number" in decision.lies:
        shipment = relabelled(shipment, other_number(shipment.number))
    return quirks.apply(shipment, count, decision.quirks)
