"""Who may drive ``/__admin``: not a web page the developer happens to have open.

The admin API listens on loopback, but a browser on the same machine reaches loopback too:
a page on any site can send a request there (a "simple" cross-site POST needs no preflight
when its body is ``text/plain`` or a form), or rebind its own DNS name to 127.0.0.1 and then
read the answers as if they were its own. :class:`AdminGuard` checks every request under
``/__admin`` (the admin API and anything else mounted there, such as a dashboard) before it
is routed:

1. With ``--admin-token``, the request must carry ``Authorization: Bearer <token>`` (a
   ``GET /__admin/health`` without it is let through for liveness only, and the dashboard
   under ``/__admin/ui`` checks the token itself, from a cookie); without one, its
   ``Host`` must be a loopback name (``localhost``, ``*.localhost``, ``127.x.x.x``,
   ``[::1]``) or one given with ``--admin-host`` (DNS rebinding sends the attacker's own
   name).
2. A state-changing request (any method but GET, HEAD and OPTIONS) is refused when its
   ``Origin`` is not the server's own (``Sec-Fetch-Site`` is checked too), and when its body
   is not JSON: a request with a body must say ``Content-Type: application/json``.
3. An HTML form cannot send JSON, so a form post is accepted when it carries the server's
   CSRF token (:meth:`AdminGuard.csrf_token`), in the form field :data:`CSRF_FIELD` of an
   ``application/x-www-form-urlencoded`` body or the header :data:`CSRF_HEADER`. Pages
   served under ``/__admin`` put it in a hidden field::

       <input type="hidden" name="csrf_token" value="{{ guard.csrf_token() }}">

   The token is derived from the server's secret, so every worker process agrees on it;
   a page of another origin can never read it (the same-origin policy keeps it from the
   dashboard's HTML, and rule 1 keeps rebound names out).

A refusal is an :class:`~simulator.control.AdminError` (401, 403 or 415) naming the header
or field and the fix.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from collections.abc import Iterable

from starlette.types import Receive, Scope

from simulator import inputs
from simulator.admin import ANONYMOUS, HEALTH
from simulator.control import AdminError

DASHBOARD = "/__admin/ui"
"""Where the dashboard is mounted: its pages authenticate a browser by cookie."""

CSRF_FIELD = "csrf_token"
"""Form field that carries the CSRF token in a form post."""

CSRF_HEADER = "x-carriersim-csrf"
"""Header that carries the CSRF token (for scripts that post something other than JSON)."""

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_FORM = "application/x-www-form-urlencoded"
# Used when the server has no secret (in-process tests): one key per process.
_PROCESS_KEY = secrets.token_bytes(32)


def is_loopback_name(host: str) -> bool:
    """Whether a host name (no port) can only ever mean this machine."""
    host = host.lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def split_host(value: str) -> str:
    """The host name of a ``Host`` header or an origin's authority (port dropped)."""
    value = value.strip().lower()
    if value.startswith("["):
        return value[: value.find("]") + 1] if "]" in value else value
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


def is_json_type(content_type: str) -> bool:
    """Whether a Content-Type names JSON (``application/json`` or ``…+json``)."""
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


class AdminGuard:
    """The checks in front of ``/__admin`` (see the module docstring)."""

    def __init__(self, token: str | None, hosts: Iterable[str] = (), secret: str = "") -> None:
        self.token = token
        self.hosts = frozenset(h.lower().rstrip(".") for h in hosts)
        key = secret.encode() if secret else _PROCESS_KEY
        self._csrf = hmac.new(key, b"carriersim admin csrf", hashlib.sha256).hexdigest()

    def csrf_token(self) -> str:
        """The token a form of a page under ``/__admin`` carries in :data:`CSRF_FIELD`."""
        return self._csrf

    def csrf_valid(self, value: str | None) -> bool:
        """Whether ``value`` is this server's CSRF token (compared in constant time)."""
        return value is not None and hmac.compare_digest(value.encode(), self._csrf.encode())

    def host_allowed(self, host: str) -> bool:
        """Whether a ``Host`` header (port included or not) names this server."""
        name = split_host(host)
        return is_loopback_name(name) or name.rstrip(".") in self.hosts

    async def check(self, scope: Scope, receive: Receive) -> tuple[Receive, AdminError | None]:
        """Whether the request may proceed; returns the receive channel to use (a form
        body is read here to find the CSRF token) and the refusal, if any."""
        headers = {k: v for k, v in scope["headers"] if k in _HEADERS}
        try:
            text = {k.decode(): inputs.utf8(v, k.decode()) for k, v in headers.items()}
        except inputs.InputError as exc:
            return receive, AdminError.of(exc)
        refusal = self._identity(text, scope)
        if refusal is not None or scope["method"] in SAFE_METHODS:
            return receive, refusal
        refusal = self._origin(text, scope)
        if refusal is not None:
            return receive, refusal
        return await self._content(text, receive)

    def _identity(self, text: dict[str, str], scope: Scope) -> AdminError | None:
        if self.token is not None:
            sent = text.get("authorization", "")
            if hmac.compare_digest(sent.encode(), f"Bearer {self.token}".encode()):
                return None
            if scope["method"] in ("GET", "HEAD") and scope["path"] == HEALTH:
                scope[ANONYMOUS] = True  # liveness only (see simulator.admin)
                return None
            if scope["path"] == DASHBOARD or scope["path"].startswith(DASHBOARD + "/"):
                # A browser sends no bearer token: the dashboard checks the token itself,
                # from its same-site, HTTP-only cookie (see simulator.dashboard). The Origin
                # and CSRF rules below still apply to its form posts.
                return None
            return AdminError(
                401,
                "authorization",
                "the admin API needs its bearer token",
                "send Authorization: Bearer <the --admin-token value>",
            )
        host = text.get("host")
        if host is None or self.host_allowed(host):
            return None
        return AdminError(
            403,
            "host",
            f"Host {inputs.echo(host)} is not a loopback name, and without --admin-token the "
            "admin API answers only loopback names (a web page can point any name at "
            "127.0.0.1)",
            "use http://127.0.0.1 or http://localhost, name this host with "
            "carriersim serve --admin-host NAME, or set --admin-token",
        )

    def _origin(self, text: dict[str, str], scope: Scope) -> AdminError | None:
        origin = text.get("origin")
        fetch_site = text.get("sec-fetch-site")
        if origin is None and fetch_site in (None, "same-origin", "none"):
            return None
        own = f"{scope.get('scheme', 'http')}://{text.get('host', '')}".lower()
        if origin is not None and origin.lower() == own and fetch_site in (None, "same-origin"):
            return None
        shown = inputs.echo(origin) if origin is not None else f"Sec-Fetch-Site {fetch_site}"
        return AdminError(
            403,
            "origin",
            f"a state-changing request from another origin ({shown}) is refused: any web "
            "page could send it",
            "call the admin API from a script or tool (they send no Origin), or from a page "
            f"served by this server ({own})",
        )

    async def _content(
        self, text: dict[str, str], receive: Receive
    ) -> tuple[Receive, AdminError | None]:
        ctype = text.get("content-type")
        if ctype is not None and is_json_type(ctype):
            return receive, None
        if self.csrf_valid(text.get(CSRF_HEADER)):
            return receive, None
        body = await inputs.read_all(receive)
        receive = inputs.replaying(body)
        if ctype is None and not body.strip():
            return receive, None
        if ctype is not None and ctype.split(";", 1)[0].strip().lower() == _FORM:
            try:
                sent = inputs.form(body).get(CSRF_FIELD)
            except inputs.InputError:
                sent = None
            if self.csrf_valid(sent):
                return receive, None
            return receive, AdminError(
                403,
                CSRF_FIELD,
                "a form post needs the server's CSRF token"
                if sent is None
                else "the CSRF token is not this server's",
                f"put the token in a hidden {CSRF_FIELD} field (a page under /__admin gets it "
                "from AdminGuard.csrf_token()), or send JSON",
            )
        sent_type = f"Content-Type {inputs.echo(ctype)}" if ctype else "a body without Content-Type"
        return receive, AdminError(
            415,
            "content-type",
            f"a state-changing request must send JSON, not {sent_type}",
            "send the body with Content-Type: application/json",
        )


_HEADERS = frozenset(
    {b"host", b"origin", b"sec-fetch-site", b"content-type", b"authorization", CSRF_HEADER.encode()}
)
