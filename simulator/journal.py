"""The request journal: every request received, matched or not, bounded in memory.

Recording is cheap (one small object appended to a ring buffer on the request path); who
the tenant was and which numbers were asked are worked out when someone reads the
journal, by the carrier's own ``describe``. Secrets are redacted on the way out,
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
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

from simulator import inputs

Describer = Callable[["Entry"], Awaitable[tuple[str, tuple[str, ...]]]]

_SECRET_HEADERS = {
    "authorization",
    "proxy-authorization",
    "dhl-api-key",
    "x-api-key",
    "cookie",
    "credential",
    "dhl-api-hook-secret",
}
_SECRET_FIELDS = {
    # Push subscriptions: USPS's secret, UPS v1's destination credential, DHL's hook token.
    "secret",
    "credential",
    "token",
    "securitytoken",
    "client_secret",
    "child_secret",
    "child_key",
    "access_token",
    "refresh_token",
    "code",
    "password",
    "api_key",
    "apikey",
}
"""Body and query fields whose values never appear in answers (compared lower-case)."""
_MASK = "***"
_SHOWN_BODY = 4096
"""Bytes of a body shown; redaction happens on the whole body before it is cut."""
_KEYS = "|".join(sorted(_SECRET_FIELDS))
# Fallbacks for bodies that parse as neither JSON nor a form (broken on purpose by a test,
# or cut short): a JSON member with any value, even an unterminated string, and a form pair.
_SECRET_JSON = re.compile(
    rf'("(?:{_KEYS})"\s*:\s*)(?:"(?:[^"\\]|\\.)*\\?(?:"|$)|[^,}}\]\s]+)', re.IGNORECASE
)
_SECRET_PAIR = re.compile(rf"((?:^|[&;\s])(?:{_KEYS})=)[^&;\s]*", re.IGNORECASE)


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
        """A request header's value (first one), by lower-case name, as UTF-8 text (None
        for one that is not: it names no tenant, see simulator.inputs)."""
        key = name.encode()
        for k, v in self.headers:
            if k == key:
                try:
                    return v.decode("utf-8")
                except UnicodeDecodeError:
                    return None
        return None

    def to_json(self) -> dict[str, Any]:
        """The entry as the admin API shows it, with secrets redacted."""
        return {
            "seq": self.seq,
            "received": self.received,
            "received_at": _iso(self.received),
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
    if name.lower() not in _SECRET_HEADERS:
        return value
    scheme, sep, _ = value.partition(" ")
    return f"{scheme} {_MASK}" if sep and scheme.lower() in ("bearer", "basic") else _MASK


def _secret(key: str) -> bool:
    return key.lower() in _SECRET_FIELDS


def _redact_query(query: bytes) -> str:
    pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
    return urlencode([(k, _MASK if _secret(k) else v) for k, v in pairs], safe="*")


def _redact_json(value: Any) -> tuple[Any, bool]:
    """The value with every secret member masked, at any depth; whether any was."""
    if isinstance(value, dict):
        changed = False
        out: dict[str, Any] = {}
        for k, v in value.items():
            if isinstance(k, str) and _secret(k):
                out[k], changed = _MASK, True
            else:
                out[k], inner = _redact_json(v)
                changed = changed or inner
        return out, changed
    if isinstance(value, list):
        items = [_redact_json(v) for v in value]
        return [v for v, _ in items], any(c for _, c in items)
    return value, False


def _redact_body(body: bytes) -> str:
    """The body as shown in answers: secrets masked, then cut to a readable size.

    JSON bodies are parsed and masked member by member, form bodies pair by pair; anything
    else (broken JSON, a body cut short) is masked by pattern. Masking always runs on the
    whole body first, so cutting it can never expose part of a secret.
    """
    if not body:
        return ""
    text = body.decode("utf-8", "replace")
    stripped = text.lstrip()
    if stripped[:1] in ("{", "["):
        try:
            # A JSON text the server would refuse (a lone surrogate, say) is masked by
            # pattern below instead: parsed, it could not be encoded again.
            parsed = inputs.json_value(text.encode())
        except inputs.InputError:
            parsed = None
        else:
            redacted, changed = _redact_json(parsed)
            if changed:
                text = json.dumps(redacted, ensure_ascii=False)
            return text[:_SHOWN_BODY]
        text = _SECRET_JSON.sub(rf'\1"{_MASK}"', text)
    elif "=" in text:
        try:
            pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=True)
        except ValueError:
            pairs = []
        if pairs and any(_secret(k) for k, _ in pairs):
            text = urlencode([(k, _MASK if _secret(k) else v) for k, v in pairs], safe="*")
        elif not pairs:
            text = _SECRET_PAIR.sub(rf"\1{_MASK}", text)
    # A secret in an unexpected place (a key-value list in plain text) still gets masked.
    text = _SECRET_JSON.sub(rf'\1"{_MASK}"', _SECRET_PAIR.sub(rf"\1{_MASK}", text))
    return text[:_SHOWN_BODY]


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
        path_params: Iterable[tuple[str, Any]] | None = None,
    ) -> None:
        """Keep one request. On the request path, so it only appends a tuple; entries are
        built when the journal is read. ``deque.append`` is atomic, so no lock is taken.
        ``path_params`` stands for the scope's when the router did not run."""
        elapsed = time.perf_counter() - started
        if len(self._raw) == self.limit:
            self.dropped += 1
        # Only what the journal shows is kept, not the scope (it holds far more).
        self._raw.append(
            (
                time.time(), carrier, endpoint, scope["method"], scope["path"],
                scope.get("query_string", b""), scope.get("headers", ()),
                scope.get("path_params") if path_params is None else path_params,
                body, status, elapsed, faults,
            )
        )  # fmt: skip

    def _drain(self) -> None:
        with self._lock:
            while self._raw:
                (received, carrier, endpoint, method, path, query, headers, params, body,
                 status, elapsed, faults) = self._raw.popleft()  # fmt: skip
                self._entries.append(
                    Entry(
                        seq=next(self._seq),
                        received=received,
                        carrier=carrier,
                        endpoint=endpoint,
                        method=method,
                        path=path,
                        query=query,
                        headers=list(headers),
                        path_params=dict(params or {}),
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
    """A JSON body, or None (also for one :func:`simulator.inputs.json_value` refuses)."""
    try:
        return inputs.json_value(body)
    except inputs.InputError:
        return None


def _iso(posix: float) -> str:
    """A POSIX time as ISO 8601 in UTC, to the millisecond (``2026-03-02T15:00:00.123Z``)."""
    return datetime.fromtimestamp(posix, UTC).isoformat(timespec="milliseconds")[:-6] + "Z"
