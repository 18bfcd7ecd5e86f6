"""Driving a watcher against a simulator in-process, on the simulator's clock."""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx

from client import AsyncTrackingClient
from client.watch import (
    Change,
    ChangeKind,
    Notifier,
    Outbox,
    OutboxItem,
    PollSchedule,
    Rule,
    SendError,
    Store,
    Watcher,
)
from simulator.app import create_app
from simulator.engine import Simulation
from tests.properties.harness import TENANT, client

EVERY_KIND = frozenset(ChangeKind)


class SimClock:
    """The watcher's clock read from the simulator's tenant clock; sleeping moves it."""

    def __init__(self, sim: Simulation, tenant: str = TENANT) -> None:
        self.sim = sim
        self.tenant = tenant

    def now(self) -> datetime:
        return self.sim.clock.now_datetime(self.tenant)

    async def sleep(self, seconds: float) -> None:
        self.sim.clock.advance(self.tenant, timedelta(seconds=seconds))


@dataclass
class Recorder:
    """A sender standing for the outside world: records what it accepted; fails on cue."""

    failures: list[bool] = field(default_factory=list)
    """One entry a send attempt, in order: True fails it (transiently); then all succeed."""
    sent: list[tuple[str, str, str]] = field(default_factory=list)
    attempts: int = 0

    async def send(self, item: OutboxItem) -> None:
        self.attempts += 1
        if self.failures and self.failures.pop(0):
            raise SendError("the line is busy", transient=True)
        self.sent.append((item.change_id, item.channel, item.recipient))


def notifier() -> Notifier:
    """Every change event to the customer by email and to one webhook."""
    return Notifier(
        [Rule("email", EVERY_KIND), Rule("webhook", EVERY_KIND, to="http://hooks.test/h")]
    )


def watcher(
    sim: Simulation,
    store: Store,
    tracker: AsyncTrackingClient,
    recorder: Recorder,
    *,
    every: float,
    stall_after: timedelta | None = None,
) -> Watcher:
    """A watcher on the simulator's clock that sends everything through ``recorder``."""
    from client.retry import RetryPolicy

    retry = RetryPolicy.for_testing(max_attempts=50, initial_backoff=1.0, max_backoff=60.0)
    return Watcher(
        store,
        tracker,
        notifier=notifier(),
        outbox=Outbox(store, {"email": recorder, "webhook": recorder}, retry=retry),
        schedule=PollSchedule.every(every),
        clock=SimClock(sim),
        stall_after=stall_after,
        rng=random.Random(0),
    )


def tracker_for(sim: Simulation) -> AsyncTrackingClient:
    """An in-process client logged in as the properties tenant."""
    return client(transport=httpx.ASGITransport(app=create_app(sim)))


def scan_changes(
    changes: Iterable[Change], modes: Iterable[str] = ()
) -> list[tuple[str, str, datetime | None]]:
    """What identifies the carrier-driven changes (delayed and stalled depend on timing).

    When scans without offsets also come out of order, which of two scans of one status
    came first is not in the answer at all, so only the kinds and statuses are compared.
    """
    blind = {"out_of_order", "missing_offsets"} <= set(modes)
    return [
        (c.kind.value, c.status.value, None if blind else c.at)
        for c in changes
        if c.kind not in (ChangeKind.stalled, ChangeKind.delayed)
    ]


def assert_well_formed(changes: Sequence[Change], *, times_in_order: bool = True) -> None:
    """Sequence numbers 1..n per parcel, unique ids, scan times never going back (where the
    carrier gave every offset)."""
    ids = [c.id for c in changes]
    assert len(ids) == len(set(ids)), f"duplicate change ids: {ids}"
    by_number: dict[str, list[Change]] = {}
    for c in changes:
        by_number.setdefault(c.number, []).append(c)
    for number, own in by_number.items():
        assert [c.seq for c in own] == list(range(1, len(own) + 1)), number
        times = [c.at for c in own if c.at is not None]
        assert not times_in_order or times == sorted(times), (
            f"{number}: changes out of order: {times}"
        )
