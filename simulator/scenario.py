"""The scenario model: a parcel's life in canonical event kinds, frozen once loaded.

A scenario never names a carrier code. Each carrier module maps the canonical kinds below
to its own codes and shapes, so one scenario plays on all four carriers.
"""

from __future__ import annotations

import re
from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    Field,
    model_validator,
)

from simulator.durations import format_duration
from simulator.faults import Fault, author_schema
from simulator.fields import CARRIERS as CARRIERS
from simulator.fields import Carrier as Carrier
from simulator.fields import Duration, Frozen


class EventKind(StrEnum):
    """Canonical event kinds, the only vocabulary a scenario speaks."""

    label_created = "label_created"
    picked_up = "picked_up"
    arrived_at_facility = "arrived_at_facility"
    departed_facility = "departed_facility"
    in_transit = "in_transit"
    customs_hold = "customs_hold"
    customs_cleared = "customs_cleared"
    out_for_delivery = "out_for_delivery"
    delivery_attempted = "delivery_attempted"
    available_for_pickup = "available_for_pickup"
    delivered = "delivered"
    exception = "exception"
    address_corrected = "address_corrected"
    returned_to_sender = "returned_to_sender"
    cancelled = "cancelled"


class ExceptionReason(StrEnum):
    """Why an ``exception`` event happened."""

    weather = "weather"
    address = "address"
    damaged = "damaged"
    lost = "lost"
    refused = "refused"
    delay = "delay"
    recipient_unavailable = "recipient_unavailable"


class Service(StrEnum):
    """Service levels; each carrier renders its own product name for them."""

    ground = "ground"
    express = "express"
    priority = "priority"
    economy = "economy"


LocationRef = Literal["origin", "hub", "destination", "port_of_entry"]


_LOCATION_REFS = ("origin", "hub", "destination", "port_of_entry")


def _location(value: Any) -> Any:
    if isinstance(value, str) and value not in _LOCATION_REFS:
        raise ValueError(
            f"location {value!r} is not one of {', '.join(_LOCATION_REFS)}; "
            "use one of those or a mapping with city, state, postal_code, country"
        )
    return value


def _country_code(value: Any) -> Any:
    if isinstance(value, str) and not re.fullmatch(r"[A-Z]{2}", value):
        raise ValueError(
            f"{value!r} is not an ISO country code; write two capital letters like 'US' or "
            "'DE', or a mapping with city and country"
        )
    return value


class LocatedError(ValueError):
    """A scenario-level check that blames one field deeper down (``loc``), so the loader
    reports the line of, say, the event out of order rather than the top of the file."""

    def __init__(self, message: str, *loc: str | int) -> None:
        super().__init__(message)
        self.loc = loc


_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")


class PlaceSpec(Frozen):
    """A place written out in a scenario instead of one drawn for the route."""

    city: str = Field(min_length=1)
    state: str | None = None
    postal_code: str | None = None
    country: str = Field(default="US", pattern=r"^[A-Z]{2}$")
    timezone: str | None = Field(
        default=None,
        description="IANA zone, e.g. America/Chicago; guessed from the city if left out",
    )


class RouteSpec(Frozen):
    """Where the parcel travels: countries of origin and destination and how many hubs between."""

    origin: Annotated[str | PlaceSpec, BeforeValidator(_country_code)] = Field(
        default="US", description="ISO country code or a place"
    )
    destination: Annotated[str | PlaceSpec, BeforeValidator(_country_code)] = Field(
        default="US", description="ISO country code or a place"
    )
    hubs: int = Field(default=2, ge=0, le=6)

    @property
    def international(self) -> bool:
        """Whether origin and destination lie in different countries."""
        return _country(self.origin) != _country(self.destination)


def _country(value: str | PlaceSpec) -> str:
    return value.country if isinstance(value, PlaceSpec) else value


class EventSpec(Frozen):
    """One event of a scenario: what happens, how long after the start, and where."""

    at: Duration = Field(description="offset from the shipment's start, e.g. '0h', '1d 4h'")
    kind: EventKind
    reason: ExceptionReason | None = Field(
        default=None, description="required for kind 'exception'"
    )
    location: Annotated[LocationRef | PlaceSpec | None, BeforeValidator(_location)] = Field(
        default=None, description="origin, hub, destination, port_of_entry, or a place"
    )
    description: str | None = Field(
        default=None, description="replaces the carrier's usual text for this event"
    )

    @model_validator(mode="after")
    def _reason_matches_kind(self) -> EventSpec:
        if self.kind is EventKind.exception and self.reason is None:
            raise ValueError(
                "an 'exception' event needs a reason; add 'reason:' with one of "
                + ", ".join(r.value for r in ExceptionReason)
            )
        if self.kind is not EventKind.exception and self.reason is not None:
            raise ValueError(
                f"'reason' only belongs to kind 'exception', not {self.kind.value!r}; remove it"
            )
        if self.at < timedelta(0):
            raise ValueError("'at' cannot be negative; events happen after the start (0h)")
        return self


class SignatureSpec(Frozen):
    """Who signs on delivery, and whether anyone does (a proof of delivery needs a signature)."""

    signed: bool = Field(
        default=True,
        description="false: delivered without a signature (left at the door); no proof of "
        "delivery is ever available",
    )
    signer: str | None = Field(
        default=None,
        min_length=1,
        max_length=60,
        description="the name signed; drawn for the recipient's country when left out",
    )


MAX_PIECES = 20
"""The most pieces a multi-piece shipment may have (FedEx pages associated shipments)."""


class Scenario(Frozen):
    """A parcel's whole life, as written in one YAML file."""

    name: str = Field(description="unique slug, e.g. delivered-on-time")
    description: str = ""
    carriers: tuple[Carrier, ...] = Field(default=CARRIERS, min_length=1)
    service: Service = Service.ground
    route: RouteSpec = RouteSpec()
    start: Duration = Field(
        default=timedelta(0),
        description="the shipment's start relative to the clock start; '-1d' = a day underway",
    )
    expected_delivery: Duration | None = Field(
        default=None, description="promised delivery, as an offset from the start"
    )
    found: bool = Field(default=True, description="false: the carriers answer 'not found'")
    events: tuple[EventSpec, ...] = ()
    numbers: dict[Carrier, tuple[str, ...]] = Field(default_factory=dict)
    weight: float = Field(default=1.0, ge=0, description="share in the default mix; 0 = never")
    reference: str | None = Field(
        default=None,
        min_length=1,
        max_length=30,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._/-]*$",
        description="the shipper's reference (order number) its declared numbers are tracked "
        "by; left out, every shipment's reference is 'PO-' and its tracking number",
    )
    pieces: int = Field(
        default=1,
        ge=1,
        le=MAX_PIECES,
        description="packages travelling together under the tracking number as master; the "
        "other pieces get numbers of their own (multi-piece plays on declared numbers only)",
    )
    signature: SignatureSpec = Field(
        default=SignatureSpec(), description="the signature taken on delivery"
    )
    faults: tuple[Fault, ...] = Field(
        default=(), description="faults that apply to this scenario's shipments"
    )

    @model_validator(mode="after")
    def _coherent(self) -> Scenario:
        if not _SLUG.match(self.name):
            raise ValueError(
                f"name {self.name!r} must be a lower-case slug like 'delivered-on-time'"
            )
        for i, (a, b) in enumerate(zip(self.events, self.events[1:], strict=False)):
            if b.at < a.at:
                raise LocatedError(
                    f"events must be in time order: event {i + 1} (at "
                    f"{format_duration(b.at)}) comes before event {i} (at "
                    f"{format_duration(a.at)}); reorder them or fix 'at'",
                    "events",
                    i + 1,
                    "at",
                )
        if self.found and not self.events:
            raise ValueError("a scenario needs at least one event (or 'found: false')")
        if not self.found and self.events:
            raise ValueError("'found: false' scenarios have no events; remove 'events'")
        if self.pieces > 1 and not self.numbers:
            raise ValueError(
                f"'pieces: {self.pieces}' needs declared master numbers: add 'numbers:' "
                "(a number from the default mix is always a single piece)"
            )
        for carrier in self.numbers:
            if carrier not in self.carriers:
                raise LocatedError(
                    f"numbers are given for {carrier!r}, which is not in 'carriers'; add it there",
                    "numbers",
                    carrier,
                )
        return self

    @property
    def span(self) -> timedelta:
        """Offset of the last event (zero for a scenario without events)."""
        return self.events[-1].at if self.events else timedelta(0)


def scenario_json_schema() -> dict[str, Any]:
    """The JSON Schema editors use to autocomplete and check scenario files."""
    schema = author_schema(Scenario.model_json_schema(mode="validation"))
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://carriersim.dev/scenario.schema.json"
    schema["title"] = "carriersim scenario"
    return schema
