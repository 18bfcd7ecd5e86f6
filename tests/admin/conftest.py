"""Fixtures for the admin API tests.

``admin`` builds a simulator (bundled scenarios, clock at EPOCH, as ``make_sim``) whose
HTTP client checks every ``/__admin`` answer against the OpenAPI document; ``served``
puts an app behind a real socket.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from simulator.app import create_app
from simulator.engine import Simulation
from simulator.server import ServerThread
from tests.admin import openapi_check
from tests.conftest import SimFactory

AdminFactory = Callable[..., tuple[Simulation, TestClient]]


@pytest.fixture
def admin(make_sim: SimFactory) -> AdminFactory:
    """``make_sim`` whose client checks each admin answer against the OpenAPI document."""

    def factory(**overrides: Any) -> tuple[Simulation, TestClient]:
        sim, client = make_sim(**overrides)
        client.event_hooks = {"request": [], "response": [openapi_check.hook]}
        return sim, client

    return factory


Served = Callable[[Simulation], AbstractContextManager[tuple[str, httpx.Client]]]


@pytest.fixture
def served() -> Served:
    """``served(sim)``: a context with the simulation behind a real uvicorn socket, yielding
    its URL and an HTTP client on it that checks admin answers against the document."""

    @contextmanager
    def serve(sim: Simulation) -> Iterator[tuple[str, httpx.Client]]:
        with (
            ServerThread(create_app(sim)) as server,
            httpx.Client(
                base_url=server.url,
                timeout=10,
                trust_env=False,
                event_hooks={"response": [openapi_check.hook]},
            ) as client,
        ):
            yield server.url, client

    return serve
