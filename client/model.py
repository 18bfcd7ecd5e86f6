"""The normalized tracking model every carrier adapter produces (all frozen).

Conventions, the same for every carrier:

- ``TrackingResult.events`` run **oldest → newest**, the order a timeline is read in (all
  four carriers send newest first; the adapters reverse and then sort the events with a known
  instant, stably, so scans that share a timestamp keep the carrier's relative order; a scan
  without offset keeps the carrier's position, since its instant is only a guess). Exact
  duplicates (same instant, code, description and location) are dropped once;
  near-duplicates are kept, because carriers really do scan twice (NOTES §6 item 6).
- Every time is timezone-aware. When the carrier gives a wall-clock time with no offset at
  all (USPS pre-shipment scans, UPS activities without ``gmt*`` fields, some FedEx dates), the
  time is read as UTC and the event says ``offset_known=False``.
- A carrier code the client does not know becomes :attr:`Status.unknown` with the code kept in
  ``raw_code``; it never raises.
- ``raw`` holds the carrier's own JSON (the result's payload, each event's object) for callers
  that need a field the model does not carry. It takes no part in equality. The adapters keep
  it as a :class:`RawJSON`: read like a dict, stored as the compact JSON bytes and parsed on
  first use, so holding thousands of results holds no trees of small Python objects (memory,
  and garbage-collector time in a long ``track_many``). Until ``raw`` is first read, a result
  or event keeps only those bytes, not even the RawJSON object around them: a bytes object
  is not tracked by the garbage collector, and every full collection walks every tracked
  object a program holds — one per scan of every result adds up (see :func:`_raw_as_bytes`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, cast

import orjson

__all__ = [
    "Anomaly",
    "Carrier",
    "Event",
    "ExceptionReason",
    "Location",
    "RawJSON",
    "Status",
    "TrackingResult",
]


# orjson reads an integer beyond 64 bits as a float, silently dropping its last digits (a
# 22-digit IMpb sent as a JSON number would no longer be the number). Such a number is a run
# of 19 or more digits where a value starts (after ":", "[" or ","); one sends the text to
# the standard parser, which keeps it exact. The runs are found at C speed on a copy with
# every digit as "0" (a regex scan would cost more than orjson's whole parse); runs inside
# strings, as tracking numbers are, cost one look at the byte before them.
_AS_ZEROS = bytes(0x30 if 0x30 <= b <= 0x39 else 0x78 for b in range(256))
_RUN = b"0" * 19
_VALUE_START = frozenset(b":[,")
_BLANK = frozenset(b" \t\r\n-")


def _has_long_integer(data: bytes) -> bool:
    mask = data.translate(_AS_ZEROS)
    start = mask.find(_RUN)
    while start != -1:
        i = start - 1
        while i >= 0 and data[i] in _BLANK:
            i -= 1
        if i < 0 or data[i] in _VALUE_START:
            return True
        end = mask.find(b"x", start)
        start = -1 if end == -1 else mask.find(_RUN, end)
    return False


def loads(data: bytes) -> Any:
    """JSON bytes parsed; raises ValueError when they are not JSON."""
    if not _has_long_integer(data):
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
    # What orjson refuses and JSON parsers commonly accept (NaN, Infinity) gets a second
    # chance; anything else raises ValueError here too.
    return json.loads(data)


class RawJSON(Mapping[str, Any]):
    """A carrier's JSON object as received: read like a (read-only) dict, kept as bytes.

    Parsed on first read and then kept parsed. ``dict(raw)`` is a plain dict, ``raw.json``
    the bytes.
    """

    __slots__ = ("_json", "_value")

    def __init__(self, data: bytes) -> None:
        self._json = data
        self._value: dict[str, Any] | None = None

    @classmethod
    def of(cls, value: Mapping[str, Any]) -> RawJSON:
        """The object ``value`` (parsed JSON), as bytes until read again."""
        if isinstance(value, RawJSON):
            return value
        try:
            data = orjson.dumps(value)
        except TypeError:  # orjson's JSONEncodeError: integers beyond 64 bits
            data = json.dumps(value).encode()
        return cls(data)

    @property
    def json(self) -> bytes:
        """The object's JSON text."""
        return self._json

    def _parsed(self) -> dict[str, Any]:
        if self._value is None:
            value = loads(self._json)
            self._value = value if isinstance(value, dict) else {}
        return self._value

    def __getitem__(self, key: str) -> Any:
        return self._parsed()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._parsed())

    def __len__(self) -> int:
        return len(self._parsed())

    def __repr__(self) -> str:
        return f"RawJSON({self._parsed()!r})"


def _raw_as_bytes(cls: type[Any]) -> type[Any]:
    """Make ``cls.raw`` keep an unread :class:`RawJSON` as its bytes alone.

    The dataclass's ``raw`` slot is wrapped in a property: storing an unparsed RawJSON
    stores its bytes, reading wraps them in a RawJSON again (once; it is kept). Instances
    stay frozen: assignment still raises, only ``__init__`` reaches the setter.
    """
    slot = cls.__dict__["raw"]

    def get(self: Any) -> Mapping[str, Any]:
        value = slot.__get__(self, cls)
        if type(value) is bytes:
            value = RawJSON(value)
            slot.__set__(self, value)
        return cast(Mapping[str, Any], value)

    def put(self: Any, value: Mapping[str, Any]) -> None:
        if type(value) is RawJSON and value._value is None:
            slot.__set__(self, value._json)
        else:
            slot.__set__(self, value)

    cls.raw = property(get, put, doc=slot.__doc__)
    return cls


class Carrier(StrEnum):
    """The carriers the client can track with."""

    ups = "ups"
    fedex = "fedex"
    usps = "usps"
    dhl = "dhl"


class Status(StrEnum):
    """Normalized shipment status, the same vocabulary for every carrier."""

    pre_transit = "pre_transit"
    in_transit = "in_transit"
    out_for_delivery = "out_for_delivery"
    failed_attempt = "failed_attempt"
    available_for_pickup = "available_for_pickup"
    delivered = "delivered"
    exception = "exception"
    returned_to_sender = "returned_to_sender"
    cancelled = "cancelled"
    unknown = "unknown"


class ExceptionReason(StrEnum):
    """Why a shipment is in exception (or a delivery failed), when the carrier says."""

    weather = "weather"
    address = "address"
    damaged = "damaged"
    lost = "lost"
    refused = "refused"
    delay = "delay"
    recipient_unavailable = "recipient_unavailable"
    customs = "customs"
    other = "other"


class Anomaly(StrEnum):
    """Data quirks the client noticed and repaired or reported while parsing."""

    duplicate_events = "duplicate_events"
    """Exact duplicate scans were dropped."""
    out_of_order_events = "out_of_order_events"
    """The carrier's list was not newest-first; events were re-sorted by time."""
    status_regression = "status_regression"
    """The current status is earlier in a parcel's life than a status already seen."""
    unknown_codes = "unknown_codes"
    """Some carrier codes are not in the client's tables (mapped to ``unknown``)."""
    missing_offsets = "missing_offsets"
    """Some times came without a UTC offset and were read as UTC."""
    repaired_times = "repaired_times"
    """A GMT timestamp contradicted its local time by whole days and was corrected."""
    multiple_results = "multiple_results"
    """The carrier returned several shipments for the number; the most recent was used."""


@dataclass(frozen=True, slots=True)
class Location:
    """Where an event happened, as far as the carrier says."""

    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None

    def __str__(self) -> str:
        head = ", ".join(x for x in (self.city, self.state) if x)
        tail = " ".join(x for x in (self.postal_code, self.country) if x)
        return ", ".join(x for x in (head, tail) if x)


@_raw_as_bytes
@dataclass(frozen=True, slots=True)
class Event:
    """One scan or status change of a shipment."""

    time: datetime
    """When it happened; timezone-aware (UTC if the carrier gave no offset)."""
    status: Status
    description: str
    location: Location | None = None
    raw_code: str | None = None
    """The carrier's code the status was mapped from (UPS 3-digit status code, FedEx scan
    code, USPS event code, DHL statusCode)."""
    exception_reason: ExceptionReason | None = None
    offset_known: bool = True
    """False when the carrier gave no UTC offset and ``time`` is its wall clock read as UTC."""
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False, hash=False)


@_raw_as_bytes
@dataclass(frozen=True, slots=True)
class TrackingResult:
    """Everything the client learned about one tracking number."""

    carrier: Carrier
    number: str
    status: Status
    events: tuple[Event, ...] = ()
    """Oldest → newest, deduplicated (see the module docstring)."""
    exception_reason: ExceptionReason | None = None
    status_description: str = ""
    """The carrier's own words for the current status."""
    raw_status_code: str | None = None
    estimated_delivery: datetime | None = None
    """Expected delivery (the start of the window when the carrier gives one)."""
    estimated_delivery_end: datetime | None = None
    """End of the expected delivery window, when the carrier gives one."""
    delivered_at: datetime | None = None
    """Set when the current status is delivered."""
    signed_by: str | None = None
    service: str | None = None
    anomalies: tuple[Anomaly, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False, hash=False)
    """The carrier's JSON for this number, as received."""

    @property
    def latest_event(self) -> Event | None:
        """The newest event, if any."""
        return self.events[-1] if self.events else None

    @property
    def is_delivered(self) -> bool:
        """Whether the current status is delivered."""
        return self.status is Status.delivered

    def to_dict(self, *, include_raw: bool = False) -> dict[str, Any]:
        """A JSON-ready dict (times as ISO 8601 strings)."""

        def iso(t: datetime | None) -> str | None:
            return t.isoformat() if t else None

        def loc(location: Location | None) -> dict[str, str | None] | None:
            if location is None:
                return None
            return {
                "city": location.city,
                "state": location.state,
                "postal_code": location.postal_code,
                "country": location.country,
            }

        out: dict[str, Any] = {
            "carrier": self.carrier.value,
            "number": self.number,
            "status": self.status.value,
            "exception_reason": self.exception_reason and self.exception_reason.value,
            "status_description": self.status_description,
            "raw_status_code": self.raw_status_code,
            "estimated_delivery": iso(self.estimated_delivery),
            "estimated_delivery_end": iso(self.estimated_delivery_end),
            "delivered_at": iso(self.delivered_at),
            "signed_by": self.signed_by,
            "service": self.service,
            "anomalies": [a.value for a in self.anomalies],
            "events": [
                {
                    "time": e.time.isoformat(),
                    "status": e.status.value,
                    "description": e.description,
                    "location": loc(e.location),
                    "raw_code": e.raw_code,
                    "exception_reason": e.exception_reason and e.exception_reason.value,
                    "offset_known": e.offset_known,
                }
                for e in self.events
            ],
        }
        if include_raw:
            out["raw"] = dict(self.raw)
        return out


@dataclass(frozen=True, slots=True)
class MultiPieceShipment:
    """A shipment of several packages: the master number's result and each other piece's,
    every piece with its own status."""

    master: TrackingResult
    pieces: tuple[TrackingResult, ...]
    """The other pieces (not the master), in the carrier's order."""

    @property
    def numbers(self) -> tuple[str, ...]:
        """Every piece's number, the master's first."""
        return (self.master.number, *(p.number for p in self.pieces))


@dataclass(frozen=True, slots=True)
class ProofOfDelivery:
    """A carrier's proof-of-delivery document for a delivered, signed-for package."""

    carrier: Carrier
    number: str
    media_type: str
    """``application/pdf``, ``image/png`` or ``text/html`` (what the carrier sent)."""
    content: bytes
