"""Push bodies against the carriers' official schemas: one call per body, for any test.

``validate_push(carrier, body)`` raises AssertionError (with the JSON path, the rule and the
value of each failure) unless ``body`` — the decoded JSON a push carries — is what that
carrier's own spec file declares, allowing only what NOTES §7 records production (or the
spec's own examples) doing against it:

- UPS: ``TrackingEventRequest`` of the Track Alert spec (``UPSTrackAlert.yaml`` by default;
  OpenAPI 3.1). Blank fields sent as ``""`` are allowed (the v1 examples send every field,
  blank ones empty, against their own ``minLength``).
- USPS: the ``/notifications`` request body (``payload`` a JSON string), its ``payload``
  against ``TrackingSubscriptionNotification`` (or ``detailedScanEvent`` for a Scan Event
  Extract record) *as intended* (see :func:`intended_errors`), and each event against the
  closed ``TrackingEvent``; ``servicesEligibility.deliveryInstructionsEnabled``, which the
  spec's example sends and its schema lacks, is allowed.
- FedEx (inferred): the Track API 200 answer schema.
- DHL (inferred envelope): ``shipments`` against the Unified tracking 200 answer schema, or an
  activation message (``self`` and ``secret``).
"""

from __future__ import annotations

import functools
import json
from typing import Any

from jsonschema.exceptions import ValidationError
from openapi_schema_validator import OAS30ReadValidator, OAS31Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4, DRAFT202012

from tests import push_bodies as pb
from tests.contract import spec_validation as sv

UPS_EVENT = "/components/schemas/TrackingEventRequest"
USPS_NOTIFICATION = "/paths/~1notifications/post/requestBody/content/application~1json/schema"
USPS_EVENT = "/components/schemas/TrackingEvent"


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


def intended_errors(schema: str, body: object) -> list[ValidationError]:
    """Every way ``body`` fails a USPS subscriptions schema with its contradictions lifted."""
    return list(_intended_validator(schema).iter_errors(body))


def _fail(what: str, found: list[ValidationError]) -> None:
    assert not found, what + "\n" + "\n".join(sv._format_error(e) for e in found)


def validate_push(carrier: str, body: Any, *, spec: str = pb.UPS_V2) -> None:
    """AssertionError unless ``body`` is the carrier's push as its spec declares it (see the
    module docstring for what is allowed beyond the spec)."""
    if carrier == "ups":
        found = [e for e in errors(spec, UPS_EVENT, body) if e.instance != ""]
        _fail(f"UPS push vs {spec} TrackingEventRequest", found)
    elif carrier == "usps":
        _fail("USPS notification envelope", errors(pb.USPS_SUBSCRIPTIONS, USPS_NOTIFICATION, body))
        record = json.loads(body["payload"])
        extract = "electronicFileNumber" in record or "mailerID" in record
        schema = "detailedScanEvent" if extract else "TrackingSubscriptionNotification"
        found = [
            e
            for e in intended_errors(schema, record)
            if not (
                list(e.path) == ["servicesEligibility"]
                and "deliveryInstructionsEnabled" in e.message
            )
        ]
        _fail(f"USPS payload vs {schema}", found)
        events = record.get("trackingEvents") or [record.get("trackingEvent")]
        for event in events:
            _fail("USPS event", errors(pb.USPS_SUBSCRIPTIONS, USPS_EVENT, event))
    elif carrier == "fedex":
        sv.validate("fedex", "track", 200, body)
    elif carrier == "dhl":
        assert isinstance(body, dict), "a DHL push is a JSON object"
        if "shipments" in body:
            sv.validate("dhl", "track", 200, {"shipments": body["shipments"]})
            assert body["shipments"], "a DHL push carries at least one shipment"
        else:
            assert isinstance(body.get("secret"), str) and isinstance(body.get("self"), str), (
                "a DHL message without shipments is an activation message (self, secret)"
            )
    else:
        raise ValueError(f"no carrier {carrier!r}")
