"""One package per carrier, each exposing ``CARRIER``: a :class:`.contract.Carrier`.

Adding a carrier means adding its package and its ``CARRIER`` to :data:`CARRIERS`; the app,
the CLI and the contract tests pick it up from here, and mypy checks it against the contract.
"""

from __future__ import annotations

from simulator.carriers import dhl, fedex, ups, usps
from simulator.carriers.contract import Carrier

__all__ = ["CARRIERS", "Carrier", "dhl", "fedex", "ups", "usps"]

_ALL: tuple[Carrier, ...] = (ups.CARRIER, fedex.CARRIER, usps.CARRIER, dhl.CARRIER)

CARRIERS: dict[str, Carrier] = {c.name: c for c in _ALL}
"""Every carrier by name, in the order their routes are matched."""
