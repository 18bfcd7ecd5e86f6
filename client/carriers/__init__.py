"""One adapter per carrier; :data:`ADAPTERS` is the registry the clients and the CLI use.

Adding a carrier means one module here (a :class:`~client.carriers.base.CarrierAdapter`),
its entry below, its formats in :mod:`client.detect`, and a member of
:class:`~client.model.Carrier`.
"""

from __future__ import annotations

from collections.abc import Mapping

from client.carriers.base import CarrierAdapter, CarrierConfig, Outcome
from client.carriers.dhl import DhlAdapter
from client.carriers.fedex import FedexAdapter
from client.carriers.ups import UpsAdapter
from client.carriers.usps import UspsAdapter
from client.model import Carrier

__all__ = ["ADAPTERS", "CarrierAdapter", "CarrierConfig", "Outcome"]

ADAPTERS: Mapping[Carrier, CarrierAdapter] = {
    Carrier.ups: UpsAdapter(),
    Carrier.fedex: FedexAdapter(),
    Carrier.usps: UspsAdapter(),
    Carrier.dhl: DhlAdapter(),
}
"""The adapter for each carrier (adapters hold no state, so one instance serves all)."""
