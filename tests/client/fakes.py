"""A MockTransport stand-in for the four carriers' token endpoints and auth checks.

Token answers, 401 envelopes and paths follow carrier-specs/NOTES.md (§1.2/§1.6 UPS,
§2.2/§2.6 FedEx, §3.2/§3.6 USPS, §4.2 DHL). Tracking answers come from the test.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from client import CarrierSettings, RetryPolicy, TrackingClient
from client.api import AsyncTrackingClient

BASE = "https://carrier.test"

TOKEN_PATHS = {
    "/security/v1/oauth/token": "ups",
    "/oauth/token": "fedex",
    "/oauth2/v3/token": "usps",
}

UNAUTHORIZED: dict[str, Any] = {
    "ups": {
        "response": {
            "errors": [{"code": "250002", "message": "Invalid Authentication Information."}]
        }
    },
    "fedex": {
        "transactionId": "624deea6-b709-470c-8c39-4b5511281492",
        "errors": [
            {
                "code": "NOT.AUTHORIZED.ERROR",
                "message": "Access token expired. Please modify your request and try again.",
            }
        ],
    },
    "usps": {
        "apiVersion": "/tracking/v3",
        "error": {
            "code": "401",
            "message": "The client application identifier is invalid.",
            "errors": [],
        },
    },
    "dhl": {"status": 401, "title": "Unauthorized", "detail": "Unauthorized for given resource."},
}


def carrier_of(path: str) -> str:
    """Which carrier a tracking path belongs to."""
    if path.startswith("/api/track/"):
        return "ups"
    if path.startswith("/track/v1/"):
        return "fedex"
    if path.startswith("/tracking/"):
        return "usps"
    if path.startswith("/track/shipments"):
        return "dhl"
    raise AssertionError(f"unexpected path {path}")


def respond(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    """A JSON response (a str body is sent as is)."""
    content = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    return httpx.Response(
        status, content=content, headers={"content-type": "application/json", **(headers or {})}
    )


def token_body(carrier: str, token: str, expires_in: int) -> dict[str, Any]:
    """The token endpoint's 200 body in each carrier's own types."""
    if carrier == "ups":  # every value a string (NOTES §1.2)
        return {
            "token_type": "Bearer",
            "issued_at": "1685542319575",
            "client_id": "id",
            "access_token": token,
            "scope": "",
            "expires_in": str(expires_in),
            "refresh_count": "0",
            "status": "approved",
        }
    if carrier == "fedex":
        return {
            "access_token": token,
            "token_type": "bearer",
            "expires_in": expires_in,
            "scope": "CXS-TP",
        }
    return {
        "access_token": token,
        "token_type": "Bearer",
        "issued_at": 1685542319575,
        "expires_in": expires_in,
        "status": "approved",
        "scope": "tracking",
        "issuer": "api.usps.com",
    }


Handler = Callable[[httpx.Request], httpx.Response]


class FakeCarriers:
    """Serves tokens, checks credentials, and hands tracking requests to ``track``."""

    def __init__(self, track: Handler, *, expires_in: int = 3600) -> None:
        self.track = track
        self.expires_in = expires_in
        self.requests: list[httpx.Request] = []
        self.tokens_issued: list[str] = []
        self.valid: set[str] = set()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if path in TOKEN_PATHS:
            token = f"token-{len(self.tokens_issued) + 1}"
            self.tokens_issued.append(token)
            self.valid.add(token)
            return respond(200, token_body(TOKEN_PATHS[path], token, self.expires_in))
        carrier = carrier_of(path)
        if carrier == "dhl":
            if request.headers.get("DHL-API-Key") != "dhl-key":
                return respond(401, UNAUTHORIZED["dhl"])
        else:
            bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
            if bearer not in self.valid:
                return respond(401, UNAUTHORIZED[carrier])
        return self.track(request)

    def tracking_requests(self) -> list[httpx.Request]:
        """The requests that were not token requests."""
        return [r for r in self.requests if r.url.path not in TOKEN_PATHS]

    def revoke(self) -> None:
        """Invalidate every token issued so far (the carrier forgot them)."""
        self.valid.clear()


CREDS = CarrierSettings(client_id="id", client_secret="secret")
DHL = CarrierSettings(api_key="dhl-key")


def client_for(handler: Handler, **overrides: Any) -> TrackingClient:
    """A TrackingClient on a MockTransport, with credentials and a no-wait retry policy."""
    options: dict[str, Any] = {
        "base_url": BASE,
        "ups": CREDS,
        "fedex": CREDS,
        "usps": CREDS,
        "dhl": DHL,
        "env": {},
        "retry": RetryPolicy.for_testing(),
        "transport": httpx.MockTransport(handler),
    }
    options.update(overrides)
    return TrackingClient(**options)


def async_client_for(
    handler: Callable[[httpx.Request], Any], **overrides: Any
) -> AsyncTrackingClient:
    """The async twin of :func:`client_for`."""
    options: dict[str, Any] = {
        "base_url": BASE,
        "ups": CREDS,
        "fedex": CREDS,
        "usps": CREDS,
        "dhl": DHL,
        "env": {},
        "retry": RetryPolicy.for_testing(),
        "transport": httpx.MockTransport(handler),
    }
    options.update(overrides)
    return AsyncTrackingClient(**options)
