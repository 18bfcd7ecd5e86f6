"""Prove that ``spec_validation.validate`` bites, and pin what the carrier specs declare.

Three sources of bodies, all taken from the carriers' own files:

* response-level examples (``example``/``examples`` of a response media type, an
  ``example`` on the response schema itself, and the saved response in the official UPS
  Postman collection);
* "assembled" bodies for every declared status: the spec's own property-level
  ``example`` values (and ``default``s) put together along the schema (a property is
  included when something below it has an example, or when it is required);
* mutations of a valid body (wrong type, missing required property, value outside an
  enum or pattern), which must fail with a message naming the JSON path.

Where a carrier's example contradicts its own schema, a clearly named test asserts the
failure, so a spec update that fixes (or changes) it shows up here.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.contract import spec_validation as sv
from tests.contract.spec_validation import OPERATIONS, declared_statuses, validate

# ----------------------------------------------------------------------------- helpers


def _split(name: str) -> tuple[str, str]:
    carrier, operation = name.split(".", 1)
    return carrier, operation


def _fails(name: str, status: int, body: object, **kwargs: Any) -> str:
    carrier, operation = _split(name)
    with pytest.raises(AssertionError) as info:
        validate(carrier, operation, status, body, **kwargs)
    return str(info.value)


def _passes(name: str, status: int, body: object, **kwargs: Any) -> None:
    carrier, operation = _split(name)
    validate(carrier, operation, status, body, **kwargs)


def _schema_tokens(name: str, status: int, media_type: str | None = None) -> list[str]:
    carrier, operation = _split(name)
    return sv.pointer_tokens(sv.schema_target(carrier, operation, status, media_type).pointer)


_SKIP = object()


def _assemble(spec: str, tokens: list[str], repair: bool, stack: tuple[str, ...] = ()) -> Any:
    """Build a value from the spec's own ``example``/``default`` values (see module doc).

    ``repair=True`` ignores an ``example`` that fails its own schema and assembles that
    part from the structure below it instead.
    """
    tokens, node = sv.resolve(spec, tokens)
    pointer = sv.json_pointer(tokens)
    if pointer in stack or not isinstance(node, dict):
        return _SKIP
    stack = (*stack, pointer)
    if "example" in node and (
        not repair or sv.schema_validator(spec, pointer).is_valid(node["example"])
    ):
        return copy.deepcopy(node["example"])
    for keyword in ("oneOf", "anyOf"):
        for i in range(len(node.get(keyword, []))):
            value = _assemble(spec, [*tokens, keyword, str(i)], repair, stack)
            if value is not _SKIP:
                return value
    if "allOf" in node or "properties" in node or node.get("type") == "object":
        out: dict[str, Any] = {}
        for i in range(len(node.get("allOf", []))):
            part = _assemble(spec, [*tokens, "allOf", str(i)], repair, stack)
            if isinstance(part, dict):
                out.update(part)
        properties = node.get("properties", {})
        for name in properties:
            value = _assemble(spec, [*tokens, "properties", name], repair, stack)
            if value is not _SKIP:
                out[name] = value
        for name in set(node.get("required", [])) - out.keys():
            out[name] = _placeholder(spec, [*tokens, "properties", name], name in properties)
        return out or _SKIP
    if node.get("type") == "array":
        item = _assemble(spec, [*tokens, "items"], repair, stack)
        return _SKIP if item is _SKIP else [item]
    return copy.deepcopy(node["default"]) if "default" in node else _SKIP


def _placeholder(spec: str, tokens: list[str], declared: bool) -> Any:
    if not declared:
        return "x"
    _, node = sv.resolve(spec, tokens)
    if node.get("enum"):
        return node["enum"][0]
    placeholders = {"integer": 1, "number": 1, "boolean": True, "array": [], "object": {}}
    return placeholders.get(node.get("type"), "x")


def assembled_body(name: str, status: int, *, repair: bool) -> Any:
    spec = OPERATIONS[name].spec
    tokens = _schema_tokens(name, status)
    value = _assemble(spec, tokens, repair)
    if value is _SKIP:
        _, node = sv.resolve(spec, tokens)
        return [] if node.get("type") == "array" else {}
    return value


def _response_examples() -> Iterator[tuple[str, int, str, Any]]:
    """(operation, status, example id, body) for every response-level example."""
    for name, op in OPERATIONS.items():
        for status in sorted(declared_statuses(*_split(name))):
            key = str(status)
            for media_type, target in sv.json_media_types(op, key).items():
                schema_tokens = sv.pointer_tokens(target.pointer)
                _, media = sv.resolve(op.spec, schema_tokens[:-1])
                if "example" in media:
                    yield name, status, f"{media_type} example", media["example"]
                for ex_name in media.get("examples") or {}:
                    _, example = sv.resolve(op.spec, [*schema_tokens[:-1], "examples", ex_name])
                    yield name, status, f"{media_type} examples/{ex_name}", example["value"]
                _, schema = sv.resolve(op.spec, schema_tokens)
                if "example" in schema:
                    yield name, status, f"{media_type} schema example", schema["example"]
    # The official UPS Postman collection ("Run in Postman" id in Tracking.yaml) keeps one
    # saved live 200 response.
    collection = json.loads(
        (sv.SPECS_DIR / "ups" / "UPS-Tracking.postman_collection.json").read_text("utf-8")
    )
    for item in collection["item"]:
        for saved in item.get("response", []):
            yield "ups.track", saved["code"], f"postman {saved['name']}", json.loads(saved["body"])


RESPONSE_EXAMPLES = list(_response_examples())

# (operation, status, example id) → why the carrier's own example fails its own schema.
KNOWN_BAD_RESPONSE_EXAMPLES = {
    ("usps.token", 200, "application/json examples/client-credentials"): (
        "ProviderAccessTokenResponse puts additionalProperties:false next to allOf with no "
        "properties of its own, so it rejects every property; ProviderTokensResponse "
        "requires refresh_token, which a client_credentials grant does not return"
    ),
}


# ------------------------------------------------------------ the table implementers use

DECLARED_STATUSES = {
    "ups.token": {200, 400, 401, 403, 429},
    "ups.track": {200, 400, 403, 404, 500, 503},
    "ups.reference": {200, 400, 403, 404, 500, 503},
    "ups.shipment": {200, 400, 403, 404, 500, 503},
    "fedex.token": {200, 401, 500, 503},
    "fedex.track": {200, 400, 401, 403, 404, 500, 503},
    "fedex.track_numbers": {200, 400, 401, 403, 404, 500, 503},
    "fedex.references": {200, 400, 401, 403, 404, 500, 503},
    "fedex.tcn": {200, 400, 401, 403, 404, 500, 503},
    "fedex.associated": {200, 400, 401, 403, 404, 500, 503},
    "fedex.documents": {200, 400, 401, 403, 404, 500, 503},
    "fedex.notifications": {200, 400, 401, 403, 404, 500, 503},
    "usps.token": {200, 400, 401, 429, 503},
    "usps.track": {200, 400, 401, 403, 404, 429, 503},
    "usps.notifications": {202, 400, 401, 403, 404, 429, 503},
    "usps.proof_of_delivery": {202, 400, 401, 403, 404, 429, 503},
    "usps.track_batch": {200, 207, 400, 401, 403, 404, 429, 503},
    "usps.notifications_v3r2": {202, 400, 401, 403, 404, 429, 503},
    "usps.proof_of_delivery_v3r2": {202, 400, 401, 403, 404, 429, 503},
    "dhl.track": {200, 404},
}


def test_every_operation_is_pinned() -> None:
    assert set(DECLARED_STATUSES) == set(OPERATIONS)


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_declared_statuses(name: str) -> None:
    carrier, short = _split(name)
    assert declared_statuses(carrier, short) == DECLARED_STATUSES[name]
    assert declared_statuses(carrier, name) == DECLARED_STATUSES[name]


def test_media_types_chosen() -> None:
    chosen = {
        (name, status): sv.schema_target(*_split(name), status).media_type
        for name, statuses in DECLARED_STATUSES.items()
        for status in statuses
    }
    assert chosen[("dhl.track", 404)] == "application/problem+json"
    others = {k: v for k, v in chosen.items() if k != ("dhl.track", 404)}
    assert set(others.values()) == {"application/json"}
    op = OPERATIONS["usps.track"]
    assert list(sv.json_media_types(op, "200")) == [
        "application/json",
        "application/vnd.usps.TrackSummary+json",
        "application/vnd.usps.TrackFields+json",
    ]


# --------------------------------------------------------------- vendored file integrity


def test_vendored_specs_match_sources_sha256() -> None:
    sources = (sv.SPECS_DIR / "SOURCES.md").read_text("utf-8")
    folder = None
    expected: dict[str, str] = {}
    for line in sources.splitlines():
        if m := re.match(r"##(?:#)? (\w+)/(?: \(push\))?$", line):
            folder = m.group(1)
        elif (m := re.match(r"- `([^`]+)` ([0-9a-f]{64})$", line)) and folder:
            expected[f"{folder}/{m.group(1)}"] = m.group(2)
    assert len(expected) == 15
    for rel, digest in expected.items():
        assert hashlib.sha256((sv.SPECS_DIR / rel).read_bytes()).hexdigest() == digest, rel


def test_ups_tracking_yaml_needs_the_tab_workaround() -> None:
    raw = (sv.SPECS_DIR / "ups" / "Tracking.yaml").read_bytes()
    assert b"\t" in raw
    assert b"\r\n" in raw
    assert sv.load_spec("ups/Tracking.yaml")["openapi"] == "3.0.1"


def test_yaml_is_read_as_yaml_1_2() -> None:
    # PyYAML's YAML 1.1 default turns these into -420 and datetime.date(2024, 4, 4).
    schemas = sv.load_spec("usps/tracking-v3r2_4.yaml")["components"]["schemas"]
    assert schemas["TrackingEvent"]["properties"]["GMTOffset"]["example"] == "-7:00"
    assert schemas["EventDate"]["example"] == "2024-04-04"
    v3 = sv.load_spec("usps/tracking-v3.yaml")["components"]["schemas"]
    assert v3["TrackingEvent"]["properties"]["GMTOffset"]["example"] == "-7:00"


# -------------------------------------------------------------- response-level examples


def _example_id(example: tuple[str, int, str, Any]) -> str:
    return f"{example[0]}-{example[1]}-{example[2]}"


def test_response_examples_inventory() -> None:
    found = {(n, s, e) for n, s, e, _ in RESPONSE_EXAMPLES}
    assert found == {
        ("ups.track", 200, "postman Tracking Success"),
        *{("fedex.token", s, "application/json example") for s in (401, 500, 503)},
        *{
            (name, s, "application/json example")
            for name in FEDEX_TRACK_OPERATIONS
            for s in (400, 401, 403, 404, 500, 503)
        },
        ("usps.token", 200, "application/json examples/client-credentials"),
        ("usps.token", 200, "application/json examples/refresh-token"),
        ("usps.token", 200, "application/json examples/resource-owner-credentials"),
        ("dhl.track", 404, "application/problem+json schema example"),
    }
    assert set(KNOWN_BAD_RESPONSE_EXAMPLES) <= found


FEDEX_TRACK_OPERATIONS = (
    "fedex.track",
    "fedex.track_numbers",
    "fedex.references",
    "fedex.tcn",
    "fedex.associated",
    "fedex.documents",
    "fedex.notifications",
)


@pytest.mark.parametrize(
    "example",
    [e for e in RESPONSE_EXAMPLES if e[:3] not in KNOWN_BAD_RESPONSE_EXAMPLES],
    ids=_example_id,
)
def test_spec_response_example_validates(example: tuple[str, int, str, Any]) -> None:
    name, status, _, body = example
    _passes(name, status, body)


def test_usps_client_credentials_token_example_fails_its_own_schema() -> None:
    # Known fact, not a validator bug: see KNOWN_BAD_RESPONSE_EXAMPLES.  Consequence: the
    # token body a client_credentials grant really returns can never pass usps.token 200.
    (body,) = [
        b
        for n, s, e, b in RESPONSE_EXAMPLES
        if (n, s, e) == ("usps.token", 200, "application/json examples/client-credentials")
    ]
    message = _fails("usps.token", 200, body)
    assert "is not valid under any of the given schemas" in message
    assert "'refresh_token' is a required property" in message
    assert "Additional properties are not allowed" in message
    # The refresh-token example of the same spec passes (it carries refresh_token).
    _passes("usps.token", 200, {**body, "refresh_token": "r"})


# ------------------------------------------------------------- property-level examples

# operation → {JSON pointer of a schema whose `example` fails that very schema: keyword}
KNOWN_BAD_PROPERTY_EXAMPLES = {
    "ups.track": {
        "/components/schemas/Package/properties/suppressionIndicators": "type",  # "DETAIL"
        "/components/schemas/Shipment/properties/userRelation": "type",  # "MYCHOICE_HOME"
    },
    "fedex.track": {
        "/components/schemas/PackageIdentifier/properties/value": "type",  # "ASJFGVAS"
        "/components/schemas/TrackingNumbersResponse/properties/alerts": "type",  # a string
    },
    **{
        name: {
            "/components/schemas/Package/properties/suppressionIndicators": "type",
            "/components/schemas/Shipment/properties/userRelation": "type",
        }
        for name in ("ups.reference", "ups.shipment")
    },
    **{
        name: {
            "/components/schemas/PackageIdentifier/properties/value": "type",
            f"/components/schemas/{response}/properties/alerts": "type",
        }
        for name, response in (
            ("fedex.track_numbers", "TrackingNumbersResponse"),
            ("fedex.references", "TrackingReferencesResponse"),
            ("fedex.tcn", "TrackingNumbersResponse_TCN"),
            ("fedex.associated", "TrackingMPSResponse"),
        )
    },
    "fedex.documents": {"/components/schemas/SPODResponseVO/properties/alerts": "type"},
    "fedex.notifications": {
        "/components/schemas/SendNotificationOutputVO/properties/alerts": "type"
    },
    "dhl.track": {
        "/components/schemas/supermodelIoLogisticsTrackingShipment/properties/id": "type",
        "/components/schemas/supermodelIoLogisticsTrackingShipmentDetails/properties/references": (
            "type"
        ),
    },
}


def _reachable_schemas(name: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(pointer, schema) of every schema reachable from the operation's JSON responses."""
    op = OPERATIONS[name]
    seen: set[str] = set()
    todo = [
        sv.pointer_tokens(target.pointer)
        for status in DECLARED_STATUSES[name]
        for target in sv.json_media_types(op, str(status)).values()
    ]
    while todo:
        tokens, node = sv.resolve(op.spec, todo.pop())
        pointer = sv.json_pointer(tokens)
        if pointer in seen or not isinstance(node, dict):
            continue
        seen.add(pointer)
        yield pointer, node
        for keyword in ("allOf", "oneOf", "anyOf"):
            todo += [[*tokens, keyword, str(i)] for i in range(len(node.get(keyword, [])))]
        for keyword in ("items", "not", "additionalProperties"):
            if isinstance(node.get(keyword), dict):
                todo.append([*tokens, keyword])
        todo += [[*tokens, "properties", p] for p in node.get("properties", {})]


@pytest.mark.parametrize("name", sorted(OPERATIONS))
def test_property_examples_against_their_own_schema(name: str) -> None:
    spec = OPERATIONS[name].spec
    bad = {}
    for pointer, node in _reachable_schemas(name):
        if "example" in node:
            errors = list(sv.schema_validator(spec, pointer).iter_errors(node["example"]))
            if errors:
                bad[pointer] = errors[0].validator
    assert bad == KNOWN_BAD_PROPERTY_EXAMPLES.get(name, {})


# --------------------------------------------------------------------- assembled bodies

# Declared statuses whose assembled body fails for a structural reason in the spec (not
# because of a bad example); each has its own test below.
STRUCTURALLY_UNSATISFIABLE = {("usps.token", 200), ("usps.track_batch", 200)}

ALL_DECLARED = [(n, s) for n in sorted(OPERATIONS) for s in sorted(DECLARED_STATUSES[n])]


@pytest.mark.parametrize(
    ("name", "status"),
    [d for d in ALL_DECLARED if d not in STRUCTURALLY_UNSATISFIABLE],
    ids=[f"{n}-{s}" for n, s in ALL_DECLARED if (n, s) not in STRUCTURALLY_UNSATISFIABLE],
)
def test_assembled_body_validates(name: str, status: int) -> None:
    _passes(name, status, assembled_body(name, status, repair=True))


@pytest.mark.parametrize("name", sorted(KNOWN_BAD_PROPERTY_EXAMPLES))
def test_assembled_body_fails_exactly_at_the_bad_examples(name: str) -> None:
    message = _fails(name, 200, assembled_body(name, 200, repair=False))
    assert f"({len(KNOWN_BAD_PROPERTY_EXAMPLES[name])} error(s))" in message
    for pointer in KNOWN_BAD_PROPERTY_EXAMPLES[name]:
        assert f".{pointer.rsplit('/', 1)[1]}: " in message


def test_usps_batch_detail_with_events_is_rejected_by_the_allof_trap() -> None:
    # TrackingDetail = allOf[SharedTrackingDetail (additionalProperties: false),
    # {deliveryDateExpectation}, {servicesEligibility}, {trackingEvents}]: the first
    # branch forbids the properties the other branches add, so a 200 item can never
    # carry events, delivery expectations or service eligibility.
    body = assembled_body("usps.track_batch", 200, repair=True)
    assert "trackingEvents" in body[0]
    message = _fails("usps.track_batch", 200, body)
    assert "at $[0]: Additional properties are not allowed" in message
    assert "schema path: items/allOf/0/additionalProperties" in message
    shared_only = {
        k: v for k, v in body[0].items() if k not in {"trackingEvents", "servicesEligibility"}
    }
    _passes("usps.track_batch", 200, [shared_only])


def test_usps_token_200_accepts_only_bodies_with_refresh_token() -> None:
    message = _fails("usps.token", 200, assembled_body("usps.token", 200, repair=True))
    assert "'refresh_token' is a required property" in message
    _passes(
        "usps.token",
        200,
        {"access_token": "a", "expires_in": 28799, "token_type": "Bearer", "refresh_token": "r"},
    )


# ---------------------------------------------------------------------------- mutations


def _example(name: str, status: int, example_id: str) -> Any:
    (body,) = [b for n, s, e, b in RESPONSE_EXAMPLES if (n, s, e) == (name, status, example_id)]
    return copy.deepcopy(body)


def _set(path: list[str | int], value: object) -> Callable[[Any], None]:
    def mutate(body: Any) -> None:
        for key in path[:-1]:
            body = body[key]
        body[path[-1]] = value

    return mutate


def _delete(path: list[str | int]) -> Callable[[Any], None]:
    def mutate(body: Any) -> None:
        for key in path[:-1]:
            body = body[key]
        del body[path[-1]]

    return mutate


USPS_BATCH_ITEM = {
    "trackingNumber": "9400100000000000000000",
    "destinationState": "MA",
    "destinationZIPCode": "02540",
    "status": "Delivered, In/At Mailbox",
    "statusCategory": "Delivered",
}
USPS_404_ITEM = {
    "statusCode": "404",
    "trackingNumber": "9400100000000000000000",
    "apiVersion": "/tracking/v3r2",
    "error": {"code": "404", "message": "", "errors": [{"status": "404", "code": "150006"}]},
}
UPS_ERROR = {"response": {"errors": [{"code": "151018", "message": "Invalid tracking number"}]}}

# (id, operation, status, valid base body, mutation, JSON path the message must name,
#  text the message must contain)
MUTATIONS: list[tuple[str, str, int, Callable[[], Any], Callable[[Any], None], str, str]] = [
    (
        "ups-token-expires_in-int",
        "ups.token",
        200,
        lambda: {"token_type": "Bearer", "expires_in": "14399", "status": "approved"},
        _set(["expires_in"], 14399),
        "$.expires_in",
        "is not of type 'string'",
    ),
    (
        "ups-token-errors-object",
        "ups.token",
        401,
        lambda: {"response": {"errors": [{"code": "250002", "message": "Invalid"}]}},
        _set(["response", "errors"], {"code": "250002"}),
        "$.response.errors",
        "is not of type 'array'",
    ),
    (
        "ups-track-packageCount-string",
        "ups.track",
        200,
        lambda: _example("ups.track", 200, "postman Tracking Success"),
        _set(["trackResponse", "shipment", 0, "package", 0, "packageCount"], "1"),
        "$.trackResponse.shipment[0].package[0].packageCount",
        "is not of type 'integer'",
    ),
    (
        "ups-track-status-string",
        "ups.track",
        200,
        lambda: _example("ups.track", 200, "postman Tracking Success"),
        _set(["trackResponse", "shipment", 0, "package", 0, "activity", 1, "status"], "M"),
        "$.trackResponse.shipment[0].package[0].activity[1].status",
        "is not of type 'object'",
    ),
    (
        "ups-track-404-errors-object",
        "ups.track",
        404,
        lambda: copy.deepcopy(UPS_ERROR),
        _set(["response", "errors"], UPS_ERROR["response"]["errors"][0]),
        "$.response.errors",
        "is not of type 'array'",
    ),
    (
        "fedex-token-expires_in-string",
        "fedex.token",
        200,
        lambda: assembled_body("fedex.token", 200, repair=True),
        _set(["expires_in"], "3599"),
        "$.expires_in",
        "is not of type 'integer'",
    ),
    (
        "fedex-token-401-errors-string",
        "fedex.token",
        401,
        lambda: _example("fedex.token", 401, "application/json example"),
        _set(["errors"], "NOT.AUTHORIZED.ERROR"),
        "$.errors",
        "is not of type 'array'",
    ),
    (
        "fedex-track-trackResults-object",
        "fedex.track",
        200,
        lambda: assembled_body("fedex.track", 200, repair=True),
        _set(["output", "completeTrackResults", 0, "trackResults"], {}),
        "$.output.completeTrackResults[0].trackResults",
        "is not of type 'array'",
    ),
    (
        "fedex-track-401-code-int",
        "fedex.track",
        401,
        lambda: _example("fedex.track", 401, "application/json example"),
        _set(["errors", 0, "code"], 401),
        "$.errors[0].code",
        "is not of type 'string'",
    ),
    (
        "usps-token-missing-access_token",
        "usps.token",
        200,
        lambda: _example("usps.token", 200, "application/json examples/refresh-token"),
        _delete(["access_token"]),
        "$",
        "'access_token' is a required property",
    ),
    (
        "usps-token-expires_in-string",
        "usps.token",
        200,
        lambda: _example("usps.token", 200, "application/json examples/refresh-token"),
        _set(["expires_in"], "28799"),
        "$.expires_in",
        "is not of type 'integer'",
    ),
    (
        "usps-token-400-error-enum",
        "usps.token",
        400,
        lambda: {"error": "invalid_request", "error_description": "Missing grant_type."},
        _set(["error"], "invalid_token"),
        "$.error",
        "is not one of",
    ),
    (
        "usps-token-401-extra-property",
        "usps.token",
        401,
        lambda: {"error": "invalid_client", "error_description": "Client authentication failed."},
        _set(["refresh_token_status"], "Unknown"),
        "$",
        "Additional properties are not allowed ('refresh_token_status' was unexpected)",
    ),
    (
        "usps-track-events-object",
        "usps.track",
        200,
        lambda: assembled_body("usps.track", 200, repair=True),
        _set(["trackingEvents"], {"eventType": "Delivered"}),
        "$.trackingEvents",
        "is not of type 'array'",
    ),
    (
        "usps-track-mailClass-enum",
        "usps.track",
        200,
        lambda: assembled_body("usps.track", 200, repair=True),
        _set(["mailClass"], "USPS Ground Advantage"),
        "$.mailClass",
        "is not one of",
    ),
    (
        "usps-track-400-error-string",
        "usps.track",
        400,
        lambda: {"apiVersion": "/tracking/v3", "error": {"code": "400", "message": "x"}},
        _set(["error"], "400"),
        "$.error",
        "is not of type 'object'",
    ),
    (
        "usps-batch-state-pattern",
        "usps.track_batch",
        200,
        lambda: [dict(USPS_BATCH_ITEM)],
        _set([0, "destinationState"], "XX"),
        "$[0].destinationState",
        "does not match",
    ),
    (
        "usps-batch-zip-int",
        "usps.track_batch",
        200,
        lambda: [dict(USPS_BATCH_ITEM)],
        _set([0, "destinationZIPCode"], 2540),
        "$[0].destinationZIPCode",
        "is not of type 'string'",
    ),
    (
        "usps-batch-empty-array",
        "usps.track_batch",
        200,
        lambda: [dict(USPS_BATCH_ITEM)],
        lambda body: body.clear(),
        "$",
        "should be non-empty",
    ),
    (
        "usps-batch-207-error-string",
        "usps.track_batch",
        207,
        lambda: [copy.deepcopy(USPS_404_ITEM)],
        _set([0, "error"], "not found"),
        "$[0].error",
        "is not of type 'object'",
    ),
    (
        "dhl-statusCode-enum",
        "dhl.track",
        200,
        lambda: assembled_body("dhl.track", 200, repair=True),
        _set(["shipments", 0, "status", "statusCode"], "in-transit"),
        "$.shipments[0].status.statusCode",
        "is not one of",
    ),
    (
        "dhl-shipments-object",
        "dhl.track",
        200,
        lambda: assembled_body("dhl.track", 200, repair=True),
        _set(["shipments"], {}),
        "$.shipments",
        "is not of type 'array'",
    ),
    (
        "dhl-404-status-string",
        "dhl.track",
        404,
        lambda: _example("dhl.track", 404, "application/problem+json schema example"),
        _set(["status"], "404"),
        "$.status",
        "is not of type 'number'",
    ),
    *(
        (
            f"{name}-packageCount-string",
            name,
            200,
            lambda: _example("ups.track", 200, "postman Tracking Success"),
            _set(["trackResponse", "shipment", 0, "package", 0, "packageCount"], "1"),
            "$.trackResponse.shipment[0].package[0].packageCount",
            "is not of type 'integer'",
        )
        for name in ("ups.reference", "ups.shipment")
    ),
    *(
        (
            f"{name}-400-code-int",
            name,
            400,
            lambda name=name: _example(name, 400, "application/json example"),
            _set(["errors", 0, "code"], 400),
            "$.errors[0].code",
            "is not of type 'string'",
        )
        for name in FEDEX_TRACK_OPERATIONS[1:]
    ),
    (
        "fedex-documents-document-not-bytes",
        "fedex.documents",
        200,
        lambda: {"output": {"documentFormat": "PNG", "document": ["iVBORw0KGgo="]}},
        _set(["output", "document", 0], "not base64!"),
        "$.output.document[0]",
        "is not a 'byte'",
    ),
    *(
        (
            f"{name}-202-extra-field",
            name,
            202,
            lambda body=body: dict(body),
            _set(["unexpected"], "x"),
            "$",
            "Additional properties are not allowed",
        )
        for name, body in (
            ("usps.notifications", {"resultText": "ok", "returnCode": "0"}),
            ("usps.proof_of_delivery", {"resultText": "ok", "returnCode": "0"}),
            ("usps.notifications_v3r2", {"transactionMessage": "ok"}),
            ("usps.proof_of_delivery_v3r2", {"transactionMessage": "ok"}),
        )
    ),
]


@pytest.mark.parametrize(
    ("name", "status", "base", "mutate", "path", "text"),
    [m[1:] for m in MUTATIONS],
    ids=[m[0] for m in MUTATIONS],
)
def test_mutation_is_caught(
    name: str,
    status: int,
    base: Callable[[], Any],
    mutate: Callable[[Any], None],
    path: str,
    text: str,
) -> None:
    body = base()
    _passes(name, status, body)  # the base is valid, so the failure is the mutation's
    mutate(body)
    message = _fails(name, status, body)
    assert f"at {path}: " in message
    assert text in message
    assert "rule: " in message
    assert "value: " in message


def test_every_operation_has_a_mutation() -> None:
    assert {m[1] for m in MUTATIONS} == set(OPERATIONS)


# ------------------------------------------------------------------- lookup behaviour


def test_message_shape() -> None:
    body = _example("ups.track", 200, "postman Tracking Success")
    body["trackResponse"]["shipment"][0]["package"][0]["packageCount"] = "1"
    message = _fails("ups.track", 200, body)
    assert message.splitlines()[:4] == [
        "ups.track HTTP 200: body does not match the schema of ups/Tracking.yaml GET "
        "/track/v1/details/{inquiryNumber} -> 200 application/json (1 error(s))",
        "  at $.trackResponse.shipment[0].package[0].packageCount: '1' is not of type 'integer'",
        "    rule: type='integer' (schema path: properties/trackResponse/properties/shipment/"
        "items/properties/package/items/properties/packageCount/type)",
        "    value: '1'",
    ]


@pytest.mark.parametrize(
    ("name", "status"),
    [("dhl.track", 401), ("dhl.track", 429), ("ups.track", 401), ("ups.track", 429)],
)
def test_undeclared_status(name: str, status: int) -> None:
    message = _fails(name, status, {})
    assert f"HTTP {status} is not declared in" in message
    assert "statuses with a JSON schema: " in message


@pytest.mark.parametrize("name", ["usps.track", "usps.track_batch"])
def test_default_response_without_schema_is_not_a_declaration(name: str) -> None:
    message = _fails(name, 500, {})
    assert "HTTP 500 is not declared with a JSON schema" in message
    assert "falls to response 'default'" in message


def test_operation_names() -> None:
    validate("dhl", "dhl.track", 404, {"status": 404})
    validate("dhl", "track", 404, {"status": 404})
    with pytest.raises(ValueError, match=re.escape("unknown operation 'dhl.token'")):
        validate("dhl", "token", 200, {})
    with pytest.raises(ValueError, match="does not belong to carrier"):
        validate("ups", "fedex.track", 200, {})


def test_undeclared_media_type() -> None:
    message = _fails("usps.track", 400, {}, media_type="application/problem+json")
    assert "declares no JSON schema for 'application/problem+json'" in message


# ------------------------------------------------------------ spec quirks, pinned as facts


def test_usps_track_summary_matches_both_oneof_branches() -> None:
    # application/json is oneOf[TrackingSummary, TrackingDetails]; TrackingDetails has no
    # required fields and additionalProperties: true, so a summary matches both branches.
    summary = {
        "trackingNumber": "9400100000000000000000",
        "expectedDeliveryDate": "2022-06-22",
        "eventSummaries": ["Your item was delivered at 12:01 pm on June 17, 2022."],
    }
    message = _fails("usps.track", 200, summary)
    assert "is valid under each of" in message
    _passes("usps.track", 200, summary, media_type="application/vnd.usps.TrackSummary+json")
    # The spec's own text allows "3 Business Days" for guaranteedDeliveryDate, but its
    # format is `date`.
    message = _fails(
        "usps.track",
        200,
        {**summary, "guaranteedDeliveryDate": "3 Business Days"},
        media_type="application/vnd.usps.TrackSummary+json",
    )
    assert "at $.guaranteedDeliveryDate: '3 Business Days' is not a 'date'" in message


def test_usps_batch_207_failure_branch_accepts_almost_anything() -> None:
    # FailureResponse = allOf[ErrorMessage] (no required, additionalProperties: true), and
    # SuccessResponse adds statusCode next to SharedTrackingDetail's
    # additionalProperties: false. So a success item *with* statusCode passes as a
    # FailureResponse, and one *without* statusCode matches both branches and fails.
    _passes("usps.track_batch", 207, [{**USPS_BATCH_ITEM, "statusCode": "200"}])
    assert "is valid under each of" in _fails("usps.track_batch", 207, [USPS_BATCH_ITEM])
    _passes("usps.track_batch", 207, [USPS_404_ITEM])


def test_check_formats_switch() -> None:
    # USPS v3 sends local eventTimestamp values without an offset (not RFC 3339).
    body = {"trackingNumber": "9400100000000000000000", "mailClass": "PRIORITY_MAIL"}
    body["trackingEvents"] = [{"eventType": "Delivered", "eventTimestamp": "2024-11-23T13:10:00"}]
    message = _fails("usps.track", 200, body)
    assert "$.trackingEvents[0].eventTimestamp: '2024-11-23T13:10:00' is not a 'date-time'" in (
        message
    )
    _passes("usps.track", 200, body, check_formats=False)
    body["trackingEvents"][0]["eventTimestamp"] = "2024-11-23T13:10:00-06:00"
    _passes("usps.track", 200, body)
    # Unknown or loose format names are annotations even with check_formats=True.
    assert set(sv.CHECKED_FORMATS) == {
        "int32",
        "int64",
        "float",
        "double",
        "byte",
        "date",
        "date-time",
    }


def test_usps_v3_production_shaped_detail_deviates_from_the_spec() -> None:
    # Shape observed live (NOTES.md §3.4): booleans as strings, free-text mailClass,
    # mailType "DM", explicit nulls, local timestamps without offset.
    live = {
        "trackingNumber": "9400100000000000000000",
        "mailClass": "USPS Ground Advantage<SUP>&#153;</SUP>",
        "mailType": "DM",
        "proofOfDeliveryEnabled": "false",
        "expectedDeliveryTimeStamp": "2024-11-29T00:00:00",
        "destinationZIP": None,
        "trackingEvents": [{"eventType": "Delivered", "eventTimestamp": "2024-11-23T13:10:00"}],
    }
    message = _fails("usps.track", 200, live, check_formats=False)
    for path in ("$.mailClass", "$.mailType", "$.proofOfDeliveryEnabled", "$.destinationZIP"):
        assert f"at {path}: " in message
    assert "None for not nullable" in message
    assert "at $.trackingEvents[0].eventTimestamp: " not in message
    assert "at $.expectedDeliveryTimeStamp: " not in message
    message = _fails("usps.track", 200, live)
    assert "at $.trackingEvents[0].eventTimestamp: " in message
    assert "at $.expectedDeliveryTimeStamp: " in message
