"""The carriersim command line: validate, timeline, numbers, schema and their exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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


def test_help_lists_track_with_the_other_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "{serve,validate,timeline,numbers,schema,ca,track,watch}" in out
    assert "track parcels with the reference client" in out
    assert "watch parcels until final" in out


def test_workers_has_help_text(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "--workers N server processes sharing the port" in out


def test_serve_refuses_several_workers_without_a_shared_store(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Each worker would keep its own tenants: refused before anything is loaded or bound.
    assert main(["serve", "--workers", "2", "--port", "1"]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "--workers 2 refused" in err
    assert "2 workers would serve 2 different worlds" in err
    assert "--store" in err
    assert "drop --workers" in err


def test_serve_refuses_several_workers_even_with_reload(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--workers", "3", "--reload", "--port", "1"]) == 2
    assert "--workers 3 refused" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["schema"], ["schema", "--faults"], ["numbers", "ups"]])
def test_a_reader_that_stops_early_ends_the_output_quietly(command: list[str]) -> None:
    # `carriersim schema | head`: the reader is gone before the output is written.
    args = [*command, "--count", "100000"] if command[0] == "numbers" else command
    with subprocess.Popen(
        [sys.executable, "-m", "simulator", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()
        err = proc.stderr.read().decode()
        proc.wait(timeout=60)
    assert err == ""
    assert proc.returncode == 1


def test_numbers_found_leaves_out_the_unknown_ones(capsys: pytest.CaptureFixture[str]) -> None:
    from simulator.catalog import Catalog
    from simulator.loader import load_paths

    catalog = Catalog(load_paths([BUNDLED_SCENARIOS]), epoch=datetime.now(UTC))
    # Without --found the default mix sends some numbers to 'unknown-number' ...
    assert main(["numbers", "ups", "--count", "300", "--seed", "1"]) == 0
    plain = capsys.readouterr().out.split()
    unknown = [n for n in plain if catalog.scenario_of("ups", n).name == "unknown-number"]
    assert 0 < len(unknown) < 30
    # ... with it, none.
    assert main(["numbers", "ups", "--count", "300", "--seed", "1", "--found"]) == 0
    found = capsys.readouterr().out.split()
    assert len(found) == 300
    assert all(catalog.scenario_of("ups", n).found for n in found)


@pytest.mark.parametrize("carrier", ["ups", "fedex", "usps", "dhl"])
def test_numbers_of_one_scenario_play_that_scenario(
    carrier: str, make_sim: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["numbers", carrier, "--count", "2", "--scenario", "lost-in-transit"]) == 0
    picked = capsys.readouterr().out.split()
    sim, _ = make_sim()
    assert len(picked) == 2
    for number in picked:
        shipment = sim.catalog.lookup(carrier, number)
        assert shipment is not None and shipment.variant.scenario.name == "lost-in-transit"


def test_numbers_of_a_scenario_the_mix_never_plays_say_what_to_do(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["numbers", "ups", "--scenario", "flaky-gateway"]) == 1
    err = capsys.readouterr().err
    assert "never plays 'flaky-gateway' on ups (weight 0)" in err
    assert "its declared numbers: 1Z" in err
    assert main(["numbers", "ups", "--scenario", "lost-in-tranzit"]) == 1
    assert "did you mean 'lost-in-transit'?" in capsys.readouterr().err


def test_own_scenarios_play_beside_the_bundled_library(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "mine.yaml").write_text(
        "name: mine\ncarriers: [dhl]\nevents:\n  - {at: 0h, kind: label_created}\n"
    )
    for name in ("mine", "delivered-on-time"):
        argv = ["timeline", name, "--carrier", "dhl", "--at", "1h", "--scenarios", str(tmp_path)]
        assert main(argv) == 0, capsys.readouterr().err
        assert "HTTP 200" in capsys.readouterr().out
    only = ["timeline", "delivered-on-time", "--carrier", "dhl", "--scenarios", str(tmp_path)]
    assert main([*only, "--no-bundled"]) == 1
    assert main(["timeline", "mine", "--carrier", "dhl", "--no-bundled"]) == 2
    assert "--no-bundled needs --scenarios" in capsys.readouterr().err


def test_track_without_configuration_points_at_base_url_and_the_environment() -> None:
    import io

    from client.cli import main as track

    out = io.StringIO()
    assert track(["track", "1ZY1PMRS0113639240"], env={}, out=out) == 3
    text = out.getvalue()
    assert "pass --base-url http://127.0.0.1:8080 (or set CARRIERSIM_BASE_URL" in text
    assert "set UPS_CLIENT_ID and UPS_CLIENT_SECRET in the environment" in text
    assert "CarrierSettings" not in text  # a keyword argument means nothing on a command line
