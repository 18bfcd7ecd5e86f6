"""The request journal over HTTP: every request, filters, near-miss hints, verification,
bounds and redaction."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

import pytest
from starlette.testclient import TestClient

from simulator.engine import Simulation
from tests.admin.conftest import AdminFactory
from tests.admin.helpers import track

A = "/__admin"
DHL = "/track/shipments"


def dhl(c: TestClient, number: str, key: str = "t1") -> int:
    return c.get(DHL, params={"trackingNumber": number}, headers={"DHL-API-Key": key}).status_code


def journal(c: TestClient, route: str = "/requests", **params: Any) -> list[dict[str, Any]]:
    r = c.get(A + route, params={k: v for k, v in params.items() if v is not None})
    assert r.status_code == 200, r.text
    entries: list[dict[str, Any]] = r.json()
    return entries


def declared(sim: Simulation, carrier: Any, scenario: str = "delivered-on-time") -> str:
    return sim.catalog.scenarios[scenario].numbers[carrier][0]


def test_every_request_is_journaled_matched_or_not(admin: AdminFactory) -> None:
    sim, c = admin()
    ups = declared(sim, "ups")
    track(c.app, "ups", ups, "t1")  # token, then details
    dhl(c, declared(sim, "dhl"))
    c.get("/nowhere", headers={"X-Carriersim-Tenant": "t1"})
    c.get(f"{A}/health")  # the admin API itself is not journaled
    entries = journal(c)
    assert [(e["carrier"], e["endpoint"], e["status"]) for e in entries] == [
        ("ups", "token", 200),
        ("ups", "track", 200),
        ("dhl", "track", 200),
        (None, None, 404),
    ]
    assert [e["seq"] for e in entries] == sorted(e["seq"] for e in entries)
    assert {e["tenant"] for e in entries} == {"t1"}
    assert entries[1]["numbers"] == [ups]
    assert entries[1]["method"] == "GET" and entries[1]["path"].endswith(ups)
    assert entries[0]["method"] == "POST" and entries[0]["body"] == "grant_type=client_credentials"
    assert entries[2]["query"] == f"trackingNumber={declared(sim, 'dhl')}"
    assert entries[3]["path"] == "/nowhere"
    assert all(e["duration_ms"] >= 0 and e["faults"] == [] for e in entries)
    for e in entries:  # the wall-clock instant both as a number and readable
        at = datetime.fromisoformat(e["received_at"])
        assert e["received_at"].endswith("Z") and at.tzinfo is not None
        assert abs(at.timestamp() - e["received"]) < 0.001


def test_filters(admin: AdminFactory) -> None:
    sim, c = admin()
    ups, fedex = declared(sim, "ups"), declared(sim, "fedex")
    track(c.app, "ups", ups, "t1")
    track(c.app, "fedex", fedex, "t2")
    dhl(c, "1234567890", key="t1")  # not a valid DHL number: refused

    def count(**params: Any) -> int:
        return len(journal(c, **params))

    assert count() == 5
    assert count(tenant="t1") == 3 and count(tenant="t2") == 2
    assert count(carrier="ups") == 2 and count(carrier="ups", endpoint="track") == 1
    assert count(endpoint="token") == 2
    assert count(number=ups) == 1
    assert count(number=f" {ups.lower()} ") == 1  # as the carriers read it: normalized
    assert count(method="post") == 3  # two tokens, and FedEx tracks by POST
    assert count(method="GET", tenant="t1") == 2
    assert count(path="/oauth") == 2 and count(path="/security/") == 1
    assert count(path="details") == 1
    assert count(status=200) == 4 and count(status=404, carrier="dhl") == 1
    by_header = c.get(f"{A}/requests", headers={"X-Carriersim-Tenant": "t2"}).json()
    assert {e["tenant"] for e in by_header} == {"t2"}
    bad = c.get(f"{A}/requests", params={"status": "ok"})
    assert bad.status_code == 400 and bad.json()["error"]["field"] == "status"


def hints(c: TestClient, tenant: str = "t1") -> list[str]:
    return [h for e in journal(c, "/requests/unmatched", tenant=tenant) for h in e["hints"]]


def test_unmatched_requests_say_what_they_almost_matched(admin: AdminFactory) -> None:
    sim, c = admin()
    ups = declared(sim, "ups")
    good = declared(sim, "dhl")
    assert dhl(c, good) == 200
    assert journal(c, "/requests/unmatched") == []  # found: nothing to explain

    # A UPS number asked of DHL.
    dhl(c, ups)
    assert any("declared for UPS" in h and "asked of DHL" in h for h in hints(c))
    # A typo: one character off a known number (and its check digit fails).
    typo = good[:-1] + str((int(good[-1]) + 1) % 10)
    dhl(c, typo)
    assert any(f"one character away from {good}" in h for h in hints(c))
    assert any(f"{typo} is not a valid DHL number" in h for h in hints(c))
    # The UPS token path under /api, a trap of the UPS docs: the credential names the tenant.
    basic = base64.b64encode(b"t1:secret").decode()
    r = c.post(
        "/api/security/v1/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert r.status_code == 404 and "at the host root" in r.json()["hints"][0]
    assert any("the UPS token path is /security/v1/oauth/token" in h for h in hints(c))
    # A path close to a real one.
    c.get("/track/shipment", headers={"DHL-API-Key": "t1"})
    assert any("did you mean /track/shipments" in h for h in hints(c))
    # Each hint belongs to its entry.
    entries = journal(c, "/requests/unmatched", tenant="t1")
    assert [e["status"] for e in entries] == [404, 404, 404, 404]
    assert all(e["hints"] for e in entries)


def test_another_tenants_shipment_is_a_near_miss(admin: AdminFactory) -> None:
    for mix in (False, True):
        _, c = admin(mix=mix)
        made = c.post(
            f"{A}/shipments",
            params={"tenant": "owner"},
            json={"carrier": "dhl", "scenario": "damaged"},
        ).json()
        dhl(c, made["number"], key="stranger")
        found = hints(c, "stranger")
        assert any(
            "created by tenant 'owner'" in h and "came as tenant 'stranger'" in h for h in found
        ), (mix, found)
        assert hints(c, "owner") == []


def test_a_shipment_before_its_first_event_is_a_near_miss(admin: AdminFactory) -> None:
    _, c = admin(mix=False)
    c.post(f"{A}/clock/freeze", params={"tenant": "t1"})
    made = c.post(
        f"{A}/shipments",
        params={"tenant": "t1"},
        json={"carrier": "dhl", "scenario": "damaged", "start": "1d"},
    ).json()
    assert dhl(c, made["number"]) == 404
    (hint,) = hints(c)
    assert "first event is at 2026-03-03T15:00:00Z" in hint and "advance the clock" in hint


def test_wrong_credentials_are_a_near_miss(admin: AdminFactory) -> None:
    sim, c = admin()
    r = c.get(
        f"/api/track/v1/details/{declared(sim, 'ups')}",
        headers={"Authorization": "Bearer forged", "transId": "1", "transactionSrc": "t"},
    )
    assert r.status_code == 401
    assert any("refused the credentials or token" in h for h in hints(c, ""))


def verify(c: TestClient, **body: Any) -> dict[str, Any]:
    r = c.post(f"{A}/requests/verify", json=body)
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()
    return result


def test_verify_at_least_and_at_most(admin: AdminFactory) -> None:
    sim, c = admin()
    ups = declared(sim, "ups")
    track(c.app, "ups", ups, "t1")
    track(c.app, "ups", ups, "t1")
    assert verify(c, tenant="t1", carrier="ups", endpoint="track", number=ups, at_least=2) == {
        "ok": True,
        "count": 2,
        "message": f"carrier=ups, endpoint=track, number={ups} (tenant 't1') was received 2 "
        "time(s); expected at least 2",
    }
    assert verify(c, tenant="t1", endpoint="track", at_least=3)["ok"] is False
    assert verify(c, tenant="t1", endpoint="track", at_most=1)["ok"] is False
    assert verify(c, tenant="t1", endpoint="track", at_least=2, at_most=2)["ok"] is True
    assert verify(c, tenant="t2", at_least=0, at_most=0) == {
        "ok": True,
        "count": 0,
        "message": "any request (tenant 't2') was received 0 time(s); expected at least 0 and "
        "at most 0",
    }
    track(c.app, "ups", ups, "t2")
    assert verify(c, carrier="ups")["count"] == 6  # no tenant: every tenant (each logs in)
    assert verify(c, tenant="t1", status=200)["count"] == 4
    r = c.post(f"{A}/requests/verify", params={"tenant": "t2"}, json={"endpoint": "token"})
    assert r.json()["count"] == 1  # the tenant in the query


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"at_least": "twice"}, "at_least"),
        ({"at_least": True}, "at_least"),
        ({"at_most": 1.5}, "at_most"),
        ({"at_least": -1}, "at_least"),
        ({"at_least": 3, "at_most": 2}, "at_most"),
        ({"status": "ok"}, "status"),
        ({"carrier": 5}, "carrier"),
    ],
)
def test_bad_verifications_name_the_field(
    admin: AdminFactory, body: dict[str, Any], field: str
) -> None:
    _, c = admin()
    r = c.post(f"{A}/requests/verify", json=body)
    assert r.status_code == 400 and r.json()["error"]["field"] == field


def test_the_journal_keeps_only_the_newest_entries(admin: AdminFactory) -> None:
    sim, c = admin(journal_limit=5)
    good = declared(sim, "dhl")
    for i in range(12):
        c.get(f"/nowhere/{i}")
        if i == 3:
            dhl(c, good)
    entries = journal(c)
    assert [e["path"] for e in entries] == [f"/nowhere/{i}" for i in range(7, 12)]
    # Between reads, too.
    for i in range(12, 15):
        c.get(f"/nowhere/{i}")
    assert [e["path"] for e in journal(c)] == [f"/nowhere/{i}" for i in range(10, 15)]
    assert verify(c, number=good, at_least=0, at_most=0)["ok"] is True


SECRETS = ("UPS-s3cret", "FDX-s3cret", "USPS-s3cret", "DHL-k3y", "child-s3cret", "b3arer")


def test_secrets_never_appear_in_the_journal(admin: AdminFactory) -> None:
    sim, c = admin()
    basic = base64.b64encode(b"t1:UPS-s3cret").decode()
    c.post(
        "/security/v1/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    c.post(
        "/oauth/token",
        data={
            "grant_type": "csp_credentials",
            "client_id": "t1",
            "client_secret": "FDX-s3cret",
            "child_Key": "ck",
            "child_secret": "child-s3cret",
        },
    )
    c.post(
        "/oauth2/v3/token",
        json={
            "grant_type": "client_credentials",
            "client_id": "t1",
            "client_secret": "USPS-s3cret",
        },
    )
    # A body that is not quite JSON, and one cut short: still masked.
    c.post(
        "/oauth2/v3/token",
        content=b' {"client_secret": "USPS-s3cret", ',
        headers={"Content-Type": "application/json"},
    )
    c.post("/oauth2/v3/token", content=b"x" * 5000 + b'{"client_secret":"USPS-s3cret"}')
    # A DHL key names the tenant unless the header does (then the key is the tenant's name,
    # and shows as such); here the header names it, so the key is a pure secret.
    named = {"DHL-API-Key": "DHL-k3y", "X-Carriersim-Tenant": "t1"}
    c.get(DHL, params={"trackingNumber": declared(sim, "dhl")}, headers=named)
    c.get("/elsewhere", headers={**named, "Authorization": "Bearer b3arer"})
    c.get("/elsewhere", params={"client_secret": "UPS-s3cret"})
    answers = [
        c.get(f"{A}/requests").text,
        c.get(f"{A}/requests/unmatched").text,
        c.get(f"{A}/requests", params={"tenant": "t1"}).text,
    ]
    for text in answers:
        for secret in SECRETS:
            assert secret not in text, f"{secret} leaked: {text[:2000]}"
    entries = json.loads(answers[0])
    assert len(entries) == 8
    assert entries[0]["headers"]["authorization"] == "Basic ***"
    assert "client_secret=***" in entries[1]["body"] and "child_secret=***" in entries[1]["body"]
    assert json.loads(entries[2]["body"])["client_secret"] == "***"
    assert entries[5]["headers"]["dhl-api-key"] == "***"
    assert entries[6]["headers"]["authorization"] == "Bearer ***"
    assert entries[7]["query"] == "client_secret=***"
    assert entries[5]["tenant"] == entries[6]["tenant"] == "t1"
