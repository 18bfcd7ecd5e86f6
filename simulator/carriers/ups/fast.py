"""The UPS tracking body's cold path: bytes prepared per variant and visible-event count.

A clean answer (no query flags, a single-piece catalog or created shipment) is a pure
function of the variant, the visible-event count, the number and the start instant. What
does not depend on the number or the start is rendered once per (variant, count) by the
reference renderer's own helpers into a byte template with holes; a request then only
formats its instants (integer arithmetic, cached day strings and zone offsets) and joins.
:func:`render_bytes` returns None wherever it cannot promise the reference's bytes
(fractional instants, query flags, pieces); the caller then uses the reference renderer,
which stays the oracle (tests/properties/test_fast_render.py).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

import orjson

from simulator.carriers.ups import render as ref
from simulator.carriers.ups.codes import STATUS_NAMES, status_of
from simulator.scenario import EventKind
from simulator.timeline import Shipment, zone

_HOLE = re.compile(rb"@@(\w+)@@")
_TWO = [f"{i:02d}" for i in range(100)]
_LIMIT = 8192

# A template: literal chunks between holes, and what fills each hole.
#   ("n",)            the tracking number
#   (what, k, tz)     instant k (seconds from t0; tz None for UTC) formatted as ``what``
_Template = tuple[tuple[bytes, ...], tuple[Any, ...]] | None
_Templates = dict[tuple[int, int], tuple[Any, _Template]]
_templates: _Templates = {}
_days: dict[int, str] = {}
_offsets: dict[tuple[str, int], int] = {}


def _day(day: int) -> str:
    text = _days.get(day)
    if text is None:
        if len(_days) >= _LIMIT:
            _days.clear()
        text = _days[day] = date.fromordinal(719163 + day).strftime("%Y%m%d")
    return text


def _utcoffset(tz: str, s: int) -> int:
    """The zone's UTC offset (seconds) at POSIX second ``s``; cached per hour when the
    offset is the same at both ends of that hour."""
    hour = s // 3600
    off = _offsets.get((tz, hour))
    if off is not None:
        return off
    z = zone(tz)
    d = datetime.fromtimestamp(s, z).utcoffset()
    off = int(d.total_seconds()) if d is not None else 0
    lo = datetime.fromtimestamp(hour * 3600, z).utcoffset()
    hi = datetime.fromtimestamp(hour * 3600 + 3599, z).utcoffset()
    if lo == hi == d:
        if len(_offsets) >= _LIMIT:
            _offsets.clear()
        _offsets[(tz, hour)] = off
    return off


def _fmt(what: str, s: int, tz: str | None) -> str:
    if tz is not None:
        off = _utcoffset(tz, s)
        if what == "o":
            minutes = off // 60
            sign = "-" if minutes < 0 else "+"
            minutes = abs(minutes)
            return f"{sign}{_TWO[minutes // 60]}:{_TWO[minutes % 60]}"
        s += off
    day, sec = divmod(s, 86400)
    if what == "d":
        return _day(day)
    h, rest = divmod(sec, 3600)
    m, sec = divmod(rest, 60)
    if what == "t":
        return _TWO[h] + _TWO[m] + _TWO[sec]
    return f"{_TWO[h]}:{_TWO[m]}:{_TWO[sec]}"  # "c": colon-separated


class _Holes:
    """Collects the holes of a template as the body is built."""

    def __init__(self) -> None:
        self.fills: list[tuple[Any, ...]] = []

    def __call__(self, *fill: Any) -> str:
        self.fills.append(fill)
        return f"@@{len(self.fills) - 1}@@"


def _template(shipment: Shipment, count: int) -> tuple[tuple[bytes, ...], tuple[Any, ...]] | None:
    """Build the template of a shipment's variant at ``count`` visible events."""
    variant = shipment.variant
    offsets = variant.offsets
    if not all(float(o).is_integer() for o in offsets):
        return None
    scenario = variant.scenario
    events = shipment.events
    visible = events[:count]
    hole = _Holes()
    statuses = [status_of(e) for e in visible]
    activity = []
    for i in reversed(range(count)):
        event, status = visible[i], statuses[i]
        # The reference's own activity object, with the instants replaced by holes.
        entry = ref._activity(event, status)
        k, tz = int(offsets[i]), event.place.tz
        entry["date"] = hole("d", k, tz)
        entry["time"] = hole("t", k, tz)
        entry["gmtDate"] = hole("d", k, None)
        entry["gmtOffset"] = hole("o", k, tz)
        entry["gmtTime"] = hole("c", k, None)
        activity.append(entry)
    latest = max(range(count), key=lambda i: (offsets[i], i)) if count > 1 else 0
    current = statuses[latest]
    name = STATUS_NAMES[current.status_code]
    dates, time = ref._delivery(shipment, visible, visible[latest])
    # Replace the delivery instants by holes, deciding as _delivery does.
    rtz = shipment.recipient.place.tz
    delivered = next(
        (i for i in reversed(range(count)) if visible[i].kind is EventKind.delivered), None
    )
    if delivered is not None:
        k, tz = int(offsets[delivered]), visible[delivered].place.tz
        dates = [{"type": "DEL", "date": hole("d", k, tz)}]
        time = {"type": "DEL", "endTime": hole("t", k, tz)}
    elif dates and dates[0]["type"] == "RDD":
        j = next(i for i, e in enumerate(events) if e.kind is EventKind.delivered)
        dates = [{"type": "RDD", "date": hole("d", int(offsets[j]), events[j].place.tz)}]
    elif dates:
        expected = scenario.expected_delivery
        if expected is None:
            j = next(i for i, e in enumerate(events) if e.kind is EventKind.delivered)
            k = int(offsets[j])
        else:
            if not expected.total_seconds().is_integer():
                return None
            k = int(expected.total_seconds())
        dates = [{"type": "SDD", "date": hole("d", k, rtz)}]
        if time is not None and time["type"] == "CMT":
            time = {"type": "CMT", "endTime": hole("t", k, rtz)}
    number = hole("n")
    package: dict[str, Any] = {"trackingNumber": number, "deliveryDate": dates}
    if time is not None:
        package["deliveryTime"] = time
    package["activity"] = activity
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
        ref._package_address("ORIGIN", shipment.shipper, shipper=True),
        ref._package_address("DESTINATION", shipment.recipient, shipper=False),
    ]
    package["weight"] = ref._weight(shipment)
    package["service"] = ref._SERVICES[(shipment.service, shipment.international)]
    if delivered is not None:
        package["deliveryInformation"] = {"location": "Front Door", "receivedBy": shipment.signer}
    reference = scenario.reference
    package["referenceNumber"] = [
        {"type": "SHIPMENT", "number": reference if reference is not None else "PO-" + number}
    ]
    package["packageCount"] = len(shipment.pieces)
    body = {"trackResponse": {"shipment": [{"inquiryNumber": number, "package": [package]}]}}
    raw = orjson.dumps(body)
    parts = _HOLE.split(raw)
    chunks = tuple(parts[0::2])
    order = tuple(hole.fills[int(p)] for p in parts[1::2])
    if b"@@" in b"".join(chunks):
        return None  # the data itself looks like a hole: keep to the reference
    return chunks, order


def render_bytes(shipment: Shipment, count: int) -> bytes | None:
    """The reference's ``dumps(render(shipment, count, Options()))``, or None where this
    path does not apply (the caller then renders with the reference)."""
    t0 = shipment._t0
    number = shipment.number
    if shipment.master is not None or not t0.is_integer() or not number.isalnum():
        return None
    if not number.isascii():
        return None
    variant = shipment.variant
    # Keyed by the variant object itself (two simulations may share a scenario's name and
    # index with different data); the entry keeps the variant, so its id is not reused.
    key = (id(variant), count)
    kept = _templates.get(key)
    if kept is None or kept[0] is not variant:
        kept = (variant, _template(shipment, count))
        if len(_templates) >= _LIMIT:
            _templates.clear()
        _templates[key] = kept
    template = kept[1]
    if template is None:
        return None
    chunks, order = template
    s0 = int(t0)
    out = [chunks[0]]
    append = out.append
    for fill, chunk in zip(order, chunks[1:], strict=True):
        if fill[0] == "n":
            append(number.encode())
        else:
            append(_fmt(fill[0], s0 + fill[1], fill[2]).encode())
        append(chunk)
    return b"".join(out)
