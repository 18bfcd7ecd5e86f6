"""Notifications end to end through real servers: SMTP (aiosmtpd), a webhook receiver and
an SMS API (Starlette under uvicorn), with failed sends retried from the outbox."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from client.model import Carrier, Event, Status, TrackingResult
from client.retry import RetryPolicy
from client.watch import (
    HttpSmsSender,
    Notifier,
    Order,
    Outbox,
    Rule,
    SmsSenderChannel,
    SmtpSender,
    Store,
    Templates,
    Watcher,
    WebhookSender,
    sign,
)
from client.watch.changes import ChangeKind
from simulator.server import ServerThread
from tests.watch.smtp import SmtpServer

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
NUMBER = "1Z1442YY7229014688"


class FixedClock:
    def __init__(self) -> None:
        self.at = T0 + timedelta(days=2)

    def now(self) -> datetime:
        return self.at

    async def sleep(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


def delivered_answer() -> TrackingResult:
    events = (
        Event(T0, Status.in_transit, "Picked up"),
        Event(T0 + timedelta(hours=30), Status.out_for_delivery, "Out for delivery"),
        Event(T0 + timedelta(hours=34), Status.delivered, "Delivered"),
    )
    return TrackingResult(Carrier.ups, NUMBER, Status.delivered, events)


def receiver() -> tuple[Starlette, list[tuple[dict[str, str], bytes]], list[int]]:
    """A webhook / SMS endpoint: records requests, answers from a list of statuses."""
    seen: list[tuple[dict[str, str], bytes]] = []
    answers: list[int] = []

    async def hook(request: Request) -> Response:
        seen.append((dict(request.headers), await request.body()))
        status = answers.pop(0) if answers else 200
        headers = {"retry-after": "7"} if status == 429 else {}
        return JSONResponse({"ok": status < 300}, status_code=status, headers=headers)

    app = Starlette(routes=[Route("/hook", hook, methods=["POST"]),
                            Route("/messages", hook, methods=["POST"])])  # fmt: skip
    return app, seen, answers


def test_emails_go_out_once_each_with_the_templates_and_a_stable_message_id() -> None:
    clock = FixedClock()
    with SmtpServer() as smtp:
        store = Store()
        sender = SmtpSender(port=smtp.port, sender="shop@example.com")
        rules = [Rule("email", frozenset({ChangeKind.shipped, ChangeKind.delivered}))]
        templates = Templates(
            overrides={"email/delivered.subject": "Delivered: order {{ order.reference }}"}
        )
        w = Watcher(store, notifier=Notifier(rules, templates), clock=clock,
                    outbox=Outbox(store, {"email": sender}))  # fmt: skip
        w.watch(NUMBER, Order("#1001", email="ada@example.com", name="Ada"), "ups")
        w.feed(NUMBER, delivered_answer())
        w.feed(NUMBER, delivered_answer(), source="push")  # the same news again
        asyncio.run(w.deliver())
        asyncio.run(w.deliver())
        got = smtp.wait_for(2)
    assert [m["Subject"] for m in got] == [
        "Order #1001: your parcel is on its way",
        "Delivered: order #1001",
    ]
    assert all(m["To"] == "ada@example.com" for m in got)
    assert "Hello Ada," in got[0].get_content()
    assert "wwwapps.ups.com" in got[0].get_content()  # WooCommerce's UPS URL template
    assert got[1]["Message-ID"] == f"<ups.{NUMBER}.3@carriersim.invalid>"
    assert [i.status for i in store.outbox()] == ["sent", "sent"]


def test_a_refused_email_is_retried_from_the_outbox_until_it_goes_through() -> None:
    clock = FixedClock()
    with SmtpServer() as smtp:
        smtp.refuse = 2
        store = Store()
        retry = RetryPolicy.for_testing(max_attempts=5, initial_backoff=10.0)
        outbox = Outbox(store, {"email": SmtpSender(port=smtp.port)}, retry=retry)
        rules = [Rule("email", frozenset({ChangeKind.delivered}))]
        w = Watcher(store, notifier=Notifier(rules), clock=clock, outbox=outbox)
        w.watch(NUMBER, Order("#1", email="bob@example.com"), "ups")
        w.feed(NUMBER, delivered_answer())
        for _ in range(4):
            asyncio.run(w.deliver())
            wake = w.next_wake()
            if wake is None:
                break
            asyncio.run(clock.sleep(wake + 0.001))
        got = smtp.wait_for(1)
    assert len(got) == 1
    (item,) = store.outbox()
    assert (item.status, item.attempts) == ("sent", 3)


def test_a_dead_smtp_server_is_transient_and_a_refused_recipient_is_not() -> None:
    clock = FixedClock()
    store = Store()
    retry = RetryPolicy.for_testing(max_attempts=2)
    dead = SmtpSender(port=1, timeout=2.0)  # nothing listens on port 1
    outbox = Outbox(store, {"email": dead}, retry=retry)
    rules = [Rule("email", frozenset({ChangeKind.delivered}))]
    w = Watcher(store, notifier=Notifier(rules), clock=clock, outbox=outbox)
    w.watch(NUMBER, Order("#1", email="bob@example.com"), "ups")
    w.feed(NUMBER, delivered_answer())
    asyncio.run(w.deliver())
    (item,) = store.outbox()
    assert item.status == "pending" and "cannot reach SMTP server" in (item.last_error or "")
    asyncio.run(clock.sleep(60))
    asyncio.run(w.deliver())
    (item,) = store.outbox()
    assert item.status == "failed" and item.attempts == 2


def test_webhooks_are_signed_like_aftership_and_retried_after_retry_after() -> None:
    app, seen, answers = receiver()
    answers.append(429)
    clock = FixedClock()
    with ServerThread(app) as server:
        store = Store()
        url = f"{server.url}/hook"
        rules = [Rule("webhook", frozenset(ChangeKind), to=url)]

        async def main() -> None:
            async with httpx.AsyncClient() as http:
                hooks = WebhookSender(secret="s3cret", http=http)
                w = Watcher(store, notifier=Notifier(rules), clock=clock,
                            outbox=Outbox(store, {"webhook": hooks}))  # fmt: skip
                w.watch(NUMBER, Order("#1001"), "ups")
                w.feed(NUMBER, delivered_answer())
                await w.deliver()
                first = store.outbox()[0]
                assert first.status == "pending"
                assert first.next_attempt == pytest.approx(clock.now().timestamp() + 7)
                await clock.sleep(7)
                await w.deliver()

        asyncio.run(main())
    assert [i.status for i in store.outbox()] == ["sent"] * 3
    bodies: list[dict[str, Any]] = []
    for headers, raw in seen:
        assert headers["aftership-hmac-sha256"] == sign(raw, "s3cret")
        bodies.append(json.loads(raw))
    assert [b["msg"]["tag"] for b in bodies[1:]] == ["InTransit", "OutForDelivery", "Delivered"]
    assert bodies[-1]["event"] == "tracking_update"
    assert bodies[-1]["msg"]["order_id"] == "#1001"
    assert [b["is_tracking_first_tag"] for b in bodies[1:]] == [True, True, True]


def test_sms_through_the_http_sender_at_a_configurable_base_url() -> None:
    app, seen, _ = receiver()
    clock = FixedClock()
    with ServerThread(app) as server:
        store = Store()

        async def main() -> None:
            async with httpx.AsyncClient() as http:
                sms = HttpSmsSender(base_url=server.url, token="tok", http=http)
                rules = [Rule("sms", frozenset({ChangeKind.out_for_delivery}))]
                w = Watcher(store, notifier=Notifier(rules), clock=clock,
                            outbox=Outbox(store, {"sms": SmsSenderChannel(sms)}))  # fmt: skip
                w.watch(NUMBER, Order("#7", phone="+15550100"), "ups")
                w.feed(NUMBER, delivered_answer())
                await w.deliver()

        asyncio.run(main())
    (request,) = seen
    headers, raw = request
    body = json.loads(raw)
    assert headers["authorization"] == "Bearer tok"
    assert body["to"] == "+15550100"
    assert body["text"].startswith("Order #7: your parcel is out for delivery today.")
    assert headers["idempotency-key"] == body["reference"] == f"ups:{NUMBER}:2"


def test_a_template_with_a_misspelt_variable_fails_loudly() -> None:
    import jinja2

    templates = Templates(overrides={"email/default.subject": "{{ oder.reference }}"})
    notifier = Notifier([Rule("email", frozenset(ChangeKind))], templates)
    store = Store()
    w = Watcher(store, notifier=notifier, clock=FixedClock())
    w.watch(NUMBER, Order("#1", email="a@example.com"), "ups")
    with pytest.raises(jinja2.UndefinedError, match="oder"):
        w.feed(NUMBER, delivered_answer())
    assert store.changes() == []  # nothing half-recorded
