"""UPS answers → the model (NOTES §1.4–1.6)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest

from client import Anomaly, ExceptionReason, Location, RetryPolicy, Status, TrackingResult
from client.carriers.ups import activity_time
from client.errors import InvalidNumber, MalformedResponse, NotFound, RateLimited
from tests.client import bodies as B
from tests.client.fakes import FakeCarriers, client_for, respond

EST, CST = timezone(timedelta(hours=-5)), timezone(timedelta(hours=-6))


def track(status: int, body: object, number: str = B.UPS_NUMBER, **kw: object) -> TrackingResult:
    server = FakeCarriers(lambda r: respond(status, body))
    with client_for(server, **kw) as c:
        return c.track(number)


def test_live_delivered_answer() -> None:
    r = track(200, B.ups_delivered_live())
    assert r.status is Status.delivered and r.raw_status_code == "011"
    assert [e.status for e in r.events] == [
        Status.pre_transit, Status.in_transit, Status.out_for_delivery, Status.delivered,
    ]  # fmt: skip
    # Instants come from gmtDate/gmtTime; the zone is the scan's gmtOffset.
    assert r.events[-1].time == datetime(2022, 1, 26, 16, 30, tzinfo=EST)
    assert r.events[-1].time.utcoffset() == timedelta(hours=-5)
    assert r.events[1].time == datetime(2022, 1, 26, 4, 15, tzinfo=UTC)  # local 25th 22:15 −6
    assert r.events[1].time.utcoffset() == timedelta(hours=-6)
    assert r.events[0].time == datetime(2022, 1, 24, 7, 47, tzinfo=UTC)  # gmtTime "74700"
    assert r.events[-1].description == "DELIVERED"  # trailing space of live data trimmed
    assert r.events[-1].location == Location("PARAMUS", "NJ", None, "US")
    assert r.delivered_at == datetime(2022, 1, 26, 16, 30, tzinfo=EST)
    assert r.signed_by == "JOHNSON" and r.service == "UPS Ground"
    assert r.estimated_delivery is None and r.anomalies == ()
    assert r.raw["trackResponse"]["shipment"][0]["inquiryNumber"] == B.UPS_NUMBER


def test_postman_answer_without_gmt_fields() -> None:
    r = track(200, B.ups_postman_delivered())
    assert r.status is Status.delivered
    assert [e.raw_code for e in r.events] == ["003", "011"]
    # No offset anywhere: wall clock read as UTC, and said so.
    assert r.events[-1].time == datetime(2022, 1, 26, 16, 30, tzinfo=UTC)
    assert not r.events[-1].offset_known
    assert Anomaly.missing_offsets in r.anomalies
    assert r.delivered_at == datetime(2022, 1, 26, 16, 30, tzinfo=UTC)


def test_estimated_delivery_window_from_rescheduled_date() -> None:
    r = track(200, B.ups_in_transit_with_estimate())
    assert r.status is Status.in_transit and r.status_description == "On the Way"
    assert r.estimated_delivery == datetime(2022, 1, 28, 9, 0, tzinfo=UTC)  # RDD beats SDD
    assert r.estimated_delivery_end == datetime(2022, 1, 28, 12, 0, tzinfo=UTC)
    assert r.delivered_at is None


def test_weather_exception() -> None:
    body = B.ups_live(
        [B.ups_activity("X", "X1", "052", "Delay: Severe Weather", ("20220125", "090000"),
                        ("20220125", "15:00:00"), "-06:00", "DENVER", "CO")],
    )  # fmt: skip
    r = track(200, body)
    assert r.status is Status.exception and r.exception_reason is ExceptionReason.weather


def test_unknown_code_maps_to_unknown_and_keeps_the_code() -> None:
    body = B.ups_live(
        [B.ups_activity("I", "ZZ", "999", "Something new", ("20220125", "090000"),
                        ("20220125", "15:00:00"), "-06:00")],
    )  # fmt: skip
    r = track(200, body)
    assert r.status is Status.unknown and r.events[0].raw_code == "999"
    assert Anomaly.unknown_codes in r.anomalies


def test_type_letter_is_used_without_a_three_digit_code() -> None:
    activity = B.ups_activity("D", "F4", "", "DELIVERED", ("20220125", "090000"), None, "-05:00")
    r = track(200, B.ups_live([activity]))
    assert r.status is Status.delivered and r.events[0].raw_code == "D"
    assert r.events[0].time == datetime(2022, 1, 25, 9, 0, tzinfo=EST)  # local + gmtOffset


def test_not_found_is_200_with_tw0001() -> None:
    with pytest.raises(NotFound) as info:
        track(200, B.ups_not_found_200())
    assert info.value.code == "TW0001" and info.value.status_code == 200
    assert info.value.message == "Tracking Information Not Found"


def test_documented_404_form_is_not_found_too() -> None:
    body = B.ups_error("TW0001", "Tracking Information Not Found")
    with pytest.raises(NotFound) as info:
        track(404, body)
    assert info.value.status_code == 404


def test_invalid_inquiry_number() -> None:
    with pytest.raises(InvalidNumber) as info:
        track(400, B.ups_error("TV1002", "Invalid inquiry number"))
    assert info.value.code == "TV1002"


def test_rate_limit_envelope_without_headers() -> None:
    with pytest.raises(RateLimited) as info:
        track(429, B.ups_error("10429", "Too Many Requests"),
              retry=RetryPolicy.for_testing(max_attempts=2))  # fmt: skip
    assert info.value.code == "10429" and info.value.retry_after is None


@pytest.mark.parametrize(
    "body",
    [
        {"1Z1442YY7229014688": {"status": "wrong shape"}},  # CIE's April 2024 shape (§1.9)
        {"trackResponse": {"shipment": [{"inquiryNumber": B.UPS_NUMBER}]}},
        "<html><body>Service Unavailable</body></html>",
        '{"trackResponse": {"shipment": [',
    ],
)
def test_unexpected_shapes_are_malformed(body: object) -> None:
    with pytest.raises(MalformedResponse):
        track(200, body)


def test_missing_optional_objects_do_not_crash() -> None:
    body = B.ups_live([{"status": {"statusCode": "005"}, "date": "20220125", "time": "1200"}])
    r = track(200, body)
    assert r.status is Status.in_transit and r.events[0].location is None


@pytest.mark.parametrize(
    ("activity", "expected"),
    [
        ({"gmtDate": "20220126", "gmtTime": "09:41:00", "gmtOffset": "+08:00"},
         datetime(2022, 1, 26, 9, 41, tzinfo=UTC)),
        ({"gmtDate": "20210210", "gmtTime": "74700", "gmtOffset": "-05:00"},
         datetime(2021, 2, 10, 7, 47, tzinfo=UTC)),
        ({"date": "20210210", "time": "071356", "gmtOffset": "-05:00"},
         datetime(2021, 2, 10, 12, 13, 56, tzinfo=UTC)),
    ],
)  # fmt: skip
def test_activity_time_forms(activity: dict[str, str], expected: datetime) -> None:
    stamp = activity_time(activity)
    assert stamp is not None and stamp.at == expected and stamp.offset_known


def test_request_shape() -> None:
    server = FakeCarriers(lambda r: respond(200, B.ups_delivered_live()))
    with client_for(server) as c:
        c.track("1z1442yy7229014688")
    request = server.tracking_requests()[0]
    assert request.method == "GET"
    assert request.url.path == "/api/track/v1/details/1Z1442YY7229014688"
    assert request.url.params["locale"] == "en_US"
    assert isinstance(request, httpx.Request)


def test_current_status_without_codes_falls_back_to_the_newest_event() -> None:
    body = B.ups_delivered_live()
    body["trackResponse"]["shipment"][0]["package"][0]["currentStatus"] = {"description": "?"}
    assert track(200, body).status is Status.delivered
