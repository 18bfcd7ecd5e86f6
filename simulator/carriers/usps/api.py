"""USPS HTTP API: the OAuth 2.0 token, the Tracking 3.0 and 3.2 routes, request validation, error
envelopes and the fault hooks.
"""

from __future__ import annotations

import base64
import hashlib
import re
import sys
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import replace
from datetime import date
from functools import lru_cache
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Scope

from simulator import faulting, numbers, replay
from simulator.carriers.common import (
    basic_credentials,
    bearer_tenant,
    dumps,
    foreign_token,
    form_body,
    header,
    json_body,
    raw,
    respond,
    tenant_for,
    tenant_mismatch,
)
from simulator.carriers.usps import letters
from simulator.carriers.usps.codes import API_V3, API_V3R2, NAME
from simulator.carriers.usps.faults import (
    distort_detail,
    distort_summary,
    distort_v3r2,
    faulted_timeline,
)
from simulator.carriers.usps.render import render_detail, render_summary, render_v3r2
from simulator.engine import Simulation
from simulator.faults import Decision
from simulator.timeline import Shipment
from simulator.tokens import TokenError, bearer

_NOT_FOUND_LIES = frozenset({"ok_with_error", "mixed_results"})
"""Lies that answer found numbers with USPS's not-found form."""


TOKEN_PATH = "/oauth2/v3/token"
TRACK_PATH = "/tracking/v3/tracking/{trackingNumber}"
BATCH_PATH = "/tracking/v3r2/tracking"
"""Production paths on ``https://apis.usps.com`` [spec: servers + paths; NOTES §3.1]."""

PREFIX = "/tracking/v3"
"""Both tracking APIs' paths start so (v3 and v3r2); an unknown one gets USPS's own 404."""

# --------------------------------------------------------------------------------------------
# OAuth
# --------------------------------------------------------------------------------------------

TOKEN_LIFETIME = 28799
"""``expires_in`` as an integer [spec example; obs USPS-ISS #28, #56]: 8 h less a second."""

ISSUER = "api.usps.com"
"""[spec example, obs USPS-ISS #28]; newer live tokens say https://keyc.usps.com/realms/USPS."""

APPLICATION_NAME = "Silver Shipper Developer"
API_PRODUCTS = "[Shipping-Silver]"
"""``application_name`` / ``api_products`` of the spec's client-credentials example."""

APP_SCOPES: tuple[str, ...] = (
    "addresses",
    "international-prices",
    "subscriptions",
    "payments",
    "pickup",
    "tracking",
    "labels",
    "scan-form",
    "companies",
    "service-delivery-standards",
    "locations",
    "international-labels",
    "prices",
)
"""The scopes every simulated app holds: the spec example's ``scope``, in its order."""

# Subscriptions – Tracking names its own scope; an app may ask for it explicitly.
_APP_SCOPE_SET = frozenset((*APP_SCOPES, "subscriptions-tracking"))
TRACKING_SCOPE = "tracking"
"""The scope the tracking APIs require [spec: security OAuth: tracking]."""

ERROR_URI = "https://datatracker.ietf.org/doc/html/rfc6749#page-45"
"""``error_uri`` of the live ``invalid_client`` answer [obs: KAR-USPS]; page 45 of RFC 6749
is its §5.2 (error response), so every token error links it."""

WWW_AUTHENTICATE = {"WWW-Authenticate": 'Bearer realm="https://api.usps.com"'}
"""[spec: components.headers.WWWAuthenticate example; NOTES §3.6]."""


def _public_key() -> str:
    # A stable stand-in for the base64-encoded PEM the spec returns: the same shape (base64
    # of "-----BEGIN PUBLIC KEY-----…"), derived from nothing secret.
    der = b"".join(hashlib.sha256(b"carriersim usps %d" % i).digest() for i in range(9))[:294]
    lines = base64.b64encode(der).decode()
    pem = "-----BEGIN PUBLIC KEY-----\n"
    pem += "\n".join(lines[i : i + 64] for i in range(0, len(lines), 64))
    pem += "\n-----END PUBLIC KEY-----"
    return base64.b64encode(pem.encode()).decode()


PUBLIC_KEY = _public_key()

_SUPPORTED_GRANTS = frozenset({"client_credentials"})
# The spec supports these two as well, but the simulator never issues refresh tokens or
# authorization codes, so any presented one is invalid (RFC 6749 §5.2 invalid_grant).
_UNISSUED_GRANTS = frozenset({"refresh_token", "authorization_code"})


def _oauth_error(status: int, error: str, description: str) -> Response:
    body = {"error": error, "error_description": description, "error_uri": ERROR_URI}
    return respond(body, status, WWW_AUTHENTICATE if status == 401 else None)


def _bad_client() -> Response:
    # [obs: KAR-USPS] the live answer to unknown or wrong credentials.
    return _oauth_error(401, "invalid_client", "Client authentication failed.")


# --------------------------------------------------------------------------------------------
# Error envelopes
# --------------------------------------------------------------------------------------------

NOT_YET_AVAILABLE_V3 = (
    "12: A status update is not yet available on your package. It will be available when "
    "the shipper provides an update or the package is given to USPS. Check back soon. Sign "
    "up for Informed Delivery<SUP>reg;</SUP> to receive notifications for packages addressed "
    "to you. - "
)
"""[obs: USPS-FIX] subcode 150001, with its legacy ``12: `` prefix, ``reg;`` and trailing ``- ``."""

MAY_BE_INCORRECT_V3 = (
    "7: The tracking number may be incorrect or the status update is not yet available. "
    "Please verify your tracking number and try again later. - "
)
"""Subcode 150002 [NOTES §3.6 (Error Inventory), full sentence as Web Tools printed it]."""

NOT_YET_AVAILABLE_V3R2 = (
    "A status update is not yet available for your package. It will be available when the "
    "shipper provides an update or the package is given to USPS. Check back soon. Sign up "
    "for Informed Delivery<SUP>&reg;</SUP> to receive notifications for packages addressed "
    "to you."
)
"""[obs: USPS-ISS #82] the 3.2 404 detail, subcode 150006."""

UNAUTHORIZED_MESSAGE = "The client application identifier is invalid."
"""[obs: USPS-ISS #56] the 401 for a token without the tracking scope."""

BAD_REQUEST_MESSAGE = "THERE IS AN ERROR IN THE RECEIVED REQUEST"
"""The 400 text of the Error Inventory's "General Errors" sheet [NOTES §3.6]."""


def envelope(api: str, status: int, message: str, errors: list[dict[str, Any]]) -> dict[str, Any]:
    """The tracking APIs' error envelope [spec: ErrorMessage; obs: NOTES §3.6]."""
    return {"apiVersion": api, "error": {"code": str(status), "message": message, "errors": errors}}


def _subcode_body(api: str, status: int, code: str, text: str) -> dict[str, Any]:
    # [obs: USPS-FIX] the message repeated as the title, an empty detail, no status.
    return envelope(api, status, text, [{"title": text, "detail": "", "code": code}])


def not_found_v3(subcode: str, spec_form: bool) -> bytes:
    """The 3.0 answer for a number USPS has nothing on (see the module docstring)."""
    return _NOT_FOUND_V3[(subcode, spec_form)]


_NOT_FOUND_TEXTS = {"150001": NOT_YET_AVAILABLE_V3, "150002": MAY_BE_INCORRECT_V3}
_NOT_FOUND_V3: dict[tuple[str, bool], bytes] = {
    (code, False): dumps(_subcode_body(API_V3, 400, code, text))
    for code, text in _NOT_FOUND_TEXTS.items()
}


def _spec_not_found_body(code: str) -> dict[str, Any]:
    # [spec] 404 "Resource Not Found" with the ErrorMessage schema; the subcode and its
    # text are kept so a client can still tell the two cases apart [unverified].
    text = _NOT_FOUND_TEXTS[code]
    return envelope(
        API_V3,
        404,
        "Resource Not Found",
        [{"status": "404", "code": code, "title": text, "detail": ""}],
    )


_NOT_FOUND_V3.update({(code, True): dumps(_spec_not_found_body(code)) for code in _NOT_FOUND_TEXTS})


def _batch_not_found_error() -> dict[str, Any]:
    # [obs: USPS-ISS #82] key order and the empty title as live.
    return {"title": "", "detail": NOT_YET_AVAILABLE_V3R2, "status": "404", "code": "150006"}


def batch_not_found_item(number: str) -> dict[str, Any]:
    """A 207 item for a number with no tracking [spec: FailureResponse; NOTES §3.4]."""
    return {
        "statusCode": "404",
        "trackingNumber": number,
        **envelope(API_V3R2, 404, "", [_batch_not_found_error()]),
    }


_UNAUTHORIZED = {
    api: dumps(envelope(api, 401, UNAUTHORIZED_MESSAGE, [])) for api in (API_V3, API_V3R2)
}


def unauthorized(api: str, why: str | None = None) -> Response:
    """The 401 every token problem gets [obs: USPS-ISS #56; spec: WWW-Authenticate]; ``why``
    (carriersim's own reason, where it knows one) goes into ``errors``."""
    if why is None:
        return raw(_UNAUTHORIZED[api], 401, WWW_AUTHENTICATE)
    detail = [{"status": "401", "title": "Unauthorized", "detail": why}]
    return raw(dumps(envelope(api, 401, UNAUTHORIZED_MESSAGE, detail)), 401, WWW_AUTHENTICATE)


def problem(
    title: str, detail: str, parameter: str | None = None, example: str | None = None
) -> dict[str, Any]:
    """One ``errors`` entry of a request-validation 400 [spec: ErrorMessage.errors items]."""
    item: dict[str, Any] = {"status": "400", "title": title, "detail": detail}
    if parameter is not None:
        source = {"parameter": parameter}
        if example is not None:
            source["example"] = example
        item["source"] = source
    return item


def bad_request(api: str, problems: list[dict[str, Any]]) -> Response:
    """A 400 envelope listing every problem found in the request [unverified wording]."""
    return respond(envelope(api, 400, BAD_REQUEST_MESSAGE, problems), 400)


# --------------------------------------------------------------------------------------------
# Request validation helpers
# --------------------------------------------------------------------------------------------

_ZIP5 = re.compile(r"\d{5}", re.ASCII).fullmatch
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII).fullmatch
_EXPANDS = frozenset({"SUMMARY", "DETAIL"})
BATCH_LIMIT = 35
"""[spec: TrackingRequest maxItems 35; NOTES §3.3]."""
_BATCH_FIELDS = frozenset({"trackingNumber", "mailingDate", "destinationZIPCode"})
_NUMBER_EXAMPLE = "9400100000000000000006"  # a valid IMpb-22 (NOTES §3.8 check digit)


def _is_date(value: str) -> bool:
    if not _ISO_DATE(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _optional_field_problems(values: Mapping[str, Any], prefix: str = "") -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    zip_code = values.get("destinationZIPCode")
    if zip_code is not None and not (isinstance(zip_code, str) and _ZIP5(zip_code)):
        found.append(
            problem(
                "Invalid destinationZIPCode",
                "destinationZIPCode must be a 5-digit ZIP Code.",
                prefix + "destinationZIPCode",
                "20500",
            )
        )
    mailing = values.get("mailingDate")
    if mailing is not None and not (isinstance(mailing, str) and _is_date(mailing)):
        found.append(
            problem(
                "Invalid mailingDate",
                "mailingDate must be a date in the form YYYY-MM-DD.",
                prefix + "mailingDate",
                "2026-01-01",
            )
        )
    return found


_COMMON_QUERIES: dict[bytes, str] = {
    b"": "SUMMARY",
    **{f"expand={m}".encode(): m.upper() for m in ("DETAIL", "SUMMARY", "detail", "summary")},
}
"""Query strings most clients send, mapped to their mode without parsing (hot path)."""


def _parse_query(query: Mapping[str, str]) -> tuple[str, list[dict[str, Any]]]:
    """The ``expand`` mode of a 3.0 query and the problems that make it a 400."""
    expand = query.get("expand")
    # The USPS README calls it with expand=summary / expand=detail: case-insensitive.
    mode = "SUMMARY" if expand is None else expand.upper()
    problems: list[dict[str, Any]] = []
    if mode not in _EXPANDS:
        problems.append(
            problem(
                "Invalid expand",
                f"expand must be SUMMARY or DETAIL, not {expand!r}.",
                "expand",
                "DETAIL",
            )
        )
    return mode, problems + _optional_field_problems(query)


async def _json(request: Request) -> tuple[bool, Any]:
    """``common.json_body``, also refusing bodies nested too deeply to parse."""
    try:
        return await json_body(request)
    except RecursionError:
        return False, None


@lru_cache(maxsize=256)
def _grants_tracking(scope: str) -> bool:
    """Whether a token's space-separated scope includes ``tracking`` (cached: hot path)."""
    return TRACKING_SCOPE in scope.split()


def _is_json_type(request: Request) -> bool:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return ctype == "application/json" or ctype.endswith("+json")


# --------------------------------------------------------------------------------------------
# Routes
# --------------------------------------------------------------------------------------------


def routes(sim: Simulation) -> list[Route]:
    """The USPS endpoints at their production paths."""
    spec_not_found = sim.settings.not_found == "spec"

    def authorize(request: Request, api: str) -> tuple[float, str, Response | None, float]:
        """(tenant's now, tenant, None, token expiry) for a usable token, else (…, the 401
        to send, …)."""
        token = bearer(header(request.scope, b"authorization"))
        try:
            claims = sim.tokens.decode(token, NAME)
        except TokenError as exc:
            return 0.0, "", unauthorized(api, foreign_token(exc, NAME, TOKEN_PATH)), 0.0
        mismatch = tenant_mismatch(request, claims)
        if mismatch is not None:
            return 0.0, "", unauthorized(api, mismatch), 0.0
        tenant = claims.tenant
        now = sim.clock.now(tenant)
        if now >= claims.expires_at or not _grants_tracking(claims.scope):
            return now, tenant, unauthorized(api), 0.0
        return now, tenant, None, claims.expires_at

    async def token_endpoint(request: Request) -> Response:
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        fields: Mapping[str, Any]
        if ctype == "application/x-www-form-urlencoded":
            form = await form_body(request)
            if form is None:
                return _oauth_error(
                    400,
                    "invalid_request",
                    "The request body is not valid application/x-www-form-urlencoded.",
                )
            fields = form
        elif ctype == "application/json" or ctype.endswith("+json"):
            ok, data = await _json(request)
            if not ok or not isinstance(data, dict):
                return _oauth_error(
                    400, "invalid_request", "The request body must be a JSON object."
                )
            fields = data
        else:
            return _oauth_error(
                400,
                "invalid_request",
                "Send the token request as application/x-www-form-urlencoded or application/json.",
            )
        for key in ("grant_type", "client_id", "client_secret", "scope"):
            if key in fields and not isinstance(fields[key], str):
                return _oauth_error(
                    400, "invalid_request", f"The parameter {key} must be a string."
                )
        grant = fields.get("grant_type")
        if not grant:
            return _oauth_error(400, "invalid_request", "The parameter grant_type is missing.")
        if grant in _UNISSUED_GRANTS:
            return _oauth_error(
                400,
                "invalid_grant",
                f"The {'refresh token' if grant == 'refresh_token' else 'authorization code'} "
                "is missing, invalid, expired or revoked.",
            )
        if grant not in _SUPPORTED_GRANTS:
            return _oauth_error(
                400, "unsupported_grant_type", f"The grant type {grant} is not supported."
            )
        client_id, secret = fields.get("client_id"), fields.get("client_secret")
        if not client_id:
            # RFC 6749 §2.3.1 also allows the credentials as HTTP Basic.
            basic = basic_credentials(request.headers.get("authorization"))
            if basic is not None:
                client_id, secret = basic
        if not client_id or secret is None or not sim.accepts(NAME, client_id, secret):
            return _bad_client()
        requested = fields.get("scope")
        if requested is None:
            scope = " ".join(APP_SCOPES)
        else:
            # [obs: USPS-ISS #28] a requested scope the app does not hold is dropped, not
            # refused, down to an empty scope.
            scope = " ".join(s for s in requested.split() if s in _APP_SCOPE_SET)
        tenant = tenant_for(request, client_id)
        now = sim.clock.now(tenant)
        access_token, _ = sim.tokens.issue(
            carrier=NAME,
            client_id=client_id,
            tenant=tenant,
            now=now,
            lifetime=TOKEN_LIFETIME,
            scope=scope,
        )
        return respond(
            {
                "access_token": access_token,
                "token_type": "Bearer",
                "issued_at": int(now * 1000),
                "expires_in": TOKEN_LIFETIME,
                "status": "approved",
                "scope": scope,
                "issuer": ISSUER,
                "client_id": client_id,
                "application_name": APPLICATION_NAME,
                "api_products": API_PRODUCTS,
                "public_key": PUBLIC_KEY,
            }
        )

    async def track(request: Request) -> Response:
        now, tenant, refused, expires = authorize(request, API_V3)
        if refused is not None:
            return refused
        mode = _COMMON_QUERIES.get(request.scope["query_string"])
        if mode is None:
            mode, problems = _parse_query(request.query_params)
            if problems:
                return bad_request(API_V3, problems)
        number = numbers.normalize(request.path_params["trackingNumber"])
        if not numbers.is_plausible(NAME, number):
            return raw(not_found_v3("150002", False), 400)
        shipment = sim.lookup(NAME, number, tenant)
        count = 0 if shipment is None else shipment.visible_count(now)
        if shipment is None or count == 0:
            subcode = "150001" if numbers.is_valid(NAME, number) or shipment else "150002"
            return raw(not_found_v3(subcode, spec_not_found), 404 if spec_not_found else 400)
        decision = faulting.data_faults(request)
        if decision.lies or decision.quirks:
            return faulted_v3(shipment, count, mode, decision)
        render: Callable[[Shipment, int], dict[str, Any]] = (
            render_detail if mode == "DETAIL" else render_summary
        )
        key = (shipment.key, count, "v3", mode)
        body = sim.rendered(key, lambda: dumps(render(shipment, count)))
        since, until = shipment.window(count)
        # This answer holds for this token and URL while the tenant's clock stays in
        # [since, until) and the token is valid: it may be replayed (simulator/replay.py).
        request.scope[replay.MARK] = (tenant, since, min(until, expires), key)
        return raw(body)

    async def track_batch(request: Request) -> Response:
        now, tenant, refused, _ = authorize(request, API_V3R2)
        if refused is not None:
            return refused
        if not _is_json_type(request):
            return bad_request(
                API_V3R2,
                [
                    problem(
                        "Unsupported content type",
                        "The request body must be application/json.",
                    )
                ],
            )
        ok, data = await _json(request)
        if not ok:
            return bad_request(
                API_V3R2, [problem("Malformed JSON", "The request body is not valid JSON.")]
            )
        items, problems = _batch_items(data)
        if problems:
            return bad_request(API_V3R2, problems)
        found: list[tuple[str, Shipment | None, int]] = []
        for number in items:
            shipment = sim.lookup(NAME, number, tenant)
            count = 0 if shipment is None else shipment.visible_count(now)
            found.append((number, shipment if count else None, count))
        hits = sum(1 for _, s, _ in found if s is not None)
        if hits == 0:
            return respond(
                envelope(API_V3R2, 404, "", [_batch_not_found_error() for _ in found]), 404
            )
        decision = faulting.data_faults(request)
        if decision.lies or decision.quirks:
            return faulted_batch(found, decision)
        multi = hits < len(found)
        parts = [
            dumps(batch_not_found_item(number))
            if shipment is None
            else batch_item(shipment, count, multi)
            for number, shipment, count in found
        ]
        return raw(b"[" + b",".join(parts) + b"]", 207 if multi else 200)

    def unknown_number(api: str, number: str) -> Response:
        # What each API's tracking answers for a number it has nothing on.
        if api == API_V3:
            subcode = "150001" if numbers.is_valid(NAME, number) else "150002"
            return raw(not_found_v3(subcode, spec_not_found), 404 if spec_not_found else 400)
        return respond(envelope(API_V3R2, 404, "", [_batch_not_found_error()]), 404)

    def batch_item(shipment: Shipment, count: int, multi: bool) -> bytes:
        return sim.rendered(
            (shipment.key, count, "v3r2", multi),
            lambda: dumps(render_v3r2(shipment, count, multi)),
        )

    # Data faults (lies and quirks): off the clean path, and cached under keys that name
    # them, so clean and faulted bodies never mix.

    def faulted_v3(shipment: Shipment, count: int, mode: str, decision: Decision) -> Response:
        lies, wanted = decision.lies, decision.quirks
        if lies & _NOT_FOUND_LIES:
            # One number: its error, as production words it, inside a 200 [unverified].
            return raw(not_found_v3("150001", spec_not_found))
        shown, shown_count = faulted_timeline(shipment, count, decision)
        detailed = mode == "DETAIL"

        def render() -> bytes:
            if detailed:
                return dumps(distort_detail(render_detail(shown, shown_count), shown, wanted))
            return dumps(distort_summary(render_summary(shown, shown_count), shown, wanted))

        return raw(sim.rendered((shown.key, shown_count, "v3", mode, wanted, lies), render))

    def faulted_batch(
        found: list[tuple[str, Shipment | None, int]], decision: Decision
    ) -> Response:
        # Each fired lie or quirk reaches only the numbers it was for (faulting.fault_targets):
        # one matched to a number leaves that number's batch neighbours alone.
        scenario_of = {n: s.scenario.name for n, s, _ in found if s is not None}
        applies = faulting.fault_targets(sim, decision, scenario_of)
        mine = [
            replace(
                decision,
                lies=frozenset(m for m in decision.lies if applies(m, number)),
                quirks=frozenset(m for m in decision.quirks if applies(m, number)),
            )
            for number, _, _ in found
        ]
        hits = [i for i, (_, shipment, _) in enumerate(found) if shipment is not None]
        # ok_with_error: each targeted found number as a 404 item. mixed_results: every
        # second targeted found number so (one targeted number: as ok_with_error).
        hidden = {i for i in hits if "ok_with_error" in mine[i].lies}
        mixed = [i for i in hits if "mixed_results" in mine[i].lies and i not in hidden]
        hidden.update(mixed if len(mixed) < 2 else mixed[1::2])
        if len(hidden) == len(hits):
            status = 200  # every found number a 404 item, and still HTTP 200 [unverified]
        else:
            status = 207 if len(hits) - len(hidden) < len(found) else 200  # NOTES §3.4
        multi = status == 207
        parts = [
            dumps(batch_not_found_item(number))
            if shipment is None or i in hidden
            else faulted_item(shipment, count, multi, mine[i])
            if mine[i].lies or mine[i].quirks
            else batch_item(shipment, count, multi)
            for i, (number, shipment, count) in enumerate(found)
        ]
        return raw(b"[" + b",".join(parts) + b"]", status)

    def faulted_item(shipment: Shipment, count: int, multi: bool, decision: Decision) -> bytes:
        shown, shown_count = faulted_timeline(shipment, count, decision)
        wanted = decision.quirks
        return sim.rendered(
            (shown.key, shown_count, "v3r2", multi, wanted, decision.lies),
            lambda: dumps(distort_v3r2(render_v3r2(shown, shown_count, multi), shown, wanted)),
        )

    return [
        Route(TOKEN_PATH, token_endpoint, methods=["POST"]),
        Route(TRACK_PATH, track, methods=["GET"]),
        Route(BATCH_PATH, track_batch, methods=["POST"]),
        *letters.routes(sim, authorize, bad_request, unknown_number),
    ]


def _batch_items(data: Any) -> tuple[list[str], list[dict[str, Any]]]:
    """The normalized numbers of a 3.2 request body, or the problems that make it a 400.

    The body must satisfy the spec's ``TrackingRequest``: an array of 1–35 objects with a
    ``trackingNumber`` (alphanumeric, 4–34) and no properties besides ``mailingDate`` and
    ``destinationZIPCode`` (``additionalProperties: false``).
    """
    if not isinstance(data, list) or not 1 <= len(data) <= BATCH_LIMIT:
        return [], [
            problem(
                "Invalid request body",
                f"The request body must be a JSON array of 1 to {BATCH_LIMIT} tracking requests.",
                "body",
                f'[{{"trackingNumber":"{_NUMBER_EXAMPLE}"}}]',
            )
        ]
    numbers_: list[str] = []
    found: list[dict[str, Any]] = []
    for i, item in enumerate(data):
        at = f"[{i}]."
        if not isinstance(item, dict):
            found.append(
                problem(
                    "Invalid tracking request",
                    f"Item {i} must be an object with a trackingNumber.",
                    f"[{i}]",
                    f'{{"trackingNumber":"{_NUMBER_EXAMPLE}"}}',
                )
            )
            continue
        for extra in sorted(set(item) - _BATCH_FIELDS):
            found.append(
                problem(
                    "Unknown property", f"Item {i} has an unknown property {extra!r}.", at + extra
                )
            )
        number = item.get("trackingNumber")
        if not isinstance(number, str) or not numbers.is_plausible(NAME, number):
            found.append(
                problem(
                    "Invalid trackingNumber",
                    "trackingNumber is required and must be 4 to 34 alphanumeric characters.",
                    at + "trackingNumber",
                    _NUMBER_EXAMPLE,
                )
            )
        else:
            numbers_.append(numbers.normalize(number))
        found += _optional_field_problems(item, at)
    return numbers_, found


# --------------------------------------------------------------------------------------------
# Fault hooks (simulator.carriers.contract.Carrier)
# --------------------------------------------------------------------------------------------

GENERAL_ERRORS: dict[int, str] = {
    400: BAD_REQUEST_MESSAGE,
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    429: "TOO_MANY_REQUESTS",
    500: "INTERNAL_SERVER_ERROR",
    502: "BAD_GATEWAY",  # [unverified] not on the Error Inventory's list
    503: "SERVICE_UNAVAILABLE",
    504: "GATEWAY_TIMEOUT",  # [unverified] not on the Error Inventory's list
}
"""The Error Inventory's "General Errors" text per status [NOTES §3.6]."""

QUOTA_MESSAGE = (
    "Exceeded quota limit. Please contact https://emailus.usps.com/s/web-tools-inquiry and a "
    "representative will assist."
)
QUOTA_TITLE = "Too Many Requests."
QUOTA_DETAIL = "Quota limit exceeded."
"""The live 429 [obs: NOTES §3.6, magento/magento2 #40394]. The source cuts the detail off
after "Quota l"; the rest of ``QUOTA_DETAIL`` is [unverified]."""

_TOKEN_FAULT_ERRORS = {401: "invalid_client", 403: "unauthorized_client"}
"""RFC 6749 ``error`` per status on the token endpoint; the others say ``invalid_request``,
the one code of the spec's enum that is not about credentials or grants (the spec declares
this shape for 429 and 503 too, but its enum has no code for them) [unverified]."""

_FAULT_TARGET: ContextVar[tuple[str, tuple[str, ...]]] = ContextVar(
    "usps_fault_target", default=(API_V3, ())
)
"""(API, numbers) of the request being faulted. ``error_response`` is not told which of the
two tracking APIs it answers for, yet each writes its own ``apiVersion``; ``describe``,
which the fault wrapper always awaits first in the same context, records it here."""


def token_fault_body(status: int) -> dict[str, Any]:
    """A fault's answer on the token endpoint: RFC 6749 shape [spec; obs: KAR-USPS]."""
    if status == 401:
        description = "Client authentication failed."  # [obs: KAR-USPS]
    elif status == 429:
        description = QUOTA_MESSAGE  # token calls count against the quota (NOTES §3.7)
    else:
        description = GENERAL_ERRORS[status]
    return {
        "error": _TOKEN_FAULT_ERRORS.get(status, "invalid_request"),
        "error_description": description,
        "error_uri": ERROR_URI,
    }


def track_fault_body(api: str, status: int, asked: tuple[str, ...] = ()) -> dict[str, Any]:
    """A fault's answer on a tracking API, in its error envelope [spec ErrorMessage]."""
    if status == 401:
        # Whether the token expired or the app was revoked, USPS says the same [obs:
        # USPS-ISS #56], and so does this module for every token problem.
        return envelope(api, 401, UNAUTHORIZED_MESSAGE, [])
    if status == 429:
        return envelope(api, 429, QUOTA_MESSAGE, [{"title": QUOTA_TITLE, "detail": QUOTA_DETAIL}])
    if status == 404:
        if api == API_V3R2:
            # [obs: USPS-ISS #82] one entry per number asked, as "nothing found" answers.
            return envelope(api, 404, "", [_batch_not_found_error() for _ in asked or ("",)])
        return _spec_not_found_body("150001")
    # [obs: USPS-FIX 150001 body; verbb/postie #167, a live 403] the message repeated as
    # the title with an empty detail; the texts are the General Errors ones [NOTES §3.6].
    text = GENERAL_ERRORS[status]
    return envelope(api, status, text, [{"title": text, "detail": ""}])


def error_response(
    status: int, endpoint: str, retry_after: int | None, reason: str | None
) -> Response:
    """A fault's HTTP error as USPS sends it (``reason`` does not change USPS's words)."""
    headers: dict[str, str] = {}
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    if status == 401:
        headers.update(WWW_AUTHENTICATE)
    if endpoint == "token":
        body = token_fault_body(status)
    else:
        api, asked = _FAULT_TARGET.get()
        body = track_fault_body(api, status, asked)
    return respond(body, status, headers)


async def _login_id(request: Request) -> str:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    fields: Any = {}
    if ctype == "application/x-www-form-urlencoded":
        fields = await form_body(request) or {}
    elif ctype == "application/json" or ctype.endswith("+json"):
        ok, data = await _json(request)
        fields = data if ok and isinstance(data, dict) else {}
    client_id = fields.get("client_id")
    if isinstance(client_id, str) and client_id:
        return client_id
    basic = basic_credentials(request.headers.get("authorization"))
    return basic[0] if basic is not None else ""


def replay_credential(scope: Scope) -> str | None:
    """What a clean 3.0 tracking answer depends on besides the URL and the clock: the bearer
    token (simulator/replay.py). None: never replay."""
    authorization = header(scope, b"authorization")
    # Interned: every kept answer of one client shares one copy of its (long) token.
    return None if authorization is None else sys.intern(authorization)


async def describe(request: Request) -> tuple[str, tuple[str, ...]]:
    """(tenant, tracking numbers) of a request, best effort, never raising."""
    try:
        path = request.url.path
        if path.endswith(TOKEN_PATH):
            return tenant_for(request, await _login_id(request)), ()
        api = API_V3R2 if path.endswith(BATCH_PATH) else API_V3
        _FAULT_TARGET.set((api, ()))
        sim: Simulation = request.app.state.sim
        tenant = bearer_tenant(request, sim.tokens, NAME, request.headers.get("authorization"))
        asked: tuple[str, ...] = ()
        if api == API_V3:
            asked = (numbers.normalize(request.path_params["trackingNumber"]),)
        else:
            ok, data = await _json(request)
            if ok and isinstance(data, list):
                asked = tuple(
                    numbers.normalize(item["trackingNumber"])
                    for item in data
                    if isinstance(item, dict) and isinstance(item.get("trackingNumber"), str)
                )
        _FAULT_TARGET.set((api, asked))
        return tenant, asked
    except Exception:  # a fault hook must never be the reason a request fails
        return "", ()


METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
"""The Error Inventory's "General Errors" text for 405 [NOTES §3.6]."""


def method_not_allowed(path: str, allowed: Sequence[str]) -> Response:
    """A 405 as USPS words it: the OAuth shape on the token path, else the envelope of the
    tracking API the path belongs to, with the General Errors text [NOTES §3.6]."""
    headers = {"Allow": ", ".join(allowed)}
    if path.endswith(TOKEN_PATH):
        body = {
            "error": "invalid_request",
            "error_description": METHOD_NOT_ALLOWED,
            "error_uri": ERROR_URI,
        }
    else:
        api = API_V3R2 if path.endswith(BATCH_PATH) else API_V3
        body = envelope(api, 405, METHOD_NOT_ALLOWED, [{"title": METHOD_NOT_ALLOWED, "detail": ""}])
    return respond(body, 405, headers)


def not_found(path: str) -> Response:
    """USPS's 404 for a path under a tracking API that names no operation, in that API's
    envelope [spec: 404 ErrorMessage; message: NOTES §3.6 General Errors NOT_FOUND]."""
    api = API_V3R2 if path.startswith(API_V3R2) else API_V3
    return respond(envelope(api, 404, "NOT_FOUND", []), 404)


# [unverified] not on the Error Inventory's list; worded like its General Errors.
_PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"


def refusal(path: str, status: int, message: str) -> Response:
    """Input the simulator refused: the OAuth shape on the token path, else the envelope of
    the tracking API the path belongs to, the General Errors text as title and ``message``
    as detail [NOTES §3.6]."""
    if path.endswith(TOKEN_PATH):
        return _oauth_error(status, "invalid_request", message)
    api = API_V3R2 if path.endswith(BATCH_PATH) else API_V3
    text = GENERAL_ERRORS.get(status, _PAYLOAD_TOO_LARGE)
    return respond(envelope(api, status, text, [{"title": text, "detail": message}]), status)
