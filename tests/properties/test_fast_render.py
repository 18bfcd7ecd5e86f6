"""The UPS cold path's byte templates give the reference renderer's bytes exactly."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from simulator import numbers
from simulator.app import build
from simulator.carriers.common import dumps
from simulator.carriers.ups import fast
from simulator.carriers.ups.render import Options, render
from simulator.engine import Simulation
from simulator.settings import Settings
from simulator.timeline import Shipment

_SIM: Simulation = build(Settings()).state.sim
_SCENARIOS = sorted(
    (s for s in _SIM.catalog.scenarios.values() if "ups" in s.carriers and s.events),
    key=lambda s: s.name,
)


@settings(max_examples=300, deadline=None)
@given(
    scenario=st.sampled_from(_SCENARIOS),
    variant=st.integers(0, 63),
    seed=st.integers(0, 2**32),
    # Any instant from 1971 to 2099, whole seconds (fractional starts take the reference).
    t0=st.integers(31_536_000, 4_070_908_800),
    data=st.data(),
)
def test_fast_bytes_equal_reference(
    scenario: object, variant: int, seed: int, t0: int, data: st.DataObject
) -> None:
    v = _SIM.catalog.variant(scenario, variant)  # type: ignore[arg-type]
    number = numbers.generate("ups", random.Random(seed))
    shipment = Shipment(v, "ups", number, datetime.fromtimestamp(t0, UTC))
    count = data.draw(st.integers(1, len(v.offsets)))
    fast_body = fast.render_bytes(shipment, count)
    assert fast_body is not None
    assert fast_body == dumps(render(shipment, count, Options()))


def test_fractional_start_takes_the_reference() -> None:
    v = _SIM.catalog.variant(_SCENARIOS[0], 0)
    shipment = Shipment(v, "ups", "1Z999AA10123456784", datetime.fromtimestamp(1.5e9 + 0.5, UTC))
    assert fast.render_bytes(shipment, 1) is None
