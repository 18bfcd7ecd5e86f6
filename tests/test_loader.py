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
    assert msg.startswith(f"{path}:7: carriers[1]: 'royalmail' is not a known value")
    assert msg.endswith("one of: ups, fedex, usps, dhl")


def test_not_a_mapping_and_empty(tmp_path: Path) -> None:
    assert "must be a mapping" in only_problem(write(tmp_path, "- a\n- b\n"))
    assert "the file is empty" in only_problem(write(tmp_path, "", "e.yaml"))


def test_missing_file(tmp_path: Path) -> None:
    assert "file not found" in only_problem(tmp_path / "nope.yaml")


def test_implausible_declared_number(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD + "numbers:\n  fedex: ['12AB']\n")
    _, problems = check_paths([path])
    assert [str(p) for p in problems] == [
        f"{path}:8: numbers.fedex[0]: '12AB' is not a FedEx tracking number (12, 15, 20 or "
        "22 digits); generate one with `carriersim numbers fedex`"
    ]


def test_declared_number_with_a_bad_check_digit_names_the_right_one(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD + "numbers:\n  ups: ['1ZY1PMRS0113639241']\n")
    _, problems = check_paths([path])
    assert [str(p) for p in problems] == [
        f"{path}:8: numbers.ups[0]: '1ZY1PMRS0113639241' fails the UPS check digit (format "
        "1z); the check digit should be 0, as in '1ZY1PMRS0113639240'; or generate one with "
        "`carriersim numbers ups`"
    ]


@pytest.mark.parametrize(
    ("fault", "field", "wanted"),
    [
        ("{kind: quirk, mode: status_regresion}", "faults[0].mode", "status_regression"),
        ("{kind: htp_error, status: 503}", "faults[0].kind", "http_error"),
        ("{kind: connection, mode: truncated}", "faults[0].mode", "truncate"),
    ],
)
def test_fault_typos_get_a_did_you_mean(
    tmp_path: Path, fault: str, field: str, wanted: str
) -> None:
    path = write(tmp_path, GOOD + f"faults:\n  - {fault}\n")
    msg = only_problem(path)
    assert msg.startswith(f"{path}:8: {field}: "), msg
    assert f"did you mean '{wanted}'?" in msg


def test_a_carrier_typo_is_one_problem(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD + "carriers: [fedx]\n")
    assert only_problem(path) == (
        f"{path}:7: carriers[0]: 'fedx' is not a known value for 'carriers'; did you mean "
        "'fedex'? (one of: ups, fedex, usps, dhl)"
    )


def test_an_event_out_of_order_is_reported_at_its_own_line(tmp_path: Path) -> None:
    text = """\
    name: back-in-time
    events:
      - {at: 0h, kind: label_created}
      - {at: 1d 2h, kind: picked_up}
      - {at: 4h, kind: delivered}
    """
    path = write(tmp_path, text)
    assert only_problem(path) == (
        f"{path}:5: events[2].at: events must be in time order: event 2 (at 4h) comes before "
        "event 1 (at 1d 2h); reorder them or fix 'at'"
    )


def test_numbers_for_a_carrier_left_out_point_at_the_numbers(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD + "carriers: [ups]\nnumbers:\n  fedex: ['110622546114']\n")
    msg = only_problem(path)
    assert msg.startswith(f"{path}:9: numbers.fedex: numbers are given for 'fedex'"), msg


def test_own_scenario_named_like_a_bundled_one_replaces_it(tmp_path: Path) -> None:
    mine = GOOD.replace("name: tiny", "name: delivered-on-time")
    write(tmp_path, mine + "numbers:\n  ups: ['1Z999AA10123456784']\n", "mine.yaml")
    bundled = {s.name: s for s in load_paths([BUNDLED_SCENARIOS])}
    scenarios = {s.name: s for s in load_paths([BUNDLED_SCENARIOS, tmp_path])}
    assert set(scenarios) == set(bundled)
    replaced = scenarios["delivered-on-time"]
    assert replaced.numbers == {"ups": ("1Z999AA10123456784",)}
    assert replaced != bundled["delivered-on-time"]


def test_own_scenarios_share_one_namespace(tmp_path: Path) -> None:
    # Only a bundled name can be taken over; two of the user's own files still collide.
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        write(tmp_path / folder, GOOD, "x.yaml")
    _, problems = check_paths([BUNDLED_SCENARIOS, tmp_path / "a", tmp_path / "b"])
    assert [p.message for p in problems] == [
        f"'tiny' is already the name of {tmp_path / 'a' / 'x.yaml'}; scenario names must be unique"
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
    # What this project ships, by name: a scenario a user adds to the folder (say for one
    # carrier) is theirs to shape and must not break the project's tests.
    scenarios = {s.name: s for s in load_paths([BUNDLED_SCENARIOS])}
    assert set(SHIPPED) <= set(scenarios)
    for name in SHIPPED:
        assert set(scenarios[name].carriers) == {"ups", "fedex", "usps", "dhl"}, name


SHIPPED = (
    "delivered-on-time", "delivered-late", "out-for-delivery",
    "failed-attempt-held-for-pickup", "weather-delay", "customs-hold-released",
    "address-corrected", "damaged", "lost-in-transit", "returned-to-sender",
    "label-created-never-shipped", "cancelled", "unknown-number",
    "rate-limited-then-ok", "flaky-gateway", "slow-carrier", "token-expires-mid-run",
    "carrier-outage-window", "out-of-order-scans", "duplicate-scans", "missing-offsets",
    "status-regression", "truncated-body",
)  # fmt: skip
"""The scenarios the library ships (README 'Scenarios' and 'Faults' name each of them)."""
