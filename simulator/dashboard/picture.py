"""Timeline pictures: a parcel's events along simulated time, drawn as SVG on the server.

Pure: a list of events, the instant "now" and a width in, an SVG string out. The status
band is coloured by the normalized status each event leads to (the vocabulary of the
reference client), so a picture reads the same whichever carrier plays the parcel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from html import escape

from simulator.durations import format_duration
from simulator.scenario import EventKind

STATUS_OF: dict[EventKind, str] = {
    EventKind.label_created: "pre_transit",
    EventKind.picked_up: "in_transit",
    EventKind.arrived_at_facility: "in_transit",
    EventKind.departed_facility: "in_transit",
    EventKind.in_transit: "in_transit",
    EventKind.customs_hold: "exception",
    EventKind.customs_cleared: "in_transit",
    EventKind.out_for_delivery: "out_for_delivery",
    EventKind.delivery_attempted: "failed_attempt",
    EventKind.available_for_pickup: "available_for_pickup",
    EventKind.delivered: "delivered",
    EventKind.exception: "exception",
    EventKind.address_corrected: "in_transit",
    EventKind.returned_to_sender: "returned_to_sender",
    EventKind.cancelled: "cancelled",
}
"""The normalized status a parcel is in after each canonical event kind."""

COLOURS: dict[str, str] = {
    "pre_transit": "#9aa5b1",
    "in_transit": "#2f6fde",
    "out_for_delivery": "#7b3fd1",
    "failed_attempt": "#d97706",
    "available_for_pickup": "#0e9f9f",
    "delivered": "#1f9d55",
    "exception": "#d64545",
    "returned_to_sender": "#8a5a2b",
    "cancelled": "#52606d",
}
"""One colour per normalized status (the legend on every page uses the same table)."""

_EXCEPTIONAL = {EventKind.exception, EventKind.customs_hold, EventKind.delivery_attempted}


@dataclass(frozen=True, slots=True)
class Mark:
    """One event on a picture: when (POSIX seconds), what, and whether the clock passed it."""

    at: float
    kind: EventKind
    label: str
    visible: bool


def status_of(kind: EventKind) -> str:
    """The normalized status after an event of this kind."""
    return STATUS_OF[kind]


def timeline_svg(
    marks: Sequence[Mark], now: float, *, width: int = 640, height: int = 74, title: str = ""
) -> str:
    """An SVG picture of a timeline: status band, event ticks, exceptions, the "now" line.

    Events the clock has passed are drawn solid, those still to come hollow and faded.
    """
    pad = 12
    if not marks:
        return (
            f'<svg class="timeline" role="img" viewBox="0 0 {width} {height}" '
            f'width="{width}" height="{height}"><title>{escape(title or "no events")}</title>'
            f'<text x="{pad}" y="{height // 2}" class="empty">no events</text></svg>'
        )
    first = min(m.at for m in marks)
    last = max(m.at for m in marks)
    span = max(last - first, 3600.0)
    lo, hi = first - span * 0.04, last + span * 0.04
    # "now" stays in the picture even far before or after the parcel's life, at its edge.
    clamped = min(max(now, lo), hi)

    def x(t: float) -> int:
        return round(pad + (t - lo) / (hi - lo) * (width - 2 * pad))

    band_y, band_h = 30, 12
    mid = band_y + band_h // 2
    # Colours come from the page's stylesheet (classes s-<status>), which keeps a page with
    # many pictures small.
    parts = [
        f'<svg class="timeline" role="img" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
        f'<rect class="track" x="{pad}" y="{band_y}" width="{width - 2 * pad}" '
        f'height="{band_h}" rx="3"/>'
    ]
    ordered = sorted(marks, key=lambda m: m.at)
    for i, m in enumerate(ordered):
        end = ordered[i + 1].at if i + 1 < len(ordered) else hi
        state = "" if m.visible else " later"
        parts.append(
            f'<rect class="band s-{status_of(m.kind)}{state}" x="{x(m.at)}" y="{band_y}" '
            f'width="{max(x(end) - x(m.at), 1)}" height="{band_h}"/>'
        )
    for m in ordered:
        cx = x(m.at)
        status = status_of(m.kind)
        when = datetime.fromtimestamp(m.at, UTC).strftime("%Y-%m-%d %H:%M UTC")
        label = escape(f"{m.label} — {when}" + ("" if m.visible else " (still to come)"))
        if m.kind in _EXCEPTIONAL:
            parts.append(f'<path class="exception-mark" d="M{cx - 5} {band_y - 4}h10l-5 -9z"/>')
        parts.append(
            f'<circle class="event {"seen" if m.visible else "coming"}" cx="{cx}" cy="{mid}" '
            f'r="5" data-s="{status}"><title>{label}</title></circle>'
        )
    nx = x(clamped)
    ahead = "" if lo <= now <= hi else (" (before)" if now < lo else " (after)")
    parts.append(
        f'<line class="now" x1="{nx}" y1="10" x2="{nx}" y2="{height - 12}"/>'
        f'<text class="now-label" x="{min(max(nx, 24), width - 24)}" y="9" '
        f'text-anchor="middle">now{ahead}</text>'
    )
    start = datetime.fromtimestamp(first, UTC).strftime("%b %d %H:%M")
    parts.append(
        f'<text x="{pad}" y="{height - 2}">{escape(start)}</text>'
        f'<text x="{width - pad}" y="{height - 2}" text-anchor="end">'
        f"+{escape(format_duration_seconds(last - first))}</text></svg>"
    )
    return "".join(parts)


def stylesheet() -> str:
    """The CSS rules that colour pictures and status pills by normalized status."""
    rules = [
        f".s-{s}{{fill:{c}}} circle[data-s={s}]{{stroke:{c}}} circle.seen[data-s={s}]{{fill:{c}}}"
        for s, c in COLOURS.items()
    ]
    return "\n".join(rules)


def format_duration_seconds(seconds: float) -> str:
    """A span of seconds as scenario authors write durations (``1d 2h``)."""
    return format_duration(timedelta(seconds=round(seconds)))
