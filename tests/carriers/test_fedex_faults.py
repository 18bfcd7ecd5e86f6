"""FedEx's fault hooks: errors in the FedEx envelope, and who/what a request is about."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from starlette.requests import Request

from simulator.carriers import fedex
from tests.conftest import SimFactory
from tests.contract.spec_validation import declared_statuses, validate


@pytest.mark.parametrize("endpoint", ["token", "track"])
@pytest.mark.parametrize("status", [400, 401, 403, 404, 429, 500, 502, 503, 504])
def test_error_response_envelope(endpoint: str, status: int) -> None:
    r = fedex.error_response(status, endpoint, None, None)
    assert r.status_code == status
    assert r.media_type == "application/json"
    assert "retry-after" not in r.headers
    body = json.loads(bytes(r.body))
    assert list(body) == ["transactionId", "errors"]
    (error,) = body["errors"]
    assert error["code"].endswith(".ERROR") or error["code"].startswith("TRACKING.")
    operation = f"fedex.{endpoint}"
    if status in declared_statuses("fedex", operation):
        validate("fedex", operation, status, body)


@pytest.mark.parametrize(
    ("status", "endpoint", "reason", "code", "message_start"),
    [
        (401, "track", None, "NOT.AUTHORIZED.ERROR", "Access token expired."),
        (401, "track", "expired", "NOT.AUTHORIZED.ERROR", "Access token expired."),
        (401, "track", "revoked", "NOT.AUTHORIZED.ERROR", "The given client credentials"),
        (401, "token", None, "NOT.AUTHORIZED.ERROR", "The given client credentials"),
        (400, "track", None, "TRACKING.TRACKINGNUMBER.EMPTY", "Please provide"),
        (403, "track", None, "FORBIDDEN.ERROR", "We could not authorize"),
        (404, "track", None, "NOT.FOUND.ERROR", "The resource you requested"),
        (500, "token", None, "INTERNAL.SERVER.ERROR", "We encountered an unexpected error"),
        (503, "track", None, "SERVICE.UNAVAILABLE.ERROR", "The service is currently"),
    ],
)
def test_error_codes_follow_the_spec_examples(
    status: int, endpoint: str, reason: str | None, code: str, message_start: str
) -> None:
    body = json.loads(bytes(fedex.error_response(status, endpoint, None, reason).body))
    assert body["errors"][0]["code"] == code
    assert body["errors"][0]["message"].startswith(message_start)


def test_rate_limit_with_retry_after() -> None:
    r = fedex.error_response(429, "track", 7, None)
    assert r.headers["retry-after"] == "7"
    assert json.loads(bytes(r.body))["errors"][0]["code"] == "TOO.MANY.REQUESTS.ERROR"


def _request(app: Any, path: str, headers: dict[str, str], body: bytes) -> Request:
    scope = {
        "type": "http",
        "method": "POST",
        "scheme": "http",
        "server": ("127.0.0.1", 80),
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "app": app,
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    return Request(scope, receive)


def test_describe_track_request(make_sim: SimFactory) -> None:
    sim, client = make_sim()
    token, _ = sim.tokens.issue(
        carrier="fedex", client_id="acme", tenant="team-a", now=sim.clock.now(), lifetime=60
    )
    payload = {
        "includeDetailedScans": True,
        "trackingInfo": [
            {"trackingNumberInfo": {"trackingNumber": "5628 5345 1102"}},
            {"trackingNumberInfo": {"trackingNumber": "ABC"}},
        ],
    }
    request = _request(
        client.app,
        fedex.TRACK_PATH,
        {"authorization": f"Bearer {token}", "content-type": "application/json"},
        json.dumps(payload).encode(),
    )
    assert asyncio.run(fedex.describe(request)) == ("team-a", ("562853451102", "ABC"))


def test_describe_token_and_broken_requests(make_sim: SimFactory) -> None:
    _, client = make_sim()
    form = {"content-type": "application/x-www-form-urlencoded"}
    login = _request(
        client.app, fedex.TOKEN_PATH, form, b"grant_type=client_credentials&client_id=acme"
    )
    assert asyncio.run(fedex.describe(login)) == ("acme", ())
    garbage = _request(
        client.app,
        "/fedex" + fedex.TRACK_PATH,
        {"authorization": "Bearer nope", "x-carriersim-tenant": "ci-1"},
        b"{",
    )
    assert asyncio.run(fedex.describe(garbage)) == ("ci-1", ())
    no_app = _request(None, fedex.TRACK_PATH, {}, b"")
    assert asyncio.run(fedex.describe(no_app)) == ("", ())
