"""Each carrier's timestamp rules, over every instant and offset: which field gives the
instant, which the zone, when the offset counts as known, and the USPS GMT-day repair."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import example, given
from hypothesis import strategies as st

from client.carriers.ups import activity_time
from client.carriers.usps import event_time

DAY = timedelta(days=1)
instants = st.datetimes(
    min_value=datetime(2001, 1, 2), max_value=datetime(2090, 12, 30), timezones=st.just(UTC)
).map(lambda t: t.replace(microsecond=0))
# Quarter hours strictly inside −10 h … +12 h: a day off is then always detectable.
zones = st.integers(min_value=-39, max_value=47).map(lambda q: timezone(timedelta(minutes=15 * q)))
wrong_days = st.sampled_from([-1, 0, 1])


def hhmm(zone: timezone) -> str:
    """``-06:00`` for a zone."""
    minutes = round(zone.utcoffset(None).total_seconds() / 60)
    return f"{'-' if minutes < 0 else '+'}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def wall(instant: datetime, zone: timezone) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None)


# ------------------------------------------------------------------------------------------
# UPS (NOTES §1.4): gmtDate/gmtTime are the instant, gmtOffset the zone; date/time are local
# ------------------------------------------------------------------------------------------


@given(instant=instants, zone=zones, colons=st.booleans())
def test_ups_gmt_fields_are_the_instant_and_the_offset_its_zone(
    instant: datetime, zone: timezone, colons: bool
) -> None:
    local = wall(instant, zone)
    activity = {
        "gmtDate": instant.strftime("%Y%m%d"),
        "gmtTime": instant.strftime("%H:%M:%S" if colons else "%H%M%S"),
        "gmtOffset": hhmm(zone),
        "date": local.strftime("%Y%m%d"),
        "time": local.strftime("%H%M%S"),
    }
    stamp = activity_time(activity)
    assert stamp is not None and stamp.offset_known and not stamp.repaired
    assert stamp.at == instant and stamp.at.utcoffset() == zone.utcoffset(None)
    del activity["gmtOffset"]
    utc = activity_time(activity)
    assert utc is not None and utc.at == instant and utc.at.utcoffset() == timedelta(0)
    assert utc.offset_known


@given(instant=instants, zone=zones)
def test_ups_local_time_with_an_offset_is_that_instant(instant: datetime, zone: timezone) -> None:
    local = wall(instant, zone)
    activity = {"date": local.strftime("%Y%m%d"), "time": local.strftime("%H%M%S")}
    stamp = activity_time({**activity, "gmtOffset": hhmm(zone), "gmtDate": "20240101"})
    assert stamp is not None and stamp.offset_known
    assert stamp.at == instant and stamp.at.utcoffset() == zone.utcoffset(None)
    bare = activity_time(activity)  # no offset anywhere: the wall clock, read as UTC
    assert bare is not None and not bare.offset_known
    assert bare.at == local.replace(tzinfo=UTC)


def test_ups_activity_without_a_date_has_no_time() -> None:
    assert activity_time({"time": "101500", "gmtOffset": "-05:00"}) is None
    assert activity_time({}) is None
    day_only = activity_time({"date": "20241121"})
    assert day_only is not None and day_only.at == datetime(2024, 11, 21, tzinfo=UTC)


# ------------------------------------------------------------------------------------------
# USPS (NOTES §3.4, §6 item 5): GMTTimestamp is the instant unless its day contradicts the
# local eventTimestamp; the zone comes from the local time's offset, GMTOffset, or is implied
# ------------------------------------------------------------------------------------------


def assert_repaired(
    event: dict[str, str], instant: datetime, zone: timezone, wrong_by: int
) -> None:
    """The event reads as ``instant`` in ``zone``, repaired exactly when its GMT day was off."""
    stamp = event_time(event)
    assert stamp is not None and stamp.offset_known
    assert stamp.at == instant and stamp.at.utcoffset() == zone.utcoffset(None)
    assert stamp.repaired is (wrong_by != 0)


@given(instant=instants, zone=zones, wrong_by=wrong_days)
@example(instant=datetime(2024, 11, 22, 5, 28, 33, tzinfo=UTC),
         zone=timezone(timedelta(hours=-6)), wrong_by=-1)  # fmt: skip
def test_usps_3_0_gmt_with_offset(instant: datetime, zone: timezone, wrong_by: int) -> None:
    event = {
        "eventTimestamp": wall(instant, zone).isoformat(),
        "GMTTimestamp": (instant + wrong_by * DAY).isoformat().replace("+00:00", "Z"),
        "GMTOffset": hhmm(zone),
    }
    assert_repaired(event, instant, zone, wrong_by)


@given(instant=instants, zone=zones, wrong_by=wrong_days)
def test_usps_gmt_without_offset_implies_the_zone(
    instant: datetime, zone: timezone, wrong_by: int
) -> None:
    event = {
        "eventTimestamp": wall(instant, zone).isoformat(),
        "GMTTimestamp": (instant + wrong_by * DAY).isoformat(),
    }
    assert_repaired(event, instant, zone, wrong_by)


@given(instant=instants, zone=zones, wrong_by=wrong_days)
def test_usps_3_2_local_offset_is_the_zone(
    instant: datetime, zone: timezone, wrong_by: int
) -> None:
    event = {
        "eventTimestamp": instant.astimezone(zone).isoformat(),
        "GMTTimestamp": (instant + wrong_by * DAY).isoformat(),
        "GMTOffset": "+09:00",  # the local time's own offset wins
    }
    assert_repaired(event, instant, zone, wrong_by)


@given(instant=instants, zone=zones)
def test_usps_gmt_alone(instant: datetime, zone: timezone) -> None:
    gmt = instant.isoformat()
    stamp = event_time({"GMTTimestamp": gmt, "GMTOffset": hhmm(zone)})
    assert stamp is not None and stamp.offset_known and not stamp.repaired
    assert stamp.at == instant and stamp.at.utcoffset() == zone.utcoffset(None)
    utc = event_time({"GMTTimestamp": gmt})
    assert utc is not None and utc.at == instant and utc.at.utcoffset() == timedelta(0)


@given(instant=instants, zone=zones)
def test_usps_local_time_alone(instant: datetime, zone: timezone) -> None:
    local = wall(instant, zone)
    with_offset = event_time({"eventTimestamp": local.isoformat(), "GMTOffset": hhmm(zone)})
    assert with_offset is not None and with_offset.offset_known
    assert with_offset.at == instant and with_offset.at.utcoffset() == zone.utcoffset(None)
    own = event_time({"eventTimestamp": instant.astimezone(zone).isoformat()})
    assert own is not None and own.offset_known and own.at == instant
    # A pre-shipment scan: no GMT fields, no offset (NOTES §3.4).
    bare = event_time({"eventTimestamp": local.isoformat()})
    assert bare is not None and not bare.offset_known and bare.at == local.replace(tzinfo=UTC)
    # A GMTTimestamp without an offset of its own is no instant either.
    naive_gmt = event_time({"eventTimestamp": local.isoformat(), "GMTTimestamp": "2024-01-01"})
    assert naive_gmt is not None and not naive_gmt.offset_known


def test_usps_event_without_times() -> None:
    assert event_time({}) is None
    assert event_time({"GMTOffset": "-06:00"}) is None
