"""UPS data faults: the format quirks and lies applied to a rendered answer."""

from __future__ import annotations

import re
from typing import Any

from simulator import numbers, quirks
from simulator.carriers.common import (
    dumps,
)
from simulator.carriers.ups.render import Options, render
from simulator.faults import Decision
from simulator.timeline import Shipment

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
