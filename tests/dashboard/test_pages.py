"""The dashboard's pages in-process: what they show, and what they refuse."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime

import httpx
import pytest
from starlette.testclient import TestClient

from simulator.dashboard import picture
from simulator.dashboard.preview import _request, preview
from simulator.scenario import EventKind
from tests.conftest import SimFactory

UI = "/__admin/ui"


def _csrf(c: TestClient, tenant: str) -> str:
    page = c.get(f"{UI}/tenant", params={"tenant": tenant})
    assert page.status_code == 200
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found
    return found.group(1)


def _made(c: TestClient, tenant: str, carrier: str, scenario: str = "delivered-on-time") -> str:
    made = c.post(
        "/__admin/shipments",
        params={"tenant": tenant},
        json={"carrier": carrier, "scenario": scenario},
    )
    assert made.status_code == 201, made.text
    return str(made.json()["number"])


@pytest.mark.parametrize("carrier", ["ups", "fedex", "usps", "dhl"])
def test_the_preview_is_what_the_api_answers_at_that_instant(
    make_sim: SimFactory, carrier: str
) -> None:
    sim, c = make_sim()
    number = _made(c, "pv", carrier)
    c.post("/__admin/clock/freeze", params={"tenant": "pv"}, json={"at": "2026-03-03T18:00:00Z"})
    now = sim.clock.now("pv")

    async def both() -> tuple[str, httpx.Response]:
        shown = await preview(sim, carrier, "pv", number, now)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=c.app)) as http:
            served = await http.send(_request(sim, carrier, "pv", number, now))
        return shown.body, served

    shown, served = asyncio.run(both())
    assert served.status_code == 200
    assert httpx.Response(200, content=shown.encode()).json() == served.json()


def test_a_preview_fires_no_fault_and_is_not_journaled(make_sim: SimFactory) -> None:
    sim, c = make_sim()
    number = _made(c, "quiet", "ups")
    c.post(
        "/__admin/faults", params={"tenant": "quiet"}, json={"kind": "http_error", "status": 503}
    )
    before = len(c.get("/__admin/requests", params={"tenant": "quiet"}).json())
    shown = asyncio.run(preview(sim, "ups", "quiet", number, sim.clock.now("quiet")))
    assert shown.status == 200 and number in shown.body
    assert len(c.get("/__admin/requests", params={"tenant": "quiet"}).json()) == before


def test_a_form_post_without_the_csrf_token_is_refused(make_sim: SimFactory) -> None:
    _, c = make_sim()
    refused = c.post(f"{UI}/do/reset", data={"tenant": "x"})
    assert refused.status_code == 403 and "CSRF" in refused.text
    csrf = _csrf(c, "x")
    foreign = c.post(
        f"{UI}/do/freeze",
        data={"tenant": "x", "csrf_token": csrf},
        headers={"Origin": "http://evil.example"},
    )
    assert foreign.status_code == 403
    assert c.get("/__admin/clock", params={"tenant": "x"}).json()["frozen"] is False
    done = c.post(
        f"{UI}/do/freeze", data={"tenant": "x", "csrf_token": csrf}, follow_redirects=False
    )
    assert done.status_code == 303
    assert c.get("/__admin/clock", params={"tenant": "x"}).json()["frozen"] is True


def test_an_admin_error_is_shown_next_to_the_field_that_caused_it(make_sim: SimFactory) -> None:
    _, c = make_sim()
    csrf = _csrf(c, "e")
    page = c.post(
        f"{UI}/do/add-fault",
        data={"tenant": "e", "csrf_token": csrf, "kind": "http_error", "params": "status: 999"},
    )
    assert page.status_code == 400
    assert re.search(r'id="err-status">[^<]*400, 401', page.text)
    # What the user typed stays in the form.
    assert 'value="status: 999"' in page.text
    assert c.get("/__admin/faults", params={"tenant": "e"}).json() == []


def test_the_fault_form_adds_a_fault_for_the_tenant_only(make_sim: SimFactory) -> None:
    _, c = make_sim()
    csrf = _csrf(c, "f")
    c.post(
        f"{UI}/do/add-fault",
        data={
            "tenant": "f", "csrf_token": csrf, "kind": "http_error", "params": "status: 503",
            "carrier": "ups", "endpoint": "track", "lifetime": "first", "lifetime_value": "2",
        },
    )  # fmt: skip
    [fault] = c.get("/__admin/faults", params={"tenant": "f"}).json()
    match = {k: v for k, v in fault["match"].items() if v is not None}
    assert match == {"carrier": "ups", "endpoint": "track", "tenant": "f"}
    assert fault["when"]["first"] == 2 and fault["fault"]["status"] == 503
    assert c.get("/__admin/faults", params={"tenant": "other"}).json() == []


def test_next_event_moves_a_default_mix_parcel_too(make_sim: SimFactory) -> None:
    sim, c = make_sim()
    number = "1ZY1PMRS0113639240"  # declared by out-for-delivery
    shipment = sim.lookup("ups", number, "m")
    assert shipment is not None
    c.post("/__admin/clock/freeze", params={"tenant": "m"}, json={"at": "2026-03-01T00:00:00Z"})
    upcoming = shipment.next_change(sim.clock.now("m"))
    assert upcoming is not None
    csrf = _csrf(c, "m")
    c.post(
        f"{UI}/do/next",
        data={"tenant": "m", "csrf_token": csrf, "carrier": "ups", "number": number},
    )
    assert sim.clock.now("m") == upcoming.timestamp()


def test_a_token_protected_dashboard_needs_the_token(make_sim: SimFactory) -> None:
    _, c = make_sim(admin_token="t0ken")
    assert c.get(f"{UI}/").status_code == 401
    assert c.get(f"{UI}/?token=wrong").status_code == 401
    entered = c.get(f"{UI}/?token=t0ken", follow_redirects=False)
    assert entered.status_code == 303 and "token" not in entered.headers["location"]
    assert "httponly" in entered.headers["set-cookie"].lower()
    assert c.get(f"{UI}/").status_code == 200  # the cookie
    c.cookies.clear()
    assert c.get(f"{UI}/", headers={"Authorization": "Bearer t0ken"}).status_code == 200
    # A form post with the page's CSRF token but without the token's cookie is refused too.
    page = c.get(f"{UI}/tenant", params={"tenant": "x"}, headers={"Authorization": "Bearer t0ken"})
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf
    c.post("/__admin/clock/freeze?tenant=x", json={}, headers={"Authorization": "Bearer t0ken"})
    refused = c.post(f"{UI}/do/reset", data={"tenant": "x", "csrf_token": csrf.group(1)})
    assert refused.status_code == 401
    clock = c.get("/__admin/clock?tenant=x", headers={"Authorization": "Bearer t0ken"}).json()
    assert clock["frozen"] is True  # the reset did not happen


def test_a_tenant_with_fifty_parcels_lists_each_with_its_picture(make_sim: SimFactory) -> None:
    _, c = make_sim()
    made = {_made(c, "busy", ("ups", "fedex", "usps", "dhl")[i % 4]) for i in range(50)}
    page = c.get(f"{UI}/tenant", params={"tenant": "busy"})
    listed = set(re.findall(r'<tr data-number="([^"]+)"', page.text))
    assert listed == made
    assert page.text.count('<svg class="timeline"') == 50


def test_a_timeline_picture_draws_what_is_seen_and_what_is_to_come() -> None:
    t = datetime(2026, 3, 2, tzinfo=UTC).timestamp()
    marks = [
        picture.Mark(t, EventKind.label_created, "label created", True),
        picture.Mark(t + 3600, EventKind.picked_up, "picked up", True),
        picture.Mark(t + 7200, EventKind.exception, "exception (weather)", False),
        picture.Mark(t + 9000, EventKind.delivered, "delivered", False),
    ]
    svg = picture.timeline_svg(marks, t + 5000, title="p")
    assert svg.count('class="event seen"') == 2
    assert svg.count('class="event coming"') == 2
    assert svg.count('class="exception-mark"') == 1
    assert svg.count('class="band s-') == 4
    now_x = float(re.search(r'class="now" x1="([\d.]+)"', svg).group(1))  # type: ignore[union-attr]
    xs = [float(x) for x in re.findall(r'<circle class="event \w+" cx="([\d.]+)"', svg)]
    assert xs == sorted(xs) and xs[1] < now_x < xs[2]
    # A clock long past the parcel keeps the "now" line at the picture's edge.
    late = picture.timeline_svg(marks, t + 10**9)
    assert "now (after)" in late
