"""Detection's rules over their input range: one check digit per number, exact messages.

``test_detect.py`` holds the real sample numbers; these are properties over generated data:
whatever the data characters, exactly one final digit (for S10, one digit before the country)
makes a format's check pass, and the errors a caller reads name the number and every format.
"""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from client.detect import _check_last, _fmt, _Format, detect, matches
from client.errors import AmbiguousNumber, InvalidNumber
from client.model import Carrier

DIGITS = string.digits
UPPER = string.ascii_uppercase


def digits(n: int) -> st.SearchStrategy[str]:
    return st.text(DIGITS, min_size=n, max_size=n)


def passing_digits(fmt: str, before: str, after: str = "") -> list[str]:
    """The digits d for which ``before + d + after`` fits ``fmt`` with a passing check."""
    passing = []
    for d in DIGITS:
        found = {m.format: m.check_ok for m in matches(before + d + after)}
        assert fmt in found, f"{before + d + after} does not fit {fmt}"
        if found[fmt]:
            passing.append(d)
    return passing


# Each format with a check digit in last place, and the data that precede it.
LAST_DIGIT_FORMATS: list[tuple[str, st.SearchStrategy[str]]] = [
    ("UPS 1Z", st.text(DIGITS + UPPER, min_size=15, max_size=15).map("1Z".__add__)),
    ("FedEx Express 12", digits(11)),
    ("FedEx Ground 15", digits(14)),
    ("FedEx Ground 96", digits(19).map("96".__add__)),
    ("FedEx Ground GSN", digits(31).map("96".__add__)),
    ("FedEx Express 34", digits(30).map("100".__add__)),
    ("FedEx SmartPost", st.tuples(st.sampled_from(["61", "02"]), digits(17)).map("".join)),
    ("FedEx SmartPost 92", digits(19).map("92".__add__)),
    ("FedEx SSCC-18", digits(17).map("00".__add__)),
    ("DHL Parcel SSCC", digits(17).map("00".__add__)),
    ("USPS legacy 20", digits(19)),
    (
        "USPS IMpb",
        st.tuples(st.sampled_from("12345"), st.sampled_from([17, 19, 23])).flatmap(
            lambda t: digits(t[1]).map(("9" + t[0]).__add__)
        ),
    ),
    ("DHL Express", st.one_of(digits(9), digits(10))),
]


@pytest.mark.parametrize(
    ("fmt", "data"), LAST_DIGIT_FORMATS, ids=[f for f, _ in LAST_DIGIT_FORMATS]
)
@given(st.data())
def test_exactly_one_final_digit_passes_each_check(
    fmt: str, data: st.SearchStrategy[str], draw: st.DataObject
) -> None:
    # A check digit is a function of the data: one of the ten digits is right, nine are typos.
    before = draw.draw(data)
    assert len(passing_digits(fmt, before)) == 1


@pytest.mark.parametrize(
    ("fmt", "country"), [("USPS S10", "US"), ("DHL Post S10", "DE"), ("S10 (foreign post)", "CN")]
)
@given(prefix=st.text(UPPER, min_size=2, max_size=2), serial=digits(8))
def test_exactly_one_s10_check_digit_passes(
    fmt: str, country: str, prefix: str, serial: str
) -> None:
    assert len(passing_digits(fmt, prefix + serial, country)) == 1


@given(
    body=st.sampled_from([17, 19, 23]).flatmap(digits).map("94".__add__),
    routing=st.one_of(digits(5), digits(9)),
)
def test_an_impb_body_keeps_its_check_digit_behind_a_routing_prefix(
    body: str, routing: str
) -> None:
    # §3.8: the check digit covers the body only, so the "420" + ZIP prefix changes nothing.
    (right,) = passing_digits("USPS IMpb", body)
    assert right in passing_digits("USPS IMpb", "420" + routing + body)
    assert detect("420" + routing + body + right) is Carrier.usps


@given(
    data=st.text(DIGITS + UPPER, min_size=1, max_size=12),
    last=st.sampled_from(DIGITS + UPPER),
)
def test_a_last_digit_check_accepts_exactly_the_rules_digit(data: str, last: str) -> None:
    # The validator behind every last-digit format: the last character must be a digit and
    # equal the rule over the data slice; a letter there fails without raising.
    def rule(chars: str) -> int:
        return sum(ord(c) for c in chars) % 10

    number = "X" + data + last
    valid = _check_last(rule, slice(1, -1))
    assert valid(number) is (last.isdigit() and rule(data) == int(last))


def test_a_format_entry_keeps_what_it_was_declared_with() -> None:
    def check(number: str) -> bool:
        return number.endswith("7")

    plain = _fmt(Carrier.fedex, "FedEx Test", r"[0-9]{3}", check, 2)
    assert plain == _Format(Carrier.fedex, "FedEx Test", plain.shape, check, 2, False)
    assert plain.shape.pattern == "[0-9]{3}" and plain.shape.fullmatch("123")
    assert _fmt(Carrier.ups, "UPS Test", "1Z", None, 1, lenient=True).lenient is True


def test_an_empty_number_is_named_as_given() -> None:
    with pytest.raises(InvalidNumber) as info:
        detect(" - ")
    assert info.value.number == " - "


def test_a_failed_check_names_every_failed_format_and_the_normalised_number() -> None:
    # "00" + 18 digits fits FedEx and DHL Parcel SSCC and the legacy USPS 20 format (one check
    # shared by all three): a typo fails all of them, listed in table order.
    with pytest.raises(InvalidNumber) as info:
        detect("0034-0434-2921-3510-0187")
    assert info.value.number == "00340434292135100187"
    assert info.value.message == (
        "check digit does not match (FedEx SSCC-18, USPS legacy 20, DHL Parcel SSCC)"
    )


def test_ambiguity_lists_each_fitting_format_once() -> None:
    with pytest.raises(AmbiguousNumber) as info:
        detect("00340434292135100186")
    assert info.value.message == (
        "the number fits several carriers' formats "
        "(fedex: FedEx SSCC-18; dhl: DHL Parcel SSCC; usps: USPS legacy 20)"
    )


def test_an_unknown_format_hint_in_full() -> None:
    with pytest.raises(InvalidNumber) as info:
        detect("hello")
    assert info.value.hint == (
        "check the number, or pass carrier= to send it to one carrier as it is"
    )


# Shape-only formats never overlap (different lengths, or different leading letters), which is
# why detection's "several weak carriers" branch cannot be reached: see EQUIVALENT_MUTANTS.md.
@given(
    st.one_of(
        st.text(DIGITS, min_size=8, max_size=16),
        st.tuples(st.sampled_from(["T", "J", "JD", "JJD", "JVGL", "GM", "TH"]), digits(10)).map(
            "".join
        ),
    )
)
def test_no_number_fits_two_shape_only_formats(number: str) -> None:
    weak = [m for m in matches(number) if m.check_ok is None]
    assert len(weak) <= 1
