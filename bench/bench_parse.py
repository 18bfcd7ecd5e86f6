"""Benchmark: the client's per-number CPU cost in process, without the network.

The same numbers as ``bench/bench_client.py`` (a quarter per carrier, same seed) are tracked
once against ``carriersim serve`` on loopback, with the requests the client's own adapters
build; the answers are kept as bytes. Then, in this process alone, timed rounds of:

- ``json``: ``orjson.loads`` of every answer, the least any client does with it (baseline);
- ``parse``: every adapter's ``parse_track_safely`` on every answer (detail in the model:
  times, statuses, places, event order, anomalies), the results held until the round ends,
  as ``track_many`` holds them;
- ``plan``: ``track_many``'s detection and batching of all the numbers (``_plan``).

Printed per carrier and in total: microseconds of CPU per number (the least over the
rounds; this process's CPU only, so other processes on the machine disturb it little), the
ratio parse/json, and the garbage collector's share. No network during the timed rounds.

    python bench/bench_parse.py [--numbers 10000] [--rounds 5] [--seed 1]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_client import (
    API_KEY,
    CLIENT_ID,
    SECRET,
    environment,
    generate,
    start_server,
    stop_server,
)

from bench import HOST, free_port
from client import AsyncTrackingClient
from client.carriers import ADAPTERS
from client.carriers.base import CarrierConfig
from client.model import Carrier
from client.transport import HttpReply

FETCH_SECONDS = 120.0
"""Most seconds the untimed fetch of all answers may take."""

Answer = tuple[Carrier, tuple[str, ...], HttpReply]


def fetch(port: int, jobs: list[tuple[Carrier, tuple[str, ...]]]) -> list[Answer]:
    """Every job's answer, asked with the adapter's own token and tracking requests."""
    base = f"http://{HOST}:{port}"
    configs = {
        c: CarrierConfig(c, base, CLIENT_ID, SECRET, API_KEY if c is Carrier.dhl else None)
        for c in Carrier
    }
    answers: list[Answer] = []
    end = time.monotonic() + FETCH_SECONDS
    with httpx.Client(timeout=20.0) as http:
        tokens: dict[Carrier, str | None] = {}
        for c, adapter in ADAPTERS.items():
            if not adapter.uses_token:
                tokens[c] = None
                continue
            r = http.send(adapter.token_request(configs[c]))
            reply = HttpReply(r.status_code, r.headers, r.content, str(r.url))
            tokens[c] = adapter.parse_token(reply).access_token
        for c, ns in jobs:
            if time.monotonic() > end:
                raise SystemExit(f"fetching the answers took over {FETCH_SECONDS:g} s")
            r = http.send(ADAPTERS[c].track_request(configs[c], ns, tokens[c]))
            answers.append((c, ns, HttpReply(r.status_code, r.headers, r.content, str(r.url))))
    return answers


def cpu_round(work: Callable[[], Any]) -> tuple[float, float]:
    """(CPU seconds, of which in the garbage collector) for one call of ``work``."""
    in_gc = [0.0, 0.0]

    def meter(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            in_gc[1] = time.process_time()
        else:
            in_gc[0] += time.process_time() - in_gc[1]

    gc.collect()
    gc.callbacks.append(meter)
    try:
        t = time.process_time()
        kept = work()
        spent = time.process_time() - t
    finally:
        gc.callbacks.remove(meter)
    del kept
    return spent, in_gc[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--numbers", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.numbers < 4 or args.rounds < 1:
        parser.error("needs --numbers >= 4 and --rounds >= 1")
    env = environment()
    print(" ".join(f"{k} {v if not isinstance(v, list) else '/'.join(map(str, v))};"
                   for k, v in env.items()).rstrip(";"), flush=True)  # fmt: skip
    load_before = os.getloadavg()[0]
    nums, _ = generate(args.numbers, args.seed)
    tracker = AsyncTrackingClient(base_url="http://127.0.0.1:9", env={})
    _, planned = tracker._plan(nums, None)
    jobs = [(j.carrier, j.numbers) for j in planned]
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        proc = start_server(port, Path(tmp) / "server.log")
        try:
            answers = fetch(port, jobs)
        finally:
            stop_server(proc)
    per = {c: sum(len(ns) for k, ns, _ in answers if k is c) for c in Carrier}
    print(f"{len(nums)} numbers in {len(answers)} answers "
          f"({sum(len(a[2].content) for a in answers) / 1e6:.1f} MB), "
          f"{args.rounds} rounds, load average {load_before:.2f}", flush=True)  # fmt: skip

    def json_side(c: Carrier) -> Callable[[], Any]:
        mine = [a[2].content for a in answers if a[0] is c]
        return lambda: [orjson.loads(b) for b in mine]

    def parse_side(c: Carrier) -> Callable[[], Any]:
        adapter, mine = ADAPTERS[c], [(ns, reply) for k, ns, reply in answers if k is c]
        return lambda: [adapter.parse_track_safely(reply, ns) for ns, reply in mine]

    for c, ns, reply in answers[:: max(1, len(answers) // 50)]:  # warm this process
        ADAPTERS[c].parse_track_safely(reply, ns)
    best: dict[str, list[float]] = {}  # name -> [cpu, gc] of the quickest round
    for _ in range(args.rounds):
        timings: list[tuple[str, Callable[[], Any]]] = [("plan", lambda: tracker._plan(nums, None))]
        for c in Carrier:
            timings += [(f"json {c.value}", json_side(c)), (f"parse {c.value}", parse_side(c))]
        for name, work in timings:
            spent, in_gc = cpu_round(work)
            if name not in best or spent < best[name][0]:
                best[name] = [spent, in_gc]

    out: dict[str, Any] = {"numbers": len(nums), "rounds": args.rounds}
    print()
    print(f"{'carrier':8} {'numbers':>7} {'json us':>8} {'parse us':>8} {'(gc us)':>8} "
          f"{'parse/json':>10}")  # fmt: skip
    totals = [0.0, 0.0, 0.0]
    for c in Carrier:
        n = per[c]
        j, (p, pg) = best[f"json {c.value}"][0], best[f"parse {c.value}"]
        totals = [totals[0] + j, totals[1] + p, totals[2] + pg]
        print(f"{c.value:8} {n:7d} {j / n * 1e6:8.1f} {p / n * 1e6:8.1f} {pg / n * 1e6:8.1f} "
              f"{p / j:10.2f}")  # fmt: skip
        out[c.value] = {"json_us": round(j / n * 1e6, 1), "parse_us": round(p / n * 1e6, 1),
                        "parse_gc_us": round(pg / n * 1e6, 1)}  # fmt: skip
    n = len(nums)
    j, p, pg = totals
    plan = best["plan"][0]
    print(f"{'all':8} {n:7d} {j / n * 1e6:8.1f} {p / n * 1e6:8.1f} {pg / n * 1e6:8.1f} "
          f"{p / j:10.2f}")  # fmt: skip
    print(f"plan (detection and batching): {plan / n * 1e6:.1f} us per number")
    print(f"client per number in process (plan + parse): {(plan + p) / n * 1e6:.1f} us; "
          f"load average {load_before:.2f} -> {os.getloadavg()[0]:.2f}")  # fmt: skip
    out["all"] = {
        "json_us": round(j / n * 1e6, 1),
        "parse_us": round(p / n * 1e6, 1),
        "parse_gc_us": round(pg / n * 1e6, 1),
        "plan_us": round(plan / n * 1e6, 1),
    }
    out["environment"] = env
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
