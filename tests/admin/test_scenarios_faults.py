"""Scenarios (list, show, reload keeping the last good version) and faults added, observed
and cleared at run time."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from simulator.scenario import Scenario
from simulator.settings import BUNDLED_SCENARIOS
from tests.admin.conftest import AdminFactory

A = "/__admin"
DHL = "/track/shipments"


def test_scenarios_are_listed_in_short_and_shown_whole(admin: AdminFactory) -> None:
    sim, c = admin()
    listed = c.get(f"{A}/scenarios").json()
    assert [s["name"] for s in listed] == sorted(sim.catalog.scenarios)
    lost = next(s for s in listed if s["name"] == "lost-in-transit")
    scenario = sim.catalog.scenarios["lost-in-transit"]
    assert lost["events"] == len(scenario.events) and lost["found"] is True
    assert lost["numbers"] == {k: list(v) for k, v in scenario.numbers.items()}
    whole = c.get(f"{A}/scenarios/lost-in-transit").json()
    assert whole["name"] == "lost-in-transit"
    assert [e["kind"] for e in whole["events"]] == [e.kind.value for e in scenario.events]
    missing = c.get(f"{A}/scenarios/lost-in-transt")
    assert missing.status_code == 404
    assert missing.json()["error"]["field"] == "name"
    assert "did you mean 'lost-in-transit'" in missing.json()["error"]["fix"]


def _library(tmp_path: Path, *names: str) -> Path:
    folder = tmp_path / "library"
    folder.mkdir(exist_ok=True)
    for name in names:
        shutil.copy(BUNDLED_SCENARIOS / f"{name}.yaml", folder)
    return folder


def _dhl_number(c: TestClient, scenario: str) -> str:
    (found,) = [s for s in c.get(f"{A}/scenarios").json() if s["name"] == scenario]
    number: str = found["numbers"]["dhl"][0]
    return number


def test_reload_applies_changes_and_keeps_the_last_good_version(
    admin: AdminFactory, tmp_path: Path
) -> None:
    library = _library(tmp_path, "delivered-on-time", "damaged")
    _, c = admin(scenario_paths=(library,), mix=False)
    r = c.post(f"{A}/scenarios/reload")
    assert r.status_code == 200
    assert r.json() == {"reloaded": 2, "names": ["damaged", "delivered-on-time"]}
    number = _dhl_number(c, "damaged")
    assert (
        c.get(DHL, params={"trackingNumber": number}, headers={"DHL-API-Key": "t1"}).status_code
        == 200
    )

    # A new file takes effect on reload.
    shutil.copy(BUNDLED_SCENARIOS / "weather-delay.yaml", library)
    assert c.post(f"{A}/scenarios/reload").json()["reloaded"] == 3

    # A broken file is reported with file, line and field; the last good version serves on.
    text = (library / "damaged.yaml").read_text()
    (library / "damaged.yaml").write_text(text.replace("kind: picked_up", "kind: pickd_up", 1))
    r = c.post(f"{A}/scenarios/reload")
    assert r.status_code == 422
    error = r.json()["error"]
    assert error["field"] == "scenarios" and "last good version" in error["message"]
    (problem,) = error["problems"]
    assert problem["file"].endswith("damaged.yaml") and problem["line"] > 1
    assert "pickd_up" in problem["message"] and "picked_up" in problem["message"]
    assert c.get(f"{A}/health").json()["last_reload_error"]
    assert [s["name"] for s in c.get(f"{A}/scenarios").json()] == [
        "damaged",
        "delivered-on-time",
        "weather-delay",
    ]
    assert (
        c.get(DHL, params={"trackingNumber": number}, headers={"DHL-API-Key": "t1"}).status_code
        == 200
    )

    # Fixed, it reloads; a file removed takes its scenario (and numbers) with it.
    (library / "damaged.yaml").write_text(text)
    (library / "weather-delay.yaml").unlink()
    assert c.post(f"{A}/scenarios/reload").json()["reloaded"] == 2
    assert c.get(f"{A}/health").json()["last_reload_error"] is None
    (library / "damaged.yaml").unlink()
    assert c.post(f"{A}/scenarios/reload").json()["names"] == ["delivered-on-time"]
    assert (
        c.get(DHL, params={"trackingNumber": number}, headers={"DHL-API-Key": "t1"}).status_code
        == 404
    )


def test_a_reload_that_finds_no_scenario_keeps_the_old_ones(
    admin: AdminFactory, tmp_path: Path
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    _, c = admin(scenario_paths=(empty,))
    before = c.get(f"{A}/scenarios").json()
    r = c.post(f"{A}/scenarios/reload")
    assert r.status_code == 422 and r.json()["error"]["problems"]
    assert c.get(f"{A}/scenarios").json() == before


def dhl_status(c: TestClient, number: str, tenant: str) -> int:
    r = c.get(DHL, params={"trackingNumber": number}, headers={"DHL-API-Key": tenant})
    return r.status_code


def add_fault(c: TestClient, body: dict[str, Any], tenant: str | None = None) -> Any:
    params = {"tenant": tenant} if tenant else {}
    r = c.post(f"{A}/faults", params=params, json=body)
    assert r.status_code == 201, r.text
    return r.json()


def test_a_fault_added_at_run_time_is_seen_on_carrier_requests_then_cleared(
    admin: AdminFactory,
) -> None:
    sim, c = admin()
    number = sim.catalog.scenarios["delivered-on-time"].numbers["dhl"][0]
    assert c.get(f"{A}/faults").json() == []
    added = add_fault(
        c, {"kind": "http_error", "status": 503, "name": "dhl-down", "match": {"carrier": "dhl"}}
    )
    assert added["name"] == "dhl-down" and added["fault"]["status"] == 503
    assert added["match"]["carrier"] == "dhl" and added["match"]["tenant"] is None
    assert c.get(f"{A}/faults").json() == [added]
    assert dhl_status(c, number, "t1") == 503
    assert dhl_status(c, number, "t2") == 503  # no tenant named: everyone's
    entries = c.get(f"{A}/requests", params={"carrier": "dhl"}).json()
    assert [e["faults"] for e in entries] == [["dhl-down"], ["dhl-down"]]
    assert c.delete(f"{A}/faults").status_code == 204
    assert c.get(f"{A}/faults").json() == []
    assert dhl_status(c, number, "t1") == 200


def test_a_fault_added_by_a_tenant_meets_only_that_tenant(admin: AdminFactory) -> None:
    sim, c = admin()
    number = sim.catalog.scenarios["delivered-on-time"].numbers["dhl"][0]
    mine = add_fault(c, {"kind": "http_error", "status": 429, "when": {"first": 2}}, tenant="t1")
    assert mine["match"]["tenant"] == "t1"
    assert mine["name"].startswith("runtime#") and mine["name"].endswith(":http_error")
    theirs = add_fault(c, {"kind": "http_error", "status": 500}, tenant="t2")
    shared = add_fault(c, {"kind": "latency", "ms": 0, "name": "everyone"})
    assert c.get(f"{A}/faults", params={"tenant": "t1"}).json() == [mine, shared]
    assert c.get(f"{A}/faults").json() == [mine, theirs, shared]
    assert [dhl_status(c, number, "t1") for _ in range(3)] == [429, 429, 200]
    assert dhl_status(c, number, "t2") == 500
    assert dhl_status(c, number, "t3") == 200
    # Clearing with a tenant takes only that tenant's run-time faults (and counters).
    assert c.delete(f"{A}/faults", params={"tenant": "t1"}).status_code == 204
    assert c.get(f"{A}/faults").json() == [theirs, shared]
    assert dhl_status(c, number, "t2") == 500
    # A tenant may not add a fault for another one.
    r = c.post(
        f"{A}/faults",
        params={"tenant": "t1"},
        json={"kind": "http_error", "status": 500, "match": {"tenant": "t2"}},
    )
    assert r.status_code == 400 and r.json()["error"]["field"] == "match.tenant"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "kind"),
        ({"kind": "gremlins"}, "kind"),
        ({"kind": "http_error"}, "status"),
        ({"kind": "http_error", "status": 418}, "status"),
        ({"kind": "latency", "distribution": "uniform", "min_ms": 5}, "fault"),
        ({"kind": "outage"}, "fault"),
        ({"kind": "http_error", "status": 500, "when": {"first": 0}}, "when.first"),
        ({"kind": "http_error", "status": 500, "match": {"carrier": "ups2"}}, "match.carrier"),
        ({"kind": "http_error", "status": 500, "match": "ups"}, "match"),
    ],
)
def test_bad_faults_name_the_field(admin: AdminFactory, body: dict[str, Any], field: str) -> None:
    _, c = admin()
    r = c.post(f"{A}/faults", params={"tenant": "t1"}, json=body)
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["field"] == field, error
    assert error["message"] and error["fix"]
    assert c.get(f"{A}/faults").json() == []


def test_every_library_scenario_is_shown_as_documented(
    admin: AdminFactory, library: list[Scenario]
) -> None:
    """Fault scenarios included; the client's hook checks each answer against the document."""
    _, c = admin(scenarios=library)
    listed = c.get(f"{A}/scenarios").json()
    assert len(listed) == len(library)
    for summary in listed:
        whole = c.get(f"{A}/scenarios/{summary['name']}")
        assert whole.status_code == 200
        assert len(whole.json()["faults"]) == summary["faults"]
