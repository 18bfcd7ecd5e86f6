"""DHL HTTP API: the API key, query validation, fixed response parts, the tracking route, problem
envelopes and the fault hooks.
"""

from __future__ import annotations

import hashlib
import itertools
import re
import uuid
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any, NamedTuple
from urllib.parse import unquote_plus

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Scope

from simulator import faulting, numbers, replay
from simulator.carriers.common import TENANT_HEADER, dumps, header, raw, tenant_for
from simulator.carriers.dhl.codes import NAME, PATH, REQUEST_SERVICES
from simulator.carriers.dhl.faults import EMPTY_ANSWER, ERROR_LIES, render_faulted
from simulator.carriers.dhl.render import render, service_of
from simulator.engine import Simulation
from simulator.timeline import Shipment

_EMPTY_BODY = dumps(EMPTY_ANSWER)


_FULL_DATA_SERVICES = frozenset({"parcel-de", "parcel-nl"})
"""Units that show the full data set only with a matching ``recipientPostalCode`` [spec]."""

API_KEY_HEADER = "dhl-api-key"
"""``DHL-API-Key`` [spec: securitySchemes.ApiKeyAuth]; header names are case-insensitive."""
_API_KEY_HEADER = API_KEY_HEADER.encode()

PROBLEM_JSON = "application/problem+json"

# --------------------------------------------------------------------------------------------
# Fixed response parts
# --------------------------------------------------------------------------------------------

LINK = (
    '<https://api-eu.dhl.com/track/context>; rel="http://www.w3.org/ns/json-ld#context"; '
    'type="application/ld+json"'
)
"""[spec: 200 headers; NOTES §4.4]."""

_OK_HEADERS = {"Content-Language": "en", "Link": LINK}

UNAUTHORIZED = {
    "status": 401,
    "title": "Unauthorized",
    "detail": "Unauthorized for given resource.",
}
"""[obs] the api-eu.dhl.com gateway's body (NOTES §4.2), in its key order."""

NOT_FOUND = {
    "title": "No result found",
    "status": 404,
    "detail": "No shipment with given tracking number found.",
}
"""[spec example; obs netresearch/dhl-shipping-m2 #23 (97 bytes, no ``instance``)]."""

TOO_MANY_REQUESTS = {
    "status": 429,
    "title": "Too Many Requests",
    "detail": "Too many requests within defined time period, please try again later.",
}
"""[obs itsvic-dev/deliveries #68] (NOTES §4.5), in its key order."""

_UNAUTHORIZED_BODY = dumps(UNAUTHORIZED)
_NOT_FOUND_BODY = dumps(NOT_FOUND)

_COUNTRY = re.compile(r"[A-Za-z]{2}", re.ASCII).fullmatch
_LANGUAGE = re.compile(r"[A-Za-z]{2}", re.ASCII).fullmatch
_COUNT = re.compile(r"[0-9]{1,9}", re.ASCII).fullmatch

DEFAULT_OFFSET = 0
DEFAULT_LIMIT = 5  # [spec] parameter defaults

# --------------------------------------------------------------------------------------------
# Auth
# --------------------------------------------------------------------------------------------


def api_key(scope: Scope) -> str | None:
    """The ``DHL-API-Key`` header (the first one) as UTF-8 text; None without one, and for a
    key that is not UTF-8. DHL issues ASCII keys: bytes that are no text are no key of
    theirs, so they get the 401 a missing or unknown key gets (NOTES §4.2), never a tenant
    named by their Latin-1 reading."""
    for name, value in scope["headers"]:
        if name == _API_KEY_HEADER:
            try:
                key: str = value.decode("utf-8")
            except UnicodeDecodeError:
                return None
            return key
    return None


def key_accepted(sim: Simulation, key: str | None) -> bool:
    """Whether this API key may call the API (the one place key rules live)."""
    return bool(key) and sim.accepts(NAME, key or "", None)


# --------------------------------------------------------------------------------------------
# Query validation
# --------------------------------------------------------------------------------------------


class Query(NamedTuple):
    """A validated tracking query (a NamedTuple: built on every request, cheaply)."""

    number: str
    service: str | None = None
    origin_country: str | None = None
    postal_code: str | None = None
    offset: int = DEFAULT_OFFSET
    limit: int = DEFAULT_LIMIT


class BadQuery(Exception):
    """A query DHL would refuse; ``str(self)`` is the problem's ``detail``."""


PARAMETERS = frozenset(
    {"trackingNumber", "service", "requesterCountryCode", "originCountryCode",
     "recipientPostalCode", "language", "offset", "limit"}
)  # fmt: skip
"""The operation's query parameters [spec]; others are ignored, as gateways do."""


def query_pairs(query_string: bytes) -> list[tuple[str, str]]:
    """(name, value) pairs of a raw query string, blanks kept, ``%xx`` and ``+`` decoded."""
    # Cheaper than parse_qsl (and Starlette's multi-dict) for the common plain query.
    pairs = []
    for part in query_string.decode("latin-1").split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        if "%" in part or "+" in part:
            name, value = unquote_plus(name), unquote_plus(value)
        pairs.append((name, value))
    return pairs


def parse_query(pairs: Sequence[tuple[str, str]]) -> Query:
    """Validate the query string's (name, value) pairs against the spec's parameters."""
    if len(pairs) == 1 and pairs[0][0] == "trackingNumber" and pairs[0][1].strip():
        # The common request: nothing but the number.
        return Query(numbers.normalize(pairs[0][1]))
    given: dict[str, str] = {}
    for name, value in pairs:
        if name not in PARAMETERS:
            continue
        if name in given:
            raise BadQuery(f"Query parameter '{name}' may be given only once.")
        given[name] = value.strip()
    # ``.get(...) or None``: an empty optional parameter is what clients send for "not set".
    raw_number = given.get("trackingNumber")
    if not raw_number:
        raise BadQuery("Missing required query parameter 'trackingNumber'.")
    service = given.get("service") or None
    if service is not None and service not in REQUEST_SERVICES:
        raise BadQuery(
            f"Invalid value '{service}' for query parameter 'service'; expected one of: "
            + ", ".join(sorted(REQUEST_SERVICES))
            + "."
        )
    for name in ("requesterCountryCode", "originCountryCode"):
        code = given.get(name)
        if code and not _COUNTRY(code):
            raise BadQuery(
                f"Invalid value '{code}' for query parameter '{name}'; "
                "expected an ISO 3166-1 alpha-2 country code such as 'DE'."
            )
    language = given.get("language")
    if language and not _LANGUAGE(language):
        raise BadQuery(
            f"Invalid value '{language}' for query parameter 'language'; "
            "expected an ISO 639-1 language code such as 'en'."
        )
    origin = given.get("originCountryCode")
    return Query(
        number=numbers.normalize(raw_number),
        service=service,
        origin_country=origin.upper() if origin else None,
        postal_code=given.get("recipientPostalCode") or None,
        offset=_count(given, "offset", DEFAULT_OFFSET, 0),
        limit=_count(given, "limit", DEFAULT_LIMIT, 1),
    )


def _count(given: dict[str, str], name: str, default: int, minimum: int) -> int:
    value = given.get(name)
    if not value:
        return default
    if not _COUNT(value) or int(value) < minimum:
        raise BadQuery(
            f"Invalid value '{value}' for query parameter '{name}'; "
            f"expected a whole number of at least {minimum}."
        )
    return int(value)


# --------------------------------------------------------------------------------------------
# Responses and routes
# --------------------------------------------------------------------------------------------


class _Ok(Response):
    """A 200 with prebuilt headers; Response.__init__ rebuilds them on every request."""

    def __init__(self, body: bytes) -> None:
        self.status_code = 200
        self.body = body
        self.background = None
        self.raw_headers = [(b"content-length", str(len(body)).encode()), *_OK_RAW_HEADERS]


_OK_RAW_HEADERS = [
    (b"content-type", b"application/json"),
    *((k.lower().encode(), v.encode()) for k, v in _OK_HEADERS.items()),
]


def _problem(body: bytes, status: int, headers: dict[str, str] | None = None) -> Response:
    return raw(body, status, {"Content-Language": "en", **(headers or {})}, PROBLEM_JSON)


def bad_request(detail: str) -> Response:
    """400 problem+json (RFC 7807 shape of NOTES §4.5; wording [unverified])."""
    return _problem(dumps({"status": 400, "title": "Bad Request", "detail": detail}), 400)


def correlation_id(*parts: object) -> str:
    """A stable UUID-shaped ``Correlation-Id`` for the same request at the same instant."""
    digest = hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=16).digest()
    return str(uuid.UUID(bytes=digest, version=4))


def not_found(sim: Simulation, number: str, tenant: str, now: float) -> Response:
    """404: production's body, or with the spec example's ``instance`` in "spec" mode."""
    body = _NOT_FOUND_BODY
    if sim.settings.not_found == "spec":
        body = dumps({**NOT_FOUND, "instance": f"/shipment/{number}"})
    cid = correlation_id(NAME, tenant, number, now)
    return _problem(body, 404, {"Correlation-Id": cid})


def _qualifies(shipment: Shipment, service: str, query: Query) -> bool:
    # A service hint or a qualifier that does not fit makes DHL look elsewhere and find
    # nothing (NOTES §4.3, §4.6: without the right unit a number resolves differently).
    if query.service is not None and query.service != service:
        return False
    if query.origin_country is not None and query.origin_country != shipment.shipper.place.country:
        return False
    return query.postal_code is None or _same_postal(query.postal_code, shipment)


def _same_postal(given: str, shipment: Shipment) -> bool:
    want = shipment.recipient.place.postal_code
    return "".join(given.split()).upper() == "".join(want.split()).upper()


def routes(sim: Simulation) -> list[Route]:
    """The Unified Tracking endpoint at its production path."""

    def missing(request: Request, number: str, tenant: str, now: float) -> Response:
        if faulting.data_faults(request).lies & ERROR_LIES:
            return _Ok(_EMPTY_BODY)
        return not_found(sim, number, tenant, now)

    async def track(request: Request) -> Response:
        key = api_key(request.scope)
        if not key_accepted(sim, key):
            return _problem(_UNAUTHORIZED_BODY, 401)
        tenant = tenant_for(request, key or "")
        try:
            query = parse_query(query_pairs(request.scope["query_string"]))
        except BadQuery as problem:
            return bad_request(str(problem))
        now = sim.clock.now(tenant)
        number = query.number
        shipment = sim.lookup(NAME, number, tenant)
        count = shipment.visible_count(now) if shipment is not None else 0
        if shipment is None or count == 0:
            return missing(request, number, tenant, now)
        service = service_of(number)
        if not _qualifies(shipment, service, query):
            return missing(request, number, tenant, now)
        full = service not in _FULL_DATA_SERVICES or query.postal_code is not None
        offset, limit = query.offset, query.limit
        decision = faulting.data_faults(request)
        if decision.lies or decision.quirks:
            if decision.lies & ERROR_LIES:
                return _Ok(_EMPTY_BODY)
            found = shipment
            body = sim.rendered(
                (NAME, found.key, count, service, full, offset, limit,
                 decision.quirks, decision.lies),
                lambda: dumps(render_faulted(found, count, service, full, offset, limit,
                                             decision)),
            )  # fmt: skip
            return _Ok(body)
        render_key = (NAME, shipment.key, count, service, full, offset, limit)
        body = sim.rendered(
            render_key, lambda: dumps(render(shipment, count, service, full, offset, limit))
        )
        since, until = shipment.window(count)
        # This answer holds for this key (and tenant header) and URL while the tenant's
        # clock stays in [since, until): it may be replayed (simulator/replay.py).
        request.scope[replay.MARK] = (tenant, since, until, render_key)
        return _Ok(body)

    return [Route(PATH, track, methods=["GET"], name="dhl.track")]


# --------------------------------------------------------------------------------------------
# Fault hooks (simulator.carriers.contract.Carrier)
# --------------------------------------------------------------------------------------------


def _titled(status: int, title: str, detail: str) -> dict[str, Any]:
    return {"status": status, "title": title, "detail": detail}


FAULT_PROBLEMS: dict[int, dict[str, Any]] = {
    # [unverified] detail; shape and title as the simulator's own 400s.
    400: _titled(400, "Bad Request", "The request could not be understood by the server."),
    401: UNAUTHORIZED,
    # [unverified] detail.
    403: _titled(403, "Forbidden", "Access to the requested resource is forbidden."),
    404: NOT_FOUND,
    429: TOO_MANY_REQUESTS,
    # [spec] the ``internalError`` component is problem+json; its texts are [unverified].
    500: _titled(500, "Internal Server Error", "An unexpected error occurred."),
    # [unverified] gateway answers in DHL's problem shape.
    502: _titled(502, "Bad Gateway", "The upstream service returned an invalid response."),
    503: _titled(503, "Service Unavailable", "The service is temporarily unavailable."),
    504: _titled(504, "Gateway Timeout", "The upstream service did not respond in time."),
}
"""A fault's problem+json body per HTTP status (NOTES §4.2, §4.5 where sourced)."""

_FAULT_BODIES = {status: dumps(problem) for status, problem in FAULT_PROBLEMS.items()}
_FAULT_ORDINALS = itertools.count(1)


def error_response(
    status: int, endpoint: str, retry_after: int | None, reason: str | None
) -> Response:
    """A fault's HTTP error as DHL sends it: problem+json, the same for every endpoint."""
    body = _FAULT_BODIES.get(status)
    if body is None:
        body = dumps(_titled(status, HTTPStatus(status).phrase, HTTPStatus(status).description))
    headers: dict[str, str] = {}
    if status == 404:
        headers["Correlation-Id"] = correlation_id(NAME, "fault", next(_FAULT_ORDINALS))
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    return _problem(body, status, headers)


_TENANT_HEADER = TENANT_HEADER.encode()


def replay_credential(scope: Scope) -> tuple[str, str | None] | None:
    """What a clean tracking answer depends on besides the URL and the clock: the API key
    and the tenant header, which names the tenant (simulator/replay.py). None: never
    replay."""
    key = api_key(scope)
    return None if key is None else (key, header(scope, _TENANT_HEADER))


async def describe(request: Request) -> tuple[str, tuple[str, ...]]:
    """(tenant, tracking numbers) of a request, best effort, never raising."""
    try:
        tenant = tenant_for(request, api_key(request.scope) or "")
        try:
            query = parse_query(query_pairs(request.scope["query_string"]))
        except BadQuery:
            return tenant, ()
        return tenant, (query.number,)
    except Exception:  # a fault hook must never be the reason a request fails
        return "", ()


_METHOD_NOT_ALLOWED = dumps(
    # [unverified] DHL publishes no 405; problem+json in the shape of its other answers.
    _titled(405, "Method Not Allowed", "The requested method is not allowed for this resource.")
)


def method_not_allowed(path: str, allowed: Sequence[str]) -> Response:
    """A 405 as DHL's other errors look: problem+json."""
    return _problem(_METHOD_NOT_ALLOWED, 405, {"Allow": ", ".join(allowed)})


PREFIX = PATH + "/"
"""Paths under the tracking resource name no operation: DHL's own 404, not the simulator's."""

_NO_RESOURCE = dumps(
    {"title": "Not Found", "status": 404, "detail": "The requested resource could not be found."}
)
"""[inferred] RFC 7807 like every DHL error (NOTES §4.5); no capture of this 404 exists."""


def unknown_path(path: str) -> Response:
    """DHL's 404 for a path under ``/track/shipments/`` (the API has one operation)."""
    return _problem(_NO_RESOURCE, 404)


def refusal(path: str, status: int, message: str) -> Response:
    """Input the simulator refused, as problem+json (NOTES §4.5; wording [unverified])."""
    return _problem(dumps(_titled(status, HTTPStatus(status).phrase, message)), status)
