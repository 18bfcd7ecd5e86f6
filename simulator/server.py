"""Running the app under uvicorn, with the socket access that connection faults need.

Connection faults (reset, empty reply, stalls, truncation) act on the connection itself,
which ASGI does not expose. The HTTP protocol classes below hand the request's transport to
the app in ``scope["extensions"]["carriersim.transport"]``; without it (in-process
transports, other servers) such faults are refused with a clear error instead of faked.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

TRANSPORT_KEY = "carriersim.transport"


def _with_transport(scope: dict[str, Any], transport: Any) -> None:
    extensions = scope.setdefault("extensions", {})
    extensions[TRANSPORT_KEY] = transport


class H11WithTransport(H11Protocol):
    """uvicorn's h11 protocol, exposing the transport to the app."""

    def handle_events(self) -> None:
        """Parse as usual; every new request scope gets the transport."""
        before = getattr(self, "scope", None)
        super().handle_events()
        scope = getattr(self, "scope", None)
        if scope is not None and scope is not before:
            _with_transport(scope, self.transport)


try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class HttpToolsWithTransport(HttpToolsProtocol):
        """uvicorn's httptools protocol, exposing the transport to the app."""

        def on_message_begin(self) -> None:
            """Start a request scope, with the transport in its extensions."""
            super().on_message_begin()
            _with_transport(self.scope, self.transport)  # type: ignore[arg-type]

    PROTOCOL: type[Any] = HttpToolsWithTransport
except ImportError:  # pragma: no cover - httptools is part of uvicorn[standard]
    PROTOCOL = H11WithTransport


def config(app: Any, host: str, port: int, **options: Any) -> uvicorn.Config:
    """A uvicorn config that serves ``app`` with socket access for connection faults."""
    options.setdefault("log_level", "warning")
    options.setdefault("access_log", False)
    # Thousands of clients may connect at once (held by latency faults); let them queue.
    options.setdefault("backlog", 4096)
    return uvicorn.Config(app, host=host, port=port, http=PROTOCOL, **options)


class ServerThread:
    """A real uvicorn server on a loopback port, in a background thread.

    Used by the pytest plugin and the tests: the app is served exactly as ``carriersim
    serve`` serves it (same protocol, real socket), while the test keeps a handle on the
    in-process simulation to steer it.
    """

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.host = host
        # Requests a fault keeps hanging must not hold up the end of a test session.
        self._server = uvicorn.Server(config(app, host, port, timeout_graceful_shutdown=2))
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self.port = port

    @property
    def url(self) -> str:
        """Base URL of the running server."""
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 15.0) -> ServerThread:
        """Start serving; returns when the socket accepts connections."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start within {timeout:.0f} s")
            time.sleep(0.01)
        sockets = [s for server in self._server.servers for s in server.sockets]
        self.port = int(sockets[0].getsockname()[1])
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving and wait for the thread to end."""
        self._server.should_exit = True
        self._thread.join(timeout)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
