"""Property 1, fidelity: a clean answer, read by the client, is the scenario's ground truth.

For any generated scenario, number and clock point, on every carrier: the same events in the
same order at the same instants (at the precision the carrier's format keeps), each with the
normalized status, reason and place ``ground_truth`` expects; the current status of the newest
event; delivered time and signer; no anomaly the clean answer does not explain; and NotFound
before the first event. Once for ``track`` (one number a request) and once for ``track_many``
(FedEx and USPS batch requests, UPS and DHL concurrent ones). Comparison rules:
``tests/properties/checks.py`` and ``tests/properties/ground_truth.py``.
"""

from __future__ import annotations

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from simulator.app import create_app
from simulator.scenario import CARRIERS
from simulator.strategies import clock_points, scenarios, tracking_numbers
from tests.properties.checks import describe, fidelity_problems, truth_text
from tests.properties.harness import (
    Outcome,
    client,
    examples,
    freeze,
    parcels,
    playing,
    run,
    shipment_of,
    simulation,
    track,
)


@pytest.mark.parametrize("carrier", CARRIERS)
@settings(max_examples=examples(1.0))
@given(data=st.data())
def test_client_reads_what_the_scenario_says(carrier: str, data: st.DataObject) -> None:
    scenario = data.draw(scenarios(), label="scenario")
    number = data.draw(tracking_numbers(carrier), label="number")
    offset = data.draw(clock_points(scenario), label="offset")
    sim = simulation([playing(scenario, carrier, number)])
    shipment = shipment_of(sim, carrier, number)
    now = freeze(sim, shipment, offset)
    outcome = track(sim, carrier, number)
    problems = fidelity_problems(carrier, shipment, now, outcome)
    assert not problems, "\n".join(
        [
            *problems,
            "client:",
            describe(outcome),
            "truth:",
            truth_text(carrier, shipment.visible(now)),
        ]
    )


@pytest.mark.parametrize("carrier", CARRIERS)
@settings(max_examples=examples(0.3))
@given(data=st.data())
def test_track_many_reads_every_parcel_right(carrier: str, data: st.DataObject) -> None:
    """The batch paths (FedEx ≤ 30 a POST, USPS Tracking 3.2) and the concurrent single
    calls (UPS, DHL): every parcel's result is its own ground truth, in input order."""
    chosen = data.draw(parcels(carrier), label="parcels")
    sim = simulation([playing(s, carrier, n) for s, n in chosen])
    first = shipment_of(sim, carrier, chosen[0][1])
    now = freeze(sim, first, data.draw(clock_points(first.scenario), label="offset"))
    transport = httpx.ASGITransport(app=create_app(sim))

    async def main() -> list[Outcome]:
        async with client(transport=transport) as tracker:
            return await tracker.track_many([(n, carrier) for _, n in chosen])

    outcomes = run(main)
    batch = carrier == "usps"  # more than one USPS number: the 3.2 POST
    problems = []
    for (_, number), outcome in zip(chosen, outcomes, strict=True):
        shipment = shipment_of(sim, carrier, number)
        for problem in fidelity_problems(carrier, shipment, now, outcome, batch=batch):
            problems += [f"{number}: {problem}", describe(outcome)]
    assert not problems, "\n".join(problems)
