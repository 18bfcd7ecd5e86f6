"""UPS response bodies: the Track API's shipment, package, activity and delivery objects."""

from __future__ import annotations

import base64
import html
from datetime import datetime
from typing import Any, NamedTuple

from simulator.carriers.ups.codes import (
    STATUS_NAMES,
    UpsStatus,
    status_of,
)
from simulator.documents import signature_png
from simulator.scenario import EventKind, ExceptionReason, Service
from simulator.timeline import Event, Party, Shipment, zone

# Service level -> the ``service`` object.  Only UPS Ground has a code pair in the sources
# (SPEC example: code 518, levelCode 011); the other names are the product names of the
# N§1.9 test-number table, printed without codes rather than with invented ones. No source
# names a cross-border economy product, so international economy prints UPS Ground.
_SERVICES: dict[tuple[Service, bool], dict[str, str]] = {
    (Service.ground, False): {"code": "518", "description": "UPS Ground", "levelCode": "011"},
    (Service.ground, True): {"code": "518", "description": "UPS Ground", "levelCode": "011"},
    (Service.express, False): {"description": "UPS Next Day Air Saver"},
    (Service.express, True): {"description": "UPS Worldwide Express"},
    (Service.priority, False): {"description": "UPS 2nd Day Air"},
    (Service.priority, True): {"description": "UPS Worldwide Express"},
    (Service.economy, False): {"description": "UPS SurePost"},
    (Service.economy, True): {"description": "UPS Ground"},
}

_TIMED_SERVICES = frozenset({Service.express, Service.priority})

_NO_DELIVERY_KINDS = frozenset({EventKind.cancelled, EventKind.returned_to_sender})

_NO_DELIVERY_REASONS = frozenset(
    {ExceptionReason.lost, ExceptionReason.damaged, ExceptionReason.refused}
)

_RESCHEDULING_KINDS = frozenset(
    {EventKind.exception, EventKind.address_corrected, EventKind.delivery_attempted}
)

_KG_TO_LBS = 2.20462


class Options(NamedTuple):
    """The query flags that change a tracking body."""

    signature: bool = False
    pod: bool = False
    milestones: bool = False


# ------------------------------------------------------------------------------ rendering


def _offset(local: datetime) -> str:
    delta = local.utcoffset()
    minutes = int(delta.total_seconds() // 60) if delta is not None else 0
    sign = "-" if minutes < 0 else "+"
    minutes = abs(minutes)
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _activity(event: Event, status: UpsStatus) -> dict[str, Any]:
    # Cities upper-case as in PM ("PARAMUS"); names and streets as the shipment has them.
    place = event.place
    location: dict[str, Any]
    if event.kind is EventKind.label_created:
        # PM: the label record carries only the country, no city and no SLIC.
        location = {"address": {"countryCode": place.country, "country": place.country}}
    else:
        address: dict[str, str] = {"city": place.city.upper()}
        if place.state:
            address["stateProvince"] = place.state
        address["countryCode"] = place.country
        address["country"] = place.country
        location = {"address": address, "slic": place.facility_id}
    local = event.local
    return {
        "location": location,
        "status": {
            "type": status.type,
            "description": status.description,
            "code": status.code,
            "statusCode": status.status_code,
        },
        "date": local.strftime("%Y%m%d"),
        "time": local.strftime("%H%M%S"),
        "gmtDate": event.at.strftime("%Y%m%d"),
        "gmtOffset": _offset(local),
        "gmtTime": event.at.strftime("%H:%M:%S"),
    }


def _delivery(
    shipment: Shipment, visible: tuple[Event, ...], last: Event
) -> tuple[list[dict[str, str]], dict[str, str] | None]:
    """deliveryDate[] and deliveryTime: DEL once delivered, else SDD (or RDD after trouble).

    ``shipment`` is the plan (its whole timeline), ``visible`` what the answer shows and
    ``last`` its current (latest) event.
    """
    tz = zone(shipment.recipient.place.tz)
    for event in reversed(visible):
        if event.kind is EventKind.delivered:
            local = event.local
            return (
                [{"type": "DEL", "date": local.strftime("%Y%m%d")}],
                {"type": "DEL", "endTime": local.strftime("%H%M%S")},
            )
    if last.kind in _NO_DELIVERY_KINDS or (
        last.kind is EventKind.exception and last.reason in _NO_DELIVERY_REASONS
    ):
        return [], None
    if any(e.kind in _RESCHEDULING_KINDS for e in visible):
        planned = next((e for e in shipment.events if e.kind is EventKind.delivered), None)
        if planned is not None:
            return [{"type": "RDD", "date": planned.local.strftime("%Y%m%d")}], {"type": "EOD"}
    expected = shipment.expected_delivery
    if expected is None:
        return [], None
    local = expected.astimezone(tz)
    dates = [{"type": "SDD", "date": local.strftime("%Y%m%d")}]
    if shipment.service in _TIMED_SERVICES:
        # SPEC DeliveryTime: CMT (commit time) carries endTime; EOD carries none.
        return dates, {"type": "CMT", "endTime": local.strftime("%H%M%S")}
    return dates, {"type": "EOD"}


def _package_address(kind: str, party: Party, *, shipper: bool) -> dict[str, Any]:
    place = party.place
    address: dict[str, str] = {}
    if place.street:
        address["addressLine1"] = place.street
    address["city"] = place.city.upper()
    if place.state:
        address["stateProvince"] = place.state
    if place.postal_code:
        address["postalCode"] = place.postal_code
    address["countryCode"] = place.country
    address["country"] = place.country
    entry: dict[str, Any] = {"type": kind}
    if shipper and party.company:
        entry["name"] = party.company
        entry["attentionName"] = party.name
    else:
        entry["name"] = party.name
    entry["address"] = address
    return entry


def _weight(shipment: Shipment) -> dict[str, str]:
    # The shipper's unit: pounds from the US, kilograms elsewhere (N§1.4: LBS | KGS).
    if shipment.shipper.place.country == "US":
        return {"unitOfMeasurement": "LBS", "weight": f"{shipment.weight_kg * _KG_TO_LBS:.2f}"}
    return {"unitOfMeasurement": "KGS", "weight": f"{shipment.weight_kg:.2f}"}


def _milestones(statuses: list[UpsStatus]) -> list[dict[str, Any]]:
    """Reached milestones, oldest first; a run of one category is one milestone.

    SPEC: ``linkedActivity`` is the 0-based index (newest first) of the activity that
    completed the milestone, ``category`` is present only in the COMPLETE state. Only
    reached milestones are listed: the sources name no literal for a pending state.
    """
    out: list[dict[str, Any]] = []
    last_category: str | None = None
    newest = len(statuses) - 1
    for i, status in enumerate(statuses):
        if status.milestone is None:
            continue
        entry = {
            "category": status.milestone,
            "code": status.status_code,
            "current": False,
            "description": STATUS_NAMES[status.status_code],
            "linkedActivity": str(newest - i),
            "state": "COMPLETE",
        }
        if status.milestone == last_category:
            out[-1] = entry
        else:
            out.append(entry)
        last_category = status.milestone
    if out:
        out[-1]["current"] = True
    return out


def signature_image(shipment: Shipment) -> str:
    """Base64 of the signer's signature (a PNG): ``deliveryInformation.signature.image``."""
    return base64.b64encode(signature_png(shipment.signer)).decode()


def _pod(shipment: Shipment, delivered: Event, service: str) -> str:
    # SPEC: ``pod.content`` is base64 with no media type named; the letter is HTML with the
    # signature embedded as a PNG data URI [inferred: no sample body of it is published].
    local = delivered.local
    doc = (
        "<html><head><title>Proof of Delivery</title></head><body>"
        "<h1>Proof of Delivery</h1>"
        f"<p>Tracking Number: {html.escape(shipment.number)}</p>"
        f"<p>Service: {html.escape(service)}</p>"
        f"<p>Delivered On: {local.strftime('%m/%d/%Y %I:%M %p')}</p>"
        f"<p>Delivered To: {html.escape(shipment.recipient.place.city.upper())}, "
        f"{html.escape(shipment.recipient.place.country)}</p>"
        "<p>Left At: Front Door</p>"
        f"<p>Received By: {html.escape(shipment.signer)}</p>"
        '<p>Signature: <img alt="signature" '
        f'src="data:image/png;base64,{signature_image(shipment)}"/></p>'
        "</body></html>"
    )
    return base64.b64encode(doc.encode()).decode()


def render(
    shipment: Shipment, count: int, options: Options, plan: Shipment | None = None
) -> dict[str, Any]:
    """The 200 body for a shipment showing its first ``count`` events (count >= 1)."""
    package = render_package(shipment, count, options, plan)
    return {
        "trackResponse": {"shipment": [{"inquiryNumber": shipment.number, "package": [package]}]}
    }


def render_shipment(
    shipment: Shipment, count: int, options: Options, inquiry: str, pieces: tuple[str, ...]
) -> dict[str, Any]:
    """One ``shipment[]`` entry asked for by ``inquiry`` (a number or a reference), with a
    package for each of ``pieces`` (numbers of the same shipment)."""
    packages = [render_package(shipment.piece(n), count, options) for n in pieces]
    return {"inquiryNumber": inquiry, "package": packages}


def render_package(
    shipment: Shipment, count: int, options: Options, plan: Shipment | None = None
) -> dict[str, Any]:
    """One ``package[]`` entry: a shipment showing its first ``count`` events (count >= 1).

    Pure: depends only on the shipment, the count and the options, so the render cache
    can keep the bytes. Events are printed in the list's order, newest (last) first, even
    when quirks have made them unsorted; the current status is the latest event's.
    ``plan`` is the unquirked shipment when ``shipment`` is a quirked copy, whose events
    stop at the visible ones: delivery dates still come from the whole planned timeline.
    """
    visible = shipment.events[:count]
    statuses = [status_of(e) for e in visible]
    activity = [_activity(e, s) for e, s in zip(reversed(visible), reversed(statuses), strict=True)]
    # The current status is the latest scan's: the last one, unless quirks have put the
    # list out of order (ties go to the later position, so a clean timeline's last wins).
    latest = max(range(count), key=lambda i: (visible[i].at, i)) if count > 1 else 0
    current = statuses[latest]
    name = STATUS_NAMES[current.status_code]
    dates, time = _delivery(plan or shipment, visible, visible[latest])
    service = _SERVICES[(shipment.service, shipment.international)]

    package: dict[str, Any] = {"trackingNumber": shipment.number, "deliveryDate": dates}
    if time is not None:
        package["deliveryTime"] = time
    package["activity"] = activity
    # N§1.4: live currentStatus puts the 3-digit code in ``code`` (the spec example has the
    # 2-char activity code there); statusCode repeats it.
    package["currentStatus"] = {
        "type": current.type,
        "description": name,
        "code": current.status_code,
        "statusCode": current.status_code,
        "simplifiedTextDescription": name,
    }
    package["statusCode"] = current.status_code
    package["statusDescription"] = name
    package["packageAddress"] = [
        _package_address("ORIGIN", shipment.shipper, shipper=True),
        _package_address("DESTINATION", shipment.recipient, shipper=False),
    ]
    package["weight"] = _weight(shipment)
    package["service"] = service
    delivered = next((e for e in reversed(visible) if e.kind is EventKind.delivered), None)
    if delivered is not None:
        info: dict[str, Any] = {"location": "Front Door", "receivedBy": shipment.signer}
        # Signature and POD exist only for a signed delivery (scenario ``signature``).
        if options.signature and shipment.signed:
            info["signature"] = {"image": signature_image(shipment)}
        if options.pod and shipment.signed:
            info["pod"] = {"content": _pod(shipment, delivered, service["description"])}
        package["deliveryInformation"] = info
    if options.milestones:
        package["milestones"] = _milestones(statuses)
    # SPEC ReferenceNumber example: type SHIPMENT, the shipper's reference.
    package["referenceNumber"] = [{"type": "SHIPMENT", "number": shipment.reference}]
    package["packageCount"] = len(shipment.pieces)
    return package


def not_found_body(inquiry: str) -> dict[str, Any]:
    """Production's answer for an unknown number: a shipment with only a warning (N§1.6)."""
    return {
        "trackResponse": {
            "shipment": [
                {
                    "inquiryNumber": inquiry,
                    "warnings": [{"code": "TW0001", "message": "Tracking Information Not Found"}],
                }
            ]
        }
    }
