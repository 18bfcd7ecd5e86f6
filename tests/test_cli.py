"""The carriersim command line: validate, timeline, numbers, schema and their exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from simulator import numbers
from simulator.cli import main
from simulator.settings import BUNDLED_SCENARIOS


def test_validate_ok(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(BUNDLED_SCENARIOS)]) == 0
    # Every file in the folder, however many a user has added beside the shipped ones.
    files = [*BUNDLED_SCENARIOS.glob("*.yaml"), *BUNDLED_SCENARIOS.glob("*.yml")]
    assert f"{len(files)} scenario(s) OK" in capsys.readouterr().out


def test_validate_reports_problems_with_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nevents:\n  - {at: 0h, kind: teleported}\n")
    assert main(["validate", str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}:3: events[0].kind: 'teleported' is not a known kind" in err


def test_validate_missing_path_exit_2(tmp_path: Path) -> None:
    assert main(["validate", str(tmp_path / "missing.yaml")]) == 2


def test_usage_error_exit_2() -> None:
    with pytest.raises(SystemExit) as info:
        main(["serve", "--port", "not-a-port"])
    assert info.value.code == 2


@pytest.mark.parametrize("value", ["0", "-3", "many"])
def test_serve_refuses_a_journal_limit_that_is_not_a_positive_number(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", "--journal-limit", value])
    assert exit_info.value.code == 2
    assert "--journal-limit" in capsys.readouterr().err


def test_numbers_are_valid(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["numbers", "fedex", "--count", "3", "--seed", "4"]) == 0
    out = capsys.readouterr().out.split()
    assert len(out) == 3 and all(numbers.is_valid("fedex", n) for n in out)


def test_schema_prints_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "carriersim scenario"


@pytest.mark.parametrize("carrier", ["ups", "fedex", "usps", "dhl"])
def test_timeline_prints_the_carrier_answer(
    carrier: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["timeline", "delivered-on-time", "--carrier", carrier, "--at", "3d"]) == 0
    out = capsys.readouterr().out
    head, _, body = out.partition("\n")
    assert "HTTP 200" in head
    json.loads(body)


def test_timeline_before_start_is_not_found(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["timeline", "delivered-on-time", "--carrier", "dhl", "--at=-1h"]) == 0
    assert "HTTP 404" in capsys.readouterr().out


def test_timeline_unknown_scenario_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["timeline", "nope", "--carrier", "ups"]) == 1
    assert "no scenario named 'nope'" in capsys.readouterr().err


def test_python_dash_m_works() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "simulator", "--version"], capture_output=True, text=True
    )
    assert done.returncode == 0 and done.stdout.startswith("carriersim ")


def test_track_command_comes_from_the_client_package(capsys: pytest.CaptureFixture[str]) -> None:
    # The simulator finds `track` through the entry-point group, without importing client/.
    assert main(["track", "--help"]) == 0
    assert "carriersim track" in capsys.readouterr().out
