"""Hostile and sloppy clients: generated requests against every endpoint.

Every operation of the admin OpenAPI document and of the carriers' own specs (the
vendored copies in ``tests/contract/specs``) is sent requests drawn from its documented
parameters and body schema, mixed with the probes that once broke the server: lone
surrogates, control characters, deep nesting, absurd numbers and dates, megabyte names,
text that is not UTF-8, wrong methods, wrong content types, other tenants' prefixes. The
property, for every request: no 5xx; every non-2xx in its API's own envelope (the admin
error shape under ``/__admin``, the carrier's error body on a carrier path, the unknown-path
answer for a path no API has); and the server answers a health check and a clean tracking
request afterwards.

The fast profile (``make test``) sends a few dozen requests per operation; the deep one
(``CARRIERSIM_HYPOTHESIS_PROFILE=deep``) a thousand per operation.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from simulator.admin import OPENAPI, PREFIX
from simulator.app import create_app
from simulator.carriers import CARRIERS
from simulator.engine import Simulation
from simulator.inputs import MAX_BODY
from simulator.loader import load_paths
from simulator.settings import BUNDLED_SCENARIOS, Settings
from tests.admin import openapi_check
from tests.conftest import EPOCH
from tests.contract.spec_validation import SPECS_DIR

METHODS = ("get", "put", "post", "delete", "patch", "options", "head")

SENT: list[int] = [0]
"""Requests sent by this module's properties (``conftest.py`` reports the count)."""


# ------------------------------------------------------------------------------ operations


@dataclass(frozen=True)
class Operation:
    """One documented operation: where it is, what it takes."""

    api: str  # "admin" or a carrier
    method: str
    path: str  # template, with the server's base path
    params: tuple[dict[str, Any], ...]
    body: dict[str, Any] | None  # JSON Schema of a JSON body
    form: bool  # takes an application/x-www-form-urlencoded body
    doc: dict[str, Any] = field(repr=False, compare=False, hash=False)

    @property
    def id(self) -> str:
        return f"{self.api} {self.method.upper()} {self.path}"


def _base_path(doc: dict[str, Any], item: dict[str, Any], op: dict[str, Any]) -> str:
    servers = op.get("servers") or item.get("servers") or doc.get("servers") or [{"url": "/"}]
    return urlsplit(servers[0]["url"]).path.rstrip("/")


def _deref(doc: dict[str, Any], node: Any, depth: int = 0) -> Any:
    while isinstance(node, dict) and "$ref" in node and depth < 20:
        target: Any = doc
        for token in node["$ref"].removeprefix("#/").split("/"):
            target = target[token.replace("~1", "/").replace("~0", "~")]
        node, depth = target, depth + 1
    return node


def _operations_of(api: str, doc: dict[str, Any], prefix: bool) -> Iterator[Operation]:
    for template, item in doc["paths"].items():
        for method, op in item.items():
            if method not in METHODS:
                continue
            params = tuple(
                _deref(doc, p) for p in [*item.get("parameters", ()), *op.get("parameters", ())]
            )
            content = _deref(doc, op.get("requestBody", {})).get("content", {})
            body = next((v.get("schema", {}) for k, v in content.items() if "json" in k), None)
            base = _base_path(doc, item, op) if prefix else ""
            yield Operation(
                api,
                method,
                base + template,
                params,
                body,
                "application/x-www-form-urlencoded" in content,
                doc,
            )


def _load(spec: Path) -> Any:
    # Structure is all the requests need: OpenAPI 3.0 and 3.1 alike, YAML read plainly
    # (ups/Tracking.yaml has literal TABs, which YAML forbids).
    text = spec.read_text(encoding="utf-8")
    return json.loads(text) if spec.suffix == ".json" else yaml.safe_load(text.replace("\t", "  "))


def operations() -> list[Operation]:
    """Every operation: the admin document's and those of every vendored carrier spec."""
    found = list(_operations_of("admin", json.loads(OPENAPI.read_text()), prefix=False))
    for spec in sorted(SPECS_DIR.rglob("*")):
        if spec.suffix not in (".yaml", ".json") or "postman" in spec.name:
            continue
        doc = _load(spec)
        if isinstance(doc, dict) and "paths" in doc:
            found.extend(_operations_of(spec.parent.name, doc, prefix=True))
    return found


OPERATIONS = operations()


# ------------------------------------------------------------------------------ strategies

#: The probes of issue 14, and their relatives.
HOSTILE_TEXT = st.sampled_from(
    [
        "\ud800",  # a lone surrogate: legal JSON (as "\ud800"), not encodable as UTF-8
        "a\udfffb",
        "a\nb",
        "a\x00b",
        "\x7f\x1b[31m",
        "9999-99-99",
        "0000-00-00",
        "2026-02-30",
        "-1",
        "1e999",
        "x" * 5000,
        "",
        " ",
        "😀",
        "1Z999AA10123456784",
        "../../etc/passwd",
        "%FF",
        "<script>alert(1)</script>",
        "null",
    ]
)
TEXT = st.one_of(HOSTILE_TEXT, st.text(max_size=40))
NUMBERS = st.sampled_from([0, -1, 1, 2**31, 2**63, 2**64 + 1, 10**30, 1.5, -0.0, 1e308])
SCALARS = st.one_of(TEXT, NUMBERS, st.booleans(), st.none())
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)
DEEP = st.integers(min_value=30, max_value=5000).map(lambda n: "[" * n + "]" * n)


def from_schema(doc: dict[str, Any], schema: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    """Values shaped like ``schema``, with hostile leaves mixed in."""
    schema = _deref(doc, schema)
    if not isinstance(schema, dict) or depth > 6:
        return JSON_VALUES
    for key in ("oneOf", "anyOf"):
        if key in schema:
            return st.one_of([from_schema(doc, s, depth + 1) for s in schema[key]])
    if "allOf" in schema:
        merged: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
        for part in schema["allOf"]:
            part = _deref(doc, part)
            merged["properties"].update(part.get("properties", {}))
            merged["required"] += part.get("required", [])
        return from_schema(doc, merged, depth + 1)
    if "enum" in schema:
        return st.sampled_from(schema["enum"]) | SCALARS
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = kind[0]
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        required = [k for k in schema.get("required", []) if k in props]
        optional = [k for k in props if k not in required]
        return (
            st.fixed_dictionaries(
                {k: from_schema(doc, props[k], depth + 1) for k in required},
                optional={k: from_schema(doc, props[k], depth + 1) for k in optional},
            )
            | JSON_VALUES
        )
    if kind == "array":
        return st.lists(from_schema(doc, schema.get("items", {}), depth + 1), max_size=3)
    if kind in ("integer", "number"):
        return st.integers(-10, 10**6) | NUMBERS | SCALARS
    if kind == "boolean":
        return st.booleans() | SCALARS
    if kind == "string":
        if schema.get("format") in ("date", "date-time"):
            return st.sampled_from(["2026-03-02", "2026-03-02T15:00:00Z"]) | TEXT
        return TEXT | st.sampled_from(["2d", "-1d", "ups", "fedex", "delivered-on-time"])
    return JSON_VALUES


@dataclass
class Sent:
    method: str
    path: str
    params: dict[str, str]
    headers: dict[str, str | bytes]
    content: bytes | None


def _encode_json(value: Any) -> bytes:
    # ensure_ascii writes a lone surrogate as the escape "\ud800", as a client would.
    return json.dumps(value, ensure_ascii=True).encode()


def _path_value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return quote(text.encode("utf-8", "surrogatepass"), safe="") or "x"


@st.composite
def requests_for(draw: Callable[..., Any], op: Operation, tokens: dict[str, str]) -> Sent:
    """Requests for one operation: documented shapes, sloppy variants and the probes."""
    method = draw(st.sampled_from([op.method] * 6 + ["put", "patch", "delete", "options"]))
    path = op.path
    params: dict[str, str] = {}
    headers: dict[str, str | bytes] = {}
    for p in op.params:
        where, name = p.get("in"), p.get("name", "")
        value = draw(from_schema(op.doc, p.get("schema", {})))
        if where == "path":
            path = path.replace("{" + name + "}", _path_value(value))
        elif where == "query" and draw(st.booleans()):
            params[name] = _path_value(value)
        elif (
            where == "header"
            and name.lower() not in ("authorization", "content-type")
            and isinstance(value, str)
            and value.isascii()
            and value.isprintable()
        ):
            headers[name] = value
    path = re.sub(r"\{[^}]+\}", "x", path)
    if op.api != "admin" and draw(st.integers(0, 4)) == 0:
        tenant = draw(st.sampled_from(["t1", "%FF", "%FE", "a%0Ab", "%C3%A9", "x" * 300]))
        path = f"/t/{tenant}{path}"
    auth = draw(st.sampled_from(["token", "token", "none", "garbage", "basic"]))
    if op.api in tokens and auth == "token":
        headers["Authorization"] = f"Bearer {tokens[op.api]}"
    elif auth == "garbage":
        headers["Authorization"] = draw(st.sampled_from(["Bearer x.y.z", "Basic ###", "x"]))
    elif auth == "basic":
        headers["Authorization"] = "Basic dDE6c2VjcmV0"  # t1:secret
    if op.api == "ups":
        headers.setdefault("transId", draw(st.sampled_from(["t-1", "", " "])))
        headers.setdefault("transactionSrc", "fuzz")
    if op.api == "dhl":
        headers.setdefault("DHL-API-Key", draw(st.sampled_from(["t1", ""])))
    if draw(st.integers(0, 6)) == 0:
        headers["X-Carriersim-Tenant"] = draw(
            st.sampled_from([b"t2", b"a b", "é".encode(), b"\xff", b"x" * 300])
        )
    content: bytes | None = None
    shape = draw(st.sampled_from(["schema", "schema", "form", "deep", "raw", "none"]))
    if shape == "schema":
        content = _encode_json(draw(from_schema(op.doc, op.body or {})))
    elif shape == "form":
        fields = draw(st.dictionaries(TEXT, TEXT, max_size=4))
        fields.setdefault("grant_type", "client_credentials")
        content = "&".join(f"{_path_value(k)}={_path_value(v)}" for k, v in fields.items()).encode()
    elif shape == "deep":
        content = draw(DEEP).encode()
    elif shape == "raw":
        content = draw(st.binary(max_size=64) | st.just(b"\xff\xfe{") | st.just(b"{" * 40))
    if content is not None:
        ctype = "application/x-www-form-urlencoded" if shape == "form" else "application/json"
        headers["Content-Type"] = draw(
            st.sampled_from([ctype] * 4 + ["text/plain", "application/xml"])
        )
    return Sent(method.upper(), path, params, headers, content)


# ------------------------------------------------------------------------------ envelopes


def _is_str_map(value: Any, *keys: str) -> bool:
    return isinstance(value, dict) and all(isinstance(value.get(k), str) for k in keys)


def _ups(body: Any) -> bool:
    errors = body.get("response", {}).get("errors") if isinstance(body, dict) else None
    return bool(errors) and all(_is_str_map(e, "code", "message") for e in errors)


def _fedex(body: Any) -> bool:
    errors = body.get("errors") if isinstance(body, dict) else None
    return (
        isinstance(body.get("transactionId"), str)
        and bool(errors)
        and all(_is_str_map(e, "code", "message") for e in errors)
    )


def _usps(body: Any) -> bool:
    if _is_str_map(body, "error", "error_description"):  # the OAuth 2 token endpoint
        return True
    return (
        isinstance(body, dict)
        and isinstance(body.get("apiVersion"), str)
        and _is_str_map(body.get("error"), "code", "message")
    )


def _dhl(body: Any) -> bool:
    return isinstance(body, dict) and isinstance(body.get("status"), int) and "title" in body


ENVELOPES: dict[str, Callable[[Any], bool]] = {
    "ups": _ups,
    "fedex": _fedex,
    "usps": _usps,
    "dhl": _dhl,
}


def _unknown_path(body: Any) -> bool:
    return _is_str_map(body, "error", "path") and isinstance(body.get("hints"), list)


def check_envelope(op: Operation, sent: Sent, status: int, raw: bytes) -> None:
    """A non-2xx answer is in its API's envelope."""
    where = f"{sent.method} {sent.path} answered {status}: {raw[:300]!r}"
    body = json.loads(raw)
    if sent.path.startswith(PREFIX):
        openapi_check.validate("/components/schemas/Error", body)
        return
    if status == 404 and _unknown_path(body):
        return
    assert ENVELOPES[op.api](body), f"not in the {op.api.upper()} envelope: {where}"


# ------------------------------------------------------------------------------ the property


@pytest.fixture(scope="module")
def hostile(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[TestClient, dict[str, str]]]:
    # Two scenarios keep POST /__admin/scenarios/reload cheap enough to call hundreds of
    # times; unknown numbers still play the default mix.
    library = tmp_path_factory.mktemp("scenarios")
    for name in ("delivered-on-time", "damaged"):
        shutil.copy(BUNDLED_SCENARIOS / f"{name}.yaml", library)
    settings = Settings(clock_start=EPOCH, scenario_paths=(library,))
    sim = Simulation(settings, load_paths([library]))
    # One portal for the whole module: outside a with block every request starts a loop.
    with TestClient(
        create_app(sim), base_url="http://127.0.0.1", raise_server_exceptions=False
    ) as client:
        form = {"grant_type": "client_credentials", "client_id": "t1", "client_secret": "secret"}
        tokens = {
            "ups": client.post("/security/v1/oauth/token", data=form, auth=("t1", "secret")),
            "fedex": client.post("/oauth/token", data=form),
            "usps": client.post("/oauth2/v3/token", json=form),
        }
        yield client, {k: r.json()["access_token"] for k, r in tokens.items()}


@pytest.mark.parametrize("op", OPERATIONS, ids=[op.id for op in OPERATIONS])
def test_no_request_breaks_the_server_or_its_envelope(
    hostile: tuple[TestClient, dict[str, str]], op: Operation
) -> None:
    client, tokens = hostile

    @settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(sent=requests_for(op, tokens))
    def prop(sent: Sent) -> None:
        SENT[0] += 1
        r = client.request(
            sent.method, sent.path, params=sent.params, headers=sent.headers, content=sent.content
        )
        assert r.status_code < 500, f"{sent} answered {r.status_code}: {r.text[:300]}"
        if r.status_code >= 300 and sent.method != "HEAD" and r.content:
            check_envelope(op, sent, r.status_code, r.content)

    prop()
    assert_healthy(client, tokens)


def assert_healthy(client: TestClient, tokens: dict[str, str]) -> None:
    """The server still answers its health check and a clean tracking request."""
    assert client.get(f"{PREFIX}/health").json()["status"] == "ok"
    r = client.get(
        "/api/track/v1/details/1Z999AA10123456784",
        headers={
            "Authorization": f"Bearer {tokens['ups']}",
            "transId": "health",
            "transactionSrc": "fuzz",
        },
    )
    assert r.status_code == 200 and "trackResponse" in r.json()


def test_the_probes_of_issue_14_each_get_an_answer_in_their_envelope(
    hostile: tuple[TestClient, dict[str, str]],
) -> None:
    """The requests that answered a bare 500 (or the wrong envelope) before, one by one."""
    client, tokens = hostile
    json_type = {"Content-Type": "application/json"}
    fedex = {**json_type, "Authorization": f"Bearer {tokens['fedex']}"}
    surrogate = b'{"trackingInfo": [{"trackingNumberInfo": {"trackingNumber": "\\ud800"}}]}'
    r = client.post("/track/v1/trackingnumbers", content=surrogate, headers=fedex)
    assert r.status_code == 400 and _fedex(r.json()), r.text
    r = client.post(
        "/oauth2/v3/token",
        content=b'{"grant_type": "client_credentials", "client_id": "\\ud800", '
        b'"client_secret": "s"}',
        headers=json_type,
    )
    assert r.status_code == 400 and _usps(r.json())
    for path, body in [
        ("/requests/verify", b'{"number": "\\ud800"}'),
        ("/shipments", b'{"carrier": "ups", "scenario": "damaged", "tenant": "\\ud800"}'),
        ("/faults", b"[" * 1000 + b"]" * 1000),
        ("/faults", b'{"a":' * 1000 + b"1" + b"}" * 1000),
    ]:
        r = client.post(PREFIX + path, content=body, headers=json_type)
        assert r.status_code == 400 and r.json()["error"]["field"] == "body", (path, r.text)
    r = client.post(f"{PREFIX}/requests/verify", json={"at_least": None})
    assert r.status_code == 200 and r.json()["ok"]
    # A fault with a 31-year latency is not a fault anyone can wait for.
    years = 31 * 365 * 86400 * 1000
    r = client.post(f"{PREFIX}/faults", json={"kind": "latency", "ms": years})
    assert r.status_code == 400 and r.json()["error"]["field"] == "ms"
    assert "connection" in r.json()["error"]["message"]
    # A control character in an admin path: the admin API's own answer, not a carrier's.
    r = client.post(f"{PREFIX}/shipments/fedex/a%0Ab/next", params={"tenant": "t1"})
    assert r.status_code == 404 and "error" in r.json() and "field" in r.json()["error"]
    # A megabyte name is not echoed whole.
    r = client.get(f"{PREFIX}/scenarios/" + "a" * 20000)
    assert r.status_code == 404 and len(r.content) < 2000
    # Two tenant names that are not UTF-8 are refused, not decoded into one U+FFFD tenant.
    for raw in ("%FF", "%FE"):
        r = client.get(f"{PREFIX}/clock?tenant={raw}")
        assert r.status_code == 400 and r.json()["error"]["field"] == "query"
    # A wrong method anywhere: the API's own 405, with Allow.
    sim = client.app.state.sim  # type: ignore[attr-defined]
    for name, carrier in CARRIERS.items():
        for route in carrier.routes(sim):
            for prefix in ("", f"/{name}", f"/t/t1/{name}"):
                r = client.request("TRACE", prefix + route.path.replace("{", "").replace("}", ""))
                assert r.status_code == 405 and r.headers["allow"], (name, route.path)
                assert ENVELOPES[name](r.json()), (name, route.path, r.text)
    r = client.request("TRACE", f"{PREFIX}/health")
    assert r.status_code == 405 and r.headers["allow"] == "GET, HEAD"
    assert r.json()["error"]["field"] == "method"
    ups = {"Authorization": f"Bearer {tokens['ups']}", "transId": "1", "transactionSrc": "t"}
    r = client.get("/t/%FF/api/track/v1/details/1Z999AA10123456784", headers=ups)
    assert r.status_code == 400 and _ups(r.json())


def test_the_body_limit_holds_for_declared_and_chunked_bodies(
    hostile: tuple[TestClient, dict[str, str]],
) -> None:
    client, tokens = hostile
    big = b"[" + b"0," * (MAX_BODY // 2) + b"0]"
    fedex = {"Content-Type": "application/json", "Authorization": f"Bearer {tokens['fedex']}"}
    r = client.post("/track/v1/trackingnumbers", content=big, headers=fedex)
    assert r.status_code == 413 and _fedex(r.json())

    def chunks() -> Iterator[bytes]:
        for _ in range(3):
            yield big[: MAX_BODY // 2]

    r = client.post("/track/v1/trackingnumbers", content=chunks(), headers=fedex)
    assert r.status_code == 413 and _fedex(r.json())
