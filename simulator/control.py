"""The control object: everything the admin API, the CLI and the pytest plugin can do.

It is the only implementation of these operations; the HTTP routes under ``/__admin``
(:mod:`simulator.admin`) are one-line adapters over it. Every operation on state takes the
tenant it concerns, so parallel tests in different tenants never see each other.
Mistakes raise :class:`AdminError`, which names the field and the fix.
"""

from __future__ import annotations

import difflib
import random
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from starlette.requests import Request

from simulator import __version__, numbers
from simulator.durations import DurationError, format_duration, parse_duration
from simulator.engine import Simulation
from simulator.faults import Fault
from simulator.journal import Entry, select
from simulator.loader import ScenarioError, load_paths
from simulator.scenario import CARRIERS
from simulator.seeding import seed_int
from simulator.store import CreatedShipment
from simulator.timeline import Event, Shipment


class AdminError(Exception):
    """A request to the control object that cannot be carried out."""

    def __init__(self, status: int, field: str, message: str, fix: str) -> None:
        super().__init__(f"{field}: {message} ({fix})")
        self.status = status
        self.field = field
        self.message = message
        self.fix = fix

    def to_json(self) -> dict[str, Any]:
        """The error as the admin API answers it."""
        return {"error": {"field": self.field, "message": self.message, "fix": self.fix}}


def _iso(ts: float | datetime | None) -> str | None:
    if ts is None:
        return None
    moment = ts if isinstance(ts, datetime) else datetime.fromtimestamp(ts, UTC)
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def duration(field: str, value: Any) -> timedelta:
    """A duration parameter, or an AdminError naming the field."""
    try:
        return parse_duration(value)
    except (DurationError, TypeError):
        raise AdminError(
            400, field, f"{value!r} is not a duration", "write it like '2d', '1d 4h' or '-30m'"
        ) from None


def instant(field: str, value: Any) -> datetime:
    """An ISO 8601 instant parameter, or an AdminError naming the field."""
    if not isinstance(value, str):
        raise AdminError(400, field, f"{value!r} is not an instant", "send an ISO 8601 string")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise AdminError(
            400, field, f"{value!r} is not an ISO 8601 instant", "e.g. '2026-03-01T12:00:00Z'"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


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
        self._serial = 0
        self.reloaded_at: float | None = None
        self.reload_error: str | None = None

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
            404, field, f"no scenario named {name!r}", f"{hint}known: {', '.join(known)}"
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
            ) from None
        self.sim.use_scenarios(scenarios)
        self.reloaded_at = time.time()
        self.reload_error = None
        return {"reloaded": len(scenarios), "names": sorted(s.name for s in scenarios)}

    # ---------------------------------------------------------------- shipments

    def create_shipment(
        self,
        tenant: str,
        carrier: str,
        scenario: str,
        *,
        start: Any = None,
        seed: int | None = None,
        number: str | None = None,
    ) -> dict[str, Any]:
        """Create a shipment of a scenario for a carrier; returns it with a fresh number."""
        if carrier not in CARRIERS:
            raise AdminError(
                400, "carrier", f"unknown carrier {carrier!r}", f"one of {', '.join(CARRIERS)}"
            )
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
        offset = duration("start", start) if start is not None else timedelta(0)
        with self._lock:
            self._serial += 1
            serial = self._serial
        if number is None:
            rng = random.Random(seed_int(self.sim.settings.seed, tenant, carrier, serial, "new"))
            number = self._fresh_number(carrier, rng)
        else:
            number = numbers.normalize(number)
            if not numbers.is_plausible(carrier, number):
                raise AdminError(
                    400,
                    "number",
                    f"{number!r} is not a {carrier.upper()} number",
                    "leave it out to get a fresh valid one",
                )
        variant = seed if seed is not None else seed_int(tenant, carrier, number) % 1024
        t0 = int(self.sim.clock.now(tenant) + offset.total_seconds())
        made = CreatedShipment(carrier, number, scenario, float(t0), variant)
        self.sim.store.add_shipment(tenant, made)
        self.sim.creators.add(tenant)
        if found.faults:
            self.sim.faults.reach(carrier, number)
        return self.shipment(tenant, carrier, number)

    def _fresh_number(self, carrier: str, rng: random.Random) -> str:
        for _ in range(100):
            candidate = numbers.generate(carrier, rng)
            if candidate not in self.sim.catalog.declared[carrier]:
                return candidate
        raise AdminError(500, "number", "could not draw a fresh number", "retry")

    def _made(self, tenant: str, carrier: str, number: str) -> Shipment:
        number = numbers.normalize(number)
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
        return self.sim.catalog.created(carrier, number, made.scenario, made.t0, made.variant)

    def shipments(self, tenant: str) -> list[dict[str, Any]]:
        """The shipments a tenant created."""
        return [
            self.shipment(tenant, m.carrier, m.number) for m in self.sim.store.shipments(tenant)
        ]

    def shipment(self, tenant: str, carrier: str, number: str) -> dict[str, Any]:
        """A shipment's whole timeline, what the tenant sees now, and the next change."""
        shipment = self._made(tenant, carrier, number)
        now = self.sim.clock.now(tenant)
        count = shipment.visible_count(now)
        latest = shipment.events[count - 1] if count else None
        upcoming = shipment.next_change(now)
        return {
            "carrier": carrier,
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

    def delete_shipment(self, tenant: str, carrier: str, number: str) -> None:
        """Forget a shipment the tenant created."""
        if not self.sim.store.delete_shipment(tenant, carrier, numbers.normalize(number)):
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
        self.sim.clock.advance(tenant, duration("by", by))
        return self.clock(tenant)

    def set_clock(self, tenant: str, at: Any) -> dict[str, Any]:
        """Put the tenant's clock at an instant."""
        self.sim.clock.set(tenant, instant("at", at))
        return self.clock(tenant)

    def run(self, tenant: str, rate: Any = 1.0) -> dict[str, Any]:
        """Let the tenant's clock run at a speed factor (1 = real time)."""
        if isinstance(rate, bool) or not isinstance(rate, int | float) or rate < 0:
            raise AdminError(
                400,
                "rate",
                f"{rate!r} is not a speed factor",
                "send a number >= 0, e.g. 60 for a minute per second",
            )
        self.sim.clock.run(tenant, float(rate))
        return self.clock(tenant)

    def reset_clock(self, tenant: str) -> dict[str, Any]:
        """Make the tenant follow the server clock again."""
        self.sim.clock.reset(tenant)
        return self.clock(tenant)

    def advance_to_next(self, tenant: str, carrier: str, number: str) -> dict[str, Any]:
        """Move the tenant's clock to the moment a shipment's next event happens."""
        shipment = self._made(tenant, carrier, number)
        upcoming = shipment.next_change(self.sim.clock.now(tenant))
        if upcoming is None:
            raise AdminError(
                409,
                "number",
                f"{number!r} has no event left",
                "its timeline is complete; inspect it with GET /__admin/shipments",
            )
        self.sim.clock.set(tenant, upcoming)
        return {"clock": self.clock(tenant), "shipment": self.shipment(tenant, carrier, number)}

    # ---------------------------------------------------------------- faults

    def faults(self) -> list[dict[str, Any]]:
        """The faults applied to every request (scenario faults are listed per scenario)."""
        return [f.model_dump(mode="json", by_alias=True) for f in self.sim.faults.plan]

    def add_fault(self, data: Any) -> dict[str, Any]:
        """Add a fault at run time (the same fields as a fault-plan entry)."""
        try:
            fault = Fault.model_validate(data)
        except ValidationError as exc:
            err = exc.errors(include_url=False)[0]
            loc = ".".join(str(p) for p in err["loc"] if p != "fault")
            raise AdminError(
                400,
                loc or "fault",
                str(err["msg"]).removeprefix("Value error, "),
                "see README 'Faults' or scenarios/fault-plan.schema.json",
            ) from None
        self.sim.faults.add(fault)
        return fault.model_dump(mode="json", by_alias=True)

    def clear_faults(self) -> None:
        """Remove every run-time fault and forget fault counters."""
        self.sim.faults.clear()

    # ---------------------------------------------------------------- journal

    async def _entries(self) -> list[Entry]:
        return await self.sim.journal.described(self._describe)

    async def _describe(self, entry: Entry) -> tuple[str, tuple[str, ...]]:
        from simulator.carriers import MODULES

        module = MODULES.get(entry.carrier or "")
        if module is None:
            return entry.header("x-carriersim-tenant") or "", ()
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

        described: tuple[str, tuple[str, ...]] = await module.describe(Request(scope, receive))
        return described

    async def requests(self, tenant: str | None, **filters: Any) -> list[dict[str, Any]]:
        """Requests received, oldest first, filtered; ``tenant=None`` means all tenants."""
        entries = select(await self._entries(), tenant=tenant, **filters)
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
            if self.sim.lookup(e.carrier, number, tenant) is not None:
                continue
            hints.extend(self._number_hints(e.carrier, number, tenant))
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
        from simulator.carriers import MODULES

        known = sorted({r.path for m in MODULES.values() for r in m.routes(self.sim)})
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

    def _number_hints(self, carrier: str, number: str, tenant: str) -> list[str]:
        hints: list[str] = []
        sim = self.sim
        for other in CARRIERS:
            owner = sim.catalog.declared[other].get(number)
            if other != carrier and owner is not None:
                hints.append(
                    f"{number} is declared for {other.upper()} (scenario {owner.name!r}),"
                    f" but was asked of {carrier.upper()}"
                )
        for other_tenant in sim.store.tenants():
            if other_tenant != tenant and sim.store.get_shipment(other_tenant, carrier, number):
                hints.append(
                    f"{number} was created by tenant {other_tenant!r}, but this request "
                    f"came as tenant {tenant!r}; log in with that tenant's credential or "
                    "create the shipment in this tenant"
                )
        made = sim.store.get_shipment(tenant, carrier, number)
        declared = sim.catalog.declared[carrier].get(number)
        if made is not None or declared is not None:
            shipment = sim.lookup(carrier, number, tenant) or (
                sim.catalog.created(carrier, number, made.scenario, made.t0, made.variant)
                if made
                else None
            )
            if shipment is not None and shipment.events:
                first = shipment.events[0].at
                hints.append(
                    f"{number} plays {shipment.scenario.name!r} but its first event is at "
                    f"{_iso(first)}, after tenant {tenant!r}'s clock"
                )
        candidates = [
            *sim.catalog.declared[carrier],
            *(m.number for m in sim.store.shipments(tenant)),
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
        """Drop one tenant's state (clock, shipments, fault counters, journal) or everything."""
        sim = self.sim
        if tenant is not None:
            await self._entries()  # know each entry's tenant before dropping that tenant's
        sim.store.reset(tenant)
        sim.faults.book.reset(tenant)
        if tenant is None:
            sim.journal.clear()
            sim.creators.clear()
            sim.faults.clear()
        else:
            sim.creators.discard(tenant)
            sim.journal.clear(keep=lambda e: e.tenant != tenant)


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
