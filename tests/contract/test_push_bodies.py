"""The push bodies of ``tests/push_bodies.py`` against the carriers' official schemas.

UPS's Track Alert files are OpenAPI 3.1 (JSON Schema 2020-12); the USPS subscriptions file is
3.0. FedEx and DHL publish no push schema: their inferred bodies are held to the official
Track API answer schemas, the shape NOTES §7 says they follow.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests import push_bodies as pb
from tests.contract import spec_validation as sv
from tests.contract.push_validation import (
    UPS_EVENT,
    USPS_EVENT,
    USPS_NOTIFICATION,
    check,
    errors,
    intended_errors,
    validate_push,
)


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


USPS_RECORDS = [
    ("scanEvent", "TrackingSubscriptionNotification"),
    ("detailedScanEvent", "detailedScanEvent"),
]


@pytest.mark.parametrize(("name", "schema"), USPS_RECORDS)
def test_usps_payload_fits_its_event_schema_as_intended(name: str, schema: str) -> None:
    record = pb.usps_record(name)
    # The example sends one field the schema lacks (servicesEligibility is closed).
    assert record["servicesEligibility"].pop("deliveryInstructionsEnabled") is False
    found = intended_errors(schema, record)
    assert not found, "\n".join(sv._format_error(e) for e in found)


@pytest.mark.parametrize(("name", "schema"), USPS_RECORDS)
def test_usps_payload_events_fit_the_closed_event_schema(name: str, schema: str) -> None:
    for event in pb.usps_record(name)["trackingEvents"]:
        check(pb.USPS_SUBSCRIPTIONS, USPS_EVENT, event)


def test_usps_intended_schema_still_rejects_a_wrong_field() -> None:
    record = pb.usps_record()
    record["servicesEligibility"].pop("deliveryInstructionsEnabled")
    record["trackingEvents"][0]["eventZIPCode"] = "ABCDE"
    found = intended_errors("TrackingSubscriptionNotification", record)
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


# ------------------------------------------------------------------- validate_push, whole


def _stripped_number(body: dict[str, Any]) -> dict[str, Any]:
    # validate_push holds the number to its pattern: the leading space of one UPS example is
    # a documented slip (checked above), not something a sender should copy.
    return {**body, "trackingNumber": body["trackingNumber"].strip()}


ALL_BODIES = [
    *(
        (("ups", spec), _stripped_number(body))
        for spec in pb.UPS_SPECS
        for body in pb.ups_pushes(spec).values()
    ),
    *((("usps", pb.UPS_V2), body) for body in pb.usps_spec_examples().values()),
    (("fedex", pb.UPS_V2), pb.fedex_push()),
    (("dhl", pb.UPS_V2), pb.dhl_push()),
    (("dhl", pb.UPS_V2), pb.dhl_activation()),
]


@pytest.mark.parametrize(("where", "body"), ALL_BODIES)
def test_every_sample_body_passes_validate_push(where: tuple[str, str], body: Any) -> None:
    carrier, spec = where
    validate_push(carrier, body, spec=spec)


@pytest.mark.parametrize(
    ("carrier", "body", "words"),
    [
        ("ups", {"trackingNumber": "1Z204W4R0308071865"}, "required"),
        ("ups", {**pb.ups_pushes(pb.UPS_V2)["1"], "gmtOffset": "-4:00"}, "gmtOffset"),
        ("usps", {**pb.usps_spec_examples()["scanEvent"], "timestamp": "yesterday"}, "date-time"),
        ("usps", pb.usps_notification({"trackingEvents": [{"eventZIPCode": "1"}]}), "eventZIPCode"),
        ("fedex", {"output": {"completeTrackResults": "x"}}, "completeTrackResults"),
        ("dhl", {"shipments": []}, "at least one shipment"),
        ("dhl", {"scope": "subscription.push"}, "activation message"),
    ],
)
def test_validate_push_catches_a_wrong_body(carrier: str, body: Any, words: str) -> None:
    with pytest.raises(AssertionError, match=words):
        validate_push(carrier, body)
