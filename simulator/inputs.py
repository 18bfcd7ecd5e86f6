"""Where request text becomes Python strings and numbers.

Every byte a client sends reaches a handler through this module: the path, the query, the
tenant header, JSON and form bodies. What cannot be carried on faithfully is refused here
with an :class:`InputError` naming the field and the fix, so no handler ever holds a value
it cannot encode again, compare or echo:

- text that is not UTF-8 (in a percent-encoded path or query, a header, a body) is refused,
  never decoded lossily: two different tenant names must never become one;
- a JSON string holding a lone UTF-16 surrogate (``"\\ud800"``: legal JSON grammar, but no
  UTF-8 text can carry it) is refused, as are ``NaN`` and infinite numbers;
- JSON nested deeper than :data:`MAX_DEPTH` and bodies larger than :data:`MAX_BODY` are
  refused before any handler walks them;
- tenant names are non-empty text of at most :data:`MAX_NAME` characters without control
  characters;
- values echoed in error messages are cut by :func:`echo`.

The HTTP skins turn an :class:`InputError` into their own envelope: the admin API's
``{"error": {"field", "message", "fix"}}``, each carrier's own error body.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, unquote_to_bytes

import orjson
from starlette.types import Message, Receive, Scope

MAX_BODY = 1024 * 1024
"""Largest request body accepted, in bytes (the largest real one, a FedEx request for 30
numbers, is about 3 KB)."""

MAX_DEPTH = 32
"""Deepest JSON nesting accepted (real requests nest at most five levels)."""

MAX_NAME = 256
"""Longest tenant, scenario or admin path name accepted, in characters."""

ECHO = 60
"""Characters of a client's value quoted back in an error message."""

REFUSED = "carriersim.refused"
"""Scope key where :func:`admit` leaves the :class:`InputError` a request is refused for."""

TENANT_HEADER = b"x-carriersim-tenant"

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class InputError(ValueError):
    """Request input that cannot be accepted: the field it is in, what is wrong, the fix."""

    def __init__(self, field: str, message: str, fix: str, status: int = 400) -> None:
        super().__init__(f"{field}: {message} ({fix})")
        self.field = field
        self.message = message
        self.fix = fix
        self.status = status


def echo(value: Any, limit: int = ECHO) -> str:
    """``repr(value)`` for an error message, cut to about ``limit`` characters with the
    full length said: a megabyte name must not come back as a megabyte message."""
    if isinstance(value, str) and len(value) > limit:
        return f"{value[:limit]!r}… ({len(value)} characters)"
    text = repr(value)
    if len(text) > limit:
        return f"{text[:limit]}… ({len(text)} characters)"
    return text


# ----------------------------------------------------------------------------- text


def utf8(raw: bytes, field: str) -> str:
    """Bytes a client sent as text, decoded strictly."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(
            field,
            "is not valid UTF-8 text",
            "send text as UTF-8 (percent-encode its bytes in URLs)",
        ) from None


def tenant(field: str, value: Any) -> str:
    """A tenant name (it keys state): non-empty text, at most :data:`MAX_NAME` characters,
    no control characters."""
    if not isinstance(value, str) or not value:
        raise InputError(
            field, f"{echo(value)} is not a non-empty string", f'send "{field}" as text'
        )
    if len(value) > MAX_NAME:
        raise InputError(
            field,
            f"{echo(value)} is longer than {MAX_NAME} characters",
            f"use a name of at most {MAX_NAME} characters",
        )
    if _CONTROL.search(value):
        raise InputError(
            field,
            f"{echo(value)} contains a control character",
            "use printable characters only (no newline, tab or NUL)",
        )
    return value


def _pairs(raw: bytes, field: str) -> dict[str, str]:
    """``name=value&…`` text (the last value of a repeated name), decoded strictly."""
    text = utf8(raw, field)
    try:
        return dict(parse_qsl(text, keep_blank_values=True, errors="strict"))
    except UnicodeDecodeError:
        raise InputError(
            field,
            "a percent-encoded value is not valid UTF-8",
            "percent-encode the UTF-8 bytes of the text",
        ) from None


def query(query_string: bytes) -> dict[str, str]:
    """The query parameters, decoded strictly."""
    return _pairs(query_string, "query") if query_string else {}


def form(raw: bytes) -> dict[str, str]:
    """The fields of an ``application/x-www-form-urlencoded`` body, decoded strictly."""
    return _pairs(raw, "body")


def header(scope: Scope, key: bytes) -> str | None:
    """The first value of a header (``key`` lower-case), decoded strictly as UTF-8."""
    for k, value in scope["headers"]:
        if k == key:
            return utf8(value, k.decode("latin-1"))
    return None


# ----------------------------------------------------------------------------- JSON


def json_value(raw: bytes, field: str = "body") -> Any:
    """A JSON document: strict UTF-8, no lone surrogates, no NaN or infinity, nested at
    most :data:`MAX_DEPTH` levels. Large integers become floats (as in JavaScript)."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        reason = str(exc)
        if "surrogate" in reason:
            raise InputError(
                field,
                "a JSON string holds a lone UTF-16 surrogate (like \\ud800), which no UTF-8 "
                "text can carry",
                "send whole characters (a surrogate pair or the character itself)",
            ) from None
        if "depth" in reason or "recursion" in reason.lower():
            raise _too_deep(field) from None
        if "UTF-8" in reason:
            raise InputError(field, "is not valid UTF-8", "send JSON encoded as UTF-8") from None
        raise InputError(
            field, f"is not JSON ({echo(reason, 100)})", "send a JSON document"
        ) from None
    if _nests_deeper(raw, value):
        raise _too_deep(field)
    return value


def _too_deep(field: str) -> InputError:
    return InputError(
        field,
        f"the JSON nests deeper than {MAX_DEPTH} levels",
        "send a flatter document (no request needs more than a few levels)",
    )


def _nests_deeper(raw: bytes, value: Any) -> bool:
    # Counting brackets is C-fast and settles nearly every document without a walk.
    if raw.count(b"[") + raw.count(b"{") <= MAX_DEPTH:
        return False
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values() if isinstance(v, dict | list))
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item if isinstance(v, dict | list))
    return False


def json_object(raw: bytes, field: str = "body") -> dict[str, Any]:
    """A JSON object body; an empty body is ``{}``."""
    if not raw.strip():
        return {}
    data = json_value(raw, field)
    if not isinstance(data, dict):
        raise InputError(field, "the body must be a JSON object", "send {...}")
    return data


# ----------------------------------------------------------------------------- typed fields


def integer(field: str, value: Any, *, default: int | None, low: int, high: int) -> int | None:
    """A whole number in ``[low, high]``; absent or null gives ``default``."""
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer() and low <= value <= high:
            return int(value)
        raise InputError(
            field, f"{echo(value)} is not a whole number", f"send an integer from {low} to {high}"
        )
    if not low <= value <= high:
        raise InputError(field, f"{value} is out of range", f"send an integer from {low} to {high}")
    return value


# ----------------------------------------------------------------------------- admission


async def read_all(receive: Receive) -> bytes:
    """The whole request body from an ASGI receive channel (bounded by :func:`admit`)."""
    chunks: list[bytes] = []
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)


def replaying(body: bytes) -> Receive:
    """A receive channel that hands over ``body`` (already read) once."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def _too_large() -> InputError:
    return InputError(
        "body",
        f"the body is larger than {MAX_BODY // 1024} KiB",
        "send a smaller request (no real one needs more than a few kilobytes)",
        status=413,
    )


def check_path(scope: Scope) -> InputError | None:
    """Whether the request's path, percent-decoded, is UTF-8 text (servers decode it
    lossily, which would let two tenant prefixes name one tenant)."""
    raw: bytes | None = scope.get("raw_path")
    if not raw or b"%" not in raw:
        return None
    try:
        unquote_to_bytes(raw.split(b"?", 1)[0]).decode("utf-8")
    except UnicodeDecodeError:
        return InputError(
            "path",
            "a percent-encoded part of the path is not valid UTF-8",
            "percent-encode the UTF-8 bytes of tenant names and numbers",
        )
    return None


async def admit(scope: Scope, receive: Receive) -> tuple[Receive, InputError | None]:
    """Check what must hold before any route sees a request: a UTF-8 path, a tenant header
    that is a valid name, a body within :data:`MAX_BODY`. Returns the receive channel to
    use (a chunked body is read here, bounded) and the problem, if any."""
    length: bytes | None = None
    chunked = False
    for key, value in scope["headers"]:
        if key == b"content-length":
            length = value
        elif key == b"transfer-encoding":
            chunked = True
        elif key == TENANT_HEADER:
            try:
                tenant("X-Carriersim-Tenant", utf8(value, "X-Carriersim-Tenant"))
            except InputError as exc:
                return receive, exc
    if length is not None:
        if not length.isdigit() or int(length) > MAX_BODY:
            return receive, _too_large()
    elif chunked:
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY:
                return receive, _too_large()
            chunks.append(chunk)
            more = message.get("more_body", False)
        receive = replaying(b"".join(chunks))
    return receive, check_path(scope)
