"""Server settings: one frozen object that the CLI, the app factory and tests share."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

SETTINGS_ENV = "CARRIERSIM_SETTINGS"
_HERE = Path(__file__).resolve().parent
# A built wheel carries the library inside the package (simulator/scenarios); a source
# checkout or an editable install keeps it at the top of the repository.
BUNDLED_SCENARIOS = next(
    (p for p in (_HERE / "scenarios", _HERE.parent / "scenarios") if p.is_dir()),
    _HERE.parent / "scenarios",
)
"""The scenario library that ships with carriersim (and its JSON Schemas)."""


@dataclass(frozen=True)
class Settings:
    """How the simulator behaves; every field has the default a laptop user wants."""

    scenario_paths: tuple[Path, ...] = (BUNDLED_SCENARIOS,)
    fault_paths: tuple[Path, ...] = ()
    """Fault-plan files applied to every request (``carriersim serve --faults``)."""
    seed: int = 0
    mix: bool = True
    clock_start: datetime | None = None
    credentials: Mapping[str, Mapping[str, str]] | None = None
    """Per carrier, the accepted client ids (or DHL keys) and their secrets; None accepts any."""
    not_found: Literal["production", "spec"] = "production"
    """'production' answers unknown numbers as production does (UPS 200 + TW0001);
    'spec' as the carrier's documentation says (UPS 404)."""
    secret: str = ""
    variants: int = 16
    shipment_cache: int = 12288
    admin_token: str | None = None
    """When set, ``/__admin`` requires ``Authorization: Bearer <admin_token>``."""
    admin_hosts: tuple[str, ...] = ()
    """Host names besides the loopback ones under which ``/__admin`` answers without a
    token (``carriersim serve --admin-host``; see :mod:`simulator.guard`)."""
    journal_limit: int = 5000
    """Requests the journal keeps (the oldest fall out first)."""
    render_cache_bytes: int = 27 * 1024 * 1024
    """Bytes of rendered bodies kept (random entries evicted beyond it)."""
    push_timeout: float = 5.0
    """Seconds a push receiver has to answer (connect and read) before the attempt fails."""
    push_tick: float = 0.02
    """Real seconds between two looks for due pushes."""
    push_concurrency: int = 16
    """Subscriptions whose pushes are sent at the same time."""
    push_strict_targets: bool = False
    """FedEx's production rule for webhook URLs (HTTPS, at most 200 characters, no literal
    IP, no localhost); off by default so tests can receive on loopback."""
    push_attempt_limit: int = 5000
    """Delivery attempts ``/__admin/deliveries`` keeps (all tenants together)."""
    smtp: str | None = None
    """``HOST:PORT`` of an SMTP server the carriers' notification emails are sent to."""


def settings_to_env(settings: Settings) -> str:
    """Settings as JSON for worker processes (see :func:`settings_from_env`)."""
    data = asdict(settings)
    data["scenario_paths"] = [str(p) for p in settings.scenario_paths]
    data["fault_paths"] = [str(p) for p in settings.fault_paths]
    data["clock_start"] = settings.clock_start.isoformat() if settings.clock_start else None
    return json.dumps(data)


def settings_from_env() -> Settings:
    """Settings a parent ``carriersim serve`` passed to this worker process."""
    raw = os.environ.get(SETTINGS_ENV)
    if not raw:
        return Settings()
    data = json.loads(raw)
    data["scenario_paths"] = tuple(Path(p) for p in data["scenario_paths"])
    data["fault_paths"] = tuple(Path(p) for p in data["fault_paths"])
    data["admin_hosts"] = tuple(data.get("admin_hosts", ()))
    if data["clock_start"]:
        data["clock_start"] = datetime.fromisoformat(data["clock_start"])
    return Settings(**data)
