"""The pytest plugin, tested the way its users meet it: pytest runs inside pytest (pytester),
against a real server on a loopback socket."""

from __future__ import annotations

import json
import os
import textwrap
from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path

import httpx
import pytest

from simulator.app import build
from simulator.server import ServerThread
from simulator.settings import Settings

# pytester is enabled here rather than in a conftest: pytest refuses `pytest_plugins` in a
# conftest below the top level.
pytest_plugins = ["pytester"]

PLUGIN = "simulator.pytest_plugin"


def _installed() -> bool:
    """Whether the package's pytest11 entry point is installed (``-p simulator.pytest_plugin``
    would then register the module a second time, which pytest refuses)."""
    return any(ep.value == PLUGIN for ep in entry_points(group="pytest11"))


# Inner runs load only what they use (plugin autoloading is off, see `inner`): faster, and
# independent of whatever else is installed.
LOAD = ["-p", "carriersim"] if _installed() else ["-p", PLUGIN]

# Prepended to the inner test files: the UPS flow as a client does it, with the handle's
# credentials and base URL.
PRELUDE = """
from datetime import timedelta

import httpx
import pytest


def track_ups(sim, number):
    login = sim.credentials("ups")
    with httpx.Client(base_url=sim.url("ups"), trust_env=False, timeout=10) as http:
        token = http.post(
            "/security/v1/oauth/token",
            auth=login.basic_auth,
            data={"grant_type": "client_credentials"},
        )
        assert token.status_code == 200, token.text
        headers = {
            "Authorization": "Bearer " + token.json()["access_token"],
            "transId": "plugin-test",
            "transactionSrc": "pytester",
        }
        return http.get(f"/api/track/v1/details/{number}", headers=headers)


def track_dhl(sim, number):
    with httpx.Client(base_url=sim.url("dhl"), trust_env=False, timeout=10) as http:
        return http.get(
            "/track/shipments",
            params={"trackingNumber": number},
            headers={"DHL-API-Key": sim.credentials("dhl").api_key},
        )
"""


@pytest.fixture
def inner(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A pytester whose runs start their own server unless told otherwise."""
    monkeypatch.delenv("CARRIERSIM_URL", raising=False)
    monkeypatch.delenv("CARRIERSIM_ADMIN_TOKEN", raising=False)
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    return pytester


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """Run the inner suite in a fresh interpreter with the plugin loaded."""
    # Strict, as this project's own suite is: a warning anywhere would fail the inner run.
    strict = ["-W", "error", "--strict-markers"]
    return pytester.runpytest_subprocess(
        *LOAD, "-p", "no:cacheprovider", *strict, *args, timeout=60
    )


def write(pytester: pytest.Pytester, source: str, name: str = "test_inner") -> None:
    pytester.makepyfile(**{name: PRELUDE + textwrap.dedent(source)})


def test_shipment_clock_and_journal_against_the_real_server(inner: pytest.Pytester) -> None:
    write(
        inner,
        """
        def test_lost_parcel(sim):
            assert sim.credentials("ups").client_id == sim.tenant
            assert sim.base_urls["ups"] == sim.base_url + "/ups"
            parcel = sim.shipment("ups", "lost-in-transit", start="-1d")
            assert (parcel.carrier, parcel.scenario) == ("ups", "lost-in-transit")
            assert parcel.number.startswith("1Z") and parcel.status == "departed_facility"

            first = track_ups(sim, parcel.number)
            assert first.status_code == 200, first.text
            package = first.json()["trackResponse"]["shipment"][0]["package"][0]
            assert package["trackingNumber"] == parcel.number

            clock = sim.advance("8d")
            assert clock.now >= parcel.now + timedelta(days=8)
            assert sim.inspect(parcel).status == "exception"
            later = track_ups(sim, parcel.number)
            activity = later.json()["trackResponse"]["shipment"][0]["package"][0]["activity"]
            assert len(activity) == len(package["activity"]) + 1

            assert sim.verify(carrier="ups", endpoint="track", number=parcel, at_least=2) == 2
            assert sim.verify(carrier="ups", endpoint="token", at_least=2, at_most=2) == 2
            with pytest.raises(AssertionError, match="received 2 time"):
                sim.verify(carrier="ups", endpoint="track", number=parcel, at_least=3)
            assert [r["status"] for r in sim.requests(carrier="ups")] == [200] * 4
            assert sim.unmatched() == []


        def test_next_event_and_frozen_clock(carriersim):
            frozen = carriersim.freeze("2026-03-02T15:00:00Z")
            assert frozen.frozen and frozen.now.isoformat() == "2026-03-02T15:00:00+00:00"
            parcel = carriersim.shipment("dhl", "delivered-on-time")
            moved = carriersim.next_event(parcel)
            assert moved.visible == parcel.visible + 1
            assert carriersim.now == moved.now > parcel.now
            assert track_dhl(carriersim, parcel.number).status_code == 200
            assert [s.number for s in carriersim.shipments()] == [parcel.number]
        """,
    )
    result = run(inner)
    result.assert_outcomes(passed=2)


def test_each_test_has_its_own_tenant_reset_afterwards(inner: pytest.Pytester) -> None:
    write(
        inner,
        """
        SEEN = []


        def test_first(sim):
            SEEN.append(sim.tenant)
            sim.shipment("ups", "delivered-on-time")
            sim.advance("5d")
            track_ups(sim, "1Z13GNRH1011084424")
            assert sim.clock().follows_server is False


        def test_second(sim):
            first = SEEN[0]
            assert sim.tenant != first
            assert "main" in sim.tenant and "test-second" in sim.tenant
            assert sim.shipments() == [] and sim.requests() == []
            assert sim.clock().follows_server is True
            # The first test's tenant was reset when it ended.
            assert sim.server.call("GET", "/shipments", tenant=first) == []
            assert sim.server.call("GET", "/requests", tenant=first) == []
        """,
    )
    run(inner).assert_outcomes(passed=2)


SCENARIO = """\
name: plugin-incident
description: A parcel from a QA incident report, picked up and then delivered.
service: ground
route: {origin: US, destination: US, hubs: 1}
events:
  - {at: 0h, kind: label_created}
  - {at: 5h, kind: picked_up}
  - {at: 1d, kind: delivered}
"""


def test_settings_and_scenarios_are_overridden_in_a_conftest(inner: pytest.Pytester) -> None:
    (inner.path / "incidents").mkdir()
    (inner.path / "incidents" / "plugin-incident.yaml").write_text(SCENARIO)
    inner.makeconftest(
        """
        from dataclasses import replace
        from datetime import UTC, datetime
        from pathlib import Path

        import pytest


        @pytest.fixture(scope="session")
        def carriersim_scenarios():
            return [Path(__file__).parent / "incidents"]


        @pytest.fixture(scope="session")
        def carriersim_settings(carriersim_settings):
            return replace(carriersim_settings, clock_start=datetime(2026, 3, 2, 15, tzinfo=UTC))
        """
    )
    write(
        inner,
        """
        from simulator.pytest_plugin import CarriersimAdminError


        def test_only_the_incident_is_served(sim):
            assert sim.server.owned
            assert sim.now.year == 2026 and (sim.now.month, sim.now.day) == (3, 2)
            parcel = sim.shipment("fedex", "plugin-incident", start="-6h")
            assert parcel.status == "picked_up"
            with pytest.raises(CarriersimAdminError, match="no scenario named"):
                sim.shipment("ups", "lost-in-transit")
        """,
    )
    run(inner).assert_outcomes(passed=1)


def test_marker_creates_shipments_and_tenant_faults(inner: pytest.Pytester) -> None:
    write(
        inner,
        """
        FAULT = {"kind": "http_error", "status": 503, "match": {"carrier": "dhl"},
                 "when": {"first": 1}}


        @pytest.mark.carriersim(
            "delivered-on-time", carrier=["ups", "dhl"], start="-1d", freeze=True,
            faults=[FAULT],
        )
        def test_marked(sim):
            assert sorted(sim.parcels) == ["dhl", "ups"]
            assert sim.parcel is sim.parcels["ups"]
            assert sim.parcel.status == "departed_facility"
            assert sim.clock().frozen
            assert [f["match"]["tenant"] for f in sim.faults] == [sim.tenant]
            assert [f["match"]["endpoint"] for f in sim.faults] == ["track"]
            number = sim.parcels["dhl"].number
            assert track_dhl(sim, number).status_code == 503
            assert track_dhl(sim, number).status_code == 200


        def test_later_tests_meet_no_fault(sim):
            assert sim.server.call("GET", "/faults") == []
            added = sim.fault("http_error", status=429, carrier="dhl", when={"first": 1})
            assert added["match"] == {
                "carrier": "dhl", "endpoint": "track", "number": None, "tenant": sim.tenant
            }
            parcel = sim.shipment("dhl", "delivered-on-time")
            assert track_dhl(sim, parcel.number).status_code == 429
            with pytest.raises(LookupError, match="no marker shipment"):
                sim.parcel


        @pytest.mark.carriersim("delivered-on-time", start="-3d", faults=[
            {"kind": "http_error", "status": 503, "when": {"first": 1}},
            {"kind": "http_error", "status": 500, "match": {"endpoint": "token"},
             "when": {"first": 1}},
            {"kind": "latency", "ms": 1, "match": {"endpoint": None}},
        ])
        def test_marker_faults_match_tracking_unless_told(sim):
            assert [f["match"]["endpoint"] for f in sim.faults] == ["track", "token", None]
            with httpx.Client(base_url=sim.url("ups"), trust_env=False) as http:
                refused = http.post("/security/v1/oauth/token", auth=sim.credentials().basic_auth,
                                    data={"grant_type": "client_credentials"})
                assert refused.status_code == 500
            assert track_ups(sim, sim.parcel.number).status_code == 503  # token, then 503
            assert track_ups(sim, sim.parcel.number).status_code == 200


        @pytest.mark.carriersim("out-for-delivery")
        def test_marked_without_naming_the_fixture(request):
            # The marker alone set the tenant up; the fixture is the one it made.
            assert request.getfixturevalue("carriersim").parcel.scenario == "out-for-delivery"


        @pytest.mark.carriersim(scenarios="typo")
        def test_bad_marker(sim):
            pass
        """,
    )
    result = run(inner)
    result.assert_outcomes(passed=4, errors=1)
    result.stdout.fnmatch_lines(["*unknown argument(s) scenarios; it takes scenario, carrier*"])


@pytest.fixture(scope="module")
def outer_server() -> Iterator[ServerThread]:
    """A server the outer test started, for the inner run to attach to."""
    with ServerThread(build(Settings())) as server:
        yield server


@pytest.mark.parametrize("how", ["option", "env"])
def test_attaches_to_a_running_server(
    inner: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    outer_server: ServerThread,
    how: str,
) -> None:
    write(
        inner,
        f"""
        def test_attached(sim):
            assert not sim.server.owned and sim.base_url == {outer_server.url!r}
            parcel = sim.shipment("ups", "out-for-delivery")
            assert track_ups(sim, parcel.number).status_code == 200
            sim.verify(carrier="ups", endpoint="track", number=parcel)
            print("TENANT", sim.tenant)
        """,
    )
    admin = httpx.Client(base_url=f"{outer_server.url}/__admin", trust_env=False)
    with admin:
        # Another tenant of the same server, whose state the inner run must leave alone.
        neighbour = {"tenant": f"neighbour-{how}"}
        theirs = admin.post(
            "/shipments", params=neighbour, json={"carrier": "dhl", "scenario": "damaged"}
        ).json()["number"]
        if how == "env":
            monkeypatch.setenv("CARRIERSIM_URL", outer_server.url)
            result = run(inner, "-s")
        else:
            result = run(inner, "-s", "--carriersim-url", outer_server.url + "/")
        result.assert_outcomes(passed=1)
        result.stdout.fnmatch_lines([f"carriersim: attached to {outer_server.url}"])
        tenant = next(line.split()[-1] for line in result.outlines if "TENANT " in line)
        # The inner tenant lived on the outer server and was reset when its test ended.
        for what in ("/shipments", "/requests"):
            assert admin.get(what, params={"tenant": tenant}).json() == []
        kept = admin.get("/shipments", params=neighbour).json()
        assert [s["number"] for s in kept] == [theirs]


def test_attaching_to_nothing_says_so(inner: pytest.Pytester) -> None:
    write(inner, "def test_attached(sim):\n    pass\n")
    result = run(inner, "--carriersim-url", "http://127.0.0.1:9")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*carriersim: nothing answers at http://127.0.0.1:9*"])


def test_a_failing_test_reports_the_journals_near_miss_hints(inner: pytest.Pytester) -> None:
    write(
        inner,
        """
        def test_typo(sim):
            parcel = sim.shipment("ups", "delivered-on-time", start="-1d")
            last = parcel.number[-1]
            typo = parcel.number[:-1] + ("1" if last == "0" else "0")
            r = track_ups(sim, typo)
            assert "TW0001" not in r.text, "UPS did not find the parcel"


        def test_passes(sim):
            track_ups(sim, "1Z13GNRH1011084424")
        """,
    )
    result = run(inner)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*- carriersim: journal of this test's tenant -*",
            "tenant pytest-*-main-0001-test-typo on http://127.0.0.1:*",
            "unmatched requests (1), with near-miss hints:",
            "  GET /ups/api/track/v1/details/1Z* -> 200 [[]ups track[]]",
            "    - 1Z* is one character away from 1Z* (UPS): a typo?",
            "requests received (2):",
            "  POST /ups/security/v1/oauth/token -> 200 [[]ups token[]]",
        ]
    )
    # Only the failed test gets the section.
    assert result.stdout.str().count("journal of this test's tenant") == 1


def test_xdist_workers_each_start_a_server(inner: pytest.Pytester, tmp_path: Path) -> None:
    pytest.importorskip("xdist")
    out = tmp_path / "seen"
    out.mkdir()
    write(
        inner,
        f"""
        import json, os, pathlib


        @pytest.mark.parametrize("n", range(6))
        def test_record(sim, n):
            parcel = sim.shipment("ups", "delivered-on-time")
            assert track_ups(sim, parcel.number).status_code == 200
            seen = dict(worker=os.environ["PYTEST_XDIST_WORKER"], url=sim.base_url,
                        tenant=sim.tenant)
            pathlib.Path({str(out)!r}, f"{{n}}.json").write_text(json.dumps(seen))
        """,
    )
    run(inner, "-p", "xdist", "-n", "2").assert_outcomes(passed=6)
    seen = [json.loads(p.read_text()) for p in out.iterdir()]
    workers = {s["worker"] for s in seen}
    assert workers == {"gw0", "gw1"}
    urls = {w: {s["url"] for s in seen if s["worker"] == w} for w in workers}
    assert all(len(u) == 1 for u in urls.values()), "one server per worker"
    assert urls["gw0"] != urls["gw1"]
    assert len({s["tenant"] for s in seen}) == 6
    assert all(f"-{s['worker']}-" in s["tenant"] for s in seen)


def test_loads_through_a_pytest11_entry_point(
    inner: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A stand-in distribution declaring the entry point the package will declare.
    dist = tmp_path / "site" / "carriersim_entry_point-0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: carriersim-entry-point\nVersion: 0\n"
    )
    (dist / "entry_points.txt").write_text(f"[pytest11]\ncarriersim = {PLUGIN}\n")
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join([str(dist.parent), os.environ.get("PYTHONPATH", "")])
    )
    monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    write(
        inner,
        """
        @pytest.mark.carriersim("out-for-delivery", carrier="usps")
        def test_by_entry_point(sim):
            assert sim.parcel.carrier == "usps"
        """,
    )
    result = inner.runpytest_subprocess("-p", "no:cacheprovider", "-W", "error", "--strict-markers")
    result.assert_outcomes(passed=1)


def test_attaching_to_a_guarded_server_asks_for_its_token(inner: pytest.Pytester) -> None:
    # Its health check needs no token (liveness), so the plugin must tell the two apart.
    write(inner, "def test_attached(sim):\n    assert sim.shipment('ups', 'damaged').number\n")
    with ServerThread(build(Settings(admin_token="s3cret"))) as guarded:
        without = run(inner, "--carriersim-url", guarded.url)
        without.assert_outcomes(errors=1)
        without.stdout.fnmatch_lines(["*wants its admin token; pass --carriersim-admin-token*"])
        token = ["--carriersim-admin-token", "s3cret"]
        run(inner, "--carriersim-url", guarded.url, *token).assert_outcomes(passed=1)
