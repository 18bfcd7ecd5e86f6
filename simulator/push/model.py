"""What push keeps: subscriptions, deliveries waiting to be sent, and every attempt made.

Plain data, no I/O. A :class:`Subscription` is carrier-neutral: which numbers, where to,
what the carrier needs to sign or authenticate a push (``auth``), and the carrier's own
fields (``data``) its subscription API answers with. A :class:`Pending` delivery is one
event of one number for one subscription, due at an instant of the tenant's simulated
clock; an :class:`Attempt` is one POST of it (or one decision not to send it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Outcome = Literal[
    "delivered",
    "retry_scheduled",
    "dropped",
    "missed",
    "suspended",
    "dropped_by_fault",
]
"""What became of an attempt: accepted by the receiver; failed and due again later; failed
and lost (UPS, DHL after its last retry); failed and kept in the missed-events queue
(FedEx); failed and the subscription suspended (USPS); not sent because a fault dropped it."""


@dataclass(frozen=True, slots=True)
class RetryRule:
    """How a carrier treats a delivery its receiver did not accept."""

    success: frozenset[int]
    """The statuses that count as accepted (UPS, USPS, DHL: 200; FedEx: 200 or 202)."""
    delays: tuple[float, ...]
    """Simulated seconds from one failed attempt to the next; one entry per retry."""
    exhausted: Literal["drop", "queue", "suspend"]
    """After the last retry: lose the event, keep it for replay, or suspend the
    subscription (no further events until the customer enables it again)."""


@dataclass(slots=True)
class Subscription:
    """One carrier subscription of a tenant: numbers pushed to one URL."""

    id: str
    tenant: str
    carrier: str
    numbers: tuple[str, ...]
    url: str
    auth: dict[str, str]
    """What signing needs, carrier-specific (UPS v1 ``credential``; UPS v2 ``token_url``,
    ``client_id``, ``client_secret``; FedEx ``security_token``; USPS ``secret``; DHL
    ``header`` and ``token``). Never shown unredacted."""
    status: str
    """In the carrier's words: ``active``, ``expired``; USPS ``ENABLED`` / ``DISABLED`` /
    ``SUSPENDED``; DHL ``pending`` until activated."""
    created: float
    """Simulated POSIX seconds of creation."""
    expires: float | None = None
    """Simulated POSIX seconds after which nothing is pushed (UPS: 14 days)."""
    data: dict[str, Any] = field(default_factory=dict)
    """The carrier's own fields, as its subscription API shows them."""
    cursor: dict[str, int] = field(default_factory=dict)
    """Per number, how many of its events are already scheduled (or were visible when the
    subscription was made: a subscription pushes what happens after it, as the carriers
    do — UPS: "Track Alert does not retain any history")."""
    status_reason: str | None = None
    status_changed: float | None = None

    @property
    def active(self) -> bool:
        """Whether new events are pushed."""
        return self.status in ("active", "ENABLED")


@dataclass(slots=True)
class Pending:
    """One event of one number waiting to be POSTed for a subscription."""

    key: str
    """Stable across retries: ``<subscription>/<number>/<event index>``."""
    subscription: str
    tenant: str
    carrier: str
    number: str
    index: int
    """The event's position in the number's timeline (0-based): the push shows the first
    ``index + 1`` events."""
    event_at: float
    """Simulated POSIX seconds of the event."""
    due: float
    """Simulated POSIX seconds at which to send (the event's instant, or a retry's)."""
    order: int
    """Creation order: ties on ``due`` go in the order the events happened."""
    attempt: int = 0
    """0 for the first try, then the retry number."""
    faults: tuple[str, ...] = ()
    """Push faults decided for this delivery (modes), kept across its retries."""
    fault_ids: tuple[str, ...] = ()
    kind: str = "event"
    """``event``, or a carrier message that is not an event (DHL's activation)."""


@dataclass(frozen=True, slots=True)
class Attempt:
    """One delivery attempt, as ``/__admin/deliveries`` lists it."""

    id: int
    key: str
    tenant: str
    carrier: str
    subscription: str
    number: str
    index: int
    kind: str
    retry: int
    sim_at: float
    """The tenant's simulated clock when it was sent."""
    real_at: float
    """Real POSIX seconds when it was sent (the request started)."""
    event_at: float
    url: str
    status: int | None
    """The receiver's HTTP status (None: no answer: refused, timed out, not sent)."""
    error: str | None
    latency_ms: float
    outcome: Outcome
    headers: tuple[tuple[str, str], ...]
    """Request headers as sent, secrets masked."""
    body: str
    faults: tuple[str, ...] = ()
