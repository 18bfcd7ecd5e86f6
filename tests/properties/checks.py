"""Comparing what the client reported with the scenario's ground truth.

Every check returns a list of problems (empty when the result is right) rather than
asserting, so a failing example prints everything that is wrong with it at once.
"""

from __future__ import annotations

from collections.abc import Sequence

from client.errors import NotFound, TrackingError
from client.model import Anomaly, Carrier, Event, TrackingResult
from simulator.scenario import EventKind
from simulator.timeline import Event as SimEvent
from simulator.timeline import Shipment
from tests.properties import ground_truth as truth
from tests.properties.harness import Outcome


def describe(outcome: Outcome) -> str:
    """A readable dump of an outcome for failure messages."""
    if isinstance(outcome, TrackingError):
        return f"{type(outcome).__name__}: {outcome}"
    lines = [
        f"{outcome.carrier.value} {outcome.number}: {outcome.status.value}"
        f"/{outcome.exception_reason} delivered_at={outcome.delivered_at}"
        f" signed_by={outcome.signed_by!r} anomalies={[a.value for a in outcome.anomalies]}"
    ]
    for e in outcome.events:
        lines.append(
            f"  {e.time.isoformat()} {e.status.value}/{e.exception_reason}"
            f" [{e.raw_code}] {e.description!r} @ {e.location} known={e.offset_known}"
        )
    return "\n".join(lines)


def truth_text(carrier: str, events: Sequence[SimEvent]) -> str:
    """The expected events, for failure messages."""

    def readings(e: SimEvent) -> list[tuple[str, str]]:
        return sorted((s.value, r.value if r else "") for s, r in truth.acceptable_for(carrier, e))

    return "\n".join(
        f"  {e.at.isoformat()} {e.kind.value}/{e.reason} @ {e.place.city}, {e.place.country}"
        f" -> {readings(e)}"
        for e in events
    )


def event_problems(
    carrier: str, want: SimEvent, got: Event, where: str, batch: bool = False
) -> list[str]:
    """How one reported event differs from the scenario's event."""
    problems: list[str] = []
    expected = truth.expected_time(carrier, want, batch)
    if got.time != expected:
        problems.append(f"{where}: time {got.time.isoformat()}, expected {expected.isoformat()}")
    if got.time.tzinfo is None:
        problems.append(f"{where}: naive time")
    if got.offset_known == truth.loses_offset(carrier, want, batch):
        problems.append(f"{where}: offset_known={got.offset_known}")
    reading = (got.status, got.exception_reason)
    if reading not in truth.acceptable_for(carrier, want):
        problems.append(
            f"{where}: {want.kind.value}/{want.reason} read as "
            f"{got.status.value}/{got.exception_reason} (raw {got.raw_code!r})"
        )
    place = truth.location_problem(carrier, want, got.location)
    if place is not None:
        problems.append(f"{where}: {place}")
    return problems


def events_problems(
    carrier: str, visible: Sequence[SimEvent], events: Sequence[Event], batch: bool = False
) -> list[str]:
    """The same events in the same order, each read right."""
    if len(events) != len(visible):
        return [f"{len(events)} events reported, {len(visible)} happened"]
    problems: list[str] = []
    for i, (want, got) in enumerate(zip(visible, events, strict=True)):
        problems += event_problems(carrier, want, got, f"event {i}", batch)
    return problems


def delivery_problems(
    carrier: str, shipment: Shipment, newest: SimEvent, result: TrackingResult
) -> list[str]:
    """Delivered time and signer agree with the scenario."""
    problems: list[str] = []
    if newest.kind is EventKind.delivered:
        if result.delivered_at != newest.at:
            problems.append(f"delivered_at {result.delivered_at}, expected {newest.at}")
        if truth.shows_signer(carrier, shipment):
            if not truth.signer_matches(result.signed_by, shipment.signer):
                problems.append(f"signed_by {result.signed_by!r}, expected {shipment.signer!r}")
        elif result.signed_by is not None:
            problems.append(f"signed_by {result.signed_by!r} where the carrier shows none")
        if result.estimated_delivery is not None:
            problems.append(f"estimated delivery {result.estimated_delivery} after delivery")
    else:
        if result.delivered_at is not None:
            problems.append(f"delivered_at {result.delivered_at} before delivery")
        if result.signed_by is not None:
            problems.append(f"signed_by {result.signed_by!r} before delivery")
    return problems


def clean_anomalies(carrier: str, visible: Sequence[SimEvent], batch: bool = False) -> set[Anomaly]:
    """The anomalies a clean answer may carry: only the offsets the format itself drops."""
    if any(truth.loses_offset(carrier, e, batch) for e in visible):
        return {Anomaly.missing_offsets}
    return set()


def fidelity_problems(
    carrier: str, shipment: Shipment, now: float, outcome: Outcome, batch: bool = False
) -> list[str]:
    """Everything in which a clean answer's reading differs from the ground truth.

    ``batch``: the answer came from a batch request (USPS Tracking 3.2, see
    ``ground_truth.loses_offset``).
    """
    visible = shipment.visible(now)
    if not visible:
        if isinstance(outcome, NotFound) and outcome.number == shipment.number:
            return []
        return [f"nothing happened yet: expected NotFound, got {describe(outcome)}"]
    if not isinstance(outcome, TrackingResult):
        return [f"expected a result, got {describe(outcome)}"]
    problems: list[str] = []
    if outcome.carrier is not Carrier(carrier) or outcome.number != shipment.number:
        problems.append(f"result for {outcome.carrier} {outcome.number}")
    problems += events_problems(carrier, visible, outcome.events, batch)
    newest = visible[-1]
    current = (outcome.status, outcome.exception_reason)
    if current not in truth.acceptable_for(carrier, newest):
        problems.append(
            f"current status {outcome.status.value}/{outcome.exception_reason}, newest event "
            f"{newest.kind.value}/{newest.reason}"
        )
    problems += delivery_problems(carrier, shipment, newest, outcome)
    expected = clean_anomalies(carrier, visible, batch)
    if set(outcome.anomalies) != expected:
        problems.append(f"anomalies {sorted(outcome.anomalies)}, expected {sorted(expected)}")
    return problems
