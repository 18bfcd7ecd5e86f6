"""Property 2 over a real socket: connection faults (reset, empty reply, truncation, hangs,
stalls, dribbled bodies) end in the right result or a client error, within the deadline.

These need uvicorn on a loopback port (simulator.server.ServerThread) and real time, so they
run few examples with a short deadline. One server serves the whole module; each example
swaps in its own simulation behind it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from client import RetryPolicy
from simulator.app import create_app
from simulator.scenario import CARRIERS
from simulator.server import ServerThread
from simulator.strategies import (
    DATA_FAULTS,
    HTTP_FAULTS,
    SOCKET_FAULTS,
    aimed_faults,
    clock_points,
    fault_plans,
    scenarios,
    tracking_numbers,
)
from tests.properties.checks import describe, truth_text
from tests.properties.faulted import exposure, robustness_problems
from tests.properties.harness import (
    EPOCH,
    client,
    examples,
    freeze,
    outcome_of,
    playing,
    run,
    shipment_of,
    simulation,
)

TENANT = "beta"
DEADLINE = 1.0
"""Seconds one call may take, waits included: short, since hangs really hang."""
SLACK = 1.0
"""Seconds past the deadline a call may end: closing connections, thread scheduling (on a
loaded 2-core machine running the suite in two processes, half a second was seen to be
too little; a client that ignores its deadline overruns by far more)."""
TIMEOUT = httpx.Timeout(connect=0.5, read=0.3, write=0.5, pool=0.5)


class Swappable:
    """An ASGI app that forwards to whichever app the current example set."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.lifespan_app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        target = self.lifespan_app if scope["type"] == "lifespan" else self.app
        await target(scope, receive, send)


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[Swappable, str]]:
    front = Swappable(create_app(simulation([])))
    with ServerThread(front) as running:
        yield front, running.url


@pytest.mark.parametrize("carrier", CARRIERS)
@settings(
    max_examples=examples(0.1, floor=3),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_connection_faults_end_in_the_truth_or_a_client_error(
    server: tuple[Swappable, str], carrier: str, data: st.DataObject
) -> None:
    front, url = server
    scenario = data.draw(scenarios(max_events=6), label="scenario")
    number = data.draw(tracking_numbers(carrier), label="number")
    offset = data.draw(clock_points(scenario), label="offset")
    kinds = SOCKET_FAULTS
    aimed = aimed_faults(carrier=carrier, tenant=TENANT, number=number, kinds=kinds)
    noise = HTTP_FAULTS + DATA_FAULTS
    plan = data.draw(
        st.tuples(
            st.lists(aimed, min_size=1, max_size=2),
            fault_plans(kinds=noise, numbers_pool=(number,), max_faults=1),
        ).map(lambda ab: ab[0] + ab[1]),
        label="plan",
    )
    sim = simulation([playing(scenario, carrier, number)], faults=plan)
    shipment = shipment_of(sim, carrier, number)
    now = freeze(sim, shipment, offset, TENANT)
    exp = exposure(plan, carrier, number, TENANT, now - EPOCH.timestamp())
    front.app = create_app(sim)
    policy = RetryPolicy(deadline=DEADLINE, initial_backoff=0.01, max_backoff=0.05)

    async def main() -> object:
        async with client(base_url=url, tenant=TENANT, retry=policy, timeout=TIMEOUT) as tracker:
            return await outcome_of(tracker, carrier, number)

    started = time.perf_counter()
    outcome = run(main)
    elapsed = time.perf_counter() - started
    event(f"outcome: {type(outcome).__name__}")
    problems = robustness_problems(carrier, shipment, now, exp, outcome)  # type: ignore[arg-type]
    if elapsed > DEADLINE + SLACK:
        problems.append(f"took {elapsed:.2f} s, deadline {DEADLINE} s")
    assert not problems, "\n".join(
        [
            *problems,
            f"exposure: {exp}",
            "client:",
            describe(outcome),  # type: ignore[arg-type]
            "truth:",
            truth_text(carrier, shipment.visible(now)),
        ]
    )
