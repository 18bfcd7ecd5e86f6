"""Tokens: one per credential, renewed before expiry, one renewal on 401; DHL's API key."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs

import anyio
import httpx
import pytest

from client import CarrierSettings, RetryPolicy, VirtualClock
from client.errors import AuthenticationError, ConfigurationError
from tests.client import bodies as B
from tests.client.fakes import (
    TOKEN_PATHS,
    FakeCarriers,
    async_client_for,
    carrier_of,
    client_for,
    respond,
)

NUMBERS = {"ups": B.UPS_NUMBER, "fedex": B.FEDEX_DELIVERED, "usps": B.USPS_NUMBER}
OAUTH = list(NUMBERS)


def all_ok(request: httpx.Request) -> httpx.Response:
    """A delivered answer from whichever carrier is asked."""
    carrier = carrier_of(request.url.path)
    body = {
        "ups": B.ups_delivered_live,
        "fedex": B.fedex_delivered,
        "usps": B.usps_delivered,
        "dhl": B.dhl_delivered,
    }[carrier]()
    if carrier == "ups":
        # Echo the asked number, as UPS does: an answer about another number is discarded.
        package = body["trackResponse"]["shipment"][0]["package"][0]
        package["trackingNumber"] = request.url.path.rsplit("/", 1)[-1]
    return respond(200, body)


def token_requests(server: FakeCarriers) -> list[httpx.Request]:
    return [r for r in server.requests if r.url.path in TOKEN_PATHS]


@pytest.mark.parametrize("carrier", OAUTH)
def test_token_is_fetched_once_and_cached(carrier: str) -> None:
    server = FakeCarriers(all_ok)
    with client_for(server) as c:
        for _ in range(3):
            assert c.track(NUMBERS[carrier]).is_delivered
    assert len(token_requests(server)) == 1
    assert len(server.tracking_requests()) == 3


@pytest.mark.parametrize("carrier", OAUTH)
def test_token_is_renewed_before_it_expires(carrier: str) -> None:
    server = FakeCarriers(all_ok, expires_in=3600)
    clock = VirtualClock()
    with client_for(server, retry=RetryPolicy.for_testing(clock=clock)) as c:
        c.track(NUMBERS[carrier])
        clock.advance(3600 - 121)  # inside the lifetime minus the 120 s margin: reuse
        c.track(NUMBERS[carrier])
        assert len(server.tokens_issued) == 1
        clock.advance(2)  # within the margin of expiry: renew before sending
        c.track(NUMBERS[carrier])
    assert len(server.tokens_issued) == 2
    auths = [r.headers["authorization"] for r in server.tracking_requests()]
    assert auths == ["Bearer token-1", "Bearer token-1", "Bearer token-2"]


@pytest.mark.parametrize("carrier", OAUTH)
def test_a_401_renews_the_token_once_and_retries(carrier: str) -> None:
    server = FakeCarriers(all_ok)
    with client_for(server) as c:
        c.track(NUMBERS[carrier])
        server.revoke()  # the carrier forgot the token before its announced end
        assert c.track(NUMBERS[carrier]).is_delivered
    assert server.tokens_issued == ["token-1", "token-2"]
    statuses = [r.headers["authorization"] for r in server.tracking_requests()]
    assert statuses == ["Bearer token-1", "Bearer token-1", "Bearer token-2"]


@pytest.mark.parametrize("carrier", OAUTH)
def test_a_second_401_is_an_authentication_error(carrier: str) -> None:
    server = FakeCarriers(all_ok)
    server.valid = type("Nothing", (set,), {"__contains__": lambda self, x: False})()
    with client_for(server) as c, pytest.raises(AuthenticationError) as info:
        c.track(NUMBERS[carrier])
    assert info.value.status_code == 401
    assert len(server.tokens_issued) == 2 and len(server.tracking_requests()) == 2


def test_ups_token_request_uses_basic_auth() -> None:
    server = FakeCarriers(all_ok)
    with client_for(server) as c:
        c.track(B.UPS_NUMBER)
    (token,) = token_requests(server)
    assert token.url.path == "/security/v1/oauth/token"  # host root, not /api (§1.1)
    assert token.headers["authorization"] == "Basic " + base64.b64encode(b"id:secret").decode()
    assert token.headers["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qs(token.content.decode()) == {"grant_type": ["client_credentials"]}
    (track,) = server.tracking_requests()
    assert track.url.path == f"/api/track/v1/details/{B.UPS_NUMBER}"
    assert track.headers["transId"] and track.headers["transactionSrc"]


@pytest.mark.parametrize(
    ("carrier", "path"), [("fedex", "/oauth/token"), ("usps", "/oauth2/v3/token")]
)
def test_fedex_and_usps_send_credentials_in_the_form_body(carrier: str, path: str) -> None:
    server = FakeCarriers(all_ok)
    with client_for(server) as c:
        c.track(NUMBERS[carrier])
    (token,) = token_requests(server)
    assert token.url.path == path
    assert "authorization" not in token.headers
    assert parse_qs(token.content.decode()) == {
        "grant_type": ["client_credentials"],
        "client_id": ["id"],
        "client_secret": ["secret"],
    }


@pytest.mark.parametrize(
    ("carrier", "body", "code"),
    [
        (
            "ups",
            {"response": {"errors": [{"code": "10401", "message": "ClientId is Invalid"}]}},
            "10401",
        ),
        (
            "fedex",
            {
                "transactionId": "x",
                "errors": [
                    {
                        "code": "NOT.AUTHORIZED.ERROR",
                        "message": "The given client credentials were not valid. Please "
                        "modify your request and try again.",
                    }
                ],
            },
            "NOT.AUTHORIZED.ERROR",
        ),
        (
            "usps",
            {
                "error": "invalid_client",
                "error_description": "Client authentication failed.",
                "error_uri": "https://datatracker.ietf.org/doc/html/rfc6749#page-45",
            },
            "invalid_client",
        ),
    ],
)
def test_rejected_credentials_stop_before_tracking(carrier: str, body: object, code: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path in TOKEN_PATHS:
            return respond(401, body)
        raise AssertionError("no tracking request without a token")

    with client_for(handler) as c, pytest.raises(AuthenticationError) as info:
        c.track(NUMBERS[carrier])
    assert info.value.code == code and info.value.status_code == 401
    assert info.value.carrier is not None and info.value.carrier.value == carrier


def test_token_endpoint_429_is_retried() -> None:
    calls = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if request.url.path in TOKEN_PATHS and calls.count(request.url.path) == 1:
            return respond(
                429, {"response": {"errors": [{"code": "10429", "message": "Too Many Requests"}]}}
            )
        return FakeCarriers(all_ok)(request) if request.url.path in TOKEN_PATHS else all_ok(request)

    with client_for(handler) as c:
        assert c.track(B.UPS_NUMBER).is_delivered
    assert calls.count("/security/v1/oauth/token") == 2


@pytest.mark.parametrize("carrier", OAUTH)
def test_missing_credentials_name_the_variables(carrier: str) -> None:
    with client_for(all_ok, **{carrier: None}) as c, pytest.raises(ConfigurationError) as info:
        c.track(NUMBERS[carrier])
    prefix = carrier.upper()
    assert f"{prefix}_CLIENT_ID" in info.value.hint and f"{prefix}_CLIENT_SECRET" in info.value.hint


def test_each_credential_has_its_own_token() -> None:
    server = FakeCarriers(all_ok)
    with client_for(server) as c:
        c.track(B.UPS_NUMBER)
        c.track(B.FEDEX_DELIVERED)
        c.track(B.UPS_NUMBER)
    assert len(server.tokens_issued) == 2
    other = FakeCarriers(all_ok)
    with client_for(other, ups=CarrierSettings(client_id="other", client_secret="s")) as c:
        c.track(B.UPS_NUMBER)
    assert len(other.tokens_issued) == 1


def test_concurrent_async_calls_share_one_token_fetch() -> None:
    server = FakeCarriers(all_ok)
    numbers = [f"1Z12345E02052716{i:02d}" for i in range(8)]

    async def main() -> None:
        async with async_client_for(server, concurrency=8) as c:
            outcomes = await c.track_many(numbers)
        assert all(not isinstance(o, Exception) for o in outcomes)

    anyio.run(main)
    assert len(server.tokens_issued) == 1
    assert len(server.tracking_requests()) == 8


def test_dhl_sends_its_api_key_and_needs_no_token() -> None:
    server = FakeCarriers(all_ok)
    with client_for(server) as c:
        c.track(B.DHL_NUMBER)
    (request,) = server.requests
    assert request.headers["DHL-API-Key"] == "dhl-key"
    assert request.url.path == "/track/shipments"
    assert request.url.params["trackingNumber"] == B.DHL_NUMBER


def test_dhl_wrong_key_is_an_authentication_error_naming_the_key() -> None:
    server = FakeCarriers(all_ok)
    with (
        client_for(server, dhl=CarrierSettings(api_key="wrong")) as c,
        pytest.raises(AuthenticationError) as info,
    ):
        c.track(B.DHL_NUMBER)
    assert "DHL_API_KEY" in info.value.hint
    assert len(server.requests) == 1  # no token to renew, so no second try


def test_dhl_missing_key_is_a_configuration_error() -> None:
    with client_for(all_ok, dhl=None) as c, pytest.raises(ConfigurationError) as info:
        c.track(B.DHL_NUMBER)
    assert "DHL_API_KEY" in info.value.hint
