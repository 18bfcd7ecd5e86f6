"""httpx exceptions become client errors in one place; per-attempt timeouts shrink."""

from __future__ import annotations

import math

import anyio
import httpx
import pytest

from client import RetryPolicy
from client.errors import (
    CarrierUnavailable,
    ConfigurationError,
    MalformedResponse,
    RequestRejected,
    Timeout,
    TrackingError,
)
from client.transport import attempt_timeout, translate
from tests.client import bodies as B
from tests.client.fakes import FakeCarriers, async_client_for, client_for

REQUEST = httpx.Request("GET", "https://carrier.test/x")


@pytest.mark.parametrize(
    ("exc", "error", "transient"),
    [
        (httpx.ConnectTimeout("t", request=REQUEST), Timeout, True),
        (httpx.ReadTimeout("t", request=REQUEST), Timeout, True),
        (httpx.WriteTimeout("t", request=REQUEST), Timeout, True),
        (httpx.PoolTimeout("t", request=REQUEST), Timeout, True),
        (httpx.ConnectError("refused", request=REQUEST), CarrierUnavailable, True),
        (httpx.ReadError("reset by peer", request=REQUEST), CarrierUnavailable, True),
        (httpx.WriteError("broken pipe", request=REQUEST), CarrierUnavailable, True),
        (httpx.RemoteProtocolError("empty reply", request=REQUEST), CarrierUnavailable, True),
        (httpx.ProxyError("proxy", request=REQUEST), CarrierUnavailable, True),
        (httpx.UnsupportedProtocol("ftp", request=REQUEST), ConfigurationError, False),
        (httpx.InvalidURL("bad"), ConfigurationError, False),
        (httpx.DecodingError("gzip", request=REQUEST), MalformedResponse, False),
        (httpx.TooManyRedirects("loop", request=REQUEST), RequestRejected, False),
        (httpx.StreamClosed(), CarrierUnavailable, True),
    ],
)
def test_each_httpx_exception_kind_maps_to_one_client_error(
    exc: Exception, error: type[TrackingError], transient: bool
) -> None:
    mapped = translate(exc)
    assert type(mapped) is error
    assert mapped.transient is transient
    assert mapped.hint  # every error says what to do


def test_translate_refuses_foreign_exceptions() -> None:
    with pytest.raises(TypeError):
        translate(ValueError("not httpx"))


def test_attempt_timeout_is_capped_by_the_remaining_deadline() -> None:
    base = httpx.Timeout(connect=5.0, read=20.0, write=10.0, pool=None)
    capped = attempt_timeout(base, 7.5)
    assert (capped.connect, capped.read, capped.write, capped.pool) == (5.0, 7.5, 7.5, 7.5)
    assert attempt_timeout(base, math.inf) == base


def test_each_attempt_carries_the_shrunk_timeout() -> None:
    seen: list[dict[str, float | None]] = []

    def track(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return httpx.Response(200, json=B.dhl_delivered())

    with client_for(FakeCarriers(track), retry=RetryPolicy.for_testing(deadline=3.0)) as c:
        c.track(B.DHL_NUMBER)
    assert seen == [{"connect": 3.0, "read": 3.0, "write": 3.0, "pool": 3.0}]


def test_bad_base_url_is_a_configuration_error() -> None:
    server = FakeCarriers(lambda r: httpx.Response(200))
    with (
        client_for(server, base_url="carrier.test:8080") as c,
        pytest.raises(ConfigurationError) as info,
    ):
        c.track(B.DHL_NUMBER)
    assert "base URL" in str(info.value)
    assert server.requests == []


def test_async_transport_errors_map_the_same_way() -> None:
    def track(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async def main() -> None:
        async with async_client_for(FakeCarriers(track)) as c:
            with pytest.raises(CarrierUnavailable):
                await c.track(B.DHL_NUMBER)

    anyio.run(main)


def test_async_deadline_cuts_a_hanging_answer() -> None:
    # A real (short) deadline: the async path runs the exchange under anyio.fail_after.
    class Hang(httpx.AsyncByteStream):
        async def __aiter__(self):  # type: ignore[no-untyped-def]
            await anyio.sleep(5)
            yield b"{}"

    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, stream=Hang())

    async def main() -> None:
        policy = RetryPolicy(deadline=0.2, max_attempts=1)
        async with async_client_for(lambda r: httpx.Response(200), retry=policy,
                                    transport=httpx.MockTransport(handler)) as c:  # fmt: skip
            with pytest.raises(Timeout):
                await c.track(B.DHL_NUMBER)

    anyio.run(main)


def test_requests_carry_the_client_headers() -> None:
    server = FakeCarriers(lambda r: httpx.Response(200, json=B.dhl_delivered()))
    with client_for(server) as c:
        c.track(B.DHL_NUMBER)
    (request,) = server.requests
    assert request.headers["user-agent"].startswith("carriersim-client/")
    assert request.headers["accept"] == "application/json"
