"""Checking admin answers against ``simulator/admin_openapi.json``.

:func:`check` finds the documented operation of a request (method and path template),
asserts that the status it got is documented for that operation, and validates the JSON
body against the documented schema (JSON Schema 2020-12, ``$ref`` resolved inside the
document). The ``admin`` fixture hooks it onto every response, so every admin answer any
test in this package sees is checked against the document.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import httpx
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from jsonschema.exceptions import best_match  # type: ignore[import-untyped]
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from simulator.admin import OPENAPI, PREFIX

DOC: dict[str, Any] = json.loads(OPENAPI.read_text())
METHODS = ("get", "put", "post", "delete", "patch", "head", "options")

_BASE = "urn:carriersim:admin-openapi"
_REGISTRY: Registry[Any] = Registry().with_resource(
    _BASE, Resource.from_contents(DOC, default_specification=DRAFT202012)
)

Key = tuple[str, str, str]
"""(METHOD, path template, status) of one documented or observed answer."""


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    return re.compile(
        "^" + "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts) + "$"
    )


# Literal paths before templated ones: /scenarios/reload is not /scenarios/{name}.
_TEMPLATES = [(t, _pattern(t)) for t in sorted(DOC["paths"], key=lambda t: (t.count("{"), t))]


def documented() -> set[Key]:
    """Every (METHOD, template, status) the document declares."""
    return {
        (method.upper(), template, status)
        for template, item in DOC["paths"].items()
        for method, op in item.items()
        if method in METHODS
        for status in op["responses"]
    }


def template_of(path: str) -> str | None:
    """The documented path template a concrete path falls under."""
    for template, pattern in _TEMPLATES:
        if pattern.match(path):
            return str(template)
    return None


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def _response_spec(template: str, method: str, status: str) -> tuple[str, dict[str, Any]]:
    """(JSON pointer, object) of a documented response, following a $ref to components."""
    spec = DOC["paths"][template][method]["responses"][status]
    if "$ref" in spec:
        pointer = spec["$ref"].removeprefix("#")
        target: Any = DOC
        for token in pointer.strip("/").split("/"):
            target = target[token]
        return pointer, target
    return f"/paths/{_escape(template)}/{method}/responses/{status}", spec


@cache
def _validator(schema_pointer: str) -> Draft202012Validator:
    return Draft202012Validator(
        {"$ref": f"{_BASE}#{schema_pointer}"},
        registry=_REGISTRY,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def validate(schema_pointer: str, value: Any) -> None:
    """Validate ``value`` against the schema at a JSON pointer into the document."""
    error = best_match(_validator(schema_pointer).iter_errors(value))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "(root)"
        raise AssertionError(
            f"answer does not match {schema_pointer}: at {where}: {error.message}\n"
            f"schema path: {'/'.join(str(p) for p in error.absolute_schema_path)}"
        )


def check(response: httpx.Response) -> Key | None:
    """Check one answer against the document; its key, or None for a non-admin request."""
    path = response.request.url.path
    if not path.startswith(PREFIX + "/"):
        return None
    method = response.request.method.lower()
    head = method == "head"  # Starlette answers HEAD wherever GET is served, without a body
    if head:
        method = "get"
    template = template_of(path)
    status = str(response.status_code)
    if template is None or method not in DOC["paths"][template]:
        # Not an operation: the catch-all answers 404/405 (or the guard's 401, 403, 413,
        # 415) in the admin error shape.
        assert status in ("401", "403", "404", "405", "413", "415"), (
            f"{method.upper()} {path} answered {status}"
        )
        validate("/components/schemas/Error", response.json())
        return None
    operation = DOC["paths"][template][method]
    assert status in operation["responses"], (
        f"{method.upper()} {template} answered {status}, which the document does not declare "
        f"(declared: {', '.join(operation['responses'])}): {response.text[:300]}"
    )
    pointer, spec = _response_spec(template, method, status)
    if head:
        assert response.content == b""
    elif "content" not in spec:
        assert response.content == b"", f"{status} should have no body, got {response.text!r}"
    else:
        assert response.headers["content-type"].startswith("application/json")
        validate(f"{pointer}/content/application~1json/schema", response.json())
    return (method.upper(), template, status)


SEEN: set[Key] = set()
"""Every (METHOD, template, status) checked in this process."""


def hook(response: httpx.Response) -> None:
    """An httpx response hook: read the answer and check it (see :func:`check`)."""
    response.read()
    key = check(response)
    if key is not None:
        SEEN.add(key)
