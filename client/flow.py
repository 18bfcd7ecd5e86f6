"""The call flow, written once for both clients: token, request, retries, one 401 renewal.

A flow is a generator that never performs I/O. It yields instructions — :class:`Send` a
request, :class:`Sleep`, get a :class:`Token` — and is sent their results back.
:class:`~client.api.TrackingClient` runs flows with blocking httpx calls,
:class:`~client.api.AsyncTrackingClient` with async ones, so the retry and auth behaviour of
the two clients cannot drift apart. (This module is an addition to the layout in DESIGN.md,
for exactly that reason.)

What one tracking call does:

1. For OAuth carriers, get a token (the client answers from its cache, or runs
   :func:`token_flow` under a per-credential lock).
2. Send the tracking request; retry transient failures per the :class:`RetryPolicy`.
3. On a 401, drop that token, get a fresh one and send once more; a second 401 is an
   :class:`~client.errors.AuthenticationError`.
4. Parse the answer into one outcome per number.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from client.auth import TokenGrant
from client.carriers.base import CarrierAdapter, CarrierConfig, Outcome
from client.errors import AuthenticationError, Timeout, TrackingError
from client.model import Carrier
from client.retry import Deadline, RetryPolicy
from client.transport import HttpReply

__all__ = [
    "Flow",
    "Instruction",
    "Send",
    "Sleep",
    "Token",
    "call_flow",
    "exchange",
    "token_flow",
    "track_flow",
]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Send:
    """Send ``request`` and read the answer within ``remaining`` seconds.

    Resolves to an :class:`~client.transport.HttpReply` or a :class:`TrackingError`.
    """

    request: httpx.Request
    remaining: float


@dataclass(frozen=True, slots=True)
class Sleep:
    """Wait ``seconds`` on the policy's clock. Resolves to None."""

    seconds: float


@dataclass(frozen=True, slots=True)
class Token:
    """An access token for the call's credential; resolves to ``str`` or a TrackingError.

    A fetch counts against the asking call's ``deadline``. ``stale`` names a token the
    carrier just rejected: the answer must be a different one.
    """

    deadline: Deadline
    stale: str | None = None


Instruction = Send | Sleep | Token
Flow = Generator[Instruction, Any, T]


def _fill(error: TrackingError, carrier: Carrier, number: str | None) -> TrackingError:
    if error.carrier is None:
        error.carrier = carrier
    if error.number is None and number is not None:
        error.number = number
    return error


def exchange(
    make_request: Callable[[], httpx.Request],
    classify: Callable[[HttpReply], TrackingError | None],
    policy: RetryPolicy,
    deadline: Deadline,
    *,
    carrier: Carrier,
    number: str | None,
) -> Flow[HttpReply]:
    """One HTTP exchange with retries: a successful reply, or the error that ended it."""
    attempt = 0
    while True:
        attempt += 1
        remaining = deadline.remaining()
        if remaining <= 0:
            raise Timeout(
                "the call's deadline passed before the carrier answered",
                carrier=carrier,
                number=number,
                hint="the carrier is slow or failing; try later or raise RetryPolicy.deadline",
            )
        outcome = yield Send(make_request(), remaining)
        error = outcome if isinstance(outcome, TrackingError) else classify(outcome)
        if error is None:
            reply: HttpReply = outcome
            return reply
        _fill(error, carrier, number)
        error.attempts = attempt
        if not policy.is_retryable(error) or not policy.attempts_left(attempt):
            raise error
        wait = policy.wait_before_retry(error, attempt)
        # Waiting past the deadline only to fail then helps nobody: fail now, with the
        # carrier's own error (a RateLimited keeps its retry_after for the caller).
        if wait >= deadline.remaining():
            raise error
        yield Sleep(wait)


def token_flow(
    adapter: CarrierAdapter, config: CarrierConfig, policy: RetryPolicy, deadline: Deadline
) -> Flow[TokenGrant]:
    """Fetch a fresh token for the configured credential."""
    reply = yield from exchange(
        lambda: adapter.token_request(config),
        adapter.token_error,
        policy,
        deadline,
        carrier=adapter.carrier,
        number=None,
    )
    try:
        return adapter.parse_token(reply)
    except TrackingError as exc:
        raise _fill(exc, adapter.carrier, None) from None


def _token(result: Any) -> str:
    if isinstance(result, TrackingError):
        raise result
    token: str = result
    return token


def track_flow(
    adapter: CarrierAdapter,
    config: CarrierConfig,
    numbers: Sequence[str],
    policy: RetryPolicy,
    deadline: Deadline,
) -> Flow[dict[str, Outcome]]:
    """Track up to ``adapter.batch_size`` numbers: an outcome for every one of them."""
    number = numbers[0] if len(numbers) == 1 else None
    token = _token((yield Token(deadline))) if adapter.uses_token else None

    def request() -> httpx.Request:
        return adapter.track_request(config, numbers, token)

    def classify(reply: HttpReply) -> TrackingError | None:
        return adapter.track_error(reply, numbers)

    carrier = adapter.carrier
    try:
        reply = yield from exchange(
            request, classify, policy, deadline, carrier=carrier, number=number
        )
    except AuthenticationError as exc:
        if token is None or exc.status_code != 401:
            raise
        # Tokens can die before their announced end (revoked, server restarted, a clock
        # jump on the carrier's side): renew once, then believe the carrier.
        token = _token((yield Token(deadline, stale=token)))
        reply = yield from exchange(
            request, classify, policy, deadline, carrier=carrier, number=number
        )
    return adapter.parse_track_safely(reply, numbers)


def call_flow(
    adapter: CarrierAdapter,
    config: CarrierConfig,
    number: str,
    make_request: Callable[[str | None], httpx.Request],
    classify: Callable[[HttpReply], TrackingError | None],
    parse: Callable[[HttpReply], T],
    policy: RetryPolicy,
    deadline: Deadline,
) -> Flow[T]:
    """One call of another operation (by reference, a shipment's pieces, a proof of
    delivery): token, retries and one token renewal on a 401, as for tracking."""
    token = _token((yield Token(deadline))) if adapter.uses_token else None
    carrier = adapter.carrier
    try:
        reply = yield from exchange(
            lambda: make_request(token), classify, policy, deadline, carrier=carrier, number=number
        )
    except AuthenticationError as exc:
        if token is None or exc.status_code != 401:
            raise
        token = _token((yield Token(deadline, stale=token)))
        reply = yield from exchange(
            lambda: make_request(token), classify, policy, deadline, carrier=carrier, number=number
        )
    try:
        return parse(reply)
    except TrackingError as exc:
        raise _fill(exc, carrier, number) from None
