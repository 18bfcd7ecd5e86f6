"""The dashboard in a real browser, against a real server: what a QA engineer clicks."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from simulator.probe import ask

WAIT = 15.0


def wait_for(check: Callable[[], Any], what: str, timeout: float = WAIT) -> Any:
    """Poll ``check`` until it returns something truthy; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            got = check()
        except Exception:  # the element is not there yet, or went stale mid-read
            got = None
        if got:
            return got
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.1)


def css(driver: Any, selector: str) -> Any:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, selector)


def all_css(driver: Any, selector: str) -> list[Any]:
    from selenium.webdriver.common.by import By

    return list(driver.find_elements(By.CSS_SELECTOR, selector))


def choose(driver: Any, selector: str, text: str) -> None:
    from selenium.webdriver.support.ui import Select

    Select(css(driver, selector)).select_by_visible_text(text)


def submit(driver: Any, button: Any) -> None:
    """Press a form's button and wait for the page the post leads to."""
    driver.execute_script("window.__oldPage = true;")
    button.click()
    wait_for(
        lambda: driver.execute_script(
            "return !window.__oldPage && document.readyState === 'complete';"
        ),
        "the page after the post",
    )


def track(base: str, tenant: str, carrier: str, number: str) -> httpx.Response:
    import asyncio

    async def go() -> httpx.Response:
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            return await ask(http, carrier, number, tenant)

    return asyncio.run(go())


def open_tenant(driver: Any, base: str, tenant: str) -> None:
    driver.get(f"{base}/__admin/ui/tenant?tenant={tenant}")
    wait_for(lambda: css(driver, "h1").text.startswith("Tenant"), "the tenant page")


def create(driver: Any, carrier: str, scenario: str) -> str:
    choose(driver, "#create-carrier", carrier)
    choose(driver, "#create-scenario", scenario)
    submit(driver, css(driver, "form.create button"))
    row = wait_for(lambda: all_css(driver, "#parcels tbody tr"), "the created parcel's row")[0]
    return str(row.get_attribute("data-number"))


def test_overview_lists_a_tenant_and_opens_its_page(
    shared_server: str, browser: Any, tenant: str
) -> None:
    base = shared_server
    assert track(base, tenant, "ups", "1ZY1PMRS0113639240").status_code == 200
    browser.get(f"{base}/__admin/ui")
    links = wait_for(lambda: all_css(browser, "#tenants a"), "the tenants table")
    [link] = [a for a in links if a.text == tenant]
    submit(browser, link)
    wait_for(lambda: tenant in css(browser, "h1").text, "the tenant page")
    # The number it tracked is listed with its status and a timeline picture.
    row = css(browser, '#parcels tr[data-number="1ZY1PMRS0113639240"]')
    assert row.find_element("css selector", "svg.timeline")


def test_create_a_shipment_then_advance_to_its_next_event(
    shared_server: str, browser: Any, tenant: str
) -> None:
    base = shared_server
    open_tenant(browser, base, tenant)
    submit(browser, css(browser, ".forms form[action$='/do/freeze'] button"))
    assert "frozen" in css(browser, ".clock").text
    number = create(browser, "fedex", "delivered-on-time")
    row = css(browser, f'#parcels tr[data-number="{number}"]')
    seen_before = len(row.find_elements("css selector", "circle.event.seen"))
    status_before = row.get_attribute("data-status")
    submit(browser, row.find_element("css selector", "button[aria-label*='next event']"))
    row = css(browser, f'#parcels tr[data-number="{number}"]')
    assert len(row.find_elements("css selector", "circle.event.seen")) == seen_before + 1
    # Keep pressing until the parcel is delivered: the pill and the band follow the clock.
    for _ in range(20):
        if row.get_attribute("data-status") == "delivered":
            break
        submit(browser, row.find_element("css selector", "button[aria-label*='next event']"))
        row = css(browser, f'#parcels tr[data-number="{number}"]')
    assert status_before != "delivered"
    assert row.get_attribute("data-status") == "delivered"
    assert "delivered" in row.find_element("css selector", ".pill").text
    # And the tracking API says so too.
    body = track(base, tenant, "fedex", number).json()
    assert "Delivered" in str(body)


def test_parcel_page_shows_the_bytes_the_api_sends_now_and_next(
    shared_server: str, browser: Any, tenant: str
) -> None:
    base = shared_server
    open_tenant(browser, base, tenant)
    number = create(browser, "ups", "delivered-on-time")
    css(browser, f'#parcels tr[data-number="{number}"] a').click()
    now = wait_for(lambda: css(browser, "#answer-now").text, "the answer now")
    later = css(browser, "#answer-next").text
    assert number in now and number in later
    api = track(base, tenant, "ups", number).json()
    assert api["trackResponse"]["shipment"][0]["package"][0]["trackingNumber"] == number
    assert now != later  # the next event changes what UPS answers


def test_a_tracking_request_appears_in_the_live_journal_without_reloading(
    shared_server: str, browser: Any, tenant: str
) -> None:
    base = shared_server
    open_tenant(browser, base, tenant)
    browser.execute_script("window.__sameDocument = 'yes';")
    assert track(base, tenant, "usps", "9335772258433521815278").status_code == 200
    wait_for(
        lambda: any("9335772258433521815278" in r.text for r in all_css(browser, "#journal tr")),
        "the USPS request in the live journal",
    )
    assert browser.execute_script("return window.__sameDocument;") == "yes"


def test_an_unmatched_request_is_shown_with_its_hint(
    shared_server: str, browser: Any, tenant: str
) -> None:
    base = shared_server
    # UPS's token path under /api is the classic trap: no such endpoint.
    httpx.post(
        f"{base}/api/security/v1/oauth/token",
        auth=(tenant, "secret"),
        data={"grant_type": "client_credentials"},
    )
    open_tenant(browser, base, tenant)
    hints = wait_for(lambda: all_css(browser, "#unmatched .hint"), "a near-miss hint")
    assert any("/security/v1/oauth/token" in h.text for h in hints)


def test_a_form_error_is_shown_next_to_its_field(
    shared_server: str, browser: Any, tenant: str
) -> None:
    base = shared_server
    open_tenant(browser, base, tenant)
    field = css(browser, "#by")
    field.clear()
    field.send_keys("soon")
    submit(browser, css(browser, ".forms form[action$='/do/advance'] button"))
    error = wait_for(lambda: css(browser, "#err-by"), "the error next to 'Advance by'")
    assert "not a duration" in error.text
    assert css(browser, "#by").get_attribute("aria-describedby") == "err-by"


def test_a_broken_scenario_under_reload_is_shown_while_tracking_goes_on(
    start_server: Any, browser: Any, tenant: str, tmp_path: Path
) -> None:
    base = start_server("--reload")
    target = tmp_path / "scenarios" / "delivered-on-time.yaml"
    target.write_text(target.read_text() + "\nevents: [this is not an event\n")
    browser.get(f"{base}/__admin/ui/scenarios")
    error = wait_for(
        lambda: (browser.refresh() or True) and css(browser, "#reload-error"),
        "the reload error on the scenarios page",
        timeout=30,
    )
    assert re.search(r"delivered-on-time\.yaml:\d+", error.text), error.text
    assert track(base, tenant, "ups", "1ZY1PMRS0113639240").status_code == 200


def test_a_token_protected_server_refuses_the_page_without_its_token(
    start_server: Any, browser: Any
) -> None:
    base = start_server("--admin-token", "s3cret-token")
    browser.get(f"{base}/__admin/ui/")
    assert "Not allowed" in wait_for(lambda: css(browser, "h1").text, "the refusal")
    assert "Tenants" not in browser.title
    browser.get(f"{base}/__admin/ui/?token=s3cret-token")
    wait_for(lambda: css(browser, "h1").text == "Tenants", "the overview once the token is given")
    assert "token" not in browser.current_url  # the token left the address bar
    browser.get(f"{base}/__admin/ui/scenarios")
    assert css(browser, "h1").text == "Scenarios"  # the cookie keeps the browser in
