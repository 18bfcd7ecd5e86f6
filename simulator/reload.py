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

_POLL_MS = 200
"""How long the watcher waits for a change before looking at its stop event again; its
first wait ending is also the sign that it is watching."""


def _filter(paths: Sequence[Path]) -> Callable[[watchfiles.Change, str], bool]:
    """Which changes concern the scenarios: the named files, and scenario files directly
    inside the named directories (the loader does not recurse either)."""
    files = {p.resolve() for p in paths if not p.is_dir()}
    folders = {p.resolve() for p in paths if p.is_dir()}

    def relevant(change: watchfiles.Change, path: str) -> bool:
        changed = Path(path).resolve()
        if changed in files:
            return True
        return changed.suffix in SUFFIXES and changed.parent in folders

    return relevant


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
    ready_timeout: float = 5.0,
) -> Callable[[], None]:
    """Watch ``paths`` in a background thread; returns a function that stops watching.

    Returns once the watcher is in place (at most ``ready_timeout`` seconds), so a file
    saved after this call is never missed.
    """
    stop = threading.Event()
    ready = threading.Event()
    watched = sorted({p if p.is_dir() else p.parent for p in paths})

    def run() -> None:
        try:
            for changes in watchfiles.watch(
                *watched,
                watch_filter=_filter(paths),
                debounce=debounce_ms,
                rust_timeout=_POLL_MS,
                yield_on_timeout=True,
                stop_event=stop,
                raise_interrupt=False,
                recursive=False,
            ):
                ready.set()
                if not changes:
                    continue
                try:
                    reload_once(control, report)
                except Exception as exc:  # keep watching: the next save may fix it
                    report(f"reload failed: {exc!r}")
        except Exception as exc:  # the server keeps serving; say why reloading stopped
            report(f"live reload stopped: {exc!r}")
        finally:
            ready.set()

    thread = threading.Thread(target=run, name="carriersim-reload", daemon=True)
    thread.start()
    ready.wait(ready_timeout)

    def stop_watching() -> None:
        stop.set()
        thread.join(5)

    return stop_watching
