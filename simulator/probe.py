"""Ask the in-process simulator what a carrier answers for a number at a moment.

Used by ``carriersim timeline``: it logs in and tracks exactly as a client would, over
HTTP through an in-memory transport, so what it prints is what the server would send.
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


async def _ask(sim: Simulation, carrier: str, number: str) -> tuple[int, dict[str, str], bytes]:
    transport = httpx.ASGITransport(app=create_app(sim))
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
        if carrier == "ups":
            token = await http.post(
                "/security/v1/oauth/token",
                auth=(TENANT, "secret"),
                data={"grant_type": "client_credentials"},
            )
            r = await http.get(
                f"/api/track/v1/details/{number}",
                headers={
                    "Authorization": f"Bearer {token.json()['access_token']}",
                    "transId": "timeline",
                    "transactionSrc": "carriersim",
                },
            )
        elif carrier == "fedex":
            token = await http.post(
                "/oauth/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": TENANT,
                    "client_secret": "secret",
                },
            )
            r = await http.post(
                "/track/v1/trackingnumbers",
                headers={"Authorization": f"Bearer {token.json()['access_token']}"},
                json={
                    "includeDetailedScans": True,
                    "trackingInfo": [{"trackingNumberInfo": {"trackingNumber": number}}],
                },
            )
        elif carrier == "usps":
            token = await http.post(
                "/oauth2/v3/token",
                json={
                    "grant_type": "client_credentials",
                    "client_id": TENANT,
                    "client_secret": "secret",
                },
            )
            r = await http.get(
                f"/tracking/v3/tracking/{number}",
                params={"expand": "DETAIL"},
                headers={"Authorization": f"Bearer {token.json()['access_token']}"},
            )
        else:
            r = await http.get(
                "/track/shipments",
                params={"trackingNumber": number},
                headers={"DHL-API-Key": TENANT},
            )
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
