"""The app factory: assembles the carriers' routes; knows no carrier by name."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from simulator import admin, carriers, dashboard, faulting, inputs, mailer
from simulator.carriers import Carrier
from simulator.carriers.common import TENANT_PARAM
from simulator.control import AdminError, Control
from simulator.engine import Simulation
from simulator.guard import AdminGuard
from simulator.loader import load_fault_plan, load_paths
from simulator.push.dispatch import Dispatcher
from simulator.settings import Settings, settings_from_env


def create_app(sim: Simulation) -> Starlette:
    """A Starlette app serving every carrier, at the root and under ``/<carrier>``, each of
    those also under ``/t/<tenant>`` (the prefix names the tenant), with the admin API under
    ``/__admin``."""
    control = Control(sim)
    dispatcher = Dispatcher(sim, {name: c.push for name, c in carriers.CARRIERS.items()})
    sim.dispatcher = dispatcher

    async def unknown_path(request: Request, exc: Exception) -> Response:
        # Unmatched requests are journaled too: "what did my test call?" has an answer.
        refused = request.scope.get(inputs.REFUSED)
        body = b"" if refused is not None and refused.status == 413 else await request.body()
        owner = carrier_owning(request.url.path)
        # Journaled as unmatched even under a carrier's prefix: "what almost matched?"
        # is the question a 404 raises, whoever's envelope it came in.
        sim.journal.record(
            carrier=None,
            endpoint=None,
            scope=request.scope,
            body=body,
            status=404,
            started=time.perf_counter(),
        )
        if owner is not None:
            # Under a carrier's own prefix a client expects that carrier's 404 envelope.
            return owner.not_found(request.url.path[:_LONGEST_PATH])
        path = request.url.path[:_LONGEST_PATH]
        return JSONResponse(
            {
                "error": "no simulated carrier endpoint at this path",
                "path": path,
                "hints": control.near_misses_for_path(path),
            },
            status_code=404,
        )

    async def wrong_method(request: Request, exc: Exception) -> Response:
        allowed = (getattr(exc, "headers", None) or {}).get("Allow", "")
        endpoint = request.scope.get("endpoint")
        if not isinstance(endpoint, _Direct):  # every carrier route's endpoint is one
            return JSONResponse(
                {"error": f"method {request.method} not allowed here", "allow": allowed},
                405,
                headers={"Allow": allowed},
            )
        methods = [m.strip() for m in allowed.split(",") if m.strip()]
        return endpoint.carrier.method_not_allowed(endpoint.path, methods)

    # Carrier paths first: they are matched on every tracking request, in list order.
    routes: list[BaseRoute] = []
    prefixed: list[BaseRoute] = []
    for name, carrier in carriers.CARRIERS.items():
        own = [_with_faults(sim, carrier, r) for r in carrier.routes(sim)]
        own += [_with_faults(sim, carrier, r, "subscription") for r in carrier.push.routes(sim)]
        routes.extend(own)
        prefixed.append(Mount(f"/{name}", routes=own))
    # Every carrier path again behind /t/<tenant> (the prefix names the tenant), last:
    # un-prefixed requests never try it, and no carrier path starts with /t/.
    tenanted = Mount(f"/t/{{{TENANT_PARAM}}}", routes=[*routes, *prefixed])
    # The dashboard's mount comes first: /__admin would otherwise take /__admin/ui too.
    routes.extend(dashboard.routes(control, sim.settings.admin_token))
    routes.extend(admin.routes(control))
    routes.extend(prefixed)
    routes.append(tenanted)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Pushes fire from the server's own loop, whatever requests arrive.
        dispatcher.start()
        try:
            async with mailer.mailing(sim, sim.settings.smtp):
                yield
        finally:
            await dispatcher.stop()

    app = _LeanApp(
        routes=routes,
        exception_handlers={404: unknown_path, 405: wrong_method},
        lifespan=lifespan,
    )
    app.state.sim = sim
    app.state.control = control
    app.state.guard = AdminGuard(
        sim.settings.admin_token, sim.settings.admin_hosts, sim.settings.secret
    )
    control.app = app
    return app


def carrier_owning(path: str) -> Carrier | None:
    """The carrier whose tracking prefix the path is under (after the optional ``/t/<tenant>``
    and ``/<carrier>`` prefixes), or None."""
    rest = path
    if rest.startswith("/t/"):
        rest = "/" + rest[3:].partition("/")[2]
    head = rest[1:].partition("/")[0]
    if head in carriers.CARRIERS:
        named = carriers.CARRIERS[head]
        rest = rest[len(head) + 1 :]
        return named if rest.startswith(named.prefix) else None
    for carrier in carriers.CARRIERS.values():
        if rest.startswith(carrier.prefix):
            return carrier
    return None


_LONGEST_PATH = 2048
"""Characters of an unknown path echoed (and compared for hints) in the 404."""


class _LeanApp(Starlette):
    """Starlette without its two default middlewares on the request path, answering
    replayable repeat requests before routing, and admitting requests
    (:func:`simulator.inputs.admit`, and :class:`~simulator.guard.AdminGuard` under
    ``/__admin``) before they are routed.

    Every carrier handler answers its own errors in the carrier's envelope, so the
    per-request exception plumbing is not needed there; routing misses (404, 405) are
    still answered by the app's handlers. Anything else propagates to the server, which
    answers 500 as Starlette's error middleware would.
    """

    def build_middleware_stack(self) -> ASGIApp:
        router = self.router
        handlers: dict[Any, Any] = dict(self.exception_handlers)
        serve_replay = self.state.sim.replays.serve
        guard: AdminGuard = self.state.guard

        async def app(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await router(scope, receive, send)
                return
            # A repeat of a clean GET is answered before routing (see simulator.replay);
            # its path was admitted when it was first answered, and is compared as sent.
            if (
                scope["method"] == "GET"
                and b"%" not in (scope.get("raw_path") or b"")
                and await serve_replay(scope, send)
            ):
                return
            receive, problem = await inputs.admit(scope, receive)
            if scope["path"].startswith(admin.PREFIX):
                refusal = _admin_refusal(problem)
                if refusal is None:
                    receive, refusal = await guard.check(scope, receive)
                if refusal is not None:
                    await JSONResponse(refusal.to_json(), refusal.status)(scope, receive, send)
                    return
            elif problem is not None:
                scope[inputs.REFUSED] = problem
            try:
                await router(scope, receive, send)
            except HTTPException as exc:
                handler = handlers.get(exc.status_code)
                if handler is None:
                    raise
                response = await handler(Request(scope, receive), exc)
                await response(scope, receive, send)

        return app


def _admin_refusal(problem: inputs.InputError | None) -> AdminError | None:
    if problem is None:
        return None
    if problem.field == "path":
        # A path no admin route can name: the admin API's own 404, never a carrier's.
        return AdminError(
            404, "path", f"no admin endpoint at this path ({problem.message})", problem.fix
        )
    return AdminError.of(problem)


class _Direct:
    """A carrier endpoint called as plain ASGI, without Starlette's per-request exception
    wrapper; input :func:`simulator.inputs.admit` refused, or a handler found unreadable
    (:class:`~simulator.inputs.InputError`), is answered in the carrier's envelope."""

    def __init__(
        self,
        sim: Simulation,
        carrier: Carrier,
        kind: str,
        path: str,
        endpoint: faulting.Endpoint,
    ) -> None:
        self.sim = sim
        self.carrier = carrier
        self.kind = kind
        self.path = path
        """The route's path template (a carrier's 405 may depend on it)."""
        self.endpoint = endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        problem: inputs.InputError | None = scope.get(inputs.REFUSED)
        if problem is None:
            try:
                response = await self.endpoint(Request(scope, receive, send))
            except inputs.InputError as exc:
                problem = exc
            except ClientDisconnect:
                return  # the client left before its body arrived: no one to answer
        if problem is not None:
            started = time.perf_counter()
            response = self.carrier.refusal(self.path, problem.status, str(problem))
            self.sim.journal.record(
                carrier=self.carrier.name,
                endpoint=self.kind,
                scope=scope,
                body=b"",
                status=response.status_code,
                started=started,
            )
        await response(scope, receive, send)


def _with_faults(sim: Simulation, carrier: Carrier, route: Route, kind: str | None = None) -> Route:
    """The route with every fault kind applied around its endpoint."""
    kind = kind or ("token" if "token" in route.path else "track")
    endpoint = _Direct(
        sim, carrier, kind, route.path, faulting.wrap(sim, carrier, kind, route.endpoint)
    )
    return Route(route.path, endpoint, methods=list(route.methods or ()), name=route.name)


def build(settings: Settings) -> Starlette:
    """Load the scenarios the settings name and build the app."""
    faults = [f for path in settings.fault_paths for f in load_fault_plan(path).faults]
    return create_app(Simulation(settings, load_paths(settings.scenario_paths), faults=faults))


def app_from_env() -> Starlette:
    """App factory for uvicorn worker processes; settings come from the parent's environment."""
    return build(settings_from_env())
