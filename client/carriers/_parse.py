"""Parsing helpers every adapter shares: tolerant field access, times, text, event order.

Carriers drift from their own specs (NOTES §6 items 8 and 11): strings where numbers were
promised, ``""`` for absent values, nested objects that are sometimes missing. Everything here
reads defensively and returns None rather than raising for anything optional.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import lru_cache
from itertools import pairwise
from typing import Any, NamedTuple

from client.errors import MalformedResponse
from client.model import (
    Anomaly,
    Carrier,
    Event,
    ExceptionReason,
    Location,
    RawJSON,
    Status,
    TrackingResult,
)

# ------------------------------------------------------------------------------------------
# Tolerant access
# ------------------------------------------------------------------------------------------


# Parsed JSON objects are dicts: checking ``dict`` rather than the Mapping ABC keeps these
# checks, made for every field of every event, cheap.


def obj(value: Any) -> Mapping[str, Any]:
    """``value`` if it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def items(value: Any) -> list[Mapping[str, Any]]:
    """The JSON objects in ``value`` (a list, or a lone object), ignoring anything else."""
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, dict)]
    return []


def text(value: Any) -> str | None:
    """A non-empty stripped string from a JSON scalar, else None (``""`` counts as absent)."""
    if type(value) is str:
        return value.strip() or None
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        value = str(value)
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value or None


_TAG = re.compile(r"<[^>]*>")
# USPS writes entities without "&" inside <SUP> (``<SUP>reg;</SUP>``, NOTES §3.6).
_BARE_ENTITY = re.compile(r"(?<![&\w])(reg|trade|copy|#\d+);")


def clean(value: Any) -> str:
    """Readable text: HTML tags removed, entities decoded, whitespace collapsed."""
    raw = text(value)
    if raw is None:
        return ""
    return _clean(raw)


@lru_cache(maxsize=4096)
def _clean(raw: str) -> str:
    # Carriers repeat a small set of phrases: each is cleaned once.
    if "<" in raw or "&" in raw or ";" in raw:
        raw = _BARE_ENTITY.sub(lambda m: f"&{m.group(1)};", raw)  # before tags vanish: ">reg;"
        raw = html.unescape(_TAG.sub("", raw))
    return " ".join(raw.split())


def location(
    city: Any = None, state: Any = None, postal_code: Any = None, country: Any = None
) -> Location | None:
    """A Location, or None when the carrier gave none of its parts."""
    return _location(text(city), text(state), text(postal_code), text(country))


@lru_cache(maxsize=4096)
def _location(
    city: str | None, state: str | None, postal_code: str | None, country: str | None
) -> Location | None:
    # A route visits few places, and a fleet shares them: each is built once.
    if city is None and state is None and postal_code is None and country is None:
        return None
    return Location(city, state, postal_code, country)


def same_number(asked: str, answered: Any) -> bool | None:
    """Whether the number a carrier's answer names is the (normalised) number asked.

    None when the answer names no number at all. Echoes that change the form but not the
    number count as the same: case and padding spaces (UPS echoes numbers as sent, NOTES §1.6),
    leading zeros on all-digit numbers (``00``-padded FedEx labels; a zero-prefixed DHL
    waybill keeps its mod-7 check, NOTES §4.7), and the USPS routing prefix ``420`` + ZIP5 or
    ZIP+4 in front of an IMpb (NOTES §3.8). Anything else is another parcel's answer, which must
    never be reported as this number's.
    """
    raw = text(answered)
    if raw is None:
        return None
    got, want = "".join(raw.split()).upper(), asked.upper()
    if got == want:
        return True
    if got.isdigit() and want.isdigit():
        if got.lstrip("0") == want.lstrip("0"):
            return True
        return any(
            long.startswith("420") and long[cut:] == short
            for long, short in ((got, want), (want, got))
            for cut in (8, 12)
        )
    return False


def wrong_number(carrier: Carrier, asked: str, answered: Any) -> MalformedResponse:
    """The error for an answer about another number than the one asked."""
    return MalformedResponse(
        f"the carrier answered about {text(answered)!r} instead",
        carrier=carrier,
        number=asked,
        status_code=200,
        hint="the answer belongs to another parcel and was discarded; try again, and report "
        "it to the carrier if it persists",
    )


# ------------------------------------------------------------------------------------------
# Times
# ------------------------------------------------------------------------------------------


class Stamp(NamedTuple):
    """A parsed carrier time: aware datetime, whether the offset was given, whether repaired."""

    at: datetime
    offset_known: bool
    repaired: bool = False


_FRACTION = re.compile(r"(\.\d{1,6})\d*")
_SHORT_OFFSET = re.compile(r"([+-])(\d):(\d\d)$")


def parse_iso(value: Any) -> tuple[datetime, bool] | None:
    """(datetime, offset_known) from ISO 8601 text; offset-less values are read as UTC.

    Accepts ``Z``, ``±HH:MM``, ``±H:MM`` (USPS 3.2), a space instead of ``T``, fractions up to
    nanoseconds (DHL) and bare dates (midnight). None when the text is not a time at all.
    """
    raw = text(value)
    if raw is None:
        return None
    if "." in raw:
        raw = _FRACTION.sub(lambda m: m.group(1), raw, count=1)
    if len(raw) > 5 and raw[-5] in "+-":
        raw = _SHORT_OFFSET.sub(lambda m: f"{m.group(1)}0{m.group(2)}:{m.group(3)}", raw)
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC), False
    return parsed, True


_OFFSET = re.compile(r"([+-])?(\d{1,2}):?(\d{2})")


def parse_offset(value: Any) -> timezone | None:
    """A UTC offset from ``-06:00``, ``-7:00``, ``+0530``, ``-5`` or minutes like ``-420``."""
    raw = text(value)
    if raw is None:
        return None
    return _offset(raw)


@lru_cache(maxsize=1024)
def _offset(raw: str) -> timezone | None:
    if raw.upper() in ("Z", "UTC", "GMT"):
        return UTC
    sign = -1 if raw.startswith("-") else 1
    digits = raw.lstrip("+-")
    try:
        if ":" in digits:
            hours, minutes = digits.split(":", 1)
            delta = timedelta(hours=int(hours), minutes=int(minutes))
        elif len(digits) == 4 and int(digits[2:]) < 60 and int(digits[:2]) <= 14:
            delta = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        elif int(digits) <= 14:
            delta = timedelta(hours=int(digits))
        else:
            # USPS's spec example writes the offset in minutes ("-420" is UTC−7, NOTES §3.4).
            delta = timedelta(minutes=int(digits))
    except ValueError:
        return None
    if delta > timedelta(hours=14):
        return None
    return timezone(sign * delta)


def compact_date(value: Any) -> date | None:
    """A date from ``YYYYMMDD`` (UPS) or ISO ``YYYY-MM-DD``."""
    raw = text(value)
    if raw is None:
        return None
    return _compact_date(raw)


@lru_cache(maxsize=4096)
def _compact_date(raw: str) -> date | None:
    digits = raw.replace("-", "")
    if len(digits) != 8 or not digits.isdigit():
        return None
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return None


def compact_time(value: Any) -> time | None:
    """A time from ``HHMMSS``, ``HH:MM:SS``, ``HH:MM`` or UPS's colon-less ``74700``."""
    raw = text(value)
    if raw is None:
        return None
    return _compact_time(raw)


@lru_cache(maxsize=4096)
def _compact_time(raw: str) -> time | None:
    digits = raw.replace(":", "")
    if not digits.isdigit() or len(digits) > 6:
        return None
    # "HH:MM" has four digits and no seconds; "74700" lost its leading zero (NOTES §1.4).
    digits = digits + "00" if ":" in raw and len(digits) == 4 else digits.zfill(6)
    try:
        return time(int(digits[:2]), int(digits[2:4]), int(digits[4:]))
    except ValueError:
        return None


def repair_gmt(gmt: datetime, local: datetime, offset: timezone | None) -> tuple[datetime, bool]:
    """``gmt`` moved by whole days to agree with the wall-clock ``local`` (naive), if needed.

    USPS sometimes keeps the *local* date in ``GMTTimestamp`` when UTC has already crossed
    midnight (local 2024-11-21T23:28 at −06:00 with GMT 2024-11-21T05:28Z, NOTES §6 item 5).
    With a known offset the day is the one nearest to ``local − offset``; without one, the
    day that puts the implied offset inside the real range (−12 h … +14 h).
    """
    day = timedelta(days=1)
    local_as_utc = local.replace(tzinfo=UTC)
    if offset is not None:
        expected = local_as_utc - offset.utcoffset(None)
        shift = round((expected - gmt) / day)
        return (gmt + shift * day, True) if shift else (gmt, False)
    for shift in (0, 1, -1):
        implied = local_as_utc - (gmt + shift * day)
        if timedelta(hours=-12) <= implied <= timedelta(hours=14):
            return (gmt + shift * day, shift != 0)
    return gmt, False


def implied_zone(gmt: datetime, local: datetime) -> timezone:
    """The offset a naive local time implies against a UTC instant (to 15 minutes)."""
    delta = local.replace(tzinfo=UTC) - gmt
    quarters = round(delta / timedelta(minutes=15))
    delta = quarters * timedelta(minutes=15)
    if abs(delta) > timedelta(hours=14):
        return UTC
    return timezone(delta)


# ------------------------------------------------------------------------------------------
# Status words, for carriers that give words and no code (DHL refinements, USPS eventType)
# ------------------------------------------------------------------------------------------

_WORD_STATUS: tuple[tuple[re.Pattern[str], Status], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), status)
    for pattern, status in (
        (r"\bcancel", Status.cancelled),
        (
            r"return(ed|ing)? to (the )?(sender|shipper)|\breturn (to sender )?in progress",
            Status.returned_to_sender,
        ),
        (
            r"attempt|notice left|could not be delivered|not delivered|unable to deliver",
            Status.failed_attempt,
        ),
        (
            r"out for delivery|on (the )?(fedex )?vehicle for delivery|"
            r"loaded (on|onto) (the )?delivery vehicle|with (the )?courier for delivery",
            Status.out_for_delivery,
        ),
        (
            r"available for (pick ?up|collection)|ready for (pick ?up|collection)|"
            r"held for (pick ?up|collection)|awaiting collection",
            Status.available_for_pickup,
        ),
        (r"\bdelivered\b", Status.delivered),
        (
            r"pre-shipment|label (was )?(created|printed)|awaiting item|"
            r"shipment information (received|sent)|electronically (notified|advised)",
            Status.pre_transit,
        ),
        (
            r"\balert\b|exception|undeliverable|refused|damaged|\blost\b|\bdelay|"
            r"held (in|by|at) customs|customs (hold|delay)",
            Status.exception,
        ),
        (
            r"arriv|depart|in transit|processed|accepted|picked up|in possession|"
            r"\bsort|facility|\bhub\b|customs|clearance|forwarded|transferred",
            Status.in_transit,
        ),
    )
)

_WORD_REASON: tuple[tuple[re.Pattern[str], ExceptionReason], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), reason)
    for pattern, reason in (
        (r"weather|storm|snow|flood|hurricane", ExceptionReason.weather),
        (r"address", ExceptionReason.address),
        (r"damage", ExceptionReason.damaged),
        (r"\blost\b|missing", ExceptionReason.lost),
        (r"refus", ExceptionReason.refused),
        (r"customs|clearance", ExceptionReason.customs),
        (
            r"not (available|home)|business closed|no authorized recipient|recipient unavailable",
            ExceptionReason.recipient_unavailable,
        ),
        (r"delay|late\b", ExceptionReason.delay),
    )
)


@lru_cache(maxsize=4096)
def status_from_words(words: str) -> Status | None:
    """The status a carrier's free text describes, by the first matching phrase."""
    for pattern, status in _WORD_STATUS:
        if pattern.search(words):
            return status
    return None


@lru_cache(maxsize=4096)
def reason_from_words(words: str) -> ExceptionReason | None:
    """The exception reason a carrier's free text names, if any."""
    for pattern, reason in _WORD_REASON:
        if pattern.search(words):
            return reason
    return None


# ------------------------------------------------------------------------------------------
# Event order, current status, anomalies
# ------------------------------------------------------------------------------------------


def order_events(carrier_order: Sequence[Event]) -> tuple[tuple[Event, ...], list[Anomaly]]:
    """Events oldest → newest, exact duplicates dropped, with the anomalies noticed.

    Carriers list newest first, so the list is reversed and then the events with a known
    instant are sorted by it; the sort is stable, so events sharing a timestamp keep the
    carrier's relative order. An event without a UTC offset stays where the carrier listed
    it: its wall clock read as UTC is off by hours, and comparing it with real instants would
    move it by exactly that error (a USPS pre-shipment scan, NOTES §3.4, would jump ahead of
    scans made hours after it).
    """
    oldest_first = list(reversed(carrier_order))
    anomalies: list[Anomaly] = []
    timed = [e for e in oldest_first if e.offset_known]
    if any(a.time > b.time for a, b in pairwise(timed)):
        anomalies.append(Anomaly.out_of_order_events)
        in_order = iter(sorted(timed, key=lambda e: e.time))
        oldest_first = [next(in_order) if e.offset_known else e for e in oldest_first]
    seen: set[tuple[object, ...]] = set()
    kept: list[Event] = []
    for e in oldest_first:
        loc = e.location  # its fields, not the dataclass: tuples of str hash in C
        where = None if loc is None else (loc.city, loc.state, loc.postal_code, loc.country)
        key = (e.time, e.status, e.raw_code, e.description, where)
        if key in seen:
            continue
        seen.add(key)
        kept.append(e)
    if len(kept) < len(oldest_first):
        anomalies.append(Anomaly.duplicate_events)
    if any(e.status is Status.unknown and e.raw_code for e in kept):
        anomalies.append(Anomaly.unknown_codes)
    if any(not e.offset_known for e in kept):
        anomalies.append(Anomaly.missing_offsets)
    return tuple(kept), anomalies


@dataclass(frozen=True, slots=True)
class Summary:
    """A carrier's own statement of the current status, mapped."""

    status: Status
    raw_code: str | None = None
    description: str = ""
    reason: ExceptionReason | None = None


def current_status(summary: Summary | None, events: Sequence[Event]) -> Summary:
    """The current status: the carrier's summary if it gave one, else the newest event.

    When the newest event carries the summary's code, the event's reading wins: carriers put
    the detail (FedEx exception codes, DHL's words) on the scan, not on the summary. When it
    says the same status, its exception reason fills a missing one.
    """
    newest = events[-1] if events else None
    if summary is not None and summary.status is Status.unknown and summary.raw_code is None:
        summary = None  # a summary without any code says nothing; the events may
    if summary is None:
        if newest is None:
            return Summary(Status.unknown)
        return Summary(newest.status, newest.raw_code, newest.description, newest.exception_reason)
    if newest is None:
        return summary
    status, raw_code, description, reason = (
        summary.status, summary.raw_code, summary.description, summary.reason,
    )  # fmt: skip
    if raw_code is not None and newest.raw_code == raw_code:
        status, reason = newest.status, newest.exception_reason
    if newest.status is status:
        reason = reason if reason is not None else newest.exception_reason
        description = description or newest.description
    if (status, description, reason) == (summary.status, summary.description, summary.reason):
        return summary
    return Summary(status, raw_code, description, reason)


def regressed(status: Status, events: Iterable[Event]) -> bool:
    """Whether the current status went backwards in a parcel's life (NOTES §6 quirks).

    Narrow on purpose: a delivered parcel that is no longer delivered, or a parcel back at
    "label created" after it moved. A failed attempt followed by in-transit is ordinary.
    """
    seen = {e.status for e in events}
    if Status.delivered in seen and status is not Status.delivered:
        return True
    moved = seen - {Status.pre_transit, Status.unknown, Status.cancelled}
    return status is Status.pre_transit and bool(moved)


def newest(events: Sequence[Event], status: Status) -> Event | None:
    """The newest event with the given status."""
    for e in reversed(events):
        if e.status is status:
            return e
    return None


def at_day(day: date | None, clock: time | None) -> datetime | None:
    """A date and optional time, offset unknown, read as UTC."""
    if day is None:
        return None
    return datetime.combine(day, clock or time(0), tzinfo=UTC)


def tracking_result(
    carrier: Carrier,
    number: str,
    now: Summary,
    events: Sequence[Event],
    anomalies: Iterable[Anomaly],
    raw: Mapping[str, Any],
    **details: Any,
) -> TrackingResult:
    """A result whose current status comes from ``now`` (see :func:`current_status`);
    ``details`` are the carrier-specific fields (estimate, delivery, signer, service…)."""
    details.setdefault("status_description", now.description)
    return TrackingResult(
        carrier=carrier,
        number=number,
        status=now.status,
        events=tuple(events),
        exception_reason=now.reason,
        raw_status_code=now.raw_code,
        anomalies=tuple(anomalies),
        raw=RawJSON.of(raw),
        **details,
    )
