"""Fold push updates into the current state of each number, whatever order they came in.

Carriers resend deliveries (FedEx and DHL retry, faults duplicate them) and deliver them out
of order (FedEx says so outright, NOTES §7.2), so the state must not depend on arrival: the
current status is the one told by the update with the newest scan, and the events are the
union of every update's events. Folding any permutation of a sequence, with any update
repeated, gives the same result.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import orjson

from client.model import Event, TrackingResult
from client.push.model import PushUpdate

__all__ = ["PushState", "fold"]


def _event_key(e: Event) -> tuple[object, ...]:
    loc = e.location
    where = ("", "", "", "") if loc is None else (loc.city, loc.state, loc.postal_code, loc.country)
    return (e.time, e.status.value, e.raw_code or "", e.description, *(w or "" for w in where))


_NEVER = datetime.min.replace(tzinfo=UTC)


def _rank(result: TrackingResult) -> tuple[datetime, int, bytes]:
    newest = max((e.time for e in result.events), default=_NEVER)
    # The last term makes the order total, so a tie cannot be broken by arrival order.
    content = orjson.dumps(result.to_dict(), option=orjson.OPT_SORT_KEYS)
    return newest, len(result.events), content


@dataclass(frozen=True, slots=True)
class PushState:
    """What the pushes so far say about one number; :meth:`apply` gives the next state."""

    latest: TrackingResult
    """The result of the update with the newest scan (its status is the current one)."""
    known: tuple[Event, ...]
    """Every event any update carried, deduplicated, in a fixed order (not by time)."""

    @classmethod
    def of(cls, update: PushUpdate | TrackingResult) -> PushState:
        """The state after one update."""
        result = update.result if isinstance(update, PushUpdate) else update
        return cls(result, tuple(sorted(result.events, key=_event_key)))

    def apply(self, update: PushUpdate | TrackingResult) -> PushState:
        """The state after one more update (a duplicate or an older one changes nothing
        but the events it adds)."""
        result = update.result if isinstance(update, PushUpdate) else update
        if (result.carrier, result.number) != (self.latest.carrier, self.latest.number):
            raise ValueError(
                f"an update for {result.carrier.value} {result.number} cannot be folded into "
                f"the state of {self.latest.carrier.value} {self.latest.number}"
            )
        latest = result if _rank(result) > _rank(self.latest) else self.latest
        seen = {_event_key(e): e for e in self.known}
        for e in result.events:
            seen.setdefault(_event_key(e), e)
        return PushState(latest, tuple(seen[k] for k in sorted(seen)))

    @property
    def events(self) -> tuple[Event, ...]:
        """Every event, oldest first: the latest update's in its own order (the order
        tracking gives them, which keeps a scan without offset where the carrier put it),
        and any others only older updates carried, placed by time."""
        order = list(self.latest.events)
        have = {_event_key(e) for e in order}
        for e in self.known:
            if _event_key(e) in have:
                continue
            at = next(
                (i for i, o in enumerate(order) if o.offset_known and o.time > e.time),
                len(order),
            )
            order.insert(at, e)
        return tuple(order)

    @property
    def result(self) -> TrackingResult:
        """The folded state in the tracking model: the latest update's, with every event."""
        return replace(self.latest, events=self.events)


def fold(updates: Iterable[PushUpdate | TrackingResult]) -> dict[str, TrackingResult]:
    """The current result of every number the updates speak of, keyed by number."""
    states: dict[str, PushState] = {}
    for update in updates:
        result = update.result if isinstance(update, PushUpdate) else update
        state = states.get(result.number)
        states[result.number] = PushState.of(result) if state is None else state.apply(result)
    return {number: state.result for number, state in states.items()}
