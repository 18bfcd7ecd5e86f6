"""USPS's fault hooks and data faults: errors in USPS's own shapes, who/what a request is
about, and every quirk and lie as a client sees it (NOTES §3.2, §3.4, §3.6, §6).

Each data fault is observed through the HTTP app: the same number is tracked clean, then
with a fault matched to it, and the two bodies differ in exactly what the fault names; a
second number stays clean throughout.
"""

from __future__ import annotations

import asyncio
import copy
import json
import random
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.testclient import TestClient

from simulator import numbers
from simulator.app import create_app
from simulator.carriers import usps
from simulator.engine import Simulation
from simulator.faults import Fault
from simulator.scenario import Scenario
from simulator.settings import Settings
from tests.conftest import EPOCH, SimFactory
from tests.contract.spec_validation import declared_statuses, schema_validator, validate

TOKEN = "/oauth2/v3/token"
V3 = "/tracking/v3/tracking/"
V3R2 = "/tracking/v3r2/tracking"
TENANT = "usps-faults"
STATUSES = (400, 401, 403, 404, 429, 500, 502, 503, 504)


def _number(fmt: str, seed: str) -> str:
    return numbers.generate("usps", random.Random(f"usps-faults-{seed}"), fmt)


A = _number("impb22", "a")  # the faulted number
B = _number("impb22", "b")  # stays clean
C = _number("impb22", "c")
S10 = _number("s10", "s10")  # has letters: shows lowercase_number
LEGACY = _number("impb20", "legacy")  # no routing-code form: padded with spaces
IN_FLIGHT = EPOCH + timedelta(hours=12)
"""delivered-on-time starts a day before EPOCH: seven scans visible, delivery promised."""

# NOTES §3.5: every USPS eventCode the sources list.
DOCUMENTED_CODES = frozenset(
    ("01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "14", "15", "16", "17",
     "19", "21", "22", "23", "24", "25", "26", "27", "28", "29", "30", "31", "41", "42", "43",
     "44", "51", "52", "53", "54", "55", "56", "71", "80", "81", "82", "MA", "GX", "OF", "PC",
     "DX", "TM", "PA", "EF", "SF", "A1", "T1", "AD", "TL")
)  # fmt: skip
OAUTH_ERRORS = frozenset(
    {"invalid_request", "invalid_client", "invalid_grant", "unauthorized_client",
     "unsupported_grant_type", "invalid_scope"}
)  # fmt: skip
QUOTA_MESSAGE = (
    "Exceeded quota limit. Please contact https://emailus.usps.com/s/web-tools-inquiry and a "
    "representative will assist."
)


# ---------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def app(bundled: list[Scenario]) -> Starlette:
    """An app for hook tests that need one (describe reads the simulation from it)."""
    return create_app(Simulation(Settings(clock_start=EPOCH), bundled))


@pytest.fixture
def usps_sim(
    make_sim: SimFactory, bundled: list[Scenario]
) -> Iterator[tuple[Simulation, TestClient]]:
    """delivered-on-time playing every test number; the tenant's clock mid-journey."""
    base = next(s for s in bundled if s.name == "delivered-on-time")
    scenario = base.model_copy(update={"numbers": {"usps": (A, B, C, S10, LEGACY)}})
    sim, client = make_sim(scenarios=[scenario], mix=False)
    sim.clock.freeze(TENANT, at=IN_FLIGHT)
    yield sim, client


def _auth(client: TestClient) -> dict[str, str]:
    form = {"grant_type": "client_credentials", "client_id": TENANT, "client_secret": "x"}
    response = client.post(TOKEN, json=form)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def _fault(sim: Simulation, kind: str, mode: str, number: str = A) -> None:
    sim.faults.add(Fault.model_validate({"kind": kind, "mode": mode, "match": {"number": number}}))


def _detail(client: TestClient, number: str) -> dict[str, Any]:
    r = client.get(V3 + number, params={"expand": "DETAIL"}, headers=_auth(client))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def _summary(client: TestClient, number: str) -> dict[str, Any]:
    r = client.get(V3 + number, headers=_auth(client))
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def _batch_item(client: TestClient, number: str) -> dict[str, Any]:
    r = client.post(V3R2, json=[{"trackingNumber": number}], headers=_auth(client))
    assert r.status_code == 200, r.text
    [item] = r.json()
    assert isinstance(item, dict)
    return item


def _observe(
    sim: Simulation, client: TestClient, kind: str, mode: str, get: Any, number: str = A
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(clean, faulted) bodies of ``number``; asserts B is clean before, during and after,
    and that the clean body comes back once the fault is gone (no cache mixing)."""
    clean, other = get(client, number), get(client, B)
    _fault(sim, kind, mode, number)
    faulted = get(client, number)
    assert get(client, B) == other
    sim.faults.clear()
    assert get(client, number) == clean
    return clean, faulted


# ------------------------------------------------------------------------ error_response hook


def _request(
    app: Any, method: str, path: str, headers: dict[str, str], body: bytes = b""
) -> Request:
    scope = {
        "type": "http",
        "method": method,
        "scheme": "http",
        "server": ("127.0.0.1", 80),
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
        "app": app,
        "path_params": {"trackingNumber": path.rsplit("/", 1)[-1]} if "/v3/" in path else {},
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    return Request(scope, receive)


def _answer(
    app: Any,
    api: str,
    status: int,
    retry_after: int | None = None,
    reason: str | None = None,
    asked: tuple[str, ...] = (A,),
) -> Any:
    """``error_response`` after ``describe``, as the fault wrapper calls them."""
    if api == "token":
        request = _request(app, "POST", TOKEN, {"content-type": "application/json"}, b"{}")
    elif api == "/tracking/v3":
        request = _request(app, "GET", V3 + asked[0], {})
    else:
        payload = json.dumps([{"trackingNumber": n} for n in asked]).encode()
        request = _request(app, "POST", V3R2, {"content-type": "application/json"}, payload)

    async def run() -> Any:
        await usps.describe(request)
        endpoint = "token" if api == "token" else "track"
        return usps.error_response(status, endpoint, retry_after, reason)

    return asyncio.run(run())


OPERATION = {
    "token": "usps.token",
    "/tracking/v3": "usps.track",
    "/tracking/v3r2": "usps.track_batch",
}


@pytest.mark.parametrize("api", ["token", "/tracking/v3", "/tracking/v3r2"])
@pytest.mark.parametrize("status", STATUSES)
def test_error_response_shape(app: Starlette, api: str, status: int) -> None:
    r = _answer(app, api, status)
    assert r.status_code == status
    assert r.media_type == "application/json"
    assert "retry-after" not in r.headers
    assert ("www-authenticate" in r.headers) == (status == 401)
    body = json.loads(bytes(r.body))
    if api == "token":
        # RFC 6749 shape (NOTES §3.2) with the spec's own error codes, for every status.
        assert list(body) == ["error", "error_description", "error_uri"]
        assert body["error"] in OAUTH_ERRORS
        assert body["error_uri"] == usps.ERROR_URI
        standard = schema_validator(
            "usps/oauth2_3_update.yaml", "/components/schemas/StandardErrorResponse"
        )
        assert not list(standard.iter_errors(body))
    else:
        assert list(body) == ["apiVersion", "error"]
        assert body["apiVersion"] == api
        assert body["error"]["code"] == str(status)
        assert list(body["error"]) == ["code", "message", "errors"]
    operation = OPERATION[api]
    if status in declared_statuses("usps", operation):
        validate("usps", operation, status, body)


def test_general_errors_use_the_error_inventory_texts(app: Starlette) -> None:
    # NOTES §3.6 "General Errors"; the message repeated as the title, detail empty.
    for status, text in [
        (400, "THERE IS AN ERROR IN THE RECEIVED REQUEST"),
        (403, "FORBIDDEN"),
        (500, "INTERNAL_SERVER_ERROR"),
        (503, "SERVICE_UNAVAILABLE"),
    ]:
        body = json.loads(bytes(_answer(app, "/tracking/v3", status).body))
        assert body["error"] == {
            "code": str(status),
            "message": text,
            "errors": [{"title": text, "detail": ""}],
        }
        token = json.loads(bytes(_answer(app, "token", status).body))
        assert token["error_description"] == text


@pytest.mark.parametrize("reason", [None, "expired", "revoked"])
@pytest.mark.parametrize("api", ["/tracking/v3", "/tracking/v3r2"])
def test_401_is_the_live_refusal(app: Starlette, api: str, reason: str | None) -> None:
    r = _answer(app, api, 401, reason=reason)
    assert r.headers["www-authenticate"] == 'Bearer realm="https://api.usps.com"'
    assert json.loads(bytes(r.body)) == {
        "apiVersion": api,
        "error": {
            "code": "401",
            "message": "The client application identifier is invalid.",
            "errors": [],
        },
    }


@pytest.mark.parametrize("reason", [None, "expired", "revoked"])
def test_token_401_is_invalid_client(app: Starlette, reason: str | None) -> None:
    r = _answer(app, "token", 401, reason=reason)
    assert json.loads(bytes(r.body)) == {
        "error": "invalid_client",
        "error_description": "Client authentication failed.",
        "error_uri": "https://datatracker.ietf.org/doc/html/rfc6749#page-45",
    }


@pytest.mark.parametrize("api", ["/tracking/v3", "/tracking/v3r2"])
def test_429_is_the_live_quota_body(app: Starlette, api: str) -> None:
    r = _answer(app, api, 429, retry_after=30)
    assert r.headers["retry-after"] == "30"
    body = json.loads(bytes(r.body))
    assert body["apiVersion"] == api
    assert body["error"]["message"] == QUOTA_MESSAGE
    [entry] = body["error"]["errors"]
    assert entry["title"] == "Too Many Requests." and entry["detail"].startswith("Quota l")
    token = _answer(app, "token", 429, retry_after=5)
    assert token.headers["retry-after"] == "5"
    assert json.loads(bytes(token.body))["error_description"] == QUOTA_MESSAGE


def test_404_is_each_apis_not_found(app: Starlette) -> None:
    v3 = json.loads(bytes(_answer(app, "/tracking/v3", 404).body))
    assert v3["error"]["message"] == "Resource Not Found"
    assert v3["error"]["errors"][0]["code"] == "150001"
    v3r2 = json.loads(bytes(_answer(app, "/tracking/v3r2", 404, asked=(A, B)).body))
    entry = {"title": "", "detail": usps.NOT_YET_AVAILABLE_V3R2, "status": "404", "code": "150006"}
    assert v3r2 == {
        "apiVersion": "/tracking/v3r2",
        "error": {"code": "404", "message": "", "errors": [entry, entry]},
    }


# ------------------------------------------------------------------------------ describe hook


def test_describe_token_requests(app: Starlette) -> None:
    login = b'{"grant_type":"client_credentials","client_id":"acme","client_secret":"x"}'
    as_json = _request(app, "POST", TOKEN, {"content-type": "application/json"}, login)
    assert asyncio.run(usps.describe(as_json)) == ("acme", ())
    form = {"content-type": "application/x-www-form-urlencoded", "x-carriersim-tenant": "ci-7"}
    as_form = _request(
        app, "POST", "/usps" + TOKEN, form, b"grant_type=client_credentials&client_id=acme"
    )
    assert asyncio.run(usps.describe(as_form)) == ("ci-7", ())
    basic = {
        "content-type": "application/x-www-form-urlencoded",
        "authorization": "Basic YmFzaWMtY2xpZW50OnB3",
    }  # basic-client:pw
    as_basic = _request(app, "POST", TOKEN, basic, b"grant_type=client_credentials")
    assert asyncio.run(usps.describe(as_basic)) == ("basic-client", ())


def test_describe_tracking_requests(app: Starlette) -> None:
    sim: Simulation = app.state.sim
    token, _ = sim.tokens.issue(
        carrier="usps", client_id="acme", tenant="team-a", now=sim.clock.now(), lifetime=60
    )
    bearer = {"authorization": f"Bearer {token}"}
    spaced = " ".join(A[i : i + 4] for i in range(0, len(A), 4))
    get = _request(app, "GET", V3 + spaced, bearer)
    assert asyncio.run(usps.describe(get)) == ("team-a", (A,))
    payload = json.dumps(
        [{"trackingNumber": B.lower()}, {"trackingNumber": 5}, {"trackingNumber": S10.lower()}]
    ).encode()
    post = _request(app, "POST", V3R2, {**bearer, "content-type": "application/json"}, payload)
    assert asyncio.run(usps.describe(post)) == ("team-a", (B, S10))


def test_describe_broken_requests(app: Starlette) -> None:
    headers = {"authorization": "Bearer nope", "x-carriersim-tenant": "ci-1"}
    garbage = _request(app, "POST", "/usps" + V3R2, headers, b"{")
    assert asyncio.run(usps.describe(garbage)) == ("ci-1", ())
    no_app = _request(None, "GET", V3 + A, {})
    assert asyncio.run(usps.describe(no_app)) == ("", ())


# --------------------------------------------------------------- hooks through the HTTP app


def test_http_error_fault_names_the_api_called(usps_sim: tuple[Simulation, TestClient]) -> None:
    sim, client = usps_sim
    headers = _auth(client)
    sim.faults.add(
        Fault.model_validate(
            {"kind": "http_error", "status": 503, "retry_after": 9, "match": {"endpoint": "track"}}
        )
    )
    r = client.get(V3 + A, headers=headers)
    assert (r.status_code, r.headers["retry-after"]) == (503, "9")
    assert r.json()["apiVersion"] == "/tracking/v3"
    r = client.post(V3R2, json=[{"trackingNumber": A}], headers=headers)
    assert r.status_code == 503 and r.json()["apiVersion"] == "/tracking/v3r2"
    validate("usps", "usps.track_batch", 503, r.json())
    assert (
        client.post(
            TOKEN,
            json={"grant_type": "client_credentials", "client_id": TENANT, "client_secret": "x"},
        ).status_code
        == 200
    )


def test_rate_limit_answers_the_quota_body(usps_sim: tuple[Simulation, TestClient]) -> None:
    sim, client = usps_sim
    sim.faults.add(
        Fault.model_validate(
            {"kind": "rate_limit", "preset": "carrier", "match": {"carrier": "usps"}}
        )
    )
    headers = _auth(client)
    answers = [client.get(V3 + A, headers=headers) for _ in range(60)]
    assert [r.status_code for r in answers] == [200] * 59 + [429]  # 60/hour, the token counts
    limited = answers[-1]
    assert int(limited.headers["retry-after"]) > 0
    assert limited.json()["error"]["message"] == QUOTA_MESSAGE
    token = client.post(
        TOKEN, json={"grant_type": "client_credentials", "client_id": TENANT, "client_secret": "x"}
    )
    assert token.status_code == 429 and token.json()["error_description"] == QUOTA_MESSAGE


# ------------------------------------------------------------------------ format quirks (3.0)


def _events(body: dict[str, Any], key: str = "trackingEvents") -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = body[key]
    return events


def test_missing_offsets_detail(usps_sim: tuple[Simulation, TestClient]) -> None:
    clean, faulted = _observe(*usps_sim, "quirk", "missing_offsets", _detail)
    assert any("GMTOffset" in e for e in _events(clean))
    expected = copy.deepcopy(clean)
    for event in _events(expected):
        event.pop("GMTTimestamp", None)
        event.pop("GMTOffset", None)
    assert faulted == expected


def test_wrong_offsets_detail(usps_sim: tuple[Simulation, TestClient]) -> None:
    clean, faulted = _observe(*usps_sim, "quirk", "wrong_offsets", _detail)
    changed = 0
    for before, after in zip(_events(clean), _events(faulted), strict=True):
        if "GMTOffset" in before:
            assert after["GMTOffset"] != before["GMTOffset"]
            assert after["GMTOffset"] in ("+00:00", "-05:00")
            after["GMTOffset"] = before["GMTOffset"]
            changed += 1
    assert changed and faulted == clean


def test_unknown_codes_detail(usps_sim: tuple[Simulation, TestClient]) -> None:
    clean, faulted = _observe(*usps_sim, "quirk", "unknown_codes", _detail)
    newest = _events(faulted)[0]
    assert newest["eventCode"] not in DOCUMENTED_CODES
    assert newest["eventType"] == _events(clean)[0]["eventType"]
    newest["eventCode"] = _events(clean)[0]["eventCode"]
    assert faulted == clean


def test_empty_events_detail(usps_sim: tuple[Simulation, TestClient]) -> None:
    clean, faulted = _observe(*usps_sim, "quirk", "empty_events", _detail)
    assert _events(clean) and _events(faulted) == []
    assert faulted == {**clean, "trackingEvents": []}
    clean_summary, summary = _observe(*usps_sim, "quirk", "empty_events", _summary)
    assert clean_summary["eventSummaries"] and summary == {**clean_summary, "eventSummaries": []}


def test_missing_optional_fields_detail(usps_sim: tuple[Simulation, TestClient]) -> None:
    clean, faulted = _observe(*usps_sim, "quirk", "missing_optional_fields", _detail)
    assert "expectedDeliveryTimeStamp" in clean and "expectedDeliveryTimeStamp" not in faulted
    assert any(e["eventCity"] for e in _events(clean))
    place = ("eventCountry", "eventCity", "eventState", "eventZIP", "firm", "name")
    for event in _events(faulted):
        assert all(event[k] is None for k in place)  # explicit nulls, as live 3.0 writes them
    expected = copy.deepcopy(clean)
    del expected["expectedDeliveryTimeStamp"]
    for event in _events(expected):
        event.update(dict.fromkeys(place))
    assert faulted == expected
    clean_summary, summary = _observe(*usps_sim, "quirk", "missing_optional_fields", _summary)
    assert "expectedDeliveryDate" in clean_summary
    assert summary == {k: v for k, v in clean_summary.items() if k != "expectedDeliveryDate"}


def test_padded_number_detail(usps_sim: tuple[Simulation, TestClient]) -> None:
    sim, client = usps_sim
    clean, faulted = _observe(sim, client, "quirk", "padded_number", _detail)
    # NOTES §3.8: the routing-code form 420 + ZIP5 + IMpb, still the same mail piece.
    routed = "420" + clean["destinationZIP"] + A
    assert faulted["trackingNumber"] == routed and numbers.format_of("usps", routed) == "impb30"
    assert faulted == {**clean, "trackingNumber": routed}
    clean, faulted = _observe(sim, client, "quirk", "padded_number", _detail, LEGACY)
    assert faulted == {**clean, "trackingNumber": LEGACY.ljust(34)}
    clean, faulted = _observe(sim, client, "quirk", "padded_number", _summary)
    assert faulted == {**clean, "trackingNumber": routed}


def test_lowercase_number_detail(usps_sim: tuple[Simulation, TestClient]) -> None:
    sim, client = usps_sim
    clean, faulted = _observe(sim, client, "quirk", "lowercase_number", _detail, S10)
    assert faulted == {**clean, "trackingNumber": S10.lower()} and S10.lower() != S10
    # A number of digits only has no lower case: the quirk cannot show.
    clean, faulted = _observe(sim, client, "quirk", "lowercase_number", _detail)
    assert faulted == clean


@pytest.mark.parametrize("mode", ["missing_offsets", "wrong_offsets", "unknown_codes"])
def test_summary_has_nothing_these_quirks_touch(
    usps_sim: tuple[Simulation, TestClient], mode: str
) -> None:
    clean, faulted = _observe(*usps_sim, "quirk", mode, _summary)
    assert faulted == clean


# ------------------------------------------------------------------------ format quirks (3.2)


def test_missing_offsets_v3r2(usps_sim: tuple[Simulation, TestClient]) -> None:
    clean, faulted = _observe(*usps_sim, "quirk", "missing_offsets", _batch_item)
    expected = copy.deepcopy(clean)
    for event in _events(expected):
        assert event["eventTimestamp"][19:] in ("-05:00", "-06:00", "-07:00", "-08:00", "-04:00")
        event["eventTimestamp"] = event["eventTimestamp"][:19]
        del event["GMTTimestamp"], event["GMTOffset"]
    assert faulted == expected


def test_wrong_offsets_v3r2(usps_sim: tuple[Simulation, TestClient]) -> None:
    clean, faulted = _observe(*usps_sim, "quirk", "wrong_offsets", _batch_item)
    for before, after in zip(_events(clean), _events(faulted), strict=True):
        assert after["eventTimestamp"][:19] == before["eventTimestamp"][:19]
        assert after["eventTimestamp"][19:] != before["eventTimestamp"][19:]
        assert (after["eventTimestamp"][19:], after["GMTOffset"]) in (
            ("+00:00", "+0:00"),
            ("-05:00", "-5:00"),
        )
        assert after["GMTTimestamp"] == before["GMTTimestamp"]
        after["eventTimestamp"], after["GMTOffset"] = before["eventTimestamp"], before["GMTOffset"]
    assert faulted == clean


@pytest.mark.parametrize("get", [_detail, _batch_item], ids=["3.0", "3.2"])
def test_missing_offsets_leave_nothing_for_wrong_offsets(
    usps_sim: tuple[Simulation, TestClient], get: Any
) -> None:
    # Both quirks on one number: the answer is missing_offsets' alone. 3.2 once printed the
    # wrong offset back onto the stripped eventTimestamp, an instant with nothing to
    # correct it by.
    sim, client = usps_sim
    _fault(sim, "quirk", "missing_offsets")
    stripped = get(client, A)
    assert all("GMTOffset" not in e for e in _events(stripped))
    _fault(sim, "quirk", "wrong_offsets")
    assert get(client, A) == stripped


def test_unknown_codes_and_empty_events_v3r2(usps_sim: tuple[Simulation, TestClient]) -> None:
    clean, faulted = _observe(*usps_sim, "quirk", "unknown_codes", _batch_item)
    assert _events(faulted)[0]["eventCode"] not in DOCUMENTED_CODES
    _events(faulted)[0]["eventCode"] = _events(clean)[0]["eventCode"]
    assert faulted == clean
    clean, faulted = _observe(*usps_sim, "quirk", "empty_events", _batch_item)
    assert _events(clean) and faulted == {**clean, "trackingEvents": []}


def test_missing_optional_fields_v3r2(usps_sim: tuple[Simulation, TestClient]) -> None:
    clean, faulted = _observe(*usps_sim, "quirk", "missing_optional_fields", _batch_item)
    assert "deliveryDateExpectation" in clean and "servicesEligibility" in clean
    expected = copy.deepcopy(clean)
    del expected["deliveryDateExpectation"], expected["servicesEligibility"]
    for event in _events(expected):
        for key in (
            "eventCity",
            "eventCountry",
            "eventState",
            "eventZIPCode",
            "firm",
            "recipientName",
        ):
            event.pop(key, None)
    assert faulted == expected
    assert any("eventCity" in e for e in _events(clean))


def test_number_quirks_v3r2(usps_sim: tuple[Simulation, TestClient]) -> None:
    sim, client = usps_sim
    clean, faulted = _observe(sim, client, "quirk", "padded_number", _batch_item)
    routed = "420" + clean["destinationZIPCode"] + A
    assert faulted == {**clean, "trackingNumber": routed}
    clean, faulted = _observe(sim, client, "quirk", "lowercase_number", _batch_item, S10)
    assert faulted == {**clean, "trackingNumber": S10.lower()}


# ---------------------------------------------------------------------------- timeline quirks


def test_out_of_order_swaps_the_two_newest_scans(usps_sim: tuple[Simulation, TestClient]) -> None:
    clean, faulted = _observe(*usps_sim, "quirk", "out_of_order", _detail)
    stamps = [e["eventTimestamp"] for e in _events(clean)]
    assert [e["eventTimestamp"] for e in _events(faulted)] == [stamps[1], stamps[0], *stamps[2:]]


def test_scenario_declared_quirk(make_sim: SimFactory, library: list[Scenario]) -> None:
    # The bundled missing-offsets scenario declares the fault for its own numbers only.
    sim, client = make_sim(scenarios=library)
    sim.clock.freeze(TENANT, at=EPOCH + timedelta(days=30))
    quirked = _detail(client, "9471654699910847190966")
    assert quirked["trackingEvents"] and all("GMTOffset" not in e for e in _events(quirked))
    clean = _detail(client, "9596222940883160698474")  # delivered-on-time
    assert any("GMTOffset" in e for e in _events(clean))


# --------------------------------------------------------------------------------------- lies


def test_ok_with_error_single_number(usps_sim: tuple[Simulation, TestClient]) -> None:
    sim, client = usps_sim
    _fault(sim, "lie", "ok_with_error")
    for params in ({"expand": "DETAIL"}, {}):
        r = client.get(V3 + A, params=params, headers=_auth(client))
        # The 3.0 not-yet-available error, as production words it, inside a 200.
        assert r.status_code == 200
        assert r.json()["error"]["errors"][0]["code"] == "150001"
        assert r.json()["error"]["code"] == "400"
    assert "error" not in _detail(client, B)


def _not_found_item(number: str) -> dict[str, Any]:
    return {
        "statusCode": "404",
        "trackingNumber": number,
        "apiVersion": "/tracking/v3r2",
        "error": {
            "code": "404",
            "message": "",
            "errors": [
                {
                    "title": "",
                    "detail": usps.NOT_YET_AVAILABLE_V3R2,
                    "status": "404",
                    "code": "150006",
                }
            ],
        },
    }


def test_ok_with_error_batch(usps_sim: tuple[Simulation, TestClient]) -> None:
    sim, client = usps_sim
    request = [{"trackingNumber": A}, {"trackingNumber": B}]
    clean = client.post(V3R2, json=request, headers=_auth(client)).json()
    _fault(sim, "lie", "ok_with_error")
    r = client.post(V3R2, json=request, headers=_auth(client))
    # The lie reaches only the number it was aimed at: a 207 mixing A's 404 with B's truth.
    assert r.status_code == 207
    assert r.json() == [_not_found_item(A), {"statusCode": "200", **clean[1]}]
    # Without the faulted number in it, the same batch is clean.
    r = client.post(
        V3R2, json=[{"trackingNumber": B}, {"trackingNumber": C}], headers=_auth(client)
    )
    assert r.status_code == 200 and all("error" not in item for item in r.json())
    # Aimed at every found number: each a 404 item, and still HTTP 200.
    _fault(sim, "lie", "ok_with_error", B)
    r = client.post(V3R2, json=request, headers=_auth(client))
    assert r.status_code == 200
    assert r.json() == [_not_found_item(A), _not_found_item(B)]


def test_mixed_results_batch(usps_sim: tuple[Simulation, TestClient]) -> None:
    sim, client = usps_sim
    request = [{"trackingNumber": n} for n in (A, B, C)]
    clean = client.post(V3R2, json=request, headers=_auth(client)).json()
    _fault(sim, "lie", "mixed_results")
    # One number cannot be mixed: as ok_with_error, alone or beside numbers it spares.
    r = client.post(V3R2, json=[{"trackingNumber": A}], headers=_auth(client))
    assert r.status_code == 200 and r.json() == [_not_found_item(A)]
    r = client.post(V3R2, json=request, headers=_auth(client))
    assert r.status_code == 207
    assert r.json() == [_not_found_item(A), *({"statusCode": "200", **c} for c in clean[1:])]
    # Aimed at all three: every second one of them "not found".
    _fault(sim, "lie", "mixed_results", B)
    _fault(sim, "lie", "mixed_results", C)
    r = client.post(V3R2, json=request, headers=_auth(client))
    assert r.status_code == 207
    first, second, third = r.json()
    assert second == _not_found_item(B)  # exists, yet "not found"
    assert first == {"statusCode": "200", **clean[0]}
    assert third == {"statusCode": "200", **clean[2]}
    validate("usps", "usps.track_batch", 207, r.json())


def test_mixed_results_single_number_is_ok_with_error(
    usps_sim: tuple[Simulation, TestClient],
) -> None:
    sim, client = usps_sim
    _fault(sim, "lie", "mixed_results")
    r = client.get(V3 + A, params={"expand": "DETAIL"}, headers=_auth(client))
    assert r.status_code == 200 and r.json()["error"]["errors"][0]["code"] == "150001"


def test_wrong_number(usps_sim: tuple[Simulation, TestClient]) -> None:
    sim, client = usps_sim
    clean, faulted = _observe(sim, client, "lie", "wrong_number", _detail)
    other = faulted["trackingNumber"]
    assert other != A and numbers.format_of("usps", other) == numbers.format_of("usps", A)
    assert other == usps.other_number(A)  # deterministic
    assert faulted["uniqueMailPieceID"] != clean["uniqueMailPieceID"]  # another mail piece
    assert faulted == {
        **clean,
        "trackingNumber": other,
        "uniqueMailPieceID": faulted["uniqueMailPieceID"],
    }
    clean, faulted = _observe(sim, client, "lie", "wrong_number", _batch_item, S10)
    assert faulted["trackingNumber"] == usps.other_number(S10) != S10
    assert numbers.format_of("usps", faulted["trackingNumber"]) == "s10"


@pytest.mark.parametrize("fmt", numbers.formats("usps"))
def test_other_number_keeps_the_format(fmt: str) -> None:
    for i in range(20):
        number = numbers.generate("usps", random.Random(f"{fmt}-{i}"), fmt)
        other = usps.other_number(number)
        assert other != number and numbers.format_of("usps", other) == fmt
