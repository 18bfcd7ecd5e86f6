"""Tracking-number formats, check digits, detection and generation for UPS, FedEx, USPS and DHL.

Every format and check-digit rule comes from ``tests/contract/specs/NOTES.md``
(§1.8 UPS, §2.8 FedEx, §3.8 USPS, §4.7 DHL; syntactic bounds from §1.3 and §3.3).
Where NOTES leaves a detail open, the function that fills it says so and why.

``is_valid`` runs once per simulated HTTP request, so the format tables are built once at
import time, indexed by carrier and by length, and every regex is precompiled.
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Callable
from typing import NamedTuple

__all__ = [
    "CARRIERS",
    "Mistake",
    "detect",
    "dhl_express_check_digit",
    "explain",
    "fedex_express_check_digit",
    "format_of",
    "formats",
    "generate",
    "is_plausible",
    "is_valid",
    "mod10_check_digit",
    "normalize",
    "s10_check_digit",
    "ups_1z_check_digit",
]

CARRIERS: tuple[str, ...] = ("ups", "fedex", "usps", "dhl")
"""The carrier names every function here accepts, in detection order."""

_DIGITS = string.digits
_LETTERS = string.ascii_uppercase
_ALNUM = string.digits + string.ascii_uppercase
_ASCII_UPPER = str.maketrans(string.ascii_lowercase, string.ascii_uppercase)

# --------------------------------------------------------------------------------------------
# Check-digit algorithms (pure; inputs are the data characters only, already validated)
# --------------------------------------------------------------------------------------------

_S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)
_FEDEX_EXPRESS_WEIGHTS = (3, 1, 7, 3, 1, 7, 3, 1, 7, 3, 1)
# Byte → 1Z value: digits are themselves, letters (ASCII − 3) mod 10 (§1.8).
_UPS_VALUES = bytes(
    b - 48 if 48 <= b <= 57 else (b - 3) % 10 if 65 <= b <= 90 else 0 for b in range(256)
)


def ups_1z_check_digit(body: str) -> int:
    """UPS 1Z check digit of the 15 characters after ``1Z`` (NOTES §1.8).

    Letters count as ``(ASCII - 3) mod 10`` (A→2, B→3, …); the characters at odd 0-based
    positions are doubled (plain doubling, no digit sum); check = (10 − sum mod 10) mod 10.
    """
    values = body.encode("ascii").translate(_UPS_VALUES)
    total = sum(values[0::2]) + 2 * sum(values[1::2])
    return (10 - total % 10) % 10


def mod10_check_digit(data: str) -> int:
    """Mod-10 check digit, weights 3,1,3,1… from the rightmost data digit (NOTES §2.8, §3.8, §4.7).

    This one rule covers: USPS IMpb (§3.8, "from the rightmost data digit moving left, weight
    3,1"), USPS legacy 20 (§3.8, "3,1 from the left over 19 digits" — the same weights for an
    odd count), GS1 SSCC-18 (§4.7 "weights 3,1 from the right"; §2.8 SSCC), FedEx Ground 15
    (§2.8, "2nd, 4th … digit from the left ×3" over 14 digits — again the same weights) and
    FedEx SmartPost (§2.8 "USPS-style mod 10"). check = (10 − sum mod 10) mod 10.
    """
    raw = data.encode("ascii")
    odd = raw[-1::-2]  # rightmost data digit and every second one leftwards: weight 3
    even = raw[-2::-2]  # weight 1
    total = 3 * (sum(odd) - 48 * len(odd)) + sum(even) - 48 * len(even)
    return (10 - total % 10) % 10


def fedex_express_check_digit(data: str) -> int:
    """FedEx Express 12 check digit of the first 11 digits (NOTES §2.8).

    Weights 3,1,7,3,1,7,3,1,7,3,1 left to right; check = (sum mod 11) mod 10.
    """
    total = 0
    for weight, ch in zip(_FEDEX_EXPRESS_WEIGHTS, data, strict=True):
        total += weight * (ord(ch) - 48)
    return total % 11 % 10


def s10_check_digit(serial: str) -> int:
    """UPU S10 check digit of the 8 serial digits (NOTES §3.8, used by DHL Post DE per §4.7).

    Weights 8,6,4,2,3,5,9,7; check = 11 − (sum mod 11), with 10 → 0 and 11 → 5.
    """
    total = 0
    for weight, ch in zip(_S10_WEIGHTS, serial, strict=True):
        total += weight * (ord(ch) - 48)
    check = 11 - total % 11
    if check == 10:
        return 0
    if check == 11:
        return 5
    return check


def dhl_express_check_digit(data: str) -> int:
    """DHL Express waybill check digit: the 9 (or 10) data digits as an integer, mod 7 (§4.7)."""
    return int(data) % 7


# --------------------------------------------------------------------------------------------
# Per-format validators (take the whole normalized number, after its regex matched)
# --------------------------------------------------------------------------------------------


def _last_is(check: int, number: str) -> bool:
    return ord(number[-1]) - 48 == check


def _valid_1z(n: str) -> bool:
    return _last_is(ups_1z_check_digit(n[2:17]), n)


def _valid_mod10(n: str) -> bool:
    return _last_is(mod10_check_digit(n[:-1]), n)


def _valid_fedex_express(n: str) -> bool:
    return _last_is(fedex_express_check_digit(n[:11]), n)


def _valid_fedex_ground96(n: str) -> bool:
    # §2.8 gives the layout (96 + SCNC 2 + service 3 + shipper 7 + package 7 + check) and
    # "mod 10" without the span. The check is the Ground-15 rule over shipper + package (the
    # last 15 digits are the Ground tracking number), as in NOTES' source TND
    # (couriers/fedex.json, "FedEx Ground 96 (22)": SerialNumber = ShipperId + PackageId).
    return _last_is(mod10_check_digit(n[7:21]), n)


def _valid_smartpost20(n: str) -> bool:
    # The 20-digit SmartPost / Ground Economy numbers omit the `92` application identifier,
    # which still counts in the "USPS-style mod 10": all four §2.9 mocks pass only with the
    # implied `92` (TND couriers/fedex.json "FedEx SmartPost" prepends 92 the same way).
    return _last_is(mod10_check_digit("92" + n[:19]), n)


def _valid_impb34(n: str) -> bool:
    # 34 digits = 420 + ZIP5+4 + IMpb-22, or 420 + ZIP5 + IMpb-26 (both occur in §3.9);
    # the check digit covers the IMpb part only, so accept either split whose IMpb part
    # starts with 91–95.
    if n[12] == "9" and "1" <= n[13] <= "5" and _valid_mod10(n[12:]):
        return True
    return n[8] == "9" and "1" <= n[9] <= "5" and _valid_mod10(n[8:])


def _valid_s10(n: str) -> bool:
    return _last_is(s10_check_digit(n[2:10]), n[:11])


def _valid_dhl_express(n: str) -> bool:
    return _last_is(dhl_express_check_digit(n[:-1]), n)


# --------------------------------------------------------------------------------------------
# Generators (draw from the given rng only)
# --------------------------------------------------------------------------------------------


def _digits(rng: random.Random, k: int) -> str:
    return "".join(rng.choices(_DIGITS, k=k))


def _with_mod10(data: str) -> str:
    return data + str(mod10_check_digit(data))


def _gen_1z(rng: random.Random) -> str:
    body = "".join(rng.choices(_ALNUM, k=6)) + _digits(rng, 2) + _digits(rng, 7)
    return "1Z" + body + str(ups_1z_check_digit(body))


def _gen_express12(rng: random.Random) -> str:
    data = _digits(rng, 11)
    return data + str(fedex_express_check_digit(data))


def _gen_ground15(rng: random.Random) -> str:
    return _with_mod10(_digits(rng, 14))


def _gen_ground96(rng: random.Random) -> str:
    serial = _digits(rng, 14)
    return "96" + _digits(rng, 5) + serial + str(mod10_check_digit(serial))


def _gen_sscc20(rng: random.Random) -> str:
    return _with_mod10("00" + _digits(rng, 17))


def _gen_smartpost20(rng: random.Random) -> str:
    data = rng.choice(("61", "02")) + _digits(rng, 17)
    return data + str(mod10_check_digit("92" + data))


def _gen_smartpost22(rng: random.Random) -> str:
    return _with_mod10("92" + _digits(rng, 19))


def _impb_prefix(rng: random.Random) -> str:
    return "9" + rng.choice("12345")


def _gen_impb20(rng: random.Random) -> str:
    return _with_mod10(_digits(rng, 19))


def _gen_impb22(rng: random.Random) -> str:
    return _with_mod10(_impb_prefix(rng) + _digits(rng, 19))


def _gen_impb26(rng: random.Random) -> str:
    return _with_mod10(_impb_prefix(rng) + _digits(rng, 23))


def _gen_impb30(rng: random.Random) -> str:
    return "420" + _digits(rng, 5) + _gen_impb22(rng)


def _gen_impb34(rng: random.Random) -> str:
    return "420" + _digits(rng, 9) + _gen_impb22(rng)


def _gen_s10(country: str) -> Callable[[random.Random], str]:
    def gen(rng: random.Random) -> str:
        serial = _digits(rng, 8)
        service = rng.choice("CELRV") + rng.choice(_LETTERS)
        return service + serial + str(s10_check_digit(serial)) + country

    return gen


def _gen_dhl_express(data_len: int) -> Callable[[random.Random], str]:
    def gen(rng: random.Random) -> str:
        data = _digits(rng, data_len)
        return data + str(dhl_express_check_digit(data))

    return gen


# --------------------------------------------------------------------------------------------
# Format tables
# --------------------------------------------------------------------------------------------


class _Format(NamedTuple):
    name: str
    length: int
    fullmatch: Callable[[str], re.Match[str] | None]
    check: Callable[[str], bool]
    generate: Callable[[random.Random], str]


def _fmt(
    name: str,
    length: int,
    pattern: str,
    check: Callable[[str], bool],
    gen: Callable[[random.Random], str],
) -> _Format:
    return _Format(name, length, re.compile(pattern, re.ASCII).fullmatch, check, gen)


_S10_PATTERN = r"[A-Z]{2}[0-9]{9}[A-Z]{2}"

# First entry of each tuple = generate()'s default (the carrier's most common format).
_FORMATS: dict[str, tuple[_Format, ...]] = {
    "ups": (
        # §1.8: 1Z + account 6 + service 2 + package 7 + check = 18.
        _fmt("1z", 18, r"1Z[0-9A-Z]{15}[0-9]", _valid_1z, _gen_1z),
    ),
    "fedex": (
        _fmt("express12", 12, r"[0-9]{12}", _valid_fedex_express, _gen_express12),
        _fmt("ground15", 15, r"[0-9]{15}", _valid_mod10, _gen_ground15),
        _fmt("ground96", 22, r"96[0-9]{20}", _valid_fedex_ground96, _gen_ground96),
        _fmt("sscc20", 20, r"00[0-9]{18}", _valid_mod10, _gen_sscc20),
        _fmt("smartpost20", 20, r"(?:61|02)[0-9]{18}", _valid_smartpost20, _gen_smartpost20),
        _fmt("smartpost22", 22, r"92[0-9]{20}", _valid_mod10, _gen_smartpost22),
    ),
    "usps": (
        _fmt("impb22", 22, r"9[1-5][0-9]{20}", _valid_mod10, _gen_impb22),
        # 20 digits: IMpb-20 and the legacy 20-digit form share the same weights (§3.8).
        _fmt("impb20", 20, r"[0-9]{20}", _valid_mod10, _gen_impb20),
        _fmt("impb26", 26, r"9[1-5][0-9]{24}", _valid_mod10, _gen_impb26),
        _fmt(
            "impb30",
            30,
            r"420[0-9]{5}9[1-5][0-9]{20}",
            lambda n: _valid_mod10(n[8:]),
            _gen_impb30,
        ),
        _fmt(
            "impb34",
            34,
            r"420(?:[0-9]{9}9[1-5][0-9]{20}|[0-9]{5}9[1-5][0-9]{24})",
            _valid_impb34,
            _gen_impb34,
        ),
        _fmt("s10", 13, _S10_PATTERN, _valid_s10, _gen_s10("US")),
    ),
    "dhl": (
        _fmt("express10", 10, r"[0-9]{10}", _valid_dhl_express, _gen_dhl_express(9)),
        _fmt("express11", 11, r"[0-9]{11}", _valid_dhl_express, _gen_dhl_express(10)),
        _fmt("sscc20", 20, r"00[0-9]{18}", _valid_mod10, _gen_sscc20),
        _fmt("s10", 13, _S10_PATTERN, _valid_s10, _gen_s10("DE")),
    ),
}


def _index_by_length(fmts: tuple[_Format, ...]) -> dict[int, tuple[_Format, ...]]:
    index: dict[int, tuple[_Format, ...]] = {}
    for f in fmts:
        index[f.length] = (*index.get(f.length, ()), f)
    return index


_BY_LENGTH: dict[str, dict[int, tuple[_Format, ...]]] = {
    carrier: _index_by_length(fmts) for carrier, fmts in _FORMATS.items()
}
_BY_NAME: dict[str, dict[str, _Format]] = {
    carrier: {f.name: f for f in fmts} for carrier, fmts in _FORMATS.items()
}
_NAMES: dict[str, tuple[str, ...]] = {
    carrier: tuple(f.name for f in fmts) for carrier, fmts in _FORMATS.items()
}

# What each API accepts syntactically. UPS: inquiryNumber 7–34 characters (§1.3, Tracking.yaml);
# USPS: alphanumeric 4–34 (§3.3, tracking-v3r2 schema). FedEx and DHL specs state no bounds:
# FedEx = digits up to 34 (its longest forms, GSN / Express barcode, are 34; ASTRA 32, §2.8);
# DHL = 4–39 alphanumerics (project convention; no bound in DHL-SPEC).
_PLAUSIBLE: dict[str, Callable[[str], re.Match[str] | None]] = {
    "ups": re.compile(r"[0-9A-Z]{7,34}", re.ASCII).fullmatch,
    "fedex": re.compile(r"[0-9]{1,34}", re.ASCII).fullmatch,
    "usps": re.compile(r"[0-9A-Z]{4,34}", re.ASCII).fullmatch,
    "dhl": re.compile(r"[0-9A-Z]{4,39}", re.ASCII).fullmatch,
}


def _unknown_carrier(carrier: str) -> ValueError:
    return ValueError(f"unknown carrier {carrier!r}; expected one of: {', '.join(CARRIERS)}")


def _table(carrier: str) -> dict[int, tuple[_Format, ...]]:
    try:
        return _BY_LENGTH[carrier]
    except KeyError:
        raise _unknown_carrier(carrier) from None


def _match(table: dict[int, tuple[_Format, ...]], n: str) -> _Format | None:
    for f in table.get(len(n), ()):
        if f.fullmatch(n) is not None and f.check(n):
            return f
    return None


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def normalize(number: str) -> str:
    """Strip surrounding whitespace and inner spaces, upper-case (ASCII letters only)."""
    compact = "".join(number.split())
    # Non-ASCII input is never a valid number; translating only a–z keeps e.g. "ı" or "ſ"
    # from turning into "I"/"S" via str.upper().
    return compact.upper() if compact.isascii() else compact.translate(_ASCII_UPPER)


def is_valid(carrier: str, number: str) -> bool:
    """Format AND check digit valid for that carrier (after normalize)."""
    return _match(_table(carrier), normalize(number)) is not None


def is_plausible(carrier: str, number: str) -> bool:
    """What the carrier's API accepts syntactically (after normalize), no check digit."""
    try:
        fullmatch = _PLAUSIBLE[carrier]
    except KeyError:
        raise _unknown_carrier(carrier) from None
    return fullmatch(normalize(number)) is not None


_TITLES = {"ups": "UPS", "fedex": "FedEx", "usps": "USPS", "dhl": "DHL"}
_SHAPES: dict[str, str] = {
    "ups": "18 characters: 1Z and 16 letters or digits",
    "fedex": "12, 15, 20 or 22 digits",
    "usps": "20, 22, 26, 30 or 34 digits, or 13 characters like EA123456785US",
    "dhl": "10 or 11 digits, 20 digits starting 00, or 13 characters like RR123456785DE",
}


class Mistake(NamedTuple):
    """Why a number is not valid for a carrier, and how to fix it."""

    problem: str
    fix: str

    def __str__(self) -> str:
        return f"{self.problem}; {self.fix}"


def explain(carrier: str, number: str) -> Mistake | None:
    """Why a number is not a valid one of the carrier, with the fix; None when it is valid.

    A number of the right shape whose check digit fails is answered with the same number
    carrying the right check digit, e.g. ``… the check digit should be 0, as in '1Z…0'``.
    """
    table = _table(carrier)
    n = normalize(number)
    if _match(table, n) is not None:
        return None
    title = _TITLES[carrier]
    generate = f"generate one with `carriersim numbers {carrier}`"
    for f in table.get(len(n), ()):
        if f.fullmatch(n) is None:
            continue
        # The check digit is the last character, or the 11th of an S10 (XX123456785US).
        at = 10 if f.name == "s10" else len(n) - 1
        for digit in _DIGITS:
            fixed = n[:at] + digit + n[at + 1 :]
            if fixed != n and f.check(fixed):
                return Mistake(
                    f"{number!r} fails the {title} check digit (format {f.name})",
                    f"the check digit should be {digit}, as in {fixed!r}; or {generate}",
                )
        return Mistake(f"{number!r} fails the {title} check digit (format {f.name})", generate)
    return Mistake(f"{number!r} is not a {title} tracking number ({_SHAPES[carrier]})", generate)


def format_of(carrier: str, number: str) -> str | None:
    """Name of the valid format the number matches (e.g. '1z', 'express12', 's10') or None."""
    f = _match(_table(carrier), normalize(number))
    return None if f is None else f.name


def detect(number: str) -> tuple[str, ...]:
    """Carriers for which is_valid is true, in CARRIERS order (ambiguous numbers give several)."""
    n = normalize(number)
    return tuple(c for c in CARRIERS if _match(_BY_LENGTH[c], n) is not None)


def formats(carrier: str) -> tuple[str, ...]:
    """The format names generate() accepts for the carrier, its default first."""
    try:
        return _NAMES[carrier]
    except KeyError:
        raise _unknown_carrier(carrier) from None


def generate(carrier: str, rng: random.Random, fmt: str | None = None) -> str:
    """A fresh valid number of that carrier (default: its most common format), from rng only."""
    names = formats(carrier)
    name = names[0] if fmt is None else fmt
    try:
        f = _BY_NAME[carrier][name]
    except KeyError:
        raise ValueError(
            f"unknown {carrier} format {fmt!r}; expected one of: {', '.join(names)}"
        ) from None
    return f.generate(rng)
