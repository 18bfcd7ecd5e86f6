"""Benchmark: the simulator's push delivery loop.

1. Throughput: how many deliveries per second one worker (one event loop) sends to a local
   receiver, each rendered and signed by its carrier (UPS v1, FedEx, USPS, DHL in turn),
   when a clock jump makes every event of every subscription due at once. Baseline in the
   same run: the same number of POSTs of ready-made bodies through the same httpx client
   settings and concurrency, so the ratio is the loop's own cost (render, sign, schedule,
   journal) on top of the HTTP round trip. Also CPU milliseconds per delivery.
2. Lateness: with the tenant's clock running at 60x, how late (real time) each push is sent
   after the real instant at which the clock passed its event (the simulator under uvicorn,
   its own background loop doing the sending).

The receiver is a separate process (uvicorn on a free loopback port, answers 200), so it
does not share the simulator's CPU. Every loop is bounded by count and by time.

    python bench/bench_push_delivery.py [--runs 3] [--subscriptions 40] [--events 10]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from simulator import carriers, numbers
from simulator.app import create_app
from simulator.engine import Simulation
from simulator.loader import load_paths
from simulator.push.dispatch import Dispatcher
from simulator.push.model import Subscription
from simulator.server import ServerThread
from simulator.settings import Settings
from simulator.store import CreatedShipment

HOST = "127.0.0.1"
START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
RECEIVER = textwrap.dedent(
    """
    import sys, uvicorn

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                m = await receive()
                await send({"type": m["type"] + ".complete"})
                if m["type"] == "lifespan.shutdown":
                    return
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-length", b"0")]})
        await send({"type": "http.response.body", "body": b""})

    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning",
                access_log=False)
    """
)
AUTH = {
    "ups": ({"credential": "bench"}, {"version": "v1", "type": "standard"}),
    "fedex": ({"security_token": "bench-token"}, {"jobs": {}}),
    "usps": (
        {"secret": "MySecretKeyPhraseIs32BytesLength"},
        {"filterProperties": {"trackingEventTypes": ["ALL_UPDATES"]}, "adminNotification": []},
    ),
    "dhl": ({"header": "X-Hook", "token": "bench"}, {"type": "Shipment",
             "events": ["Pre-Transit", "Transit", "Delivered", "Failure", "Unknown"]}),
}  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _receiver() -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-c", RECEIVER, str(port)])
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((HOST, port), timeout=0.2):
                return proc, f"http://{HOST}:{port}/hook"
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("the receiver did not start within 20 s")


def _scenario_dir(tmp: Path, events: int, gap: str) -> Path:
    lines = [f"  - {{at: {i}{gap[-1]}, kind: in_transit}}" for i in range(1, events - 1)]
    text = "\n".join(
        [
            "name: bench-push",
            "service: ground",
            "route: {origin: US, destination: US, hubs: 1}",
            "events:",
            "  - {at: 0m, kind: label_created}",
            *[line.replace(f"{{at: {i}", f"{{at: {i * int(gap[:-1])}")
              for i, line in enumerate(lines, start=1)],
            f"  - {{at: {(events - 1) * int(gap[:-1])}{gap[-1]}, kind: delivered}}",
        ]
    )  # fmt: skip
    folder = tmp / f"scenarios-{events}-{gap}"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "bench-push.yaml").write_text(text + "\n")
    return folder


def _subscribe(sim: Simulation, tenant: str, count: int, url: str) -> list[Subscription]:
    dispatcher = sim.dispatcher
    assert dispatcher is not None
    rng = random.Random(7)
    subs = []
    names = list(carriers.CARRIERS)
    for i in range(count):
        carrier = names[i % len(names)]
        made = _create(sim, tenant, carrier, rng)
        auth, data = AUTH[carrier]
        sub = Subscription(
            id=f"bench-{i}", tenant=tenant, carrier=carrier, numbers=(made,), url=url,
            auth=dict(auth), status="active", created=sim.clock.now(tenant), data=dict(data),
        )  # fmt: skip
        dispatcher.subscribe(sub)
        subs.append(sub)
    return subs


def _create(sim: Simulation, tenant: str, carrier: str, rng: random.Random) -> str:
    number = numbers.generate(carrier, rng)
    t0 = sim.clock.now(tenant) + 60
    sim.store.add_shipment(tenant, CreatedShipment(carrier, number, "bench-push", t0, 0))
    sim.creators.add(tenant)
    sim.touch()
    return number


async def _throughput(
    folder: Path, url: str, subs: int, events: int
) -> tuple[float, float, float, float]:
    """(deliveries/s, CPU ms per delivery, baseline POSTs/s, baseline CPU ms per POST)."""
    sim = Simulation(Settings(clock_start=START, push_concurrency=16), load_paths((folder,)))
    create_app(sim)
    profiles = {n: c.push for n, c in carriers.CARRIERS.items()}
    dispatcher = Dispatcher(sim, profiles)
    sim.dispatcher = dispatcher
    tenant = "bench"
    sim.clock.freeze(tenant)
    _subscribe(sim, tenant, subs, url)
    sim.clock.advance(tenant, timedelta(days=30))
    total = subs * events
    cpu, wall = time.process_time(), time.perf_counter()
    made = await asyncio.wait_for(dispatcher.fire(tenant), 120)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    delivered = sum(1 for a in made if a.outcome == "delivered")
    assert delivered == total, f"{delivered} of {total} delivered"
    bodies = [a.body.encode() for a in made]
    await dispatcher.stop()
    # Baseline: the same POSTs, bodies ready, 16 at a time like the loop's subscriptions.
    limit = asyncio.Semaphore(16)
    async with httpx.AsyncClient(timeout=5, trust_env=False) as http:

        async def post(body: bytes) -> None:
            async with limit:
                r = await http.post(url, content=body, headers={"Content-Type": "application/json"})
                assert r.status_code == 200

        base_cpu, base = time.process_time(), time.perf_counter()
        await asyncio.wait_for(asyncio.gather(*(post(b) for b in bodies)), 120)
        base, base_cpu = time.perf_counter() - base, time.process_time() - base_cpu
    return total / wall, cpu / total * 1000, total / base, base_cpu / total * 1000


def _lateness(folder: Path, url: str, subs: int, rate: float) -> list[float]:
    """Seconds between the clock passing each event and its push being sent."""
    sim = Simulation(Settings(clock_start=START), load_paths((folder,)))
    tenant = "bench-late"
    with ServerThread(create_app(sim)):
        sim.clock.freeze(tenant)
        _subscribe(sim, tenant, subs, url)
        state = sim.store.get_clock(tenant)
        assert state is not None
        sim.clock.run(tenant, rate)
        anchor = sim.store.get_clock(tenant)
        assert anchor is not None
        expected = subs * len(sim.catalog.scenarios["bench-push"].events)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if sum(1 for a in sim.push.attempts if a.outcome == "delivered") >= expected:
                break
            time.sleep(0.1)
        late = []
        for a in sim.push.attempts:
            passed_at = anchor.anchor_real + (a.event_at - anchor.anchor_sim) / rate
            late.append(a.real_at - passed_at)
    return late


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--subscriptions", type=int, default=40)
    parser.add_argument("--events", type=int, default=10)
    args = parser.parse_args()

    proc, url = _receiver()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            fast = _scenario_dir(Path(tmp), args.events, "1h")
            paced = _scenario_dir(Path(tmp), 8, "1m")  # one event a second at 60x
            print(f"throughput: {args.subscriptions} subscriptions x {args.events} events, "
                  "one clock jump, one event loop")  # fmt: skip
            for run in range(1, args.runs + 1):
                rate, cpu, base, base_cpu = asyncio.run(
                    _throughput(fast, url, args.subscriptions, args.events)
                )
                print(f"  run {run}: {rate:7.0f} deliveries/s  {cpu:5.2f} ms CPU/delivery  |  "
                      f"baseline {base:7.0f} POSTs/s  {base_cpu:5.2f} ms CPU/POST  |  "
                      f"ratio {rate / base:4.2f}, CPU x{cpu / base_cpu:4.2f}")  # fmt: skip
            print("lateness at 60x: 20 subscriptions x 8 events, one a simulated minute")
            for run in range(1, args.runs + 1):
                late = sorted(_lateness(paced, url, 20, 60.0))
                p50 = statistics.median(late) * 1000
                p95 = late[int(len(late) * 0.95) - 1] * 1000
                print(f"  run {run}: n={len(late)}  median {p50:6.1f} ms  p95 {p95:6.1f} ms  "
                      f"max {late[-1] * 1000:6.1f} ms  min {late[0] * 1000:6.1f} ms")  # fmt: skip
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    main()
