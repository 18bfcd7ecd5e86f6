"""UPS vocabulary: status types and codes per canonical event, status names and services."""

from __future__ import annotations

from dataclasses import dataclass

from simulator.scenario import EventKind, ExceptionReason
from simulator.timeline import Event

NAME = "ups"


@dataclass(frozen=True, slots=True)
class UpsStatus:
    """What UPS prints for one canonical event."""

    type: str
    """Activity status type letter (N§1.5): M, P, I, X, D, MV."""
    code: str
    """2-character activity code (``status.code``)."""
    status_code: str
    """3-digit status/description code, zero-padded (N§1.5)."""
    description: str
    """The activity text, as UPS writes it (trailing spaces included)."""
    milestone: str | None
    """Milestone category (ISS7), None where no source gives one."""


# 3-digit status code -> its name in the appendix list (N§1.5). currentStatus and the
# package-level statusDescription print this name.
STATUS_NAMES: dict[str, str] = {
    "003": "Shipment Ready for UPS",
    "005": "On the Way",
    "007": "Shipment Information Voided",
    "011": "Delivered",
    "012": "Clearance in Progress",
    "013": "Exception",
    "014": "Clearance Completed",
    "017": "Held for Customer Pickup",
    "021": "Out for Delivery",
    "022": "First Attempt Made",
    "028": "Delivery Address Changed",
    "029": "Exception: Action Required",
    "035": "Returning to Sender",
    "038": "Picked Up by UPS",
    "048": "Delay",
    "052": "Delay: Severe Weather",
    "059": "Damage Reported",
    "060": "Delivery Attempted",
    "064": "Delivery Refused",
}

# Canonical kind -> UPS.  Where ISS7 lists the (activity code, status code) pair, the pair is
# taken whole; otherwise the activity code and its text come from N§1.5/APPX and the status
# code is the N§1.5 name that says the same thing ("chosen" below).
#
# | kind                 | type/code/stat | source
# | label_created        | M  MP 003 | PM sample activity, text verbatim incl. trailing space
# | picked_up            | P  PU 038 | N§1.5: type P "Pickup" [obs], PU "pickup scan",
# |                      |           |   38 "Picked Up by UPS"; ISS7 VS→38 category IN TRANSIT
# | arrived_at_facility  | I  AR 005 | N§1.5 AR "arrival scan", 5 "On the Way"; APPX text
# |                      |           |   "Arrival Scan" (code F0)
# | departed_facility    | I  DP 005 | N§1.5 DP "departure scan"; APPX "Departure Scan" (F3)
# | in_transit           | I  AG 005 | N§1.5 AG "in transit to facility"; ISS7 movement AG→5
# | customs_hold         | X  ER 012 | ISS7 ER→12 "Clearance in Progress"; APPX ER text
# | customs_cleared      | I  DA 014 | APPX DA text; N§1.5 14 "Clearance Completed" (chosen;
# |                      |           |   type I, not X: nothing is wrong any more)
# | out_for_delivery     | I  OT 021 | N§1.5 OT "out for delivery (today)", 21 "Out for
# |                      |           |   Delivery"; ISS7 names it "Out for Delivery Today";
# |                      |           |   live OT scans print "Out For Delivery Today"
# | delivery_attempted   | X  48 022 | APPX exception 48 text; N§1.5 22 "First Attempt Made"
# | available_for_pickup | X  VN 017 | ISS7 VN→17 "Held for Customer Pickup", its text
# | delivered            | D  F4 011 | PM sample activity, "DELIVERED " with trailing space
# | address_corrected    | X  AH 028 | APPX AH text; ISS7 address changes (EG, VM) → 28
# | returned_to_sender   | X  DL 035 | APPX DL text; N§1.5 35 "Returning to Sender" (chosen)
# | cancelled            | MV VP 007 | N§1.5 MV "Billing information voided", manifest VP;
# |                      |           |   APPX manifest VP text; ISS7 VP→7 SHIPMENT VOID
# fmt: off
KIND_STATUS: dict[EventKind, UpsStatus] = {
    EventKind.label_created: UpsStatus(
        "M", "MP", "003", "Shipper created a label, UPS has not received the package yet. ", None),
    EventKind.picked_up: UpsStatus("P", "PU", "038", "Pickup Scan", "IN TRANSIT"),
    EventKind.arrived_at_facility: UpsStatus("I", "AR", "005", "Arrival Scan", "IN TRANSIT"),
    EventKind.departed_facility: UpsStatus("I", "DP", "005", "Departure Scan", "IN TRANSIT"),
    EventKind.in_transit: UpsStatus("I", "AG", "005", "In Transit to Facility", "IN TRANSIT"),
    EventKind.customs_hold: UpsStatus(
        "X", "ER", "012",
        "UPS is preparing your package for clearance. We will notify you if additional "
        "information is needed.", "IN TRANSIT"),
    EventKind.customs_cleared: UpsStatus(
        "I", "DA", "014", "Released By Clear Agency. Now In-Transit", "IN TRANSIT"),
    EventKind.out_for_delivery: UpsStatus(
        "I", "OT", "021", "Out For Delivery Today", "OUT FOR DELIVERY"),
    EventKind.delivery_attempted: UpsStatus(
        "X", "48", "022",
        "The receiver was not available for delivery. We'll make a second attempt the next "
        "business day.", "UPDATE"),
    EventKind.available_for_pickup: UpsStatus(
        "X", "VN", "017",
        "The package is being held at the selected UPS location for 5 business days as "
        "requested.", "UPDATE"),
    EventKind.delivered: UpsStatus("D", "F4", "011", "DELIVERED ", "DELIVERED"),
    EventKind.address_corrected: UpsStatus(
        "X", "AH", "028", "Address Corrected, Delivery Rescheduled", "UPDATE"),
    EventKind.returned_to_sender: UpsStatus(
        "X", "DL", "035", "The package will be returned to the sender.", "UPDATE"),
    EventKind.cancelled: UpsStatus(
        "MV", "VP", "007", "Manifest cancelled and shipment voided", "SHIPMENT VOID"),
}

# Exception reason -> UPS (type X).  Activity codes are APPX package-exception codes with
# their customer-facing text.
#
# | reason                | code | stat | source
# | weather               | 7W   | 052  | ISS7 7W→52 "Delay: Severe Weather", DELAY; APPX 7W text
# | address               | AG   | 029  | ISS7 AG→29 "Exception: Action Required", UPDATE; APPX AG
# | damaged               | HR   | 059  | APPX HR text; N§1.5 59 "Damage Reported" (chosen)
# | lost                  | F8   | 013  | APPX F8 text; N§1.5 13 "Exception" (chosen; ISS7 maps
# |                       |      |      |   most exception codes to 13 UPDATE)
# | refused               | AM   | 064  | APPX AM text; N§1.5 64 "Delivery Refused" (chosen)
# | delay                 | CC   | 048  | ISS7 CC→48 "Delay", DELAY; APPX CC text
# | recipient_unavailable | C4   | 060  | APPX C4 text; N§1.5 60 "Delivery Attempted" (chosen)
REASON_STATUS: dict[ExceptionReason, UpsStatus] = {
    ExceptionReason.weather: UpsStatus(
        "X", "7W", "052", "Severe weather conditions have delayed delivery.", "DELAY"),
    ExceptionReason.address: UpsStatus(
        "X", "AG", "029",
        "The address is incomplete. This may delay delivery. We're attempting to update the "
        "address.", "UPDATE"),
    ExceptionReason.damaged: UpsStatus(
        "X", "HR", "059",
        "The package was damaged in transit. We will notify the sender with details.", "UPDATE"),
    ExceptionReason.lost: UpsStatus(
        "X", "F8", "013", "We're attempting to verify the package location.", "UPDATE"),
    ExceptionReason.refused: UpsStatus(
        "X", "AM", "064",
        "The receiver has canceled the product order and refused delivery.", "UPDATE"),
    ExceptionReason.delay: UpsStatus(
        "X", "CC", "048", "Due to operating conditions, your package may be delayed.", "DELAY"),
    ExceptionReason.recipient_unavailable: UpsStatus(
        "X", "C4", "060",
        "The receiver was not available at the time of the delivery attempt.", "UPDATE"),
}
# fmt: on


def status_of(event: Event) -> UpsStatus:
    """The UPS type, codes and text for a canonical event (description override applied)."""
    if event.kind is EventKind.exception:
        base = REASON_STATUS[event.reason or ExceptionReason.delay]
    else:
        base = KIND_STATUS[event.kind]
    if event.description is None:
        return base
    return UpsStatus(base.type, base.code, base.status_code, event.description, base.milestone)
