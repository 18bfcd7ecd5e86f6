"""Running the client against a simulator playing one generated scenario.

In-process by default (``httpx.ASGITransport``: no sockets, fast); :func:`served` runs the
same app under uvicorn on a loopback port for the connection faults that need a real socket.
The tenant is the credential the client logs in with (OAuth client id, DHL key), so every
run names its tenant through its credentials, exactly as an unmodified client would.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
from hypothesis import settings
from hypothesis import strategies as st

from client import AsyncTrackingClient, CarrierSettings, RetryPolicy
from client.errors import TrackingError
from client.model import TrackingResult
from simulator.app import create_app
from simulator.engine import Simulation
from simulator.faults import Fault
from simulator.scenario import Scenario
from simulator.server import ServerThread
from simulator.settings import Settings
from simulator.strategies import scenarios, tracking_numbers
from simulator.timeline import Shipment

EPOCH = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
"""The server clock's start (as ``tests.conftest.EPOCH``)."""

TENANT = "properties"

Outcome = TrackingResult | TrackingError
T = TypeVar("T")


def examples(share: float, floor: int = 2) -> int:
    """``max_examples`` for a test: a share of the active profile's (fast 30, deep 1000)."""
    return max(floor, round(settings.default.max_examples * share))


@st.composite
def parcels(draw: st.DrawFn, carrier: str) -> list[tuple[Scenario, str]]:
    """Two to six parcels of one carrier: distinct scenarios under distinct numbers."""
    count = draw(st.integers(2, 6))
    numbers = draw(st.lists(tracking_numbers(carrier), min_size=count, max_size=count, unique=True))
    return [
        (draw(scenarios()).model_copy(update={"name": f"batch-{i}"}), number)
        for i, number in enumerate(numbers)
    ]


def playing(scenario: Scenario, carrier: str, number: str) -> Scenario:
    """The scenario with ``number`` declared for ``carrier`` (and only that)."""
    return scenario.model_copy(update={"numbers": {carrier: (number,)}})


def simulation(
    scenarios: Iterable[Scenario], *, faults: Iterable[Fault] = (), seed: int = 0
) -> Simulation:
    """A simulation of just these scenarios: unknown numbers are not found (no default mix)."""
    return Simulation(
        Settings(clock_start=EPOCH, mix=False, seed=seed), list(scenarios), faults=faults
    )


def shipment_of(sim: Simulation, carrier: str, number: str) -> Shipment:
    """The shipment a declared number plays."""
    found = sim.catalog.lookup(carrier, number)
    assert found is not None, f"{carrier} {number} is not declared"
    return found


def freeze(sim: Simulation, shipment: Shipment, offset: timedelta, tenant: str = TENANT) -> float:
    """Stop the tenant's clock at the shipment's start plus ``offset``; returns that instant."""
    at = shipment.t0 + offset
    sim.clock.freeze(tenant, at=at)
    return at.timestamp()


def client(
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    base_url: str = "http://carriersim.test",
    tenant: str = TENANT,
    retry: RetryPolicy | None = None,
    timeout: float | httpx.Timeout = 5.0,
) -> AsyncTrackingClient:
    """An async client logged in as ``tenant`` on every carrier, waits virtual by default."""
    creds = CarrierSettings(client_id=tenant, client_secret="secret")
    return AsyncTrackingClient(
        base_url=base_url,
        ups=creds,
        fedex=creds,
        usps=creds,
        dhl=CarrierSettings(api_key=tenant),
        env={},
        retry=retry or RetryPolicy.for_testing(),
        timeout=timeout,
        transport=transport,
    )


def run(main: Callable[[], Awaitable[T]]) -> T:
    """Run a coroutine function on a fresh event loop."""
    return asyncio.run(main())  # type: ignore[arg-type]


async def outcome_of(tracker: AsyncTrackingClient, carrier: str, number: str) -> Outcome:
    """The result of tracking one number, or the client error it raised (anything else
    propagates: it is a failure of the robustness property)."""
    try:
        return await tracker.track(number, carrier)
    except TrackingError as exc:
        return exc


def track(sim: Simulation, carrier: str, number: str, tenant: str = TENANT, **kw: Any) -> Outcome:
    """Track one number in-process against ``sim``."""
    transport = httpx.ASGITransport(app=create_app(sim))

    async def main() -> Outcome:
        async with client(transport=transport, tenant=tenant, **kw) as tracker:
            return await outcome_of(tracker, carrier, number)

    return run(main)


@contextmanager
def served(sim: Simulation) -> Iterator[str]:
    """The simulation behind a real uvicorn socket; yields its base URL."""
    with ServerThread(create_app(sim)) as server:
        yield server.url
