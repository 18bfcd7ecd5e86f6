"""OAuth access tokens: one cached token per credential, renewed before it expires.

Asking for a token on every call burns carrier quotas (UPS answers 429 to it; USPS counts
token calls against its hourly quota — NOTES §6 item 3), so tokens are cached per
(carrier, token URL, client id, secret) and shared by every call of a client. A token is
treated as expired ``refresh_margin`` before its real end — a tenth of its lifetime, at most
two minutes — so a request never leaves with a token about to lapse. Concurrent calls that
need a token wait for one fetch instead of each fetching their own.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Hashable
from dataclasses import dataclass

import anyio

from client.retry import Clock

__all__ = ["TokenCache", "TokenGrant", "credential_key"]


@dataclass(frozen=True, slots=True)
class TokenGrant:
    """An access token and its lifetime in seconds, as the token endpoint returned them."""

    access_token: str
    expires_in: float


@dataclass(frozen=True, slots=True)
class _Cached:
    token: str
    renew_at: float


def credential_key(carrier: str, token_url: str, client_id: str, secret: str) -> Hashable:
    """The cache key of one credential (the secret only as a digest)."""
    digest = hashlib.sha256(secret.encode()).hexdigest()
    return (carrier, token_url, client_id, digest)


class TokenCache:
    """Tokens by credential, with per-credential locks for threads and for tasks."""

    def __init__(self, clock: Clock, max_margin: float = 120.0) -> None:
        self.clock = clock
        self.max_margin = max_margin
        self._tokens: dict[Hashable, _Cached] = {}
        self._guard = threading.Lock()
        self._thread_locks: dict[Hashable, threading.Lock] = {}
        self._task_locks: dict[Hashable, anyio.Lock] = {}

    def get(self, key: Hashable) -> str | None:
        """The cached token for a credential if it is not due for renewal, else None."""
        cached = self._tokens.get(key)
        if cached is None or self.clock.monotonic() >= cached.renew_at:
            return None
        return cached.token

    def put(self, key: Hashable, grant: TokenGrant) -> str:
        """Cache a fresh grant and return its token."""
        margin = min(self.max_margin, grant.expires_in / 10)
        renew_at = self.clock.monotonic() + max(0.0, grant.expires_in - margin)
        self._tokens[key] = _Cached(grant.access_token, renew_at)
        return grant.access_token

    def discard(self, key: Hashable, token: str) -> None:
        """Forget ``token`` (the carrier rejected it), unless another call already replaced it."""
        cached = self._tokens.get(key)
        if cached is not None and cached.token == token:
            del self._tokens[key]

    def thread_lock(self, key: Hashable) -> threading.Lock:
        """The lock sync callers hold while fetching this credential's token."""
        with self._guard:
            return self._thread_locks.setdefault(key, threading.Lock())

    def task_lock(self, key: Hashable) -> anyio.Lock:
        """The lock async callers hold while fetching this credential's token."""
        with self._guard:
            return self._task_locks.setdefault(key, anyio.Lock(fast_acquire=True))
