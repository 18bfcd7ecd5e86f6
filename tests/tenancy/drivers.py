"""One small client per carrier, as a third-party integration would call it, for tenancy tests.

Each driver logs in (token flows) or presents a key (DHL) and tracks one number, under an
optional path prefix (``/t/acme``, ``/t/acme/ups``, ``/ups``) and with optional extra headers,
and reads the answer into :class:`Tracked`: whether the carrier found the number and how many
scan events it shows. Answers are read the way each carrier words "not found" (UPS: 200 with
TW0001; FedEx: an error inside a 200; USPS: 400/404 envelope; DHL: 404 problem).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from starlette.testclient import TestClient

CARRIERS = ("ups", "fedex", "usps", "dhl")


@dataclass(frozen=True)
class Tracked:
    """What one tracking answer says."""

    status: int
    found: bool
    events: int
    body: Any


@dataclass(frozen=True)
class Auth:
    """Headers that authenticate tracking requests: a bearer token or a DHL key."""

    headers: Mapping[str, str]


def login(
    client: TestClient,
    carrier: str,
    credential: str,
    prefix: str = "",
    headers: Mapping[str, str] | None = None,
) -> Auth:
    """Log in as ``credential`` (token endpoint under ``prefix``); DHL just keeps the key."""
    extra = dict(headers or {})
    if carrier == "dhl":
        return Auth({"DHL-API-Key": credential, **extra})
    if carrier == "ups":
        basic = base64.b64encode(f"{credential}:s3cret".encode()).decode()
        r = client.post(
            prefix + "/security/v1/oauth/token",
            headers={"Authorization": f"Basic {basic}", **extra},
            data={"grant_type": "client_credentials"},
        )
    elif carrier == "fedex":
        r = client.post(
            prefix + "/oauth/token",
            content=f"grant_type=client_credentials&client_id={credential}&client_secret=s3cret",
            headers={"content-type": "application/x-www-form-urlencoded", **extra},
        )
    else:
        form = {"grant_type": "client_credentials", "client_id": credential, "client_secret": "s"}
        r = client.post(prefix + "/oauth2/v3/token", json=form, headers=extra)
    assert r.status_code == 200, (carrier, prefix, r.status_code, r.text)
    return Auth({"Authorization": f"Bearer {r.json()['access_token']}", **extra})


def track(
    client: TestClient,
    carrier: str,
    number: str,
    auth: Auth,
    prefix: str = "",
    headers: Mapping[str, str] | None = None,
) -> Tracked:
    """Track one number as that carrier's clients do, and read the answer."""
    h = {**auth.headers, **(headers or {})}
    if carrier == "ups":
        h.update({"transId": "tenancy-1", "transactionSrc": "tests"})
        r = client.get(prefix + "/api/track/v1/details/" + number, headers=h)
        if r.status_code != 200:
            return Tracked(r.status_code, False, 0, r.json())
        shipment = r.json()["trackResponse"]["shipment"][0]
        if "warnings" in shipment:
            return Tracked(200, False, 0, r.json())
        return Tracked(200, True, len(shipment["package"][0]["activity"]), r.json())
    if carrier == "fedex":
        body = {
            "includeDetailedScans": True,
            "trackingInfo": [{"trackingNumberInfo": {"trackingNumber": number}}],
        }
        r = client.post(prefix + "/track/v1/trackingnumbers", json=body, headers=h)
        if r.status_code != 200:
            return Tracked(r.status_code, False, 0, r.json())
        result = r.json()["output"]["completeTrackResults"][0]["trackResults"][0]
        if "error" in result:
            return Tracked(200, False, 0, r.json())
        return Tracked(200, True, len(result["scanEvents"]), r.json())
    if carrier == "usps":
        r = client.get(
            prefix + "/tracking/v3/tracking/" + number, params={"expand": "DETAIL"}, headers=h
        )
        if r.status_code != 200:
            return Tracked(r.status_code, False, 0, r.json())
        return Tracked(200, True, len(r.json()["trackingEvents"]), r.json())
    r = client.get(prefix + "/track/shipments", params={"trackingNumber": number}, headers=h)
    if r.status_code != 200:
        return Tracked(r.status_code, False, 0, r.json())
    return Tracked(200, True, len(r.json()["shipments"][0]["events"]), r.json())


def unauthorized(carrier: str, tracked: Tracked) -> bool:
    """Whether the answer is the carrier's own refusal of the token (or key)."""
    if tracked.status != 401:
        return False
    body = tracked.body
    if carrier == "ups":
        return bool(body["response"]["errors"][0]["code"] == "250002")
    if carrier == "fedex":
        return bool(body["errors"][0]["code"] == "NOT.AUTHORIZED.ERROR")
    if carrier == "usps":
        return bool(body["error"]["code"] == "401")
    return bool(body["status"] == 401)


def refusal_text(carrier: str, tracked: Tracked) -> str:
    """The words of a token refusal, wherever the carrier's envelope keeps them."""
    body = tracked.body
    if carrier == "ups":
        return str(body["response"]["errors"][0]["message"])
    if carrier == "fedex":
        return str(body["errors"][0]["message"])
    return " ".join(str(e.get("detail", "")) for e in body["error"]["errors"])


def create(client: TestClient, tenant: str, carrier: str, scenario: str, **extra: Any) -> str:
    """Create a shipment through the admin API; its fresh number."""
    body = {"tenant": tenant, "carrier": carrier, "scenario": scenario, **extra}
    r = client.post("/__admin/shipments", json=body)
    assert r.status_code == 201, r.text
    number: str = r.json()["number"]
    return number
