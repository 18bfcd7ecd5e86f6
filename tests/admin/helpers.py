"""Helpers for the admin API tests: tracking a number as a tenant through the reference
client, and comparing what a carrier showed with what the admin API says is visible."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import httpx

from client import AsyncTrackingClient, CarrierSettings, RetryPolicy, TrackingClient
from client.errors import NotFound, TrackingError
from client.model import TrackingResult

Outcome = TrackingResult | TrackingError


def _credentials(tenant: str) -> dict[str, Any]:
    login = CarrierSettings(client_id=tenant, client_secret="secret")
    return {"ups": login, "fedex": login, "usps": login, "dhl": CarrierSettings(api_key=tenant)}


def track(app: Any, carrier: str, number: str, tenant: str) -> Outcome:
    """Track one number in-process, logged in as ``tenant`` (its OAuth client id / DHL key)."""

    async def main() -> Outcome:
        async with AsyncTrackingClient(
            base_url="http://carriersim.test",
            env={},
            retry=RetryPolicy.for_testing(max_attempts=1),
            transport=httpx.ASGITransport(app=app),
            **_credentials(tenant),
        ) as tracker:
            try:
                return await tracker.track(number, carrier)
            except TrackingError as exc:
                return exc

    return asyncio.run(main())


def track_over(url: str, carrier: str, number: str, tenant: str) -> Outcome:
    """Track one number over a real socket, logged in as ``tenant``."""
    with TrackingClient(
        base_url=url, env={}, retry=RetryPolicy.for_testing(max_attempts=1), **_credentials(tenant)
    ) as tracker:
        try:
            return tracker.track(number, carrier)
        except TrackingError as exc:
            return exc


def events_shown(outcome: Outcome) -> list[Any]:
    """The events a carrier showed (none when it answered not found)."""
    if isinstance(outcome, NotFound):
        return []
    assert isinstance(outcome, TrackingResult), f"tracking failed: {outcome!r}"
    return list(outcome.events)


def assert_shows_visible(outcome: Outcome, shipment: dict[str, Any]) -> None:
    """The carrier showed exactly the events the admin API marks visible: as many, each at
    one of their instants (or, where the carrier sends no offset, their wall-clock time)."""
    expected = [datetime.fromisoformat(e["local"]) for e in shipment["events"] if e["visible"]]
    got = events_shown(outcome)
    assert len(got) == len(expected), (
        f"{shipment['carrier']} {shipment['number']} showed {len(got)} event(s), "
        f"the admin API says {len(expected)} are visible at {shipment['now']}"
    )
    remaining = list(expected)
    for event in got:
        for i, local in enumerate(remaining):
            if event.offset_known and event.time.tzinfo is not None:
                same = event.time == local
            else:
                shown, wall = event.time.replace(tzinfo=None), local.replace(tzinfo=None)
                # A wall clock without offset may also come with its seconds zeroed (USPS
                # 3.0 local timestamps, NOTES §3.4).
                same = shown == wall or (
                    shown.second == 0 and shown == wall.replace(second=0, microsecond=0)
                )
            if same:
                del remaining[i]
                break
        else:
            raise AssertionError(
                f"{shipment['carrier']} showed an event at {event.time.isoformat()} that is "
                f"not among the visible ones: {[e.isoformat() for e in remaining]}"
            )
