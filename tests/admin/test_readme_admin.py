"""The README section "Who may call the admin API", run as written against a real server:
its refusals are the point, so it has this test of its own (``tests/test_readme.py`` runs
every other block, the admin API's curl examples included)."""

from __future__ import annotations

import re
import shlex
from dataclasses import replace
from pathlib import Path

import httpx

from simulator.app import create_app
from simulator.cli import _parser
from simulator.engine import Simulation
from simulator.scenario import Scenario
from simulator.server import ServerThread
from simulator.settings import Settings
from tests.conftest import EPOCH

README = Path(__file__).resolve().parents[2] / "README.md"


def _section(title: str) -> str:
    text = README.read_text()
    start = text.index(title)
    end = text.find("\n#", start + len(title))
    return text[start:end]


def _shell_lines(section: str) -> list[str]:
    """The commands of the section's sh blocks, continuation lines joined."""
    blocks = re.findall(r"```sh\n(.*?)```", section, re.S)
    return [line for block in blocks for line in block.replace("\\\n", " ").splitlines()]


def _curl(line: str, base: str) -> tuple[httpx.Request, int | None]:
    """An httpx request for a curl command line, and the status its comment expects."""
    command, _, comment = line.partition("#")
    args = shlex.split(command)
    assert args[0] == "curl", line
    method, headers, data, url = "GET", {}, None, ""
    it = iter(args[1:])
    for arg in it:
        if arg == "-s":
            continue
        if arg == "-X":
            method = next(it)
        elif arg == "-H":
            name, _, value = next(it).partition(":")
            headers[name.strip()] = value.strip()
        elif arg == "-d":
            data = next(it).encode()
            method = "POST" if method == "GET" else method
            # curl -d sends a form type unless -H names one.
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        else:
            url = arg.replace("http://127.0.0.1:8080", base)
    expected = int(comment.strip()) if comment.strip().isdigit() else None
    return httpx.Request(method, url, headers=headers, content=data), expected


def _run(lines: list[str], settings: Settings, bundled: list[Scenario]) -> list[int]:
    statuses = []
    with ServerThread(create_app(Simulation(settings, bundled))) as server, httpx.Client() as c:
        for line in lines:
            if line.startswith("curl"):
                request, expected = _curl(line, server.url)
                r = c.send(request)
                statuses.append(r.status_code)
                if expected is not None:
                    assert r.status_code == expected, (line, r.text)
                else:
                    assert r.is_success, (line, r.text)
    return statuses


def test_the_admin_guard_examples_run_as_written(bundled: list[Scenario]) -> None:
    lines = _shell_lines(_section("## Who may call the admin API"))
    serve = next(line for line in lines if line.startswith("carriersim serve"))
    args = _parser().parse_args(shlex.split(serve.rstrip("& "))[1:])
    settings = replace(Settings(clock_start=EPOCH), admin_hosts=tuple(args.admin_hosts))
    assert _run(lines, settings, bundled) == [200, 403, 403]
