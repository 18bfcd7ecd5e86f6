"""The push bodies of ``tests/push_bodies.py`` against the carriers' official schemas.

UPS's Track Alert files are OpenAPI 3.1 (JSON Schema 2020-12); the USPS subscriptions file is
3.0. FedEx and DHL publish no push schema: their inferred bodies are held to the official
Track API answer schemas, the shape NOTES §7 says they follow.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import pytest
from jsonschema.exceptions import ValidationError
from openapi_schema_validator import OAS30ReadValidator, OAS31Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4, DRAFT202012

from tests import push_bodies as pb
from tests.contract import spec_validation as sv


@functools.cache
def _validator(spec: str, pointer: str) -> Any:
    doc = pb.spec_document(spec)
    three_one = str(doc["openapi"]).startswith("3.1")
    resource = Resource(contents=doc, specification=DRAFT202012 if three_one else DRAFT4)
    registry: Registry[Any] = Registry().with_resource(sv.spec_uri(spec), resource)
    cls = OAS31Validator if three_one else OAS30ReadValidator
    # The same format assertions as the response checks (date, date-time…).
    return cls(
        {"$ref": f"{sv.spec_uri(spec)}#{pointer}"},
        registry=registry,
        format_checker=sv._format_checker(),
    )


def errors(spec: str, pointer: str, body: object) -> list[ValidationError]:
    """Every way ``body`` fails the schema at ``pointer`` in ``spec``."""
    return list(_validator(spec, pointer).iter_errors(body))


def check(spec: str, pointer: str, body: object) -> None:
    """Fail with readable messages unless ``body`` satisfies the schema."""
    found = errors(spec, pointer, body)
    assert not found, "\n".join(sv._format_error(e) for e in found)


UPS_EVENT = "/components/schemas/TrackingEventRequest"
USPS_NOTIFICATION = "/paths/~1notifications/post/requestBody/content/application~1json/schema"


def _without_blanks(body: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in body.items():
        if isinstance(value, dict):
            value = _without_blanks(value)
        if value not in ("", {}):
            out[key] = value
    return out


# ------------------------------------------------------------------------------------- UPS


UPS_CASES = [(spec, name) for spec in pb.UPS_SPECS for name in pb.ups_pushes(spec)]


@pytest.mark.parametrize(("spec", "name"), UPS_CASES, ids=[f"{s}#{n}" for s, n in UPS_CASES])
def test_ups_example_fits_the_webhook_schema_once_blanks_are_absent(spec: str, name: str) -> None:
    body = _without_blanks(pb.ups_pushes(spec)[name])
    body["trackingNumber"] = body["trackingNumber"].strip()
    check(spec, UPS_EVENT, body)


@pytest.mark.parametrize(("spec", "name"), UPS_CASES, ids=[f"{s}#{n}" for s, n in UPS_CASES])
def test_ups_example_breaks_its_schema_only_where_notes_say(spec: str, name: str) -> None:
    # NOTES §7.1: the examples send blank fields as "" (against their own minLength and
    # patterns) and one has a leading space in trackingNumber. Nothing else may fail, so a
    # receiver built for these bodies is built for the schema too.
    body = pb.ups_pushes(spec)[name]
    for err in errors(spec, UPS_EVENT, body):
        if err.instance == "":
            continue
        assert list(err.path) == ["trackingNumber"], sv._format_error(err)
        assert err.instance != err.instance.strip()


def test_ups_v2_description_code_is_sent_as_three_digits() -> None:
    raw = pb.ups_spec_examples(pb.UPS_V2)["1"]["activityStatus"]["descriptionCode"]
    assert raw == 21  # YAML reads the unquoted 021 as a number…
    assert pb.ups_pushes(pb.UPS_V2)["1"]["activityStatus"]["descriptionCode"] == "021"


def test_ups_schema_rejects_a_body_without_activity_status() -> None:
    body = _without_blanks(pb.ups_pushes(pb.UPS_V2)["1"])
    del body["activityStatus"]
    assert [e.validator for e in errors(pb.UPS_V2, UPS_EVENT, body)] == ["required"]


# ------------------------------------------------------------------------------------ USPS


@pytest.mark.parametrize("name", ["scanEvent", "detailedScanEvent"])
def test_usps_notification_fits_the_listener_schema(name: str) -> None:
    notification = pb.usps_spec_examples()[name]
    check(pb.USPS_SUBSCRIPTIONS, USPS_NOTIFICATION, notification)
    assert isinstance(notification["payload"], str)


def _as_intended(node: Any, merged: frozenset[str]) -> Any:
    """The USPS schemas with their two self-contradictions lifted: ``allOf`` parts that each
    forbid the others' properties (``additionalProperties: false``), and a ``oneOf`` of
    "text" and "date" that every date matches twice (so no date can pass)."""
    if isinstance(node, list):
        return [_as_intended(n, merged) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _as_intended(v, merged) for k, v in node.items()}
    title = out.get("title")
    if "allOf" in out or (isinstance(title, str) and title in merged):
        out.pop("additionalProperties", None)
    if "oneOf" in out and out.get("type") == "string":
        out["anyOf"] = out.pop("oneOf")
    return out


@functools.cache
def _intended_validator(schema: str) -> Any:
    doc = pb.spec_document(pb.USPS_SUBSCRIPTIONS)
    schemas = doc["components"]["schemas"]
    merged = frozenset(
        schemas[ref["$ref"].rsplit("/", 1)[-1]].get("title", "")
        for s in schemas.values()
        for ref in s.get("allOf", ())
        if "$ref" in ref
    ) | frozenset(schemas[n].get("title", "") for n in ("DeliveryDateExpectation",))
    doc = _as_intended(doc, merged)
    uri = "urn:carriersim:intended:usps"
    registry: Registry[Any] = Registry().with_resource(uri, Resource(doc, DRAFT4))
    return OAS30ReadValidator(
        {"$ref": f"{uri}#/components/schemas/{schema}"},
        registry=registry,
        format_checker=sv._format_checker(),
    )


USPS_RECORDS = [
    ("scanEvent", "TrackingSubscriptionNotification"),
    ("detailedScanEvent", "detailedScanEvent"),
]


@pytest.mark.parametrize(("name", "schema"), USPS_RECORDS)
def test_usps_payload_fits_its_event_schema_as_intended(name: str, schema: str) -> None:
    record = pb.usps_record(name)
    # The example sends one field the schema lacks (servicesEligibility is closed).
    assert record["servicesEligibility"].pop("deliveryInstructionsEnabled") is False
    found = list(_intended_validator(schema).iter_errors(record))
    assert not found, "\n".join(sv._format_error(e) for e in found)


@pytest.mark.parametrize(("name", "schema"), USPS_RECORDS)
def test_usps_payload_events_fit_the_closed_event_schema(name: str, schema: str) -> None:
    for event in pb.usps_record(name)["trackingEvents"]:
        check(pb.USPS_SUBSCRIPTIONS, "/components/schemas/TrackingEvent", event)


def test_usps_intended_schema_still_rejects_a_wrong_field() -> None:
    record = pb.usps_record()
    record["servicesEligibility"].pop("deliveryInstructionsEnabled")
    record["trackingEvents"][0]["eventZIPCode"] = "ABCDE"
    found = list(_intended_validator("TrackingSubscriptionNotification").iter_errors(record))
    assert [list(e.path) for e in found] == [["trackingEvents", 0, "eventZIPCode"]]


def test_usps_built_notification_keeps_the_envelope_schema() -> None:
    notification = pb.usps_notification(pb.usps_record())
    check(pb.USPS_SUBSCRIPTIONS, USPS_NOTIFICATION, notification)
    assert json.loads(notification["payload"]) == pb.usps_record()


def test_usps_listener_schema_rejects_an_object_payload() -> None:
    notification = pb.usps_spec_examples()["scanEvent"]
    notification["payload"] = pb.usps_record()
    assert errors(pb.USPS_SUBSCRIPTIONS, USPS_NOTIFICATION, notification)


# ------------------------------------------------------------------------------ FedEx, DHL


def test_fedex_push_fits_the_track_api_answer_schema() -> None:
    sv.validate("fedex", "track", 200, pb.fedex_push())


def test_dhl_push_shipments_fit_the_unified_tracking_schema() -> None:
    push = pb.dhl_push()
    sv.validate("dhl", "track", 200, {"shipments": push["shipments"]})
    assert push["self"].rsplit("/", 1)[-1] == "7f3c2e1a"
