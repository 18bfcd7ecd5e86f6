"""The only source of "now": one simulated clock per tenant.

By default every tenant follows the server clock, which starts at ``start`` (real time
unless set) and runs in real time. A tenant's clock can be frozen, moved, or run faster;
that state lives in the store so that all workers agree on it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from simulator.store import ClockState, Store


class Clock:
    """Per-tenant simulated time over a real time source."""

    def __init__(
        self,
        store: Store,
        start: datetime | None = None,
        real: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._real = real
        self._real_start = real()
        self._sim_start = start.timestamp() if start is not None else self._real_start

    @property
    def start(self) -> datetime:
        """The simulated instant at which the server clock started."""
        return datetime.fromtimestamp(self._sim_start, UTC)

    def now(self, tenant: str = "") -> float:
        """Simulated POSIX seconds for the tenant."""
        real = self._real()
        state = self._store.get_clock(tenant)
        if state is None:
            return self._sim_start + (real - self._real_start)
        return state.at(real)

    def now_datetime(self, tenant: str = "") -> datetime:
        """Simulated now for the tenant, as an aware UTC datetime."""
        return datetime.fromtimestamp(self.now(tenant), UTC)

    def _set(self, tenant: str, sim: float, rate: float) -> None:
        self._store.set_clock(tenant, ClockState(self._real(), sim, rate))

    def _rate(self, tenant: str) -> float:
        state = self._store.get_clock(tenant)
        return 1.0 if state is None else state.rate

    def freeze(self, tenant: str, at: datetime | None = None) -> None:
        """Stop the tenant's clock, at ``at`` or where it is."""
        self._set(tenant, at.timestamp() if at else self.now(tenant), 0.0)

    def advance(self, tenant: str, delta: timedelta) -> None:
        """Move the tenant's clock forward (or back) by ``delta``, keeping its rate."""
        self._set(tenant, self.now(tenant) + delta.total_seconds(), self._rate(tenant))

    def set(self, tenant: str, at: datetime) -> None:
        """Put the tenant's clock at an instant, keeping its rate."""
        self._set(tenant, at.timestamp(), self._rate(tenant))

    def run(self, tenant: str, rate: float = 1.0) -> None:
        """Let the tenant's clock run at ``rate`` simulated seconds per real second."""
        if rate < 0:
            raise ValueError("a clock's rate cannot be negative")
        self._set(tenant, self.now(tenant), rate)

    def reset(self, tenant: str) -> None:
        """Make the tenant follow the server clock again."""
        self._store.set_clock(tenant, None)
