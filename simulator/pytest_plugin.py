"""pytest fixtures for tests that track parcels against carriersim.

Loaded through the ``pytest11`` entry point (``-p carriersim`` where plugin autoloading is
off; ``-p simulator.pytest_plugin`` where carriersim is importable but not installed)::

    carriersim_server     session   the server: started in a thread, or attached to a URL
    carriersim  (or sim)  function  a fresh tenant on that server and a handle on it
    carriersim_settings   session   Settings of a started server; override in a conftest
    carriersim_scenarios  session   scenario files or folders it serves; override likewise
    carriersim_webhook    function  an inbox on a recording webhook server: point a push
                                    subscription at ``.url``, steer ``.respond``/``.hang``,
                                    read ``.wait_for(n)`` (server: carriersim_webhook_server)

    @pytest.mark.carriersim(scenario=..., carrier=..., start=..., faults=[...], freeze=...)

A test's faults (the marker's and ``sim.fault``'s) match its tenant, and the tracking
endpoint unless their match names one (``{"endpoint": "token"}``, or None for both).

The handle speaks only the HTTP admin API under ``/__admin``, so a test behaves the same
against a server this session started and against one it attached to with
``--carriersim-url`` (or ``CARRIERSIM_URL``). Every test gets a tenant of its own, named
after the run, the xdist worker and the test, so tests never share a clock, shipments,
fault counters or journal, even when many sessions share one server. Under pytest-xdist
each worker process starts its own server (the session fixture runs once per worker).

When a test that used the handle fails, its report gets a ``carriersim`` section: the
tenant's unmatched requests with the journal's near-miss hints, and what it did receive.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from simulator.settings import BUNDLED_SCENARIOS, Settings

if TYPE_CHECKING:
    import httpx

    from simulator.server import ServerThread
    from simulator.webhook_recorder import Inbox, WebhookServer

CARRIERS = ("ups", "fedex", "usps", "dhl")
URL_ENV = "CARRIERSIM_URL"
ADMIN_TOKEN_ENV = "CARRIERSIM_ADMIN_TOKEN"
TENANT_HEADER = "X-Carriersim-Tenant"
SECRET = "carriersim"
"""The client secret the handle's credentials carry (any secret is accepted by default)."""

_MARKER_FIELDS = ("scenario", "carrier", "start", "seed", "faults", "freeze")
_HANDLE = pytest.StashKey["Carriersim"]()
_INBOX = pytest.StashKey["Inbox"]()
_RUN = pytest.StashKey["_Run"]()


class CarriersimAdminError(Exception):
    """The admin API refused a request; says which field was wrong and how to fix it."""

    def __init__(self, method: str, path: str, status: int, body: Any) -> None:
        error = body.get("error") if isinstance(body, dict) else None
        if isinstance(error, dict):
            detail = f"{error.get('field')}: {error.get('message')} ({error.get('fix')})"
        else:
            detail = str(body)[:500]
        super().__init__(f"carriersim admin {method} {path} answered {status}: {detail}")
        self.status = status
        self.body = body


# ------------------------------------------------------------------------------- options


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--carriersim-url`` and ``--carriersim-admin-token``."""
    group = parser.getgroup("carriersim", "carrier API simulator")
    group.addoption(
        "--carriersim-url",
        default=None,
        metavar="URL",
        help=f"attach to a running carriersim server instead of starting one (env {URL_ENV})",
    )
    group.addoption(
        "--carriersim-admin-token",
        default=None,
        metavar="TOKEN",
        help="bearer token of an attached server's /__admin API, if it requires one "
        f"(env {ADMIN_TOKEN_ENV})",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker; give the session its run id for tenant names."""
    config.addinivalue_line(
        "markers",
        "carriersim(scenario=None, carrier='ups', start=None, seed=None, faults=(), "
        "freeze=None): set up the test's carriersim tenant: freeze its clock (True or an "
        "instant), create a shipment of the scenario for the carrier(s) (sim.parcel, "
        "sim.parcels) and add the faults, matched to the tenant and (unless their match names "
        "an endpoint) to tracking requests (sim.faults)",
    )
    config.stash[_RUN] = _Run(
        token=secrets.token_hex(3),
        # pytest-xdist gives each worker's config its id; the environment variable it also
        # sets would leak into pytest runs that a worker's tests start themselves.
        worker=str(getattr(config, "workerinput", {}).get("workerid", "main")),
    )


def pytest_report_header(config: pytest.Config) -> str | None:
    """Say so when the session attaches to a server rather than starting one."""
    url = _attach_url(config)
    return f"carriersim: attached to {url}" if url else None


def _attach_url(config: pytest.Config) -> str | None:
    url = config.getoption("carriersim_url", None) or os.environ.get(URL_ENV)
    return str(url).rstrip("/") if url else None


@dataclass
class _Run:
    token: str
    worker: str
    count: int = 0

    def tenant(self, test_name: str) -> str:
        self.count += 1
        # Letters, digits and dashes only: the tenant doubles as an OAuth client id (no ':').
        slug = re.sub(r"[^A-Za-z0-9]+", "-", test_name).strip("-")[:40]
        return f"pytest-{self.token}-{self.worker}-{self.count:04d}-{slug}"


# ------------------------------------------------------------------------------- server


@dataclass
class CarriersimServer:
    """The server a session tests against: started by it (``owned``) or attached to."""

    url: str
    owned: bool
    admin_token: str | None = None
    settings: Settings | None = None
    """The settings it was started with; None when attached."""
    thread: ServerThread | None = None
    _client: httpx.Client | None = field(default=None, repr=False)

    @property
    def admin(self) -> httpx.Client:
        """An HTTP client on ``/__admin`` (with the bearer token, when there is one)."""
        if self._client is None:
            import httpx

            headers = {"Authorization": f"Bearer {self.admin_token}"} if self.admin_token else {}
            # trust_env=False: a proxy configured for the outside world must not see loopback.
            self._client = httpx.Client(
                base_url=f"{self.url}/__admin", headers=headers, timeout=30, trust_env=False
            )
        return self._client

    def call(
        self,
        method: str,
        path: str,
        *,
        tenant: str | None = None,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
    ) -> Any:
        """One admin request; its JSON answer (None for 204), or CarriersimAdminError."""
        headers = {TENANT_HEADER: tenant} if tenant else {}
        query = {k: v for k, v in (params or {}).items() if v is not None}
        r = self.admin.request(method, path, headers=headers, json=json, params=query)
        if r.status_code == 204:
            return None
        try:
            body = r.json()
        except ValueError:
            body = r.text
        if r.status_code >= 400:
            raise CarriersimAdminError(method, path, r.status_code, body)
        return body

    def close(self) -> None:
        """Close the admin client and stop the server if this session started it."""
        if self._client is not None:
            self._client.close()
            self._client = None
        if self.thread is not None:
            self.thread.stop()
            self.thread = None


@pytest.fixture(scope="session")
def carriersim_scenarios() -> Sequence[str | Path]:
    """Scenario files or folders a started server plays (default: the bundled library)."""
    return (BUNDLED_SCENARIOS,)


@pytest.fixture(scope="session")
def carriersim_settings(carriersim_scenarios: Sequence[str | Path]) -> Settings:
    """Settings of a started server; override (session-scoped) in a conftest to change them."""
    return Settings(scenario_paths=tuple(Path(p) for p in carriersim_scenarios))


@pytest.fixture(scope="session")
def carriersim_server(
    pytestconfig: pytest.Config, carriersim_settings: Settings
) -> Iterator[CarriersimServer]:
    """The session's server: attached to ``--carriersim-url`` / ``CARRIERSIM_URL`` when
    given, else started on a free loopback port in a background thread (one per xdist
    worker)."""
    url = _attach_url(pytestconfig)
    if url is not None:
        token = pytestconfig.getoption("carriersim_admin_token", None) or os.environ.get(
            ADMIN_TOKEN_ENV
        )
        server = CarriersimServer(url=url, owned=False, admin_token=token)
        try:
            _check_health(server)
            yield server
        finally:
            server.close()
        return

    from simulator.app import build
    from simulator.server import ServerThread

    thread = ServerThread(build(carriersim_settings)).start()
    server = CarriersimServer(
        url=thread.url,
        owned=True,
        admin_token=carriersim_settings.admin_token,
        settings=carriersim_settings,
        thread=thread,
    )
    try:
        yield server
    finally:
        server.close()


def _check_health(server: CarriersimServer) -> None:
    import httpx

    try:
        health = server.call("GET", "/health")
    except httpx.HTTPError as exc:
        pytest.fail(
            f"carriersim: nothing answers at {server.url} ({type(exc).__name__}: {exc}); "
            f"start it (carriersim serve) or fix --carriersim-url / {URL_ENV}",
            pytrace=False,
        )
    except CarriersimAdminError as exc:
        fix = (
            f"; pass --carriersim-admin-token or set {ADMIN_TOKEN_ENV}" if exc.status == 401 else ""
        )
        pytest.fail(f"carriersim at {server.url} is not usable: {exc}{fix}", pytrace=False)
    # Without the token a guarded server answers liveness only; every later call would fail.
    if isinstance(health, dict) and "scenarios" not in health:
        pytest.fail(
            f"carriersim at {server.url} wants its admin token; pass --carriersim-admin-token "
            f"or set {ADMIN_TOKEN_ENV}",
            pytrace=False,
        )


# ------------------------------------------------------------------------------- handle


def _instant(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _duration(value: str | timedelta) -> str:
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
        digits = f"{abs(seconds):.6f}".rstrip("0").rstrip(".")
        return f"{'-' if seconds < 0 else ''}{digits}s"
    return value


def _moment(value: str | datetime) -> str:
    return value.isoformat() if isinstance(value, datetime) else value


@dataclass(frozen=True)
class Shipment:
    """A shipment as the admin API shows it: its whole timeline and what is visible now."""

    carrier: str
    number: str
    scenario: str
    start: datetime
    now: datetime
    visible: int
    """How many of ``events`` the tenant's clock has reached."""
    status: str | None
    """The kind of the latest visible event (None before the first)."""
    next_change: datetime | None
    next_change_in: str | None
    events: tuple[dict[str, Any], ...]
    """Every event: at, local, kind, reason, place, visible."""

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Shipment:
        """Read the admin API's shipment object."""
        start = _instant(data["start"])
        now = _instant(data["now"])
        assert start is not None and now is not None
        return cls(
            carrier=data["carrier"],
            number=data["number"],
            scenario=data["scenario"],
            start=start,
            now=now,
            visible=data["visible"],
            status=data["status"],
            next_change=_instant(data["next_change"]),
            next_change_in=data["next_change_in"],
            events=tuple(data["events"]),
        )


@dataclass(frozen=True)
class ClockState:
    """A tenant's clock as the admin API shows it."""

    now: datetime
    frozen: bool
    rate: float
    follows_server: bool

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ClockState:
        """Read the admin API's clock object."""
        now = _instant(data["now"])
        assert now is not None
        return cls(now, data["frozen"], data["rate"], data["follows_server"])


@dataclass(frozen=True)
class Credentials:
    """A login naming the tenant: OAuth client id and secret (UPS, FedEx, USPS) or DHL key."""

    client_id: str
    client_secret: str
    api_key: str

    @property
    def basic_auth(self) -> tuple[str, str]:
        """(client id, secret), e.g. for ``httpx``'s ``auth=`` on the UPS token request."""
        return self.client_id, self.client_secret


class Carriersim:
    """One test's tenant on the server, steered through the admin API."""

    def __init__(self, server: CarriersimServer, tenant: str) -> None:
        self.server = server
        self.tenant = tenant
        self.parcels: dict[str, Shipment] = {}
        """Shipments the test's ``carriersim`` marker created, by carrier."""
        self.faults: list[dict[str, Any]] = []
        """Faults added for this test (by the marker or :meth:`fault`), as the server took them."""

    def __repr__(self) -> str:
        return f"<Carriersim tenant={self.tenant!r} at {self.base_url}>"

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.server.call(method, path, tenant=self.tenant, **kwargs)

    # -------------------------------------------------------------- where and who

    @property
    def base_url(self) -> str:
        """The server root: every carrier's real paths are served there."""
        return self.server.url

    def url(self, carrier: str | None = None) -> str:
        """A carrier's base URL (``<root>/ups``: only that carrier's paths), or the root."""
        if carrier is None:
            return self.base_url
        _check_carrier(carrier)
        return f"{self.base_url}/{carrier}"

    @property
    def base_urls(self) -> dict[str, str]:
        """Each carrier's base URL (the prefixed form)."""
        return {c: self.url(c) for c in CARRIERS}

    def credentials(self, carrier: str | None = None) -> Credentials:
        """A login that names this tenant; the same for every carrier."""
        if carrier is not None:
            _check_carrier(carrier)
        return Credentials(client_id=self.tenant, client_secret=SECRET, api_key=self.tenant)

    @property
    def headers(self) -> dict[str, str]:
        """A header naming the tenant, for logins whose credentials cannot name it."""
        return {TENANT_HEADER: self.tenant}

    @property
    def env(self) -> dict[str, str]:
        """Environment variables pointing the reference client (``carriersim track``) at
        this tenant, e.g. for an app run in a subprocess."""
        out = {"CARRIERSIM_BASE_URL": self.base_url, "DHL_API_KEY": self.tenant}
        for carrier in ("ups", "fedex", "usps"):
            out[f"{carrier.upper()}_CLIENT_ID"] = self.tenant
            out[f"{carrier.upper()}_CLIENT_SECRET"] = SECRET
        return out

    # -------------------------------------------------------------- shipments

    def shipment(
        self,
        carrier: str,
        scenario: str,
        *,
        start: str | timedelta | None = None,
        seed: int | None = None,
        number: str | None = None,
    ) -> Shipment:
        """Create a shipment of ``scenario`` for ``carrier`` in this tenant, with a fresh
        number unless one is given; ``start`` offsets its start from the tenant's now
        (``"-1d"``: already a day underway)."""
        body: dict[str, Any] = {"carrier": carrier, "scenario": scenario}
        if start is not None:
            body["start"] = _duration(start)
        if seed is not None:
            body["seed"] = seed
        if number is not None:
            body["number"] = number
        return Shipment.from_json(self._call("POST", "/shipments", json=body))

    def shipments(self) -> list[Shipment]:
        """The shipments this tenant created."""
        return [Shipment.from_json(s) for s in self._call("GET", "/shipments")]

    def inspect(self, shipment: Shipment | str, number: str | None = None) -> Shipment:
        """A shipment as the tenant sees it now: ``inspect(shipment)`` or
        ``inspect("ups", "1Z…")`` (declared scenario numbers work too)."""
        carrier, number = _target(shipment, number)
        return Shipment.from_json(self._call("GET", f"/shipments/{carrier}/{number}"))

    def next_event(self, shipment: Shipment | str, number: str | None = None) -> Shipment:
        """Move the tenant's clock to the shipment's next event; the shipment then."""
        carrier, number = _target(shipment, number)
        answer = self._call("POST", f"/shipments/{carrier}/{number}/next")
        return Shipment.from_json(answer["shipment"])

    # -------------------------------------------------------------- clock

    def clock(self) -> ClockState:
        """The tenant's clock."""
        return ClockState.from_json(self._call("GET", "/clock"))

    @property
    def now(self) -> datetime:
        """The tenant's simulated now."""
        return self.clock().now

    def advance(self, by: str | timedelta) -> ClockState:
        """Move the tenant's clock by a duration (``"2d"``, ``"1d 4h"``, ``"-30m"``)."""
        return ClockState.from_json(
            self._call("POST", "/clock/advance", json={"by": _duration(by)})
        )

    def freeze(self, at: str | datetime | None = None) -> ClockState:
        """Stop the tenant's clock, where it is or at an instant."""
        body = {} if at is None else {"at": _moment(at)}
        return ClockState.from_json(self._call("POST", "/clock/freeze", json=body))

    def set_clock(self, at: str | datetime) -> ClockState:
        """Put the tenant's clock at an instant (it keeps its rate)."""
        return ClockState.from_json(self._call("POST", "/clock/set", json={"at": _moment(at)}))

    def run_clock(self, rate: float = 1.0) -> ClockState:
        """Let the tenant's clock run at a speed factor (60: a minute per second)."""
        return ClockState.from_json(self._call("POST", "/clock/run", json={"rate": rate}))

    def reset_clock(self) -> ClockState:
        """Make the tenant's clock follow the server clock again."""
        return ClockState.from_json(self._call("POST", "/clock/reset", json={}))

    # -------------------------------------------------------------- journal

    def requests(
        self,
        *,
        carrier: str | None = None,
        endpoint: str | None = None,
        number: str | Shipment | None = None,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
    ) -> list[dict[str, Any]]:
        """Requests this tenant sent, oldest first, as the journal keeps them (secrets
        redacted); ``path`` matches a part of the path."""
        params = _filters(carrier, endpoint, number, method, path, status)
        answer: list[dict[str, Any]] = self._call("GET", "/requests", params=params)
        return answer

    def unmatched(self) -> list[dict[str, Any]]:
        """Requests of this tenant that found nothing, each with ``hints``: what it almost
        matched and why it did not."""
        answer: list[dict[str, Any]] = self._call("GET", "/requests/unmatched")
        return answer

    def verify(
        self,
        *,
        carrier: str | None = None,
        endpoint: str | None = None,
        number: str | Shipment | None = None,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
        at_least: int = 1,
        at_most: int | None = None,
    ) -> int:
        """Assert that this tenant sent matching requests at least (and at most) so many
        times; returns the count, or raises AssertionError with the journal's message."""
        body = _filters(carrier, endpoint, number, method, path, status)
        body["at_least"] = at_least
        if at_most is not None:
            body["at_most"] = at_most
        answer = self._call("POST", "/requests/verify", json=body)
        if not answer["ok"]:
            raise AssertionError(answer["message"])
        count: int = answer["count"]
        return count

    # -------------------------------------------------------------- faults

    def fault(
        self,
        kind: str,
        *,
        carrier: str | None = None,
        endpoint: str | None = "track",
        number: str | Shipment | None = None,
        when: Mapping[str, Any] | None = None,
        match: Mapping[str, Any] | None = None,
        name: str | None = None,
        **params: Any,
    ) -> dict[str, Any]:
        """Add a fault that only this tenant's requests meet, for the rest of the test:
        ``sim.fault("http_error", status=429, carrier="ups", when={"first": 2})``. The
        parameters are those of a fault-plan entry (README 'Faults'); it matches tracking
        requests unless ``endpoint`` says otherwise ("token", or None for both)."""
        wanted = dict(match or {})
        wanted.update(_filters(carrier, None, number, None, None, None))
        wanted.setdefault("endpoint", endpoint)
        return self._add_fault(
            {"kind": kind, **params, "match": wanted, "when": when, "name": name}
        )

    def _add_fault(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        body = {k: v for k, v in spec.items() if v is not None}
        match = dict(body.get("match") or {})
        if isinstance(match.get("number"), Shipment):
            match["number"] = match["number"].number
        if match.get("tenant") not in (None, self.tenant):
            raise ValueError(
                f"a test's faults match its own tenant ({self.tenant!r}), not "
                f"{match['tenant']!r}; leave 'tenant' out of the match"
            )
        match["tenant"] = self.tenant
        # A test's faults are about tracking: "503 twice" spent on the token requests that
        # come first would never reach the tracking call the test is about. A match that
        # names an endpoint keeps it; `"endpoint": None` means both.
        if "endpoint" not in match:
            match["endpoint"] = "track"
        elif match["endpoint"] is None:
            del match["endpoint"]
        body["match"] = match
        body.setdefault("name", f"{self.tenant}#{len(self.faults)}")
        added: dict[str, Any] = self.server.call("POST", "/faults", json=body)
        self.faults.append(added)
        return added

    # -------------------------------------------------------------- marker, reset

    @property
    def parcel(self) -> Shipment:
        """The shipment the test's ``carriersim`` marker created (its first carrier's)."""
        if not self.parcels:
            raise LookupError(
                "this test has no marker shipment; add @pytest.mark.carriersim(scenario=...) "
                "or create one with sim.shipment(carrier, scenario)"
            )
        return next(iter(self.parcels.values()))

    # -------------------------------------------------------------- push

    def subscriptions(self, carrier: str | None = None) -> list[dict[str, Any]]:
        """The tenant's push subscriptions (made through the carriers' own APIs)."""
        found: list[dict[str, Any]] = self._call(
            "GET", "/subscriptions", params={"carrier": carrier}
        )
        return found

    def deliveries(self, **filters: Any) -> list[dict[str, Any]]:
        """Every push delivery attempt of the tenant (filters: carrier, number,
        subscription, outcome, status, kind, limit)."""
        found: list[dict[str, Any]] = self._call("GET", "/deliveries", params=filters)
        return found

    def fire_pushes(self, *, everything: bool = False) -> list[dict[str, Any]]:
        """Send the pushes the tenant's clock has passed now and wait for them (a frozen
        clock's tests); ``everything``: every waiting one, retries included."""
        made: list[dict[str, Any]] = self._call(
            "POST", "/deliveries/fire", json={"all": everything}
        )["attempts"]
        return made

    def webhook(self, carrier: str, **fields: str) -> dict[str, Any]:
        """Set the webhook a carrier's portal would hold: UPS v2 (url, token_url,
        client_id, client_secret) or FedEx (url, security_token)."""
        shown: dict[str, Any] = self._call("PUT", f"/webhooks/{carrier}", json=fields)
        return shown

    def reset(self) -> None:
        """Drop all of the tenant's state: clock, shipments, fault counters, journal."""
        self._call("POST", "/reset", json={})

    def _apply_marker(self, marker: pytest.Mark) -> None:
        options = dict(marker.kwargs)
        if marker.args:
            if len(marker.args) > 1 or "scenario" in options:
                pytest.fail(
                    "@pytest.mark.carriersim takes at most one positional argument, the "
                    "scenario; name the others (carrier=, start=, seed=, faults=, freeze=)",
                    pytrace=False,
                )
            options["scenario"] = marker.args[0]
        unknown = sorted(set(options) - set(_MARKER_FIELDS))
        if unknown:
            pytest.fail(
                f"@pytest.mark.carriersim got unknown argument(s) {', '.join(unknown)}; "
                f"it takes {', '.join(_MARKER_FIELDS)}",
                pytrace=False,
            )
        freeze = options.get("freeze")
        if freeze is True:
            self.freeze()
        elif freeze:
            self.freeze(freeze)
        scenario = options.get("scenario")
        carriers = options.get("carrier") or "ups"
        if scenario is not None:
            for carrier in [carriers] if isinstance(carriers, str) else list(carriers):
                self.parcels[carrier] = self.shipment(
                    carrier, scenario, start=options.get("start"), seed=options.get("seed")
                )
        for spec in options.get("faults") or ():
            if not isinstance(spec, Mapping) or "kind" not in spec:
                pytest.fail(
                    f"@pytest.mark.carriersim faults= takes fault-plan entries (dicts with a "
                    f"'kind'), got {spec!r}",
                    pytrace=False,
                )
            self._add_fault(spec)

    def _retire_faults(self) -> None:
        """Take this test's faults out of the server's plan where that is safe.

        The admin API can only clear every run-time fault at once. A server this session
        started serves nobody else, so once only this test's faults remain they are cleared.
        Otherwise they stay, inert: they match this tenant, which no later test uses.
        """
        if not self.faults or not self.server.owned:
            return
        remaining = self.server.call("GET", "/faults")
        if all((f.get("match") or {}).get("tenant") == self.tenant for f in remaining):
            self.server.call("DELETE", "/faults")

    def _report(self) -> str:
        """What the journal says about this tenant, for a failed test's report."""
        lines = [f"tenant {self.tenant} on {self.base_url}"]
        unmatched = self.unmatched()
        received = self.requests()
        if unmatched:
            lines.append(f"unmatched requests ({len(unmatched)}), with near-miss hints:")
            for entry in unmatched:
                lines.append(f"  {_line(entry)}")
                lines.extend(f"    - {hint}" for hint in entry.get("hints", ()))
        else:
            lines.append("unmatched requests: none")
        shown = received[-20:]
        lines.append(
            f"requests received ({len(received)}"
            + (f", last {len(shown)}" if len(shown) < len(received) else "")
            + "):"
        )
        lines.extend(f"  {_line(entry)}" for entry in shown)
        if not received:
            lines.append(
                "  none: did the client log in with sim.credentials() (or send "
                f"{TENANT_HEADER}) and use sim.base_url?"
            )
        return "\n".join(lines)


def _line(entry: Mapping[str, Any]) -> str:
    what = f" [{entry['carrier']} {entry['endpoint']}]" if entry.get("carrier") else ""
    faults = f" faults: {', '.join(entry['faults'])}" if entry.get("faults") else ""
    query = f"?{entry['query']}" if entry.get("query") else ""
    return f"{entry['method']} {entry['path']}{query} -> {entry['status']}{what}{faults}"


def _check_carrier(carrier: str) -> None:
    if carrier not in CARRIERS:
        raise ValueError(f"unknown carrier {carrier!r}; one of {', '.join(CARRIERS)}")


def _target(shipment: Shipment | str, number: str | None) -> tuple[str, str]:
    if isinstance(shipment, Shipment):
        return shipment.carrier, shipment.number
    if number is None:
        raise TypeError("give a Shipment, or a carrier and a number")
    _check_carrier(shipment)
    return shipment, number


def _filters(
    carrier: str | None,
    endpoint: str | None,
    number: str | Shipment | None,
    method: str | None,
    path: str | None,
    status: int | None,
) -> dict[str, Any]:
    if isinstance(number, Shipment):
        number = number.number
    given = {
        "carrier": carrier,
        "endpoint": endpoint,
        "number": number,
        "method": method,
        "path": path,
        "status": status,
    }
    return {k: v for k, v in given.items() if v is not None}


# ------------------------------------------------------------------------------- fixtures


@pytest.fixture
def carriersim(
    request: pytest.FixtureRequest, carriersim_server: CarriersimServer
) -> Iterator[Carriersim]:
    """A fresh tenant on the session's server and a handle on it; reset after the test."""
    run = request.config.stash[_RUN]
    handle = Carriersim(carriersim_server, run.tenant(request.node.name))
    request.node.stash[_HANDLE] = handle
    try:
        marker = request.node.get_closest_marker("carriersim")
        if marker is not None:
            handle._apply_marker(marker)
        yield handle
    finally:
        try:
            handle._retire_faults()
        finally:
            handle.reset()


@pytest.fixture
def sim(carriersim: Carriersim) -> Carriersim:
    """Short name of the ``carriersim`` fixture."""
    return carriersim


@pytest.fixture(autouse=True)
def _carriersim_marker(request: pytest.FixtureRequest) -> None:
    # A marked test gets its tenant even when it does not name the fixture.
    if request.node.get_closest_marker("carriersim") is not None:
        request.getfixturevalue("carriersim")


@pytest.fixture(scope="session")
def carriersim_webhook_server() -> Iterator[WebhookServer]:
    """A recording webhook server on a free loopback port (one per xdist worker)."""
    from simulator.webhook_recorder import WebhookServer

    with WebhookServer() as server:
        yield server


@pytest.fixture
def carriersim_webhook(
    request: pytest.FixtureRequest, carriersim_webhook_server: WebhookServer
) -> Iterator[Inbox]:
    """An inbox of this test's own on the webhook server: every delivery to ``.url`` (and
    below it) is recorded and answered as ``.respond``/``.hang`` said (200 by default)."""
    inbox = carriersim_webhook_server.inbox(request.node.name)
    request.node.stash[_INBOX] = inbox
    try:
        yield inbox
    finally:
        carriersim_webhook_server.drop(inbox)


# ------------------------------------------------------------------------------- reports


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failed test that used a tenant gets the journal's view of that tenant."""
    report = yield
    handle = item.stash.get(_HANDLE, None)
    if handle is not None and report.failed and report.when == "call":
        try:
            text = handle._report()
        except Exception as exc:  # the report must not hide the test's own failure
            text = f"tenant {handle.tenant}: the journal could not be read ({exc!r})"
        report.sections.append(("carriersim: journal of this test's tenant", text))
    inbox = item.stash.get(_INBOX, None)
    if inbox is not None and report.failed and report.when == "call":
        lines = [
            f"{d.received_at:%H:%M:%S.%f} {d.method} {d.path} → {d.status}"
            f"{f' after {d.delay:g} s' if d.delay else ''} ({len(d.body)} bytes)"
            for d in inbox.deliveries
        ]
        text = "\n".join(lines) or "no delivery arrived"
        report.sections.append((f"carriersim: webhook deliveries to {inbox.url}", text))
    return report
