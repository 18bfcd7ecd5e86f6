"""Bearer tokens: self-contained, signed, bound to a credential, expiring on the tenant's clock.

A token carries its carrier, client id, tenant, scope and expiry, signed with HMAC-SHA256
in the JWT compact form (``eyJ…``, as the carriers' tokens look). Any worker holding the
same secret can verify any token, so tokens need no shared state.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
from dataclasses import dataclass
from enum import Enum
from typing import Any


class TokenProblem(Enum):
    """Why a bearer token was refused."""

    missing = "missing"
    malformed = "malformed"
    bad_signature = "bad_signature"
    wrong_carrier = "wrong_carrier"
    expired = "expired"


@dataclass(frozen=True, slots=True)
class Claims:
    """What a verified token says."""

    carrier: str
    client_id: str
    tenant: str
    issued_at: float
    expires_at: float
    scope: str


class TokenError(Exception):
    """A bearer token that cannot be used."""

    def __init__(self, problem: TokenProblem, claims: Claims | None = None) -> None:
        super().__init__(problem.value)
        self.problem = problem
        self.claims = claims


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_HEADER = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())


class TokenIssuer:
    """Issues and verifies the simulator's bearer tokens."""

    def __init__(self, secret: bytes, cache_size: int = 4096) -> None:
        self._secret = secret
        self._serial = itertools.count(1)
        self._verified: dict[str, Claims] = {}
        self._cache_size = cache_size

    def issue(
        self,
        *,
        carrier: str,
        client_id: str,
        tenant: str,
        now: float,
        lifetime: int,
        scope: str = "",
    ) -> tuple[str, Claims]:
        """A new token and its claims."""
        claims = Claims(carrier, client_id, tenant, now, now + lifetime, scope)
        payload: dict[str, Any] = {
            "iss": "carriersim",
            "car": carrier,
            "sub": client_id,
            "ten": tenant,
            "iat": round(now, 3),
            "exp": round(now + lifetime, 3),
            "scope": scope,
            "jti": next(self._serial),
        }
        body = _HEADER + "." + _b64(json.dumps(payload, separators=(",", ":")).encode())
        return body + "." + self._sign(body), claims

    def _sign(self, body: str) -> str:
        return _b64(hmac.new(self._secret, body.encode(), hashlib.sha256).digest())

    def decode(self, token: str | None, carrier: str) -> Claims:
        """The claims of a well-formed, genuine token for this carrier (expiry not checked)."""
        if not token:
            raise TokenError(TokenProblem.missing)
        claims = self._verified.get(token)
        if claims is None:
            claims = self._verify(token)
            if len(self._verified) >= self._cache_size:
                self._verified.clear()
            self._verified[token] = claims
        if claims.carrier != carrier:
            raise TokenError(TokenProblem.wrong_carrier, claims)
        return claims

    def _verify(self, token: str) -> Claims:
        parts = token.split(".")
        if len(parts) != 3:
            raise TokenError(TokenProblem.malformed)
        body = parts[0] + "." + parts[1]
        if not hmac.compare_digest(self._sign(body), parts[2]):
            raise TokenError(TokenProblem.bad_signature)
        try:
            p = json.loads(_unb64(parts[1]))
            return Claims(
                str(p["car"]),
                str(p["sub"]),
                str(p["ten"]),
                float(p["iat"]),
                float(p["exp"]),
                str(p.get("scope", "")),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise TokenError(TokenProblem.malformed) from exc

    def check(self, token: str | None, carrier: str, now: float) -> Claims:
        """Claims of a usable token: genuine, for this carrier, not expired at ``now``."""
        claims = self.decode(token, carrier)
        if now >= claims.expires_at:
            raise TokenError(TokenProblem.expired, claims)
        return claims


def bearer(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer …`` header (scheme case-insensitive)."""
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None
