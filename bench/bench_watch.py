"""Benchmark: how many numbers one order watcher keeps up with, and how soon it emails.

The simulator runs as its own process (``carriersim serve``) on loopback, so the CPU time
measured here is the watcher's alone.

1. Throughput. ``--numbers`` distinct numbers of the default mix (a quarter per carrier)
   are polled in rounds, every number every round, for ``--rounds`` rounds, first by the bare
   client (``AsyncTrackingClient.track_many``: the baseline, the same requests) and then by a
   watcher on a SQLite file (which also folds every answer into change events, writes
   state, events and outbox in one transaction a round, and renders the notifications).
   Prints numbers polled per second and CPU milliseconds per number for both, and the
   ratios, per round pair and best of each.
2. Notification latency at 60×. The bundled ``delivered-on-time`` parcels (two per carrier)
   are put a minute before their out-for-delivery scan with the tenant clock running at
   60×; the watcher polls every ``--latency-every`` simulated seconds and emails through a
   real SMTP server (aiosmtpd). Latency is the time from the scan (the simulated instant
   the carrier dates it) to the email's arrival, in simulated seconds and real seconds.

    python bench/bench_watch.py [--numbers 2000] [--rounds 3] [--latency-every 30]
"""

from __future__ import annotations

import argparse
import asyncio
import email
import email.policy
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_client import generate, start_server, stop_server

from bench import free_port
from client import AsyncTrackingClient, CarrierSettings
from client.retry import RetryPolicy
from client.watch import (
    Notifier,
    Order,
    Outbox,
    PollSchedule,
    Rule,
    ScaledClock,
    SmtpSender,
    Store,
    Watcher,
)
from client.watch.changes import ChangeKind
from tests.watch.smtp import SmtpServer

HOST = "127.0.0.1"
ON_TIME = {
    "ups": ["1Z13GNRH1011084424", "1ZUPC30N7294205536"],
    "fedex": ["562853451102", "518581096369348"],
    "usps": ["9596222940883160698474", "06528743265183129332"],
    "dhl": ["2260197074", "54981845096"],
}
"""The delivered-on-time scenario's declared numbers (scenarios/delivered-on-time.yaml)."""


def tracker(url: str, tenant: str) -> AsyncTrackingClient:
    login = CarrierSettings(client_id=tenant, client_secret="x")
    return AsyncTrackingClient(
        base_url=url,
        ups=login,
        fedex=login,
        usps=login,
        dhl=CarrierSettings(api_key=tenant),
        env={},
        retry=RetryPolicy(max_attempts=2),
        concurrency=16,
    )


async def baseline_round(client: AsyncTrackingClient, nums: list[str]) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    outcomes = await client.track_many(nums)
    failed = sum(1 for o in outcomes if isinstance(o, Exception))
    if failed:
        print(f"  (baseline: {failed} numbers failed)")
    return time.perf_counter() - wall, time.process_time() - cpu


async def watcher_round(watcher: Watcher) -> tuple[float, float, int]:
    cpu, wall = time.process_time(), time.perf_counter()
    report = await watcher.poll()
    if report.errors:
        print(f"  (watcher: errors {report.errors})")
    return time.perf_counter() - wall, time.process_time() - cpu, report.polled


async def throughput(url: str, count: int, rounds: int) -> None:
    nums, carriers = generate(count, seed=7)
    print(f"throughput: {len(nums)} numbers, every number every round, {rounds} rounds")
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp) / "watch.sqlite3")
        every = frozenset(ChangeKind)
        rules = [Rule("email", every), Rule("webhook", every, to="http://127.0.0.1:9/hook")]
        async with tracker(url, "bench-baseline") as base, tracker(url, "bench-watch") as mine:
            watcher = Watcher(store, mine, notifier=Notifier(rules),
                              schedule=PollSchedule.every(0.0), max_batch=len(nums))  # fmt: skip
            for n in nums:
                watcher.watch(n, Order(f"#{n[-6:]}", email="c@example.com"), carriers[n])
            await base.track_many(nums[:50])  # tokens and connections warm for both
            await mine.track_many(nums[:50])
            best_base = best_watch = 0.0
            cpu_base = cpu_watch = float("inf")
            for r in range(1, rounds + 1):
                bw, bc = await baseline_round(base, nums)
                ww, wc, polled = await watcher_round(watcher)
                b_rate, w_rate = len(nums) / bw, polled / ww
                b_cpu, w_cpu = 1000 * bc / len(nums), 1000 * wc / max(1, polled)
                best_base, best_watch = max(best_base, b_rate), max(best_watch, w_rate)
                cpu_base, cpu_watch = min(cpu_base, b_cpu), min(cpu_watch, w_cpu)
                print(
                    f"  round {r}: client {b_rate:7.0f} numbers/s {b_cpu:.3f} ms CPU/number | "
                    f"watcher {w_rate:7.0f} numbers/s {w_cpu:.3f} ms CPU/number | "
                    f"ratio {w_rate / b_rate:.2f}, CPU ×{w_cpu / b_cpu:.2f}"
                )
            events = len(store.changes())
        store.close()
    print(
        f"  best: client {best_base:.0f} numbers/s, watcher {best_watch:.0f} numbers/s "
        f"(ratio {best_watch / best_base:.2f}); least CPU per number: client "
        f"{cpu_base:.3f} ms, watcher {cpu_watch:.3f} ms (×{cpu_watch / cpu_base:.2f}); "
        f"{events} change events recorded"
    )


class StampedSmtp(SmtpServer):
    """The test SMTP server, noting when each message arrived (monotonic seconds)."""

    def __init__(self) -> None:
        super().__init__()
        self.arrivals: list[tuple[float, Any]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.arrivals.append((time.monotonic(), message))
        return "250 OK"


async def latency(url: str, every: float, rate: float = 60.0) -> None:
    tenant = "bench-latency"
    async with httpx.AsyncClient(base_url=url) as admin:
        # The scenario starts a day before the server's clock start; out for delivery is
        # 2 d 1 h after that.
        start = (await admin.get("/__admin/clock", params={"tenant": tenant})).json()
        clock_start = datetime.fromisoformat(start["now"].replace("Z", "+00:00"))
        t0 = clock_start - timedelta(days=1)
        at = t0 + timedelta(days=2, hours=1) - timedelta(minutes=1)
        await admin.post("/__admin/clock/set", params={"tenant": tenant},
                         json={"at": at.isoformat()})  # fmt: skip
        await admin.post("/__admin/clock/run", params={"tenant": tenant}, json={"rate": rate})
        now = (await admin.get("/__admin/clock", params={"tenant": tenant})).json()["now"]
    clock = ScaledClock(datetime.fromisoformat(now.replace("Z", "+00:00")), rate)
    numbers = [(n, c) for c, ns in ON_TIME.items() for n in ns]
    with StampedSmtp() as smtp:
        store = Store()
        rules = [Rule("email", frozenset({ChangeKind.out_for_delivery}))]
        async with tracker(url, tenant) as client:
            watcher = Watcher(store, client, notifier=Notifier(rules), clock=clock,
                              outbox=Outbox(store, {"email": SmtpSender(port=smtp.port)}),
                              schedule=PollSchedule.every(every))  # fmt: skip
            for n, c in numbers:
                watcher.watch(n, Order(n, email=f"{c}@example.com"), c)
            deadline = time.monotonic() + 60 + 2 * every / rate
            while len(smtp.arrivals) < len(numbers) and time.monotonic() < deadline:
                await watcher.step()
                wake = watcher.next_wake()
                await clock.sleep(min(wake if wake is not None else every, every))
        scans = {c.number: c.at for c in store.changes() if c.kind is ChangeKind.out_for_delivery}
        store.close()
    delays: list[float] = []
    for arrived, message in smtp.arrivals:
        number = message["Subject"].split()[1].rstrip(":")
        scan = scans.get(number.lstrip("#"))
        if scan is None:
            continue
        sim_arrival = clock.start + timedelta(seconds=(arrived - clock._origin) * rate)
        delays.append((sim_arrival - scan).total_seconds())
    if not delays:
        print("latency: no out-for-delivery email arrived")
        return
    print(
        f"latency at {rate:.0f}×, polling every {every:.0f} simulated s "
        f"({every / rate:.2f} s real), {len(delays)} of {len(numbers)} parcels: "
        f"scan → email min {min(delays):.1f} / median {statistics.median(delays):.1f} / "
        f"max {max(delays):.1f} simulated s = {min(delays) / rate:.2f} / "
        f"{statistics.median(delays) / rate:.2f} / {max(delays) / rate:.2f} s real"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--numbers", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--latency-every", type=float, default=30.0)
    args = parser.parse_args()
    port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        proc = start_server(port, Path(tmp) / "server.log")
        try:
            url = f"http://{HOST}:{port}"
            asyncio.run(throughput(url, args.numbers, args.rounds))
            asyncio.run(latency(url, args.latency_every))
        finally:
            stop_server(proc)
    return 0


if __name__ == "__main__":
    sys.exit(main())
