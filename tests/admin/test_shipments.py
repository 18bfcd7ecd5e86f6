"""Shipments through the admin API: create, list, inspect, track as the tenant, delete."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from simulator import numbers
from simulator.scenario import CARRIERS
from tests.admin.conftest import AdminFactory
from tests.admin.helpers import assert_shows_visible, events_shown, track
from tests.conftest import EPOCH

A = "/__admin"


def create(c: TestClient, tenant: str, carrier: str, scenario: str, **extra: Any) -> Any:
    r = c.post(
        f"{A}/shipments",
        params={"tenant": tenant},
        json={"carrier": carrier, "scenario": scenario, **extra},
    )
    assert r.status_code == 201, r.text
    return r.json()


def inspect(c: TestClient, tenant: str, carrier: str, number: str) -> Any:
    r = c.get(f"{A}/shipments/{carrier}/{number}", params={"tenant": tenant})
    assert r.status_code == 200, r.text
    return r.json()


def freeze(c: TestClient, tenant: str, at: datetime = EPOCH) -> None:
    r = c.post(f"{A}/clock/freeze", params={"tenant": tenant}, json={"at": at.isoformat()})
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("carrier", CARRIERS)
def test_create_gives_a_fresh_valid_number_and_the_whole_timeline(
    admin: AdminFactory, carrier: str
) -> None:
    sim, c = admin()
    freeze(c, "t1")
    made = [create(c, "t1", carrier, "delivered-on-time") for _ in range(5)]
    scenario = sim.catalog.scenarios["delivered-on-time"]
    got = [m["number"] for m in made]
    assert len(set(got)) == 5
    for m in made:
        assert numbers.is_valid(carrier, m["number"]), m["number"]
        assert m["number"] not in sim.catalog.declared[carrier]
        assert m["carrier"] == carrier and m["scenario"] == "delivered-on-time"
        assert m["start"] == m["now"] == "2026-03-02T15:00:00Z"
        assert len(m["events"]) == len(scenario.events)
        assert [e["kind"] for e in m["events"]] == [e.kind.value for e in scenario.events]
        start = datetime.fromisoformat(m["start"])
        assert [datetime.fromisoformat(e["at"]) - start for e in m["events"]] == [
            e.at for e in scenario.events
        ]
        assert m["visible"] == 1 and m["status"] == "label_created"


def test_a_tenants_fresh_numbers_do_not_depend_on_other_tenants(admin: AdminFactory) -> None:
    _, alone = admin()
    _, crowded = admin()
    mine = [create(alone, "t1", "ups", "delivered-on-time")["number"] for _ in range(3)]
    theirs = []
    for _ in range(3):
        theirs.append(create(crowded, "t2", "ups", "delivered-on-time")["number"])
        theirs.append(create(crowded, "t1", "ups", "delivered-on-time")["number"])
    assert theirs[1::2] == mine
    assert not set(theirs[::2]) & set(mine)


@pytest.mark.parametrize("carrier", CARRIERS)
def test_tracking_a_created_shipment_shows_exactly_the_visible_events(
    admin: AdminFactory, carrier: str
) -> None:
    _, c = admin(mix=False)
    freeze(c, "t1")
    made = create(c, "t1", carrier, "delivered-on-time", start="-20h")
    assert 0 < made["visible"] < len(made["events"])
    assert_shows_visible(track(c.app, carrier, made["number"], "t1"), made)
    # Later on the tenant's clock, more events; at the end, all of them.
    for by in ("1d", "10d"):
        c.post(f"{A}/clock/advance", params={"tenant": "t1"}, json={"by": by})
        now = inspect(c, "t1", carrier, made["number"])
        assert_shows_visible(track(c.app, carrier, made["number"], "t1"), now)
    assert now["visible"] == len(now["events"]) and now["next_change"] is None
    # Another tenant does not have it.
    assert events_shown(track(c.app, carrier, made["number"], "t2")) == []


def test_a_shipment_starting_later_is_not_found_until_its_first_event(
    admin: AdminFactory,
) -> None:
    _, c = admin(mix=False)
    freeze(c, "t1")
    made = create(c, "t1", "dhl", "delivered-on-time", start="2h")
    assert made["visible"] == 0 and made["status"] is None
    assert made["start"] == made["next_change"] == "2026-03-02T17:00:00Z"
    assert made["next_change_in"] == "2h"
    assert events_shown(track(c.app, "dhl", made["number"], "t1")) == []
    c.post(f"{A}/clock/advance", params={"tenant": "t1"}, json={"by": "2h"})
    assert len(events_shown(track(c.app, "dhl", made["number"], "t1"))) == 1


def test_inspect_tells_the_visible_events_the_status_and_the_next_change(
    admin: AdminFactory,
) -> None:
    _, c = admin()
    freeze(c, "t1")
    made = create(c, "t1", "fedex", "lost-in-transit", start="-1d")
    events = made["events"]
    flags = [e["visible"] for e in events]
    count = made["visible"]
    assert flags == [True] * count + [False] * (len(events) - count)
    assert all(datetime.fromisoformat(e["at"]) <= EPOCH for e in events[:count])
    assert all(datetime.fromisoformat(e["at"]) > EPOCH for e in events[count:])
    assert made["status"] == events[count - 1]["kind"]
    assert made["next_change"] == events[count]["at"]
    gap = datetime.fromisoformat(events[count]["at"]) - EPOCH
    assert made["next_change_in"] == _duration(gap)
    assert inspect(c, "t1", "fedex", made["number"]) == made


def _duration(delta: timedelta) -> str:
    total = int(delta.total_seconds())
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if total >= size:
            parts.append(f"{total // size}{unit}")
            total %= size
    return " ".join(parts)


def test_list_shows_the_tenants_own_shipments_oldest_first(admin: AdminFactory) -> None:
    _, c = admin()
    first = create(c, "t1", "ups", "delivered-on-time")
    second = create(c, "t1", "usps", "damaged")
    other = create(c, "t2", "ups", "delivered-on-time")
    listed = c.get(f"{A}/shipments", params={"tenant": "t1"}).json()
    assert [(s["carrier"], s["number"]) for s in listed] == [
        ("ups", first["number"]),
        ("usps", second["number"]),
    ]
    assert other["number"] not in {s["number"] for s in listed}
    # The header names the tenant as well as the query.
    by_header = c.get(f"{A}/shipments", headers={"X-Carriersim-Tenant": "t2"}).json()
    assert [s["number"] for s in by_header] == [other["number"]]


def test_delete_forgets_a_shipment(admin: AdminFactory) -> None:
    _, c = admin(mix=False)
    made = create(c, "t1", "dhl", "delivered-on-time", start="-1d")
    path = f"{A}/shipments/dhl/{made['number']}"
    assert events_shown(track(c.app, "dhl", made["number"], "t1"))
    assert c.delete(path, params={"tenant": "t2"}).status_code == 404  # not t2's to delete
    r = c.delete(path, params={"tenant": "t1"})
    assert r.status_code == 204 and r.content == b""
    assert c.get(f"{A}/shipments", params={"tenant": "t1"}).json() == []
    assert c.get(path, params={"tenant": "t1"}).status_code == 404
    assert events_shown(track(c.app, "dhl", made["number"], "t1")) == []
    gone = c.delete(path, params={"tenant": "t1"})
    assert gone.status_code == 404
    assert gone.json()["error"]["field"] == "number"


def test_inspect_works_for_declared_numbers_too(admin: AdminFactory) -> None:
    sim, c = admin()
    number = sim.catalog.scenarios["weather-delay"].numbers["usps"][0]
    seen = inspect(c, "t1", "usps", number.lower())
    assert seen["scenario"] == "weather-delay" and seen["number"] == number


def test_seed_picks_the_variant_and_number_is_kept(admin: AdminFactory) -> None:
    _, c = admin()
    freeze(c, "t1")
    one = create(c, "t1", "ups", "delivered-on-time", seed=3)
    two = create(c, "t1", "ups", "delivered-on-time", seed=3)
    assert [e["place"] for e in one["events"]] == [e["place"] for e in two["events"]]
    chosen = numbers.generate("ups", random.Random(7))
    made = create(c, "t1", "ups", "delivered-on-time", number=chosen.lower())
    assert made["number"] == chosen


def _error(r: Any, status: int, field: str) -> dict[str, str]:
    assert r.status_code == status, r.text
    error: dict[str, str] = r.json()["error"]
    assert error["field"] == field, error
    assert error["message"] and error["fix"]
    return error


@pytest.mark.parametrize(
    ("body", "status", "field", "in_fix"),
    [
        ({"scenario": "delivered-on-time"}, 400, "carrier", '"carrier"'),
        ({"carrier": "ups"}, 400, "scenario", '"scenario"'),
        ({"carrier": "upz", "scenario": "delivered-on-time"}, 400, "carrier", "ups, fedex"),
        (
            {"carrier": "ups", "scenario": "delivered-on-tme"},
            404,
            "scenario",
            "did you mean 'delivered-on-time'",
        ),
        ({"carrier": "ups", "scenario": "unknown-number"}, 400, "scenario", "unknown number"),
        ({"carrier": "ups", "scenario": "damaged", "start": "yesterday"}, 400, "start", "'1d 4h'"),
        ({"carrier": "ups", "scenario": "damaged", "start": "99999999w"}, 400, "start", "shorter"),
        ({"carrier": "ups", "scenario": "damaged", "seed": "x"}, 400, "seed", "whole number"),
        ({"carrier": "ups", "scenario": "damaged", "number": "12345"}, 400, "number", "fresh"),
        ({"carrier": "ups", "scenario": "damaged", "number": 12}, 400, "number", "text"),
        # The README's own example of a number that is no number at all.
        (
            {"carrier": "ups", "scenario": "damaged", "number": "hello world"},
            400,
            "number",
            "carriersim numbers ups",
        ),
        # Right shape, wrong check digit: the fix names the number with the right one.
        (
            {"carrier": "ups", "scenario": "damaged", "number": "1ZY1PMRS0113639241"},
            400,
            "number",
            "should be 0, as in '1ZY1PMRS0113639240'",
        ),
        (
            {"carrier": "fedex", "scenario": "damaged", "number": "110622546115"},
            400,
            "number",
            "as in '110622546114'",
        ),
        ({"carrier": ["ups"], "scenario": "damaged"}, 400, "carrier", "ups, fedex"),
    ],
)
def test_bad_shipment_requests_name_the_field_and_the_fix(
    admin: AdminFactory, body: dict[str, Any], status: int, field: str, in_fix: str
) -> None:
    _, c = admin()
    error = _error(c.post(f"{A}/shipments", params={"tenant": "t1"}, json=body), status, field)
    assert in_fix in error["fix"]


def test_bad_bodies_and_a_missing_tenant_are_named(admin: AdminFactory) -> None:
    _, c = admin()
    body = {"carrier": "ups", "scenario": "damaged"}
    _error(
        c.post(
            f"{A}/shipments",
            params={"tenant": "t1"},
            content=b"{carrier: ups}",
            headers={"Content-Type": "application/json"},
        ),
        400,
        "body",
    )
    _error(c.post(f"{A}/shipments", params={"tenant": "t1"}, json=[body]), 400, "body")
    error = _error(c.post(f"{A}/shipments", json=body), 400, "tenant")
    assert "X-Carriersim-Tenant" in error["fix"]
    _error(c.post(f"{A}/shipments", json={**body, "tenant": 5}), 400, "tenant")
    # The body may name the tenant too.
    assert c.post(f"{A}/shipments", json={**body, "tenant": "t9"}).status_code == 201
    made = create(c, "t1", "ups", "damaged")
    again = c.post(
        f"{A}/shipments", params={"tenant": "t1"}, json={**body, "number": made["number"]}
    )
    assert "delete it first" in _error(again, 409, "number")["fix"]
    for path in (f"{A}/shipments/upz/{made['number']}", f"{A}/shipments/upz/{made['number']}/next"):
        method = c.post if path.endswith("next") else c.get
        _error(method(path, params={"tenant": "t1"}), 400, "carrier")
    _error(c.get(f"{A}/shipments/ups/1Z0000", params={"tenant": "t1"}), 404, "number")


def test_created_shipments_are_kept_in_the_store(admin: AdminFactory) -> None:
    sim, c = admin()
    made = create(c, "t1", "dhl", "damaged", start="-3h", seed=2)
    kept = sim.store.get_shipment("t1", "dhl", made["number"])
    assert kept is not None and kept.scenario == "damaged" and kept.variant == 2
    # The server clock started at EPOCH moments ago; t0 is in whole seconds.
    assert kept.t0 == int(kept.t0)
    assert abs(kept.t0 - (EPOCH - timedelta(hours=3)).timestamp()) <= 5
