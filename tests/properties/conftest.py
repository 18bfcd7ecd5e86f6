"""Property-test reporting: how many requests the hostile-client fuzz generated."""

from __future__ import annotations

import sys

import pytest


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say how many generated requests the hostile-client properties sent in this process."""
    module = sys.modules.get("tests.properties.test_hostile_clients")
    sent = getattr(module, "SENT", [0])[0] if module is not None else 0
    if sent:
        terminalreporter.write_line(f"hostile clients: {sent} generated requests sent")
