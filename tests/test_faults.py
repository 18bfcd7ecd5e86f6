"""Fault selection: lifetimes, matches, determinism — pure, no server."""

from __future__ import annotations

import statistics
from collections import defaultdict
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulator.faults import (
    CLEAN,
    Fault,
    FaultBook,
    FaultRegistry,
    Latency,
    RequestInfo,
    matches,
)
from simulator.loader import ScenarioError, load_fault_plan
from simulator.strategies import fault_plans

NUMBERS = ("1Z999AA10123456784", "123456789012", "9400100000000000000000")
TENANTS = ("alpha", "beta", "gamma")
CARRIERS = ("ups", "fedex", "usps", "dhl")
ENDPOINTS = ("token", "track")

requests_ = st.lists(
    st.builds(
        lambda c, e, t, n, now: RequestInfo(c, e, t, (n,), frozenset(), now, 0.0),
        st.sampled_from(CARRIERS),
        st.sampled_from(ENDPOINTS),
        st.sampled_from(TENANTS),
        st.sampled_from(NUMBERS),
        st.floats(0, 3 * 3600),
    ),
    max_size=40,
)


def fault(**data: object) -> Fault:
    return Fault.model_validate(data)


def run(plan: list[Fault], infos: list[RequestInfo], seed: int = 0) -> list[tuple[str, ...]]:
    book = FaultBook(seed)
    return [book.decide([("global", plan)], info).fired for info in infos]


def expected_fires(plan: list[Fault], infos: list[RequestInfo]) -> list[set[str]] | None:
    """The reference model of lifetimes (None when a probability makes it random)."""
    counts: dict[tuple[int, str], int] = defaultdict(int)
    out = []
    for info in infos:
        fired = set()
        for i, f in enumerate(plan):
            if not matches(f.match, info):
                continue
            w = f.when.window
            if w is not None and not (
                w.start.total_seconds() <= info.sim_now < w.end.total_seconds()
            ):
                continue
            if f.when.probability is not None:
                return None
            n = counts[(i, info.tenant)]
            counts[(i, info.tenant)] += 1
            if f.when.first is not None:
                hit = n < f.when.first
            elif f.when.sequence is not None:
                seq = f.when.sequence
                hit = (n < len(seq) or f.when.repeat) and seq[n % len(seq)]
            else:
                hit = True
            if hit:
                fired.add(f"global#{i}:{f.fault.kind}")
        out.append(fired)
    return out


@given(fault_plans(numbers_pool=NUMBERS), requests_)
def test_observed_outcomes_follow_the_declared_lifetimes(
    plan: list[Fault], infos: list[RequestInfo]
) -> None:
    expected = expected_fires(plan, infos)
    observed = run(plan, infos)
    if expected is not None:
        assert [set(f) for f in observed] == expected


@given(fault_plans(numbers_pool=NUMBERS), requests_, st.integers(0, 10))
def test_same_seed_and_order_give_the_same_faults_and_samples(
    plan: list[Fault], infos: list[RequestInfo], seed: int
) -> None:
    def delays(book: FaultBook) -> list[tuple[tuple[str, ...], float]]:
        return [((d := book.decide([("global", plan)], i)).fired, d.delay) for i in infos]

    assert delays(FaultBook(seed)) == delays(FaultBook(seed))


@given(fault_plans(numbers_pool=NUMBERS), requests_)
def test_a_fault_never_leaks_to_a_request_it_does_not_match(
    plan: list[Fault], infos: list[RequestInfo]
) -> None:
    for info, fired in zip(infos, run(plan, infos), strict=True):
        for fid in fired:
            index = int(fid.split("#")[1].split(":")[0])
            assert matches(plan[index].match, info)


def test_sequence_429_429_then_normal() -> None:
    plan = [fault(kind="http_error", status=429, when={"sequence": [True, True]})]
    info = RequestInfo("ups", "track", "t", ("n",))
    book = FaultBook()
    outcomes = [book.decide([("global", plan)], info) for _ in range(4)]
    assert [d.error is not None for d in outcomes] == [True, True, False, False]
    assert outcomes[3] is CLEAN


def test_counters_are_per_tenant() -> None:
    plan = [fault(kind="http_error", status=503, when={"first": 1})]
    book = FaultBook()
    a = RequestInfo("ups", "track", "a")
    b = RequestInfo("ups", "track", "b")
    assert book.decide([("global", plan)], a).fired
    assert not book.decide([("global", plan)], a).fired
    assert book.decide([("global", plan)], b).fired
    book.reset("a")
    assert book.decide([("global", plan)], a).fired


def test_scenario_faults_only_match_their_scenario() -> None:
    registry = FaultRegistry(FaultBook(), (), {"flaky": (fault(kind="body", mode="invalid_json"),)})
    assert not registry.active_for("ups", frozenset({"calm"}))
    assert registry.active_for("ups", frozenset({"flaky"}))
    hit = RequestInfo("ups", "track", "t", ("n",), frozenset({"flaky"}))
    miss = RequestInfo("ups", "track", "t", ("n",), frozenset({"calm"}))
    assert registry.decide(hit).body is not None
    assert registry.decide(miss) is CLEAN


def test_rate_limit_preset_per_tenant_and_carrier() -> None:
    plan = [fault(kind="rate_limit", preset="carrier", match={"carrier": "dhl"})]
    book = FaultBook()
    first = book.decide([("global", plan)], RequestInfo("dhl", "track", "a", sim_now=100.0))
    again = book.decide([("global", plan)], RequestInfo("dhl", "track", "a", sim_now=100.5))
    other = book.decide([("global", plan)], RequestInfo("dhl", "track", "b", sim_now=100.5))
    later = book.decide([("global", plan)], RequestInfo("dhl", "track", "a", sim_now=101.1))
    assert first.rate_limited is None
    assert again.rate_limited == (1, False)  # DHL: 1 call/second, no Retry-After (NOTES §4.6)
    assert other.rate_limited is None
    assert later.rate_limited is None


def test_lognormal_samples_have_the_declared_median_and_p99() -> None:
    import random

    lat = Latency(kind="latency", distribution="lognormal", median_ms=80, p99_ms=400)
    rng = random.Random(1)
    samples = sorted(lat.sample(rng) * 1000 for _ in range(20000))
    assert statistics.median(samples) == pytest.approx(80, rel=0.05)
    assert samples[int(0.99 * len(samples))] == pytest.approx(400, rel=0.1)


def test_fault_plan_errors_name_line_field_and_fix(tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text(
        "faults:\n"
        "  - kind: latency\n"
        "    distribution: lognormal\n"
        "    median_ms: 50\n"
        "  - kind: http_error\n"
        "    status: 418\n"
        "  - kind: outage\n"
    )
    with pytest.raises(ScenarioError) as info:
        load_fault_plan(path)
    text = str(info.value)
    assert f"{path}:2: faults[0]: a lognormal latency needs p99_ms; add 'p99_ms:'" in text
    assert (
        f"{path}:6: faults[1].status: 418 is not a known value for 'status'; one of: 400, 401, "
        "403, 404, 429, 500, 502, 503, 504"
    ) in text
    assert f"{path}:7: faults[2]: an outage needs a window" in text


def test_fault_plan_accepts_a_bare_list(tmp_path: Path) -> None:
    path = tmp_path / "plan.yaml"
    path.write_text("- {kind: http_error, status: 503, when: {probability: 0.1}}\n")
    plan = load_fault_plan(path)
    assert plan.faults[0].when.probability == 0.1
