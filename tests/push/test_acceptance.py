"""Push end to end over real sockets: the simulator under uvicorn, a real receiver server.

Each test subscribes through the carrier's own API, moves its tenant's clock, and reads
what the receiver got: bodies, signatures, order, retries, suspension, the missed queue.
"""

from __future__ import annotations

import base64
import itertools
import time
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from client.push import ReplayGuard, verify_and_parse
from simulator.webhook_recorder import WebhookServer
from tests.contract.push_validation import validate_push
from tests.push.helpers import (
    CARRIERS,
    EVENTS,
    UPS_CLIENT,
    UPS_CLIENT_SECRET,
    advance,
    attempts_of,
    authentic,
    client_secret,
    event_count,
    number_in,
    subscribed_shipment,
    token,
    wait_attempts,
)
from tests.push_bodies import UPS_V1, UPS_V2

CASES = [("ups", {"version": "v1"}), ("ups", {"version": "v2"}), ("fedex", {}),
         ("usps", {}), ("dhl", {})]  # fmt: skip


@pytest.mark.parametrize(("carrier", "options"), CASES, ids=["ups-v1", "ups-v2", "fedex",
                                                             "usps", "dhl"])  # fmt: skip
def test_a_clock_jump_delivers_every_passed_event_signed_and_in_order(
    client: httpx.Client, receiver: WebhookServer, carrier: str, options: dict[str, Any]
) -> None:
    tenant, sub = subscribed_shipment(client, receiver, carrier, **options)
    assert sub.inbox.deliveries == []  # nothing had happened yet
    advance(client, tenant, "3d")
    got = sub.inbox.wait_for(EVENTS, timeout=10, path=f"/{carrier}")
    assert all(d.method == "POST" for d in got)
    assert all(authentic(sub, d) for d in got), [d.header_map for d in got]
    assert {number_in(carrier, d) for d in got} == {sub.number}
    for d in got:  # the official schemas (FedEx, DHL: the Track API answer they follow)
        validate_push(carrier, d.json(), spec=UPS_V1 if options.get("version") == "v1" else UPS_V2)
    secret = client_secret(sub)
    if secret is not None:  # and the reference client's receiver accepts every one
        guard = ReplayGuard(window=None)  # USPS timestamps are on the simulated clock
        updates = [verify_and_parse(carrier, d.headers, d.body, secret, replay=guard) for d in got]
        assert all(u.updates[0].number == sub.number for u in updates)
    if carrier == "ups":
        codes = [d.json()["activityStatus"]["descriptionCode"] for d in got]
        assert codes[0] == "003" and codes[-1] == "011"  # label created .. delivered
    else:
        assert [event_count(carrier, d) for d in got] == list(range(1, EVENTS + 1))
    # Nothing more: every event once.
    time.sleep(0.1)
    assert len([d for d in sub.inbox.deliveries if d.path == f"/{carrier}"]) == EVENTS
    if options.get("version") == "v2":
        # UPS logged in to the customer's token URL once, with client_secret_basic.
        (login,) = [d for d in sub.inbox.deliveries if d.path == "/token"]
        basic = base64.b64encode(f"{UPS_CLIENT}:{UPS_CLIENT_SECRET}".encode()).decode()
        assert login.header("authorization") == f"Basic {basic}"
        assert login.body == b"grant_type=client_credentials"


@pytest.mark.parametrize("carrier", CARRIERS)
def test_deliveries_fire_in_real_time_as_a_fast_clock_passes_each_event(
    client: httpx.Client, receiver: WebhookServer, carrier: str
) -> None:
    tenant, sub = subscribed_shipment(client, receiver, carrier)
    # 1 h of simulated time a second real time: the label (1 h away) after about 1 s,
    # the pickup (7 h away) after about 7 s; after 1.5 s only the first is due.
    r = client.post("/__admin/clock/run", json={"tenant": tenant, "rate": 3600})
    assert r.status_code == 200, r.text
    (first,) = sub.inbox.wait_for(1, timeout=5, path=f"/{carrier}")
    assert authentic(sub, first)
    time.sleep(0.5)
    assert len(sub.inbox.deliveries) == 1
    client.post("/__admin/clock/freeze", json={"tenant": tenant})


def test_a_frozen_clock_fires_on_demand(client: httpx.Client, receiver: WebhookServer) -> None:
    tenant, sub = subscribed_shipment(client, receiver, "usps")
    r = client.post("/__admin/clock/set", json={"tenant": tenant, "at": "2026-03-02T22:30:00Z"})
    assert r.status_code == 200
    r = client.post("/__admin/deliveries/fire", json={"tenant": tenant})
    assert r.status_code == 200, r.text
    # Label created at 16:00, picked up at 22:00: both passed, both sent by the time the
    # fire call answers (the background loop may have sent some of them already).
    sub.inbox.wait_for(2, timeout=2, path="/usps")
    done = attempts_of(client, tenant, outcome="delivered")
    assert [a["event_index"] for a in done] == [0, 1]
    assert all(a["status"] == 200 and a["retry"] == 0 for a in done)


def test_ups_drops_an_event_the_receiver_refuses(
    client: httpx.Client, receiver: WebhookServer
) -> None:
    tenant, sub = subscribed_shipment(client, receiver, "ups")
    sub.inbox.respond(500, times=1)
    advance(client, tenant, "7h")  # label and pickup
    sub.inbox.wait_for(2, timeout=5, path="/ups")
    attempts = wait_attempts(client, tenant, 2)
    assert [(a["event_index"], a["status"], a["outcome"]) for a in attempts] == [
        (0, 500, "dropped"),
        (1, 200, "delivered"),
    ]
    advance(client, tenant, "1d")
    time.sleep(0.2)
    # Lost for good: later events come, the refused one never again.
    assert 0 not in [a["event_index"] for a in attempts_of(client, tenant)[2:]]


def test_fedex_retries_three_times_over_15_minutes_then_keeps_the_event_for_replay(
    client: httpx.Client, receiver: WebhookServer
) -> None:
    tenant, sub = subscribed_shipment(client, receiver, "fedex")
    sub.inbox.respond(500, times=4)
    advance(client, tenant, "1h")  # the label event only
    for made in range(1, 4):
        wait_attempts(client, tenant, made)
        advance(client, tenant, "5m")
    attempts = wait_attempts(client, tenant, 4)
    assert [(a["retry"], a["status"], a["outcome"]) for a in attempts] == [
        (0, 500, "retry_scheduled"),
        (1, 500, "retry_scheduled"),
        (2, 500, "retry_scheduled"),
        (3, 500, "missed"),
    ]
    sims = [datetime.fromisoformat(a["sim_time"]) for a in attempts]
    assert [(b - a).total_seconds() for a, b in itertools.pairwise(sims)] == [300, 300, 300]
    (listed,) = client.get("/__admin/subscriptions", params={"tenant": tenant}).json()
    assert listed["missed"] == 1
    r = client.post("/__admin/deliveries/replay", json={"tenant": tenant})
    assert r.json() == {"replayed": 1}
    got = sub.inbox.wait_for(5, timeout=5, path="/fedex")
    assert got[-1].status == 200 and authentic(sub, got[-1])
    assert event_count("fedex", got[-1]) == 1


def test_usps_suspends_the_subscription_until_it_is_enabled_again(
    client: httpx.Client, receiver: WebhookServer
) -> None:
    tenant, sub = subscribed_shipment(client, receiver, "usps")
    sub.inbox.respond(500, times=1)
    advance(client, tenant, "1h")
    wait_attempts(client, tenant, 1)
    auth = token(client, "usps", tenant)
    path = f"/subscriptions-tracking/v3r2/subscriptions/{sub.id}"
    shown = client.get(path, headers=auth)
    assert shown.json()["status"] == "SUSPENDED"
    assert shown.json()["statusReason"] == "Unable to reach listener"
    advance(client, tenant, "10h")  # pickup and more: not sent while suspended
    time.sleep(0.2)
    assert len(sub.inbox.deliveries) == 1
    auth = token(client, "usps", tenant)  # the first one expired on the tenant's clock
    r = client.put(path, json={"status": "ENABLED"}, headers=auth)
    assert r.status_code == 428
    r = client.put(path, json={"status": "ENABLED"},
                   headers={**auth, "If-Match": shown.headers["etag"]})  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "ENABLED"
    advance(client, tenant, "1d")
    got = sub.inbox.wait_for(2, timeout=5, path="/usps")
    assert got[1].status == 200 and authentic(sub, got[1])


def test_dhl_retries_after_one_hour_and_six_more_then_gives_up(
    client: httpx.Client, receiver: WebhookServer
) -> None:
    tenant, sub = subscribed_shipment(client, receiver, "dhl")
    sub.inbox.respond(503, times=10, path="/dhl")
    advance(client, tenant, "1h")
    wait_attempts(client, tenant, 2)  # the activation message, then the label event
    advance(client, tenant, "1h")  # the retry; no new event before 7 h
    wait_attempts(client, tenant, 3)
    advance(client, tenant, "4h")
    time.sleep(0.1)
    assert len(attempts_of(client, tenant)) == 3
    advance(client, tenant, "2h")  # 6 h after the second attempt (and the pickup event)
    events = wait_attempts(client, tenant, 4, kind="event")
    label = [a for a in events if a["event_index"] == 0]
    assert [(a["retry"], a["outcome"]) for a in label] == [
        (0, "retry_scheduled"),
        (1, "retry_scheduled"),
        (2, "dropped"),
    ]


def test_a_hanging_receiver_costs_the_timeout_and_never_holds_up_others(
    client: httpx.Client, receiver: WebhookServer
) -> None:
    slow_tenant, slow = subscribed_shipment(client, receiver, "fedex")
    fast_tenant, fast = subscribed_shipment(client, receiver, "usps")
    slow.inbox.hang(5, times=1)
    advance(client, slow_tenant, "1h")
    slow.inbox.wait_for(1, timeout=5, path="/fedex")  # now held by the receiver
    advance(client, fast_tenant, "1h")
    (sent,) = fast.inbox.wait_for(1, timeout=5, path="/usps")
    (hung,) = wait_attempts(client, slow_tenant, 1, timeout=5)
    assert hung["status"] is None and "timeout" in hung["error"]
    assert hung["outcome"] == "retry_scheduled"
    assert 500 <= hung["latency_ms"] < 2000  # the bounded timeout (0.5 s here), not 5 s
    # The other tenant's push went out while the hung one was still waiting.
    gave_up = datetime.fromisoformat(hung["real_time"]) + timedelta(milliseconds=hung["latency_ms"])
    assert sent.received_at < gave_up


def test_listings_are_per_tenant_bounded_and_hide_secrets(
    client: httpx.Client, receiver: WebhookServer
) -> None:
    tenant, _ = subscribed_shipment(client, receiver, "ups")
    other, _ = subscribed_shipment(client, receiver, "ups")
    advance(client, tenant, "3d")
    wait_attempts(client, tenant, EVENTS)
    assert attempts_of(client, other) == []
    limited = attempts_of(client, tenant, limit=3)
    assert [a["event_index"] for a in limited] == [7, 8, 9]
    assert all(a["headers"]["credential"] == "***" for a in limited)
    assert all("ups-v1-credential" not in str(a) for a in attempts_of(client, tenant))
    (listed,) = client.get("/__admin/subscriptions", params={"tenant": tenant}).json()
    assert listed["auth"]["credential"] == "***"
    r = client.get("/__admin/deliveries", params={"tenant": tenant, "limit": "0"})
    assert r.status_code == 400 and r.json()["error"]["field"] == "limit"
    r = client.get("/__admin/deliveries")
    assert r.status_code == 400 and r.json()["error"]["field"] == "tenant"
