"""UPS over HTTP: the token flow, every bundled scenario at every clock point, and errors.

Every body is checked against the official schema (tests/contract/spec_validation.py);
where production departs from the spec (NOTES §1.4, §1.6) a dedicated test says so.
"""

from __future__ import annotations

import base64
import json
import random
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from simulator import numbers
from simulator.carriers import ups
from simulator.engine import Simulation
from simulator.loader import load_paths
from simulator.scenario import EventKind, EventSpec, ExceptionReason, Scenario, Service
from simulator.settings import BUNDLED_SCENARIOS
from simulator.timeline import Shipment
from tests.conftest import EPOCH, SimFactory
from tests.contract.spec_validation import SPECS_DIR, declared_statuses, load_spec, validate

TOKEN = "/security/v1/oauth/token"
DETAILS = "/api/track/v1/details/"
HEADERS = {"transId": "t-0001", "transactionSrc": "testing"}
FORM = {"grant_type": "client_credentials"}

SCENARIOS = [s for s in load_paths([BUNDLED_SCENARIOS]) if "ups" in s.carriers and not s.faults]
FOUND = sorted(s.name for s in SCENARIOS if s.found)


def basic(client_id: str, secret: str = "s3cret") -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def envelope(code: str, message: str) -> dict[str, Any]:
    return {"response": {"errors": [{"code": code, "message": message}]}}


INVALID_AUTH = envelope("250002", "Invalid Authentication Information.")
BAD_CLIENT = envelope("10401", "ClientId is Invalid")
INVALID_REQUEST = envelope("10400", "Invalid Request")
INVALID_NUMBER = envelope("TV1002", "Invalid inquiry number")


def login(client: TestClient, client_id: str = "alice", **headers: str) -> str:
    r = client.post(TOKEN, headers={"Authorization": basic(client_id), **headers}, data=FORM)
    assert r.status_code == 200, r.text
    token: str = r.json()["access_token"]
    return token


def track(
    client: TestClient,
    token: str | None,
    number: str,
    query: str = "",
    headers: dict[str, str] | None = None,
) -> Any:
    """GET details with the transaction headers (the TestClient's response type)."""
    h = dict(HEADERS if headers is None else headers)
    if token is not None:
        h["Authorization"] = f"Bearer {token}"
    return client.get(DETAILS + number + (f"?{query}" if query else ""), headers=h)


def declared_number(sim: Simulation, name: str) -> str:
    return next(n for n, s in sim.catalog.declared["ups"].items() if s.name == name)


def package(body: dict[str, Any]) -> dict[str, Any]:
    pkg: dict[str, Any] = body["trackResponse"]["shipment"][0]["package"][0]
    return pkg


def local_instant(activity: dict[str, str]) -> datetime:
    """date + time are wall-clock at the scan; gmtOffset says which offset that is."""
    offset = activity["gmtOffset"].replace(":", "")
    return datetime.strptime(activity["date"] + activity["time"] + offset, "%Y%m%d%H%M%S%z")


def gmt_instant(activity: dict[str, str]) -> datetime:
    parsed = datetime.strptime(activity["gmtDate"] + activity["gmtTime"], "%Y%m%d%H:%M:%S")
    return parsed.replace(tzinfo=UTC)


def not_found(number: str) -> dict[str, Any]:
    warning = {"code": "TW0001", "message": "Tracking Information Not Found"}
    return {"trackResponse": {"shipment": [{"inquiryNumber": number, "warnings": [warning]}]}}


def check_found(body: dict[str, Any], shipment: Shipment, count: int) -> None:
    """The body shows exactly the first ``count`` events, newest first, as the table maps them."""
    validate("ups", "ups.track", 200, body)
    shipment_entry = body["trackResponse"]["shipment"][0]
    assert shipment_entry["inquiryNumber"] == shipment.number
    pkg = package(body)
    assert pkg["trackingNumber"] == shipment.number
    activities = pkg["activity"]
    assert len(activities) == count
    expected = list(reversed(shipment.events[:count]))
    for activity, event in zip(activities, expected, strict=True):
        status = ups.status_of(event)
        assert activity["status"] == {
            "type": status.type,
            "description": status.description,
            "code": status.code,
            "statusCode": status.status_code,
        }
        assert local_instant(activity) == event.at
        assert gmt_instant(activity) == event.at
        assert (
            activity["gmtOffset"]
            == event.local.strftime("%z")[:3] + ":" + (event.local.strftime("%z")[3:])
        )
    instants = [gmt_instant(a) for a in activities]
    assert instants == sorted(instants, reverse=True)
    last = ups.status_of(shipment.events[count - 1])
    name = ups.STATUS_NAMES[last.status_code]
    assert pkg["currentStatus"] == {
        "type": last.type,
        "description": name,
        "code": last.status_code,
        "statusCode": last.status_code,
        "simplifiedTextDescription": name,
    }
    assert (pkg["statusCode"], pkg["statusDescription"]) == (last.status_code, name)
    delivered = [e for e in shipment.events[:count] if e.kind is EventKind.delivered]
    if delivered:
        assert pkg["deliveryDate"] == [
            {"type": "DEL", "date": delivered[-1].local.strftime("%Y%m%d")}
        ]
        assert pkg["deliveryTime"] == {
            "type": "DEL",
            "endTime": delivered[-1].local.strftime("%H%M%S"),
        }
        assert pkg["deliveryInformation"] == {
            "location": "Front Door",
            "receivedBy": shipment.signer,
        }
    else:
        assert all(d["type"] in ("SDD", "RDD") for d in pkg["deliveryDate"])
        assert "deliveryInformation" not in pkg
    assert pkg["packageCount"] == 1
    assert [a["type"] for a in pkg["packageAddress"]] == ["ORIGIN", "DESTINATION"]


# --------------------------------------------------------------------------- token flow


def test_token_success_body(make_sim: SimFactory) -> None:
    sim, client = make_sim()
    sim.clock.freeze("alice", at=EPOCH)
    r = client.post(TOKEN, headers={"Authorization": basic("alice")}, data=FORM)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    validate("ups", "ups.token", 200, body)
    # NOTES §1.2: this order, and every value a string (numbers too).
    assert list(body) == [
        "token_type", "issued_at", "client_id", "access_token", "scope", "expires_in",
        "refresh_count", "status",
    ]  # fmt: skip
    assert all(isinstance(v, str) for v in body.values())
    assert body["token_type"] == "Bearer"
    assert body["issued_at"] == str(int(EPOCH.timestamp() * 1000))  # epoch milliseconds
    assert body["client_id"] == "alice"
    assert body["access_token"].startswith("eyJ")
    assert (body["scope"], body["expires_in"]) == ("", "14399")
    assert (body["refresh_count"], body["status"]) == ("0", "approved")
    claims = sim.tokens.decode(body["access_token"], "ups")
    assert claims.expires_at - claims.issued_at == 14399
    assert claims.tenant == "alice"


def test_token_accepts_merchant_id_and_prefix(make_sim: SimFactory) -> None:
    _, client = make_sim()
    headers = {"Authorization": basic("alice"), "x-merchant-id": "A1B2C3"}
    assert client.post(TOKEN, headers=headers, data=FORM).status_code == 200
    assert client.post("/ups" + TOKEN, headers=headers, data=FORM).status_code == 200


def test_token_is_not_under_api(make_sim: SimFactory) -> None:
    # NOTES §1.1: the token path is at the host root; "/api/security/…" is a 404 (UPS-ISS #26).
    _, client = make_sim()
    r = client.post("/api" + TOKEN, headers={"Authorization": basic("alice")}, data=FORM)
    assert r.status_code == 404


@pytest.mark.parametrize(
    ("headers", "content", "status", "expected"),
    [
        pytest.param({}, "grant_type=client_credentials", 401, BAD_CLIENT, id="no-auth"),
        pytest.param({"Authorization": "Bearer abc"}, "grant_type=client_credentials", 401,
                     BAD_CLIENT, id="not-basic"),
        pytest.param({"Authorization": "Basic !!!not-base64"}, "grant_type=client_credentials",
                     401, BAD_CLIENT, id="bad-base64"),
        pytest.param({"Authorization": "Basic " + base64.b64encode(b"nocolon").decode()},
                     "grant_type=client_credentials", 401, BAD_CLIENT, id="no-colon"),
        pytest.param({"Authorization": basic("")}, "grant_type=client_credentials", 401,
                     BAD_CLIENT, id="empty-client-id"),
        pytest.param({"Authorization": basic("alice"), "Content-Type": "application/json"},
                     '{"grant_type":"client_credentials"}', 400, INVALID_REQUEST,
                     id="json-body"),
        pytest.param({"Authorization": basic("alice")}, "", 400, INVALID_REQUEST,
                     id="no-content-type"),
        pytest.param({"Authorization": basic("alice"),
                      "Content-Type": "application/x-www-form-urlencoded"}, "", 400,
                     INVALID_REQUEST, id="empty-form"),
        pytest.param({"Authorization": basic("alice"),
                      "Content-Type": "application/x-www-form-urlencoded"}, "scope=read", 400,
                     INVALID_REQUEST, id="no-grant-type"),
        pytest.param({"Authorization": basic("alice"),
                      "Content-Type": "application/x-www-form-urlencoded"}, "grant_type=password",
                     400, INVALID_REQUEST, id="wrong-grant-type"),
        pytest.param({"Authorization": basic("alice"),
                      "Content-Type": "application/x-www-form-urlencoded"}, "%%%=&&&", 400,
                     INVALID_REQUEST, id="malformed-form"),
    ],
)  # fmt: skip
def test_token_errors(
    make_sim: SimFactory, headers: dict[str, str], content: str, status: int, expected: object
) -> None:
    _, client = make_sim()
    r = client.post(TOKEN, headers=headers, content=content.encode())
    assert r.status_code == status
    assert r.json() == expected
    validate("ups", "ups.token", status, r.json())


def test_token_credentials_checked_when_configured(make_sim: SimFactory) -> None:
    _, client = make_sim(credentials={"ups": {"alice": "s3cret"}})
    unknown = client.post(TOKEN, headers={"Authorization": basic("mallory")}, data=FORM)
    wrong_secret = client.post(TOKEN, headers={"Authorization": basic("alice", "guess")}, data=FORM)
    for r in (unknown, wrong_secret):
        assert r.status_code == 401
        assert r.json() == BAD_CLIENT
        validate("ups", "ups.token", 401, r.json())
    assert client.post(TOKEN, headers={"Authorization": basic("alice")}, data=FORM).is_success


def test_token_wrong_method(make_sim: SimFactory) -> None:
    _, client = make_sim()
    assert client.get(TOKEN).status_code == 405


# ------------------------------------------------------------------ bearer on tracking

DELIVERED_NUMBER_SCENARIO = "delivered-on-time"


@pytest.mark.parametrize("case", ["none", "empty", "garbage", "basic", "tampered", "fedex"])
def test_tracking_rejects_bad_tokens(make_sim: SimFactory, case: str) -> None:
    sim, client = make_sim()
    number = declared_number(sim, DELIVERED_NUMBER_SCENARIO)
    good = login(client)
    auth = {
        "none": None,
        "empty": "Bearer ",
        "garbage": "Bearer not-a-token",
        "basic": basic("alice"),
        "tampered": f"Bearer {good[:-3]}{'AAA' if not good.endswith('AAA') else 'BBB'}",
        "fedex": "Bearer "
        + sim.tokens.issue(
            carrier="fedex", client_id="alice", tenant="alice", now=sim.clock.now("alice"),
            lifetime=3599,
        )[0],
    }[case]  # fmt: skip
    headers = dict(HEADERS)
    if auth is not None:
        headers["Authorization"] = auth
    r = client.get(DETAILS + number, headers=headers)
    assert r.status_code == 401
    if case == "fedex":
        (error,) = r.json()["response"]["errors"]
        assert error["code"] == "250002"
        assert error["message"] == (
            "Invalid Authentication Information. (this is another carrier's access token "
            "(FedEx), not a UPS one; get a UPS token from POST /security/v1/oauth/token)"
        )
    else:
        assert r.json() == INVALID_AUTH
    # The track spec declares no 401 (see test_401_is_undeclared_in_track_spec); the body is
    # the same UPS envelope the OAuth spec declares for its 401.
    validate("ups", "ups.token", 401, r.json())


def test_expired_token_on_tenant_clock(make_sim: SimFactory) -> None:
    sim, client = make_sim()
    number = declared_number(sim, DELIVERED_NUMBER_SCENARIO)
    sim.clock.freeze("alice", at=EPOCH)
    token = login(client)
    sim.clock.advance("alice", timedelta(seconds=14398))
    assert track(client, token, number).status_code == 200
    sim.clock.advance("alice", timedelta(seconds=1))
    r = track(client, token, number)
    assert r.status_code == 401
    assert r.json() == INVALID_AUTH
    # Another tenant's clock does not age alice's token.
    sim.clock.freeze("alice", at=EPOCH)
    sim.clock.advance("bob", timedelta(days=30))
    assert track(client, token, number).status_code == 200


def test_401_is_undeclared_in_track_spec(make_sim: SimFactory) -> None:
    # NOTES §1.6 [obs]: production answers bad bearer tokens 401 250002; Tracking.yaml
    # declares no 401 for the operation. We imitate production.
    _, client = make_sim()
    r = client.get(DETAILS + "1Z13GNRH1011084424", headers=HEADERS)
    assert r.status_code == 401
    assert 401 not in declared_statuses("ups", "ups.track")
    with pytest.raises(AssertionError, match="not declared"):
        validate("ups", "ups.track", 401, r.json())


def test_token_binds_tenant_clock(make_sim: SimFactory) -> None:
    sim, client = make_sim()
    number = declared_number(sim, DELIVERED_NUMBER_SCENARIO)
    shipment = sim.catalog.lookup("ups", number)
    assert shipment is not None
    sim.clock.freeze("alice", at=shipment.events[0].at)
    sim.clock.freeze("bob", at=shipment.events[-1].at)
    sim.clock.freeze("carol", at=shipment.events[2].at)
    alice, bob = login(client, "alice"), login(client, "bob")
    carol = login(client, "someone", **{"x-carriersim-tenant": "carol"})
    assert len(package(track(client, alice, number).json())["activity"]) == 1
    assert len(package(track(client, bob, number).json())["activity"]) == len(shipment.events)
    assert len(package(track(client, carol, number).json())["activity"]) == 3


# ---------------------------------------------------------------- scenarios x clock points


def _scenario_sim(make_sim: SimFactory, name: str) -> tuple[Simulation, TestClient, str]:
    sim, client = make_sim()
    if any(s.name == name for s in sim.catalog.declared["ups"].values()):
        return sim, client, declared_number(sim, name)
    # A scenario that declares no UPS number yet: give it one.
    number = numbers.generate("ups", random.Random(name))
    scenarios = [
        s.model_copy(update={"numbers": {**s.numbers, "ups": (number,)}}) if s.name == name else s
        for s in SCENARIOS
    ]
    sim, client = make_sim(scenarios=scenarios)
    return sim, client, number


@pytest.mark.parametrize("name", FOUND)
def test_scenario_at_every_clock_point(make_sim: SimFactory, name: str) -> None:
    sim, client, number = _scenario_sim(make_sim, name)
    shipment = sim.catalog.lookup("ups", number)
    assert shipment is not None and shipment.scenario.name == name
    second = timedelta(seconds=1)
    points = [shipment.t0 - second]
    for event in shipment.events:
        points += [event.at - second, event.at]
    points.append(shipment.events[-1].at + timedelta(days=60))
    for point in points:
        now = point.timestamp()
        sim.clock.freeze("tenant", at=point)
        token, _ = sim.tokens.issue(
            carrier="ups", client_id="tenant", tenant="tenant", now=now, lifetime=14399
        )
        r = track(client, token, number)
        assert r.status_code == 200, (point, r.text)
        body = r.json()
        count = sum(1 for e in shipment.events if e.at <= point)
        if count == 0:
            # Before the label exists UPS knows nothing: production's not-found form.
            assert body == not_found(number)
            validate("ups", "ups.track", 200, body)
        else:
            check_found(body, shipment, count)


# ------------------------------------------------------------------ mapping table

NOTES_TYPES = {"D", "I", "M", "MV", "X", "P"}


def test_every_kind_and_reason_maps() -> None:
    for kind in EventKind:
        if kind is not EventKind.exception:
            assert kind in ups.KIND_STATUS, kind
    assert set(ups.REASON_STATUS) == set(ExceptionReason)
    for status in [*ups.KIND_STATUS.values(), *ups.REASON_STATUS.values()]:
        assert status.type in NOTES_TYPES
        assert re.fullmatch(r"[0-9A-Z]{2}", status.code)
        assert re.fullmatch(r"\d{3}", status.status_code)
        assert status.status_code in ups.STATUS_NAMES
        assert status.description


def test_table_literals_from_the_sources() -> None:
    # PM sample and NOTES §1.4, trailing spaces included.
    label = ups.KIND_STATUS[EventKind.label_created]
    assert (label.type, label.code, label.status_code, label.description) == (
        "M", "MP", "003", "Shipper created a label, UPS has not received the package yet. ",
    )  # fmt: skip
    delivered = ups.KIND_STATUS[EventKind.delivered]
    assert (delivered.type, delivered.code, delivered.status_code, delivered.description) == (
        "D", "F4", "011", "DELIVERED ",
    )  # fmt: skip
    ofd = ups.KIND_STATUS[EventKind.out_for_delivery]
    assert (ofd.type, ofd.code, ofd.status_code) == ("I", "OT", "021")
    attempt = ups.KIND_STATUS[EventKind.delivery_attempted]
    assert (attempt.type, attempt.status_code) == ("X", "022")
    assert ups.STATUS_NAMES["022"] == "First Attempt Made"
    assert ups.KIND_STATUS[EventKind.cancelled].type == "MV"
    assert {s.type for s in ups.REASON_STATUS.values()} == {"X"}


def _postman_body() -> dict[str, Any]:
    collection = json.loads(
        (Path(SPECS_DIR) / "ups" / "UPS-Tracking.postman_collection.json").read_text()
    )
    body: dict[str, Any] = json.loads(collection["item"][0]["response"][0]["body"])
    return body


def test_shape_follows_postman_sample(make_sim: SimFactory) -> None:
    # The official Postman 200 body is the template: every field it has, we have, in place.
    sample = _postman_body()
    validate("ups", "ups.track", 200, sample)
    _, ours = _delivered_body(make_sim)
    s_pkg, o_pkg = package(sample), package(ours)
    assert set(s_pkg) <= set(o_pkg)
    assert set(ours["trackResponse"]["shipment"][0]) == {"inquiryNumber", "package"}
    s_acts, o_acts = s_pkg["activity"], o_pkg["activity"]
    for s_act, o_act in ((s_acts[0], o_acts[0]), (s_acts[-1], o_acts[-1])):
        assert set(s_act) <= set(o_act)
        assert set(s_act["status"]) == set(o_act["status"])
        assert set(s_act["location"]) == set(o_act["location"])
        assert set(s_act["location"]["address"]) <= set(o_act["location"]["address"])
        assert o_act["status"]["type"] == s_act["status"]["type"]
        assert o_act["status"]["code"] == s_act["status"]["code"]
        assert o_act["status"]["statusCode"] == s_act["status"]["statusCode"]
        assert o_act["status"]["description"] == s_act["status"]["description"]
    assert o_pkg["deliveryTime"]["type"] == s_pkg["deliveryTime"]["type"] == "DEL"
    assert o_pkg["deliveryDate"][0]["type"] == "DEL"


# ----------------------------------------------------------- production deviations


def _delivered_body(make_sim: SimFactory, query: str = "") -> tuple[Shipment, dict[str, Any]]:
    sim, client = make_sim()
    number = declared_number(sim, DELIVERED_NUMBER_SCENARIO)
    shipment = sim.catalog.lookup("ups", number)
    assert shipment is not None
    sim.clock.freeze("alice", at=shipment.events[-1].at + timedelta(hours=1))
    r = track(client, login(client), number, query)
    assert r.status_code == 200
    return shipment, r.json()


def test_gmt_time_has_colons_unlike_spec_example(make_sim: SimFactory) -> None:
    # NOTES §1.4 [obs]: live gmtTime is "HH:MM:SS"; the spec example is "74700".
    example = load_spec("ups/Tracking.yaml")["components"]["schemas"]["Activity"]["properties"]
    assert example["gmtTime"]["example"] == "74700"
    _, body = _delivered_body(make_sim)
    for activity in package(body)["activity"]:
        assert re.fullmatch(r"\d\d:\d\d:\d\d", activity["gmtTime"])
        assert re.fullmatch(r"\d{6}", activity["time"])
        assert re.fullmatch(r"\d{8}", activity["date"]) and re.fullmatch(
            r"\d{8}", activity["gmtDate"]
        )
        assert re.fullmatch(r"[+-]\d\d:\d\d", activity["gmtOffset"])


def test_current_status_code_is_three_digits_unlike_spec(make_sim: SimFactory) -> None:
    # NOTES §1.4 [obs]: live currentStatus.code is the 3-digit status code; the spec puts the
    # 2-char activity code there (example "SR"). Activity status objects match the spec.
    status_schema = load_spec("ups/Tracking.yaml")["components"]["schemas"]["Status"]
    assert status_schema["properties"]["code"]["example"] == "SR"
    _, body = _delivered_body(make_sim)
    pkg = package(body)
    assert pkg["currentStatus"]["code"] == "011"
    assert pkg["activity"][0]["status"]["code"] == "F4"
    assert pkg["activity"][0]["status"]["statusCode"] == "011"


def test_not_found_is_200_with_warning_not_404(make_sim: SimFactory) -> None:
    # NOTES §1.6 [obs: UPS-ISS #102, #166, #198]: production answers 200 + TW0001 where the
    # spec documents 404.
    assert 404 in declared_statuses("ups", "ups.track")
    sim, client = make_sim()
    number = declared_number(sim, "unknown-number")
    r = track(client, login(client), number)
    assert r.status_code == 200
    assert r.json() == not_found(number)
    validate("ups", "ups.track", 200, r.json())


# ------------------------------------------------------------------------- not found


def test_not_found_without_mix(make_sim: SimFactory) -> None:
    sim, client = make_sim(mix=False)
    number = numbers.generate("ups", random.Random(7))
    assert numbers.is_valid("ups", number) and number not in sim.catalog.declared["ups"]
    r = track(client, login(client), number)
    assert (r.status_code, r.json()) == (200, not_found(number))


def test_not_found_echoes_number_as_sent(make_sim: SimFactory) -> None:
    # UPS-ISS #166: a 22-char number ending in "xxxx" comes back as sent, with TW0001.
    _, client = make_sim()
    r = track(client, login(client), "1Z5629230309413682xxxx")
    assert (r.status_code, r.json()) == (200, not_found("1Z5629230309413682xxxx"))


def test_not_found_spec_form(make_sim: SimFactory) -> None:
    sim, client = make_sim(not_found="spec")
    number = declared_number(sim, "unknown-number")
    r = track(client, login(client), number)
    assert r.status_code == 404
    assert r.json() == envelope("TW0001", "Tracking number information not found")
    validate("ups", "ups.track", 404, r.json())
    # Found numbers are unchanged in spec mode.
    found = declared_number(sim, DELIVERED_NUMBER_SCENARIO)
    assert track(client, login(client), found).status_code == 200


@pytest.mark.parametrize(
    "number",
    ["1Z1234", "123456", "1" * 35, "1Z-12345E0205271688", "1Z12345E02_5271688", "1Z%C3%9C1234567"],
)
@pytest.mark.parametrize("mode", ["production", "spec"])
def test_invalid_inquiry_number(make_sim: SimFactory, number: str, mode: str) -> None:
    # NOTES §1.6 [obs: KAR-UPS]; SPEC: 7 to 34 characters.
    _, client = make_sim(not_found=mode)
    r = track(client, login(client), number)
    assert r.status_code == 400, r.text
    assert r.json() == INVALID_NUMBER
    validate("ups", "ups.track", 400, r.json())


@pytest.mark.parametrize("number", ["1Z12345", "9" * 34])
def test_length_bounds_are_plausible(make_sim: SimFactory, number: str) -> None:
    _, client = make_sim()
    r = track(client, login(client), number)
    assert (r.status_code, r.json()) == (200, not_found(number))


def test_number_is_normalized(make_sim: SimFactory) -> None:
    sim, client = make_sim()
    number = declared_number(sim, DELIVERED_NUMBER_SCENARIO)
    r = track(client, login(client), number.lower())
    assert r.status_code == 200
    assert package(r.json())["trackingNumber"] == number


# ------------------------------------------------------------------ malformed requests


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({"transactionSrc": "testing"}, ("VSS002", "Missing transId")),
        ({"transId": "", "transactionSrc": "testing"}, ("VSS002", "Missing transId")),
        ({"transId": "  ", "transactionSrc": "testing"}, ("VSS002", "Missing transId")),
        ({"transId": "t-1"}, ("VSS004", "Missing transactionSrc")),
        ({}, ("VSS002", "Missing transId")),
    ],
)
def test_missing_transaction_headers(
    make_sim: SimFactory, headers: dict[str, str], message: tuple[str, str]
) -> None:
    """UPS's own codes for the two headers (Track Alert's error table), never a bare "400"."""
    sim, client = make_sim()
    number = declared_number(sim, DELIVERED_NUMBER_SCENARIO)
    r = track(client, login(client), number, headers=headers)
    assert r.status_code == 400
    assert r.json() == envelope(*message)
    validate("ups", "ups.track", 400, r.json())


def test_auth_is_checked_before_headers(make_sim: SimFactory) -> None:
    _, client = make_sim()
    r = track(client, None, "1Z13GNRH1011084424", headers={})
    assert (r.status_code, r.json()) == (401, INVALID_AUTH)


def test_tracking_wrong_method_and_prefix(make_sim: SimFactory) -> None:
    sim, client = make_sim()
    number = declared_number(sim, DELIVERED_NUMBER_SCENARIO)
    token = login(client)
    auth = {**HEADERS, "Authorization": f"Bearer {token}"}
    assert client.post(DETAILS + number, headers=auth).status_code == 405
    prefixed = client.get("/ups" + DETAILS + number, headers=auth)
    assert prefixed.status_code == 200
    assert prefixed.content == track(client, token, number).content


# ---------------------------------------------------------------------- query options


def test_delivered_defaults_have_no_proof_images(make_sim: SimFactory) -> None:
    shipment, body = _delivered_body(make_sim)
    pkg = package(body)
    assert pkg["deliveryInformation"] == {"location": "Front Door", "receivedBy": shipment.signer}
    assert "milestones" not in pkg


def test_return_signature_pod_and_milestones(make_sim: SimFactory) -> None:
    shipment, body = _delivered_body(
        make_sim, "locale=en_US&returnSignature=true&returnPOD=TRUE&returnMilestones=true"
    )
    validate("ups", "ups.track", 200, body)
    pkg = package(body)
    info = pkg["deliveryInformation"]
    image = base64.b64decode(info["signature"]["image"], validate=True)
    assert image.startswith(b"\x89PNG\r\n\x1a\n")
    pod = base64.b64decode(info["pod"]["content"], validate=True).decode()
    assert shipment.number in pod and shipment.signer in pod and "Front Door" in pod
    milestones = pkg["milestones"]
    assert [m["category"] for m in milestones] == ["IN TRANSIT", "OUT FOR DELIVERY", "DELIVERED"]
    assert [m["current"] for m in milestones] == [False, False, True]
    assert milestones[-1]["linkedActivity"] == "0"
    assert all(m["state"] == "COMPLETE" for m in milestones)
    for m in milestones:
        linked = pkg["activity"][int(m["linkedActivity"])]
        assert linked["status"]["statusCode"] == m["code"]


def test_flags_other_than_true_are_false(make_sim: SimFactory) -> None:
    _, body = _delivered_body(make_sim, "returnSignature=yes&returnPOD=false&returnMilestones=1")
    pkg = package(body)
    assert set(pkg["deliveryInformation"]) == {"location", "receivedBy"}
    assert "milestones" not in pkg


def test_no_delivery_information_before_delivery(make_sim: SimFactory) -> None:
    sim, client = make_sim()
    number = declared_number(sim, DELIVERED_NUMBER_SCENARIO)
    shipment = sim.catalog.lookup("ups", number)
    assert shipment is not None
    sim.clock.freeze("alice", at=shipment.events[3].at)
    r = track(client, login(client), number, "returnSignature=true&returnPOD=true")
    pkg = package(r.json())
    assert "deliveryInformation" not in pkg
    assert pkg["deliveryDate"][0]["type"] == "SDD"
    assert pkg["deliveryTime"] == {"type": "EOD"}


def test_same_request_same_bytes(make_sim: SimFactory) -> None:
    sim, client = make_sim()
    number = declared_number(sim, DELIVERED_NUMBER_SCENARIO)
    sim.clock.freeze("alice", at=EPOCH)
    token = login(client)
    first = track(client, token, number, "returnMilestones=true")
    second = track(client, token, number, "returnMilestones=true")
    assert first.content == second.content
    assert track(client, token, number).content != first.content


# ------------------------------------------------------------ realistic shipment data


def _body_at_end(make_sim: SimFactory, name: str) -> tuple[Shipment, dict[str, Any]]:
    sim, client, number = _scenario_sim(make_sim, name)
    shipment = sim.catalog.lookup("ups", number)
    assert shipment is not None
    sim.clock.freeze("alice", at=shipment.events[-1].at)
    return shipment, track(client, login(client), number).json()


def test_service_names(make_sim: SimFactory) -> None:
    _, ground = _body_at_end(make_sim, "delivered-on-time")
    assert package(ground)["service"] == {
        "code": "518",
        "description": "UPS Ground",
        "levelCode": "011",
    }
    express_domestic, body = _body_at_end(make_sim, "out-for-delivery")
    assert express_domestic.service is Service.express and not express_domestic.international
    assert package(body)["service"] == {"description": "UPS Next Day Air Saver"}
    express_intl, body = _body_at_end(make_sim, "customs-hold-released")
    assert express_intl.international
    assert package(body)["service"] == {"description": "UPS Worldwide Express"}


def test_parties_weight_and_addresses(make_sim: SimFactory) -> None:
    shipment, body = _body_at_end(make_sim, "customs-hold-released")
    pkg = package(body)
    origin, destination = pkg["packageAddress"]
    assert origin["address"]["countryCode"] == shipment.shipper.place.country
    assert origin["address"]["city"] == shipment.shipper.place.city.upper()
    assert destination["name"] == shipment.recipient.name
    assert destination["address"]["countryCode"] == shipment.recipient.place.country == "DE"
    assert destination["address"]["postalCode"] == shipment.recipient.place.postal_code
    assert shipment.shipper.place.country == "US"
    assert pkg["weight"] == {
        "unitOfMeasurement": "LBS",
        "weight": f"{shipment.weight_kg * 2.20462:.2f}",
    }
    # Scans abroad carry their own offset (NOTES §1.4: gmtOffset is the scan location's).
    offsets = {a["gmtOffset"] for a in pkg["activity"]}
    assert "+01:00" in offsets and any(o.startswith("-") for o in offsets)


def test_delivery_dates_follow_the_story(make_sim: SimFactory) -> None:
    sim, client, number = _scenario_sim(make_sim, "delivered-late")
    shipment = sim.catalog.lookup("ups", number)
    assert shipment is not None
    delay = next(e for e in shipment.events if e.kind is EventKind.exception)
    delivered = shipment.events[-1]
    sim.clock.freeze("alice", at=delay.at - timedelta(seconds=1))
    before = package(track(client, login(client), number).json())
    expected = shipment.expected_delivery
    assert expected is not None
    assert before["deliveryDate"] == [
        {"type": "SDD", "date": shipment.recipient.place.localize(expected).strftime("%Y%m%d")}
    ]
    sim.clock.freeze("alice", at=delay.at)
    after = package(track(client, login(client), number).json())
    assert after["deliveryDate"] == [{"type": "RDD", "date": delivered.local.strftime("%Y%m%d")}]
    _, cancelled = _body_at_end(make_sim, "cancelled")
    assert package(cancelled)["deliveryDate"] == []
    assert "deliveryTime" not in package(cancelled)
    _, express = _body_at_end(make_sim, "customs-hold-released")
    assert package(express)["deliveryDate"][0]["type"] == "DEL"


def test_express_commit_time(make_sim: SimFactory) -> None:
    sim, client, number = _scenario_sim(make_sim, "out-for-delivery")
    shipment = sim.catalog.lookup("ups", number)
    assert shipment is not None and shipment.expected_delivery is not None
    sim.clock.freeze("alice", at=shipment.events[1].at)
    pkg = package(track(client, login(client), number).json())
    local = shipment.recipient.place.localize(shipment.expected_delivery)
    assert pkg["deliveryDate"] == [{"type": "SDD", "date": local.strftime("%Y%m%d")}]
    assert pkg["deliveryTime"] == {"type": "CMT", "endTime": local.strftime("%H%M%S")}


def test_description_override_replaces_text(make_sim: SimFactory) -> None:
    base = next(s for s in SCENARIOS if s.name == "label-created-never-shipped")
    number = numbers.generate("ups", random.Random(99))
    custom = Scenario(
        name="custom-text",
        carriers=("ups",),
        route=base.route,
        start=timedelta(hours=-2),
        numbers={"ups": (number,)},
        events=(
            EventSpec(at=timedelta(0), kind=EventKind.label_created),
            EventSpec(
                at=timedelta(hours=1),
                kind=EventKind.exception,
                reason=ExceptionReason.weather,
                description="Snow in the Rockies",
            ),
        ),
    )
    _, client = make_sim(scenarios=[custom])
    pkg = package(track(client, login(client), number).json())
    newest = pkg["activity"][0]["status"]
    assert newest == {"type": "X", "description": "Snow in the Rockies", "code": "7W",
                      "statusCode": "052"}  # fmt: skip
    assert pkg["currentStatus"]["description"] == "Delay: Severe Weather"
    assert pkg["activity"][1]["location"] == {"address": {"countryCode": "US", "country": "US"}}
