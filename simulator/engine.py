"""The simulation: settings, scenarios, clock, tokens and store, as one object routes share."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Hashable, Iterable
from typing import TYPE_CHECKING

from simulator.catalog import Catalog
from simulator.clock import Clock
from simulator.faults import Fault, FaultBook, FaultRegistry
from simulator.journal import Journal
from simulator.push.store import MemoryPushStore
from simulator.replay import Replays
from simulator.scenario import Scenario
from simulator.settings import Settings
from simulator.store import MemoryStore, Store
from simulator.timeline import Shipment, reference_number
from simulator.tokens import TokenIssuer

if TYPE_CHECKING:
    from simulator.push.dispatch import Dispatcher


class Simulation:
    """Everything a carrier route needs to answer a request."""

    def __init__(
        self,
        settings: Settings,
        scenarios: Iterable[Scenario],
        *,
        clock: Clock | None = None,
        store: Store | None = None,
        faults: Iterable[Fault] = (),
    ) -> None:
        self.settings = settings
        self.store: Store = store if store is not None else MemoryStore()
        self.clock = clock if clock is not None else Clock(self.store, settings.clock_start)
        self.faults = FaultRegistry(FaultBook(settings.seed), tuple(faults))
        self._rendered: dict[Hashable, bytes] = {}
        self._rendered_keys: list[Hashable] = []
        self._rendered_bytes = 0
        self._evict = random.Random(settings.seed)
        self.generation = 0
        self.stamp = 0
        """Changes whenever what a number shows may change other than by the clock
        (scenarios reloaded, shipments created or deleted, tenants reset)."""
        """How many times scenarios were loaded; part of every render key, so a body rendered
        from scenarios a reload replaced can never be served again."""
        self.use_scenarios(scenarios)
        secret = hashlib.sha256(f"carriersim|{settings.seed}|{settings.secret}".encode()).digest()
        self.tokens = TokenIssuer(secret)
        self.journal = Journal(settings.journal_limit)
        self.replays = Replays(self)
        """Clean answers repeat requests get ahead of routing (see simulator.replay)."""
        self.creators: set[str] = set()
        """Tenants that created shipments (lets every other lookup skip the store)."""
        self.push = MemoryPushStore(settings.push_attempt_limit)
        """Subscriptions, waiting pushes and delivery attempts (see simulator.push)."""
        self.dispatcher: Dispatcher | None = None
        """The push scheduler and delivery loop; set by the app factory."""
        self.push_errors: list[str] = []
        """The last unexpected errors of the delivery loop (shown by /__admin/health)."""

    def use_scenarios(self, scenarios: Iterable[Scenario]) -> None:
        """Serve these scenarios from now on (start-up and live reload)."""
        self.generation += 1
        self.touch()
        catalog = Catalog(
            scenarios,
            generation=self.generation,
            seed=self.settings.seed,
            epoch=self.clock.start,
            mix=self.settings.mix,
            variants=self.settings.variants,
            cache_size=self.settings.shipment_cache,
        )
        faulty = [s for s in catalog.scenarios.values() if s.faults]
        self.faults.set_scenarios(
            {s.name: s.faults for s in faulty},
            any_number=self.settings.mix is not False and any(s.weight > 0 for s in faulty),
            numbers={
                carrier: {n for n, s in declared.items() if s.faults}
                for carrier, declared in catalog.declared.items()
            },
        )
        self.catalog = catalog
        # Bodies are keyed by scenario name: a changed scenario must never serve old bytes.
        self._rendered = {}
        self._rendered_keys = []
        self._rendered_bytes = 0

    def lookup(self, carrier: str, number: str, tenant: str) -> Shipment | None:
        """The shipment a tenant sees for a number: one it created, else the catalog's."""
        if tenant in self.creators:
            made = self.store.get_shipment(tenant, carrier, number)
            # A shipment whose scenario a reload removed is gone with it (not a server error).
            if made is not None and made.scenario in self.catalog.scenarios:
                return self.catalog.created(carrier, number, made.scenario, made.t0, made.variant)
        return self.catalog.lookup(carrier, number)

    def lookup_reference(self, carrier: str, reference: str, tenant: str) -> list[Shipment]:
        """The shipments a shipper's reference names for a tenant: those of scenarios that
        declare it, else the one a default reference (``PO-`` and a number) names."""
        declared = self.catalog.references[carrier].get(reference)
        if declared is not None:
            found = [self.lookup(carrier, n, tenant) for n in declared]
            return [s for s in found if s is not None]
        number = reference_number(reference)
        shipment = self.lookup(carrier, number, tenant) if number is not None else None
        # A default reference names the shipment only while its scenario declares none.
        if shipment is None or shipment.scenario.reference is not None:
            return []
        return [shipment]

    def accepts(self, carrier: str, client_id: str, secret: str | None) -> bool:
        """Whether a credential may log in (any, unless the settings list credentials)."""
        if not client_id:
            return False
        table = self.settings.credentials
        if table is None or carrier not in table:
            return True
        known = table[carrier]
        return client_id in known and (secret is None or known[client_id] == secret)

    def touch(self) -> None:
        """Note a change that may alter answers (see :attr:`stamp`)."""
        self.stamp += 1

    def cached_body(self, key: Hashable) -> bytes | None:
        """A body the render cache still holds, or None."""
        return self._rendered.get(key)

    def rendered(self, key: Hashable, render: Callable[[], bytes]) -> bytes:
        """A response body from the render cache, rendering it on a miss.

        Renderers are pure functions of (shipment, visible events, options), so the key
        names exactly those and a body is never stale.
        """
        cache = self._rendered
        body = cache.get(key)
        if body is not None:
            return body
        body = render()
        keys = self._rendered_keys
        # Bounded by bytes, evicting a random entry: memory stays flat however many distinct
        # numbers are tracked, and clients that poll a fleet of numbers in a loop (a cyclic
        # pattern, where oldest-first eviction would miss every time) still mostly hit.
        while self._rendered_bytes + len(body) > self.settings.render_cache_bytes and keys:
            i = self._evict.randrange(len(keys))
            keys[i], keys[-1] = keys[-1], keys[i]
            self._rendered_bytes -= len(cache.pop(keys.pop()))
        cache[key] = body
        keys.append(key)
        self._rendered_bytes += len(body)
        return body
