"""A real server on a free port and a real headless Chromium driving the dashboard.

Chromium and its driver are Debian's `chromium` and `chromium-driver`. Without them a local
run skips these tests and says how to install them; under CI (``CI`` set) it fails instead.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from simulator.settings import BUNDLED_SCENARIOS

HOST = "127.0.0.1"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _need_browser() -> None:
    if CHROMIUM and DRIVER:
        return
    message = (
        "the dashboard's browser tests need Chromium and its driver: "
        "apt-get install chromium chromium-driver"
    )
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


ServerFactory = Callable[..., str]


class _ServerFactory:
    """Starts ``carriersim serve`` on free ports, each with its own copy of the scenarios."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.procs: list[subprocess.Popen[bytes]] = []
        self.logs: list[Any] = []

    def __call__(self, *extra: str) -> str:
        library = self.root / "scenarios"
        if not library.exists():
            shutil.copytree(BUNDLED_SCENARIOS, library)
        port = _free_port()
        log = (self.root / f"server-{port}.log").open("w+b")
        self.logs.append(log)
        proc = subprocess.Popen(
            [sys.executable, "-m", "simulator", "serve", "--port", str(port),
             "--scenarios", str(library), "--clock-start", "2026-03-02T15:00:00Z",
             "--log-level", "warning", *extra],
            stdout=subprocess.DEVNULL, stderr=log,
        )  # fmt: skip
        self.procs.append(proc)
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                log.seek(0)
                pytest.fail(f"server exited with {proc.returncode}: {log.read().decode()}")
            try:
                with socket.create_connection((HOST, port), timeout=0.2):
                    return f"http://{HOST}:{port}"
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("server did not listen within 30 s")
                time.sleep(0.05)

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
        for log in self.logs:
            log.close()


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[ServerFactory]:
    """Start a server with options of the test's own (its scenarios under tmp_path)."""
    factory = _ServerFactory(tmp_path)
    yield factory
    factory.stop()


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """One headless Chromium for the session (starting one costs seconds)."""
    _need_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1366,900", "--disable-extensions", "--no-first-run"):  # fmt: skip
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(DRIVER)), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


@pytest.fixture
def browser(chromium: Any, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Any]:
    """The browser, with no cookies left from another test; the final page's screenshot is
    saved in the test's tmp_path."""
    chromium.delete_all_cookies()
    yield chromium
    chromium.save_screenshot(str(tmp_path / f"{request.node.name}.png"))


@pytest.fixture
def tenant(request: pytest.FixtureRequest) -> str:
    """A tenant of its own for each test, so tests can share one server."""
    return "qa-" + request.node.name.removeprefix("test_")[:40].replace("_", "-")


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One server for the tests of a module that need no option of their own."""
    factory = _ServerFactory(tmp_path_factory.mktemp("shared"))
    yield factory()
    factory.stop()
