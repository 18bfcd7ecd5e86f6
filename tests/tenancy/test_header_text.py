"""Headers that name a tenant are read as UTF-8 text, as the admin API reads them.

``X-Carriersim-Tenant`` and the DHL key name the same tenant "é" that ``?tenant=é`` names on
the admin API, never its Latin-1 reading "Ã©"; a DHL key that is not UTF-8 at all is no key
DHL could have issued, and gets DHL's own 401, never a tenant named by garbage. Over a real
socket: the in-process test client re-encodes header bytes before the app sees them.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator

import httpx
import pytest

from simulator.app import create_app
from simulator.carriers.dhl.api import UNAUTHORIZED
from simulator.engine import Simulation
from simulator.server import ServerThread
from tests.conftest import SimFactory
from tests.tenancy.drivers import create, login, track

NAME = "é"
UTF8 = NAME.encode()
LATIN1_READING = UTF8.decode("latin-1")  # "Ã©": the tenant the header used to name
NOT_UTF8 = (b"\xff\xfe", b"\xe9", b"k\xc3")  # garbage, Latin-1 "é", a cut UTF-8 sequence


@pytest.fixture
def served(make_sim: SimFactory) -> Iterator[tuple[Simulation, httpx.Client]]:
    sim, _ = make_sim(mix=False)
    with ServerThread(create_app(sim)) as server, httpx.Client(base_url=server.url) as client:
        yield sim, client


def test_the_tenant_header_names_the_admin_apis_tenant(
    served: tuple[Simulation, httpx.Client], carrier: str
) -> None:
    sim, client = served
    number = create(client, NAME, carrier, "delivered-on-time", start="-10d")
    header = {"X-Carriersim-Tenant": UTF8}
    auth = login(client, carrier, "someone", headers=header)
    assert track(client, carrier, number, auth).found
    assert LATIN1_READING not in sim.store.tenants()
    # Its requests are journaled (and so matched by faults) under the same name.
    mine = client.get("/__admin/requests", params={"tenant": NAME, "carrier": carrier}).json()
    assert [e["endpoint"] for e in mine][-1] == "track" and mine[-1]["status"] == 200


def test_a_utf8_dhl_key_names_its_tenant(served: tuple[Simulation, httpx.Client]) -> None:
    _, client = served
    number = create(client, NAME, "dhl", "delivered-on-time", start="-10d")
    r = client.get(
        "/track/shipments", params={"trackingNumber": number}, headers={"DHL-API-Key": UTF8}
    )
    assert r.status_code == 200, r.text
    # A stray request with the key is journaled under the key's tenant too.
    assert client.get("/track/nowhere", headers={"DHL-API-Key": UTF8}).status_code == 404
    stray = client.get("/__admin/requests/unmatched").json()
    assert [e["tenant"] for e in stray] == [NAME]


@pytest.mark.parametrize("key", NOT_UTF8)
def test_a_dhl_key_that_is_not_utf8_gets_dhls_401(
    served: tuple[Simulation, httpx.Client], key: bytes
) -> None:
    sim, client = served
    for path, params in [
        ("/track/shipments", {"trackingNumber": "00340434292135100186"}),
        ("/tracking/push/v1/subscriptions", {}),
    ]:
        r = client.get(path, params=params, headers={"DHL-API-Key": key})
        assert r.status_code == 401, (path, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json() == UNAUTHORIZED  # NOTES §4.2: the gateway's body for a bad key
    assert sim.store.tenants() == []
    journaled = client.get("/__admin/requests", params={"carrier": "dhl"}).json()
    assert {e["tenant"] for e in journaled} == {""}


def test_ups_basic_credentials_that_are_not_ascii_get_the_ups_401(
    served: tuple[Simulation, httpx.Client],
) -> None:
    """Base64 is ASCII: other characters are a malformed credential, not a server error."""
    _, client = served
    for authorization in [
        b"Basic \xe9\xe9",
        "Basic é".encode(),
        b"Basic " + base64.b64encode(b"\xe9:s"),
    ]:
        r = client.post(
            "/security/v1/oauth/token",
            headers={"Authorization": authorization},
            data={"grant_type": "client_credentials"},
        )
        assert r.status_code == 401, (authorization, r.text)
        assert r.json()["response"]["errors"][0]["code"] == "10401"
    # The journal's reading of a stray request's credential survives them as well.
    client.get("/security/v1/nowhere", headers={"Authorization": b"Basic \xe9\xe9"})
    assert client.get("/__admin/requests/unmatched").status_code == 200
