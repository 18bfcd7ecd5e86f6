"""What every carrier adapter provides, and the behaviour they share.

An adapter does no I/O. It builds ``httpx.Request`` objects (token and tracking), classifies
the carrier's answers into client errors, and parses successful answers into the model. The
flow in :mod:`client.flow` decides when to send, retry, renew tokens and wait, and the
clients in :mod:`client.api` perform the I/O — so the same adapter serves the sync and the
async client, and tests can drive it with plain bytes.
"""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import httpx

from client.auth import TokenGrant, credential_key
from client.errors import (
    AuthenticationError,
    CarrierUnavailable,
    ConfigurationError,
    MalformedResponse,
    NotFound,
    RateLimited,
    RequestRejected,
    TrackingError,
)
from client.model import Carrier, ProofOfDelivery, TrackingResult
from client.retry import parse_retry_after
from client.transport import HttpReply

__all__ = ["CarrierAdapter", "CarrierConfig", "Outcome"]

Outcome = TrackingResult | TrackingError
"""What a number ends up as: its result, or the error that stopped it."""


@functools.lru_cache(maxsize=64)
def _usable_base(base_url: str) -> bool:
    # Parsed once per base URL, not once per request.
    try:
        parsed = httpx.URL(base_url)
    except httpx.InvalidURL:
        return False
    return parsed.scheme in ("http", "https") and bool(parsed.host)


@dataclass(frozen=True, slots=True)
class CarrierConfig:
    """Where and as whom to call one carrier."""

    carrier: Carrier
    base_url: str
    """Scheme, host and optional path prefix; the adapter appends the carrier's real paths."""
    client_id: str | None = None
    client_secret: str | None = None
    api_key: str | None = None

    def url(self, path: str) -> str:
        """The base URL joined with a carrier path; ConfigurationError if it is unusable."""
        if not _usable_base(self.base_url):
            raise ConfigurationError(
                f"unusable base URL {self.base_url!r} for {self.carrier.value}",
                carrier=self.carrier,
                hint="base URLs look like https://host or http://127.0.0.1:8080 "
                f"(set CARRIERSIM_{self.carrier.value.upper()}_BASE_URL or pass base_url=)",
            )
        return self.base_url.rstrip("/") + path


class CarrierAdapter(ABC):
    """Requests, error classification and parsing for one carrier."""

    carrier: ClassVar[Carrier]
    default_base_url: ClassVar[str]
    """The carrier's production host (NOTES §x.1)."""
    batch_size: ClassVar[int] = 1
    """Most numbers one tracking request may carry."""
    uses_token: ClassVar[bool] = True
    token_lifetime: ClassVar[float] = 3600.0
    """Lifetime assumed when a token answer omits ``expires_in``."""

    # -- other operations (by reference, pieces, proof of delivery) --------------------------

    def unsupported(self, what: str) -> ConfigurationError:
        """The error for an operation this carrier's API does not offer."""
        return ConfigurationError(
            f"{self.carrier.value.upper()} offers no {what} through its tracking API",
            carrier=self.carrier,
            hint="track by number instead (TrackingClient.track)",
        )

    def reference_request(
        self, config: CarrierConfig, reference: str, token: str | None
    ) -> httpx.Request:
        """Track by the shipper's reference (UPS, FedEx)."""
        raise self.unsupported("tracking by reference")

    def parse_reference(self, reply: HttpReply, reference: str) -> list[TrackingResult]:
        """The packages a reference names."""
        raise self.unsupported("tracking by reference")

    def pieces_request(
        self, config: CarrierConfig, master: str, token: str | None
    ) -> httpx.Request:
        """A multi-piece shipment's pieces (UPS, FedEx)."""
        raise self.unsupported("multi-piece shipments")

    def parse_pieces(self, reply: HttpReply, master: str) -> tuple[TrackingResult, ...]:
        """The pieces other than the master."""
        raise self.unsupported("multi-piece shipments")

    def pod_request(self, config: CarrierConfig, number: str, token: str | None) -> httpx.Request:
        """A proof-of-delivery document (UPS, FedEx)."""
        raise self.unsupported("proof-of-delivery document")

    def parse_pod(self, reply: HttpReply, number: str) -> ProofOfDelivery:
        """The proof-of-delivery document; NotFound while there is none."""
        raise self.unsupported("proof-of-delivery document")

    def pod_error(self, reply: HttpReply, number: str) -> TrackingError | None:
        """How a proof-of-delivery answer fails (tracking's classes by default)."""
        return self.track_error(reply, (number,))

    # -- auth ---------------------------------------------------------------------------------

    def credential_key(self, config: CarrierConfig) -> Hashable:
        """The token-cache key of the configured credential."""
        client_id, secret = self.oauth_credentials(config)
        return credential_key(self.carrier.value, self.token_url(config), client_id, secret)

    def oauth_credentials(self, config: CarrierConfig) -> tuple[str, str]:
        """(client id, secret), or ConfigurationError naming the variables to set."""
        if not config.client_id or not config.client_secret:
            prefix = self.carrier.value.upper()
            raise ConfigurationError(
                f"no {prefix} client id/secret configured",
                carrier=self.carrier,
                hint=f"pass {self.carrier.value}=CarrierSettings(client_id=…, client_secret=…) "
                f"or set {prefix}_CLIENT_ID and {prefix}_CLIENT_SECRET",
            )
        return config.client_id, config.client_secret

    def form_token_request(self, config: CarrierConfig) -> httpx.Request:
        """Client credentials in a form body, as FedEx and USPS take them (NOTES §2.2, §3.2)."""
        client_id, secret = self.oauth_credentials(config)
        form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
        return httpx.Request("POST", self.token_url(config), data=form)

    def token_url(self, config: CarrierConfig) -> str:
        """The token endpoint (OAuth carriers override it)."""
        raise self._no_token()

    def token_request(self, config: CarrierConfig) -> httpx.Request:
        """The client-credentials token request (OAuth carriers override it)."""
        raise self._no_token()

    def _no_token(self) -> ConfigurationError:
        # Only reached if a carrier with uses_token = False were asked for a token.
        return ConfigurationError(
            f"{self.carrier.value.upper()} authenticates without a token",
            carrier=self.carrier,
            hint="configure its API key instead of a client id and secret",
        )

    def token_error(self, reply: HttpReply) -> TrackingError | None:
        """The error a token answer carries, or None if it is a success."""
        if 200 <= reply.status_code < 300:
            return None
        code, message = self.error_details(reply)
        status = reply.status_code
        what = f"token request failed: {message or f'HTTP {status}'}"
        if status == 429 or status >= 500:
            return self.transient_error(reply, what, code)
        if status == 404:
            return ConfigurationError(
                what,
                carrier=self.carrier,
                status_code=status,
                code=code,
                hint=f"no token endpoint at {reply.url}; check the base URL (it is the host, "
                "without /api or other path)",
            )
        return AuthenticationError(what, carrier=self.carrier, status_code=status, code=code)

    def parse_token(self, reply: HttpReply) -> TokenGrant:
        """The access token and lifetime from a successful token answer."""
        body = self.json_object(reply, ())
        token = body.get("access_token")
        if not isinstance(token, str) or not token:
            raise MalformedResponse(
                "token answer has no access_token", carrier=self.carrier, status_code=200
            )
        # UPS sends every value as a string ("14399"), FedEx and USPS integers (NOTES §5).
        try:
            lifetime = float(body.get("expires_in", self.token_lifetime))
        except (TypeError, ValueError):
            lifetime = self.token_lifetime
        return TokenGrant(token, max(0.0, lifetime))

    # -- tracking -----------------------------------------------------------------------------

    @abstractmethod
    def track_request(
        self, config: CarrierConfig, numbers: Sequence[str], token: str | None
    ) -> httpx.Request:
        """The tracking request for up to ``batch_size`` numbers."""

    def track_error(self, reply: HttpReply, numbers: Sequence[str]) -> TrackingError | None:
        """The error a tracking answer carries as a whole, or None to parse it."""
        if 200 <= reply.status_code < 300:
            return None
        code, message = self.error_details(reply)
        status = reply.status_code
        what = message or f"HTTP {status} from the carrier"
        number = numbers[0] if len(numbers) == 1 else None
        if status == 429 or status >= 500:
            return self.transient_error(reply, what, code, number)
        if status in (401, 403):
            return AuthenticationError(
                what, carrier=self.carrier, number=number, status_code=status, code=code
            )
        if status == 404:
            return NotFound(
                what, carrier=self.carrier, number=number, status_code=status, code=code
            )
        return RequestRejected(
            what, carrier=self.carrier, number=number, status_code=status, code=code
        )

    @abstractmethod
    def parse_track(self, reply: HttpReply, numbers: Sequence[str]) -> dict[str, Outcome]:
        """An outcome for every number in ``numbers`` from a successful answer."""

    def parse_track_safely(self, reply: HttpReply, numbers: Sequence[str]) -> dict[str, Outcome]:
        """:meth:`parse_track`, with any parse failure reported per number, never lost.

        Carriers drift from their specs; a shape the parser did not foresee becomes a
        MalformedResponse for the numbers concerned instead of a crash.
        """
        try:
            outcomes = self.parse_track(reply, numbers)
        except TrackingError as exc:
            outcomes = {n: exc.for_number(n, self.carrier) for n in numbers}
        except (KeyError, IndexError, TypeError, ValueError, AttributeError, OverflowError) as exc:
            err = MalformedResponse(
                f"unexpected answer shape ({type(exc).__name__}: {exc})",
                carrier=self.carrier,
                status_code=reply.status_code,
            )
            outcomes = {n: err.for_number(n) for n in numbers}
        for n in numbers:
            if n not in outcomes:
                outcomes[n] = MalformedResponse(
                    "the carrier's answer does not mention this number",
                    carrier=self.carrier,
                    number=n,
                    status_code=reply.status_code,
                    hint="try tracking the number on its own",
                )
        return outcomes

    # -- shared helpers -----------------------------------------------------------------------

    def error_details(self, reply: HttpReply) -> tuple[str | None, str | None]:
        """(carrier error code, message) from an error body, as far as it can be read."""
        return None, None

    def transient_error(
        self, reply: HttpReply, what: str, code: str | None, number: str | None = None
    ) -> TrackingError:
        """RateLimited for 429 (with Retry-After), CarrierUnavailable for 5xx."""
        if reply.status_code == 429:
            return RateLimited(
                what,
                carrier=self.carrier,
                number=number,
                status_code=429,
                code=code,
                retry_after=parse_retry_after(reply.headers.get("retry-after")),
            )
        return CarrierUnavailable(
            what, carrier=self.carrier, number=number, status_code=reply.status_code, code=code
        )

    def json_object(self, reply: HttpReply, numbers: Sequence[str]) -> Mapping[str, Any]:
        """The body as a JSON object, or MalformedResponse."""
        body = self.json_any(reply, numbers)
        if not isinstance(body, dict):
            raise self.malformed(reply, numbers, f"expected a JSON object, got {_kind(body)}")
        return body

    def json_any(self, reply: HttpReply, numbers: Sequence[str]) -> Any:
        """The body as any JSON value, or MalformedResponse."""
        try:
            return reply.json()
        except ValueError as exc:
            snippet = reply.text[:60].replace("\n", " ")
            raise self.malformed(reply, numbers, f"the body is not JSON ({snippet!r}…)") from exc

    def malformed(self, reply: HttpReply, numbers: Sequence[str], what: str) -> MalformedResponse:
        """A MalformedResponse about this answer."""
        return MalformedResponse(
            what,
            carrier=self.carrier,
            number=numbers[0] if len(numbers) == 1 else None,
            status_code=reply.status_code,
        )

    def safe_json(self, reply: HttpReply) -> Any:
        """The body as JSON, or None (for reading error bodies, which may be HTML)."""
        try:
            return reply.json()
        except ValueError:
            return None


def _kind(value: Any) -> str:
    return "a list" if isinstance(value, list) else type(value).__name__
