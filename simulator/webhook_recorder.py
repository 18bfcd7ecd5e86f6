"""A webhook receiver for tests: a real HTTP server that records every delivery and answers
each one as the test said (a status, after a delay: a receiver that fails or hangs).

One server serves many inboxes, each under a path prefix of its own (``/<inbox>/…``), so
tests sharing the server never see each other's deliveries. The pytest plugin gives each
test an inbox (the ``carriersim_webhook`` fixture); without pytest::

    with WebhookServer() as server:
        inbox = server.inbox("orders")
        inbox.respond(500, times=2)            # the first two deliveries fail
        subscribe(listener_url=inbox.url + "/usps")
        delivery, = inbox.wait_for(1, timeout=5)
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from simulator.server import ServerThread

__all__ = ["Delivery", "Inbox", "WebhookServer"]

MAX_WAIT = 120.0
"""The longest ``wait_for`` waits, whatever it is asked: a test never hangs for good."""

MAX_BODY = 32 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Delivery:
    """One request the inbox received, and what it answered."""

    method: str
    path: str
    """The path below the inbox's URL (``/`` or ``/ups``…)."""
    query: str
    headers: tuple[tuple[str, str], ...]
    """Every header as sent, in order, names lower-cased."""
    body: bytes
    received_at: datetime
    """Real (wall-clock) time of arrival, UTC."""
    monotonic: float
    """``time.monotonic()`` at arrival, for measuring intervals."""
    status: int
    """The status the inbox answered (or was going to answer, for a hung request)."""
    delay: float
    """Seconds the inbox held the request before answering."""

    def header(self, name: str) -> str | None:
        """The first value of a header (any case), or None."""
        wanted = name.lower()
        return next((v for k, v in self.headers if k == wanted), None)

    @property
    def header_map(self) -> dict[str, str]:
        """Headers as a dict (lower-case names; the last value wins)."""
        return dict(self.headers)

    def json(self) -> Any:
        """The body parsed as JSON (ValueError if it is not)."""
        return json.loads(self.body)


@dataclass
class _Rule:
    status: int
    delay: float
    body: bytes
    path: str | None
    remaining: int | None

    def matches(self, path: str) -> bool:
        return self.remaining != 0 and (self.path is None or self.path == path)


@dataclass(eq=False)
class Inbox:
    """The deliveries to one URL prefix, and how to answer them."""

    name: str
    url: str
    """Where to point a subscription (append a path if the test wants one per carrier)."""
    _changed: threading.Condition = field(default_factory=threading.Condition, repr=False)
    _deliveries: list[Delivery] = field(default_factory=list, repr=False)
    _rules: list[_Rule] = field(default_factory=list, repr=False)

    @property
    def deliveries(self) -> list[Delivery]:
        """Every delivery so far, in arrival order."""
        with self._changed:
            return list(self._deliveries)

    def respond(
        self,
        status: int = 200,
        *,
        times: int | None = None,
        delay: float = 0.0,
        body: bytes | str | Mapping[str, Any] = b"",
        path: str | None = None,
    ) -> None:
        """Answer the next ``times`` deliveries (all, if None) with ``status`` after
        ``delay`` seconds; ``path`` limits it to deliveries below that path. Rules are
        tried in the order given; a delivery no rule takes is answered 200."""
        if not 100 <= status <= 599:
            raise ValueError(f"status {status} is not an HTTP status (100–599)")
        if delay < 0 or (times is not None and times < 1):
            raise ValueError("delay must be ≥ 0 and times ≥ 1 (or None for every delivery)")
        if isinstance(body, Mapping):
            body = json.dumps(body)
        data = body.encode() if isinstance(body, str) else body
        with self._changed:
            self._rules.append(_Rule(status, delay, data, _clean_path(path), times))

    def hang(self, seconds: float, *, times: int | None = None, path: str | None = None) -> None:
        """Hold the next ``times`` deliveries (all, if None) ``seconds`` before answering 200."""
        self.respond(200, times=times, delay=seconds, path=path)

    def wait_for(
        self, count: int = 1, *, timeout: float = 5.0, path: str | None = None
    ) -> list[Delivery]:
        """The first ``count`` deliveries (below ``path``), once they have arrived; an
        AssertionError naming what did arrive if they do not within ``timeout`` seconds."""
        wanted = _clean_path(path)
        deadline = time.monotonic() + min(timeout, MAX_WAIT)
        with self._changed:
            while True:
                found = [d for d in self._deliveries if wanted is None or d.path == wanted]
                if len(found) >= count:
                    return found[:count]
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = ", ".join(f"{d.method} {d.path} → {d.status}" for d in self._deliveries)
                    where = f" below {wanted}" if wanted else ""
                    raise AssertionError(
                        f"inbox {self.name}: {len(found)} of {count} deliveries{where} arrived "
                        f"within {timeout:g} s (received: {seen or 'nothing'})"
                    )
                self._changed.wait(left)

    def clear(self) -> None:
        """Forget the deliveries and the answer rules."""
        with self._changed:
            self._deliveries.clear()
            self._rules.clear()

    def _take(
        self, method: str, path: str, query: str, headers: Any, body: bytes
    ) -> tuple[Delivery, bytes]:
        """Record a delivery; with the body to answer it with."""
        with self._changed:
            rule = next((r for r in self._rules if r.matches(path)), None)
            if rule is not None and rule.remaining is not None:
                rule.remaining -= 1
            status, delay = (rule.status, rule.delay) if rule else (200, 0.0)
            delivery = Delivery(
                method,
                path,
                query,
                tuple((k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in headers),
                body,
                datetime.now(UTC),
                time.monotonic(),
                status,
                delay,
            )
            self._deliveries.append(delivery)
            self._changed.notify_all()
        return delivery, rule.body if rule else b""


def _clean_path(path: str | None) -> str | None:
    if path is None:
        return None
    return "/" + path.strip("/")


Receive = Callable[[], Awaitable[Mapping[str, Any]]]
Send = Callable[[Mapping[str, Any]], Awaitable[None]]


class WebhookServer:
    """One recording HTTP server on a free loopback port, for many inboxes."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._inboxes: dict[str, Inbox] = {}
        self._lock = threading.Lock()
        self.strays: list[str] = []
        """``METHOD path`` of requests that named no inbox (answered 404)."""
        self._thread = ServerThread(self, host=host)

    @property
    def url(self) -> str:
        """Base URL of the server."""
        return self._thread.url

    def start(self) -> WebhookServer:
        """Start serving; returns once the socket accepts connections."""
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving (requests still hung are cut off)."""
        self._thread.stop()

    def __enter__(self) -> WebhookServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def inbox(self, name: str = "inbox") -> Inbox:
        """A new inbox; its URL is unique even when the name is reused."""
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")[:60] or "inbox"
        key = f"{safe}-{secrets.token_hex(4)}"
        inbox = Inbox(name, f"{self.url}/{key}")
        with self._lock:
            self._inboxes[key] = inbox
        return inbox

    def drop(self, inbox: Inbox) -> None:
        """Stop routing to an inbox; later deliveries to it are strays."""
        key = inbox.url.rsplit("/", 1)[-1]
        with self._lock:
            self._inboxes.pop(key, None)

    async def __call__(self, scope: Mapping[str, Any], receive: Receive, send: Send) -> None:
        """The ASGI app: route to the inbox the path names, record, answer as told."""
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                kind = message["type"].removeprefix("lifespan.")
                await send({"type": f"lifespan.{kind}.complete"})
                if kind == "shutdown":
                    return
        if scope["type"] != "http":
            return
        key, _, rest = scope["path"].lstrip("/").partition("/")
        with self._lock:
            inbox = self._inboxes.get(key)
        body = await _read(receive)
        if inbox is None:
            self.strays.append(f"{scope['method']} {scope['path']}")
            await _send(send, 404, b'{"error": "no such inbox"}')
            return
        query = scope.get("query_string", b"").decode("latin-1")
        delivery, answer = inbox._take(scope["method"], "/" + rest, query, scope["headers"], body)
        if delivery.delay:
            await asyncio.sleep(delivery.delay)
        await _send(send, delivery.status, answer)


async def _read(receive: Receive) -> bytes:
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size <= MAX_BODY:
            chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _send(send: Send, status: int, body: bytes) -> None:
    headers = [(b"content-length", str(len(body)).encode())]
    if body:
        headers.append((b"content-type", b"application/json"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
