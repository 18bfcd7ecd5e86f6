"""State that must be shared between workers, behind one small interface.

Everything mutable a tenant owns goes through :class:`Store`, so a networked store can
replace the in-memory one without touching behaviour. The in-memory store is the default.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from simulator.notifications import Subscription


@dataclass(frozen=True, slots=True)
class ClockState:
    """A tenant's clock: simulated POSIX time ``anchor_sim`` at real time ``anchor_real``,
    running at ``rate`` simulated seconds per real second (0 = frozen)."""

    anchor_real: float
    anchor_sim: float
    rate: float = 1.0

    def at(self, real: float) -> float:
        """Simulated POSIX seconds at real POSIX seconds ``real``."""
        return self.anchor_sim + (real - self.anchor_real) * self.rate


@dataclass(frozen=True, slots=True)
class CreatedShipment:
    """A shipment a tenant created at run time: which scenario, from when, which variant."""

    carrier: str
    number: str
    scenario: str
    t0: float
    variant: int


class Store(Protocol):
    """What the simulator keeps per tenant."""

    def get_clock(self, tenant: str) -> ClockState | None:
        """The tenant's clock, or None while it follows the server clock."""

    def set_clock(self, tenant: str, state: ClockState | None) -> None:
        """Replace the tenant's clock (None: follow the server clock again)."""

    def add_shipment(self, tenant: str, shipment: CreatedShipment) -> None:
        """Keep a shipment the tenant created."""

    def get_shipment(self, tenant: str, carrier: str, number: str) -> CreatedShipment | None:
        """A shipment the tenant created, if any."""

    def shipments(self, tenant: str) -> list[CreatedShipment]:
        """The shipments the tenant created, oldest first."""

    def delete_shipment(self, tenant: str, carrier: str, number: str) -> bool:
        """Forget a created shipment; whether it existed."""

    def add_subscription(self, tenant: str, subscription: Subscription) -> None:
        """Keep a carrier-side notification sign-up the tenant made."""

    def subscriptions(self, tenant: str) -> list[Subscription]:
        """The tenant's notification sign-ups, oldest first."""

    def tenants(self) -> list[str]:
        """Tenants that have state."""

    def reset(self, tenant: str | None = None) -> None:
        """Drop one tenant's state, or everything."""


class MemoryStore:
    """The default store: dictionaries in this process, guarded for threaded servers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._clocks: dict[str, ClockState] = {}
        self._shipments: dict[str, dict[tuple[str, str], CreatedShipment]] = {}
        self._subscriptions: dict[str, list[Subscription]] = {}

    def get_clock(self, tenant: str) -> ClockState | None:
        """The tenant's clock, or None while it follows the server clock."""
        return self._clocks.get(tenant)

    def set_clock(self, tenant: str, state: ClockState | None) -> None:
        """Replace the tenant's clock (None: follow the server clock again)."""
        with self._lock:
            if state is None:
                self._clocks.pop(tenant, None)
            else:
                self._clocks[tenant] = state

    def add_shipment(self, tenant: str, shipment: CreatedShipment) -> None:
        """Keep a shipment the tenant created."""
        with self._lock:
            own = self._shipments.setdefault(tenant, {})
            own[(shipment.carrier, shipment.number)] = shipment

    def get_shipment(self, tenant: str, carrier: str, number: str) -> CreatedShipment | None:
        """A shipment the tenant created, if any."""
        own = self._shipments.get(tenant)
        return None if own is None else own.get((carrier, number))

    def shipments(self, tenant: str) -> list[CreatedShipment]:
        """The shipments the tenant created, oldest first."""
        return list(self._shipments.get(tenant, {}).values())

    def delete_shipment(self, tenant: str, carrier: str, number: str) -> bool:
        """Forget a created shipment; whether it existed."""
        with self._lock:
            return self._shipments.get(tenant, {}).pop((carrier, number), None) is not None

    def add_subscription(self, tenant: str, subscription: Subscription) -> None:
        """Keep a carrier-side notification sign-up the tenant made."""
        with self._lock:
            self._subscriptions.setdefault(tenant, []).append(subscription)

    def subscriptions(self, tenant: str) -> list[Subscription]:
        """The tenant's notification sign-ups, oldest first."""
        return list(self._subscriptions.get(tenant, ()))

    def tenants(self) -> list[str]:
        """Tenants that have state."""
        return sorted(
            set(self._clocks)
            | {t for t, s in self._shipments.items() if s}
            | {t for t, s in self._subscriptions.items() if s}
        )

    def reset(self, tenant: str | None = None) -> None:
        """Drop one tenant's state, or everything."""
        with self._lock:
            if tenant is None:
                self._clocks.clear()
                self._shipments.clear()
                self._subscriptions.clear()
            else:
                self._clocks.pop(tenant, None)
                self._shipments.pop(tenant, None)
                self._subscriptions.pop(tenant, None)
