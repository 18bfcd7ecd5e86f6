"""``serve --smtp``: the carriers' notification emails reach a real SMTP server.

The test starts an ``aiosmtpd`` server on a free loopback port and the simulator on a real
socket, signs up for FedEx and USPS notifications, moves the tenant's clock past the
delivery and waits (bounded) for the emails.
"""

from __future__ import annotations

import socket
import time
from datetime import timedelta
from email import message_from_bytes
from email.message import Message
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller

from simulator.app import create_app
from simulator.engine import Simulation
from simulator.mailer import parse_address
from simulator.scenario import Scenario
from simulator.server import ServerThread
from simulator.settings import Settings
from tests.conftest import EPOCH

FEDEX = "123456789012"
USPS = "9400100000000000000006"


class Inbox:
    """An aiosmtpd handler keeping every message it receives."""

    def __init__(self) -> None:
        self.mails: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mails.append(message_from_bytes(envelope.content))
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_notifications_are_sent_as_email_when_due() -> None:
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    smtp.start()
    try:
        scenario = Scenario.model_validate(
            {
                "name": "mailed",
                "numbers": {"fedex": [FEDEX], "usps": [USPS]},
                "carriers": ["fedex", "usps"],
                "events": [
                    {"at": "0h", "kind": "label_created"},
                    {"at": "3h", "kind": "picked_up"},
                    {"at": "1d", "kind": "delivered"},
                ],
            }
        )
        sim = Simulation(Settings(clock_start=EPOCH, smtp=f"127.0.0.1:{smtp.port}"), [scenario])
        sim.clock.freeze("mail", EPOCH + timedelta(hours=1))
        with ServerThread(create_app(sim)) as server, httpx.Client(base_url=server.url) as http:
            fedex_token = http.post(
                "/oauth/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": "mail",
                    "client_secret": "s",
                },
            ).json()["access_token"]
            r = http.post(
                "/track/v1/notifications",
                headers={"Authorization": f"Bearer {fedex_token}"},
                json={
                    "senderContactName": "Shop",
                    "senderEMailAddress": "shop@example.com",
                    "trackingNumberInfo": {"trackingNumber": FEDEX},
                    "trackingEventNotificationDetail": {
                        "trackingNotifications": [
                            {
                                "notificationDetail": {
                                    "localization": {"languageCode": "en"},
                                    "emailDetail": {"emailAddress": "buyer@example.com"},
                                    "notificationType": "HTML",
                                },
                                "notificationEventTypes": ["ON_DELIVERY"],
                            }
                        ]
                    },
                },
            )
            assert r.status_code == 200, r.text
            usps_token = http.post(
                "/oauth2/v3/token",
                json={
                    "grant_type": "client_credentials",
                    "client_id": "mail",
                    "client_secret": "s",
                },
            ).json()["access_token"]
            r = http.post(
                f"/tracking/v3r2/tracking/{USPS}/proof-of-delivery",
                headers={"Authorization": f"Bearer {usps_token}"},
                json={
                    "uniqueTrackingID": "1",
                    "recipients": [{"email": "pod@example.com", "firstName": "P", "lastName": "D"}],
                },
            )
            assert r.status_code == 202, r.text
            time.sleep(1.5)  # a pass of the mailer: nothing is due before the delivery
            assert inbox.mails == []
            http.post("/__admin/clock/advance", params={"tenant": "mail"}, json={"by": "2d"})
            deadline = time.monotonic() + 10
            while len(inbox.mails) < 2 and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(1.5)  # and a further pass sends nothing twice
    finally:
        smtp.stop()
    by_to = {m["To"]: m for m in inbox.mails}
    assert sorted(by_to) == ["buyer@example.com", "pod@example.com"]
    assert len(inbox.mails) == 2
    assert FEDEX in by_to["buyer@example.com"]["Subject"]
    assert "delivered" in by_to["buyer@example.com"]["Subject"]
    assert "proof of delivery" in by_to["pod@example.com"]["Subject"]
    assert by_to["pod@example.com"]["X-Carriersim-Number"] == USPS


def test_smtp_address_is_checked() -> None:
    assert parse_address("127.0.0.1:1025") == ("127.0.0.1", 1025)
    for bad in ("127.0.0.1", ":25", "host:port", "host:70000"):
        with pytest.raises(ValueError, match="HOST:PORT"):
            parse_address(bad)
