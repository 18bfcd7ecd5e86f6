"""Property: for any scenario and carrier, the state the reference client folds from every
push equals what tracking the number says at the same instant, with and without duplicated
and reordered deliveries.

The simulator schedules, renders and signs the pushes (its delivery loop, over an httpx
mock transport: no sockets); the client verifies and parses each with ``client.push`` and
folds them; tracking the same number in-process at the same clock instant is the truth.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from client.errors import ReplayedPush
from client.model import TrackingResult
from client.push import (
    DhlPushAuth,
    FedexPushAuth,
    ReplayGuard,
    UpsPushAuth,
    UspsPushAuth,
    fold,
    verify_and_parse,
)
from simulator import carriers
from simulator.app import create_app
from simulator.faults import Fault
from simulator.push.dispatch import Dispatcher
from simulator.push.model import Subscription
from simulator.strategies import scenarios, tracking_numbers
from tests.properties.harness import TENANT, examples, playing, run, shipment_of, simulation, track

CREDENTIAL = "property-credential"
SECRET = "MySecretKeyPhraseIs32BytesLength"
HEADER, TOKEN = "X-Hook", "hook-token"

AUTH: dict[str, dict[str, str]] = {
    "ups": {"credential": CREDENTIAL},
    "fedex": {"security_token": SECRET},
    "usps": {"secret": SECRET},
    "dhl": {"header": HEADER, "token": TOKEN},
}
DATA: dict[str, dict[str, Any]] = {
    "ups": {"version": "v1", "type": "standard"},
    "fedex": {"jobs": {}},
    "usps": {
        "filterProperties": {"trackingEventTypes": ["ALL_UPDATES", "PACKAGE_DELAYED"]},
        "adminNotification": [],
    },
    "dhl": {
        "type": "Shipment",
        "events": ["Pre-Transit", "Transit", "Delivered", "Failure", "Unknown"],
    },
}
SECRETS: dict[str, Any] = {
    "ups": UpsPushAuth(credential=CREDENTIAL),
    "fedex": FedexPushAuth(SECRET),
    "usps": UspsPushAuth(SECRET),
    "dhl": DhlPushAuth(HEADER, TOKEN),
}


def _view(result: TrackingResult) -> tuple[object, ...]:
    """What both must agree on: the current status and every event (wall-clock time at the
    event's place, status). Wall-clock time, because USPS Tracking 3.0 gives no offset for
    some scans (the client then reads them as UTC) while the 3.2 record in a push does."""
    events = sorted({(e.time.replace(tzinfo=None), e.status.value) for e in result.events})
    return result.status.value, tuple(events)


@st.composite
def push_faults(draw: st.DrawFn) -> list[Fault]:
    """None, or duplicated and/or reordered deliveries for some pushes."""
    chosen = draw(st.sets(st.sampled_from(["duplicated", "reordered"])))
    return [
        Fault.model_validate(
            {
                "kind": "push",
                "mode": mode,
                "when": {"probability": draw(st.sampled_from([0.3, 1.0]))},
            }
        )
        for mode in sorted(chosen)
    ]


@settings(max_examples=examples(0.5), deadline=None)
@given(
    carrier=st.sampled_from(list(carriers.CARRIERS)),
    data=st.data(),
    scenario=scenarios(),
    faults=push_faults(),
    looks=st.lists(st.floats(0.0, 1.2), min_size=1, max_size=4),
)
def test_folded_pushes_equal_tracking_at_the_same_instant(
    carrier: str, data: st.DataObject, scenario: Any, faults: list[Fault], looks: list[float]
) -> None:
    assume(scenario.found and scenario.events)
    number = data.draw(tracking_numbers(carrier))
    sim = simulation([playing(scenario, carrier, number)], faults=faults)
    create_app(sim)
    received: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        received.append(request)
        return httpx.Response(200)

    profiles = {name: c.push for name, c in carriers.CARRIERS.items()}
    dispatcher = Dispatcher(sim, profiles, transport=httpx.MockTransport(answer))
    sim.dispatcher = dispatcher
    shipment = shipment_of(sim, carrier, number)
    sim.clock.freeze(TENANT, at=shipment.t0 - timedelta(seconds=1))
    sub = Subscription(
        id="property", tenant=TENANT, carrier=carrier, numbers=(number,),
        url="http://receiver.test/hook", auth=dict(AUTH[carrier]), status="active",
        created=sim.clock.now(TENANT), data=dict(DATA[carrier]),
    )  # fmt: skip
    dispatcher.subscribe(sub)
    span = scenario.events[-1].at.total_seconds()
    guard = ReplayGuard(window=None)
    updates = []

    async def deliver_until(offset: float) -> None:
        sim.clock.freeze(TENANT, at=shipment.t0 + timedelta(seconds=offset))
        await dispatcher.fire(TENANT)

    for share in sorted(looks):
        run(lambda share=share: deliver_until(span * share))  # type: ignore[misc]
        for request in received:
            try:
                delivery = verify_and_parse(
                    carrier, request.headers, request.content, SECRETS[carrier], replay=guard
                )
            except ReplayedPush:
                continue  # a resend the receiver already has
            updates.extend(delivery.updates)
        received.clear()
        truth = track(sim, carrier, number)
        folded = fold(updates).get(number)
        if not isinstance(truth, TrackingResult):  # nothing visible yet: nothing pushed
            assert folded is None
            continue
        assert folded is not None, "tracking shows events no push brought"
        assert _view(folded) == _view(truth)
    run(dispatcher.stop)
