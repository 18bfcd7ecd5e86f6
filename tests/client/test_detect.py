"""Carrier detection: the NOTES' real sample numbers, ambiguity, and corrupted check digits."""

from __future__ import annotations

import pytest

from client.detect import check_syntax, detect, matches, normalize
from client.errors import AmbiguousNumber, InvalidNumber
from client.model import Carrier

# Real numbers quoted in carrier-specs/NOTES.md (and TND test numbers NOTES cites).
UPS = [
    "1Z1442YY7229014688",  # §1.9 Postman sample
    "1Z5338FF0107231059",  # §1.9 bloodhound CIE number
    "1ZCIETST0111111114",  # §1.9 Track Alert sample
    "1Z12345E0205271688",  # §1.9 CIE test number with a wrong check digit (§1.8)
    "1Z12345E6605272234",
    "990728071",  # §1.9 UPS Freight LTL PRO number (9 digits, no check digit)
]
FEDEX = [
    "449044304137821", "149331877648230", "020207021381215", "403934084723025",
    "920241085725456", "568838414941", "039813852990618", "231300687629630", "797806677146",
    "377101283611590", "852426136339213", "797615467620", "957794015041323", "076288115212522",
    "581190049992", "122816215025810", "843119172384577", "070358180009382",
    "02394653001023698293", "61292701078443410536", "61292700726653585070",
    "02394653018047202719",  # §2.9 SmartPost mock numbers
    "128667043726",  # §2.3 request example
    "9611020987654312345672",  # TND Ground 96
    "9622001900000000000000776632517510",  # TND Ground GSN
    "1001921334250001000300779017972697",  # TND Express 34
]  # fmt: skip
USPS = [
    "9434611206217011894085", "420117419361289691090029427113",
    "4203278000009205596900893430673167", "4205690192023901019232002167055441",
    "92026124161170148800003176", "92041124161170148800003131", "92055124161170148800000274",
    "92148901324734000366090360",  # (22-digit 92… numbers: see the SmartPost test)
    "9361289673090019555035", "9374889680090025188414", "420176039374889681090008004266",
    "EJ958083578US",  # §3.8 S10
]  # fmt: skip
DHL = [
    "7777777770", "8264715546",  # §4.7 Express waybills
    "3318810025", "73891051146",  # TND Express (10 and 11 digits)
    "LY927647359DE",  # §4.7 Post DE S10
    "JD014600006281230701",  # §4.4 spec example piece id
    "GM2951173225174494",  # TND eCommerce
]  # fmt: skip


@pytest.mark.parametrize(
    ("number", "carrier"),
    [(n, Carrier.ups) for n in UPS]
    + [(n, Carrier.fedex) for n in FEDEX]
    + [(n, Carrier.usps) for n in USPS]
    + [(n, Carrier.dhl) for n in DHL],
)
def test_real_numbers_detect_as_their_carrier(number: str, carrier: Carrier) -> None:
    assert detect(number) is carrier


def test_spaces_hyphens_and_case_are_ignored() -> None:
    assert normalize(" 1z 1442yy-7229014688 ") == "1Z1442YY7229014688"
    assert detect("9361 2896 7309 0019 5550 35") is Carrier.usps


def test_sscc_shared_by_fedex_and_dhl_is_ambiguous() -> None:
    # §2.8 and §4.7: "00" + SSCC-18 is a FedEx and a DHL Parcel format (the DHL spec default);
    # the same digits pass the legacy USPS 20 check, a lower tier, listed last.
    with pytest.raises(AmbiguousNumber) as info:
        detect("00340434292135100186")
    assert info.value.candidates == (Carrier.fedex, Carrier.dhl, Carrier.usps)
    assert "carrier=" in info.value.hint
    assert "fedex" in str(info.value) and "dhl" in str(info.value)


def test_foreign_s10_is_ambiguous_between_posts() -> None:
    with pytest.raises(AmbiguousNumber) as info:
        detect("RR123456785CN")
    assert set(info.value.candidates) == {Carrier.usps, Carrier.dhl}


@pytest.mark.parametrize(
    "number", ["9261292700768711948021", "9205590982952107001084", "9241999996333426012948"]
)
def test_smartpost_92_number_is_ambiguous_usps_first(number: str) -> None:
    # A 22-digit 92… IMpb is both a USPS number and a FedEx SmartPost number (and a UPS Mail
    # Innovations one, a lower tier): the caller must say which; USPS, which delivers it,
    # is named first.
    kinds = {m.carrier for m in matches(number) if m.check_ok}
    assert kinds == {Carrier.usps, Carrier.fedex, Carrier.ups}
    with pytest.raises(AmbiguousNumber) as info:
        detect(number)
    assert info.value.candidates == (Carrier.usps, Carrier.fedex, Carrier.ups)


@pytest.mark.parametrize(
    "number",
    [
        "122816215025811",  # FedEx Ground 15
        "568838414942",  # FedEx Express 12
        "9361289673090019555036",  # USPS IMpb
        "EJ958083579US",  # S10
        "7777777771",  # DHL Express
        "LY927647358DE",
        "9611020987654312345673",
    ],
)
def test_corrupted_check_digits_are_rejected(number: str) -> None:
    with pytest.raises(InvalidNumber) as info:
        detect(number)
    assert "check digit" in info.value.message


def test_failed_strong_check_names_the_weak_alternative() -> None:
    # 10 digits failing DHL's mod 7 could still be a UPS freight PRO number (§1.8).
    with pytest.raises(InvalidNumber) as info:
        detect("3251026119")
    assert "carrier='ups'" in info.value.hint


def test_ups_1z_with_bad_check_digit_is_lenient_unless_strict() -> None:
    assert detect("1Z12345E0205271688") is Carrier.ups
    with pytest.raises(InvalidNumber):
        detect("1Z12345E0205271688", strict=True)
    assert detect("1Z5R89390357567127", strict=True) is Carrier.ups  # TND valid


@pytest.mark.parametrize("number", ["", "   ", "hello", "12345", "1Z123"])
def test_non_numbers_are_invalid(number: str) -> None:
    with pytest.raises(InvalidNumber):
        detect(number)


def test_check_syntax_when_carrier_is_given() -> None:
    # Named carriers skip check digits (test numbers fail them) but keep API bounds.
    assert check_syntax("1z12345e0205271688", Carrier.ups) == "1Z12345E0205271688"
    assert check_syntax("3251026119", Carrier.ups) == "3251026119"
    with pytest.raises(InvalidNumber):
        check_syntax("123456", Carrier.ups)  # UPS wants 7–34 characters (§1.3)
    with pytest.raises(InvalidNumber):
        check_syntax("94001/2", Carrier.usps)


def test_ambiguity_lists_lower_tier_fits_too() -> None:
    # A 00-prefixed 20-digit number is an SSCC for FedEx and DHL and a legacy USPS 20.
    with pytest.raises(AmbiguousNumber) as info:
        detect("00393266196359645881")
    assert info.value.candidates == (Carrier.fedex, Carrier.dhl, Carrier.usps)


@pytest.mark.parametrize(
    ("carrier", "low", "high"),
    [(Carrier.ups, 7, 34), (Carrier.fedex, 1, 40), (Carrier.usps, 4, 34), (Carrier.dhl, 1, 50)],
)
def test_check_syntax_bounds_are_inclusive(carrier: Carrier, low: int, high: int) -> None:
    # NOTES §1.3 (UPS 7–34), §3.3 (USPS 4–34); FedEx and DHL state none of their own.
    for length in (low, high):
        assert check_syntax("a" * length, carrier) == "A" * length
    for length in (low - 1, high + 1):
        if length == 0:
            continue
        with pytest.raises(InvalidNumber) as info:
            check_syntax("9" * length, carrier)
        assert info.value.message == (
            f"{carrier.value.upper()} accepts {low}–{high} letters and digits"
        )
        assert info.value.carrier is carrier and info.value.number == "9" * length
        assert info.value.hint == "check the number"


def test_check_syntax_names_what_was_given_when_nothing_is_left() -> None:
    with pytest.raises(InvalidNumber) as info:
        check_syntax(" - ", Carrier.dhl)
    assert info.value.number == " - "


def test_empty_number_says_so() -> None:
    with pytest.raises(InvalidNumber) as info:
        detect(" ")
    assert info.value.message == "empty tracking number"
    assert info.value.hint == "pass a tracking number"


def test_unknown_format_says_what_to_do() -> None:
    with pytest.raises(InvalidNumber) as info:
        detect("hello-world")
    assert info.value.number == "HELLOWORLD"
    assert info.value.message == "not a UPS, FedEx, USPS or DHL tracking number format"
    assert "pass carrier=" in (info.value.hint or "")


def test_a_failed_check_names_the_format_and_the_weak_fits() -> None:
    with pytest.raises(InvalidNumber) as info:
        detect("3251026119")
    assert info.value.message == "check digit does not match (DHL Express)"
    assert info.value.hint == (
        "check the number for a typo, or pass carrier='ups' for a UPS freight PRO number"
    )
    with pytest.raises(InvalidNumber) as strong_only:
        detect("EJ958083579US")
    assert strong_only.value.hint == "check the number for a typo"


def test_ambiguity_says_how_to_choose() -> None:
    with pytest.raises(AmbiguousNumber) as info:
        detect("00340434292135100186")
    assert info.value.hint == "pass carrier='fedex' or 'dhl' or 'usps' to say which carrier to ask"
    assert info.value.number == "00340434292135100186"
    assert str(info.value).startswith(
        "the number fits several carriers' formats (fedex: FedEx SSCC-18; dhl: DHL Parcel SSCC;"
    )


def test_a_weak_format_alone_names_its_carrier() -> None:
    assert detect("12345678901234") is Carrier.dhl  # DHL 14-digit, no check digit
    assert detect("JVGL0123456789") is Carrier.dhl  # DHL Express piece ID
    assert detect("990728071") is Carrier.ups  # UPS freight PRO


def test_matches_reports_each_fitting_format_and_its_check() -> None:
    found = matches("7777777770")
    assert [(m.carrier, m.format, m.tier, m.check_ok) for m in found] == [
        (Carrier.ups, "UPS freight PRO", 3, None),
        (Carrier.dhl, "DHL Express", 1, True),
    ]
