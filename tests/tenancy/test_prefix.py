"""Naming the tenant: ``/t/{tenant}`` path prefix, ``X-Carriersim-Tenant`` header, credential.

The prefix beats the header, which beats the credential. A token binds the tenant it was
issued in; used under another tenant's prefix or header it is refused with the carrier's own
401, whose message names the tenant the token belongs to.
"""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from simulator.engine import Simulation
from tests.tenancy.drivers import create, login, refusal_text, track, unauthorized

HEADER = "X-Carriersim-Tenant"


def prefixes(tenant: str, carrier: str) -> list[str]:
    """Both prefix forms: in front of the root path and of the per-carrier path."""
    return [f"/t/{tenant}", f"/t/{tenant}/{carrier}"]


@pytest.mark.parametrize("form", ["root", "carrier"])
def test_prefix_names_the_tenant(
    mixless: tuple[Simulation, TestClient], carrier: str, form: str
) -> None:
    _, client = mixless
    number = create(client, "ci-1", carrier, "delivered-on-time", start="-10d")
    prefix = prefixes("ci-1", carrier)[form == "carrier"]
    # Any credential: the prefix, not the credential, names the tenant.
    auth = login(client, carrier, "someone", prefix=prefix)
    assert track(client, carrier, number, auth, prefix=prefix).found
    # The credential's own tenant has no such shipment.
    assert not track(client, carrier, number, login(client, carrier, "someone")).found


def test_header_names_the_tenant(mixless: tuple[Simulation, TestClient], carrier: str) -> None:
    _, client = mixless
    number = create(client, "ci-2", carrier, "delivered-on-time", start="-10d")
    auth = login(client, carrier, "someone", headers={HEADER: "ci-2"})
    assert track(client, carrier, number, auth).found


def test_prefix_beats_the_header(mixless: tuple[Simulation, TestClient], carrier: str) -> None:
    _, client = mixless
    number = create(client, "by-prefix", carrier, "delivered-on-time", start="-10d")
    create(client, "by-header", carrier, "cancelled", start="-10d", number=number)
    auth = login(client, carrier, "someone", prefix="/t/by-prefix", headers={HEADER: "by-header"})
    tracked = track(client, carrier, number, auth, prefix="/t/by-prefix")
    assert tracked.found and tracked.events > 2  # delivered-on-time's, not cancelled's two


@pytest.mark.parametrize("carrier", ["ups", "fedex", "usps"])
def test_token_is_bound_to_its_tenant_across_prefixes(
    mixless: tuple[Simulation, TestClient], carrier: str
) -> None:
    _, client = mixless
    number = create(client, "team-a", carrier, "delivered-on-time", start="-10d")
    create(client, "team-b", carrier, "delivered-on-time", start="-10d", number=number)
    auth = login(client, carrier, "someone", prefix="/t/team-a")
    for prefix in ["/t/team-a", f"/t/team-a/{carrier}", "", f"/{carrier}"]:
        assert track(client, carrier, number, auth, prefix=prefix).found, prefix
    for prefix in prefixes("team-b", carrier):
        tracked = track(client, carrier, number, auth, prefix=prefix)
        assert unauthorized(carrier, tracked), (prefix, tracked)


@pytest.mark.parametrize("carrier", ["ups", "fedex", "usps"])
@pytest.mark.parametrize("naming", ["prefix", "header"])
def test_another_tenants_token_is_refused_naming_its_tenant(
    mixless: tuple[Simulation, TestClient], carrier: str, naming: str
) -> None:
    _, client = mixless
    number = create(client, "team-b", carrier, "delivered-on-time", start="-10d")
    auth = login(client, carrier, "team-a")  # the credential names tenant team-a
    if naming == "prefix":
        tracked = track(client, carrier, number, auth, prefix="/t/team-b")
        how = "the path prefix /t/team-b"
    else:
        tracked = track(client, carrier, number, auth, headers={HEADER: "team-b"})
        how = "the X-Carriersim-Tenant header"
    assert unauthorized(carrier, tracked), tracked
    assert (
        f"this access token belongs to tenant 'team-a', but {how} names tenant 'team-b'; get a "
        "token under tenant 'team-b'"
    ) in refusal_text(carrier, tracked)
    # The same header on the token request gives a token that works.
    named = login(client, carrier, "team-a", headers={HEADER: "team-b"})
    assert track(client, carrier, number, named, headers={HEADER: "team-b"}).found


def test_dhl_key_is_in_the_prefixed_tenant(mixless: tuple[Simulation, TestClient]) -> None:
    # No token to bind anything: each request's prefix (else header, else key) names it.
    _, client = mixless
    number = create(client, "team-a", "dhl", "delivered-on-time", start="-10d")
    key = login(client, "dhl", "someone")
    for prefix in prefixes("team-a", "dhl"):
        assert track(client, "dhl", number, key, prefix=prefix).found, prefix
    for prefix in ["", "/dhl", *prefixes("team-b", "dhl")]:
        assert track(client, "dhl", number, key, prefix=prefix).status == 404, prefix
    assert track(client, "dhl", number, login(client, "dhl", "team-a")).found


def test_a_credentials_token_used_under_a_prefix(
    mixless: tuple[Simulation, TestClient], carrier: str
) -> None:
    # A token issued at the root binds the credential's tenant: under that tenant's own
    # prefix it works, under any other it is refused.
    _, client = mixless
    number = create(client, "acme", carrier, "delivered-on-time", start="-10d")
    auth = login(client, carrier, "acme")
    assert track(client, carrier, number, auth, prefix="/t/acme").found
    other = track(client, carrier, number, auth, prefix="/t/intruder")
    assert not other.found
    if carrier != "dhl":
        assert unauthorized(carrier, other)


def test_journal_names_the_prefixed_tenant(
    mixless: tuple[Simulation, TestClient], carrier: str
) -> None:
    _, client = mixless
    number = create(client, "ci-j", carrier, "delivered-on-time", start="-10d")
    auth = login(client, carrier, "someone", prefix="/t/ci-j")
    track(client, carrier, number, auth, prefix=f"/t/ci-j/{carrier}")
    # Refused under another prefix: journaled as that prefix's tenant, who made the request.
    track(client, carrier, number, auth, prefix="/t/ci-k")
    mine = client.get("/__admin/requests", params={"tenant": "ci-j", "carrier": carrier}).json()
    expected = ["track"] if carrier == "dhl" else ["token", "track"]
    assert [e["endpoint"] for e in mine] == expected
    assert mine[-1]["numbers"] == [number] and mine[-1]["status"] == 200
    theirs = client.get("/__admin/requests", params={"tenant": "ci-k", "carrier": carrier}).json()
    assert [(e["numbers"], e["path"].startswith("/t/ci-k/")) for e in theirs] == [([number], True)]


def test_faults_match_the_prefixed_tenant(
    mixless: tuple[Simulation, TestClient], carrier: str
) -> None:
    # The fault wrapper asks the carrier's describe hook who is calling: the prefix's tenant.
    _, client = mixless
    number = create(client, "flaky", carrier, "delivered-on-time", start="-10d")
    create(client, "steady", carrier, "delivered-on-time", start="-10d", number=number)
    fault = {
        "kind": "http_error",
        "status": 503,
        "match": {"carrier": carrier, "endpoint": "track"},
    }
    r = client.post("/__admin/faults", params={"tenant": "flaky"}, json=fault)
    assert r.status_code == 201, r.text
    flaky = login(client, carrier, "someone", prefix="/t/flaky")
    steady = login(client, carrier, "someone", prefix="/t/steady")
    assert track(client, carrier, number, flaky, prefix="/t/flaky").status == 503
    assert track(client, carrier, number, steady, prefix="/t/steady").found


def test_unknown_path_under_a_prefix_is_a_journaled_404(
    mixless: tuple[Simulation, TestClient],
) -> None:
    _, client = mixless
    # Under UPS's own prefix: UPS's 404 envelope, and still an unmatched request.
    r = client.get("/t/acme/api/track/v2/details/1Z")
    assert r.status_code == 404
    assert r.json() == {
        "response": {"errors": [{"code": "10404", "message": "Resource Not Found"}]}
    }
    r = client.get("/t/acme/nowhere/1Z")
    assert r.status_code == 404
    assert r.json()["error"] == "no simulated carrier endpoint at this path"
    unmatched = client.get("/__admin/requests/unmatched").json()
    assert [e["path"] for e in unmatched] == [
        "/t/acme/api/track/v2/details/1Z",
        "/t/acme/nowhere/1Z",
    ]


def test_wrong_method_under_a_prefix(mixless: tuple[Simulation, TestClient]) -> None:
    _, client = mixless
    r = client.get("/t/acme/track/v1/trackingnumbers")
    assert r.status_code == 405
