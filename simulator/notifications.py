"""The email and SMS notifications a carrier sends for a parcel, on the tenant's clock.

A client signs up through the carrier's own operation (FedEx ``/track/v1/notifications``,
USPS ``/tracking/{n}/notifications`` and ``/proof-of-delivery``); the sign-up is kept as a
:class:`Subscription` in the store. What the carrier would have sent is a pure function of
the subscription, the shipment and ``now`` (:func:`messages`): one message for each event
the subscription asks about that happened after the sign-up and by ``now``, and for a
proof-of-delivery letter one message once the signed delivery has happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from simulator.scenario import EventKind
from simulator.timeline import Event, Shipment

ALL = "all"
"""The trigger that matches every event."""

DELIVERY = frozenset({EventKind.delivered})
EXCEPTION = frozenset(
    {
        EventKind.exception,
        EventKind.delivery_attempted,
        EventKind.returned_to_sender,
        EventKind.customs_hold,
        EventKind.cancelled,
    }
)
TODAY = frozenset({EventKind.out_for_delivery})
PICKUP = frozenset({EventKind.available_for_pickup})
TENDER = frozenset({EventKind.picked_up})
DELIVERY_ACTIVITY = DELIVERY | EXCEPTION | PICKUP

# The carriers' event types as the specs name them -> the canonical kinds they are about.
# FedEx: the four TrackingEventNotificationDetail.trackingNotifications names.
# USPS v3: the notifyEventTypes enum; v3r2: its smaller enum. Which kinds each covers is
# [inferred] from the names: no source lists it.
TRIGGERS: dict[str, dict[str, frozenset[EventKind] | None]] = {
    "fedex": {
        "ON_DELIVERY": DELIVERY,
        "ON_EXCEPTION": EXCEPTION,
        "ON_ESTIMATED_DELIVERY": TODAY,
        "ON_TENDER": TENDER,
    },
    "usps": {
        "EMAIL_ALERT": None,
        "EMAIL_FUTURE_DELIVERY": TODAY,
        "EMAIL_DELIVERY/NON_DELIVERY_ACTIVITY": DELIVERY_ACTIVITY,
        "EMAIL_TODAY_DELIVERY": TODAY,
        "EMAIL_AVAILABLE_FOR_PICKUP": PICKUP,
        "PACKAGE_ADDRESSED_TO_ME/MYUSPS_ONLY": None,
        "OTHER_ACTIVITY": None,
        "EXPECTED_DELIVERY": TODAY,
        "DELIVERY_ACTIVITY": DELIVERY_ACTIVITY,
        "ALL_UPDATES": None,
    },
}
"""Per carrier, each notification event type -> the kinds it is sent for (None: every kind)."""


@dataclass(frozen=True, slots=True)
class Subscription:
    """One sign-up: who is told about which events of a parcel, since when."""

    carrier: str
    number: str
    recipients: tuple[str, ...]
    """Email addresses (or, for USPS SMS, ten-digit cell numbers)."""
    event_types: tuple[str, ...]
    """The carrier's own event type names as the request gave them."""
    requested_at: float
    """The tenant's clock (POSIX seconds) at the sign-up."""
    sender: str = ""
    """Who asked (FedEx ``senderContactName``, USPS first and last name)."""
    letter: str | None = None
    """A proof-of-delivery letter request (USPS ``letterType``) instead of event alerts."""

    def kinds(self) -> frozenset[EventKind] | None:
        """The event kinds this sign-up is told about (None: all of them)."""
        table = TRIGGERS.get(self.carrier, {})
        found: set[EventKind] = set()
        for name in self.event_types:
            kinds = table.get(name)
            if kinds is None:
                return None
            found |= kinds
        return frozenset(found)


@dataclass(frozen=True, slots=True)
class Message:
    """One email (or SMS) the carrier would have sent."""

    at: float
    """When (the tenant's clock, POSIX seconds)."""
    to: str
    subject: str
    text: str

    def to_json(self) -> dict[str, str | float]:
        """The admin API's form."""
        return {
            "at": datetime.fromtimestamp(self.at, UTC).isoformat().replace("+00:00", "Z"),
            "to": self.to,
            "subject": self.subject,
            "text": self.text,
        }


_CARRIER_NAMES = {"fedex": "FedEx", "usps": "USPS", "ups": "UPS", "dhl": "DHL"}


def _event_text(event: Event) -> str:
    what = event.description or event.kind.value.replace("_", " ")
    if event.reason is not None:
        what += f" ({event.reason.value.replace('_', ' ')})"
    place = event.place
    where = ", ".join(p for p in (place.city, place.state, place.country) if p)
    local = event.local.strftime("%Y-%m-%d %H:%M")
    return f"{what} at {where} on {local}"


def messages(subscription: Subscription, shipment: Shipment, now: float) -> list[Message]:
    """What the carrier would have sent for this sign-up by ``now``, oldest first."""
    carrier = _CARRIER_NAMES.get(subscription.carrier, subscription.carrier)
    number = subscription.number
    visible = shipment.visible(now)
    out: list[Message] = []
    if subscription.letter is not None:
        signed = shipment.proof_of_delivery(len(visible))
        if signed is not None:
            at = max(signed.at.timestamp(), subscription.requested_at)
            text = (
                f"Proof of delivery for {number}: {_event_text(signed)}, signed by "
                f"{shipment.signer}."
            )
            for to in subscription.recipients:
                out.append(Message(at, to, f"{carrier} proof of delivery for {number}", text))
        return out
    kinds = subscription.kinds()
    for event in visible:
        at = event.at.timestamp()
        if at < subscription.requested_at or (kinds is not None and event.kind not in kinds):
            continue
        subject = f"{carrier} {number}: {event.kind.value.replace('_', ' ')}"
        text = f"Your shipment {number}: {_event_text(event)}."
        for to in subscription.recipients:
            out.append(Message(at, to, subject, text))
    return out
