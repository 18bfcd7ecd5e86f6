"""The admin guard: a web page the developer has open cannot drive ``/__admin``.

The browser-shaped requests here carry exactly the headers a browser sends for the two
attacks: a "simple" cross-site POST (``fetch(url, {method: "POST", mode: "no-cors", body})``
sends ``text/plain`` with the page's ``Origin``, no preflight), and DNS rebinding (the
page's own name, now resolving to 127.0.0.1, in ``Host``).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from simulator.cli import _parser
from simulator.engine import Simulation
from simulator.guard import CSRF_FIELD, CSRF_HEADER, AdminGuard, is_loopback_name
from simulator.settings import SETTINGS_ENV, Settings, settings_from_env, settings_to_env
from tests.admin.conftest import AdminFactory, Served

A = "/__admin"
T = {"tenant": "t1"}
SHIPMENT = b'{"carrier": "ups", "scenario": "damaged"}'

# What Chrome sends for fetch(..., {method: "POST", mode: "no-cors", body: "{...}"}) from a
# page at https://evil.example.
CROSS_SITE_FETCH = {
    "Origin": "https://evil.example",
    "Content-Type": "text/plain;charset=UTF-8",
    "Sec-Fetch-Site": "cross-site",
    "Sec-Fetch-Mode": "no-cors",
    "Sec-Fetch-Dest": "empty",
    "Referer": "https://evil.example/",
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/131.0 Safari/537.36",
}


def _shipments(sim: Simulation) -> int:
    return len(sim.store.shipments("t1"))


def test_a_cross_site_simple_post_over_a_real_socket_changes_nothing(
    admin: AdminFactory, served: Served
) -> None:
    sim, _ = admin()
    with served(sim) as (url, c):
        r = c.post(f"{A}/shipments", params=T, content=SHIPMENT, headers=CROSS_SITE_FETCH)
        assert r.status_code == 403, r.text
        error = r.json()["error"]
        assert error["field"] == "origin" and "evil.example" in error["message"]
        # The same body without the Origin, still text/plain: the body is not JSON.
        plain = {"Content-Type": "text/plain;charset=UTF-8"}
        r = c.post(f"{A}/shipments", params=T, content=SHIPMENT, headers=plain)
        assert r.status_code == 415 and r.json()["error"]["field"] == "content-type"
        # A cross-site HTML form (no CSRF token) and a bodiless cross-site POST.
        form = {**CROSS_SITE_FETCH, "Content-Type": "application/x-www-form-urlencoded"}
        assert c.post(f"{A}/reset", content=b"tenant=t1", headers=form).status_code == 403
        assert c.post(f"{A}/reset", headers={"Origin": "null"}).status_code == 403
        assert _shipments(sim) == 0
        # What a script or test sends is served as before.
        r = c.post(
            f"{A}/shipments",
            params=T,
            content=SHIPMENT,
            headers={"Content-Type": "application/json"},
        )
        assert r.status_code == 201, r.text
        same = {"Origin": url, "Content-Type": "application/json", "Sec-Fetch-Site": "same-origin"}
        r = c.post(f"{A}/shipments", params=T, content=SHIPMENT, headers=same)
        assert r.status_code == 201, r.text
        assert _shipments(sim) == 2


def test_a_rebound_host_name_is_refused_without_a_token(
    admin: AdminFactory, served: Served
) -> None:
    sim, _ = admin()
    with served(sim) as (url, c):
        port = url.rsplit(":", 1)[1]
        r = c.get(f"{A}/requests", headers={"Host": f"rebind.evil.example:{port}"})
        assert r.status_code == 403
        error = r.json()["error"]
        assert error["field"] == "host" and "--admin-host" in error["fix"]
        for name in ("localhost", "127.0.0.1", "127.1.2.3", "[::1]", "app.localhost"):
            assert c.get(f"{A}/health", headers={"Host": f"{name}:{port}"}).status_code == 200
        # Carrier paths answer any Host: clients point any name at the simulator.
        assert c.get("/track/shipment", headers={"Host": "carriers.test"}).status_code != 403


def test_admin_host_names_a_host_and_a_token_lifts_the_host_check(admin: AdminFactory) -> None:
    _, named = admin(admin_hosts=("carriersim.internal",))
    assert named.get(f"{A}/health", headers={"Host": "carriersim.internal:8080"}).status_code == 200
    assert named.get(f"{A}/health", headers={"Host": "other.internal"}).status_code == 403
    _, tokened = admin(admin_token="t")
    auth = {"Authorization": "Bearer t", "Host": "carriersim:8080"}
    assert tokened.get(f"{A}/health", headers=auth).status_code == 200
    # The token does not make a cross-site POST acceptable.
    r = tokened.post(f"{A}/reset", headers={**auth, **CROSS_SITE_FETCH})
    assert r.status_code == 403


def test_a_form_with_the_csrf_token_passes_the_guard(admin: AdminFactory) -> None:
    _, c = admin()
    token = c.app.state.guard.csrf_token()  # type: ignore[attr-defined]
    form = {"Content-Type": "application/x-www-form-urlencoded", "Origin": "http://127.0.0.1"}
    # Past the guard, the JSON API still wants JSON: the error is the body's, not the guard's.
    r = c.post(f"{A}/reset", content=f"{CSRF_FIELD}={token}".encode(), headers=form)
    assert r.status_code == 400 and r.json()["error"]["field"] == "body"
    r = c.post(f"{A}/reset", content=f"{CSRF_FIELD}=forged".encode(), headers=form)
    assert r.status_code == 403 and r.json()["error"]["field"] == CSRF_FIELD
    r = c.post(f"{A}/reset", content=b"a=1", headers=form)
    assert r.status_code == 403 and "needs" in r.json()["error"]["message"]
    # A script posting text sends the token in the header.
    plain = {"Content-Type": "text/plain", CSRF_HEADER: token}
    assert c.post(f"{A}/reset", headers=plain).status_code == 204


def test_every_worker_of_a_server_agrees_on_the_csrf_token() -> None:
    one, other = AdminGuard(None, (), "secret"), AdminGuard(None, (), "secret")
    assert one.csrf_token() == other.csrf_token() != AdminGuard(None, (), "s2").csrf_token()
    assert one.csrf_valid(one.csrf_token()) and not one.csrf_valid(None)
    assert not one.csrf_valid(one.csrf_token()[:-1])


@pytest.mark.parametrize(
    ("name", "loopback"),
    [
        ("localhost", True),
        ("LOCALHOST.", True),
        ("a.b.localhost", True),
        ("127.0.0.1", True),
        ("127.255.0.9", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("localhost.evil.example", False),
        ("10.0.0.1", False),
        ("[::ffff:8.8.8.8]", False),
    ],
)
def test_loopback_names(name: str, loopback: bool) -> None:
    assert is_loopback_name(name) is loopback


def test_serve_admin_host_option_reaches_the_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    args = _parser().parse_args(["serve", "--admin-host", "a.test", "--admin-host", "b.test"])
    assert args.admin_hosts == ["a.test", "b.test"]
    settings = replace(Settings(), admin_hosts=tuple(args.admin_hosts))
    monkeypatch.setenv(SETTINGS_ENV, settings_to_env(settings))
    assert settings_from_env().admin_hosts == ("a.test", "b.test")


def test_the_guard_covers_every_path_under_the_prefix(admin: AdminFactory) -> None:
    """A page mounted later under /__admin (a dashboard) is behind the same guard."""
    _, c = admin()
    r = c.post(f"{A}/ui/anything", headers=CROSS_SITE_FETCH, content=b"x")
    assert r.status_code == 403
