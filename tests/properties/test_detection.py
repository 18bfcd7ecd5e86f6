"""Property 4, detection: the client's format tables agree with the simulator's.

- Every generated number is detected as its carrier. Where the simulator's own validators
  accept the number for several carriers (``00`` + SSCC-18 for FedEx and DHL, FedEx SmartPost
  ``92…`` / ``61…`` / ``02…`` numbers that are USPS IMpb or legacy numbers, any 20-digit
  USPS legacy number that happens to fit one of those), the client may instead raise
  AmbiguousNumber, and it must name the carrier.
- A corrupted number that the simulator's validators reject for its carrier is never
  attributed to that carrier. Corruptions: the check digit replaced by any other digit (always
  detectable: the check digit is a function of the data), and one data digit changed in the
  formats whose algorithm catches every single-digit change (the 3-1 weighted mod 10 of
  IMpb, SSCC-18, FedEx Ground and SmartPost: 3 is invertible mod 10). UPS 1Z is checked with
  ``strict=True``: by default the client accepts bad 1Z check digits, because UPS's own test
  numbers carry them (NOTES §1.8, §6 item 10).
- Spacing, hyphens and case do not change the verdict.
"""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from client.detect import detect
from client.errors import AmbiguousNumber, InvalidNumber, TrackingError
from client.model import Carrier
from simulator import numbers
from simulator.scenario import CARRIERS
from tests.properties.harness import examples

MOD10_FORMATS = frozenset(
    {
        ("fedex", "ground15"),
        ("fedex", "ground96"),
        ("fedex", "sscc20"),
        ("fedex", "smartpost20"),
        ("fedex", "smartpost22"),
        ("usps", "impb22"),
        ("usps", "impb20"),
        ("usps", "impb26"),
        ("usps", "impb30"),
        ("usps", "impb34"),
        ("dhl", "sscc20"),
    }
)
"""Formats checked by the 3-1 weighted mod 10, which catches every single-digit change."""


@st.composite
def numbered(draw: st.DrawFn, carrier: str) -> tuple[str, str]:
    """(format, number): every format of the carrier, not only its default."""
    fmt = draw(st.sampled_from(numbers.formats(carrier)))
    return fmt, numbers.generate(carrier, random.Random(draw(st.integers(0, 2**32))), fmt)


def verdict(number: str, *, strict: bool = False) -> Carrier | TrackingError:
    """The client's detection: a carrier, or the client error it raised."""
    try:
        return detect(number, strict=strict)
    except TrackingError as exc:
        return exc


def check_digit_at(fmt: str, number: str) -> int:
    """Index of the check digit: last, except S10 (two country letters follow it)."""
    return 10 if fmt == "s10" else len(number) - 1


@pytest.mark.parametrize("carrier", CARRIERS)
@settings(max_examples=examples(3.0))
@given(data=st.data())
def test_every_generated_number_is_detected_as_its_carrier(
    carrier: str, data: st.DataObject
) -> None:
    fmt, number = data.draw(numbered(carrier), label="number")
    found = verdict(number)
    shared = len(numbers.detect(number)) > 1
    if isinstance(found, AmbiguousNumber):
        assert shared, f"{fmt} {number} is {carrier}'s alone, yet called ambiguous: {found}"
        assert Carrier(carrier) in found.candidates, f"{fmt} {number}: {found.candidates}"
    else:
        assert found == Carrier(carrier), f"{fmt} {number} detected as {found!r}"


@pytest.mark.parametrize("carrier", CARRIERS)
@settings(max_examples=examples(2.0))
@given(data=st.data())
def test_layout_and_case_do_not_change_the_verdict(carrier: str, data: st.DataObject) -> None:
    _, number = data.draw(numbered(carrier), label="number")
    cuts = sorted(data.draw(st.sets(st.integers(1, len(number) - 1), max_size=4), label="cuts"))
    parts = [number[a:b] for a, b in zip([0, *cuts], [*cuts, len(number)], strict=True)]
    seps = data.draw(st.lists(st.sampled_from([" ", "-", "  "]), min_size=len(parts) - 1,
                              max_size=len(parts) - 1), label="separators")  # fmt: skip
    written = parts[0] + "".join(s + p for s, p in zip(seps, parts[1:], strict=True))
    if data.draw(st.booleans(), label="lower case"):
        written = written.lower()

    def same(v: Carrier | TrackingError) -> object:
        return getattr(v, "candidates", v) if isinstance(v, TrackingError) else v

    assert same(verdict(written)) == same(verdict(number)), written


@pytest.mark.parametrize("carrier", CARRIERS)
@settings(max_examples=examples(3.0))
@given(data=st.data())
def test_corrupted_numbers_are_not_attributed_to_their_carrier(
    carrier: str, data: st.DataObject
) -> None:
    fmt, number = data.draw(numbered(carrier), label="number")
    check = check_digit_at(fmt, number)
    positions = [check]
    if (carrier, fmt) in MOD10_FORMATS:
        positions += [i for i, c in enumerate(number) if c.isdigit() and i != check]
    at = data.draw(st.sampled_from(positions), label="position")
    digit = data.draw(st.sampled_from([d for d in "0123456789" if d != number[at]]), label="digit")
    corrupted = number[:at] + digit + number[at + 1 :]
    if numbers.is_valid(carrier, corrupted):
        return  # by chance another valid number of the carrier (e.g. another format)
    found = verdict(corrupted, strict=True)
    if isinstance(found, AmbiguousNumber):
        assert Carrier(carrier) not in found.candidates, f"{corrupted}: {found.candidates}"
    else:
        assert found != Carrier(carrier), f"{fmt} {number} → {corrupted} still {carrier}"
    if not numbers.detect(corrupted):
        assert isinstance(found, InvalidNumber), f"{corrupted} (valid for no one): {found!r}"
