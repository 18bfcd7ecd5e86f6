"""The ground truth: what the client must report for each canonical event, per carrier.

This table belongs to neither package. The simulator maps canonical events to carrier codes
(``simulator/carriers/*``), the client maps carrier codes to normalized statuses
(``client/carriers/*``); the property tests compose the two and compare the result with what
is written here, so a wrong row in either table shows up as a failing property.

Three layers:

1. :data:`CANONICAL` — the one reading (normalized status, exception reason) every canonical
   event kind has, independent of any carrier.
2. :data:`VOCABULARY_LIMITS` — per carrier, the extra readings accepted where that carrier's
   own vocabulary genuinely cannot express the canonical distinction. Each entry cites
   ``tests/contract/specs/NOTES.md`` (``N§x.y``). An entry here is a statement about
   the carrier, never about a bug: bugs are fixed (client) or listed in
   :data:`SIMULATOR_DEVIATIONS` (simulator).
3. Precision rules: where a carrier's format loses information (an offset, seconds, a city),
   the functions at the end say at which precision the client is compared, and why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import NamedTuple

from client.model import Anomaly, Location, Status
from client.model import ExceptionReason as Why
from simulator.scenario import EventKind
from simulator.scenario import ExceptionReason as SimReason
from simulator.timeline import Event as SimEvent
from simulator.timeline import Shipment

Reading = tuple[Status, Why | None]
"""A normalized status and its exception reason (None where the status has no reason)."""

Key = tuple[EventKind, SimReason | None]
"""A canonical event: its kind, and its reason when it is an ``exception``."""

_K = EventKind


def _why(reason: SimReason) -> Why:
    # The two enums share their values; the client's adds ``customs`` and ``other``.
    return Why(reason.value)


# ------------------------------------------------------------------------------------------
# 1. The canonical reading of every event kind
# ------------------------------------------------------------------------------------------

CANONICAL: Mapping[Key, frozenset[Reading]] = {
    (_K.label_created, None): frozenset({(Status.pre_transit, None)}),
    (_K.picked_up, None): frozenset({(Status.in_transit, None)}),
    (_K.arrived_at_facility, None): frozenset({(Status.in_transit, None)}),
    (_K.departed_facility, None): frozenset({(Status.in_transit, None)}),
    (_K.in_transit, None): frozenset({(Status.in_transit, None)}),
    # A customs hold is an ordinary step of an international parcel *and* a stop: carriers
    # code it either way (UPS 012 "Clearance in Progress", a progress code, N§1.5; FedEx CD
    # "Clearance Delay", a regulatory exception code, N§2.5). Both readings are right; an
    # exception must then say why: customs.
    (_K.customs_hold, None): frozenset(
        {(Status.in_transit, None), (Status.exception, Why.customs)}
    ),
    (_K.customs_cleared, None): frozenset({(Status.in_transit, None)}),
    (_K.out_for_delivery, None): frozenset({(Status.out_for_delivery, None)}),
    # A failed attempt without a stated cause; carriers that attach "recipient not
    # available" to their attempt code (FedEx 007, USPS 52, N§2.5, N§3.5) may say so.
    (_K.delivery_attempted, None): frozenset(
        {(Status.failed_attempt, None), (Status.failed_attempt, Why.recipient_unavailable)}
    ),
    (_K.available_for_pickup, None): frozenset({(Status.available_for_pickup, None)}),
    (_K.delivered, None): frozenset({(Status.delivered, None)}),
    (_K.address_corrected, None): frozenset({(Status.in_transit, None)}),
    (_K.returned_to_sender, None): frozenset({(Status.returned_to_sender, None)}),
    (_K.cancelled, None): frozenset({(Status.cancelled, None)}),
    **{
        (_K.exception, r): frozenset({(Status.exception, _why(r))})
        for r in SimReason
        if r is not SimReason.recipient_unavailable
    },
    # "Nobody was there" is a failed delivery attempt with its cause, in every carrier's
    # vocabulary (UPS 060, FedEx DE/007, USPS 56, DHL "delivery attempt", N§1.5-4.4).
    (_K.exception, SimReason.recipient_unavailable): frozenset(
        {(Status.failed_attempt, Why.recipient_unavailable)}
    ),
}


# ------------------------------------------------------------------------------------------
# 2. Where a carrier cannot say it
# ------------------------------------------------------------------------------------------

_R = SimReason
VOCABULARY_LIMITS: Mapping[str, Mapping[Key, frozenset[Reading]]] = {
    "ups": {
        # N§1.5: the status code for a lost parcel is the generic 13 "Exception" (the
        # activity text only says UPS is "attempting to verify the package location"), so
        # the reason cannot be read off the answer.
        (_K.exception, _R.lost): frozenset({(Status.exception, None)}),
    },
    "fedex": {
        # N§2.5: FedEx has SE "Shipment Exception" and no damage or loss exception code.
        (_K.exception, _R.damaged): frozenset({(Status.exception, None)}),
        (_K.exception, _R.lost): frozenset({(Status.exception, None)}),
        # N§2.5: no "refused" exception code; 099 "unable to deliver" is the nearest.
        (_K.exception, _R.refused): frozenset(
            {(Status.exception, Why.other), (Status.exception, None)}
        ),
    },
    "usps": {
        # N§3.5: Pub 199 has no cancellation scan; a shipper withdrawing an item is 44
        # "Customer Recall", which sends it back to the sender.
        (_K.cancelled, None): frozenset({(Status.returned_to_sender, None)}),
        # N§3.5: no delay scan; a late item is still "In Transit" (category) and its
        # text says it is arriving late.
        (_K.exception, _R.delay): frozenset({(Status.in_transit, None)}),
        # N§3.5 has no "lost" scan: such an item shows the N§3.9 status "Awaiting Delivery"
        # under category "Alert", which says "something is wrong", not what.
        (_K.exception, _R.lost): frozenset({(Status.exception, None), (Status.unknown, None)}),
    },
    "dhl": {
        # N§4.4: statusCode is one of pre-transit, transit, delivered, failure, unknown. A
        # weather or operational delay of a parcel that keeps moving is "transit", and DHL's
        # words for it ("delayed", "on hold") are not a different status.
        (_K.exception, _R.weather): frozenset({(Status.in_transit, None)}),
        (_K.exception, _R.delay): frozenset({(Status.in_transit, None)}),
    },
}


def acceptable(carrier: str, kind: EventKind, reason: SimReason | None) -> frozenset[Reading]:
    """Every reading the client may give for this event on this carrier."""
    key = (kind, reason if kind is EventKind.exception else None)
    return CANONICAL[key] | VOCABULARY_LIMITS.get(carrier, {}).get(key, frozenset())


def canonical_for(event: SimEvent) -> frozenset[Reading]:
    """The carrier-independent readings of a compiled event."""
    return CANONICAL[(event.kind, event.reason if event.kind is EventKind.exception else None)]


def acceptable_for(carrier: str, event: SimEvent) -> frozenset[Reading]:
    """:func:`acceptable` for a compiled event."""
    return acceptable(carrier, event.kind, event.reason)


# ------------------------------------------------------------------------------------------
# Simulator deviations: known simulator bugs, excluded from the properties (see the report)
# ------------------------------------------------------------------------------------------


class Deviation(NamedTuple):
    """A simulator rendering that contradicts its own sources; the properties tolerate it
    where the verdict names it, and an ``xfail(strict=True)`` test pins it until it is fixed."""

    carrier: str
    quirk: str
    what: str


SIMULATOR_DEVIATIONS: tuple[Deviation, ...] = ()
"""None known at present; add one here, with an ``xfail(strict=True)`` test pinning it."""


# ------------------------------------------------------------------------------------------
# 3. Precision: times, places, signers
# ------------------------------------------------------------------------------------------


def loses_offset(carrier: str, event: SimEvent, batch: bool = False) -> bool:
    """Whether the carrier's (clean) answer gives this event's time without any UTC offset.

    USPS Tracking 3.0 DETAIL (the one-number GET the client uses) prints ``eventTimestamp``
    as local time with no offset, and pre-shipment scans carry no ``GMTTimestamp`` /
    ``GMTOffset`` at all (N§3.4 "pre-shipment and partner events lack the GMT fields
    entirely"); live scans also zero the seconds. Tracking 3.2 (the batch POST, ``batch``)
    writes ``eventTimestamp`` with its offset (N§3.4). Every other event of every carrier
    has an exact instant: UPS ``gmtDate``/``gmtTime`` (N§1.4), FedEx ISO with offset
    (N§2.4), USPS ``GMTTimestamp`` (N§3.4), DHL ISO with offset (N§4.4).
    """
    return carrier == "usps" and not batch and event.kind is EventKind.label_created


def expected_time(carrier: str, event: SimEvent, batch: bool = False) -> datetime:
    """The time the client must report: the instant, or the degraded reading of N§3.4.

    Without an offset the client reads the local wall clock as UTC (``client.model``'s
    rule) and flags ``offset_known=False``; USPS prints that wall clock to the minute.
    """
    if loses_offset(carrier, event, batch):
        return event.local.replace(tzinfo=UTC, second=0, microsecond=0)
    return event.at


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def omits_city(carrier: str, event: SimEvent) -> bool:
    """Whether the carrier's answer names no city for this event.

    UPS label records carry only the country (the official Postman sample, N§1.4 source
    UPS-PM); FedEx's OC scan is the shipper's upload, a postal code without a city (N§6
    item 11); USPS "In Transit to Next Facility" scans name no place at all (N§3.4 live
    DETAIL bodies, KAR-USPS).
    """
    if event.kind is EventKind.label_created:
        return carrier in ("ups", "fedex")
    return carrier == "usps" and event.kind is EventKind.in_transit


def omits_country(carrier: str, event: SimEvent) -> bool:
    """Whether the carrier's answer names no country for this event.

    USPS 3.0 writes ``eventCountry`` null for domestic scans (N§3.4 live bodies), and an
    in-transit scan has no place at all.
    """
    if carrier != "usps":
        return False
    return event.place.country == "US" or event.kind is EventKind.in_transit


def location_problem(
    carrier: str, event: SimEvent, found: Location | None, thin: bool = False
) -> str | None:
    """Why the client's location for ``event`` disagrees with the scenario, or None.

    Compared: city and country always (unless ``thin``: the answer may have lost any part,
    but what is left must be right), state and postal code when the client reports them.
    Cities compare case-insensitively and may carry the carrier's suffix: USPS names network
    facilities "<CITY> <ST> DISTRIBUTION CENTER" and DHL Express writes "<CITY> - <COUNTRY>"
    (N§3.4, N§4.4 live samples); the client keeps the carrier's text. Countries are the ISO
    code, or the English name USPS prints for foreign scans.
    """
    place = event.place
    loc = found or Location()
    if loc.city is None:
        if not (thin or omits_city(carrier, event)):
            return f"city missing, expected {place.city!r}"
    else:
        city, want = _fold(loc.city), _fold(place.city)
        if not (city == want or city.startswith(want + " ")):
            return f"city {loc.city!r}, expected {place.city!r}"
    if loc.country is None:
        if not (thin or omits_country(carrier, event)):
            return f"country missing, expected {place.country!r}"
    elif _fold(loc.country) not in (_fold(place.country), _fold(place.country_name)):
        return f"country {loc.country!r}, expected {place.country!r}"
    if loc.state is not None and loc.state != place.state:
        return f"state {loc.state!r}, expected {place.state!r}"
    if loc.postal_code is not None and _fold(loc.postal_code) != _fold(place.postal_code):
        return f"postal code {loc.postal_code!r}, expected {place.postal_code!r}"
    return None


def shows_signer(carrier: str, shipment: Shipment) -> bool:
    """Whether a clean answer names who signed.

    DHL Parcel DE (``00`` + SSCC numbers, N§4.7) shows names and the signer only when the
    request carries a matching ``recipientPostalCode`` (DHL-SPEC, N§4.3), which a tracking
    client does not know; every other carrier and DHL unit names the signer.
    """
    if carrier != "dhl":
        return True
    number = shipment.number
    return not (len(number) == 20 and number.startswith("00"))


def signer_matches(found: str | None, signer: str) -> bool:
    """Signers compare case-insensitively: USPS prints names upper case (N§3.4 ``name``)."""
    return found is not None and _fold(found) == _fold(signer)


def delivery_moment_ok(carrier: str, delivered: SimEvent, at: datetime) -> bool:
    """A delivery time read from the result's own fields when no scan is shown.

    UPS gives ``deliveryDate`` DEL + ``deliveryTime.endTime``: the local date and time with
    no offset (N§1.4), read as UTC; every other carrier's delivery field is an instant.
    """
    if at == delivered.at:
        return True
    return carrier == "ups" and at == delivered.local.replace(tzinfo=UTC)


# ------------------------------------------------------------------------------------------
# Faults: what each may add to a result
# ------------------------------------------------------------------------------------------

ERROR_LIES = frozenset({"ok_with_error", "mixed_results", "wrong_number"})
"""Lies a client can only answer with an error: "not found" for a parcel that exists
(ok_with_error, mixed_results) or an answer about another number (wrong_number)."""

QUIRK_ANOMALIES: Mapping[str, frozenset[Anomaly]] = {
    "duplicate_scans": frozenset({Anomaly.duplicate_events}),
    "out_of_order": frozenset({Anomaly.out_of_order_events}),
    "status_regression": frozenset({Anomaly.status_regression}),
    "unknown_codes": frozenset({Anomaly.unknown_codes}),
    # Nothing is sorted by an unknown instant, so no re-sorting either.
    "missing_offsets": frozenset({Anomaly.missing_offsets}),
    # Wrong offsets shift instants (re-sorting) or contradict a GMT time (repair).
    "wrong_offsets": frozenset({Anomaly.out_of_order_events, Anomaly.repaired_times}),
}
"""The anomalies each quirk may make a client report."""


def is_regression(visible: Sequence[SimEvent], scan: SimEvent) -> bool:
    """Whether the status_regression quirk's extra scan really goes backwards.

    The quirk appends "in transit" after a delivery (and nothing before one). Backwards,
    in the normalized model, is (a) anything but delivered after
    delivery, or (b) pre-transit after the parcel moved. "In transit" again after an
    exception, a failed attempt or out-for-delivery is an ordinary next scan (a delay
    resolved, a parcel back at the depot), and after label-created or an arrival scan it is
    plain progress: no client can or should call those regressions.
    """
    if any(e.kind is EventKind.delivered for e in visible):
        return scan.kind is not EventKind.delivered
    return scan.kind is EventKind.label_created and any(
        (Status.pre_transit, None) not in canonical_for(e) for e in visible
    )


def summary_only(carrier: str, readings: frozenset[Reading]) -> frozenset[Reading]:
    """Current-status readings acceptable when the carrier's summary is all there is to go by
    (empty_events: no scans; unknown_codes: a newest scan no table explains).

    The reason usually lives on the scan, so it may be lost. USPS's summary is only its
    ``statusCategory`` (N§3.4), which files recalls, refusals, returns and losses alike under
    "Alert": without the scan, "exception" is all a client can say for those.
    """
    relaxed = readings | {(s, None) for s, _ in readings}
    troubled = {Status.exception, Status.cancelled, Status.returned_to_sender}
    if carrier == "usps" and any(s in troubled for s, _ in readings):
        relaxed |= {(Status.exception, None)}
    return frozenset(relaxed)


def deviates(carrier: str, quirk: str) -> bool:
    """Whether a known simulator deviation concerns this carrier and fault kind or mode."""
    return any(d.carrier in ("*", carrier) and d.quirk == quirk for d in SIMULATOR_DEVIATIONS)
