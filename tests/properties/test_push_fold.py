"""Property: the state folded from every push of a shipment does not depend on the order the
pushes arrive in nor on resends, and equals what tracking the shipment's full record says.

The client half of issue 9's push property: histories are built from the carriers' own
example bodies (``tests/push_bodies.py``), signed, received through ``client.push``, and
delivered in any order with any delivery repeated.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from hypothesis import given
from hypothesis import strategies as st

from client.carriers.dhl import DhlAdapter
from client.carriers.usps import CATEGORIES, EVENT_CODES, UspsAdapter
from client.errors import ReplayedPush
from client.model import TrackingResult
from client.push import (
    DhlPushAuth,
    PushReceiver,
    PushSecrets,
    PushUpdate,
    ReplayGuard,
    UpsPushAuth,
    UspsPushAuth,
    fold,
    verify_and_parse,
)
from client.transport import HttpReply
from tests import push_bodies as pb
from tests.client import bodies

UPS_NUMBER = "1ZABCXYZ0112346789"
USPS_NUMBER = "9400112345678945613221"  # the spec's own subscription example
CREDENTIAL = pb.UPS_CREDENTIAL
START = datetime(2024, 4, 22, 4, 0, tzinfo=UTC)

UPS_TEMPLATES = [
    *pb.ups_pushes(pb.UPS_V1).values(),
    *pb.ups_pushes(pb.UPS_ENHANCED_V1).values(),
    *pb.ups_pushes(pb.UPS_V2).values(),
]
USPS_EVENT = pb.usps_record()["trackingEvents"][0]

gaps = st.integers(min_value=1, max_value=24 * 60)
"""Minutes between two scans."""


def _instants(minutes: list[int]) -> list[datetime]:
    out, t = [], START
    for m in minutes:
        t += timedelta(minutes=m)
        out.append(t)
    return out


@st.composite
def ups_histories(draw: st.DrawFn) -> list[dict[str, Any]]:
    """A parcel's UPS pushes in scan order: example bodies moved to increasing instants."""
    templates = draw(st.lists(st.sampled_from(UPS_TEMPLATES), min_size=1, max_size=8))
    bodies = []
    for template, at in zip(
        templates, _instants(draw(st.lists(gaps, min_size=len(templates)))), strict=False
    ):
        body = copy.deepcopy(template)
        local = at - timedelta(hours=4)
        body.update(
            trackingNumber=UPS_NUMBER,
            gmtActivityDate=at.strftime("%Y%m%d"),
            gmtActivityTime=at.strftime("%H%M%S"),
            localActivityDate=local.strftime("%Y%m%d"),
            localActivityTime=local.strftime("%H%M%S"),
            gmtOffset="-04.00",
        )
        bodies.append(body)
    return bodies


@st.composite
def usps_histories(draw: st.DrawFn) -> list[dict[str, Any]]:
    """A parcel's USPS records in scan order: each holds every scan so far, newest first
    (the example's event with drawn codes and instants), and a drawn status category."""
    codes = draw(st.lists(st.sampled_from(sorted(EVENT_CODES)), min_size=1, max_size=8))
    instants = _instants(draw(st.lists(gaps, min_size=len(codes), max_size=len(codes))))
    events = []
    for code, at in zip(codes, instants, strict=True):
        local = at.astimezone(UTC) - timedelta(hours=5)
        events.append(
            {
                **USPS_EVENT,
                "eventCode": code,
                "eventTimestamp": local.strftime("%Y-%m-%dT%H:%M:%S-05:00"),
                "GMTTimestamp": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
        )
    records = []
    for i in range(len(events)):
        record = pb.usps_record()
        record.update(
            trackingNumber=USPS_NUMBER,
            statusCategory=draw(st.sampled_from(sorted(CATEGORIES))).title(),
            trackingEvents=events[: i + 1][::-1],
        )
        records.append(record)
    return records


DHL_SHIPMENT = bodies.dhl_delivered()["shipments"][0]


@st.composite
def dhl_histories(draw: st.DrawFn) -> list[dict[str, Any]]:
    """A parcel's DHL shipments in scan order: a drawn selection of the example's events
    (one without offset among them), each push holding every event so far, newest first,
    with the newest as the shipment's status."""
    oldest_first = DHL_SHIPMENT["events"][::-1]
    picks = draw(st.lists(st.booleans(), min_size=len(oldest_first), max_size=len(oldest_first)))
    chosen = [e for e, keep in zip(oldest_first, picks, strict=True) if keep] or oldest_first
    return [
        {**copy.deepcopy(DHL_SHIPMENT), "events": chosen[: i + 1][::-1], "status": chosen[i]}
        for i in range(len(chosen))
    ]


def arrivals(n: int) -> st.SearchStrategy[list[int]]:
    """Indices 0..n-1 in any order, each at least once, some repeated (resends)."""
    extra = st.lists(st.integers(0, n - 1), max_size=n)
    return extra.flatmap(lambda more: st.permutations([*range(n), *more]))


def in_any_order(data: st.DataObject, updates: list[PushUpdate], number: str) -> TrackingResult:
    """The fold of the updates delivered in a drawn order, some of them twice."""
    order = data.draw(arrivals(len(updates)), label="arrival")
    return fold(updates[i] for i in order)[number]


def ups_updates(bodies: list[dict[str, Any]]) -> list[PushUpdate]:
    auth = UpsPushAuth(credential=CREDENTIAL)
    headers = pb.ups_v1_headers(CREDENTIAL)
    return [verify_and_parse("ups", headers, pb.encode(b), auth).updates[0] for b in bodies]


def usps_updates(records: list[dict[str, Any]]) -> list[PushUpdate]:
    auth = UspsPushAuth(pb.USPS_SECRET)
    out = []
    for i, record in enumerate(records):
        stamp = (START + timedelta(seconds=i)).isoformat(timespec="milliseconds")
        notification = pb.usps_notification(record, timestamp=stamp.replace("+00:00", "Z"))
        headers = pb.usps_headers(notification)
        out.append(verify_and_parse("usps", headers, pb.encode(notification), auth).updates[0])
    return out


def tracked_usps(record: dict[str, Any]) -> TrackingResult:
    reply = HttpReply(200, httpx.Headers(), pb.encode(record), "test:")
    result = UspsAdapter().parse_track(reply, [USPS_NUMBER])[USPS_NUMBER]
    assert isinstance(result, TrackingResult)
    return result


@given(st.data(), ups_histories())
def test_ups_fold_is_order_free_and_ends_at_the_newest_scan(
    data: st.DataObject, bodies: list[dict[str, Any]]
) -> None:
    updates = ups_updates(bodies)
    folded = in_any_order(data, updates, UPS_NUMBER)
    assert folded == fold(updates)[UPS_NUMBER]
    newest = updates[-1].result
    assert (folded.status, folded.raw_status_code) == (newest.status, newest.raw_status_code)
    assert folded.events == tuple(u.events[0] for u in updates)


@given(st.data(), usps_histories())
def test_usps_fold_equals_tracking_the_full_record(
    data: st.DataObject, records: list[dict[str, Any]]
) -> None:
    assert in_any_order(data, usps_updates(records), USPS_NUMBER) == tracked_usps(records[-1])


@given(st.data(), dhl_histories())
def test_dhl_fold_equals_tracking_the_full_record(
    data: st.DataObject, shipments: list[dict[str, Any]]
) -> None:
    auth = DhlPushAuth(pb.DHL_HEADER, pb.DHL_TOKEN)
    headers = pb.dhl_headers(pb.DHL_HEADER, pb.DHL_TOKEN)
    updates = [
        verify_and_parse("dhl", headers, pb.encode(pb.dhl_push([s])), auth).updates[0]
        for s in shipments
    ]
    number = DHL_SHIPMENT["id"]
    reply = HttpReply(200, httpx.Headers(), pb.encode({"shipments": shipments[-1:]}), "test:")
    assert in_any_order(data, updates, number) == DhlAdapter().parse_track(reply, [number])[number]


@given(st.data(), ups_histories())
def test_resends_are_refused_and_the_accepted_ones_fold_the_same(
    data: st.DataObject, bodies: list[dict[str, Any]]
) -> None:
    receiver = PushReceiver(
        PushSecrets(ups=UpsPushAuth(credential=CREDENTIAL)), ReplayGuard(window=None)
    )
    order = data.draw(arrivals(len(bodies)), label="arrival")
    accepted, refused = [], 0
    for i in order:
        try:
            delivery = receiver.receive("ups", pb.ups_v1_headers(CREDENTIAL), pb.encode(bodies[i]))
        except ReplayedPush as exc:
            assert exc.duplicate
            refused += 1
            continue
        accepted.extend(delivery.updates)
    distinct = {pb.encode(b) for b in bodies}
    assert len(accepted) == len(distinct) and refused == len(order) - len(distinct)
    assert fold(accepted) == fold(ups_updates(bodies))
