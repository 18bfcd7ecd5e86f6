"""Health, version, reset, the admin token, the CLI's guard, stray admin paths, and the
admin API end to end over a real socket."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from client.errors import CarrierUnavailable
from simulator import __version__, cli
from simulator.engine import Simulation
from simulator.scenario import Scenario
from simulator.settings import Settings
from tests.admin.conftest import AdminFactory, Served
from tests.admin.helpers import assert_shows_visible, events_shown, track, track_over
from tests.conftest import EPOCH

A = "/__admin"


def test_health_and_version(admin: AdminFactory) -> None:
    sim, c = admin(seed=7)
    health = c.get(f"{A}/health").json()
    assert health["status"] == "ok" and health["version"] == __version__
    assert health["carriers"] == ["ups", "fedex", "usps", "dhl"]
    assert health["scenarios"] == len(sim.catalog.scenarios)
    assert health["clock_start"] == "2026-03-02T15:00:00Z"
    assert health["seed"] == 7 and health["default_mix"] is True
    assert health["last_reload_error"] is None
    assert c.get(f"{A}/version").json() == {"version": __version__}
    assert c.head(f"{A}/health").status_code == 200


def _populate(c: TestClient, tenant: str) -> Any:
    p = {"tenant": tenant}
    c.post(f"{A}/clock/set", params=p, json={"at": "2026-03-04T00:00:00Z"})
    made = c.post(f"{A}/shipments", params=p, json={"carrier": "dhl", "scenario": "damaged"}).json()
    c.post(f"{A}/faults", params=p, json={"kind": "latency", "ms": 0})
    c.get(
        "/track/shipments",
        params={"trackingNumber": made["number"]},
        headers={"DHL-API-Key": tenant},
    )
    return made


def _state(c: TestClient, tenant: str) -> tuple[bool, int, int, int]:
    p = {"tenant": tenant}
    return (
        c.get(f"{A}/clock", params=p).json()["follows_server"],
        len(c.get(f"{A}/shipments", params=p).json()),
        len([f for f in c.get(f"{A}/faults", params=p).json() if f["match"]["tenant"] == tenant]),
        len(c.get(f"{A}/requests", params=p).json()),
    )


def test_reset_one_tenant_leaves_the_others_alone(admin: AdminFactory) -> None:
    _, c = admin(mix=False)
    _populate(c, "t1")
    kept = _populate(c, "t2")
    assert _state(c, "t1") == _state(c, "t2") == (False, 1, 1, 1)
    r = c.post(f"{A}/reset", json={"tenant": "t1"})
    assert r.status_code == 204 and r.content == b""
    assert _state(c, "t1") == (True, 0, 0, 0)
    assert _state(c, "t2") == (False, 1, 1, 1)
    assert events_shown(track(c.app, "dhl", kept["number"], "t2"))
    # The tenant may be named by the header or the query as well.
    assert c.post(f"{A}/reset", headers={"X-Carriersim-Tenant": "t2"}).status_code == 204
    assert _state(c, "t2") == (True, 0, 0, 0)


def test_reset_everything(admin: AdminFactory) -> None:
    _, c = admin(mix=False)
    for tenant in ("t1", "t2"):
        _populate(c, tenant)
    c.post(f"{A}/faults", json={"kind": "latency", "ms": 0, "name": "global"})
    c.get("/nowhere")
    assert c.post(f"{A}/reset").status_code == 204
    for tenant in ("t1", "t2"):
        assert _state(c, tenant) == (True, 0, 0, 0)
    assert c.get(f"{A}/faults").json() == []
    assert c.get(f"{A}/requests").json() == []
    # Fresh numbers start over, as on a new server.
    _, fresh = admin(mix=False)
    again = _populate(c, "t1")["number"]
    assert again == _populate(fresh, "t1")["number"]


@pytest.mark.parametrize("sent", [None, "Bearer wrong", "Bearer t ", "Basic dDp0", "t"])
def test_the_admin_token_is_required_when_set(admin: AdminFactory, sent: str | None) -> None:
    sim, c = admin(admin_token="t")
    headers = {"Authorization": sent} if sent is not None else {}
    for method, path in (("POST", "/health"), ("POST", "/reset"), ("GET", "/nothing-here")):
        r = c.request(method, A + path, headers=headers)
        assert r.status_code == 401, (method, path)
        error = r.json()["error"]
        assert error["field"] == "authorization" and "Bearer" in error["fix"]
    assert sim.store.tenants() == []


def test_health_answers_liveness_without_the_token_and_all_with_it(admin: AdminFactory) -> None:
    _, c = admin(admin_token="t")
    for sent in ({}, {"Authorization": "Bearer wrong"}):
        r = c.get(f"{A}/health", headers=sent)
        assert r.status_code == 200
        # A health check learns the server is up, and nothing about what it serves.
        assert r.json() == {"status": "ok", "version": __version__}
    full = c.get(f"{A}/health", headers={"Authorization": "Bearer t"}).json()
    assert full["status"] == "ok" and full["scenarios"] > 0 and "seed" in full


def test_with_the_token_everything_works_and_carriers_need_none(admin: AdminFactory) -> None:
    _, c = admin(admin_token="t")
    ok = {"Authorization": "Bearer t"}
    assert c.get(f"{A}/health", headers=ok).status_code == 200
    made = c.post(
        f"{A}/shipments",
        params={"tenant": "t1"},
        headers=ok,
        json={"carrier": "usps", "scenario": "damaged", "start": "-1d"},
    )
    assert made.status_code == 201
    assert events_shown(track(c.app, "usps", made.json()["number"], "t1"))


def test_the_cli_refuses_to_expose_the_admin_api_without_a_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("CARRIERSIM_ADMIN_TOKEN", raising=False)

    def fail(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("no server may start")

    monkeypatch.setattr("uvicorn.Server.run", fail)
    monkeypatch.setattr("uvicorn.run", fail)
    for host in ("0.0.0.0", "192.168.1.20", "::"):
        assert cli.main(["serve", "--host", host]) == 2
        err = capsys.readouterr().err
        assert f"--host {host} exposes the admin API" in err
        assert "--admin-token" in err


def test_stray_admin_paths_answer_in_the_admin_error_shape(admin: AdminFactory) -> None:
    _, c = admin()
    r = c.get(f"{A}/shipmnets", params={"tenant": "t1"})
    assert r.status_code == 404
    error = r.json()["error"]
    assert error["field"] == "path" and "did you mean /__admin/shipments" in error["fix"]
    assert "openapi.json" in error["fix"]
    r = c.put(f"{A}/clock/advance", params={"tenant": "t1"})
    assert r.status_code == 405 and r.headers["allow"] == "POST"
    assert r.json()["error"]["field"] == "method" and r.json()["error"]["fix"] == "use POST"
    r = c.patch(f"{A}/shipments")
    assert r.status_code == 405 and r.json()["error"]["fix"] == "use GET, POST"
    # Admin mistakes are not carrier requests: the journal stays empty.
    assert c.get(f"{A}/requests").json() == []


JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "field"),
    [
        ("POST", "/shipments", {"content": b"{", "headers": JSON}, "body"),
        ("POST", "/shipments", {"content": b'"ups"', "headers": JSON}, "body"),
        ("POST", "/clock/advance", {"content": b"by=2d", "headers": JSON}, "body"),
        ("POST", "/faults", {"content": b"[]", "headers": JSON}, "body"),
        ("POST", "/requests/verify", {"content": b"null", "headers": JSON}, "body"),
        ("POST", "/reset", {"json": {"tenant": ["t1"]}}, "tenant"),
        ("GET", "/requests", {"params": {"status": "2xx"}}, "status"),
        ("GET", "/shipments/dhl/1", {}, "tenant"),
    ],
)
def test_bad_input_gets_a_json_error_naming_the_field(
    admin: AdminFactory, method: str, path: str, kwargs: dict[str, Any], field: str
) -> None:
    _, c = admin()
    r = c.request(method, A + path, **kwargs)
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["field"] == field and error["message"] and error["fix"]


def test_the_admin_api_over_a_real_socket(served: Served, bundled: list[Scenario]) -> None:
    from simulator.loader import load_paths
    from simulator.settings import BUNDLED_SCENARIOS
    from tests.conftest import EPOCH as start

    library = [s for s in load_paths([BUNDLED_SCENARIOS]) if not s.faults]
    sim = Simulation(Settings(clock_start=start, mix=False), library)
    with served(sim) as (url, c):
        p = {"tenant": "sock"}
        assert (
            c.post(f"{A}/clock/freeze", params=p, json={"at": EPOCH.isoformat()}).status_code == 200
        )
        made = c.post(
            f"{A}/shipments", params=p, json={"carrier": "ups", "scenario": "out-for-delivery"}
        ).json()
        for _ in range(3):
            c.post(f"{A}/shipments/ups/{made['number']}/next", params=p)
        now = c.get(f"{A}/shipments/ups/{made['number']}", params=p).json()
        assert now["visible"] == made["visible"] + 3
        assert_shows_visible(track_over(url, "ups", made["number"], "sock"), now)
        assert events_shown(track_over(url, "ups", made["number"], "other")) == []
        check = c.post(
            f"{A}/requests/verify",
            json={
                "tenant": "sock",
                "carrier": "ups",
                "endpoint": "track",
                "at_least": 1,
                "at_most": 1,
            },
        ).json()
        assert check["ok"] is True, check
        c.post(f"{A}/faults", params=p, json={"kind": "http_error", "status": 503})
        failed = track_over(url, "ups", made["number"], "sock")
        assert isinstance(failed, CarrierUnavailable) and failed.status_code == 503
        entries = c.get(f"{A}/requests", params=p).json()
        assert entries[-1]["status"] == 503 and entries[-1]["faults"]
        assert c.post(f"{A}/reset", json={"tenant": "sock"}).status_code == 204
        assert c.get(f"{A}/shipments", params=p).json() == []
