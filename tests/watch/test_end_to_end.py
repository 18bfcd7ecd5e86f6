"""End to end: the simulator under uvicorn with its clock running fast, the watcher polling
it over a real socket, and a real SMTP server receiving the customer's emails; then the
README's example, run as written."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import anyio
import pytest

from client import AsyncTrackingClient, CarrierSettings
from client.watch import (
    Notifier,
    Order,
    Outbox,
    PollSchedule,
    ScaledClock,
    SmtpSender,
    Store,
    Watcher,
)
from simulator.app import create_app
from simulator.engine import Simulation
from simulator.loader import load_paths
from simulator.scenario import Scenario
from simulator.server import ServerThread
from simulator.settings import BUNDLED_SCENARIOS, Settings
from tests.conftest import EPOCH
from tests.watch.smtp import SmtpServer

RATE = 40_000.0
"""Simulated seconds per real second: the scenario's 2½ days pass in about 5 s."""
TENANT = "e2e-shop"
README_TENANT = "my-shop"
"""The credential the README's example logs in with, which names its tenant."""
README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.fixture(scope="module")
def on_time() -> Scenario:
    (scenario,) = [s for s in load_paths([BUNDLED_SCENARIOS]) if s.name == "delivered-on-time"]
    return scenario


@pytest.fixture
def running(on_time: Scenario) -> Iterator[tuple[str, ScaledClock]]:
    """The simulator on a socket, the tenant's clock at the parcel's start and running."""
    sim = Simulation(Settings(clock_start=EPOCH, mix=False), [on_time])
    shipment = sim.catalog.lookup("ups", "1Z13GNRH1011084424")
    assert shipment is not None
    tenants = (TENANT, README_TENANT)
    for tenant in tenants:
        sim.clock.freeze(tenant, at=shipment.t0 - timedelta(minutes=5))
    with ServerThread(create_app(sim)) as server:
        for tenant in tenants:
            sim.clock.run(tenant, RATE)
        yield server.url, ScaledClock(sim.clock.now_datetime(TENANT), RATE)


def test_the_customer_gets_the_right_emails_in_order_once(
    running: tuple[str, ScaledClock],
) -> None:
    url, clock = running
    store = Store()
    login = CarrierSettings(client_id=TENANT, client_secret="x")

    async def main() -> None:
        async with AsyncTrackingClient(base_url=url, ups=login, env={}) as tracker:
            with SmtpServer() as smtp:
                watcher = Watcher(
                    store,
                    tracker,
                    notifier=Notifier(),
                    outbox=Outbox(store, {"email": SmtpSender(port=smtp.port)}),
                    schedule=PollSchedule.every(1800),
                    clock=clock,
                )
                watcher.watch("1Z13GNRH1011084424", Order("#1001", email="ada@example.com"))
                with anyio.fail_after(60):
                    await watcher.run()
                mails.extend(smtp.messages)

    mails: list = []
    anyio.run(main)
    assert [m["Subject"] for m in mails] == [
        "Order #1001: your parcel is on its way",
        "Order #1001: your parcel is out for delivery today",
        "Order #1001: your parcel was delivered",
    ]
    assert len({m["Message-ID"] for m in mails}) == 3
    assert [c.kind.value for c in store.changes()] == ["shipped", "out_for_delivery", "delivered"]


def readme_example() -> str:
    text = README.read_text()
    match = re.search(r"<!-- readme-example: watch -->\n```python\n(.*?)```", text, re.S)
    assert match, "README.md lost its watch example"
    return match.group(1)


def test_the_readme_example_watches_orders_and_emails_the_customers(
    running: tuple[str, ScaledClock], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, clock = running
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    exec(compile(readme_example(), "README.md", "exec"), namespace)
    watch_orders = namespace["watch_orders"]

    async def main() -> list:
        with SmtpServer() as smtp:
            with anyio.fail_after(60):
                await watch_orders(url, smtp.port, clock)  # type: ignore[operator]
            return smtp.messages

    mails = anyio.run(main)
    assert os.path.exists(tmp_path / "orders.sqlite3")
    to_ada = [m["Subject"] for m in mails if m["To"] == "ada@example.com"]
    assert to_ada[0] == "Order #1001: your parcel is on its way"
    assert to_ada[-1] == "Order #1001: your parcel was delivered"
    assert {m["To"] for m in mails} == {"ada@example.com", "bob@example.com"}
