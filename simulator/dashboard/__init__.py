"""The QA dashboard at ``/__admin/ui``: another skin over the control object.

Server-rendered HTML (Jinja2 templates, SVG timeline pictures drawn here), one stylesheet
and a few lines of JavaScript for the live journal; nothing is fetched from elsewhere, so
the page works offline. Every change a form asks for is one call of
:class:`simulator.control.Control`, the same the admin API makes, and its
:class:`~simulator.control.AdminError` is shown next to the field that caused it.

Access follows the admin API: with ``--admin-token`` a browser opens
``/__admin/ui?token=TOKEN`` once and keeps the token in a same-site, HTTP-only cookie;
every form carries a CSRF token, and a post from another origin is refused.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

import yaml
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route, Router
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from simulator.carriers import CARRIERS
from simulator.control import AdminError, Control
from simulator.dashboard import views
from simulator.dashboard.picture import COLOURS, stylesheet
from simulator.dashboard.preview import preview
from simulator.faults import FAULT_KINDS
from simulator.guard import CSRF_FIELD

PREFIX = "/__admin/ui"
COOKIE = "carriersim_admin"
"""The cookie that carries the admin token for a browser (``--admin-token`` servers)."""

_HERE = Path(__file__).parent

Page = Callable[[Request], Awaitable[Response]]


def _form(raw: bytes) -> dict[str, str]:
    # Forms are url-encoded (no file uploads), so no multipart parser is needed.
    return dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))


def _back(request: Request, tenant: str | None, **extra: str) -> RedirectResponse:
    target = f"{PREFIX}/tenant?" + urlencode({"tenant": tenant, **extra}) if tenant else PREFIX
    return RedirectResponse(target, status_code=303)


def _fault_data(form: dict[str, str]) -> dict[str, Any]:
    """A fault-plan entry from the fault form's fields (validated by the control object)."""
    data: dict[str, Any] = {"kind": form.get("kind", "")}
    params = form.get("params", "").strip()
    if params:
        try:
            extra = yaml.safe_load(params if params.startswith("{") else "{" + params + "}")
        except yaml.YAMLError:
            raise AdminError(
                400,
                "params",
                f"{params!r} is not a list of parameters",
                "write them as in a fault plan, e.g. status: 503 or mode: truncate",
            ) from None
        if not isinstance(extra, dict):
            raise AdminError(
                400, "params", "parameters must be name: value pairs", "e.g. status: 503"
            )
        data.update(extra)
    data["match"] = {k: form[k] for k in ("carrier", "endpoint", "number") if form.get(k)}
    lifetime = form.get("lifetime", "always")
    value = form.get("lifetime_value", "").strip()
    if lifetime == "first":
        if not value.isdigit():
            raise AdminError(400, "lifetime_value", f"{value!r} is not a count", "e.g. 3")
        data["when"] = {"first": int(value)}
    elif lifetime == "probability":
        try:
            data["when"] = {"probability": float(value)}
        except ValueError:
            raise AdminError(
                400, "lifetime_value", f"{value!r} is not a probability", "e.g. 0.2"
            ) from None
    return data


def routes(control: Control, token: str | None = None) -> list[BaseRoute]:
    """The dashboard's routes, mounted at ``/__admin/ui``."""
    templates = Jinja2Templates(directory=str(_HERE / "templates"))
    env = templates.env
    env.globals.update(
        prefix=PREFIX, colours=COLOURS, carriers=list(CARRIERS), status_css=stylesheet()
    )
    env.filters["urlencode_query"] = lambda d: urlencode({k: v for k, v in d.items() if v})

    def allowed(request: Request) -> bool:
        if token is None:
            return True
        sent = request.cookies.get(COOKIE, "")
        header = request.headers.get("authorization", "")
        return hmac.compare_digest(sent.encode(), token.encode()) or hmac.compare_digest(
            header.encode(), f"Bearer {token}".encode()
        )

    def render(request: Request, name: str, status: int = 200, **context: Any) -> Response:
        # The admin guard's token: every form carries it, and the guard lets a form post
        # through only with it (simulator.guard).
        csrf = request.app.state.guard.csrf_token()
        return templates.TemplateResponse(
            request, name, {"csrf": csrf, **context}, status_code=status
        )

    def page(handler: Page) -> Page:
        async def run(request: Request) -> Response:
            given = request.query_params.get("token")
            if token is not None and given is not None:
                if not hmac.compare_digest(given.encode(), token.encode()):
                    return render(request, "denied.html", 401, reason="that token is wrong")
                # The token leaves the URL (and the history) at once; the cookie keeps it.
                rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
                response = RedirectResponse(
                    request.url.path + ("?" + urlencode(rest) if rest else ""), 303
                )
                response.set_cookie(
                    COOKIE, token, httponly=True, samesite="strict", path="/__admin"
                )
                return response
            if not allowed(request):
                return render(request, "denied.html", 401, reason="this server needs its token")
            try:
                return await handler(request)
            except AdminError as exc:
                return render(request, "error.html", exc.status, error=exc)

        return run

    c = control

    async def index(request: Request) -> Response:
        scenarios = sorted(c.sim.catalog.scenarios.values(), key=lambda s: s.name)
        return render(
            request,
            "index.html",
            tenants=await views.tenants(c),
            scenarios=scenarios,
            health=c.health(),
        )

    async def tenant_page(
        request: Request, errors: dict[str, str] | None = None, form: dict[str, str] | None = None
    ) -> Response:
        tenant = request.query_params.get("tenant") or (form or {}).get("tenant", "")
        if not tenant:
            raise AdminError(400, "tenant", "no tenant named", "open a tenant from the overview")
        filters = {
            k: request.query_params.get(k, "") for k in ("carrier", "endpoint", "number", "status")
        }
        rows = await views.journal_rows(c, tenant, **_journal_filters(filters))
        return render(
            request,
            "tenant.html",
            400 if errors else 200,
            tenant=tenant,
            clock=c.clock(tenant),
            parcels=await views.parcels(c, tenant),
            faults=c.faults(tenant),
            rows=rows[:100],
            last_seq=max((r["seq"] for r in rows), default=0),
            filters=filters,
            unmatched=(await c.unmatched(tenant))[-20:],
            pushes=views.pushes(c, tenant),
            scenarios=sorted(c.sim.catalog.scenarios),
            fault_kinds=FAULT_KINDS,
            errors=errors or {},
            form=form or {},
        )

    async def tenant(request: Request) -> Response:
        return await tenant_page(request)

    async def journal(request: Request) -> Response:
        tenant = request.query_params.get("tenant", "")
        filters = {
            k: request.query_params.get(k, "") for k in ("carrier", "endpoint", "number", "status")
        }
        after = request.query_params.get("after", "0")
        rows = await views.journal_rows(
            c,
            tenant or None,
            after=int(after) if after.isdigit() else 0,
            **_journal_filters(filters),
        )
        return render(request, "journal_rows.html", rows=rows[:100], tenant=tenant)

    async def parcel(request: Request) -> Response:
        q = request.query_params
        tenant, carrier, number = q.get("tenant", ""), q.get("carrier", ""), q.get("number", "")
        if carrier not in CARRIERS:
            raise AdminError(
                404, "carrier", f"no carrier {carrier!r}", "pick a parcel from the list"
            )
        found = views.find(c, tenant, carrier, number)
        if found is None:
            raise AdminError(
                404, "number", f"{carrier} {number!r} is not found", "pick one from the list"
            )
        now = c.sim.clock.now(tenant)
        upcoming = found.next_change(now)
        later = (
            await preview(c.sim, carrier, tenant, found.number, upcoming.timestamp())
            if upcoming
            else None
        )
        return render(
            request,
            "parcel.html",
            tenant=tenant,
            p=views.parcel(
                found,
                now,
                created=c.sim.store.get_shipment(tenant, carrier, found.number) is not None,
                width=900,
            ),
            clock=c.clock(tenant),
            now_answer=await preview(c.sim, carrier, tenant, found.number, now),
            next_answer=later,
        )

    async def scenarios(request: Request) -> Response:
        library = sorted(c.sim.catalog.scenarios.values(), key=lambda s: s.name)
        return render(
            request,
            "scenarios.html",
            library=[(s, views.scenario_picture(c, s)) for s in library],
            health=c.health(),
            reloaded=views.iso(c.reloaded_at),
        )

    async def act(request: Request) -> Response:
        if not allowed(request):
            return render(request, "denied.html", 401, reason="this server needs its token")
        # The guard has refused foreign origins and posts without the CSRF token already;
        # the check is repeated here so the dashboard never depends on where it is mounted.
        form = _form(await request.body())
        if not request.app.state.guard.csrf_valid(form.get(CSRF_FIELD)):
            return render(
                request,
                "denied.html",
                403,
                reason="the form's CSRF token is missing or stale; reload the page",
            )
        action = request.path_params["action"]
        tenant = form.get("tenant", "")
        try:
            done = await _perform(c, action, tenant, form)
        except AdminError as exc:
            if action == "reset-all" or not tenant:
                return render(request, "error.html", exc.status, error=exc)
            return await tenant_page(
                request, errors={exc.field: exc.message + " — " + exc.fix}, form=form
            )
        if isinstance(done, Response):
            return done
        return _back(request, tenant or None, **done)

    table: list[tuple[str, Page, list[str]]] = [
        ("/", index, ["GET"]),
        ("/tenant", tenant, ["GET"]),
        ("/journal", journal, ["GET"]),
        ("/parcel", parcel, ["GET"]),
        ("/scenarios", scenarios, ["GET"]),
    ]
    out: list[BaseRoute] = [Route(p, page(h), methods=m) for p, h, m in table]
    out.append(Route("/do/{action}", act, methods=["POST"]))
    out.append(Mount("/static", app=StaticFiles(directory=str(_HERE / "static")), name="static"))

    async def bare(request: Request) -> Response:
        return RedirectResponse(PREFIX + "/", 307)

    # Pages with many pictures compress well (a 50-parcel page by about 10×).
    zipped = GZipMiddleware(Router(routes=out), minimum_size=2048)
    return [Route(PREFIX, bare, methods=["GET"]), Mount(PREFIX, app=zipped)]


def _journal_filters(filters: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {k: v for k, v in filters.items() if v and k != "status"}
    status = filters.get("status", "")
    if status.isdigit():
        out["status"] = int(status)
    return out


async def _perform(
    c: Control, action: str, tenant: str, form: dict[str, str]
) -> dict[str, str] | Response:
    """Carry out one form's action through the control object."""
    carrier, number = form.get("carrier", ""), form.get("number", "")
    if action == "create":
        made = c.create_shipment(
            tenant, carrier, form.get("scenario", ""), start=form.get("start") or None
        )
        return {"made": f"{made['carrier']} {made['number']}"}
    if action == "freeze":
        c.freeze(tenant, form.get("at") or None)
    elif action == "advance":
        c.advance(tenant, form.get("by", ""))
    elif action == "set":
        c.set_clock(tenant, form.get("at", ""))
    elif action == "run":
        try:
            rate: Any = float(form.get("rate", ""))
        except ValueError:
            rate = form.get("rate", "")
        c.run(tenant, rate)
    elif action == "reset-clock":
        c.reset_clock(tenant)
    elif action == "next":
        if c.sim.store.get_shipment(tenant, carrier, number) is not None:
            c.advance_to_next(tenant, carrier, number)
        else:
            # A default-mix number: the same move, computed from what the tenant sees.
            found = views.find(c, tenant, carrier, number) if carrier in CARRIERS else None
            upcoming = found.next_change(c.sim.clock.now(tenant)) if found else None
            if upcoming is None:
                raise AdminError(
                    409, "number", f"{number!r} has no event left", "its timeline is complete"
                )
            c.set_clock(tenant, upcoming.isoformat())
        if form.get("back") == "parcel":
            target = f"{PREFIX}/parcel?" + urlencode(
                {"tenant": tenant, "carrier": carrier, "number": number}
            )
            return RedirectResponse(target, 303)
    elif action == "delete":
        c.delete_shipment(tenant, carrier, number)
    elif action == "add-fault":
        c.add_fault(_fault_data(form), tenant)
    elif action == "clear-faults":
        c.clear_faults(tenant)
    elif action == "fire":
        await c.push.fire(tenant, form.get("all") == "yes")
    elif action == "replay":
        c.push.replay(tenant, form.get("subscription") or None)
    elif action == "reset":
        await c.reset(tenant)
    else:
        raise AdminError(404, "action", f"no dashboard action {action!r}", "use the page's forms")
    return {}
