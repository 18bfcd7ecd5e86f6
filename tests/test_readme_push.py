"""The README's "Push webhooks" examples run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.plugin.test_plugin import inner, run

pytest_plugins = ["pytester"]

__all__ = ["inner"]  # the fixture, used below

README = Path(__file__).resolve().parent.parent / "README.md"


def _section_examples() -> list[str]:
    text = README.read_text("utf-8")
    section = text.split("\n## Push webhooks\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.DOTALL)


def test_the_section_has_its_three_examples() -> None:
    assert len(_section_examples()) == 3


def test_receiver_example() -> None:
    namespace: dict[str, object] = {}
    exec(compile(_section_examples()[0], "README.md", "exec"), namespace)
    assert type(namespace["app"]).__name__ == "PushApp"


def test_fixture_example(inner: pytest.Pytester) -> None:
    inner.makepyfile(test_readme_example=_section_examples()[1])
    run(inner).assert_outcomes(passed=1)


def test_subscription_example(inner: pytest.Pytester) -> None:
    inner.makepyfile(test_readme_subscription=_section_examples()[2])
    run(inner).assert_outcomes(passed=1)
