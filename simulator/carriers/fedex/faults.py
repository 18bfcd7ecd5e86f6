"""FedEx data faults: the lies and format quirks applied to a rendered answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from simulator import numbers
from simulator.carriers.fedex.codes import NAME

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
