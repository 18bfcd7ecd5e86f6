"""Tracking-number formats and check digits, against tests/contract/specs/NOTES.md.

Algorithms: §1.8 (UPS), §2.8 (FedEx), §3.8 (USPS), §4.7 (DHL). Real sample numbers: §1.9,
§2.9 (and the FedEx spec examples in §2.3), §3.9, §4.8.
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Callable

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from simulator.numbers import (
    CARRIERS,
    detect,
    dhl_express_check_digit,
    fedex_express_check_digit,
    format_of,
    formats,
    generate,
    is_plausible,
    is_valid,
    mod10_check_digit,
    normalize,
    s10_check_digit,
    ups_1z_check_digit,
)

PAIRS = [(carrier, fmt) for carrier in CARRIERS for fmt in formats(carrier)]
pairs = st.sampled_from(PAIRS)
rngs = st.randoms(use_true_random=False)


# --------------------------------------------------------------------------------------------
# Generated numbers
# --------------------------------------------------------------------------------------------


@given(pair=pairs, rng=rngs)
def test_generated_numbers_are_valid_plausible_named_and_detected(
    pair: tuple[str, str], rng: random.Random
) -> None:
    carrier, fmt = pair
    number = generate(carrier, rng, fmt)
    assert number == normalize(number)
    assert is_valid(carrier, number)
    assert is_plausible(carrier, number)
    assert format_of(carrier, number) == fmt
    assert carrier in detect(number)


@given(carrier=st.sampled_from(CARRIERS), rng=rngs)
def test_generate_defaults_to_the_first_listed_format(carrier: str, rng: random.Random) -> None:
    assert format_of(carrier, generate(carrier, rng)) == formats(carrier)[0]


@given(pair=pairs, seed=st.integers(min_value=0, max_value=2**64))
def test_generate_draws_from_rng_only(pair: tuple[str, str], seed: int) -> None:
    carrier, fmt = pair
    assert generate(carrier, random.Random(seed), fmt) == generate(
        carrier, random.Random(seed), fmt
    )


def test_default_formats() -> None:
    assert formats("ups") == ("1z",)
    assert formats("fedex")[0] == "express12"
    assert formats("usps")[0] == "impb22"
    assert formats("dhl")[0] == "express10"
    for required in ("express12", "ground15", "sscc20", "ground96"):
        assert required in formats("fedex")
    for required in ("impb20", "impb22", "impb26", "impb30", "impb34", "s10"):
        assert required in formats("usps")
    for required in ("express10", "sscc20", "s10"):
        assert required in formats("dhl")


# --------------------------------------------------------------------------------------------
# Single-digit changes: what each check digit guarantees, asserted exactly
# --------------------------------------------------------------------------------------------

_FEDEX_EXPRESS_WEIGHTS = (3, 1, 7, 3, 1, 7, 3, 1, 7, 3, 1)
_S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)


def _weighted(digits: str, weights: tuple[int, ...]) -> int:
    return sum(w * int(d) for w, d in zip(weights, digits, strict=True))


def _expected_after_change(carrier: str, fmt: str, n: str, i: int, delta: int) -> bool | None:
    """is_valid(carrier, n with digit i changed by delta), or None where nothing is guaranteed.

    Weights 1 and 3 (mod 10) and 7 (mod 10) are units, so every mod-10 rule with them catches
    any single-digit change in the span it covers. The exceptions, and why:
    - UPS 1Z doubles every second character: 2·δ ≡ 0 (mod 10) for δ = ±5, so a change by 5
      at a doubled position goes unnoticed (§1.8: plain doubling, no digit sum).
    - FedEx Express 12: weights 3/1/7 are units mod 11, so the sum mod 11 always changes; but
      the final "mod 10" maps residues 0 and 10 to the same check digit 0, so a change that
      moves the residue between 0 and 10 is not caught (§2.8).
    - UPU S10: weights 8,6,4,2,3,5,9,7 are units mod 11, so the residue always changes; the
      map 11 − r (10→0, 11→5) sends both r = 0 and r = 6 to 5, so 0 ↔ 6 is not caught (§3.8).
    - DHL Express: N mod 7 is unchanged when δ·10^k ≡ 0 (mod 7), i.e. δ = ±7 (§4.7).
    - Digits outside the checked span (USPS routing ZIP, FedEx Ground 96 SCNC/service) are
      not protected at all: the number stays valid.
    - A change in a format-identifying prefix may turn the number into another format of the
      same carrier with a different check span (e.g. FedEx `02…`→`00…`, `92…`→`96…`), and a
      34-digit USPS number whose ZIP+4 starts 91–95 also parses as ZIP5 + IMpb-26: no
      guarantee there.
    """
    last = len(n) - 1
    match (carrier, fmt):
        case ("ups", "1z"):
            if i < 2 or i == last:
                return False
            weight = 2 if (i - 2) % 2 else 1
            return (weight * delta) % 10 == 0
        case ("fedex", "express12"):
            if i == last:
                return False
            total = _weighted(n[:11], _FEDEX_EXPRESS_WEIGHTS)
            old, new = total % 11, (total + _FEDEX_EXPRESS_WEIGHTS[i] * delta) % 11
            assert old != new
            return {old, new} == {0, 10}
        case ("fedex", "ground15") | ("usps", "impb20" | "impb22" | "impb26") | ("dhl", "sscc20"):
            return False
        case ("fedex", "ground96"):
            if i < 2:
                return None
            return 2 <= i < 7  # SCNC + service are outside the check span
        case ("fedex", "sscc20" | "smartpost20" | "smartpost22"):
            return None if i < 2 else False
        case ("usps", "impb30"):
            return 3 <= i < 8  # routing ZIP5 is outside the IMpb check span
        case ("usps", "impb34"):
            if 3 <= i < 12:
                return True  # routing ZIP5+4 is outside the IMpb check span
            if re.fullmatch("9[1-5]", n[8:10]):
                return None  # also reads as 420 + ZIP5 + IMpb-26
            return False
        case ("usps" | "dhl", "s10"):
            if i == 10:
                return False
            total = _weighted(n[2:10], _S10_WEIGHTS)
            old, new = total % 11, (total + _S10_WEIGHTS[i - 2] * delta) % 11
            assert old != new
            return {old, new} == {0, 6}
        case ("dhl", "express10" | "express11"):
            if i == last:
                return False
            return delta % 7 == 0
    raise AssertionError(f"no model for {carrier} {fmt}")


@given(pair=pairs, rng=rngs, data=st.data())
def test_single_digit_change_is_caught_exactly_where_guaranteed(
    pair: tuple[str, str], rng: random.Random, data: st.DataObject
) -> None:
    carrier, fmt = pair
    number = generate(carrier, rng, fmt)
    i = data.draw(st.sampled_from([k for k, ch in enumerate(number) if ch.isdigit()]))
    new = data.draw(st.sampled_from([d for d in string.digits if d != number[i]]))
    changed = number[:i] + new + number[i + 1 :]
    expected = _expected_after_change(carrier, fmt, number, i, int(new) - int(number[i]))
    assume(expected is not None)
    assert is_valid(carrier, changed) is expected


@pytest.mark.parametrize(
    ("carrier", "number", "start"),
    [
        ("fedex", "449044304137821", 0),
        ("fedex", "122816215025810", 0),
        ("fedex", "02394653001023698293", 2),  # after the format-identifying prefix
        ("usps", "9434611206217011894085", 0),
        ("usps", "92148901324734000366090360", 0),
        ("usps", "00340434292135100186", 0),
        ("dhl", "00340434292135100186", 0),
    ],
)
def test_weights_1_and_3_catch_every_single_digit_change_on_samples(
    carrier: str, number: str, start: int
) -> None:
    assert is_valid(carrier, number)
    for i in range(start, len(number)):
        for d in string.digits:
            if d != number[i]:
                assert not is_valid(carrier, number[:i] + d + number[i + 1 :]), (i, d)


def test_known_blind_spots_are_real() -> None:
    # FedEx Express: 797615467620 (§2.9) has sum ≡ 0 (mod 11); 3 instead of 7 in front gives
    # sum ≡ 10, whose check digit is also 0.
    assert is_valid("fedex", "797615467620")
    assert is_valid("fedex", "397615467620")
    # S10: serial 00000000 has r = 0 (check 5); 9 in front gives r = 72 mod 11 = 6 (check 5).
    assert is_valid("usps", "RR000000005US")
    assert is_valid("usps", "RR900000005US")
    # DHL Express: a change by 7 keeps N mod 7.
    assert is_valid("dhl", "0777777770")
    assert is_valid("dhl", "1264715546")
    # UPS: 4 → 9 at a doubled position adds 10.
    assert is_valid("ups", "1Z1942YY7229014688")


# --------------------------------------------------------------------------------------------
# Real sample numbers from NOTES
# --------------------------------------------------------------------------------------------

UPS_SAMPLES = {
    # §1.9: the official Postman sample carries a correct check digit.
    "1Z1442YY7229014688": True,
    # §1.8: "UPS test numbers do not carry valid check digits (e.g. 1Z12345E0205271688 fails)".
    "1Z12345E0205271688": False,
    "1Z12345E0305271640": False,
    "1Z12345E0393657226": False,
    "1Z12345E1305277940": False,
    "1Z12345E6205277936": False,
    "1Z12345E1505270452": False,
    "1Z12345E020527079": False,  # 17 characters: the "invalid tracking number" case
    # …but not all of them: these CIE / sample numbers do validate.
    "1Z12345E6605272234": True,
    "1Z648616E192760718": True,
    "1ZWX0692YP40636269": True,
    "1Z5338FF0107231059": True,
    "1ZCIETST0111111114": True,
}


@pytest.mark.parametrize(("number", "valid"), UPS_SAMPLES.items())
def test_ups_samples(number: str, valid: bool) -> None:
    assert is_valid("ups", number) is valid
    assert format_of("ups", number) == ("1z" if valid else None)
    assert is_plausible("ups", number)  # all are 17–18 alphanumerics: CIE accepts them


@pytest.mark.parametrize(
    "number",
    ["990728071", "3251026119", "5548789114", "ER751105042015062", "cgish000116630"],
)
def test_ups_non_1z_samples_are_plausible_but_not_checked(number: str) -> None:
    assert is_plausible("ups", number)
    assert not is_valid("ups", number)


def test_ups_mail_innovations_sample_is_an_impb() -> None:
    # §1.9 Mail Innovations number: only its USPS IMpb form is recognised (§1.8 gives no UPS
    # check rule for it).
    assert detect("9102084383041101186729") == ("usps",)


FEDEX_SAMPLES = {
    # §2.9 mock numbers
    "449044304137821": "ground15",
    "149331877648230": "ground15",
    "020207021381215": "ground15",
    "403934084723025": "ground15",
    "920241085725456": "ground15",
    "568838414941": "express12",
    "039813852990618": "ground15",
    "231300687629630": "ground15",
    "797806677146": "express12",
    "377101283611590": "ground15",
    "852426136339213": "ground15",
    "797615467620": "express12",
    "957794015041323": "ground15",
    "076288115212522": "ground15",
    "581190049992": "express12",
    "122816215025810": "ground15",
    "843119172384577": "ground15",
    "070358180009382": "ground15",
    "02394653001023698293": "smartpost20",
    "61292701078443410536": "smartpost20",
    "61292700726653585070": "smartpost20",
    "02394653018047202719": "smartpost20",
    # §2.3 request example / FX-SPEC examples
    "128667043726": "express12",
    "123456789012": "express12",
}


@pytest.mark.parametrize(("number", "fmt"), FEDEX_SAMPLES.items())
def test_fedex_mock_numbers_validate(number: str, fmt: str) -> None:
    assert is_valid("fedex", number)
    assert format_of("fedex", number) == fmt
    assert is_plausible("fedex", number)


def test_fedex_smartpost_20_counts_the_implied_92() -> None:
    # The 20-digit mocks fail a plain mod 10 over their own 19 data digits …
    assert mod10_check_digit("0239465300102369829") != 3
    # … and pass with the `92` application identifier in front.
    assert mod10_check_digit("920239465300102369829") == 3


def test_fedex_ground96_layout() -> None:
    # §2.8 layout 96 + SCNC + service + shipper 7 + package 7 + check; the check is that of the
    # Ground 15 number formed by the last 15 digits (example from NOTES' source, TND).
    assert format_of("fedex", "9611020987654312345672") == "ground96"
    assert is_valid("fedex", "987654312345672")  # the embedded Ground 15 number
    assert not is_valid("fedex", "9611020987654312345671")


USPS_SAMPLES = {
    # §3.9 community test numbers
    "9434611206217011894085": "impb22",
    "420117419361289691090029427113": "impb30",
    "4203278000009205596900893430673167": "impb34",  # 420 + ZIP5+4 + IMpb-22
    "4205690192023901019232002167055441": "impb34",  # 420 + ZIP5 + IMpb-26
    "92026124161170148800003176": "impb26",
    "92041124161170148800003131": "impb26",
    "92055124161170148800000274": "impb26",
    "9205590982952107001084": "impb22",
    "92148901324734000366090360": "impb26",
    "9241999996333426012948": "impb22",
    "9361289673090019555035": "impb22",
    "9374889680090025188414": "impb22",
    "420176039374889681090008004266": "impb30",
    # §3.8 S10 example
    "EJ958083578US": "s10",
}


@pytest.mark.parametrize(("number", "fmt"), USPS_SAMPLES.items())
def test_usps_samples_validate(number: str, fmt: str) -> None:
    assert is_valid("usps", number)
    assert format_of("usps", number) == fmt
    assert is_plausible("usps", number)


def test_usps_routing_prefix_is_not_part_of_the_check() -> None:
    # The check digit of 420+ZIP numbers is that of the IMpb part; over all 30 digits it fails.
    number = "420117419361289691090029427113"
    assert mod10_check_digit(number[:-1]) != int(number[-1])
    assert mod10_check_digit(number[8:-1]) == int(number[-1])
    assert is_valid("usps", "420999999361289691090029427113")  # another ZIP, still valid


DHL_SAMPLES = {
    "7777777770": "express10",  # §4.7 / §4.8 spec example
    "8264715546": "express10",  # §4.8 404 instance
    "00340434292135100186": "sscc20",  # §4.8 spec default
    "LY927647359DE": "s10",  # §4.7 Post DE / Warenpost international
}


@pytest.mark.parametrize(("number", "fmt"), DHL_SAMPLES.items())
def test_dhl_samples_validate(number: str, fmt: str) -> None:
    assert is_valid("dhl", number)
    assert format_of("dhl", number) == fmt
    assert is_plausible("dhl", number)


@pytest.mark.parametrize(
    ("number", "carriers"),
    [
        ("1Z1442YY7229014688", ("ups",)),
        ("449044304137821", ("fedex",)),
        ("568838414941", ("fedex",)),
        ("9434611206217011894085", ("usps",)),
        ("7777777770", ("dhl",)),
        ("EJ958083578US", ("usps", "dhl")),
        ("00340434292135100186", ("fedex", "usps", "dhl")),
        ("1Z12345E0205271688", ()),
        ("", ()),
        ("not a number", ()),
    ],
)
def test_detect(number: str, carriers: tuple[str, ...]) -> None:
    assert detect(number) == carriers


def test_check_digit_functions_on_samples() -> None:
    assert ups_1z_check_digit("1442YY722901468") == 8
    assert fedex_express_check_digit("56883841494") == 1
    assert mod10_check_digit("44904430413782") == 1
    assert s10_check_digit("95808357") == 8
    assert dhl_express_check_digit("777777777") == 0
    assert dhl_express_check_digit("826471554") == 6


@given(data=st.text(alphabet=string.digits, min_size=14, max_size=14))
def test_mod10_matches_fedex_ground_wording(data: str) -> None:
    # §2.8 "multiplying the 2nd, 4th, 6th … digit (from the left) by 3" over 14 digits.
    total = sum(int(d) * (3 if k % 2 else 1) for k, d in enumerate(data))
    assert mod10_check_digit(data) == (10 - total % 10) % 10


@given(data=st.text(alphabet=string.digits, min_size=19, max_size=19))
def test_mod10_matches_usps_legacy_wording(data: str) -> None:
    # §3.8 "weights 3,1 from the left over 19 digits".
    total = sum(int(d) * (1 if k % 2 else 3) for k, d in enumerate(data))
    assert mod10_check_digit(data) == (10 - total % 10) % 10


# --------------------------------------------------------------------------------------------
# Plausibility (what each API accepts syntactically)
# --------------------------------------------------------------------------------------------

_BOUNDS = {"ups": (7, 34), "usps": (4, 34), "dhl": (4, 39)}


@pytest.mark.parametrize("carrier", sorted(_BOUNDS))
def test_alphanumeric_bounds(carrier: str) -> None:
    low, high = _BOUNDS[carrier]
    assert not is_plausible(carrier, "A1" * 40)
    assert not is_plausible(carrier, "9" * (low - 1))
    assert is_plausible(carrier, "9" * low)
    assert is_plausible(carrier, "Z" * high)
    assert not is_plausible(carrier, "Z" * (high + 1))
    assert not is_plausible(carrier, "94001-1111")


def test_fedex_plausible_is_digits_up_to_34() -> None:
    assert is_plausible("fedex", "55555001")
    assert is_plausible("fedex", "9" * 32)
    assert is_plausible("fedex", "9" * 34)
    assert not is_plausible("fedex", "9" * 35)
    assert not is_plausible("fedex", "")
    assert not is_plausible("fedex", "1Z1442YY7229014688")


@given(text=st.text(alphabet=string.ascii_letters + string.digits + " -_", max_size=45))
def test_plausibility_is_a_length_and_charset_rule(text: str) -> None:
    n = normalize(text)
    alnum = n.isascii() and n.isalnum()
    assert is_plausible("ups", text) is (alnum and 7 <= len(n) <= 34)
    assert is_plausible("usps", text) is (alnum and 4 <= len(n) <= 34)
    assert is_plausible("dhl", text) is (alnum and 4 <= len(n) <= 39)
    assert is_plausible("fedex", text) is (n.isdigit() and 1 <= len(n) <= 34)


# --------------------------------------------------------------------------------------------
# normalize and errors
# --------------------------------------------------------------------------------------------


def test_normalize_examples() -> None:
    assert normalize("  1z 1442 yy72 2901 4688\n") == "1Z1442YY7229014688"
    assert normalize("ej958083578us") == "EJ958083578US"
    assert normalize("\t9434 6112 0621 7011 8940 85 ") == "9434611206217011894085"
    assert normalize("7777\u00a0777770") == "7777777770"  # no-break space from copy-paste
    assert normalize("") == ""
    # Only ASCII letters are upper-cased: "ı".upper() == "I" must not make a number valid.
    assert normalize("1z1442yy722901468\u0131") == "1Z1442YY722901468\u0131"


@given(pair=pairs, rng=rngs, data=st.data())
def test_spaces_and_case_do_not_matter(
    pair: tuple[str, str], rng: random.Random, data: st.DataObject
) -> None:
    carrier, fmt = pair
    number = generate(carrier, rng, fmt)
    spaced = "".join(
        data.draw(st.sampled_from(["", " ", "  "])) + data.draw(st.sampled_from([ch, ch.lower()]))
        for ch in number
    ) + data.draw(st.sampled_from(["", " ", "\n"]))
    assert normalize(spaced) == number
    assert normalize(normalize(spaced)) == number
    assert is_valid(carrier, spaced)
    assert format_of(carrier, spaced) == fmt
    assert carrier in detect(spaced)


@pytest.mark.parametrize(
    "call",
    [
        lambda: is_valid("royalmail", "1Z1442YY7229014688"),
        lambda: is_plausible("royalmail", "1Z1442YY7229014688"),
        lambda: format_of("royalmail", "1Z1442YY7229014688"),
        lambda: formats("royalmail"),
        lambda: generate("royalmail", random.Random(0)),
        lambda: is_valid("UPS", "1Z1442YY7229014688"),
    ],
)
def test_unknown_carrier_raises_listing_the_carriers(call: Callable[[], object]) -> None:
    with pytest.raises(ValueError, match="ups, fedex, usps, dhl"):
        call()


def test_unknown_format_raises_listing_the_formats() -> None:
    with pytest.raises(ValueError, match="express12"):
        generate("fedex", random.Random(0), "1z")
