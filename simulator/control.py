"""The control object: everything the admin API, the CLI and the pytest plugin can do.

It is the only implementation of these operations; the HTTP routes under ``/__admin``
(:mod:`simulator.admin`) are one-line adapters over it. Every operation on state takes the
tenant it concerns, so parallel tests in different tenants never see each other.
Mistakes raise :class:`AdminError`, which names the field and the fix.
"""

from __future__ import annotations

import difflib
import math
import random
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from pydantic import ValidationError
from starlette.requests import Request

from simulator import __version__, numbers
from simulator.durations import DurationError, format_duration, parse_duration
from simulator.engine import Simulation
from simulator.faults import FAULT_KINDS, Fault
from simulator.inputs import MAX_NAME, InputError, echo
from simulator.journal import Entry, loads_json, select
from simulator.loader import ScenarioError, load_paths
from simulator.notifications import messages
from simulator.scenario import CARRIERS
from simulator.seeding import seed_int
from simulator.store import CreatedShipment
from simulator.timeline import Event, Shipment
from simulator.tokens import TokenError, bearer


class AdminError(Exception):
    """A request to the control object that cannot be carried out."""

    def __init__(
        self,
        status: int,
        field: str,
        message: str,
        fix: str,
        problems: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(f"{field}: {message} ({fix})")
        self.status = status
        self.field = field
        self.message = message
        self.fix = fix
        self.problems = problems

    @classmethod
    def of(cls, problem: InputError) -> AdminError:
        """The admin API's error for input :mod:`simulator.inputs` refused."""
        return cls(problem.status, problem.field, problem.message, problem.fix)

    def to_json(self) -> dict[str, Any]:
        """The error as the admin API answers it."""
        error: dict[str, Any] = {"field": self.field, "message": self.message, "fix": self.fix}
        if self.problems is not None:
            error["problems"] = self.problems
        return {"error": error}


# The simulated clock and every instant a request names stay in this range: datetime (and
# so every renderer) cannot go past year 9999, and no carrier predates POSIX time.
_EARLIEST = datetime(1970, 1, 2, tzinfo=UTC).timestamp()
_LATEST = datetime(9000, 1, 1, tzinfo=UTC).timestamp()
_LONGEST = timedelta(days=365_000)


def _in_range(field: str, seconds: float) -> float:
    if not (math.isfinite(seconds) and _EARLIEST <= seconds <= _LATEST):
        raise AdminError(
            400,
            field,
            "that would put the clock outside 1970-01-02 .. 9000-01-01",
            "choose an instant (or a duration from now) inside that range",
        )
    return seconds


def text(field: str, value: Any) -> str:
    """A required string parameter, or an AdminError naming the field."""
    if not isinstance(value, str) or not value:
        raise AdminError(
            400, field, f"{echo(value)} is not a non-empty string", f'send "{field}" as text'
        )
    if len(value) > MAX_NAME:
        raise AdminError(
            400, field, f"{echo(value)} is longer than {MAX_NAME} characters", "send a shorter one"
        )
    return value


def carrier_name(field: str, value: Any) -> str:
    """A carrier name, or an AdminError naming the field and the carriers."""
    if value not in CARRIERS:
        raise AdminError(
            400, field, f"unknown carrier {echo(value)}", f"one of {', '.join(CARRIERS)}"
        )
    return str(value)


def _iso(ts: float | datetime | None) -> str | None:
    if ts is None:
        return None
    moment = ts if isinstance(ts, datetime) else datetime.fromtimestamp(ts, UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def duration(field: str, value: Any) -> timedelta:
    """A duration parameter, or an AdminError naming the field."""
    try:
        parsed = parse_duration(value)
    except (DurationError, TypeError, ValueError, OverflowError):
        raise AdminError(
            400, field, f"{echo(value)} is not a duration", "write it like '2d', '1d 4h' or '-30m'"
        ) from None
    if abs(parsed) > _LONGEST:
        raise AdminError(
            400, field, f"{echo(value)} is longer than 1000 years", "send a shorter duration"
        )
    return parsed


def instant(field: str, value: Any) -> datetime:
    """An ISO 8601 instant parameter, or an AdminError naming the field."""
    if not isinstance(value, str):
        raise AdminError(400, field, f"{echo(value)} is not an instant", "send an ISO 8601 string")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise AdminError(
            400, field, f"{echo(value)} is not an ISO 8601 instant", "e.g. '2026-03-01T12:00:00Z'"
        ) from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    _in_range(field, moment.timestamp())
    return moment


def _event_json(event: Event, visible: bool) -> dict[str, Any]:
    place = event.place
    return {
        "at": _iso(event.at),
        "local": event.local.isoformat(),
        "kind": event.kind.value,
        "reason": event.reason.value if event.reason else None,
        "place": {
            "city": place.city,
            "state": place.state,
            "postal_code": place.postal_code,
            "country": place.country,
        },
        "visible": visible,
    }


class Control:
    """In-process control of a running simulation."""

    def __init__(self, sim: Simulation, app: Any = None) -> None:
        self.sim = sim
        self.app = app
        self.started = time.time()
        self._lock = threading.Lock()
        self._serials: dict[str, int] = {}
        """Per tenant, how many numbers it was given: a tenant's fresh numbers depend only
        on the seed and its own history, never on what other tenants did meanwhile."""
        self._runtime: list[Fault] = []
        """Faults added through :meth:`add_fault` (those a tenant reset may take away)."""
        self._fault_serial = 0
        self.reloaded_at: float | None = None
        self.reload_error: str | None = None
        # Imported here: the push control reuses this module's errors and validators.
        from simulator.push.control import PushControl

        self.push = PushControl(sim)
        """Subscriptions, deliveries, firing and portal-held webhooks."""

    # ---------------------------------------------------------------- health, scenarios

    def health(self) -> dict[str, Any]:
        """Liveness and a summary of what is served."""
        return {
            "status": "ok",
            "version": __version__,
            "carriers": list(CARRIERS),
            "scenarios": len(self.sim.catalog.scenarios),
            "uptime_s": round(time.time() - self.started, 3),
            "clock_start": _iso(self.sim.clock.start),
            "seed": self.sim.settings.seed,
            "default_mix": self.sim.settings.mix is not False,
            "last_reload_error": self.reload_error,
            "push_errors": list(self.sim.push_errors),
        }

    def scenarios(self) -> list[dict[str, Any]]:
        """Every scenario served, in short."""
        return [
            {
                "name": s.name,
                "description": s.description,
                "carriers": list(s.carriers),
                "service": s.service.value,
                "found": s.found,
                "events": len(s.events),
                "span": format_duration(s.span),
                "weight": s.weight,
                "faults": len(s.faults),
                "numbers": {c: list(n) for c, n in s.numbers.items()},
            }
            for s in sorted(self.sim.catalog.scenarios.values(), key=lambda s: s.name)
        ]

    def scenario(self, name: str) -> dict[str, Any]:
        """One scenario, whole."""
        found = self.sim.catalog.scenarios.get(name)
        if found is None:
            raise self._unknown_scenario(name, "name")
        return found.model_dump(mode="json")

    def _unknown_scenario(self, name: str, field: str) -> AdminError:
        known = sorted(self.sim.catalog.scenarios)
        close = difflib.get_close_matches(name, known, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return AdminError(
            404, field, f"no scenario named {echo(name)}", f"{hint}known: {', '.join(known)}"
        )

    def reload(self, paths: Sequence[Path] | None = None) -> dict[str, Any]:
        """Load the scenario files again; on any problem keep serving the last good ones."""
        chosen = tuple(paths) if paths else self.sim.settings.scenario_paths
        try:
            scenarios = load_paths(chosen)
        except ScenarioError as exc:
            self.reload_error = str(exc)
            raise AdminError(
                422,
                "scenarios",
                f"the scenario files have problems; still serving the last good version:\n{exc}",
                "fix the files (see file:line above) and reload again",
                problems=[
                    {"file": p.file, "line": p.line, "field": p.field, "message": p.message}
                    for p in exc.problems
                ],
            ) from None
        self.sim.use_scenarios(scenarios)
        self.reloaded_at = time.time()
        self.reload_error = None
        return {"reloaded": len(scenarios), "names": sorted(s.name for s in scenarios)}

    # ---------------------------------------------------------------- shipments

    def create_shipment(
        self,
        tenant: str,
        carrier: Any,
        scenario: Any,
        *,
        start: Any = None,
        seed: Any = None,
        number: Any = None,
    ) -> dict[str, Any]:
        """Create a shipment of a scenario for a carrier; returns it with a fresh number."""
        carrier = carrier_name("carrier", carrier)
        scenario = text("scenario", scenario)
        found = self.sim.catalog.scenarios.get(scenario)
        if found is None:
            raise self._unknown_scenario(scenario, "scenario")
        if carrier not in found.carriers:
            raise AdminError(
                400,
                "carrier",
                f"scenario {scenario!r} does not run on {carrier}",
                f"pick one of {', '.join(found.carriers)}",
            )
        if not found.found:
            raise AdminError(
                400,
                "scenario",
                f"scenario {scenario!r} is a not-found scenario",
                "track any unknown number instead; it needs no shipment",
            )
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise AdminError(
                400,
                "seed",
                f"{echo(seed)} is not an integer",
                "send a whole number, or leave it out",
            )
        offset = duration("start", start) if start is not None else timedelta(0)
        t0 = int(_in_range("start", self.sim.clock.now(tenant) + offset.total_seconds()))
        if number is None:
            number = self._fresh_number(tenant, carrier)
        else:
            number = numbers.normalize(text("number", number))
            wrong = numbers.explain(carrier, number)
            if wrong is not None:
                raise AdminError(
                    400,
                    "number",
                    wrong.problem,
                    f"{wrong.fix}; or leave 'number' out to get a fresh valid one",
                )
            if self.sim.store.get_shipment(tenant, carrier, number) is not None:
                raise AdminError(
                    409,
                    "number",
                    f"tenant {tenant!r} already has a {carrier} shipment {number!r}",
                    f"delete it first (DELETE /__admin/shipments/{carrier}/{number}) "
                    "or leave the number out to get a fresh one",
                )
        variant = seed if seed is not None else seed_int(tenant, carrier, number) % 1024
        made = CreatedShipment(carrier, number, scenario, float(t0), variant)
        self.sim.store.add_shipment(tenant, made)
        self.sim.touch()
        self.sim.creators.add(tenant)
        if found.faults:
            self.sim.faults.reach(carrier, number)
        return self.shipment(tenant, carrier, number)

    def _fresh_number(self, tenant: str, carrier: str) -> str:
        declared = self.sim.catalog.declared[carrier]
        with self._lock:
            for _ in range(100):
                serial = self._serials.get(tenant, 0) + 1
                self._serials[tenant] = serial
                rng = random.Random(
                    seed_int(self.sim.settings.seed, tenant, carrier, serial, "new")
                )
                candidate = numbers.generate(carrier, rng)
                if (
                    candidate not in declared
                    and self.sim.store.get_shipment(tenant, carrier, candidate) is None
                ):
                    return candidate
        raise AdminError(500, "number", "could not draw a fresh number", "retry")

    def _made(self, tenant: str, carrier: Any, number: Any) -> Shipment:
        carrier = carrier_name("carrier", carrier)
        number = numbers.normalize(text("number", number))
        made = self.sim.store.get_shipment(tenant, carrier, number)
        if made is None:
            shipment = self.sim.catalog.lookup(carrier, number)
            if shipment is None:
                raise AdminError(
                    404,
                    "number",
                    f"tenant {tenant!r} has no {carrier} shipment {number!r}",
                    "create one with POST /__admin/shipments",
                )
            return shipment
        if made.scenario not in self.sim.catalog.scenarios:
            raise AdminError(
                409,
                "scenario",
                f"{carrier} shipment {number!r} plays scenario {made.scenario!r}, which the "
                "scenario files no longer define",
                "restore the scenario and reload, or delete the shipment",
            )
        return self.sim.catalog.created(carrier, number, made.scenario, made.t0, made.variant)

    def notifications(self, tenant: str) -> list[dict[str, Any]]:
        """The tenant's carrier-side notification sign-ups, each with what the carrier would
        have sent by the tenant's clock."""
        now = self.sim.clock.now(tenant)
        out = []
        for sub in self.sim.store.subscriptions(tenant):
            shipment = self.sim.lookup(sub.carrier, sub.number, tenant)
            sent = messages(sub, shipment, now) if shipment is not None else []
            out.append(
                {
                    "carrier": sub.carrier,
                    "number": sub.number,
                    "recipients": list(sub.recipients),
                    "event_types": list(sub.event_types),
                    "requested_at": _iso(sub.requested_at),
                    "letter": sub.letter,
                    "sender": sub.sender,
                    "messages": [m.to_json() for m in sent],
                }
            )
        return out

    def shipments(self, tenant: str) -> list[dict[str, Any]]:
        """The shipments a tenant created."""
        out = []
        for m in self.sim.store.shipments(tenant):
            try:
                out.append(self.shipment(tenant, m.carrier, m.number))
            except AdminError as exc:
                # One shipment whose scenario a reload removed must not hide the others.
                out.append(
                    {
                        "carrier": m.carrier,
                        "number": m.number,
                        "scenario": m.scenario,
                        "start": _iso(m.t0),
                        "now": _iso(self.sim.clock.now(tenant)),
                        "visible": 0,
                        "status": None,
                        "next_change": None,
                        "next_change_in": None,
                        "events": [],
                        "problem": exc.message,
                    }
                )
        return out

    def shipment(self, tenant: str, carrier: Any, number: Any) -> dict[str, Any]:
        """A shipment's whole timeline, what the tenant sees now, and the next change."""
        shipment = self._made(tenant, carrier, number)
        now = self.sim.clock.now(tenant)
        count = shipment.visible_count(now)
        latest = shipment.events[count - 1] if count else None
        upcoming = shipment.next_change(now)
        return {
            "carrier": shipment.carrier,
            "number": shipment.number,
            "scenario": shipment.scenario.name,
            "start": _iso(shipment.t0),
            "now": _iso(now),
            "visible": count,
            "status": latest.kind.value if latest else None,
            "next_change": _iso(upcoming),
            "next_change_in": format_duration(timedelta(seconds=upcoming.timestamp() - now))
            if upcoming
            else None,
            "events": [_event_json(e, i < count) for i, e in enumerate(shipment.events)],
        }

    def delete_shipment(self, tenant: str, carrier: Any, number: Any) -> None:
        """Forget a shipment the tenant created."""
        carrier = carrier_name("carrier", carrier)
        number = numbers.normalize(text("number", number))
        self.sim.touch()
        if not self.sim.store.delete_shipment(tenant, carrier, number):
            raise AdminError(
                404,
                "number",
                f"tenant {tenant!r} created no {carrier} shipment {number!r}",
                "list them with GET /__admin/shipments",
            )

    # ---------------------------------------------------------------- clock

    def clock(self, tenant: str) -> dict[str, Any]:
        """The tenant's clock."""
        state = self.sim.store.get_clock(tenant)
        rate = 1.0 if state is None else state.rate
        return {
            "tenant": tenant,
            "now": _iso(self.sim.clock.now(tenant)),
            "frozen": rate == 0,
            "rate": rate,
            "follows_server": state is None,
            "server_start": _iso(self.sim.clock.start),
        }

    def freeze(self, tenant: str, at: Any = None) -> dict[str, Any]:
        """Stop the tenant's clock (at an instant, or where it is)."""
        self.sim.clock.freeze(tenant, instant("at", at) if at is not None else None)
        return self.clock(tenant)

    def advance(self, tenant: str, by: Any) -> dict[str, Any]:
        """Move the tenant's clock by a duration."""
        delta = duration("by", by)
        _in_range("by", self.sim.clock.now(tenant) + delta.total_seconds())
        self.sim.clock.advance(tenant, delta)
        return self.clock(tenant)

    def set_clock(self, tenant: str, at: Any) -> dict[str, Any]:
        """Put the tenant's clock at an instant."""
        self.sim.clock.set(tenant, instant("at", at))
        return self.clock(tenant)

    def run(self, tenant: str, rate: Any = 1.0) -> dict[str, Any]:
        """Let the tenant's clock run at a speed factor (1 = real time)."""
        if (
            isinstance(rate, bool)
            or not isinstance(rate, int | float)
            or not (0 <= rate <= _FASTEST)
        ):
            raise AdminError(
                400,
                "rate",
                f"{echo(rate)} is not a speed factor",
                f"send a number from 0 to {_FASTEST:g}, e.g. 60 for a minute per second",
            )
        self.sim.clock.run(tenant, float(rate))
        return self.clock(tenant)

    def reset_clock(self, tenant: str) -> dict[str, Any]:
        """Make the tenant follow the server clock again."""
        self.sim.clock.reset(tenant)
        return self.clock(tenant)

    def advance_to_next(self, tenant: str, carrier: Any, number: Any) -> dict[str, Any]:
        """Move the tenant's clock to the moment a shipment's next event happens."""
        shipment = self._made(tenant, carrier, number)
        upcoming = shipment.next_change(self.sim.clock.now(tenant))
        if upcoming is None:
            raise AdminError(
                409,
                "number",
                f"{shipment.number!r} has no event left",
                "its timeline is complete; inspect it with GET /__admin/shipments",
            )
        self.sim.clock.set(tenant, upcoming)
        return {
            "clock": self.clock(tenant),
            "shipment": self.shipment(tenant, shipment.carrier, shipment.number),
        }

    # ---------------------------------------------------------------- faults

    def faults(self, tenant: str | None = None) -> list[dict[str, Any]]:
        """The faults applied to every request (scenario faults are listed per scenario);
        with a tenant, only those that can meet its requests."""
        return [
            f.model_dump(mode="json", by_alias=True)
            for f in self.sim.faults.plan
            if tenant is None or f.match.tenant in (None, tenant)
        ]

    def add_fault(self, data: Any, tenant: str | None = None) -> dict[str, Any]:
        """Add a fault at run time (the same fields as a fault-plan entry). Named by a
        tenant, the fault matches only that tenant's requests."""
        if not isinstance(data, dict):
            raise AdminError(400, "body", "a fault is a JSON object", 'send {"kind": ...}')
        if "kind" not in data and "fault" not in data:
            raise AdminError(400, "kind", "required field is missing", f"one of {_KINDS}")
        if tenant is not None:
            match = data.get("match") or {}
            if not isinstance(match, dict):
                raise AdminError(
                    400, "match", f"{echo(match)} is not an object", 'send {"carrier": "ups", ...}'
                )
            if match.get("tenant") not in (None, tenant):
                raise AdminError(
                    400,
                    "match.tenant",
                    f"names tenant {echo(match['tenant'])}, but the request came as tenant "
                    f"{tenant!r}",
                    "leave match.tenant out (it defaults to the requesting tenant), or add "
                    "the fault without naming a tenant",
                )
            data = {**data, "match": {**match, "tenant": tenant}}
        try:
            fault = Fault.model_validate(data)
        except ValidationError as exc:
            err = exc.errors(include_url=False)[0]
            raise AdminError(
                400,
                _fault_field(err, data),
                str(err["msg"]).removeprefix("Value error, "),
                "see README 'Faults' or scenarios/fault-plan.schema.json",
            ) from None
        with self._lock:
            self._fault_serial += 1
            serial = self._fault_serial
        if fault.name is None:
            # A unique name keeps every other fault's identity (and counters) stable when
            # this one is removed again.
            fault = fault.model_copy(update={"name": f"runtime#{serial}:{fault.fault.kind}"})
        self.sim.faults.add(fault)
        self._runtime.append(fault)
        return fault.model_dump(mode="json", by_alias=True)

    def clear_faults(self, tenant: str | None = None) -> None:
        """Remove every global fault and forget fault counters; with a tenant, only the
        run-time faults that match that tenant alone, and its counters."""
        if tenant is None:
            self.sim.faults.clear()
            self._runtime.clear()
        else:
            self._drop_faults(tenant)
            self.sim.faults.book.reset(tenant)

    def _drop_faults(self, tenant: str) -> None:
        doomed = [f for f in self._runtime if f.match.tenant == tenant]
        if not doomed:
            return
        # Only run-time faults go, each uniquely named, so no remaining fault changes identity.
        self.sim.faults.remove(lambda f: any(f is d for d in doomed))
        self._runtime = [f for f in self._runtime if not any(f is d for d in doomed)]

    # ---------------------------------------------------------------- journal

    async def _entries(self) -> list[Entry]:
        return await self.sim.journal.described(self._describe)

    async def _describe(self, entry: Entry) -> tuple[str, tuple[str, ...]]:
        from simulator.carriers import CARRIERS

        carrier = CARRIERS.get(entry.carrier or "")
        if carrier is None:
            return self._tenant_of_stray(entry), ()
        scope = {
            "type": "http",
            "method": entry.method,
            "path": entry.path,
            "raw_path": entry.path.encode(),
            "query_string": entry.query,
            "headers": entry.headers,
            "path_params": entry.path_params,
            "app": self.app,
            "root_path": "",
        }
        body = entry.body

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        return await carrier.describe(Request(scope, receive))

    def _tenant_of_stray(self, entry: Entry) -> str:
        """The tenant a request to no carrier path meant to be, from whatever credential it
        carries: so that a tenant's unmatched requests (the UPS ``/api`` token trap above
        all) show up under that tenant."""
        from simulator.carriers.common import basic_credentials

        named = entry.header("x-carriersim-tenant") or entry.header("dhl-api-key")
        if named:
            return named
        authorization = entry.header("authorization")
        basic = basic_credentials(authorization)
        if basic is not None:
            return basic[0]
        token = bearer(authorization)
        if token:
            try:
                return self.sim.tokens.decode(token, "").tenant
            except TokenError as exc:  # always: no token is for carrier ""
                if exc.claims is not None:
                    return exc.claims.tenant
        fields: Any = loads_json(entry.body)
        if not isinstance(fields, dict):
            fields = dict(parse_qsl(entry.body.decode("utf-8", "replace")))
        client_id = fields.get("client_id")
        return client_id if isinstance(client_id, str) else ""

    async def requests(self, tenant: str | None, **filters: Any) -> list[dict[str, Any]]:
        """Requests received, oldest first, filtered; ``tenant=None`` means all tenants."""
        entries = select(await self._entries(), tenant=tenant, **_normalized(filters))
        return [e.to_json() for e in entries]

    async def unmatched(self, tenant: str | None) -> list[dict[str, Any]]:
        """Requests that found nothing (unknown path, unknown number, refused), each with
        hints on what it almost matched and why it did not."""
        out = []
        for e in select(await self._entries(), tenant=tenant):
            hints = self.near_misses(e)
            if hints:
                item = e.to_json()
                item["hints"] = hints
                out.append(item)
        return out

    def near_misses(self, e: Entry) -> list[str]:
        """Why a request matched nothing, and what it almost matched."""
        if e.carrier is None:
            return self._path_hints(e.path)
        hints: list[str] = []
        tenant = e.tenant or ""
        for number in e.numbers:
            try:
                seen = self.sim.lookup(e.carrier, number, tenant)
            except KeyError:  # a created shipment whose scenario a reload removed
                seen = None
            try:
                if seen is None:
                    hints.extend(self._number_hints(e.carrier, number, tenant))
                else:
                    hints.extend(self._found_hints(e.carrier, number, tenant, seen))
            except Exception:  # a hint must never make the journal unreadable
                continue
        if not hints and e.status == 401:
            hints.append(
                f"{e.carrier.upper()} refused the credentials or token: tokens are bound to the "
                "carrier and credential that got them and expire on the tenant's clock "
                f"(tenant {tenant!r} now {_iso(self.sim.clock.now(tenant))})"
            )
        return hints

    def near_misses_for_path(self, path: str) -> list[str]:
        """What an unknown path almost matched."""
        return self._path_hints(path)

    def _path_hints(self, path: str) -> list[str]:
        from simulator.carriers import CARRIERS

        known = sorted({r.path for c in CARRIERS.values() for r in c.routes(self.sim)})
        stripped = path.removeprefix("/api") if path.startswith("/api/security") else path
        if stripped != path and stripped in known:
            return [
                f"no endpoint at {path}: the UPS token path is {stripped}, at the host root, "
                "not under /api (a known trap of the UPS docs)"
            ]
        close = difflib.get_close_matches(path, known, n=2, cutoff=0.6)
        if close:
            return [f"no endpoint at {path}; did you mean {' or '.join(close)}?"]
        return [f"no endpoint at {path}; carrier paths: {', '.join(known)}"]

    def _found_hints(self, carrier: str, number: str, tenant: str, seen: Shipment) -> list[str]:
        """Hints for a number that plays something, but maybe not what the test meant."""
        sim = self.sim
        hints: list[str] = []
        now = sim.clock.now(tenant)
        if seen.events and seen.visible_count(now) == 0:
            hints.append(
                f"{number} plays {seen.scenario.name!r} but its first event is at "
                f"{_iso(seen.events[0].at)}, after tenant {tenant!r}'s clock ({_iso(now)}), "
                "so the carrier answers not found; advance the clock "
                f"(POST /__admin/shipments/{carrier}/{number}/next)"
            )
        own = sim.store.get_shipment(tenant, carrier, number) is not None
        if not own and number not in sim.catalog.declared[carrier]:
            for other in self._creators_of(carrier, number, tenant):
                hints.append(
                    f"{number} was created by tenant {other!r}, but this request came as "
                    f"tenant {tenant!r} and got the default mix's {seen.scenario.name!r} "
                    "instead; log in with that tenant's credential or create the shipment "
                    "in this tenant"
                )
        return hints

    def _creators_of(self, carrier: str, number: str, tenant: str) -> list[str]:
        store = self.sim.store
        return [
            t for t in store.tenants() if t != tenant and store.get_shipment(t, carrier, number)
        ]

    def _number_hints(self, carrier: str, number: str, tenant: str) -> list[str]:
        hints: list[str] = []
        sim = self.sim
        for other in CARRIERS:
            if other == carrier:
                continue
            owner = sim.catalog.declared[other].get(number)
            if owner is not None:
                hints.append(
                    f"{number} is declared for {other.upper()} (scenario {owner.name!r}),"
                    f" but was asked of {carrier.upper()}"
                )
            if sim.store.get_shipment(tenant, other, number) is not None:
                hints.append(
                    f"{number} was created by tenant {tenant!r} as a {other.upper()} shipment, "
                    f"but was asked of {carrier.upper()}"
                )
        for other_tenant in self._creators_of(carrier, number, tenant):
            hints.append(
                f"{number} was created by tenant {other_tenant!r}, but this request "
                f"came as tenant {tenant!r}; log in with that tenant's credential or "
                "create the shipment in this tenant"
            )
        made = sim.store.get_shipment(tenant, carrier, number)
        declared = sim.catalog.declared[carrier].get(number)
        if made is not None and made.scenario not in sim.catalog.scenarios:
            hints.append(
                f"{number} plays scenario {made.scenario!r}, which the scenario files no "
                "longer define; restore it and reload"
            )
        candidates = [
            *sim.catalog.declared[carrier],
            *(m.number for m in sim.store.shipments(tenant) if m.carrier == carrier),
        ]
        close = [c for c in candidates if _one_edit(number, c)]
        if close:
            hints.append(
                f"{number} is one character away from {close[0]} ({carrier.upper()}): a typo?"
            )
        if not numbers.is_valid(carrier, number):
            hints.append(
                f"{number} is not a valid {carrier.upper()} number (format or check "
                f"digit); `carriersim numbers {carrier}` prints valid ones"
            )
        elif sim.settings.mix is False and declared is None and made is None:
            hints.append(
                f"{number} is valid but the default mix is off (--no-mix) and no "
                "scenario declares it"
            )
        return hints

    async def verify(
        self,
        tenant: str | None,
        *,
        at_least: int = 1,
        at_most: int | None = None,
        **filters: Any,
    ) -> dict[str, Any]:
        """Whether matching requests were received at least / at most so many times."""
        if at_least < 0:
            raise AdminError(400, "at_least", f"{at_least} is negative", "send 0 or more")
        if at_most is not None and at_most < at_least:
            raise AdminError(
                400,
                "at_most",
                f"{at_most} is below at_least ({at_least}); no count can satisfy both",
                "raise at_most or lower at_least",
            )
        filters = _normalized(filters)
        count = len(select(await self._entries(), tenant=tenant, **filters))
        ok = count >= at_least and (at_most is None or count <= at_most)
        wanted = f"at least {at_least}" + (f" and at most {at_most}" if at_most is not None else "")
        what = ", ".join(f"{k}={v}" for k, v in filters.items() if v is not None) or "any request"
        return {
            "ok": ok,
            "count": count,
            "message": f"{what} (tenant {tenant!r}) was received {count} time(s); "
            f"expected {wanted}",
        }

    # ---------------------------------------------------------------- reset

    async def reset(self, tenant: str | None = None) -> None:
        """Drop one tenant's state (clock, shipments, its run-time faults and fault
        counters, journal) or everything."""
        sim = self.sim
        if tenant is not None:
            await self._entries()  # know each entry's tenant before dropping that tenant's
        sim.store.reset(tenant)
        sim.push.reset(tenant)
        sim.touch()
        sim.faults.book.reset(tenant)
        with self._lock:
            if tenant is None:
                self._serials.clear()
            else:
                self._serials.pop(tenant, None)
        if tenant is None:
            sim.journal.clear()
            sim.creators.clear()
            sim.faults.clear()
            self._runtime.clear()
        else:
            self._drop_faults(tenant)
            sim.creators.discard(tenant)
            sim.journal.clear(keep=lambda e: e.tenant != tenant)


_KINDS = ", ".join(FAULT_KINDS)
_FASTEST = 1_000_000.0
"""The fastest a clock may run: a million times real time (11.6 days a second)."""


def _fault_field(err: Any, data: dict[str, Any]) -> str:
    """The field a fault validation error concerns, as the author wrote it (flat)."""
    loc = [str(p) for p in err["loc"]]
    if loc[:1] == ["fault"]:
        loc = loc[1:]
        if loc[:1] == [str(data.get("kind"))]:
            loc = loc[1:]
    if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
        return "kind"
    return ".".join(loc) or "fault"


def _normalized(filters: dict[str, Any]) -> dict[str, Any]:
    """Journal filters with the number as the journal keeps it (normalized)."""
    number = filters.get("number")
    if isinstance(number, str):
        return {**filters, "number": numbers.normalize(number)}
    return filters


def _one_edit(a: str, b: str) -> bool:
    """Whether two strings differ by one substitution or one adjacent transposition."""
    if a == b or len(a) != len(b):
        return False
    diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]
    if len(diff) == 1:
        return True
    return (
        len(diff) == 2
        and diff[1] == diff[0] + 1
        and a[diff[0]] == b[diff[1]]
        and a[diff[1]] == b[diff[0]]
    )
