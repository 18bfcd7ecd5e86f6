"""Property 5: a state machine interleaving clock moves, tracking, and adding and clearing
faults, over several parcels and two tenants on one simulator.

Tenant ``alpha`` is the one faults are aimed at (every fault added names it); tenant
``beta`` shares the server and must never notice: every answer it gets is the exact ground
truth of property 1 — no event before its time, none missing after it — whatever faults,
counters and clock moves ``alpha`` has. ``alpha``'s answers must pass property 2.

The machine keeps one client per tenant for the whole run, on an event loop of its own, so
token caching and renewal (clock jumps expire the simulator's tokens) are exercised along
the way.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
)

from client import AsyncTrackingClient, RetryPolicy
from simulator.app import create_app
from simulator.engine import Simulation
from simulator.scenario import CARRIERS
from simulator.strategies import (
    IN_PROCESS_FAULTS,
    aimed_faults,
    clock_points,
    scenarios,
    tracking_numbers,
)
from tests.properties.checks import describe, fidelity_problems, truth_text
from tests.properties.faulted import exposure, robustness_problems
from tests.properties.harness import EPOCH, client, examples, outcome_of, shipment_of, simulation

FAULTED, BYSTANDER = "alpha", "beta"
TENANTS = (FAULTED, BYSTANDER)
DEADLINE = 30.0


class TrackingMachine(RuleBasedStateMachine):
    """Parcels on several carriers; two tenants; faults for one of them."""

    def __init__(self) -> None:
        super().__init__()
        self.sim: Simulation | None = None
        self.loop = asyncio.new_event_loop()
        self.clients: dict[str, AsyncTrackingClient] = {}
        self.policies: dict[str, RetryPolicy] = {}
        self.parcels: list[tuple[str, str]] = []
        self.tracked = 0

    @initialize(data=st.data())
    def build(self, data: st.DataObject) -> None:
        chosen = data.draw(
            st.lists(st.sampled_from(CARRIERS), min_size=1, max_size=4, unique=True),
            label="carriers",
        )
        plays = []
        for i, carrier in enumerate(chosen):
            scenario = data.draw(scenarios(), label=f"scenario {carrier}")
            number = data.draw(tracking_numbers(carrier), label=f"number {carrier}")
            update = {"name": f"machine-{i}", "numbers": {carrier: (number,)}}
            plays.append(scenario.model_copy(update=update))
            self.parcels.append((carrier, number))
        self.sim = simulation(plays)
        transport = httpx.ASGITransport(app=create_app(self.sim))
        for tenant in TENANTS:
            self.sim.clock.freeze(tenant, at=EPOCH)
            self.policies[tenant] = policy = RetryPolicy.for_testing(deadline=DEADLINE)
            self.clients[tenant] = client(transport=transport, tenant=tenant, retry=policy)

    @property
    def simulation(self) -> Simulation:
        assert self.sim is not None
        return self.sim

    def _parcel(self, data: st.DataObject) -> tuple[str, str]:
        return data.draw(st.sampled_from(self.parcels), label="parcel")

    @rule(tenant=st.sampled_from(TENANTS), data=st.data())
    def move_clock(self, tenant: str, data: st.DataObject) -> None:
        """Freeze a tenant's clock somewhere interesting for one parcel (back or forth)."""
        carrier, number = self._parcel(data)
        shipment = shipment_of(self.simulation, carrier, number)
        offset = data.draw(clock_points(shipment.scenario), label="offset")
        self.simulation.clock.freeze(tenant, at=shipment.t0 + offset)

    @rule(data=st.data())
    def add_fault(self, data: st.DataObject) -> None:
        """A fault of any in-process kind, aimed at the faulted tenant only."""
        carrier, number = self._parcel(data)
        fault = data.draw(
            aimed_faults(carrier=carrier, tenant=FAULTED, number=number, kinds=IN_PROCESS_FAULTS),
            label="fault",
        )
        match = fault.match.model_copy(update={"tenant": FAULTED})
        self.simulation.faults.add(fault.model_copy(update={"match": match}))

    @rule()
    def clear_faults(self) -> None:
        """Remove every fault and forget the counters."""
        self.simulation.faults.clear()

    @rule(tenant=st.sampled_from(TENANTS), data=st.data())
    def track(self, tenant: str, data: st.DataObject) -> None:
        """Track one parcel as one tenant and hold the answer to the ground truth."""
        carrier, number = self._parcel(data)
        sim = self.simulation
        shipment = shipment_of(sim, carrier, number)
        now = sim.clock.now(tenant)
        exp = exposure(sim.faults.plan, carrier, number, tenant, now - EPOCH.timestamp())
        policy = self.policies[tenant]
        started = policy.clock.monotonic()
        outcome: Any = self.loop.run_until_complete(
            outcome_of(self.clients[tenant], carrier, number)
        )
        self.tracked += 1
        event(f"{tenant}: {type(outcome).__name__}{'' if exp.clean else ' under faults'}")
        if tenant == BYSTANDER:
            assert exp.clean, f"a fault reaches {BYSTANDER}: {sim.faults.plan}"
            problems = fidelity_problems(carrier, shipment, now, outcome)
        else:
            problems = robustness_problems(carrier, shipment, now, exp, outcome)
        waited = policy.clock.monotonic() - started
        if waited > DEADLINE:
            problems.append(f"the call waited {waited:.1f} s, deadline {DEADLINE} s")
        assert not problems, "\n".join(
            [
                *problems,
                f"tenant {tenant}, faults: {sim.faults.plan}",
                "client:",
                describe(outcome),
                "truth:",
                truth_text(carrier, shipment.visible(now)),
            ]
        )

    @invariant()
    def faults_name_the_faulted_tenant(self) -> None:
        """Every fault in force is scoped to the faulted tenant (the isolation under test)."""
        if self.sim is not None:
            assert all(f.match.tenant == FAULTED for f in self.sim.faults.plan)

    def teardown(self) -> None:
        for tracker in self.clients.values():
            self.loop.run_until_complete(tracker.aclose())
        self.loop.close()


TrackingMachine.TestCase.settings = settings(
    max_examples=examples(0.5, floor=3), stateful_step_count=30, deadline=None
)
test_tracking_machine = TrackingMachine.TestCase
