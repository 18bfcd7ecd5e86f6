"""The push scheduler and its one delivery loop.

The scheduler asks the world which events became visible for each subscription since it
last looked (the tenant's clock against the shipment's timeline: real time, a clock running
fast, or a jump: every passed event, in timeline order), and queues one delivery per event
at the event's instant. The delivery loop sends what is due, each delivery rendered and
signed by the carrier's :class:`~simulator.carriers.contract.PushProfile`, with a bounded
timeout, and applies the carrier's retry rule to failures. Every attempt is kept for
``/__admin/deliveries``.

Deliveries of one subscription go one after another, in order; different subscriptions
are served concurrently (up to ``push_concurrency`` at once).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import httpx

from simulator.faults import RequestInfo
from simulator.push.model import Attempt, Outcome, Pending, Subscription
from simulator.push.store import MemoryPushStore

if TYPE_CHECKING:
    from simulator.carriers.contract import PushProfile
    from simulator.engine import Simulation

_SHOWN_BODY = 8192
"""Characters of a push body an attempt keeps."""
_MASK = "***"
USER_AGENT = "carriersim-push"


class Dispatcher:
    """Schedules the pushes of every subscription and sends them."""

    def __init__(
        self,
        sim: Simulation,
        profiles: Mapping[str, PushProfile],
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.sim = sim
        self.profiles = dict(profiles)
        self.store: MemoryPushStore = sim.push
        self._transport = transport
        self._client: httpx.AsyncClient | None = None
        self._tokens: dict[tuple[str, str, str], tuple[str, float]] = {}
        self._task: asyncio.Task[None] | None = None
        self._busy: dict[str, asyncio.Task[None]] = {}
        """Per subscription, the task sending its deliveries right now."""
        self._wake = asyncio.Event()
        self._limit = asyncio.Semaphore(max(1, sim.settings.push_concurrency))

    # ------------------------------------------------------------------ lifecycle

    def client(self) -> httpx.AsyncClient:
        """The HTTP client pushes go out with (bounded timeouts; made on first use)."""
        if self._client is None:
            timeout = self.sim.settings.push_timeout
            self._client = httpx.AsyncClient(
                transport=self._transport,
                timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
                limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
                follow_redirects=False,
                trust_env=False,
            )
        return self._client

    def start(self) -> None:
        """Run the delivery loop in the background (the app's lifespan calls this)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        """Stop the loop and close the HTTP client."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for task in list(self._busy.values()):
            task.cancel()
        if self._busy:
            await asyncio.gather(*self._busy.values(), return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def wake(self) -> None:
        """Look again now (a subscription, a clock change): do not wait for the next tick."""
        self._wake.set()

    async def _run(self) -> None:
        tick = self.sim.settings.push_tick
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), tick)
            self._wake.clear()
            try:
                await self.fire(wait=False)
            except Exception as exc:  # the loop must outlive any one bad delivery
                self.sim.push_errors.append(f"{type(exc).__name__}: {exc}")
                del self.sim.push_errors[:-20]

    # ------------------------------------------------------------------ subscriptions

    def subscribe(self, sub: Subscription) -> Subscription:
        """Keep a new subscription; events already visible are not pushed (see
        :attr:`Subscription.cursor`)."""
        self._start_cursors(sub, sub.numbers)
        self.store.add_subscription(sub)
        self.wake()
        return sub

    def add_numbers(self, sub: Subscription, numbers: tuple[str, ...]) -> None:
        """Extend a subscription by numbers (FedEx's association jobs)."""
        fresh = tuple(n for n in numbers if n not in sub.numbers)
        self._start_cursors(sub, fresh)
        sub.numbers = (*sub.numbers, *fresh)
        self.wake()

    def remove_numbers(self, sub: Subscription, numbers: tuple[str, ...]) -> None:
        """Stop pushing these numbers for a subscription."""
        gone = set(numbers)
        sub.numbers = tuple(n for n in sub.numbers if n not in gone)
        for number in gone:
            sub.cursor.pop(number, None)
        self.store.pending = [
            p for p in self.store.pending if not (p.subscription == sub.id and p.number in gone)
        ]

    def restart(self, sub: Subscription) -> None:
        """Push from now on (a subscription activated or enabled again): what happened
        while it was inactive is not sent."""
        self._start_cursors(sub, self.numbers_of(sub))
        self.wake()

    def _start_cursors(self, sub: Subscription, numbers: tuple[str, ...]) -> None:
        now = self.sim.clock.now(sub.tenant)
        for number in numbers:
            shipment = self.sim.lookup(sub.carrier, number, sub.tenant)
            sub.cursor[number] = shipment.visible_count(now) if shipment is not None else 0

    def numbers_of(self, sub: Subscription) -> tuple[str, ...]:
        """The numbers a subscription covers: its own, or (for a subscription by account
        or mailer id) every shipment of that carrier the tenant created."""
        if sub.numbers or not sub.data.get("by_account"):
            return sub.numbers
        return tuple(
            m.number for m in self.sim.store.shipments(sub.tenant) if m.carrier == sub.carrier
        )

    def queue(self, sub: Subscription, pending: Pending) -> None:
        """Send a carrier message that is not an event (DHL's activation) as soon as due."""
        self.store.schedule([pending])
        self.wake()

    # ------------------------------------------------------------------ scheduling

    def scan(self, tenant: str | None = None) -> None:
        """Queue a delivery for every event that became visible since the last scan."""
        clock = self.sim.clock
        nows: dict[str, float] = {}
        fresh: list[Pending] = []
        for sub in self.store.of_tenant(tenant):
            now = nows.get(sub.tenant)
            if now is None:
                now = nows[sub.tenant] = clock.now(sub.tenant)
            if sub.expires is not None and now >= sub.expires and sub.status == "active":
                sub.status, sub.status_changed = "expired", now
            if not sub.active:
                continue
            profile = self.profiles[sub.carrier]
            for number in self.numbers_of(sub):
                shipment = self.sim.lookup(sub.carrier, number, sub.tenant)
                if shipment is None:
                    continue
                count = shipment.visible_count(now)
                start = sub.cursor.get(number)
                if start is None:  # a number that joined an account subscription later
                    start = sub.cursor[number] = 0
                if count <= start:  # nothing new (or the clock went back: nothing resent)
                    continue
                sub.cursor[number] = count
                events = shipment.events
                for index in range(start, count):
                    if not profile.wanted(sub, shipment, index):
                        continue
                    at = events[index].at.timestamp()
                    pending = Pending(
                        key=f"{sub.id}/{number}/{index}",
                        subscription=sub.id,
                        tenant=sub.tenant,
                        carrier=sub.carrier,
                        number=number,
                        index=index,
                        event_at=at,
                        due=at,
                        order=self.store.next_order(),
                    )
                    if self._apply_faults(pending, shipment.scenario.name, now):
                        fresh.append(pending)
        self.store.schedule(fresh)

    def _apply_faults(self, pending: Pending, scenario: str, now: float) -> bool:
        """Decide the push faults of a new delivery; False when a fault drops it."""
        faults = self.sim.faults
        info = RequestInfo(
            pending.carrier,
            "push",
            pending.tenant,
            (pending.number,),
            frozenset({scenario}),
            now,
            self.sim.clock.start.timestamp(),
        )
        decision = faults.decide(info)
        if decision.clean:
            return True
        modes = tuple(f.mode for f in decision.push)
        pending.faults, pending.fault_ids = modes, decision.fired
        for fault in decision.push:
            if fault.mode == "delayed":
                pending.due += fault.delay.total_seconds()
        if "dropped" in modes:
            self._record(pending, None, "", None, "not sent: a push fault dropped it", 0.0,
                         "dropped_by_fault", (), b"", now)  # fmt: skip
            return False
        return True

    # ------------------------------------------------------------------ sending

    async def fire(
        self, tenant: str | None = None, *, everything: bool = False, wait: bool = True
    ) -> list[Attempt]:
        """Scan, then send every due delivery (``everything``: every waiting one, retries
        included, whatever its due time); with ``wait``, return once the tenant's sends,
        these and any already under way, are done: the attempts made, in order.

        Each subscription's deliveries go out in one task at a time, so a receiver that
        hangs holds up only its own subscription, for at most the timeout.
        """
        self.scan(tenant)
        clock = self.sim.clock
        nows: dict[str, float] = {}
        ready: list[Pending] = []
        busy = self._busy
        for pending in list(self.store.pending):
            if (tenant is not None and pending.tenant != tenant) or pending.subscription in busy:
                continue
            now = nows.get(pending.tenant)
            if now is None:
                now = nows[pending.tenant] = clock.now(pending.tenant)
            if everything or pending.due <= now:
                ready.append(pending)
        first = self.store.attempts[-1].id if self.store.attempts else 0
        taken = self.store.take(ready) if ready else []
        taken.sort(key=lambda p: (p.due, p.order))
        groups: dict[str, list[Pending]] = {}
        for pending in taken:
            groups.setdefault(pending.subscription, []).append(pending)
        for sub_id, group in groups.items():
            task = asyncio.get_running_loop().create_task(self._send_group(group))
            busy[sub_id] = task
            task.add_done_callback(lambda _, key=sub_id: busy.pop(key, None))  # type: ignore[misc]
        if not wait:
            return []
        mine = [
            t for key, t in list(busy.items()) if tenant is None or self._tenant_of(key) == tenant
        ]
        if mine:
            await asyncio.gather(*mine, return_exceptions=True)
        return [a for a in self.store.attempts if a.id > first]

    def _tenant_of(self, sub_id: str) -> str | None:
        sub = self.store.subscriptions.get(sub_id)
        return sub.tenant if sub is not None else None

    async def _send_group(self, group: list[Pending]) -> None:
        async with self._limit:
            order = _reordered(group)
            for pending in order:
                sub = self.store.subscriptions.get(pending.subscription)
                if sub is None:
                    continue
                if pending.kind == "event" and not sub.active:
                    continue  # suspended or disabled meanwhile: the rest is not sent
                copies = 2 if "duplicated" in pending.faults and pending.attempt == 0 else 1
                for copy in range(copies):
                    await self._send(sub, pending, copy)

    async def _send(self, sub: Subscription, pending: Pending, copy: int) -> None:
        if not self.store.claim(f"{pending.key}#{pending.attempt}#{copy}"):
            return  # another worker sent it
        profile = self.profiles[sub.carrier]
        now = self.sim.clock.now(sub.tenant)
        shipment = None
        count = pending.index + 1
        if pending.kind == "event":
            shipment = self.sim.lookup(sub.carrier, pending.number, sub.tenant)
            if shipment is None:
                return  # the shipment is gone (deleted, or its scenario reloaded away)
            if "stale_body" in pending.faults and count > 1:
                count -= 1
        body = profile.render(sub, pending, shipment, count, now)
        sent_real = time.time()
        started = time.perf_counter()
        status: int | None = None
        error: str | None = None
        headers: dict[str, str] = {}
        try:
            headers = await profile.sign(sub, body, self)
            if "wrong_signature" in pending.faults:
                headers = _spoiled(headers, profile.secret_headers(sub))
            headers.setdefault("Content-Type", "application/json")
            headers.setdefault("User-Agent", USER_AGENT)
            answer = await self.client().post(sub.url, content=body, headers=headers)
            status = answer.status_code
        except httpx.TimeoutException:
            error = f"no answer within {self.sim.settings.push_timeout:g} s (timeout)"
        except (httpx.HTTPError, PushAuthError, ValueError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        latency = (time.perf_counter() - started) * 1000
        rule = profile.retry
        outcome: Outcome
        if status in rule.success:
            outcome = "delivered"
        elif pending.kind != "event":
            outcome = "dropped"
        elif pending.attempt < len(rule.delays):
            outcome = "retry_scheduled"
            if copy == 0:
                again = dataclasses.replace(
                    pending, attempt=pending.attempt + 1, due=now + rule.delays[pending.attempt]
                )
                self.store.schedule([again])
        elif rule.exhausted == "queue":
            outcome = "missed"
            if copy == 0:
                self.store.missed.setdefault(sub.id, []).append(pending)
        elif rule.exhausted == "suspend":
            outcome = "suspended"
            sub.status, sub.status_reason, sub.status_changed = (
                "SUSPENDED",
                "Unable to reach listener",
                now,
            )
        else:
            outcome = "dropped"
        self._record(pending, sub, sub.url, status, error, latency, outcome,
                     tuple(headers.items()), body, now, profile.secret_headers(sub),
                     sent_real)  # fmt: skip

    def _record(
        self,
        pending: Pending,
        sub: Subscription | None,
        url: str,
        status: int | None,
        error: str | None,
        latency: float,
        outcome: Outcome,
        headers: tuple[tuple[str, str], ...],
        body: bytes,
        now: float,
        secret: tuple[str, ...] = (),
        real_at: float | None = None,
    ) -> None:
        hidden = {*secret, "authorization", "credential"}
        shown = tuple((k, _MASK if k.lower() in hidden else v) for k, v in headers)
        self.store.record(
            Attempt(
                id=self.store.next_attempt_id(),
                key=pending.key,
                tenant=pending.tenant,
                carrier=pending.carrier,
                subscription=pending.subscription,
                number=pending.number,
                index=pending.index,
                kind=pending.kind,
                retry=pending.attempt,
                sim_at=now,
                real_at=time.time() if real_at is None else real_at,
                event_at=pending.event_at,
                url=url or (sub.url if sub else ""),
                status=status,
                error=error,
                latency_ms=round(latency, 3),
                outcome=outcome,
                headers=shown,
                body=body.decode("utf-8", "replace")[:_SHOWN_BODY],
                faults=pending.faults,
            )
        )

    def replay_missed(self, tenant: str, sub_id: str | None = None) -> int:
        """Queue every missed event again (FedEx's replay of its missed-events queue);
        how many."""
        count = 0
        now = self.sim.clock.now(tenant)
        for key in list(self.store.missed):
            sub = self.store.subscriptions.get(key)
            if sub is None or sub.tenant != tenant or (sub_id is not None and key != sub_id):
                continue
            again = self.store.missed.pop(key)
            for pending in again:
                pending.attempt, pending.due = 0, now
                pending.faults = ()
                pending.key = f"{pending.key}/replay{self.store.next_order()}"
            self.store.schedule(again)
            count += len(again)
        self.wake()
        return count

    # ------------------------------------------------------------------ customer tokens

    async def customer_token(self, url: str, client_id: str, client_secret: str) -> str:
        """A token from the customer's own OAuth token URL (client credentials,
        ``client_secret_basic``), cached until shortly before it expires."""
        key = (url, client_id, client_secret)
        cached = self._tokens.get(key)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
        answer = await self.client().post(
            url,
            data={"grant_type": "client_credentials"},
            headers={"Authorization": f"Basic {basic}", "Accept": "application/json"},
        )
        if answer.status_code != 200:
            raise PushAuthError(f"the token URL {url} answered {answer.status_code}")
        try:
            doc: Any = answer.json()
            token = doc["access_token"]
            lifetime = float(doc.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError):
            raise PushAuthError(f"the token URL {url} sent no access_token") from None
        if not isinstance(token, str) or not token:
            raise PushAuthError(f"the token URL {url} sent no access_token")
        self._tokens[key] = (token, time.monotonic() + max(lifetime - 30, 0))
        return token


def dispatcher_of(sim: Simulation) -> Dispatcher:
    """The simulation's dispatcher (the app factory sets it; routes run only inside an app)."""
    if sim.dispatcher is None:
        raise RuntimeError("push needs the app factory's dispatcher: serve through create_app")
    return sim.dispatcher


class PushAuthError(Exception):
    """A push could not be authenticated (the customer's token URL failed)."""


def _reordered(group: list[Pending]) -> list[Pending]:
    """The group with each ``reordered`` delivery sent after the one that follows it."""
    out = list(group)
    i = 0
    while i < len(out) - 1:
        if "reordered" in out[i].faults:
            out[i], out[i + 1] = out[i + 1], out[i]
            i += 2
        else:
            i += 1
    return out


def _spoiled(headers: dict[str, str], names: tuple[str, ...]) -> dict[str, str]:
    """The headers with each proof replaced by a well-formed wrong one."""
    out = dict(headers)
    for key, value in headers.items():
        if key.lower() in names:
            scheme, sep, _ = value.partition(" ")
            wrong = base64.b64encode(b"wrong-" + value.encode()[:24]).decode()
            out[key] = f"{scheme} {wrong}" if sep and scheme.lower() == "bearer" else wrong
    return out
