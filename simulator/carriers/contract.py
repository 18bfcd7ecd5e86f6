"""What a carrier provides: the contract each package under ``simulator/carriers`` fills.

The registry in :mod:`simulator.carriers` is typed ``dict[str, Carrier]``, so mypy names
every member a carrier lacks or gets wrong. A new concern (push, say) is one more member
here, and the type checker then lists the carriers that do not provide it yet.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, Protocol

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Scope

if TYPE_CHECKING:
    from simulator.engine import Simulation
    from simulator.push.model import Pending, RetryRule, Subscription
    from simulator.timeline import Shipment


class TokenSource(Protocol):
    """Where a push gets a bearer token from the customer's own OAuth token URL (UPS v2)."""

    async def customer_token(self, url: str, client_id: str, client_secret: str) -> str:
        """A live access token for these client credentials (cached while it lives)."""
        ...


class PushProfile(Protocol):
    """How a carrier pushes: its subscription API, its push body, its signature, its
    retries. The delivery loop (:mod:`simulator.push.dispatch`) does the rest."""

    @property
    def retry(self) -> RetryRule:
        """What counts as accepted, when to try again, and what happens after the last try."""
        ...

    def routes(self, sim: Simulation) -> list[Route]:
        """The carrier's subscription endpoints at their real paths."""
        ...

    def wanted(self, sub: Subscription, shipment: Shipment, index: int) -> bool:
        """Whether the subscription's filters let this event through (event types)."""
        ...

    def render(
        self, sub: Subscription, delivery: Pending, shipment: Shipment | None, count: int,
        sent_at: float,
    ) -> bytes:  # fmt: skip
        """The push body: the carrier's message for ``delivery`` showing the first
        ``count`` events of ``shipment`` (None for messages about no shipment), sent at
        simulated instant ``sent_at``."""
        ...

    async def sign(self, sub: Subscription, body: bytes, tokens: TokenSource) -> dict[str, str]:
        """The request headers that carry and authenticate ``body`` as the carrier does."""
        ...

    def secret_headers(self, sub: Subscription) -> tuple[str, ...]:
        """The headers (lower-case) whose values prove the push (masked in listings,
        spoiled by a ``wrong_signature`` fault)."""
        ...


class Carrier(Protocol):
    """A simulated carrier API: its routes, and what faults and replays need to speak it."""

    @property
    def name(self) -> str:
        """The carrier's name in scenarios, faults, the journal and URL prefixes (``ups``)."""
        ...

    @property
    def prefix(self) -> str:
        """The path prefix every tracking operation of the carrier starts with: a request
        under it that names no operation gets the carrier's own :meth:`not_found`."""
        ...

    def not_found(self, path: str) -> Response:
        """The carrier's 404 for a path under its :attr:`prefix` that names no operation."""
        ...

    def routes(self, sim: Simulation) -> list[Route]:
        """The carrier's endpoints at their real paths, served from ``sim``."""
        ...

    async def describe(self, request: Request) -> tuple[str, tuple[str, ...]]:
        """(tenant, tracking numbers) a request names, best effort, never raising."""
        ...

    def error_response(
        self, status: int, endpoint: str, retry_after: int | None, reason: str | None
    ) -> Response:
        """The carrier's own answer with this HTTP status on its ``token`` or ``track``
        endpoint (``reason``: ``expired`` / ``revoked`` for a 401). Every operation but the
        token endpoint counts as ``track``: references, pieces, documents, notifications."""
        ...

    def method_not_allowed(self, path: str, allowed: Sequence[str]) -> Response:
        """The carrier's 405 for a request to one of its paths with another method, with
        the ``Allow`` header listing ``allowed``."""
        ...

    @property
    def push(self) -> PushProfile:
        """How the carrier pushes tracking events to a customer's URL."""
        ...

    def refusal(self, path: str, status: int, message: str) -> Response:
        """The carrier's answer to a request :mod:`simulator.inputs` refused (400: input
        that is not text or JSON it can carry; 413: a body over the limit) on one of its
        paths, in its own error envelope, with ``message`` saying what and the fix."""
        ...

    def replay_credential(self, scope: Scope) -> Hashable | None:
        """What a clean answer depends on besides the URL and the clock (see
        :mod:`simulator.replay`); None: never replay this request."""
        ...
