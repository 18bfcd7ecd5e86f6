"""FedEx vocabulary: error codes and messages, scan codes and derived statuses per canonical event,
services.
"""

from __future__ import annotations

from dataclasses import dataclass

from simulator.scenario import EventKind, ExceptionReason, Service

NAME = "fedex"

# --------------------------------------------------------------------------------------------
# Error codes and messages
# --------------------------------------------------------------------------------------------

Error = tuple[str, str]

BAD_CREDENTIALS: Error = (
    "NOT.AUTHORIZED.ERROR",
    "The given client credentials were not valid. Please modify your request and try again.",
)  # [spec: FX-AUTH 401 example]
TOKEN_EXPIRED: Error = (
    "NOT.AUTHORIZED.ERROR",
    "Access token expired. Please modify your request and try again.",
)  # [spec: FX-SPEC 401 example]
NUMBER_EMPTY: Error = ("TRACKING.TRACKINGNUMBER.EMPTY", "Please provide tracking number.")  # [spec]
NUMBER_INVALID: Error = (
    "TRACKING.TRACKINGNUMBER.INVALID",
    "Invalid tracking number. Please correct the tracking number format and try again.",
)  # code [obs: NOTES §2.6]; message [obs: FedEx error catalog via integrators' code]
NUMBER_NOT_FOUND: Error = (
    "TRACKING.TRACKINGNUMBER.NOTFOUND",
    "Tracking number cannot be found. Please correct the tracking number and try again.",
)  # [obs: FX-SBX] NOTES §2.6
LIMIT_EXCEEDED: Error = (
    "TRACKING.TRACKINGNUMBERS.LIMITEXCEEDED",
    "Please limit your inquiry to 30 tracking numbers or references.",
)  # [obs: FedEx error catalog via integrators' code; not in NOTES]

REFERENCE_VALUE_INVALID: Error = (
    "TRACKING.REFRENCEVALUE.INVALID",
    "Please provide a valid reference value.",
)  # code (sic) [obs: NOTES §2.6]; message [inferred]
REFERENCE_NOT_FOUND: Error = (
    "TRACKING.REFERENCENUMBER.NOTFOUND",
    "Reference number cannot be found. Please correct the reference number and try again.",
)  # code [obs: NOTES §2.6]; message [inferred, in the style of the TCN one]
TCN_EMPTY: Error = (
    "TRACKING.TCNVALUE.EMPTY",
    "Please provide a transportation control number.",
)  # code [obs: NOTES §2.6]; message [inferred]
TCN_NOT_FOUND: Error = (
    "TRACKING.TCN.NOTFOUND",
    "Transportation control number cannot be found. Please correct the transportation "
    "control number and try again.",
)  # [spec: FX-SPEC /tcn 400 example]
ASSOCIATED_TYPE_INVALID: Error = (
    "TRACKING.REFERENCETYPE.INVALID",
    "Please provide a valid reference/associated type",
)  # [spec: FX-SPEC /associatedshipments 400 example]
DOCUMENT_TYPE_INVALID: Error = (
    "TRACKING.DOCUMENTTYPE.INVALID",
    "Please provide a valid document type.",
)  # [inferred] the spec names only SIGNATURE_PROOF_OF_DELIVERY (TrackDocumentDetail example)
NOTIFICATION_INVALID: Error = (
    "NOTIFICATION.REQUEST.INVALID",
    "Please provide the sender's name and email address and at least one recipient.",
)  # [inferred] the spec requires these fields (Full_Schema_Notification) but shows no error

FORBIDDEN: Error = (
    "FORBIDDEN.ERROR",
    "We could not authorize your credentials. Please check your permissions and try again.",
)  # [spec: FX-SPEC 403 example]
RESOURCE_NOT_FOUND: Error = (
    "NOT.FOUND.ERROR",
    "The resource you requested is no longer available. Please modify your request and try again.",
)  # [spec: FX-SPEC 404 example]
TOO_MANY_REQUESTS: Error = (
    "TOO.MANY.REQUESTS.ERROR",
    "Too many requests – Daily transaction quota exceeded. Retry after 12:00AM GMT",
)  # message [obs: FX-RL, NOTES §2.7]; code [unverified: NOTES "TOO.MANY.REQUESTS.ERROR-style"]
INTERNAL_ERROR: Error = (
    "INTERNAL.SERVER.ERROR",
    "We encountered an unexpected error and are working to resolve the issue. We apologize "
    "for any inconvenience. Please check back at a later time.",
)  # [spec: FX-SPEC, FX-AUTH 500 example]
UNAVAILABLE: Error = (
    "SERVICE.UNAVAILABLE.ERROR",
    "The service is currently unavailable and we are working to resolve the issue. We "
    "apologize for any inconvenience. Please check back at a later time.",
)  # [spec: FX-SPEC, FX-AUTH 503 example]

# --------------------------------------------------------------------------------------------
# Code tables: canonical kind -> FedEx scan code, texts, derived status
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Ancillary:
    """``latestStatusDetail.ancillaryDetails[]``: why, and what happens next."""

    reason: str
    reason_description: str
    action: str
    action_description: str


@dataclass(frozen=True, slots=True)
class Code:
    """What FedEx prints for one kind of scan."""

    event_type: str
    description: str
    derived_code: str
    derived_status: str
    location_type: str
    exception_code: str = ""
    exception_description: str = ""
    delay_type: str | None = None
    ancillary: Ancillary | None = None


_IN_TRANSIT = ("IT", "In transit")  # [obs] derived layer for AR/DP/OD/HP/IT... (NOTES §2.5)
_EXCEPTION = ("DE", "Delivery exception")  # [obs]
_DELAY = ("DY", "Delay")  # [obs: KAR-FX] derivedStatus "Delay"

_CHECK_BACK_LATER = Ancillary(
    "IN001",
    "Please check back later for shipment status or subscribe for e-mail notifications",
    "",
    "",
)  # [obs: FX-SBX] label-only shipments (NOTES §2.5 "IN001 check back later")
_NOT_AVAILABLE = Ancillary(
    "007",
    "Customer not available or business closed",
    "Delivery will be re-attempted the next business day.",
    "Customer Not Available or Business Closed",
)  # [obs: FX-SBX]; reasonDescription also [spec] ancillaryDetails example
_RETURNING = Ancillary(
    "060G",
    "Shipper requested shipment to be returned - Unable to deliver shipment - Returning to shipper",
    "No action is required.  The package is being returned to the shipper.",
    "Shipper requested shipment to be returned - Unable to deliver shipment - Returning to shipper",
)  # [obs: FX-SBX] (two spaces after "required." as captured)

EVENT_CODES: dict[EventKind, Code] = {
    # [obs] OC "Shipment information sent to FedEx", derived IN "Initiated" (NOTES §2.5,
    # FX-SBX; a 2024 KAR-FX production fixture says "Label created" for the same code).
    EventKind.label_created: Code("OC", "Shipment information sent to FedEx", "IN", "Initiated",
                                  "CUSTOMER", ancillary=_CHECK_BACK_LATER),
    # [obs] PU "Picked up" / derived PU.
    EventKind.picked_up: Code("PU", "Picked up", "PU", "Picked up", "PICKUP_LOCATION"),
    # [obs] AR "Arrived at FedEx location".
    EventKind.arrived_at_facility: Code("AR", "Arrived at FedEx location", *_IN_TRANSIT,
                                        "FEDEX_FACILITY"),
    # [obs] DP "Departed FedEx location".
    EventKind.departed_facility: Code("DP", "Departed FedEx location", *_IN_TRANSIT,
                                      "FEDEX_FACILITY"),
    # [obs] IT "In transit".
    EventKind.in_transit: Code("IT", "In transit", *_IN_TRANSIT, "FEDEX_FACILITY"),
    # [spec: FX-CODES] CD "Clearance Delay", in the sentence case live texts use [obs];
    # derived DY and delayDetail CLEARANCE [unverified].
    EventKind.customs_hold: Code("CD", "Clearance delay", *_DELAY, "PORT_OF_ENTRY",
                                 delay_type="CLEARANCE"),
    # [spec: FX-CODES] CC "Cleared Customs"; derived IT [unverified].
    EventKind.customs_cleared: Code("CC", "Cleared customs", *_IN_TRANSIT, "PORT_OF_ENTRY"),
    # [obs] OD "On FedEx vehicle for delivery", derived IT.
    EventKind.out_for_delivery: Code("OD", "On FedEx vehicle for delivery", *_IN_TRANSIT,
                                     "VEHICLE"),
    # [obs] DE with exception 007.
    EventKind.delivery_attempted: Code("DE", "Delivery exception", *_EXCEPTION,
                                       "DESTINATION_FEDEX_FACILITY", "007",
                                       "Customer not available or business closed",
                                       ancillary=_NOT_AVAILABLE),
    # [obs] HP "Ready for recipient pickup", derived IT, exception 015A (its address text is
    # left empty: the simulator has no FedEx Office address to print) [unverified].
    EventKind.available_for_pickup: Code("HP", "Ready for recipient pickup", *_IN_TRANSIT,
                                         "DESTINATION_FEDEX_FACILITY", "015A"),
    # [obs] DL "Delivered".
    EventKind.delivered: Code("DL", "Delivered", "DL", "Delivered", "DELIVERY_LOCATION"),
    # [spec: FX-CODES] CH "Location Changed" [unverified as the address-correction scan].
    EventKind.address_corrected: Code("CH", "Location changed", *_IN_TRANSIT,
                                      "DESTINATION_FEDEX_FACILITY"),
    # [obs: FX-SBX] RS "Returning package to shipper" with 060G; derived RS [unverified:
    # NOTES §2.5 "likely"; the sandbox capture says derived DL, which we do not copy].
    EventKind.returned_to_sender: Code("RS", "Returning package to shipper", "RS",
                                       "Return to shipper", "DESTINATION_FEDEX_FACILITY",
                                       "060G", _RETURNING.reason_description,
                                       ancillary=_RETURNING),
    # [spec: FX-CODES] CA "Shipment Cancelled"; derived CA [unverified: NOTES "likely"].
    EventKind.cancelled: Code("CA", "Shipment cancelled", "CA", "Shipment cancelled",
                              "CUSTOMER"),
}  # fmt: skip
"""Every EventKind but ``exception`` (which :data:`EXCEPTION_CODES` covers by reason)."""

EXCEPTION_CODES: dict[ExceptionReason, Code] = {
    # [obs: KAR-FX] DY "Delay" with delayDetail; type WEATHER [spec enum].
    ExceptionReason.weather: Code("DY", "Delay", *_DELAY, "FEDEX_FACILITY",
                                  delay_type="WEATHER"),
    # [obs: KAR-FX] DY "Delay", A52 "Package delayed", delayDetail GENERAL.
    ExceptionReason.delay: Code("DY", "Delay", *_DELAY, "FEDEX_FACILITY", "A52",
                                "Package delayed", delay_type="GENERAL"),
    # [obs: NOTES §2.5/§2.9] exception 03 incorrect address.
    ExceptionReason.address: Code("DE", "Delivery exception", *_EXCEPTION,
                                  "DESTINATION_FEDEX_FACILITY", "03", "Incorrect address"),
    # [spec: FX-CODES] SE "Shipment Exception"; derived SE [unverified: NOTES "likely"].
    # NOTES has no FedEx exception code for damage or loss, so none is printed.
    ExceptionReason.damaged: Code("SE", "Shipment exception", "SE", "Shipment exception",
                                  "FEDEX_FACILITY"),
    ExceptionReason.lost: Code("SE", "Shipment exception", "SE", "Shipment exception",
                               "FEDEX_FACILITY"),
    # [obs: NOTES §2.5] 099 unable to deliver; as a DE at the door [unverified].
    ExceptionReason.refused: Code("DE", "Delivery exception", *_EXCEPTION,
                                  "DESTINATION_FEDEX_FACILITY", "099", "Unable to deliver"),
    # [obs] same as a failed attempt: DE 007.
    ExceptionReason.recipient_unavailable: EVENT_CODES[EventKind.delivery_attempted],
}  # fmt: skip

ARRIVED_AT_DESTINATION = Code(
    "AR", "At local FedEx facility", *_IN_TRANSIT, "DESTINATION_FEDEX_FACILITY"
)
"""[obs] the arrival scan at the delivering station, told apart from hubs on the way."""

LEFT_ORIGIN = Code("DP", "Left FedEx origin facility", *_IN_TRANSIT, "ORIGIN_FEDEX_FACILITY")
"""[obs] the departure scan at the origin station."""

READY_FOR_PICKUP_STATUS = ("HL", "HL", "Ready for pickup")
"""[obs: FX-SBX 843119172384577] an HP scan shows in ``latestStatusDetail`` as code HL,
derived HL, "Ready for pickup" — the latest status is not a copy of the newest scan here."""


SERVICE_DETAILS: dict[Service, dict[str, str]] = {
    # [obs: FX-SBX] FEDEX_GROUND "FedEx Ground" "FG".
    Service.ground: {"type": "FEDEX_GROUND", "description": "FedEx Ground",
                     "shortDescription": "FG"},
    # [obs: KAR-FX] PRIORITY_OVERNIGHT "FedEx Priority Overnight" "P-1": the only Express
    # product name in the sources, so it serves express and priority alike.
    Service.express: {"type": "PRIORITY_OVERNIGHT", "description": "FedEx Priority Overnight",
                      "shortDescription": "P-1"},
    Service.priority: {"type": "PRIORITY_OVERNIGHT", "description": "FedEx Priority Overnight",
                       "shortDescription": "P-1"},
    # [obs: FX-SBX] SMART_POST "FedEx SmartPost" "SP" (now Ground Economy).
    Service.economy: {"type": "SMART_POST", "description": "FedEx SmartPost",
                      "shortDescription": "SP"},
}  # fmt: skip

OPERATING_COMPANY: dict[Service, tuple[str, str]] = {
    # (carrierCode [spec enum], trackingNumberUniqueId suffix) [obs: FX-SBX, KAR-FX]
    Service.ground: ("FDXG", "FDEG"),
    Service.express: ("FDXE", "FX"),
    Service.priority: ("FDXE", "FX"),
    Service.economy: ("FXSP", "FXSP"),
}

DELIVERY_OPTIONS = (
    "INDIRECT_SIGNATURE_RELEASE",
    "REDIRECT_TO_HOLD_AT_LOCATION",
    "REROUTE",
    "RESCHEDULE",
    "RETURN_TO_SHIPPER",
    "DISPUTE_DELIVERY",
    "SUPPLEMENT_ADDRESS",
)
"""[spec enum; obs order] ``deliveryOptionEligibilityDetails[].option``."""

LABEL_CREATED_COMMIT = {
    "message": "The delivery date may be updated when FedEx receives the package.",
    "type": "SHIPMENT_LABEL_CREATED",
}  # [obs: FX-SBX]
NO_DATE_COMMIT = {
    "message": "No scheduled delivery date available at this time.",
    "type": "ESTIMATED_DELIVERY_DATE_UNAVAILABLE",
}  # [spec] ServiceCommitMessage example

SHIP_DATE_OFFSET = "-06:00"
"""[obs] SHIP is stamped at midnight -06:00 wherever the parcel is (NOTES §2.4)."""
