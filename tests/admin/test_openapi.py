"""The OpenAPI document of the admin API: valid, complete, and true to the real answers."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from starlette.routing import Mount, Route

from simulator import admin as admin_module
from simulator.admin import FALLBACK, OPENAPI, PREFIX
from simulator.control import Control
from simulator.inputs import MAX_BODY
from simulator.scenario import CARRIERS, EventKind, ExceptionReason, Service
from simulator.settings import BUNDLED_SCENARIOS
from tests.admin import openapi_check
from tests.admin.conftest import AdminFactory
from tests.admin.openapi_check import DOC, METHODS, Key

T = {"tenant": "tour"}


def test_document_is_valid_openapi_3_1() -> None:
    validator = pytest.importorskip(
        "openapi_spec_validator", reason="openapi-spec-validator is not installed"
    )
    assert DOC["openapi"].startswith("3.1")
    validator.validate(DOC)


def test_served_document_is_the_file(admin: AdminFactory) -> None:
    _, c = admin()
    r = c.get(f"{PREFIX}/openapi.json")
    assert r.status_code == 200
    assert r.json() == DOC
    assert json.loads(OPENAPI.read_text()) == DOC


def _routes(admin_factory: AdminFactory) -> set[tuple[str, str]]:
    sim, _ = admin_factory()
    (mount,) = admin_module.routes(Control(sim))
    assert isinstance(mount, Mount) and mount.path == PREFIX
    out = set()
    for route in mount.routes:
        assert isinstance(route, Route)
        if route.name == FALLBACK:
            continue
        for method in route.methods or ():
            if method != "HEAD":  # Starlette adds HEAD to every GET
                out.add((method, PREFIX + route.path))
    return out


def test_every_route_is_documented_and_every_documented_operation_exists(
    admin: AdminFactory,
) -> None:
    served = _routes(admin)
    documented = {
        (method.upper(), path)
        for path, item in DOC["paths"].items()
        for method in item
        if method in METHODS
    }
    assert served - documented == set(), "routes missing from the document"
    assert documented - served == set(), "documented operations no route serves"


def test_vocabularies_in_the_document_follow_the_code() -> None:
    schemas = DOC["components"]["schemas"]
    assert schemas["EventKind"]["enum"] == [k.value for k in EventKind]
    assert schemas["ExceptionReason"]["enum"] == [r.value for r in ExceptionReason]
    assert schemas["ScenarioSummary"]["properties"]["service"]["enum"] == [s.value for s in Service]
    assert tuple(schemas["Carrier"]["enum"]) == CARRIERS


def test_every_operation_has_an_id_a_summary_and_an_error_shape() -> None:
    ids = []
    for path, item in DOC["paths"].items():
        for method, op in item.items():
            if method not in METHODS:
                continue
            ids.append(op["operationId"])
            assert op["summary"]
            # Health checks carry no token: GET /health is the one operation without a 401.
            if (method, path) != ("get", "/__admin/health"):
                assert "401" in op["responses"], (
                    f"{method} {path}: the token answer is undocumented"
                )
            for status, response in op["responses"].items():
                if status.startswith("4"):
                    target = response.get("$ref", "")
                    schema = (
                        DOC["components"]["responses"][target.rsplit("/", 1)[-1]]
                        if target
                        else response
                    )["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}, (method, path)
    assert len(ids) == len(set(ids))


JSON_TYPE = {"Content-Type": "application/json"}


def _example_path(template: str) -> str:
    return (
        template.replace("{carrier}", "dhl")
        .replace("{number}", "1234567890")
        .replace("{name}", "delivered-on-time")
    )


def test_every_documented_answer_happens_and_matches_its_schema(
    admin: AdminFactory, tmp_path: Path
) -> None:
    """A tour through the admin API that provokes every (operation, status) the document
    declares; the client's hook validates each answer against its documented schema."""
    library = tmp_path / "scenarios"
    library.mkdir()
    for name in ("delivered-on-time", "lost-in-transit"):
        shutil.copy(BUNDLED_SCENARIOS / f"{name}.yaml", library)
    seen: set[Key] = set()

    def record(response: Any) -> None:
        response.read()
        key = openapi_check.check(response)
        if key is not None:
            seen.add(key)

    _, c = admin(scenario_paths=(library,), mix=False)
    c.event_hooks = {"request": [], "response": [record]}
    a = PREFIX

    def expect(response: Any, status: int) -> Any:
        assert response.status_code == status, response.text
        return response.json() if response.content else None

    # server
    for path in ("/health", "/version", "/openapi.json", "/scenarios"):
        expect(c.get(a + path), 200)
    expect(c.get(a + "/scenarios/delivered-on-time"), 200)
    expect(c.get(a + "/scenarios/delivered-on-tme"), 404)
    expect(c.post(a + "/scenarios/reload"), 200)

    # shipments
    lost = expect(
        c.post(a + "/shipments", params=T, json={"carrier": "dhl", "scenario": "lost-in-transit"}),
        201,
    )
    kept = expect(
        c.post(
            a + "/shipments", params=T, json={"carrier": "dhl", "scenario": "delivered-on-time"}
        ),
        201,
    )
    expect(c.post(a + "/shipments", params=T, json={}), 400)
    expect(c.post(a + "/shipments", params=T, json={"carrier": "dhl", "scenario": "nope"}), 404)
    expect(
        c.post(
            a + "/shipments",
            params=T,
            json={"carrier": "dhl", "scenario": "delivered-on-time", "number": kept["number"]},
        ),
        409,
    )
    expect(c.get(a + "/shipments", params=T), 200)
    expect(c.get(a + "/shipments"), 400)
    one = f"{a}/shipments/dhl/{kept['number']}"
    expect(c.get(one, params=T), 200)
    expect(c.get(f"{a}/shipments/dhI/{kept['number']}", params=T), 400)
    expect(c.get(f"{a}/shipments/dhl/1234567890", params=T), 404)
    expect(c.post(one + "/next", params=T), 200)
    expect(c.post(f"{a}/shipments/fedx/1/next", params=T), 400)
    expect(c.post(f"{a}/shipments/dhl/1234567890/next", params=T), 404)
    for _ in range(len(kept["events"])):
        if c.post(one + "/next", params=T).status_code == 409:
            break
    else:
        pytest.fail("the timeline never completed")

    # a reload that fails keeps the old version; one that drops a scenario orphans a shipment
    (library / "broken.yaml").write_text("name: broken\nevents: [\n")
    expect(c.post(a + "/scenarios/reload"), 422)
    (library / "broken.yaml").unlink()
    (library / "lost-in-transit.yaml").unlink()
    expect(c.post(a + "/scenarios/reload"), 200)
    orphan = f"{a}/shipments/dhl/{lost['number']}"
    expect(c.get(orphan, params=T), 409)
    expect(c.post(orphan + "/next", params=T), 409)
    listed = expect(c.get(a + "/shipments", params=T), 200)
    assert [s.get("problem") is not None for s in listed] == [True, False]
    expect(c.delete(orphan, params=T), 204)
    expect(c.delete(orphan, params=T), 404)
    expect(c.delete(f"{a}/shipments/usp/1", params=T), 400)

    # clock
    expect(c.get(a + "/clock", params=T), 200)
    expect(c.get(a + "/clock"), 400)
    expect(c.post(a + "/clock/freeze", params=T), 200)
    expect(c.post(a + "/clock/freeze", params=T, json={"at": "yesterday"}), 400)
    expect(c.post(a + "/clock/advance", params=T, json={"by": "1h"}), 200)
    expect(c.post(a + "/clock/advance", params=T, json={}), 400)
    expect(c.post(a + "/clock/set", params=T, json={"at": "2026-03-05T12:00:00Z"}), 200)
    expect(c.post(a + "/clock/set", params=T, json={"at": "5 March"}), 400)
    expect(c.post(a + "/clock/run", params=T, json={"rate": 60}), 200)
    expect(c.post(a + "/clock/run", params=T, json={"rate": -1}), 400)
    expect(c.post(a + "/clock/reset", params=T), 200)
    expect(c.post(a + "/clock/reset"), 400)

    # faults
    expect(c.get(a + "/faults"), 200)
    expect(c.post(a + "/faults", json={"kind": "latency", "ms": 0}), 201)
    expect(c.post(a + "/faults", json={"kind": "slowness"}), 400)
    expect(c.delete(a + "/faults"), 204)

    # journal
    c.get(
        "/track/shipments",
        params={"trackingNumber": kept["number"]},
        headers={"DHL-API-Key": "tour"},
    )
    c.get("/track/shipment", params={"trackingNumber": kept["number"]})
    expect(c.get(a + "/requests", params=T), 200)
    expect(c.get(a + "/requests", params={"status": "ok"}), 400)
    expect(c.get(a + "/requests/unmatched"), 200)
    expect(c.post(a + "/requests/verify", json={"carrier": "dhl", "tenant": "tour"}), 200)
    expect(c.post(a + "/requests/verify", json={"at_least": "twice"}), 400)

    # push
    hook = {"url": "http://127.0.0.1:9/fedex", "security_token": "tour-token"}
    expect(c.put(a + "/webhooks/fedex", params=T, json=hook), 200)
    expect(c.put(a + "/webhooks/fedex", params=T, json={"url": "ftp://x"}), 400)
    shown = expect(c.get(a + "/webhooks/fedex", params=T), 200)
    assert shown["security_token"] == "***"
    expect(c.get(a + "/webhooks/dhl", params=T), 400)
    expect(c.get(a + "/webhooks/ups", params=T), 404)
    expect(c.delete(a + "/webhooks/fedex", params=T), 204)
    expect(c.delete(a + "/webhooks/fedex", params=T), 404)
    expect(c.delete(a + "/webhooks/dhl", params=T), 400)
    expect(c.get(a + "/subscriptions", params=T), 200)
    expect(c.get(a + "/subscriptions", params={**T, "carrier": "dhI"}), 400)
    expect(c.get(a + "/deliveries", params=T), 200)
    expect(c.get(a + "/deliveries", params={**T, "limit": "many"}), 400)
    expect(c.post(a + "/deliveries/fire", params=T), 200)
    expect(c.post(a + "/deliveries/fire", params=T, json={"all": "yes"}), 400)
    expect(c.post(a + "/deliveries/replay", params=T), 200)
    expect(c.post(a + "/deliveries/replay", params=T, json={"subscription": 7}), 400)

    # notifications: a USPS sign-up, then what USPS would have sent by the tour's clock
    made = expect(
        c.post(a + "/shipments", json={"carrier": "usps", "scenario": "delivered-on-time", **T}),
        201,
    )
    token = c.post(
        "/oauth2/v3/token",
        json={"grant_type": "client_credentials", "client_id": "tour", "client_secret": "s"},
    ).json()["access_token"]
    signed_up = c.post(
        f"/tracking/v3r2/tracking/{made['number']}/notifications",
        json={
            "uniqueTrackingID": "1",
            "notifyEventTypes": ["ALL_UPDATES"],
            "recipients": [{"email": "qa@example.com"}],
        },
        headers={"Authorization": f"Bearer {token}"},
    )
    assert signed_up.status_code == 202, signed_up.text
    expect(c.post(a + "/clock/advance", params=T, json={"by": "10d"}), 200)
    (signup,) = expect(c.get(a + "/notifications", params=T), 200)
    assert signup["recipients"] == ["qa@example.com"] and signup["messages"]

    # reset
    expect(c.post(a + "/reset", json={"tenant": "tour"}), 204)
    expect(c.post(a + "/reset", content=b"[1]", headers={"Content-Type": "application/json"}), 400)
    expect(c.post(a + "/reset"), 204)

    # every operation refuses a missing token when the server has one
    _, guarded = admin(admin_token="s3cret")
    guarded.event_hooks = {"request": [], "response": [record]}
    for method, template, _status in sorted(openapi_check.documented()):
        if (method, template) == ("GET", "/__admin/health"):
            expect(guarded.get(_example_path(template)), 200)  # liveness only
            continue
        expect(guarded.request(method, _example_path(template), params=T), 401)

    # every operation refuses a Host a web page could have rebound to 127.0.0.1, and a
    # body over the limit; every state-changing one a body that is not JSON
    too_big = b"[" + b"0," * (MAX_BODY // 2) + b"0]"
    for method, template, status in sorted(openapi_check.documented()):
        path = _example_path(template)
        if status == "403":
            expect(c.request(method, path, params=T, headers={"Host": "rebound.example"}), 403)
        elif status == "413":
            expect(c.request(method, path, params=T, content=too_big, headers=JSON_TYPE), 413)
        elif status == "415":
            expect(c.request(method, path, params=T, content=b"{}"), 415)

    missing = openapi_check.documented() - seen
    assert not missing, f"documented answers the tour never produced: {sorted(missing)}"
