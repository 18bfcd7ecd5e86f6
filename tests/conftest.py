"""Shared fixtures: the bundled scenarios, and simulators on a frozen clock."""

from __future__ import annotations

import json
import math
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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under ``make mutate``, run a mutant's fastest tests first: it dies at its first failure."""
    if not os.environ.get("MUTANT_UNDER_TEST", "").startswith("client."):
        return
    try:  # mutmut runs the tests inside mutants/, beside the durations it measured
        with open("mutmut-stats.json", encoding="utf-8") as f:
            durations: dict[str, float] = json.load(f)["duration_by_test"]
    except (OSError, ValueError, KeyError):
        return
    items.sort(key=lambda item: durations.get(item.nodeid, math.inf))


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
