"""Subscribing an app to each carrier's push over HTTP, and checking what arrives.

The checks compute each carrier's signature with :mod:`hmac` directly (NOTES §7), apart
from the simulator's own signing code, so a wrong signature cannot agree with itself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from client.push import DhlPushAuth, FedexPushAuth, UpsPushAuth, UspsPushAuth
from simulator.webhook_recorder import Delivery, Inbox, WebhookServer

START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
EVENTS = 10
"""Events of the scenario ``delivered-on-time``."""
CARRIERS = ["ups", "fedex", "usps", "dhl"]
_tenants = itertools.count()

USPS_SECRET = "MySecretKeyPhraseIs32BytesLength"
"""The 32-character secret of the spec's own examples."""
FEDEX_TOKEN = "fedex-security-token"
UPS_CREDENTIAL = "ups-v1-credential"
DHL_HEADER, DHL_TOKEN = "X-Hook-Token", "dhl-hook-token"
UPS_CLIENT, UPS_CLIENT_SECRET = "ups-hook-client", "ups-hook-secret"
HOOK_TOKEN = "customer-access-token"


def token(client: httpx.Client, carrier: str, tenant: str) -> dict[str, str]:
    """The headers a tenant's tracking/subscription calls carry (after logging in)."""
    if carrier == "dhl":
        return {"DHL-API-Key": tenant}
    if carrier == "ups":
        basic = base64.b64encode(f"{tenant}:secret".encode()).decode()
        r = client.post(
            "/security/v1/oauth/token",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": f"Basic {basic}"},
        )
        extra = {"transId": "t-1", "transactionSrc": "tests"}
    elif carrier == "fedex":
        r = client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials", "client_id": tenant, "client_secret": "s"},
        )
        extra = {}
    else:
        r = client.post(
            "/oauth2/v3/token",
            json={"grant_type": "client_credentials", "client_id": tenant, "client_secret": "s"},
        )
        extra = {}
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}", **extra}


@dataclass
class Subscribed:
    """What a test needs after subscribing: the ids, and how to check a push."""

    carrier: str
    number: str
    inbox: Inbox
    id: str = ""
    secret: str = ""
    details: dict[str, Any] = field(default_factory=dict)


def subscribe(
    client: httpx.Client, carrier: str, tenant: str, number: str, inbox: Inbox, **options: Any
) -> Subscribed:
    """Subscribe ``number`` for ``tenant`` with pushes to ``inbox`` (and activate DHL's)."""
    auth = token(client, carrier, tenant)
    url = inbox.url + f"/{carrier}"
    if carrier == "ups":
        version = options.get("version", "v1")
        body: dict[str, Any] = {"locale": "en_US", "countryCode": "US",
                                "trackingNumberList": [number]}  # fmt: skip
        if version == "v1":
            body["destination"] = {"url": url, "credentialType": "Bearer",
                                   "credential": UPS_CREDENTIAL}  # fmt: skip
        else:
            inbox.respond(200, path="/token", body={"access_token": HOOK_TOKEN,
                                                    "token_type": "Bearer",
                                                    "expires_in": 3600})  # fmt: skip
            r = client.put(
                "/__admin/webhooks/ups",
                params={"tenant": tenant},
                json={"url": url, "token_url": inbox.url + "/token", "client_id": UPS_CLIENT,
                      "client_secret": UPS_CLIENT_SECRET},
            )  # fmt: skip
            assert r.status_code == 200, r.text
        r = client.post(f"/api/track/{version}/subscription/standard/package", json=body,
                        headers=auth)  # fmt: skip
        assert r.status_code == 200, r.text
        assert r.json()["validTrackingNumbers"] == [number]
        return Subscribed(carrier, number, inbox, details={"version": version})
    if carrier == "usps":
        r = client.post(
            "/subscriptions-tracking/v3r2/subscriptions",
            json={"listenerURL": url, "secret": USPS_SECRET,
                  "adminNotification": [{"email": "ops@example.com"}],
                  "filterProperties": {"trackingNumber": number}},
            headers=auth,
        )  # fmt: skip
        assert r.status_code == 201, r.text
        assert r.headers["location"].endswith(r.json()["subscriptionId"])
        return Subscribed(carrier, number, inbox, r.json()["subscriptionId"], USPS_SECRET)
    if carrier == "fedex":
        r = client.put("/__admin/webhooks/fedex", params={"tenant": tenant},
                       json={"url": url, "security_token": FEDEX_TOKEN})  # fmt: skip
        assert r.status_code == 200, r.text
        numbers = [{"trackingNumber": number}]
        r = client.post(
            "/track/v1/aiv/trackingnumbers/associations",
            headers=auth,
            json={"action": "ADD", "trackingNumbers": numbers},
        )
        assert r.status_code == 202, r.text
        job = r.json()["output"]["jobId"]
        r = client.get(f"/track/v1/aiv/trackingnumbers/jobs/{job}/status", headers=auth)
        assert r.json()["output"]["status"] == "COMPLETED"
        return Subscribed(carrier, number, inbox, job, FEDEX_TOKEN)
    r = client.post(
        "/tracking/push/v1/subscription",
        json={"hook": {"uri": url, "authentication": {"type": "ApiKeyAuthentication",
                                                      "header": DHL_HEADER, "token": DHL_TOKEN}},
              "format": "Default", "type": "Shipment", "shipmentIDs": [number]},
        headers=auth,
    )  # fmt: skip
    assert r.status_code == 201, r.text
    sub_id = r.json()["id"]
    (activation,) = inbox.wait_for(1, timeout=10, path="/dhl")
    message = activation.json()
    assert message["self"].endswith(sub_id)
    assert activation.header(DHL_HEADER) == DHL_TOKEN
    r = client.post(f"/tracking/push/v1/subscription/{sub_id}", headers={
        **auth, "DHL-API-Hook-Secret": message["secret"]})  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "active"
    inbox.clear()
    return Subscribed(carrier, number, inbox, sub_id, message["secret"])


def _b64_hmac(key: str, message: bytes) -> str:
    return base64.b64encode(hmac.new(key.encode(), message, hashlib.sha256).digest()).decode()


def authentic(sub: Subscribed, delivery: Delivery) -> bool:
    """Whether a delivery carries the carrier's proof for this subscription (NOTES §7)."""
    if sub.carrier == "ups":
        if delivery.header("user-agent") != "UPSPubSubTrackingService":
            return False
        if sub.details["version"] == "v1":
            return delivery.header("credential") == UPS_CREDENTIAL
        return (
            delivery.header("authorization") == f"Bearer {HOOK_TOKEN}"
            and delivery.header("x-api-key") == UPS_CLIENT
        )
    if sub.carrier == "fedex":
        return delivery.header("fdx-signature") == _b64_hmac(FEDEX_TOKEN, delivery.body)
    if sub.carrier == "usps":
        doc = delivery.json()
        message = (doc["timestamp"] + doc["payload"]).encode()
        return delivery.header("x-hmac") == _b64_hmac(USPS_SECRET, message)
    return delivery.header(DHL_HEADER) == DHL_TOKEN


def client_secret(sub: Subscribed) -> Any:
    """The reference client's secret for this subscription (None for UPS v2, whose
    tokens come from the test's own token URL, not from a client TokenIssuer)."""
    if sub.carrier == "ups":
        return UpsPushAuth(credential=UPS_CREDENTIAL) if sub.details["version"] == "v1" else None
    if sub.carrier == "fedex":
        return FedexPushAuth(FEDEX_TOKEN)
    if sub.carrier == "usps":
        return UspsPushAuth(USPS_SECRET)
    return DhlPushAuth(DHL_HEADER, DHL_TOKEN)


def number_in(carrier: str, delivery: Delivery) -> str:
    """The tracking number a push is about, read the way each carrier writes it."""
    doc = delivery.json()
    if carrier == "ups":
        return str(doc["trackingNumber"])
    if carrier == "usps":
        return str(json.loads(doc["payload"])["trackingNumber"])
    if carrier == "fedex":
        return str(doc["output"]["completeTrackResults"][0]["trackingNumber"])
    return str(doc["shipments"][0]["id"])


def event_count(carrier: str, delivery: Delivery) -> int:
    """How many events the push's body shows (UPS sends one event a push: 1)."""
    doc = delivery.json()
    if carrier == "ups":
        return 1
    if carrier == "usps":
        return len(json.loads(doc["payload"])["trackingEvents"])
    if carrier == "fedex":
        result = doc["output"]["completeTrackResults"][0]["trackResults"][0]
        return len(result["scanEvents"])
    return len(doc["shipments"][0]["events"])


def new_tenant(carrier: str) -> str:
    return f"push-{carrier}-{next(_tenants)}"


def new_shipment(client: httpx.Client, carrier: str, tenant: str) -> str:
    """Freeze the tenant's clock and create a shipment whose first event is 1 h away."""
    r = client.post("/__admin/clock/freeze", json={"tenant": tenant})
    assert r.status_code == 200, r.text
    made = {"carrier": carrier, "scenario": "delivered-on-time", "start": "1h"}
    r = client.post("/__admin/shipments", json={"tenant": tenant, **made})
    assert r.status_code == 201, r.text
    return str(r.json()["number"])


def advance(client: httpx.Client, tenant: str, by: str) -> None:
    r = client.post("/__admin/clock/advance", json={"tenant": tenant, "by": by})
    assert r.status_code == 200, r.text


def attempts_of(client: httpx.Client, tenant: str, **filters: Any) -> list[dict[str, Any]]:
    r = client.get("/__admin/deliveries", params={"tenant": tenant, **filters})
    assert r.status_code == 200, r.text
    found: list[dict[str, Any]] = r.json()
    return found


def wait_attempts(
    client: httpx.Client, tenant: str, count: int, timeout: float = 10, **filters: Any
) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        found = attempts_of(client, tenant, **filters)
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.02)


def subscribed_shipment(
    client: httpx.Client, receiver: WebhookServer, carrier: str, **options: Any
) -> tuple[str, Subscribed]:
    tenant = new_tenant(carrier)
    number = new_shipment(client, carrier, tenant)
    inbox = receiver.inbox(tenant)
    return tenant, subscribe(client, carrier, tenant, number, inbox, **options)
