"""Hypothesis strategies for carriersim: tracking numbers, scenarios, clock points, faults.

Usable in your own tests::

    from hypothesis import given
    from simulator.strategies import scenarios, tracking_numbers

    @given(tracking_numbers("ups"), scenarios())
    def test_my_integration(number, scenario): ...

Every scenario drawn is coherent: events in time order, delivery last when it happens,
exception reasons only on exceptions, routes between real places.
"""

from __future__ import annotations

import random
from datetime import timedelta

from hypothesis import strategies as st

from simulator import numbers
from simulator.faults import QUIRKS, Fault, Lifetime, Match, Window
from simulator.scenario import CARRIERS, EventKind, ExceptionReason, Scenario, Service

carriers = st.sampled_from(CARRIERS)


@st.composite
def tracking_numbers(draw: st.DrawFn, carrier: str | None = None) -> str:
    """A valid tracking number (format and check digit) of the carrier, or of any carrier."""
    chosen = carrier or draw(carriers)
    fmt = draw(st.sampled_from(numbers.formats(chosen)))
    return numbers.generate(chosen, random.Random(draw(st.integers(0, 2**32))), fmt)


_MOVES = (EventKind.arrived_at_facility, EventKind.departed_facility, EventKind.in_transit)
_REASONS = tuple(ExceptionReason)

# Endings: what happens after the parcel has moved through the network.
_ENDINGS: tuple[tuple[EventKind, ...], ...] = (
    (EventKind.out_for_delivery, EventKind.delivered),
    (EventKind.out_for_delivery, EventKind.delivery_attempted, EventKind.available_for_pickup),
    (EventKind.out_for_delivery, EventKind.exception, EventKind.returned_to_sender),
    (EventKind.address_corrected, EventKind.out_for_delivery, EventKind.delivered),
    (EventKind.exception,),
    (EventKind.out_for_delivery,),
    (),
)


@st.composite
def scenarios(
    draw: st.DrawFn,
    *,
    international: bool | None = None,
    max_events: int = 14,
) -> Scenario:
    """A random but coherent scenario (name, route, service, start, timeline)."""
    intl = draw(st.booleans()) if international is None else international
    destination = draw(st.sampled_from(["DE", "GB", "CA", "JP"])) if intl else "US"
    route: dict[str, object] = {
        "origin": "US",
        "destination": destination,
        "hubs": draw(st.integers(0, 3)),
    }
    kinds: list[EventKind] = [EventKind.label_created]
    if draw(st.booleans()) and draw(st.integers(0, 9)) == 0:
        kinds.append(EventKind.cancelled)
    else:
        kinds.append(EventKind.picked_up)
        moves = draw(st.lists(st.sampled_from(_MOVES), max_size=max(0, max_events - 6)))
        kinds.extend(moves)
        if intl and draw(st.booleans()):
            kinds.extend([EventKind.customs_hold, EventKind.customs_cleared])
        kinds.extend(draw(st.sampled_from(_ENDINGS)))
    kinds = kinds[:max_events]
    gaps = draw(st.lists(st.integers(1, 36 * 60), min_size=len(kinds), max_size=len(kinds)))
    events = []
    at = 0
    for i, kind in enumerate(kinds):
        at += 0 if i == 0 else gaps[i]
        event: dict[str, object] = {"at": timedelta(minutes=at), "kind": kind}
        if kind is EventKind.exception:
            event["reason"] = draw(st.sampled_from(_REASONS))
        events.append(event)
    return Scenario(
        name=f"generated-{draw(st.integers(0, 10**9))}",
        service=draw(st.sampled_from(tuple(Service))),
        route=route,
        start=timedelta(minutes=-draw(st.integers(0, 5 * 24 * 60))),
        events=events,
    )


def clock_points(scenario: Scenario) -> st.SearchStrategy[timedelta]:
    """Offsets from a scenario's start worth asking about: before it, at, around and after
    each event, and long after the end."""
    marks = [e.at for e in scenario.events] or [timedelta(0)]
    exact = st.sampled_from(marks)
    near = st.tuples(exact, st.integers(-120, 120)).map(lambda p: p[0] + timedelta(seconds=p[1]))
    anywhere = st.integers(-86400, int((marks[-1] + timedelta(days=2)).total_seconds())).map(
        lambda s: timedelta(seconds=s)
    )
    return st.one_of(exact, near, anywhere)


_ENDPOINTS = ("token", "track")


@st.composite
def lifetimes(draw: st.DrawFn) -> Lifetime:
    """A fault lifetime: always, probability, first N, a sequence, optionally a window."""
    rule = draw(st.sampled_from(["always", "probability", "first", "sequence"]))
    data: dict[str, object] = {}
    if rule == "probability":
        data["probability"] = draw(st.floats(0, 1))
    elif rule == "first":
        data["first"] = draw(st.integers(1, 5))
    elif rule == "sequence":
        data["sequence"] = draw(st.lists(st.booleans(), min_size=1, max_size=6))
        data["repeat"] = draw(st.booleans())
    if draw(st.integers(0, 4)) == 0:
        start = draw(st.integers(0, 3600))
        data["window"] = {"from": f"{start}s", "to": f"{start + draw(st.integers(1, 7200))}s"}
    return Lifetime.model_validate(data)


@st.composite
def matches(draw: st.DrawFn, numbers_pool: tuple[str, ...] = ()) -> Match:
    """A fault match over carriers, endpoints, tenants and (optionally) given numbers."""
    data: dict[str, object] = {}
    if draw(st.booleans()):
        data["carrier"] = draw(carriers)
    if draw(st.booleans()):
        data["endpoint"] = draw(st.sampled_from(_ENDPOINTS))
    if draw(st.booleans()):
        data["tenant"] = draw(st.sampled_from(["alpha", "beta", "gamma"]))
    use_number: bool = draw(st.booleans())
    if numbers_pool and use_number:
        data["number"] = draw(st.sampled_from(numbers_pool))
    return Match.model_validate(data)


_KIND_DATA: tuple[dict[str, object], ...] = (
    {"kind": "http_error", "status": 503},
    {"kind": "http_error", "status": 429, "retry_after": 2},
    {"kind": "http_error", "status": 500, "body": "html"},
    {"kind": "latency", "distribution": "fixed", "ms": 5},
    {"kind": "latency", "distribution": "uniform", "min_ms": 1, "max_ms": 10},
    {"kind": "latency", "distribution": "lognormal", "median_ms": 5, "p99_ms": 20},
    {"kind": "body", "mode": "invalid_json"},
    {"kind": "body", "mode": "wrong_content_type"},
    {"kind": "quirk", "mode": "duplicate_scans"},
    {"kind": "quirk", "mode": "out_of_order"},
    {"kind": "lie", "mode": "wrong_number"},
)


def _kind(**data: object) -> dict[str, object]:
    return data


HTTP_FAULTS: tuple[dict[str, object], ...] = (
    *(_kind(kind="http_error", status=s) for s in (400, 403, 404, 500, 502, 503, 504)),
    {"kind": "http_error", "status": 401, "reason": "expired"},
    {"kind": "http_error", "status": 401, "reason": "revoked"},
    {"kind": "http_error", "status": 429},
    {"kind": "http_error", "status": 429, "retry_after": 1},
    {"kind": "http_error", "status": 502, "body": "html"},
    {"kind": "http_error", "status": 503, "body": "html", "retry_after": 0},
    {"kind": "rate_limit", "limit": 1, "per": "1h"},
    {"kind": "rate_limit", "preset": "carrier"},
    {"kind": "outage", "status": 503},
    {"kind": "outage", "status": 502, "body": "html"},
)
"""Every HTTP-level fault kind: errors in the carrier's envelope or a gateway's page."""

BODY_FAULTS: tuple[dict[str, object], ...] = tuple(
    _kind(kind="body", mode=m)
    for m in ("invalid_json", "wrong_content_type", "missing_content_type", "random_bytes")
)
"""Every broken-body fault."""

DATA_FAULTS: tuple[dict[str, object], ...] = (
    *(_kind(kind="lie", mode=m) for m in ("ok_with_error", "mixed_results", "wrong_number")),
    *(_kind(kind="quirk", mode=m) for m in QUIRKS),
)
"""Every lie and data quirk: a 200 whose content is wrong in a way carriers really are."""

LATENCY_FAULTS: tuple[dict[str, object], ...] = tuple(
    k for k in _KIND_DATA if k["kind"] == "latency"
)

IN_PROCESS_FAULTS: tuple[dict[str, object], ...] = (
    *HTTP_FAULTS,
    *BODY_FAULTS,
    *DATA_FAULTS,
    *LATENCY_FAULTS,
)
"""Every fault kind that needs no real socket (an ASGI transport can carry it)."""

SOCKET_FAULTS: tuple[dict[str, object], ...] = (
    {"kind": "connection", "mode": "reset"},
    {"kind": "connection", "mode": "empty_reply"},
    {"kind": "connection", "mode": "truncate", "fraction": 0.5},
    {"kind": "connection", "mode": "hang", "seconds": 2.0},
    {"kind": "connection", "mode": "headers_then_stall", "seconds": 2.0},
    {"kind": "connection", "mode": "dribble", "seconds": 0.3},
)
"""Every connection fault, with waits short enough for tests (they need a real socket)."""

PUSH_FAULTS: tuple[dict[str, object], ...] = (
    *(
        _kind(kind="push", mode=m)
        for m in ("dropped", "duplicated", "reordered", "wrong_signature", "stale_body")
    ),
    {"kind": "push", "mode": "delayed", "delay": "20m"},
)
"""Every push fault (they act on push deliveries only)."""


@st.composite
def faults(
    draw: st.DrawFn,
    *,
    kinds: tuple[dict[str, object], ...] = _KIND_DATA,
    numbers_pool: tuple[str, ...] = (),
) -> Fault:
    """One fault: a kind from ``kinds`` (in-process-safe ones by default), a match, a lifetime."""
    data = dict(draw(st.sampled_from(kinds)))
    data["match"] = draw(matches(numbers_pool))
    when = draw(lifetimes())
    if data["kind"] == "outage" and when.window is None:
        # An outage is a span of time by definition: give it one.
        start = draw(st.integers(0, 3600))
        window = {"from": f"{start}s", "to": f"{start + draw(st.integers(1, 7200))}s"}
        when = when.model_copy(update={"window": Window.model_validate(window)})
    data["when"] = when
    return Fault.model_validate(data)


@st.composite
def aimed_faults(
    draw: st.DrawFn,
    *,
    carrier: str,
    tenant: str,
    number: str,
    kinds: tuple[dict[str, object], ...] = _KIND_DATA,
) -> Fault:
    """A fault whose match covers this carrier, tenant and number: each field either names
    them or is left open, so the fault can fire for their requests (lifetime permitting)."""
    fault: Fault = draw(faults(kinds=kinds))
    data: dict[str, object] = {}
    for name, value in (("carrier", carrier), ("tenant", tenant), ("number", number)):
        if draw(st.booleans()):
            data[name] = value
    if draw(st.booleans()):
        data["endpoint"] = draw(st.sampled_from(_ENDPOINTS))
    return fault.model_copy(update={"match": Match.model_validate(data)})


def fault_plans(
    *,
    max_faults: int = 4,
    numbers_pool: tuple[str, ...] = (),
    kinds: tuple[dict[str, object], ...] = _KIND_DATA,
) -> st.SearchStrategy[list[Fault]]:
    """A list of faults, as a fault-plan file would hold."""
    return st.lists(faults(kinds=kinds, numbers_pool=numbers_pool), max_size=max_faults)
