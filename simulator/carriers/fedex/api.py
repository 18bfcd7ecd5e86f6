"""FedEx HTTP API: the OAuth token, the tracking route, request parsing, transaction ids, error
envelopes and the fault hooks.
"""

from __future__ import annotations

import hashlib
import itertools
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from simulator import faulting, inputs, numbers, quirks
from simulator.carriers.common import (
    bearer_tenant,
    dumps,
    foreign_token,
    form_body,
    raw,
    respond,
    tenant_for,
    tenant_mismatch,
)
from simulator.carriers.fedex import operations
from simulator.carriers.fedex.codes import (
    BAD_CREDENTIALS,
    FORBIDDEN,
    INTERNAL_ERROR,
    LIMIT_EXCEEDED,
    NAME,
    NUMBER_EMPTY,
    NUMBER_INVALID,
    NUMBER_NOT_FOUND,
    RESOURCE_NOT_FOUND,
    TOKEN_EXPIRED,
    TOO_MANY_REQUESTS,
    UNAVAILABLE,
    Error,
)
from simulator.carriers.fedex.faults import apply_format_quirks, wrong_number
from simulator.carriers.fedex.render import (
    error_body,
    render_error_result,
    render_result,
    ship_date,
)
from simulator.engine import Simulation
from simulator.faults import Decision
from simulator.inputs import echo
from simulator.timeline import Shipment
from simulator.tokens import Claims, TokenError, bearer

TOKEN_PATH = "/oauth/token"  # [spec: FX-AUTH]
TRACK_PATH = "/track/v1/trackingnumbers"  # [spec: FX-SPEC]
PREFIX = "/track/v1/"
"""Every FedEx tracking path starts so; an unknown one gets FedEx's own 404."""

TOKEN_LIFETIME = 3599
"""Seconds; an integer in the body. Spec says one hour (example 3600), live says 3599 [obs]."""

TOKEN_SCOPE = "CXS-TP"  # [obs] live token body (NOTES §2.2); the spec example says "CXS"
TOKEN_TYPE = "bearer"  # [spec, obs] lower case

GRANT_TYPES = frozenset({"client_credentials", "csp_credentials", "client_pc_credentials"})
"""[spec: FullSchema.grant_type]."""

CHILD_GRANTS = frozenset({"csp_credentials", "client_pc_credentials"})
"""Grants that add the customer's ``child_Key`` and ``child_secret`` [spec examples]."""

MAX_NUMBERS = 30  # [spec] "Maximum limit is 30."


# --------------------------------------------------------------------------------------------
# Request parsing
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Wanted:
    """One ``trackingInfo[]`` entry, validated."""

    number: str
    ship_begin: date | None
    ship_end: date | None


class BadRequest(Exception):
    """A tracking request FedEx refuses as a whole; carries the error to answer with."""

    def __init__(self, error: Error) -> None:
        super().__init__(error[0])
        self.error = error


def _is_json(content_type: str | None) -> bool:
    media = (content_type or "").split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


_FIRST_DAY, _LAST_DAY = date(1971, 1, 1), date(8999, 12, 31)


def _day(value: Any, field: str) -> date | None:
    """A ``shipDateBegin`` / ``shipDateEnd``: absent or empty narrows nothing; anything but
    a day in range is refused, naming the field (FX-SPEC: "Format: YYYY-MM-DD")."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and len(value) == 10:
        try:
            day = date.fromisoformat(value)
        except ValueError:
            day = None
        if day is not None and _FIRST_DAY <= day <= _LAST_DAY:
            return day
    # [unverified] FedEx documents no code for a bad date; one in the style of its others.
    raise BadRequest(
        (
            "TRACKING.SHIPDATE.INVALID",
            f"{field} {echo(value)} is not a day from {_FIRST_DAY} to {_LAST_DAY} in the "
            f"format YYYY-MM-DD. Please send a day like 2020-03-29, or leave {field} out.",
        )
    )


def parse_request(content_type: str | None, payload: bytes) -> tuple[bool, list[Wanted]]:
    """(includeDetailedScans, entries) of a tracking request, or raise BadRequest."""
    if not _is_json(content_type):
        raise BadRequest(NUMBER_EMPTY)
    try:
        # Strict UTF-8, no lone surrogates (a number is echoed back), bounded depth.
        body = inputs.json_value(payload)
    except inputs.InputError:
        raise BadRequest(NUMBER_EMPTY) from None
    if not isinstance(body, dict):
        raise BadRequest(NUMBER_EMPTY)
    infos = body.get("trackingInfo")
    if not isinstance(infos, list) or not infos:
        raise BadRequest(NUMBER_EMPTY)
    if len(infos) > MAX_NUMBERS:
        raise BadRequest(LIMIT_EXCEEDED)
    wanted: list[Wanted] = []
    for info in infos:
        if not isinstance(info, dict):
            raise BadRequest(NUMBER_EMPTY)
        number_info = info.get("trackingNumberInfo")
        number = number_info.get("trackingNumber") if isinstance(number_info, dict) else None
        if not isinstance(number, str) or not number.strip():
            raise BadRequest(NUMBER_EMPTY)
        begin = _day(info.get("shipDateBegin"), "shipDateBegin")
        end = _day(info.get("shipDateEnd"), "shipDateEnd")
        wanted.append(Wanted(numbers.normalize(number), begin, end))
    return body.get("includeDetailedScans") is True, wanted


# --------------------------------------------------------------------------------------------
# Routes
# --------------------------------------------------------------------------------------------


_MASK48 = (1 << 48) - 1
_SPREAD = 0x9E3779B97F4B  # odd, so n -> n * _SPREAD mod 2**48 is a bijection


def transaction_ids(seed: int) -> Iterator[str]:
    """UUID-shaped ``transactionId`` values: a per-seed stem and a scrambled counter.

    Deterministic (same seed, same request order, same ids) and cheap per request; the
    counter is scrambled so consecutive ids do not look consecutive.
    """
    digest = hashlib.blake2b(f"{NAME}|{seed}".encode(), digest_size=16).digest()
    stem = str(uuid.UUID(bytes=digest, version=4))[:24]
    for n in itertools.count(1):
        yield f"{stem}{(n * _SPREAD) & _MASK48:012x}"


def not_authorized(why: str) -> Error:
    """FedEx's 401 code with carriersim's reason, where "Access token expired" would mislead."""
    return ("NOT.AUTHORIZED.ERROR", f"The access token is not valid for this request: {why}.")


def routes(sim: Simulation) -> list[Route]:
    """The OAuth token endpoint and Track by Tracking Number, at their production paths."""
    ids = transaction_ids(sim.settings.seed)
    spec_form = sim.settings.not_found == "spec"

    def transaction_id() -> str:
        return next(ids)

    def refuse(status: int, error: Error, customer_id: str | None = None) -> Response:
        return respond(error_body(transaction_id(), error, customer_id), status)

    async def token(request: Request) -> Response:
        form = await form_body(request)
        if form is None:
            return refuse(401, BAD_CREDENTIALS)
        grant = form.get("grant_type", "")
        client_id = form.get("client_id", "")
        secret = form.get("client_secret", "")
        if grant not in GRANT_TYPES or not client_id or not secret:
            return refuse(401, BAD_CREDENTIALS)
        if grant in CHILD_GRANTS and not (
            (form.get("child_Key") or form.get("child_key")) and form.get("child_secret")
        ):
            return refuse(401, BAD_CREDENTIALS)
        if not sim.accepts(NAME, client_id, secret):
            return refuse(401, BAD_CREDENTIALS)
        tenant = tenant_for(request, client_id)
        access, _ = sim.tokens.issue(
            carrier=NAME,
            client_id=client_id,
            tenant=tenant,
            now=sim.clock.now(tenant),
            lifetime=TOKEN_LIFETIME,
            scope=TOKEN_SCOPE,
        )
        return respond(
            {
                "access_token": access,
                "token_type": TOKEN_TYPE,
                "expires_in": TOKEN_LIFETIME,
                "scope": TOKEN_SCOPE,
            }
        )

    def error_part(number: str, error: Error) -> bytes:
        return sim.rendered(
            (NAME, "error", number, error[0], spec_form),
            lambda: dumps(render_error_result(number, error, spec_form)),
        )

    def found_part(shipment: Shipment, count: int, detailed: bool) -> bytes:
        return sim.rendered(
            (NAME, shipment.key, count, detailed),
            lambda: dumps(render_result(shipment, count, detailed)),
        )

    def faulted_part(
        shipment: Shipment, count: int, detailed: bool, modes: frozenset[str], lies: frozenset[str]
    ) -> bytes:
        view, shown = quirks.apply(shipment, count, modes)
        # The timeline quirks already change view.key; the format quirks and lies must too,
        # so that clean and faulted bodies never share a cache entry.
        key = (NAME, view.key, shown, detailed, tuple(sorted(modes)), tuple(sorted(lies)))
        return sim.rendered(
            key,
            lambda: dumps(apply_format_quirks(render_result(view, shown, detailed), modes)),
        )

    def neighbour(shipment: Shipment, count: int, now: float, tenant: str) -> tuple[Shipment, int]:
        # The parcel of the asked number's neighbour label, as the tenant would track it;
        # when that number tracks nothing (default mix off, or not yet shipped), the asked
        # scenario replayed under it.
        other = wrong_number(shipment.number)
        found = sim.lookup(NAME, other, tenant)
        if found is not None and (shown := found.visible_count(now)) > 0:
            return found, shown
        return sim.catalog.shipment(NAME, shipment.scenario.name, other, shipment.t0), count

    def faulty_parts(
        wanted: list[Wanted], detailed: bool, now: float, tenant: str, decision: Decision
    ) -> list[bytes]:
        """The clean path's parts with the decision's lies and quirks applied per number."""
        # Per entry: (shipment, visible count, the error a lie answers with), or
        # (None, 0, the error the clean path sends).
        resolved: list[tuple[Shipment | None, int, Error]] = []
        for entry in wanted:
            number = entry.number
            if not numbers.is_plausible(NAME, number):
                resolved.append((None, 0, NUMBER_INVALID))
                continue
            shipment = sim.lookup(NAME, number, tenant)
            count = shipment.visible_count(now) if shipment is not None else 0
            if shipment is None or count == 0 or not _ships_within(shipment, entry):
                resolved.append((None, 0, NUMBER_NOT_FOUND))
                continue
            resolved.append((shipment, count, NUMBER_NOT_FOUND))
        scenario_of = {s.number: s.scenario.name for s, _, _ in resolved if s is not None}
        applies = faulting.fault_targets(sim, decision, scenario_of)
        # mixed_results: every other existing number it targets, from the first, is denied.
        mixed = [
            i
            for i, (entry, (s, _, _)) in enumerate(zip(wanted, resolved, strict=True))
            if s is not None and applies("mixed_results", entry.number)
        ]
        denied = frozenset(mixed[::2])
        parts: list[bytes] = []
        for i, (entry, (found, count, error)) in enumerate(zip(wanted, resolved, strict=True)):
            number = entry.number
            lies = frozenset(m for m in decision.lies if applies(m, number))
            if found is None or "ok_with_error" in lies or i in denied:
                parts.append(error_part(number, error))
                continue
            shipment = found
            if "wrong_number" in lies:
                shipment, count = neighbour(found, count, now, tenant)
            modes = frozenset(m for m in decision.quirks if applies(m, number))
            if modes or lies:
                parts.append(faulted_part(shipment, count, detailed, modes, lies))
            else:
                parts.append(found_part(shipment, count, detailed))
        return parts

    def authorize(request: Request) -> Claims | Response:
        """The bearer token's claims, or FedEx's 401."""
        try:
            claims = sim.tokens.decode(bearer(request.headers.get("authorization")), NAME)
        except TokenError as exc:
            why = foreign_token(exc, NAME, TOKEN_PATH)
            return refuse(401, TOKEN_EXPIRED if why is None else not_authorized(why))
        mismatch = tenant_mismatch(request, claims)
        if mismatch is not None:
            return refuse(401, not_authorized(mismatch))
        if sim.clock.now(claims.tenant) >= claims.expires_at:
            return refuse(401, TOKEN_EXPIRED)
        return claims

    async def track(request: Request) -> Response:
        headers = request.headers
        claims = authorize(request)
        if isinstance(claims, Response):
            return claims
        tenant = claims.tenant
        now = sim.clock.now(tenant)
        customer_id = headers.get("x-customer-transaction-id")
        try:
            detailed, wanted = parse_request(headers.get("content-type"), await request.body())
        except BadRequest as bad:
            return refuse(400, bad.error, customer_id)
        decision = faulting.data_faults(request)
        if decision.quirks or decision.lies:
            parts = faulty_parts(wanted, detailed, now, tenant, decision)
        else:
            parts = []
            for entry in wanted:
                number = entry.number
                if not numbers.is_plausible(NAME, number):
                    parts.append(error_part(number, NUMBER_INVALID))
                    continue
                shipment = sim.lookup(NAME, number, tenant)
                count = shipment.visible_count(now) if shipment is not None else 0
                if shipment is None or count == 0 or not _ships_within(shipment, entry):
                    parts.append(error_part(number, NUMBER_NOT_FOUND))
                    continue
                parts.append(found_part(shipment, count, detailed))
        head = b'{"transactionId":' + dumps(transaction_id())
        if customer_id is not None:
            head += b',"customerTransactionId":' + dumps(customer_id)
        return raw(head + b',"output":{"completeTrackResults":[' + b",".join(parts) + b"]}}")

    return [
        Route(TOKEN_PATH, token, methods=["POST"], name="fedex.token"),
        Route(TRACK_PATH, track, methods=["POST"], name="fedex.track"),
        *operations.routes(operations.Context(sim, authorize, refuse, transaction_id, spec_form)),
    ]


# --------------------------------------------------------------------------------------------
# Fault hooks (simulator.carriers.contract.Carrier)
# --------------------------------------------------------------------------------------------

_FAULT_IDS = transaction_ids(-1)


def fault_error(status: int, endpoint: str, reason: str | None = None) -> Error:
    """The code and message FedEx sends with this status on the token or track endpoint."""
    if status == 401:
        # The token endpoint, or a revoked key, is about credentials; otherwise the token.
        return BAD_CREDENTIALS if endpoint == "token" or reason == "revoked" else TOKEN_EXPIRED
    if status == 400:
        # FX-AUTH declares no 400; the credential refusal is what a bad login gets here.
        return BAD_CREDENTIALS if endpoint == "token" else NUMBER_EMPTY
    if status == 403:
        return FORBIDDEN
    if status == 404:
        return RESOURCE_NOT_FOUND
    if status == 429:
        return TOO_MANY_REQUESTS
    if status == 500:
        return INTERNAL_ERROR
    return UNAVAILABLE  # 503 [spec]; 502 and 504 behind FedEx's gateway [unverified]


def error_response(
    status: int, endpoint: str, retry_after: int | None, reason: str | None
) -> Response:
    """A fault's HTTP error in the FedEx envelope (no Retry-After unless the fault sets one)."""
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    body = error_body(next(_FAULT_IDS), fault_error(status, endpoint, reason))
    return respond(body, status, headers)


async def describe(request: Request) -> tuple[str, tuple[str, ...]]:
    """(tenant, tracking numbers) of a request, best effort, never raising."""
    try:
        sim: Simulation = request.app.state.sim
        if request.url.path.endswith(TOKEN_PATH):
            form = await form_body(request)
            client_id = (form or {}).get("client_id", "")
            return tenant_for(request, client_id), ()
        headers = request.headers
        tenant = bearer_tenant(request, sim.tokens, NAME, headers.get("authorization"))
        if not request.url.path.endswith(TRACK_PATH):
            return tenant, _named_numbers(await request.body())
        try:
            _, wanted = parse_request(headers.get("content-type"), await request.body())
        except BadRequest:
            return tenant, ()
        return tenant, tuple(entry.number for entry in wanted)
    except Exception:  # a fault hook must never be the reason a request fails
        return "", ()


def _named_numbers(payload: bytes) -> tuple[str, ...]:
    """Every ``trackingNumber`` a sibling operation's body names (the fault hooks' view)."""
    try:
        body = inputs.json_value(payload)
    except inputs.InputError:
        return ()
    found: list[str] = []
    stack = [body]
    while stack and len(found) < MAX_NUMBERS:
        node = stack.pop()
        if isinstance(node, dict):
            value = node.get("trackingNumber")
            if isinstance(value, str) and value.strip():
                found.append(numbers.normalize(value))
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node[:MAX_NUMBERS])
    return tuple(found)


def _ships_within(shipment: Shipment, entry: Wanted) -> bool:
    # A ship-date range narrows the search (NOTES §2.3): outside it, FedEx finds nothing.
    if entry.ship_begin is None and entry.ship_end is None:
        return True
    shipped = ship_date(shipment)
    if entry.ship_begin is not None and shipped < entry.ship_begin:
        return False
    return entry.ship_end is None or shipped <= entry.ship_end


METHOD_NOT_ALLOWED: Error = ("METHOD.NOT.ALLOWED", "The requested method is not allowed.")
"""[unverified] FedEx publishes no 405; code and message in the style of its other errors."""


def method_not_allowed(path: str, allowed: Sequence[str]) -> Response:
    """A 405 in the FedEx envelope, with a fresh transaction id as every FedEx error has."""
    body = error_body(next(_FAULT_IDS), METHOD_NOT_ALLOWED)
    return respond(body, 405, {"Allow": ", ".join(allowed)})


def not_found(path: str) -> Response:
    """FedEx's 404 for a path under its tracking prefix that names no operation [spec]."""
    return respond(error_body(next(_FAULT_IDS), RESOURCE_NOT_FOUND), 404)


# [unverified] FedEx publishes no code for unreadable input or an oversized body; codes in
# the style of its other errors (NOT.AUTHORIZED.ERROR, NOT.FOUND.ERROR).
_REFUSAL_CODES = {400: "BAD.REQUEST.ERROR", 413: "REQUEST.TOO.LARGE.ERROR"}


def refusal(path: str, status: int, message: str) -> Response:
    """Input the simulator refused, in the FedEx envelope (NOTES §2.6)."""
    code = _REFUSAL_CODES.get(status, "BAD.REQUEST.ERROR")
    return respond(error_body(next(_FAULT_IDS), (code, message)), status)
