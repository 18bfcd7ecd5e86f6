"""Pure timelines: a scenario, compiled for one carrier and number, as events at instants.

Nothing here reads a clock or does I/O. What a request sees is a pure function of the
compiled shipment and ``now``: :meth:`Shipment.visible_count` is a bisection over the
event instants, so the per-request cost does not grow with the scenario.
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from simulator import numbers, places
from simulator.scenario import EventKind, ExceptionReason, PlaceSpec, Scenario, Service
from simulator.seeding import seed_int as seed_int


@cache
def zone(name: str) -> ZoneInfo:
    """The IANA zone of that name (cached)."""
    return ZoneInfo(name)


@dataclass(frozen=True, slots=True)
class Place:
    """A place on a route, with what carriers print about it."""

    city: str
    state: str | None
    postal_code: str
    country: str
    tz: str
    street: str | None = None
    facility_id: str = ""

    @property
    def country_name(self) -> str:
        """The country's English name."""
        return places.COUNTRY_NAMES.get(self.country, self.country)

    def localize(self, instant: datetime) -> datetime:
        """The instant as the wall-clock time at this place, with its UTC offset."""
        return instant.astimezone(zone(self.tz))


@dataclass(frozen=True, slots=True)
class Party:
    """Shipper or recipient."""

    name: str
    company: str | None
    place: Place


@dataclass(frozen=True, slots=True)
class Event:
    """One event of a compiled timeline, at a UTC instant and a place."""

    at: datetime
    kind: EventKind
    reason: ExceptionReason | None
    place: Place
    description: str | None = None

    @property
    def local(self) -> datetime:
        """Wall-clock time at the event's place."""
        return self.place.localize(self.at)


@dataclass(frozen=True, slots=True)
class Variant:
    """The realistic data (route, parties, signer) drawn once for one variant of a scenario."""

    scenario: Scenario
    index: int
    shipper: Party
    recipient: Party
    signer: str
    places: tuple[Place, ...]
    weight_kg: float
    offsets: tuple[float, ...]
    """Seconds from the start to each event, for bisection."""
    generation: int = 0
    """The scenario load this variant belongs to (see Simulation.generation)."""


class Shipment:
    """A scenario played for one carrier and number from a start instant ``t0``.

    Cheap to make: it holds only the number, the variant and ``t0``; its events are built
    on first use (rendering), and :meth:`visible_count` needs none of them.
    """

    __slots__ = ("_events", "_t0", "carrier", "key", "master", "number", "t0", "variant")

    def __init__(
        self,
        variant: Variant,
        carrier: str,
        number: str,
        t0: datetime,
        t0_seconds: float | None = None,
        master: str | None = None,
    ) -> None:
        self.variant = variant
        self.carrier = carrier
        self.number = number
        self.master = master
        """The master number when this is another piece of a multi-piece shipment."""
        self.t0 = t0
        self._t0 = t0.timestamp() if t0_seconds is None else t0_seconds
        self.key: tuple[object, ...] = (
            carrier, number, variant.scenario.name, variant.index, self._t0, variant.generation,
        )  # fmt: skip
        """Identifies what is rendered: equal keys render equal bodies."""
        self._events: tuple[Event, ...] | None = None

    def with_events(self, events: tuple[Event, ...], tag: tuple[str, ...]) -> Shipment:
        """A copy showing ``events`` instead of the scenario's (data quirks); ``tag`` names
        the change, so the copy's key differs from the original's."""
        copy = Shipment(self.variant, self.carrier, self.number, self.t0, self._t0, self.master)
        copy._events = events
        copy.key = (*self.key, *tag)
        return copy

    def __repr__(self) -> str:
        return f"<Shipment {self.carrier} {self.number} {self.scenario.name} from {self.t0}>"

    @property
    def scenario(self) -> Scenario:
        """The scenario it plays."""
        return self.variant.scenario

    @property
    def events(self) -> tuple[Event, ...]:
        """All its events, oldest first, visible or not."""
        if self._events is None:
            t0 = self.t0
            self._events = tuple(
                Event(t0 + spec.at, spec.kind, spec.reason, place, spec.description)
                for spec, place in zip(self.scenario.events, self.variant.places, strict=True)
            )
        return self._events

    @property
    def service(self) -> Service:
        """Service level of the scenario."""
        return self.scenario.service

    @property
    def shipper(self) -> Party:
        """Who sent it."""
        return self.variant.shipper

    @property
    def recipient(self) -> Party:
        """Who it is addressed to."""
        return self.variant.recipient

    @property
    def signer(self) -> str:
        """Who signs for it on delivery (or, unsigned, who the carrier says received it)."""
        return self.scenario.signature.signer or self.variant.signer

    @property
    def signed(self) -> bool:
        """Whether the delivery is signed for (what a proof of delivery needs)."""
        return self.scenario.signature.signed

    def delivered_at(self, count: int) -> Event | None:
        """The delivery among the first ``count`` events (the latest one), or None."""
        for event in reversed(self.events[:count]):
            if event.kind is EventKind.delivered:
                return event
        return None

    def proof_of_delivery(self, count: int) -> Event | None:
        """The signed delivery a proof of delivery shows, once visible; None before (or never,
        for a delivery without signature)."""
        return self.delivered_at(count) if self.signed else None

    @property
    def master_number(self) -> str:
        """The number the whole shipment is tracked by (its own, for a single piece)."""
        return self.master or self.number

    @property
    def reference(self) -> str:
        """The shipper's reference (order number) the shipment can be tracked by."""
        return self.scenario.reference or default_reference(self.master_number)

    @property
    def pieces(self) -> tuple[str, ...]:
        """Every piece's number, the master's first (one entry for a single piece)."""
        return piece_numbers(self.carrier, self.master_number, self.scenario.pieces)

    def piece(self, number: str) -> Shipment:
        """Another piece of the same shipment: the same story under its own number."""
        master = None if number == self.master_number else self.master_number
        return Shipment(self.variant, self.carrier, number, self.t0, self._t0, master)

    @property
    def weight_kg(self) -> float:
        """Package weight."""
        return self.variant.weight_kg

    @property
    def international(self) -> bool:
        """Whether it crosses a border."""
        return self.shipper.place.country != self.recipient.place.country

    @property
    def expected_delivery(self) -> datetime | None:
        """The promised delivery instant, if the scenario promises one."""
        offset = self.scenario.expected_delivery
        if offset is None:
            delivered = [e.at for e in self.events if e.kind is EventKind.delivered]
            return delivered[0] if delivered else None
        return self.t0 + offset

    def visible_count(self, now: float) -> int:
        """How many events have happened by ``now`` (POSIX seconds). Never shows the future."""
        return bisect.bisect_right(self.variant.offsets, now - self._t0)

    def window(self, count: int) -> tuple[float, float]:
        """The span of simulated time (POSIX seconds) during which exactly ``count`` events
        are visible: from the newest of them to the next one (or forever)."""
        offsets = self.variant.offsets
        since = self._t0 + offsets[count - 1] if count else float("-inf")
        until = self._t0 + offsets[count] if count < len(offsets) else float("inf")
        return since, until

    def visible(self, now: float) -> tuple[Event, ...]:
        """The events that have happened by ``now``, oldest first."""
        return self.events[: self.visible_count(now)]

    def next_change(self, now: float) -> datetime | None:
        """When the next event becomes visible, or None when the timeline is complete."""
        i = self.visible_count(now)
        return self.events[i].at if i < len(self.events) else None


REFERENCE_PREFIX = "PO-"
"""The default reference is this and the master tracking number (see :func:`default_reference`)."""


def default_reference(number: str) -> str:
    """The shipper's reference of a shipment whose scenario names none: derived from the
    number, so any worker can map it back without state."""
    return REFERENCE_PREFIX + number


def reference_number(reference: str) -> str | None:
    """The master number a default reference names, or None for any other reference."""
    if reference[: len(REFERENCE_PREFIX)].upper() != REFERENCE_PREFIX:
        return None
    return numbers.normalize(reference[len(REFERENCE_PREFIX) :]) or None


@cache
def piece_numbers(carrier: str, master: str, pieces: int) -> tuple[str, ...]:
    """The numbers of a multi-piece shipment, the master's first; the others are drawn
    from the master (same format), so they are the same on every worker and every run."""
    if pieces <= 1:
        return (master,)
    rng = random.Random(seed_int("pieces", carrier, master))
    fmt = numbers.format_of(carrier, master)
    found = [master]
    while len(found) < pieces:
        candidate = numbers.generate(carrier, rng, fmt)
        if candidate not in found:
            found.append(candidate)
    return tuple(found)


def _facility_id(city: str) -> str:
    return f"{seed_int('facility', city) % 9000 + 1000}"


def _place(city: places.City, street: str | None = None) -> Place:
    return Place(
        city=city.name,
        state=city.state,
        postal_code=city.postal_code,
        country=city.country,
        tz=city.tz,
        street=street,
        facility_id=_facility_id(city.name),
    )


def _spec_place(spec: PlaceSpec, street: str | None = None) -> Place:
    known = places.city_named(spec.city, spec.country)
    tz = spec.timezone or (known.tz if known else None) or _country_zone(spec.country)
    postal = spec.postal_code or (known.postal_code if known else "")
    state = spec.state if spec.state is not None else (known.state if known else None)
    return Place(spec.city, state, postal, spec.country, tz, street, _facility_id(spec.city))


def _country_zone(country: str) -> str:
    cities = places.cities_in(country)
    return cities[0].tz if cities else "UTC"


def _endpoint(
    value: str | PlaceSpec, rng: random.Random, used: set[str]
) -> places.City | PlaceSpec:
    if isinstance(value, PlaceSpec):
        return value
    return places.pick(rng, places.cities_in(value, hubs=False), used)


def compile_variant(scenario: Scenario, index: int, seed: int, generation: int = 0) -> Variant:
    """Draw the route, parties and places of one variant of a scenario (Faker, seeded)."""
    rng = random.Random(seed_int(seed, scenario.name, index))
    used: set[str] = set()
    stops: list[Place] = []

    origin = _endpoint(scenario.route.origin, rng, used)
    destination = _endpoint(scenario.route.destination, rng, used)
    o_country = origin.country
    d_country = destination.country
    used.update({getattr(origin, "name", ""), getattr(destination, "name", "")})

    f_origin = places.faker_for(o_country, rng.getrandbits(32))
    shipper_street = f_origin.street_address()
    shipper = Party(
        name=f_origin.name(),
        company=f_origin.company(),
        place=_spec_place(origin, shipper_street)
        if isinstance(origin, PlaceSpec)
        else _place(origin, shipper_street),
    )
    f_dest = places.faker_for(d_country, rng.getrandbits(32))
    recipient_name = f_dest.name()
    recipient = Party(
        name=recipient_name,
        company=None,
        place=_spec_place(destination, f_dest.street_address())
        if isinstance(destination, PlaceSpec)
        else _place(destination, f_dest.street_address()),
    )
    signer = recipient_name if rng.random() < 0.6 else f_dest.name()

    hubs = scenario.route.hubs
    international = o_country != d_country
    stops.append(shipper.place)
    hub_countries = [o_country] * hubs
    if international:
        hub_countries = [o_country] + [d_country] * max(hubs - 1, 1)
    for country in hub_countries:
        city = places.pick(rng, places.cities_in(country, hubs=True), used)
        used.add(city.name)
        stops.append(_place(city))
    stops.append(recipient.place)
    port = next((p for p in stops[1:] if p.country == d_country), stops[-1])

    assigned: list[Place] = []
    cursor = 0
    for spec in scenario.events:
        loc = spec.location
        if isinstance(loc, PlaceSpec):
            assigned.append(_spec_place(loc))
            continue
        if loc == "origin":
            cursor = 0
        elif loc == "destination":
            cursor = len(stops) - 1
        elif loc == "port_of_entry":
            cursor = stops.index(port)
        elif loc == "hub" or spec.kind is EventKind.arrived_at_facility:
            cursor = min(cursor + 1, len(stops) - 1)
        elif loc is None:
            cursor = _default_stop(spec.kind, spec.reason, cursor, stops, port)
        assigned.append(stops[cursor])

    return Variant(
        scenario=scenario,
        index=index,
        shipper=shipper,
        recipient=recipient,
        signer=signer,
        places=tuple(assigned),
        weight_kg=round(rng.uniform(0.2, 22.0), 1),
        offsets=tuple(spec.at.total_seconds() for spec in scenario.events),
        generation=generation,
    )


_AT_DESTINATION = frozenset(
    {
        EventKind.out_for_delivery,
        EventKind.delivery_attempted,
        EventKind.available_for_pickup,
        EventKind.delivered,
        EventKind.address_corrected,
    }
)


def _default_stop(
    kind: EventKind, reason: ExceptionReason | None, cursor: int, stops: list[Place], port: Place
) -> int:
    last = len(stops) - 1
    if kind in (EventKind.label_created, EventKind.picked_up, EventKind.cancelled):
        return 0
    if kind in _AT_DESTINATION or (
        kind is EventKind.exception and reason in (ExceptionReason.address, ExceptionReason.refused)
    ):
        return last
    if kind in (EventKind.customs_hold, EventKind.customs_cleared):
        return stops.index(port)
    return cursor


def build_shipment(variant: Variant, carrier: str, number: str, t0: datetime) -> Shipment:
    """Place a variant's events on the time line starting at ``t0`` (UTC)."""
    if t0.tzinfo is None:
        raise ValueError("t0 must be timezone-aware")
    return Shipment(variant, carrier, number, t0.astimezone(UTC))


def at_offset(t0: datetime, text_offset: timedelta) -> float:
    """POSIX seconds of ``t0 + offset``; the clock point tests and the CLI ask about."""
    return (t0 + text_offset).timestamp()
