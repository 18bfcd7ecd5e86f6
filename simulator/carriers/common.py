"""Small request and response helpers every carrier module uses."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope

from simulator import inputs
from simulator.tokens import Claims, TokenError, TokenIssuer, TokenProblem, bearer

TENANT_HEADER = "x-carriersim-tenant"
TENANT_HEADER_KEY = TENANT_HEADER.encode()
TENANT_HEADER_NAME = "X-Carriersim-Tenant"
"""The header as the documentation spells it, for messages."""

TENANT_PARAM = "tenant"
"""The path parameter of the ``/t/{tenant}/…`` prefix (see :func:`simulator.app.create_app`)."""


def dumps(body: Any) -> bytes:
    """Compact UTF-8 JSON, as the carriers send it."""
    # orjson's result keeps its whole working buffer (about 32 KiB whatever the body's
    # size); an exact-size copy is what the render cache can afford to keep.
    return bytes(memoryview(orjson.dumps(body)))


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
        # errors="strict": a lossy decode could turn two client ids into one tenant.
        return dict(
            parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text), errors="strict")
        )
    except ValueError:  # UnicodeDecodeError included
        return None


async def json_body(request: Request) -> tuple[bool, Any]:
    """(True, value) for a body that parses as JSON (:func:`simulator.inputs.json_value`:
    no lone surrogates, bounded depth), (False, None) otherwise."""
    try:
        return True, inputs.json_value(await request.body())
    except inputs.InputError:
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
    except ValueError:  # not base64 (binascii.Error; non-ASCII text), or not UTF-8 inside
        return None
    client_id, sep, secret = decoded.partition(":")
    if not sep or not client_id:
        return None
    return client_id, secret


def path_tenant(scope: Scope) -> str | None:
    """The tenant the ``/t/{tenant}`` path prefix names, or None without one."""
    params = scope.get("path_params")
    return params.get(TENANT_PARAM) if params else None


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of a header (``name`` lower-case), read from the raw ASGI list:
    cheaper than building ``request.headers`` for one lookup on the request path."""
    for key, value in scope["headers"]:
        if key == name:
            decoded: str = value.decode("latin-1")
            return decoded
    return None


def tenant_header(scope: Scope) -> str | None:
    """The ``X-Carriersim-Tenant`` header as UTF-8 text, as the admin API reads it (None
    without one). Never Latin-1, Starlette's reading of headers: that would make the tenant
    "é" a carrier names another tenant than the admin API's "é". Bytes that are not UTF-8
    raise :class:`~simulator.inputs.InputError` (:func:`simulator.inputs.admit` refuses
    them before any route runs)."""
    return inputs.header(scope, TENANT_HEADER_KEY)


def tenant_for(request: Request, credential: str) -> str:
    """The tenant a request names: the path prefix's, else the header's, else the credential.

    Whichever names it, it is held to the rules of :func:`simulator.inputs.tenant` (the
    admin API must be able to name every tenant a client can): an
    :class:`~simulator.inputs.InputError` otherwise, answered in the carrier's envelope.
    No name at all (a request without credentials) is the empty tenant.
    """
    named = path_tenant(request.scope) or tenant_header(request.scope) or credential
    return inputs.tenant("tenant", named) if named else ""


def tenant_mismatch(request: Request, claims: Claims) -> str | None:
    """Why a bearer token does not belong to the tenant the request names explicitly (its
    path prefix, else its ``X-Carriersim-Tenant`` header), naming the token's tenant; None
    when the request names none, or the token's.

    A token binds its tenant at issue time (prefix, header or credential there). A request
    that names another tenant is refused, not quietly played in the token's tenant: the
    test that sent it would otherwise see another tenant's clock and shipments.
    """
    # path_tenant inlined: this runs on every tracking request.
    params = request.scope.get("path_params")
    named = params.get(TENANT_PARAM) if params else None
    if named is not None:
        how = f"the path prefix /t/{named}"
    else:
        named = tenant_header(request.scope)
        how = f"the {TENANT_HEADER_NAME} header"
    if named is None or named == claims.tenant:
        return None
    return (
        f"this access token belongs to tenant {claims.tenant!r}, but {how} names tenant "
        f"{named!r}; get a token under tenant {named!r} (send {how.removeprefix('the ')} with "
        "the token request too) or stop naming it"
    )


_TITLES = {"ups": "UPS", "fedex": "FedEx", "usps": "USPS", "dhl": "DHL"}


def foreign_token(error: TokenError, carrier: str, token_path: str) -> str | None:
    """Why a token another carrier issued is refused, in words; None for other problems."""
    claims = error.claims
    if error.problem is not TokenProblem.wrong_carrier or claims is None:
        return None
    theirs = _TITLES.get(claims.carrier, claims.carrier)
    return (
        f"this is another carrier's access token ({theirs}), not a {_TITLES[carrier]} one; "
        f"get a {_TITLES[carrier]} token from POST {token_path}"
    )


def bearer_tenant(
    request: Request, tokens: TokenIssuer, carrier: str, authorization: str | None
) -> str:
    """The tenant a bearer-token request is made in, for the ``describe`` hooks: the path
    prefix's, else the token's, else (no usable token) the header's."""
    named = path_tenant(request.scope)
    if named is not None:
        return named
    try:
        return tokens.decode(bearer(authorization), carrier).tenant
    except TokenError:
        try:
            return tenant_header(request.scope) or ""
        except inputs.InputError:
            return ""
