"""Notifications: rules, Jinja2 templates, senders (SMTP email, signed webhook, SMS), outbox.

A :class:`Rule` says which change events notify whom on which channel. When the watcher
records a change event, :class:`Notifier` renders one message per matching rule and puts it
in the outbox in the same transaction, so a message is rendered once and survives a
restart as rendered. :class:`Outbox` sends what is due, and retries a failed send with the
client's :class:`~client.retry.RetryPolicy` (its backoff, Retry-After, ``max_attempts``)
before marking it ``failed``; the policy's ``deadline`` does not apply to sends spread over
hours, so a policy without ``max_attempts`` retries a transient failure until it succeeds.

Templates (Jinja2, ``StrictUndefined``, so a misspelt variable fails loudly): per channel
and kind, ``email/<kind>.subject``, ``email/<kind>.txt``, ``sms/<kind>.txt``, falling back
to ``email/default.*`` and ``sms/default.txt``. A template directory given to
:class:`Templates` overrides any of the built-in ones. Variables: ``change`` (kind, status,
reason, location, at, estimated_delivery…), ``order`` (reference, name, email, phone,
data), ``number``, ``carrier``, ``tracking_url``.

Webhooks follow AfterShip's convention: header ``aftership-hmac-sha256`` is the base64
HMAC-SHA256 of the raw body with the shared secret, and the body is
``{"event": "tracking_update", "event_id", "is_tracking_first_tag", "msg": {…}, "ts"}``.
"""

from __future__ import annotations

import base64
import email.message
import email.utils
import hashlib
import hmac
import json
import smtplib
import ssl
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

import anyio.to_thread
import httpx
import jinja2

from client.retry import RetryPolicy, parse_retry_after
from client.watch.changes import Change, ChangeKind
from client.watch.platforms import (
    AFTERSHIP_SIGNATURE_HEADER,
    WOOCOMMERCE_PROVIDERS,
    aftership_tag,
    woocommerce_tracking_url,
)
from client.watch.store import Order, OutboxItem, Store

__all__ = [
    "DEFAULT_RULES",
    "HttpSmsSender",
    "Notifier",
    "Outbox",
    "Rule",
    "SendError",
    "Sender",
    "SmsSender",
    "SmsSenderChannel",
    "SmtpSender",
    "Templates",
    "WebhookSender",
    "sign",
]


class SendError(Exception):
    """A notification could not be sent; ``transient`` says whether to try again."""

    def __init__(self, message: str, *, transient: bool, retry_after: float | None = None):
        super().__init__(message)
        self.transient = transient
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Rule:
    """Which change events go to whom: ``to`` is ``"customer"`` (the order's email or phone)
    or a fixed address, phone number or webhook URL."""

    channel: str
    """"email", "sms" or "webhook" (or the name of a sender you registered)."""
    on: frozenset[ChangeKind]
    to: str = "customer"

    def recipient(self, order: Order) -> str | None:
        """Whom this rule notifies for an order (None: the order has no such contact)."""
        if self.to != "customer":
            return self.to
        if self.channel == "email":
            return order.email
        if self.channel == "sms":
            return order.phone
        return None


CUSTOMER_MOMENTS = frozenset(
    {
        ChangeKind.shipped,
        ChangeKind.out_for_delivery,
        ChangeKind.failed_attempt,
        ChangeKind.available_for_pickup,
        ChangeKind.delivered,
        ChangeKind.exception,
        ChangeKind.returned,
        ChangeKind.delayed,
    }
)
"""The change events customers are usually told about."""

DEFAULT_RULES = (
    Rule("email", CUSTOMER_MOMENTS),
    Rule("sms", frozenset({ChangeKind.out_for_delivery})),
)
"""Email the customer at the usual moments; text them when the parcel is out for delivery."""

_BUILTIN = {
    "email/default.subject": "Order {{ order.reference }}: {{ headline }}",
    "email/default.txt": (
        "Hello{% if order.name %} {{ order.name }}{% endif %},\n\n"
        "{{ headline }}.\n"
        "{% if change.location %}Last seen: {{ change.location }}"
        "{% if change.at %}, {{ change.at.strftime('%Y-%m-%d %H:%M') }}{% endif %}.\n"
        "{% endif %}"
        "{% if change.kind == 'delayed' and change.estimated_delivery %}"
        "New expected delivery: {{ change.estimated_delivery.strftime('%Y-%m-%d') }}.\n"
        "{% endif %}\n"
        "{{ carrier | upper }} tracking number: {{ number }}\n"
        "{% if tracking_url %}Track it: {{ tracking_url }}\n{% endif %}"
    ),
    "sms/default.txt": "Order {{ order.reference }}: {{ headline }}."
    "{% if tracking_url %} {{ tracking_url }}{% endif %}",
}

_HEADLINES: Mapping[ChangeKind, str] = {
    ChangeKind.shipped: "your parcel is on its way",
    ChangeKind.in_transit: "your parcel is moving again",
    ChangeKind.out_for_delivery: "your parcel is out for delivery today",
    ChangeKind.failed_attempt: "the carrier tried to deliver your parcel but could not",
    ChangeKind.available_for_pickup: "your parcel is ready for pickup",
    ChangeKind.delivered: "your parcel was delivered",
    ChangeKind.exception: "there is a problem with your parcel",
    ChangeKind.returned: "your parcel is being returned to the sender",
    ChangeKind.cancelled: "the shipment was cancelled",
    ChangeKind.delayed: "your parcel is delayed",
    ChangeKind.stalled: "your parcel has had no update for a while; we are looking into it",
    ChangeKind.corrected: "the carrier corrected your parcel's status",
}


class Templates:
    """The message templates: built-in ones, overridden by files in ``directory``."""

    def __init__(
        self, directory: str | Path | None = None, overrides: Mapping[str, str] | None = None
    ) -> None:
        loaders: list[jinja2.BaseLoader] = []
        if overrides:
            loaders.append(jinja2.DictLoader(dict(overrides)))
        if directory is not None:
            if not Path(directory).is_dir():
                raise ValueError(f"{directory}: no such template directory")
            loaders.append(jinja2.FileSystemLoader(str(directory)))
        loaders.append(jinja2.DictLoader(_BUILTIN))
        self.env = jinja2.Environment(
            loader=jinja2.ChoiceLoader(loaders),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
            autoescape=False,  # plain-text mail and SMS: nothing is HTML here
        )

    def _template(self, channel: str, kind: ChangeKind, suffix: str) -> jinja2.Template:
        names = [f"{channel}/{kind.value}.{suffix}", f"{channel}/default.{suffix}"]
        return self.env.select_template(names)

    def render(self, channel: str, suffix: str, change: Change, order: Order) -> str:
        """Render one template for a change (TemplateError names the template on failure)."""
        template = self._template(channel, change.kind, suffix)
        provider = WOOCOMMERCE_PROVIDERS.get(change.carrier)
        url = (
            woocommerce_tracking_url(provider[1], change.number)
            if provider and provider[1]
            else None
        )
        reason = f" ({change.reason.value.replace('_', ' ')})" if change.reason else ""
        headline = _HEADLINES[change.kind]
        if change.kind is ChangeKind.exception:
            headline += reason
        return template.render(
            change=change,
            order=order,
            number=change.number,
            carrier=change.carrier.value,
            tracking_url=url,
            headline=headline,
        )


class Notifier:
    """Turns change events into outbox items, by the rules."""

    def __init__(
        self,
        rules: Sequence[Rule] = DEFAULT_RULES,
        templates: Templates | None = None,
        *,
        webhook_version: str = "2025-01",
    ) -> None:
        self.rules = tuple(rules)
        self.templates = templates or Templates()
        self.webhook_version = webhook_version

    def messages(self, change: Change, order: Order, first_of_kind: bool) -> list[OutboxItem]:
        """The notifications one change event calls for (rendered now)."""
        out: list[OutboxItem] = []
        for rule in self.rules:
            if change.kind not in rule.on:
                continue
            to = rule.recipient(order)
            if not to:
                continue
            out.append(
                OutboxItem(
                    change_id=change.id,
                    channel=rule.channel,
                    recipient=to,
                    content=self.content(rule.channel, change, order, first_of_kind),
                    next_attempt=change.observed_at.timestamp(),
                )
            )
        return out

    def content(
        self, channel: str, change: Change, order: Order, first_of_kind: bool
    ) -> dict[str, Any]:
        """What a channel's sender needs for one change."""
        if channel == "email":
            subject = self.templates.render("email", "subject", change, order)
            return {
                "subject": " ".join(subject.split()),
                "body": self.templates.render("email", "txt", change, order),
                "message_id": change.id,
            }
        if channel == "sms":
            text = self.templates.render("sms", "txt", change, order)
            return {"text": text.strip(), "reference": change.id}
        return {"body": webhook_body(change, order, first_of_kind)}


def webhook_body(change: Change, order: Order, first_of_kind: bool) -> dict[str, Any]:
    """An AfterShip-style ``tracking_update`` body for a change event."""
    return {
        "event": "tracking_update",
        "event_id": change.id,
        "is_tracking_first_tag": first_of_kind,
        "msg": {
            "id": f"{change.carrier.value}:{change.number}",
            "tracking_number": change.number,
            "slug": change.carrier.value,
            "tag": aftership_tag(change.status),
            "subtag": None,
            "subtag_message": change.description,
            "order_id": order.reference,
            "change": change.to_dict(),
        },
        "ts": int(change.observed_at.timestamp()),
    }


def sign(body: bytes, secret: str | bytes) -> str:
    """AfterShip's signature: base64(HMAC-SHA256(raw body, secret))."""
    key = secret.encode() if isinstance(secret, str) else secret
    return base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode()


class Sender(Protocol):
    """Sends one rendered notification; raises SendError on failure."""

    async def send(self, item: OutboxItem) -> None:
        """Deliver ``item`` to ``item.recipient``."""
        ...


@dataclass
class SmtpSender:
    """Email over SMTP (optionally STARTTLS and login); one connection per message."""

    host: str = "127.0.0.1"
    port: int = 25
    sender: str = "orders@example.com"
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    timeout: float = 30.0
    message_id_domain: str = "carriersim.invalid"

    def build(self, item: OutboxItem) -> email.message.EmailMessage:
        """The email for an outbox item; its Message-ID is derived from the change event, so
        a resent copy is recognisable as the same message."""
        msg = email.message.EmailMessage()
        msg["From"] = self.sender
        msg["To"] = item.recipient
        msg["Subject"] = item.content["subject"]
        msg["Message-ID"] = (
            f"<{item.content['message_id'].replace(':', '.')}@{self.message_id_domain}>"
        )
        msg["Date"] = email.utils.formatdate(usegmt=True)
        msg.set_content(item.content["body"])
        return msg

    def _send(self, msg: email.message.EmailMessage) -> None:
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.username:
                    smtp.login(self.username, self.password or "")
                smtp.send_message(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise SendError(
                f"SMTP server refused the recipient: {exc.recipients}",
                transient=all(400 <= c < 500 for c in codes),
            ) from None
        except smtplib.SMTPResponseException as exc:
            raise SendError(
                f"SMTP {exc.smtp_code}: {exc.smtp_error!r}", transient=exc.smtp_code < 500
            ) from None
        except (OSError, smtplib.SMTPException) as exc:
            raise SendError(
                f"cannot reach SMTP server {self.host}:{self.port}: {exc}", transient=True
            ) from None

    async def send(self, item: OutboxItem) -> None:
        """Send the email (smtplib in a worker thread, so the event loop keeps running)."""
        msg = self.build(item)
        await anyio.to_thread.run_sync(self._send, msg)


def _http_failure(what: str, exc_or_reply: httpx.Response | Exception) -> SendError:
    if isinstance(exc_or_reply, Exception):
        return SendError(f"{what}: {exc_or_reply!r}", transient=True)
    status = exc_or_reply.status_code
    retry_after = parse_retry_after(exc_or_reply.headers.get("retry-after"))
    transient = status in (408, 425, 429) or status >= 500
    return SendError(f"{what}: HTTP {status}", transient=transient, retry_after=retry_after)


@dataclass
class WebhookSender:
    """POSTs the AfterShip-style body to the rule's URL, signed with ``secret``."""

    secret: str
    http: httpx.AsyncClient = field(default_factory=lambda: httpx.AsyncClient(timeout=10.0))
    version: str = "2025-01"

    async def send(self, item: OutboxItem) -> None:
        """One signed POST; 2xx is success, 429/5xx/network errors are worth a retry."""
        raw = json.dumps(item.content["body"], separators=(",", ":")).encode()
        headers = {
            "content-type": "application/json",
            AFTERSHIP_SIGNATURE_HEADER: sign(raw, self.secret),
            "as-webhook-version": self.version,
            "idempotency-key": item.change_id,
        }
        try:
            reply = await self.http.post(item.recipient, content=raw, headers=headers)
        except httpx.HTTPError as exc:
            raise _http_failure(f"webhook {item.recipient}", exc) from None
        if not 200 <= reply.status_code < 300:
            raise _http_failure(f"webhook {item.recipient}", reply)


class SmsSender(Protocol):
    """Anything that can text a phone number."""

    async def send_sms(self, to: str, text: str, reference: str) -> None:
        """Send ``text`` to ``to``; ``reference`` is stable per message (for deduplication).
        Raises SendError."""
        ...


@dataclass
class HttpSmsSender:
    """SMS through an HTTP API: ``POST {base_url}/messages`` with JSON
    ``{"to", "text", "reference"}``, bearer token, ``Idempotency-Key: reference``."""

    base_url: str
    token: str | None = None
    http: httpx.AsyncClient = field(default_factory=lambda: httpx.AsyncClient(timeout=10.0))
    path: str = "/messages"

    async def send_sms(self, to: str, text: str, reference: str) -> None:
        """One POST; 2xx is success."""
        headers = {"idempotency-key": reference}
        if self.token:
            headers["authorization"] = f"Bearer {self.token}"
        url = self.base_url.rstrip("/") + self.path
        body = {"to": to, "text": text, "reference": reference}
        try:
            reply = await self.http.post(url, json=body, headers=headers)
        except httpx.HTTPError as exc:
            raise _http_failure(f"SMS API {url}", exc) from None
        if not 200 <= reply.status_code < 300:
            raise _http_failure(f"SMS API {url}", reply)


@dataclass
class SmsSenderChannel:
    """Adapts an :class:`SmsSender` to the outbox's :class:`Sender`."""

    sms: SmsSender

    async def send(self, item: OutboxItem) -> None:
        """Text the rendered message."""
        await self.sms.send_sms(item.recipient, item.content["text"], item.content["reference"])


OUTBOX_RETRY = RetryPolicy(max_attempts=8, initial_backoff=2.0, max_backoff=600.0, deadline=None)
"""Default retry policy for sends: 8 attempts, backoff from 2 s up to 10 min, no deadline."""


class Outbox:
    """Sends due notifications and records each outcome."""

    def __init__(
        self,
        store: Store,
        senders: Mapping[str, Sender],
        retry: RetryPolicy = OUTBOX_RETRY,
    ) -> None:
        self.store = store
        self.senders = dict(senders)
        self.retry = retry

    async def deliver(self, now: float, limit: int = 100) -> list[OutboxItem]:
        """Send what is due at ``now`` (seconds since the epoch); returns the settled items."""
        settled: list[OutboxItem] = []
        blocked: set[tuple[str, str, str]] = set()
        for item in self.store.pending(None, limit):
            # One parcel's messages to one recipient go out in order: a message waiting for
            # a retry holds back the ones after it.
            key = self._queue(item)
            if key in blocked:
                continue
            if item.next_attempt > now:
                blocked.add(key)
                continue
            done = await self.attempt(item, now)
            settled.append(done)
            if done.status != "sent":
                blocked.add(key)
        return settled

    @staticmethod
    def _queue(item: OutboxItem) -> tuple[str, str, str]:
        return (item.change_id.rpartition(":")[0], item.channel, item.recipient)

    def next_due(self) -> float | None:
        """When the next send can be made (the earliest head of a recipient's queue)."""
        heads: dict[tuple[str, str, str], float] = {}
        for item in self.store.pending(None, limit=10_000):
            heads.setdefault(self._queue(item), item.next_attempt)
        return min(heads.values(), default=None)

    async def attempt(self, item: OutboxItem, now: float) -> OutboxItem:
        """One send attempt of one item, recorded."""
        sender = self.senders.get(item.channel)
        attempts = item.attempts + 1
        if sender is None:
            # Kept pending: configuring the sender later (and restarting) sends it.
            done = replace(
                item,
                attempts=item.attempts,
                next_attempt=now + self.retry.max_backoff,
                last_error=f"no sender configured for channel {item.channel!r}",
            )
        else:
            try:
                await sender.send(item)
            except SendError as exc:
                if exc.transient and self.retry.attempts_left(attempts):
                    wait = (
                        exc.retry_after
                        if exc.retry_after is not None
                        else self.retry.backoff(attempts)
                    )
                    done = replace(
                        item, attempts=attempts, next_attempt=now + wait, last_error=str(exc)
                    )
                else:
                    done = replace(item, attempts=attempts, status="failed", last_error=str(exc))
            else:
                done = replace(item, attempts=attempts, status="sent", sent_at=now)
        self.store.settle(done)
        return done


def first_of_kind(previous: Iterable[Change], change: Change) -> bool:
    """Whether no earlier change of the parcel had the same AfterShip tag."""
    tag = aftership_tag(change.status)
    return all(aftership_tag(c.status) != tag for c in previous)
