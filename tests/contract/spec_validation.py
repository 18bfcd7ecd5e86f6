"""Validate a response body against the carrier's *official* OpenAPI schema.

The spec files under ``tests/contract/specs/`` are byte-for-byte copies of the carriers'
own downloads (provenance and sha256 in ``specs/SOURCES.md``).  No schema is copied by
hand: the spec document is parsed, the response object for the operation and HTTP status
is located in it, and the body is checked by ``openapi_schema_validator``'s OpenAPI 3.0
validator, with every ``$ref`` resolved inside the same document through a
``referencing`` registry.

API
---
``validate(carrier, operation, status, body, *, media_type=None, check_formats=True)``
    Raise ``AssertionError`` unless ``body`` (the *decoded* JSON value, not bytes)
    satisfies the schema the spec declares for that operation and status.  For each
    failure the message gives the JSON path of the offending part, the schema rule
    (keyword, its value, schema path) and the offending value; for a failed
    ``oneOf``/``anyOf`` it adds the errors of the closest branch.  ``operation`` may be
    short (``"track"``) or qualified (``"ups.track"``); the names are the keys of
    ``OPERATIONS``.
``declared_statuses(carrier, operation)``
    The explicit numeric HTTP statuses whose response declares a JSON body schema.
    ``default`` and ``NXX`` ranges are not numbers and are not listed (none of the
    covered operations has a range; the USPS tracking specs have a ``default`` with no
    schema at all).

Deliberate choices
------------------
* Response lookup: the exact status (``"404"``), then a range (``"4XX"``), then
  ``default``.  If none exists, or the one found has no JSON media type with a schema,
  ``AssertionError`` says the status is not declared (callers that imitate an observed
  production deviation catch that explicitly).
* Media type: unless ``media_type`` is given, the *first* JSON media type in spec order
  (``application/json``, ``application/problem+json``, ``application/vnd.…+json``); XML
  types are never used.  For USPS ``GET /tracking/{n}`` 200 that is ``application/json``,
  whose schema is ``oneOf: [TrackingSummary, TrackingDetails]``; because
  ``TrackingDetails`` has no required fields and allows additional properties, every
  summary-shaped body matches *both* branches and fails the ``oneOf``.  Validate SUMMARY
  bodies with ``media_type="application/vnd.usps.TrackSummary+json"``.
* Validator: ``OAS30ReadValidator`` — the OpenAPI 3.0 dialect (draft-4 core plus
  ``nullable``; ``example``, ``xml``, ``externalDocs``, ``deprecated`` are annotations)
  in the *response* ("read") context: ``readOnly`` is fine, a ``writeOnly`` property is
  neither required nor allowed.  Unknown keys (``x-…``, misplaced keywords) are ignored,
  as JSON Schema prescribes.  The spec schemas are not meta-validated: the carriers'
  files are evidence to test against, not code we fix.
* Formats: ``check_formats=True`` (default) asserts a fixed set that is unambiguous for
  JSON — ``int32``, ``int64``, ``float``, ``double``, ``byte`` (OpenAPI 3.0) and
  ``date``, ``date-time`` (RFC 3339).  Every other name is an annotation: ``email`` and
  ``uri`` (jsonschema's checks for them are loose or depend on optional packages, so
  results would vary by machine), ``password``/``binary`` (no constraint on JSON text)
  and unknown names such as FedEx's ``base64``.  Only USPS declares dates; they are
  asserted because a date is where a simulator most easily drifts from the contract
  (``"2024-11-23 13:10"`` for a ``date-time``), and because USPS uses formats as the only
  way to tell ``oneOf`` branches apart (v3r2 ``eventTimestamp`` is ``oneOf [date,
  date-time]``: without format checks every string matches both and fails).  Pass
  ``check_formats=False`` to imitate a production deviation on purpose (USPS v3 GET sends
  local ``eventTimestamp``/``expectedDeliveryTimeStamp`` without an offset, which is
  not RFC 3339).
* YAML is read with the YAML 1.2 *core* schema, as OpenAPI 3.0.3 recommends (JSON-
  compatible: no timestamps, no sexagesimal numbers, no ``yes``/``no``/``on``/``off``
  booleans).  PyYAML's default is YAML 1.1, under which the USPS example
  ``GMTOffset: -7:00`` becomes the integer ``-420`` and ``2024-04-04`` a ``date``.
  ``ups/Tracking.yaml`` contains literal TABs, which YAML forbids, so TABs are replaced by
  two spaces in memory before parsing (the file on disk is untouched).
* Caching: parsed specs, registries and validators are cached (``functools.cache``).
"""

from __future__ import annotations

import functools
import json
import re
import reprlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import yaml
from jsonschema import FormatChecker
from jsonschema.exceptions import ValidationError
from openapi_schema_validator import OAS30ReadValidator, oas30_format_checker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

SPECS_DIR = Path(__file__).parent / "specs"

CHECKED_FORMATS = ("int32", "int64", "float", "double", "byte", "date", "date-time")

_MAX_ERRORS_SHOWN = 8
_MAX_BRANCH_ERRORS_SHOWN = 8
_MAX_MESSAGE = 200


@dataclass(frozen=True)
class Operation:
    spec: str  # path relative to SPECS_DIR
    path: str  # OpenAPI path template, as written in the spec
    method: str  # lower-case HTTP method

    def describe(self) -> str:
        return f"{self.spec} {self.method.upper()} {self.path}"


OPERATIONS: dict[str, Operation] = {
    "ups.token": Operation("ups/OAuthClientCredentials.yaml", "/security/v1/oauth/token", "post"),
    "ups.track": Operation("ups/Tracking.yaml", "/track/v1/details/{inquiryNumber}", "get"),
    "ups.reference": Operation(
        "ups/Tracking.yaml", "/track/v1/reference/details/{referenceNumber}", "get"
    ),
    "ups.shipment": Operation(
        "ups/Tracking.yaml", "/track/v1/shipment/details/{inquiryNumber}", "get"
    ),
    "fedex.token": Operation("fedex/APIAuthorization-Resource.json", "/oauth/token", "post"),
    "fedex.track": Operation("fedex/track.json", "/track/v1/trackingnumbers", "post"),
    "fedex.track_numbers": Operation(
        "fedex/TrackingNumbers-Resource.json", "/track/v1/trackingnumbers", "post"
    ),
    "fedex.references": Operation("fedex/track.json", "/track/v1/referencenumbers", "post"),
    "fedex.tcn": Operation("fedex/track.json", "/track/v1/tcn", "post"),
    "fedex.associated": Operation("fedex/track.json", "/track/v1/associatedshipments", "post"),
    "fedex.documents": Operation("fedex/track.json", "/track/v1/trackingdocuments", "post"),
    "fedex.notifications": Operation("fedex/track.json", "/track/v1/notifications", "post"),
    "usps.token": Operation("usps/oauth2_3_update.yaml", "/token", "post"),
    "usps.track": Operation("usps/tracking-v3.yaml", "/tracking/{trackingNumber}", "get"),
    "usps.notifications": Operation(
        "usps/tracking-v3.yaml", "/tracking/{trackingNumber}/notifications", "post"
    ),
    "usps.proof_of_delivery": Operation(
        "usps/tracking-v3.yaml", "/tracking/{trackingNumber}/proof-of-delivery", "post"
    ),
    "usps.track_batch": Operation("usps/tracking-v3r2_4.yaml", "/tracking", "post"),
    "usps.notifications_v3r2": Operation(
        "usps/tracking-v3r2_4.yaml", "/tracking/{trackingNumber}/notifications", "post"
    ),
    "usps.proof_of_delivery_v3r2": Operation(
        "usps/tracking-v3r2_4.yaml", "/tracking/{trackingNumber}/proof-of-delivery", "post"
    ),
    "dhl.track": Operation("dhl/utapi-traking-api-1.4.1.yaml", "/shipments", "get"),
}


SERVED_AT: dict[str, str] = {
    "ups.token": "/security/v1/oauth/token",
    "ups.track": "/api/track/v1/details/{inquiryNumber}",
    "ups.reference": "/api/track/v1/reference/details/{referenceNumber}",
    "ups.shipment": "/api/track/v1/shipment/details/{inquiryNumber}",
    "fedex.token": "/oauth/token",
    "fedex.track": "/track/v1/trackingnumbers",
    "fedex.track_numbers": "/track/v1/trackingnumbers",
    "fedex.references": "/track/v1/referencenumbers",
    "fedex.tcn": "/track/v1/tcn",
    "fedex.associated": "/track/v1/associatedshipments",
    "fedex.documents": "/track/v1/trackingdocuments",
    "fedex.notifications": "/track/v1/notifications",
    "usps.token": "/oauth2/v3/token",
    "usps.track": "/tracking/v3/tracking/{trackingNumber}",
    "usps.notifications": "/tracking/v3/tracking/{trackingNumber}/notifications",
    "usps.proof_of_delivery": "/tracking/v3/tracking/{trackingNumber}/proof-of-delivery",
    "usps.track_batch": "/tracking/v3r2/tracking",
    "usps.notifications_v3r2": "/tracking/v3r2/tracking/{trackingNumber}/notifications",
    "usps.proof_of_delivery_v3r2": "/tracking/v3r2/tracking/{trackingNumber}/proof-of-delivery",
    "dhl.track": "/track/shipments",
}
"""Where the simulator serves each operation: the spec path under the production base URL
(the ``servers`` entry's path: ``/api`` for UPS, ``/tracking/v3`` for USPS, ``/track`` for
DHL; OAuth paths as NOTES gives them)."""


# ------------------------------------------------------------------------------ YAML 1.2


class _Yaml12Loader(yaml.SafeLoader):
    """SafeLoader with the YAML 1.2 core schema's implicit scalar types only."""


_Yaml12Loader.yaml_implicit_resolvers = {}
for _tag, _regex, _first in (
    ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    (
        "float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+.0123456789",
    ),
    ("null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
):
    _Yaml12Loader.add_implicit_resolver(f"tag:yaml.org,2002:{_tag}", re.compile(_regex), _first)


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    text = str(loader.construct_scalar(node))
    if text.startswith("0o"):
        return int(text[2:], 8)
    if text.startswith("0x"):
        return int(text[2:], 16)
    return int(text, 10)  # YAML 1.2: leading zeros are decimal, not octal


_Yaml12Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)


# --------------------------------------------------------------------------- loading


@functools.cache
def load_spec(spec: str) -> dict[str, Any]:
    """Parse one spec file (path relative to ``SPECS_DIR``); cached."""
    text = (SPECS_DIR / spec).read_text(encoding="utf-8")
    if spec.endswith(".json"):
        doc = json.loads(text)
    else:
        # ups/Tracking.yaml has literal TABs, which YAML forbids.
        doc = yaml.load(text.replace("\t", "  "), Loader=_Yaml12Loader)
    if not isinstance(doc, dict) or not str(doc.get("openapi", "")).startswith("3.0"):
        raise ValueError(f"{spec}: not an OpenAPI 3.0 document")
    return doc


def spec_uri(spec: str) -> str:
    """The URI under which a spec document is registered for ``$ref`` resolution."""
    return f"urn:carriersim:spec:{spec}"


@functools.cache
def _registry(spec: str) -> Registry[Any]:
    resource = Resource(contents=load_spec(spec), specification=DRAFT4)
    return Registry().with_resource(spec_uri(spec), resource)


def json_pointer(tokens: list[str]) -> str:
    """Encode reference tokens as a JSON pointer usable in a URI fragment."""
    return "".join("/" + quote(t.replace("~", "~0").replace("/", "~1"), safe="~") for t in tokens)


def pointer_tokens(pointer: str) -> list[str]:
    """Inverse of ``json_pointer`` (accepts ``#/a/b`` and ``/a/b``)."""
    pointer = unquote(pointer.removeprefix("#"))
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer.split("/")[1:]]


def resolve(spec: str, tokens: list[str]) -> tuple[list[str], Any]:
    """Return ``(tokens, node)`` at ``tokens``, after following local ``$ref`` chains."""
    doc = load_spec(spec)
    seen: set[str] = set()
    while True:
        node: Any = doc
        for t in tokens:
            node = node[int(t)] if isinstance(node, list) else node[t]
        if not (isinstance(node, Mapping) and "$ref" in node):
            return tokens, node
        ref = node["$ref"]
        if not isinstance(ref, str) or not ref.startswith("#/") or ref in seen:
            raise ValueError(f"{spec}: unsupported or cyclic $ref {ref!r}")
        seen.add(ref)
        tokens = pointer_tokens(ref)


def _resolve_operation(carrier: str, operation: str) -> tuple[str, Operation]:
    name = operation if "." in operation else f"{carrier}.{operation}"
    if name.split(".", 1)[0] != carrier:
        raise ValueError(f"operation {operation!r} does not belong to carrier {carrier!r}")
    try:
        return name, OPERATIONS[name]
    except KeyError:
        raise ValueError(f"unknown operation {name!r}; known: {sorted(OPERATIONS)}") from None


def _response_keys(op: Operation) -> dict[str, Any]:
    """Response keys as strings (YAML may give ints for unquoted codes) → raw key."""
    responses = load_spec(op.spec)["paths"][op.path][op.method]["responses"]
    return {str(k): k for k in responses}


def is_json_media_type(media_type: str) -> bool:
    mt = media_type.split(";", 1)[0].strip().lower()
    return mt == "application/json" or mt.endswith("+json")


@dataclass(frozen=True)
class SchemaTarget:
    """Where the schema for one (operation, status) lives in the spec document."""

    response_key: str  # "404", "4XX" or "default"
    media_type: str
    pointer: str  # JSON pointer of the media type's schema inside the document


def json_media_types(op: Operation, response_key: str) -> dict[str, SchemaTarget]:
    """JSON media types (spec order) of one response that declare a schema."""
    raw = _response_keys(op)[response_key]
    tokens, response = resolve(op.spec, ["paths", op.path, op.method, "responses", raw])
    found: dict[str, SchemaTarget] = {}
    for media_type, media in (response.get("content") or {}).items():
        if is_json_media_type(media_type) and isinstance(media, Mapping) and "schema" in media:
            ptr = json_pointer([*tokens, "content", media_type, "schema"])
            found[media_type] = SchemaTarget(response_key, media_type, ptr)
    return found


def _response_key_for(op: Operation, status: int) -> str | None:
    keys = _response_keys(op)
    s = str(status)
    for key in (s, f"{s[0]}XX", f"{s[0]}xx", "default"):
        if key in keys:
            return key
    return None


# ------------------------------------------------------------------------- public API


def declared_statuses(carrier: str, operation: str) -> set[int]:
    """Explicit numeric statuses of the operation whose response has a JSON schema."""
    _, op = _resolve_operation(carrier, operation)
    return {int(k) for k in _response_keys(op) if k.isdigit() and json_media_types(op, k)}


@functools.cache
def _format_checker() -> FormatChecker:
    checker = FormatChecker(formats=())
    # jsonschema's RFC 3339 checks (date-time needs rfc3339-validator, a dependency of
    # openapi-schema-validator); KeyError here means the environment lost it.
    for name in ("date", "date-time"):
        func, raises = FormatChecker.checkers[name]
        checker.checks(name, raises)(func)
    for name in ("int32", "int64", "float", "double", "byte"):
        func, raises = oas30_format_checker.checkers[name]
        checker.checks(name, raises)(func)
    assert set(checker.checkers) == set(CHECKED_FORMATS)
    return checker


@functools.cache
def schema_validator(spec: str, pointer: str, check_formats: bool = True) -> Any:
    """A cached OAS 3.0 read validator for the schema at ``pointer`` in ``spec``."""
    return OAS30ReadValidator(
        {"$ref": spec_uri(spec) + "#" + pointer},
        registry=_registry(spec),
        format_checker=_format_checker() if check_formats else None,
    )


def schema_target(
    carrier: str, operation: str, status: int, media_type: str | None = None
) -> SchemaTarget:
    """Locate the schema ``validate`` would use; AssertionError if none is declared."""
    name, op = _resolve_operation(carrier, operation)
    key = _response_key_for(op, status)
    declared = ", ".join(str(s) for s in sorted(declared_statuses(carrier, name))) or "none"
    if key is None:
        raise AssertionError(
            f"{name}: HTTP {status} is not declared in {op.describe()} (no {status}, "
            f"{str(status)[0]}XX or default response); statuses with a JSON schema: {declared}"
        )
    targets = json_media_types(op, key)
    if not targets:
        raise AssertionError(
            f"{name}: HTTP {status} is not declared with a JSON schema in {op.describe()} "
            f"(it falls to response {key!r}, which has no JSON body schema); "
            f"statuses with a JSON schema: {declared}"
        )
    if media_type is None:
        return next(iter(targets.values()))
    if media_type not in targets:
        raise AssertionError(
            f"{name}: HTTP {status} (response {key!r}) declares no JSON schema for "
            f"{media_type!r}; JSON media types with a schema: {', '.join(targets)}"
        )
    return targets[media_type]


def validate(
    carrier: str,
    operation: str,
    status: int,
    body: object,
    *,
    media_type: str | None = None,
    check_formats: bool = True,
) -> None:
    """Raise AssertionError with a readable message (json path of the failing part, the
    schema rule, the offending value) if body does not satisfy the schema the carrier's
    spec declares for that operation and HTTP status.

    ``body`` is the decoded JSON value.  When the response declares several JSON media
    types, the first JSON one in spec order is used unless ``media_type`` names another.
    ``check_formats`` asserts ``CHECKED_FORMATS`` only (see the module docstring).
    """
    name, op = _resolve_operation(carrier, operation)
    target = schema_target(carrier, name, status, media_type)
    validator = schema_validator(op.spec, target.pointer, check_formats)
    errors = list(validator.iter_errors(body))
    if not errors:
        return
    lines = [
        f"{name} HTTP {status}: body does not match the schema of {op.describe()} -> "
        f"{target.response_key} {target.media_type} ({len(errors)} error(s))"
    ]
    lines.extend(_format_error(err) for err in errors[:_MAX_ERRORS_SHOWN])
    if len(errors) > _MAX_ERRORS_SHOWN:
        lines.append(f"  ... and {len(errors) - _MAX_ERRORS_SHOWN} more error(s)")
    raise AssertionError("\n".join(lines))


# --------------------------------------------------------------------------- messages

_short = reprlib.Repr()
_short.maxstring = 80
_short.maxother = 80
_short.maxdict = 4
_short.maxlist = 4
_short.maxlevel = 3


def _cap(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _tiny(value: object) -> str:
    """A very short rendering of a value, for use inside a one-line message."""
    text = _short.repr(value)
    if len(text) <= 60:
        return text
    if isinstance(value, dict):
        return f"<object with {len(value)} properties>"
    if isinstance(value, list):
        return f"<array of {len(value)} items>"
    return text[:57] + "..."


def _branches(err: ValidationError) -> dict[int, list[ValidationError]]:
    """The errors of a failed oneOf/anyOf, grouped by branch index."""
    branches: dict[int, list[ValidationError]] = {}
    for sub in err.context:
        branches.setdefault(int(sub.schema_path[0]), []).append(sub)
    return branches


def _format_error(err: ValidationError, indent: str = "  ") -> str:
    """One failure: path, rule, value; for oneOf/anyOf also the closest branch's causes."""
    message = _cap(err.message.replace(repr(err.instance), _tiny(err.instance)), _MAX_MESSAGE)
    schema_path = "/".join(str(p) for p in err.relative_schema_path)
    text = (
        f"{indent}at {err.json_path}: {message}\n"
        f"{indent}  rule: {err.validator}={_short.repr(err.validator_value)}"
        f" (schema path: {schema_path})\n"
        f"{indent}  value: {_short.repr(err.instance)}"
    )
    if err.context:
        branches = _branches(err)
        index, subs = min(
            branches.items(),
            # deepest first (a more specific mismatch), then fewest errors
            key=lambda kv: (-max(len(e.path) for e in kv[1]), len(kv[1]), kv[0]),
        )
        text += f"\n{indent}  closest {err.validator} branch #{index} fails with:"
        for sub in subs[:_MAX_BRANCH_ERRORS_SHOWN]:
            text += "\n" + _format_error(sub, indent + "    ")
        if len(subs) > _MAX_BRANCH_ERRORS_SHOWN:
            text += f"\n{indent}    ... and {len(subs) - _MAX_BRANCH_ERRORS_SHOWN} more"
        for other, other_subs in sorted(branches.items()):
            if other != index:
                first = other_subs[0]
                text += (
                    f"\n{indent}  branch #{other}: {len(other_subs)} error(s), first at "
                    f"{first.json_path}: {_cap(first.message, 120)}"
                )
    return text
