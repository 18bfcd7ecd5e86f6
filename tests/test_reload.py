"""Live reload: a change to a scenario file takes effect without a restart; a broken file is
reported (file, line, field) and the last good version keeps serving."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from simulator import reload
from simulator.app import create_app
from simulator.control import Control
from simulator.engine import Simulation
from simulator.loader import load_paths
from simulator.settings import Settings
from tests.conftest import EPOCH
from tests.processes import HOST, serving

UPS_NUMBER = "1ZV9MR388173653159"

SCENARIO = """\
name: reload-probe
description: {description}
service: ground
route: {{origin: US, destination: US, hubs: 1}}
start: -2d
numbers:
  ups: ["{number}"]
events:
  - {{at: 0h, kind: label_created}}
  - {{at: 5h, kind: picked_up}}
  - {{at: 1d, kind: {last}}}
"""
BROKEN_LINE = 11
"""The line of ``events[2]`` in :data:`SCENARIO`."""


def write(path: Path, description: str, last: str = "in_transit") -> None:
    """Replace the scenario file in one step, as an editor's save does."""
    text = SCENARIO.format(description=description, last=last, number=UPS_NUMBER)
    partial = path.with_suffix(".tmp")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"within {seconds} s: {what}")
        time.sleep(0.05)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A scenario folder holding the first version of one scenario."""
    root = tmp_path / "scenarios"
    root.mkdir()
    write(root / "probe.yaml", "first version")
    return root


@pytest.fixture
def control(folder: Path) -> Control:
    """The control object of an app whose simulation serves ``folder``."""
    settings = Settings(scenario_paths=(folder,), clock_start=EPOCH)
    app = create_app(Simulation(settings, load_paths(settings.scenario_paths)))
    found: Control = app.state.control
    return found


def description(control: Control) -> str:
    """The description the served reload-probe scenario has."""
    (only,) = control.scenarios()
    text: str = only["description"]
    return text


def last_kind(control: Control) -> str:
    """The last event kind of the shipment the declared UPS number plays."""
    shipment = control.sim.lookup("ups", UPS_NUMBER, "anyone")
    assert shipment is not None
    return shipment.events[-1].kind.value


def ups_status(client: TestClient) -> str:
    """The current UPS status of the declared number, over HTTP."""
    basic = base64.b64encode(b"qa:secret").decode()
    token = client.post(
        "/security/v1/oauth/token",
        headers={"Authorization": f"Basic {basic}"},
        data={"grant_type": "client_credentials"},
    ).json()["access_token"]
    r = client.get(
        f"/api/track/v1/details/{UPS_NUMBER}",
        headers={"Authorization": f"Bearer {token}", "transId": "r1", "transactionSrc": "t"},
    )
    assert r.status_code == 200, r.text
    text: str = r.json()["trackResponse"]["shipment"][0]["package"][0]["currentStatus"][
        "description"
    ]
    return text


def test_reload_once_applies_a_change(control: Control, folder: Path) -> None:
    messages: list[str] = []
    with TestClient(control.app, base_url="http://127.0.0.1") as client:
        before = ups_status(client)
        assert last_kind(control) == "in_transit"
        write(folder / "probe.yaml", "second version", last="delivered")
        assert reload.reload_once(control, messages.append)
        assert messages == ["reloaded 1 scenario(s)"]
        assert description(control) == "second version"
        # Tracking plays the new version at once: no stale lookup or rendered body.
        assert last_kind(control) == "delivered"
        assert ups_status(client) != before


def test_a_broken_file_is_reported_and_the_last_good_version_serves(
    control: Control, folder: Path
) -> None:
    messages: list[str] = []
    path = folder / "probe.yaml"
    write(path, "broken version", last="deliverd")
    assert not reload.reload_once(control, messages.append)
    (message,) = messages
    assert f"{path}:{BROKEN_LINE}: events[2].kind:" in message
    assert "'deliverd'" in message and "delivered" in message  # the fix is suggested
    assert "still serving the last good version" in message
    assert description(control) == "first version"
    assert last_kind(control) == "in_transit"
    assert control.health()["last_reload_error"] is not None
    # Fixed, it is served, and the error is gone.
    write(path, "fixed version")
    assert reload.reload_once(control, messages.append)
    assert description(control) == "fixed version"
    assert control.health()["last_reload_error"] is None


def test_a_yaml_syntax_error_names_its_line(control: Control, folder: Path) -> None:
    messages: list[str] = []
    (folder / "probe.yaml").write_text("name: reload-probe\nevents: [\n", encoding="utf-8")
    assert not reload.reload_once(control, messages.append)
    assert f"{folder / 'probe.yaml'}:3: YAML syntax" in messages[0]
    assert description(control) == "first version"


def test_the_watcher_applies_changes_without_a_restart(control: Control, folder: Path) -> None:
    messages: list[str] = []
    path = folder / "probe.yaml"
    stop = reload.start(control, [folder], messages.append, debounce_ms=50)
    try:
        write(path, "second version")
        wait_for(lambda: description(control) == "second version", 10, "the edit is served")
        write(path, "broken version", last="deliverd")
        wait_for(
            lambda: any("events[2].kind" in m for m in messages), 10, "the problem is reported"
        )
        assert description(control) == "second version"
        write(path, "third version", last="delivered")
        wait_for(lambda: description(control) == "third version", 10, "the fix is served")
        assert last_kind(control) == "delivered"
        # A new file in the folder is a new scenario.
        extra = (folder / "probe.yaml").read_text().replace("reload-probe", "second-probe")
        (folder / "second.yaml").write_text(extra.replace(UPS_NUMBER, "1Z7RU4D56665042720"))
        wait_for(lambda: len(control.scenarios()) == 2, 10, "the new file is served")
    finally:
        stop()


def test_the_watcher_ignores_files_that_are_not_scenarios(control: Control, folder: Path) -> None:
    messages: list[str] = []
    (folder / "nested").mkdir()
    stop = reload.start(control, [folder], messages.append, debounce_ms=50)
    try:
        # Not scenarios: other suffixes, and files in sub-folders (the loader does not
        # recurse either).
        (folder / "notes.txt").write_text("not a scenario")
        (folder / "nested" / "x.yaml").write_text("not: loaded")
        time.sleep(0.6)  # ample for the watcher (50 ms debounce) to have acted
        assert messages == []
        write(folder / "probe.yaml", "second version")  # still watching
        wait_for(lambda: messages == ["reloaded 1 scenario(s)"], 10, "the edit is reloaded")
    finally:
        stop()


# ------------------------------------------------------------------ carriersim serve --reload


@pytest.fixture
def served(folder: Path, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """``carriersim serve --reload`` on ``folder``, on a free port: (base URL, stderr log)."""
    log_path = tmp_path / "stderr.log"
    args = ["--reload", "--scenarios", str(folder), "--no-bundled", "--log-level", "warning"]
    with serving(args, log_path, env={"CARRIERSIM_SECRET": "reload-test"}) as port:
        yield f"http://{HOST}:{port}", log_path


def test_serve_reload_as_a_process(served: tuple[str, Path], folder: Path) -> None:
    base, log = served
    path = folder / "probe.yaml"

    def served_scenarios() -> list[dict[str, Any]]:
        r = httpx.get(f"{base}/__admin/scenarios", timeout=5)
        assert r.status_code == 200, r.text
        found: list[dict[str, Any]] = r.json()
        return found

    def served_description() -> str:
        (only,) = served_scenarios()
        text: str = only["description"]
        return text

    assert served_description() == "first version"
    write(path, "second version")
    wait_for(lambda: served_description() == "second version", 15, "the edit is served")
    write(path, "broken version", last="deliverd")
    problem = f"{path}:{BROKEN_LINE}: events[2].kind:"
    wait_for(lambda: problem in log.read_text(), 15, f"stderr names {problem}")
    assert served_description() == "second version"
    health = httpx.get(f"{base}/__admin/health", timeout=5).json()
    assert problem in health["last_reload_error"]
