"""What a verified push delivery becomes: updates in the same model as tracking (frozen)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from client.model import Carrier, Event, Status, TrackingResult

__all__ = ["PushDelivery", "PushUpdate"]


@dataclass(frozen=True, slots=True)
class PushUpdate:
    """One shipment's state as one push told it, as a :class:`TrackingResult`.

    A UPS push carries one scan, so its result has one event; FedEx, USPS and DHL pushes
    carry the shipment's whole record, so theirs reads like a tracking answer. Fold updates
    with :func:`client.push.fold` to get the current state of a number.
    """

    carrier: Carrier
    number: str
    result: TrackingResult
    delivery_id: str
    """Identity of the delivery it came in (the same for a carrier's resend of it)."""
    subscription_id: str | None = None
    sent_at: datetime | None = None
    """When the carrier says it sent the message (USPS ``timestamp``), if it says."""

    @property
    def status(self) -> Status:
        """The shipment's status according to this push."""
        return self.result.status

    @property
    def events(self) -> tuple[Event, ...]:
        """The scans this push carries, oldest first."""
        return self.result.events


@dataclass(frozen=True, slots=True)
class PushDelivery:
    """One verified HTTP delivery from a carrier and what it said."""

    carrier: Carrier
    delivery_id: str
    """sha256 (hex) of the carrier and the body's JSON with sorted keys."""
    updates: tuple[PushUpdate, ...] = ()
    subscription_id: str | None = None
    sent_at: datetime | None = None
    scope: str | None = None
    """DHL's ``scope`` (``subscription.push``, ``subscription.failure``…), when given."""
    secret: str | None = None
    """DHL's hook secret in an activation message: send it back as ``DHL-API-Hook-Secret``
    to ``POST /subscription/{subscription_id}`` to activate the subscription."""
    failure: Mapping[str, Any] | None = None
    """DHL's ``failure`` problem object, when the message reports one."""
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False, hash=False)

    @property
    def is_activation(self) -> bool:
        """Whether this is DHL's activation message (a secret, no shipments)."""
        return self.secret is not None and not self.updates
