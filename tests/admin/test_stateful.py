"""A property-based stateful test of the admin API.

Rules create and delete shipments, move tenants' clocks (advance, set, freeze, jump to a
shipment's next event), track through the carriers as each tenant, and reset tenants, in
any order, for three tenants. A model keeps each tenant's clock (always frozen, so "now" is
known exactly) and the instants of its shipments' events, computed from the scenario
alone. After every step, for every tenant:

* no event before its time: the carrier and the admin API show no event after its now;
* no event lost after it: they show every event at or before its now;
* tenants are independent: each sees exactly its own clock and shipments, and another
  tenant's shipment is not found.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from starlette.testclient import TestClient

from simulator.durations import parse_duration
from simulator.scenario import CARRIERS
from tests.admin.conftest import AdminFactory
from tests.admin.helpers import assert_shows_visible, events_shown, track
from tests.conftest import EPOCH

A = "/__admin"
TENANTS = ("alpha", "beta", "gamma")
SCENARIOS = ("delivered-on-time", "lost-in-transit", "customs-hold-released", "out-for-delivery")


class Parcel:
    """What the model knows of one shipment: its events' instants and local times."""

    def __init__(self, carrier: str, number: str, at: list[datetime], local: list[str]) -> None:
        self.carrier = carrier
        self.number = number
        self.at = at
        self.local = local

    def as_admin_shows(self, now: datetime) -> dict[str, Any]:
        """The shipment as the admin API should show it at ``now`` (for the comparisons)."""
        return {
            "carrier": self.carrier,
            "number": self.number,
            "now": now.isoformat(),
            "events": [
                {"local": local, "visible": at <= now}
                for at, local in zip(self.at, self.local, strict=True)
            ],
        }


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


class AdminMachine(RuleBasedStateMachine):
    """Drives one simulator's admin API; see the module docstring."""

    client: TestClient
    offsets: dict[str, list[timedelta]]

    def __init__(self) -> None:
        super().__init__()
        self.now: dict[str, datetime] = {}
        self.parcels: dict[str, list[Parcel]] = {t: [] for t in TENANTS}

    def call(self, method: str, path: str, tenant: str | None = None, **body: Any) -> Any:
        params = {"tenant": tenant} if tenant else {}
        r = self.client.request(method, A + path, params=params, json=body or None)
        assert r.status_code < 300, f"{method} {path}: {r.status_code} {r.text}"
        return r.json() if r.content else None

    @initialize()
    def start_clean(self) -> None:
        self.call("POST", "/reset")
        for i, tenant in enumerate(TENANTS):
            self.freeze_at(tenant, EPOCH + timedelta(hours=7 * i))

    def freeze_at(self, tenant: str, at: datetime) -> None:
        got = self.call("POST", "/clock/freeze", tenant, at=at.isoformat())
        assert _instant(got["now"]) == at
        self.now[tenant] = at

    # ------------------------------------------------------------------ shipments

    @rule(
        tenant=st.sampled_from(TENANTS),
        carrier=st.sampled_from(CARRIERS),
        scenario=st.sampled_from(SCENARIOS),
        start_minutes=st.integers(min_value=-5 * 24 * 60, max_value=24 * 60),
    )
    def create(self, tenant: str, carrier: str, scenario: str, start_minutes: int) -> None:
        made = self.call(
            "POST",
            "/shipments",
            tenant,
            carrier=carrier,
            scenario=scenario,
            start=f"{start_minutes}m",
        )
        start = self.now[tenant] + timedelta(minutes=start_minutes)
        assert _instant(made["start"]) == start
        at = [start + offset for offset in self.offsets[scenario]]
        assert [_instant(e["at"]) for e in made["events"]] == at
        assert all(p.number != made["number"] for ps in self.parcels.values() for p in ps)
        self.parcels[tenant].append(
            Parcel(carrier, made["number"], at, [e["local"] for e in made["events"]])
        )

    @precondition(lambda self: any(self.parcels.values()))
    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        tenant, parcel = data.draw(self._owned())
        self.call("DELETE", f"/shipments/{parcel.carrier}/{parcel.number}", tenant)
        self.parcels[tenant].remove(parcel)

    def _owned(self) -> st.SearchStrategy[tuple[str, Parcel]]:
        return st.sampled_from([(t, p) for t, ps in self.parcels.items() for p in ps])

    # ------------------------------------------------------------------ clocks

    @rule(tenant=st.sampled_from(TENANTS), minutes=st.integers(-3 * 24 * 60, 6 * 24 * 60))
    def advance(self, tenant: str, minutes: int) -> None:
        got = self.call("POST", "/clock/advance", tenant, by=f"{minutes}m")
        self.now[tenant] += timedelta(minutes=minutes)
        assert _instant(got["now"]) == self.now[tenant]

    @rule(tenant=st.sampled_from(TENANTS), hours=st.integers(-5 * 24, 20 * 24))
    def set_clock(self, tenant: str, hours: int) -> None:
        at = EPOCH + timedelta(hours=hours)
        got = self.call("POST", "/clock/set", tenant, at=at.isoformat())
        self.now[tenant] = at
        assert _instant(got["now"]) == at and got["frozen"] is True

    @rule(tenant=st.sampled_from(TENANTS))
    def freeze(self, tenant: str) -> None:
        got = self.call("POST", "/clock/freeze", tenant)
        assert _instant(got["now"]) == self.now[tenant]

    @precondition(lambda self: any(self.parcels.values()))
    @rule(data=st.data())
    def next_event(self, data: st.DataObject) -> None:
        tenant, parcel = data.draw(self._owned())
        later = [at for at in parcel.at if at > self.now[tenant]]
        r = self.client.post(
            f"{A}/shipments/{parcel.carrier}/{parcel.number}/next", params={"tenant": tenant}
        )
        if not later:
            assert r.status_code == 409, r.text
            return
        assert r.status_code == 200, r.text
        self.now[tenant] = later[0]
        assert _instant(r.json()["clock"]["now"]) == later[0]

    @precondition(lambda self: any(self.parcels.values()))
    @rule(data=st.data(), seconds=st.sampled_from([1, 59, 60, 3600]))
    def approach_next_event(self, data: st.DataObject, seconds: int) -> None:
        """Stop just short of a shipment's next event: the edge where an event that shows
        early would be caught."""
        tenant, parcel = data.draw(self._owned())
        later = [at for at in parcel.at if at > self.now[tenant]]
        if later:
            at = later[0] - timedelta(seconds=seconds)
            got = self.call("POST", "/clock/set", tenant, at=at.isoformat())
            self.now[tenant] = at
            assert _instant(got["now"]) == at

    # ------------------------------------------------------------------ tracking

    @precondition(lambda self: any(self.parcels.values()))
    @rule(data=st.data())
    def track_own(self, data: st.DataObject) -> None:
        tenant, parcel = data.draw(self._owned())
        outcome = track(self.client.app, parcel.carrier, parcel.number, tenant)
        assert_shows_visible(outcome, parcel.as_admin_shows(self.now[tenant]))

    @precondition(lambda self: sum(bool(ps) for ps in self.parcels.values()) >= 1)
    @rule(data=st.data(), stranger=st.sampled_from(TENANTS))
    def track_foreign(self, data: st.DataObject, stranger: str) -> None:
        owner, parcel = data.draw(self._owned())
        if owner == stranger:
            return
        assert events_shown(track(self.client.app, parcel.carrier, parcel.number, stranger)) == []

    # ------------------------------------------------------------------ reset

    @rule(tenant=st.sampled_from(TENANTS), hours=st.integers(0, 10 * 24))
    def reset_tenant(self, tenant: str, hours: int) -> None:
        self.call("POST", "/reset", tenant)
        clock = self.call("GET", "/clock", tenant)
        assert clock["follows_server"] is True
        assert self.call("GET", "/shipments", tenant) == []
        self.parcels[tenant] = []
        self.freeze_at(tenant, EPOCH + timedelta(hours=hours))

    # ------------------------------------------------------------------ invariants

    @invariant()
    def each_tenant_sees_exactly_its_own_state(self) -> None:
        if not self.now:  # before initialize
            return
        for tenant in TENANTS:
            now = self.now[tenant]
            clock = self.call("GET", "/clock", tenant)
            assert _instant(clock["now"]) == now and clock["frozen"] is True
            listed = self.call("GET", "/shipments", tenant)
            assert [(s["carrier"], s["number"]) for s in listed] == [
                (p.carrier, p.number) for p in self.parcels[tenant]
            ]
            for shown, parcel in zip(listed, self.parcels[tenant], strict=True):
                due = [at <= now for at in parcel.at]
                assert [e["visible"] for e in shown["events"]] == due
                assert shown["visible"] == sum(due)
                upcoming = [at for at in parcel.at if at > now]
                expected = upcoming[0].isoformat().replace("+00:00", "Z") if upcoming else None
                assert shown["next_change"] == expected


def test_admin_api_state_machine(admin: AdminFactory) -> None:
    _, client = admin(mix=False)
    profile = settings.default
    assert profile is not None
    offsets = {
        name: [
            parse_duration(e["at"]) for e in client.get(f"{A}/scenarios/{name}").json()["events"]
        ]
        for name in SCENARIOS
    }

    class Machine(AdminMachine):
        pass

    Machine.client = client
    Machine.offsets = offsets
    run_state_machine_as_test(
        Machine,
        settings=settings(
            profile,
            max_examples=max(10, profile.max_examples // 2),
            stateful_step_count=20,
            deadline=None,
        ),
    )
