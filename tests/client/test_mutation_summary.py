"""``make mutate``'s summary: the score per file, and the equivalent mutants it may exclude."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mutmut.configuration import reset_config

from tests.client import mutation

PYPROJECT = """
[tool.mutmut]
source_paths = ["client"]
only_mutate = ["client/retry.py", "client/carriers/*.py"]
"""


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project with mutmut results for two files, as a run leaves them."""
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    for path in ("client/retry.py", "client/carriers/_parse.py", "client/api.py"):
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("")
    monkeypatch.chdir(tmp_path)
    reset_config()
    yield tmp_path
    reset_config()


def results(path: str, codes: dict[str, int | None]) -> None:
    meta = Path("mutants") / f"{path}.meta"
    meta.parent.mkdir(parents=True, exist_ok=True)
    meta.write_text(
        json.dumps(
            {
                "exit_code_by_key": codes,
                "durations_by_key": {},
                "estimated_durations_by_key": {},
            }
        )
    )


def table(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "EQUIVALENT_MUTANTS.md"
    header = "| mutant | line it writes | why |\n| --- | --- | --- |\n"
    path.write_text(header + "".join(f"{row}\n" for row in rows))
    return path


def test_summary_per_file_and_total(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # 1 killed, 36 a timeout (a kill), 0 survived, 33 reached by no test.
    results("client/retry.py", {"client.retry.a__mutmut_1": 1, "client.retry.a__mutmut_2": -24,
                                "client.retry.a__mutmut_3": 0})  # fmt: skip
    results("client/carriers/_parse.py", {"client.carriers._parse.b__mutmut_1": 1,
                                          "client.carriers._parse.b__mutmut_2": 33})  # fmt: skip
    equivalents = table(project, r"| `client.retry.a__mutmut_3` | `x = a \| b` | no change |")
    monkeypatch.setattr(mutation, "EQUIVALENTS", equivalents)
    monkeypatch.setattr(mutation, "mutated_lines", lambda name, path: "x = a | b")
    assert mutation.report(90.0, elapsed=75.4) == 1  # a mutant reached by no test
    out = capsys.readouterr().out
    assert "client/carriers/_parse.py  1 of 1 mutants killed (100.0 %)" in out
    assert "client/retry.py            2 of 2 mutants killed (100.0 %); 1 equivalent" in out
    assert "total                      3 of 3 mutants killed (100.0 %); 1 equivalent" in out
    assert "reached by no test: client.carriers._parse.b__mutmut_2" in out
    assert "mutation run took 1 min 15 s" in out


def test_a_stale_or_killed_entry_is_not_excluded(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    results("client/retry.py", {f"client.retry.a__mutmut_{i}": 0 if i == 1 else 1
                                for i in range(1, 11)})  # fmt: skip
    equivalents = table(
        project,
        "| `client.retry.a__mutmut_1` | `return 1` | was equivalent before the code changed |",
        "| `client.retry.a__mutmut_2` | `return 2` | a test kills it |",
    )
    monkeypatch.setattr(mutation, "EQUIVALENTS", equivalents)
    monkeypatch.setattr(mutation, "mutated_lines", lambda name, path: "return 0")
    assert mutation.report(90.0) == 1
    out = capsys.readouterr().out
    assert "client/retry.py  9 of 10 mutants killed (90.0 %); 0 equivalent excluded" in out
    assert "survived: client.retry.a__mutmut_1" in out
    assert "stale entry client.retry.a__mutmut_1: it now writes `return 0`" in out
    assert "client.retry.a__mutmut_2 is listed as equivalent but a test killed it" in out


def test_an_entry_for_no_mutant_of_a_run_file_is_stale(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    results("client/retry.py", {"client.retry.a__mutmut_1": 1})
    equivalents = table(project, "| `client.retry.a__mutmut_7` | `pass` | renumbered |")
    monkeypatch.setattr(mutation, "EQUIVALENTS", equivalents)
    assert mutation.report(90.0) == 1
    assert (
        "stale entry client.retry.a__mutmut_7: there is no such mutant" in capsys.readouterr().out
    )


def test_files_outside_the_run_are_left_out(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    results("client/retry.py", {"client.retry.a__mutmut_1": 1, "client.retry.a__mutmut_2": 0})
    results("client/carriers/_parse.py", {"client.carriers._parse.b__mutmut_1": None})
    equivalents = table(project, "| `client.carriers._parse.b__mutmut_9` | `pass` | unrun |")
    monkeypatch.setattr(mutation, "EQUIVALENTS", equivalents)
    assert mutation.report(50.0) == 0
    out = capsys.readouterr().out
    assert "client/retry.py  1 of 2 mutants killed (50.0 %)" in out
    assert "_parse" not in out
    assert mutation.report(90.0) == 1


def test_the_repository_table_parses() -> None:
    listed = mutation.load_equivalents()
    rows = [
        line
        for line in mutation.EQUIVALENTS.read_text(encoding="utf-8").splitlines()
        if line.startswith("| `")
    ]
    assert len(listed) == len(rows)  # no row is silently skipped
    for entry in listed.values():
        assert entry.name.startswith("client.") and "__mutmut_" in entry.name
        assert entry.change and entry.why.strip()
