"""Live reload: watch the scenario files and apply changes without a restart.

A change is loaded and validated in full before it replaces anything; a broken file is
reported (file, line, field, fix) and the last good version keeps serving.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import watchfiles

from simulator.control import AdminError, Control
from simulator.loader import SUFFIXES

log = logging.getLogger("carriersim.reload")


def _relevant(change: watchfiles.Change, path: str) -> bool:
    return Path(path).suffix in SUFFIXES


def reload_once(control: Control, report: Callable[[str], None]) -> bool:
    """Reload the scenarios now; whether the new version is being served."""
    try:
        result = control.reload()
    except AdminError as exc:
        report(exc.message)
        return False
    report(f"reloaded {result['reloaded']} scenario(s)")
    return True


def start(
    control: Control,
    paths: Sequence[Path],
    report: Callable[[str], None] = log.warning,
    debounce_ms: int = 200,
) -> Callable[[], None]:
    """Watch ``paths`` in a background thread; returns a function that stops watching."""
    stop = threading.Event()
    watched = [p if p.is_dir() else p.parent for p in paths]

    def run() -> None:
        for _changes in watchfiles.watch(
            *watched,
            watch_filter=_relevant,
            debounce=debounce_ms,
            stop_event=stop,
            raise_interrupt=False,
        ):
            reload_once(control, report)

    thread = threading.Thread(target=run, name="carriersim-reload", daemon=True)
    thread.start()

    def stop_watching() -> None:
        stop.set()
        thread.join(5)

    return stop_watching
