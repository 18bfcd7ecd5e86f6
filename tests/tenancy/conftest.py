"""Simulators for tenancy tests: bundled timeline scenarios, the default mix off, so a fresh
number is "not found" to every tenant but the one that created it."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from simulator.engine import Simulation
from tests.conftest import SimFactory
from tests.tenancy.drivers import CARRIERS


@pytest.fixture(params=CARRIERS)
def carrier(request: pytest.FixtureRequest) -> str:
    """Each carrier in turn."""
    name: str = request.param
    return name


@pytest.fixture
def mixless(make_sim: SimFactory) -> tuple[Simulation, TestClient]:
    """A simulator whose unknown numbers are not found (default mix off)."""
    return make_sim(mix=False)
