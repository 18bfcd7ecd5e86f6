"""Replay protection: deliveries already accepted, and messages signed too long ago."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime

from client.errors import ReplayedPush
from client.model import Carrier

__all__ = ["ReplayGuard"]


class ReplayGuard:
    """Remembers accepted deliveries (at most ``capacity``, each for ``keep`` seconds) and
    refuses messages whose signed send time is more than ``window`` seconds off ``now``.

    Only USPS signs a send time (``timestamp``); for the other carriers a resend can only be
    told by its content, which is what :attr:`PushDelivery.delivery_id` is. ``window=None``
    turns the time check off (a simulator whose clock jumps may stamp simulated times).
    Thread-safe: one guard may serve every worker thread of a receiver.
    """

    def __init__(
        self,
        *,
        window: float | None = 300.0,
        keep: float = 7 * 24 * 3600.0,
        capacity: int = 100_000,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.window = window
        self.keep = keep
        self.capacity = capacity
        self._now = now
        self._clock = clock
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def check(self, carrier: Carrier, delivery_id: str, sent_at: datetime | None) -> None:
        """Raise ReplayedPush if the delivery was accepted before or is outside the window."""
        if sent_at is not None and self.window is not None:
            skew = abs((self._now() - sent_at).total_seconds())
            if skew > self.window:
                raise ReplayedPush(
                    f"the push was signed {skew:.0f} s away from now (window {self.window:.0f} s)",
                    duplicate=False,
                    carrier=carrier,
                    hint="check the receiver's clock, or widen ReplayGuard(window=…) if the "
                    "sender's clock is not real time",
                )
        with self._lock:
            self._expire()
            if delivery_id in self._seen:
                raise ReplayedPush("the push was accepted before", duplicate=True, carrier=carrier)

    def remember(self, delivery_id: str) -> None:
        """Record a delivery as accepted."""
        with self._lock:
            self._seen[delivery_id] = self._clock() + self.keep
            self._seen.move_to_end(delivery_id)
            while len(self._seen) > self.capacity:
                self._seen.popitem(last=False)

    def forget(self, delivery_id: str) -> None:
        """Let a delivery in again (its handling failed, so the carrier's resend must count)."""
        with self._lock:
            self._seen.pop(delivery_id, None)

    def __len__(self) -> int:
        with self._lock:
            self._expire()
            return len(self._seen)

    def _expire(self) -> None:
        now = self._clock()
        while self._seen:
            key, until = next(iter(self._seen.items()))
            if until > now:
                break
            del self._seen[key]
