"""Order tracking on top of the client: a watcher, change events, durable state, notifications.

- :class:`Watcher` — watched numbers with their orders; polls them on a schedule by status
  and takes answers from any source (:meth:`Watcher.feed`).
- :mod:`client.watch.changes` — change events derived from the normalized model.
- :class:`Store` — SQLite: parcels, change events, the outbox of notifications.
- :mod:`client.watch.notify` — rules, Jinja2 templates, SMTP / webhook / SMS senders.
- :mod:`client.watch.platforms` — Shopify, WooCommerce, Magento and AfterShip vocabularies.
"""

from client.watch.changes import FINAL_STATUSES, Change, ChangeKind, ParcelState, apply_result
from client.watch.notify import (
    DEFAULT_RULES,
    HttpSmsSender,
    Notifier,
    Outbox,
    Rule,
    Sender,
    SendError,
    SmsSender,
    SmsSenderChannel,
    SmtpSender,
    Templates,
    WebhookSender,
    sign,
)
from client.watch.store import Order, OutboxItem, Parcel, Store, StoreError
from client.watch.watcher import (
    PUBLISHED_RATE_LIMITS,
    NotWatched,
    PollSchedule,
    Round,
    ScaledClock,
    SystemWatchClock,
    WatchClock,
    Watcher,
)

__all__ = [
    "DEFAULT_RULES",
    "FINAL_STATUSES",
    "PUBLISHED_RATE_LIMITS",
    "Change",
    "ChangeKind",
    "HttpSmsSender",
    "NotWatched",
    "Notifier",
    "Order",
    "Outbox",
    "OutboxItem",
    "Parcel",
    "ParcelState",
    "PollSchedule",
    "Round",
    "Rule",
    "ScaledClock",
    "SendError",
    "Sender",
    "SmsSender",
    "SmsSenderChannel",
    "SmtpSender",
    "Store",
    "StoreError",
    "SystemWatchClock",
    "Templates",
    "WatchClock",
    "Watcher",
    "WebhookSender",
    "apply_result",
    "sign",
]
