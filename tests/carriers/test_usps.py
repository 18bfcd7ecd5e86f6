"""USPS over HTTP: OAuth v3 token, Tracking 3.0 (GET) and 3.2 (POST), vs NOTES §3 and the specs.

Where production (NOTES [obs]) or a defect of the official schema makes a body fail
``spec_validation.validate``, a dedicated test below proves exactly that deviation and
validates everything else; the scenario sweep then uses the same repaired checks.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from simulator import numbers
from simulator.carriers import usps
from simulator.engine import Simulation
from simulator.scenario import EventKind, ExceptionReason, Scenario
from simulator.timeline import Shipment
from tests.conftest import EPOCH, SimFactory
from tests.contract.spec_validation import load_spec, schema_validator, validate

TOKEN = "/oauth2/v3/token"
V3 = "/tracking/v3/tracking/"
V3R2 = "/tracking/v3r2/tracking"
TENANT = "usps-tenant"
SECRET = "s3cret"

SCENARIO_NAMES = (
    "address-corrected", "cancelled", "customs-hold-released", "damaged", "delivered-late",
    "delivered-on-time", "failed-attempt-held-for-pickup", "label-created-never-shipped",
    "lost-in-transit", "out-for-delivery", "returned-to-sender", "weather-delay",
)  # fmt: skip
"""Every bundled scenario that is found (unknown-number is tested on its own)."""


def _number(name: str) -> str:
    return numbers.generate("usps", random.Random(f"usps-test-{name}"))


NUMBERS = {name: _number(name) for name in (*SCENARIO_NAMES, "unknown-number")}
UNDECLARED = _number("never-declared")

# ------------------------------------------------------------------ expected carrier values

# NOTES §3.5 / USPS-CODES event codes the module must print per canonical kind; None where
# NOTES has no USPS code (customs) and the module prints an explicit null.
KIND_CODES: dict[EventKind, str | None] = {
    EventKind.label_created: "GX",
    EventKind.picked_up: "03",
    EventKind.in_transit: "TL",
    EventKind.customs_hold: None,
    EventKind.customs_cleared: None,
    EventKind.out_for_delivery: "OF",
    EventKind.delivery_attempted: "52",
    EventKind.available_for_pickup: "16",
    EventKind.delivered: "01",
    EventKind.address_corrected: "06",
    EventKind.returned_to_sender: "09",
    EventKind.cancelled: "44",
}
REASON_CODES: dict[ExceptionReason, str | None] = {
    ExceptionReason.weather: None,
    ExceptionReason.delay: None,
    ExceptionReason.address: "22",
    ExceptionReason.damaged: None,
    ExceptionReason.lost: None,
    ExceptionReason.refused: "04",
    ExceptionReason.recipient_unavailable: "56",
}


def expected_code(shipment: Shipment, i: int) -> str | None:
    """The eventCode NOTES §3.5 calls for; facility scans depend on where they happen."""
    event = shipment.events[i]
    if event.kind is EventKind.exception:
        assert event.reason is not None
        return REASON_CODES[event.reason]
    if event.kind is EventKind.arrived_at_facility:
        if event.place == shipment.recipient.place:
            return "07"  # Arrived at Post Office
        earlier = any(e.kind is EventKind.arrived_at_facility for e in shipment.events[:i])
        if event.place != shipment.shipper.place and not earlier:
            return "10"  # Arrived at USPS Regional Origin Facility
        return "A1"  # Arrived at USPS Regional Facility
    if event.kind is EventKind.departed_facility:
        return "SF" if event.place == shipment.shipper.place else "T1"
    return KIND_CODES[event.kind]


NOT_YET_V3 = {
    "apiVersion": "/tracking/v3",
    "error": {
        "code": "400",
        "message": usps.NOT_YET_AVAILABLE_V3,
        "errors": [{"title": usps.NOT_YET_AVAILABLE_V3, "detail": "", "code": "150001"}],
    },
}
MAY_BE_INCORRECT_V3 = {
    "apiVersion": "/tracking/v3",
    "error": {
        "code": "400",
        "message": usps.MAY_BE_INCORRECT_V3,
        "errors": [{"title": usps.MAY_BE_INCORRECT_V3, "detail": "", "code": "150002"}],
    },
}
V3R2_NOT_FOUND_ERROR = {
    "title": "",
    "detail": usps.NOT_YET_AVAILABLE_V3R2,
    "status": "404",
    "code": "150006",
}


def unauthorized_body(api: str) -> dict[str, Any]:
    """[obs: USPS-ISS #56] the 401 body."""
    return {
        "apiVersion": api,
        "error": {
            "code": "401",
            "message": "The client application identifier is invalid.",
            "errors": [],
        },
    }


# ---------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def declared(bundled: list[Scenario]) -> list[Scenario]:
    """The bundled scenarios, each declaring its own USPS test number."""
    return [s.model_copy(update={"numbers": {"usps": (NUMBERS[s.name],)}}) for s in bundled]


@pytest.fixture
def usps_sim(make_sim: SimFactory, declared: list[Scenario]) -> tuple[Simulation, TestClient]:
    """A simulator whose scenarios declare the numbers in NUMBERS."""
    return make_sim(scenarios=declared)


def get_token(client: TestClient, client_id: str = TENANT, **extra: str) -> dict[str, Any]:
    """A token response body (asserting 200)."""
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": SECRET}
    response = client.post(TOKEN, json={**form, **extra})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def auth(client: TestClient, client_id: str = TENANT, **extra: str) -> dict[str, str]:
    """Authorization headers with a fresh token for the client id."""
    return {"Authorization": f"Bearer {get_token(client, client_id, **extra)['access_token']}"}


# ------------------------------------------------------------ schema helpers (spec defects)


def component(spec: str, name: str) -> Any:
    """A validator for one component schema of a USPS spec (spec_validation's dialect)."""
    return schema_validator(spec, f"/components/schemas/{name}")


V3_SPEC = "usps/tracking-v3.yaml"
V3R2_SPEC = "usps/tracking-v3r2_4.yaml"
OAUTH_SPEC = "usps/oauth2_3_update.yaml"

V3_BOOLEANS = (
    "emailEnabled", "kahalaIndicator", "proofOfDeliveryEnabled", "restoreEnabled",
    "RRAMEnabled", "RREEnabled",
)  # fmt: skip


def unquirk_v3(body: dict[str, Any]) -> dict[str, Any]:
    """The DETAIL body with NOTES §3.4's production quirks undone, each asserted on the way.

    Booleans-as-strings become booleans, explicit nulls are dropped, and the live
    ``mailClass`` (HTML name) / ``mailType`` (``DM``/``IM``), which the spec's enums reject,
    are removed after checking their live form.
    """
    out = {k: v for k, v in body.items() if v is not None}
    for key in V3_BOOLEANS:
        assert out[key] in ("true", "false"), key
        out[key] = out[key] == "true"
    assert "<SUP>" in out.pop("mailClass") or not body["mailClass"].startswith("USPS")
    assert out.pop("mailType") in ("DM", "IM")
    events = []
    for event in out["trackingEvents"]:
        e = {k: v for k, v in event.items() if v is not None}
        assert e["authorizedAgent"] in ("true", "false")
        e["authorizedAgent"] = e["authorizedAgent"] == "true"
        events.append(e)
    out["trackingEvents"] = events
    return out


def assert_v3_detail_valid(body: dict[str, Any]) -> None:
    """Everything of a DETAIL body the spec can check, quirks aside (see the dedicated test).

    Formats are not asserted: the live local timestamps are not RFC 3339 (NOTES §3.4); the
    sweep parses every timestamp itself instead.
    """
    validate("usps", "usps.track", 200, unquirk_v3(body), check_formats=False)


def assert_v3_summary_valid(body: dict[str, Any]) -> None:
    """A SUMMARY body against the spec's TrackingSummary (see the oneOf defect test)."""
    validate("usps", "usps.track", 200, body, media_type="application/vnd.usps.TrackSummary+json")


_V3R2_PARTS = {
    "deliveryDateExpectation": "DeliveryDateExpectation",
    "servicesEligibility": "ServicesEligibility",
    "trackingEvents": "TrackingEvents",
}


def assert_v3r2_item_valid(item: dict[str, Any]) -> None:
    """One 3.2 TrackingDetail checked part by part (see the allOf defect test)."""
    shared = {k: v for k, v in item.items() if k not in _V3R2_PARTS and k != "statusCode"}
    errors = list(component(V3R2_SPEC, "SharedTrackingDetail").iter_errors(shared))
    for key, name in _V3R2_PARTS.items():
        if key in item:
            errors += component(V3R2_SPEC, name).iter_errors(item[key])
    assert not errors, errors
    assert "servicesEligibility" in item and "trackingEvents" in item


# ------------------------------------------------------------------------------ token flow


def test_token_json_body_has_the_documented_fields(usps_sim: tuple[Simulation, TestClient]) -> None:
    sim, client = usps_sim
    sim.clock.freeze(TENANT, at=EPOCH)
    body = get_token(client)
    assert list(body) == [
        "access_token", "token_type", "issued_at", "expires_in", "status", "scope", "issuer",
        "client_id", "application_name", "api_products", "public_key",
    ]  # fmt: skip
    assert body["token_type"] == "Bearer"
    assert body["issued_at"] == int(EPOCH.timestamp() * 1000)  # epoch ms, integer
    assert body["expires_in"] == 28799 and isinstance(body["expires_in"], int)
    assert body["status"] == "approved"
    assert "tracking" in body["scope"].split(" ")
    assert body["issuer"] == "api.usps.com"
    assert body["client_id"] == TENANT
    assert body["api_products"] == "[Shipping-Silver]"
    assert body["access_token"].startswith("eyJ") and body["access_token"].count(".") == 2
    assert_token_body_valid(body)


def test_token_form_body_and_basic_credentials(usps_sim: tuple[Simulation, TestClient]) -> None:
    _, client = usps_sim
    form = {"grant_type": "client_credentials", "client_id": "formy", "client_secret": "x"}
    response = client.post(TOKEN, data=form)
    assert response.status_code == 200
    assert response.json()["client_id"] == "formy"
    # RFC 6749 §2.3.1: the client may authenticate with HTTP Basic instead of body fields.
    response = client.post(
        TOKEN, data={"grant_type": "client_credentials"}, auth=("basic-client", "pw")
    )
    assert response.status_code == 200
    assert response.json()["client_id"] == "basic-client"


def oauth_error(error: str, description: str) -> dict[str, str]:
    """RFC 6749 error body with the live error_uri [obs: KAR-USPS]."""
    return {"error": error, "error_description": description, "error_uri": usps.ERROR_URI}


BAD_CLIENT = oauth_error("invalid_client", "Client authentication failed.")

TOKEN_ERRORS: dict[str, tuple[dict[str, Any], int, dict[str, str]]] = {
    "text/plain body": (
        {"content": b"grant_type=client_credentials", "headers": {"content-type": "text/plain"}},
        400,
        oauth_error("invalid_request", "Send the token request as "
                    "application/x-www-form-urlencoded or application/json."),
    ),
    "no content type": (
        {"content": b'{"grant_type":"client_credentials"}'},
        400,
        oauth_error("invalid_request", "Send the token request as "
                    "application/x-www-form-urlencoded or application/json."),
    ),
    "malformed json": (
        {"content": b"{grant_type:", "headers": {"content-type": "application/json"}},
        400,
        oauth_error("invalid_request", "The request body must be a JSON object."),
    ),
    "json nested too deep": (
        {"content": b"[" * 100_000, "headers": {"content-type": "application/json"}},
        400,
        oauth_error("invalid_request", "The request body must be a JSON object."),
    ),
    "json array": (
        {"json": [{"grant_type": "client_credentials"}]},
        400,
        oauth_error("invalid_request", "The request body must be a JSON object."),
    ),
    "malformed form": (
        {"content": b"a=1&&=&b", "headers": {"content-type": "application/x-www-form-urlencoded"}},
        400,
        oauth_error("invalid_request",
                    "The request body is not valid application/x-www-form-urlencoded."),
    ),
    "grant type missing": (
        {"json": {"client_id": "a", "client_secret": "b"}},
        400,
        oauth_error("invalid_request", "The parameter grant_type is missing."),
    ),
    "grant type not a string": (
        {"json": {"grant_type": 1, "client_id": "a", "client_secret": "b"}},
        400,
        oauth_error("invalid_request", "The parameter grant_type must be a string."),
    ),
    "password grant": (
        {"json": {"grant_type": "password", "client_id": "a", "client_secret": "b"}},
        400,
        oauth_error("unsupported_grant_type", "The grant type password is not supported."),
    ),
    "refresh token never issued": (
        {"json": {"grant_type": "refresh_token", "client_id": "a", "client_secret": "b",
                  "refresh_token": "x"}},
        400,
        oauth_error("invalid_grant",
                    "The refresh token is missing, invalid, expired or revoked."),
    ),
    "scope not a string": (
        {"json": {"grant_type": "client_credentials", "client_id": "a", "client_secret": "b",
                  "scope": ["tracking"]}},
        400,
        oauth_error("invalid_request", "The parameter scope must be a string."),
    ),
    "client id missing": (
        {"json": {"grant_type": "client_credentials", "client_secret": "b"}}, 401, BAD_CLIENT,
    ),
    "client id empty": (
        {"json": {"grant_type": "client_credentials", "client_id": "", "client_secret": "b"}},
        401,
        BAD_CLIENT,
    ),
    "client secret missing": (
        {"json": {"grant_type": "client_credentials", "client_id": "a"}}, 401, BAD_CLIENT,
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(TOKEN_ERRORS))
def test_token_errors(usps_sim: tuple[Simulation, TestClient], case: str) -> None:
    _, client = usps_sim
    request, status, expected = TOKEN_ERRORS[case]
    response = client.post(TOKEN, **request)
    assert response.status_code == status
    assert response.json() == expected
    if status == 401:
        assert response.headers["www-authenticate"] == 'Bearer realm="https://api.usps.com"'
    else:
        assert "www-authenticate" not in response.headers
    validate("usps", "usps.token", status, response.json())


def test_token_credentials_are_checked_when_settings_list_them(make_sim: SimFactory) -> None:
    _, client = make_sim(credentials={"usps": {"known": "right"}})
    grant = {"grant_type": "client_credentials"}
    for client_id, secret in (("stranger", "right"), ("known", "wrong")):
        response = client.post(
            TOKEN, json={**grant, "client_id": client_id, "client_secret": secret}
        )
        assert response.status_code == 401
        assert response.json() == BAD_CLIENT
        assert response.headers["www-authenticate"] == 'Bearer realm="https://api.usps.com"'
    ok = client.post(TOKEN, json={**grant, "client_id": "known", "client_secret": "right"})
    assert ok.status_code == 200


@pytest.mark.parametrize(
    ("requested", "granted"),
    [("prices labels", "prices labels"), ("tracking", "tracking"), ("nonsense", "")],
)
def test_requested_scope_is_narrowed(
    usps_sim: tuple[Simulation, TestClient], requested: str, granted: str
) -> None:
    # [obs: USPS-ISS #28] scopes the app does not hold are dropped, down to an empty scope.
    _, client = usps_sim
    body = get_token(client, scope=requested)
    assert body["scope"] == granted


# ----------------------------------------------------------------------- tracking auth (401)


def _other_carrier_token(sim: Simulation) -> str:
    token, _ = sim.tokens.issue(
        carrier="ups", client_id=TENANT, tenant=TENANT, now=sim.clock.now(TENANT), lifetime=999
    )
    return token


def _tampered(token: str) -> str:
    head, payload, signature = token.split(".")
    return f"{head}.{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"


AUTH_PROBLEMS = ("missing", "garbage", "three garbage parts", "basic scheme", "tampered",
                 "other carrier", "expired", "no tracking scope")  # fmt: skip


def _headers_for(problem: str, sim: Simulation, client: TestClient) -> dict[str, str]:
    if problem == "missing":
        return {}
    if problem == "garbage":
        return {"Authorization": "Bearer not-a-token"}
    if problem == "three garbage parts":
        return {"Authorization": "Bearer a.b.c"}
    token = get_token(client)["access_token"]
    if problem == "basic scheme":
        return {"Authorization": f"Basic {token}"}
    if problem == "tampered":
        return {"Authorization": f"Bearer {_tampered(token)}"}
    if problem == "other carrier":
        return {"Authorization": f"Bearer {_other_carrier_token(sim)}"}
    if problem == "expired":
        sim.clock.advance(TENANT, timedelta(seconds=usps.TOKEN_LIFETIME))
        return {"Authorization": f"Bearer {token}"}
    assert problem == "no tracking scope"
    return auth(client, scope="prices labels")


def _track_both(
    client: TestClient, number: str, headers: dict[str, str]
) -> Iterator[tuple[str, Any]]:
    yield "/tracking/v3", client.get(V3 + number, params={"expand": "DETAIL"}, headers=headers)
    yield "/tracking/v3r2", client.post(V3R2, json=[{"trackingNumber": number}], headers=headers)


@pytest.mark.parametrize("problem", AUTH_PROBLEMS)
def test_tracking_refuses_bad_tokens(usps_sim: tuple[Simulation, TestClient], problem: str) -> None:
    sim, client = usps_sim
    sim.clock.freeze(TENANT, at=EPOCH)
    headers = _headers_for(problem, sim, client)
    for api, response in _track_both(client, NUMBERS["delivered-on-time"], headers):
        assert response.status_code == 401, (api, response.text)
        expected = unauthorized_body(api)
        if problem == "other carrier":
            expected["error"]["errors"] = [
                {
                    "status": "401",
                    "title": "Unauthorized",
                    "detail": "this is another carrier's access token (UPS), not a USPS one; "
                    "get a USPS token from POST /oauth2/v3/token",
                }
            ]
        assert response.json() == expected
        assert response.headers["www-authenticate"] == 'Bearer realm="https://api.usps.com"'
        validate("usps", "usps.track" if api.endswith("v3") else "usps.track_batch", 401,
                 response.json())  # fmt: skip


def test_token_is_valid_until_its_last_second(usps_sim: tuple[Simulation, TestClient]) -> None:
    sim, client = usps_sim
    sim.clock.freeze(TENANT, at=EPOCH)
    headers = auth(client)
    sim.clock.advance(TENANT, timedelta(seconds=usps.TOKEN_LIFETIME - 1))
    for _, response in _track_both(client, NUMBERS["delivered-on-time"], headers):
        assert response.status_code == 200
    sim.clock.advance(TENANT, timedelta(seconds=1))
    for _, response in _track_both(client, NUMBERS["delivered-on-time"], headers):
        assert response.status_code == 401


def test_token_is_bound_to_its_tenant_clock(usps_sim: tuple[Simulation, TestClient]) -> None:
    sim, client = usps_sim
    sim.clock.freeze("tenant-a", at=EPOCH - timedelta(days=30))
    sim.clock.freeze("tenant-b", at=EPOCH + timedelta(days=30))
    number = NUMBERS["delivered-on-time"]
    a = client.get(V3 + number, params={"expand": "DETAIL"}, headers=auth(client, "tenant-a"))
    b = client.get(V3 + number, params={"expand": "DETAIL"}, headers=auth(client, "tenant-b"))
    assert a.status_code == 400 and a.json() == NOT_YET_V3
    assert b.status_code == 200 and b.json()["statusCategory"] == "Delivered"
    # The tenant header names the tenant too (tenant_for), overriding the credential.
    c = client.post(
        TOKEN,
        json={"grant_type": "client_credentials", "client_id": "x", "client_secret": "y"},
        headers={"x-carriersim-tenant": "tenant-b"},
    )
    headers = {"Authorization": f"Bearer {c.json()['access_token']}"}
    assert client.get(V3 + number, headers=headers).status_code == 200


# ------------------------------------------------------- production vs spec: dedicated tests


def assert_token_body_valid(body: dict[str, Any]) -> None:
    """The token body against every part of the spec that can hold it (see the defect test)."""
    errors = list(component(OAUTH_SPEC, "AccessTokenResponse").iter_errors(body))
    provider = load_spec(OAUTH_SPEC)["components"]["schemas"]["ProviderAccessTokenResponse"]
    fields = provider["allOf"][1]["properties"]
    assert set(body) <= {"access_token", "token_type", "expires_in", "scope", *fields}
    for name in fields:
        sub = f"ProviderAccessTokenResponse/allOf/1/properties/{name}"
        errors += component(OAUTH_SPEC, sub).iter_errors(body[name])
    assert not errors, errors


def test_token_200_schema_is_unsatisfiable_without_refresh_token(
    usps_sim: tuple[Simulation, TestClient],
) -> None:
    # The spec's 200 is oneOf ProviderAccessTokenResponse / ProviderTokensResponse. The first
    # puts additionalProperties:false beside an allOf, which in draft 4 forbids every
    # property; the second requires refresh_token, which a client_credentials grant never
    # gets (spec example clientCredentialsTokenResponse; NOTES §3.2). So the spec's own
    # example fails exactly as our body does, and both pass field by field.
    _, client = usps_sim
    body = get_token(client)
    example = load_spec(OAUTH_SPEC)["components"]["examples"]["clientCredentialsTokenResponse"]
    for candidate in (body, example["value"]):
        with pytest.raises(AssertionError, match="'refresh_token' is a required property"):
            validate("usps", "usps.token", 200, candidate)
        assert_token_body_valid(candidate)


def _detail(client: TestClient, number: str, headers: dict[str, str]) -> dict[str, Any]:
    response = client.get(V3 + number, params={"expand": "DETAIL"}, headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_v3_detail_imitates_production_not_the_spec(
    usps_sim: tuple[Simulation, TestClient],
) -> None:
    # NOTES §3.4 live quirks [obs: KAR-USPS, USPS-FIX]: booleans as strings, explicit nulls,
    # HTML-entity mailClass outside the spec's enum, mailType "DM", local eventTimestamp
    # without offset (seconds :00), GMTTimestamp "…Z", GMTOffset "-06:00", and no GMT fields on
    # the pre-shipment (label created) scan. The raw body therefore fails the spec...
    sim, client = usps_sim
    sim.clock.freeze(TENANT, at=EPOCH + timedelta(days=30))
    body = _detail(client, NUMBERS["delivered-on-time"], auth(client))
    with pytest.raises(AssertionError) as failed:
        validate("usps", "usps.track", 200, body)
    message = str(failed.value)
    assert "'true' is not of type 'boolean'" in message or "is not of type 'boolean'" in message
    # ...on exactly those points: undone, the rest validates; with formats asserted, only
    # the local timestamps without offset (and the live "YYYY-MM-DD hh:mm:ss.ffffff" intake
    # date) are not RFC 3339 date-times.
    assert_v3_detail_valid(body)
    errors = list(component(V3_SPEC, "TrackingDetails").iter_errors(unquirk_v3(body)))
    assert errors and all(e.validator == "format" for e in errors)
    assert {e.path[-1] for e in errors} == {"eventTimestamp", "mailPieceIntakeDate"}
    assert body["emailEnabled"] == "true" and body["kahalaIndicator"] == "false"
    assert body["mailClass"] == "USPS Ground Advantage<SUP>&#153;</SUP>"
    assert body["mailType"] == "DM"
    assert body["services"] == ["USPS Tracking<SUP>&#174;</SUP>", "Up to $100 insurance included"]
    assert body["tableCode"] == "T"
    first, last = body["trackingEvents"][0], body["trackingEvents"][-1]
    assert first["eventTimestamp"].endswith(":00") and "+" not in first["eventTimestamp"]
    assert first["eventTimestamp"].count("-") == 2
    assert first["GMTTimestamp"].endswith("Z")
    assert len(first["GMTOffset"]) == 6 and first["GMTOffset"][3] == ":"
    assert first["eventCountry"] is None and first["additionalProp"] is None
    assert first["authorizedAgent"] == "false"
    assert last["eventCode"] == "GX"
    assert "GMTTimestamp" not in last and "GMTOffset" not in last
    # The spec form does reject each quirk on its own.
    detail = component(V3_SPEC, "TrackingDetails")
    assert not detail.is_valid({"emailEnabled": "true"})
    assert not detail.is_valid({"mailClass": body["mailClass"]})
    assert not detail.is_valid({"mailType": "DM"})
    assert not detail.is_valid({"trackingEvents": [{"firm": None}]})


def test_v3_summary_follows_the_spec_but_its_oneof_is_ambiguous(
    usps_sim: tuple[Simulation, TestClient],
) -> None:
    # SUMMARY follows the spec's TrackingSummary (see the module docstring: NOTES' Web Tools
    # shaped example is the v1 API's). The 200 schema is oneOf TrackingSummary /
    # TrackingDetails, and TrackingDetails has no required field and allows any property, so
    # every TrackingSummary matches both branches and no summary can pass the oneOf.
    sim, client = usps_sim
    sim.clock.freeze(TENANT, at=EPOCH)
    response = client.get(V3 + NUMBERS["out-for-delivery"], headers=auth(client))
    body = response.json()
    assert response.status_code == 200
    assert list(body) == ["trackingNumber", "expectedDeliveryDate", "eventSummaries"]
    with pytest.raises(AssertionError, match="is valid under each of"):
        validate("usps", "usps.track", 200, body)
    assert_v3_summary_valid(body)
    assert component(V3_SPEC, "TrackingDetails").is_valid(body)


def test_v3r2_detail_follows_the_spec_whose_allof_rejects_it(
    usps_sim: tuple[Simulation, TestClient],
) -> None:
    # TrackingDetail = allOf [SharedTrackingDetail (additionalProperties: false), {delivery
    # DateExpectation}, {servicesEligibility}, {trackingEvents}]: draft 4 checks
    # additionalProperties per subschema, so the spec rejects the very properties its other
    # allOf parts define (servicesEligibility is even required). Only that fails.
    sim, client = usps_sim
    sim.clock.freeze(TENANT, at=EPOCH)
    response = client.post(
        V3R2, json=[{"trackingNumber": NUMBERS["out-for-delivery"]}], headers=auth(client)
    )
    assert response.status_code == 200
    body = response.json()
    with pytest.raises(AssertionError) as failed:
        validate("usps", "usps.track_batch", 200, body)
    lines = [line for line in str(failed.value).splitlines() if line.strip().startswith("at ")]
    assert len(lines) == 1 and "Additional properties are not allowed" in lines[0]
    assert "servicesEligibility" in lines[0] and "trackingEvents" in lines[0]
    assert_v3r2_item_valid(body[0])
    assert body[0]["kahalaIndicator"] is False  # real booleans in 3.2 (spec types)
    assert body[0]["deliveryDateExpectation"]["expectedDeliveryDate"]


# -------------------------------------------------------------- scenario sweep (timelines)


def clock_points(shipment: Shipment) -> list[datetime]:
    """Before the start, each event instant and one second before it, long after the end."""
    points = [shipment.t0 - timedelta(hours=1)]
    for event in shipment.events:
        points += [event.at - timedelta(seconds=1), event.at]
    points.append(shipment.events[-1].at + timedelta(days=30))
    return points


def _offset(text: str) -> timedelta:
    sign = -1 if text.startswith("-") else 1
    hours, minutes = text.lstrip("+-").split(":")
    return sign * timedelta(hours=int(hours), minutes=int(minutes))


def check_detail(shipment: Shipment, count: int, body: dict[str, Any]) -> None:
    """DETAIL shows exactly the due events, newest first, times and codes as mapped."""
    assert_v3_detail_valid(body)
    assert body["trackingNumber"] == shipment.number
    events = body["trackingEvents"]
    assert len(events) == count
    for rendered, i in zip(events, range(count - 1, -1, -1), strict=True):
        event = shipment.events[i]
        assert rendered["eventCode"] == expected_code(shipment, i)
        local = datetime.fromisoformat(rendered["eventTimestamp"])
        assert local.tzinfo is None
        assert local == event.local.replace(tzinfo=None, second=0, microsecond=0)
        if event.kind is EventKind.label_created:
            assert "GMTTimestamp" not in rendered and "GMTOffset" not in rendered
            continue
        gmt = datetime.strptime(rendered["GMTTimestamp"], "%Y-%m-%dT%H:%M:%SZ")
        assert gmt.replace(tzinfo=UTC) == event.at
        offset = _offset(rendered["GMTOffset"])
        assert offset == event.local.utcoffset()
        assert (local - offset).replace(tzinfo=UTC) == event.at.replace(second=0)
        if event.kind is EventKind.delivered:
            assert rendered["name"] == shipment.signer.upper()
    latest = usps.scan_for(shipment, count - 1)
    assert body["statusCategory"] == latest.category
    assert body["status"] == events[0]["eventType"]


def check_summary(shipment: Shipment, count: int, body: dict[str, Any]) -> None:
    """SUMMARY: one line per due event, newest first, the newest as the status sentence."""
    assert_v3_summary_valid(body)
    lines = body["eventSummaries"]
    assert len(lines) == count
    for line, i in zip(lines[1:], range(count - 2, -1, -1), strict=True):
        local = shipment.events[i].local
        assert local.strftime("%m/%d/%Y") in line
        assert usps.clock_time(local) in line


def check_batch(shipment: Shipment, count: int, item: dict[str, Any]) -> None:
    """3.2: the same events with offsets in eventTimestamp and GMTOffset like -7:00."""
    assert_v3r2_item_valid(item)
    assert "statusCode" not in item
    events = item["trackingEvents"]
    assert len(events) == count
    for rendered, i in zip(events, range(count - 1, -1, -1), strict=True):
        event = shipment.events[i]
        assert rendered.get("eventCode") == expected_code(shipment, i)
        assert datetime.fromisoformat(rendered["eventTimestamp"]) == event.at
        assert datetime.fromisoformat(rendered["eventTimestamp"]).utcoffset() == (
            event.local.utcoffset()
        )
        gmt = datetime.strptime(rendered["GMTTimestamp"], "%Y-%m-%dT%H:%M:%SZ")
        assert gmt.replace(tzinfo=UTC) == event.at
        assert _offset(rendered["GMTOffset"]) == event.local.utcoffset()
        # "-7:00" as the 3.2 spec example, not the 3.0 "-07:00".
        assert re.fullmatch(r"[+-](?:0|[1-9]\d?):\d{2}", rendered["GMTOffset"])


@pytest.mark.parametrize("name", SCENARIO_NAMES)
def test_scenario_timeline(usps_sim: tuple[Simulation, TestClient], name: str) -> None:
    sim, client = usps_sim
    number = NUMBERS[name]
    shipment = sim.catalog.lookup("usps", number)
    assert shipment is not None and shipment.scenario.name == name
    for at in clock_points(shipment):
        sim.clock.freeze(TENANT, at=at)
        headers = auth(client)
        count = shipment.visible_count(at.timestamp())
        detail = client.get(V3 + number, params={"expand": "DETAIL"}, headers=headers)
        summary = client.get(V3 + number, headers=headers)
        batch = client.post(V3R2, json=[{"trackingNumber": number}], headers=headers)
        if count == 0:
            # A known number whose first scan lies in the future: "not yet available".
            for response in (detail, summary):
                assert response.status_code == 400
                assert response.json() == NOT_YET_V3
            assert batch.status_code == 404
            assert batch.json()["error"]["errors"] == [V3R2_NOT_FOUND_ERROR]
            continue
        assert (detail.status_code, summary.status_code, batch.status_code) == (200, 200, 200)
        check_detail(shipment, count, detail.json())
        check_summary(shipment, count, summary.json())
        [item] = batch.json()
        check_batch(shipment, count, item)


def test_every_kind_and_reason_maps() -> None:
    assert set(usps.SCANS) == set(EventKind) - {EventKind.exception}
    assert set(usps.EXCEPTION_SCANS) == set(ExceptionReason)
    for kind, code in KIND_CODES.items():
        assert usps.SCANS[kind].code == code
    for reason, code in REASON_CODES.items():
        assert usps.EXCEPTION_SCANS[reason].code == code
    categories = {s.category for s in (*usps.SCANS.values(), *usps.EXCEPTION_SCANS.values())}
    # Free text, but only values seen live (NOTES §3.5).
    assert categories <= {
        "Pre-Shipment", "Accepted", "In Transit", "Moving Through Network", "Out for Delivery",
        "Available for Pickup", "Delivery Attempt", "Alert", "Delivered", "Delivered to Agent",
        "Returning to Sender",
    }  # fmt: skip


@pytest.mark.parametrize(
    ("name", "category", "status"),
    [
        ("delivered-on-time", "Delivered", "Delivered, Front Door/Porch"),
        (
            "label-created-never-shipped",
            "Pre-Shipment",
            "Shipping Label Created, USPS Awaiting Item",
        ),
        ("failed-attempt-held-for-pickup", "Available for Pickup", "Available for Pickup"),
        ("returned-to-sender", "Returning to Sender", "Return to Sender"),
        ("cancelled", "Alert", "Customer Recall"),
        ("damaged", "Alert", "Item Damaged"),
    ],
)
def test_final_status(
    usps_sim: tuple[Simulation, TestClient], name: str, category: str, status: str
) -> None:
    sim, client = usps_sim
    sim.clock.freeze(TENANT, at=EPOCH + timedelta(days=60))
    body = _detail(client, NUMBERS[name], auth(client))
    assert (body["statusCategory"], body["status"]) == (category, status)
    assert "expectedDeliveryTimeStamp" not in body  # none once final, nor before acceptance


def test_in_flight_detail_has_expected_delivery(usps_sim: tuple[Simulation, TestClient]) -> None:
    sim, client = usps_sim
    sim.clock.freeze(TENANT, at=EPOCH)  # out-for-delivery is out for delivery at EPOCH
    number = NUMBERS["out-for-delivery"]
    body = _detail(client, number, auth(client))
    shipment = sim.catalog.lookup("usps", number)
    assert shipment is not None and shipment.expected_delivery is not None
    expected = shipment.recipient.place.localize(shipment.expected_delivery)
    assert body["expectedDeliveryTimeStamp"] == expected.strftime("%Y-%m-%dT00:00:00")
    assert body["statusCategory"] == "Out for Delivery"
    assert body["trackingEvents"][0]["eventCode"] == "OF"
    assert body["statusSummary"].startswith("Your item is out for delivery on ")


def test_international_detail(usps_sim: tuple[Simulation, TestClient]) -> None:
    sim, client = usps_sim
    sim.clock.freeze(TENANT, at=EPOCH + timedelta(days=30))
    body = _detail(client, NUMBERS["customs-hold-released"], auth(client))
    assert body["mailClass"] == "Priority Mail Express International<SUP>&#153;</SUP>"
    assert body["mailType"] == "IM"
    assert body["destinationCountryCode"] == "DE"
    assert body["destinationState"] is None and body["destinationZIP"] is None
    held = [e for e in body["trackingEvents"] if e["eventType"] == "Held in Customs"]
    assert len(held) == 1 and held[0]["eventCountry"] == "GERMANY"


def test_description_override_replaces_the_event_text(
    make_sim: SimFactory, bundled: list[Scenario]
) -> None:
    base = next(s for s in bundled if s.name == "delivered-on-time")
    events = (*base.events[:-1], base.events[-1].model_copy(update={"description": "Left in shed"}))
    scenario = base.model_copy(update={"events": events, "numbers": {"usps": (UNDECLARED,)}})
    sim, client = make_sim(scenarios=[scenario])
    sim.clock.freeze(TENANT, at=EPOCH + timedelta(days=30))
    body = _detail(client, UNDECLARED, auth(client))
    assert body["status"] == "Left in shed"
    assert body["trackingEvents"][0]["eventType"] == "Left in shed"
    assert body["trackingEvents"][0]["eventCode"] == "01"


# ------------------------------------------------------------------------------ not found


def test_unknown_number_production_form(make_sim: SimFactory, declared: list[Scenario]) -> None:
    _, client = make_sim(scenarios=declared, mix=False)
    headers = auth(client)
    for number in (UNDECLARED, NUMBERS["unknown-number"]):
        response = client.get(V3 + number, params={"expand": "DETAIL"}, headers=headers)
        assert response.status_code == 400
        assert response.json() == NOT_YET_V3
        validate("usps", "usps.track", 400, response.json())


def test_unknown_number_spec_form(make_sim: SimFactory, declared: list[Scenario]) -> None:
    _, client = make_sim(scenarios=declared, mix=False, not_found="spec")
    response = client.get(V3 + UNDECLARED, headers=auth(client))
    assert response.status_code == 404
    assert response.json() == {
        "apiVersion": "/tracking/v3",
        "error": {
            "code": "404",
            "message": "Resource Not Found",
            "errors": [
                {"status": "404", "code": "150001", "title": usps.NOT_YET_AVAILABLE_V3,
                 "detail": ""},
            ],
        },
    }  # fmt: skip
    validate("usps", "usps.track", 404, response.json())


def _bad_check_digit(number: str) -> str:
    return number[:-1] + str((int(number[-1]) + 1) % 10)


@pytest.mark.parametrize(
    "number",
    ["ABC", "9400-1000-0000-0000-0000-00", "9" * 35, "94001ü", "bad check digit"],
)
@pytest.mark.parametrize("not_found", ["production", "spec"])
def test_malformed_numbers_may_be_incorrect(
    make_sim: SimFactory, declared: list[Scenario], number: str, not_found: str
) -> None:
    _, client = make_sim(scenarios=declared, not_found=not_found)
    if number == "bad check digit":
        number = _bad_check_digit(UNDECLARED)
        if not_found == "spec":
            return  # a well-formed unknown number: the spec form's 404, tested above
    response = client.get(V3 + number, params={"expand": "DETAIL"}, headers=auth(client))
    assert response.status_code == 400
    assert response.json() == MAY_BE_INCORRECT_V3
    validate("usps", "usps.track", 400, response.json())


# ------------------------------------------------------------------------ malformed requests


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"expand": "EVERYTHING"}, "expand"),
        ({"expand": ""}, "expand"),
        ({"destinationZIPCode": "1234"}, "destinationZIPCode"),
        ({"destinationZIPCode": "12345-6789"}, "destinationZIPCode"),
        ({"mailingDate": "2026-02-30"}, "mailingDate"),
        ({"mailingDate": "03/02/2026"}, "mailingDate"),
    ],
)
def test_v3_bad_query(
    usps_sim: tuple[Simulation, TestClient], params: dict[str, str], parameter: str
) -> None:
    _, client = usps_sim
    response = client.get(V3 + NUMBERS["delivered-on-time"], params=params, headers=auth(client))
    assert response.status_code == 400
    body = response.json()
    assert body["apiVersion"] == "/tracking/v3"
    assert body["error"]["code"] == "400"
    assert body["error"]["message"] == "THERE IS AN ERROR IN THE RECEIVED REQUEST"
    [error] = body["error"]["errors"]
    assert error["status"] == "400" and error["source"]["parameter"] == parameter
    validate("usps", "usps.track", 400, body)


def test_v3_accepts_lower_case_expand_and_valid_options(
    usps_sim: tuple[Simulation, TestClient],
) -> None:
    sim, client = usps_sim
    sim.clock.freeze(TENANT, at=EPOCH + timedelta(days=30))
    number = NUMBERS["delivered-on-time"]
    params = {"expand": "detail", "destinationZIPCode": "20500", "mailingDate": "2026-03-01"}
    response = client.get(V3 + number, params=params, headers=auth(client))
    assert response.status_code == 200
    assert "trackingEvents" in response.json()
    # The same route is mounted under /usps as well.
    prefixed = client.get("/usps" + V3 + number, params=params, headers=auth(client))
    assert prefixed.content == response.content


def _batch_error(client: TestClient, **request: Any) -> list[dict[str, Any]]:
    response = client.post(V3R2, headers={**auth(client), **request.pop("headers", {})}, **request)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["apiVersion"] == "/tracking/v3r2"
    assert body["error"]["code"] == "400"
    validate("usps", "usps.track_batch", 400, body)
    errors: list[dict[str, Any]] = body["error"]["errors"]
    return errors


GOOD = NUMBERS["delivered-on-time"]


@pytest.mark.parametrize(
    ("request_kwargs", "parameters"),
    [
        ({"json": {"trackingNumber": GOOD}}, ["body"]),
        ({"json": []}, ["body"]),
        ({"json": [{"trackingNumber": GOOD}] * 36}, ["body"]),
        ({"json": [GOOD]}, ["[0]"]),
        ({"json": [{"trackingNumber": GOOD, "expand": "DETAIL"}]}, ["[0].expand"]),
        ({"json": [{}]}, ["[0].trackingNumber"]),
        ({"json": [{"trackingNumber": 94001}]}, ["[0].trackingNumber"]),
        ({"json": [{"trackingNumber": "AB1"}]}, ["[0].trackingNumber"]),
        ({"json": [{"trackingNumber": GOOD, "destinationZIPCode": "ABCDE"}]},
         ["[0].destinationZIPCode"]),
        ({"json": [{"trackingNumber": GOOD}, {"trackingNumber": GOOD, "mailingDate": "x"}]},
         ["[1].mailingDate"]),
        ({"content": b"[{", "headers": {"content-type": "application/json"}}, None),
        ({"content": b"[" * 100_000, "headers": {"content-type": "application/json"}}, None),
        ({"content": b"trackingNumber=1", "headers": {"content-type": "text/plain"}}, None),
    ],
)  # fmt: skip
def test_v3r2_bad_body(
    usps_sim: tuple[Simulation, TestClient],
    request_kwargs: dict[str, Any],
    parameters: list[str] | None,
) -> None:
    _, client = usps_sim
    errors = _batch_error(client, **dict(request_kwargs))
    if parameters is None:
        assert len(errors) == 1 and "source" not in errors[0]
    else:
        assert [e["source"]["parameter"] for e in errors] == parameters


def test_v3r2_mixed_batch_is_multi_status(usps_sim: tuple[Simulation, TestClient]) -> None:
    sim, client = usps_sim
    sim.clock.freeze(TENANT, at=EPOCH + timedelta(days=30))
    unknown = NUMBERS["unknown-number"]
    request = [{"trackingNumber": GOOD, "destinationZIPCode": "20500"},
               {"trackingNumber": unknown, "mailingDate": "2026-03-01"}]  # fmt: skip
    response = client.post(V3R2, json=request, params={"expand": "DETAIL"}, headers=auth(client))
    assert response.status_code == 207
    found, missing = response.json()
    assert found["statusCode"] == "200" and found["trackingNumber"] == GOOD
    assert_v3r2_item_valid(found)
    assert missing == {
        "statusCode": "404",
        "trackingNumber": unknown,
        "apiVersion": "/tracking/v3r2",
        "error": {"code": "404", "message": "", "errors": [V3R2_NOT_FOUND_ERROR]},
    }
    validate("usps", "usps.track_batch", 207, response.json())


def test_v3r2_nothing_found_is_404(make_sim: SimFactory, declared: list[Scenario]) -> None:
    _, client = make_sim(scenarios=declared, mix=False)
    request = [{"trackingNumber": NUMBERS["unknown-number"]}, {"trackingNumber": UNDECLARED}]
    response = client.post(V3R2, json=request, headers=auth(client))
    assert response.status_code == 404
    # [obs: USPS-ISS #82] for one number; one entry per unknown number here.
    assert response.json() == {
        "apiVersion": "/tracking/v3r2",
        "error": {"code": "404", "message": "", "errors": [V3R2_NOT_FOUND_ERROR] * 2},
    }
    validate("usps", "usps.track_batch", 404, response.json())


def test_v3r2_full_batch_keeps_order_and_duplicates(
    usps_sim: tuple[Simulation, TestClient],
) -> None:
    sim, client = usps_sim
    sim.clock.freeze(TENANT, at=EPOCH + timedelta(days=30))
    found = [NUMBERS[name] for name in SCENARIO_NAMES]
    request = [{"trackingNumber": found[i % len(found)]} for i in range(usps.BATCH_LIMIT)]
    response = client.post(V3R2, json=request, headers=auth(client))
    assert response.status_code == 200
    body = response.json()
    assert [item["trackingNumber"] for item in body] == [r["trackingNumber"] for r in request]
    for item in body:
        assert_v3r2_item_valid(item)
