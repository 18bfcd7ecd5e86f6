"""FedEx response bodies: track results, scan events, error results and envelopes."""

from __future__ import annotations

from datetime import date
from typing import Any

from simulator.carriers.fedex.codes import (
    ARRIVED_AT_DESTINATION,
    DELIVERY_OPTIONS,
    EVENT_CODES,
    EXCEPTION_CODES,
    LABEL_CREATED_COMMIT,
    LEFT_ORIGIN,
    NAME,
    NO_DATE_COMMIT,
    OPERATING_COMPANY,
    READY_FOR_PICKUP_STATUS,
    SERVICE_DETAILS,
    SHIP_DATE_OFFSET,
    Code,
    Error,
)
from simulator.scenario import EventKind, ExceptionReason
from simulator.timeline import Event, Place, Shipment, seed_int

_AT_THE_DOOR = frozenset(
    {ExceptionReason.recipient_unavailable, ExceptionReason.refused, ExceptionReason.address}
)

_TERMINAL_KINDS = frozenset(
    {EventKind.delivered, EventKind.returned_to_sender, EventKind.cancelled}
)

_TERMINAL_REASONS = frozenset({ExceptionReason.lost, ExceptionReason.damaged})

_DOORSTEP = frozenset({"CUSTOMER", "DELIVERY_LOCATION"})

_LB_PER_KG = 2.20462

# --------------------------------------------------------------------------------------------
# Rendering (pure: shipment, visible count, options -> JSON value)
# --------------------------------------------------------------------------------------------


def code_for(event: Event, shipment: Shipment) -> Code:
    """The scan code and texts FedEx shows for a canonical event."""
    if event.kind is EventKind.exception:
        assert event.reason is not None  # the scenario model guarantees it
        return EXCEPTION_CODES[event.reason]
    if event.kind is EventKind.arrived_at_facility and event.place == shipment.recipient.place:
        return ARRIVED_AT_DESTINATION
    if event.kind is EventKind.departed_facility and event.place == shipment.shipper.place:
        return LEFT_ORIGIN
    return EVENT_CODES[event.kind]


def timestamp(event: Event) -> str:
    """ISO 8601 at the scan's wall clock with its own UTC offset (NOTES §2.4)."""
    return event.local.isoformat(timespec="seconds")


def address(place: Place, *, city: bool = True) -> dict[str, Any]:
    """An address as FedEx prints parties and latest status: no street, no postal code [obs]."""
    body: dict[str, Any] = {}
    if city:
        body["city"] = place.city
        if place.state:
            body["stateOrProvinceCode"] = place.state
    body["countryCode"] = place.country
    body["residential"] = False  # [obs] false in every capture
    body["countryName"] = place.country_name
    return body


def scan_location(place: Place, *, city: bool = True) -> dict[str, Any]:
    """A scan's location: ``streetLines: [""]`` and the postal code included [obs]."""
    body: dict[str, Any] = {"streetLines": [""]}
    if city:
        body["city"] = place.city
        if place.state:
            body["stateOrProvinceCode"] = place.state
    body["postalCode"] = place.postal_code
    body["countryCode"] = place.country
    body["residential"] = False
    body["countryName"] = place.country_name
    return body


def _scan_event(event: Event, shipment: Shipment) -> dict[str, Any]:
    code = code_for(event, shipment)
    # [obs] the OC scan is the shipper's upload: a postal code without a city (NOTES §6.11).
    located = event.kind is not EventKind.label_created
    body: dict[str, Any] = {
        "date": timestamp(event),
        "eventType": code.event_type,
        "eventDescription": event.description or code.description,
        "exceptionCode": code.exception_code,
        "exceptionDescription": code.exception_description,
        "scanLocation": scan_location(event.place, city=located),
    }
    # [obs] station scans name the station; the shipper's and recipient's doors have no id.
    if code.location_type not in _DOORSTEP and event.place.facility_id:
        body["locationId"] = event.place.facility_id
    body["locationType"] = code.location_type
    body["derivedStatusCode"] = code.derived_code
    body["derivedStatus"] = code.derived_status
    if code.delay_type is not None:
        body["delayDetail"] = {"type": code.delay_type}
    return body


def _latest_status(event: Event, shipment: Shipment) -> dict[str, Any]:
    code = code_for(event, shipment)
    status_code, derived, status = code.event_type, code.derived_code, code.derived_status
    description = event.description or code.description
    if event.kind is EventKind.available_for_pickup:
        status_code, derived, status = READY_FOR_PICKUP_STATUS
        description = event.description or status
    body: dict[str, Any] = {
        "code": status_code,
        "derivedCode": derived,
        "statusByLocale": status,
        "description": description,
        "scanLocation": address(event.place, city=event.kind is not EventKind.label_created),
    }
    if code.ancillary is not None:
        a = code.ancillary
        body["ancillaryDetails"] = [
            {
                "reason": a.reason,
                "reasonDescription": a.reason_description,
                "action": a.action,
                "actionDescription": a.action_description,
            }
        ]
    if code.delay_type is not None:
        body["delayDetail"] = {"type": code.delay_type, "status": "DELAYED"}
    elif code.derived_code in ("DE", "SE"):
        body["delayDetail"] = {"status": "DELAYED"}  # [obs: FX-SBX] on DE latest statuses
    return body


def _first(events: tuple[Event, ...], kind: EventKind) -> Event | None:
    return next((e for e in events if e.kind is kind), None)


def ship_date(shipment: Shipment) -> date:
    """The ship date: the local date of the shipment's first event."""
    return shipment.events[0].local.date()


def _in_flight(latest: Event) -> bool:
    return latest.kind not in _TERMINAL_KINDS and latest.reason not in _TERMINAL_REASONS


def _weights(kg: float) -> list[dict[str, str]]:
    # [obs] weights are strings, pounds first (NOTES §2.4).
    return [
        {"value": f"{kg * _LB_PER_KG:.1f}", "unit": "LB"},
        {"value": str(round(kg, 2)), "unit": "KG"},
    ]


def unique_id(shipment: Shipment) -> str:
    """``trackingNumberUniqueId``: ``<id>~<number>~<opco>`` (NOTES §2.3)."""
    _, opco = OPERATING_COMPANY[shipment.service]
    prefix = seed_int(NAME, "unique", shipment.number) % 90000 + 10000
    return f"{prefix}~{shipment.number}~{opco}"


def render_result(shipment: Shipment, count: int, detailed: bool) -> dict[str, Any]:
    """One ``completeTrackResults[]`` entry for the first ``count`` events (count >= 1)."""
    events = shipment.events[:count]
    # The current status is the latest scan's: the last one, unless quirks have put the list
    # out of order (ties go to the later position, so a clean timeline's last wins).
    latest = max(reversed(events), key=lambda e: e.at)
    carrier_code, _ = OPERATING_COMPANY[shipment.service]
    delivered = _first(events, EventKind.delivered)
    pickup = _first(events, EventKind.picked_up)
    due = shipment.expected_delivery
    estimate = due if due is not None and delivered is None and _in_flight(latest) else None
    destination = shipment.recipient.place

    times: list[dict[str, str]] = []
    if delivered is not None:
        times.append({"type": "ACTUAL_DELIVERY", "dateTime": timestamp(delivered)})
    if estimate is not None:
        local_due = destination.localize(estimate).isoformat(timespec="seconds")
        times.append({"type": "ESTIMATED_DELIVERY", "dateTime": local_due})
    if pickup is not None:
        times.append({"type": "ACTUAL_PICKUP", "dateTime": timestamp(pickup)})
    times.append(
        {
            "type": "SHIP",
            "dateTime": f"{ship_date(shipment).isoformat()}T00:00:00{SHIP_DATE_OFFSET}",
        }
    )
    if pickup is not None:
        times.append({"type": "ACTUAL_TENDER", "dateTime": timestamp(pickup)})  # [obs: KAR-FX]

    attempts = sum(
        1
        for e in events
        if e.kind is EventKind.delivery_attempted
        or (e.kind is EventKind.exception and e.reason in _AT_THE_DOOR)
    )
    eligibility = "POSSIBLY_ELIGIBLE" if _in_flight(latest) else "INELIGIBLE"  # [obs] values
    delivery: dict[str, Any] = {}
    if delivered is not None:
        delivery["actualDeliveryAddress"] = address(delivered.place)
    delivery["deliveryAttempts"] = str(attempts)  # [obs] a string
    if delivered is not None:
        delivery["receivedByName"] = shipment.signer
        if shipment.signed:
            delivery["signedByName"] = shipment.signer  # NOTES §2.4
    delivery["deliveryOptionEligibilityDetails"] = [
        {"option": option, "eligibility": eligibility} for option in DELIVERY_OPTIONS
    ]

    weights = _weights(shipment.weight_kg)
    pieces = shipment.pieces
    body: dict[str, Any] = {
        "trackingNumberInfo": {
            "trackingNumber": shipment.number,
            "trackingNumberUniqueId": unique_id(shipment),
            "carrierCode": carrier_code,
        },
        # [obs] nickname and hasAssociatedShipments; packageIdentifiers [spec: NOTES §2.4]
        # with the shipper's reference as CUSTOMER_REFERENCE [inferred type name].
        "additionalTrackingInfo": {
            "nickname": "",
            "hasAssociatedShipments": len(pieces) > 1,
            "packageIdentifiers": [{"type": "CUSTOMER_REFERENCE", "values": [shipment.reference]}],
        },
        # [obs: KAR-FX] production names no contact: an empty object.
        "shipperInformation": {"contact": {}, "address": address(shipment.shipper.place)},
        "recipientInformation": {"contact": {}, "address": address(destination)},
        "latestStatusDetail": _latest_status(latest, shipment),
        "dateAndTimes": times,
        # NOTES §2.4: the SPOD is fetched through /trackingdocuments when listed here, which
        # needs a signed delivery.
        "availableImages": (
            [{"type": "SIGNATURE_PROOF_OF_DELIVERY"}]
            if shipment.proof_of_delivery(count) is not None
            else []
        ),
        "packageDetails": {
            "sequenceNumber": str(pieces.index(shipment.number) + 1),
            "count": str(len(pieces)),
            "weightAndDimensions": {"weight": weights},
            "packageContent": [],
        },
        "shipmentDetails": {"possessionStatus": pickup is not None, "weight": weights},
    }
    if detailed:
        body["scanEvents"] = [_scan_event(e, shipment) for e in reversed(events)]
    body["availableNotifications"] = (
        ["ON_DELIVERY"]
        if delivered is not None
        else ["ON_DELIVERY", "ON_EXCEPTION", "ON_ESTIMATED_DELIVERY"]
    )  # [obs: FX-SBX]
    body["deliveryDetails"] = delivery
    origin = shipment.shipper.place
    origin_location: dict[str, Any] = {"locationContactAndAddress": {"address": address(origin)}}
    if origin.facility_id:
        origin_location["locationId"] = origin.facility_id
    body["originLocation"] = origin_location
    body["lastUpdatedDestinationAddress"] = address(destination)
    if latest.kind is EventKind.label_created and count == 1:
        body["serviceCommitMessage"] = LABEL_CREATED_COMMIT
    elif estimate is None and delivered is None and latest.kind is not EventKind.cancelled:
        body["serviceCommitMessage"] = NO_DATE_COMMIT
    body["serviceDetail"] = SERVICE_DETAILS[shipment.service]
    # [obs] the windows are there even when empty: "window": {} (NOTES §2.4).
    window = {} if due is None else {"ends": destination.localize(due).isoformat("T", "seconds")}
    body["standardTransitTimeWindow"] = {"window": window}
    body["estimatedDeliveryTimeWindow"] = {
        "window": {} if estimate is None else {"ends": window["ends"]}
    }
    body["goodsClassificationCode"] = ""  # [obs] empty strings, not null
    body["returnDetail"] = {}  # [obs] empty object
    return {"trackingNumber": shipment.number, "trackResults": [body]}


def render_error_result(number: str, error: Error, spec_form: bool) -> dict[str, Any]:
    """A per-number error entry: NOTFOUND or INVALID inside a 200 (NOTES §2.6).

    Production sends ``carrierCode: ""``, which the spec's enum does not allow; the "spec"
    form of ``Settings.not_found`` leaves the empty value out so the body validates.
    """
    info: dict[str, str] = {"trackingNumber": number, "trackingNumberUniqueId": ""}
    if not spec_form:
        info["carrierCode"] = ""
    code, message = error
    return {
        "trackingNumber": number,
        "trackResults": [{"trackingNumberInfo": info, "error": {"code": code, "message": message}}],
    }


def error_body(transaction_id: str, error: Error, customer_id: str | None = None) -> dict[str, Any]:
    """The FedEx error envelope ``{transactionId, customerTransactionId?, errors[]}``."""
    body: dict[str, Any] = {"transactionId": transaction_id}
    if customer_id is not None:
        body["customerTransactionId"] = customer_id
    code, message = error
    body["errors"] = [{"code": code, "message": message}]
    return body
