"""Send the carriers' notification emails to a real SMTP server (``serve --smtp HOST:PORT``).

Every second of real time the mailer asks each tenant's sign-ups what the carrier would
have sent by the tenant's clock (:func:`simulator.notifications.messages`) and sends, once,
each message it has not sent yet. A moved clock therefore sends what became due at once,
and a clock moved back sends nothing twice. SMS sign-ups (USPS cell numbers) are shown
under ``/__admin/notifications`` only: there is no SMS gateway to hand them to.
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
from collections.abc import AsyncIterator
from email.message import EmailMessage

import anyio

from simulator.engine import Simulation
from simulator.notifications import Message, Subscription, messages

log = logging.getLogger("carriersim.mailer")

SENDERS = {"fedex": "TrackingUpdates@fedex.com", "usps": "USPSInformeddelivery@usps.gov"}
"""The From addresses [inferred: the carriers' tracking-update senders as seen by users]."""

INTERVAL = 1.0
"""Seconds of real time between two passes."""


def parse_address(value: str) -> tuple[str, int]:
    """``HOST:PORT`` as given to ``--smtp``; ValueError naming the fix otherwise."""
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"--smtp {value!r}: write HOST:PORT, e.g. 127.0.0.1:1025")
    return host, int(port)


def _email(sub: Subscription, message: Message) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = SENDERS.get(sub.carrier, f"tracking@{sub.carrier}.example")
    mail["To"] = message.to
    mail["Subject"] = message.subject
    mail["X-Carriersim-Carrier"] = sub.carrier
    mail["X-Carriersim-Number"] = sub.number
    mail.set_content(message.text)
    return mail


class Mailer:
    """Sends each due notification email of every tenant once."""

    def __init__(self, sim: Simulation, address: str) -> None:
        self.sim = sim
        self.host, self.port = parse_address(address)
        self._sent: set[tuple[str, int, str, float]] = set()

    def due(self) -> list[tuple[Subscription, Message]]:
        """Messages due by each tenant's clock and not sent yet (marked as sent)."""
        out: list[tuple[Subscription, Message]] = []
        for tenant in self.sim.store.tenants():
            now = self.sim.clock.now(tenant)
            for index, sub in enumerate(self.sim.store.subscriptions(tenant)):
                shipment = self.sim.lookup(sub.carrier, sub.number, tenant)
                if shipment is None:
                    continue
                for message in messages(sub, shipment, now):
                    key = (tenant, index, message.to, message.at)
                    if "@" in message.to and key not in self._sent:
                        self._sent.add(key)
                        out.append((sub, message))
        return out

    def send(self, batch: list[tuple[Subscription, Message]]) -> None:
        """Hand a batch to the SMTP server over one connection (blocking)."""
        with smtplib.SMTP(self.host, self.port, timeout=10) as smtp:
            for sub, message in batch:
                smtp.send_message(_email(sub, message))

    async def run(self) -> None:
        """Pass after pass until cancelled; a failing server is logged and tried again."""
        pending: list[tuple[Subscription, Message]] = []
        while True:
            pending.extend(self.due())
            if pending:
                try:
                    await anyio.to_thread.run_sync(self.send, pending)
                    pending = []
                except (OSError, smtplib.SMTPException) as exc:
                    log.warning(
                        "SMTP %s:%s refused the notifications: %s", self.host, self.port, exc
                    )
            await anyio.sleep(INTERVAL)


@contextlib.asynccontextmanager
async def mailing(sim: Simulation, address: str | None) -> AsyncIterator[None]:
    """Run a :class:`Mailer` for the app's lifetime when an SMTP address is set."""
    if address is None:
        yield
        return
    mailer = Mailer(sim, address)
    async with anyio.create_task_group() as group:
        group.start_soon(mailer.run)
        yield
        group.cancel_scope.cancel()
