"""Which shipment a tracking number plays: declared numbers, then the default mix.

The mapping needs no state: a number declared in a scenario plays that scenario; any other
number of valid format is hashed (with the seed) onto a weighted mix of scenarios, a
variant of its realistic data, and a start instant, so every worker answers alike.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta

from simulator import numbers
from simulator.scenario import Scenario
from simulator.seeding import seed_int
from simulator.timeline import (
    Shipment,
    Variant,
    build_shipment,
    compile_variant,
    piece_numbers,
)

_SPREAD_TAIL = timedelta(hours=12)


class Catalog:
    """All loaded scenarios, the numbers they declare, and the default mix."""

    def __init__(
        self,
        scenarios: Iterable[Scenario],
        *,
        seed: int = 0,
        epoch: datetime,
        mix: bool | Mapping[str, float] = True,
        variants: int = 16,
        cache_size: int = 8192,
        generation: int = 0,
    ) -> None:
        self.seed = seed
        self.generation = generation
        self.epoch = epoch.astimezone(UTC).replace(microsecond=0)
        self.variants = max(1, variants)
        self.scenarios: dict[str, Scenario] = {s.name: s for s in scenarios}
        self.declared: dict[str, dict[str, Scenario]] = {c: {} for c in numbers.CARRIERS}
        self.pieces: dict[str, dict[str, str]] = {c: {} for c in numbers.CARRIERS}
        """Per carrier: the number of every declared multi-piece shipment's other pieces ->
        its master number."""
        self.references: dict[str, dict[str, tuple[str, ...]]] = {c: {} for c in numbers.CARRIERS}
        """Per carrier: a scenario's declared reference -> the master numbers it names."""
        for s in self.scenarios.values():
            for owner, nums in s.numbers.items():
                for n in nums:
                    master = numbers.normalize(n)
                    self.declared[owner][master] = s
                    for piece in piece_numbers(owner, master, s.pieces)[1:]:
                        self.pieces[owner][piece] = master
                    if s.reference is not None:
                        known = self.references[owner].get(s.reference, ())
                        self.references[owner][s.reference] = (*known, master)
        self._mix: dict[str, tuple[list[Scenario], list[float]]] = {}
        for carrier in numbers.CARRIERS:
            # A multi-piece scenario plays on its declared numbers only: a piece's number
            # must lead back to its master, which a hashed number cannot.
            chosen = [
                s
                for s in self.scenarios.values()
                if carrier in s.carriers and _weight(s, mix) > 0 and s.pieces == 1
            ]
            cumulative = list(itertools.accumulate(_weight(s, mix) for s in chosen))
            self._mix[carrier] = (chosen, cumulative)
        self._variants: dict[tuple[str, int], Variant] = {}
        self._cache: dict[tuple[str, str], tuple[Variant, datetime, float, str | None] | None] = {}
        self._cache_size = cache_size

    def variant(self, scenario: Scenario, index: int) -> Variant:
        """The realistic data of one variant, drawn on first use and kept."""
        key = (scenario.name, index % self.variants)
        v = self._variants.get(key)
        if v is None:
            v = self._variants[key] = compile_variant(scenario, key[1], self.seed, self.generation)
        return v

    def lookup(self, carrier: str, number: str) -> Shipment | None:
        """The shipment this number plays for the carrier, or None for "not found"."""
        key = (carrier, number)
        cache = self._cache
        try:
            found = cache[key]
        except KeyError:
            found = self._resolve(carrier, number)
            if len(cache) >= self._cache_size:
                # Oldest first: cheaper than LRU on every hit, and just as bounded.
                del cache[next(iter(cache))]
            cache[key] = found
        # The cache keeps only (variant, start); a fresh Shipment per request means events
        # built for one render are dropped with it, so memory stays flat.
        return None if found is None else Shipment(found[0], carrier, number, *found[1:])

    def scenario_of(self, carrier: str, number: str) -> Scenario | None:
        """The scenario a (normalized) number plays: declared, else drawn from the mix; None
        when it plays none (invalid, or no mix)."""
        scenario = self.declared[carrier].get(number)
        if scenario is not None:
            return scenario
        chosen, cumulative = self._mix[carrier]
        if not chosen or not numbers.is_valid(carrier, number):
            return None
        h = seed_int(self.seed, carrier, number)
        point = (h % 1_000_003) / 1_000_003 * cumulative[-1]
        return chosen[min(bisect.bisect_right(cumulative, point), len(chosen) - 1)]

    def plays(self, carrier: str, scenario: Scenario) -> bool:
        """Whether the default mix can land a carrier's number on the scenario."""
        return any(s is scenario for s in self._mix[carrier][0])

    def _resolve(
        self, carrier: str, number: str
    ) -> tuple[Variant, datetime, float, str | None] | None:
        master = self.pieces[carrier].get(number)
        if master is not None:
            found = self._resolve(carrier, master)
            return None if found is None else (*found[:3], master)
        h = seed_int(self.seed, carrier, number)
        scenario = self.declared[carrier].get(number)
        if scenario is not None:
            t0 = self.epoch + scenario.start
        else:
            scenario = self.scenario_of(carrier, number)
            if scenario is None:
                return None
            spread = (scenario.span + _SPREAD_TAIL).total_seconds()
            fraction = ((h >> 24) % 1_000_003) / 1_000_003
            t0 = self.epoch - timedelta(seconds=int(fraction * spread))
        if not scenario.found:
            return None
        return self.variant(scenario, h >> 48), t0, t0.timestamp(), None

    def created(
        self, carrier: str, number: str, scenario: str, t0: float, variant: int
    ) -> Shipment:
        """A shipment made at run time (admin API): a named scenario from a given start."""
        start = datetime.fromtimestamp(t0, UTC)
        return Shipment(self.variant(self.scenarios[scenario], variant), carrier, number, start, t0)

    def shipment(self, carrier: str, scenario_name: str, number: str, t0: datetime) -> Shipment:
        """A shipment of a named scenario for a number, started at ``t0``."""
        scenario = self.scenarios[scenario_name]
        h = seed_int(self.seed, carrier, number)
        return build_shipment(self.variant(scenario, h >> 48), carrier, number, t0)


def _weight(scenario: Scenario, mix: bool | Mapping[str, float]) -> float:
    if mix is False:
        return 0.0
    if mix is True:
        return scenario.weight
    return float(mix.get(scenario.name, 0.0))
