"""track_many: batching, order, never losing a number, concurrency; configuration."""

from __future__ import annotations

import json
import threading
import time

import anyio
import httpx
import pytest

from client import (
    AmbiguousNumber,
    Carrier,
    CarrierUnavailable,
    InvalidNumber,
    NotFound,
    RetryPolicy,
    Status,
    TrackingClient,
    TrackingResult,
)
from client.api import CarrierSettings, env_names, resolve_config
from client.errors import ConfigurationError
from tests.client import bodies as B
from tests.client.fakes import FakeCarriers, async_client_for, carrier_of, client_for, respond


def echo(request: httpx.Request) -> httpx.Response:
    """Answers every carrier for whatever numbers were asked, like a healthy carrier."""
    carrier = carrier_of(request.url.path)
    if carrier == "fedex":
        asked = [
            i["trackingNumberInfo"]["trackingNumber"]
            for i in json.loads(request.content)["trackingInfo"]
        ]
        return respond(200, B.fedex_answer(*((n, [B.fedex_in_transit_result(n)]) for n in asked)))
    if carrier == "usps":
        if request.method == "POST":
            asked = [i["trackingNumber"] for i in json.loads(request.content)]
            return respond(200, [B.usps_v3r2_success(n) for n in asked])
        return respond(200, B.usps_delivered(request.url.path.rsplit("/", 1)[1]))
    if carrier == "ups":
        number = request.url.path.rsplit("/", 1)[1]
        return respond(200, B.ups_live([], current={"code": "005"}, number=number))
    return respond(200, B.dhl_delivered(request.url.params["trackingNumber"]))


def numbers(n: int, width: int = 12) -> list[str]:
    return [str(10**width + i)[1:] for i in range(n)]


def test_31_fedex_numbers_take_2_requests() -> None:
    server = FakeCarriers(echo)
    asked = numbers(31)
    with client_for(server) as c:
        outcomes = c.track_many(asked, carrier="fedex")
    requests = server.tracking_requests()
    assert len(requests) == 2
    sizes = sorted(len(json.loads(r.content)["trackingInfo"]) for r in requests)
    assert sizes == [1, 30]
    assert [o.number for o in outcomes if isinstance(o, TrackingResult)] == asked


def test_36_usps_numbers_take_2_requests() -> None:
    server = FakeCarriers(echo)
    asked = numbers(36, 22)
    with client_for(server) as c:
        outcomes = c.track_many(asked, carrier=Carrier.usps)
    methods = sorted(r.method for r in server.tracking_requests())
    assert methods == ["GET", "POST"]  # 35 in the batch, the 36th alone
    (post,) = [r for r in server.tracking_requests() if r.method == "POST"]
    assert len(json.loads(post.content)) == 35
    assert all(isinstance(o, TrackingResult) for o in outcomes)
    assert [o.number for o in outcomes if isinstance(o, TrackingResult)] == asked


def test_outcomes_follow_input_order_with_errors_in_place() -> None:
    server = FakeCarriers(echo)
    asked = [
        B.DHL_NUMBER,
        "not a number",
        B.UPS_NUMBER,
        "00340434292135100186",  # ambiguous: FedEx or DHL
        B.FEDEX_DELIVERED,
        B.USPS_NUMBER,
        B.DHL_NUMBER,  # repeated
        "122816215025811",  # corrupted check digit
    ]
    with client_for(server) as c:
        out = c.track_many(asked)
    assert len(out) == len(asked)
    kinds = [
        type(o).__name__ if not isinstance(o, TrackingResult) else o.carrier.value for o in out
    ]
    assert kinds == [
        "dhl", "InvalidNumber", "ups", "AmbiguousNumber", "fedex", "usps", "dhl",
        "InvalidNumber",
    ]  # fmt: skip
    assert isinstance(out[3], AmbiguousNumber) and Carrier.dhl in out[3].candidates
    # The repeated number was asked for once.
    dhl_requests = [r for r in server.tracking_requests() if carrier_of(r.url.path) == "dhl"]
    assert len(dhl_requests) == 1


def test_per_number_carrier_and_lowercase_input() -> None:
    server = FakeCarriers(echo)
    with client_for(server) as c:
        out = c.track_many([("00340434292135100186", "dhl"), "1z1442yy7229014688"])
    assert isinstance(out[0], TrackingResult) and out[0].carrier is Carrier.dhl
    assert isinstance(out[1], TrackingResult) and out[1].number == "1Z1442YY7229014688"


def test_a_failing_batch_gives_every_number_the_error() -> None:
    server = FakeCarriers(
        lambda r: respond(503, B.fedex_error("SERVICE.UNAVAILABLE.ERROR", "down"))
    )
    asked = numbers(3)
    with client_for(server, retry=RetryPolicy.for_testing(max_attempts=2)) as c:
        out = c.track_many(asked, carrier="fedex")
    assert all(isinstance(o, CarrierUnavailable) for o in out)
    assert [o.number for o in out if isinstance(o, CarrierUnavailable)] == asked
    assert len(server.tracking_requests()) == 2  # one batch, retried once


def test_a_batch_rejected_for_one_bad_number_is_retried_one_by_one() -> None:
    bad = "999999999999"

    def handler(request: httpx.Request) -> httpx.Response:
        asked = json.loads(request.content)["trackingInfo"]
        if any(i["trackingNumberInfo"]["trackingNumber"] == bad for i in asked):
            return respond(400, B.fedex_error("TRACKING.TRACKINGNUMBER.INVALID", "invalid"))
        return echo(request)

    server = FakeCarriers(handler)
    asked = [*numbers(2), bad]
    with client_for(server) as c:
        out = c.track_many(asked, carrier="fedex")
    assert [type(o) for o in out] == [TrackingResult, TrackingResult, InvalidNumber]
    assert len(server.tracking_requests()) == 4  # the batch, then three singles


def test_number_missing_from_answer_is_not_lost() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return respond(
            200, B.fedex_answer(("111111111111", [B.fedex_in_transit_result("111111111111")]))
        )

    with client_for(FakeCarriers(handler)) as c:
        out = c.track_many(["111111111111", "222222222222"], carrier="fedex")
    assert isinstance(out[0], TrackingResult)
    assert type(out[1]).__name__ == "MalformedResponse" and out[1].number == "222222222222"


def test_track_raises_and_track_many_returns() -> None:
    server = FakeCarriers(lambda r: respond(404, B.DHL_NOT_FOUND))
    with client_for(server) as c:
        with pytest.raises(NotFound):
            c.track(B.DHL_NUMBER)
        (out,) = c.track_many([B.DHL_NUMBER])
    assert isinstance(out, NotFound)


def test_sync_concurrency_is_bounded() -> None:
    lock, live, peak = threading.Lock(), [0], [0]

    def handler(request: httpx.Request) -> httpx.Response:
        with lock:
            live[0] += 1
            peak[0] = max(peak[0], live[0])
        time.sleep(0.01)
        with lock:
            live[0] -= 1
        return echo(request)

    asked = [f"{i:09d}" for i in range(16)]
    with client_for(FakeCarriers(handler), concurrency=4) as c:
        out = c.track_many(asked, carrier="dhl")
    assert all(isinstance(o, TrackingResult) for o in out)
    assert 2 <= peak[0] <= 4


def test_async_client_batches_orders_and_bounds_concurrency() -> None:
    live, peak = [0], [0]

    async def handler(request: httpx.Request) -> httpx.Response:
        live[0] += 1
        peak[0] = max(peak[0], live[0])
        await anyio.sleep(0.005)
        live[0] -= 1
        return FakeCarriers(echo)(request) if "token" in request.url.path else echo(request)

    asked = [f"{i:09d}" for i in range(12)]

    async def main() -> list[object]:
        async with async_client_for(handler, concurrency=3) as c:
            dhl = await c.track_many(asked, carrier="dhl")
            fedex = await c.track_many(numbers(31), carrier="fedex")
            single = await c.track(B.USPS_NUMBER)
        return [*dhl, *fedex, single]

    out = anyio.run(main)
    assert all(isinstance(o, TrackingResult) for o in out)
    assert [o.number for o in out[:12] if isinstance(o, TrackingResult)] == asked
    assert 2 <= peak[0] <= 3


def test_a_retry_waiting_out_its_backoff_gives_up_its_concurrency_slot() -> None:
    first, second = "000000001", "000000002"
    sent: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        number = request.url.params["trackingNumber"]
        sent.append(number)
        if number == first and sent.count(first) == 1:
            return respond(503, {"title": "Service Unavailable", "status": 503})
        return echo(request)

    async def main() -> list[object]:
        async with async_client_for(handler, concurrency=1) as c:
            return await c.track_many([first, second], carrier="dhl")

    out = anyio.run(main)
    assert [o.number for o in out if isinstance(o, TrackingResult)] == [first, second]
    # While the first number waited to retry, the one slot sent the second number.
    assert sent == [first, second, first]


def test_resolve_config_precedence() -> None:
    env = {
        "CARRIERSIM_BASE_URL": "http://sim:8080",
        "CARRIERSIM_UPS_BASE_URL": "http://ups-sim:9000",
        "UPS_CLIENT_ID": "env-id",
        "UPS_CLIENT_SECRET": "env-secret",
        "DHL_API_KEY": "env-key",
    }
    ups = resolve_config(Carrier.ups, None, None, env)
    assert (ups.base_url, ups.client_id, ups.client_secret) == (
        "http://ups-sim:9000",
        "env-id",
        "env-secret",
    )
    assert resolve_config(Carrier.fedex, None, None, env).base_url == "http://sim:8080"
    assert resolve_config(Carrier.dhl, None, None, env).api_key == "env-key"
    explicit = resolve_config(
        Carrier.ups, CarrierSettings(base_url="http://a", client_id="x"), "http://b", env
    )
    assert (explicit.base_url, explicit.client_id) == ("http://a", "x")
    assert resolve_config(Carrier.ups, None, "http://b", env).base_url == "http://b"


def test_defaults_are_the_production_hosts() -> None:
    hosts = {c: resolve_config(c, env={}).base_url for c in Carrier}
    assert hosts == {
        Carrier.ups: "https://onlinetools.ups.com",
        Carrier.fedex: "https://apis.fedex.com",
        Carrier.usps: "https://apis.usps.com",
        Carrier.dhl: "https://api-eu.dhl.com",
    }
    assert env_names(Carrier.fedex)["client_id"] == "FEDEX_CLIENT_ID"


def test_unknown_carrier_name_is_a_configuration_error() -> None:
    with client_for(echo) as c:
        with pytest.raises(ConfigurationError):
            c.track(B.DHL_NUMBER, carrier="royalmail")
        (out,) = c.track_many([(B.DHL_NUMBER, "royalmail")])
    assert isinstance(out, ConfigurationError)


def test_result_to_dict_is_json_ready() -> None:
    with client_for(FakeCarriers(echo)) as c:
        result = c.track(B.DHL_NUMBER)
    data = json.loads(json.dumps(result.to_dict()))
    assert data["status"] == Status.delivered.value
    assert data["events"][0]["time"] == "2023-11-20T08:00:00+00:00"
    assert "raw" not in data and "raw" in result.to_dict(include_raw=True)


def test_client_owns_and_closes_its_http_client() -> None:
    c = TrackingClient(env={}, transport=httpx.MockTransport(echo))
    c.close()
    assert c.http.is_closed
    mine = httpx.Client(transport=httpx.MockTransport(echo))
    with TrackingClient(env={}, http_client=mine):
        pass
    assert not mine.is_closed
    mine.close()
