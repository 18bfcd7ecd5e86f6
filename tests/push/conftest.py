"""The push tests' server: the simulator under uvicorn with fast push settings."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from simulator.app import create_app
from simulator.engine import Simulation
from simulator.loader import load_paths
from simulator.server import ServerThread
from simulator.settings import BUNDLED_SCENARIOS, Settings
from simulator.webhook_recorder import WebhookServer
from tests.push.helpers import START


@pytest.fixture(scope="module")
def sim() -> Simulation:
    settings = Settings(clock_start=START, push_timeout=0.5, push_tick=0.01)
    return Simulation(settings, load_paths((BUNDLED_SCENARIOS,)))


@pytest.fixture(scope="module")
def base(sim: Simulation) -> Iterator[str]:
    with ServerThread(create_app(sim)) as server:
        yield server.url


@pytest.fixture
def receiver(carriersim_webhook_server: WebhookServer) -> WebhookServer:
    """The pytest plugin's recording webhook server (each test makes its own inboxes)."""
    return carriersim_webhook_server


@pytest.fixture
def client(base: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base, timeout=10) as c:
        yield c
