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


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[ServerFactory]:
    """Start ``carriersim serve`` on a free port with its own copy of the bundled scenarios."""
    procs: list[subprocess.Popen[bytes]] = []
    logs: list[Any] = []

    def start(*extra: str) -> str:
        library = tmp_path / "scenarios"
        if not library.exists():
            shutil.copytree(BUNDLED_SCENARIOS, library)
        port = _free_port()
        log = (tmp_path / f"server-{port}.log").open("w+b")
        logs.append(log)
        proc = subprocess.Popen(
            [sys.executable, "-m", "simulator", "serve", "--port", str(port),
             "--scenarios", str(library), "--clock-start", "2026-03-02T15:00:00Z",
             "--log-level", "warning", *extra],
            stdout=subprocess.DEVNULL, stderr=log,
        )  # fmt: skip
        procs.append(proc)
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

    yield start
    for proc in procs:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    for log in logs:
        log.close()


@pytest.fixture
def browser(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Any]:
    """Headless Chromium; the final page's screenshot is saved in the test's tmp_path."""
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
    try:
        yield driver
    finally:
        shot = tmp_path / f"{request.node.name}.png"
        try:
            driver.save_screenshot(str(shot))
        finally:
            driver.quit()
