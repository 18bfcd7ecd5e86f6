"""The app factory: assembles the carriers' routes; knows no carrier by name."""

from __future__ import annotations

from types import ModuleType

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from simulator import carriers, faulting
from simulator.engine import Simulation
from simulator.loader import load_fault_plan, load_paths
from simulator.settings import Settings, settings_from_env


async def _unknown_path(request: Request, exc: Exception) -> Response:
    return JSONResponse(
        {
            "error": "no simulated carrier endpoint at this path",
            "path": request.url.path,
            "hint": "see the README's table of carrier paths; prefixes /ups, /fedex, /usps, "
            "/dhl are optional",
        },
        status_code=404,
    )


async def _wrong_method(request: Request, exc: Exception) -> Response:
    return JSONResponse(
        {"error": f"method {request.method} not allowed at {request.url.path}"},
        status_code=405,
    )


def create_app(sim: Simulation) -> Starlette:
    """A Starlette app serving every carrier, at the root and under ``/<carrier>``."""
    routes: list[BaseRoute] = []
    for name, module in carriers.MODULES.items():
        own = [_with_faults(sim, module, r) for r in module.routes(sim)]
        routes.extend(own)
        routes.append(Mount(f"/{name}", routes=own))
    app = Starlette(
        routes=routes,
        exception_handlers={404: _unknown_path, 405: _wrong_method},
    )
    app.state.sim = sim
    return app


def _with_faults(sim: Simulation, module: ModuleType, route: BaseRoute) -> BaseRoute:
    """The route with every fault kind applied around its endpoint."""
    if not isinstance(route, Route) or not hasattr(module, "describe"):
        return route
    kind = "token" if "token" in route.path else "track"
    endpoint = faulting.wrap(sim, module, kind, route.endpoint)
    return Route(route.path, endpoint, methods=list(route.methods or ()), name=route.name)


def build(settings: Settings) -> Starlette:
    """Load the scenarios the settings name and build the app."""
    faults = [f for path in settings.fault_paths for f in load_fault_plan(path).faults]
    return create_app(Simulation(settings, load_paths(settings.scenario_paths), faults=faults))


def app_from_env() -> Starlette:
    """App factory for uvicorn worker processes; settings come from the parent's environment."""
    return build(settings_from_env())
