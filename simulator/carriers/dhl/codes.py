"""DHL vocabulary: status codes and texts per canonical event, services, products, fixed names."""

from __future__ import annotations

from dataclasses import dataclass

from simulator.scenario import EventKind, ExceptionReason

NAME = "dhl"

PATH = "/track/shipments"
"""Production is ``https://api-eu.dhl.com/track/shipments``; the spec puts ``/track`` in the
server URL and ``/shipments`` in the path (NOTES §4.1, DHL-SPEC ``servers``)."""

# --------------------------------------------------------------------------------------------
# Code tables: canonical kind -> DHL statusCode (spec enum) and texts
# --------------------------------------------------------------------------------------------

STATUS_CODES: tuple[str, ...] = ("pre-transit", "transit", "delivered", "failure", "unknown")
"""The ``statusCode`` enum [spec: supermodelIoLogisticsTrackingShipmentEvent; NOTES §4.4]."""


@dataclass(frozen=True, slots=True)
class Text:
    """What DHL prints for one kind of event; ``{loc}`` stands for the scan's location."""

    status_code: str
    status: str
    description: str
    remark: str | None = None
    next_steps: str | None = None


_NOT_HOME = "The recipient was not available at the time of delivery."  # [unverified]
_MOVING_AGAIN = "The status will be updated as soon as the shipment is on its way again."

EVENT_TEXTS: dict[EventKind, Text] = {
    # [obs] express checkpoint "Shipment information received".
    EventKind.label_created: Text("pre-transit", "shipment information received",
                                  "Shipment information received"),
    # [obs] "Shipment picked up".
    EventKind.picked_up: Text("transit", "shipment picked up", "Shipment picked up"),
    # [obs] "Arrived at DHL Sort Facility  LEIPZIG - GERMANY" (two spaces, as live).
    EventKind.arrived_at_facility: Text("transit", "arrived at sort facility",
                                        "Arrived at DHL Sort Facility  {loc}"),
    # [obs] "Shipment has departed from a DHL facility BRUSSELS - BELGIUM".
    EventKind.departed_facility: Text("transit", "departed facility",
                                      "Shipment has departed from a DHL facility {loc}"),
    # [obs] "Shipment is in transit to destination".
    EventKind.in_transit: Text("transit", "in transit", "Shipment is in transit to destination"),
    # [obs] description; [spec] status/remark/nextSteps are the spec's own event example.
    EventKind.customs_hold: Text(
        "transit", "customs inspection",
        "Customs clearance status updated. Note - The Customs clearance process may start "
        "while the shipment is in transit to the destination.",
        "The shipment is pending completion of customs inspection.",
        "The status will be updated following customs inspection.",
    ),
    # [obs] "Clearance processing complete at MANILA - PHILIPPINES, THE".
    EventKind.customs_cleared: Text("transit", "clearance complete",
                                    "Clearance processing complete at {loc}"),
    # [obs] "Shipment is out with courier for delivery".
    EventKind.out_for_delivery: Text("transit", "out for delivery",
                                     "Shipment is out with courier for delivery"),
    # [obs] description; remark/nextSteps [unverified].
    EventKind.delivery_attempted: Text(
        "failure", "delivery attempt", "Delivery attempt could not be completed", _NOT_HOME,
        "The shipment will be taken to a DHL Parcelshop, where the recipient can pick it up.",
    ),
    # [unverified]
    EventKind.available_for_pickup: Text(
        "transit", "ready for pickup", "Shipment is ready for pickup at a DHL Parcelshop",
        "The shipment is waiting to be picked up at a DHL Parcelshop.",
        "The recipient can pick up the shipment at the DHL Parcelshop with an ID.",
    ),
    # [obs] "Delivered".
    EventKind.delivered: Text("delivered", "delivered", "Delivered"),
    # [unverified]
    EventKind.address_corrected: Text("transit", "address corrected",
                                      "Consignee address has been corrected",
                                      None, "A new delivery attempt will be made."),
    # [unverified]
    EventKind.returned_to_sender: Text("failure", "returned to shipper", "Returned to shipper",
                                       "The shipment is being returned to the sender."),
    # [unverified]
    EventKind.cancelled: Text("failure", "cancelled", "Shipment cancelled",
                              "The shipment was cancelled by the sender."),
}  # fmt: skip
"""Every EventKind but ``exception`` (which :data:`EXCEPTION_TEXTS` covers by reason)."""

ARRIVED_AT_DELIVERY_FACILITY = Text(
    "transit", "arrived at delivery facility", "Arrived at DHL Delivery Facility  {loc}"
)
"""[obs] the arrival scan at the destination, told apart from sort facilities on the way."""

EXCEPTION_TEXTS: dict[ExceptionReason, Text] = {
    # [unverified] weather and delay stay "transit": the parcel still travels, only later.
    ExceptionReason.weather: Text("transit", "delay",
                                  "Shipment delayed due to adverse weather conditions",
                                  "The shipment is delayed due to adverse weather conditions.",
                                  _MOVING_AGAIN),
    # [obs] "Shipment is on hold"; remark/nextSteps [unverified].
    ExceptionReason.delay: Text("transit", "on hold", "Shipment is on hold",
                                "The shipment is delayed.", _MOVING_AGAIN),
    # [obs] "Further consignee information needed"; remark/nextSteps [unverified].
    ExceptionReason.address: Text("failure", "address issue",
                                  "Further consignee information needed",
                                  "The delivery address is incomplete or incorrect.",
                                  "Please contact DHL Customer Service with the correct address."),
    # [unverified]
    ExceptionReason.damaged: Text("failure", "damaged", "Shipment damaged",
                                  "The shipment was damaged in transit.",
                                  "Please contact the sender of the shipment."),
    # [unverified]
    ExceptionReason.lost: Text("failure", "lost", "Shipment could not be located",
                               "The shipment could not be located in the DHL network.",
                               "Please contact the sender of the shipment."),
    # [obs] "Delivery not accepted"; remark/nextSteps [unverified].
    ExceptionReason.refused: Text("failure", "delivery refused", "Delivery not accepted",
                                  "The recipient refused to accept the shipment.",
                                  "The shipment will be returned to the sender."),
    # [obs] description; nextSteps [unverified].
    ExceptionReason.recipient_unavailable: Text(
        "failure", "delivery attempt", "Delivery attempt could not be completed", _NOT_HOME,
        "A new delivery attempt will be made on the next business day.",
    ),
}  # fmt: skip


# --------------------------------------------------------------------------------------------
# Services, products, locations
# --------------------------------------------------------------------------------------------

REQUEST_SERVICES: frozenset[str] = frozenset(
    {"express", "parcel-de", "ecommerce", "dgf", "parcel-uk", "post-de", "sameday", "freight",
     "parcel-nl", "parcel-pl", "dsc", "ecommerce-europe"}
)  # fmt: skip
"""The ``service`` query parameter's enum [spec: components.parameters.service]."""


PROOF_DOCUMENT_URL = "https://webpod.dhl.com/webPOD/DHLePODRequest"  # [spec] example
