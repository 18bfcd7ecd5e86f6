"""Finds and parses scenario YAML: the one place YAML problems become errors with file:line.

Every problem names the file, the line, the field and the fix, e.g.::

    scenarios/lost.yaml:14: events[2].kind: 'deliverd' is not a known kind; did you mean
    'delivered'? (one of: label_created, picked_up, …)
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from simulator import numbers
from simulator.faults import FaultPlan
from simulator.scenario import EventKind, ExceptionReason, LocatedError, Scenario
from simulator.settings import BUNDLED_SCENARIOS

SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True, slots=True)
class Problem:
    """One mistake in one file."""

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


class ScenarioError(Exception):
    """Scenario files that cannot be used; ``problems`` lists every mistake found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def find_files(paths: Iterable[Path | str]) -> list[Path]:
    """The scenario files named by paths (directories are searched, sorted, not recursed)."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(p for p in path.iterdir() if p.suffix in SUFFIXES))
        else:
            found.append(path)
    return found


def load_paths(paths: Iterable[Path | str]) -> list[Scenario]:
    """Load every scenario the paths name, or raise ScenarioError listing all problems."""
    scenarios, problems = check_paths(paths)
    if problems:
        raise ScenarioError(problems)
    return scenarios


def _bundled(path: Path) -> bool:
    return path.resolve().parent in (BUNDLED_SCENARIOS, BUNDLED_SCENARIOS / "plans")


def check_paths(paths: Iterable[Path | str]) -> tuple[list[Scenario], list[Problem]]:
    """Load what can be loaded and collect the problems, including those across files.

    Names are unique, with one exception: a scenario of the user's own files named like a
    bundled one replaces the bundled one (so a library can adapt ``delivered-on-time``).
    """
    paths = list(paths)
    scenarios: dict[str, Scenario] = {}
    problems: list[Problem] = []
    names: dict[str, str] = {}
    owners: dict[tuple[str, str], str] = {}
    replaceable: set[str] = set()
    files = find_files(paths)
    if not files:
        problems.append(
            Problem(
                ", ".join(map(str, paths)),
                0,
                "",
                "no scenario files found (expected *.yaml or *.yml); check the path",
            )
        )
    for path in files:
        try:
            scenario, root = _load_one(path)
        except ScenarioError as exc:
            problems.extend(exc.problems)
            continue
        where = str(path)
        if scenario.name in replaceable and not _bundled(path):
            replaceable.discard(scenario.name)
            del scenarios[scenario.name], names[scenario.name]
            owners = {k: v for k, v in owners.items() if not v.endswith(f" ({scenario.name})")}
        if scenario.name in names:
            problems.append(
                Problem(
                    where,
                    _line(root, ("name",)),
                    "name",
                    f"{scenario.name!r} is already the name of {names[scenario.name]}; "
                    "scenario names must be unique",
                )
            )
            continue
        names[scenario.name] = where
        if _bundled(path):
            replaceable.add(scenario.name)
        for carrier, nums in scenario.numbers.items():
            for i, number in enumerate(nums):
                line = _line(root, ("numbers", carrier, i))
                field = f"numbers.{carrier}[{i}]"
                wrong = numbers.explain(carrier, number)
                if wrong is not None:
                    problems.append(Problem(where, line, field, str(wrong)))
                key = (carrier, numbers.normalize(number))
                if key in owners:
                    problems.append(
                        Problem(
                            where,
                            line,
                            field,
                            f"{number!r} is already bound to {owners[key]}; a number plays "
                            "one scenario",
                        )
                    )
                owners[key] = f"{where} ({scenario.name})"
        scenarios[scenario.name] = scenario
    return list(scenarios.values()), problems


def load_file(path: Path | str) -> Scenario:
    """Load and validate one scenario file."""
    return _load_one(Path(path))[0]


def load_fault_plan(path: Path | str) -> FaultPlan:
    """Load and validate a fault-plan file (``faults:`` and a list of faults)."""
    where = str(path)
    data, root = _read_yaml(Path(path))
    if isinstance(data, list):
        data = {"faults": data}
    if not isinstance(data, dict):
        raise ScenarioError(
            [
                Problem(
                    where,
                    1,
                    "",
                    "a fault plan is a mapping with 'faults:' "
                    f"and a list of faults, not a {type(data).__name__}",
                )
            ]
        )
    try:
        return FaultPlan.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_problems(where, root, exc)) from None


def looks_like_fault_plan(path: Path | str) -> bool:
    """Whether a YAML file is a fault plan (a list, or a mapping holding only ``faults``)."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return False
    return isinstance(data, list) or (isinstance(data, dict) and set(data) == {"faults"})


def _read_yaml(path: Path) -> tuple[Any, yaml.Node | None]:
    where = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError([Problem(where, 0, "", "file not found; check the path")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError([Problem(where, 0, "", f"cannot read file: {exc}")]) from None
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        problem = f"{exc.problem or exc}" + (f" ({exc.context})" if exc.context else "")
        raise ScenarioError(
            [
                Problem(
                    where, line, "", f"YAML syntax: {problem}; fix the indentation or quoting there"
                )
            ]
        ) from None
    except yaml.YAMLError as exc:
        raise ScenarioError([Problem(where, 0, "", f"YAML: {exc}")]) from None
    if data is None:
        raise ScenarioError([Problem(where, 1, "", "the file is empty")])
    return data, root


def _load_one(path: Path) -> tuple[Scenario, yaml.Node | None]:
    where = str(path)
    data, root = _read_yaml(path)
    if not isinstance(data, dict):
        raise ScenarioError(
            [
                Problem(
                    where,
                    1,
                    "",
                    "a scenario file must be a mapping of fields (name:, "
                    f"events:, …), not a {type(data).__name__}",
                )
            ]
        )
    data.setdefault("name", path.stem)
    try:
        return Scenario.model_validate(data), root
    except ValidationError as exc:
        raise ScenarioError(_problems(where, root, exc)) from None


def _problems(where: str, root: yaml.Node | None, exc: ValidationError) -> list[Problem]:
    seen: set[tuple[int, str]] = set()
    out: list[Problem] = []
    errors = exc.errors(include_url=False)
    failed = [tuple(e["loc"]) for e in errors]
    for err in errors:
        loc = tuple(err["loc"])
        # A list whose only bad item was dropped is also "too short": one mistake, one report.
        if err["type"] == "too_short" and any(f[: len(loc)] == loc and f != loc for f in failed):
            continue
        located = (err.get("ctx") or {}).get("error")
        if isinstance(located, LocatedError):
            loc = loc + located.loc
        elif err["type"] == "union_tag_invalid" and loc[-1:] == ("fault",):
            loc = (*loc[:-1], "kind")
        loc = _author_loc(loc)
        field = _field_name(loc)
        line = _line(root, loc)
        message = _message(err, loc)
        if (line, field) in seen:
            continue
        seen.add((line, field))
        out.append(Problem(where, line, field, message))
    return out


_FAULT_KINDS = frozenset(
    ("latency", "http_error", "rate_limit", "outage", "connection", "body", "lie", "quirk")
)


def _author_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """The location as the author wrote it: faults are written flat, without the
    ``fault:`` wrapper and the union tag the model uses internally."""
    out: list[Any] = []
    skip = 0
    for i, part in enumerate(loc):
        if skip:
            skip -= 1
            continue
        if part == "fault" and i + 1 < len(loc) and loc[i + 1] in _FAULT_KINDS:
            skip = 1
            continue
        out.append(part)
    return tuple(out)


def _field_name(loc: tuple[Any, ...]) -> str:
    name = ""
    for part in loc:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name += ("." if name else "") + str(part)
    return name


def _line(node: yaml.Node | None, loc: tuple[Any, ...]) -> int:
    """Line (1-based) of the deepest YAML node the location reaches."""
    if node is None:
        return 0
    line = node.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if key.value == part:
                    node = value
                    line = key.start_mark.line + 1 if part == loc[-1] else value.start_mark.line + 1
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if part >= len(node.value):
                return line
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


_FIELDS: dict[str, type[BaseModel]] = {}


def _allowed(loc: tuple[Any, ...]) -> list[str]:
    from simulator.scenario import EventSpec, PlaceSpec, RouteSpec

    parents = [p for p in loc[:-1] if isinstance(p, str)]
    model: type[BaseModel] = Scenario
    if parents[-1:] == ["events"]:
        model = EventSpec
    elif parents[-1:] == ["route"]:
        model = RouteSpec
    elif parents and parents[-1] in ("location", "origin", "destination"):
        model = PlaceSpec
    return list(model.model_fields)


def _one_of(shown: str, what: str, given: str, values: Sequence[str]) -> str:
    # A misspelt word has a nearest neighbour; a wrong number (418 for 429) has none.
    close = [] if given.isdigit() else difflib.get_close_matches(given, values, n=1)
    listed = ", ".join(values)
    if close:
        return f"{shown} is not a known {what}; did you mean '{close[0]}'? (one of: {listed})"
    return f"{shown} is not a known {what}; one of: {listed}"


def _message(err: Any, loc: tuple[Any, ...]) -> str:
    kind = err["type"]
    last = str(loc[-1]) if loc else ""
    if kind == "missing":
        return f"required field is missing; add '{last}:'"
    if kind == "extra_forbidden":
        allowed = _allowed(loc)
        close = difflib.get_close_matches(last, allowed, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        return f"unknown field '{last}'; {hint}allowed here: {', '.join(allowed)}"
    if kind == "enum":
        values = [k.value for k in EventKind] if last == "kind" else None
        if last == "reason":
            values = [r.value for r in ExceptionReason]
        given = str(err.get("input"))
        if values:
            return _one_of(repr(given), last, given, values)
    if kind == "literal_error":
        given = err.get("input")
        expected = str((err.get("ctx") or {}).get("expected", ""))
        values = [v.strip("'") for v in re.split(r", | or ", expected) if v]
        name = next((str(p) for p in reversed(loc) if isinstance(p, str)), last)
        return _one_of(repr(given), f"value for '{name}'", str(given), values)
    if kind == "union_tag_invalid":
        ctx = err.get("ctx") or {}
        tag = str(ctx.get("tag"))
        values = re.findall(r"'([^']*)'", str(ctx.get("expected_tags", "")))
        return _one_of(repr(tag), "fault kind", tag, values)
    msg = str(err["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        msg = msg.removeprefix(prefix)
    return msg
