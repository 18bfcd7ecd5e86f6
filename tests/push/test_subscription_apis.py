"""Each carrier's subscription API: auth, validation, limits and its own error codes."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from starlette.testclient import TestClient

from simulator import numbers
from simulator.app import create_app
from simulator.engine import Simulation
from simulator.loader import load_paths
from simulator.settings import BUNDLED_SCENARIOS, Settings
from tests.push.helpers import USPS_SECRET, token

HOOK = "http://127.0.0.1:9/hook"


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    # One server for the module: each test logs in as tenants of its own.
    sim = Simulation(Settings(), load_paths((BUNDLED_SCENARIOS,)))
    with TestClient(create_app(sim), base_url="http://127.0.0.1") as c:
        yield c


@pytest.fixture(autouse=True)
def _fresh(client: TestClient) -> Iterator[None]:
    yield
    assert client.post("/__admin/reset").status_code == 204


def _ups_numbers(count: int) -> list[str]:
    rng = random.Random(count)
    return [numbers.generate("ups", rng) for _ in range(count)]


# ------------------------------------------------------------------------------------- UPS


def _ups(client: TestClient, body: object, version: str = "v1") -> tuple[int, Any]:
    auth = token(client, "ups", "ups-sub")
    r = client.post(f"/api/track/{version}/subscription/standard/package", json=body, headers=auth)
    return r.status_code, r.json()


def _v1(numbers: list[str]) -> dict[str, object]:
    return {"locale": "en_US", "trackingNumberList": numbers,
            "destination": {"url": HOOK, "credentialType": "Bearer",
                            "credential": "c"}}  # fmt: skip


def test_ups_partial_success_is_a_200_listing_the_invalid_numbers(client: TestClient) -> None:
    good = _ups_numbers(2)
    status, body = _ups(client, _v1([*good, "1Z1234567$8"]))
    assert status == 200
    assert body == {"validTrackingNumbers": good, "invalidTrackingNumbers": ["1Z1234567$8"]}


def test_ups_refuses_the_whole_batch_above_100_numbers(client: TestClient) -> None:
    status, body = _ups(client, _v1(_ups_numbers(101)))
    assert status == 400
    assert body["response"]["errors"][0]["code"] == "VSS220"
    assert len(body["invalidTrackingNumbers"]) == 101


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"locale": None}, "VSS300"),
        ({"locale": "fr_FR"}, "VSS310"),
        ({"countryCode": "usa"}, "VSS400"),
        ({"trackingNumberList": []}, "VSS200"),
        ({"trackingNumberList": ["nope"]}, "VSS210"),
        ({"destination": None}, "VSS500"),
        ({"destination": {"credentialType": "Bearer", "credential": "c"}}, "VSS600"),
        ({"destination": {"url": HOOK, "credentialType": "Bearer"}}, "VSS700"),
        ({"destination": {"url": HOOK, "credential": "c"}}, "VSS800"),
    ],
)
def test_ups_validation_answers_the_spec_codes(
    client: TestClient, change: dict[str, object], code: str
) -> None:
    body = {**_v1(_ups_numbers(1)), **change}
    body = {k: v for k, v in body.items() if v is not None}
    status, answer = _ups(client, body)
    assert status == 400
    assert answer["response"]["errors"][0]["code"] == code


def test_ups_needs_trans_headers_a_token_and_for_v2_a_webhook(client: TestClient) -> None:
    auth = token(client, "ups", "ups-sub")
    r = client.post("/api/track/v1/subscription/standard/package", json=_v1(_ups_numbers(1)),
                    headers={"Authorization": auth["Authorization"]})  # fmt: skip
    assert r.json()["response"]["errors"][0]["code"] == "VSS002"
    r = client.post("/api/track/v1/subscription/standard/package", json=_v1(_ups_numbers(1)))
    assert r.status_code == 401
    assert r.json()["response"]["errors"][0]["code"] == "250002"
    r = client.post("/api/track/v1/subscription/weekly/package", json=_v1(_ups_numbers(1)),
                    headers=auth)  # fmt: skip
    assert r.json()["response"]["errors"][0]["code"] == "VSS930"
    status, answer = _ups(client, {"locale": "en_US", "trackingNumberList": _ups_numbers(1)}, "v2")
    assert status == 400 and answer["response"]["errors"][0]["code"] == "VSS500"


def test_ups_subscriptions_live_14_days(client: TestClient) -> None:
    status, _ = _ups(client, _v1(_ups_numbers(1)))
    assert status == 200
    (sub,) = client.get("/__admin/subscriptions", params={"tenant": "ups-sub"}).json()
    made, ends = (datetime.fromisoformat(sub[k]) for k in ("created", "expires"))
    assert (ends - made).days == 14


# ------------------------------------------------------------------------------------ USPS

USPS = "/subscriptions-tracking/v3r2/subscriptions"


def _usps_body(**change: object) -> dict[str, object]:
    body: dict[str, object] = {
        "listenerURL": HOOK,
        "secret": USPS_SECRET,
        "adminNotification": [{"email": "ops@example.com"}],
        "filterProperties": {"trackingNumber": "9400100000000000000000"},
    }
    body.update(change)
    return {k: v for k, v in body.items() if v is not None}


def test_usps_creates_with_201_location_and_etag_and_lists_pages(client: TestClient) -> None:
    auth = token(client, "usps", "usps-sub")
    made = [client.post(USPS, json=_usps_body(), headers=auth) for _ in range(3)]
    assert [r.status_code for r in made] == [201] * 3
    first = made[0]
    assert first.headers["location"] == f"http://127.0.0.1{USPS}/{first.json()['subscriptionId']}"
    assert first.headers["etag"]
    assert first.json()["status"] == "ENABLED"
    assert first.json()["secret"] == "*" * 32  # never echoed
    page = client.get(USPS, params={"limit": 2, "offset": 1}, headers=auth).json()
    assert len(page["subscriptions"]) == 2
    assert page["metadata"] == {"totalCount": 3, "offset": 1, "limit": 2, "page": 1,
                                "totalPages": 2}  # fmt: skip
    assert client.get(USPS, params={"limit": 101}, headers=auth).status_code == 400


@pytest.mark.parametrize(
    ("change", "parameter"),
    [
        ({"secret": "short"}, "secret"),
        ({"secret": "x" * 33}, "secret"),
        ({"listenerURL": "not a url"}, "listenerURL"),
        ({"listenerURL": "https://example.com/" + "a" * 200}, "listenerURL"),
        ({"adminNotification": []}, "adminNotification"),
        ({"filterProperties": {"MID": "12345"}}, "filterProperties.MID"),
        ({"filterProperties": {"trackingNumber": "9400",
                               "trackingEventTypes": ["SCAN_EVENT_EXTRACT"]}},
         "filterProperties.trackingEventTypes"),
        ({"status": "SUSPENDED"}, "status"),
    ],
)  # fmt: skip
def test_usps_validation_names_the_parameter(
    client: TestClient, change: dict[str, object], parameter: str
) -> None:
    r = client.post(USPS, json=_usps_body(**change), headers=token(client, "usps", "usps-sub"))
    assert r.status_code == 400
    assert parameter in [e["source"]["parameter"] for e in r.json()["error"]["errors"]]


def test_usps_put_and_delete_need_the_current_etag(client: TestClient) -> None:
    auth = token(client, "usps", "usps-sub")
    made = client.post(USPS, json=_usps_body(), headers=auth)
    path = f"{USPS}/{made.json()['subscriptionId']}"
    assert client.delete(path, headers=auth).status_code == 428
    assert client.delete(path, headers={**auth, "If-Match": "stale"}).status_code == 412
    r = client.put(path, json={"status": "DISABLED"},
                   headers={**auth, "If-Match": made.headers["etag"]})  # fmt: skip
    assert r.status_code == 200 and r.json()["status"] == "DISABLED"
    r = client.put(path, json={"filterProperties": {"trackingNumber": "9400111"}},
                   headers={**auth, "If-Match": r.headers["etag"]})  # fmt: skip
    assert r.status_code == 400
    etag = client.get(path, headers=auth).headers["etag"]
    assert client.delete(path, headers={**auth, "If-Match": etag}).status_code == 204
    assert client.get(path, headers=auth).status_code == 404


def test_usps_subscriptions_are_the_tenants_own(client: TestClient) -> None:
    made = client.post(USPS, json=_usps_body(), headers=token(client, "usps", "usps-a"))
    path = f"{USPS}/{made.json()['subscriptionId']}"
    assert client.get(path, headers=token(client, "usps", "usps-b")).status_code == 404
    assert client.get(USPS, headers={"Authorization": "Bearer nope"}).status_code == 401


# ----------------------------------------------------------------------------------- FedEx

FEDEX = "/track/v1/aiv/trackingnumbers"


def test_fedex_association_is_a_job_with_per_number_results(client: TestClient) -> None:
    auth = token(client, "fedex", "fedex-sub")
    body = {"action": "ADD", "trackingNumbers": [{"trackingNumber": "123456789012"}]}
    r = client.post(FEDEX + "/associations", json=body, headers=auth)
    assert r.status_code == 400  # no webhook project yet
    assert r.json()["errors"][0]["code"] == "WEBHOOK.PROJECT.NOTFOUND"
    client.put("/__admin/webhooks/fedex", params={"tenant": "fedex-sub"},
               json={"url": HOOK, "security_token": "t"})  # fmt: skip
    good = numbers.generate("fedex", random.Random(1))
    body = {"action": "ADD", "trackingNumbers": [{"trackingNumber": good}, {"trackingNumber": "x"}]}
    r = client.post(FEDEX + "/associations", json=body, headers=auth)
    assert r.status_code == 202
    job = r.json()["output"]["jobId"]
    details = client.get(f"{FEDEX}/jobs/{job}", headers=auth).json()["output"]
    assert (details["successCount"], details["failureCount"]) == (1, 1)
    assert client.get(f"{FEDEX}/jobs/nope/status", headers=auth).status_code == 404
    too_many = {"action": "ADD", "trackingNumbers": [{"trackingNumber": good}] * 1001}
    r = client.post(FEDEX + "/associations", json=too_many, headers=auth)
    assert r.json()["errors"][0]["code"] == "TRACKINGNUMBERS.LIMIT.EXCEEDED"
    r = client.post(FEDEX + "/associations", json={**body, "action": "PAUSE"}, headers=auth)
    assert r.json()["errors"][0]["code"] == "ACTION.INVALID"


def test_fedex_strict_targets_refuse_loopback() -> None:
    sim = Simulation(Settings(push_strict_targets=True), load_paths((BUNDLED_SCENARIOS,)))
    with TestClient(create_app(sim), base_url="http://127.0.0.1") as c:
        r = c.put("/__admin/webhooks/fedex", params={"tenant": "t"},
                  json={"url": "https://127.0.0.1/hook", "security_token": "t"})  # fmt: skip
        assert r.status_code == 400
        assert "literal IP" in r.json()["error"]["message"]
        r = c.put("/__admin/webhooks/fedex", params={"tenant": "t"},
                  json={"url": "https://hooks.example.com/fedex",
                        "security_token": "t"})  # fmt: skip
        assert r.status_code == 200


# ------------------------------------------------------------------------------------- DHL

DHL = "/tracking/push/v1"


def test_dhl_subscription_needs_activation_with_the_hook_secret(client: TestClient) -> None:
    key = {"DHL-API-Key": "dhl-sub"}
    body = {"hook": {"uri": HOOK}, "type": "Shipment", "shipmentIDs": ["00340434161094042557"]}
    r = client.post(DHL + "/subscription", json=body, headers=key)
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["status"] == "pending"
    r = client.post(f"{DHL}/subscription/{made['id']}", headers={**key,
                    "DHL-API-Hook-Secret": "guess"})  # fmt: skip
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("application/problem+json")
    assert (
        client.get(DHL + "/subscriptions", headers=key).json()["subscriptions"][0]["id"]
        == (made["id"])
    )
    assert client.delete(f"{DHL}/subscription/{made['id']}", headers=key).status_code == 204
    assert client.get(f"{DHL}/subscription/{made['id']}", headers=key).status_code == 404


@pytest.mark.parametrize(
    "change",
    [{"type": "Parcel"}, {"shipmentIDs": []}, {"shipmentIDs": ["1"] * 11},
     {"hook": {"uri": "nowhere"}}, {"events": ["Lost"]},
     {"hook": {"uri": HOOK, "authentication": {"type": "Basic"}}}],
)  # fmt: skip
def test_dhl_refuses_bad_subscriptions_as_problem_json(
    client: TestClient, change: dict[str, object]
) -> None:
    body = {"hook": {"uri": HOOK}, "type": "Shipment", "shipmentIDs": ["00340434161094042557"],
            **change}  # fmt: skip
    r = client.post(DHL + "/subscription", json=body, headers={"DHL-API-Key": "dhl-sub"})
    assert r.status_code == 400
    assert r.json()["status"] == 400 and r.json()["detail"]
    r = client.post(DHL + "/subscription", json=body)
    assert r.status_code == 401
