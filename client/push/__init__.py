"""Receive carrier pushes (webhooks): verify them, read them into the tracking model.

UPS Track Alert, FedEx Advanced Integrated Visibility, USPS Subscriptions – Tracking and DHL
Unified Push POST each new scan to a URL of yours. This package checks that a delivery comes
from the carrier (:mod:`client.push.auth`), refuses replays (:class:`ReplayGuard`), reads
the body with the same adapters as tracking (:mod:`client.push.parse`), and folds updates
into the current state whatever order they arrive in (:func:`fold`).

- :func:`verify_and_parse` — one delivery, one carrier's secret: a :class:`PushDelivery`.
- :class:`PushReceiver` — every carrier's secret and one replay guard.
- :class:`PushApp` — the receiver as an ASGI app that calls you with each update.

Every refusal is a :class:`~client.errors.PushRejected` (``InvalidSignature``,
``ReplayedPush``, ``MalformedPush``).
"""

from client.push.asgi import DEFAULT_PATHS, PushApp
from client.push.auth import (
    DhlPushAuth,
    FedexPushAuth,
    TokenIssuer,
    UpsPushAuth,
    UspsPushAuth,
    fedex_signature,
    usps_signature,
)
from client.push.fold import PushState, fold
from client.push.model import PushDelivery, PushUpdate
from client.push.receiver import PushReceiver, PushSecrets, verify_and_parse
from client.push.replay import ReplayGuard

__all__ = [
    "DEFAULT_PATHS",
    "DhlPushAuth",
    "FedexPushAuth",
    "PushApp",
    "PushDelivery",
    "PushReceiver",
    "PushSecrets",
    "PushState",
    "PushUpdate",
    "ReplayGuard",
    "TokenIssuer",
    "UpsPushAuth",
    "UspsPushAuth",
    "fedex_signature",
    "fold",
    "usps_signature",
    "verify_and_parse",
]
