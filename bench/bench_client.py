"""Benchmark: AsyncTrackingClient.track_many against a bare httpx.AsyncClient gather.

Tracks N distinct numbers (default 10,000, a quarter per carrier, in formats that both the
client's and the simulator's detection give to one carrier only) against carriersim on
loopback, two ways per run:

- client: ``AsyncTrackingClient.track_many`` (detection, batching, token cache, the retry
  flow, parsing into the model), and a check that no number is lost;
- baseline: a bare ``httpx.AsyncClient`` that fetches one token per carrier and sends the
  requests the client sends (UPS GET per number, FedEx POST batches of 30, USPS v3r2 POST
  batches of 35 — a lone USPS number is a v3 GET, as in the client — DHL GET per number)
  through ``asyncio.gather`` under a semaphore of the same size, checking status codes only.

Two runs, each on its own server:

- clean: ``carriersim serve`` as it ships;
- faulted: ``--faults`` with a 5 % 503 and a fixed 50 ms latency on every carrier's track
  endpoint. The client retries the 503s (its default RetryPolicy); the baseline counts them.

Each run first sends every tracking request once over raw keep-alive sockets (untimed; it
fills the server's shipment and render caches), then one untimed pass of each side over a
few hundred numbers (it warms this process: lazy imports, the client's phrase and place
caches, httpx's code paths), then interleaved timed rounds: client then baseline, baseline
then client, and so on, for ``--rounds`` rounds. Each round gives a client/baseline ratio of
wall time and one of this process's CPU time; the run's ratios are the medians of the
rounds' (goal: wall <= 1.10 clean, <= 1.15 faulted). The CPU ratio is the figure to trust
on a shared machine: it does not count time the process spent waiting for a core. Beside
each pass the table shows the server's CPU seconds (its own process, from /proc), so a
pass that the server slowed down shows, and the seconds this process spent in garbage
collection. The header names the Python, the versions of the libraries on the request path
and whether the ``dev`` extras are installed, so two runs can be compared; the load average
is printed at the start and the end. Every pass has a timeout, a round starts only if it
should end within the time budget, and servers are stopped in ``finally`` blocks.

The default concurrency, 16 (the client's own default), is where httpx is fastest here: its
connection pool does work per open connection on every request and response, so beyond
~24 connections both sides get slower (CPU-bound in httpcore), with the 50 ms latency most.

    python bench/bench_client.py [--numbers 10000] [--concurrency 16] [--rounds 3]
                                 [--phase-timeout 90] [--budget 360] [--seed 1] [--clean-only]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib.metadata
import json
import math
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import HOST, cpu_seconds, free_port, wait_ready
from client import AsyncTrackingClient, CarrierSettings, NotFound, TrackingError, TrackingResult
from client import detect as client_detect
from client.model import Carrier
from simulator import numbers

PLAN = """\
faults:
  - name: bench-503
    kind: http_error
    status: 503
    match: {endpoint: track}
    when: {probability: 0.05}
  - name: bench-latency
    kind: latency
    distribution: fixed
    ms: 50
    match: {endpoint: track}
"""

# Formats each carrier's numbers are drawn from, round-robin; a number is kept only if
# client.detect and simulator.numbers.detect both name that carrier alone.
FORMATS: dict[str, tuple[str, ...]] = {
    "ups": ("1z",),
    "fedex": ("express12", "ground15", "ground96", "smartpost20"),
    "usps": ("impb22", "impb20", "impb26", "impb30", "impb34"),
    "dhl": ("express10", "express11"),
}
BATCH = {"ups": 1, "fedex": 30, "usps": 35, "dhl": 1}  # batch_size in client/carriers/*
CLIENT_ID, SECRET, API_KEY = "bench", "secret", "bench"
TIMEOUT = httpx.Timeout(connect=5.0, read=20.0, write=10.0, pool=10.0)  # the client's default
GOALS = {"clean": 1.10, "faulted": 1.15}
"""Most client/baseline wall time (median of the rounds) per run."""
WARM_NUMBERS = 400
"""Numbers in the untimed warm-up pass of each side."""
LIBRARIES = ("httpx", "httpcore", "h11", "anyio", "sniffio", "orjson")

Job = tuple[str, list[str]]


class NumberLost(RuntimeError):
    """track_many broke its promise: an outcome missing, misplaced or for another number."""


# -- environment ------------------------------------------------------------------------------


def dev_extras() -> str:
    """Whether carriersim's ``dev`` extras are installed: "yes", or "no (missing: …)"."""
    try:
        requires = importlib.metadata.requires("carriersim") or []
    except importlib.metadata.PackageNotFoundError:
        return "unknown (carriersim is not installed)"
    missing = []
    for req in requires:
        if 'extra == "dev"' not in req and "extra == 'dev'" not in req:
            continue
        name = re.split(r"[\s<>=!~;\[]", req, maxsplit=1)[0]
        try:
            importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            missing.append(name)
    return "yes" if not missing else f"no (missing: {', '.join(missing)})"


def environment() -> dict[str, Any]:
    """What the figures depend on besides the code: interpreter, libraries, extras, GC."""
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    return {
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        **versions,
        "dev_extras": dev_extras(),
        "gc_threshold": list(gc.get_threshold()),
    }


class GcMeter:
    """Collections, and CPU seconds spent in the garbage collector, while it is installed."""

    def __init__(self) -> None:
        self.collections = [0, 0, 0]
        self.seconds = 0.0
        self._began = 0.0

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        # CPU time, not wall time: on a loaded machine a collection is often preempted.
        if phase == "start":
            self._began = time.process_time()
        else:
            self.seconds += time.process_time() - self._began
            self.collections[info["generation"]] += 1

    def __enter__(self) -> GcMeter:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)


def server_cpu(pid: int | None) -> float:
    """CPU seconds the server process has used so far (NaN where /proc cannot say)."""
    if pid is None:
        return math.nan
    try:
        return cpu_seconds(pid)
    except (OSError, ValueError, IndexError):
        return math.nan


# -- numbers ----------------------------------------------------------------------------------


def generate(total: int, seed: int) -> tuple[list[str], dict[str, Carrier]]:
    """``total`` distinct valid numbers, a quarter per carrier, shuffled; and their carriers."""
    rng = random.Random(seed)
    carriers: dict[str, Carrier] = {}
    for i, name in enumerate(numbers.CARRIERS):
        want = total // 4 + (1 if i < total % 4 else 0)
        fmts, got, tries = FORMATS[name], 0, 0
        while got < want:
            tries += 1
            if tries > 20 * want + 1000:
                raise SystemExit(f"could not draw {want} unambiguous {name} numbers")
            n = numbers.generate(name, rng, fmts[tries % len(fmts)])
            if n in carriers or numbers.detect(n) != (name,):
                continue
            try:
                if client_detect(n) is not Carrier(name):
                    continue
            except TrackingError:
                continue
            carriers[n] = Carrier(name)
            got += 1
    nums = list(carriers)
    rng.shuffle(nums)
    return nums, carriers


def plan_jobs(nums: Sequence[str], carriers: dict[str, Carrier]) -> list[Job]:
    """The requests track_many makes: per carrier (in Carrier order), input order, batched."""
    by: dict[str, list[str]] = {c.value: [] for c in Carrier}
    for n in nums:
        by[carriers[n].value].append(n)
    jobs: list[Job] = []
    for name, found in by.items():
        size = BATCH[name]
        jobs += [(name, found[i : i + size]) for i in range(0, len(found), size)]
    return jobs


# -- servers ----------------------------------------------------------------------------------


def start_server(port: int, log: Path, faults: Path | None = None) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "simulator", "serve", "--port", str(port),
           "--log-level", "warning"]  # fmt: skip
    if faults is not None:
        cmd += ["--faults", str(faults)]
    with log.open("wb") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
    try:
        wait_ready(port, proc)
    except BaseException:
        stop_server(proc)
        sys.stderr.write(log.read_text(errors="replace")[-2000:])
        raise
    return proc


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


# -- the two sides ----------------------------------------------------------------------------


@dataclass
class Pass:
    """One timed pass over all numbers."""

    side: str
    numbers: int
    seconds: float = math.inf
    cpu: float = math.inf
    """Seconds of this process's CPU during the pass (the server runs in another process)."""
    server_cpu: float = math.nan
    """Seconds of the server process's CPU during the pass."""
    gc_seconds: float = 0.0
    """Seconds of this process's CPU time spent in garbage collection during the pass."""
    gc_collections: list[int] = field(default_factory=lambda: [0, 0, 0])
    """Collections of generations 0, 1 and 2 during the pass."""
    requests: int = 0
    """HTTP answers received, token requests included."""
    statuses: Counter[int] = field(default_factory=Counter)
    ok: int = 0
    """Client: TrackingResults. Baseline: numbers answered 2xx."""
    not_found: int = 0
    """Client: NotFound. Baseline: numbers answered 404."""
    failed: int = 0
    """Client: any other TrackingError. Baseline: numbers in other answers or broken requests."""
    errors: Counter[str] = field(default_factory=Counter)

    @property
    def rate(self) -> float:
        return self.numbers / self.seconds

    def as_json(self) -> dict[str, Any]:
        return {
            "seconds": round(self.seconds, 3),
            "cpu_seconds": round(self.cpu, 3),
            "server_cpu_seconds": _rounded(self.server_cpu),
            "gc_seconds": round(self.gc_seconds, 3),
            "gc_collections": self.gc_collections,
            "numbers_per_s": round(self.rate, 1),
            "requests": self.requests,
            "status_503": self.statuses.get(503, 0),
            "ok": self.ok,
            "not_found": self.not_found,
            "failed": self.failed,
            "errors": dict(self.errors),
        }


def _rounded(value: float, digits: int = 3) -> float | None:
    return None if math.isnan(value) else round(value, digits)


def counting_hooks(statuses: Counter[int]) -> dict[str, list[Callable[..., Any]]]:
    async def on_response(response: httpx.Response) -> None:
        statuses[response.status_code] += 1

    return {"request": [], "response": [on_response]}


async def timed(result: Pass, work: Awaitable[Any], timeout: float, server: int | None) -> Any:
    with GcMeter() as meter:
        served, cpu, t = server_cpu(server), time.process_time(), time.perf_counter()
        value = await asyncio.wait_for(work, timeout)
        result.seconds, result.cpu = time.perf_counter() - t, time.process_time() - cpu
        result.server_cpu = server_cpu(server) - served
    result.gc_seconds, result.gc_collections = meter.seconds, meter.collections
    return value


async def client_pass(
    base_url: str,
    nums: list[str],
    carriers: dict[str, Carrier],
    concurrency: int,
    timeout: float,
    server: int | None = None,
) -> Pass:
    login = CarrierSettings(client_id=CLIENT_ID, client_secret=SECRET)
    tracker = AsyncTrackingClient(
        base_url=base_url,
        ups=login,
        fedex=login,
        usps=login,
        dhl=CarrierSettings(api_key=API_KEY),
        concurrency=concurrency,
        env={},
    )
    result = Pass("client", len(nums))
    tracker.http.event_hooks = counting_hooks(result.statuses)
    try:
        outcomes = await timed(result, tracker.track_many(nums), timeout, server)
    finally:
        await tracker.aclose()
    result.requests = sum(result.statuses.values())
    # No number lost: one outcome per input, in input order, each for its number and carrier.
    if len(outcomes) != len(nums):
        raise NumberLost(f"{len(outcomes)} outcomes for {len(nums)} numbers")
    for n, o in zip(nums, outcomes, strict=True):
        if not isinstance(o, TrackingResult | TrackingError):
            raise NumberLost(f"{n}: not an outcome: {o!r}")
        if o.number != n or o.carrier is not carriers[n]:
            raise NumberLost(f"slot of {n} ({carriers[n]}) holds {o.number} ({o.carrier})")
        if isinstance(o, TrackingResult):
            result.ok += 1
        elif isinstance(o, NotFound):
            result.not_found += 1
        else:
            result.failed += 1
            result.errors[type(o).__name__] += 1
    return result


def tracking_request(
    http: httpx.AsyncClient, carrier: str, ns: list[str], tokens: dict[str, str]
) -> httpx.Request:
    """The request client/carriers/<carrier>.py sends for these numbers."""
    bearer = {"Authorization": f"Bearer {tokens.get(carrier, '')}"}
    if carrier == "ups":
        return http.build_request(
            "GET",
            f"/api/track/v1/details/{ns[0]}",
            params={"locale": "en_US"},
            headers={**bearer, "transId": uuid.uuid4().hex, "transactionSrc": "bench"},
        )
    if carrier == "fedex":
        return http.build_request(
            "POST",
            "/track/v1/trackingnumbers",
            json={
                "includeDetailedScans": True,
                "trackingInfo": [{"trackingNumberInfo": {"trackingNumber": n}} for n in ns],
            },
            headers={**bearer, "x-locale": "en_US", "x-customer-transaction-id": uuid.uuid4().hex},
        )
    if carrier == "usps":
        if len(ns) == 1:  # the client sends a lone USPS number as a v3 GET
            return http.build_request(
                "GET", f"/tracking/v3/tracking/{ns[0]}", params={"expand": "DETAIL"}, headers=bearer
            )
        return http.build_request(
            "POST",
            "/tracking/v3r2/tracking",
            json=[{"trackingNumber": n} for n in ns],
            headers=bearer,
        )
    return http.build_request(
        "GET",
        "/track/shipments",
        params={"trackingNumber": ns[0]},
        headers={"DHL-API-Key": API_KEY},
    )


async def fetch_tokens(http: httpx.AsyncClient) -> dict[str, str]:
    """One token per OAuth carrier, asked for as the client asks."""
    form = {"grant_type": "client_credentials"}
    creds = {**form, "client_id": CLIENT_ID, "client_secret": SECRET}

    async def token(path: str, **kw: Any) -> str:
        r = await http.post(path, **kw)
        r.raise_for_status()
        return str(r.json()["access_token"])

    ups, fedex, usps = await asyncio.gather(
        token("/security/v1/oauth/token", data=form, auth=(CLIENT_ID, SECRET)),
        token("/oauth/token", data=creds),
        token("/oauth2/v3/token", data=creds),
    )
    return {"ups": ups, "fedex": fedex, "usps": usps}


def bare_client(base_url: str, concurrency: int, statuses: Counter[int]) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=base_url,
        timeout=TIMEOUT,
        limits=httpx.Limits(max_connections=max(concurrency, 10)),
        headers={"Accept": "application/json"},
        event_hooks=counting_hooks(statuses),
    )


async def baseline_pass(
    base_url: str,
    jobs: list[Job],
    total: int,
    concurrency: int,
    timeout: float,
    server: int | None = None,
) -> Pass:
    result = Pass("baseline", total)
    http = bare_client(base_url, concurrency, result.statuses)
    limit = asyncio.Semaphore(concurrency)

    async def one(carrier: str, ns: list[str], tokens: dict[str, str]) -> None:
        async with limit:
            try:
                response = await http.send(tracking_request(http, carrier, ns, tokens))
            except httpx.HTTPError as exc:
                result.failed += len(ns)
                result.errors[type(exc).__name__] += 1
                return
        if response.is_success:
            result.ok += len(ns)
        elif response.status_code == 404:
            result.not_found += len(ns)
        else:
            result.failed += len(ns)
            result.errors[f"HTTP {response.status_code}"] += 1

    async def run() -> None:
        tokens = await fetch_tokens(http)
        await asyncio.gather(*(one(c, ns, tokens) for c, ns in jobs))

    try:
        await timed(result, run(), timeout, server)
    finally:
        await http.aclose()
    result.requests = sum(result.statuses.values())
    return result


async def warm_up(base_url: str, port: int, jobs: list[Job], timeout: float) -> tuple[float, int]:
    """Send every tracking request once over 128 raw keep-alive sockets (cheap on this side,
    so the server's cold start is what it costs). Returns (seconds, requests answered)."""
    async with bare_client(base_url, 10, Counter()) as http:
        tokens = await fetch_tokens(http)
        raw = []
        for carrier, ns in jobs:
            req = tracking_request(http, carrier, ns, tokens)
            head = b"".join(k + b": " + v + b"\r\n" for k, v in req.headers.raw)
            raw.append(b"%s %s HTTP/1.1\r\n%s\r\n%s" % (
                req.method.encode(), req.url.raw_path, head, req.read()))  # fmt: skip
    queue = raw[::-1]
    answered = [0]

    async def connection() -> None:
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            while queue:
                writer.write(queue.pop())
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                    sizes = [
                        int(line[15:])
                        for line in head.split(b"\r\n")
                        if line[:15].lower() == b"content-length:"
                    ]
                    if not sizes:
                        raise ValueError("no content-length")
                    await reader.readexactly(sizes[0])
                    answered[0] += 1
                except (OSError, ValueError, asyncio.IncompleteReadError):
                    # Best effort: skip this request and carry on over a new connection.
                    writer.close()
                    reader, writer = await asyncio.open_connection(HOST, port)
        finally:
            writer.close()

    t = time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*(connection() for _ in range(128))), timeout)
    return time.perf_counter() - t, answered[0]


# -- runs -------------------------------------------------------------------------------------


@dataclass
class Round:
    """One client pass and one baseline pass, back to back."""

    client: Pass
    baseline: Pass

    def ratio(self, what: str = "seconds") -> float:
        return float(getattr(self.client, what) / getattr(self.baseline, what))


@dataclass
class Run:
    name: str
    warm_up: float = math.nan
    rounds: list[Round] = field(default_factory=list)
    timed_out: str | None = None

    def ratio(self, what: str = "seconds") -> float:
        """The median over the rounds of the client/baseline ratio of ``what``."""
        if not self.rounds:
            return math.nan
        return statistics.median(r.ratio(what) for r in self.rounds)

    def median_pass(self, side: str) -> Pass | None:
        """The pass of ``side`` with the median wall time (the lower median)."""
        passes = sorted((getattr(r, side) for r in self.rounds), key=lambda p: p.seconds)
        return passes[(len(passes) - 1) // 2] if passes else None


def show(name: str, label: str, p: Pass) -> None:
    gcs = "/".join(str(n) for n in p.gc_collections)
    print(f"  {name} {label}: {p.side:8} {p.seconds:6.2f} s, cpu {p.cpu:6.2f} s "
          f"(gc {p.gc_seconds:5.2f} s, {gcs}), server cpu {p.server_cpu:6.2f} s, "
          f"{p.requests} requests", flush=True)  # fmt: skip


async def measure(
    name: str,
    port: int,
    server: int | None,
    nums: list[str],
    carriers: dict[str, Carrier],
    args: argparse.Namespace,
    deadline: float,
) -> Run:
    """Warm the server and this process, then interleaved timed rounds (client and baseline,
    alternating who goes first); a further round starts only if the last one would still fit
    before ``deadline``."""
    base_url = f"http://{HOST}:{port}"
    jobs = plan_jobs(nums, carriers)
    timeout = args.phase_timeout
    run = Run(name)
    try:
        run.warm_up, answered = await warm_up(base_url, port, jobs, timeout)
        print(f"  {name}: server warm-up {run.warm_up:.2f} s ({answered}/{len(jobs)} requests "
              "answered)", flush=True)  # fmt: skip
        few = nums[:WARM_NUMBERS]
        for p in (
            await client_pass(base_url, few, carriers, args.concurrency, timeout, server),
            await baseline_pass(
                base_url, plan_jobs(few, carriers), len(few), args.concurrency, timeout, server
            ),
        ):
            show(name, "warm-up", p)
    except TimeoutError:
        run.timed_out = f"warm-up took over {timeout:g} s"
        return run

    def client() -> Awaitable[Pass]:
        return client_pass(base_url, nums, carriers, args.concurrency, timeout, server)

    def baseline() -> Awaitable[Pass]:
        return baseline_pass(base_url, jobs, len(nums), args.concurrency, timeout, server)

    last = 0.0
    for r in range(args.rounds):
        if r and time.monotonic() + last > deadline:
            print(f"  {name}: another round would end past the time budget; "
                  f"keeping {r}", flush=True)  # fmt: skip
            break
        began = time.monotonic()
        got: dict[str, Pass] = {}
        for side in (client, baseline) if r % 2 == 0 else (baseline, client):
            gc.collect()
            try:
                p = await side()
            except TimeoutError:
                run.timed_out = f"the {side.__name__} pass took over {timeout:g} s"
                return run
            show(name, f"round {r + 1}", p)
            got[p.side] = p
        run.rounds.append(Round(got["client"], got["baseline"]))
        print(f"  {name} round {r + 1}: client/baseline wall {run.rounds[-1].ratio():.3f}, "
              f"cpu {run.rounds[-1].ratio('cpu'):.3f}", flush=True)  # fmt: skip
        last = time.monotonic() - began
    return run


def report(runs: list[Run], args: argparse.Namespace, total: int) -> dict[str, Any]:
    head = (f"{'run':8} {'side':9} {'wall s':>7} {'cpu s':>6} {'gc s':>5} {'server s':>8} "
            f"{'numbers/s':>9} {'requests':>8} {'503s':>5} {'ok':>6} {'not found':>9} "
            f"{'failed':>6}")  # fmt: skip
    print()
    print(head)
    print("-" * len(head))
    out: dict[str, Any] = {"numbers": total, "concurrency": args.concurrency}
    for run in runs:
        for p in (run.median_pass("baseline"), run.median_pass("client")):
            if p is None:
                continue
            print(f"{run.name:8} {p.side:9} {p.seconds:7.2f} {p.cpu:6.2f} {p.gc_seconds:5.2f} "
                  f"{p.server_cpu:8.2f} {p.rate:9.0f} {p.requests:8d} "
                  f"{p.statuses.get(503, 0):5d} {p.ok:6d} {p.not_found:9d} "
                  f"{p.failed:6d}")  # fmt: skip
        ratio, cpu_ratio = run.ratio(), run.ratio("cpu")
        out[run.name] = {
            "ratio": _rounded(ratio),
            "cpu_ratio": _rounded(cpu_ratio),
            "server_cpu_ratio": _rounded(run.ratio("server_cpu")),
            "round_ratios": [round(r.ratio(), 3) for r in run.rounds],
            "round_cpu_ratios": [round(r.ratio("cpu"), 3) for r in run.rounds],
            "rounds": len(run.rounds),
            "warm_up_s": _rounded(run.warm_up, 2),
            "timed_out": run.timed_out,
            "passes": {
                side: [getattr(r, side).as_json() for r in run.rounds]
                for side in ("client", "baseline")
            },
        }
    print()
    print("ok: client TrackingResults / baseline numbers answered 2xx (UPS and FedEx answer")
    print("unknown numbers inside a 200); not found: client NotFound / baseline 404s; failed:")
    print("client other TrackingErrors / baseline numbers in other answers. Requests include")
    print("the 3 token requests. Rows: each side's median pass; cpu and gc: this process;")
    print("server: the server process. Ratios: the median over the rounds of each round's.")
    for run in runs:
        if run.timed_out:
            print(f"{run.name}: INCOMPLETE, {run.timed_out}")
            continue
        ratio, goal = run.ratio(), GOALS[run.name]
        verdict = "met" if ratio <= goal else "NOT met"
        rounds = ", ".join(f"{r.ratio():.3f}" for r in run.rounds)
        print(f"{run.name}: client/baseline wall time {ratio:.3f} (goal <= {goal:.2f}: "
              f"{verdict}; rounds {rounds}), cpu {run.ratio('cpu'):.3f}, server cpu "
              f"{run.ratio('server_cpu'):.3f}; no number lost ({total} outcomes, each in its "
              "number's slot)")  # fmt: skip
    faulted = next((r for r in runs if r.name == "faulted" and not r.timed_out), None)
    if faulted is not None:
        c, b = faulted.median_pass("client"), faulted.median_pass("baseline")
        assert c is not None and b is not None
        print(f"faulted: the client met {c.statuses.get(503, 0)} 503s and retried each one "
              f"({c.requests - b.requests:+d} requests vs the baseline) after a full-jitter "
              "backoff (up to 0.25 s, 0.5 s for a second retry; its concurrency slot is free "
              f"meanwhile) and another 50 ms answer; {c.failed} numbers failed in the end. "
              f"The baseline stopped at its {b.statuses.get(503, 0)} 503s, leaving {b.failed} "
              "numbers without an answer: it did less work, so the faulted ratio includes "
              "the price of recovering them.")  # fmt: skip
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--numbers", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds per run")
    parser.add_argument("--phase-timeout", type=float, default=90.0, help="seconds per pass")
    parser.add_argument("--budget", type=float, default=360.0,
                        help="seconds; a round starts only if it should end within it")  # fmt: skip
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--clean-only", action="store_true", help="skip the faulted run")
    args = parser.parse_args()
    if args.numbers < 4 or args.concurrency < 1 or args.rounds < 1:
        parser.error("needs --numbers >= 4, --concurrency >= 1 and --rounds >= 1")
    started = time.monotonic()
    load_before = os.getloadavg()[0]
    env = environment()
    print(" ".join(f"{k} {v if not isinstance(v, list) else '/'.join(map(str, v))};"
                   for k, v in env.items()).rstrip(";"), flush=True)  # fmt: skip

    nums, carriers = generate(args.numbers, args.seed)
    per = Counter(c.value for c in carriers.values())
    print(f"{len(nums)} distinct numbers ({', '.join(f'{k} {v}' for k, v in per.items())}), "
          f"{len(plan_jobs(nums, carriers))} tracking requests per pass, concurrency "
          f"{args.concurrency}, {os.cpu_count()} CPUs, load average {load_before:.2f}",
          flush=True)  # fmt: skip

    runs: list[Run] = []
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        plan = tmp / "plan.yaml"
        plan.write_text(PLAN)
        setups: list[tuple[str, Path | None]] = [("clean", None)]
        if not args.clean_only:
            setups.append(("faulted", plan))
        for i, (name, faults) in enumerate(setups, 1):
            # Each run may use its share of the budget, plus whatever earlier runs left.
            deadline = started + args.budget * i / len(setups)
            port = free_port()
            proc = start_server(port, tmp / f"{name}.log", faults)
            pid = proc.pid if not math.isnan(server_cpu(proc.pid)) else None
            try:
                runs.append(asyncio.run(measure(name, port, pid, nums, carriers, args, deadline)))
            finally:
                stop_server(proc)
    out = report(runs, args, len(nums))
    out["environment"] = env
    out["load_average"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    out["total_seconds"] = round(time.monotonic() - started, 1)
    print(f"load average {load_before:.2f} -> {os.getloadavg()[0]:.2f}; "
          f"total {out['total_seconds']} s")  # fmt: skip
    print(json.dumps(out))
    return 1 if any(r.timed_out for r in runs) else 0


if __name__ == "__main__":
    raise SystemExit(main())
