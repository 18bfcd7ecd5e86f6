"""Push bodies and headers as the carriers send them: the ground truth for push tests.

Built from the carriers' own files in ``tests/contract/specs/`` wherever one exists, never
written from memory; ``tests/contract/test_push_bodies.py`` validates each against its
official schema. The signatures here are computed with :mod:`hmac` directly, independent of
``client.push`` and of the simulator, so tests can hold either to them. To check a body from
elsewhere (one the simulator renders) the same way, call
``tests.contract.push_validation.validate_push(carrier, body)``.

=========  ===============================================================================
UPS        the ``webhooks.TrackingEvent`` examples of ``UPSTrackAlert.yaml`` (v2),
           ``UPSTrackAlert-v1.yaml`` and ``UPSTrackAlertEnhanced-v1.yaml``, as JSON sends
           them (NOTES §7.1: blanks as ``""``, ``descriptionCode`` a string)
USPS       the ``scanEvent`` / ``detailedScanEvent`` examples of
           ``subscriptions-tracking-v3r2_1.yaml``: ``payload`` a JSON string
FedEx      **inferred** (no public schema, NOTES §7.2): a Track API answer
DHL        **inferred** (NOTES §7.4): ``{scope, self, shipments[]}``, shipments in the
           Unified tracking shape; the activation message ``{self, secret, expires}``
=========  ===============================================================================
"""

from __future__ import annotations

import base64
import copy
import functools
import hashlib
import hmac
import json
from collections.abc import Mapping
from typing import Any

import yaml

from tests.client import bodies
from tests.contract import spec_validation as sv

UPS_V2 = "ups/UPSTrackAlert.yaml"
UPS_V1 = "ups/UPSTrackAlert-v1.yaml"
UPS_ENHANCED_V1 = "ups/UPSTrackAlertEnhanced-v1.yaml"
USPS_SUBSCRIPTIONS = "usps/subscriptions-tracking-v3r2_1.yaml"
UPS_SPECS = (UPS_V2, UPS_V1, UPS_ENHANCED_V1)

UPS_USER_AGENT = "UPSPubSubTrackingService"
"""The User-Agent every UPS push carries (both versions' webhook parameters)."""

USPS_SECRET = "MySecretKeyPhraseIs32BytesLength"
"""The 32-character secret of the spec's own subscription examples."""

UPS_CREDENTIAL = "opaque-credential-7"
"""A v1 ``destination.credential`` (the spec calls it an opaque string)."""
FEDEX_SECURITY_TOKEN = "fedex-security-token"
DHL_HEADER, DHL_TOKEN = "X-Hook-Token", "dhl-token-1"
"""A ``hook.authentication`` header name and token, as a DHL subscriber might choose."""

DHL_BASE = "https://api-eu.dhl.com/tracking/push/v1"


@functools.cache
def _spec(spec: str) -> dict[str, Any]:
    # load_spec accepts OpenAPI 3.0 only; the Track Alert files are 3.1. Same YAML 1.2 rules.
    doc = yaml.load((sv.SPECS_DIR / spec).read_text("utf-8"), Loader=sv._Yaml12Loader)
    assert isinstance(doc, dict), spec
    return doc


def spec_document(spec: str) -> dict[str, Any]:
    """A push spec parsed with YAML 1.2 rules (a deep copy: callers may change it)."""
    return copy.deepcopy(_spec(spec))


# ------------------------------------------------------------------------------------- UPS


def ups_spec_examples(spec: str) -> dict[str, dict[str, Any]]:
    """The webhook examples of a Track Alert spec, exactly as the file writes them."""
    (webhook,) = _spec(spec)["webhooks"].values()
    examples = webhook["post"]["requestBody"]["content"]["application/json"]["examples"]
    return {str(name): copy.deepcopy(ex["value"]) for name, ex in examples.items()}


def as_sent(example: Mapping[str, Any]) -> dict[str, Any]:
    """A UPS example as JSON carries it: v2 writes ``descriptionCode: 021`` unquoted, which
    YAML reads as a number, while UPS sends the 3-digit string (NOTES §7.1)."""
    body = copy.deepcopy(dict(example))
    status = body.get("activityStatus")
    if isinstance(status, dict) and isinstance(status.get("descriptionCode"), int):
        status["descriptionCode"] = f"{status['descriptionCode']:03d}"
    return body


def ups_pushes(spec: str = UPS_V1) -> dict[str, dict[str, Any]]:
    """Every webhook example of ``spec``, as sent."""
    return {name: as_sent(ex) for name, ex in ups_spec_examples(spec).items()}


def ups_v1_headers(credential: str) -> dict[str, str]:
    """v1: the subscription's ``destination.credential`` in a ``credential`` header."""
    return {
        "Content-Type": "application/json",
        "User-Agent": UPS_USER_AGENT,
        "credential": credential,
    }


def ups_v2_headers(token: str, client_id: str) -> dict[str, str]:
    """v2: a bearer token from the customer's token URL, ``x-api-key`` its client id."""
    return {
        "Content-Type": "application/json",
        "User-Agent": UPS_USER_AGENT,
        "Authorization": f"Bearer {token}",
        "x-api-key": client_id,
    }


# ------------------------------------------------------------------------------------ USPS


def _unescaped(payload: str) -> str:
    # The spec writes the JSON string inside a YAML block with its quotes escaped (\"), the
    # way it looks inside the outer JSON; the string's value has plain quotes.
    return payload.replace('\\"', '"').strip()


def usps_spec_examples() -> dict[str, dict[str, Any]]:
    """``scanEvent`` and ``detailedScanEvent``, with ``payload`` the JSON string it stands
    for."""
    examples = _spec(USPS_SUBSCRIPTIONS)["components"]["examples"]
    out = {}
    for name in ("scanEvent", "detailedScanEvent"):
        value = copy.deepcopy(examples[name]["value"])
        value["payload"] = _unescaped(value["payload"])
        out[name] = value
    return out


def usps_record(name: str = "scanEvent") -> dict[str, Any]:
    """The tracking record inside an example's payload."""
    record = json.loads(usps_spec_examples()[name]["payload"])
    assert isinstance(record, dict)
    return record


def usps_notification(
    record: Mapping[str, Any],
    *,
    subscription_id: str = "123456789",
    timestamp: str = "2024-12-27T19:05:42.747Z",
) -> dict[str, Any]:
    """A notification around ``record`` (the scanEvent example's envelope)."""
    return {
        "subscriptionId": subscription_id,
        "subscriptionType": "TRACKING",
        "timestamp": timestamp,
        "payload": json.dumps(record, separators=(",", ":")),
    }


def usps_headers(notification: Mapping[str, Any], secret: str = USPS_SECRET) -> dict[str, str]:
    """``X-HMAC``: base64 HMAC-SHA256 of ``timestamp`` + ``payload`` with the secret."""
    message = (notification["timestamp"] + notification["payload"]).encode("utf-8")
    digest = hmac.new(secret.encode("utf-8"), message, hashlib.sha256).digest()
    return {"Content-Type": "application/json", "X-HMAC": base64.b64encode(digest).decode()}


# ----------------------------------------------------------------------------------- FedEx


def fedex_push(number: str = bodies.FEDEX_DELIVERED) -> dict[str, Any]:
    """INFERRED shape: a Track API answer (the official 200 schema validates it)."""
    return bodies.fedex_delivered(number)


def fedex_headers(raw_body: bytes, security_token: str) -> dict[str, str]:
    """``fdx-signature``: base64 HMAC-SHA256 of the raw body, keyed by the security token."""
    digest = hmac.new(security_token.encode("utf-8"), raw_body, hashlib.sha256).digest()
    return {"Content-Type": "application/json", "fdx-signature": base64.b64encode(digest).decode()}


# ------------------------------------------------------------------------------------- DHL


def dhl_push(
    shipments: list[dict[str, Any]] | None = None, subscription_id: str = "7f3c2e1a"
) -> dict[str, Any]:
    """INFERRED envelope (NOTES §7.4) around Unified tracking shipments."""
    if shipments is None:
        shipments = bodies.dhl_delivered()["shipments"]
    return {
        "scope": "subscription.push",
        "self": f"{DHL_BASE}/subscription/{subscription_id}",
        "shipments": shipments,
    }


def dhl_activation(subscription_id: str = "7f3c2e1a", secret: str = "b5e1d0c4") -> dict[str, Any]:
    """INFERRED: the validation message of the two-step activation (NOTES §7.4)."""
    return {
        "self": f"{DHL_BASE}/subscription/{subscription_id}",
        "secret": secret,
        "expires": "2027-01-01T00:00:00Z",
    }


def dhl_headers(header: str, token: str) -> dict[str, str]:
    """The header and token the subscription's ``hook.authentication`` chose."""
    return {"Content-Type": "application/json", header: token}


def encode(body: object) -> bytes:
    """A body as bytes on the wire."""
    return json.dumps(body).encode("utf-8")
