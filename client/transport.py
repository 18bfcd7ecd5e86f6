"""httpx setup, and the one place httpx exceptions become client errors.

Both clients send every request through :func:`send` or :func:`asend`. Each reads the whole
body within the time the call has left: httpx's connect/read/write/pool timeouts are cut down
to the remaining deadline for every attempt, and the body is read chunk by chunk so that a
server dribbling bytes cannot hold a call past its deadline (the async path also runs the
exchange under ``anyio.fail_after``). The answer comes back as an :class:`HttpReply`, or as a
:class:`~client.errors.TrackingError` from :func:`translate` — never as an httpx exception.

Swap the network for anything httpx can talk to with ``transport=``: ``httpx.MockTransport``
in unit tests, ``httpx.ASGITransport`` to run against the simulator in-process.
"""

from __future__ import annotations

import math
import ssl
from dataclasses import dataclass
from typing import Any

import anyio
import httpx

from client.errors import (
    CarrierUnavailable,
    ConfigurationError,
    MalformedResponse,
    RequestRejected,
    Timeout,
    TrackingError,
)
from client.model import loads
from client.retry import Clock

__all__ = [
    "DEFAULT_TIMEOUT",
    "USER_AGENT",
    "HttpReply",
    "asend",
    "attempt_timeout",
    "make_async_client",
    "make_client",
    "send",
    "translate",
]

USER_AGENT = "carriersim-client/0.1 (+https://github.com/carriersim)"

DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=20.0, write=10.0, pool=10.0)
"""Per-attempt timeouts; each is further cut to what is left of the call's deadline."""


@dataclass(frozen=True, slots=True)
class HttpReply:
    """A carrier's complete answer: status, headers, body."""

    status_code: int
    headers: httpx.Headers
    content: bytes
    url: str

    @property
    def text(self) -> str:
        """The body decoded as UTF-8 (undecodable bytes replaced)."""
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body parsed as JSON; raises ValueError when it is not JSON."""
        return loads(self.content)


def _options(timeout: httpx.Timeout, max_connections: int) -> dict[str, Any]:
    """What both httpx clients are set up with."""
    return {
        "timeout": timeout,
        "headers": {"User-Agent": USER_AGENT, "Accept": "application/json"},
        "limits": httpx.Limits(max_connections=max_connections),
        # A carrier redirect is not part of any documented flow; surface it, don't follow it.
        "follow_redirects": False,
    }


def make_client(
    *,
    transport: httpx.BaseTransport | None = None,
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    max_connections: int = 20,
) -> httpx.Client:
    """An ``httpx.Client`` set up the way the tracking client needs it."""
    return httpx.Client(transport=transport, **_options(timeout, max_connections))


def make_async_client(
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    max_connections: int = 20,
) -> httpx.AsyncClient:
    """An ``httpx.AsyncClient`` set up the way the tracking client needs it."""
    return httpx.AsyncClient(transport=transport, **_options(timeout, max_connections))


def attempt_timeout(base: httpx.Timeout, remaining: float) -> httpx.Timeout:
    """``base`` with every phase capped at the seconds left in the call."""
    return httpx.Timeout(**_capped(base, remaining))


def _capped(base: httpx.Timeout, remaining: float) -> dict[str, float | None]:
    # The request extension httpcore reads, built without an intermediate Timeout object.
    if math.isinf(remaining):
        return base.as_dict()

    def cap(value: float | None) -> float:
        return remaining if value is None else min(value, remaining)

    return {
        "connect": cap(base.connect),
        "read": cap(base.read),
        "write": cap(base.write),
        "pool": cap(base.pool),
    }


def _untrusted_certificate(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    for _ in range(8):  # httpx wraps httpcore, which wraps ssl: the chain is short
        if seen is None:
            return False
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def translate(exc: Exception) -> TrackingError:
    """The client error for an httpx exception (the only such mapping in the package)."""
    name = type(exc).__name__
    if isinstance(exc, httpx.TimeoutException):
        phase = {
            httpx.ConnectTimeout: "connecting",
            httpx.ReadTimeout: "waiting for the answer",
            httpx.WriteTimeout: "sending the request",
            httpx.PoolTimeout: "waiting for a free connection",
        }.get(type(exc), "talking to the carrier")
        return Timeout(f"timed out {phase} ({name})")
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL):
        return ConfigurationError(
            f"unusable base URL ({name}: {exc})",
            hint="base URLs look like https://host or http://127.0.0.1:8080",
        )
    if isinstance(exc, httpx.DecodingError):
        return MalformedResponse(f"the body could not be decoded ({name}: {exc})")
    if isinstance(exc, httpx.TooManyRedirects):
        return RequestRejected(
            f"the carrier kept redirecting ({name})", hint="check the base URL for this carrier"
        )
    if isinstance(exc, httpx.ConnectError) and _untrusted_certificate(exc):
        # Asking again meets the same certificate: not transient, a setting to fix.
        return ConfigurationError(
            f"the server's TLS certificate is not trusted ({name}: {exc})",
            hint="trust the CA that signed it: for carriersim serve --tls, set "
            "SSL_CERT_FILE=$(carriersim ca), or pass an httpx client with verify=",
        )
    if isinstance(exc, httpx.ConnectError):
        return CarrierUnavailable(
            f"could not connect ({name}: {exc})",
            hint="check the base URL and the network; the carrier may be down",
        )
    if isinstance(exc, httpx.RemoteProtocolError):
        return CarrierUnavailable(
            f"the connection broke before a complete answer ({name}: {exc})",
            hint="the server closed or garbled the connection; it is retried, try again later",
        )
    if isinstance(exc, httpx.HTTPError):
        return CarrierUnavailable(f"network failure ({name}: {exc})")
    if isinstance(exc, httpx.StreamError):
        return CarrierUnavailable(f"the answer stream failed ({name}: {exc})")
    raise TypeError(f"not an httpx exception: {exc!r}") from exc


def _prepare(
    client: httpx.Client | httpx.AsyncClient,
    request: httpx.Request,
    timeout: httpx.Timeout,
    remaining: float,
) -> None:
    # Adapters build plain httpx.Request objects; ``send`` (unlike ``build_request``) does not
    # add the client's default headers, so merge them here without overriding the adapter's.
    headers = request.headers
    present = {name.lower() for name, _ in headers.raw}
    for name, value in client.headers.raw:
        if name.lower() not in present:
            headers[name.decode("latin-1")] = value.decode("latin-1")
    request.extensions["timeout"] = _capped(timeout, remaining)


def _deadline_timeout() -> Timeout:
    return Timeout(
        "the call's deadline passed while the answer was arriving",
        hint="the carrier is slow; raise RetryPolicy.deadline or try again later",
    )


def send(
    client: httpx.Client,
    request: httpx.Request,
    *,
    remaining: float,
    clock: Clock,
    timeout: httpx.Timeout,
) -> HttpReply | TrackingError:
    """Send one request and read the whole answer within ``remaining`` seconds."""
    _prepare(client, request, timeout, remaining)
    end = clock.monotonic() + remaining
    try:
        response = client.send(request, stream=True)
        try:
            chunks: list[bytes] = []
            for chunk in response.iter_bytes():
                chunks.append(chunk)
                if clock.monotonic() > end:
                    return _deadline_timeout()
        finally:
            response.close()
    except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as exc:
        return translate(exc)
    return HttpReply(response.status_code, response.headers, b"".join(chunks), str(request.url))


async def asend(
    client: httpx.AsyncClient,
    request: httpx.Request,
    *,
    remaining: float,
    timeout: httpx.Timeout,
) -> HttpReply | TrackingError:
    """Async :func:`send`: the whole exchange runs under ``anyio.fail_after(remaining)``."""
    _prepare(client, request, timeout, remaining)
    try:
        with anyio.fail_after(None if math.isinf(remaining) else remaining):
            response = await client.send(request, stream=True)
            try:
                chunks = [chunk async for chunk in response.aiter_bytes()]
            finally:
                await response.aclose()
    except TimeoutError:
        return _deadline_timeout()
    except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as exc:
        return translate(exc)
    return HttpReply(response.status_code, response.headers, b"".join(chunks), str(request.url))
