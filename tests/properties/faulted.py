"""What "correct" means when a fault plan is in force (property 2).

:func:`exposure` works out, from the plan alone, what may happen to one tracking call: an
error (HTTP, body, rate limit, outage, connection), a lie, a data quirk, or nothing. The
client must then either raise one of its own errors — only where some fault could cause one —
or return a result that is right under these rules, one per data fault:

=====================  =====================================================================
duplicate_scans        repaired: the same events as the truth, exact duplicates dropped
out_of_order           repaired: the truth's events in the truth's order, except that a
                       swapped scan without any offset (USPS pre-shipment) cannot be sorted
                       back, so the carrier's order stands
status_regression      the truth's events plus at most the carrier's backwards scan (one
                       minute after the newest); where that scan really is a regression
                       (:func:`ground_truth.is_regression`) the result must say
                       ``status_regression``
future_timestamps      the newest scan may carry the carrier's time (two days late): no
                       client can know the carrier's clock, everything else must be exact;
                       with duplicate_scans the late copy of a doubled scan is a scan of its
                       own (it is no duplicate any more) and may be reported as one;
                       likewise a doubled newest scan whose copy alone got an unknown code
non_ascii_places       the carrier's (non-ASCII) city names, intact
empty_events           no events, or all of them; the current status from the carrier's
                       summary (its reason may be lost with the scans; USPS's summary is
                       only its category, see below)
missing_offsets        times may degrade to the carrier's wall clock read as UTC, flagged
                       per event (``offset_known=False``) and as ``missing_offsets``; the
                       order stays the true one (nothing is sorted by an unknown instant)
wrong_offsets          where the carrier also gives a UTC instant (UPS gmtDate/gmtTime, USPS
                       GMTTimestamp) the instant must be exact; where the offset is the only
                       zone information (FedEx, DHL) no client can tell, so the wall clock
                       must equal the carrier's (and the order may follow the wrong instants)
unknown_codes          events may read ``unknown`` (raw code kept, ``unknown_codes``
                       reported); the current status may be ``unknown`` or what the carrier's
                       summary alone says; the rest exact
missing_optional_      locations may lose any part (present parts must be right); USPS may
fields                 lose the signer
padded_number,         the right result under the asked number: the same number, however
lowercase_number       the carrier echoes it
ok_with_error,         a client error (NotFound), or, when the lie did not fire, the truth
mixed_results
wrong_number           never another parcel's answer as the asked number's: a result must
                       come from an answer naming the asked number (modulo case, padding,
                       leading zeros, the USPS 420+ZIP prefix)
=====================  =====================================================================

Every result must also be internally consistent: an event without offset implies the
``missing_offsets`` anomaly, an unknown code implies ``unknown_codes``.

Where the simulator itself renders a fault wrongly (``ground_truth.SIMULATOR_DEVIATIONS``,
each pinned by an ``xfail(strict=True)`` in ``test_simulator_deviations.py``), the rule
above is relaxed exactly there, and the code says so where it does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from client.errors import NotFound, TrackingError
from client.model import Anomaly, Carrier, Event, Status, TrackingResult
from simulator import quirks
from simulator.faults import (
    BodyFault,
    Connection,
    DataQuirk,
    Fault,
    HttpError,
    Latency,
    Lie,
    Outage,
    RateLimit,
)
from simulator.scenario import EventKind
from simulator.timeline import Event as SimEvent
from simulator.timeline import Place, Shipment
from tests.properties import ground_truth as truth
from tests.properties.checks import clean_anomalies, describe
from tests.properties.harness import Outcome

# ------------------------------------------------------------------------------------------
# What a plan may do to one call
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Exposure:
    """What the faults in force may do to one tracking call."""

    errors: frozenset[str] = frozenset()
    """Kinds of faults that may make an exchange fail (``http_error``, ``body``…)."""
    modes: frozenset[str] = frozenset()
    """Lies and quirks that may shape the tracking answer."""

    @property
    def clean(self) -> bool:
        """Nothing but latency can happen: the answer must be the fidelity answer."""
        return not self.errors and not self.modes

    @property
    def may_fail(self) -> bool:
        """Whether some fault may legitimately end the call in a client error."""
        return bool(self.errors) or bool(self.modes & truth.ERROR_LIES)


def _may_fire(fault: Fault, offset: float) -> bool:
    when = fault.when
    if when.window is not None and not (
        when.window.start.total_seconds() <= offset < when.window.end.total_seconds()
    ):
        return False
    if when.probability is not None:
        return when.probability > 0
    if when.sequence is not None:
        return any(when.sequence)
    return True


def _applies(fault: Fault, carrier: str, endpoint: str, tenant: str, number: str) -> bool:
    m = fault.match
    return (
        m.carrier in (None, carrier)
        and m.endpoint in (None, endpoint)
        and m.tenant in (None, tenant)
        and (m.number is None or (endpoint == "track" and m.number == number))
    )


def exposure(
    plan: Iterable[Fault],
    carrier: str,
    number: str,
    tenant: str,
    offset: float,
    batch: Iterable[str] = (),
) -> Exposure:
    """What ``plan`` may do to ``tenant`` tracking ``number``, ``offset`` seconds after the
    server clock's start (where fault windows are measured from).

    ``batch``: the other numbers that may share the request (``track_many``). A fault matched
    to any of them may break the whole request; its lies and quirks reach only its own
    number, except where the simulator spreads them (SIMULATOR_DEVIATIONS).
    """
    errors: set[str] = set()
    modes: set[str] = set()
    together = {number, *batch}
    spread = bool(batch) and truth.deviates(carrier, "batch_data_faults")
    for fault in plan:
        aimed = fault.match.number
        if aimed is not None and aimed != number and aimed in together:
            # Matched to a neighbour in the same request: its errors break ours too.
            if isinstance(fault.fault, Lie | DataQuirk) and not spread:
                continue
            match = fault.match.model_copy(update={"number": number})
            fault = fault.model_copy(update={"match": match})
        kind = fault.fault
        if isinstance(kind, Latency):
            continue
        lifetime_ignored = isinstance(kind, RateLimit) and truth.deviates(carrier, "rate_limit")
        if not (lifetime_ignored or _may_fire(fault, offset)):
            continue
        token = carrier != "dhl" and _applies(fault, carrier, "token", tenant, number)
        track = _applies(fault, carrier, "track", tenant, number)
        if isinstance(kind, HttpError | RateLimit | Outage | BodyFault | Connection):
            if token or track:
                errors.add(kind.kind)
        elif track:
            modes.add(kind.mode)
    return Exposure(frozenset(errors), frozenset(modes))


# ------------------------------------------------------------------------------------------
# Expected events under data faults
# ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """An event the client may (or must) report."""

    event: SimEvent
    places: tuple[Place, ...]
    required: bool = True
    late: bool = False
    """May carry the ``future_timestamps`` shift."""
    index: int = 0
    """Position in the true order (the regression scan comes last)."""
    extra_readings: frozenset[truth.Reading] = field(default_factory=frozenset)
    regression: bool = False
    """The scan the status_regression quirk appends."""


FUTURE = timedelta(days=2)

NEWEST_ONLY = frozenset({"future_timestamps", "unknown_codes"})
"""Quirks that change only the newest scan the carrier lists (unknown_codes: on UPS, USPS and
DHL; FedEx recodes every scan, which keeps its copies identical)."""
"""How far ``future_timestamps`` moves the newest scan (simulator.quirks)."""


def candidates(
    carrier: str, shipment: Shipment, count: int, modes: frozenset[str]
) -> list[Candidate]:
    """The scenario's visible events, plus the regression scan when the quirk may add one."""
    visible = shipment.events[:count]
    ascii_free = quirks.apply(shipment, count, frozenset({"non_ascii_places"}))[0].events
    unknown = frozenset({(Status.unknown, None)}) if "unknown_codes" in modes else frozenset()
    out: list[Candidate] = []
    for i, e in enumerate(visible):
        places = (e.place,)
        if "non_ascii_places" in modes:
            places += (ascii_free[i].place,)
        out.append(Candidate(e, places, True, i == count - 1, i, unknown))
    if "duplicate_scans" in modes and truth.deviates(carrier, "duplicate_scans"):
        # SIMULATOR_DEVIATIONS: a doubled arrival may be rendered as a near-duplicate.
        out += [
            replace(c, required=False)
            for c in out[:count]
            if c.event.kind is EventKind.arrived_at_facility
        ]
    if "duplicate_scans" in modes and modes & NEWEST_ONLY and visible:
        # The quirks compose: the newest scan is doubled, then only the newest copy is
        # stamped late or given an unknown code, so it is no duplicate any more but a scan no
        # client can tell from a real one.
        last = out[-1]
        out.append(replace(last, required=False, index=count - 1))
    regressed = quirks.apply(shipment, count, frozenset({"status_regression"}))[0]
    # The quirk adds its scan only after a delivery.
    if "status_regression" in modes and visible and len(regressed.events) > count:
        extra = regressed.events[-1]
        places = (extra.place,)
        if "non_ascii_places" in modes:
            places += (ascii_free[-1].place,)
        out.append(Candidate(extra, places, False, True, count, unknown, regression=True))
    return out


def swap_unrepairable(carrier: str, visible: Sequence[SimEvent]) -> bool:
    """Whether out_of_order swaps a scan that has no instant to sort it by.

    The quirk swaps the two newest scans; if one of them carries no UTC offset at all (a
    USPS pre-shipment scan, N§3.4) nothing can put it back, and the carrier's order stands.
    """
    return any(truth.loses_offset(carrier, e) for e in visible[-2:])


def unordered(carrier: str, visible: Sequence[SimEvent], modes: frozenset[str]) -> bool:
    """Whether the faults may leave the events out of the true order (see the module doc)."""
    if "wrong_offsets" in modes and carrier in ("fedex", "dhl"):
        return True  # wrong instants, sorted as the client must sort instants
    # With missing_offsets no scan keeps an instant to sort by: a swap stands.
    return "out_of_order" in modes and (
        "missing_offsets" in modes or swap_unrepairable(carrier, visible)
    )


def _wall(at: datetime) -> datetime:
    return at.replace(tzinfo=None, microsecond=0)


def time_ok(
    carrier: str, cand: Candidate, got: Event, modes: frozenset[str], batch: bool = False
) -> bool:
    """Whether the reported time is the event's, at the precision the faults leave.

    ``batch``: the answer may come from a batch request or, after the client split a
    refused batch, from a single one (USPS: Tracking 3.2 or 3.0, ``truth.loses_offset``).
    """
    e = cand.event
    shifts = [timedelta(0)]
    if cand.late and "future_timestamps" in modes:
        shifts.append(FUTURE)
    forms = {truth.loses_offset(carrier, e)} | (
        {truth.loses_offset(carrier, e, True)} if batch else set()
    )
    for shift in shifts:
        at = e.at + shift
        local = e.place.localize(at)
        wall_utc = local.replace(tzinfo=UTC, second=0)
        if True in forms and not got.offset_known and got.time == wall_utc:
            return True
        if False in forms and got.offset_known and got.time == at:
            return True
        if "missing_offsets" in modes and not got.offset_known:
            wall = _wall(local)
            if carrier == "usps":
                wall = wall.replace(second=0)
            if got.time.utcoffset() == timedelta(0) and _wall(got.time) == wall:
                return True
        wrong = "wrong_offsets" in modes and carrier in ("fedex", "dhl")
        if wrong and got.offset_known and _wall(got.time) == _wall(local):
            return True
    return False


def reading_ok(carrier: str, cand: Candidate, got: Event) -> bool:
    """Whether the reported status and reason are right for the event."""
    reading = (got.status, got.exception_reason)
    return reading in truth.acceptable_for(carrier, cand.event) | cand.extra_readings


def place_ok(carrier: str, cand: Candidate, got: Event, modes: frozenset[str]) -> bool:
    """Whether the reported location is (what is left of) the event's place."""
    thin = "missing_optional_fields" in modes
    return any(
        truth.location_problem(carrier, replace(cand.event, place=p), got.location, thin) is None
        for p in cand.places
    )


def _matching(edges: Sequence[Sequence[int]], n_right: int) -> list[int | None]:
    """A maximum matching (Kuhn's algorithm): for each right node, its left node or None."""
    owner: list[int | None] = [None] * n_right

    def augment(left: int, seen: set[int]) -> bool:
        for right in edges[left]:
            if right in seen:
                continue
            seen.add(right)
            holder = owner[right]
            if holder is None or augment(holder, seen):
                owner[right] = left
                return True
        return False

    for left in range(len(edges)):
        augment(left, set())
    return owner


# ------------------------------------------------------------------------------------------
# The verdict
# ------------------------------------------------------------------------------------------


def answered_number(carrier: str, raw: Mapping[str, Any]) -> str | None:
    """The number the carrier's answer (as the client kept it in ``raw``) is about."""
    try:
        if carrier == "ups":
            return str(raw["trackResponse"]["shipment"][0]["package"][0]["trackingNumber"])
        if carrier == "fedex":
            return str(raw["trackingNumberInfo"]["trackingNumber"])
        if carrier == "usps":
            return str(raw["trackingNumber"])
        return str(raw["id"])
    except (KeyError, IndexError, TypeError):
        return None


def same_parcel(asked: str, answered: str) -> bool:
    """The test's own reading of "the answer names the asked number" (see the module doc)."""
    got, want = "".join(answered.split()).upper(), asked.upper()
    if got == want:
        return True
    if got.isdigit() and want.isdigit():
        if got.lstrip("0") == want.lstrip("0"):
            return True
        return got.startswith("420") and want in (got[8:], got[12:])
    return False


def allowed_anomalies(
    carrier: str, visible: Sequence[SimEvent], modes: frozenset[str]
) -> set[Anomaly]:
    """Anomalies the result may report under these faults."""
    allowed = clean_anomalies(carrier, visible)
    for mode, anomalies in truth.QUIRK_ANOMALIES.items():
        if mode in modes:
            allowed |= anomalies
    if "out_of_order" in modes and truth.deviates(carrier, "out_of_order"):
        # The carrier's own status then names an older scan: going backwards, rightly said.
        allowed.add(Anomaly.status_regression)
    return allowed


def error_problems(
    carrier: str, number: str, visible: Sequence[SimEvent], exp: Exposure, err: TrackingError
) -> list[str]:
    """Whether raising this client error was a legitimate reaction."""
    problems: list[str] = []
    if err.carrier is not Carrier(carrier) or err.number != number:
        problems.append(f"the error names {err.carrier} {err.number!r}")
    if not exp.may_fail and not (isinstance(err, NotFound) and not visible):
        problems.append(f"no fault in force can cause {describe(err)}")
    return problems


def result_problems(
    carrier: str,
    shipment: Shipment,
    now: float,
    exp: Exposure,
    result: TrackingResult,
    batch: bool = False,
) -> list[str]:
    """Whether a result is right under the faults that may have shaped it."""
    modes = exp.modes
    visible = shipment.visible(now)
    count = len(visible)
    problems: list[str] = []
    if not visible:
        return [f"a result for a parcel with no events yet: {describe(result)}"]
    if result.carrier is not Carrier(carrier) or result.number != shipment.number:
        problems.append(f"result for {result.carrier} {result.number}")
    answered = answered_number(carrier, result.raw)
    if answered is not None and not same_parcel(shipment.number, answered):
        problems.append(f"answer about {answered!r} reported as {shipment.number!r}")

    cands = candidates(carrier, shipment, count, modes)
    events = result.events
    matched: list[Candidate | None] = []
    if events or "empty_events" not in modes:
        edges = [
            [
                j
                for j, c in enumerate(cands)
                if time_ok(carrier, c, got, modes, batch)
                and reading_ok(carrier, c, got)
                and place_ok(carrier, c, got, modes)
            ]
            for got in events
        ]
        owner = _matching(edges, len(cands))
        by_event: dict[int, Candidate] = {i: cands[j] for j, i in enumerate(owner) if i is not None}
        for i, got in enumerate(events):
            if i not in by_event:
                problems.append(
                    f"event {i} ({got.time.isoformat()} {got.status.value}/"
                    f"{got.exception_reason} @ {got.location}) matches no expected event"
                )
        for j, c in enumerate(cands):
            if c.required and owner[j] is None:
                problems.append(f"{c.event.kind.value} at {c.event.at.isoformat()} is missing")
        matched = [by_event.get(i) for i in range(len(events))]
        order = [c.index for c in matched if c is not None]
        if not unordered(carrier, visible, modes) and order != sorted(order):
            problems.append(f"events out of the true order: {order}")

    # The current status is the newest scan's as the client saw it.
    newest = visible[-1]
    current = truth.acceptable_for(carrier, newest)
    seen_newest = matched[-1] if matched and matched[-1] is not None else None
    if seen_newest is not None:
        current |= truth.acceptable_for(carrier, seen_newest.event)
    regression = next((c for c in cands if c.regression), None)
    if regression is not None:
        current |= truth.acceptable_for(carrier, regression.event)
    if "unknown_codes" in modes:
        # An unknown newest code leaves the carrier's summary (or nothing) to go by.
        current = truth.summary_only(carrier, current) | {(Status.unknown, None)}
    if "empty_events" in modes and not events:
        current = truth.summary_only(carrier, current)
    # Where the simulator's own status field is wrong under out_of_order (SIMULATOR_DEVIATIONS),
    # there is no truth to hold the client's reading of it to.
    misreported = "out_of_order" in modes and count >= 2 and truth.deviates(carrier, "out_of_order")
    if not misreported and (result.status, result.exception_reason) not in current:
        problems.append(
            f"current status {result.status.value}/{result.exception_reason}, newest event "
            f"{newest.kind.value}/{newest.reason}"
        )

    # Delivery data: consistent with the reported status and events.
    if result.status is Status.delivered:
        delivered = [e for e in events if e.status is Status.delivered]
        if delivered:
            if result.delivered_at != delivered[-1].time:
                problems.append(
                    f"delivered_at {result.delivered_at}, newest delivered scan "
                    f"{delivered[-1].time}"
                )
        elif result.delivered_at is not None and not truth.delivery_moment_ok(
            carrier, newest, result.delivered_at
        ):
            problems.append(f"delivered_at {result.delivered_at}, expected {newest.at}")
        signer_may_go = "missing_optional_fields" in modes or not events
        if truth.shows_signer(carrier, shipment) and not (
            truth.signer_matches(result.signed_by, shipment.signer)
            or (signer_may_go and result.signed_by is None)
        ):
            problems.append(f"signed_by {result.signed_by!r}, expected {shipment.signer!r}")
    elif result.delivered_at is not None or result.signed_by is not None:
        problems.append(f"delivery data on a {result.status.value} parcel")

    # Anomalies: only those the faults can explain, and always the ones the data shows.
    reported = set(result.anomalies)
    extra = reported - allowed_anomalies(carrier, visible, modes)
    if extra:
        problems.append(f"anomalies {sorted(extra)} that no fault in force explains")
    if any(not e.offset_known for e in events) and Anomaly.missing_offsets not in reported:
        problems.append("times without offset but no missing_offsets anomaly")
    if any(e.status is Status.unknown and e.raw_code for e in events) and (
        Anomaly.unknown_codes not in reported
    ):
        problems.append("unknown codes but no unknown_codes anomaly")
    shown = regression is not None and any(c is regression for c in matched)
    if (
        shown
        and not misreported
        and truth.is_regression(visible, regression.event)  # type: ignore[union-attr]
        and Anomaly.status_regression not in reported
    ):
        problems.append("a status regression shown without the status_regression anomaly")
    return problems


def robustness_problems(
    carrier: str,
    shipment: Shipment,
    now: float,
    exp: Exposure,
    outcome: Outcome,
    batch: bool = False,
) -> list[str]:
    """Property 2's verdict on one call: a right result, or a legitimate client error."""
    visible = shipment.visible(now)
    if isinstance(outcome, TrackingError):
        return error_problems(carrier, shipment.number, visible, exp, outcome)
    return result_problems(carrier, shipment, now, exp, outcome, batch)
