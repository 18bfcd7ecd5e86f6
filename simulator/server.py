"""Running the app under uvicorn, with the socket access that connection faults need.

Connection faults (reset, empty reply, stalls, truncation) act on the connection itself,
which ASGI does not expose. The HTTP protocol classes below hand the request's transport to
the app in ``scope["extensions"]["carriersim.transport"]``; without it (in-process
transports, other servers) such faults are refused with a clear error instead of faked.
"""

from __future__ import annotations

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
    return uvicorn.Config(app, host=host, port=port, http=PROTOCOL, **options)
