"""What a carrier would have sent for a notification sign-up, on the tenant's clock."""

from __future__ import annotations

from datetime import timedelta

from simulator.engine import Simulation
from simulator.notifications import Subscription, messages
from simulator.scenario import Scenario
from simulator.settings import Settings
from tests.conftest import EPOCH

SCENARIO = Scenario.model_validate(
    {
        "name": "notify",
        "numbers": {"fedex": ["123456789012"], "usps": ["9400100000000000000006"]},
        "carriers": ["fedex", "usps"],
        "events": [
            {"at": "0h", "kind": "label_created"},
            {"at": "2h", "kind": "picked_up"},
            {"at": "1d", "kind": "exception", "reason": "weather"},
            {"at": "2d", "kind": "delivered"},
        ],
    }
)


def _shipment(carrier: str, number: str) -> object:
    sim = Simulation(Settings(clock_start=EPOCH), [SCENARIO])
    return sim.lookup(carrier, number, "t")


def _at(offset: timedelta) -> float:
    return (EPOCH + offset).timestamp()


def test_only_asked_events_after_the_sign_up_and_by_now() -> None:
    shipment = _shipment("fedex", "123456789012")
    sub = Subscription(
        "fedex", "123456789012", ("a@x.io", "b@x.io"), ("ON_DELIVERY",), _at(timedelta(hours=1))
    )
    assert messages(sub, shipment, _at(timedelta(days=1, hours=1))) == []  # type: ignore[arg-type]
    sent = messages(sub, shipment, _at(timedelta(days=3)))  # type: ignore[arg-type]
    assert [m.to for m in sent] == ["a@x.io", "b@x.io"]
    assert {m.at for m in sent} == {_at(timedelta(days=2))}
    assert all("delivered" in m.subject for m in sent)
    everything = Subscription(
        "fedex",
        "123456789012",
        ("a@x.io",),
        ("ON_EXCEPTION", "ON_DELIVERY"),
        _at(timedelta(hours=1)),
    )
    kinds = [m.subject for m in messages(everything, shipment, _at(timedelta(days=3)))]  # type: ignore[arg-type]
    assert len(kinds) == 2 and "exception" in kinds[0]


def test_usps_all_updates_and_the_letter() -> None:
    shipment = _shipment("usps", "9400100000000000000006")
    alerts = Subscription(
        "usps", "9400100000000000000006", ("a@x.io",), ("ALL_UPDATES",), _at(timedelta(0))
    )
    assert len(messages(alerts, shipment, _at(timedelta(days=3)))) == 4  # type: ignore[arg-type]
    letter = Subscription(
        "usps",
        "9400100000000000000006",
        ("a@x.io",),
        (),
        _at(timedelta(hours=3)),
        "Pat",
        "PROOF_OF_DELIVERY",
    )
    assert messages(letter, shipment, _at(timedelta(days=1))) == []  # type: ignore[arg-type]
    (sent,) = messages(letter, shipment, _at(timedelta(days=2)))  # type: ignore[arg-type]
    assert "proof of delivery" in sent.subject and sent.at == _at(timedelta(days=2))
