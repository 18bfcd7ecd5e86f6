"""Clocks per tenant, with the tenant named by the path prefix."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from starlette.testclient import TestClient

from simulator import numbers
from simulator.engine import Simulation
from tests.conftest import SimFactory
from tests.tenancy.drivers import login, track, unauthorized


def test_each_prefixed_tenant_sees_its_own_clock(make_sim: SimFactory, carrier: str) -> None:
    # One library number, one credential; only the prefix differs between the requests.
    sim, client = make_sim()
    number = next(
        n for n, s in sim.catalog.declared[carrier].items() if s.name == "delivered-on-time"
    )
    shipment = sim.catalog.lookup(carrier, number)
    assert shipment is not None
    events = shipment.events
    sim.clock.freeze("early", at=events[0].at)
    sim.clock.freeze("late", at=events[-1].at)
    seen = {}
    for tenant in ("early", "late"):
        prefix = f"/t/{tenant}/{carrier}"
        tracked = track(client, carrier, number, login(client, carrier, "ci", prefix), prefix)
        assert tracked.found, tracked
        seen[tenant] = tracked.events
    assert seen["early"] == 1
    assert seen["late"] > seen["early"]


def test_moving_one_prefixed_tenants_clock_leaves_the_others(
    make_sim: SimFactory, carrier: str
) -> None:
    sim, client = make_sim()
    number = next(
        n for n, s in sim.catalog.declared[carrier].items() if s.name == "delivered-on-time"
    )
    shipment = sim.catalog.lookup(carrier, number)
    assert shipment is not None
    for tenant in ("mover", "stayer"):
        sim.clock.freeze(tenant, at=shipment.events[0].at)
    r = client.post("/__admin/clock/advance", json={"tenant": "mover", "by": "1d"})
    assert r.status_code == 200, r.text
    counts = {
        tenant: track(
            client,
            carrier,
            number,
            login(client, carrier, "ci", f"/t/{tenant}"),
            f"/t/{tenant}",
        ).events
        for tenant in ("mover", "stayer")
    }
    assert counts["stayer"] == 1
    assert counts["mover"] > 1


@pytest.mark.parametrize("carrier", ["ups", "fedex", "usps"])  # DHL's static key never expires
def test_tokens_expire_on_the_prefixed_tenants_clock(
    mixless: tuple[Simulation, TestClient], carrier: str
) -> None:
    sim, client = mixless
    sim.clock.freeze("idle")
    sim.clock.freeze("busy")
    idle = login(client, carrier, "ci", "/t/idle")
    busy = login(client, carrier, "ci", "/t/busy")
    sim.clock.advance("busy", timedelta(days=2))
    number = numbers.generate(carrier, random.Random(7))
    assert unauthorized(carrier, track(client, carrier, number, busy, "/t/busy"))
    assert not unauthorized(carrier, track(client, carrier, number, idle, "/t/idle"))
