"""The carrier contract at run time: the registry, and each carrier's 405 in its own envelope.

mypy checks that every carrier provides every member of
:class:`simulator.carriers.contract.Carrier`; these tests check what types cannot: that the
registry names each carrier by its own name, and that a wrong method on any carrier path
gets that carrier's error shape (the one its faults send) with an ``Allow`` header.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from simulator import numbers
from simulator.carriers import CARRIERS, usps
from simulator.carriers.usps.api import BATCH_PATH, TRACK_PATH
from tests.conftest import SimFactory


def shape(value: Any) -> Any:
    """The keys of a JSON value, nested; lists by their first item."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    return type(value).__name__


def test_registry_holds_every_carrier_by_its_own_name() -> None:
    assert tuple(CARRIERS) == numbers.CARRIERS
    assert [c.name for c in CARRIERS.values()] == list(CARRIERS)


@pytest.mark.parametrize("name", list(CARRIERS))
def test_wrong_method_is_answered_in_the_carriers_envelope(name: str, make_sim: SimFactory) -> None:
    carrier = CARRIERS[name]
    sim, _ = make_sim()
    routes = carrier.routes(sim)
    assert routes
    for route in routes:
        allowed = sorted(route.methods or ())
        assert allowed, route.path
        kind = "token" if "token" in route.path else "track"
        own = carrier.error_response(403, kind, None, None)
        answer = carrier.method_not_allowed(route.path, allowed)
        assert answer.status_code == 405
        assert answer.headers["allow"] == ", ".join(allowed)
        assert answer.headers["content-type"] == own.headers["content-type"], route.path
        body = json.loads(bytes(answer.body))
        assert shape(body) == shape(json.loads(bytes(own.body))), (route.path, body)
        assert answer.body != own.body, route.path  # its own words, not the 403 reused


def test_usps_405_names_the_api_of_its_path() -> None:
    batch = json.loads(bytes(usps.CARRIER.method_not_allowed(BATCH_PATH, ["POST"]).body))
    single = json.loads(bytes(usps.CARRIER.method_not_allowed(TRACK_PATH, ["GET"]).body))
    assert batch["apiVersion"] == "/tracking/v3r2"
    assert single["apiVersion"] == "/tracking/v3"
    assert single["error"]["message"] == "METHOD_NOT_ALLOWED"  # NOTES §3.6 General Errors
