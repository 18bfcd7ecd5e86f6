"""The client's one exception tree.

Every failure a caller can meet is one of these, whatever the carrier and whatever went
wrong underneath (httpx errors are translated in :mod:`client.transport`, and nowhere else)::

    TrackingError                 base: .carrier, .number, .hint, .status_code, .code
    ├── InvalidNumber             not a tracking number (format, check digit), or the carrier
    │                             says the number is malformed
    ├── AmbiguousNumber           fits several carriers' formats: .candidates; pass carrier=
    ├── NotFound                  a valid number the carrier has no data for (yet)
    ├── AuthenticationError       credentials rejected, expired twice, or lacking the product
    ├── ConfigurationError        missing credentials or an unusable base URL
    ├── RequestRejected           any other 4xx: the carrier refused the request as sent
    ├── MalformedResponse         the answer could not be understood (not JSON, wrong shape)
    ├── RateLimited               HTTP 429 after the retries: .retry_after     ┐
    ├── CarrierUnavailable        5xx, refused/reset connection, empty reply   ├ transient
    ├── Timeout                   connect/read timeout, or the call's deadline ┘
    └── PushRejected              a carrier push (webhook delivery) that must not be used
        ├── InvalidSignature      signature or credential missing or wrong
        ├── ReplayedPush          a delivery seen before, or signed too long ago
        └── MalformedPush         not the carrier's push shape (not JSON, no number…)

``transient`` is True on the last three: trying again later may succeed. The retry policy
already retried them within its limits before the caller sees one.

A push receiver (:mod:`client.push`) raises only ``PushRejected`` errors (and
``ConfigurationError`` when it lacks the secret to check a carrier's signature).

``str(error)`` reads "<what happened> (<carrier> <number>): <what to do>".
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import ClassVar

from client.model import Carrier

__all__ = [
    "AmbiguousNumber",
    "AuthenticationError",
    "CarrierUnavailable",
    "ConfigurationError",
    "InvalidNumber",
    "InvalidSignature",
    "MalformedPush",
    "MalformedResponse",
    "NotFound",
    "PushRejected",
    "RateLimited",
    "ReplayedPush",
    "RequestRejected",
    "Timeout",
    "TrackingError",
]


class TrackingError(Exception):
    """Base of every client error; carries the carrier, the number and what to do."""

    transient: ClassVar[bool] = False
    """Whether trying again later may succeed."""

    default_hint: ClassVar[str] = "see the error message"

    def __init__(
        self,
        message: str,
        *,
        carrier: Carrier | None = None,
        number: str | None = None,
        hint: str | None = None,
        status_code: int | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.carrier = carrier
        self.number = number
        self.hint = hint or self.default_hint
        self.status_code = status_code
        """The HTTP status of the carrier's answer, when there was one."""
        self.code = code
        """The carrier's own error or warning code (``TW0001``, ``150001``…), when given."""
        self.attempts = 1
        """How many attempts the retry policy made before giving up with this error."""

    def __str__(self) -> str:
        where = " ".join(x for x in (self.carrier and self.carrier.value, self.number) if x)
        status = f", HTTP {self.status_code}" if self.status_code else ""
        code = f", code {self.code}" if self.code else ""
        context = f" ({where}{status}{code})" if where or status or code else ""
        return f"{self.message}{context}: {self.hint}"

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only constructor arguments: pickle by state, not by args.
        return (_rebuild, (type(self), self.__dict__))

    def for_number(self, number: str, carrier: Carrier | None = None) -> TrackingError:
        """A copy naming one number; a batch failure becomes one error per number."""
        clone = copy.copy(self)
        clone.number = number
        if carrier is not None:
            clone.carrier = carrier
        return clone


def _rebuild(cls: type[TrackingError], state: dict[str, object]) -> TrackingError:
    err = cls.__new__(cls)
    Exception.__init__(err, state.get("message", ""))
    err.__dict__.update(state)
    return err


class InvalidNumber(TrackingError):
    """The number is not a tracking number of the given (or any) carrier."""

    default_hint = "check the number for a typo"


class AmbiguousNumber(TrackingError):
    """The number fits several carriers' formats; the caller must say which one."""

    default_hint = "pass carrier= to say which carrier to ask"

    def __init__(
        self,
        message: str,
        *,
        candidates: Sequence[Carrier] = (),
        carrier: Carrier | None = None,
        number: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, carrier=carrier, number=number, hint=hint)
        self.candidates: tuple[Carrier, ...] = tuple(candidates)
        """The carriers whose formats the number fits, most plausible first."""


class NotFound(TrackingError):
    """The carrier knows nothing about this number (or not yet)."""

    default_hint = (
        "check the number; a label created in the last hours may not be visible yet, "
        "so try again later"
    )


class AuthenticationError(TrackingError):
    """The carrier rejected the credentials or the token."""

    default_hint = (
        "check the client id and secret (or DHL API key) and that the app has the "
        "tracking API enabled"
    )


class ConfigurationError(TrackingError):
    """The client is not set up to call this carrier (credentials or base URL missing)."""

    default_hint = "pass the setting to the client or set its environment variable"


class RequestRejected(TrackingError):
    """The carrier refused the request for a reason not covered by the other errors."""

    default_hint = "the request was not accepted as sent; check the number and the base URL"


class MalformedResponse(TrackingError):
    """The carrier's answer could not be understood."""

    default_hint = (
        "the carrier sent something unexpected (a gateway page, truncated JSON, a new "
        "shape); try again, and report it if it persists"
    )


class RateLimited(TrackingError):
    """The carrier throttled us (HTTP 429) and retries within the deadline did not help."""

    transient = True
    default_hint = "slow down: wait before retrying, or ask the carrier for a higher quota"

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        carrier: Carrier | None = None,
        number: str | None = None,
        hint: str | None = None,
        status_code: int | None = None,
        code: str | None = None,
    ) -> None:
        super().__init__(
            message, carrier=carrier, number=number, hint=hint, status_code=status_code, code=code
        )
        self.retry_after = retry_after
        """Seconds the carrier asked us to wait (``Retry-After``), if it said."""


class CarrierUnavailable(TrackingError):
    """The carrier failed (5xx) or could not be reached."""

    transient = True
    default_hint = "the carrier is having trouble or unreachable; try again later"


class Timeout(TrackingError):
    """The carrier did not answer in time, or the call's deadline passed."""

    transient = True
    default_hint = "try again later, or raise the timeout / deadline if the carrier is slow"


class PushRejected(TrackingError):
    """A push delivery the receiver refused; ``answer_status`` is what to answer the carrier."""

    default_hint = "the delivery was not used; see the message for why"

    @property
    def answer_status(self) -> int:
        """The HTTP status a receiver answers the carrier with for this error."""
        return 400


class InvalidSignature(PushRejected):
    """The push's signature or credential is missing or does not match the shared secret."""

    default_hint = (
        "check that the receiver has the secret the subscription was made with (UPS "
        "credential or OAuth client, FedEx security token, USPS secret, DHL header and token)"
    )

    @property
    def answer_status(self) -> int:
        """401: the sender could not prove it is the carrier."""
        return 401


class ReplayedPush(PushRejected):
    """The push was accepted before (``duplicate``), or was signed outside the time window."""

    default_hint = "the carrier or someone else sent this delivery again; it was not used twice"

    def __init__(
        self,
        message: str,
        *,
        duplicate: bool,
        carrier: Carrier | None = None,
        number: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, carrier=carrier, number=number, hint=hint)
        self.duplicate = duplicate
        """True for a delivery already accepted; False for one signed too long ago."""

    @property
    def answer_status(self) -> int:
        """200 for a duplicate (the carrier must stop resending it), 401 for a stale one."""
        return 200 if self.duplicate else 401


class MalformedPush(PushRejected):
    """The push body is not the carrier's push shape: not JSON, or no shipment in it."""

    default_hint = (
        "the carrier sent a body the receiver cannot read; it was not used (report it if a "
        "real carrier sends it)"
    )
