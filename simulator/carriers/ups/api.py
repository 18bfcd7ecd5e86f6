"""UPS HTTP API: the OAuth token, the Track route, headers, error envelopes and the fault hooks."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from starlette.datastructures import QueryParams
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
    raw,
    respond,
    tenant_for,
    tenant_mismatch,
)
from simulator.carriers.ups.codes import NAME
from simulator.carriers.ups.fast import render_bytes
from simulator.carriers.ups.faults import faulty_body
from simulator.carriers.ups.render import Options, not_found_body, render, render_shipment
from simulator.engine import Simulation
from simulator.faults import CLEAN, Decision
from simulator.tokens import Claims, TokenError, bearer

# Lies that replace the whole answer with production's not-found form.
_NOT_FOUND_LIES = frozenset({"ok_with_error", "mixed_results"})


def _data_faults(request: Request) -> Decision:
    """The data faults of a request; on the clean path one dict lookup.

    ``faulting.data_faults`` reads ``request.state``, whose miss costs building a
    ``State`` and raising an AttributeError (about 3 µs, 40 % of this handler's clean
    path in-process). ``request.state`` stores into ``scope["state"]``, so the key is
    looked up there first and the official accessor is used only when it is set.
    """
    state = request.scope.get("state")
    if not state or "faults" not in state:
        return CLEAN
    return faulting.data_faults(request)


TOKEN_PATH = "/security/v1/oauth/token"
"""At the host root, not under ``/api`` (N§1.1; the ``/api`` prefix 404s, UPS-ISS #26)."""

TRACK_PATH = "/api/track/v1/details/{inquiryNumber}"
"""SPEC path under the real base ``https://onlinetools.ups.com/api`` (N§1.1)."""

REFERENCE_PATH = "/api/track/v1/reference/details/{referenceNumber}"
"""SPEC: track by the shipper's reference (N§1.3 sibling endpoints)."""

SHIPMENT_PATH = "/api/track/v1/shipment/details/{inquiryNumber}"
"""SPEC: the whole (multi-piece) shipment, paged over its packages (N§1.3)."""

PREFIX = "/api/track/"
"""Every UPS tracking path starts so; an unknown one gets UPS's own 404."""

TOKEN_LIFETIME = 14399
"""Seconds; sent as the string ``"14399"`` (N§1.2)."""


# --------------------------------------------------------------------------------- errors


def error_body(code: str, message: str) -> bytes:
    """The UPS error envelope every non-2xx carries (N§1.6)."""
    return dumps({"response": {"errors": [{"code": code, "message": message}]}})


# N§1.6 [obs]: bad, expired or missing bearer tokens.
_INVALID_AUTH = error_body("250002", "Invalid Authentication Information.")


def _invalid_auth(why: str) -> bytes:
    # UPS's code and words, then carriersim's own reason: a client keys on the code.
    return error_body("250002", f"Invalid Authentication Information. ({why})")


# N§1.6 [obs: KAR-UPS]: structurally invalid inquiry numbers.
_INVALID_NUMBER = error_body("TV1002", "Invalid inquiry number")
# SPEC 404 "Tracking number information not found". The spec gives no code; TW0001 is the
# code production uses for the same condition.
_SPEC_NOT_FOUND = error_body("TW0001", "Tracking number information not found")
# SPEC requires transId and transactionSrc but says nothing of what is answered without them.
# UPS's own codes for exactly these are in its Track Alert spec (ups/UPSTrackAlert.yaml, table
# "Error Codes"; same gateway, same two headers): VSS002 "Missing transId", VSS004
# "Missing transactionSrc". The Tracking API's answer is [unverified]; these codes are UPS's.
_MISSING_TRANS_ID = error_body("VSS002", "Missing transId")
_MISSING_TRANS_SRC = error_body("VSS004", "Missing transactionSrc")
# [inferred] A blank reference, in the style of TV1002 (no source shows UPS's answer).
_INVALID_REFERENCE = error_body("TV1003", "Invalid reference number")
# [inferred] Paging that is no number: the spec's 400 envelope; code and wording are ours.
_INVALID_PAGING = error_body("400", "Invalid offset or count")
# OAUTH and SPEC declare no 404 for an unknown resource: code and message [unverified],
# the same as the token gateway's (see _FAULT_ERRORS).
_NO_RESOURCE = error_body("10404", "Resource Not Found")
# N§1.2 [obs: karrio #503]: unknown client id (also: no or unreadable Basic credentials,
# wrong secret).
_BAD_CLIENT = error_body("10401", "ClientId is Invalid")
# OAUTH declares 400 "Invalid Request" without a code; 10400 follows the 10401 / 10429
# pattern of the other token-gateway errors (N§1.2, N§1.6).
_INVALID_REQUEST = error_body("10400", "Invalid Request")

# Fault answers per (status, endpoint); the envelope is N§1.6's for every status. Where a
# literal has no source the comment says so; messages otherwise are the observed bodies or
# the spec's response descriptions.
_FAULT_ERRORS: dict[tuple[int, str], bytes] = {
    # N§1.6 [obs: KAR-UPS]: the 400 production sends a tracking request.
    (400, "track"): _INVALID_NUMBER,
    # OAUTH 400 "Invalid Request" (code: see _INVALID_REQUEST).
    (400, "token"): _INVALID_REQUEST,
    # N§1.6 [obs]: bad, expired or missing bearer, or an app without the Tracking product
    # (N§6 item 3): 250002 for an expired token and for a revoked credential's token alike.
    (401, "track"): _INVALID_AUTH,
    # N§1.2 [obs: karrio #503]: the token endpoint's refusal of a client id.
    (401, "token"): _BAD_CLIENT,
    # SPEC / OAUTH 403 "Blocked Merchant"; the code is [unverified] (no source gives one;
    # 10403 follows the gateway's 10400 / 10401 / 10429 pattern).
    (403, "track"): error_body("10403", "Blocked Merchant"),
    (403, "token"): error_body("10403", "Blocked Merchant"),
    # SPEC 404 "Tracking number information not found" (see _SPEC_NOT_FOUND).
    (404, "track"): _SPEC_NOT_FOUND,
    # OAUTH declares no 404; code and message [unverified].
    (404, "token"): error_body("10404", "Resource Not Found"),
    # N§1.6, N§1.7 [obs: UPS-ISS #8, #123]: 10429 "Too Many Requests", no rate-limit
    # headers. OAUTH names the token endpoint's 429 "Quota Limit Exceeded"; no body of it
    # was observed, so the token endpoint sends the observed body too.
    (429, "track"): error_body("10429", "Too Many Requests"),
    (429, "token"): error_body("10429", "Too Many Requests"),
}
# N§1.6: 500 / 503 in the same envelope [spec]; the messages are the SPEC response
# descriptions. Codes, and 502 / 504 entirely, are [unverified]: no source shows them.
_SERVER_ERRORS: dict[int, bytes] = {
    500: error_body("10500", "Internal server error"),
    502: error_body("10502", "Bad Gateway"),
    503: error_body("10503", "Resource is not available"),
    504: error_body("10504", "Gateway Timeout"),
}


def fault_error_body(status: int, endpoint: str) -> bytes:
    """The UPS body sent with a fault's HTTP status on the token or track endpoint."""
    body = _FAULT_ERRORS.get((status, "token" if endpoint == "token" else "track"))
    if body is None:
        body = _SERVER_ERRORS.get(status) or error_body(str(status), "Error")
    return body


def error_response(
    status: int, endpoint: str, retry_after: int | None, reason: str | None
) -> Response:
    """A fault's HTTP error in the UPS envelope; Retry-After only when the fault sets one.

    ``reason`` ("expired" / "revoked") does not change the body: UPS answers both with
    the same 401 per endpoint (N§1.6, N§1.2).
    """
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return raw(fault_error_body(status, endpoint), status, headers)


def replay_credential(scope: Scope) -> str | None:
    """What a clean tracking answer depends on besides the URL and the clock: the bearer
    token (transId and transactionSrc only need to be there). None: never replay."""
    authorization, trans_id, trans_src = _track_headers(scope)
    if authorization is None or not trans_id.strip() or not trans_src.strip():
        return None
    # Interned: every kept answer of one client shares one copy of its (long) bearer token.
    return sys.intern(authorization)


def _track_headers(scope: Scope) -> tuple[str | None, str, str]:
    """Authorization, transId and transactionSrc (first of each; ASGI names are lower-case)
    in one pass over the raw list: cheaper than three ``request.headers.get``."""
    authorization: str | None = None
    trans_id = trans_src = None
    for key, value in scope["headers"]:
        if key == b"authorization":
            if authorization is None:
                authorization = value.decode("latin-1")
        elif key == b"transid":
            if trans_id is None:
                trans_id = value.decode("latin-1")
        elif key == b"transactionsrc" and trans_src is None:
            trans_src = value.decode("latin-1")
    return authorization, trans_id or "", trans_src or ""


async def describe(request: Request) -> tuple[str, tuple[str, ...]]:
    """(tenant, tracking numbers) of a request as the handlers would name them; never raises.

    Token endpoint: the ``/t/{tenant}`` prefix, else the tenant header, else the Basic
    client id; no numbers. Tracking: the prefix, else the bearer token's tenant (the tenant
    header when the token is bad), and the normalized inquiry number.
    """
    try:
        scope = request.scope
        authorization = header(scope, b"authorization")
        if scope["path"].endswith(TOKEN_PATH):
            credentials = basic_credentials(authorization)
            return tenant_for(request, credentials[0] if credentials else ""), ()
        sim: Simulation = scope["app"].state["sim"]
        tenant = bearer_tenant(request, sim.tokens, NAME, authorization)
        params = scope.get("path_params", {})
        reference = params.get("referenceNumber")
        if reference:
            return tenant, tuple(s.number for s in sim.lookup_reference(NAME, reference, tenant))
        inquiry = params.get("inquiryNumber")
        return tenant, (numbers.normalize(inquiry),) if inquiry else ()
    except Exception:  # a fault hook must never be the reason a request fails
        return "", ()


def _flag(value: str | None) -> bool:
    # SPEC: string flags, default "false".
    return value is not None and value.strip().lower() == "true"


_NO_OPTIONS = Options()
_OPTIONS_BY_QUERY: dict[bytes, Options] = {}


def _options(query: bytes) -> Options:
    """The flags of a raw query string; clients repeat the same few, so parse each once."""
    options = _OPTIONS_BY_QUERY.get(query)
    if options is None:
        if b"true" not in query.lower():
            options = _NO_OPTIONS
        else:
            q = QueryParams(query)
            options = Options(
                _flag(q.get("returnSignature")),
                _flag(q.get("returnPOD")),
                _flag(q.get("returnMilestones")),
            )
        if len(_OPTIONS_BY_QUERY) >= 1024:
            _OPTIONS_BY_QUERY.clear()
        _OPTIONS_BY_QUERY[query] = options
    return options


# --------------------------------------------------------------------------------- routes


def routes(sim: Simulation) -> list[Route]:
    """The token and tracking endpoints at their real paths."""
    spec_not_found = sim.settings.not_found == "spec"

    async def token(request: Request) -> Response:
        credentials = basic_credentials(request.headers.get("authorization"))
        if credentials is None:
            return raw(_BAD_CLIENT, 401)
        client_id, secret = credentials
        if not sim.accepts(NAME, client_id, secret):
            return raw(_BAD_CLIENT, 401)
        form = await form_body(request)
        if form is None or form.get("grant_type") != "client_credentials":
            return raw(_INVALID_REQUEST, 400)
        tenant = tenant_for(request, client_id)
        now = sim.clock.now(tenant)
        access_token, _ = sim.tokens.issue(
            carrier=NAME, client_id=client_id, tenant=tenant, now=now, lifetime=TOKEN_LIFETIME
        )
        # N§1.2: this field order, every value a string, issued_at in epoch milliseconds.
        return respond(
            {
                "token_type": "Bearer",
                "issued_at": str(int(now * 1000)),
                "client_id": client_id,
                "access_token": access_token,
                "scope": "",
                "expires_in": str(TOKEN_LIFETIME),
                "refresh_count": "0",
                "status": "approved",
            }
        )

    def authorize(request: Request) -> Claims | Response:
        """The token's claims, or the UPS refusal of a request's auth and headers."""
        authorization, trans_id, trans_src = _track_headers(request.scope)
        try:
            claims = sim.tokens.decode(bearer(authorization), NAME)
        except TokenError as exc:
            why = foreign_token(exc, NAME, TOKEN_PATH)
            return raw(_INVALID_AUTH if why is None else _invalid_auth(why), 401)
        mismatch = tenant_mismatch(request, claims)
        if mismatch is not None:
            return raw(_invalid_auth(mismatch), 401)
        if sim.clock.now(claims.tenant) >= claims.expires_at:
            return raw(_INVALID_AUTH, 401)
        if not trans_id.strip():
            return raw(_MISSING_TRANS_ID, 400)
        if not trans_src.strip():
            return raw(_MISSING_TRANS_SRC, 400)
        return claims

    def not_found(inquiry: str) -> Response:
        if spec_not_found:
            return raw(_SPEC_NOT_FOUND, 404)
        # Production echoes the number as sent (UPS-ISS #166 shows lower-case "xxxx").
        return raw(dumps(not_found_body(inquiry)))

    async def by_reference(request: Request) -> Response:
        claims = authorize(request)
        if isinstance(claims, Response):
            return claims
        tenant = claims.tenant
        now = sim.clock.now(tenant)
        reference: str = request.path_params["referenceNumber"].strip()
        if not reference:
            return raw(_INVALID_REFERENCE, 400)
        options = _options(request.scope["query_string"])
        entries = []
        for found in sim.lookup_reference(NAME, reference, tenant):
            count = found.visible_count(now)
            if count:
                # [inferred] One shipment entry per parcel the reference names, each under
                # its own tracking number; the spec publishes no sample of this answer.
                entries.append(
                    render_shipment(found, count, options, found.number, (found.number,))
                )
        if not entries:
            # [inferred] The same TW0001 warning as an unknown number (N§1.6), echoing the
            # reference as the inquiry.
            return not_found(reference)
        return respond({"trackResponse": {"shipment": entries}})

    async def shipment_details(request: Request) -> Response:
        claims = authorize(request)
        if isinstance(claims, Response):
            return claims
        tenant = claims.tenant
        now = sim.clock.now(tenant)
        inquiry: str = request.path_params["inquiryNumber"]
        number = numbers.normalize(inquiry)
        if not numbers.is_plausible(NAME, number):
            return raw(_INVALID_NUMBER, 400)
        paging = _paging(request.query_params)
        if paging is None:
            return raw(_INVALID_PAGING, 400)
        offset, size = paging
        found = sim.lookup(NAME, number, tenant)
        count = found.visible_count(now) if found is not None else 0
        if found is None or count == 0:
            return not_found(inquiry)
        # N§1.3: paging over the shipment's packages, offset 0 and count 50 by default.
        pieces = found.pieces[offset : offset + size]
        entry = render_shipment(found, count, _NO_OPTIONS, found.master_number, pieces)
        return respond({"trackResponse": {"shipment": [entry]}})

    async def track(request: Request) -> Response:
        claims = authorize(request)
        if isinstance(claims, Response):
            return claims
        tenant = claims.tenant
        now = sim.clock.now(tenant)
        inquiry: str = request.path_params["inquiryNumber"]
        number = numbers.normalize(inquiry)
        if not numbers.is_plausible(NAME, number):
            return raw(_INVALID_NUMBER, 400)
        shipment = sim.lookup(NAME, number, tenant)
        count = shipment.visible_count(now) if shipment is not None else 0
        if shipment is None or count == 0:
            return not_found(inquiry)
        options = _options(request.scope["query_string"])
        found = shipment
        decision = _data_faults(request)
        if decision is not CLEAN and (decision.quirks or decision.lies):
            if decision.lies & _NOT_FOUND_LIES:
                # N§1.6 / N§6 item 1: TW0001 even for numbers the website can track. One
                # number per call, so mixed_results can only be this too; the warning
                # replaces the whole answer, so no other quirk shows.
                return raw(dumps(not_found_body(inquiry)))
            return raw(
                sim.rendered(
                    (found.key, count, options, decision.quirks, decision.lies),
                    lambda: faulty_body(found, count, options, decision),
                )
            )
        key = (found.key, count, options)
        if options is _NO_OPTIONS:
            # The cold path: a byte template per variant and count (see ups.fast).
            body = sim.rendered(
                key,
                lambda: render_bytes(found, count) or dumps(render(found, count, options)),
            )
        else:
            body = sim.rendered(key, lambda: dumps(render(found, count, options)))
        since, until = found.window(count)
        # This answer holds for this credential and URL while the tenant's clock stays in
        # [since, until) and the token is valid: the fault wrapper may replay it.
        request.scope[replay.MARK] = (tenant, since, min(until, claims.expires_at), key)
        return raw(body)

    return [
        Route(TOKEN_PATH, token, methods=["POST"]),
        Route(TRACK_PATH, track, methods=["GET"]),
        Route(REFERENCE_PATH, by_reference, methods=["GET"]),
        Route(SHIPMENT_PATH, shipment_details, methods=["GET"]),
    ]


def _paging(query: QueryParams) -> tuple[int, int] | None:
    """(offset, count) of a shipment-details request; None when either is no number."""
    try:
        offset = int(query.get("offset", "0"))
        size = int(query.get("count", "50"))
    except ValueError:
        return None
    if offset < 0 or size < 1:
        return None
    return offset, size


_METHOD_NOT_ALLOWED = error_body("405", "The requested method is not allowed for this resource.")
"""The UPS gateway's 405 [spec: ups/UPSTrackAlert.yaml, the same API gateway's envelope]."""


def method_not_allowed(path: str, allowed: Sequence[str]) -> Response:
    """A 405 in the UPS envelope, the same on every UPS path."""
    return raw(_METHOD_NOT_ALLOWED, 405, {"Allow": ", ".join(allowed)})


def not_found(path: str) -> Response:
    """UPS's 404 for a path under its tracking prefix that names no operation."""
    return raw(_NO_RESOURCE, 404)


# [unverified] UPS documents no code for unreadable input or an oversized body; 10400 is the
# token gateway's "Invalid Request" (see _INVALID_REQUEST), 10413 follows that pattern.
_REFUSAL_CODES = {400: "10400", 413: "10413"}


def refusal(path: str, status: int, message: str) -> Response:
    """Input the simulator refused, in the UPS envelope (N§1.6)."""
    return raw(error_body(_REFUSAL_CODES.get(status, str(status)), message), status)
