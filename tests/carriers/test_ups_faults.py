"""UPS under faults: errors in the UPS envelope, who and what a request is about, and every
data quirk and lie as the tracking body shows it (NOTES §1.6, §1.7, §6).

Each data fault is declared for one number; the test asserts the body differs from that
number's clean body by exactly the fault, that a second number stays clean, and that the
clean body comes back once the fault is gone (the render cache never mixes them).
"""

from __future__ import annotations

import asyncio
import copy
import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from starlette.requests import Request
from starlette.testclient import TestClient

from simulator import numbers
from simulator.carriers import ups
from simulator.faults import Fault
from simulator.scenario import Scenario
from tests.carriers.test_ups import DETAILS, TOKEN, basic, login, not_found, package, track
from tests.conftest import SimFactory
from tests.contract.spec_validation import declared_statuses, validate

# Two parcels of the bundled delivered-on-time scenario: N carries the fault, M never does.
N, M = "1Z13GNRH1011084424", "1ZUPC30N7294205536"
STATUSES = [400, 401, 403, 404, 429, 500, 502, 503, 504]
MOVES = {"AR", "DP", "AG"}

# ------------------------------------------------------------------------ error_response


@pytest.mark.parametrize("endpoint", ["token", "track"])
@pytest.mark.parametrize("status", STATUSES)
def test_error_response_envelope(endpoint: str, status: int) -> None:
    r = ups.error_response(status, endpoint, None, None)
    assert r.status_code == status
    assert r.headers["content-type"] == "application/json"
    # N§1.6/§1.7: no rate-limit headers, no Retry-After unless the fault asks for one.
    assert "retry-after" not in r.headers
    body = json.loads(bytes(r.body))
    (error,) = body["response"]["errors"]
    assert list(body) == ["response"] and list(body["response"]) == ["errors"]
    assert list(error) == ["code", "message"]
    assert isinstance(error["code"], str) and error["code"]
    assert isinstance(error["message"], str) and error["message"]
    operation = f"ups.{endpoint}"
    if status in declared_statuses("ups", operation):
        validate("ups", operation, status, body)


@pytest.mark.parametrize(
    ("status", "endpoint", "reason", "code", "message"),
    [
        (401, "track", None, "250002", "Invalid Authentication Information."),
        (401, "track", "expired", "250002", "Invalid Authentication Information."),
        (401, "track", "revoked", "250002", "Invalid Authentication Information."),
        (401, "token", None, "10401", "ClientId is Invalid"),
        (401, "token", "revoked", "10401", "ClientId is Invalid"),
        (400, "track", None, "TV1002", "Invalid inquiry number"),
        (400, "token", None, "10400", "Invalid Request"),
        (429, "track", None, "10429", "Too Many Requests"),
        (429, "token", None, "10429", "Too Many Requests"),
        (403, "track", None, "10403", "Blocked Merchant"),
        (403, "token", None, "10403", "Blocked Merchant"),
        (404, "track", None, "TW0001", "Tracking number information not found"),
        (500, "track", None, "10500", "Internal server error"),
        (503, "track", None, "10503", "Resource is not available"),
    ],
)
def test_error_codes_follow_notes_and_spec(
    status: int, endpoint: str, reason: str | None, code: str, message: str
) -> None:
    body = json.loads(bytes(ups.error_response(status, endpoint, None, reason).body))
    assert body == {"response": {"errors": [{"code": code, "message": message}]}}


def test_retry_after_only_when_given() -> None:
    r = ups.error_response(429, "track", 7, None)
    assert r.headers["retry-after"] == "7"
    assert json.loads(bytes(r.body))["response"]["errors"][0]["code"] == "10429"
    assert "retry-after" not in ups.error_response(503, "token", None, None).headers
    assert ups.error_response(503, "token", 0, None).headers["retry-after"] == "0"


def test_http_error_faults_over_http(make_sim: SimFactory) -> None:
    sim, client = make_sim()
    token = login(client)
    sim.faults.add(
        Fault.model_validate(
            {"kind": "http_error", "status": 401, "reason": "revoked",
             "match": {"carrier": "ups", "endpoint": "token"}}
        )
    )  # fmt: skip
    sim.faults.add(
        Fault.model_validate(
            {"kind": "http_error", "status": 429, "match": {"carrier": "ups", "number": N}}
        )
    )
    r = client.post(TOKEN, headers={"Authorization": basic("alice")}, data={"grant_type": "x"})
    assert r.status_code == 401
    assert r.json()["response"]["errors"][0]["code"] == "10401"
    r = track(client, token, N)
    assert r.status_code == 429 and "retry-after" not in r.headers
    assert r.json() == {"response": {"errors": [{"code": "10429", "message": "Too Many Requests"}]}}
    assert track(client, token, M).status_code == 200


def test_rate_limit_preset_sends_no_retry_after(make_sim: SimFactory) -> None:
    sim, client = make_sim()
    token = login(client)
    sim.faults.add(
        Fault.model_validate(
            {"kind": "rate_limit", "preset": "carrier", "limit": 2,
             "match": {"carrier": "ups", "endpoint": "track"}}
        )
    )  # fmt: skip
    statuses = [track(client, token, N).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    r = track(client, token, N)
    assert "retry-after" not in r.headers  # N§1.7: UPS sends none
    assert r.json()["response"]["errors"][0]["code"] == "10429"


# ------------------------------------------------------------------------------ describe


def _request(app: Any, path: str, headers: dict[str, str], inquiry: str | None = None) -> Request:
    scope: dict[str, Any] = {
        "type": "http",
        "method": "GET" if inquiry is not None else "POST",
        "scheme": "http",
        "server": ("127.0.0.1", 80),
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "app": app,
    }
    if inquiry is not None:
        scope["path_params"] = {"inquiryNumber": inquiry}
    return Request(scope)


def test_describe_track(make_sim: SimFactory) -> None:
    sim, client = make_sim()
    token, _ = sim.tokens.issue(
        carrier="ups", client_id="acme", tenant="team-a", now=sim.clock.now(), lifetime=60
    )
    raw = " 1z13gnrh10 11084424"
    good = _request(client.app, DETAILS + raw, {"authorization": f"Bearer {token}"}, raw)
    assert asyncio.run(ups.describe(good)) == ("team-a", (N,))
    # Expired tokens still name their tenant: the expiry is the handler's business.
    old, _ = sim.tokens.issue(carrier="ups", client_id="a", tenant="t-old", now=0, lifetime=1)
    expired = _request(client.app, DETAILS + N, {"authorization": f"Bearer {old}"}, N)
    assert asyncio.run(ups.describe(expired)) == ("t-old", (N,))
    fedex_token, _ = sim.tokens.issue(
        carrier="fedex", client_id="acme", tenant="team-f", now=sim.clock.now(), lifetime=60
    )
    headers = {"authorization": f"Bearer {fedex_token}", "x-carriersim-tenant": "ci-1"}
    wrong = _request(client.app, "/ups" + DETAILS + N, headers, N)
    assert asyncio.run(ups.describe(wrong)) == ("ci-1", (N,))
    anonymous = _request(client.app, DETAILS + N, {}, N)
    assert asyncio.run(ups.describe(anonymous)) == ("", (N,))


def test_describe_token_and_broken_requests(make_sim: SimFactory) -> None:
    _, client = make_sim()
    login_ = _request(client.app, TOKEN, {"authorization": basic("acme")})
    assert asyncio.run(ups.describe(login_)) == ("acme", ())
    header = {"authorization": basic("acme"), "x-carriersim-tenant": "ci-2"}
    assert asyncio.run(ups.describe(_request(client.app, "/ups" + TOKEN, header))) == (
        "ci-2",
        (),
    )
    no_credentials = _request(client.app, TOKEN, {"authorization": "Basic !!"})
    assert asyncio.run(ups.describe(no_credentials)) == ("", ())
    no_app = _request(None, DETAILS + N, {"authorization": "Bearer x"}, N)
    assert asyncio.run(ups.describe(no_app)) == ("", ())


# --------------------------------------------------------------------------- data faults


def _client(make_sim: SimFactory) -> tuple[Any, TestClient, str]:
    sim, client = make_sim()
    ends = []
    for n in (N, M):
        shipment = sim.catalog.lookup("ups", n)
        assert shipment is not None
        ends.append(shipment.events[-1].at)
    sim.clock.freeze("alice", at=max(ends) + timedelta(hours=1))
    return sim, client, login(client)


def _body(client: TestClient, token: str, number: str, query: str = "") -> Any:
    r = track(client, token, number, query)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    return r.json()


def observe(
    make_sim: SimFactory, fault: dict[str, Any], query: str = ""
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(clean body of N, body of N under the fault); checks M and the cache on the way."""
    sim, client, token = _client(make_sim)
    clean = {n: _body(client, token, n, query) for n in (N, M)}
    sim.faults.add(Fault.model_validate({**fault, "match": {"carrier": "ups", "number": N}}))
    faulty = _body(client, token, N, query)
    assert _body(client, token, N, query) == faulty  # deterministic
    assert _body(client, token, M, query) == clean[M]
    validate("ups", "ups.track", 200, faulty)
    sim.faults.clear()
    assert _body(client, token, N, query) == clean[N]
    return clean[N], faulty


def quirk(mode: str) -> dict[str, Any]:
    return {"kind": "quirk", "mode": mode}


def lie(mode: str) -> dict[str, Any]:
    return {"kind": "lie", "mode": mode}


def _shift(activity: dict[str, Any], delta: timedelta) -> dict[str, Any]:
    """The activity moved by ``delta`` (local and GMT fields alike)."""
    local = datetime.strptime(activity["date"] + activity["time"], "%Y%m%d%H%M%S") + delta
    gmt = datetime.strptime(activity["gmtDate"] + activity["gmtTime"], "%Y%m%d%H:%M:%S") + delta
    return {
        **activity,
        "date": local.strftime("%Y%m%d"),
        "time": local.strftime("%H%M%S"),
        "gmtDate": gmt.strftime("%Y%m%d"),
        "gmtTime": gmt.strftime("%H:%M:%S"),
    }


def test_missing_offsets(make_sim: SimFactory) -> None:
    clean, faulty = observe(make_sim, quirk("missing_offsets"))
    expected = copy.deepcopy(clean)
    for activity in package(expected)["activity"]:
        for key in ("gmtDate", "gmtTime", "gmtOffset"):
            del activity[key]
    assert faulty == expected


def test_wrong_offsets(make_sim: SimFactory) -> None:
    clean, faulty = observe(make_sim, quirk("wrong_offsets"))
    expected = copy.deepcopy(clean)
    for activity in package(expected)["activity"]:
        activity["gmtOffset"] = "+00:00" if activity["gmtOffset"] != "+00:00" else "-05:00"
    assert faulty == expected
    pairs = zip(package(clean)["activity"], package(faulty)["activity"], strict=True)
    assert all(c["gmtOffset"] != f["gmtOffset"] for c, f in pairs)


def test_unknown_codes(make_sim: SimFactory) -> None:
    known = {s.code for s in (*ups.KIND_STATUS.values(), *ups.REASON_STATUS.values())}
    assert "ZZ" not in known and "150" not in ups.STATUS_NAMES
    clean, faulty = observe(make_sim, quirk("unknown_codes"), "returnMilestones=true")
    expected = copy.deepcopy(clean)
    pkg = package(expected)
    pkg["activity"][0]["status"].update(code="ZZ", statusCode="150")  # description kept
    pkg["currentStatus"].update(code="150", statusCode="150")
    pkg["statusCode"] = "150"
    (last,) = [m for m in pkg["milestones"] if m["linkedActivity"] == "0"]
    last["code"] = "150"
    assert faulty == expected


def test_empty_events(make_sim: SimFactory) -> None:
    clean, faulty = observe(make_sim, quirk("empty_events"))
    expected = copy.deepcopy(clean)
    package(expected)["activity"] = []
    assert faulty == expected


def test_missing_optional_fields(make_sim: SimFactory) -> None:
    clean, faulty = observe(make_sim, quirk("missing_optional_fields"))
    expected = copy.deepcopy(clean)
    pkg = package(expected)
    for activity in pkg["activity"]:
        if "slic" in activity["location"]:
            activity["location"] = {"slic": activity["location"]["slic"]}
        else:
            del activity["location"]  # the label record: only an address
    for entry in pkg["packageAddress"]:
        del entry["address"]
    del pkg["service"], pkg["weight"]
    assert faulty == expected
    assert "address" not in json.dumps(faulty).replace("packageAddress", "")


def _with_number(body: dict[str, Any], number: str) -> dict[str, Any]:
    expected = copy.deepcopy(body)
    expected["trackResponse"]["shipment"][0]["inquiryNumber"] = number
    package(expected)["trackingNumber"] = number
    return expected


def test_padded_number(make_sim: SimFactory) -> None:
    clean, faulty = observe(make_sim, quirk("padded_number"))
    assert faulty == _with_number(clean, N + " " * (34 - len(N)))


def test_lowercase_number(make_sim: SimFactory) -> None:
    clean, faulty = observe(make_sim, quirk("lowercase_number"))
    assert faulty == _with_number(clean, N.lower())


def test_wrong_number(make_sim: SimFactory) -> None:
    clean, faulty = observe(make_sim, lie("wrong_number"))
    other = ups.other_number(N)
    assert other != N and numbers.is_valid("ups", other) and len(other) == len(N)
    assert other[:10] == N[:10]  # same shipper account and service: a neighbour parcel
    assert faulty == _with_number(clean, other)


def test_other_number_keeps_the_format() -> None:
    # Test numbers fail the check digit (N§1.8); the neighbour gets a valid one.
    neighbour = "1Z12345E020527169" + str(numbers.ups_1z_check_digit("12345E020527169"))
    assert ups.other_number("1Z12345E0205271688") == neighbour
    assert numbers.is_valid("ups", neighbour)
    # Other forms: the last character stepped, digits and letters wrapping.
    assert ups.other_number("990728071") == "990728072"
    assert ups.other_number("ER75110504201506Z") == "ER75110504201506A"
    assert ups.other_number("T123456789") == "T123456780"


@pytest.mark.parametrize("mode", ["ok_with_error", "mixed_results"])
def test_ok_with_error_is_tw0001_for_a_known_parcel(make_sim: SimFactory, mode: str) -> None:
    # N§1.6, N§6 item 1: 200 + TW0001 even for numbers the website can track.
    _, faulty = observe(make_sim, lie(mode))
    assert faulty == not_found(N)


def test_ok_with_error_echoes_the_number_as_sent(make_sim: SimFactory) -> None:
    sim, client, token = _client(make_sim)
    sim.faults.add(Fault.model_validate({**lie("ok_with_error"), "match": {"number": N}}))
    assert _body(client, token, N.lower()) == not_found(N.lower())


def test_duplicate_scans(make_sim: SimFactory) -> None:
    clean, faulty = observe(make_sim, quirk("duplicate_scans"))
    expected = copy.deepcopy(clean)
    activities = package(expected)["activity"]
    package(expected)["activity"] = [
        a for a in activities for _ in range(2 if a["status"]["code"] in MOVES else 1)
    ]
    assert len(package(faulty)["activity"]) > len(activities)
    assert faulty == expected


def test_out_of_order(make_sim: SimFactory) -> None:
    clean, faulty = observe(make_sim, quirk("out_of_order"))
    expected = copy.deepcopy(clean)
    activities = package(expected)["activity"]
    activities[0], activities[1] = activities[1], activities[0]
    # Only the list order lies: the current status is still the latest scan's (delivered).
    assert package(faulty)["currentStatus"]["type"] == "D"
    assert faulty == expected


def test_status_regression(make_sim: SimFactory) -> None:
    clean, faulty = observe(make_sim, quirk("status_regression"))
    expected = copy.deepcopy(clean)
    pkg = package(expected)
    back = _shift(pkg["activity"][0], timedelta(minutes=1))
    back["status"] = {"type": "I", "description": "In Transit to Facility", "code": "AG",
                      "statusCode": "005"}  # fmt: skip
    pkg["activity"].insert(0, back)
    on_the_way = "On the Way"
    pkg["currentStatus"] = {"type": "I", "description": on_the_way, "code": "005",
                            "statusCode": "005",
                            "simplifiedTextDescription": on_the_way}  # fmt: skip
    pkg["statusCode"], pkg["statusDescription"] = "005", on_the_way
    assert faulty == expected


def test_future_timestamps(make_sim: SimFactory) -> None:
    clean, faulty = observe(make_sim, quirk("future_timestamps"))
    expected = copy.deepcopy(clean)
    pkg = package(expected)
    pkg["activity"][0] = _shift(pkg["activity"][0], timedelta(days=2))
    # The newest scan is the delivery: its date moves with it.
    pkg["deliveryDate"] = [{"type": "DEL", "date": pkg["activity"][0]["date"]}]
    assert faulty == expected


def test_non_ascii_places(make_sim: SimFactory) -> None:
    clean, faulty = observe(make_sim, quirk("non_ascii_places"))
    cities = [
        a["location"]["address"].pop("city")
        for a in package(faulty)["activity"]
        if "city" in a["location"]["address"]
    ]
    assert cities and all(not c.isascii() and c == c.upper() for c in cities)
    for a in package(clean)["activity"]:
        a["location"]["address"].pop("city", None)
    assert faulty == clean


def test_faults_without_data_faults_leave_the_body_clean(make_sim: SimFactory) -> None:
    sim, client, token = _client(make_sim)
    clean = _body(client, token, N)
    sim.faults.add(Fault.model_validate({"kind": "latency", "ms": 0, "match": {"number": N}}))
    assert _body(client, token, N) == clean


def test_quirks_combine_and_cache_apart(make_sim: SimFactory) -> None:
    sim, client, token = _client(make_sim)
    clean = _body(client, token, N)
    sim.faults.add(Fault.model_validate({**quirk("missing_offsets"), "match": {"number": N}}))
    offsets_only = _body(client, token, N)
    sim.faults.add(Fault.model_validate({**quirk("lowercase_number"), "match": {"number": N}}))
    sim.faults.add(Fault.model_validate({**quirk("duplicate_scans"), "match": {"number": N}}))
    sim.faults.add(Fault.model_validate({**lie("wrong_number"), "match": {"number": N}}))
    combined = _body(client, token, N)
    validate("ups", "ups.track", 200, combined)
    pkg = package(combined)
    assert pkg["trackingNumber"] == ups.other_number(N).lower()
    assert len(pkg["activity"]) > len(package(clean)["activity"])
    assert all("gmtOffset" not in a for a in pkg["activity"])
    assert offsets_only != combined != clean


def test_quirked_copy_keeps_the_planned_delivery(make_sim: SimFactory) -> None:
    # address-corrected after the correction: RDD comes from the planned delivery, which
    # a quirked copy (whose events stop at the visible ones) no longer holds.
    sim, client = make_sim()
    number = "1ZV9MR388173653159"
    shipment = sim.catalog.lookup("ups", number)
    assert shipment is not None
    corrected = next(e for e in shipment.events if e.kind.value == "address_corrected")
    sim.clock.freeze("alice", at=corrected.at + timedelta(minutes=30))
    token = login(client)
    clean = _body(client, token, number)
    assert package(clean)["deliveryDate"][0]["type"] == "RDD"
    sim.faults.add(Fault.model_validate({**quirk("out_of_order"), "match": {"number": number}}))
    faulty = _body(client, token, number)
    expected = copy.deepcopy(clean)
    activities = package(expected)["activity"]
    activities[0], activities[1] = activities[1], activities[0]
    assert faulty == expected


def test_scenario_declared_faults(make_sim: SimFactory, library: list[Scenario]) -> None:
    # The bundled missing-offsets scenario declares its quirk for all its numbers.
    sim, client = make_sim(scenarios=library)
    shipment = sim.catalog.lookup("ups", "1ZN7P09O1892573421")
    assert shipment is not None and shipment.scenario.name == "missing-offsets"
    sim.clock.freeze("alice", at=shipment.events[-1].at)
    body = _body(client, login(client), shipment.number)
    assert package(body)["activity"] and all(
        set(a) == {"location", "status", "date", "time"} for a in package(body)["activity"]
    )
    # A fault added to a scenario through model_copy applies to its numbers only.
    scenarios = [
        s.model_copy(update={"faults": (Fault.model_validate(quirk("unknown_codes")),)})
        if s.name == "delivered-on-time"
        else s
        for s in library
    ]
    sim, client, token = _client(lambda **kw: make_sim(scenarios=scenarios, **kw))
    for number in (N, M):
        assert package(_body(client, token, number))["activity"][0]["status"]["code"] == "ZZ"
    _, plain, plain_token = _client(make_sim)
    other = "1ZV9MR388173653159"  # address-corrected: no faults
    assert _body(client, token, other) == _body(plain, plain_token, other)


def test_wrong_offsets_never_match_the_real_one() -> None:
    activities = [{"gmtOffset": "+00:00"}, {"gmtOffset": "-06:00"}, {"gmtOffset": "+01:00"}]
    body = {"trackResponse": {"shipment": [{"inquiryNumber": N, "package": [
        {"trackingNumber": N, "activity": activities}]}]}}  # fmt: skip
    out = ups.apply_format_faults(body, frozenset({"wrong_offsets"}), frozenset())
    assert [a["gmtOffset"] for a in package(out)["activity"]] == ["-05:00", "+00:00", "+00:00"]
