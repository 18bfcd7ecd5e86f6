"""Benchmark: the simulator's warm-token UPS tracking path against a bare Starlette endpoint.

Both run under uvicorn (one worker, the same options) on loopback; the same load tool (wrk
when installed, else the bounded Python generator in bench/loadgen.py) drives both over
many distinct tracking numbers. Prints requests/s, p50/p99 latency and the ratio, then the
memory growth of the simulator while it tracks a large number of distinct numbers.

Rounds alternate the two servers; each round's ratio is printed, then the best round of
each side, the median round's ratio, and the CPU microseconds each server process spent per
request (least over the rounds), which moves much less than throughput on a shared machine.

    python bench/bench.py [--seconds 10] [--rounds 4] [--connections 64] [--numbers 10000]
                          [--memory-numbers 1000000] [--tool wrk|python]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import loadgen

from simulator import numbers

HOST = "127.0.0.1"

WRK_SCRIPT = """
local paths = {}
for line in io.lines("%(numbers)s") do paths[#paths + 1] = line end
local i = 0
local token = "%(token)s"
function setup(thread) thread:set("offset", math.random(1, #paths)) end
request = function()
  i = i + 1
  local n = paths[((offset + i) %% #paths) + 1]
  return wrk.format("GET", "/api/track/v1/details/" .. n,
    {["Authorization"] = "Bearer " .. token, ["transId"] = "b" .. i,
     ["transactionSrc"] = "bench"})
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def wait_ready(port: int, proc: subprocess.Popen[bytes], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited early with {proc.returncode}")
        try:
            with socket.create_connection((HOST, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"server on port {port} did not start within {seconds}s")


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def start_simulator(port: int) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "simulator", "serve", "--port", str(port),
           "--log-level", "warning"]  # fmt: skip
    proc = subprocess.Popen(cmd, stderr=subprocess.DEVNULL)
    wait_ready(port, proc)
    return proc


def token_for(port: int) -> str:
    r = httpx.post(f"http://{HOST}:{port}/security/v1/oauth/token",
                   auth=("bench", "secret"), data={"grant_type": "client_credentials"})  # fmt: skip
    r.raise_for_status()
    return str(r.json()["access_token"])


def generate(count: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    seen: set[str] = set()
    while len(seen) < count:
        seen.add(numbers.generate("ups", rng))
    return sorted(seen)


def raw_requests(nums: list[str], token: str) -> list[bytes]:
    return [
        (f"GET /api/track/v1/details/{n} HTTP/1.1\r\nHost: {HOST}\r\n"
         f"Authorization: Bearer {token}\r\ntransId: b{i}\r\ntransactionSrc: bench\r\n\r\n"
         ).encode()
        for i, n in enumerate(nums)
    ]  # fmt: skip


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load(tool: str, port: int, nums: list[str], token: str, seconds: float, conns: int,
         count: int, tmp: Path, pid: int | None = None) -> dict[str, float]:  # fmt: skip
    """One load run; with the server's ``pid``, also its CPU microseconds per request."""
    cpu = cpu_seconds(pid) if pid is not None else 0.0
    row = _load(tool, port, nums, token, seconds, conns, count, tmp)
    if pid is not None and row["requests"]:
        row["cpu_us"] = (cpu_seconds(pid) - cpu) / row["requests"] * 1e6
    return row


def _load(tool: str, port: int, nums: list[str], token: str, seconds: float, conns: int,
          count: int, tmp: Path) -> dict[str, float]:  # fmt: skip
    if tool == "wrk":
        numbers_file = tmp / "numbers.txt"
        numbers_file.write_text("\n".join(nums) + "\n")
        script = tmp / "track.lua"
        script.write_text(WRK_SCRIPT % {"numbers": numbers_file, "token": token})
        out = subprocess.run(
            ["wrk", "-t2", f"-c{conns}", f"-d{int(seconds)}s", "--latency", "-s", str(script),
             f"http://{HOST}:{port}"],
            capture_output=True, text=True, check=True, timeout=seconds + 60,
        ).stdout  # fmt: skip
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        done = re.search(r"(\d+) requests in", out)
        return {"rps": rps, "p50": _wrk_ms(out, "50%"), "p99": _wrk_ms(out, "99%"),
                "errors": float(errors.group(1)) if errors else 0.0,
                "requests": float(done.group(1)) if done else 0.0}  # fmt: skip
    result = loadgen.run(HOST, port, raw_requests(nums, token), connections=conns,
                         count=count, seconds=seconds)  # fmt: skip
    bad = sum(v for k, v in result.statuses.items() if k >= 400) + result.errors
    return {"rps": result.rps, "p50": result.percentile(50), "p99": result.percentile(99),
            "errors": float(bad), "requests": float(result.requests)}  # fmt: skip


def _wrk_ms(out: str, label: str) -> float:
    m = re.search(rf"^\s+{re.escape(label)}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    if not m:
        return float("nan")
    value, unit = float(m.group(1)), m.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--numbers", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--cold-numbers", type=int, default=300_000,
                        help="distinct numbers of the cold workload (0: skip it)")  # fmt: skip
    parser.add_argument("--memory-numbers", type=int, default=1_000_000)
    parser.add_argument("--tool", choices=("wrk", "python"),
                        default="wrk" if shutil.which("wrk") else "python")  # fmt: skip
    args = parser.parse_args()
    os.environ.setdefault("PYTHONHASHSEED", "0")
    count_cap = 2_000_000

    nums = generate(args.numbers, seed=1)
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        sim_port, bare_port = free_port(), free_port()
        sim = start_simulator(sim_port)
        try:
            token = token_for(sim_port)
            sample = httpx.get(
                f"http://{HOST}:{sim_port}/api/track/v1/details/{nums[0]}",
                headers={"Authorization": f"Bearer {token}", "transId": "x",
                         "transactionSrc": "bench"},
            )  # fmt: skip
            sizes = []
            for n in nums[:200]:
                r = httpx.get(f"http://{HOST}:{sim_port}/api/track/v1/details/{n}",
                              headers={"Authorization": f"Bearer {token}", "transId": "x",
                                       "transactionSrc": "bench"})  # fmt: skip
                sizes.append(len(r.content))
            mean_size = sum(sizes) // len(sizes)
            body = sample.content
            body = body + b" " * max(0, mean_size - len(body))
            body_file = tmp / "body.json"
            body_file.write_bytes(body)
            bare = subprocess.Popen([sys.executable, str(Path(__file__).parent / "bare.py"),
                                     str(bare_port), str(body_file)])  # fmt: skip
            wait_ready(bare_port, bare)
            try:
                print(f"tool={args.tool} connections={args.connections} "
                      f"seconds={args.seconds} distinct numbers={len(nums)} "
                      f"mean UPS body={mean_size} B")  # fmt: skip
                # Warm both (token verification, shipment and render caches, JIT-free Python).
                load(args.tool, sim_port, nums, token, 3, args.connections, count_cap, tmp)
                load(args.tool, bare_port, nums, token, 2, args.connections, count_cap, tmp)
                rows: dict[str, list[dict[str, float]]] = {"bare": [], "carriersim": []}
                cold_rows: dict[str, list[dict[str, float]]] = {"bare": [], "carriersim": []}
                # Cold: numbers never asked before (a fresh slice each round), so neither
                # the replay memo nor the render cache can answer them.
                cold = generate(args.cold_numbers, seed=3) if args.cold_numbers else []
                random.Random(4).shuffle(cold)
                cold_slice = len(cold) // max(1, args.rounds)
                # Rounds alternate the two servers, so a slow spell of a shared machine
                # hits both; each round's ratio is printed, then the best of each side.
                for i in range(args.rounds):
                    b = load(args.tool, bare_port, nums, token, args.seconds,
                             args.connections, count_cap, tmp, bare.pid)  # fmt: skip
                    c = load(args.tool, sim_port, nums, token, args.seconds,
                             args.connections, count_cap, tmp, sim.pid)  # fmt: skip
                    rows["bare"].append(b)
                    rows["carriersim"].append(c)
                    if cold:
                        part = cold[i * cold_slice : (i + 1) * cold_slice]
                        cb = load(args.tool, bare_port, part, token, args.seconds,
                                  args.connections, count_cap, tmp, bare.pid)  # fmt: skip
                        cc = load(args.tool, sim_port, part, token, args.seconds,
                                  args.connections, count_cap, tmp, sim.pid)  # fmt: skip
                        cold_rows["bare"].append(cb)
                        cold_rows["carriersim"].append(cc)
                        print(f"round {i + 1} cold: bare {cb['rps']:.0f} req/s, carriersim "
                              f"{cc['rps']:.0f} req/s, ratio {cc['rps'] / cb['rps']:.3f}, "
                              f"p99 {cb['p99']:.1f} / {cc['p99']:.1f} ms, server CPU "
                              f"{cb.get('cpu_us', 0):.0f} / {cc.get('cpu_us', 0):.0f} us/req",
                              flush=True)  # fmt: skip
                    print(
                        f"round {i + 1}: bare {b['rps']:.0f} req/s, carriersim "
                        f"{c['rps']:.0f} req/s, ratio {c['rps'] / b['rps']:.3f}",
                        flush=True,
                    )
            finally:
                bare.terminate()
                bare.wait(10)
            best = {k: max(v, key=lambda r: r["rps"]) for k, v in rows.items()}
            least_cpu = {k: min(r.get("cpu_us", math.inf) for r in v) for k, v in rows.items()}
            print(f"{'best round':12} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} "
                  f"{'server CPU us/req (least)':>26}")  # fmt: skip
            for name, r in best.items():
                print(f"{name:12} {r['rps']:10.0f} {r['p50']:8.2f} {r['p99']:8.2f} "
                      f"{r['errors']:7.0f} {least_cpu[name]:26.1f}")  # fmt: skip
            ratio = best["carriersim"]["rps"] / best["bare"]["rps"]
            median = statistics.median(
                c["rps"] / b["rps"] for b, c in zip(*rows.values(), strict=True)
            )
            cpu_ratio = least_cpu["bare"] / least_cpu["carriersim"]
            print(
                f"ratio carriersim/bare throughput: {ratio:.3f} best rounds, {median:.3f} "
                f"median round (goal >= 0.9); CPU per request bare/carriersim {cpu_ratio:.3f}"
            )
            if cold_rows["bare"]:
                cbest = {k: max(v, key=lambda r: r["rps"]) for k, v in cold_rows.items()}
                ccpu = {k: min(r.get("cpu_us", math.inf) for r in v) for k, v in cold_rows.items()}
                print(
                    f"cold (every request a new number): best rounds bare "
                    f"{cbest['bare']['rps']:.0f} req/s, carriersim {cbest['carriersim']['rps']:.0f}"
                    f" req/s, ratio {cbest['carriersim']['rps'] / cbest['bare']['rps']:.3f} "
                    f"(goal >= 0.8); p99 {cbest['bare']['p99']:.1f} / "
                    f"{cbest['carriersim']['p99']:.1f} ms (goal <= 2x); server CPU us/req "
                    f"{ccpu['bare']:.0f} / {ccpu['carriersim']:.0f}"
                )
            print(json.dumps({"ratio": round(ratio, 3), "median_round_ratio": round(median, 3),
                              "cpu_ratio": round(cpu_ratio, 3), **best}))  # fmt: skip
        finally:
            sim.terminate()
            sim.wait(10)

        if args.memory_numbers:
            port = free_port()
            sim = start_simulator(port)
            try:
                token = token_for(port)
                many = generate(args.memory_numbers, seed=2)
                load(args.tool, port, many[:1000], token, 2, 16, 5000, tmp)
                before = rss_kb(sim.pid)
                t = time.monotonic()
                if args.tool == "wrk":
                    # wrk is duration-bound: give it enough time to pass every number once.
                    est = max(30.0, args.memory_numbers / 8000)
                    res = load("wrk", port, many, token, est, args.connections, 0, tmp)
                    done = int(res["rps"] * est)
                else:
                    res = load("python", port, many, token, 1800, args.connections,
                               args.memory_numbers, tmp)  # fmt: skip
                    done = args.memory_numbers
                after = rss_kb(sim.pid)
                print(f"memory: {done} requests over {len(many)} distinct numbers in "
                      f"{time.monotonic() - t:.0f}s; RSS {before / 1024:.1f} MB -> "
                      f"{after / 1024:.1f} MB, growth {(after - before) / 1024:.1f} MB "
                      "(goal < 50 MB)")  # fmt: skip
            finally:
                sim.terminate()
                sim.wait(10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
