"""Properties of the sibling operations, over generated multi-piece scenarios and instants.

* One story: at any instant, tracking the master number, each piece's number, the shipper's
  reference and the whole shipment (UPS ``shipment/details``, FedEx
  ``associatedshipments``) shows the same current status and the same scans.
* A proof of delivery exists exactly when the scenario has a signed delivery that the
  tenant's clock has passed: FedEx ``trackingdocuments`` answers 200 (else its 404), UPS
  ``returnPOD`` adds ``pod``, USPS says ``proofOfDeliveryEnabled``.
"""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from starlette.testclient import TestClient

from simulator.app import create_app
from simulator.engine import Simulation
from simulator.scenario import Scenario
from simulator.settings import Settings
from simulator.timeline import piece_numbers
from tests.conftest import EPOCH

UPS_MASTER = "1Z12345E0305271640"
FEDEX_MASTER = "123456789012"
USPS_NUMBER = "9400100000000000000006"
LIFE = ("label_created", "picked_up", "in_transit", "out_for_delivery", "delivered")


@st.composite
def multi_piece(draw: st.DrawFn) -> tuple[Scenario, timedelta]:
    """A scenario (pieces, reference or not, signed or not, some prefix of a parcel's
    life) and an instant to look at it."""
    # Whole lives (delivered) half the time: the delivery is what most of this is about.
    kinds = LIFE[: draw(st.just(len(LIFE)) | st.integers(1, len(LIFE)))]
    gaps = draw(st.lists(st.integers(1, 30), min_size=len(kinds), max_size=len(kinds)))
    hours = [sum(gaps[: i + 1]) for i in range(len(kinds))]
    reference = draw(st.none() | st.from_regex(r"[A-Z]{2}-[0-9]{3,6}", fullmatch=True))
    data: dict[str, Any] = {
        "name": "generated",
        "pieces": draw(st.integers(1, 4)),
        "signature": {"signed": draw(st.booleans())},
        "numbers": {"ups": [UPS_MASTER], "fedex": [FEDEX_MASTER], "usps": [USPS_NUMBER]},
        "carriers": ["ups", "fedex", "usps"],
        "events": [{"at": f"{h}h", "kind": k} for h, k in zip(hours, kinds, strict=True)],
    }
    if reference is not None:
        data["reference"] = reference
    # Any instant, an event's own instant (the edge of a change), or after the last event.
    at = draw(
        st.builds(
            lambda h, m: timedelta(hours=h, minutes=m),
            st.integers(0, hours[-1] + 5),
            st.integers(0, 59),
        )
        | st.sampled_from([timedelta(hours=h) for h in hours])
        | st.just(timedelta(hours=hours[-1] + 1))
    )
    return Scenario.model_validate(data), at


def _world(scenario: Scenario, at: timedelta) -> TestClient:
    sim = Simulation(Settings(clock_start=EPOCH), [scenario])
    for tenant in ("ups-p", "fedex-p", "usps-p"):
        sim.clock.freeze(tenant, EPOCH + at)
    return TestClient(create_app(sim), base_url="http://127.0.0.1")


def _ups(client: TestClient) -> dict[str, str]:
    auth = base64.b64encode(b"ups-p:s").decode()
    r = client.post(
        "/security/v1/oauth/token",
        headers={"Authorization": f"Basic {auth}"},
        data={"grant_type": "client_credentials"},
    )
    token = r.json()["access_token"]
    return {"Authorization": f"Bearer {token}", "transId": "1", "transactionSrc": "p"}


def _fedex(client: TestClient) -> dict[str, str]:
    r = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": "fedex-p", "client_secret": "s"},
    )
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _story_ups(package: dict[str, Any]) -> tuple[Any, ...]:
    return (
        package["currentStatus"],
        [(a["status"], a["date"], a["time"]) for a in package["activity"]],
        package["packageCount"],
        package["referenceNumber"],
    )


def _story_fedex(result: dict[str, Any]) -> tuple[Any, ...]:
    inner = result["trackResults"][0]
    return (
        inner["latestStatusDetail"],
        [(e["eventType"], e["date"]) for e in inner.get("scanEvents", [])],
        inner["packageDetails"]["count"],
        inner["additionalTrackingInfo"]["packageIdentifiers"],
    )


def _signed_delivery_passed(scenario: Scenario, at: timedelta) -> bool:
    return scenario.signature.signed and any(
        e.kind == "delivered" and e.at <= at for e in scenario.events
    )


def _started(scenario: Scenario, at: timedelta) -> bool:
    return scenario.events[0].at <= at


@given(multi_piece())
def test_ups_every_way_to_ask_tells_one_story(case: tuple[Scenario, timedelta]) -> None:
    scenario, at = case
    with _world(scenario, at) as client:
        headers = _ups(client)
        pieces = piece_numbers("ups", UPS_MASTER, scenario.pieces)
        reference = scenario.reference or f"PO-{UPS_MASTER}"
        by_number = [
            client.get(f"/api/track/v1/details/{n}", headers=headers).json() for n in pieces
        ]
        by_reference = client.get(
            f"/api/track/v1/reference/details/{reference}", headers=headers
        ).json()
        whole = client.get(f"/api/track/v1/shipment/details/{UPS_MASTER}", headers=headers)
    if not _started(scenario, at):
        assert all("warnings" in b["trackResponse"]["shipment"][0] for b in by_number)
        assert "warnings" in by_reference["trackResponse"]["shipment"][0]
        return
    stories = {repr(_story_ups(b["trackResponse"]["shipment"][0]["package"][0])) for b in by_number}
    stories.add(repr(_story_ups(by_reference["trackResponse"]["shipment"][0]["package"][0])))
    packages = whole.json()["trackResponse"]["shipment"][0]["package"]
    assert [p["trackingNumber"] for p in packages] == list(pieces)
    stories.update(repr(_story_ups(p)) for p in packages)
    assert len(stories) == 1, stories


@given(multi_piece())
def test_fedex_every_way_to_ask_tells_one_story(case: tuple[Scenario, timedelta]) -> None:
    scenario, at = case
    with _world(scenario, at) as client:
        headers = _fedex(client)
        pieces = piece_numbers("fedex", FEDEX_MASTER, scenario.pieces)
        detailed = {"includeDetailedScans": True}
        by_number = client.post(
            "/track/v1/trackingnumbers",
            json={
                **detailed,
                "trackingInfo": [{"trackingNumberInfo": {"trackingNumber": n}} for n in pieces],
            },
            headers=headers,
        ).json()["output"]["completeTrackResults"]
        reference = scenario.reference or f"PO-{FEDEX_MASTER}"
        by_reference = client.post(
            "/track/v1/referencenumbers",
            json={**detailed, "referencesInformation": {"value": reference}},
            headers=headers,
        ).json()["output"]["completeTrackResults"]
        children = client.post(
            "/track/v1/associatedshipments",
            json={
                **detailed,
                "associatedType": "STANDARD_MPS",
                "masterTrackingNumberInfo": {
                    "trackingNumberInfo": {"trackingNumber": FEDEX_MASTER}
                },
            },
            headers=headers,
        ).json()["output"]["completeTrackResults"]
    if not _started(scenario, at):
        assert all("error" in r["trackResults"][0] for r in by_number + by_reference)
        return
    assert [c["trackingNumber"] for c in children] == list(pieces[1:])
    stories = {repr(_story_fedex(r)) for r in by_number + by_reference + children}
    assert len(stories) == 1, stories


@given(multi_piece())
def test_a_pod_exists_exactly_after_a_signed_delivery(case: tuple[Scenario, timedelta]) -> None:
    scenario, at = case
    expected = _signed_delivery_passed(scenario, at)
    with _world(scenario, at) as client:
        fedex = client.post(
            "/track/v1/trackingdocuments",
            json={
                "trackDocumentDetail": {"documentType": "SIGNATURE_PROOF_OF_DELIVERY"},
                "trackDocumentSpecification": [
                    {"trackingNumberInfo": {"trackingNumber": n}}
                    for n in piece_numbers("fedex", FEDEX_MASTER, scenario.pieces)
                ],
            },
            headers=_fedex(client),
        )
        ups = client.get(
            f"/api/track/v1/details/{UPS_MASTER}?returnPOD=true", headers=_ups(client)
        ).json()
        token = client.post(
            "/oauth2/v3/token",
            json={"grant_type": "client_credentials", "client_id": "usps-p", "client_secret": "s"},
        ).json()["access_token"]
        usps = client.get(
            f"/tracking/v3/tracking/{USPS_NUMBER}?expand=DETAIL",
            headers={"Authorization": f"Bearer {token}"},
        )
    started = _started(scenario, at)
    assert fedex.status_code == (200 if expected else 404 if started else 400)
    if expected:
        assert len(fedex.json()["output"]["document"]) == scenario.pieces
    package = ups["trackResponse"]["shipment"][0].get("package", [{}])[0]
    assert ("pod" in package.get("deliveryInformation", {})) is expected
    if started:
        assert usps.json()["proofOfDeliveryEnabled"] == ("true" if expected else "false")
