"""FedEx faults: errors in the FedEx envelope, who/what a request is about, and the lies and
quirks its tracking answers carry (each observed in-process against a clean twin)."""

from __future__ import annotations

import asyncio
import copy
import json
import random
from datetime import datetime, timedelta
from typing import Any

import pytest
from starlette.requests import Request
from starlette.testclient import TestClient

from simulator import numbers
from simulator.carriers import fedex
from simulator.engine import Simulation
from simulator.faults import Fault
from simulator.scenario import Scenario
from tests.carriers.test_fedex import (
    NOT_FOUND,
    at,
    login,
    number_of,
    results,
    track,
    validate_track,
)
from tests.conftest import EPOCH, SimFactory
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


# --------------------------------------------------------------------------------------------
# Data faults: quirks and lies inside a 200, observed in-process
# --------------------------------------------------------------------------------------------

FAULTED = "delivered-on-time"  # the scenario a scenario-scoped fault is declared in
CLEAN = "out-for-delivery"  # another scenario, tracked in the same batch
WHEN = EPOCH + timedelta(hours=1)  # both are under way: scans, estimates and windows


def _fault(**spec: Any) -> Fault:
    return Fault.model_validate(spec)


def _with_faults(bundled: list[Scenario], name: str, *faults: Fault) -> list[Scenario]:
    return [s.model_copy(update={"faults": faults}) if s.name == name else s for s in bundled]


def _entries(sim: Simulation, client: TestClient, *asked: str) -> list[dict[str, Any]]:
    """The completeTrackResults of one request (tenant frozen at WHEN), spec-checked."""
    at(sim, "qa", WHEN)
    r = track(client, login(client, "qa"), *asked)
    assert r.status_code == 200
    body = r.json()
    validate_track(body)
    entries: list[dict[str, Any]] = body["output"]["completeTrackResults"]
    return entries


def _clean(make_sim: SimFactory, *asked: str, **settings: Any) -> list[dict[str, Any]]:
    sim, client = make_sim(**settings)
    return _entries(sim, client, *asked)


def _scenario_faulted(
    make_sim: SimFactory, bundled: list[Scenario], *faults: Fault
) -> list[dict[str, Any]]:
    """[faulted scenario's entry, other scenario's entry] with faults declared in FAULTED."""
    sim, client = make_sim(scenarios=_with_faults(bundled, FAULTED, *faults))
    return _entries(sim, client, number_of(FAULTED), number_of(CLEAN))


def _result(entry: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any]
    (result,) = entry["trackResults"]
    return result


# Expected transformations, written from the brief and NOTES rather than from the module.


def _times(result: dict[str, Any], *, ship: bool) -> list[tuple[dict[str, Any], str]]:
    """(holder, key) of every ISO time in a result."""
    spots = [(scan, "date") for scan in result.get("scanEvents", [])]
    spots += [(d, "dateTime") for d in result["dateAndTimes"] if ship or d["type"] != "SHIP"]
    for name in ("standardTransitTimeWindow", "estimatedDeliveryTimeWindow"):
        window = result[name]["window"]
        spots += [(window, edge) for edge in ("begins", "ends") if edge in window]
    return spots


def _expect_missing_offsets(entry: dict[str, Any]) -> None:
    for holder, key in _times(_result(entry), ship=True):
        holder[key] = holder[key][: len("2026-03-02T09:00:00")]


def _expect_unknown_codes(entry: dict[str, Any]) -> None:
    result = _result(entry)
    for scan in result["scanEvents"]:
        scan["eventType"] = "ZX"
    result["latestStatusDetail"]["code"] = "ZX"


def _expect_empty_events(entry: dict[str, Any]) -> None:
    _result(entry)["scanEvents"] = []


def _expect_missing_optional_fields(entry: dict[str, Any]) -> None:
    result = _result(entry)
    for scan in result["scanEvents"]:  # NOTES §6.11: FedEx scanLocation with only postal code
        scan["scanLocation"] = {"postalCode": scan["scanLocation"]["postalCode"]}
        scan.pop("locationId", None)
    del result["latestStatusDetail"]["scanLocation"]
    for name in ("shipperInformation", "recipientInformation", "originLocation",
                 "lastUpdatedDestinationAddress"):  # fmt: skip
        del result[name]
    result["deliveryDetails"].pop("actualDeliveryAddress", None)


def _expect_padded_number(entry: dict[str, Any]) -> None:
    entry["trackingNumber"] = "00" + entry["trackingNumber"]
    info = _result(entry)["trackingNumberInfo"]
    info["trackingNumber"] = "00" + info["trackingNumber"]


def _expect_lowercase_number(entry: dict[str, Any]) -> None:
    info = _result(entry)["trackingNumberInfo"]
    info["trackingNumberUniqueId"] = info["trackingNumberUniqueId"].lower()


FORMAT_QUIRKS = {
    "missing_offsets": _expect_missing_offsets,
    "unknown_codes": _expect_unknown_codes,
    "empty_events": _expect_empty_events,
    "missing_optional_fields": _expect_missing_optional_fields,
    "padded_number": _expect_padded_number,
    "lowercase_number": _expect_lowercase_number,
}


@pytest.mark.parametrize("mode", sorted(FORMAT_QUIRKS))
def test_format_quirk_changes_exactly_its_own_part(
    make_sim: SimFactory, bundled: list[Scenario], mode: str
) -> None:
    clean = _clean(make_sim, number_of(FAULTED), number_of(CLEAN))
    _assert_found(clean)
    faulted, other = _scenario_faulted(make_sim, bundled, _fault(kind="quirk", mode=mode))
    expected = copy.deepcopy(clean[0])
    FORMAT_QUIRKS[mode](expected)
    assert expected != clean[0]  # the quirk shows
    assert faulted == expected  # and nothing else changed
    assert other == clean[1]  # the batch's other scenario is untouched


def test_missing_offsets_leave_naive_times(make_sim: SimFactory, bundled: list[Scenario]) -> None:
    faulted, _ = _scenario_faulted(make_sim, bundled, _fault(kind="quirk", mode="missing_offsets"))
    times = [h[k] for h, k in _times(_result(faulted), ship=True)]
    assert len(times) > 3
    assert all(datetime.fromisoformat(t).tzinfo is None for t in times)


def test_wrong_offsets_keep_the_wall_clock(make_sim: SimFactory, bundled: list[Scenario]) -> None:
    (clean, _) = _clean(make_sim, number_of(FAULTED), number_of(CLEAN))
    faulted, _ = _scenario_faulted(make_sim, bundled, _fault(kind="quirk", mode="wrong_offsets"))
    was = [h[k] for h, k in _times(_result(clean), ship=False)]
    now = [h[k] for h, k in _times(_result(faulted), ship=False)]
    assert len(was) == len(now) > 3
    for before, after in zip(was, now, strict=True):
        assert after[:19] == before[:19]  # same local digits…
        assert after[19:] != before[19:]  # …under an offset that is not the place's
        assert after[19:] in ("-06:00", "+00:00")  # FedEx's pinned -06:00 (NOTES §2.4), or UTC
    ship = [d for d in _result(faulted)["dateAndTimes"] if d["type"] == "SHIP"]
    assert ship == [d for d in _result(clean)["dateAndTimes"] if d["type"] == "SHIP"]
    expected = copy.deepcopy(clean)
    for holder, key in _times(_result(expected), ship=False):
        holder[key] = now.pop(0)
    assert faulted == expected


def _dedupe(scans: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [s for i, s in enumerate(scans) if i == 0 or s != scans[i - 1]]


def test_timeline_quirks_through_the_renderer(
    make_sim: SimFactory, bundled: list[Scenario]
) -> None:
    (clean, _) = _clean(make_sim, number_of(FAULTED), number_of(CLEAN))
    scans = _result(clean)["scanEvents"]
    assert len(scans) >= 3

    def faulted(mode: str) -> dict[str, Any]:
        entry, other = _scenario_faulted(make_sim, bundled, _fault(kind="quirk", mode=mode))
        assert other["trackResults"][0]["scanEvents"]  # the other entry is clean (below)
        return _result(entry)

    doubled = faulted("duplicate_scans")["scanEvents"]
    assert len(doubled) > len(scans)
    assert _dedupe(doubled) == scans  # same scans, repeats side by side, order kept

    swapped = faulted("out_of_order")
    assert swapped["scanEvents"] == [scans[1], scans[0], *scans[2:]]  # newest first, as sent
    # Only the order is wrong: the latest status is still the latest scan's.
    assert swapped["latestStatusDetail"] == _result(clean)["latestStatusDetail"]

    # Not delivered yet: the quirk has no delivery to contradict and adds nothing.
    assert not any(s["derivedStatusCode"] == "DL" for s in scans)
    assert faulted("status_regression")["scanEvents"] == scans

    future = faulted("future_timestamps")["scanEvents"]
    assert future[1:] == scans[1:]
    ahead = datetime.fromisoformat(future[0]["date"]) - datetime.fromisoformat(scans[0]["date"])
    assert ahead == timedelta(days=2)

    foreign = faulted("non_ascii_places")["scanEvents"]
    cities = [s["scanLocation"]["city"] for s in foreign if "city" in s["scanLocation"]]
    assert cities and not any(c.isascii() for c in cities)


def test_timeline_quirk_leaves_other_scenarios_clean(
    make_sim: SimFactory, bundled: list[Scenario]
) -> None:
    clean = _clean(make_sim, number_of(FAULTED), number_of(CLEAN))
    got = _scenario_faulted(make_sim, bundled, _fault(kind="quirk", mode="duplicate_scans"))
    assert got[0] != clean[0]
    assert got[1] == clean[1]


def test_global_quirk_matching_one_number(make_sim: SimFactory) -> None:
    a, b = number_of(FAULTED), number_of(CLEAN)
    clean = _clean(make_sim, a, b, a)
    sim, client = make_sim()
    sim.faults.add(_fault(kind="quirk", mode="unknown_codes", match={"number": b}))
    got = _entries(sim, client, a, b, a)
    assert got[0] == got[2] == clean[0]
    assert _result(got[1])["latestStatusDetail"]["code"] == "ZX"


def test_global_quirk_applies_to_the_whole_batch(make_sim: SimFactory) -> None:
    sim, client = make_sim()
    sim.faults.add(_fault(kind="quirk", mode="padded_number", match={"carrier": "fedex"}))
    asked = [number_of(FAULTED), number_of(CLEAN)]
    got = _entries(sim, client, *asked)
    assert [e["trackingNumber"] for e in got] == ["00" + n for n in asked]


def test_clean_and_quirked_bodies_never_share_the_cache(make_sim: SimFactory) -> None:
    number = number_of(FAULTED)
    sim, client = make_sim()
    sim.faults.add(
        _fault(
            kind="quirk",
            mode="unknown_codes",
            match={"endpoint": "track"},  # logins would consume the sequence too
            when={"sequence": [False, True, False]},
        )
    )
    first, second, third = (_entries(sim, client, number)[0] for _ in range(3))
    assert first == third == _clean(make_sim, number)[0]
    assert _result(second)["latestStatusDetail"]["code"] == "ZX"


def test_empty_events_without_detailed_scans(make_sim: SimFactory) -> None:
    sim, client = make_sim()
    sim.faults.add(_fault(kind="quirk", mode="empty_events"))
    at(sim, "qa", WHEN)
    r = track(client, login(client, "qa"), number_of(FAULTED), detailed=False)
    (result,) = results(r.json())
    assert "scanEvents" not in result  # no list was asked for, so none is emptied
    assert result["latestStatusDetail"]["code"]


# Lies -------------------------------------------------------------------------------------


def _assert_not_found(entry: dict[str, Any], number: str) -> None:
    # Exactly production's answer for an unknown number (NOTES §2.6).
    assert entry == {
        "trackingNumber": number,
        "trackResults": [
            {
                "trackingNumberInfo": {
                    "trackingNumber": number,
                    "trackingNumberUniqueId": "",
                    "carrierCode": "",
                },
                "error": NOT_FOUND,
            }
        ],
    }


def _assert_found(entries: list[dict[str, Any]]) -> None:
    assert all("error" not in _result(e) for e in entries)


def test_ok_with_error_answers_existing_numbers_not_found(make_sim: SimFactory) -> None:
    a, b = number_of(FAULTED), number_of(CLEAN)
    unknown = "123456789012"
    _assert_found(_clean(make_sim, a, b, mix=False))
    sim, client = make_sim(mix=False)
    sim.faults.add(_fault(kind="lie", mode="ok_with_error"))
    got = _entries(sim, client, a, unknown, b)
    for entry, number in zip(got, (a, unknown, b), strict=True):
        _assert_not_found(entry, number)


def test_ok_with_error_in_a_scenario_spares_the_rest_of_the_batch(
    make_sim: SimFactory, bundled: list[Scenario]
) -> None:
    clean = _clean(make_sim, number_of(FAULTED), number_of(CLEAN))
    got = _scenario_faulted(make_sim, bundled, _fault(kind="lie", mode="ok_with_error"))
    _assert_not_found(got[0], number_of(FAULTED))
    assert got[1] == clean[1]


def test_mixed_results_deny_every_other_existing_number(make_sim: SimFactory) -> None:
    found = [number_of(n) for n in (FAULTED, CLEAN, "cancelled", "delivered-late")]
    unknown = "123456789012"
    asked = [found[0], unknown, found[1], found[2], found[3]]
    clean = _clean(make_sim, *asked, mix=False)
    _assert_found([clean[0], *clean[2:]])
    _assert_not_found(clean[1], unknown)
    sim, client = make_sim(mix=False)
    sim.faults.add(_fault(kind="lie", mode="mixed_results"))
    got = _entries(sim, client, *asked)
    _assert_not_found(got[0], found[0])  # 1st existing number: denied
    _assert_not_found(got[1], unknown)  # really unknown; not counted
    assert got[2] == clean[2]  # 2nd: answered
    _assert_not_found(got[3], found[2])  # 3rd: denied
    assert got[4] == clean[4]  # 4th: answered


def test_mixed_results_on_one_number_is_an_error_in_a_200(make_sim: SimFactory) -> None:
    sim, client = make_sim()
    sim.faults.add(_fault(kind="lie", mode="mixed_results"))
    (entry,) = _entries(sim, client, number_of(FAULTED))
    _assert_not_found(entry, number_of(FAULTED))


def test_wrong_number_is_the_neighbouring_label(make_sim: SimFactory) -> None:
    rng = random.Random(11)
    for fmt in numbers.formats("fedex"):
        asked = numbers.generate("fedex", rng, fmt)
        other = fedex.wrong_number(asked)
        assert other != asked
        assert numbers.format_of("fedex", other) == fmt  # valid, same format
        assert fedex.wrong_number(asked) == other  # deterministic
    asked = number_of(FAULTED)
    other = fedex.wrong_number(asked)
    clean_other = _clean(make_sim, other)
    _assert_found(clean_other)  # the default mix gives the neighbour a parcel of its own
    sim, client = make_sim()
    sim.faults.add(_fault(kind="lie", mode="wrong_number"))
    (entry,) = _entries(sim, client, asked)
    # The answer is the other number's own, exactly as tracking it directly gives.
    assert entry == clean_other[0]
    assert entry["trackingNumber"] == other != asked


def test_wrong_number_without_the_default_mix(make_sim: SimFactory) -> None:
    asked = number_of(FAULTED)
    other = fedex.wrong_number(asked)
    (clean,) = _clean(make_sim, asked, mix=False)
    (unknown,) = _clean(make_sim, other, mix=False)
    _assert_not_found(unknown, other)
    sim, client = make_sim(mix=False)
    sim.faults.add(_fault(kind="lie", mode="wrong_number"))
    (entry,) = _entries(sim, client, asked)
    # The asked parcel's story, told under the other number.
    result = _result(entry)
    assert entry["trackingNumber"] == result["trackingNumberInfo"]["trackingNumber"] == other
    assert other in result["trackingNumberInfo"]["trackingNumberUniqueId"]
    assert [s["eventType"] for s in result["scanEvents"]] == [
        s["eventType"] for s in _result(clean)["scanEvents"]
    ]


def test_lie_and_quirk_together(make_sim: SimFactory) -> None:
    asked = number_of(FAULTED)
    sim, client = make_sim()
    sim.faults.add(_fault(kind="lie", mode="wrong_number"))
    sim.faults.add(_fault(kind="quirk", mode="padded_number"))
    (entry,) = _entries(sim, client, asked)
    assert entry["trackingNumber"] == "00" + fedex.wrong_number(asked)


# The bundled fault scenarios, as a FedEx client meets them ------------------------------


def _bundled_final(make_sim: SimFactory, library: list[Scenario], name: str) -> dict[str, Any]:
    """The result for a library scenario's FedEx number, a day after its last event."""
    sim, client = make_sim(scenarios=library)
    number = sim.catalog.scenarios[name].numbers["fedex"][0]
    shipment = sim.catalog.lookup("fedex", number)
    assert shipment is not None
    at(sim, "qa", shipment.events[-1].at + timedelta(days=1))
    body = track(client, login(client, "qa"), number).json()
    validate_track(body)
    (result,) = results(body)
    return result


def test_bundled_quirk_scenarios(make_sim: SimFactory, library: list[Scenario]) -> None:
    naive = _bundled_final(make_sim, library, "missing-offsets")["scanEvents"]
    assert all(datetime.fromisoformat(s["date"]).tzinfo is None for s in naive)

    doubled = _bundled_final(make_sim, library, "duplicate-scans")["scanEvents"]
    assert len(_dedupe(doubled)) < len(doubled)

    swapped = _bundled_final(make_sim, library, "out-of-order-scans")["scanEvents"]
    dates = [datetime.fromisoformat(s["date"]) for s in swapped]
    assert dates != sorted(dates, reverse=True)

    regressed = _bundled_final(make_sim, library, "status-regression")
    assert [s["eventType"] for s in regressed["scanEvents"][:2]] == ["IT", "DL"]
    assert regressed["latestStatusDetail"]["code"] == "IT"
