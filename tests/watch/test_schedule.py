"""The polling schedule: by status, never after final, 429 pauses, per-carrier rates."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta

import httpx

from client import AsyncTrackingClient, CarrierSettings, RetryPolicy
from client.model import Carrier, Status
from client.watch import Order, PollSchedule, Store, Watcher

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
UPS = ["1Z13GNRH1011084424", "1ZUPC30N7294205536", "1Z1442YY7229014688"]
FEDEX = "562853451102"


class Clock:
    def __init__(self) -> None:
        self.at = NOW

    def now(self) -> datetime:
        return self.at

    async def sleep(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


def test_intervals_follow_the_status_and_stop_at_final() -> None:
    schedule = PollSchedule()
    assert schedule.interval(Status.out_for_delivery) < schedule.interval(Status.in_transit)
    assert schedule.interval(Status.in_transit) < schedule.interval(Status.pre_transit)
    assert schedule.interval(Status.delivered) is None
    assert schedule.interval(Status.returned_to_sender) is None
    assert schedule.after_error(1, Status.in_transit) == 60.0
    assert schedule.after_error(20, Status.out_for_delivery) == schedule.out_for_delivery
    rng = random.Random(1)
    spread = {schedule.spread(1000.0, rng) for _ in range(50)}
    assert min(spread) >= 900 and max(spread) <= 1100 and len(spread) > 1


def throttling(requests: list[str]) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        requests.append(request.url.host)
        return httpx.Response(429, headers={"retry-after": "120"}, json={})

    return httpx.MockTransport(answer)


def tracker(transport: httpx.AsyncBaseTransport) -> AsyncTrackingClient:
    login = CarrierSettings(client_id="c", client_secret="s")
    return AsyncTrackingClient(
        base_url="http://carrier.test", ups=login, fedex=login, env={}, transport=transport,
        retry=RetryPolicy.for_testing(max_attempts=1),
    )  # fmt: skip


def test_a_429_pauses_that_carrier_for_its_retry_after() -> None:
    requests: list[str] = []
    clock = Clock()
    store = Store()

    async def main() -> None:
        async with tracker(throttling(requests)) as client:
            w = Watcher(store, client, clock=clock, rng=random.Random(0))
            for n in UPS:
                w.watch(n, Order(n), "ups")
            await w.poll()
            first = len(requests)
            assert first >= 1
            # Every UPS number now waits out the carrier's Retry-After, not just the one asked.
            assert {p.next_poll for p in store.parcels()} == {NOW.timestamp() + 120}
            await clock.sleep(60)
            await w.poll()
            assert len(requests) == first
            await clock.sleep(60)
            await w.poll()
            assert len(requests) > first

    asyncio.run(main())
    assert all(p.last_error and "429" in p.last_error for p in store.parcels())


def test_a_carriers_request_rate_is_never_exceeded() -> None:
    asked: list[str] = []

    def not_found(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)
        if request.url.path.endswith("/token"):
            return httpx.Response(200, json={"access_token": "t", "expires_in": "3600"})
        return httpx.Response(404, json={})

    clock = Clock()
    store = Store()

    async def main() -> None:
        async with tracker(httpx.MockTransport(not_found)) as client:
            w = Watcher(store, client, clock=clock, rate_limits={Carrier.ups: 1.0},
                        schedule=PollSchedule.every(1.0))  # fmt: skip
            for n in UPS:
                w.watch(n, Order(n), "ups")
            await w.poll()  # a burst of one request
            assert len([p for p in asked if "/track/" in p]) == 1
            # The others were put off to when the next request is allowed.
            wake = w.next_wake()
            assert wake is not None and 0 < wake <= 1.0
            for _ in range(4):
                await clock.sleep(1.0)
                await w.poll()
            tracked = [p for p in asked if "/track/" in p]
            assert len(tracked) <= 1 + 4

    asyncio.run(main())
