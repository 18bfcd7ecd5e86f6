"""USPS answers → the model (NOTES §3.4–3.6): 3.0 GET, 3.2 POST batches, time quirks."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from client import Anomaly, ExceptionReason, Status, TrackingResult
from client.carriers.usps import event_time
from client.errors import AuthenticationError, NotFound
from tests.client import bodies as B
from tests.client.fakes import FakeCarriers, client_for, respond

CST, EST, PDT = (timezone(timedelta(hours=h)) for h in (-6, -5, -7))
N1, N2 = "9205590982952107001084", "9241999996333426012948"  # 92…: also SmartPost numbers


def track(status: int, body: object, number: str = B.USPS_NUMBER) -> TrackingResult:
    with client_for(FakeCarriers(lambda r: respond(status, body))) as c:
        return c.track(number)


def test_delivered_detail_answer() -> None:
    r = track(200, B.usps_delivered())
    assert r.status is Status.delivered and r.raw_status_code == "Delivered"
    assert r.status_description == "Delivered, Front Door/Porch"
    assert [e.raw_code for e in r.events] == ["GX", "03", "10", "OF", "01"]
    assert [e.status for e in r.events] == [
        Status.pre_transit, Status.in_transit, Status.in_transit, Status.out_for_delivery,
        Status.delivered,
    ]  # fmt: skip
    assert r.delivered_at == datetime(2024, 11, 23, 13, 10, tzinfo=CST)
    assert r.service == "USPS Ground Advantage™"  # <SUP>&#153;</SUP> cleaned (§6 item 12)


def test_gmt_timestamp_is_the_instant_and_offset_the_zone() -> None:
    r = track(200, B.usps_delivered())
    possession = r.events[1]
    assert possession.time == datetime(2024, 11, 19, 13, 35, tzinfo=UTC)
    assert possession.time.utcoffset() == timedelta(hours=-5)


def test_gmt_date_quirk_is_repaired() -> None:
    # Local 2024-11-21T23:28 at −06:00 is 2024-11-22T05:28Z; USPS kept the local date.
    r = track(200, B.usps_delivered())
    arrival = r.events[2]
    assert arrival.time == datetime(2024, 11, 22, 5, 28, 33, tzinfo=UTC)
    assert arrival.time.replace(tzinfo=None) == datetime(2024, 11, 21, 23, 28, 33)
    assert Anomaly.repaired_times in r.anomalies


def test_pre_shipment_event_without_gmt_fields() -> None:
    r = track(200, B.usps_delivered())
    label = r.events[0]
    assert label.time == datetime(2024, 11, 18, 16, 2, tzinfo=UTC) and not label.offset_known
    assert Anomaly.missing_offsets in r.anomalies


def test_an_alert_is_read_from_the_newest_timed_scan_when_scans_come_out_of_order() -> None:
    # Listed newest first, but the offset-less pre-shipment scan came first: nothing can
    # place it, so the Alert is refined by the newest scan whose instant is known.
    body = {
        **B.usps_delivered(),
        "status": "Alert",
        "statusCategory": "Alert",
        "trackingEvents": [
            B.usps_event("Shipping Label Created, USPS Awaiting Item", "GX",
                         "2024-11-18T16:02:00", city="NEW YORK", state="NY", zip_="10001"),
            B.usps_event("Customer Recall", "44", "2024-11-18T16:03:00",
                         "2024-11-18T21:03:00Z", "-05:00", "NEW YORK", "NY", "10001"),
        ],
    }  # fmt: skip
    r = track(200, body)
    assert r.status is Status.returned_to_sender and r.raw_status_code == "44"


@pytest.mark.parametrize(
    ("event", "expected", "zone"),
    [
        # Quirk without GMTOffset: the day that makes the implied offset plausible.
        ({"eventTimestamp": "2024-11-21T23:28:00", "GMTTimestamp": "2024-11-21T05:28:33Z"},
         datetime(2024, 11, 22, 5, 28, 33, tzinfo=UTC), timedelta(hours=-6)),
        # Spec example: GMTOffset in minutes (-420) and a space-separated GMT time.
        ({"eventTimestamp": "2024-04-04T07:03:12",
          "GMTTimestamp": "2024-04-04 14:03:12.041000+00:00", "GMTOffset": "-420"},
         datetime(2024, 4, 4, 14, 3, 12, 41000, tzinfo=UTC), timedelta(hours=-7)),
        # 3.2: the local time carries its offset; GMTOffset "-7:00".
        ({"eventTimestamp": "2024-04-04T14:03:12-07:00", "GMTTimestamp": "2024-04-04T21:03:12Z",
          "GMTOffset": "-7:00"},
         datetime(2024, 4, 4, 21, 3, 12, tzinfo=UTC), timedelta(hours=-7)),
        # Local time and offset but no GMT timestamp.
        ({"eventTimestamp": "2024-04-04T14:03:12", "GMTOffset": "-06:00"},
         datetime(2024, 4, 4, 20, 3, 12, tzinfo=UTC), timedelta(hours=-6)),
        # 3.2 date-only event.
        ({"eventTimestamp": "2024-04-04"}, datetime(2024, 4, 4, tzinfo=UTC), timedelta(0)),
    ],
)  # fmt: skip
def test_event_time_forms(event: dict[str, str], expected: datetime, zone: timedelta) -> None:
    stamp = event_time(event)
    assert stamp is not None
    assert stamp.at == expected and stamp.at.utcoffset() == zone


def test_not_yet_available_400_is_not_found() -> None:
    body = B.usps_error(400, B.USPS_NOT_YET, "150001")
    with pytest.raises(NotFound) as info:
        track(400, body)
    assert info.value.code == "150001" and info.value.status_code == 400
    assert "reg;" not in info.value.message and "®" in info.value.message


def test_3_2_404_is_not_found() -> None:
    body = B.usps_error(404, "", None, api="/tracking/v3r2")
    with pytest.raises(NotFound):
        track(404, body)


def test_401_hints_at_the_tracking_scope() -> None:
    body = {"apiVersion": "/tracking/v3", "error": {"code": "401", "message": "", "errors": []}}
    server = FakeCarriers(lambda r: respond(401, body))
    server.valid = type("All", (set,), {"__contains__": lambda self, x: True})()
    with client_for(server) as c, pytest.raises(AuthenticationError) as info:
        c.track(B.USPS_NUMBER)
    assert "'tracking' scope" in info.value.hint


def test_single_number_uses_the_3_0_get_with_detail() -> None:
    server = FakeCarriers(lambda r: respond(200, B.usps_delivered()))
    with client_for(server) as c:
        c.track(B.USPS_NUMBER)
    (request,) = server.tracking_requests()
    assert request.method == "GET"
    assert request.url.path == f"/tracking/v3/tracking/{B.USPS_NUMBER}"
    assert request.url.params["expand"] == "DETAIL"


def test_batch_uses_the_3_2_post_and_reads_a_207() -> None:
    body = [B.usps_v3r2_success(N1), B.usps_v3r2_not_found(N2)]
    server = FakeCarriers(lambda r: respond(207, body))
    with client_for(server) as c:
        first, second = c.track_many([N1, N2], carrier="usps")
    (request,) = server.tracking_requests()
    assert request.method == "POST" and request.url.path == "/tracking/v3r2/tracking"
    assert json.loads(request.content) == [{"trackingNumber": N1}, {"trackingNumber": N2}]
    assert isinstance(first, TrackingResult) and first.status is Status.in_transit
    assert first.events[0].time == datetime(2024, 4, 4, 14, 3, 12, tzinfo=PDT)
    assert first.events[0].location is not None and first.events[0].location.postal_code == "98101"
    assert first.estimated_delivery == datetime(2024, 4, 6, tzinfo=UTC)
    assert isinstance(second, NotFound) and second.code == "150006"


def test_batch_answer_missing_a_number_reports_it() -> None:
    server = FakeCarriers(lambda r: respond(200, [B.usps_v3r2_success(N1)]))
    with client_for(server) as c:
        first, second = c.track_many([N1, N2], carrier="usps")
    assert isinstance(first, TrackingResult)
    assert second.__class__.__name__ == "MalformedResponse"


def test_event_codes_and_words() -> None:
    events = [
        B.usps_event("Notice Left (No Authorized Recipient Available)", "56",
                     "2024-11-22T10:00:00", "2024-11-22T16:00:00Z", "-06:00"),
        B.usps_event("Delivery Attempted - No Access to Delivery Location", None,
                     "2024-11-21T10:00:00", "2024-11-21T16:00:00Z", "-06:00"),
        B.usps_event("Whatever comes next", "ZZ", "2024-11-20T10:00:00",
                     "2024-11-20T16:00:00Z", "-06:00"),
    ]  # fmt: skip
    body = {"trackingNumber": B.USPS_NUMBER, "statusCategory": "Delivery Attempt",
            "status": "Notice Left", "trackingEvents": events}  # fmt: skip
    r = track(200, body)
    unknown, by_words, by_code = r.events
    assert unknown.status is Status.unknown and unknown.raw_code == "ZZ"
    assert by_words.status is Status.failed_attempt and by_words.raw_code is None
    assert by_code.status is Status.failed_attempt
    assert by_code.exception_reason is ExceptionReason.recipient_unavailable
    assert r.status is Status.failed_attempt
    assert r.exception_reason is ExceptionReason.recipient_unavailable


def test_null_city_and_state_partner_scans() -> None:
    event = B.usps_event("Picked Up by Shipping Partner, USPS Awaiting Item", "80",
                         "2024-11-18T16:02:00")  # fmt: skip
    r = track(200, {"trackingNumber": B.USPS_NUMBER, "trackingEvents": [event]})
    assert r.events[0].location is None and r.status is Status.in_transit
