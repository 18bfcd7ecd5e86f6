"""Scenario loading: every kind of mistake gives an error naming file, line, field and fix."""

from __future__ import annotations

import textwrap
from datetime import timedelta
from pathlib import Path

import pytest

from simulator.loader import ScenarioError, check_paths, load_file, load_paths
from simulator.scenario import EventKind
from simulator.settings import BUNDLED_SCENARIOS

GOOD = """\
name: tiny
events:
  - at: 0h
    kind: label_created
  - at: 1d 4h
    kind: delivered
"""


def write(tmp_path: Path, text: str, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def only_problem(path: Path) -> str:
    with pytest.raises(ScenarioError) as info:
        load_file(path)
    assert len(info.value.problems) == 1, info.value.problems
    return str(info.value.problems[0])


def test_good_file_loads_with_parsed_durations(tmp_path: Path) -> None:
    scenario = load_file(write(tmp_path, GOOD))
    assert scenario.name == "tiny"
    assert [e.kind for e in scenario.events] == [EventKind.label_created, EventKind.delivered]
    assert scenario.events[1].at == timedelta(days=1, hours=4)


def test_name_defaults_to_file_stem(tmp_path: Path) -> None:
    text = GOOD.replace("name: tiny\n", "")
    assert load_file(write(tmp_path, text, "from-file.yaml")).name == "from-file"


def test_yaml_syntax_error_names_line(tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\nevents:\n  - at: 0h\n   kind: label_created\n")
    msg = only_problem(path)
    assert msg.startswith(f"{path}:4: YAML syntax")
    assert "indentation" in msg


def test_misspelt_kind_suggests_the_right_one(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("kind: delivered", "kind: deliverd"))
    msg = only_problem(path)
    assert msg.startswith(f"{path}:6: events[1].kind:")
    assert "did you mean 'delivered'?" in msg


def test_unknown_field_lists_allowed_fields(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("  - at: 0h\n", "  - at: 0h\n    locaton: hub\n"))
    msg = only_problem(path)
    assert msg.startswith(f"{path}:4: events[0].locaton: unknown field 'locaton'")
    assert "did you mean 'location'?" in msg


def test_missing_required_field(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("  - at: 1d 4h\n", "  -\n"))
    msg = only_problem(path)
    assert "events[1].at: required field is missing; add 'at:'" in msg
    assert msg.startswith(f"{path}:6:")


def test_bad_duration_explains_the_form(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("1d 4h", "tomorrow"))
    msg = only_problem(path)
    assert msg.startswith(f"{path}:5: events[1].at:")
    assert "'1d 4h'" in msg


def test_events_out_of_order(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("at: 0h", "at: 2d"))
    msg = only_problem(path)
    assert "events must be in time order" in msg and "reorder" in msg


def test_exception_needs_reason(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("kind: delivered", "kind: exception"))
    msg = only_problem(path)
    assert msg.startswith(f"{path}:5: events[1]:")
    assert "needs a reason" in msg and "weather" in msg


def test_reason_on_wrong_kind(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("kind: delivered", "kind: delivered\n    reason: lost"))
    assert "'reason' only belongs to kind 'exception'" in only_problem(path)


def test_bad_location_reference(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("kind: delivered", "kind: delivered\n    location: home"))
    msg = only_problem(path)
    assert "events[1].location" in msg and "origin, hub, destination" in msg


def test_bad_country_code(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD + "route: {origin: usa}\n")
    msg = only_problem(path)
    assert "route.origin" in msg and "ISO country code" in msg


def test_unknown_carrier(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD + "carriers: [ups, royalmail]\n")
    msg = only_problem(path)
    assert msg.startswith(f"{path}:7: carriers[1]:") and "'ups'" in msg


def test_not_a_mapping_and_empty(tmp_path: Path) -> None:
    assert "must be a mapping" in only_problem(write(tmp_path, "- a\n- b\n"))
    assert "the file is empty" in only_problem(write(tmp_path, "", "e.yaml"))


def test_missing_file(tmp_path: Path) -> None:
    assert "file not found" in only_problem(tmp_path / "nope.yaml")


def test_implausible_declared_number(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD + "numbers:\n  fedex: ['12AB']\n")
    _, problems = check_paths([path])
    assert [str(p) for p in problems] == [
        f"{path}:8: numbers.fedex[0]: '12AB' is not a FEDEX tracking number; "
        "generate one with `carriersim numbers fedex`"
    ]


def test_duplicate_names_and_numbers_across_files(tmp_path: Path) -> None:
    body = GOOD + "numbers:\n  ups: ['1Z999AA10123456784']\n"
    write(tmp_path, body, "a.yaml")
    write(tmp_path, body, "b.yaml")
    write(tmp_path, body.replace("name: tiny", "name: other"), "c.yaml")
    _, problems = check_paths([tmp_path])
    text = "\n".join(map(str, problems))
    assert "b.yaml:1: name: 'tiny' is already the name of" in text
    assert "c.yaml:8: numbers.ups[0]: '1Z999AA10123456784' is already bound to" in text


def test_all_problems_reported_together(tmp_path: Path) -> None:
    write(tmp_path, GOOD.replace("kind: delivered", "kind: nope"), "a.yaml")
    write(tmp_path, GOOD.replace("1d 4h", "soon"), "b.yaml")
    with pytest.raises(ScenarioError) as info:
        load_paths([tmp_path])
    assert len(info.value.problems) == 2


def test_bundled_library_is_valid_and_runs_on_all_carriers() -> None:
    scenarios = load_paths([BUNDLED_SCENARIOS])
    names = {s.name for s in scenarios}
    assert {
        "delivered-on-time", "delivered-late", "out-for-delivery",
        "failed-attempt-held-for-pickup", "weather-delay", "customs-hold-released",
        "address-corrected", "damaged", "lost-in-transit", "returned-to-sender",
        "label-created-never-shipped", "cancelled", "unknown-number",
    } <= names  # fmt: skip
    for s in scenarios:
        assert set(s.carriers) == {"ups", "fedex", "usps", "dhl"}, s.name
