"""The retry rules a caller configures and relies on, checked over their whole input range.

``Retry-After`` in each form RFC 9110 allows (delta-seconds, IMF-fixdate, the obsolete RFC 850
and asctime dates, with a numeric zone or none), the policy's argument checks, the exact
backoff cap per attempt, the deadline's arithmetic and the test clock's bookkeeping.
"""

from __future__ import annotations

import math
import random
import time
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime

import anyio
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from client.errors import CarrierUnavailable, NotFound, RateLimited
from client.retry import Deadline, RetryPolicy, SystemClock, VirtualClock, parse_retry_after

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)

# Header dates have whole seconds; keep them within the years HTTP-dates can spell.
instants = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(UTC)
).map(lambda t: t.replace(microsecond=0))
offsets = st.integers(min_value=-14 * 60, max_value=14 * 60).map(
    lambda m: timezone(timedelta(minutes=m))
)


def expected_wait(when: datetime, now: datetime) -> float:
    return max(0.0, (when - now).total_seconds())


# ------------------------------------------------------------------------------------------
# Retry-After
# ------------------------------------------------------------------------------------------


@given(seconds=st.integers(min_value=0, max_value=10**9), pad=st.sampled_from(["", " ", "\t"]))
def test_delta_seconds_are_waited_exactly(seconds: int, pad: str) -> None:
    assert parse_retry_after(f"{pad}{seconds}{pad}", now=NOW) == float(seconds)


@given(seconds=st.floats(min_value=-1e9, max_value=1e9, allow_nan=False))
def test_fractional_and_negative_delays_are_clamped_at_zero(seconds: float) -> None:
    assert parse_retry_after(repr(seconds), now=NOW) == max(0.0, seconds)


@pytest.mark.parametrize("header", ["nan", "inf", "-inf", "Infinity", "NaN"])
def test_non_finite_numbers_are_no_wait_at_all(header: str) -> None:
    # float() accepts them; a wait of "infinity" is nonsense and must not block a retry loop.
    assert parse_retry_after(header, now=NOW) is None


@given(when=instants, now=instants)
@example(when=NOW + timedelta(seconds=7), now=NOW)
@example(when=NOW - timedelta(hours=1), now=NOW)
def test_imf_fixdate_in_gmt(when: datetime, now: datetime) -> None:
    header = format_datetime(when, usegmt=True)  # "Mon, 02 Mar 2026 15:00:07 GMT"
    assert parse_retry_after(header, now=now) == expected_wait(when, now)


@given(when=instants, now=instants, zone=offsets)
@example(when=NOW + timedelta(hours=2), now=NOW, zone=timezone(timedelta(hours=-5)))
def test_a_date_with_a_numeric_zone_is_read_in_that_zone(
    when: datetime, now: datetime, zone: timezone
) -> None:
    header = format_datetime(when.astimezone(zone))  # "Mon, 02 Mar 2026 10:00:00 -0500"
    assert parse_retry_after(header, now=now) == expected_wait(when, now)


@given(when=instants, now=instants)
@example(when=NOW + timedelta(minutes=3), now=NOW)
def test_a_date_without_a_zone_is_gmt(when: datetime, now: datetime) -> None:
    # asctime ("Mon Mar  2 15:03:00 2026") and "-0000" carry no zone; RFC 9110 says GMT.
    asctime = when.strftime("%a %b ") + f"{when.day:2d}" + when.strftime(" %H:%M:%S %Y")
    minus_zero = when.strftime("%a, %d %b %Y %H:%M:%S -0000")
    assert parse_retry_after(asctime, now=now) == expected_wait(when, now)
    assert parse_retry_after(minus_zero, now=now) == expected_wait(when, now)


def test_rfc_850_date() -> None:
    when = NOW + timedelta(seconds=90)
    assert parse_retry_after(when.strftime("%A, %d-%b-%y %H:%M:%S GMT"), now=NOW) == 90.0


def test_a_date_is_measured_from_the_real_now_by_default() -> None:
    soon = datetime.now(UTC) + timedelta(hours=1)
    wait = parse_retry_after(format_datetime(soon, usegmt=True))
    assert wait is not None and 3500 < wait <= 3600
    assert parse_retry_after("Mon, 02 Mar 1998 15:00:00 GMT") == 0.0


@pytest.mark.parametrize(
    "header", [None, "", "   ", "soon", "Mon, 32 Foo 2026", "12 seconds", "1e", "Retry-After"]
)
def test_anything_else_is_no_retry_after(header: str | None) -> None:
    assert parse_retry_after(header, now=NOW) is None


# ------------------------------------------------------------------------------------------
# RetryPolicy arguments
# ------------------------------------------------------------------------------------------


@given(n=st.integers(min_value=-5, max_value=50))
def test_max_attempts_must_be_at_least_one(n: int) -> None:
    if n >= 1:
        assert RetryPolicy(max_attempts=n).max_attempts == n
    else:
        with pytest.raises(ValueError, match="max_attempts must be at least 1"):
            RetryPolicy(max_attempts=n)


@given(deadline=st.none() | st.floats(min_value=-10, max_value=1e6, allow_nan=False))
@example(deadline=0.0)
def test_deadline_is_positive_or_none(deadline: float | None) -> None:
    if deadline is None or deadline > 0:
        assert RetryPolicy(deadline=deadline, max_attempts=3).deadline == deadline
    else:
        with pytest.raises(ValueError, match=r"deadline must be positive \(or None"):
            RetryPolicy(deadline=deadline)


def test_some_limit_is_required() -> None:
    # Without a deadline and without an attempt count, a failing carrier is retried forever.
    with pytest.raises(ValueError, match="give a deadline or max_attempts"):
        RetryPolicy(deadline=None)
    assert RetryPolicy(deadline=None, max_attempts=1).max_attempts == 1
    assert RetryPolicy(max_attempts=None).deadline == 30.0


@given(limit=st.none() | st.integers(1, 20), attempt=st.integers(1, 30))
def test_attempts_left_counts_the_attempts_made(limit: int | None, attempt: int) -> None:
    p = RetryPolicy(max_attempts=limit)
    assert p.attempts_left(attempt) is (limit is None or attempt < limit)


backoffs = st.floats(min_value=-5, max_value=100, allow_nan=False)


@given(initial=backoffs, cap=backoffs, multiplier=st.floats(min_value=0, max_value=10))
@example(initial=0.0, cap=0.0, multiplier=1.0)  # the boundaries are allowed
@example(initial=-0.1, cap=1.0, multiplier=2.0)
@example(initial=1.0, cap=-0.1, multiplier=2.0)
@example(initial=1.0, cap=1.0, multiplier=0.99)
def test_backoffs_are_non_negative_and_the_multiplier_never_shrinks(
    initial: float, cap: float, multiplier: float
) -> None:
    valid = initial >= 0 and cap >= 0 and multiplier >= 1
    if valid:
        p = RetryPolicy(initial_backoff=initial, max_backoff=cap, multiplier=multiplier)
        assert (p.initial_backoff, p.max_backoff, p.multiplier) == (initial, cap, multiplier)
    else:
        with pytest.raises(ValueError, match="backoffs must be >= 0 and multiplier >= 1"):
            RetryPolicy(initial_backoff=initial, max_backoff=cap, multiplier=multiplier)


def test_defaults() -> None:
    p = RetryPolicy()
    assert (p.max_attempts, p.deadline) == (None, 30.0)
    assert (p.initial_backoff, p.max_backoff, p.multiplier) == (0.25, 8.0, 2.0)
    assert isinstance(p.clock, SystemClock)


def test_for_testing_is_virtual_seeded_and_overridable() -> None:
    a, b = RetryPolicy.for_testing(), RetryPolicy.for_testing(max_attempts=2)
    assert isinstance(a.clock, VirtualClock) and a.clock is not b.clock
    assert b.max_attempts == 2 and a.max_attempts == RetryPolicy().max_attempts
    seeded = random.Random(0)  # the same waits on every run
    assert [a.backoff(2) for _ in range(3)] == [seeded.uniform(0.0, 0.5) for _ in range(3)]
    clock = VirtualClock(5.0)
    assert RetryPolicy.for_testing(clock=clock).clock is clock


# ------------------------------------------------------------------------------------------
# Backoff and waits
# ------------------------------------------------------------------------------------------


class Bounds(random.Random):
    """An RNG that answers the top of the range it is asked for, and records each range."""

    def __init__(self) -> None:
        super().__init__(0)
        self.asked: list[tuple[float, float]] = []

    def uniform(self, a: float, b: float) -> float:
        self.asked.append((a, b))
        return b


@given(
    initial=st.floats(min_value=0, max_value=10),
    cap=st.floats(min_value=0, max_value=100),
    multiplier=st.floats(min_value=1, max_value=4),
    attempt=st.integers(min_value=1, max_value=12),
)
@example(initial=0.5, cap=4.0, multiplier=2.0, attempt=3)  # 0.5·2² = 2 under the cap
@example(initial=0.5, cap=4.0, multiplier=3.0, attempt=4)  # 0.5·3³ = 13.5, capped
def test_backoff_draws_from_zero_to_the_exponential_cap(
    initial: float, cap: float, multiplier: float, attempt: int
) -> None:
    rng = Bounds()
    p = RetryPolicy(initial_backoff=initial, max_backoff=cap, multiplier=multiplier, rng=rng)
    top = p.backoff(attempt)
    assert rng.asked == [(0.0, min(cap, initial * multiplier ** (attempt - 1)))]
    assert top == rng.asked[0][1]


def test_retry_after_wins_over_backoff_and_only_for_rate_limits() -> None:
    p = RetryPolicy(initial_backoff=1.0, max_backoff=1.0, rng=Bounds())
    assert p.wait_before_retry(RateLimited("slow down", retry_after=12.5), 1) == 12.5
    assert p.wait_before_retry(RateLimited("slow down", retry_after=0.0), 1) == 0.0
    assert p.wait_before_retry(RateLimited("slow down"), 1) == 1.0
    assert p.wait_before_retry(CarrierUnavailable("down"), 1) == 1.0


def test_transient_errors_are_the_retryable_ones() -> None:
    p = RetryPolicy()
    assert p.is_retryable(CarrierUnavailable("down"))
    assert p.is_retryable(RateLimited("slow down"))
    assert not p.is_retryable(NotFound("no such parcel"))


# ------------------------------------------------------------------------------------------
# Deadline and clocks
# ------------------------------------------------------------------------------------------


@given(start=st.floats(0, 1e6), budget=st.floats(0.001, 1e4), spent=st.floats(0, 2e4))
def test_deadline_counts_down_from_the_call_start(
    start: float, budget: float, spent: float
) -> None:
    clock = VirtualClock(start)
    deadline = RetryPolicy(deadline=budget, clock=clock).start()
    assert deadline.at == start + budget
    clock.advance(spent)
    assert deadline.remaining() == max(0.0, (start + budget) - (start + spent))
    assert deadline.expired() is (deadline.remaining() <= 0.0)


def test_a_deadline_expires_exactly_when_no_time_is_left() -> None:
    clock = VirtualClock()
    deadline = Deadline(clock, 10.0)
    clock.advance(9.5)
    assert deadline.remaining() == 0.5 and not deadline.expired()
    clock.advance(0.5)
    assert deadline.remaining() == 0.0 and deadline.expired()
    clock.advance(5)
    assert deadline.remaining() == 0.0 and deadline.expired()


def test_no_deadline_never_expires() -> None:
    clock = VirtualClock()
    deadline = RetryPolicy(deadline=None, max_attempts=2, clock=clock).start()
    assert deadline.at is None
    clock.advance(1e9)
    assert deadline.remaining() == math.inf and not deadline.expired()


def test_virtual_clock_records_sleeps_but_not_advances() -> None:
    clock = VirtualClock(100.0)
    assert clock.monotonic() == 100.0 and clock.sleeps == []
    clock.advance(5.0)
    clock.sleep(1.5)
    anyio.run(clock.async_sleep, 2.0)
    assert clock.sleeps == [1.5, 2.0]
    assert clock.monotonic() == 108.5
    assert VirtualClock().monotonic() == 0.0


def test_system_clock_really_waits() -> None:
    clock = SystemClock()
    before, wall = clock.monotonic(), time.monotonic()
    clock.sleep(0.02)
    anyio.run(clock.async_sleep, 0.02)
    assert clock.monotonic() - before >= 0.04
    assert abs(before - wall) < 1.0  # the same clock as time.monotonic
