"""Known simulator deviations, pinned: each test states what the simulator should do and is
an ``xfail(strict=True)`` until the simulator does it. The properties tolerate exactly these
deviations where ``ground_truth.SIMULATOR_DEVIATIONS`` names them; when one of these tests
starts passing, remove its entry there (and the xfail here) so the property gets strict again.
"""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from client.errors import NotFound
from client.model import TrackingResult
from simulator import quirks
from simulator.app import create_app
from simulator.faults import Fault
from simulator.scenario import EventKind, Scenario
from tests.properties import ground_truth as truth
from tests.properties.harness import (
    EPOCH,
    client,
    freeze,
    playing,
    run,
    shipment_of,
    simulation,
    track,
)

NUMBERS = {
    "ups": "1Z8JDLM20822948460",
    "fedex": "253660082295",
    "usps": "9251945694517553821935",
    "dhl": "2536600824",
}


def timeline(*kinds: str, hubs: int = 1) -> Scenario:
    """A scenario of these kinds, one hour apart, within one country."""
    events = [{"at": timedelta(hours=i), "kind": k} for i, k in enumerate(kinds)]
    return Scenario(name="deviation", route={"hubs": hubs}, events=events)  # type: ignore[arg-type]


def quirk(mode: str) -> Fault:
    return Fault.model_validate({"kind": "quirk", "mode": mode, "match": {"endpoint": "track"}})


def test_a_rate_limit_outside_its_window_limits_nothing() -> None:
    scenario = timeline("label_created", "picked_up")
    limiter = Fault.model_validate(
        {
            "kind": "rate_limit",
            "limit": 1,
            "per": "1h",
            "when": {"window": {"from": "0s", "to": "1s"}},
        }
    )
    sim = simulation([playing(scenario, "dhl", NUMBERS["dhl"])], faults=[limiter])
    shipment = shipment_of(sim, "dhl", NUMBERS["dhl"])
    now = freeze(sim, shipment, timedelta(hours=2))
    assert now - EPOCH.timestamp() > 1  # the window is long over
    outcomes = [track(sim, "dhl", NUMBERS["dhl"]) for _ in range(3)]
    assert all(isinstance(o, TrackingResult) for o in outcomes), outcomes


CURRENT_STATUS_FIELD = {
    "fedex": lambda raw: raw["latestStatusDetail"]["code"] == "DL",
    "usps": lambda raw: raw["statusCategory"] == "Delivered",
    "dhl": lambda raw: raw["status"]["statusCode"] == "delivered",
}


@pytest.mark.parametrize("carrier", sorted(CURRENT_STATUS_FIELD))
def test_out_of_order_scans_leave_the_current_status_alone(carrier: str) -> None:
    scenario = timeline("label_created", "picked_up", "delivered")
    number = NUMBERS[carrier]
    sim = simulation([playing(scenario, carrier, number)], faults=[quirk("out_of_order")])
    freeze(sim, shipment_of(sim, carrier, number), timedelta(hours=3))
    result = track(sim, carrier, number)
    assert isinstance(result, TrackingResult), result
    assert CURRENT_STATUS_FIELD[carrier](result.raw), result.raw


def test_usps_duplicate_scans_are_exact_copies() -> None:
    scenario = timeline("label_created", "picked_up", "arrived_at_facility")
    number = NUMBERS["usps"]
    sim = simulation([playing(scenario, "usps", number)], faults=[quirk("duplicate_scans")])
    freeze(sim, shipment_of(sim, "usps", number), timedelta(hours=3))
    result = track(sim, "usps", number)
    assert isinstance(result, TrackingResult), result
    arrivals = [e for e in result.raw["trackingEvents"] if "Arrived" in e["eventType"]]
    assert len(arrivals) == 2 and arrivals[0] == arrivals[1], arrivals


def test_status_regression_goes_backwards_after_the_delivery() -> None:
    kinds = ["label_created", "picked_up", "out_for_delivery", "delivered"]
    scenario = timeline(*kinds)
    sim = simulation([playing(scenario, "ups", NUMBERS["ups"])])
    shipment = shipment_of(sim, "ups", NUMBERS["ups"])
    count = len(kinds)
    shown, shown_count = quirks.apply(shipment, count, frozenset({"status_regression"}))
    assert shown_count == count + 1
    extra = shown.events[shown_count - 1]
    assert extra.kind is EventKind.in_transit
    assert truth.is_regression(shipment.events[:count], extra), extra.kind


@pytest.mark.parametrize(
    "newest", ["label_created", "picked_up", "arrived_at_facility", "out_for_delivery"]
)
def test_status_regression_adds_nothing_before_the_delivery(newest: str) -> None:
    # The quirk contradicts a delivery; a parcel out for delivery shows what it is.
    kinds = ["label_created", "picked_up", newest] if newest != "label_created" else [newest]
    scenario = timeline(*kinds)
    sim = simulation([playing(scenario, "ups", NUMBERS["ups"])])
    shipment = shipment_of(sim, "ups", NUMBERS["ups"])
    shown, shown_count = quirks.apply(shipment, len(kinds), frozenset({"status_regression"}))
    assert shown_count == len(kinds)
    assert [e.kind for e in shown.events] == [e.kind for e in shipment.events[: len(kinds)]]


def test_a_fault_aimed_at_one_number_spares_its_batch_neighbours() -> None:
    aimed, neighbour = NUMBERS["usps"], "9400100000000000000006"
    scenario = timeline("label_created", "picked_up")
    plays = [
        playing(scenario, "usps", aimed),
        playing(scenario.model_copy(update={"name": "neighbour"}), "usps", neighbour),
    ]
    lie = Fault.model_validate({"kind": "lie", "mode": "ok_with_error", "match": {"number": aimed}})
    sim = simulation(plays, faults=[lie])
    freeze(sim, shipment_of(sim, "usps", aimed), timedelta(hours=2))
    transport = httpx.ASGITransport(app=create_app(sim))

    async def main() -> list[object]:
        async with client(transport=transport) as tracker:
            return list(await tracker.track_many([(aimed, "usps"), (neighbour, "usps")]))

    first, second = run(main)
    assert isinstance(first, NotFound), first  # the lie, where it was aimed
    assert isinstance(second, TrackingResult), second  # and nowhere else


def test_the_tolerated_deviations_are_the_pinned_ones() -> None:
    """Every deviation the properties tolerate is pinned above (and nothing else is)."""
    assert {d.quirk for d in truth.SIMULATOR_DEVIATIONS} == set()
    assert EventKind.in_transit  # the quirk's extra scan kind, named in the reasons above
