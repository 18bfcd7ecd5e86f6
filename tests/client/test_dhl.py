"""DHL answers → the model (NOTES §4.4–4.5)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from client import Anomaly, ExceptionReason, Location, RetryPolicy, Status, TrackingResult
from client.errors import NotFound, RateLimited
from tests.client import bodies as B
from tests.client.fakes import FakeCarriers, client_for, respond

CET = timezone(timedelta(hours=1))


def track(status: int, body: object, number: str = B.DHL_NUMBER, **kw: object) -> TrackingResult:
    with client_for(FakeCarriers(lambda r: respond(status, body)), **kw) as c:
        return c.track(number)


def test_delivered_answer_with_every_time_variant() -> None:
    r = track(200, B.dhl_delivered())
    assert r.status is Status.delivered and r.raw_status_code == "delivered"
    assert [e.status for e in r.events] == [
        Status.pre_transit, Status.in_transit, Status.out_for_delivery, Status.delivered,
    ]  # fmt: skip
    pre, processed, _ofd, delivered = r.events
    assert pre.time == datetime(2023, 11, 20, 8, 0, tzinfo=UTC) and pre.offset_known
    assert processed.time == datetime(2023, 11, 20, 22, 4, tzinfo=UTC)
    assert not processed.offset_known and processed.location is None  # location without address
    # Nanoseconds truncated to microseconds.
    assert delivered.time == datetime(2023, 11, 21, 15, 27, 20, 331986, tzinfo=CET)
    assert delivered.location == Location("Oderweg 2, AMSTERDAM", None, "1043 AG", "NL")
    assert r.delivered_at == delivered.time
    assert r.signed_by == "J DOE" and r.service == "DHL PARCEL"
    assert Anomaly.missing_offsets in r.anomalies


def test_failure_family_refined_by_words() -> None:
    r = track(200, B.dhl_failure(words="Returned to sender"))
    assert r.status is Status.returned_to_sender
    r = track(200, B.dhl_failure(words="Delivery failed: address incomplete"))
    assert r.status is Status.exception and r.exception_reason is ExceptionReason.address


def test_words_cannot_leave_the_family() -> None:
    # "delivered" in the words of a transit event does not make it delivered.
    body = B.dhl_failure()
    event = body["shipments"][0]["events"][0]
    event.update(statusCode="transit", status="Will be delivered tomorrow", description="")
    body["shipments"][0]["status"] = event
    assert track(200, body).status is Status.in_transit


def test_unknown_status_code_keeps_raw_code() -> None:
    body = B.dhl_failure()
    body["shipments"][0]["events"][0]["statusCode"] = "held"
    body["shipments"][0]["status"] = body["shipments"][0]["events"][0]
    r = track(200, body)
    assert r.status is Status.unknown and r.raw_status_code == "held"


def test_not_found_is_a_404_problem() -> None:
    with pytest.raises(NotFound) as info:
        track(404, B.DHL_NOT_FOUND)
    assert info.value.status_code == 404
    assert "No shipment with given tracking number found." in info.value.message


def test_empty_shipments_is_not_found() -> None:
    with pytest.raises(NotFound):
        track(200, {"shipments": []})


def test_429_problem_is_rate_limited() -> None:
    body = {"status": 429, "title": "Too Many Requests", "detail": "Too many requests within "
            "defined time period, please try again later."}  # fmt: skip
    with pytest.raises(RateLimited):
        track(429, body, retry=RetryPolicy.for_testing(max_attempts=1))


def test_several_shipments_prefer_the_matching_id() -> None:
    other = B.dhl_failure("1234567890")["shipments"][0]
    body = B.dhl_delivered()
    body["shipments"].insert(0, other)
    r = track(200, body)
    assert r.is_delivered and Anomaly.multiple_results in r.anomalies
