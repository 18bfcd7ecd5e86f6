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


class Carrier(Protocol):
    """A simulated carrier API: its routes, and what faults and replays need to speak it."""

    @property
    def name(self) -> str:
        """The carrier's name in scenarios, faults, the journal and URL prefixes (``ups``)."""
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
        endpoint (``reason``: ``expired`` / ``revoked`` for a 401)."""
        ...

    def method_not_allowed(self, path: str, allowed: Sequence[str]) -> Response:
        """The carrier's 405 for a request to one of its paths with another method, with
        the ``Allow`` header listing ``allowed``."""
        ...

    def replay_credential(self, scope: Scope) -> Hashable | None:
        """What a clean answer depends on besides the URL and the clock (see
        :mod:`simulator.replay`); None: never replay this request."""
        ...
