"""Field types shared by the scenario and fault models."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, PlainSerializer, WithJsonSchema

from simulator.durations import format_duration, parse_duration

Carrier = Literal["ups", "fedex", "usps", "dhl"]
CARRIERS: tuple[Carrier, ...] = ("ups", "fedex", "usps", "dhl")


class Frozen(BaseModel):
    """Base of the file models: unknown fields are errors, instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _duration(value: Any) -> Any:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, str | int | float):
        return parse_duration(value)
    return value


Duration = Annotated[
    timedelta,
    BeforeValidator(_duration),
    # Written back the way authors write it, so what the admin API lists can be sent again.
    PlainSerializer(format_duration, return_type=str, when_used="json"),
    WithJsonSchema(
        {
            "anyOf": [
                {
                    "type": "string",
                    "pattern": r"^\s*[+-]?\s*(\d+(\.\d+)?\s*[wdhms]\s*)+$",
                },
                {"type": "number"},
            ],
            "description": "a duration like '5h', '1d 4h', '-30m' (a bare number is hours)",
        }
    ),
]
