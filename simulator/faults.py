"""Faults: a closed set of kinds, each with a match and a lifetime; selection is pure.

A fault plan is data (YAML, validated like scenarios). For each request the
:class:`FaultBook` decides, from the plan, the per-tenant counters in the store and a
generator seeded by (seed, fault, tenant, request ordinal), which faults fire. The same seed
and the same request order therefore give the same faults and the same latency samples.
Applying a decision (sleeping, answering an error, breaking the connection, rendering
quirks) is the business of :mod:`simulator.faulting`.

Kinds:

=================  ======================================================================
``latency``        fixed / uniform(min, max) / lognormal(median, p99) delay, per request
``http_error``     a status (400 401 403 404 429 500 502 503 504) in the carrier's own
                   envelope, or the HTML page of a gateway in front of it
``rate_limit``     a per-tenant, per-carrier request limit (carrier presets from NOTES)
``outage``         the carrier (or one endpoint) answers 503 during a window
``connection``     hang, reset, empty_reply, headers_then_stall, dribble, truncate
``body``           invalid_json, wrong_content_type, missing_content_type, random_bytes
``lie``            ok_with_error, mixed_results, wrong_number
``quirk``          duplicate_scans, out_of_order, missing_offsets, wrong_offsets,
                   future_timestamps, unknown_codes, status_regression, empty_events,
                   missing_optional_fields, non_ascii_places, padded_number,
                   lowercase_number
``push``           dropped, duplicated, reordered, delayed, wrong_signature, stale_body:
                   what goes wrong with a push delivery (only ever matches pushes, which
                   match as endpoint ``push``; no other kind matches a push)
=================  ======================================================================
"""

from __future__ import annotations

import math
import random
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated, Any, Literal, get_args

from pydantic import Field, field_validator, model_validator

from simulator.fields import Carrier, Duration, Frozen
from simulator.seeding import seed_int

Endpoint = Literal["token", "track", "subscription", "push"]
"""What a fault can match: the token and tracking APIs, the push subscription APIs, and
the pushes a carrier sends."""

# Rate-limit presets: the carriers' documented or observed default limits (NOTES §1.7,
# §2.7, §3.7, §4.6). UPS publishes none; its preset is a guess flagged as such.
RATE_PRESETS: dict[str, tuple[int, timedelta, bool]] = {
    # carrier: (requests, per window, sends Retry-After)
    "ups": (100, timedelta(seconds=1), False),  # unpublished (N§1.7): a plausible stand-in
    "fedex": (1400, timedelta(seconds=10), False),  # N§2.7: 1,400 per 10 s per project
    "usps": (60, timedelta(hours=1), True),  # N§3.7: ~60/hour, with Retry-After
    "dhl": (1, timedelta(seconds=1), False),  # N§4.6: 1 call/second (250/day)
}


class Match(Frozen):
    """Which requests a fault applies to; every field is optional."""

    carrier: Carrier | None = None
    endpoint: Endpoint | None = None
    number: str | None = None
    tenant: str | None = None


class Window(Frozen):
    """A span on the tenant's clock, as offsets from the server clock start."""

    start: Duration = Field(alias="from")
    end: Duration = Field(alias="to")

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.end <= self.start:
            raise ValueError("a window's 'to' must come after its 'from'; swap or fix them")
        return self


class Lifetime(Frozen):
    """When a matching fault fires. With no field set, it always fires."""

    probability: float | None = Field(default=None, ge=0, le=1)
    first: int | None = Field(default=None, ge=1, description="the first N matching requests")
    sequence: tuple[bool, ...] | None = Field(
        default=None,
        min_length=1,
        description="consumed one per matching request: true fires, false passes; "
        "after the last entry the fault stops (or starts over with repeat)",
    )
    repeat: bool = False
    window: Window | None = None

    @model_validator(mode="after")
    def _one_rule(self) -> Lifetime:
        rules = [r for r in ("probability", "first", "sequence") if getattr(self, r) is not None]
        if len(rules) > 1:
            raise ValueError(
                f"a lifetime takes one of probability, first, sequence; {' and '.join(rules)} "
                "were given (a window may be combined with any of them)"
            )
        if self.repeat and self.sequence is None:
            raise ValueError("'repeat' only applies to a 'sequence'; remove it")
        return self


LONGEST_DELAY_MS = 3_600_000
"""The longest latency a fault may add (an hour), and the cap on a lognormal sample."""

LONGEST_RETRY_AFTER = 86_400
"""The longest Retry-After a fault may send, in seconds (a day)."""


class Latency(Frozen):
    """Delay the answer."""

    kind: Literal["latency"]
    distribution: Literal["fixed", "uniform", "lognormal"] = "fixed"
    ms: float | None = Field(default=None, ge=0, description="fixed delay")
    min_ms: float | None = Field(default=None, ge=0)
    max_ms: float | None = Field(default=None, ge=0)
    median_ms: float | None = Field(default=None, gt=0)
    p99_ms: float | None = Field(default=None, gt=0)

    @field_validator("ms", "min_ms", "max_ms", "median_ms", "p99_ms")
    @classmethod
    def _at_most_an_hour(cls, value: float | None) -> float | None:
        if value is not None and not value <= LONGEST_DELAY_MS:
            raise ValueError(
                f"{value:g} ms is longer than an hour ({LONGEST_DELAY_MS} ms), longer than any "
                "client waits; for an answer that never comes use kind: connection, mode: hang"
            )
        return value

    @model_validator(mode="after")
    def _parameters(self) -> Latency:
        need = {
            "fixed": ("ms",),
            "uniform": ("min_ms", "max_ms"),
            "lognormal": ("median_ms", "p99_ms"),
        }[self.distribution]
        missing = [n for n in need if getattr(self, n) is None]
        if missing:
            raise ValueError(
                f"a {self.distribution} latency needs {', '.join(missing)}; add "
                + ", ".join(f"'{n}:'" for n in missing)
            )
        if self.distribution == "uniform" and self.max_ms < self.min_ms:  # type: ignore[operator]
            raise ValueError("max_ms must not be below min_ms")
        if self.distribution == "lognormal" and self.p99_ms < self.median_ms:  # type: ignore[operator]
            raise ValueError("p99_ms must not be below median_ms")
        return self

    def sample(self, rng: random.Random) -> float:
        """One delay in seconds."""
        if self.distribution == "fixed":
            return float(self.ms or 0) / 1000
        if self.distribution == "uniform":
            return rng.uniform(float(self.min_ms or 0), float(self.max_ms or 0)) / 1000
        # lognormal: median = e^mu, p99 = e^(mu + 2.3263 sigma)
        mu = math.log(float(self.median_ms or 1))
        sigma = (math.log(float(self.p99_ms or 1)) - mu) / 2.3263478740408408
        return min(rng.lognormvariate(mu, sigma), LONGEST_DELAY_MS) / 1000


class HttpError(Frozen):
    """Answer with an HTTP error in the carrier's own envelope, or a gateway's HTML page."""

    kind: Literal["http_error"]
    status: Literal[400, 401, 403, 404, 429, 500, 502, 503, 504]
    retry_after: int | None = Field(
        default=None, ge=0, le=LONGEST_RETRY_AFTER, description="seconds, sent as header"
    )
    body: Literal["carrier", "html"] = "carrier"
    reason: Literal["expired", "revoked"] | None = Field(
        default=None, description="for 401: the token expired mid-run, or the key was revoked"
    )


class RateLimit(Frozen):
    """Limit requests per tenant and carrier; over the limit, the carrier's 429."""

    kind: Literal["rate_limit"]
    preset: Literal["carrier"] | None = Field(
        default=None, description="'carrier': the matched carrier's documented limit"
    )
    limit: int | None = Field(default=None, ge=1)
    per: Duration | None = None
    retry_after: bool | None = None

    @model_validator(mode="after")
    def _sized(self) -> RateLimit:
        if self.preset is None and (self.limit is None or self.per is None):
            raise ValueError("a rate_limit needs 'preset: carrier' or both 'limit' and 'per'")
        return self

    def rule(self, carrier: str) -> tuple[int, timedelta, bool]:
        """(limit, window, send Retry-After) for a carrier."""
        limit, per, retry = RATE_PRESETS[carrier]
        if self.limit is not None:
            limit = self.limit
        if self.per is not None:
            per = self.per
        if self.retry_after is not None:
            retry = self.retry_after
        return limit, per, retry


class Outage(Frozen):
    """The carrier (or one endpoint) is down: 503, or a gateway's HTML page."""

    kind: Literal["outage"]
    status: Literal[500, 502, 503, 504] = 503
    body: Literal["carrier", "html"] = "carrier"
    retry_after: int | None = Field(default=None, ge=0, le=LONGEST_RETRY_AFTER)


class Connection(Frozen):
    """Break the connection itself; needs a real socket."""

    kind: Literal["connection"]
    mode: Literal["hang", "reset", "empty_reply", "headers_then_stall", "dribble", "truncate"]
    seconds: float = Field(
        default=30.0,
        gt=0,
        le=LONGEST_DELAY_MS / 1000,
        description="how long hang / headers_then_stall / dribble last (at most an hour)",
    )
    fraction: float = Field(
        default=0.5, gt=0, lt=1, description="share of the body sent before truncating"
    )


class BodyFault(Frozen):
    """Send a broken body: invalid JSON, a wrong or missing Content-Type, random bytes."""

    kind: Literal["body"]
    mode: Literal["invalid_json", "wrong_content_type", "missing_content_type", "random_bytes"]


class Lie(Frozen):
    """Carrier-specific lies: an error inside a 200, mixed results, another number."""

    kind: Literal["lie"]
    mode: Literal["ok_with_error", "mixed_results", "wrong_number"]


Quirk = Literal[
    "duplicate_scans",
    "out_of_order",
    "missing_offsets",
    "wrong_offsets",
    "future_timestamps",
    "unknown_codes",
    "status_regression",
    "empty_events",
    "missing_optional_fields",
    "non_ascii_places",
    "padded_number",
    "lowercase_number",
]


QUIRKS: tuple[str, ...] = get_args(Quirk)


class DataQuirk(Frozen):
    """Bad data the carriers really send, in an otherwise good answer."""

    kind: Literal["quirk"]
    mode: Quirk


PushMode = Literal["dropped", "duplicated", "reordered", "delayed", "wrong_signature", "stale_body"]


class PushFault(Frozen):
    """Something wrong with a push delivery: never sent, sent twice, sent after the next
    one, sent late, signed with the wrong secret, or carrying the previous state."""

    kind: Literal["push"]
    mode: PushMode
    delay: Duration = Field(
        default=timedelta(minutes=10),
        description="for 'delayed': how much later on the tenant's simulated clock",
    )


FaultKind = Annotated[
    Latency | HttpError | RateLimit | Outage | Connection | BodyFault | Lie | DataQuirk | PushFault,
    Field(discriminator="kind"),
]

FAULT_KINDS: tuple[str, ...] = tuple(
    get_args(model.model_fields["kind"].annotation)[0] for model in get_args(get_args(FaultKind)[0])
)
"""Every fault ``kind``, in the order of :data:`FaultKind` (forms and error messages)."""


class Fault(Frozen):
    """One fault: what goes wrong, for which requests, and when."""

    name: str | None = None
    fault: FaultKind
    match: Match = Match()
    when: Lifetime = Lifetime()

    @model_validator(mode="before")
    @classmethod
    def _flatten(cls, data: Any) -> Any:
        # Authors write the kind's parameters beside match/when; nest them for the union.
        if isinstance(data, dict) and "fault" not in data and "kind" in data:
            outer = {k: data[k] for k in ("name", "match", "when") if k in data}
            outer["fault"] = {k: v for k, v in data.items() if k not in outer}
            return outer
        return data

    @model_validator(mode="after")
    def _outage_needs_window(self) -> Fault:
        if isinstance(self.fault, Outage) and self.when.window is None:
            raise ValueError("an outage needs a window: add 'when: {window: {from: …, to: …}}'")
        return self


class FaultPlan(Frozen):
    """A list of faults, from a fault-plan file or a scenario's ``faults:``."""

    faults: tuple[Fault, ...] = ()


@dataclass(frozen=True, slots=True)
class RequestInfo:
    """What fault matching knows about a request."""

    carrier: str
    endpoint: str
    tenant: str
    numbers: tuple[str, ...] = ()
    scenarios: frozenset[str] = frozenset()
    sim_now: float = 0.0
    sim_start: float = 0.0


@dataclass(frozen=True, slots=True)
class Decision:
    """The faults that fire for one request, in the order they are applied."""

    delay: float = 0.0
    error: HttpError | Outage | None = None
    rate_limited: tuple[int, bool] | None = None
    """(seconds until the window frees, send Retry-After) when over a rate limit."""
    connection: Connection | None = None
    body: BodyFault | None = None
    lies: frozenset[str] = frozenset()
    quirks: frozenset[str] = frozenset()
    fired: tuple[str, ...] = ()
    push: tuple[PushFault, ...] = ()
    """Push faults, in plan order (only in decisions for endpoint ``push``)."""

    @property
    def clean(self) -> bool:
        """Whether nothing fires."""
        return not self.fired


CLEAN = Decision()


@dataclass
class _Counters:
    seen: dict[str, int] = field(default_factory=dict)
    windows: dict[str, list[float]] = field(default_factory=dict)


def fault_id(fault: Fault, index: int, scope: str) -> str:
    """A stable identifier for a fault within its plan."""
    return fault.name or f"{scope}#{index}:{fault.fault.kind}"


class FaultBook:
    """Decides which faults fire; keeps the per-tenant counters the lifetimes need."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self._lock = threading.Lock()
        self._tenants: dict[str, _Counters] = {}

    def reset(self, tenant: str | None = None) -> None:
        """Forget counters (sequences, first-N, rate windows) of a tenant or of all."""
        with self._lock:
            if tenant is None:
                self._tenants.clear()
            else:
                self._tenants.pop(tenant, None)

    def decide(self, plans: Sequence[tuple[str, Sequence[Fault]]], info: RequestInfo) -> Decision:
        """Which faults of the plans fire for this request. ``plans`` pairs a scope with its
        faults: ``"global"`` or ``"scenario:<name>"`` (which only match that scenario's
        shipments)."""
        delay = 0.0
        error: HttpError | Outage | None = None
        rate: tuple[int, bool] | None = None
        connection: Connection | None = None
        body: BodyFault | None = None
        lies: set[str] = set()
        quirks: set[str] = set()
        pushes: list[PushFault] = []
        fired: list[str] = []
        pushing = info.endpoint == "push"
        with self._lock:
            counters = self._tenants.setdefault(info.tenant, _Counters())
            for scope, faults in plans:
                if scope.startswith("scenario:") and scope[9:] not in info.scenarios:
                    continue
                for index, fault in enumerate(faults):
                    if not matches(fault.match, info):
                        continue
                    fid = fault_id(fault, index, scope)
                    kind = fault.fault
                    # Push faults act on pushes only, and nothing else acts on a push; a
                    # fault that cannot apply does not count the request either.
                    if isinstance(kind, PushFault) is not pushing:
                        continue
                    if isinstance(kind, RateLimit):
                        # A limiter counts every request its lifetime lets through, not only
                        # those it refuses; outside its lifetime it neither counts nor refuses.
                        if not self._fires(counters, fid, fault.when, info):
                            continue
                        over = self._rate(counters, fid, kind, info)
                        if over is not None and rate is None:
                            rate = over
                            fired.append(fid)
                        continue
                    if not self._fires(counters, fid, fault.when, info):
                        continue
                    fired.append(fid)
                    if isinstance(kind, Latency):
                        rng = random.Random(
                            seed_int(self.seed, fid, info.tenant, counters.seen[fid])
                        )
                        delay += kind.sample(rng)
                    elif isinstance(kind, HttpError | Outage):
                        error = error or kind
                    elif isinstance(kind, Connection):
                        connection = connection or kind
                    elif isinstance(kind, BodyFault):
                        body = body or kind
                    elif isinstance(kind, Lie):
                        lies.add(kind.mode)
                    elif isinstance(kind, PushFault):
                        pushes.append(kind)
                    else:
                        quirks.add(kind.mode)
        if not fired:
            return CLEAN
        return Decision(
            delay,
            error,
            rate,
            connection,
            body,
            frozenset(lies),
            frozenset(quirks),
            tuple(fired),
            tuple(pushes),
        )

    def _fires(self, counters: _Counters, fid: str, when: Lifetime, info: RequestInfo) -> bool:
        if when.window is not None:
            offset = info.sim_now - info.sim_start
            if not (when.window.start.total_seconds() <= offset < when.window.end.total_seconds()):
                return False
        n = counters.seen.get(fid, 0)
        counters.seen[fid] = n + 1
        if when.first is not None:
            return n < when.first
        if when.sequence is not None:
            seq = when.sequence
            if n >= len(seq) and not when.repeat:
                return False
            return seq[n % len(seq)]
        if when.probability is not None:
            rng = random.Random(seed_int(self.seed, fid, info.tenant, n, "p"))
            return rng.random() < when.probability
        return True

    def _rate(
        self, counters: _Counters, fid: str, kind: RateLimit, info: RequestInfo
    ) -> tuple[int, bool] | None:
        limit, per, retry = kind.rule(info.carrier)
        key = f"{fid}|{info.carrier}"
        stamps = counters.windows.setdefault(key, [])
        horizon = info.sim_now - per.total_seconds()
        while stamps and stamps[0] <= horizon:
            stamps.pop(0)
        if len(stamps) >= limit:
            wait = max(1, math.ceil(stamps[0] - horizon))
            return wait, retry
        stamps.append(info.sim_now)
        return None


def matches(match: Match, info: RequestInfo) -> bool:
    """Whether a request falls under a fault's match."""
    if match.carrier is not None and match.carrier != info.carrier:
        return False
    if match.endpoint is not None and match.endpoint != info.endpoint:
        return False
    if match.tenant is not None and match.tenant != info.tenant:
        return False
    return match.number is None or match.number in info.numbers


class FaultRegistry:
    """The faults in force: a global plan plus each scenario's own, and their counters."""

    def __init__(
        self,
        book: FaultBook,
        plan: Sequence[Fault] = (),
        scenario_faults: dict[str, tuple[Fault, ...]] | None = None,
        *,
        any_number: bool = False,
        numbers: dict[str, set[str]] | None = None,
    ) -> None:
        self.book = book
        self._lock = threading.Lock()
        self._global: tuple[Fault, ...] = tuple(plan)
        self._scenarios = {k: v for k, v in (scenario_faults or {}).items() if v}
        # Which numbers can play a scenario with faults: any (a fault scenario is in the
        # default mix) or those listed; lets most requests skip fault matching entirely.
        self._any_number = any_number
        self._numbers: dict[str, set[str]] = numbers or {}
        self._refresh()

    def _refresh(self) -> None:
        self._version = getattr(self, "_version", 0) + 1
        # Push faults never touch a request: they do not make a carrier's requests faulty.
        carriers = {f.match.carrier for f in self._global if not isinstance(f.fault, PushFault)}
        self._all_carriers = None in carriers
        self._carriers = frozenset(c for c in carriers if c is not None)
        self._with_faults = frozenset(self._scenarios)

    @property
    def plan(self) -> tuple[Fault, ...]:
        """The global faults, in order."""
        return self._global

    @property
    def version(self) -> int:
        """Changes whenever the faults in force change (callers cache decisions by it)."""
        return self._version

    @property
    def any_scenario(self) -> bool:
        """Whether some scenario declares faults of its own."""
        return bool(self._scenarios)

    def set_scenarios(
        self,
        scenario_faults: dict[str, tuple[Fault, ...]],
        *,
        any_number: bool,
        numbers: dict[str, set[str]],
    ) -> None:
        """Replace the scenarios' own faults (start-up and live reload)."""
        with self._lock:
            self._scenarios = {k: v for k, v in scenario_faults.items() if v}
            self._any_number = any_number
            self._numbers = numbers
            self._refresh()

    def may_involve(self, carrier: str, numbers: Sequence[str]) -> bool:
        """Whether a request for these numbers could play a scenario that has faults."""
        if self._any_number:
            return True
        known = self._numbers.get(carrier)
        return known is not None and any(n in known for n in numbers)

    def reach(self, carrier: str, number: str) -> None:
        """Note that ``number`` now plays a scenario with faults (a shipment made at run time)."""
        with self._lock:
            self._numbers.setdefault(carrier, set()).add(number)
            self._refresh()

    def add(self, fault: Fault) -> None:
        """Add a global fault at run time."""
        with self._lock:
            self._global = (*self._global, fault)
            self._refresh()

    def remove(self, doomed: Callable[[Fault], bool]) -> None:
        """Remove the global faults ``doomed`` selects."""
        with self._lock:
            self._global = tuple(f for f in self._global if not doomed(f))
            self._refresh()

    def clear(self) -> None:
        """Remove every global fault (scenario faults stay) and forget counters."""
        with self._lock:
            self._global = ()
            self._refresh()
        self.book.reset()

    def active_for(self, carrier: str, scenarios: frozenset[str]) -> bool:
        """Whether any fault could apply to a request of this carrier for these scenarios."""
        return (
            self._all_carriers
            or carrier in self._carriers
            or not self._with_faults.isdisjoint(scenarios)
        )

    def decide(self, info: RequestInfo) -> Decision:
        """Which faults fire for the request."""
        plans: list[tuple[str, Sequence[Fault]]] = [("global", self._global)]
        for name in sorted(info.scenarios & self._with_faults):
            plans.append((f"scenario:{name}", self._scenarios[name]))
        return self.book.decide(plans, info)


def author_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Rewrite a JSON Schema's ``Fault`` definition into the flat form authors write
    (``kind`` and its parameters beside ``match`` and ``when``), in place."""
    defs = schema.get("$defs", {})
    fault = defs.get("Fault")
    if fault is None:
        return schema
    shared = {k: v for k, v in fault["properties"].items() if k != "fault"}
    mapping = fault["properties"]["fault"]["discriminator"]["mapping"]
    branches = []
    for ref in mapping.values():
        name = ref.rsplit("/", 1)[-1]
        defs[name]["properties"].update(shared)
        branches.append({"$ref": ref})
    defs["Fault"] = {
        "description": fault.get("description", ""),
        "title": "Fault",
        "oneOf": branches,
    }
    return schema


def fault_plan_json_schema() -> dict[str, Any]:
    """The JSON Schema of fault-plan files, for editors."""
    schema = author_schema(FaultPlan.model_json_schema(mode="validation"))
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://carriersim.dev/fault-plan.schema.json"
    schema["title"] = "carriersim fault plan"
    return schema
