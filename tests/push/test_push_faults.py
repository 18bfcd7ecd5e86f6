"""Push faults over real sockets: each mode does to deliveries what it says, and only to them."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from client.errors import InvalidSignature
from client.push import verify_and_parse
from simulator.webhook_recorder import WebhookServer
from tests.push.helpers import (
    advance,
    authentic,
    client_secret,
    event_count,
    subscribed_shipment,
    wait_attempts,
)


def _fault(client: httpx.Client, tenant: str, **fault: Any) -> None:
    r = client.post("/__admin/faults", params={"tenant": tenant}, json={"kind": "push", **fault})
    assert r.status_code == 201, r.text


def _labels(record: str) -> list[str]:
    events = json.loads(json.loads(record)["payload"])["trackingEvents"]
    return [e["eventType"] for e in events]


def test_duplicated_sends_the_same_push_twice(
    client: httpx.Client, receiver: WebhookServer
) -> None:
    tenant, sub = subscribed_shipment(client, receiver, "usps")
    _fault(client, tenant, mode="duplicated", match={"endpoint": "push"}, when={"first": 1})
    advance(client, tenant, "7h")
    got = sub.inbox.wait_for(3, timeout=5, path="/usps")
    assert got[0].body == got[1].body and got[0].body != got[2].body
    assert all(authentic(sub, d) for d in got)


def test_reordered_sends_a_push_after_the_next_one(
    client: httpx.Client, receiver: WebhookServer
) -> None:
    tenant, sub = subscribed_shipment(client, receiver, "fedex")
    _fault(client, tenant, mode="reordered", when={"first": 1})
    advance(client, tenant, "7h")
    got = sub.inbox.wait_for(2, timeout=5, path="/fedex")
    assert [event_count("fedex", d) for d in got] == [2, 1]


def test_delayed_sends_later_on_the_tenants_clock(
    client: httpx.Client, receiver: WebhookServer
) -> None:
    tenant, sub = subscribed_shipment(client, receiver, "ups")
    _fault(client, tenant, mode="delayed", delay="30m", when={"first": 1})
    advance(client, tenant, "1h")
    time.sleep(0.2)
    assert sub.inbox.deliveries == []
    advance(client, tenant, "30m")
    sub.inbox.wait_for(1, timeout=5, path="/ups")
    (attempt,) = wait_attempts(client, tenant, 1)
    assert attempt["faults"] == ["delayed"]


def test_wrong_signature_is_refused_by_the_receiver(
    client: httpx.Client, receiver: WebhookServer
) -> None:
    tenant, sub = subscribed_shipment(client, receiver, "dhl")
    _fault(client, tenant, mode="wrong_signature", when={"first": 1})
    advance(client, tenant, "7h")
    bad, good = sub.inbox.wait_for(2, timeout=5, path="/dhl")
    assert not authentic(sub, bad) and authentic(sub, good)
    with pytest.raises(InvalidSignature):
        verify_and_parse("dhl", bad.headers, bad.body, client_secret(sub))


@pytest.mark.parametrize("carrier", ["fedex", "usps"])
def test_wrong_signature_spoils_the_hmac(
    client: httpx.Client, receiver: WebhookServer, carrier: str
) -> None:
    tenant, sub = subscribed_shipment(client, receiver, carrier)
    _fault(client, tenant, mode="wrong_signature", when={"first": 1})
    advance(client, tenant, "1h")
    (bad,) = sub.inbox.wait_for(1, timeout=5, path=f"/{carrier}")
    with pytest.raises(InvalidSignature):
        verify_and_parse(carrier, bad.headers, bad.body, client_secret(sub))


def test_stale_body_carries_the_previous_state(
    client: httpx.Client, receiver: WebhookServer
) -> None:
    tenant, sub = subscribed_shipment(client, receiver, "usps")
    _fault(client, tenant, mode="stale_body", when={"sequence": [False, True]})
    advance(client, tenant, "7h")
    first, second = sub.inbox.wait_for(2, timeout=5, path="/usps")
    # The pickup's push shows only the label scan: a genuine, signed push of old news.
    assert _labels(second.body.decode()) == _labels(first.body.decode())
    assert len(_labels(first.body.decode())) == 1
    assert authentic(sub, second)
    attempts = wait_attempts(client, tenant, 2)
    assert [(a["event_index"], a["faults"]) for a in attempts] == [(0, []), (1, ["stale_body"])]


def test_dropped_never_sends_and_says_so(client: httpx.Client, receiver: WebhookServer) -> None:
    tenant, sub = subscribed_shipment(client, receiver, "usps")
    _fault(client, tenant, mode="dropped", when={"first": 1})
    advance(client, tenant, "7h")
    (only,) = sub.inbox.wait_for(1, timeout=5, path="/usps")
    attempts = wait_attempts(client, tenant, 2)
    assert [(a["event_index"], a["outcome"], a["status"]) for a in attempts] == [
        (0, "dropped_by_fault", None),
        (1, "delivered", 200),
    ]
    assert event_count("usps", only) == 2


def test_push_faults_leave_tracking_alone(client: httpx.Client, receiver: WebhookServer) -> None:
    tenant, sub = subscribed_shipment(client, receiver, "dhl")
    _fault(client, tenant, mode="dropped")
    advance(client, tenant, "7h")
    r = client.get("/track/shipments", params={"trackingNumber": sub.number},
                   headers={"DHL-API-Key": tenant})  # fmt: skip
    assert r.status_code == 200 and len(r.json()["shipments"][0]["events"]) == 2
    events = wait_attempts(client, tenant, 2, kind="event")
    assert [a["outcome"] for a in events] == ["dropped_by_fault"] * 2
