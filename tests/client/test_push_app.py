"""client.push.PushApp: what the ASGI receiver answers each carrier, and what it passes on."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import httpx
import pytest

from client import Status
from client.push import (
    DhlPushAuth,
    FedexPushAuth,
    PushApp,
    PushDelivery,
    PushReceiver,
    PushSecrets,
    PushUpdate,
    TokenIssuer,
    UpsPushAuth,
    UspsPushAuth,
)
from simulator.server import ServerThread
from tests import push_bodies as pb

CREDENTIAL = pb.UPS_CREDENTIAL
FEDEX_TOKEN = pb.FEDEX_SECURITY_TOKEN
DHL = DhlPushAuth(pb.DHL_HEADER, pb.DHL_TOKEN)


class Inbox:
    """Records what the app passes on; can be told to fail."""

    def __init__(self) -> None:
        self.updates: list[PushUpdate] = []
        self.deliveries: list[PushDelivery] = []
        self.fail = False
        self.threads: set[str] = set()

    def on_update(self, update: PushUpdate) -> None:
        self.threads.add(threading.current_thread().name)
        if self.fail:
            raise RuntimeError("database down")
        self.updates.append(update)

    async def on_delivery(self, delivery: PushDelivery) -> None:
        self.deliveries.append(delivery)


def make_app(inbox: Inbox, max_body: int = 10 * 1024 * 1024) -> PushApp:
    secrets = PushSecrets(
        ups=UpsPushAuth(credential=CREDENTIAL, tokens=TokenIssuer({"ups-client": "s3cret"})),
        fedex=FedexPushAuth(FEDEX_TOKEN),
        usps=UspsPushAuth(pb.USPS_SECRET),
        dhl=DHL,
    )
    return PushApp(
        PushReceiver(secrets), inbox.on_update, on_delivery=inbox.on_delivery, max_body=max_body
    )


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


def post(app: PushApp, path: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://push.test") as http:
            return await http.post(path, content=body, headers=headers)

    return asyncio.run(go())


def test_each_carrier_is_accepted_on_its_path(inbox: Inbox) -> None:
    app = make_app(inbox)
    fedex = pb.encode(pb.fedex_push())
    usps = pb.usps_notification(pb.usps_record(), timestamp="2099-01-01T00:00:00.000Z")
    cases = [
        ("/ups", pb.encode(pb.ups_pushes()["7"]), pb.ups_v1_headers(CREDENTIAL)),
        ("/fedex", fedex, pb.fedex_headers(fedex, FEDEX_TOKEN)),
        ("/dhl", pb.encode(pb.dhl_push()), pb.dhl_headers(DHL.header, DHL.token)),
    ]
    for path, body, headers in cases:
        r = post(app, path, body, headers)
        assert (r.status_code, r.json()) == (200, {"status": "accepted", "updates": 1}), path
    # USPS signs a send time: one far from now is refused as a replay.
    r = post(app, "/usps", pb.encode(usps), pb.usps_headers(usps))
    assert r.status_code == 401 and "window" in r.json()["error"]
    assert [u.status for u in inbox.updates] == [Status.delivered] * 3
    assert [d.carrier.value for d in inbox.deliveries] == ["ups", "fedex", "dhl"]
    assert "MainThread" not in inbox.threads  # a plain callback runs off the event loop


def test_answers_for_refusals(inbox: Inbox) -> None:
    app = make_app(inbox)
    body = pb.encode(pb.ups_pushes()["2"])
    good = pb.ups_v1_headers(CREDENTIAL)
    assert post(app, "/ups", body, good).status_code == 200
    duplicate = post(app, "/ups", body, good)
    assert (duplicate.status_code, duplicate.json()) == (200, {"status": "duplicate"})
    bad = post(app, "/ups", body, pb.ups_v1_headers("wrong"))
    assert bad.status_code == 401 and bad.json()["hint"]
    assert post(app, "/ups", b"{oops", good).status_code == 400
    assert post(app, "/ontrac", body, good).status_code == 404
    big = make_app(inbox, max_body=100)
    assert post(big, "/ups", body, good).status_code == 413
    assert len(inbox.updates) == 1


def test_wrong_method_and_unconfigured_carrier() -> None:
    app = PushApp(PushReceiver(PushSecrets(fedex=FedexPushAuth(FEDEX_TOKEN))), print)

    async def go() -> tuple[httpx.Response, httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://push.test") as http:
            return await http.get("/fedex"), await http.post("/ups", content=b"{}")

    wrong_method, unconfigured = asyncio.run(go())
    assert wrong_method.status_code == 405 and wrong_method.headers["allow"] == "POST"
    assert unconfigured.status_code == 404


def test_a_failing_callback_answers_500_and_lets_the_resend_in(inbox: Inbox) -> None:
    app = make_app(inbox)
    body = pb.encode(pb.ups_pushes()["5"])
    inbox.fail = True
    assert post(app, "/ups", body, pb.ups_v1_headers(CREDENTIAL)).status_code == 500
    inbox.fail = False
    again = post(app, "/ups", body, pb.ups_v1_headers(CREDENTIAL))
    assert again.json() == {"status": "accepted", "updates": 1}
    assert len(inbox.updates) == 1


def test_dhl_activation_reaches_on_delivery(inbox: Inbox) -> None:
    app = make_app(inbox)
    body = pb.encode(pb.dhl_activation("sub-9", "hook-secret"))
    r = post(app, "/dhl", body, pb.dhl_headers(DHL.header, DHL.token))
    assert r.json() == {"status": "accepted", "updates": 0}
    assert inbox.deliveries[0].is_activation and inbox.deliveries[0].secret == "hook-secret"


@pytest.fixture
def served(inbox: Inbox) -> Iterator[str]:
    with ServerThread(make_app(inbox)) as server:
        yield server.url


def test_ups_v2_flow_over_a_real_socket(served: str, inbox: Inbox) -> None:
    # What UPS does: log in to the customer's token URL, then push with the token.
    with httpx.Client(base_url=served, trust_env=False, timeout=10) as http:
        refused = http.post(
            "/oauth/token", auth=("ups-client", "nope"), data={"grant_type": "client_credentials"}
        )
        assert refused.status_code == 401 and refused.json() == {"error": "invalid_client"}
        wrong_grant = http.post("/oauth/token", auth=("ups-client", "s3cret"), data={})
        assert wrong_grant.json() == {"error": "unsupported_grant_type"}
        token = http.post(
            "/oauth/token", auth=("ups-client", "s3cret"), data={"grant_type": "client_credentials"}
        )
        assert token.status_code == 200 and token.json()["token_type"] == "Bearer"
        body = pb.encode(pb.ups_pushes(pb.UPS_V2)["1"])
        headers = pb.ups_v2_headers(token.json()["access_token"], "ups-client")
        assert http.post("/ups", content=body, headers=headers).status_code == 200
    assert [u.status for u in inbox.updates] == [Status.out_for_delivery]
