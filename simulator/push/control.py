"""The push part of the control object: listings, firing, replay, portal-held webhooks.

:class:`simulator.control.Control` holds one :class:`PushControl` as ``control.push``; the
``/__admin`` routes for subscriptions, deliveries and webhooks are one-line adapters over
it. Listings are per tenant, bounded and redacted (no secret, credential or token is ever
shown).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from simulator.carriers.fedex.push import target_problem
from simulator.control import AdminError, carrier_name, text
from simulator.engine import Simulation
from simulator.push.dispatch import Dispatcher
from simulator.push.model import Attempt, Subscription

MAX_LISTED = 1000
"""The most entries one listing returns (``limit`` defaults to 100)."""
_MASK = "***"

# What the carriers' portals hold instead of a subscription field (see each push module).
_WEBHOOK_FIELDS = {
    "ups": ("url", "token_url", "client_id", "client_secret"),
    "fedex": ("url", "security_token"),
}
_SECRET_FIELDS = frozenset({"client_secret", "security_token", "secret", "credential", "token"})


def _iso(ts: float | None) -> str | None:
    if ts is None:
        return None
    moment = datetime.fromtimestamp(ts, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _limit(value: Any) -> int:
    if value is None:
        return 100
    try:
        limit = int(value)
    except (TypeError, ValueError):
        raise AdminError(400, "limit", f"{value!r} is not a count", "send 1 to 1000") from None
    if not 1 <= limit <= MAX_LISTED:
        raise AdminError(400, "limit", f"{limit} is out of range", f"send 1 to {MAX_LISTED}")
    return limit


def subscription_json(sub: Subscription, dispatcher: Dispatcher) -> dict[str, Any]:
    """A subscription as the admin API shows it, secrets masked."""
    return {
        "id": sub.id,
        "tenant": sub.tenant,
        "carrier": sub.carrier,
        "status": sub.status,
        "status_reason": sub.status_reason,
        "url": sub.url,
        "numbers": list(dispatcher.numbers_of(sub)),
        "auth": {k: (_MASK if k in _SECRET_FIELDS else v) for k, v in sub.auth.items()},
        "created": _iso(sub.created),
        "expires": _iso(sub.expires),
        "pending": sum(1 for p in dispatcher.store.pending if p.subscription == sub.id),
        "missed": len(dispatcher.store.missed.get(sub.id, ())),
        "delivered_events": dict(sub.cursor),
        "details": {k: v for k, v in sub.data.items() if k not in ("secret", "jobs", "by_account")},
    }


def attempt_json(a: Attempt) -> dict[str, Any]:
    """One delivery attempt as ``/__admin/deliveries`` lists it."""
    return {
        "id": a.id,
        "delivery": a.key,
        "tenant": a.tenant,
        "carrier": a.carrier,
        "subscription": a.subscription,
        "number": a.number,
        "event_index": a.index,
        "kind": a.kind,
        "retry": a.retry,
        "sim_time": _iso(a.sim_at),
        "real_time": _iso(a.real_at),
        "event_time": _iso(a.event_at),
        "url": a.url,
        "status": a.status,
        "error": a.error,
        "latency_ms": a.latency_ms,
        "outcome": a.outcome,
        "faults": list(a.faults),
        "headers": dict(a.headers),
        "body": a.body,
    }


class PushControl:
    """Push operations of the control object."""

    def __init__(self, sim: Simulation) -> None:
        self.sim = sim

    @property
    def dispatcher(self) -> Dispatcher:
        """The app's dispatcher."""
        if self.sim.dispatcher is None:
            raise AdminError(503, "push", "push is not running", "serve through create_app")
        return self.sim.dispatcher

    def subscriptions(
        self, tenant: str, *, carrier: Any = None, status: Any = None, limit: Any = None
    ) -> list[dict[str, Any]]:
        """The tenant's subscriptions, oldest first."""
        if carrier is not None:
            carrier = carrier_name("carrier", carrier)
        count = _limit(limit)
        subs = [
            s
            for s in self.sim.push.of_tenant(tenant, carrier)
            if status is None or s.status == status
        ]
        return [subscription_json(s, self.dispatcher) for s in subs[-count:]]

    def deliveries(
        self,
        tenant: str,
        *,
        carrier: Any = None,
        number: Any = None,
        subscription: Any = None,
        outcome: Any = None,
        status: Any = None,
        kind: Any = None,
        limit: Any = None,
    ) -> list[dict[str, Any]]:
        """The tenant's delivery attempts, oldest first (the newest ``limit``)."""
        if carrier is not None:
            carrier = carrier_name("carrier", carrier)
        wanted_status: int | None = None
        if status is not None:
            try:
                wanted_status = int(status)
            except (TypeError, ValueError):
                raise AdminError(400, "status", f"{status!r} is not an HTTP status",
                                 "e.g. 200") from None  # fmt: skip
        count = _limit(limit)
        found = [
            a
            for a in list(self.sim.push.attempts)
            if a.tenant == tenant
            and (carrier is None or a.carrier == carrier)
            and (number is None or a.number == number)
            and (subscription is None or a.subscription == subscription)
            and (outcome is None or a.outcome == outcome)
            and (kind is None or a.kind == kind)
            and (wanted_status is None or a.status == wanted_status)
        ]
        return [attempt_json(a) for a in found[-count:]]

    async def fire(self, tenant: str, everything: Any = False) -> dict[str, Any]:
        """Send the tenant's due deliveries now (``everything``: every waiting one,
        retries included, whatever its due time); the attempts made."""
        if not isinstance(everything, bool):
            raise AdminError(400, "all", f"{everything!r} is not true or false", "send true")
        made = await self.dispatcher.fire(tenant, everything=everything)
        return {"attempts": [attempt_json(a) for a in made if a.tenant == tenant]}

    def replay(self, tenant: str, subscription: Any = None) -> dict[str, Any]:
        """Queue the missed events (FedEx's queue) again; they go out on the next look."""
        if subscription is not None:
            subscription = text("subscription", subscription)
        return {"replayed": self.dispatcher.replay_missed(tenant, subscription)}

    def webhook(self, tenant: str, carrier: Any) -> dict[str, Any]:
        """The webhook a carrier's portal holds for the tenant, secrets masked."""
        carrier = self._portal_carrier(carrier)
        hook = self.sim.push.webhooks.get((tenant, carrier))
        if hook is None:
            raise AdminError(404, "carrier", f"tenant {tenant!r} has no {carrier} webhook",
                             f"PUT /__admin/webhooks/{carrier} first")  # fmt: skip
        return {k: (_MASK if k in _SECRET_FIELDS else v) for k, v in hook.items()}

    def set_webhook(self, tenant: str, carrier: Any, body: dict[str, Any]) -> dict[str, Any]:
        """Set the webhook a carrier's portal would hold (UPS v2's Manage Webhook
        Credentials, FedEx's webhook project)."""
        carrier = self._portal_carrier(carrier)
        fields = _WEBHOOK_FIELDS[carrier]
        hook = {name: text(name, body.get(name)) for name in fields}
        for name in ("url", "token_url"):
            if name in hook:
                parts = urlsplit(hook[name])
                if parts.scheme not in ("http", "https") or not parts.netloc:
                    raise AdminError(400, name, f"{hook[name]!r} is not an http(s) URL",
                                     "e.g. http://127.0.0.1:9000/hook")  # fmt: skip
        if carrier == "fedex":
            refused = target_problem(hook["url"], self.sim.settings.push_strict_targets)
            if refused is not None:
                raise AdminError(400, "url", refused, "use an https URL on a public host name "
                                 "(strict mode: --push-strict-targets)")  # fmt: skip
        self.sim.push.webhooks[(tenant, carrier)] = hook
        return self.webhook(tenant, carrier)

    def delete_webhook(self, tenant: str, carrier: Any) -> None:
        """Forget a portal-held webhook (subscriptions made with it keep their target)."""
        carrier = self._portal_carrier(carrier)
        if self.sim.push.webhooks.pop((tenant, carrier), None) is None:
            raise AdminError(404, "carrier", f"tenant {tenant!r} has no {carrier} webhook",
                             "nothing to delete")  # fmt: skip

    def _portal_carrier(self, carrier: Any) -> str:
        name = carrier_name("carrier", carrier)
        if name not in _WEBHOOK_FIELDS:
            raise AdminError(
                400,
                "carrier",
                f"{name} webhooks are set in the subscription itself, not in a portal",
                f"one of {', '.join(_WEBHOOK_FIELDS)}",
            )
        return name
