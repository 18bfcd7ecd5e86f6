"""One module per carrier; each exposes ``NAME`` and ``routes(sim)``.

Adding a carrier means adding its module to :data:`MODULES`; the app, the CLI and the
contract tests pick it up from here.
"""

from __future__ import annotations

from types import ModuleType

from simulator.carriers import dhl, fedex, ups, usps

__all__ = ["MODULES", "dhl", "fedex", "ups", "usps"]

MODULES: dict[str, ModuleType] = {m.NAME: m for m in (ups, fedex, usps, dhl)}
