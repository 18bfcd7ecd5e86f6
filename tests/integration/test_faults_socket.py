"""One acceptance test per fault kind, observed from the client side over a real socket.

A uvicorn server runs in a background thread (the same protocol and socket handling as
``carriersim serve``); each test adds its fault to the running simulation and watches what
an httpx client really receives. Tolerances on waits are stated in each test.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from starlette.testclient import TestClient

from simulator.app import create_app
from simulator.engine import Simulation
from simulator.faulting import SocketRequired
from simulator.faults import Fault
from simulator.scenario import Scenario
from simulator.server import ServerThread
from simulator.settings import Settings
from tests.conftest import EPOCH

TENANT = "faults"


@pytest.fixture(scope="module")
def served(bundled: list[Scenario]) -> Iterator[tuple[Simulation, str]]:
    sim = Simulation(Settings(clock_start=EPOCH), bundled)
    with ServerThread(create_app(sim)) as server:
        yield sim, server.url


@pytest.fixture
def sim(served: tuple[Simulation, str]) -> Iterator[Simulation]:
    simulation = served[0]
    yield simulation
    simulation.faults.clear()
    simulation.clock.reset(TENANT)


@pytest.fixture
def url(served: tuple[Simulation, str]) -> str:
    return served[1]


@pytest.fixture
def number(bundled: list[Scenario]) -> str:
    return {s.name: s for s in bundled}["delivered-on-time"].numbers["dhl"][0]


def add(sim: Simulation, **data: object) -> None:
    data.setdefault("match", {"carrier": "dhl"})
    sim.faults.add(Fault.model_validate(data))


def track(url: str, number: str, timeout: float = 10.0) -> httpx.Response:
    return httpx.get(
        f"{url}/track/shipments",
        params={"trackingNumber": number},
        headers={"DHL-API-Key": TENANT},
        timeout=timeout,
    )


def test_no_fault_is_a_clean_answer(sim: Simulation, url: str, number: str) -> None:
    r = track(url, number)
    assert r.status_code == 200
    assert r.json()["shipments"][0]["id"] == number


def test_fixed_latency(sim: Simulation, url: str, number: str) -> None:
    add(sim, kind="latency", distribution="fixed", ms=300)
    t = time.perf_counter()
    r = track(url, number)
    elapsed = time.perf_counter() - t
    assert r.status_code == 200
    assert 0.3 <= elapsed < 0.3 + 1.0  # tolerance: 1 s of scheduling on a shared machine


def test_delayed_requests_wait_concurrently(sim: Simulation, url: str, number: str) -> None:
    add(sim, kind="latency", distribution="uniform", min_ms=400, max_ms=500)

    async def many() -> list[int]:
        async with httpx.AsyncClient(base_url=url, timeout=10) as http:
            rs = await asyncio.gather(
                *(
                    http.get("/track/shipments", params={"trackingNumber": number},
                             headers={"DHL-API-Key": TENANT})
                    for _ in range(100)
                )
            )  # fmt: skip
        return [r.status_code for r in rs]

    t = time.perf_counter()
    statuses = asyncio.run(many())
    elapsed = time.perf_counter() - t
    assert statuses == [200] * 100
    # Serialized they would take 40+ s; concurrently about 0.5 s (tolerance 3 s).
    assert elapsed < 3.5


def test_http_error_in_the_carrier_envelope(sim: Simulation, url: str, number: str) -> None:
    add(sim, kind="http_error", status=503, retry_after=7)
    r = track(url, number)
    assert r.status_code == 503
    assert r.headers["retry-after"] == "7"
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["status"] == 503


def test_gateway_html_page(sim: Simulation, url: str, number: str) -> None:
    add(sim, kind="http_error", status=502, body="html")
    r = track(url, number)
    assert r.status_code == 502
    assert r.headers["content-type"].startswith("text/html")
    assert "<h1>502 Bad Gateway</h1>" in r.text


def test_rate_limit_preset(sim: Simulation, url: str, number: str) -> None:
    sim.clock.freeze(TENANT, EPOCH)
    add(sim, kind="rate_limit", preset="carrier")
    assert track(url, number).status_code == 200
    limited = track(url, number)
    assert limited.status_code == 429  # DHL: 1 call per second (NOTES §4.6)
    assert limited.json()["title"] == "Too Many Requests"
    sim.clock.advance(TENANT, timedelta(seconds=2))
    assert track(url, number).status_code == 200


def test_outage_window_on_the_scenario_clock(sim: Simulation, url: str, number: str) -> None:
    add(sim, kind="outage", when={"window": {"from": "1h", "to": "2h"}})
    sim.clock.freeze(TENANT, EPOCH + timedelta(minutes=30))
    assert track(url, number).status_code == 200
    sim.clock.freeze(TENANT, EPOCH + timedelta(minutes=90))
    assert track(url, number).status_code == 503
    sim.clock.freeze(TENANT, EPOCH + timedelta(minutes=150))
    assert track(url, number).status_code == 200


def test_hang_past_the_client_timeout(sim: Simulation, url: str, number: str) -> None:
    add(sim, kind="connection", mode="hang", seconds=3)
    t = time.perf_counter()
    with pytest.raises(httpx.ReadTimeout):
        track(url, number, timeout=0.5)
    assert time.perf_counter() - t < 2.5


def test_reset(sim: Simulation, url: str, number: str) -> None:
    add(sim, kind="connection", mode="reset")
    # A reset (RST), not an orderly close: the client's read fails with ECONNRESET.
    with pytest.raises(httpx.ReadError, match="reset"):
        track(url, number)


def test_empty_reply(sim: Simulation, url: str, number: str) -> None:
    add(sim, kind="connection", mode="empty_reply")
    with pytest.raises(httpx.RemoteProtocolError, match="without sending"):
        track(url, number)


def test_headers_then_stall(sim: Simulation, url: str, number: str) -> None:
    add(sim, kind="connection", mode="headers_then_stall", seconds=3)
    with httpx.stream(
        "GET", f"{url}/track/shipments", params={"trackingNumber": number},
        headers={"DHL-API-Key": TENANT}, timeout=httpx.Timeout(5.0, read=0.7),
    ) as r:  # fmt: skip
        assert r.status_code == 200  # the status line and headers did arrive
        with pytest.raises(httpx.ReadTimeout):
            r.read()


def test_dribbled_body_arrives_slowly_but_whole(sim: Simulation, url: str, number: str) -> None:
    add(sim, kind="connection", mode="dribble", seconds=1.0)
    t = time.perf_counter()
    r = track(url, number)
    elapsed = time.perf_counter() - t
    assert r.status_code == 200 and r.json()["shipments"]
    assert 0.9 <= elapsed < 3.0  # declared 1 s, tolerance 2 s


def test_truncated_body(sim: Simulation, url: str, number: str) -> None:
    add(sim, kind="connection", mode="truncate", fraction=0.5)
    with pytest.raises(httpx.RemoteProtocolError, match=r"incomplete|closed"):
        track(url, number)


@pytest.mark.parametrize(
    "mode", ["invalid_json", "wrong_content_type", "missing_content_type", "random_bytes"]
)
def test_body_faults(sim: Simulation, url: str, number: str, mode: str) -> None:
    add(sim, kind="body", mode=mode)
    r = track(url, number)
    assert r.status_code == 200
    ctype = r.headers.get("content-type")
    if mode == "invalid_json":
        with pytest.raises(json.JSONDecodeError):
            json.loads(r.content)
    elif mode == "wrong_content_type":
        assert ctype is not None and ctype.startswith("text/html")
        json.loads(r.content)
    elif mode == "missing_content_type":
        assert ctype is None
    else:
        with pytest.raises(ValueError):
            json.loads(r.content)


def test_a_fault_for_another_tenant_never_leaks(sim: Simulation, url: str, number: str) -> None:
    add(sim, kind="http_error", status=500, match={"tenant": "someone-else"})
    assert track(url, number).status_code == 200


def test_connection_faults_are_refused_in_process(bundled: list[Scenario], number: str) -> None:
    sim = Simulation(Settings(clock_start=EPOCH), bundled)
    sim.faults.add(Fault.model_validate({"kind": "connection", "mode": "reset"}))
    with TestClient(create_app(sim)) as client, pytest.raises(SocketRequired, match="real socket"):
        client.get(
            "/track/shipments", params={"trackingNumber": number}, headers={"DHL-API-Key": "x"}
        )
