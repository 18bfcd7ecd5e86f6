"""The JSON Schema shipped for editors matches the model and accepts the bundled library."""

from __future__ import annotations

import json

import jsonschema
import yaml

from simulator.scenario import scenario_json_schema
from simulator.settings import BUNDLED_SCENARIOS

SCHEMA_FILE = BUNDLED_SCENARIOS / "scenario.schema.json"


def test_shipped_schema_is_current() -> None:
    shipped = json.loads(SCHEMA_FILE.read_text())
    assert shipped == scenario_json_schema(), (
        "scenarios/scenario.schema.json is stale; regenerate it with "
        "`carriersim schema > scenarios/scenario.schema.json`"
    )


def test_bundled_scenarios_satisfy_the_schema() -> None:
    schema = json.loads(SCHEMA_FILE.read_text())
    validator = jsonschema.Draft202012Validator(schema)
    files = sorted(BUNDLED_SCENARIOS.glob("*.yaml"))
    assert files
    for path in files:
        data = yaml.safe_load(path.read_text())
        errors = [e.message for e in validator.iter_errors(data)]
        assert not errors, f"{path.name}: {errors}"


def test_schema_rejects_unknown_kind() -> None:
    validator = jsonschema.Draft202012Validator(json.loads(SCHEMA_FILE.read_text()))
    bad = {"name": "x", "events": [{"at": "0h", "kind": "teleported"}]}
    assert not validator.is_valid(bad)


PLAN_SCHEMA = BUNDLED_SCENARIOS / "fault-plan.schema.json"


def test_shipped_fault_plan_schema_is_current() -> None:
    from simulator.faults import fault_plan_json_schema

    assert json.loads(PLAN_SCHEMA.read_text()) == fault_plan_json_schema(), (
        "scenarios/fault-plan.schema.json is stale; regenerate it with "
        "`carriersim schema --faults > scenarios/fault-plan.schema.json`"
    )


def test_example_plans_satisfy_the_schema_and_load() -> None:
    from simulator.loader import load_fault_plan

    validator = jsonschema.Draft202012Validator(json.loads(PLAN_SCHEMA.read_text()))
    plans = sorted((BUNDLED_SCENARIOS / "plans").glob("*.yaml"))
    assert plans
    for path in plans:
        assert not list(validator.iter_errors(yaml.safe_load(path.read_text())))
        assert load_fault_plan(path).faults
