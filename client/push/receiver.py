"""Verify a carrier's push and read it: the plain-function receiver."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from client.errors import ConfigurationError, MalformedPush
from client.model import Carrier
from client.push.auth import DhlPushAuth, FedexPushAuth, UpsPushAuth, UspsPushAuth
from client.push.model import PushDelivery
from client.push.parse import delivery_id, load_body, updates_for, usps_fields
from client.push.replay import ReplayGuard

__all__ = ["Headers", "PushReceiver", "PushSecrets", "verify_and_parse"]

Headers = Mapping[str, str] | Iterable[tuple[str, str]] | Iterable[tuple[bytes, bytes]]
"""Request headers: any mapping (httpx, Starlette…) or (name, value) pairs, ASGI's included."""

Secret = UpsPushAuth | FedexPushAuth | UspsPushAuth | DhlPushAuth


@dataclass(frozen=True, slots=True)
class PushSecrets:
    """What each carrier's pushes must be checked with; a carrier left out is refused."""

    ups: UpsPushAuth | None = None
    fedex: FedexPushAuth | None = None
    usps: UspsPushAuth | None = None
    dhl: DhlPushAuth | None = None

    def of(self, carrier: Carrier) -> Secret:
        """The carrier's secret, or ConfigurationError."""
        secret: Secret | None = getattr(self, carrier.value)
        if secret is None:
            raise ConfigurationError(
                f"no {carrier.value.upper()} push secret configured",
                carrier=carrier,
                hint=f"pass PushSecrets({carrier.value}=…) to accept its pushes",
            )
        return secret


def _lower(headers: Headers) -> dict[str, str]:
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    out: dict[str, str] = {}
    for name, value in pairs:
        key = name.decode("latin-1") if isinstance(name, bytes) else name
        val = value.decode("latin-1") if isinstance(value, bytes) else value
        out[key.lower()] = val
    return out


def _carrier(name: Carrier | str) -> Carrier:
    try:
        return Carrier(name)
    except ValueError:
        known = ", ".join(c.value for c in Carrier)
        raise MalformedPush(f"no carrier {name!r}", hint=f"carriers are {known}") from None


def verify_and_parse(
    carrier: Carrier | str,
    headers: Headers,
    body: bytes,
    secret: Secret,
    *,
    replay: ReplayGuard | None = None,
) -> PushDelivery:
    """Check one push's signature or credential, read it, and (with ``replay``) refuse a
    delivery accepted before; the delivery is then remembered as accepted.

    Raises InvalidSignature, ReplayedPush or MalformedPush (all PushRejected), or
    ConfigurationError when ``secret`` is not the carrier's kind or is empty.
    """
    carrier = _carrier(carrier)
    lowered = _lower(headers)
    doc = load_body(carrier, body)
    if carrier is Carrier.ups and isinstance(secret, UpsPushAuth):
        secret.verify(lowered)
    elif carrier is Carrier.fedex and isinstance(secret, FedexPushAuth):
        secret.verify(lowered, body)
    elif carrier is Carrier.usps and isinstance(secret, UspsPushAuth):
        secret.verify(lowered, *usps_fields(doc))
    elif carrier is Carrier.dhl and isinstance(secret, DhlPushAuth):
        secret.verify(lowered)
    else:
        raise ConfigurationError(
            f"a {type(secret).__name__} cannot check a {carrier.value.upper()} push",
            carrier=carrier,
            hint=f"pass the {carrier.value.upper()} secret ({carrier.value.capitalize()}PushAuth)",
        )
    ident = delivery_id(carrier, doc)
    delivery = updates_for(carrier, doc, ident)
    if replay is not None:
        replay.check(carrier, ident, delivery.sent_at)
        replay.remember(ident)
    return delivery


@dataclass
class PushReceiver:
    """Secrets for every carrier and one replay guard: ``receive`` checks and reads a push."""

    secrets: PushSecrets
    replay: ReplayGuard | None = field(default_factory=ReplayGuard)

    def receive(self, carrier: Carrier | str, headers: Headers, body: bytes) -> PushDelivery:
        """:func:`verify_and_parse` with this receiver's secret and replay guard."""
        carrier = _carrier(carrier)
        return verify_and_parse(
            carrier, headers, body, self.secrets.of(carrier), replay=self.replay
        )

    def forget(self, delivery: PushDelivery) -> None:
        """Let the delivery in again: its handling failed, and the carrier's resend counts."""
        if self.replay is not None:
            self.replay.forget(delivery.delivery_id)
