"""Change events: what changed for a parcel between two tracking answers (pure, no I/O).

A parcel's :class:`ParcelState` is folded over every answer the watcher gets, whatever its
source (a poll, a push) and whatever its order. :func:`apply_result` returns the new state
and the :class:`Change` events the answer brings, following these rules:

- A scan is identified by its time, status, carrier code, reason and place. A scan already
  seen never produces an event again, so a duplicated scan or a repeated answer is silent.
- Scans are read oldest first. A new scan after every scan seen so far (in the answer, and
  in time unless it has no UTC offset) is *in order*: a change of status makes an event.
  Any other new scan (a late push, a stale cached answer) only makes an event when it moves
  the parcel forward (it was out for delivery, the late scan says delivered); otherwise it
  is absorbed, so a reordered or stale answer never sets a parcel back.
- A real correction — an in-order scan after a final status that is not final itself, or
  "label created" again after the parcel moved — is reported as :attr:`ChangeKind.corrected`
  naming both statuses, and the state follows the carrier. A scan without a UTC offset
  cannot be placed surely enough for that and is absorbed instead.
- Scans without a UTC offset are ordered as the carrier lists them, except that the one
  matching the carrier's current status is the newest (:func:`_story`).
- Scans whose code the client does not know (``Status.unknown``) count as progress (for
  ``stalled``) but change no status; the same scan read with a known code later does.
- An answer without scans falls back on its summary status, and only forwards: without a
  scan there is no telling a correction from a stale answer.
- ``delayed``: the promised delivery moved later than any promise seen before (by more than a
  tolerance), in an answer that is not stale. ``stalled``: no new scan for a configured time
  while not final (:func:`check_stall`); reported once per silence.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from client.model import Carrier, Event, ExceptionReason, Location, Status, TrackingResult

__all__ = [
    "FINAL_STATUSES",
    "Change",
    "ChangeKind",
    "ParcelState",
    "apply_result",
    "check_stall",
]


class ChangeKind(StrEnum):
    """What happened to a parcel, in the words a shop tells its customer."""

    shipped = "shipped"
    """The first carrier scan: the parcel left the sender's hands."""
    in_transit = "in_transit"
    """Moving again after a stop (an exception, a failed attempt, a correction)."""
    out_for_delivery = "out_for_delivery"
    failed_attempt = "failed_attempt"
    available_for_pickup = "available_for_pickup"
    delivered = "delivered"
    exception = "exception"
    """A problem; ``Change.reason`` says which when the carrier does."""
    returned = "returned"
    cancelled = "cancelled"
    delayed = "delayed"
    """The promised delivery moved later."""
    stalled = "stalled"
    """No new scan for the configured time while not final."""
    corrected = "corrected"
    """The carrier's own status went backwards (``previous`` → ``status``)."""


FINAL_STATUSES = frozenset({Status.delivered, Status.returned_to_sender, Status.cancelled})
"""Statuses after which a parcel is no longer polled."""

_KIND_OF: Mapping[Status, ChangeKind] = {
    Status.in_transit: ChangeKind.in_transit,
    Status.out_for_delivery: ChangeKind.out_for_delivery,
    Status.failed_attempt: ChangeKind.failed_attempt,
    Status.available_for_pickup: ChangeKind.available_for_pickup,
    Status.delivered: ChangeKind.delivered,
    Status.exception: ChangeKind.exception,
    Status.returned_to_sender: ChangeKind.returned,
    Status.cancelled: ChangeKind.cancelled,
}

# How far along a parcel's life a status is; only used to let a late scan move a parcel
# forward, never to call an ordinary step backwards a correction.
_RANK: Mapping[Status, int] = {
    Status.unknown: -1,
    Status.pre_transit: 0,
    Status.in_transit: 1,
    Status.exception: 1,
    Status.out_for_delivery: 2,
    Status.failed_attempt: 2,
    Status.available_for_pickup: 3,
    Status.delivered: 4,
    Status.returned_to_sender: 4,
    Status.cancelled: 4,
}

_NOT_MOVED = frozenset({Status.pre_transit, Status.unknown, Status.cancelled})


@dataclass(frozen=True, slots=True)
class Change:
    """One change event of one parcel; ``id`` is stable across restarts."""

    carrier: Carrier
    number: str
    seq: int
    """1, 2, 3… per parcel, in the order the events happened to the parcel."""
    kind: ChangeKind
    status: Status
    """The parcel's status after this change."""
    observed_at: datetime
    """When the watcher learned of it (its own clock)."""
    previous: Status | None = None
    """The status before (for ``corrected``: the status the carrier took back)."""
    reason: ExceptionReason | None = None
    at: datetime | None = None
    """The carrier's time of the scan behind it (None for delayed, stalled, summaries)."""
    description: str = ""
    location: Location | None = None
    estimated_delivery: datetime | None = None
    previous_estimated_delivery: datetime | None = None
    source: str = "poll"
    """Where the answer came from: "poll" or "push" (or what the feeder named)."""

    @property
    def id(self) -> str:
        """Unique and stable: carrier, number and sequence number."""
        return f"{self.carrier.value}:{self.number}:{self.seq}"

    @property
    def final(self) -> bool:
        """Whether the parcel is in a final status after this change."""
        return self.status in FINAL_STATUSES

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (times as ISO 8601); :meth:`from_dict` reads it back."""
        loc = self.location
        return {
            "id": self.id,
            "carrier": self.carrier.value,
            "number": self.number,
            "seq": self.seq,
            "kind": self.kind.value,
            "status": self.status.value,
            "previous": self.previous and self.previous.value,
            "reason": self.reason and self.reason.value,
            "at": _iso(self.at),
            "observed_at": _iso(self.observed_at),
            "description": self.description,
            "location": None
            if loc is None
            else {
                "city": loc.city,
                "state": loc.state,
                "postal_code": loc.postal_code,
                "country": loc.country,
            },
            "estimated_delivery": _iso(self.estimated_delivery),
            "previous_estimated_delivery": _iso(self.previous_estimated_delivery),
            "source": self.source,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Change:
        """The change :meth:`to_dict` wrote."""
        loc = data.get("location")
        return cls(
            carrier=Carrier(data["carrier"]),
            number=data["number"],
            seq=int(data["seq"]),
            kind=ChangeKind(data["kind"]),
            status=Status(data["status"]),
            observed_at=_parse(data["observed_at"]) or datetime.min,
            previous=Status(data["previous"]) if data.get("previous") else None,
            reason=ExceptionReason(data["reason"]) if data.get("reason") else None,
            at=_parse(data.get("at")),
            description=data.get("description") or "",
            location=Location(**loc) if loc else None,
            estimated_delivery=_parse(data.get("estimated_delivery")),
            previous_estimated_delivery=_parse(data.get("previous_estimated_delivery")),
            source=data.get("source") or "poll",
        )


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t else None


def _parse(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


@dataclass(frozen=True, slots=True)
class ParcelState:
    """What the watcher knows about one parcel, folded over every answer so far."""

    status: Status | None = None
    """None until a first answer with a known status."""
    reason: ExceptionReason | None = None
    newest: datetime | None = None
    """The newest scan time seen."""
    seen: frozenset[str] = frozenset()
    """Digests of every scan seen."""
    shipped: bool = False
    estimate: datetime | None = None
    """The promised delivery in the latest fresh answer."""
    latest_estimate: datetime | None = None
    """The latest promise ever seen (``delayed`` fires only beyond it)."""
    progress_at: datetime | None = None
    """When the parcel last made progress (for ``stalled``)."""
    stalled: bool = False
    seq: int = 0
    """Sequence number of the last change event."""
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)

    @property
    def final(self) -> bool:
        """Whether the parcel reached a final status."""
        return self.status in FINAL_STATUSES

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; :meth:`from_dict` reads it back."""
        return {
            "status": self.status and self.status.value,
            "reason": self.reason and self.reason.value,
            "newest": _iso(self.newest),
            "seen": sorted(self.seen),
            "shipped": self.shipped,
            "estimate": _iso(self.estimate),
            "latest_estimate": _iso(self.latest_estimate),
            "progress_at": _iso(self.progress_at),
            "stalled": self.stalled,
            "seq": self.seq,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ParcelState:
        """The state :meth:`to_dict` wrote."""
        return cls(
            status=Status(data["status"]) if data.get("status") else None,
            reason=ExceptionReason(data["reason"]) if data.get("reason") else None,
            newest=_parse(data.get("newest")),
            seen=frozenset(data.get("seen") or ()),
            shipped=bool(data.get("shipped")),
            estimate=_parse(data.get("estimate")),
            latest_estimate=_parse(data.get("latest_estimate")),
            progress_at=_parse(data.get("progress_at")),
            stalled=bool(data.get("stalled")),
            seq=int(data.get("seq") or 0),
        )


def scan_key(event: Event) -> str:
    """The digest that identifies a scan across answers."""
    loc = event.location
    text = "|".join(
        str(x)
        for x in (
            event.time.isoformat(),
            event.status.value,
            event.raw_code,
            event.exception_reason,
            loc and (loc.city, loc.state, loc.postal_code, loc.country),
        )
    )
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def _is_correction(current: Status | None, target: Status) -> bool:
    if current is None or current == target:
        return False
    if current in FINAL_STATUSES:
        return target not in FINAL_STATUSES
    return target is Status.pre_transit and current not in _NOT_MOVED


class _Fold:
    """Mutable working copy of a state while one answer is applied."""

    def __init__(
        self, state: ParcelState, result: TrackingResult, now: datetime, source: str, number: str
    ) -> None:
        self.number = number
        self.state = state
        self.result = result
        self.now = now
        self.source = source
        self.status = state.status
        self.reason = state.reason
        self.shipped = state.shipped
        self.seq = state.seq
        self.changes: list[Change] = []

    def emit(
        self,
        kind: ChangeKind,
        status: Status,
        *,
        previous: Status | None,
        reason: ExceptionReason | None = None,
        scan: Event | None = None,
        description: str = "",
        estimate: datetime | None = None,
        previous_estimate: datetime | None = None,
    ) -> None:
        self.seq += 1
        self.changes.append(
            Change(
                carrier=self.result.carrier,
                number=self.number,
                seq=self.seq,
                kind=kind,
                status=status,
                observed_at=self.now,
                previous=previous,
                reason=reason,
                at=scan.time if scan else None,
                description=scan.description if scan else description,
                location=scan.location if scan else None,
                estimated_delivery=estimate or self.result.estimated_delivery,
                previous_estimated_delivery=previous_estimate,
                source=self.source,
            )
        )

    def move(
        self,
        target: Status,
        reason: ExceptionReason | None,
        scan: Event | None,
        *,
        in_order: bool,
    ) -> None:
        """Apply one reading (a scan, or the summary) of the parcel's status."""
        if target is Status.unknown:
            return
        current = self.status
        if target == current and (target is not Status.exception or reason == self.reason):
            return
        if not in_order and _RANK[target] <= _RANK.get(current or Status.unknown, -1):
            return  # a late or stale reading that would set the parcel back
        description = scan.description if scan else self.result.status_description
        if in_order and _is_correction(current, target):
            if scan is not None and not scan.offset_known:
                # Without a UTC offset the scan's place in the story is a guess: too weak to
                # undo a final status (USPS and UPS scans out of order look just like this).
                return
            self.emit(
                ChangeKind.corrected,
                target,
                previous=current,
                reason=reason,
                scan=scan,
                description=description,
            )
        else:
            if not self.shipped and target not in _NOT_MOVED:
                self.shipped = True
                self.emit(
                    ChangeKind.shipped,
                    target,
                    previous=current,
                    reason=reason,
                    scan=scan,
                    description=description,
                )
                if target is Status.in_transit:
                    self.status, self.reason = target, reason
                    return
            kind = _KIND_OF.get(target)
            if kind is not None:
                self.emit(
                    kind,
                    target,
                    previous=current,
                    reason=reason,
                    scan=scan,
                    description=description,
                )
        self.status, self.reason = target, reason


def _story(result: TrackingResult) -> list[Event]:
    """The answer's scans in the order they happened, as far as it tells.

    Scans without a UTC offset keep the carrier's order, which carriers get wrong; when the
    newest of them contradicts the carrier's own current status and another of them has
    that status, that one is the newest (the summary is the carrier's word on "now").
    """
    events = list(result.events)
    if not events or events[-1].offset_known or result.status is Status.unknown:
        return events
    if events[-1].status == result.status:
        return events
    start = len(events)
    while start > 0 and not events[start - 1].offset_known:
        start -= 1
    for j in range(len(events) - 1, start - 1, -1):
        if events[j].status == result.status:
            events.append(events.pop(j))
            break
    return events


def apply_result(
    state: ParcelState,
    result: TrackingResult,
    now: datetime,
    *,
    source: str = "poll",
    number: str | None = None,
    delay_tolerance: timedelta = timedelta(hours=1),
) -> tuple[ParcelState, list[Change]]:
    """The state after ``result`` and the change events it brings (see the module doc)."""
    fold = _Fold(state, result, now, source, number or result.number)
    seen = set(state.seen)
    newest = state.newest
    progressed: datetime | None = None
    events = _story(result)
    keys = [scan_key(scan) for scan in events]
    # A scan is in order only if it comes after every scan already seen, both in the answer
    # (which is what orders scans without a UTC offset) and in time.
    last_seen = max((i for i, k in enumerate(keys) if k in state.seen), default=-1)
    for i, (scan, key) in enumerate(zip(events, keys, strict=True)):
        if key in seen:
            continue
        seen.add(key)
        in_order = i > last_seen and (
            newest is None or scan.time >= newest or not scan.offset_known
        )
        if in_order:
            newest = scan.time if newest is None else max(newest, scan.time)
            # Progress is dated by the scan, unless the carrier dates it in our future.
            progressed = min(scan.time, now)
        fold.move(scan.status, scan.exception_reason, scan, in_order=in_order)
    # Judged by the answer's own newest scan: an answer that knows less than we do is stale.
    own = max((e.time for e in events), default=None)
    fresh = state.newest is None or own is None or own >= state.newest
    if not result.events and result.status is not Status.unknown:
        fold.move(result.status, result.exception_reason, None, in_order=False)
    estimate, latest = state.estimate, state.latest_estimate
    promised = result.estimated_delivery
    if fresh and promised is not None:
        not_final = fold.status not in FINAL_STATUSES
        if latest is not None and promised > latest + delay_tolerance and not_final:
            fold.emit(
                ChangeKind.delayed,
                fold.status or result.status,
                previous=fold.status,
                reason=fold.reason,
                description=f"expected delivery moved to {promised.isoformat()}",
                estimate=promised,
                previous_estimate=latest,
            )
        estimate = promised
        latest = promised if latest is None else max(latest, promised)
    moved = progressed is not None
    new_state = replace(
        state,
        status=fold.status,
        reason=fold.reason,
        newest=newest,
        seen=frozenset(seen),
        shipped=fold.shipped,
        estimate=estimate,
        latest_estimate=latest,
        progress_at=max(progressed, state.progress_at or progressed)
        if progressed is not None
        else (state.progress_at or now),
        stalled=state.stalled and not moved,
        seq=fold.seq,
    )
    return new_state, fold.changes


def check_stall(
    state: ParcelState,
    now: datetime,
    stall_after: timedelta | None,
    *,
    carrier: Carrier,
    number: str,
) -> tuple[ParcelState, list[Change]]:
    """A ``stalled`` event when the parcel made no progress for ``stall_after`` (once)."""
    if stall_after is None or state.final or state.stalled or state.progress_at is None:
        return state, []
    if now - state.progress_at < stall_after:
        return state, []
    seq = state.seq + 1
    change = Change(
        carrier=carrier,
        number=number,
        seq=seq,
        kind=ChangeKind.stalled,
        status=state.status or Status.unknown,
        observed_at=now,
        previous=state.status,
        reason=state.reason,
        description=f"no new scan since {state.progress_at.isoformat()}",
        estimated_delivery=state.estimate,
    )
    return replace(state, stalled=True, seq=seq), [change]


def replay(
    results: Iterable[TrackingResult], now: datetime, *, source: str = "poll"
) -> tuple[ParcelState, list[Change]]:
    """Fold answers into a fresh state; every change event in order (for tests and tools)."""
    state = ParcelState()
    out: list[Change] = []
    for r in results:
        state, changes = apply_result(state, r, now, source=source)
        out += changes
    return state, out


def kinds(changes: Sequence[Change]) -> list[str]:
    """The kinds of a list of changes, as strings (for messages and tests)."""
    return [c.kind.value for c in changes]
