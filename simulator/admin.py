"""The ``/__admin`` HTTP API: one-line adapters over :class:`simulator.control.Control`.

Tenant-scoped operations name their tenant with ``?tenant=NAME`` or the
``X-Carriersim-Tenant`` header. Every answer is JSON; every mistake is a JSON error naming
the field and the fix. The API is described by ``/__admin/openapi.json``.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Match, Mount, Route
from starlette.types import Receive, Scope, Send

from simulator import __version__, inputs
from simulator.control import AdminError, Control

OPENAPI = Path(__file__).with_name("admin_openapi.json")
PREFIX = "/__admin"
HEALTH = PREFIX + "/health"

ANONYMOUS = "carriersim.admin_anonymous"
"""Scope key the guard sets on a health check it let through without the admin token."""

Handler = Callable[[Request], Awaitable[Any]]


def _query(request: Request) -> dict[str, str]:
    return inputs.query(request.scope["query_string"])


def _tenant(request: Request, body: dict[str, Any] | None = None, required: bool = True) -> Any:
    named = (
        _query(request).get("tenant")
        or inputs.header(request.scope, inputs.TENANT_HEADER)
        or (body or {}).get("tenant")
    )
    if named is not None and not isinstance(named, str):
        raise AdminError(
            400, "tenant", f"{inputs.echo(named)} is not a tenant name", "send it as text"
        )
    if required and not named:
        raise AdminError(
            400,
            "tenant",
            "this operation concerns one tenant, and none was named",
            "add ?tenant=NAME or the header X-Carriersim-Tenant: NAME (the tenant is the "
            "client id or DHL key your client logs in with)",
        )
    return inputs.tenant("tenant", named) if named else None


async def _body(request: Request) -> dict[str, Any]:
    return inputs.json_object(await request.body())


def _filters(request: Request, body: dict[str, Any] | None = None) -> dict[str, Any]:
    source: dict[str, Any] = body if body is not None else _query(request)
    out: dict[str, Any] = {
        k: source.get(k) for k in ("carrier", "endpoint", "number", "method", "path")
    }
    for name, value in out.items():
        if value is not None and not isinstance(value, str):
            raise AdminError(
                400, name, f"{inputs.echo(value)} is not text", f'send "{name}" as a string'
            )
    status = source.get("status")
    if status is not None:
        try:
            out["status"] = int(status)
        except (TypeError, ValueError, OverflowError):
            raise AdminError(
                400, "status", f"{inputs.echo(status)} is not an HTTP status", "e.g. 200"
            ) from None
    return out


def routes(control: Control) -> list[BaseRoute]:
    """The admin routes, all under ``/__admin``. Who may call them (the bearer token, the
    Host, the Origin, the body's type) is checked before routing, by
    :class:`simulator.guard.AdminGuard`."""

    def endpoint(handler: Handler, status: int = 200) -> Callable[[Request], Awaitable[Response]]:
        async def run(request: Request) -> Response:
            try:
                result = await handler(request)
            except AdminError as exc:
                return JSONResponse(exc.to_json(), exc.status)
            except inputs.InputError as exc:
                return JSONResponse(AdminError.of(exc).to_json(), exc.status)
            if result is None:
                return Response(status_code=204)
            if isinstance(result, Response):
                return result
            return JSONResponse(result, status)

        return run

    c = control

    async def health(r: Request) -> Any:
        # Health checks (load balancers, CI wait loops) carry no token: they get liveness,
        # and nothing about what is served (the guard let them through, marked).
        if r.scope.get(ANONYMOUS):
            return {"status": "ok", "version": __version__}
        return c.health()

    async def version(r: Request) -> Any:
        return {"version": __version__}

    async def openapi(r: Request) -> Any:
        return json.loads(OPENAPI.read_text())

    async def scenarios(r: Request) -> Any:
        return c.scenarios()

    async def scenario(r: Request) -> Any:
        return c.scenario(r.path_params["name"])

    async def reload(r: Request) -> Any:
        return c.reload()

    async def faults(r: Request) -> Any:
        return c.faults(_tenant(r, required=False))

    async def add_fault(r: Request) -> Any:
        # The body's "tenant" is not the fault's: a fault names its tenant in match.tenant.
        return c.add_fault(await _body(r), _tenant(r, required=False))

    async def clear_faults(r: Request) -> Any:
        return c.clear_faults(_tenant(r, required=False))

    async def create_shipment(r: Request) -> Any:
        b = await _body(r)
        for field in ("carrier", "scenario"):
            if not b.get(field):
                raise AdminError(400, field, "required field is missing", f'add "{field}"')
        return c.create_shipment(
            _tenant(r, b),
            b["carrier"],
            b["scenario"],
            start=b.get("start"),
            seed=b.get("seed"),
            number=b.get("number"),
        )

    async def shipments(r: Request) -> Any:
        return c.shipments(_tenant(r))

    async def notifications(r: Request) -> Any:
        return c.notifications(_tenant(r))

    async def shipment(r: Request) -> Any:
        p = r.path_params
        return c.shipment(_tenant(r), p["carrier"], p["number"])

    async def delete_shipment(r: Request) -> Any:
        p = r.path_params
        return c.delete_shipment(_tenant(r), p["carrier"], p["number"])

    async def next_event(r: Request) -> Any:
        p = r.path_params
        return c.advance_to_next(_tenant(r), p["carrier"], p["number"])

    async def clock(r: Request) -> Any:
        return c.clock(_tenant(r))

    async def freeze(r: Request) -> Any:
        b = await _body(r)
        return c.freeze(_tenant(r, b), b.get("at"))

    async def advance(r: Request) -> Any:
        b = await _body(r)
        if "by" not in b:
            raise AdminError(400, "by", "required field is missing", 'add "by": "2d"')
        return c.advance(_tenant(r, b), b["by"])

    async def set_clock(r: Request) -> Any:
        b = await _body(r)
        if "at" not in b:
            raise AdminError(
                400, "at", "required field is missing", 'add "at": "2026-03-01T12:00Z"'
            )
        return c.set_clock(_tenant(r, b), b["at"])

    async def run_clock(r: Request) -> Any:
        b = await _body(r)
        return c.run(_tenant(r, b), b.get("rate", 1.0))

    async def reset_clock(r: Request) -> Any:
        b = await _body(r)
        return c.reset_clock(_tenant(r, b))

    async def requests(r: Request) -> Any:
        return await c.requests(_tenant(r, required=False), **_filters(r))

    async def unmatched(r: Request) -> Any:
        return await c.unmatched(_tenant(r, required=False))

    async def verify(r: Request) -> Any:
        b = await _body(r)
        # null means "not given", as for every optional field.
        at_least = inputs.integer("at_least", b.get("at_least"), default=1, low=0, high=_COUNT)
        at_most = inputs.integer("at_most", b.get("at_most"), default=None, low=0, high=_COUNT)
        return await c.verify(
            _tenant(r, b, required=False),
            at_least=at_least or 0,
            at_most=at_most,
            **_filters(r, b),
        )

    async def reset(r: Request) -> Any:
        b = await _body(r)
        await c.reset(_tenant(r, b, required=False))
        return None

    async def subscriptions(r: Request) -> Any:
        q = r.query_params
        return c.push.subscriptions(
            _tenant(r), carrier=q.get("carrier"), status=q.get("status"), limit=q.get("limit")
        )

    async def deliveries(r: Request) -> Any:
        q = r.query_params
        return c.push.deliveries(
            _tenant(r),
            carrier=q.get("carrier"),
            number=q.get("number"),
            subscription=q.get("subscription"),
            outcome=q.get("outcome"),
            status=q.get("status"),
            kind=q.get("kind"),
            limit=q.get("limit"),
        )

    async def fire(r: Request) -> Any:
        b = await _body(r)
        return await c.push.fire(_tenant(r, b), b.get("all", False))

    async def replay_missed(r: Request) -> Any:
        b = await _body(r)
        return c.push.replay(_tenant(r, b), b.get("subscription"))

    async def webhook(r: Request) -> Any:
        return c.push.webhook(_tenant(r), r.path_params["carrier"])

    async def set_webhook(r: Request) -> Any:
        b = await _body(r)
        return c.push.set_webhook(_tenant(r, b), r.path_params["carrier"], b)

    async def delete_webhook(r: Request) -> Any:
        return c.push.delete_webhook(_tenant(r), r.path_params["carrier"])

    table: list[tuple[str, Handler, list[str], int]] = [
        ("/health", health, ["GET"], 200),
        ("/version", version, ["GET"], 200),
        ("/openapi.json", openapi, ["GET"], 200),
        ("/scenarios", scenarios, ["GET"], 200),
        ("/scenarios/reload", reload, ["POST"], 200),
        ("/scenarios/{name}", scenario, ["GET"], 200),
        ("/faults", faults, ["GET"], 200),
        ("/faults", add_fault, ["POST"], 201),
        ("/faults", clear_faults, ["DELETE"], 204),
        ("/shipments", create_shipment, ["POST"], 201),
        ("/shipments", shipments, ["GET"], 200),
        ("/shipments/{carrier}/{number}", shipment, ["GET"], 200),
        ("/shipments/{carrier}/{number}", delete_shipment, ["DELETE"], 204),
        ("/shipments/{carrier}/{number}/next", next_event, ["POST"], 200),
        ("/clock", clock, ["GET"], 200),
        ("/clock/freeze", freeze, ["POST"], 200),
        ("/clock/advance", advance, ["POST"], 200),
        ("/clock/set", set_clock, ["POST"], 200),
        ("/clock/run", run_clock, ["POST"], 200),
        ("/clock/reset", reset_clock, ["POST"], 200),
        ("/requests", requests, ["GET"], 200),
        ("/requests/unmatched", unmatched, ["GET"], 200),
        ("/requests/verify", verify, ["POST"], 200),
        ("/notifications", notifications, ["GET"], 200),
        ("/reset", reset, ["POST"], 204),
        ("/subscriptions", subscriptions, ["GET"], 200),
        ("/deliveries", deliveries, ["GET"], 200),
        ("/deliveries/fire", fire, ["POST"], 200),
        ("/deliveries/replay", replay_missed, ["POST"], 200),
        ("/webhooks/{carrier}", webhook, ["GET"], 200),
        ("/webhooks/{carrier}", set_webhook, ["PUT"], 200),
        ("/webhooks/{carrier}", delete_webhook, ["DELETE"], 204),
    ]
    # Starlette matches a path once; routes sharing a path dispatch on the method here.
    by_path: dict[str, dict[str, tuple[Handler, int]]] = {}
    for path, handler, methods, status in table:
        for method in methods:
            by_path.setdefault(path, {})[method] = (handler, status)
    out: list[BaseRoute] = [
        Route(path, _dispatch(handlers, endpoint), methods=list(handlers))
        for path, handlers in by_path.items()
    ]
    operations = list(out)

    async def unknown(r: Request) -> Any:
        for route in operations:
            found, _ = route.matches(r.scope)
            if found is not Match.NONE:  # the path exists; the method does not
                methods = sorted(getattr(route, "methods", None) or ())
                return JSONResponse(
                    AdminError(
                        405,
                        "method",
                        f"{r.method} is not allowed at {inputs.echo(r.url.path)}",
                        f"use {', '.join(m for m in methods if m != 'HEAD')}",
                    ).to_json(),
                    405,
                    headers={"Allow": ", ".join(methods)},
                )
        path = (r.url.path.removeprefix(PREFIX) or "/")[: inputs.MAX_NAME]
        close = difflib.get_close_matches(path, sorted(by_path), n=1, cutoff=0.6)
        hint = f"did you mean {PREFIX}{close[0]}? " if close else ""
        raise AdminError(
            404,
            "path",
            f"no admin endpoint at {inputs.echo(PREFIX + path)}",
            f"{hint}every endpoint is described at {PREFIX}/openapi.json",
        )

    # Not an operation: answers mistyped admin paths and wrong methods (any method: no
    # methods= list) in the admin API's own error shape (not the carriers' unknown-path
    # answer) and keeps them out of the journal. Starlette prefers a full match, so this
    # catch-all also sees wrong methods.
    fallback = Route("/{path:path}", _AnyMethod(endpoint(unknown)), name=FALLBACK)
    mount = Mount(PREFIX, routes=[*out, fallback])
    # "." stops at a newline: without DOTALL a path with %0A in it would miss the admin
    # API altogether and get the carriers' 404.
    for route in (mount, fallback):
        route.path_regex = re.compile(route.path_regex.pattern, re.DOTALL)
    return [mount]


_COUNT = 1_000_000_000
"""The largest request count a verification may name."""

FALLBACK = "admin-unknown-path"
"""Name of the catch-all route under ``/__admin`` (404 and 405 in the admin error shape)."""


class _AnyMethod:
    """An endpoint as a plain ASGI app: Starlette then routes every method to it (a
    function endpoint without ``methods=`` would get GET only)."""

    def __init__(self, run: Callable[[Request], Awaitable[Response]]) -> None:
        self.run = run

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.run(Request(scope, receive))
        await response(scope, receive, send)


def _dispatch(
    handlers: dict[str, tuple[Handler, int]],
    endpoint: Callable[[Handler, int], Callable[[Request], Awaitable[Response]]],
) -> Callable[[Request], Awaitable[Response]]:
    wrapped = {m: endpoint(h, s) for m, (h, s) in handlers.items()}

    async def dispatch(request: Request) -> Response:
        return await wrapped[request.method if request.method != "HEAD" else "GET"](request)

    return dispatch
