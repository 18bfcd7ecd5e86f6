"""Small request and response helpers every carrier module uses."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response

TENANT_HEADER = "x-carriersim-tenant"


def dumps(body: Any) -> bytes:
    """Compact UTF-8 JSON, as the carriers send it."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def respond(
    body: Any,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    media_type: str = "application/json",
) -> Response:
    """A JSON response from a Python value."""
    return Response(dumps(body), status, dict(headers or {}), media_type)


def raw(
    body: bytes,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    media_type: str = "application/json",
) -> Response:
    """A response from already encoded bytes (the render cache's output)."""
    return Response(body, status, dict(headers or {}), media_type)


async def form_body(request: Request) -> dict[str, str] | None:
    """The fields of an ``application/x-www-form-urlencoded`` body, or None if it is not one."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/x-www-form-urlencoded":
        return None
    try:
        text = (await request.body()).decode("utf-8")
        return dict(parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text)))
    except (UnicodeDecodeError, ValueError):
        return None


async def json_body(request: Request) -> tuple[bool, Any]:
    """(True, value) for a body that parses as JSON, (False, None) otherwise."""
    try:
        return True, json.loads(await request.body())
    except (UnicodeDecodeError, ValueError):
        return False, None


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """(client_id, secret) from an ``Authorization: Basic …`` header, or None."""
    if not header:
        return None
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, sep, secret = decoded.partition(":")
    if not sep or not client_id:
        return None
    return client_id, secret


def tenant_for(request: Request, credential: str) -> str:
    """The tenant a login names: the header's, else the credential itself."""
    return request.headers.get(TENANT_HEADER) or credential
