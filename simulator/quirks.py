"""Data quirks that live in the timeline itself, applied before any carrier renders it.

These transform the visible events of a shipment into the bad data carriers really send:
duplicated scans, scans out of order, a status going backwards, a timestamp in the future,
place names outside ASCII. Quirks that only exist in a carrier's format (missing offsets,
unknown codes, padded numbers, …) are the carrier module's business. Every transform is
pure and deterministic, so quirked bodies are cached like any other.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from simulator.scenario import EventKind
from simulator.timeline import Event, Shipment

TIMELINE_QUIRKS = frozenset(
    {"duplicate_scans", "out_of_order", "status_regression", "future_timestamps",
     "non_ascii_places"}
)  # fmt: skip

_MOVES = frozenset(
    {EventKind.arrived_at_facility, EventKind.departed_facility, EventKind.in_transit}
)

# Real places whose names are not ASCII, per country: what a parcel's scans show when a
# carrier's data carries them (NOTES §6; parsers that assume ASCII break on them).
_NON_ASCII = {
    "US": ("Española", "Cañon City", "Peñasco", "Doña Ana", "Coeur d'Alêne"),
    "DE": ("München", "Köln", "Düsseldorf", "Nürnberg", "Würzburg"),
    "FR": ("Orléans", "Besançon", "Nîmes", "Périgueux"),
    "GB": ("Llanfair Pwllgwyngyll", "Ynys Môn"),
    "CA": ("Montréal", "Québec", "Trois-Rivières"),
    "MX": ("Cancún", "Querétaro", "Mérida"),
    "JP": ("東京", "大阪"),
    "CN": ("深圳", "广州"),
}
_FALLBACK = ("Zürich", "São Paulo", "Kraków", "Malmö")


def apply(shipment: Shipment, count: int, quirks: frozenset[str]) -> tuple[Shipment, int]:
    """The shipment as the quirks show it, and how many of its events are visible."""
    wanted = quirks & TIMELINE_QUIRKS
    if not wanted or count == 0:
        return shipment, count
    events = list(shipment.events[:count])
    if "non_ascii_places" in wanted:
        events = [_non_ascii(e, i) for i, e in enumerate(events)]
    if "duplicate_scans" in wanted:
        events = _duplicates(events)
    if "status_regression" in wanted:
        events = _regression(events)
    if "future_timestamps" in wanted:
        newest = events[-1]
        events[-1] = replace(newest, at=newest.at + timedelta(days=2))
    if "out_of_order" in wanted and len(events) >= 2:
        # Swap the two newest scans: both are present, only their order is wrong.
        events[-1], events[-2] = events[-2], events[-1]
    derived = shipment.with_events(tuple(events), tag=tuple(sorted(wanted)))
    return derived, len(events)


def _non_ascii(event: Event, index: int) -> Event:
    names = _NON_ASCII.get(event.place.country, _FALLBACK)
    place = replace(event.place, city=names[index % len(names)])
    return replace(event, place=place)


def _duplicates(events: list[Event]) -> list[Event]:
    """Every movement scan twice, same instant (or the newest event, when none moved)."""
    out: list[Event] = []
    doubled = False
    for e in events:
        out.append(e)
        if e.kind in _MOVES:
            out.append(e)
            doubled = True
    if not doubled:
        out.append(events[-1])
    return out


def _regression(events: list[Event]) -> list[Event]:
    """A scan after the delivery that sets the status back to in transit: the incident this
    quirk reproduces contradicts a delivery, so before one it adds nothing (a parcel out
    for delivery must not show a status that is merely older)."""
    if not any(e.kind is EventKind.delivered for e in events):
        return events
    newest = events[-1]
    back = Event(
        at=newest.at + timedelta(minutes=1),
        kind=EventKind.in_transit,
        reason=None,
        place=newest.place,
    )
    return [*events, back]
