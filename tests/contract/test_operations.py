"""Every operation of every vendored tracking spec is served, and answers in its schema.

The spec files are read here (not a hand-made list): a spec operation without an entry in
``OPERATIONS``, or an entry without a route in the app, fails. Each sibling operation (by
reference, by shipment, by TCN, a multi-piece shipment's pieces, documents, notifications,
proof of delivery) is then called over HTTP on a scenario with a reference, three pieces
and a signed delivery, before and after the delivery, and every body is validated against
its operation's schema for its status.
"""

from __future__ import annotations

import base64
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from starlette.routing import Mount, Route
from starlette.testclient import TestClient

from simulator.engine import Simulation
from simulator.faults import Fault
from simulator.scenario import Scenario
from simulator.timeline import piece_numbers
from tests.conftest import EPOCH, SimFactory
from tests.contract.spec_validation import OPERATIONS, SERVED_AT, load_spec, validate

TRACKING_SPECS = (
    "ups/Tracking.yaml",
    "ups/OAuthClientCredentials.yaml",
    "fedex/track.json",
    "fedex/TrackingNumbers-Resource.json",
    "fedex/APIAuthorization-Resource.json",
    "usps/tracking-v3.yaml",
    "usps/tracking-v3r2_4.yaml",
    "usps/oauth2_3_update.yaml",
    "dhl/utapi-traking-api-1.4.1.yaml",
)
"""The tracking and token specs (push subscriptions are the push simulator's)."""

# The OAuth specs describe more than the client-credentials token the carriers' tracking
# clients use; those operations are not simulated, and said so here.
NOT_SIMULATED = {
    ("usps/oauth2_3_update.yaml", "/revoke", "post"): "token revocation (not a tracking call)",
}

UPS_MASTER = "1Z12345E0305271640"  # NOTES §1.9: a UPS multi-piece master
FEDEX_MASTER = "123456789012"
USPS_NUMBER = "9400100000000000000006"
REFERENCE = "ORDER-1001"
SIGNER = "PAT DOE"
DELIVERED_AT = timedelta(days=2)


def _spec_operations() -> set[tuple[str, str, str]]:
    found = set()
    for spec in TRACKING_SPECS:
        for path, item in load_spec(spec)["paths"].items():
            for method in item:
                if method in {"get", "post", "put", "patch", "delete"}:
                    found.add((spec, path, method))
    return found


def test_not_simulated_names_real_operations() -> None:
    assert set(NOT_SIMULATED) <= _spec_operations()


def test_every_spec_operation_has_an_entry() -> None:
    entries = {(op.spec, op.path, op.method) for op in OPERATIONS.values()}
    missing = _spec_operations() - entries - set(NOT_SIMULATED)
    assert not missing, f"spec operations without an OPERATIONS entry: {sorted(missing)}"


def test_every_operation_has_a_route(make_sim: SimFactory) -> None:
    _, client = make_sim()
    served: set[tuple[str, str]] = set()
    for route in client.app.routes:  # type: ignore[attr-defined]
        if isinstance(route, Route) and not isinstance(route, Mount):
            served.update((route.path, m.lower()) for m in route.methods or ())
    assert set(SERVED_AT) == set(OPERATIONS)
    for name, op in OPERATIONS.items():
        assert (SERVED_AT[name], op.method) in served, f"{name} ({op.describe()}) has no route"


def served_counts() -> dict[str, tuple[int, int]]:
    """Per carrier: (spec operations served, spec operations) over the tracking specs."""
    counts: dict[str, list[int]] = {}
    served = {(op.spec, op.path, op.method) for op in OPERATIONS.values()}
    for spec, path, method in _spec_operations():
        carrier = spec.split("/")[0]
        pair = counts.setdefault(carrier, [0, 0])
        pair[1] += 1
        pair[0] += (spec, path, method) in served
    return {c: (a, b) for c, (a, b) in counts.items()}


def test_all_spec_operations_are_served() -> None:
    counts = served_counts()
    unserved = {c: n for c, n in counts.items() if n[0] != n[1] - _skipped(c)}
    assert not unserved, unserved


def _skipped(carrier: str) -> int:
    return sum(1 for spec, _, _ in NOT_SIMULATED if spec.startswith(carrier + "/"))


# ------------------------------------------------------------------------- live bodies


def _scenario(signed: bool = True) -> Scenario:
    return Scenario.model_validate(
        {
            "name": "three-pieces-signed" if signed else "three-pieces-unsigned",
            "reference": REFERENCE,
            "pieces": 3,
            "signature": {"signed": signed, "signer": SIGNER},
            "numbers": {"ups": [UPS_MASTER], "fedex": [FEDEX_MASTER], "usps": [USPS_NUMBER]},
            "carriers": ["ups", "fedex", "usps"],
            "events": [
                {"at": "0h", "kind": "label_created"},
                {"at": "4h", "kind": "picked_up"},
                {"at": "1d", "kind": "out_for_delivery"},
                {"at": "2d", "kind": "delivered"},
            ],
        }
    )


@pytest.fixture
def world(make_sim: SimFactory) -> tuple[Simulation, TestClient]:
    return make_sim(scenarios=[_scenario()])


def _at(sim: Simulation, offset: timedelta, tenant: str) -> None:
    sim.clock.freeze(tenant, EPOCH + offset)


def ups_headers(client: TestClient, tenant: str = "ups-ops") -> dict[str, str]:
    auth = base64.b64encode(f"{tenant}:s".encode()).decode()
    r = client.post(
        "/security/v1/oauth/token",
        headers={"Authorization": f"Basic {auth}"},
        data={"grant_type": "client_credentials"},
    )
    assert r.status_code == 200, r.text
    return {
        "Authorization": f"Bearer {r.json()['access_token']}",
        "transId": "t1",
        "transactionSrc": "testing",
    }


def fedex_headers(client: TestClient, tenant: str = "fedex-ops") -> dict[str, str]:
    r = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": tenant, "client_secret": "s"},
    )
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def usps_headers(client: TestClient, tenant: str = "usps-ops") -> dict[str, str]:
    r = client.post(
        "/oauth2/v3/token",
        json={"grant_type": "client_credentials", "client_id": tenant, "client_secret": "s"},
    )
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_ups_reference_and_shipment(world: tuple[Simulation, TestClient]) -> None:
    sim, client = world
    _at(sim, DELIVERED_AT + timedelta(hours=1), "ups-ops")
    headers = ups_headers(client)
    r = client.get(f"/api/track/v1/reference/details/{REFERENCE}", headers=headers)
    assert r.status_code == 200
    validate("ups", "reference", 200, r.json())
    shipments = r.json()["trackResponse"]["shipment"]
    assert [s["inquiryNumber"] for s in shipments] == [UPS_MASTER]
    package = shipments[0]["package"][0]
    assert package["referenceNumber"] == [{"type": "SHIPMENT", "number": REFERENCE}]
    assert package["packageCount"] == 3

    r = client.get(f"/api/track/v1/shipment/details/{UPS_MASTER}", headers=headers)
    assert r.status_code == 200
    validate("ups", "shipment", 200, r.json())
    packages = r.json()["trackResponse"]["shipment"][0]["package"]
    assert [p["trackingNumber"] for p in packages] == list(piece_numbers("ups", UPS_MASTER, 3))
    assert {p["currentStatus"]["code"] for p in packages} == {package["currentStatus"]["code"]}

    paged = client.get(
        f"/api/track/v1/shipment/details/{UPS_MASTER}?offset=1&count=1", headers=headers
    )
    assert [
        p["trackingNumber"] for p in paged.json()["trackResponse"]["shipment"][0]["package"]
    ] == [packages[1]["trackingNumber"]]

    unknown = client.get("/api/track/v1/reference/details/NOPE-1", headers=headers)
    assert unknown.status_code == 200
    validate("ups", "reference", 200, unknown.json())
    assert unknown.json()["trackResponse"]["shipment"][0]["warnings"][0]["code"] == "TW0001"


def test_ups_signature_and_pod_once_signed(world: tuple[Simulation, TestClient]) -> None:
    sim, client = world
    query = "?returnSignature=true&returnPOD=true"
    _at(sim, DELIVERED_AT - timedelta(hours=1), "ups-ops")
    headers = ups_headers(client)
    before = client.get(f"/api/track/v1/details/{UPS_MASTER}{query}", headers=headers).json()
    assert "deliveryInformation" not in before["trackResponse"]["shipment"][0]["package"][0]
    _at(sim, DELIVERED_AT, "ups-ops")
    after = client.get(f"/api/track/v1/details/{UPS_MASTER}{query}", headers=headers).json()
    validate("ups", "track", 200, after)
    info = after["trackResponse"]["shipment"][0]["package"][0]["deliveryInformation"]
    assert info["receivedBy"] == SIGNER
    assert base64.b64decode(info["signature"]["image"]).startswith(b"\x89PNG\r\n\x1a\n")
    pod = base64.b64decode(info["pod"]["content"]).decode()
    assert SIGNER in pod and "data:image/png;base64," in pod


def _fedex_post(client: TestClient, path: str, body: Any) -> Any:
    return client.post(f"/track/v1/{path}", json=body, headers=fedex_headers(client))


def test_fedex_reference_tcn_and_associated(make_sim: SimFactory) -> None:
    sim, client = make_sim(scenarios=[_scenario()])
    _at(sim, timedelta(days=1, hours=1), "fedex-ops")
    ref = {"referencesInformation": {"type": "CUSTOMER_REFERENCE", "value": REFERENCE}}
    r = _fedex_post(client, "referencenumbers", ref)
    assert r.status_code == 200
    validate("fedex", "references", 200, r.json())
    results = r.json()["output"]["completeTrackResults"]
    assert [x["trackingNumber"] for x in results] == [FEDEX_MASTER]

    missing = _fedex_post(client, "referencenumbers", {"referencesInformation": {"value": "X-9"}})
    # Production's per-result error has carrierCode "" (NOTES §2.6), outside the spec's
    # enum: the recorded deviation of /trackingnumbers; the "spec" form validates.
    assert (
        missing.json()["output"]["completeTrackResults"][0]["trackResults"][0][
            "trackingNumberInfo"
        ]["carrierCode"]
        == ""
    )
    _, spec_client = make_sim(scenarios=[_scenario()], not_found="spec")
    spec_missing = _fedex_post(
        spec_client, "referencenumbers", {"referencesInformation": {"value": "X-9"}}
    )
    validate("fedex", "references", 200, spec_missing.json())
    error = missing.json()["output"]["completeTrackResults"][0]["trackResults"][0]["error"]
    assert error["code"] == "TRACKING.REFERENCENUMBER.NOTFOUND"
    empty = _fedex_post(client, "referencenumbers", {"referencesInformation": {"value": ""}})
    assert empty.status_code == 400
    validate("fedex", "references", 400, empty.json())
    assert empty.json()["errors"][0]["code"] == "TRACKING.REFRENCEVALUE.INVALID"

    tcn = _fedex_post(client, "tcn", {"tcnInfo": {"value": REFERENCE}})
    assert tcn.status_code == 200
    validate("fedex", "tcn", 200, tcn.json())
    bad_tcn = _fedex_post(client, "tcn", {"tcnInfo": {"value": "N552428361Y555XXX"}})
    assert bad_tcn.status_code == 400
    validate("fedex", "tcn", 400, bad_tcn.json())
    assert bad_tcn.json()["errors"][0]["code"] == "TRACKING.TCN.NOTFOUND"

    mps = {
        "associatedType": "STANDARD_MPS",
        "masterTrackingNumberInfo": {"trackingNumberInfo": {"trackingNumber": FEDEX_MASTER}},
    }
    r = _fedex_post(client, "associatedshipments", mps)
    assert r.status_code == 200
    validate("fedex", "associated", 200, r.json())
    children = r.json()["output"]["completeTrackResults"]
    assert [c["trackingNumber"] for c in children] == list(
        piece_numbers("fedex", FEDEX_MASTER, 3)[1:]
    )
    for i, child in enumerate(children, start=2):
        details = child["trackResults"][0]["packageDetails"]
        assert (details["sequenceNumber"], details["count"]) == (str(i), "3")
    bad = _fedex_post(client, "associatedshipments", {**mps, "associatedType": "NOPE"})
    assert bad.status_code == 400
    validate("fedex", "associated", 400, bad.json())


def _spod_request(fmt: str, number: str = FEDEX_MASTER) -> dict[str, Any]:
    return {
        "trackDocumentDetail": {
            "documentType": "SIGNATURE_PROOF_OF_DELIVERY",
            "documentFormat": fmt,
        },
        "trackDocumentSpecification": [{"trackingNumberInfo": {"trackingNumber": number}}],
    }


def test_fedex_spod_only_once_delivered_and_signed(make_sim: SimFactory) -> None:
    sim, client = make_sim(scenarios=[_scenario()])
    _at(sim, DELIVERED_AT - timedelta(minutes=1), "fedex-ops")
    early = _fedex_post(client, "trackingdocuments", _spod_request("PDF"))
    assert early.status_code == 404
    validate("fedex", "documents", 404, early.json())
    _at(sim, DELIVERED_AT, "fedex-ops")
    for fmt, magic in (("PDF", b"%PDF-1.4"), ("PNG", b"\x89PNG")):
        r = _fedex_post(client, "trackingdocuments", _spod_request(fmt))
        assert r.status_code == 200, r.text
        validate("fedex", "documents", 200, r.json())
        document = base64.b64decode(r.json()["output"]["document"][0])
        assert document.startswith(magic)
    pdf = base64.b64decode(
        _fedex_post(client, "trackingdocuments", _spod_request("PDF")).json()["output"]["document"][
            0
        ]
    )
    assert SIGNER.encode() in pdf and pdf.rstrip().endswith(b"%%EOF")
    unknown = _fedex_post(client, "trackingdocuments", _spod_request("PDF", "999999999999"))
    assert unknown.status_code == 400
    validate("fedex", "documents", 400, unknown.json())

    sim2, client2 = make_sim(scenarios=[_scenario(signed=False)])
    _at(sim2, DELIVERED_AT + timedelta(hours=1), "fedex-ops")
    unsigned = _fedex_post(client2, "trackingdocuments", _spod_request("PDF"))
    assert unsigned.status_code == 404


def test_fedex_notifications_are_recorded(world: tuple[Simulation, TestClient]) -> None:
    sim, client = world
    _at(sim, timedelta(hours=1), "fedex-ops")
    body = {
        "senderContactName": "Sam Smith",
        "senderEMailAddress": "sam@example.com",
        "trackingNumberInfo": {"trackingNumber": FEDEX_MASTER},
        "trackingEventNotificationDetail": {
            "trackingNotifications": [
                {
                    "notificationDetail": {
                        "localization": {"languageCode": "en"},
                        "emailDetail": {"emailAddress": "pat@example.com"},
                        "notificationType": "HTML",
                    },
                    "notificationEventTypes": ["ON_DELIVERY"],
                }
            ]
        },
    }
    r = _fedex_post(client, "notifications", body)
    assert r.status_code == 200, r.text
    validate("fedex", "notifications", 200, r.json())
    (sub,) = sim.store.subscriptions("fedex-ops")
    assert (sub.number, sub.recipients, sub.event_types) == (
        FEDEX_MASTER, ("pat@example.com",), ("ON_DELIVERY",),
    )  # fmt: skip
    bad = _fedex_post(client, "notifications", {**body, "senderContactName": ""})
    assert bad.status_code == 400
    validate("fedex", "notifications", 400, bad.json())


USPS_V3_NOTIFY = {"notifyEventTypes": ["EMAIL_ALERT"], "notifications": [{"email": "a@b.co"}]}
USPS_V3R2_NOTIFY = {
    "uniqueTrackingID": "1",
    "notifyEventTypes": ["ALL_UPDATES"],
    "recipients": [{"email": "a@b.co"}],
}
USPS_V3_POD = {
    "uniqueMailPieceID": "1",
    "mailPieceIntakeDate": "2024-04-04 14:03:12:000",
    "tableCode": "T",
    "requestType": "email",
    "firstName": "Pat",
    "lastName": "Doe",
    "email": ["pat@example.com"],
}
USPS_V3R2_POD = {
    "uniqueTrackingID": "1",
    "recipients": [{"email": "pat@example.com", "firstName": "Pat", "lastName": "Doe"}],
}


@pytest.mark.parametrize(
    ("name", "path", "body"),
    [
        ("notifications", "/tracking/v3/tracking/{n}/notifications", USPS_V3_NOTIFY),
        ("proof_of_delivery", "/tracking/v3/tracking/{n}/proof-of-delivery", USPS_V3_POD),
        ("notifications_v3r2", "/tracking/v3r2/tracking/{n}/notifications", USPS_V3R2_NOTIFY),
        ("proof_of_delivery_v3r2", "/tracking/v3r2/tracking/{n}/proof-of-delivery", USPS_V3R2_POD),
    ],
)
def test_usps_202_and_errors(
    world: tuple[Simulation, TestClient], name: str, path: str, body: dict[str, Any]
) -> None:
    sim, client = world
    headers = usps_headers(client)
    _at(sim, timedelta(hours=5), "usps-ops")
    r = client.post(path.format(n=USPS_NUMBER), json=body, headers=headers)
    assert r.status_code == 202, r.text
    validate("usps", name, 202, r.json())
    assert len(sim.store.subscriptions("usps-ops")) == 1
    # Every request schema requires its recipients; the notification ones also forbid
    # other fields (additionalProperties: false).
    broken = {k: v for k, v in body.items() if k not in ("recipients", "email", "notifications")}
    bad = client.post(path.format(n=USPS_NUMBER), json=broken, headers=headers)
    assert bad.status_code == 400
    validate("usps", name, 400, bad.json())
    unknown = client.post(path.format(n="9400100000000000000013"), json=body, headers=headers)
    assert unknown.status_code in (400, 404)
    validate("usps", name, unknown.status_code, unknown.json())
    unauthorized = client.post(path.format(n=USPS_NUMBER), json=body)
    assert unauthorized.status_code == 401
    validate("usps", name, 401, unauthorized.json())


# --------------------------------------------------------- unknown paths per carrier


@pytest.mark.parametrize(
    ("path", "check"),
    [
        ("/api/track/v1/nothing/here", lambda b: b["response"]["errors"][0]["code"] == "10404"),
        ("/track/v1/nothing", lambda b: b["errors"][0]["code"] == "NOT.FOUND.ERROR"),
        ("/tracking/v3r2/nothing", lambda b: b["apiVersion"] == "/tracking/v3r2"),
        ("/tracking/v3/x/y", lambda b: b["error"]["code"] == "404"),
        ("/track/shipments/123", lambda b: b["status"] == 404),
        ("/t/acme/fedex/track/v1/nothing", lambda b: "errors" in b),
    ],
)
def test_unknown_path_under_a_carrier_prefix(make_sim: SimFactory, path: str, check: Any) -> None:
    _, client = make_sim()
    r = client.post(path, json={})
    assert r.status_code == 404
    assert check(r.json()), r.text
    assert "hints" not in r.json()
    unmatched = client.get("/__admin/requests/unmatched").json()
    assert [e["path"] for e in unmatched] == [path]


def test_unknown_path_elsewhere_keeps_the_generic_answer(make_sim: SimFactory) -> None:
    _, client = make_sim()
    r = client.get("/trak/v1/details/1Z")
    assert r.status_code == 404
    assert r.json()["error"] == "no simulated carrier endpoint at this path"
    assert "hints" in r.json()


def test_readme_multi_piece_example(make_sim: SimFactory) -> None:
    text = Path(__file__).parents[2].joinpath("README.md").read_text(encoding="utf-8")
    (block,) = [b for b in re.findall(r"```yaml\n(.*?)```", text, re.S) if "pieces: 3" in b]
    scenario = Scenario.model_validate(yaml.safe_load(block))
    sim, client = make_sim(scenarios=[scenario])
    _at(sim, timedelta(days=2), "fedex-ops")
    mps = {
        "associatedType": "STANDARD_MPS",
        "masterTrackingNumberInfo": {"trackingNumberInfo": {"trackingNumber": FEDEX_MASTER}},
    }
    children = _fedex_post(client, "associatedshipments", mps).json()["output"]
    assert len(children["completeTrackResults"]) == 2
    ref = {"referencesInformation": {"value": "ORDER-1001"}}
    found = _fedex_post(client, "referencenumbers", ref).json()["output"]
    assert found["completeTrackResults"][0]["trackingNumber"] == FEDEX_MASTER
    pod = _fedex_post(client, "trackingdocuments", _spod_request("PDF"))
    assert pod.status_code == 200


def test_faults_tenants_and_the_journal_apply_to_the_new_operations(make_sim: SimFactory) -> None:
    sim, client = make_sim(scenarios=[_scenario()])
    fault = Fault.model_validate(
        {
            "name": "fedex-down",
            "kind": "http_error",
            "status": 503,
            "match": {"carrier": "fedex", "endpoint": "track", "tenant": "fedex-ops"},
        }
    )
    sim.faults.add(fault)
    _at(sim, DELIVERED_AT, "fedex-ops")
    down = _fedex_post(client, "trackingdocuments", _spod_request("PDF"))
    assert down.status_code == 503
    validate("fedex", "documents", 503, down.json())
    # Another tenant (its own credential) is not affected, and sees its own clock.
    other = client.post(
        "/track/v1/trackingdocuments",
        json=_spod_request("PDF"),
        headers=fedex_headers(client, "fedex-other"),
    )
    assert other.status_code == 404  # its clock has not reached the delivery
    paths = [e.path for e in sim.journal.snapshot()]
    assert paths.count("/track/v1/trackingdocuments") == 2
