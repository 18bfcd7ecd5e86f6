"""The watcher against the simulator: every scenario and carrier, Hypothesis choosing the
polling interval, the clock jumps, data quirks, HTTP faults, failing sends and restarts.

What must hold, whatever was chosen:

- the carrier-driven change events are exactly those one fold over the final answer gives
  (no duplicate, none missed — the final one included —, in order), however the polls fell,
  however many failed, and wherever the watcher was killed and restarted;
- every recorded change is notified once per rule, never twice;
- the watcher's final status is what tracking says at the end, and a final parcel is no
  longer polled.

Push-vs-poll equivalence is left for when the push receiver exists; the feeding path
(``Watcher.feed``) is covered by :func:`test_any_order_of_answers_gives_the_same_changes`.
"""

from __future__ import annotations

import asyncio
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import Phase, event, given, settings
from hypothesis import strategies as st

from client.errors import TrackingError
from client.model import Status, TrackingResult
from client.watch import FINAL_STATUSES, Order, Store, Watcher
from client.watch.changes import replay
from simulator.faults import Fault
from simulator.scenario import CARRIERS, Scenario
from simulator.strategies import (
    HTTP_FAULTS,
    aimed_faults,
    clock_points,
    scenarios,
    tracking_numbers,
)
from tests.properties import ground_truth
from tests.properties.harness import (
    TENANT,
    examples,
    outcome_of,
    playing,
    shipment_of,
    simulation,
)
from tests.watch.harness import (
    Recorder,
    assert_well_formed,
    scan_changes,
    tracker_for,
    watcher,
)

QUIRKS = (
    "duplicate_scans",
    "out_of_order",
    "missing_offsets",
    "non_ascii_places",
    "missing_optional_fields",
    "padded_number",
    "lowercase_number",
)
"""Always-on quirks under which a carrier never rewrites a scan it already showed."""


def quirk_plan(modes: list[str]) -> list[Fault]:
    return [
        Fault.model_validate({"kind": "quirk", "mode": m, "match": {"endpoint": "track"}})
        for m in modes
    ]


def end_of(scenario: Scenario) -> timedelta:
    return (scenario.events[-1].at if scenario.events else timedelta(0)) + timedelta(days=1)


async def truth(
    sim_plan: list[Fault], scenario: Scenario, carrier: str, number: str, at: timedelta
) -> TrackingResult | TrackingError:
    """What tracking says at ``at`` with the quirks but no HTTP fault."""
    sim = simulation([playing(scenario, carrier, number)], faults=sim_plan)
    shipment = shipment_of(sim, carrier, number)
    sim.clock.freeze(TENANT, at=shipment.t0 + at)
    async with tracker_for(sim) as tracker:
        return await outcome_of(tracker, carrier, number)


@pytest.mark.parametrize("carrier", CARRIERS)
@settings(max_examples=examples(0.4), phases=tuple(p for p in Phase if p is not Phase.explain))
@given(data=st.data())
def test_watching_reports_each_change_once_in_order(carrier: str, data: st.DataObject) -> None:
    scenario = data.draw(scenarios(), label="scenario")
    number = data.draw(tracking_numbers(carrier), label="number")
    modes = data.draw(st.lists(st.sampled_from(QUIRKS), max_size=3, unique=True), label="quirks")
    aimed = aimed_faults(carrier=carrier, tenant=TENANT, number=number, kinds=HTTP_FAULTS)
    http = data.draw(st.lists(aimed, max_size=2), label="http faults")
    every = data.draw(st.sampled_from([900.0, 3600.0, 4 * 3600.0, 12 * 3600.0]), label="every")
    jumps = data.draw(
        st.lists(st.integers(60, 2 * 86400).map(lambda s: timedelta(seconds=s)), max_size=10),
        label="clock jumps",
    )
    steps = 3 * (len(jumps) + 1)
    restarts = data.draw(st.sets(st.integers(0, steps)), label="restarts between steps")
    failures = data.draw(st.lists(st.booleans(), max_size=8), label="failed sends")
    quirks = quirk_plan(modes)
    sim = simulation([playing(scenario, carrier, number)], faults=[*quirks, *http])
    shipment = shipment_of(sim, carrier, number)
    sim.clock.freeze(TENANT, at=shipment.t0)
    recorder = Recorder(failures=list(failures))
    restarted = 0

    async def main(db: Path) -> tuple[list, object, bool]:
        nonlocal restarted
        async with tracker_for(sim) as tracker:
            store = Store(db)
            w = watcher(sim, store, tracker, recorder, every=every)
            w.watch(number, Order("#1001", email="ada@example.com"), carrier)
            step = 0

            async def one(action: str) -> None:
                nonlocal w, store, step, restarted
                if step in restarts:  # the process dies here and starts again
                    store.close()
                    store = Store(db)
                    w = watcher(sim, store, tracker, recorder, every=every)
                    restarted += 1
                step += 1
                if action == "poll":
                    await w.poll()
                elif action == "stalls":
                    w.check_stalls()
                else:
                    await w.deliver()

            for jump in [timedelta(0), *jumps]:
                sim.clock.advance(TENANT, jump)
                for action in ("poll", "stalls", "deliver"):
                    await one(action)
            # Faults over, to the end of the story: the watcher must catch up on its own.
            sim.faults.clear()
            for f in quirks:
                sim.faults.add(f)
            end = shipment.t0 + end_of(scenario)
            if sim.clock.now_datetime(TENANT) < end:
                sim.clock.set(TENANT, end)
            polled_at_end = False
            for _ in range(30):
                polled_at_end = polled_at_end or (await w.poll()).answered > 0
                await w.deliver()
                wake = w.next_wake()
                done = polled_at_end or w.all_final()
                if wake is None or (done and w._next_send() is None):
                    break
                await w.clock.sleep(wake + 0.01)
            parcel = store.get(number)
            assert parcel is not None
            changes = store.changes()
            final = w.all_final()
            store.close()
            return changes, parcel, final

    with tempfile.TemporaryDirectory() as tmp:
        changes, parcel, all_final = asyncio.run(main(Path(tmp) / "watch.sqlite3"))
    at = sim.clock.now_datetime(TENANT) - shipment.t0
    expected = asyncio.run(truth(quirks, scenario, carrier, number, at))
    event(f"restarts: {min(restarted, 3)}")
    assert isinstance(expected, TrackingResult), expected
    _, folded = replay([expected], sim.clock.now_datetime(TENANT))
    assert_well_formed(changes, times_in_order="missing_offsets" not in modes)
    assert scan_changes(changes, modes) == scan_changes(folded, modes)
    folded_state, _ = replay([expected], sim.clock.now_datetime(TENANT))
    assert parcel.state.status == folded_state.status
    # What tracking says: the summary, except where the simulator's summary names the swapped
    # scan (a pinned simulator deviation), or where USPS's summary is only its category
    # ("Alert" for returns and losses alike, N§3.4) and the scans say more.
    deviation = "out_of_order" in modes and ground_truth.deviates(carrier, "out_of_order")
    category = carrier == "usps" and expected.status is Status.exception
    if not (deviation or category):
        assert parcel.state.status == expected.status
    if expected.status in FINAL_STATUSES:
        assert changes and changes[-1].final and all_final
    # Every change notified once per rule (an email and a webhook), none twice.
    want = sorted((c.id, ch) for c in changes for ch in ("email", "webhook"))
    assert sorted((cid, ch) for cid, ch, _ in recorder.sent) == want


@pytest.mark.parametrize("carrier", CARRIERS)
@settings(max_examples=examples(0.4), phases=tuple(p for p in Phase if p is not Phase.explain))
@given(data=st.data())
def test_any_order_of_answers_gives_the_same_changes(carrier: str, data: st.DataObject) -> None:
    """Answers fed late, twice, or older after newer (as pushes and stale caches deliver
    them) bring the same change events as the newest answer alone."""
    scenario = data.draw(scenarios(), label="scenario")
    number = data.draw(tracking_numbers(carrier), label="number")
    modes = data.draw(st.lists(st.sampled_from(QUIRKS), max_size=3, unique=True), label="quirks")
    points = sorted(
        data.draw(st.lists(clock_points(scenario), min_size=1, max_size=5), label="points")
    )
    sim = simulation([playing(scenario, carrier, number)], faults=quirk_plan(modes))
    shipment = shipment_of(sim, carrier, number)

    async def observe() -> list[TrackingResult]:
        seen = []
        async with tracker_for(sim) as tracker:
            for p in points:
                sim.clock.freeze(TENANT, at=shipment.t0 + p)
                outcome = await outcome_of(tracker, carrier, number)
                if isinstance(outcome, TrackingResult):
                    seen.append(outcome)
        return seen

    answers = asyncio.run(observe())
    if not answers:
        return
    order = data.draw(
        st.lists(st.sampled_from(range(len(answers))), max_size=8)
        .map(lambda xs: [*xs, len(answers) - 1])
        .flatmap(st.permutations),
        label="feeding order",
    )
    store = Store()
    w = Watcher(store, stall_after=None, clock=None)
    w.watch(number, "#1", carrier)
    for i in order:
        w.feed(number, answers[i], source="push" if i % 2 else "poll")
    _, alone = replay(
        [answers[-1]], answers[-1].events[-1].time if answers[-1].events else shipment.t0
    )
    changes = store.changes()
    assert_well_formed(changes, times_in_order=False)
    assert scan_changes(changes, modes) == scan_changes(alone, modes)
    assert store.get(number).state.status == answers[-1].status or not answers[-1].events
