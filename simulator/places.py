"""Real places a simulated parcel travels through, with their time zones.

Cities, postal codes and zones come from this table so that a route is geographically
coherent (a scan's UTC offset is the offset of the city it happened in); names and street
lines are drawn from Faker, seeded, once per compiled variant.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cache
from typing import Any

from faker import Faker


@dataclass(frozen=True, slots=True)
class City:
    """A city with what carriers print about it."""

    name: str
    state: str | None
    postal_code: str
    country: str
    tz: str
    hub: bool = False


# fmt: off
CITIES: tuple[City, ...] = (
    City("Louisville", "KY", "40209", "US", "America/Kentucky/Louisville", hub=True),
    City("Memphis", "TN", "38118", "US", "America/Chicago", hub=True),
    City("Indianapolis", "IN", "46241", "US", "America/Indiana/Indianapolis", hub=True),
    City("Hodgkins", "IL", "60525", "US", "America/Chicago", hub=True),
    City("Dallas", "TX", "75261", "US", "America/Chicago", hub=True),
    City("Ontario", "CA", "91761", "US", "America/Los_Angeles", hub=True),
    City("Atlanta", "GA", "30336", "US", "America/New_York", hub=True),
    City("Secaucus", "NJ", "07094", "US", "America/New_York", hub=True),
    City("Salt Lake City", "UT", "84104", "US", "America/Denver", hub=True),
    City("Phoenix", "AZ", "85043", "US", "America/Phoenix", hub=True),
    City("Seattle", "WA", "98108", "US", "America/Los_Angeles"),
    City("Portland", "OR", "97218", "US", "America/Los_Angeles"),
    City("San Francisco", "CA", "94124", "US", "America/Los_Angeles"),
    City("Denver", "CO", "80239", "US", "America/Denver"),
    City("Minneapolis", "MN", "55413", "US", "America/Chicago"),
    City("Kansas City", "MO", "64120", "US", "America/Chicago"),
    City("Austin", "TX", "78744", "US", "America/Chicago"),
    City("Nashville", "TN", "37210", "US", "America/Chicago"),
    City("Chicago", "IL", "60638", "US", "America/Chicago"),
    City("Detroit", "MI", "48210", "US", "America/Detroit"),
    City("Columbus", "OH", "43228", "US", "America/New_York"),
    City("Pittsburgh", "PA", "15205", "US", "America/New_York"),
    City("Boston", "MA", "02128", "US", "America/New_York"),
    City("Brooklyn", "NY", "11222", "US", "America/New_York"),
    City("Charlotte", "NC", "28208", "US", "America/New_York"),
    City("Orlando", "FL", "32824", "US", "America/New_York"),
    City("Miami", "FL", "33166", "US", "America/New_York"),
    City("Richmond", "VA", "23224", "US", "America/New_York"),
    City("Boise", "ID", "83709", "US", "America/Boise"),
    City("Albuquerque", "NM", "87105", "US", "America/Denver"),
    City("Leipzig", None, "04435", "DE", "Europe/Berlin", hub=True),
    City("Berlin", None, "10115", "DE", "Europe/Berlin"),
    City("Hamburg", None, "20095", "DE", "Europe/Berlin"),
    City("Munich", None, "80331", "DE", "Europe/Berlin"),
    City("Cologne", None, "50667", "DE", "Europe/Berlin"),
    City("East Midlands", None, "DE74 2SA", "GB", "Europe/London", hub=True),
    City("London", None, "SE1 7PB", "GB", "Europe/London"),
    City("Manchester", None, "M1 1AE", "GB", "Europe/London"),
    City("Paris", None, "75015", "FR", "Europe/Paris"),
    City("Lyon", None, "69003", "FR", "Europe/Paris"),
    City("Amsterdam", None, "1012 AB", "NL", "Europe/Amsterdam"),
    City("Toronto", "ON", "M5V 2T6", "CA", "America/Toronto"),
    City("Vancouver", "BC", "V6B 1A1", "CA", "America/Vancouver"),
    City("Mexico City", "CMX", "06600", "MX", "America/Mexico_City"),
    City("Tokyo", None, "100-0005", "JP", "Asia/Tokyo"),
    City("Shenzhen", "GD", "518000", "CN", "Asia/Shanghai"),
    City("Hong Kong", None, "999077", "HK", "Asia/Hong_Kong", hub=True),
    City("Sydney", "NSW", "2000", "AU", "Australia/Sydney"),
    City("Mumbai", "MH", "400001", "IN", "Asia/Kolkata"),
)
# fmt: on

COUNTRY_NAMES = {
    "US": "United States", "DE": "Germany", "GB": "United Kingdom", "FR": "France",
    "NL": "Netherlands", "CA": "Canada", "MX": "Mexico", "JP": "Japan", "CN": "China",
    "HK": "Hong Kong", "AU": "Australia", "IN": "India",
}  # fmt: skip

_LOCALES = {
    "US": "en_US", "DE": "de_DE", "GB": "en_GB", "FR": "fr_FR", "NL": "nl_NL", "CA": "en_CA",
    "MX": "es_MX", "JP": "ja_JP", "CN": "zh_CN", "HK": "zh_TW", "AU": "en_AU", "IN": "en_IN",
}  # fmt: skip

COUNTRIES: frozenset[str] = frozenset(c.country for c in CITIES)


def cities_in(country: str, *, hubs: bool | None = None) -> tuple[City, ...]:
    """Cities of a country, optionally only hubs (or only non-hubs)."""
    found = tuple(c for c in CITIES if c.country == country and (hubs is None or c.hub == hubs))
    return found or tuple(c for c in CITIES if c.country == country)


def city_named(name: str, country: str | None = None) -> City | None:
    """The table's city of that name (case-insensitive), if any."""
    wanted = name.strip().lower()
    for c in CITIES:
        if c.name.lower() == wanted and (country is None or c.country == country):
            return c
    return None


@cache
def _faker(locale: str) -> Any:
    return Faker(locale)


def faker_for(country: str, seed: int) -> Any:
    """A Faker for the country's locale, re-seeded: the same seed gives the same data."""
    fake = _faker(_LOCALES.get(country, "en_US"))
    fake.seed_instance(seed)
    return fake


def pick(rng: random.Random, options: tuple[City, ...], avoid: set[str]) -> City:
    """A city from options, avoiding already used names where possible."""
    fresh = tuple(c for c in options if c.name not in avoid) or options
    return rng.choice(fresh)
