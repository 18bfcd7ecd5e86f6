"""carriersim's reference tracking client: UPS, FedEx, USPS and DHL in one model.

It never imports the simulator: it keeps its own carrier tables, so tests that have the
simulator render and the client parse compare two independent implementations.

- :class:`TrackingClient` / :class:`AsyncTrackingClient` — ``track`` and ``track_many``.
- :mod:`client.model` — the normalized result (statuses, events, locations).
- :mod:`client.errors` — the one exception tree.
- :func:`detect` — which carrier a number belongs to.
- :class:`RetryPolicy` — what is retried and for how long (``for_testing()`` has no waits).
- :mod:`client.push` — carrier pushes (webhooks) verified and read into the same model.
- :mod:`client.watch` — watching orders' parcels: change events, SQLite state, notifications.
"""

from client.api import AsyncTrackingClient, CarrierSettings, TrackingClient
from client.carriers.base import Outcome
from client.detect import detect, normalize
from client.errors import (
    AmbiguousNumber,
    AuthenticationError,
    CarrierUnavailable,
    ConfigurationError,
    InvalidNumber,
    InvalidSignature,
    MalformedPush,
    MalformedResponse,
    NotFound,
    PushRejected,
    RateLimited,
    ReplayedPush,
    RequestRejected,
    Timeout,
    TrackingError,
)
from client.model import (
    Anomaly,
    Carrier,
    Event,
    ExceptionReason,
    Location,
    MultiPieceShipment,
    ProofOfDelivery,
    RawJSON,
    Status,
    TrackingResult,
)
from client.retry import RetryPolicy, VirtualClock

__all__ = [
    "AmbiguousNumber",
    "Anomaly",
    "AsyncTrackingClient",
    "AuthenticationError",
    "Carrier",
    "CarrierSettings",
    "CarrierUnavailable",
    "ConfigurationError",
    "Event",
    "ExceptionReason",
    "InvalidNumber",
    "InvalidSignature",
    "Location",
    "MalformedPush",
    "MalformedResponse",
    "MultiPieceShipment",
    "NotFound",
    "Outcome",
    "ProofOfDelivery",
    "PushRejected",
    "RateLimited",
    "RawJSON",
    "ReplayedPush",
    "RequestRejected",
    "RetryPolicy",
    "Status",
    "Timeout",
    "TrackingClient",
    "TrackingError",
    "TrackingResult",
    "VirtualClock",
    "detect",
    "normalize",
]
