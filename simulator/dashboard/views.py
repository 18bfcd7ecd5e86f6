"""What the dashboard's pages show, read from the control object and the simulation.

Read-only: every change a page offers goes through :class:`simulator.control.Control`,
the same calls the admin API makes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from simulator.control import AdminError, Control
from simulator.dashboard.picture import Mark, status_of, timeline_svg
from simulator.durations import format_duration
from simulator.scenario import Scenario
from simulator.timeline import Shipment

RECENT_PARCELS = 50
"""How many recently tracked default-mix numbers a tenant's page lists beside its own."""


def iso(ts: float | None) -> str:
    """A POSIX instant as ISO 8601 UTC to the second ('' for none)."""
    if ts is None:
        return ""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(slots=True)
class TenantRow:
    """One tenant on the overview."""

    name: str
    now: str
    rate: float
    frozen: bool
    follows_server: bool
    shipments: int
    requests: int
    last_activity: str


@dataclass(slots=True)
class Parcel:
    """One parcel a tenant sees: created through the admin API or tracked from the mix."""

    carrier: str
    number: str
    scenario: str
    created: bool
    status: str
    status_label: str
    visible: int
    events: int
    next_change: str
    next_change_in: str
    picture: str
    rows: list[dict[str, Any]] = field(default_factory=list)


def _label(kind: str, reason: str | None) -> str:
    text = kind.replace("_", " ")
    return f"{text} ({reason})" if reason else text


def parcel(shipment: Shipment, now: float, created: bool, width: int = 520) -> Parcel:
    """A parcel's state at ``now`` and its timeline picture."""
    events = shipment.events
    count = shipment.visible_count(now)
    latest = events[count - 1] if count else None
    upcoming = shipment.next_change(now)
    marks = [
        Mark(
            e.at.timestamp(),
            e.kind,
            _label(e.kind.value, e.reason.value if e.reason else None),
            i < count,
        )
        for i, e in enumerate(events)
    ]
    status = status_of(latest.kind) if latest else "pre_transit"
    rows = [
        {
            "at": iso(e.at.timestamp()),
            "local": e.local.strftime("%Y-%m-%d %H:%M %Z"),
            "kind": _label(e.kind.value, e.reason.value if e.reason else None),
            "status": status_of(e.kind),
            "place": ", ".join(p for p in (e.place.city, e.place.state, e.place.country) if p),
            "visible": i < count,
        }
        for i, e in enumerate(events)
    ]
    return Parcel(
        carrier=shipment.carrier,
        number=shipment.number,
        scenario=shipment.scenario.name,
        created=created,
        status=status if latest else "none",
        status_label=_label(latest.kind.value, latest.reason.value if latest.reason else None)
        if latest
        else "nothing visible yet",
        visible=count,
        events=len(events),
        next_change=iso(upcoming.timestamp()) if upcoming else "",
        next_change_in=format_duration(timedelta(seconds=upcoming.timestamp() - now))
        if upcoming
        else "",
        picture=timeline_svg(
            marks, now, width=width, title=f"{shipment.carrier} {shipment.number}"
        ),
        rows=rows,
    )


async def journal_rows(
    control: Control, tenant: str | None, after: int = 0, **filters: Any
) -> list[dict[str, Any]]:
    """A tenant's journal entries newer than ``after``, newest first, filtered."""
    wanted = {k: v for k, v in filters.items() if v not in (None, "")}
    rows = [e for e in await control.requests(tenant, **wanted) if e["seq"] > after]
    rows.reverse()
    for row in rows:
        row["received_iso"] = iso(row["received"])
    return rows


async def tenants(control: Control) -> list[TenantRow]:
    """Every tenant with state or traffic, busiest first."""
    sim = control.sim
    traffic: dict[str, list[float]] = {}
    for entry in await control.requests(None):
        traffic.setdefault(entry["tenant"] or "", []).append(entry["received"])
    names = set(sim.store.tenants()) | {t for t in traffic if t}
    names |= {f["match"]["tenant"] for f in control.faults() if f.get("match", {}).get("tenant")}
    out = []
    for name in names:
        clock = control.clock(name)
        seen = traffic.get(name, [])
        out.append(
            TenantRow(
                name=name,
                now=clock["now"] or "",
                rate=clock["rate"],
                frozen=clock["frozen"],
                follows_server=clock["follows_server"],
                shipments=len(sim.store.shipments(name)),
                requests=len(seen),
                last_activity=iso(max(seen)) if seen else "",
            )
        )
    out.sort(key=lambda t: (-t.requests, t.name))
    return out


async def parcels(control: Control, tenant: str) -> list[Parcel]:
    """The tenant's created shipments, then the default-mix numbers it tracked lately."""
    sim = control.sim
    now = sim.clock.now(tenant)
    out: list[Parcel] = []
    seen: set[tuple[str, str]] = set()
    for made in sim.store.shipments(tenant):
        found = sim.lookup(made.carrier, made.number, tenant)
        if found is not None:
            out.append(parcel(found, now, created=True))
            seen.add((made.carrier, made.number))
    recent = 0
    for entry in reversed(await control.requests(tenant, endpoint="track")):
        carrier = entry["carrier"]
        for number in entry["numbers"]:
            if recent >= RECENT_PARCELS or (carrier, number) in seen:
                continue
            seen.add((carrier, number))
            found = sim.lookup(carrier, number, tenant)
            if found is not None:
                out.append(parcel(found, now, created=False))
                recent += 1
    return out


def find(control: Control, tenant: str, carrier: str, number: str) -> Shipment | None:
    """The shipment a tenant sees for a number (created or from the catalog)."""
    return control.sim.lookup(carrier, number, tenant)


def scenario_picture(control: Control, scenario: Scenario, width: int = 520) -> str:
    """A scenario's timeline as it plays from the server clock's start, seen now."""
    sim = control.sim
    t0 = sim.clock.start + scenario.start
    now = sim.clock.now("")
    marks = [
        Mark(
            (t0 + e.at).timestamp(),
            e.kind,
            _label(e.kind.value, e.reason.value if e.reason else None),
            (t0 + e.at).timestamp() <= now,
        )
        for e in scenario.events
    ]
    return timeline_svg(marks, now, width=width, title=scenario.name)


def pushes(control: Control, tenant: str) -> list[dict[str, Any]]:
    """The tenant's push subscriptions, each with its latest delivery attempts (newest first)."""
    try:
        subs = control.push.subscriptions(tenant)
        attempts = control.push.deliveries(tenant, limit=1000)
    except AdminError:  # no dispatcher: an app built without create_app's push loop
        return []
    out = []
    for sub in subs:
        mine = [a for a in attempts if a["subscription"] == sub["id"]]
        mine.reverse()
        out.append({**sub, "attempts": mine[:30], "attempt_count": len(mine)})
    return out
