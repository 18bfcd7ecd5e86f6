"""Benchmark: latency faults on a real socket.

1. With a lognormal latency fault (median 50 ms, p99 200 ms) on DHL tracking, measure the
   added latency over >= 1,000 requests against a clean run of the same requests, and
   compare the measured median and p99 with the declared ones (goal: within 10 %).
2. Hold 2,000 concurrent delayed requests (fixed 1 s latency) and count errors (goal: none).

    python bench/bench_faults.py [--requests 2000] [--concurrent 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import HOST, free_port, wait_ready
from simulator.loader import load_paths
from simulator.settings import BUNDLED_SCENARIOS

PLAN = """
faults:
  - kind: latency
    distribution: lognormal
    median_ms: 50
    p99_ms: 200
    match: {carrier: dhl, tenant: lognormal}
  - kind: latency
    distribution: fixed
    ms: 1000
    match: {carrier: dhl, tenant: held}
"""


def request(number: str, tenant: str) -> bytes:
    return (
        f"GET /track/shipments?trackingNumber={number} HTTP/1.1\r\nHost: {HOST}\r\n"
        f"DHL-API-Key: {tenant}\r\n\r\n"
    ).encode()


async def one(port: int, payload: bytes, timeout: float) -> tuple[float, int]:
    t = time.perf_counter()
    reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port), timeout)
    try:
        writer.write(payload)
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
        length = next(
            int(line.split(b":")[1]) for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )  # fmt: skip
        await asyncio.wait_for(reader.readexactly(length), timeout)
        return time.perf_counter() - t, int(head[9:12])
    finally:
        writer.close()


async def sequential_with_concurrency(port: int, payload: bytes, n: int, conc: int) -> list[float]:
    sem = asyncio.Semaphore(conc)
    out: list[float] = []

    async def task() -> None:
        async with sem:
            elapsed, status = await one(port, payload, 30)
            if status == 200:
                out.append(elapsed)

    await asyncio.gather(*(task() for _ in range(n)))
    return sorted(out)


def pct(values: list[float], p: float) -> float:
    return values[min(len(values) - 1, int(p / 100 * len(values)))] * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrent", type=int, default=2000)
    args = parser.parse_args()
    number = {s.name: s for s in load_paths([BUNDLED_SCENARIOS])}["delivered-on-time"].numbers[
        "dhl"
    ][0]
    with tempfile.TemporaryDirectory() as tmp:
        plan = Path(tmp) / "plan.yaml"
        plan.write_text(PLAN)
        port = free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "simulator", "serve", "--port", str(port),
             "--log-level", "warning", "--faults", str(plan)],
        )  # fmt: skip
        try:
            wait_ready(port, proc)
            # Few requests in flight, so the server itself adds next to nothing.
            clean = asyncio.run(
                sequential_with_concurrency(port, request(number, "clean"), args.requests, 8)
            )
            slow = asyncio.run(
                sequential_with_concurrency(port, request(number, "lognormal"), args.requests, 8)
            )
            base50, base99 = pct(clean, 50), pct(clean, 99)
            m50, m99 = pct(slow, 50), pct(slow, 99)
            print(f"lognormal latency over {len(slow)} requests (clean run: {len(clean)}):")
            print(f"  clean   p50 {base50:7.1f} ms  p99 {base99:7.1f} ms")
            print(f"  faulted p50 {m50:7.1f} ms  p99 {m99:7.1f} ms")
            print(f"  vs declared: p50 {100 * (m50 / 50 - 1):+.1f} %, "
                  f"p99 {100 * (m99 / 200 - 1):+.1f} % (goal: within 10 %)")  # fmt: skip

            async def held() -> tuple[int, int, float]:
                t = time.perf_counter()
                results = await asyncio.gather(
                    *(one(port, request(number, "held"), 60) for _ in range(args.concurrent)),
                    return_exceptions=True,
                )
                ok = sum(1 for r in results if not isinstance(r, BaseException) and r[1] == 200)
                return ok, len(results) - ok, time.perf_counter() - t

            ok, errors, elapsed = asyncio.run(held())
            print(f"{args.concurrent} concurrent requests held 1 s each: {ok} ok, {errors} errors, "
                  f"all done in {elapsed:.2f} s")  # fmt: skip
        finally:
            proc.terminate()
            proc.wait(10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
