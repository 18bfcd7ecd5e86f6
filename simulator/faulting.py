"""Applying fault decisions to requests: delays, errors, broken bodies, broken connections.

Every carrier endpoint is wrapped by :func:`wrap`. The wrapper asks the carrier (its
:class:`~simulator.carriers.contract.Carrier`) who is calling and for which numbers
(``describe``), lets the :class:`~simulator.faults.FaultBook` decide, and then, in this
order: waits (never blocking other requests), answers an error in the carrier's envelope
(``error_response``) or a gateway's HTML page, or calls the endpoint with the data faults
(lies, quirks) in ``request.state.faults`` for its renderer, and finally breaks the body or
the connection on the way out.
"""

from __future__ import annotations

import asyncio
import random
import socket
import struct
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import parse_qsl

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from simulator import numbers
from simulator.faults import (
    CLEAN,
    BodyFault,
    Connection,
    DataQuirk,
    Decision,
    HttpError,
    Lie,
    Outage,
    RequestInfo,
    fault_id,
)
from simulator.seeding import seed_int
from simulator.server import TRANSPORT_KEY

if TYPE_CHECKING:
    from simulator.carriers.contract import Carrier

Endpoint = Callable[[Request], Awaitable[Response]]
_NONE: frozenset[str] = frozenset()


class SocketRequired(RuntimeError):
    """A connection fault was asked for where there is no real socket to break."""


class Faults(Protocol):
    """The part of the simulation the wrapper needs (see :class:`simulator.engine.Simulation`)."""

    def decide(self, info: RequestInfo) -> Decision:
        """Which faults fire for the request."""

    def active_for(self, carrier: str, scenarios: frozenset[str]) -> bool:
        """Whether any fault could apply to a request of this carrier for these scenarios."""

    @property
    def any_scenario(self) -> bool:
        """Whether some scenario declares faults of its own."""

    @property
    def version(self) -> int:
        """Changes whenever the faults in force change."""

    def may_involve(self, carrier: str, numbers: Sequence[str]) -> bool:
        """Whether a request for these numbers could play a scenario that has faults."""


GATEWAY_TITLES = {
    500: "500 Internal Server Error",
    502: "502 Bad Gateway",
    503: "503 Service Temporarily Unavailable",
    504: "504 Gateway Time-out",
    400: "400 Bad Request",
    401: "401 Authorization Required",
    403: "403 Forbidden",
    404: "404 Not Found",
    429: "429 Too Many Requests",
}


def gateway_page(status: int, retry_after: int | None = None) -> Response:
    """The bare HTML error page a load balancer in front of a carrier sends."""
    title = GATEWAY_TITLES.get(status, f"{status} Error")
    body = (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n"
        "</body>\r\n</html>\r\n"
    )
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return Response(body, status, headers, media_type="text/html")


def error_for(carrier: Carrier, error: HttpError | Outage, endpoint: str) -> Response:
    """The response an HTTP-error or outage fault sends."""
    reason = error.reason if isinstance(error, HttpError) else None
    if error.body == "html":
        return gateway_page(error.status, error.retry_after)
    return carrier.error_response(error.status, endpoint, error.retry_after, reason)


def wrap(
    sim: Any,
    owner: Carrier,
    endpoint_kind: str,
    endpoint: Endpoint,
) -> Endpoint:
    """The endpoint with faults applied around it."""
    carrier = owner.name
    faults: Faults = sim.faults

    journal = sim.journal

    def quiet(scope: Any) -> bool:
        # Whether a GET can meet no fault at all: most requests, settled from the URL alone.
        if faults.active_for(carrier, _NONE):
            return False
        in_url = _url_numbers(scope)
        return in_url is not None and (
            not faults.any_scenario or not faults.may_involve(carrier, in_url)
        )

    credential_of = owner.replay_credential
    replays = sim.replays

    async def faulty(request: Request) -> Response:
        started = time.perf_counter()
        scope = request.scope
        version = faults.version  # read first: a change during the request voids the replay
        if scope["method"] == "GET" and quiet(scope):
            response = await endpoint(request)
            # A clean answer the handler marked: repeats are served ahead of routing.
            replays.remember(
                scope, credential_of, carrier, endpoint_kind, version, response.raw_headers
            )
            journal.record(
                carrier=carrier,
                endpoint=endpoint_kind,
                scope=scope,
                body=b"",
                status=response.status_code,
                started=started,
            )
            return response
        response, fired = await _answer(request)
        try:
            body = await request.body() if scope["method"] in ("POST", "PUT") else b""
        except ClientDisconnect:  # gone before its body arrived (it was answered anyway)
            body = b""
        journal.record(
            carrier=carrier,
            endpoint=endpoint_kind,
            scope=scope,
            body=body,
            status=response.status_code,
            started=started,
            faults=fired,
        )
        return response

    async def _answer(request: Request) -> tuple[Response, tuple[str, ...]]:
        global_faults = faults.active_for(carrier, _NONE)
        if not global_faults:
            if not faults.any_scenario:
                return await endpoint(request), ()
            # Most requests ask for numbers that no faulty scenario plays; for GETs the
            # numbers are in the URL, so that is settled without parsing the request.
            in_url = _url_numbers(request.scope)
            if in_url is not None and not faults.may_involve(carrier, in_url):
                return await endpoint(request), ()
        tenant, nums = await owner.describe(request)
        scenarios = _NONE
        if faults.may_involve(carrier, nums):
            scenarios = frozenset(
                s.scenario.name for n in nums if (s := sim.lookup(carrier, n, tenant)) is not None
            )
        if not global_faults and not faults.active_for(carrier, scenarios):
            return await endpoint(request), ()
        info = RequestInfo(
            carrier=carrier,
            endpoint=endpoint_kind,
            tenant=tenant,
            numbers=nums,
            scenarios=scenarios,
            sim_now=sim.clock.now(tenant),
            sim_start=sim.clock.start.timestamp(),
        )
        decision = faults.decide(info)
        if decision is CLEAN:
            return await endpoint(request), ()
        if decision.delay:
            await asyncio.sleep(decision.delay)
        if decision.rate_limited is not None:
            wait, send_retry_after = decision.rate_limited
            response = owner.error_response(
                429, endpoint_kind, wait if send_retry_after else None, None
            )
        elif decision.error is not None:
            response = error_for(owner, decision.error, endpoint_kind)
        else:
            request.state.faults = decision
            response = await endpoint(request)
        if decision.body is None and decision.connection is None:
            return response, decision.fired
        seed = seed_int(sim.settings.seed, tenant, *decision.fired, *nums)
        return Broken(response, decision.body, decision.connection, seed), decision.fired

    return faulty


def _url_numbers(scope: Any) -> tuple[str, ...] | None:
    """Tracking numbers a GET carries in its path or ``trackingNumber`` query parameter
    (None for other methods, whose numbers are in the body)."""
    if scope["method"] != "GET":
        return None
    found = [numbers.normalize(v) for v in scope.get("path_params", {}).values()]
    query: bytes = scope.get("query_string", b"")
    if b"trackingNumber" in query:
        found.extend(
            numbers.normalize(v)
            for k, v in parse_qsl(query.decode("latin-1"))
            if k == "trackingNumber"
        )
    return tuple(found)


def data_faults(request: Request) -> Decision:
    """The lies and quirks a renderer must apply to this request (usually none)."""
    # Read the scope's state dict directly: building request.state costs more than the check.
    state = request.scope.get("state")
    found: Decision = state.get("faults", CLEAN) if state else CLEAN
    return found


class Broken(Response):
    """A response whose body or connection a fault breaks on the way out."""

    def __init__(
        self,
        inner: Response,
        body: BodyFault | None,
        connection: Connection | None,
        seed: int,
    ) -> None:
        self.inner = inner
        self.body_fault = body
        self.connection_fault = connection
        self.seed = seed
        self.status_code = inner.status_code
        self.body = inner.body
        self.raw_headers = list(inner.raw_headers)
        self.background = None

    def _broken_body(self) -> tuple[bytes, list[tuple[bytes, bytes]]]:
        body = bytes(self.inner.body)
        headers = [(k, v) for k, v in self.raw_headers if k != b"content-length"]
        mode = self.body_fault.mode if self.body_fault else None
        if mode == "invalid_json":
            # Cut inside the document and close it wrongly: parses as nothing.
            body = body[: max(1, len(body) // 2)] + b"}]"
        elif mode == "wrong_content_type":
            headers = [(k, v) for k, v in headers if k != b"content-type"]
            headers.append((b"content-type", b"text/html; charset=utf-8"))
        elif mode == "missing_content_type":
            headers = [(k, v) for k, v in headers if k != b"content-type"]
        elif mode == "random_bytes":
            body = random.Random(self.seed).randbytes(max(64, len(body)))
        headers.append((b"content-length", str(len(body)).encode()))
        return body, headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body, headers = self._broken_body()
        fault = self.connection_fault
        if fault is None:
            await send(
                {"type": "http.response.start", "status": self.status_code, "headers": headers}
            )
            await send({"type": "http.response.body", "body": body})
            return
        transport = scope.get("extensions", {}).get(TRANSPORT_KEY)
        if transport is None:
            raise SocketRequired(
                f"connection fault {fault.mode!r} needs a real socket; in-process clients "
                "(ASGI transport, TestClient) have none. Run the server (carriersim serve or "
                "the pytest plugin's server) and connect over HTTP, or use a body fault instead."
            )
        await _break(fault, transport, self.status_code, headers, body, send)


async def _break(
    fault: Connection,
    transport: Any,
    status: int,
    headers: list[tuple[bytes, bytes]],
    body: bytes,
    send: Send,
) -> None:
    start = {"type": "http.response.start", "status": status, "headers": headers}
    if fault.mode == "hang":
        await asyncio.sleep(fault.seconds)
        transport.close()
    elif fault.mode == "reset":
        sock = transport.get_extra_info("socket")
        if sock is not None:
            # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    elif fault.mode == "empty_reply":
        transport.close()
    elif fault.mode == "headers_then_stall":
        await send(start)
        await asyncio.sleep(fault.seconds)
        transport.close()
    elif fault.mode == "dribble":
        await send(start)
        chunks = max(1, min(len(body), 20))
        size = -(-len(body) // chunks)
        for i in range(0, len(body), size):
            await asyncio.sleep(fault.seconds / chunks)
            await send(
                {
                    "type": "http.response.body",
                    "body": body[i : i + size],
                    "more_body": i + size < len(body),
                }
            )
        return
    elif fault.mode == "truncate":
        await send(start)
        cut = int(len(body) * fault.fraction)
        await send({"type": "http.response.body", "body": body[:cut], "more_body": True})
        transport.close()
    # Let the server see the connection is gone before the app returns.
    for _ in range(3):
        await asyncio.sleep(0)


Targets = Callable[[str, str], bool]


def fault_targets(sim: Any, decision: Decision, scenario_of: Mapping[str, str]) -> Targets:
    """Whether a fired lie or quirk (by mode) applies to a number of the request.

    The decision names the faults that fired; each is looked up again to see whom it was
    for: a scenario's fault targets that scenario's numbers (``scenario_of``: number ->
    scenario), a fault matching a number targets that number, any other every number. A mode
    no fault accounts for (the plan changed meanwhile) targets every number.
    """
    fired = frozenset(decision.fired)
    everyone: set[str] = set()
    some: dict[str, set[str]] = {}
    for index, fault in enumerate(sim.faults.plan):
        kind = fault.fault
        if isinstance(kind, Lie | DataQuirk) and fault_id(fault, index, "global") in fired:
            if fault.match.number is None:
                everyone.add(kind.mode)
            else:
                some.setdefault(kind.mode, set()).add(fault.match.number)
    for name in sorted(set(scenario_of.values())):
        scenario = sim.catalog.scenarios.get(name)
        mine = [n for n, s in scenario_of.items() if s == name]
        for index, fault in enumerate(scenario.faults if scenario is not None else ()):
            kind = fault.fault
            if (
                isinstance(kind, Lie | DataQuirk)
                and fault_id(fault, index, f"scenario:{name}") in fired
            ):
                wanted = fault.match.number
                some.setdefault(kind.mode, set()).update(
                    n for n in mine if wanted is None or n == wanted
                )
    everyone.update((decision.lies | decision.quirks) - everyone - some.keys())

    def applies(mode: str, number: str) -> bool:
        return mode in everyone or number in some.get(mode, ())

    return applies
