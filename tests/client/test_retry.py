"""The retry policy: what is retried, backoff, Retry-After, deadline, and no real waits."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from client import RetryPolicy, VirtualClock
from client.errors import (
    CarrierUnavailable,
    InvalidNumber,
    NotFound,
    RateLimited,
    RequestRejected,
    Timeout,
)
from client.retry import parse_retry_after
from tests.client import bodies as B
from tests.client.fakes import DHL, FakeCarriers, client_for, respond

DHL_503 = {"status": 503, "title": "Service Unavailable", "detail": "try later"}


def scripted(*answers: httpx.Response | Exception) -> FakeCarriers:
    """A server whose tracking answers are ``answers`` in order (the last one repeats)."""
    queue = list(answers)

    def track(request: httpx.Request) -> httpx.Response:
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return FakeCarriers(track)


def policy(**overrides: object) -> RetryPolicy:
    return RetryPolicy.for_testing(**overrides)


def test_backoff_is_full_jitter_under_an_exponential_cap() -> None:
    p = RetryPolicy(initial_backoff=0.5, max_backoff=4.0, multiplier=2.0, rng=random.Random(1))
    for attempt, cap in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 4.0), (12, 4.0)]:
        waits = [p.backoff(attempt) for _ in range(200)]
        assert all(0.0 <= w <= cap for w in waits)
        assert max(waits) > cap * 0.8  # really spread over the range, not fixed


def test_policy_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(deadline=0)


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("30", 30.0), (" 2.5 ", 2.5), ("-3", 0.0), ("soon", None), ("", None), (None, None)],
)
def test_retry_after_seconds(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header) == seconds


def test_retry_after_http_date() -> None:
    now = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
    header = format_datetime(now + timedelta(seconds=7), usegmt=True)
    assert parse_retry_after(header, now=now) == pytest.approx(7.0)
    assert parse_retry_after(format_datetime(now - timedelta(hours=1), usegmt=True), now=now) == 0


def test_5xx_is_retried_until_success() -> None:
    server = scripted(respond(503, DHL_503), respond(502, "<html>bad gateway</html>"),
                      respond(200, B.dhl_delivered()))  # fmt: skip
    p = policy()
    with client_for(server, retry=p) as c:
        assert c.track(B.DHL_NUMBER).status.value == "delivered"
    assert len(server.tracking_requests()) == 3
    assert isinstance(p.clock, VirtualClock) and len(p.clock.sleeps) == 2


def test_gives_up_after_max_attempts_with_the_last_error() -> None:
    server = scripted(respond(503, DHL_503))
    with (
        client_for(server, retry=policy(max_attempts=3)) as c,
        pytest.raises(CarrierUnavailable) as info,
    ):
        c.track(B.DHL_NUMBER)
    assert len(server.tracking_requests()) == 3
    assert info.value.attempts == 3 and info.value.status_code == 503
    assert info.value.number == B.DHL_NUMBER and info.value.carrier is not None


def test_retry_after_is_honoured_exactly() -> None:
    # USPS sends Retry-After with 429 (NOTES §3.6); the wait is the carrier's, not backoff.
    usps_429 = B.usps_error(429, "Exceeded quota limit.", None, api="/shipments/v3")
    server = scripted(
        respond(429, usps_429, {"Retry-After": "30"}), respond(200, B.usps_delivered())
    )
    p = policy(deadline=120.0)
    with client_for(server, retry=p) as c:
        c.track(B.USPS_NUMBER)
    assert isinstance(p.clock, VirtualClock)
    assert p.clock.sleeps == [30.0]


def test_retry_after_beyond_the_deadline_fails_at_once_with_retry_after() -> None:
    server = scripted(
        respond(429, {"status": 429, "title": "Too Many Requests"}, {"Retry-After": "120"})
    )
    p = policy(deadline=60.0)
    with client_for(server, retry=p) as c, pytest.raises(RateLimited) as info:
        c.track(B.DHL_NUMBER)
    assert info.value.retry_after == 120.0
    assert isinstance(p.clock, VirtualClock) and p.clock.sleeps == []
    assert len(server.tracking_requests()) == 1


def test_429_without_retry_after_uses_backoff() -> None:
    # DHL's 429 (NOTES §4.5) carries no Retry-After.
    dhl_429 = {"status": 429, "title": "Too Many Requests", "detail": "Too many requests within "
               "defined time period, please try again later."}  # fmt: skip
    server = scripted(respond(429, dhl_429), respond(200, B.dhl_delivered()))
    p = policy(initial_backoff=1.0)
    with client_for(server, retry=p) as c:
        c.track(B.DHL_NUMBER)
    assert isinstance(p.clock, VirtualClock)
    assert len(p.clock.sleeps) == 1 and 0.0 <= p.clock.sleeps[0] <= 1.0


def test_deadline_bounds_the_total_of_waits() -> None:
    server = scripted(respond(503, DHL_503))
    p = policy(max_attempts=100, deadline=10.0, initial_backoff=1.0, max_backoff=4.0)
    with client_for(server, retry=p) as c, pytest.raises(CarrierUnavailable):
        c.track(B.DHL_NUMBER)
    assert isinstance(p.clock, VirtualClock)
    assert sum(p.clock.sleeps) < 10.0
    assert p.clock.monotonic() < 10.0
    assert 2 < len(server.tracking_requests()) < 100


@pytest.mark.parametrize(
    ("status", "body", "error"),
    [
        (400, {"status": 400, "title": "Bad Request"}, RequestRejected),
        (404, B.DHL_NOT_FOUND, NotFound),
    ],
)
def test_other_4xx_are_not_retried(status: int, body: object, error: type[Exception]) -> None:
    server = scripted(respond(status, body))
    with client_for(server) as c, pytest.raises(error):
        c.track(B.DHL_NUMBER)
    assert len(server.tracking_requests()) == 1


def test_invalid_number_answer_is_not_retried() -> None:
    server = FakeCarriers(lambda r: respond(400, B.ups_error("TV1002", "Invalid inquiry number")))
    with client_for(server) as c, pytest.raises(InvalidNumber) as info:
        c.track(B.UPS_NUMBER)
    assert info.value.code == "TV1002"
    assert len(server.tracking_requests()) == 1


def test_connection_errors_and_timeouts_are_retried() -> None:
    server = scripted(
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
        respond(200, B.dhl_delivered()),
    )
    with client_for(server) as c:
        assert c.track(B.DHL_NUMBER).is_delivered
    assert len(server.tracking_requests()) == 4


def test_persistent_timeout_raises_timeout() -> None:
    server = scripted(httpx.ReadTimeout("slow"))
    with client_for(server, retry=policy(max_attempts=2)) as c, pytest.raises(Timeout) as info:
        c.track(B.DHL_NUMBER)
    assert info.value.transient and "waiting for the answer" in info.value.message


def test_test_mode_has_no_real_waits() -> None:
    server = scripted(respond(503, DHL_503))
    p = policy(max_attempts=6, initial_backoff=30.0, max_backoff=60.0, deadline=None)
    started = time.monotonic()
    with client_for(server, retry=p) as c, pytest.raises(CarrierUnavailable):
        c.track(B.DHL_NUMBER)
    assert time.monotonic() - started < 1.0
    assert isinstance(p.clock, VirtualClock) and sum(p.clock.sleeps) > 0


def test_slow_body_is_cut_at_the_deadline() -> None:
    # A server dribbling its body: each chunk costs 4 s on the virtual clock.
    clock = VirtualClock()

    class Dribble(httpx.SyncByteStream):
        def __iter__(self):  # type: ignore[no-untyped-def]
            for _ in range(10):
                clock.advance(4.0)
                yield b" "

    server = FakeCarriers(lambda r: httpx.Response(200, stream=Dribble()))
    p = policy(clock=clock, deadline=10.0, max_attempts=1)
    with client_for(server, retry=p, dhl=DHL) as c, pytest.raises(Timeout) as info:
        c.track(B.DHL_NUMBER)
    assert "deadline" in info.value.message
    assert clock.monotonic() <= 12.0
