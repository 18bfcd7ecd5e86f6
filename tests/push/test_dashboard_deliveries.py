"""The dashboard shows a tenant's push subscriptions and every delivery attempt, and its
"fire" button sends what a frozen clock has passed."""

from __future__ import annotations

import re

import httpx

from simulator.webhook_recorder import WebhookServer
from tests.push.helpers import advance, subscribed_shipment, wait_attempts


def _page(client: httpx.Client, tenant: str) -> str:
    page = client.get("/__admin/ui/tenant", params={"tenant": tenant})
    assert page.status_code == 200
    return page.text


def test_the_tenant_page_lists_subscriptions_with_their_attempts(
    client: httpx.Client, receiver: WebhookServer
) -> None:
    tenant, sub = subscribed_shipment(client, receiver, "fedex")
    sub.inbox.respond(500, times=1)
    advance(client, tenant, "1h")
    attempts = wait_attempts(client, tenant, 1)
    text = _page(client, tenant)
    [listed] = client.get("/__admin/subscriptions", params={"tenant": tenant}).json()
    section = text[text.index('id="push-h"') :]
    assert f'id="sub-{listed["id"]}"' in section
    assert f"#{attempts[0]['id']}" in section
    assert re.search(r'<td class="status">500</td><td>retry_scheduled', section)


def test_fire_pending_deliveries_from_the_dashboard(
    client: httpx.Client, receiver: WebhookServer
) -> None:
    tenant, sub = subscribed_shipment(client, receiver, "dhl")
    client.post("/__admin/clock/freeze", json={"tenant": tenant})
    sub.inbox.respond(500, times=1)
    before = len(client.get("/__admin/deliveries", params={"tenant": tenant}).json())
    advance(client, tenant, "1h")
    first = [a for a in wait_attempts(client, tenant, before + 1) if a["status"] == 500]
    assert first, "the receiver's 500 was never met"
    # DHL retries after an hour: on a frozen clock only "fire, retries too" sends it now.
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', _page(client, tenant))
    assert csrf
    fired = client.post(
        "/__admin/ui/do/fire",
        data={"tenant": tenant, "csrf_token": csrf.group(1), "all": "yes"},
    )
    assert fired.status_code in (200, 303)
    attempts = wait_attempts(client, tenant, before + 2)
    retried = [a for a in attempts if a["delivery"] == first[0]["delivery"]]
    assert [(a["retry"], a["status"]) for a in retried] == [(0, 500), (1, 200)]
