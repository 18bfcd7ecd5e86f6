"""The watcher: keeps watched numbers' state, polls them on a schedule, records changes.

Any source can feed it a normalized answer: :meth:`Watcher.feed` (a push receiver, a test,
a replay) and :meth:`Watcher.poll` (its own polling) go through the same fold
(:func:`~client.watch.changes.apply_result`) and the same transaction, so polling and
pushes may be mixed freely and in any order.

Polling: each number is polled again after an interval chosen by its status
(:class:`PollSchedule`: often when out for delivery, rarely before the carrier has it,
never once final). Failures back off; a carrier's 429 pauses every number of that carrier
for its ``Retry-After`` (or the backoff); an optional per-carrier request rate is never
exceeded. Numbers of one carrier due together go out in the client's batches.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Protocol

import anyio

from client.api import AsyncTrackingClient
from client.carriers import ADAPTERS
from client.detect import check_syntax, detect
from client.errors import NotFound, RateLimited, TrackingError
from client.model import Carrier, Status, TrackingResult
from client.push.model import PushDelivery
from client.watch.changes import Change, ParcelState, apply_result, check_stall
from client.watch.notify import Notifier, Outbox, first_of_kind
from client.watch.store import Order, OutboxItem, Parcel, Store

__all__ = [
    "PUBLISHED_RATE_LIMITS",
    "NotWatched",
    "PollSchedule",
    "Round",
    "ScaledClock",
    "SystemWatchClock",
    "WatchClock",
    "Watcher",
]


class WatchClock(Protocol):
    """The watcher's time: a wall clock (stored in the database) and a way to wait."""

    def now(self) -> datetime:
        """The current time, timezone-aware."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait ``seconds`` of this clock's time."""
        ...


class SystemWatchClock:
    """Real time."""

    def now(self) -> datetime:
        """``datetime.now(UTC)``."""
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        """A real sleep."""
        await anyio.sleep(seconds)


class ScaledClock:
    """Time running ``rate`` times faster than real time from ``start`` on, e.g. to follow a
    simulator whose clock was set to ``start`` and run at that rate."""

    def __init__(self, start: datetime, rate: float = 1.0) -> None:
        import time

        self._monotonic = time.monotonic
        self.start = start
        self.rate = rate
        self._origin = time.monotonic()

    def now(self) -> datetime:
        """``start`` plus the real time elapsed, times ``rate``."""
        return self.start + timedelta(seconds=(self._monotonic() - self._origin) * self.rate)

    async def sleep(self, seconds: float) -> None:
        """Sleep ``seconds`` of scaled time (``seconds / rate`` real seconds)."""
        await anyio.sleep(max(0.0, seconds) / self.rate)


PUBLISHED_RATE_LIMITS: Mapping[Carrier, float] = {
    Carrier.fedex: 140.0,
    Carrier.usps: 60 / 3600,
    Carrier.dhl: 1.0,
}
"""Requests per second the carriers' default quotas allow (NOTES §2.7 FedEx 1,400 per 10 s;
§3.7 USPS about 60 an hour; §4.6 DHL 1 a second). UPS publishes none."""


@dataclass(frozen=True, slots=True)
class PollSchedule:
    """Seconds between polls of one number, by its status (None: never again)."""

    pre_transit: float = 6 * 3600
    in_transit: float = 3 * 3600
    exception: float = 2 * 3600
    out_for_delivery: float = 30 * 60
    failed_attempt: float = 2 * 3600
    available_for_pickup: float = 6 * 3600
    unknown: float = 3 * 3600
    not_found: float = 2 * 3600
    """A number the carrier does not know yet (fresh labels appear after minutes to hours)."""
    first_error: float = 60.0
    """Backoff after a failed poll; doubles per failure in a row, up to the status interval."""
    jitter: float = 0.1
    """Each interval is drawn within ± this share, so numbers added together spread out."""

    @classmethod
    def every(cls, seconds: float, *, jitter: float = 0.0) -> PollSchedule:
        """The same interval for every status (final ones excepted)."""
        return cls(
            seconds, seconds, seconds, seconds, seconds, seconds, seconds, seconds,
            min(seconds, 60.0), jitter,
        )  # fmt: skip

    def interval(self, status: Status | None) -> float | None:
        """The base interval after an answer with this status."""
        if status in (Status.delivered, Status.returned_to_sender, Status.cancelled):
            return None
        if status is None:
            return self.unknown
        value: float = getattr(self, status.value)
        return value

    def spread(self, seconds: float, rng: random.Random) -> float:
        """``seconds`` with the jitter applied."""
        if not self.jitter:
            return seconds
        return seconds * rng.uniform(1 - self.jitter, 1 + self.jitter)

    def after_error(self, errors: int, status: Status | None) -> float:
        """The wait after ``errors`` failed polls in a row."""
        cap = self.interval(status) or self.unknown
        return float(min(cap, self.first_error * 2 ** max(0, errors - 1)))


class NotWatched(KeyError):
    """A result was fed for a number that is not watched."""


@dataclass
class Round:
    """What one polling round did."""

    polled: int = 0
    requests: int = 0
    answered: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    changes: list[Change] = field(default_factory=list)


class _Bucket:
    """A token bucket: ``rate`` requests a second, bursts up to one second's worth."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.capacity = max(1.0, rate)
        self.tokens = self.capacity
        self.at: float | None = None

    def take(self, now: float, wanted: int) -> int:
        if self.at is not None:
            self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
        self.at = now
        granted = min(wanted, int(self.tokens))
        self.tokens -= granted
        return granted

    def ready_at(self, now: float) -> float:
        return now if self.tokens >= 1 else now + (1 - self.tokens) / self.rate


class Watcher:
    """Watched numbers, their state and their notifications (see the module docstring)."""

    def __init__(
        self,
        store: Store,
        tracker: AsyncTrackingClient | None = None,
        *,
        notifier: Notifier | None = None,
        outbox: Outbox | None = None,
        schedule: PollSchedule | None = None,
        clock: WatchClock | None = None,
        stall_after: timedelta | None = timedelta(days=3),
        delay_tolerance: timedelta = timedelta(hours=1),
        rate_limits: Mapping[Carrier, float] | None = None,
        max_batch: int = 500,
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.tracker = tracker
        self.notifier = notifier
        self.outbox = outbox
        self.schedule = schedule or PollSchedule()
        self.clock: WatchClock = clock or SystemWatchClock()
        self.stall_after = stall_after
        self.delay_tolerance = delay_tolerance
        self.buckets = {c: _Bucket(r) for c, r in (rate_limits or {}).items()}
        self.max_batch = max_batch
        self.rng = rng or random.Random()
        self.paused: dict[Carrier, float] = {}
        """Carriers that rate limited us, until when (seconds since the epoch)."""
        self.listeners: list[Callable[[Change], None]] = []
        """Called with every change event once it is recorded."""

    # -- the watched set ----------------------------------------------------------------------

    def watch(
        self, number: str, order: Order | str, carrier: Carrier | str | None = None
    ) -> Parcel:
        """Start watching a number for an order; watching it again changes nothing.

        Raises :class:`~client.errors.InvalidNumber` / ``AmbiguousNumber`` (pass ``carrier``)
        for numbers no carrier's format fits.
        """
        chosen = Carrier(carrier) if carrier is not None else detect(number)
        normalized = check_syntax(number, chosen)
        now = self.clock.now()
        parcel = Parcel(
            number=normalized,
            carrier=chosen,
            order=order if isinstance(order, Order) else Order(reference=order),
            state=ParcelState(progress_at=now),
            next_poll=now.timestamp(),
            added_at=now.timestamp(),
        )
        self.store.add(parcel)
        found = self.store.get(normalized)
        assert found is not None
        return found

    def unwatch(self, number: str) -> bool:
        """Stop watching a number."""
        return self.store.remove(number)

    def all_final(self) -> bool:
        """Whether every watched number reached a final status."""
        return self.store.next_due() is None

    # -- feeding ------------------------------------------------------------------------------

    def feed(self, number: str, result: TrackingResult, source: str = "poll") -> list[Change]:
        """Apply one normalized answer for a watched number, from any source; returns the
        change events it brought (already recorded, their notifications queued)."""
        with self.store.transaction() as db:
            parcel = self.store.get(number)
            if parcel is None:
                raise NotWatched(number)
            parcel, changes, items = self._apply(parcel, result, source, self.clock.now())
            self.store.save(db, parcel, changes, items)
        self._announce(changes)
        return changes

    def feed_delivery(self, delivery: PushDelivery) -> list[Change]:
        """Feed every update of a verified push delivery (from :class:`~client.push.
        PushReceiver` or :class:`~client.push.PushApp`) for a watched number; updates for
        numbers not watched are skipped. A resent, reordered or stale push is absorbed by
        the same fold as a poll's answer, so pushes and polls may be mixed freely."""
        changes: list[Change] = []
        for update in delivery.updates:
            try:
                changes += self.feed(update.number, update.result, source="push")
            except NotWatched:
                continue
        return changes

    def _apply(
        self, parcel: Parcel, result: TrackingResult, source: str, now: datetime
    ) -> tuple[Parcel, list[Change], list[OutboxItem]]:
        state, changes = apply_result(
            parcel.state,
            result,
            now,
            source=source,
            number=parcel.number,
            delay_tolerance=self.delay_tolerance,
        )
        state, stalled = check_stall(
            state, now, self.stall_after, carrier=parcel.carrier, number=parcel.number
        )
        changes += stalled
        changes = [replace(c, carrier=parcel.carrier) for c in changes]
        interval = self.schedule.interval(state.status)
        next_poll = (
            math.inf
            if interval is None
            else now.timestamp() + self.schedule.spread(interval, self.rng)
        )
        if source != "poll":
            # A push does not replace polling, but it does say the number is fresh.
            next_poll = max(parcel.next_poll, next_poll) if interval is not None else math.inf
        updated = replace(
            parcel,
            state=state,
            next_poll=next_poll,
            errors=0 if source == "poll" else parcel.errors,
            last_error=None if source == "poll" else parcel.last_error,
            polls=parcel.polls + (source == "poll"),
        )
        return updated, changes, self._messages(parcel, changes)

    def _messages(self, parcel: Parcel, changes: Sequence[Change]) -> list[OutboxItem]:
        if self.notifier is None or not changes:
            return []
        wants_history = any(r.channel == "webhook" for r in self.notifier.rules)
        history = self.store.changes(parcel.number) if wants_history else []
        items: list[OutboxItem] = []
        for change in changes:
            items += self.notifier.messages(change, parcel.order, first_of_kind(history, change))
            history.append(change)
        return items

    def _announce(self, changes: Iterable[Change]) -> None:
        for change in changes:
            for listener in self.listeners:
                listener(change)

    # -- polling ------------------------------------------------------------------------------

    def _select(self, due: Sequence[Parcel], now: float) -> list[Parcel]:
        """The due parcels the rate limits let through this round; the others are put off
        until their carrier may be asked again (so the loop never spins on them)."""
        chosen: list[Parcel] = []
        deferred: list[Parcel] = []
        by_carrier: dict[Carrier, list[Parcel]] = {}
        for p in due:
            by_carrier.setdefault(p.carrier, []).append(p)
        for carrier, parcels in by_carrier.items():
            until = self.paused.get(carrier, 0.0)
            if until > now:
                deferred += [replace(p, next_poll=until) for p in parcels]
                continue
            bucket = self.buckets.get(carrier)
            if bucket is None:
                chosen += parcels
                continue
            size = ADAPTERS[carrier].batch_size
            allowed = bucket.take(now, math.ceil(len(parcels) / size)) * size
            chosen += parcels[:allowed]
            later = bucket.ready_at(now)
            deferred += [replace(p, next_poll=later) for p in parcels[allowed:]]
        if deferred:
            with self.store.transaction() as db:
                for p in deferred:
                    self.store.save(db, p)
        return chosen

    async def poll(self) -> Round:
        """Poll every due number once (as far as rate limits allow) and record the answers."""
        report = Round()
        if self.tracker is None:
            return report
        now = self.clock.now().timestamp()
        chosen = self._select(self.store.due(now, self.max_batch), now)
        if not chosen:
            return report
        outcomes = await self.tracker.track_many([(p.number, p.carrier) for p in chosen])
        report.polled = len(chosen)
        sizes: dict[Carrier, int] = {}
        for p in chosen:
            sizes[p.carrier] = sizes.get(p.carrier, 0) + 1
        report.requests = sum(math.ceil(n / ADAPTERS[c].batch_size) for c, n in sizes.items())
        when = self.clock.now()
        recorded: list[Change] = []
        with self.store.transaction() as db:
            for asked, outcome in zip(chosen, outcomes, strict=True):
                # Read again: a push may have been fed while the requests were out.
                parcel = self.store.get(asked.number)
                if parcel is None or parcel.state.final:
                    continue
                if isinstance(outcome, TrackingResult):
                    report.answered += 1
                    parcel, changes, items = self._apply(parcel, outcome, "poll", when)
                else:
                    name = type(outcome).__name__
                    report.errors[name] = report.errors.get(name, 0) + 1
                    parcel, changes, items = self._failed(parcel, outcome, when)
                self.store.save(db, parcel, changes, items)
                recorded += changes
        report.changes = recorded
        self._announce(recorded)
        return report

    def _failed(
        self, parcel: Parcel, error: TrackingError, now: datetime
    ) -> tuple[Parcel, list[Change], list[OutboxItem]]:
        ts = now.timestamp()
        status = parcel.state.status
        if isinstance(error, NotFound):
            wait = self.schedule.not_found
            errors = parcel.errors
        else:
            errors = parcel.errors + 1
            wait = self.schedule.after_error(errors, status)
            if isinstance(error, RateLimited):
                wait = error.retry_after if error.retry_after is not None else wait
                self.paused[parcel.carrier] = max(self.paused.get(parcel.carrier, 0.0), ts + wait)
        state, stalled = check_stall(
            parcel.state, now, self.stall_after, carrier=parcel.carrier, number=parcel.number
        )
        updated = replace(
            parcel,
            state=state,
            next_poll=ts + wait,
            errors=errors,
            last_error=str(error),
            polls=parcel.polls + 1,
        )
        return updated, stalled, self._messages(parcel, stalled)

    def check_stalls(self) -> list[Change]:
        """Record ``stalled`` for every parcel silent for ``stall_after`` (also done on every
        answer; this catches parcels that are not due)."""
        if self.stall_after is None:
            return []
        now = self.clock.now()
        recorded: list[Change] = []
        with self.store.transaction() as db:
            for parcel in self.store.parcels():
                state, changes = check_stall(
                    parcel.state, now, self.stall_after, carrier=parcel.carrier,
                    number=parcel.number,
                )  # fmt: skip
                if changes:
                    parcel = replace(parcel, state=state)
                    self.store.save(db, parcel, changes, self._messages(parcel, changes))
                    recorded += changes
        self._announce(recorded)
        return recorded

    async def deliver(self) -> list[OutboxItem]:
        """Send the notifications that are due."""
        if self.outbox is None:
            return []
        return await self.outbox.deliver(self.clock.now().timestamp())

    async def step(self) -> Round:
        """One round: poll what is due, flag stalls, send what is due."""
        report = await self.poll()
        report.changes += self.check_stalls()
        await self.deliver()
        return report

    def next_wake(self) -> float | None:
        """Seconds (watcher time) until there is something to do; None when nothing is left."""
        now = self.clock.now().timestamp()
        moments = [t for t in (self.store.next_due(), self._next_send()) if t is not None]
        return max(0.0, min(moments) - now) if moments else None

    def _next_send(self) -> float | None:
        return self.outbox.next_due() if self.outbox is not None else None

    async def run(
        self,
        *,
        until_final: bool = True,
        max_idle: float = 60.0,
        on_round: Callable[[Round], None] | None = None,
    ) -> None:
        """Poll and send until every number is final and nothing is left to send (or for
        ever with ``until_final=False``); waits at most ``max_idle`` between rounds."""
        while True:
            report = await self.step()
            if on_round is not None:
                on_round(report)
            wake = self.next_wake()
            if wake is None and until_final:
                return
            await self.clock.sleep(min(max_idle, wake if wake is not None else max_idle))
