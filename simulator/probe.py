"""Ask a simulator what a carrier answers for a number, the way that carrier's clients ask.

``carriersim timeline`` uses it in-process (through an in-memory transport, so what it
prints is exactly what the server would send); tests use it over a real socket.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta

import httpx

from simulator.app import create_app
from simulator.engine import Simulation
from simulator.scenario import Scenario
from simulator.settings import Settings

TENANT = "carriersim-timeline"


async def _bearer(http: httpx.AsyncClient, carrier: str, tenant: str) -> str:
    if carrier == "ups":
        r = await http.post(
            "/security/v1/oauth/token",
            auth=(tenant, "secret"),
            data={"grant_type": "client_credentials"},
        )
    elif carrier == "fedex":
        form = {"grant_type": "client_credentials", "client_id": tenant, "client_secret": "s"}
        r = await http.post("/oauth/token", data=form)
    else:
        body = {"grant_type": "client_credentials", "client_id": tenant, "client_secret": "s"}
        r = await http.post("/oauth2/v3/token", json=body)
    r.raise_for_status()
    return f"Bearer {r.json()['access_token']}"


async def ask(
    http: httpx.AsyncClient, carrier: str, number: str, tenant: str = TENANT
) -> httpx.Response:
    """Log in as ``tenant`` and track ``number`` as a client of that carrier does."""
    if carrier == "dhl":
        return await http.get(
            "/track/shipments", params={"trackingNumber": number}, headers={"DHL-API-Key": tenant}
        )
    auth = await _bearer(http, carrier, tenant)
    if carrier == "ups":
        headers = {"Authorization": auth, "transId": "probe", "transactionSrc": "carriersim"}
        return await http.get(f"/api/track/v1/details/{number}", headers=headers)
    if carrier == "fedex":
        body = {
            "includeDetailedScans": True,
            "trackingInfo": [{"trackingNumberInfo": {"trackingNumber": number}}],
        }
        return await http.post(
            "/track/v1/trackingnumbers", json=body, headers={"Authorization": auth}
        )
    return await http.get(
        f"/tracking/v3/tracking/{number}",
        params={"expand": "DETAIL"},
        headers={"Authorization": auth},
    )


async def _ask(sim: Simulation, carrier: str, number: str) -> tuple[int, dict[str, str], bytes]:
    transport = httpx.ASGITransport(app=create_app(sim))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        r = await ask(http, carrier, number)
        return r.status_code, dict(r.headers), r.content


def probe(
    settings: Settings,
    scenarios: Sequence[Scenario],
    carrier: str,
    number: str,
    at: timedelta,
) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) the carrier answers for ``number`` at ``at`` after its start."""
    sim = Simulation(settings, scenarios)
    shipment = sim.catalog.lookup(carrier, number)
    start = shipment.t0 if shipment is not None else sim.clock.start
    sim.clock.freeze(TENANT, at=start + at)
    return asyncio.run(_ask(sim, carrier, number))
