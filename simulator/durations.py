"""Durations as scenario authors write them: ``0h``, ``5h``, ``1d 4h``, ``-2d``, ``90m``."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([wdhms])")
_WHOLE = re.compile(r"^\s*([+-])?\s*((?:\d+(?:\.\d+)?\s*[wdhms]\s*)+)$")


class DurationError(ValueError):
    """A duration string that does not follow the ``1d 4h 30m`` form."""


def parse_duration(text: str | int | float) -> timedelta:
    """Parse ``"1d 4h"`` (weeks, days, hours, minutes, seconds; optional sign) into a timedelta.

    A bare number is read as hours, the unit scenario authors use most.
    """
    if isinstance(text, bool):
        raise DurationError(f"{text!r} is not a duration; write it like '5h' or '1d 4h'")
    if isinstance(text, int | float):
        return timedelta(hours=text)
    match = _WHOLE.match(text)
    if not match:
        raise DurationError(
            f"{text!r} is not a duration; write it like '5h', '1d 4h' or '-30m' "
            "(units: w, d, h, m, s)"
        )
    seconds = sum(float(n) * _UNITS[u] for n, u in _PART.findall(match.group(2)))
    sign = -1 if match.group(1) == "-" else 1
    return timedelta(seconds=sign * seconds)


def format_duration(delta: timedelta) -> str:
    """Format a timedelta the way :func:`parse_duration` reads it (``1d 4h``)."""
    total = int(delta.total_seconds())
    sign = "-" if total < 0 else ""
    total = abs(total)
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if total >= size:
            parts.append(f"{total // size}{unit}")
            total %= size
    return sign + (" ".join(parts) or "0h")
