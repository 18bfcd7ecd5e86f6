"""DHL data faults: the lies and carrier-format quirks applied to a rendered answer."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from datetime import datetime
from typing import Any

from simulator import numbers, quirks
from simulator.carriers.dhl.codes import NAME
from simulator.carriers.dhl.render import render
from simulator.faults import Decision
from simulator.timeline import Shipment, seed_int

# --------------------------------------------------------------------------------------------
# Data faults: lies and carrier-format quirks (see the module docstring for the forms)
# --------------------------------------------------------------------------------------------

ERROR_LIES = frozenset({"ok_with_error", "mixed_results"})
"""Lies answered with a 200 that holds no shipment."""

EMPTY_ANSWER: dict[str, Any] = {"shipments": []}

UNDOCUMENTED_STATUS_CODE = "in-customs"
"""[unverified] A statusCode outside the spec's enum (NOTES §4.4). No source shows which value
DHL sends beyond the five documented ones; this one keeps their lower-case hyphenated style."""

OFFSET_AT_UTC_PLACES = "+01:00"
"""[unverified] wrong_offsets at a place on UTC, where ``Z`` would be right: Central European
time, DHL's home zone."""


def other_number(number: str) -> str:
    """wrong_number: another valid number of the same format, fixed by the asked one.

    Numbers of no checked format keep their letters and get other digits.
    """
    fmt = numbers.format_of(NAME, number)
    for attempt in itertools.count():
        rng = random.Random(seed_int("dhl-wrong-number", number, attempt))
        if fmt is not None:
            other = numbers.generate(NAME, rng, fmt)
        else:
            other = "".join(str(rng.randrange(10)) if c.isdigit() else c for c in number)
            if other == number and not any(c.isdigit() for c in number):
                other = number[:2] + "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ")
                                             for _ in number[2:])  # fmt: skip
        if other != number:
            return other
    raise AssertionError("unreachable")  # pragma: no cover


def padded(number: str) -> str:
    """padded_number: a leading zero on an all-digit number, else a trailing space."""
    return "0" + number if number.isdigit() else number + " "


def offsetless(stamp: str) -> str:
    """missing_offsets: the same wall-clock time without its UTC offset."""
    return datetime.fromisoformat(stamp).replace(tzinfo=None).isoformat(timespec="seconds")


def wrong_offset(stamp: str) -> str:
    """wrong_offsets: the same wall-clock time labelled with an offset the place does not have."""
    local = datetime.fromisoformat(stamp)
    wall = local.replace(tzinfo=None).isoformat(timespec="seconds")
    return wall + ("Z" if local.utcoffset() else OFFSET_AT_UTC_PLACES)


def _restamp(entry: dict[str, Any], change: Callable[[str], str]) -> None:
    for event in (entry["status"], *entry["events"]):
        event["timestamp"] = change(event["timestamp"])
    if "estimatedTimeOfDelivery" in entry:
        entry["estimatedTimeOfDelivery"] = change(entry["estimatedTimeOfDelivery"])
    frame = entry.get("estimatedDeliveryTimeFrame")
    if frame is not None:
        entry["estimatedDeliveryTimeFrame"] = {k: change(v) for k, v in frame.items()}
    proof = entry["details"].get("proofOfDelivery")
    if proof is not None:
        proof["timestamp"] = change(proof["timestamp"])


def _quirk_entry(entry: dict[str, Any], wanted: frozenset[str]) -> None:
    """Apply the carrier-format quirks to one freshly rendered ``shipments[]`` entry."""
    # ``status`` is the same dict as one of ``events``: copy it so each is changed once.
    entry["status"] = status = dict(entry["status"])
    events: list[dict[str, Any]] = entry["events"]
    if "empty_events" in wanted:
        events.clear()
    if "unknown_codes" in wanted:
        status["statusCode"] = UNDOCUMENTED_STATUS_CODE
        if events:
            events[0] = {**events[0], "statusCode": UNDOCUMENTED_STATUS_CODE}
    if "missing_optional_fields" in wanted:
        for event in (status, *events):
            event["location"] = {}
    if "missing_offsets" in wanted:
        _restamp(entry, offsetless)
    elif "wrong_offsets" in wanted:
        _restamp(entry, wrong_offset)
    if "padded_number" in wanted:
        entry["id"] = padded(entry["id"])
    if "lowercase_number" in wanted:
        entry["id"] = entry["id"].lower()


def render_faulted(
    shipment: Shipment,
    count: int,
    service: str,
    full: bool,
    offset: int,
    limit: int,
    decision: Decision,
) -> dict[str, Any]:
    """The 200 body with a decision's wrong_number lie and its quirks applied."""
    if "wrong_number" in decision.lies:
        shipment = Shipment(shipment.variant, NAME, other_number(shipment.number), shipment.t0)
    shipment, count = quirks.apply(shipment, count, decision.quirks)
    body = render(shipment, count, service, full, offset, limit)
    if decision.quirks:
        for entry in body["shipments"]:
            _quirk_entry(entry, decision.quirks)
    return body
