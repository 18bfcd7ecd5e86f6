"""Each tenant's clock through the admin API: read, freeze, advance, set, run, reset, and
advance to a shipment's next event."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.admin.conftest import AdminFactory
from tests.admin.helpers import events_shown, track
from tests.conftest import EPOCH

A = "/__admin"


def clock(c: TestClient, tenant: str = "t1", action: str = "", **body: Any) -> Any:
    path = f"{A}/clock/{action}" if action else f"{A}/clock"
    r = (
        c.post(path, params={"tenant": tenant}, json=body)
        if action
        else c.get(path, params={"tenant": tenant})
    )
    assert r.status_code == 200, r.text
    return r.json()


def now(state: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(state["now"])


def test_a_new_tenant_follows_the_server_clock(admin: AdminFactory) -> None:
    _, c = admin()
    state = clock(c)
    assert state["tenant"] == "t1"
    assert state["follows_server"] is True and state["frozen"] is False and state["rate"] == 1
    assert state["server_start"] == "2026-03-02T15:00:00Z"
    assert timedelta(0) <= now(state) - EPOCH < timedelta(seconds=30)


def test_freeze_stops_the_clock_where_it_is_or_at_an_instant(admin: AdminFactory) -> None:
    _, c = admin()
    frozen = clock(c, action="freeze")
    assert frozen["frozen"] is True and frozen["rate"] == 0 and frozen["follows_server"] is False
    time.sleep(0.01)
    assert clock(c)["now"] == frozen["now"]
    assert (
        clock(c, action="freeze", at="2026-04-01T08:30:00+02:00")["now"] == "2026-04-01T06:30:00Z"
    )
    assert clock(c, action="freeze", at="2026-04-01T08:30:00")["now"] == "2026-04-01T08:30:00Z"


def test_advance_moves_by_a_duration_and_keeps_the_rate(admin: AdminFactory) -> None:
    _, c = admin()
    clock(c, action="freeze", at=EPOCH.isoformat())
    assert now(clock(c, action="advance", by="1d 4h")) == EPOCH + timedelta(hours=28)
    assert now(clock(c, action="advance", by="-30m")) == EPOCH + timedelta(hours=27, minutes=30)
    assert now(clock(c, action="advance", by=1.5)) == EPOCH + timedelta(hours=29)  # hours
    assert clock(c)["frozen"] is True


def test_set_puts_the_clock_at_an_instant_and_keeps_the_rate(admin: AdminFactory) -> None:
    _, c = admin()
    clock(c, action="freeze")
    assert clock(c, action="set", at="2026-03-10T00:00:00Z")["now"] == "2026-03-10T00:00:00Z"
    assert clock(c)["frozen"] is True
    clock(c, action="reset")
    running = clock(c, action="set", at="2026-03-10T00:00:00Z")
    assert running["rate"] == 1 and running["frozen"] is False


def test_run_at_a_speed_factor(admin: AdminFactory) -> None:
    _, c = admin()
    clock(c, action="freeze", at=EPOCH.isoformat())
    started = time.monotonic()
    fast = clock(c, action="run", rate=3600)
    assert fast["rate"] == 3600 and fast["frozen"] is False
    time.sleep(0.05)
    later = now(clock(c))
    elapsed = time.monotonic() - started
    # An hour of simulated time per real second: at least 0.05 s real gives 180 s.
    assert timedelta(seconds=180) <= later - EPOCH <= timedelta(seconds=3600 * elapsed + 1)
    assert clock(c, action="run", rate=0)["frozen"] is True
    assert clock(c, action="run")["rate"] == 1  # the default factor is real time


def test_reset_follows_the_server_clock_again(admin: AdminFactory) -> None:
    _, c = admin()
    clock(c, action="set", at="2030-01-01T00:00:00Z")
    state = clock(c, action="reset")
    assert state["follows_server"] is True
    assert timedelta(0) <= now(state) - EPOCH < timedelta(seconds=30)


def test_each_tenant_has_its_own_clock(admin: AdminFactory) -> None:
    _, c = admin()
    clock(c, "t1", "set", at="2030-01-01T00:00:00Z")
    clock(c, "t2", "freeze", at="2026-01-01T00:00:00Z")
    clock(c, "t2", "advance", by="1d")
    assert clock(c, "t1")["now"].startswith("2030-01-01T00:00")
    assert clock(c, "t2")["now"] == "2026-01-02T00:00:00Z"
    assert clock(c, "t3")["follows_server"] is True
    # The header names the tenant as well as the query.
    r = c.get(f"{A}/clock", headers={"X-Carriersim-Tenant": "t2"})
    assert r.json()["now"] == "2026-01-02T00:00:00Z"


def test_advance_to_a_shipments_next_event_one_by_one(admin: AdminFactory) -> None:
    _, c = admin(mix=False)
    clock(c, action="freeze")
    made = c.post(
        f"{A}/shipments",
        params={"tenant": "t1"},
        json={"carrier": "ups", "scenario": "out-for-delivery"},
    ).json()
    path = f"{A}/shipments/ups/{made['number']}/next"
    seen = made["visible"]
    for event in made["events"][seen:]:
        r = c.post(path, params={"tenant": "t1"})
        assert r.status_code == 200, r.text
        moved = r.json()
        assert moved["clock"]["now"] == event["at"] == moved["shipment"]["now"]
        assert moved["clock"]["frozen"] is True
        seen += 1
        assert moved["shipment"]["visible"] == seen
        assert moved["shipment"]["status"] == event["kind"]
        assert len(events_shown(track(c.app, "ups", made["number"], "t1"))) == seen
    done = c.post(path, params={"tenant": "t1"})
    assert done.status_code == 409
    assert done.json()["error"]["field"] == "number"
    assert "complete" in done.json()["error"]["fix"]


@pytest.mark.parametrize(
    ("action", "body", "field"),
    [
        ("advance", {}, "by"),
        ("advance", {"by": "2 days"}, "by"),
        ("advance", {"by": ""}, "by"),
        ("advance", {"by": True}, "by"),
        ("advance", {"by": [1]}, "by"),
        ("advance", {"by": 1e300}, "by"),
        ("advance", {"by": "900000w"}, "by"),
        ("set", {}, "at"),
        ("set", {"at": "tomorrow"}, "at"),
        ("set", {"at": 1700000000}, "at"),
        ("set", {"at": "0001-01-01T00:00:00Z"}, "at"),
        ("freeze", {"at": "2026-13-01T00:00:00Z"}, "at"),
        ("run", {"rate": -1}, "rate"),
        ("run", {"rate": "fast"}, "rate"),
        ("run", {"rate": True}, "rate"),
        ("run", {"rate": 1e12}, "rate"),
    ],
)
def test_bad_clock_requests_name_the_field_and_the_fix(
    admin: AdminFactory, action: str, body: dict[str, Any], field: str
) -> None:
    _, c = admin()
    before = clock(c)
    r = c.post(f"{A}/clock/{action}", params={"tenant": "t1"}, json=body)
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["field"] == field and error["message"] and error["fix"]
    assert clock(c)["follows_server"] is before["follows_server"]  # nothing changed


def test_not_a_number_is_not_a_speed(admin: AdminFactory) -> None:
    _, c = admin()
    json_type = {"Content-Type": "application/json"}
    # NaN and Infinity are not JSON (RFC 8259): refused as the body, before any field.
    for raw in (b'{"rate": NaN}', b'{"rate": Infinity}', b'{"rate": 1e400}'):
        r = c.post(f"{A}/clock/run", params={"tenant": "t1"}, content=raw, headers=json_type)
        assert r.status_code == 400 and r.json()["error"]["field"] == "body", r.text
    r = c.post(f"{A}/clock/run", params={"tenant": "t1"}, json={"rate": "fast"})
    assert r.status_code == 400 and r.json()["error"]["field"] == "rate"


def test_advancing_past_the_end_of_time_is_refused(admin: AdminFactory) -> None:
    _, c = admin()
    clock(c, action="set", at="8999-12-01T00:00:00Z")
    r = c.post(f"{A}/clock/advance", params={"tenant": "t1"}, json={"by": "52w"})
    assert r.status_code == 400 and r.json()["error"]["field"] == "by"
    assert clock(c)["now"].startswith("8999-12-01")


def test_clock_operations_need_a_tenant(admin: AdminFactory) -> None:
    _, c = admin()
    assert c.get(f"{A}/clock").json()["error"]["field"] == "tenant"
    for action in ("freeze", "advance", "set", "run", "reset"):
        r = c.post(f"{A}/clock/{action}", json={"by": "1h", "at": "2026-03-03T00:00:00Z"})
        assert r.status_code == 400 and r.json()["error"]["field"] == "tenant", action
