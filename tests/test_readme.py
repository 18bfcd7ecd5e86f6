"""The README's examples, run as a newcomer types them.

Every fenced block is read from README.md: YAML scenarios and fault plans are validated,
shell blocks run line by line in bash (``carriersim serve`` and ``make serve`` lines start a
real server on a free port, which the later lines are pointed at), Python blocks run against
a real server or, when they are pytest tests, through pytest with the plugin. What cannot run
here is named in ``NOT_RUN`` with the reason.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import pytest

from simulator.cli import main
from simulator.loader import check_paths, load_fault_plan, looks_like_fault_plan
from simulator.settings import BUNDLED_SCENARIOS
from tests.plugin.test_plugin import LOAD
from tests.processes import serving

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
BIN = Path(sys.executable).parent

NOT_RUN = {
    "make test": "the suite itself; running it inside itself would recurse",
    "python -m pip": "installs into an environment; tests/test_packaging.py builds the wheel",
    "- name: integration tests against carriersim": "a CI workflow; its parts run elsewhere",
}


# Sections whose examples a test of their own runs.
OWN_TESTS = {
    "Push webhooks": "tests/test_readme_push.py",
    "Watching orders: change events and customer notifications": "tests/watch/test_end_to_end.py",
    # Its curl lines are refused on purpose (403), which the generic runner would reject.
    "Who may call the admin API": "tests/admin/test_readme_admin.py",
}


@dataclass(frozen=True)
class Block:
    """One fenced code block of the README."""

    lang: str
    line: int
    text: str
    section: str
    """The ``## `` heading the block stands under."""

    @property
    def first(self) -> str:
        """The block's first line (a file name comment, a command)."""
        return self.text.split("\n", 1)[0].strip()


def blocks(lang: str | None = None) -> list[Block]:
    """The README's fenced blocks, in order (only those of ``lang`` when given)."""
    text = README.read_text(encoding="utf-8")
    found = []
    for m in re.finditer(r"^```(\w*)\n(.*?)^```", text, re.S | re.M):
        headings = re.findall(r"^## (.+)$", text[: m.start()], re.M)
        section = headings[-1].strip() if headings else ""
        found.append(Block(m.group(1), text[: m.start()].count("\n") + 1, m.group(2), section))
    return [b for b in found if (lang is None or b.lang == lang) and b.section not in OWN_TESTS]


def _skipped(line: str) -> bool:
    return any(line.startswith(prefix) for prefix in NOT_RUN)


def _named_file(block: Block) -> str | None:
    """The path a block's first-line comment names (``# my-scenarios/x.yaml``), if any."""
    match = re.fullmatch(r"#\s*([\w./-]+\.(?:ya?ml|py))", block.first)
    return match.group(1) if match else None


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A newcomer's project folder: the repository's scenarios, and every file the README
    tells them to write (named by a block's first-line comment)."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "scenarios").symlink_to(BUNDLED_SCENARIOS, target_is_directory=True)
    for block in blocks():
        name = _named_file(block)
        if name and name.startswith("my-scenarios/"):
            (work / name).parent.mkdir(parents=True, exist_ok=True)
            (work / name).write_text(block.text, encoding="utf-8")
    return work


# ------------------------------------------------------------------------------------ YAML


def yaml_blocks() -> list[Block]:
    """The YAML blocks that are scenarios or fault plans."""
    return [b for b in blocks("yaml") if not _skipped(b.first)]


@pytest.mark.parametrize("block", yaml_blocks(), ids=lambda b: f"line{b.line}")
def test_yaml_blocks_are_valid_scenarios_and_fault_plans(block: Block, tmp_path: Path) -> None:
    path = tmp_path / Path(_named_file(block) or f"block-{block.line}.yaml").name
    path.write_text(block.text, encoding="utf-8")
    if looks_like_fault_plan(path):
        assert load_fault_plan(path).faults
        return
    scenarios, problems = check_paths([path])
    assert not problems, "\n".join(map(str, problems))
    assert len(scenarios) == 1


def test_the_validate_example_reads_as_shown(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (example,) = [b for b in blocks("text") if b.first.startswith("$ carriersim validate")]
    command, shown = example.text.strip().split("\n", 1)
    # A file with that mistake at that line (the README does not print the file itself).
    incident = workdir / "my-scenarios" / "my-incident.yaml"
    incident.parent.mkdir(exist_ok=True)
    incident.write_text(
        "name: my-incident\ndescription: parcel stuck, then delivered\ncarriers: [ups]\n"
        "start: -1d\nevents:\n  - at: 0h\n    kind: label_created\n  - at: 4h\n"
        "    kind: picked_up\n  - at: 10h\n    kind: in_transit\n  - at: 1d\n"
        "    location: destination\n    kind: deliverd\n"
    )
    monkeypatch.chdir(workdir)
    assert main(shlex.split(command.removeprefix("$ carriersim "))) == 1
    first = capsys.readouterr().err.splitlines()[0]
    expected = shown.strip().removesuffix("(one of: …)")
    assert first.startswith(expected + "(one of: ")


# ------------------------------------------------------------------------------------ shell


@dataclass
class Ran:
    """One shell line of a README block and what it printed."""

    line: str
    stdout: str
    stderr: str


def _lines(block: Block) -> Iterator[str]:
    joined = block.text.replace("\\\n", " ")
    for raw in joined.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            yield line


def _serve_args(line: str) -> list[str] | None:
    """The ``carriersim serve`` arguments a line starts a server with, else None."""
    words = shlex.split(line, comments=True)
    if words[:2] == ["make", "serve"]:
        return ["--port", "8080"]  # what the Makefile runs by default
    if words[:2] == ["carriersim", "serve"]:
        return [w for w in words[2:] if w != "&"]
    return None


def run_shell_block(block: Block, workdir: Path, log: Path) -> list[Ran]:
    """Run a block's lines in bash as typed, servers included; each must succeed."""
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "CARRIERSIM_HOME": str(workdir / ".carriersim"),
    }
    env.pop("CARRIERSIM_BASE_URL", None)
    ports: dict[str, str] = {}
    ran: list[Ran] = []
    lines = list(_lines(block))
    if "127.0.0.1:8080" in block.text and not any(_serve_args(x) for x in lines):
        lines.insert(0, "make serve")  # the server the README's set-up started
    with ExitStack() as servers:
        for line in lines:
            if _skipped(line):
                continue
            args = _serve_args(line)
            if args is not None:
                asked = args[args.index("--port") + 1]
                others = [a for i, a in enumerate(args) if i not in (args.index("--port"),
                          args.index("--port") + 1)]  # fmt: skip
                given = servers.enter_context(
                    serving([*others, "--log-level", "warning"], log, env=env, cwd=workdir)
                )
                ports[asked] = str(given)
                continue
            for asked, given in ports.items():
                line = line.replace(f"127.0.0.1:{asked}", f"127.0.0.1:{given}")
            done = subprocess.run(
                ["bash", "-c", f"set -euo pipefail\n{line}"],
                capture_output=True,
                text=True,
                cwd=workdir,
                env=env,
                timeout=120,
            )
            assert done.returncode == 0, (
                f"README line {block.line}: {line}\n{done.stdout}\n{done.stderr}"
            )
            if line.startswith("curl "):  # curl exits 0 on an error answer too
                answer = json.loads(done.stdout)
                assert not (isinstance(answer, dict) and "error" in answer), (line, answer)
            ran.append(Ran(line, done.stdout, done.stderr))
    return ran


def shell_blocks() -> list[Block]:
    """The shell blocks, each of which runs."""
    return [b for b in blocks("sh") if any(not _skipped(line) for line in _lines(b))]


# Blocks whose output a test below also checks: run there, once.
CHECKED = ("ups-bad-day.yaml", "delivered-then-moving", "--tls")


@pytest.mark.parametrize(
    "block",
    [b for b in shell_blocks() if not any(mark in b.text for mark in CHECKED)],
    ids=lambda b: f"line{b.line}",
)
def test_shell_blocks_run_as_typed(block: Block, workdir: Path, tmp_path: Path) -> None:
    if "curl " in block.text and shutil.which("curl") is None:
        if os.environ.get("CI"):
            pytest.fail("curl is needed for the README's admin examples: apt-get install curl")
        pytest.skip("curl is not installed (apt-get install curl)")
    ran = run_shell_block(block, workdir, tmp_path / "server.log")
    served = [line for line in _lines(block) if _serve_args(line) is not None]
    assert ran or served, f"README line {block.line}: nothing ran"


def test_the_fault_plan_example_tracks_through_the_bad_day(workdir: Path, tmp_path: Path) -> None:
    (block,) = [b for b in shell_blocks() if "ups-bad-day.yaml" in b.text]
    (track,) = run_shell_block(block, workdir, tmp_path / "server.log")
    assert "1ZY1PMRS0113639240  UPS  out_for_delivery" in track.stdout


def test_the_qa_tutorial_shows_the_regression_after_the_delivery(
    workdir: Path, tmp_path: Path
) -> None:
    (block,) = [b for b in shell_blocks() if "delivered-then-moving" in b.text]
    checked, before, after = run_shell_block(block, workdir, tmp_path / "server.log")
    assert "1 scenario(s) OK: delivered-then-moving" in checked.stdout

    def scans(ran: Ran) -> list[str]:
        body = json.loads(ran.stdout.split("\n", 1)[1])
        result = body["output"]["completeTrackResults"][0]["trackResults"][0]
        return [s["eventType"] for s in result["scanEvents"]]  # newest first

    assert scans(before)[0] == "OD" and "IT" not in scans(before)[:1]
    assert scans(after)[:2] == ["IT", "DL"]


def test_the_https_example_trusts_the_ca_with_one_setting(workdir: Path, tmp_path: Path) -> None:
    (block,) = [b for b in shell_blocks() if "--tls" in b.text]
    (track,) = run_shell_block(block, workdir, tmp_path / "server.log")
    assert "1ZY1PMRS0113639240  UPS  out_for_delivery" in track.stdout


# ------------------------------------------------------------------------------------ Python


def test_the_reference_client_example_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (block,) = [
        b for b in blocks("python") if "TrackingClient(" in b.text and "def test_" not in b.text
    ]
    with serving(["--log-level", "warning"], tmp_path / "server.log") as port:
        source = block.text.replace("127.0.0.1:8080", f"127.0.0.1:{port}")
        namespace: dict[str, object] = {}
        exec(compile(source, f"README.md:{block.line}", "exec"), namespace)
    outcomes = namespace["outcomes"]
    assert isinstance(outcomes, list) and len(outcomes) == 2
    assert capsys.readouterr().out.strip()


def test_the_pytest_examples_pass_with_the_plugin(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, workdir: Path
) -> None:
    monkeypatch.delenv("CARRIERSIM_URL", raising=False)
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    tests = [b for b in blocks("python") if "def test_" in b.text]
    assert tests, "the README shows pytest tests"
    (conftest,) = [b for b in blocks("python") if _named_file(b) == "conftest.py"]
    pytester.makeconftest(conftest.text)
    # The conftest serves the project's own scenarios folder beside the bundled library.
    shutil.copytree(workdir / "my-scenarios", pytester.path / "scenarios")
    for i, block in enumerate(tests):
        pytester.makepyfile(**{f"test_readme_{i}": block.text})
    pytester.makepyfile(
        test_own_scenarios=textwrap.dedent(
            """
            def test_own_scenario_is_served_beside_the_bundled(sim):
                assert sim.shipment("fedex", "delivered-then-moving").scenario
                assert sim.shipment("ups", "delivered-on-time").scenario
            """
        )
    )
    result = pytester.runpytest_subprocess(
        *LOAD, "-p", "no:cacheprovider", "-W", "error", timeout=120
    )
    result.assert_outcomes(passed=sum(b.text.count("def test_") for b in tests) + 1)
