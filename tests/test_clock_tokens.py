"""The clock is per tenant; tokens are bound to their credential and expire on that clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from simulator.clock import Clock
from simulator.store import MemoryStore
from simulator.tokens import TokenError, TokenIssuer, TokenProblem, bearer

START = datetime(2026, 1, 1, tzinfo=UTC)


class FakeTime:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_server_clock_starts_at_start_and_runs_in_real_time() -> None:
    real = FakeTime()
    clock = Clock(MemoryStore(), START, real)
    assert clock.now("a") == START.timestamp()
    real.now += 90
    assert clock.now("a") == START.timestamp() + 90


def test_tenant_clocks_are_independent() -> None:
    real = FakeTime()
    clock = Clock(MemoryStore(), START, real)
    clock.freeze("a")
    clock.advance("b", timedelta(days=2))
    real.now += 60
    assert clock.now("a") == START.timestamp()
    assert clock.now("b") == START.timestamp() + 2 * 86400 + 60
    assert clock.now("c") == START.timestamp() + 60
    clock.run("a", rate=10)
    real.now += 6
    assert clock.now("a") == START.timestamp() + 60
    clock.reset("a")
    assert clock.now("a") == clock.now("c")
    with pytest.raises(ValueError):
        clock.run("a", rate=-1)


def test_tokens_verify_and_bind_to_carrier_and_tenant() -> None:
    issuer = TokenIssuer(b"k")
    token, claims = issuer.issue(
        carrier="ups", client_id="cid", tenant="t1", now=100.0, lifetime=10
    )
    assert token.startswith("eyJ")
    assert issuer.check(token, "ups", 105.0) == claims
    assert claims.tenant == "t1" and claims.client_id == "cid"
    problems = {
        "expired": lambda: issuer.check(token, "ups", 110.0),
        "wrong_carrier": lambda: issuer.check(token, "fedex", 105.0),
        "bad_signature": lambda: issuer.check(token[:-2] + "AA", "ups", 105.0),
        "malformed": lambda: issuer.check("abc", "ups", 105.0),
        "missing": lambda: issuer.check(None, "ups", 105.0),
    }
    for name, call in problems.items():
        with pytest.raises(TokenError) as info:
            call()
        assert info.value.problem is TokenProblem[name]
    other = TokenIssuer(b"other")
    with pytest.raises(TokenError):
        other.check(token, "ups", 105.0)


def test_bearer_header_parsing() -> None:
    assert bearer("Bearer abc") == "abc"
    assert bearer("bearer  abc ") == "abc"
    assert bearer("Basic abc") is None
    assert bearer("Bearer ") is None
    assert bearer(None) is None
