"""USPS response bodies: Tracking 3.0 detail and summary, the 3.2 batch answer, and their date,
time and place formatting.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from simulator.carriers.usps.codes import (
    MAIL_CLASSES,
    MAIL_TYPE_V3,
    MAIL_TYPE_V3R2,
    MailClass,
    Role,
    Scan,
    role_of,
    scan_for,
)
from simulator.scenario import EventKind, ExceptionReason
from simulator.timeline import Event, Place, Shipment, seed_int

# After these the promised date no longer applies, so the body drops it (live bodies of
# delivered items carry no expectedDeliveryTimeStamp [obs: KAR-USPS, USPS-FIX]; the rest
# [unverified]).
_TERMINAL_KINDS = frozenset(
    {
        EventKind.delivered,
        EventKind.returned_to_sender,
        EventKind.cancelled,
        EventKind.available_for_pickup,
    }
)

_TERMINAL_REASONS = frozenset({ExceptionReason.lost, ExceptionReason.damaged})

# --------------------------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------------------------

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def long_date(d: datetime | date) -> str:
    """``November 23, 2024`` [obs: statusSummary]."""
    return f"{_MONTHS[d.month - 1]} {d.day}, {d.year}"


def clock_time(d: datetime) -> str:
    """``1:10 pm`` [obs: statusSummary]."""
    return f"{d.hour % 12 or 12}:{d.minute:02d} {'am' if d.hour < 12 else 'pm'}"


def _offset_minutes(local: datetime) -> int:
    delta = local.utcoffset()
    return int(delta.total_seconds()) // 60 if delta is not None else 0


def gmt_offset_v3(local: datetime) -> str:
    """``-06:00`` [obs: NOTES §3.4]."""
    m = _offset_minutes(local)
    sign = "-" if m < 0 else "+"
    return f"{sign}{abs(m) // 60:02d}:{abs(m) % 60:02d}"


def gmt_offset_v3r2(local: datetime) -> str:
    """``-7:00`` [spec: TrackingEvent.GMTOffset example]."""
    m = _offset_minutes(local)
    sign = "-" if m < 0 else "+"
    return f"{sign}{abs(m) // 60}:{abs(m) % 60:02d}"


def gmt_timestamp(at: datetime) -> str:
    """``2024-11-23T19:10:09Z`` [obs]."""
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def local_timestamp_v3(local: datetime) -> str:
    """``2024-11-23T13:10:00``: local, no offset, seconds zeroed as every live scan shows."""
    return local.strftime("%Y-%m-%dT%H:%M:00")


def _bool(value: bool) -> str:
    # [obs: NOTES §3.4] Tracking 3.0 prints booleans as strings.
    return "true" if value else "false"


@dataclass(frozen=True, slots=True)
class Spot:
    """A scan's place as USPS prints it (None = explicit null / omitted)."""

    city: str | None
    state: str | None
    zip: str | None
    country: str | None

    def text(self) -> str:
        """The place inside a status sentence: ``MILWAUKEE, WI 53207`` or a facility name."""
        if self.city is None:
            return ""
        if self.state and self.zip:
            return f"{self.city}, {self.state} {self.zip}"
        if self.country:
            return f"{self.city}, {self.country}"
        return self.city


_NOWHERE = Spot(None, None, None, None)


def spot_of(shipment: Shipment, event: Event) -> Spot:
    """Where USPS says a scan happened [obs: KAR-USPS, USPS-FIX].

    Post Office scans print city, state and ZIP; network facilities print
    ``<CITY> <ST> DISTRIBUTION CENTER`` with null state and ZIP; "In Transit to Next
    Facility" prints no place at all. Foreign places print the country's name [unverified].
    """
    if event.kind is EventKind.in_transit:
        return _NOWHERE
    place = event.place
    city = place.city.upper()
    if place.country != "US":
        return Spot(city, None, None, place.country_name.upper())
    if role_of(shipment, place) is Role.network and place.state:
        return Spot(f"{city} {place.state} DISTRIBUTION CENTER", None, None, None)
    return Spot(city, place.state, place.postal_code or None, None)


def latest_index(visible: tuple[Event, ...]) -> int:
    """Where the current (latest) event is: the last one, unless quirks have put the list
    out of order (ties go to the later position, so a clean timeline's last wins)."""
    return max(range(len(visible)), key=lambda i: (visible[i].at, i))


def _summary(scan: Scan, event: Event, spot: Spot) -> str:
    local = event.local
    return scan.summary.format(time=clock_time(local), date=long_date(local), where=spot.text())


def _expected_delivery(shipment: Shipment, visible: tuple[Event, ...]) -> datetime | None:
    """The promised delivery in the recipient's zone, while one is still meaningful."""
    expected = shipment.expected_delivery
    if expected is None or len(visible) < 2:
        return None
    latest = visible[latest_index(visible)]
    if latest.kind in _TERMINAL_KINDS or latest.reason in _TERMINAL_REASONS:
        return None
    return shipment.recipient.place.localize(expected)


def _mail_class(shipment: Shipment) -> MailClass:
    return MAIL_CLASSES[(shipment.service, shipment.international)]


def _mail_piece_id(shipment: Shipment) -> str:
    # [obs] uniqueMailPieceID is a 9-digit number.
    return str(seed_int("usps-mailpiece", shipment.number) % 900_000_000 + 100_000_000)


def _us_or_none(place: Place, value: str | None) -> str | None:
    return value if place.country == "US" and value else None


# --------------------------------------------------------------------------------------------
# Renderers: pure functions of (shipment, visible count)
# --------------------------------------------------------------------------------------------


def render_detail(shipment: Shipment, count: int) -> dict[str, Any]:
    """The Tracking 3.0 ``expand=DETAIL`` body, as production writes it (module docstring)."""
    visible = shipment.events[:count]
    newest = latest_index(visible)
    latest_scan = scan_for(shipment, newest)
    latest = visible[newest]
    mail = _mail_class(shipment)
    origin, dest = shipment.shipper.place, shipment.recipient.place
    events: list[dict[str, Any]] = []
    for i in range(count - 1, -1, -1):
        event = visible[i]
        scan = scan_for(shipment, i)
        spot = spot_of(shipment, event)
        local = event.local
        item: dict[str, Any] = {
            "eventType": event.description or scan.event_type,
            "eventTimestamp": local_timestamp_v3(local),
        }
        if event.kind is not EventKind.label_created:
            item["GMTTimestamp"] = gmt_timestamp(event.at)
            item["GMTOffset"] = gmt_offset_v3(local)
        delivered = event.kind is EventKind.delivered
        item.update(
            {
                "eventCountry": spot.country,
                "eventCity": spot.city,
                "eventState": spot.state,
                "eventZIP": spot.zip,
                "firm": shipment.recipient.company if delivered else None,
                "name": shipment.signer.upper() if delivered else None,
                "authorizedAgent": _bool(False),
                "eventCode": scan.code,
                "additionalProp": None,
            }
        )
        events.append(item)
    body: dict[str, Any] = {
        "destinationCity": dest.city.upper(),
        "destinationState": _us_or_none(dest, dest.state),
        "destinationZIP": _us_or_none(dest, dest.postal_code),
    }
    if shipment.international:
        body["destinationCountryCode"] = dest.country
    body["emailEnabled"] = _bool(True)
    expected = _expected_delivery(shipment, visible)
    if expected is not None:
        body["expectedDeliveryTimeStamp"] = expected.strftime("%Y-%m-%dT00:00:00")
    body.update(
        {
            "kahalaIndicator": _bool(False),
            "mailClass": mail.name,
            "mailType": MAIL_TYPE_V3[shipment.international],
            "originCity": origin.city.upper(),
            "originState": _us_or_none(origin, origin.state),
            "originZIP": _us_or_none(origin, origin.postal_code),
            # A proof-of-delivery letter can be asked for once a signed delivery is visible.
            "proofOfDeliveryEnabled": _bool(shipment.proof_of_delivery(count) is not None),
            "restoreEnabled": _bool(False),
            "RRAMEnabled": _bool(False),
            "RREEnabled": _bool(False),
            "services": list(mail.services),
            "serviceTypeCode": mail.service_type_code,
            "status": latest.description or latest_scan.event_type,
            "statusCategory": latest_scan.category,
            "statusSummary": _summary(latest_scan, latest, spot_of(shipment, latest)),
            "tableCode": "T",
            "uniqueMailPieceID": _mail_piece_id(shipment),
            "mailPieceIntakeDate": shipment.events[0].local.strftime("%Y-%m-%d %H:%M:%S.000000"),
            "trackingEvents": events,
            "trackingNumber": shipment.number,
        }
    )
    return body


def _summary_line(scan: Scan, event: Event, spot: Spot) -> str:
    # [spec: examples.TrackingSummary] "Out for Delivery, 06/17/2022, 6:10 am, FAIRFAX, VA 22032"
    local = event.local
    parts = [
        scan.event_type if event.description is None else event.description,
        local.strftime("%m/%d/%Y"),
        clock_time(local),
    ]
    where = spot.text()
    if where:
        parts.append(where)
    return ", ".join(parts)


def render_summary(shipment: Shipment, count: int) -> dict[str, Any]:
    """The Tracking 3.0 ``expand=SUMMARY`` body, per the spec's ``TrackingSummary``."""
    visible = shipment.events[:count]
    lines: list[str] = []
    for i in range(count - 1, -1, -1):
        scan = scan_for(shipment, i)
        spot = spot_of(shipment, visible[i])
        if i == count - 1:
            lines.append(_summary(scan, visible[i], spot))
        else:
            lines.append(_summary_line(scan, visible[i], spot))
    body: dict[str, Any] = {"trackingNumber": shipment.number}
    expected = _expected_delivery(shipment, visible)
    if expected is not None:
        body["expectedDeliveryDate"] = expected.date().isoformat()
    body["eventSummaries"] = lines
    return body


def _put(target: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        target[key] = value


def render_v3r2(shipment: Shipment, count: int, multi_status: bool) -> dict[str, Any]:
    """One Tracking 3.2 ``TrackingDetail`` (with ``statusCode`` "200" inside a 207 answer)."""
    visible = shipment.events[:count]
    newest = latest_index(visible)
    latest_scan = scan_for(shipment, newest)
    latest = visible[newest]
    mail = _mail_class(shipment)
    origin, dest = shipment.shipper.place, shipment.recipient.place
    body: dict[str, Any] = {"statusCode": "200"} if multi_status else {}
    body["trackingNumber"] = shipment.number
    body["destinationCity"] = dest.city.upper()
    body["destinationCountry"] = dest.country
    _put(body, "destinationState", _us_or_none(dest, dest.state))
    _put(body, "destinationZIPCode", _us_or_none(dest, dest.postal_code))
    body["kahalaIndicator"] = False
    body["mailClass"] = mail.name
    _put(body, "mailClassCode", mail.class_code)
    body["mailingDate"] = shipment.events[0].local.date().isoformat()
    body["mailType"] = MAIL_TYPE_V3R2[shipment.international]
    body["originCity"] = origin.city.upper()
    body["originCountry"] = origin.country
    _put(body, "originState", _us_or_none(origin, origin.state))
    _put(body, "originZIPCode", _us_or_none(origin, origin.postal_code))
    body["services"] = list(mail.services)
    _put(body, "serviceTypeCode", mail.service_type_code)
    body["status"] = latest.description or latest_scan.event_type
    body["statusCategory"] = latest_scan.category
    body["statusSummary"] = _summary(latest_scan, latest, spot_of(shipment, latest))
    body["uniqueTrackingID"] = _mail_piece_id(shipment)
    expected = _expected_delivery(shipment, visible)
    if expected is not None:
        body["deliveryDateExpectation"] = {"expectedDeliveryDate": expected.date().isoformat()}
    body["servicesEligibility"] = {
        "proofOfDeliveryEnabled": shipment.proof_of_delivery(count) is not None,
        "RREEnabled": False,
        "trackingProofOfDeliveryEnabled": False,
    }
    events: list[dict[str, Any]] = []
    for i in range(count - 1, -1, -1):
        event = visible[i]
        scan = scan_for(shipment, i)
        spot = spot_of(shipment, event)
        local = event.local
        item: dict[str, Any] = {}
        _put(item, "eventCity", spot.city)
        _put(item, "eventCode", scan.code)
        _put(item, "eventCountry", spot.country)
        _put(item, "eventState", spot.state)
        item["eventTimestamp"] = local.isoformat(timespec="seconds")
        item["eventType"] = event.description or scan.event_type
        _put(item, "eventZIPCode", spot.zip)
        if event.kind is EventKind.delivered:
            _put(item, "firm", shipment.recipient.company)
            item["recipientName"] = shipment.signer.upper()
        item["GMTTimestamp"] = gmt_timestamp(event.at)
        item["GMTOffset"] = gmt_offset_v3r2(local)
        events.append(item)
    body["trackingEvents"] = events
    return body
