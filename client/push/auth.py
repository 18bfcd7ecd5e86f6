"""How each carrier proves a push comes from it, and the checks (NOTES §7).

=========  ==========================================================================
UPS v1     header ``credential`` = the opaque string given in the subscription's
           ``destination.credential``
UPS v2     ``Authorization: Bearer <token>``, a token UPS fetched from *your* OAuth token
           URL (client credentials, ``client_secret_basic``), plus ``x-api-key`` = the
           client id of that token (:class:`TokenIssuer` is such a token URL)
FedEx      ``fdx-signature`` = base64(HMAC-SHA256(key=security token, msg=raw body))
USPS       ``X-HMAC`` (deprecated duplicate ``hmac-header``) = base64(HMAC-SHA256(
           key=secret, msg=``timestamp`` + ``payload``)), the two fields' string values
DHL        the header name and token you chose in ``hook.authentication``
=========  ==========================================================================

Every comparison is constant-time (:func:`hmac.compare_digest`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from client.errors import ConfigurationError, InvalidSignature
from client.model import Carrier

__all__ = [
    "DhlPushAuth",
    "FedexPushAuth",
    "TokenIssuer",
    "UpsPushAuth",
    "UspsPushAuth",
    "fedex_signature",
    "same_secret",
    "usps_signature",
]


def _hmac_b64(key: str, message: bytes) -> str:
    digest = hmac.new(key.encode("utf-8"), message, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def fedex_signature(body: bytes, security_token: str) -> str:
    """The ``fdx-signature`` FedEx sends with ``body``: base64 HMAC-SHA256 of the raw bytes."""
    return _hmac_b64(security_token, body)


def usps_signature(timestamp: str, payload: str, secret: str) -> str:
    """The ``X-HMAC`` USPS sends: base64 HMAC-SHA256 of ``timestamp + payload`` (UTF-8)."""
    return _hmac_b64(secret, (timestamp + payload).encode("utf-8"))


def same_secret(given: str | None, expected: str) -> bool:
    """Whether ``given`` equals ``expected``, compared in constant time."""
    if given is None:
        return False
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8"))


class TokenIssuer:
    """The OAuth token URL that UPS Track Alert v2 logs in to, and the check of its tokens.

    ``issue`` implements the client-credentials grant with ``client_secret_basic`` (RFC 6749
    §4.4); ``client_of`` says which client a bearer token was issued to, while it lives.
    Tokens are kept in memory, at most ``capacity`` of them (the oldest go first).
    """

    def __init__(
        self,
        clients: Mapping[str, str],
        *,
        lifetime: float = 3600.0,
        capacity: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not clients:
            raise ConfigurationError(
                "a token issuer needs at least one client",
                carrier=Carrier.ups,
                hint="pass clients={client_id: client_secret} as registered with UPS",
            )
        self._clients = dict(clients)
        self.lifetime = lifetime
        self._capacity = capacity
        self._clock = clock
        self._tokens: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def issue(self, client_id: str, client_secret: str) -> tuple[str, float] | None:
        """(access token, lifetime in seconds) for valid credentials, else None."""
        expected = self._clients.get(client_id)
        if expected is None or not same_secret(client_secret, expected):
            return None
        token = secrets.token_urlsafe(32)
        with self._lock:
            while len(self._tokens) >= self._capacity:
                del self._tokens[next(iter(self._tokens))]
            self._tokens[token] = (client_id, self._clock() + self.lifetime)
        return token, self.lifetime

    def client_of(self, token: str) -> str | None:
        """The client id a live token was issued to, or None (unknown or expired)."""
        with self._lock:
            entry = self._tokens.get(token)
            if entry is None:
                return None
            if entry[1] <= self._clock():
                del self._tokens[token]
                return None
        return entry[0]


@dataclass(frozen=True, slots=True)
class UpsPushAuth:
    """What a UPS push must show: the v1 ``credential``, or a v2 token from ``tokens``."""

    credential: str | None = None
    """v1: the ``destination.credential`` the subscription was made with."""
    tokens: TokenIssuer | None = None
    """v2: the token URL UPS logs in to; its live tokens are accepted."""
    client_id: str | None = None
    """v2: when set, ``x-api-key`` (and the token's client) must be this client id."""

    def verify(self, headers: Mapping[str, str]) -> None:
        """Raise InvalidSignature unless the headers carry a valid v1 or v2 credential."""
        if self.credential is None and self.tokens is None:
            raise _unconfigured(Carrier.ups, "UpsPushAuth(credential=…) or (tokens=TokenIssuer)")
        given = headers.get("credential")
        if given is not None or self.tokens is None:
            if self.credential is None or not same_secret(given, self.credential):
                raise _bad(Carrier.ups, "the credential header does not match the subscription's")
            return
        scheme, _, token = (headers.get("authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise _bad(Carrier.ups, "no credential header and no bearer token")
        owner = self.tokens.client_of(token.strip())
        if owner is None:
            raise _bad(Carrier.ups, "the bearer token is unknown or expired")
        api_key = headers.get("x-api-key")
        if not same_secret(api_key, owner) or (
            self.client_id is not None and not same_secret(owner, self.client_id)
        ):
            raise _bad(Carrier.ups, "x-api-key does not name the client the token was issued to")


@dataclass(frozen=True, slots=True)
class FedexPushAuth:
    """The security token of the FedEx webhook project."""

    security_token: str = field(repr=False)

    def verify(self, headers: Mapping[str, str], body: bytes) -> None:
        """Raise InvalidSignature unless ``fdx-signature`` signs ``body``."""
        if not self.security_token:
            raise _unconfigured(Carrier.fedex, "FedexPushAuth(security_token=…)")
        expected = fedex_signature(body, self.security_token)
        if not same_secret(_stripped(headers.get("fdx-signature")), expected):
            raise _bad(Carrier.fedex, "fdx-signature is missing or does not sign the body")


@dataclass(frozen=True, slots=True)
class UspsPushAuth:
    """The 32-character secret given when the USPS subscription was created."""

    secret: str = field(repr=False)

    def verify(self, headers: Mapping[str, str], timestamp: str, payload: str) -> None:
        """Raise InvalidSignature unless ``X-HMAC`` (or ``hmac-header``) signs the fields."""
        if not self.secret:
            raise _unconfigured(Carrier.usps, "UspsPushAuth(secret=…)")
        given = _stripped(headers.get("x-hmac") or headers.get("hmac-header"))
        if not same_secret(given, usps_signature(timestamp, payload, self.secret)):
            raise _bad(Carrier.usps, "X-HMAC is missing or does not sign timestamp + payload")


@dataclass(frozen=True, slots=True)
class DhlPushAuth:
    """The header and token given in the DHL subscription's ``hook.authentication``."""

    header: str
    token: str = field(repr=False)

    def verify(self, headers: Mapping[str, str]) -> None:
        """Raise InvalidSignature unless the chosen header carries the token."""
        if not self.header or not self.token:
            raise _unconfigured(Carrier.dhl, "DhlPushAuth(header=…, token=…)")
        if not same_secret(headers.get(self.header.lower()), self.token):
            raise _bad(Carrier.dhl, f"the {self.header} header does not carry the hook's token")


def _stripped(value: str | None) -> str | None:
    return value.strip() if value is not None else None


def _bad(carrier: Carrier, what: str) -> InvalidSignature:
    return InvalidSignature(f"push rejected: {what}", carrier=carrier)


def _unconfigured(carrier: Carrier, fix: str) -> ConfigurationError:
    return ConfigurationError(
        f"no {carrier.value.upper()} push secret configured", carrier=carrier, hint=f"pass {fix}"
    )
