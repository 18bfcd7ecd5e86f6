"""The parsing rules every carrier adapter shares (``client/carriers/_parse.py``).

Each is checked as the rule a caller relies on: which echoed numbers are the number asked,
how an ISO time with or without its offset is read, how a USPS GMT date that kept the local
day is moved back, how events are ordered and deduplicated, and which status is current.
"""

from __future__ import annotations

import string
from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from client.carriers._parse import (
    Summary,
    at_day,
    clean,
    compact_date,
    compact_time,
    current_status,
    implied_zone,
    items,
    location,
    newest,
    obj,
    order_events,
    parse_iso,
    parse_offset,
    regressed,
    repair_gmt,
    same_number,
    text,
    tracking_result,
    wrong_number,
)
from client.errors import MalformedResponse
from client.model import Anomaly, Carrier, Event, ExceptionReason, Location, Status

DAY = timedelta(days=1)
T0 = datetime(2024, 11, 21, 12, 0, tzinfo=UTC)

instants = st.datetimes(
    min_value=datetime(2000, 1, 2), max_value=datetime(2090, 12, 30), timezones=st.just(UTC)
)
# Every offset in use is a whole number of minutes within −12 h … +14 h.
offsets = st.integers(min_value=-12 * 60, max_value=14 * 60).map(
    lambda m: timezone(timedelta(minutes=m))
)


# ------------------------------------------------------------------------------------------
# Tolerant access and text
# ------------------------------------------------------------------------------------------


def test_obj_and_items_keep_only_json_objects() -> None:
    body = {"a": 1}
    assert obj(body) is body
    assert obj([body]) == {} and obj("x") == {} and obj(None) == {}
    assert items(body) == [body]
    assert items([body, "x", 3, None, {"b": 2}]) == [body, {"b": 2}]
    assert items("x") == [] and items(None) == [] and items(7) == []


@given(st.text())
def test_text_is_the_stripped_string_or_none(value: str) -> None:
    assert text(value) == (value.strip() or None)


@given(st.integers() | st.floats(allow_nan=False, allow_infinity=False))
def test_numbers_read_as_their_text(value: float) -> None:
    # Carriers send numbers where strings were promised (NOTES §6 items 8 and 11).
    assert text(value) == str(value)


class Code(str):
    """A str subclass, as a StrEnum member or a parser's own string type is."""


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, None),
        (False, None),
        (None, None),
        ([], None),
        ({"a": "b"}, None),
        (Code("  DL "), "DL"),
        (Code("   "), None),
        ("", None),
        (0, "0"),
    ],
)
def test_text_of_other_json_values(value: object, expected: str | None) -> None:
    assert text(value) == expected


@given(st.text(alphabet=string.ascii_letters + string.digits + " \t\n", max_size=40))
def test_clean_collapses_whitespace(value: str) -> None:
    assert clean(value) == " ".join(value.split())


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("USPS Ground Advantage<SUP>&#153;</SUP>", "USPS Ground Advantage™"),
        ("Priority Mail<SUP>reg;</SUP>", "Priority Mail®"),  # USPS drops the "&" (NOTES §3.6)
        ("<b>Delivered</b>,  Front\nDoor", "Delivered, Front Door"),
        ("AT&amp;T  store", "AT&T store"),
        ("Step 1; step 2", "Step 1; step 2"),
        (None, ""),
        ("", ""),
        (42, "42"),
    ],
)
def test_clean_makes_carrier_text_readable(value: object, expected: str) -> None:
    assert clean(value) == expected


def test_location_is_none_only_when_every_part_is_absent() -> None:
    assert location() is None
    assert location("", "  ", None, "") is None
    assert location(" Memphis ", "TN", 38118, "US") == Location("Memphis", "TN", "38118", "US")
    assert location(city="Bonn") == Location(city="Bonn")
    assert location(state="TN") == Location(state="TN")
    assert location(postal_code="53113") == Location(postal_code="53113")
    assert location(country="DE") == Location(country="DE")


def test_parse_offset_reads_text_and_numbers() -> None:
    assert parse_offset("-06:00") == timezone(timedelta(hours=-6))
    assert parse_offset(" +0530 ") == timezone(timedelta(hours=5, minutes=30))
    assert parse_offset(-5) == timezone(timedelta(hours=-5))
    assert parse_offset("-420") == timezone(timedelta(hours=-7))  # minutes (NOTES §3.4)
    assert parse_offset("") is None and parse_offset(None) is None


def test_compact_dates_and_times() -> None:
    assert compact_date("20241121") == date(2024, 11, 21)
    assert compact_date(20241121) == date(2024, 11, 21)
    assert compact_date(" 2024-11-21 ") == date(2024, 11, 21)
    assert compact_date("") is None and compact_date(None) is None
    assert compact_time("74700") == time(7, 47)  # UPS lost the leading zero (NOTES §1.4)
    assert compact_time("23:28") == time(23, 28)
    assert compact_time(134500) == time(13, 45)
    assert compact_time("") is None and compact_time(None) is None


# ------------------------------------------------------------------------------------------
# Numbers
# ------------------------------------------------------------------------------------------

numbers = st.text(alphabet=string.ascii_uppercase + string.digits, min_size=8, max_size=34)
digit_numbers = st.text(alphabet=string.digits, min_size=10, max_size=34).filter(
    lambda n: not n.startswith(("0", "420"))
)
impb_bodies = st.text(alphabet=string.digits, min_size=20, max_size=26).map(lambda n: "9" + n)
zips = st.text(alphabet=string.digits, min_size=5, max_size=5) | st.text(
    alphabet=string.digits, min_size=9, max_size=9
)


def spaced(number: str, data: st.DataObject) -> str:
    cuts = sorted(data.draw(st.sets(st.integers(0, len(number)), max_size=4)))
    parts = [number[i:j] for i, j in zip([0, *cuts], [*cuts, len(number)], strict=True)]
    return " ".join(parts)


@given(number=numbers, data=st.data())
def test_an_echo_in_another_case_or_spacing_is_the_same_number(
    number: str, data: st.DataObject
) -> None:
    # UPS echoes numbers as sent (NOTES §1.6): lower case, padding, spaces inside.
    echo = f" {spaced(number.lower(), data)}\t"
    assert same_number(number, echo) is True
    assert same_number(number.lower(), number) is True
    assert same_number(number, number.lower()) is True


@given(number=digit_numbers, zeros=st.integers(1, 6))
def test_leading_zeros_do_not_change_an_all_digit_number(number: str, zeros: int) -> None:
    padded = "0" * zeros + number  # 00-padded FedEx labels, zero-prefixed DHL waybills
    assert same_number(number, padded) is True
    assert same_number(padded, number) is True
    assert same_number(padded, "0" + padded) is True


@given(body=impb_bodies, zip_code=zips)
@example(body="9205590982952107001084", zip_code="37211")
@example(body="9205590982952107001084", zip_code="372111234")
def test_the_usps_routing_prefix_does_not_change_the_number(body: str, zip_code: str) -> None:
    routed = "420" + zip_code + body  # NOTES §3.8: 420 + ZIP5 or ZIP+4 in front of an IMpb
    assert same_number(body, routed) is True
    assert same_number(routed, body) is True


@given(body=impb_bodies, zip_code=zips, prefix=st.sampled_from(["421", "520", "042"]))
def test_only_the_420_prefix_is_a_routing_prefix(body: str, zip_code: str, prefix: str) -> None:
    assert same_number(body, prefix + zip_code + body) is False


@given(body=impb_bodies, junk=st.text(alphabet=string.digits, min_size=1, max_size=8))
def test_a_prefix_of_another_length_is_another_number(body: str, junk: str) -> None:
    assume(len(junk) not in (5, 9))
    assume(not (junk.strip("0") == "" and len(junk) + 3 in (8, 12)))
    assert same_number(body, "420" + junk + body) is False


@given(a=digit_numbers, b=digit_numbers)
def test_different_digits_are_another_parcel(a: str, b: str) -> None:
    assume(a != b and not a.startswith("420") and not b.startswith("420"))
    assert same_number(a, b) is False


@given(a=numbers, b=numbers)
def test_different_letters_are_another_parcel(a: str, b: str) -> None:
    assume(a != b)
    assert same_number(a, b) is False
    assert same_number(a, "0" + a) is a.isdigit()


def test_letters_get_no_digit_rules() -> None:
    assert same_number("EJ958083578US", "00EJ958083578US") is False
    assert same_number("1Z1442YY7229014688", "42012345" + "1Z1442YY7229014688") is False


@given(body=impb_bodies, zip_code=st.sampled_from(["3721A", "AB123", "37211123X"]))
def test_a_routing_prefix_is_digits(body: str, zip_code: str) -> None:
    # "420" + letters is no ZIP: the echo names another (or a garbled) number.
    assert same_number(body, "420" + zip_code + body) is False
    assert same_number("420" + zip_code + body, body) is False
    assert same_number("0" + zip_code, zip_code) is False


@pytest.mark.parametrize("answered", [None, "", "   ", True, [], {}])
def test_an_answer_without_a_number_says_nothing(answered: object) -> None:
    assert same_number("1Z1442YY7229014688", answered) is None


def test_a_numeric_echo_is_read_as_text() -> None:
    assert same_number("7777777770", 7777777770) is True


def test_wrong_number_names_both_numbers_and_what_to_do() -> None:
    error = wrong_number(Carrier.fedex, "128667043726", " 999999999999 ")
    assert isinstance(error, MalformedResponse)
    assert error.carrier is Carrier.fedex and error.number == "128667043726"
    assert error.status_code == 200
    assert "'999999999999'" in error.message
    assert error.hint == (
        "the answer belongs to another parcel and was discarded; try again, and report it to "
        "the carrier if it persists"
    )


# ------------------------------------------------------------------------------------------
# ISO times
# ------------------------------------------------------------------------------------------


@given(when=instants, zone=offsets, sep=st.sampled_from(["T", " "]))
def test_an_iso_time_with_its_offset_is_that_instant(
    when: datetime, zone: timezone, sep: str
) -> None:
    local = when.astimezone(zone)
    parsed = parse_iso(local.isoformat(sep=sep))
    assert parsed == (local, True)
    assert parsed is not None and parsed[0].utcoffset() == local.utcoffset()


@given(when=instants)
def test_z_is_utc(when: datetime) -> None:
    assert parse_iso(when.isoformat().replace("+00:00", "Z")) == (when, True)


@given(when=instants)
def test_an_iso_time_without_offset_is_read_as_utc_and_says_so(when: datetime) -> None:
    parsed = parse_iso(when.replace(tzinfo=None).isoformat())
    assert parsed == (when, False)
    assert parsed is not None and parsed[0].tzinfo is UTC


@given(
    when=instants.map(lambda t: t.replace(microsecond=0)),
    hours=st.integers(-9, 9),
    minutes=st.sampled_from([0, 30, 45]),
)
@example(when=T0, hours=-6, minutes=0)
def test_a_one_digit_hour_offset_is_read(when: datetime, hours: int, minutes: int) -> None:
    # USPS 3.2 writes "-6:00" (NOTES §3.4).
    sign = "-" if hours < 0 else "+"
    zone = timezone((-1 if hours < 0 else 1) * timedelta(hours=abs(hours), minutes=minutes))
    wall = when.astimezone(zone).replace(tzinfo=None).isoformat()
    parsed = parse_iso(f"{wall}{sign}{abs(hours)}:{minutes:02d}")
    assert parsed == (when, True)
    assert parsed is not None and parsed[0].utcoffset() == zone.utcoffset(None)


@given(
    when=instants.map(lambda t: t.replace(microsecond=0)),
    digits=st.text(alphabet=string.digits, min_size=1, max_size=12),
    zone=st.sampled_from(["Z", "+02:00", "-6:00", ""]),
)
@example(when=T0, digits="123456789", zone="Z")  # DHL's nanoseconds
@example(when=T0, digits="5", zone="-6:00")
def test_fractions_of_any_length_are_truncated_to_microseconds(
    when: datetime, digits: str, zone: str
) -> None:
    offset = {"Z": UTC, "+02:00": timezone(timedelta(hours=2)), "": UTC}.get(
        zone, timezone(timedelta(hours=-6))
    )
    wall = when.astimezone(offset).replace(tzinfo=None).isoformat()
    parsed = parse_iso(f"{wall}.{digits}{zone}")
    micro = int(digits[:6].ljust(6, "0"))
    assert parsed == (when + timedelta(microseconds=micro), zone != "")


def test_a_bare_date_is_midnight_offset_unknown() -> None:
    assert parse_iso("2024-11-21") == (datetime(2024, 11, 21, tzinfo=UTC), False)
    assert parse_iso(" 2024-11-21T23:28:33-06:00 ") == (
        datetime(2024, 11, 21, 23, 28, 33, tzinfo=timezone(timedelta(hours=-6))),
        True,
    )


@pytest.mark.parametrize(
    "value", [None, "", "  ", "soon", "2024-13-01", "21/11/2024", "-6:00", "1.5", True]
)
def test_what_is_not_an_iso_time_is_none(value: object) -> None:
    assert parse_iso(value) is None


# ------------------------------------------------------------------------------------------
# USPS GMT days (NOTES §6 item 5)
# ------------------------------------------------------------------------------------------


@given(instant=instants, zone=offsets, wrong_by=st.sampled_from([-1, 0, 1]))
@example(instant=datetime(2024, 11, 22, 5, 28, tzinfo=UTC), zone=timezone(timedelta(hours=-6)),
         wrong_by=-1)  # fmt: skip
def test_with_a_known_offset_the_gmt_day_follows_the_local_time(
    instant: datetime, zone: timezone, wrong_by: int
) -> None:
    local = instant.astimezone(zone).replace(tzinfo=None)
    assert repair_gmt(instant + wrong_by * DAY, local, zone) == (instant, wrong_by != 0)


@given(
    instant=instants,
    hours=st.floats(min_value=-9.99, max_value=11.99),
    wrong_by=st.sampled_from([-1, 0, 1]),
)
def test_without_an_offset_the_day_that_gives_a_real_offset_wins(
    instant: datetime, hours: float, wrong_by: int
) -> None:
    # Offsets strictly inside −10 h … +12 h are more than a day away from the real range's
    # ends, so one day off is always out of range and the repair is unambiguous.
    local = (instant + timedelta(hours=hours)).replace(tzinfo=None)
    assert repair_gmt(instant + wrong_by * DAY, local, None) == (instant, wrong_by != 0)


def test_the_real_offset_range_is_minus_12_to_plus_14_hours_inclusive() -> None:
    for hours in (-12, 14):
        local = (T0 + timedelta(hours=hours)).replace(tzinfo=None)
        assert repair_gmt(T0, local, None) == (T0, False)
    just_past = (T0 + timedelta(hours=14, minutes=1)).replace(tzinfo=None)
    assert repair_gmt(T0, just_past, None) == (T0 + DAY, True)
    just_before = (T0 - timedelta(hours=12, minutes=1)).replace(tzinfo=None)
    assert repair_gmt(T0, just_before, None) == (T0 - DAY, True)


def test_no_day_gives_a_real_offset_leaves_the_time_alone() -> None:
    far = (T0 + 3 * DAY).replace(tzinfo=None)
    assert repair_gmt(T0, far, None) == (T0, False)
    assert repair_gmt(T0, far, timezone(timedelta(hours=-6))) == (T0 + 3 * DAY, True)


@given(instant=instants, quarters=st.integers(-56, 56), jitter=st.integers(-449, 449))
def test_implied_zone_is_the_offset_to_the_nearest_quarter_hour(
    instant: datetime, quarters: int, jitter: int
) -> None:
    offset = quarters * timedelta(minutes=15)
    local = (instant + offset + timedelta(seconds=jitter)).replace(tzinfo=None)
    assert implied_zone(instant, local) == timezone(offset)


def test_implied_zone_beyond_14_hours_is_utc() -> None:
    for offset in (timedelta(hours=14, minutes=15), timedelta(hours=-14, minutes=-15), DAY):
        assert implied_zone(T0, (T0 + offset).replace(tzinfo=None)) == UTC
    edge = timedelta(hours=-14)
    assert implied_zone(T0, (T0 + edge).replace(tzinfo=None)) == timezone(edge)


# ------------------------------------------------------------------------------------------
# Event order and anomalies
# ------------------------------------------------------------------------------------------


def ev(
    minutes: int,
    status: Status = Status.in_transit,
    *,
    code: str | None = "IT",
    text: str = "scan",
    where: Location | None = None,
    known: bool = True,
    reason: ExceptionReason | None = None,
) -> Event:
    return Event(T0 + timedelta(minutes=minutes), status, text, where, code, reason, known)


events = st.builds(
    ev,
    minutes=st.integers(0, 6),
    status=st.sampled_from([Status.in_transit, Status.delivered, Status.unknown]),
    code=st.sampled_from([None, "", "IT", "DL"]),
    text=st.sampled_from(["scan", "Arrived"]),
    where=st.sampled_from([None, Location("Memphis"), Location("Memphis", "TN")]),
    known=st.booleans(),
)


def key(e: Event) -> tuple[object, ...]:
    return (e.time, e.status, e.raw_code, e.description, e.location)


@given(st.lists(events, max_size=10))
def test_order_events_sorts_known_instants_and_keeps_unknown_ones_in_place(
    carrier_order: list[Event],
) -> None:
    kept, anomalies = order_events(carrier_order)
    oldest_first = carrier_order[::-1]
    # Exact duplicates are dropped (the first, oldest-first, is kept) and nothing else is.
    assert len({key(e) for e in kept}) == len(kept)
    assert {key(e) for e in kept} == {key(e) for e in carrier_order}
    assert (Anomaly.duplicate_events in anomalies) is (len(kept) < len(carrier_order))
    # Before deduplication: unknown-offset events where the carrier put them, the others
    # sorted by instant, stably (events sharing a timestamp keep the carrier's order).
    known = sorted((e for e in oldest_first if e.offset_known), key=lambda e: e.time)
    merged = [known.pop(0) if e.offset_known else e for e in oldest_first]
    firsts = list({key(e): e for e in reversed(merged)}.values())[::-1]
    assert [key(e) for e in kept] == sorted(
        (key(e) for e in firsts), key=[key(e) for e in merged].index
    )
    timed = [e.time for e in oldest_first if e.offset_known]
    assert (Anomaly.out_of_order_events in anomalies) is (timed != sorted(timed))
    assert (Anomaly.unknown_codes in anomalies) is any(
        e.status is Status.unknown and bool(e.raw_code) for e in kept
    )
    assert (Anomaly.missing_offsets in anomalies) is any(not e.offset_known for e in kept)


def test_newest_first_is_reversed_without_anomalies() -> None:
    carrier_order = [ev(3, Status.delivered, code="DL"), ev(2), ev(2, text="Departed"), ev(0)]
    assert order_events(carrier_order) == (tuple(reversed(carrier_order)), [])


def test_anomalies_are_reported_in_a_fixed_order() -> None:
    carrier_order = [
        ev(1), ev(2, Status.unknown, code="ZZ"), ev(2, Status.unknown, code="ZZ"),
        ev(0, known=False),
    ]  # fmt: skip
    kept, anomalies = order_events(carrier_order)
    assert anomalies == [
        Anomaly.out_of_order_events,
        Anomaly.duplicate_events,
        Anomaly.unknown_codes,
        Anomaly.missing_offsets,
    ]
    assert [e.time.minute for e in kept] == [0, 1, 2]


def test_an_unknown_code_needs_a_code() -> None:
    _, anomalies = order_events([ev(0, Status.unknown, code=None), ev(1, Status.unknown, code="")])
    assert Anomaly.unknown_codes not in anomalies


def test_near_duplicates_are_kept() -> None:
    base = ev(0, where=Location("Memphis", "TN"))
    variants = [
        ev(1, where=Location("Memphis", "TN")),
        ev(0, Status.delivered, where=Location("Memphis", "TN")),
        ev(0, code="AR", where=Location("Memphis", "TN")),
        ev(0, text="Departed", where=Location("Memphis", "TN")),
        ev(0, where=Location("Memphis", "AR")),
        ev(0, where=Location("Memphis", "TN", "38118")),
        ev(0, where=Location("Memphis", "TN", None, "US")),
        ev(0, where=Location("Memphis ", "TN")),
        ev(0),
    ]
    for other in variants:
        kept, anomalies = order_events([other, base])
        assert len(kept) == 2 and Anomaly.duplicate_events not in anomalies, other


# ------------------------------------------------------------------------------------------
# Current status
# ------------------------------------------------------------------------------------------

DELIVERED = ev(9, Status.delivered, code="DL", text="Delivered, Front Door")
HELD = ev(9, Status.exception, code="SE", text="Weather delay", reason=ExceptionReason.weather)


def test_no_summary_and_no_events_is_unknown() -> None:
    assert current_status(None, []) == Summary(Status.unknown)
    assert current_status(Summary(Status.unknown), []) == Summary(Status.unknown)


@pytest.mark.parametrize("summary", [None, Summary(Status.unknown, None, "Label")])
def test_without_a_coded_summary_the_newest_event_speaks(summary: Summary | None) -> None:
    now = current_status(summary, [ev(0), HELD])
    assert now == Summary(Status.exception, "SE", "Weather delay", ExceptionReason.weather)


def test_an_unknown_summary_with_a_code_is_kept() -> None:
    summary = Summary(Status.unknown, "ZZ", "Odd")
    assert current_status(summary, [ev(0)]) is summary


def test_a_summary_without_events_is_the_answer() -> None:
    summary = Summary(Status.delivered, "DL", "Delivered")
    assert current_status(summary, []) is summary


def test_the_newest_event_with_the_summary_code_gives_status_and_reason() -> None:
    # FedEx puts the exception's detail on the scan, not on the summary.
    summary = Summary(Status.in_transit, "SE", "Shipment exception")
    now = current_status(summary, [ev(0), HELD])
    assert now == Summary(Status.exception, "SE", "Shipment exception", ExceptionReason.weather)


def test_the_same_status_fills_a_missing_reason_and_description() -> None:
    summary = Summary(Status.exception, "X1")
    now = current_status(summary, [HELD])
    assert now == Summary(Status.exception, "X1", "Weather delay", ExceptionReason.weather)
    own = Summary(Status.exception, "X1", "Held", ExceptionReason.address)
    assert current_status(own, [HELD]) is own


def test_another_status_on_the_newest_event_changes_nothing() -> None:
    summary = Summary(Status.in_transit, "IT", "")
    assert current_status(summary, [DELIVERED]) is summary
    uncoded = Summary(Status.delivered, None, "")
    assert current_status(uncoded, [ev(0, code=None)]) is uncoded


def test_a_code_match_that_keeps_the_reading_keeps_the_summary() -> None:
    summary = Summary(Status.delivered, "DL", "Delivered")
    assert current_status(summary, [DELIVERED]) is summary


# ------------------------------------------------------------------------------------------
# Regression, newest, days, results
# ------------------------------------------------------------------------------------------

MOVED = {
    Status.in_transit, Status.out_for_delivery, Status.failed_attempt,
    Status.available_for_pickup, Status.delivered, Status.exception, Status.returned_to_sender,
}  # fmt: skip


@given(status=st.sampled_from(Status), seen=st.sets(st.sampled_from(Status)))
def test_regressed_means_undelivered_or_back_at_label_created(
    status: Status, seen: set[Status]
) -> None:
    history = [ev(i, s) for i, s in enumerate(sorted(seen))]
    undelivered = Status.delivered in seen and status is not Status.delivered
    relabelled = status is Status.pre_transit and bool(seen & MOVED)
    assert regressed(status, history) is (undelivered or relabelled)


def test_regressed_examples() -> None:
    assert regressed(Status.in_transit, [ev(0, Status.delivered)])
    assert regressed(Status.pre_transit, [ev(0, Status.pre_transit), ev(1, Status.in_transit)])
    assert not regressed(Status.in_transit, [ev(0, Status.failed_attempt)])
    assert not regressed(Status.pre_transit, [ev(0, Status.pre_transit), ev(1, Status.unknown)])
    assert not regressed(Status.delivered, [ev(0, Status.delivered)])
    assert not regressed(Status.pre_transit, [ev(0, Status.cancelled)])


def test_newest_is_the_last_event_with_that_status() -> None:
    history = [ev(0), ev(1, Status.delivered), ev(2), ev(3, Status.delivered, text="again")]
    assert newest(history, Status.delivered) is history[3]
    assert newest(history, Status.in_transit) is history[2]
    assert newest(history, Status.exception) is None


def test_at_day_is_utc_midnight_unless_a_time_is_given() -> None:
    assert at_day(None, time(9)) is None
    assert at_day(date(2024, 11, 21), None) == datetime(2024, 11, 21, tzinfo=UTC)
    assert at_day(date(2024, 11, 21), time(9, 30)) == datetime(2024, 11, 21, 9, 30, tzinfo=UTC)


def test_tracking_result_takes_the_current_status_from_the_summary() -> None:
    now = Summary(Status.exception, "SE", "Weather delay", ExceptionReason.weather)
    raw = {"trackingNumber": "128667043726"}
    result = tracking_result(
        Carrier.fedex, "128667043726", now, [HELD], [Anomaly.missing_offsets], raw,
        service="FedEx Ground",
    )  # fmt: skip
    assert (result.carrier, result.number, result.status) == (
        Carrier.fedex, "128667043726", Status.exception,
    )  # fmt: skip
    assert result.events == (HELD,) and isinstance(result.events, tuple)
    assert result.exception_reason is ExceptionReason.weather
    assert result.raw_status_code == "SE" and result.status_description == "Weather delay"
    assert result.anomalies == (Anomaly.missing_offsets,)
    assert dict(result.raw) == raw and result.service == "FedEx Ground"
    own = tracking_result(Carrier.fedex, "1", now, [], [], {}, status_description="Held")
    assert own.status_description == "Held"
