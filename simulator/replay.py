"""Replaying clean answers to repeat requests, ahead of routing.

Clients poll: the same credential asks for the same URL again and again, and between two
events of a parcel the answer does not change. A carrier handler that produced a clean
answer marks it replayable in the scope (:data:`MARK`): for which tenant, over which span
of that tenant's simulated time, and under which render-cache key its body is kept. A
repeat request then costs a table lookup, a read of its credential and a clock read,
before the router runs.

An answer is replayed only while everything it depends on is unchanged: the same URL and
credential (the carrier says what the credential is), the tenant's clock inside the
span, the body still cached, and neither the simulation's state (:attr:`Simulation.stamp`)
nor the faults in force (:attr:`FaultRegistry.version`) changed since.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.types import Scope, Send

MARK = "carriersim.replay"
"""Scope key where a handler says for which tenant, span of simulated time and render key
its answer can be replayed: ``(tenant, since, until, render_key)``."""

CredentialOf = Callable[[Scope], Hashable | None]
"""A carrier's reading of what a request's answer depends on besides the URL (usually its
credential); None when the request must not be replayed."""

LIMIT = 12288
"""Answers kept at most; all are dropped when the table is full (they are cheap to remake)."""


@dataclass(slots=True)
class _Entry:
    credential_of: CredentialOf
    credential: Hashable
    carrier: str
    endpoint: str
    length: bytes
    """The body's Content-Length value."""
    headers: tuple[tuple[bytes, bytes], ...]
    """The answer's other headers (one shared copy per distinct set)."""
    path_params: tuple[tuple[str, Any], ...]
    render_key: Hashable
    since: float
    until: float
    tenant: str
    stamp: int
    version: int


class Replays:
    """The last replayable answer per URL (see the module's docstring).

    One answer per URL: a URL polled under two credentials in turn is answered by the
    handler each time (still correct, only slower); an entry costs a few hundred bytes, and
    the table is bounded.
    """

    def __init__(self, sim: Any, limit: int = LIMIT) -> None:
        self._sim = sim
        self.limit = limit
        self.hits = 0
        """Requests answered from a kept answer so far."""
        self._urls: dict[tuple[str, bytes], _Entry] = {}
        self._header_sets: dict[tuple[tuple[bytes, bytes], ...], tuple[tuple[bytes, bytes], ...]]
        self._header_sets = {}

    def __len__(self) -> int:
        return len(self._urls)

    def clear(self) -> None:
        """Forget every answer."""
        self._urls.clear()
        self._header_sets.clear()

    def remember(
        self,
        scope: Scope,
        credential_of: CredentialOf,
        carrier: str,
        endpoint: str,
        version: int,
        headers: Sequence[tuple[bytes, bytes]],
    ) -> None:
        """Keep the answer a handler just marked in ``scope`` (if it did) for replay.

        ``version`` is the faults' version under which the request was found to meet no
        fault at all; ``headers`` are the answer's.
        """
        marked = scope.get(MARK)
        if marked is None:
            return
        credential = credential_of(scope)
        if credential is None:
            return
        tenant, since, until, render_key = marked
        body = self._sim.cached_body(render_key)
        if body is None:
            return
        urls = self._urls
        if len(urls) >= self.limit:
            self.clear()
        others = tuple(h for h in headers if h[0] != b"content-length")
        others = self._header_sets.setdefault(others, others)
        urls[(scope["path"], scope["query_string"])] = _Entry(
            credential_of=credential_of,
            credential=credential,
            carrier=carrier,
            endpoint=endpoint,
            length=str(len(body)).encode(),
            headers=others,
            path_params=tuple((scope.get("path_params") or {}).items()),
            render_key=render_key,
            since=since,
            until=until,
            tenant=tenant,
            stamp=self._sim.stamp,
            version=version,
        )

    async def serve(self, scope: Scope, send: Send) -> bool:
        """Answer ``scope`` from a kept answer if one still holds; whether it did."""
        started = time.perf_counter()
        entry = self._urls.get((scope["path"], scope["query_string"]))
        if entry is None or entry.credential_of(scope) != entry.credential:
            return False
        sim = self._sim
        if entry.stamp != sim.stamp or entry.version != sim.faults.version:
            return False
        if not entry.since <= sim.clock.now(entry.tenant) < entry.until:
            return False
        body = sim.cached_body(entry.render_key)
        if body is None:
            return False
        self.hits += 1
        headers = [(b"content-length", entry.length), *entry.headers]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        sim.journal.record(
            carrier=entry.carrier,
            endpoint=entry.endpoint,
            scope=scope,
            body=b"",
            status=200,
            started=started,
            # The router did not run: the parameters it would have set.
            path_params=entry.path_params,
        )
        return True
