"""``carriersim watch``: change events as they happen, JSON lines, files, resuming, errors."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from client.retry import RetryPolicy
from client.watch.cli import main, read_numbers
from simulator.app import create_app
from simulator.engine import Simulation
from simulator.loader import load_paths
from simulator.settings import BUNDLED_SCENARIOS, Settings
from tests.conftest import EPOCH
from tests.watch.harness import SimClock

UPS = "1Z13GNRH1011084424"
FEDEX = "562853451102"
ENV = {"CARRIERSIM_BASE_URL": "http://carriersim.test"}


@pytest.fixture
def sim() -> Simulation:
    scenarios = [s for s in load_paths([BUNDLED_SCENARIOS]) if s.name == "delivered-on-time"]
    sim = Simulation(Settings(clock_start=EPOCH, mix=False), scenarios)
    shipment = sim.catalog.lookup("ups", UPS)
    assert shipment is not None
    # The CLI logs in with the placeholder credential, which names this tenant.
    sim.clock.freeze("carriersim", at=shipment.t0)
    return sim


def run(sim: Simulation, *argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(
        list(argv),
        transport=httpx.ASGITransport(app=create_app(sim)),
        env=ENV,
        retry=RetryPolicy.for_testing(),
        clock=SimClock(sim, "carriersim"),
        out=out,
        err=err,
    )
    return code, out.getvalue(), err.getvalue()


def test_prints_each_change_and_exits_0_once_all_are_final(sim: Simulation) -> None:
    code, out, err = run(sim, f"{UPS}=#1001", FEDEX, "--every", "1800", "--progress")
    assert code == 0, err
    lines = out.splitlines()
    ups = [line.split()[4] for line in lines if UPS in line]
    assert ups == ["shipped", "out_for_delivery", "delivered"]
    assert all("#1001" in line for line in lines if UPS in line)
    assert "watching 2:" in err  # the progress line
    assert "2 of 2 final" in err


def test_json_lines_name_the_event_and_the_order(sim: Simulation, tmp_path: Path) -> None:
    numbers = tmp_path / "orders.txt"
    numbers.write_text(f"# today's orders\n{UPS}, #1001\n{FEDEX}\t#1002\n")
    code, out, _ = run(sim, "--file", str(numbers), "--json", "--every", "3600")
    assert code == 0
    events = [json.loads(line) for line in out.splitlines()]
    assert {(e["number"], e["order"]) for e in events} == {(UPS, "#1001"), (FEDEX, "#1002")}
    assert [e["kind"] for e in events if e["number"] == FEDEX][-1] == "delivered"


def test_a_second_run_on_the_same_db_reports_nothing_again(sim: Simulation, tmp_path: Path) -> None:
    db = str(tmp_path / "watch.sqlite3")
    first = run(sim, UPS, "--db", db, "--every", "1800")
    sim.clock.advance("carriersim", timedelta(days=1))
    second = run(sim, UPS, "--db", db, "--every", "1800")
    assert first[0] == second[0] == 0
    assert "delivered" in first[1] and second[1] == ""


def test_bad_input_names_the_file_and_line(sim: Simulation, tmp_path: Path) -> None:
    bad = tmp_path / "orders.txt"
    bad.write_text(f"{UPS} #1 extra\n")
    code, _, err = run(sim, "--file", str(bad))
    assert code == 2
    assert f"{bad}:1: expected 'NUMBER [ORDER]', got 3 fields" in err
    assert run(sim)[0] == 2
    code, _, err = run(sim, "12345")
    assert code == 2 and "12345" in err
    with pytest.raises(Exception, match="no tracking numbers"):
        empty = tmp_path / "empty.txt"
        empty.write_text("# nothing\n")
        read_numbers(empty)


def test_ctrl_c_prints_a_summary_and_exits_1(sim: Simulation) -> None:
    class Interrupting(SimClock):
        async def sleep(self, seconds: float) -> None:
            raise KeyboardInterrupt

    out, err = io.StringIO(), io.StringIO()
    code = main(
        [UPS],
        transport=httpx.ASGITransport(app=create_app(sim)),
        env=ENV,
        retry=RetryPolicy.for_testing(),
        clock=Interrupting(sim, "carriersim"),
        out=out,
        err=err,
    )
    assert code == 1
    assert "interrupted; 0 of 1 final" in err.getvalue()
    assert UPS in err.getvalue()


def test_watch_is_a_carriersim_subcommand() -> None:
    from simulator.cli import _plugin_commands

    assert _plugin_commands()["watch"].value == "client.watch.cli:main"
