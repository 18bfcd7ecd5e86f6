"""TrackingClient and AsyncTrackingClient: track one number, or many at once.

Usage::

    from client import TrackingClient

    with TrackingClient(base_url="http://127.0.0.1:8080") as tracker:   # carriersim
        result = tracker.track("1Z1442YY7229014688")
        for outcome in tracker.track_many(["1Z…", "122816215025810", "9400…"]):
            ...   # a TrackingResult, or the TrackingError for that number

Configuration, per carrier, first match wins:

============  ======================================  ==================================
setting       argument                                environment variable
============  ======================================  ==================================
base URL      ``ups=CarrierSettings(base_url=…)``,    ``CARRIERSIM_UPS_BASE_URL`` (FEDEX,
              then ``base_url=`` for all carriers     USPS, DHL alike), then
                                                      ``CARRIERSIM_BASE_URL``; default:
                                                      the carrier's production host
OAuth id      ``CarrierSettings(client_id=…)``        ``UPS_CLIENT_ID``,
                                                      ``FEDEX_CLIENT_ID`` (the API key),
                                                      ``USPS_CLIENT_ID``
OAuth secret  ``CarrierSettings(client_secret=…)``    ``UPS_CLIENT_SECRET``,
                                                      ``FEDEX_CLIENT_SECRET``,
                                                      ``USPS_CLIENT_SECRET``
DHL key       ``dhl=CarrierSettings(api_key=…)``      ``DHL_API_KEY``
============  ======================================  ==================================

Production hosts (NOTES §1.1, §2.1, §3.1, §4.1): ``https://onlinetools.ups.com``,
``https://apis.fedex.com``, ``https://apis.usps.com``, ``https://api-eu.dhl.com``. A base URL
is scheme + host (+ optional path prefix); the client appends each carrier's real paths, so
one carriersim URL serves all four carriers.

``track_many`` detects each number's carrier, tracks every distinct number once — FedEx in
batches of ≤ 30, USPS in batches of ≤ 35, UPS and DHL one by one — with at most
``concurrency`` requests in flight, and returns one outcome per input, in input order. A
number is never dropped: if anything goes wrong its slot holds the error saying what.
"""

from __future__ import annotations

import os
from collections.abc import Hashable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import anyio
import httpx

from client.auth import TokenCache
from client.carriers import ADAPTERS, CarrierAdapter, CarrierConfig, Outcome
from client.detect import check_syntax, detect
from client.errors import ConfigurationError, InvalidNumber, RequestRejected, TrackingError
from client.flow import Flow, Send, Sleep, Token, call_flow, token_flow, track_flow
from client.model import Carrier, MultiPieceShipment, ProofOfDelivery, TrackingResult
from client.retry import RetryPolicy
from client.transport import DEFAULT_TIMEOUT, asend, make_async_client, make_client, send

__all__ = [
    "AsyncTrackingClient",
    "CarrierSettings",
    "NumberInput",
    "TrackingClient",
    "env_names",
    "resolve_config",
]

NumberInput = str | tuple[str, Carrier | str | None]
"""A number, or (number, carrier) to skip detection for it."""


@dataclass(frozen=True, slots=True)
class CarrierSettings:
    """Explicit settings for one carrier; anything left None comes from the environment."""

    base_url: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    api_key: str | None = None


def env_names(carrier: Carrier) -> dict[str, str]:
    """The environment variables read for a carrier, by setting."""
    up = carrier.value.upper()
    names = {"base_url": f"CARRIERSIM_{up}_BASE_URL", "base_url_all": "CARRIERSIM_BASE_URL"}
    if carrier is Carrier.dhl:
        names["api_key"] = "DHL_API_KEY"
    else:
        names["client_id"] = f"{up}_CLIENT_ID"
        names["client_secret"] = f"{up}_CLIENT_SECRET"
    return names


def resolve_config(
    carrier: Carrier,
    settings: CarrierSettings | None = None,
    base_url: str | None = None,
    env: Mapping[str, str] | None = None,
) -> CarrierConfig:
    """A carrier's configuration from arguments, then environment, then defaults."""
    env = os.environ if env is None else env
    settings = settings or CarrierSettings()
    names = env_names(carrier)

    def pick(explicit: str | None, key: str) -> str | None:
        return explicit or (env.get(names[key]) if key in names else None) or None

    url = (
        settings.base_url
        or base_url
        or env.get(names["base_url"])
        or env.get(names["base_url_all"])
        or ADAPTERS[carrier].default_base_url
    )
    return CarrierConfig(
        carrier=carrier,
        base_url=url,
        client_id=pick(settings.client_id, "client_id"),
        client_secret=pick(settings.client_secret, "client_secret"),
        api_key=pick(settings.api_key, "api_key"),
    )


def _as_carrier(value: Carrier | str) -> Carrier:
    try:
        return Carrier(value.lower() if isinstance(value, str) else value)
    except ValueError:
        raise ConfigurationError(
            f"unknown carrier {value!r}",
            hint=f"use one of {', '.join(c.value for c in Carrier)}",
        ) from None


@dataclass(frozen=True, slots=True)
class _Job:
    carrier: Carrier
    numbers: tuple[str, ...]


class _Base:
    """What both clients share: configuration, number resolution and batching."""

    def __init__(
        self,
        *,
        base_url: str | None,
        ups: CarrierSettings | None,
        fedex: CarrierSettings | None,
        usps: CarrierSettings | None,
        dhl: CarrierSettings | None,
        retry: RetryPolicy | None,
        timeout: httpx.Timeout | float,
        concurrency: int,
        env: Mapping[str, str] | None,
        token_cache: TokenCache | None,
        strict_detection: bool,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        explicit = {Carrier.ups: ups, Carrier.fedex: fedex, Carrier.usps: usps, Carrier.dhl: dhl}
        self.configs = {c: resolve_config(c, explicit[c], base_url, env) for c in Carrier}
        self.retry = retry or RetryPolicy()
        self.timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self.concurrency = concurrency
        self.tokens = token_cache or TokenCache(self.retry.clock)
        self.strict_detection = strict_detection
        self._credentials: dict[Carrier, tuple[CarrierConfig, Hashable]] = {}

    def _credential_key(self, adapter: CarrierAdapter, config: CarrierConfig) -> Hashable:
        # Computed once per configuration, not hashed anew for every request.
        known = self._credentials.get(config.carrier)
        if known is not None and known[0] is config:
            return known[1]
        key = adapter.credential_key(config)
        self._credentials[config.carrier] = (config, key)
        return key

    def _resolve(self, number: str, carrier: Carrier | str | None) -> tuple[Carrier, str]:
        if not isinstance(number, str):
            raise InvalidNumber(f"not a string: {number!r}", hint="pass tracking numbers as str")
        if carrier is not None:
            chosen = _as_carrier(carrier)
            return chosen, check_syntax(number, chosen)
        chosen = detect(number, strict=self.strict_detection)
        return chosen, check_syntax(number, chosen)

    def _plan(
        self, numbers: Iterable[NumberInput], carrier: Carrier | str | None
    ) -> tuple[list[tuple[Carrier, str] | TrackingError], list[_Job]]:
        slots: list[tuple[Carrier, str] | TrackingError] = []
        distinct: dict[Carrier, dict[str, None]] = {c: {} for c in Carrier}
        for item in numbers:
            number, chosen = item if isinstance(item, tuple) else (item, carrier)
            try:
                resolved = self._resolve(number, chosen)
            except TrackingError as exc:
                slots.append(exc)
                continue
            slots.append(resolved)
            distinct[resolved[0]][resolved[1]] = None
        jobs: list[_Job] = []
        for c, found in distinct.items():
            size = ADAPTERS[c].batch_size
            ordered = list(found)
            jobs += [_Job(c, tuple(ordered[i : i + size])) for i in range(0, len(ordered), size)]
        return slots, jobs

    @staticmethod
    def _assemble(
        slots: list[tuple[Carrier, str] | TrackingError],
        done: Mapping[tuple[Carrier, str], Outcome],
    ) -> list[Outcome]:
        return [slot if isinstance(slot, TrackingError) else done[slot] for slot in slots]

    @staticmethod
    def _split_on(exc: TrackingError, job: _Job) -> bool:
        # One bad number makes a whole batch request fail with 400; track the numbers one by
        # one so the good ones still get their results.
        return (
            len(job.numbers) > 1
            and isinstance(exc, InvalidNumber | RequestRejected)
            and exc.status_code == 400
        )

    @staticmethod
    def _spread(exc: TrackingError, job: _Job) -> dict[str, Outcome]:
        return {n: exc.for_number(n, job.carrier) for n in job.numbers}


def _operation(
    base: _Base, what: str, key: str, carrier: Carrier | str | None
) -> tuple[CarrierAdapter, CarrierConfig, str]:
    """The adapter, config and key (normalized number, or the reference as given) of a
    call to another operation; a reference names no carrier, so it needs one."""
    if what == "reference":
        if carrier is None:
            raise ConfigurationError(
                "a shipper's reference names no carrier",
                hint="pass carrier='ups' or carrier='fedex' to track_reference",
            )
        chosen = _as_carrier(carrier)
        key = key.strip()
    else:
        chosen, key = base._resolve(key, carrier)
    return ADAPTERS[chosen], base.configs[chosen], key


def _reference_flow(base: _Base, reference: str, carrier: Carrier | str | None) -> Any:
    adapter, config, key = _operation(base, "reference", reference, carrier)
    flow = call_flow(
        adapter, config, key,
        lambda token: adapter.reference_request(config, key, token),
        lambda reply: adapter.track_error(reply, (key,)),
        lambda reply: adapter.parse_reference(reply, key),
        base.retry, base.retry.start(),
    )  # fmt: skip
    return flow, adapter, config


def _pieces_flow(base: _Base, master: str, carrier: Carrier | str | None) -> Any:
    adapter, config, key = _operation(base, "pieces", master, carrier)
    flow = call_flow(
        adapter, config, key,
        lambda token: adapter.pieces_request(config, key, token),
        lambda reply: adapter.track_error(reply, (key,)),
        lambda reply: adapter.parse_pieces(reply, key),
        base.retry, base.retry.start(),
    )  # fmt: skip
    return flow, adapter, config, key


def _pod_flow(base: _Base, number: str, carrier: Carrier | str | None) -> Any:
    adapter, config, key = _operation(base, "pod", number, carrier)
    flow = call_flow(
        adapter, config, key,
        lambda token: adapter.pod_request(config, key, token),
        lambda reply: adapter.pod_error(reply, key),
        lambda reply: adapter.parse_pod(reply, key),
        base.retry, base.retry.start(),
    )  # fmt: skip
    return flow, adapter, config


class TrackingClient(_Base):
    """Blocking client; ``track_many`` runs requests on up to ``concurrency`` threads."""

    def __init__(
        self,
        *,
        base_url: str | None = None,
        ups: CarrierSettings | None = None,
        fedex: CarrierSettings | None = None,
        usps: CarrierSettings | None = None,
        dhl: CarrierSettings | None = None,
        retry: RetryPolicy | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        concurrency: int = 8,
        transport: httpx.BaseTransport | None = None,
        http_client: httpx.Client | None = None,
        env: Mapping[str, str] | None = None,
        token_cache: TokenCache | None = None,
        strict_detection: bool = False,
    ) -> None:
        super().__init__(
            base_url=base_url,
            ups=ups,
            fedex=fedex,
            usps=usps,
            dhl=dhl,
            retry=retry,
            timeout=timeout,
            concurrency=concurrency,
            env=env,
            token_cache=token_cache,
            strict_detection=strict_detection,
        )
        self._owns_http = http_client is None
        self.http = http_client or make_client(
            transport=transport, timeout=self.timeout, max_connections=max(concurrency, 10)
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP connections (unless the caller passed its own ``http_client``)."""
        if self._owns_http:
            self.http.close()

    def track(self, number: str, carrier: Carrier | str | None = None) -> TrackingResult:
        """Track one number; ``carrier`` skips detection. Raises a TrackingError on failure."""
        chosen, normalized = self._resolve(number, carrier)
        outcome = self._job(_Job(chosen, (normalized,)))[normalized]
        if isinstance(outcome, TrackingError):
            raise outcome
        return outcome

    def track_many(
        self, numbers: Iterable[NumberInput], carrier: Carrier | str | None = None
    ) -> list[Outcome]:
        """An outcome per input, in input order; failures are returned, not raised."""
        slots, jobs = self._plan(numbers, carrier)
        done: dict[tuple[Carrier, str], Outcome] = {}
        if len(jobs) <= 1 or self.concurrency == 1:
            results = [self._job(job) for job in jobs]
        else:
            with ThreadPoolExecutor(max_workers=min(self.concurrency, len(jobs))) as pool:
                results = list(pool.map(self._job, jobs))
        for job, outcomes in zip(jobs, results, strict=True):
            done.update({(job.carrier, n): o for n, o in outcomes.items()})
        return self._assemble(slots, done)

    def track_reference(self, reference: str, carrier: Carrier | str) -> list[TrackingResult]:
        """Every package the shipper's reference (an order number) names (UPS, FedEx);
        NotFound when it names none."""
        flow, adapter, config = _reference_flow(self, reference, carrier)
        found: list[TrackingResult] = self._run(flow, adapter, config)
        return found

    def track_shipment(
        self, master: str, carrier: Carrier | str | None = None
    ) -> MultiPieceShipment:
        """A multi-piece shipment: the master number's result and each other piece's, each
        with its own status (UPS, FedEx)."""
        head = self.track(master, carrier)
        flow, adapter, config, _ = _pieces_flow(self, master, head.carrier)
        pieces: tuple[TrackingResult, ...] = self._run(flow, adapter, config)
        return MultiPieceShipment(head, pieces)

    def proof_of_delivery(
        self, number: str, carrier: Carrier | str | None = None
    ) -> ProofOfDelivery:
        """The signed proof of delivery (bytes and media type; UPS, FedEx); NotFound until
        the package is delivered and signed for."""
        flow, adapter, config = _pod_flow(self, number, carrier)
        document: ProofOfDelivery = self._run(flow, adapter, config)
        return document

    def _job(self, job: _Job) -> dict[str, Outcome]:
        adapter, config = ADAPTERS[job.carrier], self.configs[job.carrier]
        deadline = self.retry.start()
        try:
            result: dict[str, Outcome] = self._run(
                track_flow(adapter, config, job.numbers, self.retry, deadline), adapter, config
            )
            return result
        except TrackingError as exc:
            if self._split_on(exc, job):
                singles: dict[str, Outcome] = {}
                for n in job.numbers:
                    singles.update(self._job(_Job(job.carrier, (n,))))
                return singles
            return self._spread(exc, job)

    def _run(self, flow: Flow[Any], adapter: CarrierAdapter, config: CarrierConfig) -> Any:
        value: Any = None
        while True:
            try:
                step = flow.send(value)
            except StopIteration as stop:
                return stop.value
            if isinstance(step, Send):
                value = send(
                    self.http,
                    step.request,
                    remaining=step.remaining,
                    clock=self.retry.clock,
                    timeout=self.timeout,
                )
            elif isinstance(step, Sleep):
                self.retry.clock.sleep(step.seconds)
                value = None
            else:
                value = self._token(step, adapter, config)

    def _token(self, step: Token, adapter: CarrierAdapter, config: CarrierConfig) -> Any:
        try:
            key = self._credential_key(adapter, config)
        except TrackingError as exc:
            return exc
        with self.tokens.thread_lock(key):
            cached = self.tokens.get(key)
            if cached is not None and cached != step.stale:
                return cached
            if step.stale is not None:
                self.tokens.discard(key, step.stale)
            try:
                grant = self._run(
                    token_flow(adapter, config, self.retry, step.deadline), adapter, config
                )
            except TrackingError as exc:
                return exc
            return self.tokens.put(key, grant)


class AsyncTrackingClient(_Base):
    """Async client (asyncio or trio, via anyio); ``track_many`` runs up to ``concurrency``
    requests at once."""

    def __init__(
        self,
        *,
        base_url: str | None = None,
        ups: CarrierSettings | None = None,
        fedex: CarrierSettings | None = None,
        usps: CarrierSettings | None = None,
        dhl: CarrierSettings | None = None,
        retry: RetryPolicy | None = None,
        timeout: httpx.Timeout | float = DEFAULT_TIMEOUT,
        concurrency: int = 16,
        transport: httpx.AsyncBaseTransport | None = None,
        http_client: httpx.AsyncClient | None = None,
        env: Mapping[str, str] | None = None,
        token_cache: TokenCache | None = None,
        strict_detection: bool = False,
    ) -> None:
        super().__init__(
            base_url=base_url,
            ups=ups,
            fedex=fedex,
            usps=usps,
            dhl=dhl,
            retry=retry,
            timeout=timeout,
            concurrency=concurrency,
            env=env,
            token_cache=token_cache,
            strict_detection=strict_detection,
        )
        self._owns_http = http_client is None
        self.http = http_client or make_async_client(
            transport=transport, timeout=self.timeout, max_connections=max(concurrency, 10)
        )

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP connections (unless the caller passed its own ``http_client``)."""
        if self._owns_http:
            await self.http.aclose()

    async def track(self, number: str, carrier: Carrier | str | None = None) -> TrackingResult:
        """Track one number; ``carrier`` skips detection. Raises a TrackingError on failure."""
        chosen, normalized = self._resolve(number, carrier)
        outcome = (await self._job(_Job(chosen, (normalized,))))[normalized]
        if isinstance(outcome, TrackingError):
            raise outcome
        return outcome

    async def track_many(
        self, numbers: Iterable[NumberInput], carrier: Carrier | str | None = None
    ) -> list[Outcome]:
        """An outcome per input, in input order; failures are returned, not raised."""
        slots, jobs = self._plan(numbers, carrier)
        done: dict[tuple[Carrier, str], Outcome] = {}
        limit = anyio.Semaphore(self.concurrency, fast_acquire=True)

        async def run(job: _Job) -> None:
            try:
                outcomes = await self._job(job, limit)
            finally:
                limit.release()
            done.update({(job.carrier, n): o for n, o in outcomes.items()})

        async with anyio.create_task_group() as group:
            for job in jobs:
                # A task starts only once it has a slot: thousands of jobs are not thousands
                # of parked tasks, whose frames every garbage collection would walk.
                await limit.acquire()
                group.start_soon(run, job)
        return self._assemble(slots, done)

    async def track_reference(self, reference: str, carrier: Carrier | str) -> list[TrackingResult]:
        """Every package the shipper's reference names (UPS, FedEx); see TrackingClient."""
        flow, adapter, config = _reference_flow(self, reference, carrier)
        found: list[TrackingResult] = await self._run(flow, adapter, config)
        return found

    async def track_shipment(
        self, master: str, carrier: Carrier | str | None = None
    ) -> MultiPieceShipment:
        """A multi-piece shipment, master and pieces (UPS, FedEx); see TrackingClient."""
        head = await self.track(master, carrier)
        flow, adapter, config, _ = _pieces_flow(self, master, head.carrier)
        pieces: tuple[TrackingResult, ...] = await self._run(flow, adapter, config)
        return MultiPieceShipment(head, pieces)

    async def proof_of_delivery(
        self, number: str, carrier: Carrier | str | None = None
    ) -> ProofOfDelivery:
        """The signed proof of delivery (UPS, FedEx); see TrackingClient."""
        flow, adapter, config = _pod_flow(self, number, carrier)
        document: ProofOfDelivery = await self._run(flow, adapter, config)
        return document

    async def _job(self, job: _Job, slot: anyio.Semaphore | None = None) -> dict[str, Outcome]:
        adapter, config = ADAPTERS[job.carrier], self.configs[job.carrier]
        deadline = self.retry.start()
        try:
            result: dict[str, Outcome] = await self._run(
                track_flow(adapter, config, job.numbers, self.retry, deadline),
                adapter,
                config,
                slot,
            )
            return result
        except TrackingError as exc:
            if self._split_on(exc, job):
                singles: dict[str, Outcome] = {}
                for n in job.numbers:
                    singles.update(await self._job(_Job(job.carrier, (n,)), slot))
                return singles
            return self._spread(exc, job)

    async def _run(
        self,
        flow: Flow[Any],
        adapter: CarrierAdapter,
        config: CarrierConfig,
        slot: anyio.Semaphore | None = None,
    ) -> Any:
        """Drive a flow. ``slot`` is the ``track_many`` concurrency slot the call holds: it
        is given up while the call waits out a retry backoff, so that others can send."""
        value: Any = None
        while True:
            try:
                step = flow.send(value)
            except StopIteration as stop:
                return stop.value
            if isinstance(step, Send):
                value = await asend(
                    self.http, step.request, remaining=step.remaining, timeout=self.timeout
                )
            elif isinstance(step, Sleep):
                if slot is None:
                    await self.retry.clock.async_sleep(step.seconds)
                else:
                    slot.release()
                    try:
                        await self.retry.clock.async_sleep(step.seconds)
                    finally:
                        # Shielded: the caller's ``async with`` releases the slot once more,
                        # so it must be held again even when the call is being cancelled.
                        with anyio.CancelScope(shield=True):
                            await slot.acquire()
                value = None
            else:
                value = await self._token(step, adapter, config, slot)

    async def _token(
        self,
        step: Token,
        adapter: CarrierAdapter,
        config: CarrierConfig,
        slot: anyio.Semaphore | None = None,
    ) -> Any:
        try:
            key = self._credential_key(adapter, config)
        except TrackingError as exc:
            return exc
        cached = self.tokens.get(key)
        if cached is not None and cached != step.stale:
            return cached  # the usual case: no queueing behind the lock
        async with self.tokens.task_lock(key):
            cached = self.tokens.get(key)
            if cached is not None and cached != step.stale:
                return cached
            if step.stale is not None:
                self.tokens.discard(key, step.stale)
            try:
                grant = await self._run(
                    token_flow(adapter, config, self.retry, step.deadline), adapter, config, slot
                )
            except TrackingError as exc:
                return exc
            return self.tokens.put(key, grant)
