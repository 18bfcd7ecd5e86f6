"""The receiver as a small ASGI app: one path per carrier, and UPS v2's token URL.

Serve it with any ASGI server (``uvicorn module:app``) or mount it in a Starlette or
FastAPI app. Each verified update goes to ``on_update``; what the app answers follows what
each carrier counts as success (NOTES §7: only 200, FedEx also 202):

=====================================  ===============================================
accepted (callback returned)           200 ``{"status": "accepted", "updates": n}``
duplicate of an accepted delivery      200 ``{"status": "duplicate"}`` (not passed on:
                                       the carrier must stop resending it)
bad or missing signature / credential  401 ``{"error": …, "hint": …}``
signed outside the replay window       401
malformed body                         400
callback raised                        500 (the delivery is forgotten, so a resend
                                       counts)
body over ``max_body`` bytes           413
not POST                               405
unknown path, or carrier without a     404
secret
=====================================  ===============================================
"""

from __future__ import annotations

import base64
import binascii
import functools
import inspect
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qs

import anyio.to_thread
import orjson

from client.errors import PushRejected, ReplayedPush
from client.model import Carrier
from client.push.auth import TokenIssuer
from client.push.model import PushDelivery, PushUpdate
from client.push.receiver import PushReceiver

__all__ = ["DEFAULT_PATHS", "PushApp"]

log = logging.getLogger("client.push")

DEFAULT_PATHS: Mapping[str, Carrier] = {f"/{c.value}": c for c in Carrier}
"""``/ups``, ``/fedex``, ``/usps``, ``/dhl``."""

OnUpdate = Callable[[PushUpdate], Awaitable[object] | object]
OnDelivery = Callable[[PushDelivery], Awaitable[object] | object]

Scope = Mapping[str, Any]
Receive = Callable[[], Awaitable[Mapping[str, Any]]]
Send = Callable[[Mapping[str, Any]], Awaitable[None]]


class _TooLarge(Exception):
    pass


class PushApp:
    """ASGI app: verifies each push with ``receiver`` and hands every update to
    ``on_update`` (a plain or an async function; a plain one runs in a worker thread).

    ``on_delivery`` also sees each whole delivery, including DHL's activation message (its
    ``secret``), which carries no update. ``token_path`` serves UPS v2's client-credentials
    token URL when the receiver's UPS secret has a :class:`TokenIssuer`.
    """

    def __init__(
        self,
        receiver: PushReceiver,
        on_update: OnUpdate,
        *,
        on_delivery: OnDelivery | None = None,
        paths: Mapping[str, Carrier] = DEFAULT_PATHS,
        token_path: str | None = "/oauth/token",
        max_body: int = 10 * 1024 * 1024,
    ) -> None:
        self.receiver = receiver
        self.on_update = on_update
        self.on_delivery = on_delivery
        self.paths = {p.rstrip("/") or "/": c for p, c in paths.items()}
        self.token_path = token_path
        # UPS enhanced pushes carry the delivery photo in base64: room for a large body.
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The ASGI entry point (``http`` and ``lifespan``)."""
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path = scope.get("path", "/").rstrip("/") or "/"
        handler = self._handler(path)
        if handler is None:
            await _answer(send, 404, {"error": f"no push receiver at {path}"})
            return
        if scope.get("method") != "POST":
            await _answer(send, 405, {"error": "use POST"}, [(b"allow", b"POST")])
            return
        try:
            body = await self._body(receive)
        except _TooLarge:
            await _answer(send, 413, {"error": f"the body is over {self.max_body} bytes"})
            return
        await handler(send, scope.get("headers", []), body)

    def _handler(self, path: str) -> Callable[[Send, Any, bytes], Awaitable[None]] | None:
        carrier = self.paths.get(path)
        if carrier is not None and getattr(self.receiver.secrets, carrier.value) is not None:
            return functools.partial(self._push, carrier=carrier)
        token_path = self.token_path.rstrip("/") if self.token_path is not None else None
        if path == token_path and self._issuer() is not None:
            return self._token
        return None

    async def _push(self, send: Send, headers: Any, body: bytes, *, carrier: Carrier) -> None:
        try:
            delivery = self.receiver.receive(carrier, headers, body)
        except ReplayedPush as exc:
            if exc.duplicate:
                await _answer(send, 200, {"status": "duplicate"})
                return
            await _answer(send, exc.answer_status, {"error": exc.message, "hint": exc.hint})
            return
        except PushRejected as exc:
            await _answer(send, exc.answer_status, {"error": exc.message, "hint": exc.hint})
            return
        try:
            if self.on_delivery is not None:
                await _call(self.on_delivery, delivery)
            for update in delivery.updates:
                await _call(self.on_update, update)
        except Exception:
            log.exception("push handler failed for %s delivery %s", carrier, delivery.delivery_id)
            self.receiver.forget(delivery)
            await _answer(send, 500, {"error": "the update handler failed; see the log"})
            return
        await _answer(send, 200, {"status": "accepted", "updates": len(delivery.updates)})

    def _issuer(self) -> TokenIssuer | None:
        ups = self.receiver.secrets.ups
        return ups.tokens if ups is not None else None

    async def _token(self, send: Send, headers: Any, body: bytes) -> None:
        # RFC 6749 §4.4 with client_secret_basic, as UPS's clientOauth2 scheme says.
        form = parse_qs(body.decode("utf-8", "replace"))
        if form.get("grant_type") != ["client_credentials"]:
            await _answer(send, 400, {"error": "unsupported_grant_type"})
            return
        client_id, client_secret = _basic(headers)
        issuer = self._issuer()
        grant = issuer.issue(client_id, client_secret) if issuer and client_id else None
        if grant is None:
            challenge = [(b"www-authenticate", b'Basic realm="push"')]
            await _answer(send, 401, {"error": "invalid_client"}, challenge)
            return
        token, lifetime = grant
        answer = {"access_token": token, "token_type": "Bearer", "expires_in": int(lifetime)}
        await _answer(send, 200, answer, [(b"cache-control", b"no-store")])

    async def _body(self, receive: Receive) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                raise _TooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)


def _basic(headers: Any) -> tuple[str, str]:
    for name, value in headers:
        if name.lower() == b"authorization":
            scheme, _, encoded = value.decode("latin-1").partition(" ")
            if scheme.lower() != "basic":
                break
            try:
                decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                break
            client_id, _, secret = decoded.partition(":")
            return client_id, secret
    return "", ""


async def _call(func: Callable[[Any], Any], arg: object) -> None:
    if inspect.iscoroutinefunction(func):
        await func(arg)
        return
    result = await anyio.to_thread.run_sync(func, arg)
    if inspect.isawaitable(result):
        await result


async def _answer(
    send: Send, status: int, body: Mapping[str, Any], extra: Sequence[tuple[bytes, bytes]] = ()
) -> None:
    content = orjson.dumps(body)
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(content)).encode()),
        *extra,
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": content})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
