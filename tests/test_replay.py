"""Repeat requests answered ahead of routing (simulator/replay.py) never show a stale answer.

Each test first makes a request that leaves a replayable answer, checks the repeat really
is a replay (so the test cannot pass by never replaying), then changes one thing the answer
depends on and checks the next repeat shows the change.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from simulator import numbers
from simulator.engine import Simulation
from simulator.scenario import Scenario
from tests.carriers.test_ups import DETAILS, HEADERS, declared_number, login, package, track
from tests.conftest import SimFactory

DAY = 24 * 3600


@pytest.fixture
def ups(make_sim: SimFactory) -> tuple[Simulation, TestClient, str, str]:
    """A simulator whose clock is frozen mid-journey for tenant alice, a token, a number."""
    sim, client = make_sim()
    number = declared_number(sim, "delivered-on-time")
    shipment = sim.lookup("ups", number, "alice")
    assert shipment is not None
    # Between the 3rd event (8h) and the 4th (14h).
    sim.clock.freeze("alice", shipment.t0 + timedelta(hours=12))
    return sim, client, login(client, "alice"), number


def replayed(sim: Simulation, do: Any) -> Any:
    """Run a request and say whether it was answered from a kept answer."""
    before = sim.replays.hits
    response = do()
    return response, sim.replays.hits == before + 1


def activity_count(response: Any) -> int:
    assert response.status_code == 200, response.text
    return len(package(response.json())["activity"])


def test_a_repeat_is_replayed_with_the_same_bytes_and_journaled(ups: Any) -> None:
    sim, client, token, number = ups
    first = track(client, token, number)
    again, was_replay = replayed(sim, lambda: track(client, token, number))
    assert was_replay
    assert again.content == first.content
    assert again.headers["content-type"] == "application/json"
    assert int(again.headers["content-length"]) == len(first.content)
    entries = [e for e in sim.journal.snapshot() if e.endpoint == "track"]
    assert len(entries) == 2
    assert entries[1].path_params == entries[0].path_params == {"inquiryNumber": number}
    assert entries[1].carrier == "ups" and entries[1].status == 200


def test_moving_the_clock_past_the_next_event_shows_it(ups: Any) -> None:
    sim, client, token, number = ups
    assert activity_count(track(client, token, number)) == 3
    sim.clock.advance("alice", timedelta(hours=1))  # 13h: still 3 events
    response, was_replay = replayed(sim, lambda: track(client, token, number))
    assert was_replay and activity_count(response) == 3
    sim.clock.advance("alice", timedelta(hours=1))  # 14h: the 4th event is due
    response, was_replay = replayed(sim, lambda: track(client, token, number))
    assert not was_replay and activity_count(response) == 4


def test_an_expired_token_is_refused_even_where_the_answer_would_hold(ups: Any) -> None:
    sim, client, token, number = ups
    shipment = sim.lookup("ups", number, "alice")
    # Delivered: the answer holds forever, the token (4 h) does not.
    sim.clock.freeze("alice", shipment.t0 + timedelta(days=5))
    token = login(client, "alice")
    track(client, token, number)
    assert replayed(sim, lambda: track(client, token, number))[1]
    sim.clock.advance("alice", timedelta(hours=4))
    response, was_replay = replayed(sim, lambda: track(client, token, number))
    assert not was_replay and response.status_code == 401


def test_a_fault_added_at_run_time_applies_to_the_next_repeat(ups: Any) -> None:
    sim, client, token, number = ups
    track(client, token, number)
    assert replayed(sim, lambda: track(client, token, number))[1]
    r = client.post("/__admin/faults", json={"kind": "http_error", "status": 503})
    assert r.status_code in (200, 201), r.text
    response, was_replay = replayed(sim, lambda: track(client, token, number))
    assert not was_replay and response.status_code == 503


def test_a_scenario_reload_is_seen_by_the_next_repeat(ups: Any, bundled: list[Scenario]) -> None:
    sim, client, token, number = ups
    track(client, token, number)
    assert replayed(sim, lambda: track(client, token, number))[1]
    # The same scenario with every event after the first 5 h later: 2 are due at 12h.
    changed = [
        s.model_copy(
            update={
                "events": [
                    e.model_copy(update={"at": e.at + timedelta(hours=5)}) if i else e
                    for i, e in enumerate(s.events)
                ]
            }
        )
        if s.name == "delivered-on-time"
        else s
        for s in bundled
    ]
    sim.use_scenarios(changed)
    response, was_replay = replayed(sim, lambda: track(client, token, number))
    assert not was_replay and activity_count(response) == 2


def test_a_shipment_created_under_the_number_is_seen_by_the_next_repeat(ups: Any) -> None:
    sim, client, token, number = ups
    track(client, token, number)
    assert replayed(sim, lambda: track(client, token, number))[1]
    r = client.post(
        "/__admin/shipments",
        params={"tenant": "alice"},
        json={"carrier": "ups", "scenario": "label-created-never-shipped", "number": number},
    )
    assert r.status_code in (200, 201), r.text
    response, was_replay = replayed(sim, lambda: track(client, token, number))
    assert not was_replay and activity_count(response) == 1


def test_another_credential_never_gets_someone_elses_answer(ups: Any) -> None:
    sim, client, token, number = ups
    track(client, token, number)
    bob = login(client, "bob")  # bob's clock follows the server: a day in, more events
    response, was_replay = replayed(sim, lambda: track(client, bob, number))
    assert not was_replay and activity_count(response) > 3


def test_a_repeat_without_its_transaction_headers_is_refused(ups: Any) -> None:
    sim, client, token, number = ups
    track(client, token, number)
    headers = {"transactionSrc": HEADERS["transactionSrc"], "Authorization": f"Bearer {token}"}
    response, was_replay = replayed(sim, lambda: client.get(DETAILS + number, headers=headers))
    assert not was_replay and response.status_code == 400


def test_a_token_from_another_tenant_prefix_is_refused(ups: Any) -> None:
    sim, client, token, number = ups
    assert track(client, token, number).status_code == 200
    prefixed = "/t/bob" + DETAILS + number
    headers = {**HEADERS, "Authorization": f"Bearer {token}"}
    response, was_replay = replayed(sim, lambda: client.get(prefixed, headers=headers))
    assert not was_replay and response.status_code == 401


def test_the_table_is_bounded(make_sim: SimFactory) -> None:
    sim, client = make_sim()
    sim.replays.limit = 5
    token = login(client, "alice")
    rng = random.Random(3)
    for _ in range(12):
        assert track(client, token, numbers.generate("ups", rng)).status_code == 200
        assert len(sim.replays) <= 5


# ------------------------------------------------------------------ USPS 3.0 GET and DHL


def declared(sim: Simulation, carrier: str, name: str) -> str:
    return next(n for n, s in sim.catalog.declared[carrier].items() if s.name == name)


def usps_login(client: TestClient, tenant: str) -> dict[str, str]:
    form = {"grant_type": "client_credentials", "client_id": tenant, "client_secret": "s"}
    r = client.post("/oauth2/v3/token", data=form)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def get(client: TestClient, carrier: str, number: str, headers: dict[str, str]) -> Any:
    if carrier == "usps":
        return client.get(f"/tracking/v3/tracking/{number}?expand=DETAIL", headers=headers)
    return client.get(f"/track/shipments?trackingNumber={number}", headers=headers)


def shown(carrier: str, response: Any) -> int:
    assert response.status_code == 200, response.text
    body = response.json()
    if carrier == "usps":
        return len(body["trackingEvents"])
    return len(body["shipments"][0]["events"])


def mid_journey(make_sim: SimFactory, carrier: str) -> tuple[str, Simulation, TestClient, str, Any]:
    """(carrier, sim, client, number, headers for tenant alice) with alice's clock frozen
    12 h into delivered-on-time (3 events shown)."""
    sim, client = make_sim()
    number = declared(sim, carrier, "delivered-on-time")
    shipment = sim.lookup(carrier, number, "alice")
    assert shipment is not None
    sim.clock.freeze("alice", shipment.t0 + timedelta(hours=12))
    headers = usps_login(client, "alice") if carrier == "usps" else {"DHL-API-Key": "alice"}
    return carrier, sim, client, number, headers


@pytest.fixture(params=["usps", "dhl"])
def other(request: Any, make_sim: SimFactory) -> tuple[str, Simulation, TestClient, str, Any]:
    """:func:`mid_journey` for each carrier answering GETs besides UPS."""
    return mid_journey(make_sim, request.param)


def test_other_carriers_replay_the_same_answer_with_the_same_headers(other: Any) -> None:
    carrier, sim, client, number, headers = other
    first = get(client, carrier, number, headers)
    again, was_replay = replayed(sim, lambda: get(client, carrier, number, headers))
    assert was_replay
    assert again.content == first.content and dict(again.headers) == dict(first.headers)
    assert shown(carrier, again) == 3
    entries = [e for e in sim.journal.snapshot() if e.endpoint == "track"]
    assert [e.carrier for e in entries] == [carrier, carrier]
    assert entries[1].path_params == entries[0].path_params


def test_other_carriers_show_the_next_event_when_it_is_due(other: Any) -> None:
    carrier, sim, client, number, headers = other
    get(client, carrier, number, headers)
    sim.clock.advance("alice", timedelta(hours=1, minutes=59))  # 13:59: still 3
    response, was_replay = replayed(sim, lambda: get(client, carrier, number, headers))
    assert was_replay and shown(carrier, response) == 3
    sim.clock.advance("alice", timedelta(minutes=1))  # 14h: the 4th event is due
    response, was_replay = replayed(sim, lambda: get(client, carrier, number, headers))
    assert not was_replay and shown(carrier, response) == 4


def test_a_usps_token_past_its_expiry_is_refused(make_sim: SimFactory) -> None:
    sim, client = make_sim()
    number = declared(sim, "usps", "delivered-on-time")
    shipment = sim.lookup("usps", number, "alice")
    assert shipment is not None
    sim.clock.freeze("alice", shipment.t0 + timedelta(days=5))  # delivered: holds forever
    headers = usps_login(client, "alice")
    get(client, "usps", number, headers)
    assert replayed(sim, lambda: get(client, "usps", number, headers))[1]
    sim.clock.advance("alice", timedelta(hours=8))  # USPS tokens live 8 h
    response, was_replay = replayed(sim, lambda: get(client, "usps", number, headers))
    assert not was_replay and response.status_code == 401


def test_a_dhl_key_naming_another_tenant_by_header_is_answered_for_that_tenant(
    make_sim: SimFactory,
) -> None:
    carrier, sim, client, number, headers = mid_journey(make_sim, "dhl")
    get(client, carrier, number, headers)
    # bob follows the server clock (a day in): more events than alice's frozen clock shows.
    elsewhere = {**headers, "X-Carriersim-Tenant": "bob"}
    response, was_replay = replayed(sim, lambda: get(client, carrier, number, elsewhere))
    assert not was_replay and shown(carrier, response) > 3
