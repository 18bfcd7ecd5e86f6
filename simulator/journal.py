"""The request journal: every request received, matched or not, bounded in memory.

Recording is cheap (one small object appended to a ring buffer on the request path); who
the tenant was and which numbers were asked are worked out when someone reads the
journal, by the carrier module's own ``describe``. Secrets are redacted on the way out,
never stored in a readable form in answers.
"""

from __future__ import annotations

import itertools
import json
import re
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

Describer = Callable[["Entry"], Awaitable[tuple[str, tuple[str, ...]]]]

_SECRET_HEADERS = {"authorization", "dhl-api-key", "x-api-key"}
_SECRET_FIELDS = {"client_secret", "child_secret", "access_token", "refresh_token", "code"}
_SECRET_JSON = re.compile(
    rb'("(?:client_secret|child_secret|access_token|refresh_token)"\s*:\s*)"[^"]*"'
)


@dataclass(slots=True)
class Entry:
    """One request as received, and how it was answered."""

    seq: int
    received: float
    carrier: str | None
    endpoint: str | None
    method: str
    path: str
    query: bytes
    headers: list[tuple[bytes, bytes]]
    path_params: dict[str, Any]
    body: bytes
    status: int
    duration_ms: float
    faults: tuple[str, ...]
    tenant: str | None = None
    numbers: tuple[str, ...] = field(default_factory=tuple)
    described: bool = False

    def header(self, name: str) -> str | None:
        """A request header's value (first one), by lower-case name."""
        key = name.encode()
        for k, v in self.headers:
            if k == key:
                return v.decode("latin-1")
        return None

    def to_json(self) -> dict[str, Any]:
        """The entry as the admin API shows it, with secrets redacted."""
        return {
            "seq": self.seq,
            "received": self.received,
            "carrier": self.carrier,
            "endpoint": self.endpoint,
            "tenant": self.tenant,
            "numbers": list(self.numbers),
            "method": self.method,
            "path": self.path,
            "query": _redact_query(self.query),
            "headers": {
                k.decode("latin-1"): _redact_header(k.decode("latin-1"), v.decode("latin-1"))
                for k, v in self.headers
            },
            "body": _redact_body(self.body),
            "status": self.status,
            "duration_ms": round(self.duration_ms, 3),
            "faults": list(self.faults),
        }


def _redact_header(name: str, value: str) -> str:
    if name not in _SECRET_HEADERS:
        return value
    scheme, sep, _ = value.partition(" ")
    return f"{scheme} ***" if sep and scheme.lower() in ("bearer", "basic") else "***"


def _redact_query(query: bytes) -> str:
    pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
    return urlencode([(k, "***" if k.lower() in _SECRET_FIELDS else v) for k, v in pairs])


def _redact_body(body: bytes) -> str:
    if not body:
        return ""
    text = body[:4096]
    if b"=" in text and b"{" not in text[:1] and b"[" not in text[:1]:
        pairs = parse_qsl(text.decode("utf-8", "replace"), keep_blank_values=True)
        if pairs:
            return urlencode([(k, "***" if k in _SECRET_FIELDS else v) for k, v in pairs])
    return _SECRET_JSON.sub(rb'\1"***"', text).decode("utf-8", "replace")


class Journal:
    """A bounded journal of requests (the oldest entries fall out first)."""

    def __init__(self, limit: int = 5000) -> None:
        self.limit = limit
        self._entries: deque[Entry] = deque(maxlen=limit)
        self._raw: deque[tuple[Any, ...]] = deque(maxlen=limit)
        self._seq = itertools.count(1)
        self._lock = threading.Lock()
        self.dropped = 0

    def record(
        self,
        *,
        carrier: str | None,
        endpoint: str | None,
        scope: MutableMapping[str, Any],
        body: bytes,
        status: int,
        started: float,
        faults: tuple[str, ...] = (),
    ) -> None:
        """Keep one request. On the request path, so it only appends a tuple; entries are
        built when the journal is read. ``deque.append`` is atomic, so no lock is taken."""
        elapsed = time.perf_counter() - started
        if len(self._raw) == self.limit:
            self.dropped += 1
        self._raw.append((time.time(), carrier, endpoint, scope, body, status, elapsed, faults))

    def _drain(self) -> None:
        with self._lock:
            while self._raw:
                received, carrier, endpoint, scope, body, status, elapsed, faults = (
                    self._raw.popleft()
                )
                self._entries.append(
                    Entry(
                        seq=next(self._seq),
                        received=received,
                        carrier=carrier,
                        endpoint=endpoint,
                        method=scope.get("method", ""),
                        path=scope.get("path", ""),
                        query=scope.get("query_string", b""),
                        headers=list(scope.get("headers", [])),
                        path_params=dict(scope.get("path_params", {})),
                        body=body,
                        status=status,
                        duration_ms=elapsed * 1000,
                        faults=faults,
                    )
                )

    def clear(self, keep: Callable[[Entry], bool] | None = None) -> None:
        """Forget entries (all, or those ``keep`` rejects)."""
        self._drain()
        with self._lock:
            if keep is None:
                self._entries.clear()
            else:
                kept = [e for e in self._entries if keep(e)]
                self._entries.clear()
                self._entries.extend(kept)

    def snapshot(self) -> list[Entry]:
        """The entries, oldest first."""
        self._drain()
        with self._lock:
            return list(self._entries)

    async def described(self, describe: Describer) -> list[Entry]:
        """The entries with tenant and numbers worked out (once per entry)."""
        entries = self.snapshot()
        for e in entries:
            if not e.described:
                try:
                    e.tenant, e.numbers = await describe(e)
                except Exception:  # a journal read must never fail on one odd request
                    e.tenant, e.numbers = None, ()
                e.described = True
        return entries


def select(
    entries: Iterable[Entry],
    *,
    tenant: str | None = None,
    carrier: str | None = None,
    endpoint: str | None = None,
    number: str | None = None,
    status: int | None = None,
    method: str | None = None,
    path: str | None = None,
) -> list[Entry]:
    """Entries matching every given filter."""
    out = []
    for e in entries:
        if tenant is not None and e.tenant != tenant:
            continue
        if carrier is not None and e.carrier != carrier:
            continue
        if endpoint is not None and e.endpoint != endpoint:
            continue
        if number is not None and number not in e.numbers:
            continue
        if status is not None and e.status != status:
            continue
        if method is not None and e.method != method.upper():
            continue
        if path is not None and path not in e.path:
            continue
        out.append(e)
    return out


def loads_json(body: bytes) -> Any:
    """A JSON body, or None."""
    try:
        return json.loads(body)
    except ValueError:
        return None
