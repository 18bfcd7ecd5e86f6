"""``make mutate``: mutation testing of the client's rules, and its score per file.

mutmut (configured under ``[tool.mutmut]`` in pyproject.toml) changes the code one small
step at a time and runs, for each change (a *mutant*), only the tests that reach the
function it changed. A mutant the tests let through is a wrong rule they would not notice.

    python -m tests.client.mutation run [--jobs N] [--fail-under P] [PATTERN ...]
    python -m tests.client.mutation summary [--fail-under P]

``run`` starts from a clean ``mutants/`` folder (a cached verdict from before a test was
added would be stale), runs mutmut over every mutant or over those whose names match the
PATTERNs (e.g. ``'client.retry.*'``), and prints the summary with the time it took.
``summary`` prints it again for the last run.

The score of a file is "N of M mutants killed (P %)": N killed (a timeout is a kill: the
tests noticed), M reached by a test less the equivalent mutants listed in
``EQUIVALENT_MUTANTS.md`` beside this file, which change nothing a caller can observe. Each
entry there records the line its mutant writes, so an entry that no longer describes its
mutant (the code moved and mutmut renumbered) is reported as stale and not excluded; an entry
whose mutant was killed is reported too. The exit status is 1 when a file scores under
``--fail-under`` (90 by default), a mutant is reached by no test, or an entry is stale.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

EQUIVALENTS = Path(__file__).with_name("EQUIVALENT_MUTANTS.md")
_ROW = re.compile(r"^\| `(?P<name>[^`]+)` \| `(?P<change>(?:[^`\\]|\\.)+)` \| (?P<why>.+) \|$")

KILLED = {"killed", "timeout", "caught by type check"}


@dataclass(frozen=True)
class Equivalent:
    """One listed equivalent mutant: its name, the line it writes, why it changes nothing."""

    name: str
    change: str
    why: str


@dataclass
class FileScore:
    """The verdicts of one source file's mutants."""

    path: str
    statuses: Counter[str] = field(default_factory=Counter)
    equivalent: int = 0
    survivors: list[str] = field(default_factory=list)
    unreached: list[str] = field(default_factory=list)
    other: list[str] = field(default_factory=list)

    @property
    def killed(self) -> int:
        """Mutants the tests noticed."""
        return sum(self.statuses[s] for s in KILLED)

    @property
    def scored(self) -> int:
        """Mutants reached by a test and able to change behaviour."""
        checked = sum(self.statuses.values()) - self.statuses["not checked"]
        return checked - self.statuses["no tests"] - self.equivalent


def load_equivalents() -> dict[str, Equivalent]:
    """The table of equivalent mutants, keyed by mutant name."""
    found: dict[str, Equivalent] = {}
    for line in EQUIVALENTS.read_text(encoding="utf-8").splitlines():
        m = _ROW.match(line.strip())
        if m:
            change = m["change"].replace("\\|", "|").replace("\\`", "`")
            found[m["name"]] = Equivalent(m["name"], change, m["why"])
    return found


def mutated_lines(name: str, path: str) -> str:
    """The lines a mutant writes instead of the original's, joined with " ⏎ "."""
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    diff = get_diff_for_mutant(name, path=path)
    added = [
        line[1:].strip()
        for line in diff.splitlines()
        if line.startswith("+") and not line.startswith("+++")
    ]
    return " ⏎ ".join(added) if added else "(the line is removed)"


def score(equivalents: dict[str, Equivalent]) -> tuple[list[FileScore], list[str]]:
    """Per-file verdicts of the last run, and the problems with the equivalents table."""
    from mutmut.mutation.data import SourceFileMutationData
    from mutmut.stats import status_by_exit_code
    from mutmut.utils.file_utils import walk_mutatable_files

    files: list[FileScore] = []
    problems: list[str] = []
    seen: set[str] = set()
    for path in sorted(walk_mutatable_files()):
        data = SourceFileMutationData(path=path)
        data.load()
        if all(code is None for code in data.exit_code_by_key.values()):
            continue  # not part of this run
        result = FileScore(str(path))
        for name, code in data.exit_code_by_key.items():
            status = status_by_exit_code[code]
            result.statuses[status] += 1
            entry = equivalents.get(name)
            if entry is not None:
                seen.add(name)
                if status == "survived":
                    now = mutated_lines(name, str(path))
                    if now == entry.change:
                        result.equivalent += 1
                        continue
                    problems.append(
                        f"stale entry {name}: it now writes `{now}`, not `{entry.change}`"
                    )
                elif status in KILLED:
                    problems.append(f"{name} is listed as equivalent but a test killed it")
            if status == "survived":
                result.survivors.append(name)
            elif status == "no tests":
                result.unreached.append(name)
            elif status not in KILLED and status != "not checked":
                result.other.append(f"{name} ({status})")
        files.append(result)
    # A listed name that a fully run file does not have belongs to code that changed.
    complete = {
        f.path[: -len(".py")].replace("/", ".") for f in files if not f.statuses["not checked"]
    }
    for name in sorted(set(equivalents) - seen):
        if name.rsplit(".", 1)[0] in complete:
            problems.append(f"stale entry {name}: there is no such mutant")
    return files, problems


def killed_line(killed: int, scored: int) -> str:
    """ "N of M mutants killed (P %)"."""
    percent = 100.0 * killed / scored if scored else 100.0
    return f"{killed} of {scored} mutants killed ({percent:.1f} %)"


def report(fail_under: float, elapsed: float | None = None) -> int:
    """Print the summary of the last run; 1 when a file misses the target, else 0."""
    equivalents = load_equivalents()
    files, problems = score(equivalents)
    if not files:
        print("no mutation results: run `make mutate` first")
        return 1
    failed = bool(problems)
    width = max(len(f.path) for f in files)
    print()
    for f in files:
        notes = [f"{f.equivalent} equivalent excluded", f"{len(f.unreached)} reached by no test"]
        if f.statuses["not checked"]:
            notes.append(f"{f.statuses['not checked']} not run")
        print(f"{f.path:<{width}}  {killed_line(f.killed, f.scored)}; {', '.join(notes)}")
        below = f.scored and 100.0 * f.killed / f.scored < fail_under
        failed = failed or bool(below or f.unreached)
    total_killed = sum(f.killed for f in files)
    total_scored = sum(f.scored for f in files)
    excluded = sum(f.equivalent for f in files)
    print(
        f"{'total':<{width}}  {killed_line(total_killed, total_scored)}; {excluded} equivalent "
        f"mutants excluded (listed with their reasons in {EQUIVALENTS.name})"
    )
    for f in files:
        for name in f.survivors:
            print(f"  survived: {name}   (mutmut show {name})")
        for name in f.unreached:
            print(f"  reached by no test: {name}")
        for name in f.other:
            print(f"  not a kill: {name}")
    for problem in problems:
        print(f"  {EQUIVALENTS.name}: {problem}")
    if elapsed is not None:
        minutes, seconds = divmod(round(elapsed), 60)
        print(f"mutation run took {minutes} min {seconds} s")
    if failed:
        print(f"target: at least {fail_under:g} % killed in each file and no mutant unreached")
    return 1 if failed else 0


def run(patterns: list[str], jobs: int | None, fail_under: float) -> int:
    """A fresh mutmut run over the mutants matching ``patterns`` (all when empty)."""
    shutil.rmtree("mutants", ignore_errors=True)
    command = [str(Path(sys.executable).with_name("mutmut")), "run"]
    if jobs:
        command += ["--max-children", str(jobs)]
    started = time.monotonic()
    code = subprocess.call([*command, *patterns])
    elapsed = time.monotonic() - started
    if code != 0:
        print(f"mutmut run failed (exit status {code})")
        return code
    return report(fail_under, elapsed)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m tests.client.mutation")
    commands = parser.add_subparsers(dest="command", required=True)
    run_command = commands.add_parser("run", help="a fresh mutation run, then its summary")
    run_command.add_argument(
        "patterns", nargs="*", help="mutant name patterns, e.g. client.retry.*"
    )
    run_command.add_argument("--jobs", type=int, help="mutants tested at once (default: cores)")
    summary_command = commands.add_parser("summary", help="the summary of the last run")
    for command in (run_command, summary_command):
        command.add_argument("--fail-under", type=float, default=90.0, metavar="PERCENT")
    args = parser.parse_args(argv)
    if args.command == "run":
        return run(args.patterns, args.jobs, args.fail_under)
    return report(args.fail_under)


if __name__ == "__main__":
    sys.exit(main())
