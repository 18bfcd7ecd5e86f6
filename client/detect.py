"""Which carrier a tracking number belongs to, from its format and check digit.

This is the client's own implementation of the rules in ``carrier-specs/NOTES.md`` (§1.8 UPS,
§2.8 FedEx, §3.8 USPS, §4.7 DHL). It deliberately shares no code with the simulator, so the
property tests compare two independent readings of the same rules. Where NOTES names a format
but leaves the exact digit range of its check to its source (the ``tracking_number_data`` set,
"TND" in NOTES), the range TND uses is taken and the format's entry says so.

How a number is resolved:

1. The number is normalised (spaces and hyphens dropped, letters upper-cased).
2. Every format is tried. A format with a check digit is *strong*; one without is *weak*.
3. Strong formats come in two tiers. Tier 1 is a carrier's own numbering (UPS ``1Z``, FedEx
   12/15 digits, USPS IMpb, DHL Express waybills…), and numbering two carriers really share
   (``00``-prefixed SSCC-18 serials of FedEx and DHL; 22-digit ``92…`` FedEx SmartPost numbers,
   which *are* USPS IMpb barcodes). Tier 2 is legacy or secondary numbering: 20-digit SmartPost
   and USPS legacy numbers, UPS Mail Innovations IMpb, S10 items handed to a foreign post.
4. The best tier with a valid match wins. One carrier there → that carrier; several →
   :class:`~client.errors.AmbiguousNumber` naming them, and the caller passes ``carrier=``.
5. Weak formats count only when no strong format even matched the shape: a 10-digit number
   whose DHL mod-7 check fails is reported invalid (a typo is likelier than a UPS freight PRO
   number), and the hint tells the caller which carrier to pass if it really is one.

UPS ``1Z`` numbers are special: UPS's own test numbers carry wrong check digits (NOTES §1.8,
§6 item 10), and ``1Z`` belongs to UPS alone, so a bad ``1Z`` check digit still detects as UPS
unless ``strict=True``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from client.errors import AmbiguousNumber, InvalidNumber
from client.model import Carrier

__all__ = [
    "Match",
    "check_syntax",
    "detect",
    "matches",
    "normalize",
]

_STRIP = re.compile(r"[\s\-]+")


def normalize(number: str) -> str:
    """The number as carriers expect it: no spaces or hyphens, letters upper-case."""
    return _STRIP.sub("", number).upper()


# --------------------------------------------------------------------------------------------
# Check digits (pure; each takes the data characters and returns the expected check digit)
# --------------------------------------------------------------------------------------------


def _mod10_from_right(data: str) -> int:
    """Weights 3,1,3,1… starting at the rightmost data digit; check = (10 − sum mod 10) mod 10.

    This single rule is USPS IMpb (§3.8), USPS legacy 20 (weights 3,1 from the left over an odd
    count of 19 digits is the same thing), GS1/SSCC (§4.7), FedEx Ground 15 (2nd, 4th… of 14
    digits ×3, §2.8) and FedEx SmartPost ("USPS-style", §2.8).
    """
    total = sum(int(c) * (3 if i % 2 == 0 else 1) for i, c in enumerate(reversed(data)))
    return (10 - total % 10) % 10


def _ups_value(char: str) -> int:
    # Letters count as (ASCII − 3) mod 10: A→2, B→3, … (NOTES §1.8).
    return int(char) if char.isdigit() else (ord(char) - 3) % 10


def _ups_1z(data: str) -> int:
    """UPS 1Z check over the 15 characters after ``1Z``; odd 0-based positions doubled."""
    total = sum(_ups_value(c) * (2 if i % 2 == 1 else 1) for i, c in enumerate(data))
    return (10 - total % 10) % 10


_FEDEX_12_WEIGHTS = (3, 1, 7, 3, 1, 7, 3, 1, 7, 3, 1)
_FEDEX_34_WEIGHTS = (1, 7, 3, 1, 7, 3, 1, 7, 3, 1, 7, 3, 1)
_S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)


def _weighted_mod11(data: str, weights: tuple[int, ...]) -> int:
    """FedEx Express rule: sum of weighted digits, (sum mod 11) mod 10 (NOTES §2.8)."""
    return sum(int(c) * w for c, w in zip(data, weights, strict=True)) % 11 % 10


def _s10(serial: str) -> int:
    """UPU S10 check: weights 8,6,4,2,3,5,9,7; 11 − (sum mod 11), 10→0, 11→5 (§3.8)."""
    check = 11 - sum(int(c) * w for c, w in zip(serial, _S10_WEIGHTS, strict=True)) % 11
    return {10: 0, 11: 5}.get(check, check)


def _check_last(rule: Callable[[str], int], data: slice) -> Callable[[str], bool]:
    """A validator: the last character equals ``rule`` applied to ``number[data]``."""

    def valid(number: str) -> bool:
        return number[-1].isdigit() and rule(number[data]) == int(number[-1])

    return valid


def _valid_smartpost(number: str) -> bool:
    # TND's rule behind NOTES' "USPS-style mod 10": the check always covers the "92"
    # application identifier, which 20-digit labels leave off; NOTES' mock numbers
    # (61292701078443410536, 02394653001023698293, …) only pass this way.
    data = number[:-1] if number.startswith("92") else "92" + number[:-1]
    return _mod10_from_right(data) == int(number[-1])


def _valid_impb(number: str) -> bool:
    # An IMpb body may sit behind a "420" + ZIP5 or ZIP+4 routing prefix; the check digit
    # covers the body only (§3.8). Try every split the length allows.
    bodies = [number]
    if number.startswith("420"):
        bodies += [number[8:], number[12:]]
    return any(
        len(body) in (20, 22, 26)
        and body[0] == "9"
        and body[1] in "12345"
        and _mod10_from_right(body[:-1]) == int(body[-1])
        for body in bodies
    )


def _valid_dhl_express(number: str) -> bool:
    # §4.7: the check digit is the data digits, read as one integer, mod 7.
    return int(number[:-1]) % 7 == int(number[-1])


def _valid_s10(number: str) -> bool:
    return _s10(number[2:10]) == int(number[10])


_valid_ups_1z = _check_last(_ups_1z, slice(2, 17))
_valid_fedex_12 = _check_last(lambda d: _weighted_mod11(d, _FEDEX_12_WEIGHTS), slice(0, 11))
_valid_fedex_15 = _check_last(_mod10_from_right, slice(0, 14))
# TND: the Ground 96 check covers the 14-digit shipper + package serial only.
_valid_fedex_96 = _check_last(_mod10_from_right, slice(7, 21))
# TND: both 34-digit FedEx barcodes check their 13-digit serial (characters 21–33).
_valid_fedex_34 = _check_last(lambda d: _weighted_mod11(d, _FEDEX_34_WEIGHTS), slice(20, 33))
# SSCC-18 behind "00" and legacy USPS 20 both check the first 19 digits.
_valid_mod10_20 = _check_last(_mod10_from_right, slice(0, 19))


# --------------------------------------------------------------------------------------------
# The format table
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Format:
    carrier: Carrier
    name: str
    shape: re.Pattern[str]
    check: Callable[[str], bool] | None
    tier: int  # 1 own numbering, 2 shared or legacy, 3 weak (no check digit)
    lenient: bool = False  # a failed check still identifies the carrier (UPS 1Z)


def _fmt(
    carrier: Carrier,
    name: str,
    pattern: str,
    check: Callable[[str], bool] | None,
    tier: int,
    *,
    lenient: bool = False,
) -> _Format:
    return _Format(carrier, name, re.compile(pattern), check, tier, lenient)


_UPS, _FEDEX, _USPS, _DHL = Carrier.ups, Carrier.fedex, Carrier.usps, Carrier.dhl
_IMPB = r"(420([0-9]{5}|[0-9]{9}))?9[1-5]([0-9]{18}|[0-9]{20}|[0-9]{24})"
_FOREIGN_S10 = r"[A-Z]{2}[0-9]{9}(?!US|DE)[A-Z]{2}"

_FORMATS: tuple[_Format, ...] = (
    # UPS (§1.8)
    _fmt(_UPS, "UPS 1Z", r"1Z[0-9A-Z]{15}[0-9]", _valid_ups_1z, 1, lenient=True),
    # §1.8 gives "T/H/J/K/V/A… + 10 digits" without the exact data range of its mod 10,
    # so the shape alone is used; no other carrier writes one letter and ten digits.
    _fmt(_UPS, "UPS waybill", r"[THJKVA][0-9]{10}", None, 3),
    _fmt(_UPS, "UPS freight PRO", r"[0-9]{9,10}", None, 3),
    # Mail Innovations numbers are IMpb barcodes (§1.9 example 9102084383041101186729).
    _fmt(_UPS, "UPS Mail Innovations", _IMPB, _valid_impb, 2),
    # FedEx (§2.8)
    _fmt(_FEDEX, "FedEx Express 12", r"[0-9]{12}", _valid_fedex_12, 1),
    _fmt(_FEDEX, "FedEx Ground 15", r"[0-9]{15}", _valid_fedex_15, 1),
    _fmt(_FEDEX, "FedEx Ground 96", r"96[0-9]{20}", _valid_fedex_96, 1),
    _fmt(_FEDEX, "FedEx Ground GSN", r"96[0-9]{32}", _valid_fedex_34, 1),
    _fmt(_FEDEX, "FedEx Express 34", r"100[0-9]{31}", _valid_fedex_34, 1),
    _fmt(_FEDEX, "FedEx SmartPost", r"(61|02)[0-9]{18}", _valid_smartpost, 2),
    # SSCC-18 serials are the shipper's, not the carrier's: FedEx and DHL both track them,
    # so both sit in tier 1 and such a number is reported ambiguous.
    _fmt(_FEDEX, "FedEx SSCC-18", r"00[0-9]{18}", _valid_mod10_20, 1),
    # USPS (§3.8)
    _fmt(_USPS, "USPS IMpb", _IMPB, _valid_impb, 1),
    _fmt(_USPS, "USPS S10", r"[A-Z]{2}[0-9]{9}US", _valid_s10, 1),
    # A 22-digit 92… SmartPost (Ground Economy) number *is* a USPS IMpb (§2.8, §3.8): the
    # same digits are a FedEx and a USPS number, so neither may be picked silently. Listed
    # after USPS so USPS, which delivers it, is named first.
    _fmt(_FEDEX, "FedEx SmartPost 92", r"92[0-9]{20}", _valid_smartpost, 1),
    _fmt(_USPS, "USPS legacy 20", r"[0-9]{20}", _valid_mod10_20, 2),
    _fmt(_USPS, "S10 (foreign post)", _FOREIGN_S10, _valid_s10, 2),
    # DHL (§4.7)
    _fmt(_DHL, "DHL Express", r"[0-9]{10,11}", _valid_dhl_express, 1),
    _fmt(_DHL, "DHL Parcel SSCC", r"00[0-9]{18}", _valid_mod10_20, 1),
    _fmt(_DHL, "DHL Post S10", r"[A-Z]{2}[0-9]{9}DE", _valid_s10, 1),
    _fmt(_DHL, "S10 (foreign post)", _FOREIGN_S10, _valid_s10, 2),
    _fmt(_DHL, "DHL eCommerce", r"(GM|LX|RX|UV|CN|SG|TH|IN|HK|MY)[0-9A-Z]{10,39}", None, 3),
    _fmt(_DHL, "DHL Express piece ID", r"(JD|JJD|JVGL)[0-9]{8,18}", None, 3),
    _fmt(_DHL, "DHL Parcel 12", r"[0-9]{12}", None, 3),
    _fmt(_DHL, "DHL 14-digit", r"[0-9]{14}", None, 3),
)


@dataclass(frozen=True, slots=True)
class Match:
    """One format a number fits: the carrier, the format's name, and whether its check passed."""

    carrier: Carrier
    format: str
    tier: int
    check_ok: bool | None
    """True/False for formats with a check digit, None for shape-only formats."""


def matches(number: str) -> tuple[Match, ...]:
    """Every format the (normalised) number fits, valid check digit or not."""
    n = normalize(number)
    found: list[Match] = []
    for f in _FORMATS:
        if f.shape.fullmatch(n):
            ok = None if f.check is None else f.check(n)
            found.append(Match(f.carrier, f.name, f.tier, ok))
    return tuple(found)


def _carriers(ms: list[Match]) -> tuple[Carrier, ...]:
    return tuple(dict.fromkeys(m.carrier for m in ms))


_LENIENT = frozenset(f.name for f in _FORMATS if f.lenient)
_NONE: frozenset[str] = frozenset()


def detect(number: str, *, strict: bool = False) -> Carrier:
    """The carrier of a tracking number; raises InvalidNumber or AmbiguousNumber.

    ``strict=True`` also rejects UPS ``1Z`` numbers whose check digit is wrong (UPS's own test
    numbers are such numbers, so the default accepts them).
    """
    n = normalize(number)
    if not n:
        raise InvalidNumber("empty tracking number", number=number, hint="pass a tracking number")
    found = matches(n)
    lenient = _NONE if strict else _LENIENT
    strong = [m for m in found if m.check_ok or (m.check_ok is False and m.format in lenient)]
    for tier in (1, 2):
        in_tier = [m for m in strong if m.tier == tier]
        carriers = _carriers(in_tier)
        if len(carriers) == 1:
            return carriers[0]
        if carriers:
            # Name lower-tier fits too: the caller should see every carrier worth asking.
            fits = in_tier + [m for m in strong if m.tier > tier]
            raise _ambiguous(n, _carriers(fits), fits)
    failed = [m for m in found if m.check_ok is False]
    weak = [m for m in found if m.check_ok is None]
    if failed:
        alternatives = ", ".join(
            f"carrier={m.carrier.value!r} for a {m.format} number" for m in weak
        )
        hint = "check the number for a typo"
        if alternatives:
            hint += f", or pass {alternatives}"
        raise InvalidNumber(
            f"check digit does not match ({', '.join(m.format for m in failed)})",
            number=n,
            hint=hint,
        )
    carriers = _carriers(weak)
    if len(carriers) == 1:
        return carriers[0]
    if carriers:
        raise _ambiguous(n, carriers, weak)
    raise InvalidNumber(
        "not a UPS, FedEx, USPS or DHL tracking number format",
        number=n,
        hint="check the number, or pass carrier= to send it to one carrier as it is",
    )


def _ambiguous(number: str, carriers: tuple[Carrier, ...], ms: list[Match]) -> AmbiguousNumber:
    formats = "; ".join(f"{m.carrier.value}: {m.format}" for m in ms)
    names = " or ".join(repr(c.value) for c in carriers)
    return AmbiguousNumber(
        f"the number fits several carriers' formats ({formats})",
        number=number,
        candidates=carriers,
        hint=f"pass carrier={names} to say which carrier to ask",
    )


# Per-carrier syntax the APIs themselves enforce (NOTES §1.3 UPS 7–34 characters, §3.3 USPS
# alphanumeric 4–34); FedEx and DHL state no bounds, so only "letters and digits" applies.
_BOUNDS: dict[Carrier, tuple[int, int]] = {
    Carrier.ups: (7, 34),
    Carrier.fedex: (1, 40),
    Carrier.usps: (4, 34),
    Carrier.dhl: (1, 50),
}
_ALNUM = re.compile(r"[0-9A-Z]+")


def check_syntax(number: str, carrier: Carrier) -> str:
    """The normalised number if the carrier's API would accept its syntax; else InvalidNumber.

    Used when the caller names the carrier: no check digit is verified, because carriers'
    test numbers often fail theirs (NOTES §6 item 10).
    """
    n = normalize(number)
    low, high = _BOUNDS[carrier]
    if not _ALNUM.fullmatch(n) or not low <= len(n) <= high:
        raise InvalidNumber(
            f"{carrier.value.upper()} accepts {low}–{high} letters and digits",
            carrier=carrier,
            number=n or number,
            hint="check the number",
        )
    return n
