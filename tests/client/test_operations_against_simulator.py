"""The client's other operations against the in-process simulator: track by reference,
a multi-piece shipment's pieces, and the proof of delivery (bytes and media type)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import anyio
import httpx
import pytest

from client import (
    AsyncTrackingClient,
    Carrier,
    CarrierSettings,
    ConfigurationError,
    MultiPieceShipment,
    NotFound,
    ProofOfDelivery,
    RetryPolicy,
    Status,
    TrackingClient,
)
from simulator.app import create_app
from simulator.engine import Simulation
from simulator.scenario import Scenario
from simulator.server import ServerThread
from simulator.settings import Settings

TENANT = "client-ops"
START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
MASTERS = {Carrier.ups: "1Z12345E0305271640", Carrier.fedex: "123456789012"}
REFERENCE = "ORDER-77"


def _sim(signed: bool = True) -> Simulation:
    scenario = Scenario.model_validate(
        {
            "name": "client-three-pieces",
            "reference": REFERENCE,
            "pieces": 3,
            "signature": {"signed": signed, "signer": "PAT DOE"},
            "numbers": {c.value: [n] for c, n in MASTERS.items()},
            "carriers": ["ups", "fedex"],
            "events": [
                {"at": "0h", "kind": "label_created"},
                {"at": "5h", "kind": "picked_up"},
                {"at": "1d", "kind": "delivered"},
            ],
        }
    )
    sim = Simulation(Settings(clock_start=START), [scenario])
    sim.clock.freeze(TENANT, START + timedelta(hours=6))
    return sim


def _client(sim: Simulation) -> AsyncTrackingClient:
    creds = CarrierSettings(client_id=TENANT, client_secret="secret")
    return AsyncTrackingClient(
        base_url="http://carriersim.test",
        ups=creds,
        fedex=creds,
        env={},
        retry=RetryPolicy.for_testing(),
        transport=httpx.ASGITransport(app=create_app(sim)),
    )


@pytest.mark.parametrize("carrier", list(MASTERS))
def test_reference_pieces_and_pod(carrier: Carrier) -> None:
    sim = _sim()
    master = MASTERS[carrier]

    async def main() -> None:
        async with _client(sim) as tracker:
            (by_reference,) = await tracker.track_reference(REFERENCE, carrier)
            assert by_reference.number == master
            assert by_reference.status is Status.in_transit
            with pytest.raises(NotFound):
                await tracker.track_reference("NO-SUCH-ORDER", carrier)

            shipment = await tracker.track_shipment(master, carrier)
            assert isinstance(shipment, MultiPieceShipment)
            assert shipment.master.number == master and len(shipment.pieces) == 2
            assert len(set(shipment.numbers)) == 3
            assert {p.status for p in shipment.pieces} == {Status.in_transit}

            with pytest.raises(NotFound):
                await tracker.proof_of_delivery(master, carrier)
            sim.clock.advance(TENANT, timedelta(days=1))
            pod = await tracker.proof_of_delivery(master, carrier)
            assert isinstance(pod, ProofOfDelivery)
            if carrier is Carrier.fedex:
                assert pod.media_type == "application/pdf" and pod.content.startswith(b"%PDF")
            else:
                assert pod.media_type == "text/html" and b"PAT DOE" in pod.content
            delivered = await tracker.track_shipment(master, carrier)
            assert {p.status for p in delivered.pieces} == {Status.delivered}

    anyio.run(main)


def test_no_pod_without_a_signature() -> None:
    sim = _sim(signed=False)
    sim.clock.advance(TENANT, timedelta(days=2))

    async def main() -> None:
        async with _client(sim) as tracker:
            for carrier, master in MASTERS.items():
                with pytest.raises(NotFound):
                    await tracker.proof_of_delivery(master, carrier)

    anyio.run(main)


def test_sync_client_and_unsupported_carriers() -> None:
    sim = _sim()

    creds = CarrierSettings(client_id=TENANT, client_secret="secret")
    # The blocking client over a real socket, as users run it.
    with (
        ServerThread(create_app(sim)) as server,
        TrackingClient(
            base_url=server.url,
            fedex=creds,
            usps=creds,
            env={},
            retry=RetryPolicy.for_testing(),
        ) as tracker,
    ):
        (found,) = tracker.track_reference(REFERENCE, "fedex")
        assert found.number == MASTERS[Carrier.fedex]
        # A scenario that names its reference is not found by the default one.
        with pytest.raises(NotFound):
            tracker.track_reference(f"PO-{MASTERS[Carrier.fedex]}", "fedex")
        with pytest.raises(ConfigurationError, match="USPS offers no"):
            tracker.proof_of_delivery("9400100000000000000006", "usps")
        with pytest.raises(ConfigurationError, match="names no carrier"):
            tracker.track_reference(REFERENCE, None)  # type: ignore[arg-type]
