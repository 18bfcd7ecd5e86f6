"""A bounded HTTP/1.1 keep-alive load generator (used where wrk is not installed).

Each connection sends its requests one after another; the run stops after ``count``
requests or ``seconds``, whichever comes first. Loopback only.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass
class Result:
    """What a load run measured."""

    requests: int = 0
    errors: int = 0
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def rps(self) -> float:
        """Completed requests per second."""
        return self.requests / self.elapsed if self.elapsed else 0.0

    def percentile(self, p: float) -> float:
        """Latency percentile in milliseconds."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    if length:
        await reader.readexactly(length)
    return status


async def _connection(
    host: str, port: int, requests: Sequence[bytes], start: int, stride: int,
    deadline: float, budget: list[int], result: Result,
) -> None:  # fmt: skip
    reader, writer = await asyncio.open_connection(host, port)
    i = start
    try:
        while budget[0] > 0 and time.perf_counter() < deadline:
            budget[0] -= 1
            payload = requests[i % len(requests)]
            i += stride
            t = time.perf_counter()
            writer.write(payload)
            try:
                status = await _read_response(reader)
            except (asyncio.IncompleteReadError, ConnectionError):
                result.errors += 1
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
                continue
            result.latencies.append(time.perf_counter() - t)
            result.statuses[status] = result.statuses.get(status, 0) + 1
            result.requests += 1
    finally:
        writer.close()


def run(
    host: str,
    port: int,
    requests: Sequence[bytes],
    *,
    connections: int = 32,
    count: int = 100_000,
    seconds: float = 10.0,
) -> Result:
    """Send up to ``count`` raw requests over ``connections`` keep-alive connections."""
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError("the load generator only targets loopback addresses")

    async def main() -> Result:
        result = Result()
        budget = [count]
        began = time.perf_counter()
        deadline = began + seconds
        await asyncio.gather(
            *(
                _connection(host, port, requests, k, connections, deadline, budget, result)
                for k in range(connections)
            )
        )
        result.elapsed = time.perf_counter() - began
        return result

    try:
        import uvloop

        return uvloop.run(main())
    except ImportError:
        return asyncio.run(main())
