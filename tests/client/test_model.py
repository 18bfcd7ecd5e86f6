"""The normalized model a caller reads: locations as text, results as JSON-ready dicts."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from client.model import (
    Anomaly,
    Carrier,
    Event,
    ExceptionReason,
    Location,
    RawJSON,
    Status,
    TrackingResult,
    loads,
)

CST = timezone(timedelta(hours=-6))
T = datetime(2024, 11, 23, 13, 10, tzinfo=CST)


@pytest.mark.parametrize(
    ("where", "text"),
    [
        (Location("Memphis", "TN", "38118", "US"), "Memphis, TN, 38118 US"),
        (Location("Memphis", "TN"), "Memphis, TN"),
        (Location("Memphis"), "Memphis"),
        (Location(state="TN"), "TN"),
        (Location(postal_code="38118", country="US"), "38118 US"),
        (Location(country="DE"), "DE"),
        (Location("Bonn", None, None, "DE"), "Bonn, DE"),
        (Location("", "TN", "", "US"), "TN, US"),
        (Location(), ""),
    ],
)
def test_a_location_reads_as_an_address_line(where: Location, text: str) -> None:
    assert str(where) == text


parts = st.none() | st.text(alphabet="abcXYZ 1", min_size=1, max_size=6)


@given(city=parts, state=parts, postal_code=parts, country=parts)
def test_a_location_line_names_every_part_in_order(
    city: str | None, state: str | None, postal_code: str | None, country: str | None
) -> None:
    line = str(Location(city, state, postal_code, country))
    head = ", ".join(x for x in (city, state) if x)
    tail = " ".join(x for x in (postal_code, country) if x)
    assert line == ", ".join(x for x in (head, tail) if x)


def result(**overrides: object) -> TrackingResult:
    events = (
        Event(T - timedelta(days=2), Status.pre_transit, "Label created", None, "MP",
              offset_known=False),
        Event(T, Status.delivered, "Delivered", Location("Memphis", "TN", "38118", "US"), "DL",
              ExceptionReason.other),
    )  # fmt: skip
    fields: dict[str, object] = {
        "carrier": Carrier.fedex,
        "number": "128667043726",
        "status": Status.delivered,
        "events": events,
        "exception_reason": ExceptionReason.weather,
        "status_description": "Delivered",
        "raw_status_code": "DL",
        "estimated_delivery": T - timedelta(hours=4),
        "estimated_delivery_end": T + timedelta(hours=4),
        "delivered_at": T,
        "signed_by": "J.DOE",
        "service": "FedEx Ground",
        "anomalies": (Anomaly.missing_offsets,),
        "raw": RawJSON.of({"trackingNumber": "128667043726"}),
    }
    fields.update(overrides)
    return TrackingResult(**fields)  # type: ignore[arg-type]


def test_to_dict_is_every_field_as_json() -> None:
    data = result().to_dict()
    assert data == {
        "carrier": "fedex",
        "number": "128667043726",
        "status": "delivered",
        "exception_reason": "weather",
        "status_description": "Delivered",
        "raw_status_code": "DL",
        "estimated_delivery": "2024-11-23T09:10:00-06:00",
        "estimated_delivery_end": "2024-11-23T17:10:00-06:00",
        "delivered_at": "2024-11-23T13:10:00-06:00",
        "signed_by": "J.DOE",
        "service": "FedEx Ground",
        "anomalies": ["missing_offsets"],
        "events": [
            {
                "time": "2024-11-21T13:10:00-06:00",
                "status": "pre_transit",
                "description": "Label created",
                "location": None,
                "raw_code": "MP",
                "exception_reason": None,
                "offset_known": False,
            },
            {
                "time": "2024-11-23T13:10:00-06:00",
                "status": "delivered",
                "description": "Delivered",
                "location": {
                    "city": "Memphis",
                    "state": "TN",
                    "postal_code": "38118",
                    "country": "US",
                },
                "raw_code": "DL",
                "exception_reason": "other",
                "offset_known": True,
            },
        ],
    }
    assert json.loads(json.dumps(data)) == data


def test_to_dict_of_an_empty_result() -> None:
    data = TrackingResult(Carrier.dhl, "7777777770", Status.unknown).to_dict(include_raw=True)
    assert data["events"] == [] and data["anomalies"] == [] and data["raw"] == {}
    assert data["exception_reason"] is None and data["estimated_delivery"] is None
    assert data["delivered_at"] is None and data["estimated_delivery_end"] is None


def test_raw_only_on_request() -> None:
    assert "raw" not in result().to_dict()
    assert result().to_dict(include_raw=True)["raw"] == {"trackingNumber": "128667043726"}


def test_latest_event_and_is_delivered() -> None:
    r = result()
    assert r.latest_event is r.events[-1] and r.is_delivered
    empty = result(events=(), status=Status.in_transit)
    assert empty.latest_event is None and not empty.is_delivered


def test_raw_takes_no_part_in_equality() -> None:
    assert result(raw={"other": 1}) == result()
    assert hash(Location("Memphis")) == hash(Location("Memphis"))


def test_loads_accepts_what_json_accepts_and_refuses_the_rest() -> None:
    assert loads(b'{"a": [1, 2.5, null], "b": "x"}') == {"a": [1, 2.5, None], "b": "x"}
    assert math.isnan(loads(b'{"n": NaN}')["n"])
    with pytest.raises(ValueError):
        loads(b"{not json")


@given(st.integers(), st.sampled_from(['{"n": %s}', '{"n":%s}', "[1, %s]", "[%s]", "%s"]))
@example(2**64, "%s")
@example(2**70 + 1, '{"n": %s}')  # a 22-digit number sent as a JSON number
@example(-(2**63) - 1, "[1,%s]")
def test_integers_of_any_size_keep_every_digit(n: int, shape: str) -> None:
    parsed = loads((shape % n).encode())
    got = (
        parsed
        if isinstance(parsed, int)
        else (parsed["n"] if isinstance(parsed, dict) else parsed[-1])
    )
    assert type(got) is int and got == n
    if shape.startswith("{"):
        assert RawJSON.of({"n": n})["n"] == n


def test_raw_json_of_a_non_object_reads_as_empty() -> None:
    raw = RawJSON(b"[1, 2]")
    assert dict(raw) == {} and len(raw) == 0 and raw.json == b"[1, 2]"


def test_raw_json_keeps_the_bytes_it_was_given() -> None:
    raw = RawJSON.of({"a": 1, "b": "é"})
    assert json.loads(raw.json) == {"a": 1, "b": "é"}
    assert RawJSON.of({"big": 2**70}).json == b'{"big": 1180591620717411303424}'


def test_now_is_not_assumed() -> None:
    assert result(delivered_at=None).to_dict()["delivered_at"] is None
    assert result().events[0].time.tzinfo is not None and UTC is not None
