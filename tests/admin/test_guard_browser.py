"""A real browser on a page of another origin cannot drive the admin API.

Headless Chromium opens a page served from another loopback port (another origin) whose
script sends the cross-site request any web page can send without a preflight: a ``no-cors``
``fetch`` POST with a ``text/plain`` JSON body. The simulator must see that request (so the
test proves something), refuse it, and create nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from simulator.app import create_app
from simulator.server import ServerThread
from tests.admin.conftest import AdminFactory


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is required in CI (.ci/run installs it with apt-get)")
        pytest.skip("needs a headless browser: apt-get install chromium")
    return found


class Recorder:
    """The app, noting each request's method, path, headers and answer."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: list[tuple[str, str, dict[str, str], int]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = [0]

        async def noting(message: Any) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        await self.app(scope, receive, noting)
        headers = {k.decode(): v.decode("latin-1") for k, v in scope["headers"]}
        self.seen.append((scope["method"], scope["path"], headers, status[0]))


def _attack_page(target: str) -> Starlette:
    script = f"""
      const body = JSON.stringify({{carrier: "ups", scenario: "damaged"}});
      fetch("{target}/__admin/shipments?tenant=t1",
            {{method: "POST", mode: "no-cors", headers: {{"Content-Type": "text/plain"}}, body}})
        .catch(() => null)
        .finally(() => fetch("/done"));
    """
    page = f"<!doctype html><title>evil</title><script>{script}</script>"
    done: list[bool] = []

    async def index(request: Any) -> Response:
        return HTMLResponse(page)

    async def finished(request: Any) -> Response:
        done.append(True)
        return Response("ok")

    app = Starlette(routes=[Route("/", index), Route("/done", finished)])
    app.state.done = done
    return app


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    exe = _chromium()
    started: list[subprocess.Popen[bytes]] = []

    def open_page(url: str) -> None:
        started.append(
            subprocess.Popen(
                [
                    exe,
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-dev-shm-usage",
                    "--no-first-run",
                    f"--user-data-dir={tmp_path / 'profile'}",
                    url,
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )

    yield open_page
    for process in started:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def test_a_page_of_another_origin_in_a_real_browser_changes_nothing(
    admin: AdminFactory, browser: Any
) -> None:
    sim, _ = admin()
    recorder = Recorder(create_app(sim))
    with ServerThread(recorder) as target:
        attack = _attack_page(target.url)
        with ServerThread(attack) as evil:
            browser(f"{evil.url}/")
            deadline = time.monotonic() + 60
            while not attack.state.done and time.monotonic() < deadline:
                time.sleep(0.1)
    assert attack.state.done, "the browser never ran the page's script"
    posts = [s for s in recorder.seen if s[0] == "POST" and s[1] == "/__admin/shipments"]
    assert posts, f"the browser's request never reached the simulator: {recorder.seen}"
    _, _, headers, status = posts[0]
    assert headers.get("origin") == evil.url
    assert headers.get("content-type", "").startswith("text/plain")
    assert status == 403
    assert sim.store.shipments("t1") == []
