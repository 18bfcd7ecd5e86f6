"""Property 3, monotonicity: moving the clock forward never takes away an event the client
has already seen — except the scan the status_regression quirk adds, and where that scan
really goes backwards the client must have said so (``Anomaly.status_regression``).

Faults in force: HTTP errors (observations that fail are simply not compared) and the data
quirks that leave the past as it was. Two quirks are left to property 2 because they rewrite
only the newest scan, so one scan legitimately reads differently once a newer one exists:
future_timestamps (the newest scan is dated two days late) and unknown_codes (UPS, USPS and
DHL give only the newest scan an unknown code).
"""

from __future__ import annotations

from datetime import timedelta
from itertools import pairwise

import httpx
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from client.model import Anomaly, Event, TrackingResult
from simulator import quirks
from simulator.app import create_app
from simulator.faults import Fault
from simulator.scenario import CARRIERS, Scenario
from simulator.strategies import (
    HTTP_FAULTS,
    aimed_faults,
    clock_points,
    scenarios,
    tracking_numbers,
)
from simulator.timeline import Shipment
from tests.properties import ground_truth as truth
from tests.properties.checks import describe
from tests.properties.faulted import Candidate, time_ok
from tests.properties.harness import (
    TENANT,
    Outcome,
    client,
    examples,
    outcome_of,
    playing,
    run,
    shipment_of,
    simulation,
)

STABLE_QUIRKS = (
    "duplicate_scans",
    "out_of_order",
    "status_regression",
    "missing_offsets",
    "wrong_offsets",
    "empty_events",
    "missing_optional_fields",
    "non_ascii_places",
    "padded_number",
    "lowercase_number",
)
"""Data quirks that never change a scan once a newer one exists (see the module doc)."""

Key = tuple[object, ...]


def key(e: Event) -> Key:
    """What makes a reported event the same event in a later answer."""
    return (e.time, e.status, e.exception_reason, e.location)


@st.composite
def timelines(draw: st.DrawFn, scenario: Scenario) -> list[timedelta]:
    """Two to four increasing clock points for one scenario."""
    points = draw(st.lists(clock_points(scenario), min_size=2, max_size=4, unique=True))
    return sorted(points)


@st.composite
def stable_plans(draw: st.DrawFn, carrier: str, number: str) -> list[Fault]:
    """Always-on stable quirks, plus HTTP faults aimed at the client."""
    modes = draw(st.lists(st.sampled_from(STABLE_QUIRKS), max_size=3, unique=True))
    plan = [
        Fault.model_validate({"kind": "quirk", "mode": m, "match": {"endpoint": "track"}})
        for m in modes
    ]
    aimed = aimed_faults(carrier=carrier, tenant=TENANT, number=number, kinds=HTTP_FAULTS)
    return plan + draw(st.lists(aimed, max_size=2))


def vanished_ok(
    shipment: Shipment, count: int, earlier: TrackingResult, gone: Event, modes: set[str]
) -> str | None:
    """Why an event seen earlier may be missing later (None: it may not)."""
    if "status_regression" not in modes or count == 0:
        return None
    regressed = quirks.apply(shipment, count, frozenset({"status_regression"}))[0]
    if len(regressed.events) == count:  # before a delivery the quirk adds no scan
        return None
    scan = regressed.events[-1]
    if not time_ok(shipment.carrier, Candidate(scan, (scan.place,)), gone, frozenset(modes)):
        return None
    visible = shipment.events[:count]
    # Where the simulator's status field names the swapped scan under out_of_order
    # (SIMULATOR_DEVIATIONS), the client has no current status to see the regression in.
    misreported = "out_of_order" in modes and truth.deviates(shipment.carrier, "out_of_order")
    flagged = Anomaly.status_regression in earlier.anomalies or misreported
    if truth.is_regression(visible, scan) and not flagged:
        return None
    return "the status_regression scan"


@pytest.mark.parametrize("carrier", CARRIERS)
@settings(max_examples=examples(0.8))
@given(data=st.data())
def test_moving_the_clock_forward_never_loses_an_event(carrier: str, data: st.DataObject) -> None:
    scenario = data.draw(scenarios(), label="scenario")
    number = data.draw(tracking_numbers(carrier), label="number")
    points = data.draw(timelines(scenario), label="clock points")
    plan = data.draw(stable_plans(carrier, number), label="plan")
    sim = simulation([playing(scenario, carrier, number)], faults=plan)
    shipment = shipment_of(sim, carrier, number)
    transport = httpx.ASGITransport(app=create_app(sim))

    async def main() -> list[tuple[int, Outcome]]:
        seen: list[tuple[int, Outcome]] = []
        async with client(transport=transport) as tracker:
            for offset in points:
                at = shipment.t0 + offset
                sim.clock.freeze(TENANT, at=at)
                count = shipment.visible_count(at.timestamp())
                seen.append((count, await outcome_of(tracker, carrier, number)))
        return seen

    observations = run(main)
    modes = {f.fault.mode for f in plan if f.fault.kind == "quirk"}
    answered = [(c, o) for c, o in observations if isinstance(o, TrackingResult)]
    event(f"answered observations: {len(answered)}")
    problems: list[str] = []
    for (count, before), (_, after) in pairwise(answered):
        later = {key(e) for e in after.events}
        if not after.events and "empty_events" in modes:
            continue
        for gone in (e for e in before.events if key(e) not in later):
            if vanished_ok(shipment, count, before, gone, modes) is None:
                problems.append(
                    f"{gone.time.isoformat()} {gone.status.value} @ {gone.location} vanished\n"
                    f"before:\n{describe(before)}\nafter:\n{describe(after)}"
                )
    assert not problems, "\n".join([*problems, f"quirks: {sorted(modes)}"])
