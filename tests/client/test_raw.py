"""``raw``: the carrier's own JSON on every result and event, kept as bytes, read as a dict."""

from __future__ import annotations

import dataclasses
import json
import math
import pickle

import pytest

from client import RawJSON, TrackingResult
from tests.client import bodies as B
from tests.client.fakes import FakeCarriers, client_for, respond


def track(status: int, body: object, number: str) -> TrackingResult:
    with client_for(FakeCarriers(lambda r: respond(status, body))) as c:
        return c.track(number)


@pytest.mark.parametrize(
    ("number", "body"),
    [
        (B.UPS_NUMBER, B.ups_delivered_live()),
        (B.DHL_NUMBER, B.dhl_delivered()),
    ],
)
def test_results_and_events_keep_the_carriers_json(number: str, body: dict[str, object]) -> None:
    result = track(200, body, number)
    assert isinstance(result.raw, RawJSON)
    assert json.loads(result.raw.json) == dict(result.raw)
    assert all(isinstance(e.raw, RawJSON) and len(e.raw) > 0 for e in result.events)
    # Every event's raw object is one of the carrier's own event objects, unchanged.
    sent = json.dumps(body)
    for e in result.events:
        assert json.dumps(dict(e.raw))[1:-1] in sent


def test_reads_like_a_dict() -> None:
    value = {"a": 1, "b": [1, 2, {"c": None}], "d": {"e": "f"}}
    raw = RawJSON.of(value)
    assert raw == value and dict(raw) == value
    assert raw["b"][2] == {"c": None} and raw.get("missing") is None and "d" in raw
    assert list(raw) == ["a", "b", "d"] and len(raw) == 3
    assert json.loads(json.dumps(dict(raw))) == value
    assert repr(raw) == f"RawJSON({value!r})"
    with pytest.raises(KeyError):
        raw["missing"]
    assert RawJSON.of(raw) is raw


def test_values_a_strict_parser_refuses_still_round_trip() -> None:
    value = {"big": 2**70, "nan": math.nan}
    raw = RawJSON.of(value)
    assert raw["big"] == 2**70 and math.isnan(raw["nan"])


def test_to_dict_with_raw_is_json_ready() -> None:
    result = track(200, B.ups_delivered_live(), B.UPS_NUMBER)
    data = json.loads(json.dumps(result.to_dict(include_raw=True)))
    assert data["raw"]["trackResponse"]["shipment"][0]["inquiryNumber"] == B.UPS_NUMBER


def test_raw_is_read_once_and_stays_with_a_frozen_result() -> None:
    result = track(200, B.ups_delivered_live(), B.UPS_NUMBER)
    event = result.events[-1]
    # Parsed on first read and then kept: the same object every time.
    assert result.raw is result.raw and event.raw is event.raw
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.raw = {}  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.raw = {}  # type: ignore[misc]
    again = pickle.loads(pickle.dumps(result))
    assert again == result and dict(again.raw) == dict(result.raw)
    assert dict(dataclasses.replace(event).raw) == dict(event.raw)
    # A caller's own mapping is kept as given.
    mine = {"scan": 1}
    assert dataclasses.replace(event, raw=mine).raw is mine
