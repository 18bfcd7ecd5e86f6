"""Benchmark: the dashboard's weight and server time for a tenant with 50 parcels.

A real server on a free port; 50 shipments created through the admin API (all four
carriers), each tracked once, 200 journal entries behind them. Then the tenant's page is
fetched N times: bytes of HTML, CSS and JS, and the server time per page (median, p90 of
the wall time a local client waits, which on loopback is the server's rendering time).

    python bench/bench_dashboard.py [--parcels 50] [--pages 40]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import HOST, free_port, wait_ready
from simulator.probe import ask

TENANT = "bench-dash"
CARRIERS = ("ups", "fedex", "usps", "dhl")


async def main(parcels: int, pages: int) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulator", "serve", "--port", str(port), "--log-level", "warning"],
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_ready(port, proc)
        base = f"http://{HOST}:{port}"
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            for i in range(parcels):
                made = await http.post(
                    "/__admin/shipments",
                    params={"tenant": TENANT},
                    json={"carrier": CARRIERS[i % 4], "scenario": "delivered-on-time"},
                )
                made.raise_for_status()
                await ask(http, made.json()["carrier"], made.json()["number"], TENANT)
            url = f"/__admin/ui/tenant?tenant={TENANT}"
            first = await http.get(url)
            first.raise_for_status()
            async with http.stream("GET", url, headers={"Accept-Encoding": "gzip"}) as sent:
                wire = sum([len(chunk) async for chunk in sent.aiter_raw()])
                encoding = sent.headers.get("content-encoding", "identity")
            css = await http.get("/__admin/ui/static/dashboard.css")
            js = await http.get("/__admin/ui/static/dashboard.js")
            times = []
            for _ in range(pages):
                started = time.perf_counter()
                page = await http.get(url)
                times.append((time.perf_counter() - started) * 1000)
                page.raise_for_status()
        times.sort()
        html = len(first.content)
        print(f"tenant page with {parcels} parcels ({first.text.count('<svg')} pictures)")
        print(f"  HTML {html:,} B   CSS {len(css.content):,} B   JS {len(js.content):,} B")
        print(f"  total {html + len(css.content) + len(js.content):,} B uncompressed")
        print(f"  HTML on the wire: {wire:,} B ({encoding})")
        print(
            f"  server time per page over {pages}: median {statistics.median(times):.1f} ms, "
            f"p90 {times[int(len(times) * 0.9) - 1]:.1f} ms, min {times[0]:.1f} ms"
        )
    finally:
        proc.terminate()
        proc.wait(10)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parcels", type=int, default=50)
    parser.add_argument("--pages", type=int, default=40)
    args = parser.parse_args()
    asyncio.run(main(args.parcels, args.pages))
