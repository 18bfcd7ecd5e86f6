"""FedEx answers → the model (NOTES §2.4–2.6)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from client import Anomaly, ExceptionReason, Location, Status, TrackingResult
from client.errors import (
    InvalidNumber,
    MalformedResponse,
    NotFound,
    RequestRejected,
    TrackingError,
)
from tests.client import bodies as B
from tests.client.fakes import FakeCarriers, client_for, respond

EST, CST, PST = (timezone(timedelta(hours=h)) for h in (-5, -6, -8))


def track(status: int, body: object, number: str = B.FEDEX_DELIVERED) -> TrackingResult:
    with client_for(FakeCarriers(lambda r: respond(status, body))) as c:
        return c.track(number)


def test_delivered_answer() -> None:
    r = track(200, B.fedex_delivered())
    assert r.status is Status.delivered and r.raw_status_code == "DL"
    assert [e.raw_code for e in r.events] == ["OC", "PU", "DP", "OD", "DL"]
    assert [e.status for e in r.events] == [
        Status.pre_transit, Status.in_transit, Status.in_transit, Status.out_for_delivery,
        Status.delivered,
    ]  # fmt: skip
    # Each scan keeps its own offset (−08:00 … −05:00).
    assert r.events[0].time == datetime(2014, 1, 5, 9, 20, tzinfo=PST)
    assert r.events[2].time.utcoffset() == timedelta(hours=-6)
    assert r.delivered_at == datetime(2014, 1, 9, 13, 31, tzinfo=EST)
    assert r.signed_by == "ROLLINS" and r.service == "FedEx Ground"
    assert r.events[0].location == Location(None, None, "95814", "US")  # postal code only
    assert r.events[-1].location == Location("Norton", "VA", "24273", "US")
    assert r.estimated_delivery is None  # delivered; the empty "window": {} is ignored


def test_out_for_delivery_uses_the_scan_code_not_the_derived_code() -> None:
    # OD comes with derived IT (§2.5, §6 item 7).
    number = "231300687629630"
    r = track(200, B.fedex_answer((number, [B.fedex_in_transit_result(number)])), number)
    assert r.status is Status.out_for_delivery and r.raw_status_code == "OD"


def test_delivery_exception_007_is_a_failed_attempt() -> None:
    r = track(200, B.fedex_exception(), B.FEDEX_EXCEPTION)
    assert r.status is Status.failed_attempt
    assert r.exception_reason is ExceptionReason.recipient_unavailable
    assert r.estimated_delivery == datetime(2014, 1, 9, tzinfo=EST)


def test_incorrect_address_exception() -> None:
    number = "797615467620"
    scan = B.fedex_scan("2014-01-08T14:07:00-05:00", "DE", "Delivery exception", "DE",
                        exception_code="03", exception_description="Incorrect address")  # fmt: skip
    result = B.fedex_result(number, [scan], {"code": "DE", "derivedCode": "DE"})
    r = track(200, B.fedex_answer((number, [result])), number)
    assert r.status is Status.exception and r.exception_reason is ExceptionReason.address


def test_weather_delay_reason_from_delay_detail() -> None:
    number = "568838414941"
    scan = B.fedex_scan("2014-01-08T14:07:00-05:00", "DY", "Delay", "DY")
    scan["delayDetail"] = {"type": "WEATHER", "subType": "SNOW", "status": "DELAYED"}
    r = track(200, B.fedex_answer((number, [B.fedex_result(number, [scan], {})])), number)
    assert r.status is Status.exception
    # The delay detail names the cause (NOTES §2.4); DY's own reason is the generic one.
    assert r.events[0].exception_reason is ExceptionReason.weather


def test_not_found_is_a_per_number_error_inside_a_200() -> None:
    number = B.FEDEX_NOT_FOUND
    body = B.fedex_answer((number, [B.fedex_not_found_result(number)]))
    with (
        client_for(FakeCarriers(lambda r: respond(200, body))) as c,
        pytest.raises(NotFound) as info,
    ):
        c.track(number, carrier="fedex")
    assert info.value.code == "TRACKING.TRACKINGNUMBER.NOTFOUND"
    assert info.value.status_code == 200 and info.value.number == number


def test_unknown_scan_code_keeps_raw_code() -> None:
    number = "568838414941"
    scan = B.fedex_scan("2014-01-08T14:07:00-05:00", "QQ", "Something new", "IT")
    r = track(200, B.fedex_answer((number, [B.fedex_result(number, [scan], {})])), number)
    assert r.status is Status.unknown and r.events[0].raw_code == "QQ"


def test_duplicate_number_picks_the_most_recent_shipment() -> None:
    number = "568838414941"
    delivered = B.fedex_scan("2013-05-01T10:00:00-05:00", "DL", "Delivered", "DL")
    old = B.fedex_result(number, [delivered], {"code": "DL"})
    new = B.fedex_in_transit_result(number)
    r = track(200, B.fedex_answer((number, [old, new])), number)
    assert r.status is Status.out_for_delivery
    assert Anomaly.multiple_results in r.anomalies


def test_duplicate_scans_are_dropped_and_order_fixed() -> None:
    number = "568838414941"
    a = B.fedex_scan("2014-01-06T11:52:00-08:00", "PU", "Picked up", "PU", "SACRAMENTO", "CA")
    b = B.fedex_scan("2014-01-08T22:06:00-06:00", "AR", "At local FedEx facility", "IT")
    c = B.fedex_scan("2014-01-08T22:06:00-06:00", "AR", "Arrived at FedEx location", "IT")
    # Oldest first on the wire (out of order), one exact duplicate, one near-duplicate.
    r = track(200, B.fedex_answer((number, [B.fedex_result(number, [a, a, b, c], {})])), number)
    assert [e.description for e in r.events] == [
        "Picked up", "Arrived at FedEx location", "At local FedEx facility",
    ]  # fmt: skip
    assert Anomaly.duplicate_events in r.anomalies
    assert Anomaly.out_of_order_events in r.anomalies


def test_batch_body_and_mixed_results() -> None:
    good, bad = B.FEDEX_DELIVERED, B.FEDEX_NOT_FOUND
    body = B.fedex_answer(
        (good, B.fedex_delivered()["output"]["completeTrackResults"][0]["trackResults"]),
        (bad, [B.fedex_not_found_result(bad)]),
    )
    server = FakeCarriers(lambda r: respond(200, body))
    with client_for(server) as c:
        outcomes = c.track_many([(good, "fedex"), (bad, "fedex")])
    assert isinstance(outcomes[0], TrackingResult) and outcomes[0].is_delivered
    assert isinstance(outcomes[1], NotFound)
    (request,) = server.tracking_requests()
    assert request.url.path == "/track/v1/trackingnumbers"
    assert json.loads(request.content) == {
        "includeDetailedScans": True,
        "trackingInfo": [
            {"trackingNumberInfo": {"trackingNumber": good}},
            {"trackingNumberInfo": {"trackingNumber": bad}},
        ],
    }


@pytest.mark.parametrize(
    ("status", "code", "error"),
    [
        (400, "TRACKING.TRACKINGNUMBER.INVALID", InvalidNumber),
        (400, "TRACKING.TRACKINGNUMBER.EMPTY", InvalidNumber),
        (404, "NOT.FOUND.ERROR", RequestRejected),  # the resource (URL), not the number
        (403, "FORBIDDEN.ERROR", TrackingError),
    ],
)
def test_error_envelopes(status: int, code: str, error: type[TrackingError]) -> None:
    with pytest.raises(error) as info:
        track(status, B.fedex_error(code, "message"))
    assert info.value.code == code


def test_missing_output_is_malformed() -> None:
    with pytest.raises(MalformedResponse):
        track(200, {"transactionId": "x"})
