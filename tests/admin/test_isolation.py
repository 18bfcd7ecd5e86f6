"""Tenant isolation under concurrency, over a real socket: tenants hammering one server at
once never see each other's clock, shipments, faults or journal entries."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import httpx

from client.errors import CarrierUnavailable
from simulator.app import create_app
from simulator.engine import Simulation
from simulator.scenario import CARRIERS, Scenario
from simulator.server import ServerThread
from simulator.settings import Settings
from tests.admin import openapi_check
from tests.admin.helpers import assert_shows_visible, track_over
from tests.conftest import EPOCH

A = "/__admin"
TENANTS = 6
ROUNDS = 6
SCENARIOS = ("delivered-on-time", "damaged", "weather-delay", "out-for-delivery")


def _ok(r: httpx.Response, status: int = 200) -> Any:
    assert r.status_code == status, f"{r.request.method} {r.request.url}: {r.text}"
    return r.json() if r.content else None


def _tenant_run(url: str, index: int, start: threading.Barrier) -> None:
    """One tenant's session: clock moves, shipments, a fault of its own, tracking, and
    checks after every step that it sees only its own state."""
    me = f"iso-{index}"
    p = {"tenant": me}
    era = EPOCH + timedelta(days=40 * index)  # every tenant lives in its own time
    mine: list[tuple[str, str]] = []
    my_faults: list[str] = []
    sent = 0
    with httpx.Client(
        base_url=url, timeout=30, trust_env=False, event_hooks={"response": [openapi_check.hook]}
    ) as c:
        _ok(c.post(f"{A}/clock/freeze", params=p, json={"at": era.isoformat()}))
        now = era
        start.wait()
        for round_ in range(ROUNDS):
            step = timedelta(hours=index + 1, minutes=round_)
            moved = _ok(
                c.post(f"{A}/clock/advance", params=p, json={"by": f"{int(step.total_seconds())}s"})
            )
            now += step
            assert datetime.fromisoformat(moved["now"]) == now

            carrier = CARRIERS[(index + round_) % len(CARRIERS)]
            made = _ok(
                c.post(
                    f"{A}/shipments",
                    params=p,
                    json={"carrier": carrier, "scenario": SCENARIOS[round_ % 4], "start": "-1d"},
                ),
                201,
            )
            assert datetime.fromisoformat(made["start"]) == now - timedelta(days=1)
            mine.append((carrier, made["number"]))

            # Its clock and its shipments, whatever the others did meanwhile.
            assert datetime.fromisoformat(_ok(c.get(f"{A}/clock", params=p))["now"]) == now
            listed = _ok(c.get(f"{A}/shipments", params=p))
            assert [(s["carrier"], s["number"]) for s in listed] == mine
            assert all(datetime.fromisoformat(s["now"]) == now for s in listed)

            # Tracking as itself shows exactly what its clock has reached.
            seen = _ok(c.get(f"{A}/shipments/{carrier}/{made['number']}", params=p))
            assert_shows_visible(track_over(url, carrier, made["number"], me), seen)
            sent += 1 if carrier == "dhl" else 2  # OAuth carriers: a token, then tracking

            if round_ % 2 == 1:
                # A fault of its own, on its own number: it fails for this tenant only.
                fault = _ok(
                    c.post(
                        f"{A}/faults",
                        params=p,
                        json={
                            "kind": "http_error",
                            "status": 500,
                            "match": {"number": made["number"]},
                        },
                    ),
                    201,
                )
                my_faults.append(fault["name"])
                failed = track_over(url, carrier, made["number"], me)
                assert isinstance(failed, CarrierUnavailable), failed
                sent += 1 if carrier == "dhl" else 2
                visible = _ok(c.get(f"{A}/faults", params=p))
                assert sorted(f["name"] for f in visible) == sorted(my_faults)
                assert {f["match"]["tenant"] for f in visible} == {me}

            # Its journal: exactly what it sent, nobody else's requests, only its faults.
            entries = _ok(c.get(f"{A}/requests", params=p))
            assert len(entries) == sent, (me, len(entries), sent)
            numbers = {n for _, n in mine}
            for entry in entries:
                assert entry["tenant"] == me
                assert set(entry["numbers"]) <= numbers
                assert set(entry["faults"]) <= set(my_faults)


def test_parallel_tenants_never_see_each_other(bundled: list[Scenario]) -> None:
    sim = Simulation(Settings(clock_start=EPOCH, mix=False), bundled)
    start = threading.Barrier(TENANTS)
    with ServerThread(create_app(sim)) as server, ThreadPoolExecutor(TENANTS) as pool:
        runs = [pool.submit(_tenant_run, server.url, i, start) for i in range(TENANTS)]
        for run in runs:
            run.result(timeout=120)
        # Afterwards, every tenant's state is still only its own.
        with httpx.Client(base_url=server.url, trust_env=False) as c:
            everyone = c.get(f"{A}/requests").json()
            assert {e["tenant"] for e in everyone} == {f"iso-{i}" for i in range(TENANTS)}
            for i in range(TENANTS):
                listed = c.get(f"{A}/shipments", params={"tenant": f"iso-{i}"}).json()
                assert len(listed) == ROUNDS


async def _async_tenant(url: str, index: int, go: asyncio.Event) -> int:
    """A lighter session on asyncio: clock moves, a DHL shipment, raw tracking, journal."""
    me = f"task-{index}"
    p = {"tenant": me}
    async with httpx.AsyncClient(base_url=url, timeout=30, trust_env=False) as c:
        r = await c.post(
            f"{A}/clock/freeze", params=p, json={"at": (EPOCH + timedelta(days=index)).isoformat()}
        )
        assert r.status_code == 200
        await go.wait()
        tracked = 0
        for round_ in range(8):
            r = await c.post(f"{A}/clock/advance", params=p, json={"by": "1h"})
            expected = EPOCH + timedelta(days=index, hours=round_ + 1)
            assert datetime.fromisoformat(r.json()["now"]) == expected
            r = await c.post(
                f"{A}/shipments",
                params=p,
                json={"carrier": "dhl", "scenario": "damaged", "start": "-6h"},
            )
            made = r.json()
            r = await c.get(
                "/track/shipments",
                params={"trackingNumber": made["number"]},
                headers={"DHL-API-Key": me},
            )
            tracked += 1
            assert r.status_code == 200
            events = r.json()["shipments"][0]["events"]
            assert len(events) == made["visible"]
            assert all(datetime.fromisoformat(e["timestamp"]) <= expected for e in events)
        r = await c.get(f"{A}/requests", params=p)
        assert len(r.json()) == tracked and {e["tenant"] for e in r.json()} == {me}
        r = await c.get(f"{A}/shipments", params=p)
        assert len(r.json()) == 8
        return tracked


def test_parallel_async_tenants_never_see_each_other(bundled: list[Scenario]) -> None:
    sim = Simulation(Settings(clock_start=EPOCH, mix=False), bundled)

    async def main(url: str) -> list[int]:
        go = asyncio.Event()
        tasks = [asyncio.create_task(_async_tenant(url, i, go)) for i in range(10)]
        await asyncio.sleep(0)
        go.set()
        return await asyncio.gather(*tasks)

    with ServerThread(create_app(sim)) as server:
        assert asyncio.run(main(server.url)) == [8] * 10
