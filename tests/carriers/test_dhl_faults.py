"""DHL's fault hooks and data faults: problem+json errors, who/what a request is about, and
every lie and quirk observed over HTTP in-process.

Sources: NOTES.md §4.2 (401 body), §4.4 (timestamp forms, location without address), §4.5
(404 and 429 bodies), §4.6 (no Retry-After documented); forms the sources leave open are
listed in simulator/carriers/dhl.py's docstring.
"""

from __future__ import annotations

import asyncio
import copy
import json
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from starlette.requests import Request
from starlette.testclient import TestClient

from simulator import numbers
from simulator.carriers import dhl
from simulator.engine import Simulation
from simulator.faults import Fault
from simulator.scenario import Scenario
from tests.carriers.test_dhl import (
    LINK,
    NOT_FOUND,
    UNAUTHORIZED,
    assert_problem,
    number,
    track,
)
from tests.conftest import SimFactory
from tests.contract.spec_validation import declared_statuses, schema_validator, validate

SPEC = "dhl/utapi-traking-api-1.4.1.yaml"
PROBLEM_SCHEMA = "/components/schemas/supermodelIoLogisticsApiProblemDetail"
TOO_MANY = (
    '{"status":429,"title":"Too Many Requests",'
    '"detail":"Too many requests within defined time period, please try again later."}'
)
LIES = ("ok_with_error", "mixed_results", "wrong_number")

# In flight at the clock start (delivered-on-time, a day underway): status, ETA, no proof.
MOVING = {fmt: number(fmt, seed=2000) for fmt in ("express10", "sscc20", "s10")}
# Delivered before the clock start: proof of delivery, no ETA.
DONE = {fmt: number(fmt, seed=3000) for fmt in ("express10", "s10")}
# Never carries a fault in these tests.
BYSTANDER = number("express10", seed=4000)


def scenarios(bundled: list[Scenario], *faults: dict[str, Any]) -> list[Scenario]:
    """delivered-on-time for MOVING and BYSTANDER, a copy delivered long ago for DONE;
    ``faults`` are declared on the MOVING/DONE scenarios only."""
    declared = tuple(Fault.model_validate(f) for f in faults)
    base = next(s for s in bundled if s.name == "delivered-on-time")
    return [
        base.model_copy(update={"name": "dhl-moving", "numbers": {"dhl": tuple(MOVING.values())},
                                "faults": declared}),
        base.model_copy(update={"name": "dhl-done", "numbers": {"dhl": tuple(DONE.values())},
                                "start": timedelta(days=-5), "faults": declared}),
        base.model_copy(update={"numbers": {"dhl": (BYSTANDER,)}}),
    ]  # fmt: skip


def sims(
    make_sim: SimFactory, bundled: list[Scenario], *faults: dict[str, Any]
) -> tuple[TestClient, TestClient]:
    """(client with the faults declared, client of the same simulation without faults)."""
    _, faulty = make_sim(scenarios=scenarios(bundled, *faults), mix=False)
    _, clean = make_sim(scenarios=scenarios(bundled), mix=False)
    return faulty, clean


def fault(mode: str, **extra: Any) -> dict[str, Any]:
    """A lie or quirk fault of that mode."""
    return {"kind": "lie" if mode in LIES else "quirk", "mode": mode, **extra}


def body_of(client: TestClient, n: str, **params: str) -> dict[str, Any]:
    """A 200 answer's body, after checking DHL's success headers."""
    response = track(client, n, **params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-language"] == "en"
    assert response.headers["link"] == LINK
    parsed: dict[str, Any] = response.json()
    return parsed


# ---------------------------------------------------------------------------- error_response


@pytest.mark.parametrize("endpoint", ["token", "track"])
@pytest.mark.parametrize("status", [400, 401, 403, 404, 429, 500, 502, 503, 504])
def test_error_response_envelope(endpoint: str, status: int) -> None:
    r = dhl.error_response(status, endpoint, None, None)
    assert r.status_code == status
    assert r.media_type == "application/problem+json"
    assert r.headers["content-type"] == "application/problem+json"
    assert r.headers["content-language"] == "en"
    assert "retry-after" not in r.headers
    body = json.loads(bytes(r.body))
    assert set(body) == {"status", "title", "detail"}
    assert body["status"] == status
    # Every DHL error is the spec's problem detail (components unauthorizedError,
    # shipmentNotFound, internalError all use it).
    errors = list(schema_validator(SPEC, PROBLEM_SCHEMA).iter_errors(body))
    assert not errors, errors
    if status in declared_statuses("dhl", "dhl.track"):
        validate("dhl", "dhl.track", status, body)


@pytest.mark.parametrize("endpoint", ["token", "track"])
@pytest.mark.parametrize("reason", [None, "expired", "revoked"])
def test_unauthorized_is_the_gateway_body_for_every_reason(
    endpoint: str, reason: str | None
) -> None:
    # A DHL key never expires: an "expired" one is a key the gateway refuses, like a revoked one.
    r = dhl.error_response(401, endpoint, None, reason)
    assert bytes(r.body).decode() == UNAUTHORIZED


def test_not_found_is_production_body_with_correlation_id() -> None:
    first = dhl.error_response(404, "track", None, None)
    second = dhl.error_response(404, "track", None, None)
    assert bytes(first.body).decode() == NOT_FOUND
    ids = {first.headers["correlation-id"], second.headers["correlation-id"]}
    assert len(ids) == 2
    assert all(str(uuid.UUID(i)) == i for i in ids)
    assert "correlation-id" not in dhl.error_response(500, "track", None, None).headers


def test_rate_limit_body_and_retry_after() -> None:
    plain = dhl.error_response(429, "track", None, None)
    assert bytes(plain.body).decode() == TOO_MANY
    assert "retry-after" not in plain.headers  # NOTES §4.6: none documented
    told = dhl.error_response(429, "track", 30, None)
    assert told.headers["retry-after"] == "30"
    assert bytes(told.body).decode() == TOO_MANY
    assert dhl.error_response(503, "track", 5, None).headers["retry-after"] == "5"


def test_error_faults_over_http(bundled: list[Scenario], make_sim: SimFactory) -> None:
    faulty, _ = sims(make_sim, bundled)
    sim: Simulation = faulty.app.state.sim  # type: ignore[attr-defined]
    sim.faults.add(
        Fault.model_validate(
            {"kind": "http_error", "status": 429, "match": {"number": MOVING["express10"]}}
        )
    )
    sim.faults.add(Fault.model_validate({"kind": "rate_limit", "limit": 1, "per": "1h",
                                         "match": {"number": BYSTANDER}}))  # fmt: skip
    limited = track(faulty, MOVING["express10"])
    assert_problem(limited, 429, TOO_MANY)
    assert "retry-after" not in limited.headers
    assert track(faulty, BYSTANDER).status_code == 200
    assert_problem(track(faulty, BYSTANDER), 429, TOO_MANY)
    assert track(faulty, MOVING["s10"]).status_code == 200


# ---------------------------------------------------------------------------------- describe


def _request(app: Any, path: str, query: bytes, headers: dict[str, str]) -> Request:
    scope = {
        "type": "http",
        "method": "GET",
        "scheme": "http",
        "server": ("127.0.0.1", 80),
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "app": app,
    }
    return Request(scope)


def test_describe_names_the_key_and_the_normalized_number(make_sim: SimFactory) -> None:
    _, client = make_sim()
    n = "ly 927647359de"
    query = b"trackingNumber=ly+927647359de&service=post-de"
    keyed = _request(client.app, dhl.PATH, query, {"DHL-API-Key": "key-a"})
    assert asyncio.run(dhl.describe(keyed)) == ("key-a", (numbers.normalize(n),))
    named = _request(
        client.app, "/dhl" + dhl.PATH, query, {"dhl-api-key": "key-a", "X-Carriersim-Tenant": "ci"}
    )
    assert asyncio.run(dhl.describe(named)) == ("ci", ("LY927647359DE",))
    keyless = _request(client.app, dhl.PATH, b"trackingNumber=7777777770", {})
    assert asyncio.run(dhl.describe(keyless)) == ("", ("7777777770",))


def test_describe_bad_and_broken_requests(make_sim: SimFactory) -> None:
    _, client = make_sim()
    bad = _request(client.app, dhl.PATH, b"service=nope", {"DHL-API-Key": "key-a"})
    assert asyncio.run(dhl.describe(bad)) == ("key-a", ())
    broken = Request({"type": "http", "headers": [(b"dhl-api-key", b"k")]})
    assert asyncio.run(dhl.describe(broken)) == ("", ())


# ------------------------------------------------------------------------ carrier-format quirks


def _stamped(entry: dict[str, Any], change: Callable[[str], str]) -> None:
    """Every timestamp of a shipments[] entry through ``change`` (the test's own list)."""
    for event in (entry["status"], *entry["events"]):
        event["timestamp"] = change(event["timestamp"])
    if "estimatedTimeOfDelivery" in entry:
        entry["estimatedTimeOfDelivery"] = change(entry["estimatedTimeOfDelivery"])
    for name in ("estimatedFrom", "estimatedThrough"):
        if "estimatedDeliveryTimeFrame" in entry:
            frame = entry["estimatedDeliveryTimeFrame"]
            frame[name] = change(frame[name])
    if "proofOfDelivery" in entry["details"]:
        proof = entry["details"]["proofOfDelivery"]
        proof["timestamp"] = change(proof["timestamp"])


def _without_offset(stamp: str) -> str:
    assert len(stamp) == 25 and stamp[19] in "+-", stamp  # the clean form carries an offset
    return stamp[:19]


def _labelled_utc(stamp: str) -> str:
    assert stamp[19:] not in ("+00:00", "-00:00"), stamp  # the test routes are in the US
    return stamp[:19] + "Z"


def _expect(mode: str, clean: dict[str, Any]) -> dict[str, Any]:
    """What the quirk must turn the clean body into, and nothing more."""
    body = copy.deepcopy(clean)
    (entry,) = body["shipments"]
    if mode == "missing_offsets":
        _stamped(entry, _without_offset)
    elif mode == "wrong_offsets":
        _stamped(entry, _labelled_utc)
    elif mode == "unknown_codes":
        entry["status"]["statusCode"] = entry["events"][0]["statusCode"] = "in-customs"
    elif mode == "empty_events":
        entry["events"] = []
    elif mode == "missing_optional_fields":
        for event in (entry["status"], *entry["events"]):
            event["location"] = {}
    elif mode == "padded_number":
        entry["id"] = "0" + entry["id"] if entry["id"].isdigit() else entry["id"] + " "
    elif mode == "lowercase_number":
        entry["id"] = entry["id"].lower()
    else:
        raise AssertionError(mode)
    return body


def test_the_numbers_cover_every_timestamp_field(
    bundled: list[Scenario], make_sim: SimFactory
) -> None:
    _, clean = sims(make_sim, bundled)
    (moving,) = body_of(clean, MOVING["express10"])["shipments"]
    (done,) = body_of(clean, DONE["express10"])["shipments"]
    assert "estimatedDeliveryTimeFrame" in moving and "proofOfDelivery" not in moving["details"]
    assert "proofOfDelivery" in done["details"] and "estimatedTimeOfDelivery" not in done


FORMAT_QUIRKS = [
    ("missing_offsets", MOVING["express10"]),
    ("missing_offsets", DONE["express10"]),
    ("wrong_offsets", MOVING["sscc20"]),
    ("wrong_offsets", DONE["s10"]),
    ("unknown_codes", MOVING["express10"]),
    ("empty_events", MOVING["s10"]),
    ("missing_optional_fields", DONE["express10"]),
    ("padded_number", MOVING["express10"]),
    ("padded_number", MOVING["s10"]),
    ("lowercase_number", MOVING["s10"]),
    ("lowercase_number", MOVING["express10"]),
]


@pytest.mark.parametrize(("mode", "n"), FORMAT_QUIRKS)
def test_format_quirk_shows_exactly_itself(
    mode: str, n: str, bundled: list[Scenario], make_sim: SimFactory
) -> None:
    # First request faulted, then the fault is spent: the render cache must not mix them.
    faulty, clean = sims(make_sim, bundled, fault(mode, when={"sequence": [True, False]}))
    reference = body_of(clean, n)
    quirked = body_of(faulty, n)
    assert quirked == _expect(mode, reference)
    if not (mode == "lowercase_number" and n.isdigit()):
        assert quirked != reference
    assert body_of(faulty, n) == reference
    assert body_of(faulty, BYSTANDER) == body_of(clean, BYSTANDER)
    if mode == "unknown_codes":
        assert "in-customs" not in dhl.STATUS_CODES
        with pytest.raises(AssertionError, match="enum"):
            validate("dhl", "dhl.track", 200, quirked)
    else:
        validate("dhl", "dhl.track", 200, quirked)


def test_wrong_offset_at_a_place_on_utc() -> None:
    assert dhl.wrong_offset("2026-01-05T10:00:00+00:00") == "2026-01-05T10:00:00+01:00"
    assert dhl.wrong_offset("2026-01-05T10:00:00-05:00") == "2026-01-05T10:00:00Z"
    assert dhl.offsetless("2026-01-05T10:00:00+09:00") == "2026-01-05T10:00:00"


def test_quirks_combine_and_are_cached_apart(bundled: list[Scenario], make_sim: SimFactory) -> None:
    n = MOVING["s10"]
    faulty, clean = sims(
        make_sim,
        bundled,
        fault("lowercase_number", when={"sequence": [True, True, False]}),
        fault("missing_optional_fields", when={"sequence": [True, False, False]}),
    )
    reference = body_of(clean, n)
    both = _expect("missing_optional_fields", _expect("lowercase_number", reference))
    assert body_of(faulty, n) == both
    assert body_of(faulty, n) == _expect("lowercase_number", reference)
    assert body_of(faulty, n) == reference


def test_fault_declared_in_the_scenario_spares_other_scenarios(
    bundled: list[Scenario], make_sim: SimFactory
) -> None:
    faulty, clean = sims(make_sim, bundled, fault("unknown_codes"))
    for _ in range(2):
        quirked = body_of(faulty, MOVING["sscc20"])
        assert quirked == _expect("unknown_codes", body_of(clean, MOVING["sscc20"]))
    assert body_of(faulty, BYSTANDER) == body_of(clean, BYSTANDER)


# ---------------------------------------------------------------------------- timeline quirks


def test_out_of_order_shows_in_the_rendered_order(
    bundled: list[Scenario], make_sim: SimFactory
) -> None:
    n = MOVING["express10"]
    faulty, clean = sims(make_sim, bundled, fault("out_of_order"))
    reference = body_of(clean, n)["shipments"][0]
    (entry,) = body_of(faulty, n)["shipments"]
    assert entry["events"][0] == reference["events"][1]
    assert entry["events"][1] == reference["events"][0]
    assert entry["events"][2:] == reference["events"][2:]
    # Only the order is wrong: the status is still the latest scan's.
    assert entry["status"] == entry["events"][1] == reference["status"]
    newest, older = (datetime.fromisoformat(e["timestamp"]) for e in entry["events"][:2])
    assert newest < older


def test_duplicate_scans_are_rendered_twice(bundled: list[Scenario], make_sim: SimFactory) -> None:
    n = DONE["express10"]
    faulty, clean = sims(make_sim, bundled, fault("duplicate_scans"))
    reference = body_of(clean, n)["shipments"][0]["events"]
    events = body_of(faulty, n)["shipments"][0]["events"]
    assert len(events) > len(reference)
    assert [e for i, e in enumerate(events) if i == 0 or events[i - 1] != e] == reference


# ---------------------------------------------------------------------------------------- lies


@pytest.mark.parametrize("mode", ["ok_with_error", "mixed_results"])
def test_error_lies_answer_200_without_shipments(
    mode: str, bundled: list[Scenario], make_sim: SimFactory
) -> None:
    faulty, clean = sims(make_sim, bundled, fault(mode))
    for n in (MOVING["express10"], DONE["s10"]):
        body = body_of(faulty, n)
        assert body == {"shipments": []}
        validate("dhl", "dhl.track", 200, body)
    assert body_of(faulty, BYSTANDER) == body_of(clean, BYSTANDER)
    # A global lie also turns the not-found answer (unknown number, or a qualifier that
    # does not fit) into the empty 200.
    sim: Simulation = faulty.app.state.sim  # type: ignore[attr-defined]
    sim.faults.add(Fault.model_validate(fault(mode, match={"carrier": "dhl"})))
    unknown = number("express10", seed=5000)
    assert_problem(track(clean, unknown), 404, NOT_FOUND)
    assert body_of(faulty, unknown) == {"shipments": []}
    assert body_of(faulty, BYSTANDER, originCountryCode="FR") == {"shipments": []}


def _identity_free(body: dict[str, Any]) -> dict[str, Any]:
    """The body without what names the number: id, piece ids, the tracking-page links."""
    entry: dict[str, Any] = copy.deepcopy(body["shipments"][0])
    del entry["id"]
    entry.pop("serviceUrl", None)
    entry.pop("rerouteUrl", None)
    del entry["details"]["pieceIds"]
    for event in (entry["status"], *entry["events"]):
        event.pop("pieceIds", None)
    return entry


@pytest.mark.parametrize("fmt", ["express10", "sscc20", "s10"])
def test_wrong_number_answers_about_another_valid_number(
    fmt: str, bundled: list[Scenario], make_sim: SimFactory
) -> None:
    n = MOVING[fmt]
    faulty, clean = sims(make_sim, bundled, fault("wrong_number"))
    reference = body_of(clean, n)
    body = body_of(faulty, n)
    (entry,) = body["shipments"]
    other = entry["id"]
    assert other != n
    assert numbers.format_of("dhl", other) == fmt
    assert other == dhl.other_number(n)  # fixed by the asked number
    assert _identity_free(body) == _identity_free(reference)
    if fmt == "sscc20":
        assert entry["details"]["pieceIds"] == [other[2:]]
        assert entry["serviceUrl"].endswith(f"piececode={other}")
    validate("dhl", "dhl.track", 200, body)
    again, _ = sims(make_sim, bundled, fault("wrong_number"))
    assert body_of(again, n) == body
    assert body_of(faulty, BYSTANDER) == body_of(clean, BYSTANDER)


def test_other_number_keeps_unchecked_shapes() -> None:
    for asked in ("JJD0099999999", "GM2951173225174494", "ABCDEF"):
        other = dhl.other_number(asked)
        assert other != asked
        assert len(other) == len(asked)
        assert [c.isdigit() for c in other] == [c.isdigit() for c in asked]
        assert other[:2] == asked[:2]


def test_clean_requests_stay_on_the_fast_path(
    bundled: list[Scenario], make_sim: SimFactory
) -> None:
    faulty, _ = sims(make_sim, bundled)
    sim: Simulation = faulty.app.state.sim  # type: ignore[attr-defined]
    body_of(faulty, MOVING["express10"])
    # One cached body, under the clean key (no quirks/lies parts).
    (key,) = sim._rendered
    assert isinstance(key, tuple) and len(key) == 7
