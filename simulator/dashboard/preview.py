"""What a carrier's tracking API answers for a parcel at an instant, for the dashboard.

The answer comes from the carrier's own route handler (the very code a client's request
reaches), called in-process with a credential of the tenant and a clock fixed at the
instant asked for. Faults and the journal wrap the routes the app serves, not these
handlers, so a preview neither fires a fault nor shows up in the tenant's traffic.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

import httpx
from starlette.routing import Router

from simulator.carriers import CARRIERS

if TYPE_CHECKING:
    from simulator.engine import Simulation


@dataclass(frozen=True, slots=True)
class Preview:
    """One carrier answer: the request that asks for it, and what comes back."""

    method: str
    url: str
    """The path and query a client asks with (the credential left out)."""
    status: int
    content_type: str
    body: str
    """The body pretty-printed when it is JSON, else as sent."""


class _FixedClock:
    """A clock at one instant for every tenant (the preview's "now")."""

    def __init__(self, at: float) -> None:
        self.at = at

    def now(self, tenant: str = "") -> float:
        return self.at

    def now_datetime(self, tenant: str = "") -> datetime:
        return datetime.fromtimestamp(self.at, UTC)


class _AtInstant:
    """The simulation as it is, but seen at one instant."""

    def __init__(self, sim: Simulation, at: float) -> None:
        self._sim = sim
        self.clock = _FixedClock(at)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sim, name)


def _request(sim: Simulation, carrier: str, tenant: str, number: str, at: float) -> httpx.Request:
    # USPS checks the token's scope; the others ignore it.
    scope = "tracking" if carrier == "usps" else ""
    token, _ = sim.tokens.issue(
        carrier=carrier, client_id=tenant, tenant=tenant, now=at, lifetime=3600, scope=scope
    )
    bearer = {"authorization": f"Bearer {token}"}
    base = "http://carriersim.preview"
    if carrier == "ups":
        return httpx.Request(
            "GET",
            f"{base}/api/track/v1/details/{number}",
            params={"locale": "en_US"},
            headers={**bearer, "transId": "dashboard-preview", "transactionSrc": "carriersim"},
        )
    if carrier == "fedex":
        return httpx.Request(
            "POST",
            f"{base}/track/v1/trackingnumbers",
            json={
                "includeDetailedScans": True,
                "trackingInfo": [{"trackingNumberInfo": {"trackingNumber": number}}],
            },
            headers=bearer,
        )
    if carrier == "usps":
        return httpx.Request(
            "GET",
            f"{base}/tracking/v3/tracking/{number}",
            params={"expand": "DETAIL"},
            headers=bearer,
        )
    return httpx.Request(
        "GET",
        f"{base}/track/shipments",
        params={"trackingNumber": number},
        headers={"DHL-API-Key": tenant},
    )


async def preview(sim: Simulation, carrier: str, tenant: str, number: str, at: float) -> Preview:
    """What ``carrier``'s tracking endpoint answers the tenant for ``number`` at ``at``."""
    seen = cast("Simulation", _AtInstant(sim, at))
    router = Router(routes=list(CARRIERS[carrier].routes(seen)))
    request = _request(sim, carrier, tenant, number, at)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=router)) as client:
        response = await client.send(request)
    content_type = response.headers.get("content-type", "")
    text = response.text
    if "json" in content_type:
        with contextlib.suppress(ValueError):
            text = json.dumps(json.loads(response.content), indent=2, ensure_ascii=False)
    path = request.url.raw_path.decode("ascii")
    return Preview(request.method, path, response.status_code, content_type, text)
