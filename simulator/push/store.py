"""Push state behind one small interface: subscriptions, waiting deliveries, attempts.

In memory by default, like :mod:`simulator.store`. The one call that must be atomic across
workers once this state is shared is :meth:`PushStore.claim`: a delivery attempt is sent
only by whoever claims its id first, so a networked store that makes ``claim`` an atomic
set-if-absent gives exactly-once sending across workers and replicas.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
from collections import OrderedDict, deque
from collections.abc import Iterable
from typing import Protocol

from simulator.push.model import Attempt, Pending, Subscription


class PushStore(Protocol):
    """What push keeps per tenant."""

    def claim(self, delivery_id: str) -> bool:
        """Whether the caller is the first to claim this delivery attempt (then it sends)."""


class MemoryPushStore:
    """The default push store: this process's dictionaries, bounded where they grow."""

    def __init__(self, attempt_limit: int = 5000, claim_limit: int = 200_000) -> None:
        self._lock = threading.Lock()
        self.subscriptions: dict[str, Subscription] = {}
        self.pending: list[Pending] = []
        self.missed: dict[str, list[Pending]] = {}
        """FedEx's missed-events queue, per subscription."""
        self.webhooks: dict[tuple[str, str], dict[str, str]] = {}
        """Per (tenant, carrier), the webhook a carrier's portal holds (UPS v2, FedEx)."""
        self.attempts: deque[Attempt] = deque(maxlen=attempt_limit)
        self._claimed: OrderedDict[str, None] = OrderedDict()
        self._claim_limit = claim_limit
        self._serial = itertools.count(1)
        self._ids = itertools.count(1)

    def claim(self, delivery_id: str) -> bool:
        """Whether the caller is the first to claim this delivery attempt (then it sends)."""
        with self._lock:
            if delivery_id in self._claimed:
                return False
            self._claimed[delivery_id] = None
            # Old claims can go: their deliveries are long done (ids are never reused).
            while len(self._claimed) > self._claim_limit:
                self._claimed.popitem(last=False)
            return True

    def next_order(self) -> int:
        """A number that orders deliveries by when they were scheduled."""
        return next(self._serial)

    def next_attempt_id(self) -> int:
        """The id of the next attempt listed."""
        return next(self._ids)

    def add_subscription(self, sub: Subscription) -> None:
        """Keep a subscription."""
        with self._lock:
            self.subscriptions[sub.id] = sub

    def of_tenant(self, tenant: str | None, carrier: str | None = None) -> list[Subscription]:
        """A tenant's subscriptions (every tenant's for None), oldest first."""
        return [
            s
            for s in list(self.subscriptions.values())
            if (tenant is None or s.tenant == tenant) and (carrier is None or s.carrier == carrier)
        ]

    def remove_subscription(self, sub_id: str) -> Subscription | None:
        """Forget a subscription and what it still had to send."""
        with self._lock:
            sub = self.subscriptions.pop(sub_id, None)
            self.pending = [p for p in self.pending if p.subscription != sub_id]
            self.missed.pop(sub_id, None)
            return sub

    def schedule(self, items: Iterable[Pending]) -> None:
        """Add deliveries to send when their time comes."""
        with self._lock:
            self.pending.extend(items)

    def take(self, ready: Iterable[Pending]) -> list[Pending]:
        """Remove these deliveries from the waiting list (those still there), to send them."""
        wanted = {id(p) for p in ready}
        with self._lock:
            taken = [p for p in self.pending if id(p) in wanted]
            self.pending = [p for p in self.pending if id(p) not in wanted]
        return taken

    def record(self, attempt: Attempt) -> None:
        """Keep an attempt (the oldest fall out beyond the limit)."""
        self.attempts.append(attempt)

    def reset(self, tenant: str | None = None) -> None:
        """Drop one tenant's push state, or everything."""
        with self._lock:
            if tenant is None:
                self.subscriptions.clear()
                self.pending.clear()
                self.missed.clear()
                self.webhooks.clear()
                self.attempts.clear()
                return
            gone = {k for k, s in self.subscriptions.items() if s.tenant == tenant}
            for key in gone:
                del self.subscriptions[key]
                self.missed.pop(key, None)
            self.pending = [p for p in self.pending if p.tenant != tenant]
            for hook in [k for k in self.webhooks if k[0] == tenant]:
                del self.webhooks[hook]
            kept = [a for a in self.attempts if a.tenant != tenant]
            self.attempts.clear()
            self.attempts.extend(kept)


def new_id(seed: int, *parts: object, length: int = 24) -> str:
    """A stable, unguessable-looking identifier from the seed and what names the object."""
    digest = hashlib.sha256("|".join(map(str, (seed, *parts))).encode()).hexdigest()
    return digest[:length]
