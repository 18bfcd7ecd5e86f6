"""Shared fixtures: the bundled scenarios, and simulators on a frozen clock."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, settings
from starlette.testclient import TestClient

from simulator.engine import Simulation
from simulator.loader import load_paths
from simulator.scenario import Scenario
from simulator.settings import BUNDLED_SCENARIOS, Settings

settings.register_profile("fast", max_examples=30, deadline=None)
settings.register_profile(
    "deep", max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("CARRIERSIM_HYPOTHESIS_PROFILE", "fast"))

#: The instant the test server clock starts at; fixed so runs are reproducible.
EPOCH = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def library() -> list[Scenario]:
    """The whole scenario library shipped in scenarios/, fault scenarios included."""
    return load_paths([BUNDLED_SCENARIOS])


@pytest.fixture(scope="session")
def bundled(library: list[Scenario]) -> list[Scenario]:
    """The library's timeline scenarios: those that declare no faults."""
    return [s for s in library if not s.faults]


SimFactory = Callable[..., tuple[Simulation, TestClient]]


@pytest.fixture
def make_sim(bundled: list[Scenario]) -> Iterator[SimFactory]:
    """Build a simulator (bundled scenarios, clock starting at EPOCH) and an HTTP client for it.

    Keyword arguments override Settings fields; ``scenarios=`` replaces the scenario list.
    """
    from simulator.app import create_app

    clients: list[TestClient] = []

    def factory(
        scenarios: list[Scenario] | None = None, **overrides: object
    ) -> tuple[Simulation, TestClient]:
        base = Settings(clock_start=EPOCH)
        sim = Simulation(
            replace(base, **overrides), scenarios if scenarios is not None else bundled
        )
        client = TestClient(create_app(sim), base_url="http://127.0.0.1")
        clients.append(client)
        return sim, client

    yield factory
    for c in clients:
        c.close()
