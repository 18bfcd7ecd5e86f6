"""Small request and response helpers every carrier module uses."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.requests import Request
from starlette.responses import Response

TENANT_HEADER = "x-carriersim-tenant"


def dumps(body: Any) -> bytes:
    """Compact UTF-8 JSON, as the carriers send it."""
    return orjson.dumps(body)


def respond(
    body: Any,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    media_type: str = "application/json",
) -> Response:
    """A JSON response from a Python value."""
    return Response(dumps(body), status, dict(headers or {}), media_type)


class JSONBytes(Response):
    """A JSON response from encoded bytes, with its two headers built directly: the hot
    path of every tracking request ends here."""

    media_type = "application/json"

    def __init__(self, content: bytes, status_code: int = 200) -> None:
        self.status_code = status_code
        self.body = content
        self.background = None
        self.raw_headers = [
            (b"content-length", str(len(content)).encode()),
            (b"content-type", b"application/json"),
        ]


def raw(
    body: bytes,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    media_type: str = "application/json",
) -> Response:
    """A response from already encoded bytes (the render cache's output)."""
    if headers is None and media_type == "application/json":
        return JSONBytes(body, status)
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
    except (UnicodeDecodeError, ValueError, RecursionError):
        # RecursionError: absurdly nested documents are malformed input, not a server fault.
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
