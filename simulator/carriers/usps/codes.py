"""USPS vocabulary: scan codes, event types, status categories and sentences per canonical event,
and the mail classes.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from simulator.scenario import EventKind, ExceptionReason, Service
from simulator.timeline import Place, Shipment

NAME = "usps"

API_V3 = "/tracking/v3"
API_V3R2 = "/tracking/v3r2"
"""The ``apiVersion`` each tracking API writes into its error envelope [obs: NOTES §3.6],
and the prefix of its paths."""


# --------------------------------------------------------------------------------------------
# Code tables: canonical kind -> USPS eventCode, eventType, statusCategory, status sentence
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Scan:
    """What USPS prints for one scan.

    ``summary`` is the ``statusSummary`` sentence when this scan is the newest one:
    ``{time}`` is like ``1:10 pm``, ``{date}`` like ``November 23, 2024`` and ``{where}``
    the scan's place as USPS writes it (``MILWAUKEE, WI 53207`` or a facility name).
    """

    code: str | None
    event_type: str
    category: str
    summary: str


_MOVING = "Moving Through Network"  # [obs] statusCategory of regional-facility scans
_IN_TRANSIT_TAIL = " The item is currently in transit to the destination."

SCANS: dict[EventKind, Scan] = {
    # [obs: KAR-USPS, USPS-FIX] GX "Shipping Label Created, USPS Awaiting Item"; category
    # "Pre-Shipment" [obs NOTES §3.5]; sentence [unverified].
    EventKind.label_created: Scan(
        "GX",
        "Shipping Label Created, USPS Awaiting Item",
        "Pre-Shipment",
        "A shipping label has been prepared for your item at {time} on {date} in {where}. "
        "This does not indicate receipt by the USPS or the actual mailing date.",
    ),
    # [obs: KAR-USPS, USPS-FIX, USPS README] 03, category, sentence.
    EventKind.picked_up: Scan(
        "03",
        "USPS in possession of item",
        "Accepted",
        "USPS is now in possession of your item as of {time} on {date} in {where}.",
    ),
    # [obs: KAR-USPS, USPS-FIX] A1 (10 for the first regional facility, 07 at the delivery
    # Post Office: see scan_for); category and sentence [obs: USPS-FIX in-progress body].
    EventKind.arrived_at_facility: Scan(
        "A1",
        "Arrived at USPS Regional Facility",
        _MOVING,
        "Your item arrived at our USPS facility in {where} on {date} at {time}." + _IN_TRANSIT_TAIL,
    ),
    # [obs: KAR-USPS, USPS-FIX] T1 (SF when leaving the origin Post Office: see scan_for);
    # sentence [unverified], modelled on the arrival one.
    EventKind.departed_facility: Scan(
        "T1",
        "Departed USPS Regional Facility",
        _MOVING,
        "Your item departed our USPS facility in {where} on {date} at {time}." + _IN_TRANSIT_TAIL,
    ),
    # [obs: KAR-USPS] TL, live without place; category "In Transit" [obs NOTES §3.5];
    # sentence [unverified].
    EventKind.in_transit: Scan(
        "TL",
        "In Transit to Next Facility",
        "In Transit",
        "Your item is in transit to the next facility as of {time} on {date}." + _IN_TRANSIT_TAIL,
    ),
    # [unverified] NOTES lists no USPS customs scan code: eventCode null, texts invented.
    EventKind.customs_hold: Scan(
        None,
        "Held in Customs",
        "Alert",
        "Your item is being held in customs in {where} as of {time} on {date}.",
    ),
    # [unverified] as customs_hold.
    EventKind.customs_cleared: Scan(
        None,
        "Customs Clearance",
        "In Transit",
        "Your item cleared customs in {where} at {time} on {date}." + _IN_TRANSIT_TAIL,
    ),
    # [obs: KAR-USPS, USPS-FIX] OF; category [obs NOTES §3.5]; sentence [unverified].
    EventKind.out_for_delivery: Scan(
        "OF",
        "Out for Delivery",
        "Out for Delivery",
        "Your item is out for delivery on {date} at {time} in {where}.",
    ),
    # [obs: NOTES §3.5, USPS-CODES] 52 "Notice Left"; category "Delivery Attempt" [obs];
    # sentence [unverified].
    EventKind.delivery_attempted: Scan(
        "52",
        "Notice Left",
        "Delivery Attempt",
        "We attempted to deliver your item at {time} on {date} in {where} and a notice was "
        "left. You can schedule redelivery or pick up your item at the Post Office.",
    ),
    # [obs: NOTES §3.5, USPS-CODES] 16; category [obs]; sentence [unverified].
    EventKind.available_for_pickup: Scan(
        "16",
        "Available for Pickup",
        "Available for Pickup",
        "Your item arrived at the Post Office at {time} on {date} in {where} and is ready "
        "for pickup.",
    ),
    # [obs: NOTES §3.9 status, spec statusSummary example for the sentence] 01.
    EventKind.delivered: Scan(
        "01",
        "Delivered, Front Door/Porch",
        "Delivered",
        "Your item was delivered at the front door or porch at {time} on {date} in {where}.",
    ),
    # [obs: NOTES §3.5, USPS-CODES] 06 "Forwarded": the item moves on to the corrected
    # address; category and sentence [unverified].
    EventKind.address_corrected: Scan(
        "06",
        "Forwarded",
        "In Transit",
        "Your item was forwarded to a corrected address at {time} on {date} in {where}."
        + _IN_TRANSIT_TAIL,
    ),
    # [obs: NOTES §3.5, USPS-CODES] 09 "Return to Sender"; category "Returning to Sender"
    # [obs NOTES §3.5]; sentence [unverified].
    EventKind.returned_to_sender: Scan(
        "09",
        "Return to Sender",
        "Returning to Sender",
        "Your item is being returned to the sender as of {time} on {date} in {where}.",
    ),
    # [obs: NOTES §3.5, USPS-CODES] 44 "Customer Recall": the shipper withdrew the item;
    # category and sentence [unverified].
    EventKind.cancelled: Scan(
        "44",
        "Customer Recall",
        "Alert",
        "Your item was recalled by the sender at {time} on {date} in {where}.",
    ),
}
"""Every EventKind but ``exception`` (see :data:`EXCEPTION_SCANS`)."""

EXCEPTION_SCANS: dict[ExceptionReason, Scan] = {
    # [unverified] no weather scan in NOTES: eventCode null.
    ExceptionReason.weather: Scan(
        None,
        "Delayed Due to Weather",
        "Alert",
        "Your item was delayed by severe weather in {where} as of {time} on {date}.",
    ),
    # [unverified] no delay scan in NOTES: eventCode null.
    ExceptionReason.delay: Scan(
        None,
        "In Transit, Arriving Late",
        "In Transit",
        "Your package will arrive later than expected, but is still on its way. It was last "
        "scanned in {where} at {time} on {date}.",
    ),
    # [obs: NOTES §3.5, USPS-CODES] 22 "Insufficient Address"; category "Alert" [obs];
    # sentence [unverified].
    ExceptionReason.address: Scan(
        "22",
        "Insufficient Address",
        "Alert",
        "Your item could not be delivered at {time} on {date} in {where} because the address "
        "was insufficient.",
    ),
    # [unverified] no damage scan in NOTES: eventCode null.
    ExceptionReason.damaged: Scan(
        None,
        "Item Damaged",
        "Alert",
        "Your item was found damaged in {where} at {time} on {date}.",
    ),
    # [obs: NOTES §3.9 status "Awaiting Delivery"]; eventCode null, sentence [unverified].
    ExceptionReason.lost: Scan(
        None,
        "Awaiting Delivery",
        "Alert",
        "Your item has not been scanned since it left {where}. We are looking for it as of "
        "{time} on {date}.",
    ),
    # [obs: NOTES §3.5, USPS-CODES] 04 "Refused"; category "Alert" [obs]; sentence
    # [unverified].
    ExceptionReason.refused: Scan(
        "04",
        "Refused",
        "Alert",
        "Your item was refused by the addressee at {time} on {date} in {where} and is being "
        "returned to the sender.",
    ),
    # [obs: NOTES §3.5, USPS-CODES] 56 "No Authorized Recipient Available"; category
    # "Delivery Attempt" [obs]; sentence [unverified].
    ExceptionReason.recipient_unavailable: Scan(
        "56",
        "No Authorized Recipient Available",
        "Delivery Attempt",
        "We attempted to deliver your item at {time} on {date} in {where} but no authorized "
        "recipient was available.",
    ),
}

FIRST_REGIONAL_ARRIVAL = Scan(
    "10",
    "Arrived at USPS Regional Origin Facility",
    _MOVING,
    SCANS[EventKind.arrived_at_facility].summary,
)
"""[obs: KAR-USPS] the first arrival at a network facility after acceptance."""

POST_OFFICE_ARRIVAL = Scan(
    "07",
    "Arrived at Post Office",
    _MOVING,
    "Your item arrived at the Post Office at {time} on {date} in {where}.",
)
"""[obs: KAR-USPS, USPS-FIX] arrival at the delivering Post Office; sentence [unverified]."""

POST_OFFICE_DEPARTURE = Scan(
    "SF",
    "Departed Post Office",
    _MOVING,
    "Your item departed the Post Office in {where} at {time} on {date}." + _IN_TRANSIT_TAIL,
)
"""[obs: KAR-USPS, USPS-FIX] departure from the accepting Post Office; sentence [unverified]."""


class Role(Enum):
    """Where on its route a scan happened, which picks USPS's facility wording."""

    origin = "origin"
    network = "network"
    destination = "destination"


def role_of(shipment: Shipment, place: Place) -> Role:
    """The accepting Post Office, the delivering one, or a network facility between."""
    if place == shipment.shipper.place:
        return Role.origin
    if place == shipment.recipient.place:
        return Role.destination
    return Role.network


def scan_for(shipment: Shipment, index: int) -> Scan:
    """The scan USPS shows for the shipment's event at ``index`` (depends on earlier events)."""
    event = shipment.events[index]
    kind = event.kind
    if kind is EventKind.exception:
        assert event.reason is not None
        return EXCEPTION_SCANS[event.reason]
    if kind is EventKind.arrived_at_facility:
        role = role_of(shipment, event.place)
        if role is Role.destination:
            return POST_OFFICE_ARRIVAL
        # A copy of this very scan (duplicate_scans) is no earlier arrival: it reads the same.
        earlier = shipment.events[:index]
        if role is Role.network and not any(
            e.kind is EventKind.arrived_at_facility and e != event for e in earlier
        ):
            return FIRST_REGIONAL_ARRIVAL
    if kind is EventKind.departed_facility and role_of(shipment, event.place) is Role.origin:
        return POST_OFFICE_DEPARTURE
    return SCANS[kind]


# --------------------------------------------------------------------------------------------
# Mail classes (Service level -> USPS product)
# --------------------------------------------------------------------------------------------

TRACKING_SERVICE = "USPS Tracking<SUP>&#174;</SUP>"
INSURANCE_SERVICE = "Up to $100 insurance included"
"""``services`` entries as live [obs: KAR-USPS, USPS-FIX]."""


@dataclass(frozen=True, slots=True)
class MailClass:
    """A USPS product as the tracking API prints it."""

    name: str
    service_type_code: str | None
    class_code: str | None
    services: tuple[str, ...]


MAIL_CLASSES: dict[tuple[Service, bool], MailClass] = {
    # [obs: KAR-USPS] name, serviceTypeCode 001, services.
    (Service.ground, False): MailClass(
        "USPS Ground Advantage<SUP>&#153;</SUP>", "001", None, (TRACKING_SERVICE, INSURANCE_SERVICE)
    ),
    # [obs: USPS README (v1 body)] "Priority Mail<SUP>&reg;</SUP>", ClassOfMailCode PM,
    # same services; the entity is written numerically as v3 writes its services
    # [unverified]; serviceTypeCode unknown -> null.
    (Service.priority, False): MailClass(
        "Priority Mail<SUP>&#174;</SUP>", None, "PM", (TRACKING_SERVICE, INSURANCE_SERVICE)
    ),
    # [unverified] product name per NOTES §3; entity and services modelled on Priority Mail.
    (Service.express, False): MailClass(
        "Priority Mail Express<SUP>&#174;</SUP>", None, None, (TRACKING_SERVICE, INSURANCE_SERVICE)
    ),
    # [obs: USPS-FIX] "Parcel Select", serviceTypeCode 612, tracking only: the economy
    # (bulk ground) product.
    (Service.economy, False): MailClass("Parcel Select", "612", None, (TRACKING_SERVICE,)),
    # International outbound [unverified]: names from the spec's mailClass enum
    # (PRIORITY_MAIL_EXPRESS_INTERNATIONAL, PRIORITY_MAIL_INTERNATIONAL_PARCELS,
    # FIRST-CLASS_PACKAGE_INTERNATIONAL_SERVICE) written as live names with entities.
    (Service.express, True): MailClass(
        "Priority Mail Express International<SUP>&#153;</SUP>", None, None, (TRACKING_SERVICE,)
    ),
    (Service.priority, True): MailClass(
        "Priority Mail International<SUP>&#174;</SUP>", None, None, (TRACKING_SERVICE,)
    ),
    (Service.ground, True): MailClass(
        "First-Class Package International Service<SUP>&#174;</SUP>",
        None,
        None,
        (TRACKING_SERVICE,),
    ),
    (Service.economy, True): MailClass(
        "First-Class Package International Service<SUP>&#174;</SUP>",
        None,
        None,
        (TRACKING_SERVICE,),
    ),
}

MAIL_TYPE_V3 = {False: "DM", True: "IM"}
"""[obs] ``DM`` live for domestic; ``IM`` is the code the spec's mailType text names for
international mail [spec: TrackingDetails.mailType description]."""

MAIL_TYPE_V3R2 = {False: "Domestic", True: "International Outbound"}
"""[unverified] words from the 3.2 spec's own mailType description ("e.g. Domestic,
International Inbound, Military Outbound")."""
