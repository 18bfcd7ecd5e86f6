"""Retry policy: what is retried, how long to wait, and when to give up.

A :class:`RetryPolicy` must be told what is retryable, and it is told here once: a
:class:`~client.errors.TrackingError` whose class is ``transient`` (rate limited — HTTP 429,
carrier unavailable — 5xx or a failed connection, timeout). Everything else (4xx, not found,
authentication, malformed answers) fails at once, because asking again gets the same answer.

Waits are capped exponential backoff with full jitter (a uniform draw between 0 and
``min(max_backoff, initial_backoff · multiplier^(attempt−1))``), so many clients that failed
together do not come back together. A ``Retry-After`` from the carrier replaces the backoff:
the client waits exactly that long, or gives up at once if that would cross the deadline.

Each call has a total ``deadline`` (seconds, covering token requests, attempts and waits;
30 s by default) and, optionally, ``max_attempts``; the transport also shortens each
attempt's timeouts to what is left. By default the deadline alone decides when to give up: a
carrier that throttles three times and then cuts a body short is still a carrier that
answers on the fifth try, and a small attempt count would give up on it.

Test mode: ``RetryPolicy.for_testing()`` uses a :class:`VirtualClock`, whose sleeps return at
once and only move its own time forward, so tests exercise backoff and deadlines without
waiting and can assert the exact waits in ``clock.sleeps``.
"""

from __future__ import annotations

import math
import random
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

import anyio
import anyio.lowlevel

from client.errors import RateLimited, TrackingError

__all__ = [
    "Clock",
    "Deadline",
    "RetryPolicy",
    "SystemClock",
    "VirtualClock",
    "parse_retry_after",
]


class Clock(Protocol):
    """Where the retry machinery gets time from and how it waits."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards."""
        ...

    def sleep(self, seconds: float) -> None:
        """Block the thread for ``seconds``."""
        ...

    async def async_sleep(self, seconds: float) -> None:
        """Suspend the task for ``seconds``."""
        ...


class SystemClock:
    """Real time: ``time.monotonic`` and real sleeps."""

    def monotonic(self) -> float:
        """Seconds from ``time.monotonic``."""
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        """A real ``time.sleep``."""
        time.sleep(seconds)

    async def async_sleep(self, seconds: float) -> None:
        """A real ``anyio.sleep`` (works under asyncio and trio)."""
        await anyio.sleep(seconds)


class VirtualClock:
    """Test clock: sleeping returns at once and advances this clock's time instead."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._lock = threading.Lock()
        self.sleeps: list[float] = []
        """Every wait requested, in order."""

    def monotonic(self) -> float:
        """The virtual time."""
        return self._now

    def advance(self, seconds: float) -> None:
        """Move time forward without recording a sleep (e.g. to expire a token)."""
        with self._lock:
            self._now += seconds

    def sleep(self, seconds: float) -> None:
        """Record the wait and advance time; never blocks."""
        with self._lock:
            self.sleeps.append(seconds)
            self._now += seconds

    async def async_sleep(self, seconds: float) -> None:
        """Same as :meth:`sleep`, for async callers; lets other tasks run, as a real wait
        would."""
        self.sleep(seconds)
        await anyio.lowlevel.checkpoint()


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date), or None."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # RFC 9110 dates are GMT; be lenient with "-0000" forms
            when = when.replace(tzinfo=UTC)
        seconds = (when - (now or datetime.now(UTC))).total_seconds()
    if math.isnan(seconds) or math.isinf(seconds):
        return None
    return max(0.0, seconds)


@dataclass(frozen=True)
class RetryPolicy:
    """How one client call retries transient failures (see the module docstring)."""

    max_attempts: int | None = None
    """Attempts per HTTP exchange, the first one included (1 disables retries); None: as many
    as the deadline allows."""
    deadline: float | None = 30.0
    """Seconds one ``track`` call may take in total, waits included; None for no limit."""
    initial_backoff: float = 0.25
    max_backoff: float = 8.0
    multiplier: float = 2.0
    clock: Clock = field(default_factory=SystemClock, compare=False)
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.max_attempts is not None and self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1 (or None: the deadline decides)")
        if self.max_attempts is None and self.deadline is None:
            raise ValueError("give a deadline or max_attempts: with neither, retries never stop")
        if self.deadline is not None and self.deadline <= 0:
            raise ValueError("deadline must be positive (or None for no deadline)")
        if self.initial_backoff < 0 or self.max_backoff < 0 or self.multiplier < 1:
            raise ValueError("backoffs must be >= 0 and multiplier >= 1")

    @classmethod
    def for_testing(cls, **overrides: Any) -> RetryPolicy:
        """A policy on a :class:`VirtualClock` with a seeded RNG: no real waits, repeatable."""
        params: dict[str, Any] = {"clock": VirtualClock(), "rng": random.Random(0)}
        params.update(overrides)
        return cls(**params)

    def attempts_left(self, attempt: int) -> bool:
        """Whether the attempt count allows another try after the ``attempt``-th."""
        return self.max_attempts is None or attempt < self.max_attempts

    def is_retryable(self, error: TrackingError) -> bool:
        """Whether an error is worth another attempt (transient: 429, 5xx, connection, timeout)."""
        return error.transient

    def backoff(self, attempt: int) -> float:
        """Full-jitter wait after the ``attempt``-th failure (1-based)."""
        cap = min(self.max_backoff, self.initial_backoff * self.multiplier ** (attempt - 1))
        return self.rng.uniform(0.0, cap)

    def wait_before_retry(self, error: TrackingError, attempt: int) -> float:
        """Seconds to wait after a retryable failure: the carrier's Retry-After, else backoff."""
        if isinstance(error, RateLimited) and error.retry_after is not None:
            return error.retry_after
        return self.backoff(attempt)

    def start(self) -> Deadline:
        """A deadline that starts now, for one call."""
        now = self.clock.monotonic()
        return Deadline(self.clock, None if self.deadline is None else now + self.deadline)


@dataclass(frozen=True)
class Deadline:
    """The end of one call's time budget on a given clock."""

    clock: Clock
    at: float | None

    def remaining(self) -> float:
        """Seconds left (``inf`` without a deadline, never negative)."""
        if self.at is None:
            return math.inf
        return max(0.0, self.at - self.clock.monotonic())

    def expired(self) -> bool:
        """Whether no time is left."""
        return self.remaining() <= 0.0
