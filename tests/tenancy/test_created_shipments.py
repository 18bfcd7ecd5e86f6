"""Shipments created through the admin API are served by every carrier, to their tenant only."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from simulator.carriers import fedex
from simulator.engine import Simulation
from tests.conftest import SimFactory
from tests.tenancy.drivers import create, login, track


def visible(client: TestClient, tenant: str, carrier: str, number: str) -> int:
    """How many events the admin API says the tenant sees now."""
    r = client.get(f"/__admin/shipments/{carrier}/{number}", params={"tenant": tenant})
    assert r.status_code == 200, r.text
    count: int = r.json()["visible"]
    return count


def test_created_shipment_is_tracked_by_its_tenant(
    mixless: tuple[Simulation, TestClient], carrier: str
) -> None:
    _, client = mixless
    number = create(client, "acme", carrier, "delivered-on-time", start="-10d")
    tracked = track(client, carrier, number, login(client, carrier, "acme"))
    assert tracked.found, tracked.body
    assert tracked.events == visible(client, "acme", carrier, number)


def test_created_shipment_is_not_found_for_another_tenant(
    mixless: tuple[Simulation, TestClient], carrier: str
) -> None:
    _, client = mixless
    number = create(client, "acme", carrier, "delivered-on-time", start="-10d")
    tracked = track(client, carrier, number, login(client, carrier, "bob"))
    assert not tracked.found
    # Each carrier's own "not found": UPS and FedEx inside a 200, USPS 400, DHL 404.
    assert tracked.status == {"ups": 200, "fedex": 200, "usps": 400, "dhl": 404}[carrier]


def test_created_shipment_follows_the_tenants_clock(
    mixless: tuple[Simulation, TestClient], carrier: str
) -> None:
    sim, client = mixless
    sim.clock.freeze("acme")
    number = create(client, "acme", carrier, "delivered-on-time")
    auth = login(client, carrier, "acme")
    first = track(client, carrier, number, auth)
    assert first.found and first.events == 1 == visible(client, "acme", carrier, number)
    client.post("/__admin/clock/advance", json={"tenant": "acme", "by": "1d"})
    # A day on, the first token has expired (on the tenant's clock): log in again.
    later = track(client, carrier, number, login(client, carrier, "acme"))
    assert later.events > first.events
    assert later.events == visible(client, "acme", carrier, number)


def test_a_shipment_created_later_is_served_at_once(
    mixless: tuple[Simulation, TestClient], carrier: str
) -> None:
    # The first tracking request of a tenant that has created nothing yet, then a creation:
    # nothing cached on the way may hide the new shipment.
    _, client = mixless
    auth = login(client, carrier, "acme")
    number = create(client, "acme", carrier, "delivered-on-time", start="-10d")
    other = create(client, "zed", carrier, "cancelled", start="-10d")
    assert not track(client, carrier, other, auth).found
    assert track(client, carrier, number, auth).found
    client.delete(f"/__admin/shipments/{carrier}/{number}", params={"tenant": "acme"})
    assert not track(client, carrier, number, auth).found


def test_the_tenants_shipment_beats_the_catalog(make_sim: SimFactory, carrier: str) -> None:
    # A number the library declares for one scenario, created by a tenant as another: the
    # tenant sees its own, everyone else the library's.
    sim, client = make_sim()
    number, declared = next(
        (n, s) for n, s in sim.catalog.declared[carrier].items() if s.name == "delivered-on-time"
    )
    assert declared.found
    create(client, "acme", carrier, "cancelled", start="-10d", number=number)
    sim.clock.freeze("acme")
    sim.clock.freeze("bob")
    mine = track(client, carrier, number, login(client, carrier, "acme"))
    theirs = track(client, carrier, number, login(client, carrier, "bob"))
    assert mine.found and theirs.found
    assert mine.events == visible(client, "acme", carrier, number) == 2
    assert theirs.events == visible(client, "bob", carrier, number) > 2


def test_created_shipments_in_a_fedex_batch(mixless: tuple[Simulation, TestClient]) -> None:
    _, client = mixless
    mine = create(client, "acme", "fedex", "delivered-on-time", start="-10d")
    theirs = create(client, "bob", "fedex", "delivered-on-time", start="-10d")
    token = login(client, "fedex", "acme").headers
    body = {
        "includeDetailedScans": True,
        "trackingInfo": [{"trackingNumberInfo": {"trackingNumber": n}} for n in (mine, theirs)],
    }
    r = client.post(fedex.TRACK_PATH, json=body, headers=dict(token))
    results = [e["trackResults"][0] for e in r.json()["output"]["completeTrackResults"]]
    assert "error" not in results[0]
    assert results[1]["error"]["code"] == "TRACKING.TRACKINGNUMBER.NOTFOUND"


def test_created_shipments_in_a_usps_batch(mixless: tuple[Simulation, TestClient]) -> None:
    _, client = mixless
    mine = create(client, "acme", "usps", "delivered-on-time", start="-10d")
    theirs = create(client, "bob", "usps", "delivered-on-time", start="-10d")
    headers = dict(login(client, "usps", "acme").headers)
    r = client.post(
        "/tracking/v3r2/tracking",
        json=[{"trackingNumber": mine}, {"trackingNumber": theirs}],
        headers=headers,
    )
    assert r.status_code == 207, r.text  # one found, one not: the multi-status answer
    items: list[dict[str, Any]] = r.json()
    assert items[0]["trackingNumber"] == mine and "trackingEvents" in items[0]
    assert items[1]["trackingNumber"] == theirs and "trackingEvents" not in items[1]


def test_fedex_wrong_number_shows_the_tenants_neighbour(
    mixless: tuple[Simulation, TestClient],
) -> None:
    # The wrong_number lie answers with the neighbour label's parcel as this tenant would
    # track it: here a shipment the tenant created under that number.
    _, client = mixless
    asked = create(client, "acme", "fedex", "delivered-on-time", start="-10d")
    neighbour = fedex.wrong_number(asked)
    create(client, "acme", "fedex", "cancelled", start="-10d", number=neighbour)
    lie = {"kind": "lie", "mode": "wrong_number", "match": {"carrier": "fedex"}}
    assert client.post("/__admin/faults", params={"tenant": "acme"}, json=lie).status_code == 201
    tracked = track(client, "fedex", asked, login(client, "fedex", "acme"))
    result = tracked.body["output"]["completeTrackResults"][0]["trackResults"][0]
    assert result["trackingNumberInfo"]["trackingNumber"] == neighbour
    assert tracked.events == visible(client, "acme", "fedex", neighbour) == 2
    # Without a shipment of its own under the neighbour number (and no default mix), the
    # asked parcel is replayed under it.
    client.delete(f"/__admin/shipments/fedex/{neighbour}", params={"tenant": "acme"})
    again = track(client, "fedex", asked, login(client, "fedex", "acme"))
    assert again.events == visible(client, "acme", "fedex", asked)
