"""DHL Shipment Tracking – Unified, over HTTP: API key, scenarios on the clock, errors.

Facts asserted here come from NOTES.md §4 and the DHL spec (dhl/utapi-traking-api-1.4.1.yaml);
deviations of production from the spec are asserted in tests named ``test_production_*``.
"""

from __future__ import annotations

import random
import re
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from starlette.testclient import TestClient

from simulator import numbers
from simulator.carriers import dhl
from simulator.engine import Simulation
from simulator.scenario import EventKind, EventSpec, ExceptionReason, Scenario
from simulator.timeline import Shipment
from tests.conftest import EPOCH, SimFactory
from tests.contract.spec_validation import declared_statuses, validate

URL = "/track/shipments"
KEY = "dhl-test-key"
H = {"DHL-API-Key": KEY}

UNAUTHORIZED = '{"status":401,"title":"Unauthorized","detail":"Unauthorized for given resource."}'
NOT_FOUND = (
    '{"title":"No result found","status":404,'
    '"detail":"No shipment with given tracking number found."}'
)
LINK = (
    '<https://api-eu.dhl.com/track/context>; rel="http://www.w3.org/ns/json-ld#context"; '
    'type="application/ld+json"'
)
FORMATS = ("express10", "sscc20", "s10")
SERVICE_OF_FORMAT = {"express10": "express", "sscc20": "parcel-de", "s10": "post-de"}


def number(fmt: str = "express10", seed: int = 0) -> str:
    """A valid DHL number of the format, fixed by the seed."""
    return numbers.generate("dhl", random.Random(f"dhl-test|{fmt}|{seed}"), fmt)


def playing(bundled: list[Scenario], name: str, *nums: str) -> list[Scenario]:
    """The bundled scenarios with ``nums`` declared for DHL on scenario ``name``."""
    return [
        s.model_copy(update={"numbers": {"dhl": nums}}) if s.name == name else s for s in bundled
    ]


DELIVERED = {fmt: number(fmt, seed=1000) for fmt in FORMATS}
"""Numbers that play delivered-on-time in :func:`sim_for`."""


def sim_for(
    make_sim: SimFactory, bundled: list[Scenario], **overrides: Any
) -> tuple[Simulation, TestClient]:
    """A simulator where :data:`DELIVERED`'s numbers play delivered-on-time, mix off."""
    scenarios = playing(bundled, "delivered-on-time", *DELIVERED.values())
    return make_sim(scenarios=scenarios, **{"mix": False, **overrides})


def track(client: TestClient, n: str, key: str | None = KEY, **params: str) -> Any:
    """GET the tracking endpoint for one number."""
    headers = {"DHL-API-Key": key} if key is not None else {}
    return client.get(URL, params={"trackingNumber": n, **params}, headers=headers)


def assert_problem(response: Any, status: int, body: str | None = None) -> dict[str, Any]:
    """An RFC 7807 problem answer with DHL's headers; returns the parsed body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["content-language"] == "en"
    if body is not None:
        assert response.text == body
    parsed: dict[str, Any] = response.json()
    assert set(parsed) <= {"type", "title", "status", "detail", "instance"}
    assert parsed["status"] == status
    assert isinstance(parsed["title"], str)
    assert isinstance(parsed["detail"], str)
    return parsed


def assert_bad_request(response: Any, mentions: str) -> None:
    """The simulator's 400 problem+json naming the offending parameter."""
    body = assert_problem(response, 400)
    assert body["title"] == "Bad Request"
    assert mentions in body["detail"]


def parse(ts: str) -> datetime:
    """A DHL timestamp: ISO 8601 that must carry an offset."""
    at = datetime.fromisoformat(ts)
    assert at.tzinfo is not None, ts
    return at


# ------------------------------------------------------------------------------ auth (API key)


def test_key_in_header_is_the_only_credential(
    bundled: list[Scenario], make_sim: SimFactory
) -> None:
    _, client = sim_for(make_sim, bundled)
    n = DELIVERED["express10"]
    ok = track(client, n)
    assert ok.status_code == 200
    assert_problem(track(client, n, key=None), 401, UNAUTHORIZED)
    assert_problem(track(client, n, key=""), 401, UNAUTHORIZED)
    # Header names are case-insensitive.
    assert client.get(URL, params={"trackingNumber": n}, headers={"dhl-api-key": KEY}).is_success
    # NOTES §4.2 mentions a query-string key without naming it: not supported.
    for name in ("DHL-API-Key", "apikey", "api_key", "key"):
        response = client.get(URL, params={"trackingNumber": n, name: KEY})
        assert_problem(response, 401, UNAUTHORIZED)


def test_unauthorized_comes_before_query_validation(make_sim: SimFactory) -> None:
    _, client = make_sim()
    assert_problem(client.get(URL), 401, UNAUTHORIZED)
    assert_problem(client.get(URL, params={"service": "nope"}), 401, UNAUTHORIZED)


def test_listed_keys_only_when_settings_list_them(
    bundled: list[Scenario], make_sim: SimFactory
) -> None:
    _, client = sim_for(make_sim, bundled, credentials={"dhl": {"good-key": ""}, "ups": {"x": "y"}})
    n = DELIVERED["express10"]
    assert track(client, n, key="good-key").status_code == 200
    assert_problem(track(client, n, key="other-key"), 401, UNAUTHORIZED)
    # Credentials listed only for another carrier leave DHL open.
    _, open_client = sim_for(make_sim, bundled, credentials={"ups": {"x": "y"}})
    assert track(open_client, n, key="anything").status_code == 200


def test_key_rules_live_in_one_function(
    bundled: list[Scenario], make_sim: SimFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A later "revoked key" rule plugs in here and nowhere else.
    _, client = sim_for(make_sim, bundled)
    monkeypatch.setattr(dhl.api, "key_accepted", lambda sim, key: key != "revoked")
    assert track(client, DELIVERED["express10"], key="fine").status_code == 200
    assert_problem(track(client, DELIVERED["express10"], key="revoked"), 401, UNAUTHORIZED)


def test_key_names_the_tenant_and_its_clock(bundled: list[Scenario], make_sim: SimFactory) -> None:
    n = number()
    sim, client = make_sim(scenarios=playing(bundled, "delivered-on-time", n), mix=False)
    shipment = sim.catalog.lookup("dhl", n)
    assert shipment is not None
    sim.clock.freeze("key-a", at=shipment.events[0].at - timedelta(seconds=1))
    sim.clock.freeze("key-b", at=shipment.events[-1].at)
    assert_problem(track(client, n, key="key-a"), 404, NOT_FOUND)
    late = track(client, n, key="key-b")
    assert len(late.json()["shipments"][0]["events"]) == len(shipment.events)
    # The carriersim tenant header overrides the key's own tenant.
    via_header = client.get(
        URL,
        params={"trackingNumber": n},
        headers={"DHL-API-Key": "key-a", "x-carriersim-tenant": "key-b"},
    )
    assert len(via_header.json()["shipments"][0]["events"]) == len(shipment.events)


# ----------------------------------------------------------------- every scenario on the clock


def clock_points(shipment: Shipment) -> list[datetime]:
    """Before the start, each event instant and one second before it, long after the end."""
    points = [shipment.t0 - timedelta(days=1)]
    for event in shipment.events:
        points += [event.at - timedelta(seconds=1), event.at]
    points.append(shipment.events[-1].at + timedelta(days=60))
    return points


def expected_texts(event_kind: EventKind, reason: ExceptionReason | None) -> dhl.Text:
    """The mapping table's entry (the arrival at the destination is checked separately)."""
    if event_kind is EventKind.exception:
        assert reason is not None
        return dhl.EXCEPTION_TEXTS[reason]
    return dhl.EVENT_TEXTS[event_kind]


FOUND = [
    "address-corrected",
    "cancelled",
    "customs-hold-released",
    "damaged",
    "delivered-late",
    "delivered-on-time",
    "failed-attempt-held-for-pickup",
    "label-created-never-shipped",
    "lost-in-transit",
    "out-for-delivery",
    "returned-to-sender",
    "weather-delay",
]


def test_found_list_covers_the_bundle(bundled: list[Scenario]) -> None:
    assert sorted(s.name for s in bundled if s.found) == FOUND


@pytest.mark.parametrize("name", FOUND)
def test_scenario_shows_exactly_the_events_due(
    name: str, bundled: list[Scenario], make_sim: SimFactory
) -> None:
    nums = {fmt: number(fmt, seed=FOUND.index(name)) for fmt in FORMATS}
    sim, client = make_sim(scenarios=playing(bundled, name, *nums.values()), mix=False)
    for fmt, n in nums.items():
        shipment = sim.catalog.lookup("dhl", n)
        assert shipment is not None and shipment.scenario.name == name
        for at in clock_points(shipment):
            sim.clock.freeze(KEY, at=at)
            due = [e for e in shipment.events if e.at <= at]
            response = track(client, n)
            if not due:
                assert_problem(response, 404, NOT_FOUND)
                validate("dhl", "dhl.track", 404, response.json())
                continue
            assert response.status_code == 200, response.text
            body = response.json()
            validate("dhl", "dhl.track", 200, body)
            check_shipment(body, shipment, due, SERVICE_OF_FORMAT[fmt])


def check_shipment(body: dict[str, Any], shipment: Shipment, due: list[Any], service: str) -> None:
    """The body shows exactly ``due``, newest first, as the mapping tables say."""
    assert set(body) == {"shipments"}  # single result: no paging links (see production test)
    [got] = body["shipments"]
    assert got["id"] == shipment.number
    assert got["service"] == service
    events = got["events"]
    assert len(events) == len(due)
    for rendered, event in zip(events, reversed(due), strict=True):
        at = parse(rendered["timestamp"])
        assert at == event.at
        assert at.utcoffset() == event.local.utcoffset()
        assert rendered["timestamp"] == event.local.isoformat(timespec="seconds")
        text = expected_texts(event.kind, event.reason)
        arrival_at_destination = (
            event.kind is EventKind.arrived_at_facility and event.place == shipment.recipient.place
        )
        if arrival_at_destination:
            text = dhl.ARRIVED_AT_DELIVERY_FACILITY
        assert rendered["statusCode"] == text.status_code
        assert rendered["statusCode"] in dhl.STATUS_CODES
        assert rendered["status"] == text.status
        loc = rendered["location"]["address"]["addressLocality"]
        assert rendered["description"] == text.description.format(loc=loc)
        assert rendered.get("remark") == text.remark
        assert rendered.get("nextSteps") == text.next_steps
        assert rendered["location"]["address"]["countryCode"] == event.place.country
    assert got["status"] == events[0]
    details = got["details"]
    delivered = [e for e in due if e.kind is EventKind.delivered]
    assert ("proofOfDelivery" in details) == bool(delivered)
    if delivered:
        assert parse(details["proofOfDelivery"]["timestamp"]) == delivered[0].at
        assert "estimatedTimeOfDelivery" not in got
    assert details["weight"] == {"value": shipment.weight_kg, "unitText": "kg"}
    assert details["totalNumberOfPieces"] == 1
    assert got["origin"]["address"]["countryCode"] == shipment.shipper.place.country
    assert got["destination"]["address"]["countryCode"] == shipment.recipient.place.country


# ------------------------------------------------------------------------------ code tables


def test_every_kind_and_reason_maps_into_the_enum() -> None:
    assert set(dhl.EVENT_TEXTS) == set(EventKind) - {EventKind.exception}
    assert set(dhl.EXCEPTION_TEXTS) == set(ExceptionReason)
    texts = [*dhl.EVENT_TEXTS.values(), *dhl.EXCEPTION_TEXTS.values()]
    texts.append(dhl.ARRIVED_AT_DELIVERY_FACILITY)
    for text in texts:
        assert text.status_code in dhl.STATUS_CODES
        assert text.status and text.description
    assert dhl.EVENT_TEXTS[EventKind.label_created].status_code == "pre-transit"
    assert dhl.EVENT_TEXTS[EventKind.delivered].status_code == "delivered"
    assert dhl.EVENT_TEXTS[EventKind.delivery_attempted].status_code == "failure"
    assert "Parcelshop" in (dhl.EVENT_TEXTS[EventKind.delivery_attempted].next_steps or "")
    # The spec's own event example (customs inspection) is reproduced as written.
    customs = dhl.EVENT_TEXTS[EventKind.customs_hold]
    assert (customs.status_code, customs.status) == ("transit", "customs inspection")
    assert customs.remark == "The shipment is pending completion of customs inspection."
    assert customs.next_steps == "The status will be updated following customs inspection."


def _everything() -> Scenario:
    """One scenario with every kind and every exception reason, for schema coverage."""
    events: list[EventSpec] = []
    hour = 0
    for kind in EventKind:
        reasons: list[ExceptionReason | None] = (
            list(ExceptionReason) if kind is EventKind.exception else [None]
        )
        for reason in reasons:
            events.append(EventSpec(at=timedelta(hours=hour), kind=kind, reason=reason))
            hour += 1
    return Scenario(
        name="everything",
        service="express",
        route={"origin": "US", "destination": "DE", "hubs": 2},
        start=timedelta(days=-3),
        events=tuple(events),
    )


def test_every_kind_and_reason_validates_over_http(make_sim: SimFactory) -> None:
    n = number(seed=99)
    scenario = _everything().model_copy(update={"numbers": {"dhl": (n,)}})
    sim, client = make_sim(scenarios=[scenario], mix=False)
    shipment = sim.catalog.lookup("dhl", n)
    assert shipment is not None
    body = track(client, n).json()
    validate("dhl", "dhl.track", 200, body)
    check_shipment(body, shipment, list(shipment.events), "express")
    codes = {e["statusCode"] for e in body["shipments"][0]["events"]}
    assert codes == {"pre-transit", "transit", "delivered", "failure"}


def test_scenario_description_replaces_dhl_text(make_sim: SimFactory) -> None:
    n = number(seed=7)
    scenario = Scenario(
        name="custom-text",
        events=(
            EventSpec(at=timedelta(0), kind=EventKind.label_created),
            EventSpec(at=timedelta(hours=1), kind=EventKind.picked_up, description="Abgeholt"),
        ),
        start=timedelta(days=-1),
        numbers={"dhl": (n,)},
    )
    _, client = make_sim(scenarios=[scenario], mix=False)
    events = track(client, n).json()["shipments"][0]["events"]
    assert [e["description"] for e in events] == ["Abgeholt", "Shipment information received"]
    assert events[0]["statusCode"] == "transit"


# ------------------------------------------------------------------------- the 200 in detail


def test_headers_and_express_shape(bundled: list[Scenario], make_sim: SimFactory) -> None:
    n = number("express10", seed=3)
    sim, client = make_sim(scenarios=playing(bundled, "customs-hold-released", n), mix=False)
    response = track(client, n)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["content-language"] == "en"
    assert response.headers["link"] == LINK
    got = response.json()["shipments"][0]
    details = got["details"]
    assert details["carrier"] == {"organizationName": "EXPRESS"}
    assert details["product"] == {"productName": "EXPRESS WORLDWIDE"}
    assert re.fullmatch(r"JD0146[0-9]{14}", details["pieceIds"][0])
    assert all(e["pieceIds"] == details["pieceIds"] for e in got["events"])
    assert got["destination"]["address"]["countryCode"] == "DE"
    localities = {e["location"]["address"]["addressLocality"] for e in got["events"]}
    assert any(loc.endswith(" - GERMANY") for loc in localities)
    assert any(loc.endswith(" - USA") for loc in localities)
    for event in got["events"]:
        loc = event["location"]["address"]["addressLocality"]
        if event["status"] == "arrived at sort facility":
            assert event["description"] == f"Arrived at DHL Sort Facility  {loc}"
    assert {"receiver", "sender"} <= set(details)
    # Before delivery an estimate is shown, in the recipient's zone.
    shipment = sim.catalog.lookup("dhl", n)
    assert shipment is not None and shipment.expected_delivery is not None
    assert parse(got["estimatedTimeOfDelivery"]) == shipment.expected_delivery
    frame = got["estimatedDeliveryTimeFrame"]
    assert parse(frame["estimatedFrom"]) <= shipment.expected_delivery
    assert parse(frame["estimatedThrough"]) >= shipment.expected_delivery


def test_delivered_has_proof_and_signer(bundled: list[Scenario], make_sim: SimFactory) -> None:
    n = number("express10", seed=4)
    sim, client = make_sim(scenarios=playing(bundled, "delivered-on-time", n), mix=False)
    shipment = sim.catalog.lookup("dhl", n)
    assert shipment is not None
    sim.clock.freeze(KEY, at=shipment.events[-1].at + timedelta(hours=1))
    got = track(client, n).json()["shipments"][0]
    assert got["status"]["statusCode"] == "delivered"
    assert got["status"]["description"] == "Delivered"
    proof = got["details"]["proofOfDelivery"]
    assert proof["signed"]["name"] == shipment.signer
    assert proof["documentUrl"] == "https://webpod.dhl.com/webPOD/DHLePODRequest"
    assert got["details"]["receiver"]["name"] == shipment.recipient.name


def test_parcel_de_full_data_only_with_recipient_postal_code(
    bundled: list[Scenario], make_sim: SimFactory
) -> None:
    n = number("sscc20", seed=5)
    sim, client = make_sim(scenarios=playing(bundled, "delivered-on-time", n), mix=False)
    shipment = sim.catalog.lookup("dhl", n)
    assert shipment is not None
    sim.clock.freeze(KEY, at=shipment.events[-1].at)
    bare = track(client, n).json()["shipments"][0]
    assert bare["service"] == "parcel-de"
    assert bare["details"]["pieceIds"] == [n[2:]]
    assert bare["details"]["product"] == {"productName": "DHL PAKET (parcel)"}
    assert bare["serviceUrl"] == f"https://www.dhl.de/de/privatkunden.html?piececode={n}"
    assert "receiver" not in bare["details"] and "sender" not in bare["details"]
    assert "signed" not in bare["details"]["proofOfDelivery"]
    postal = shipment.recipient.place.postal_code
    full = track(client, n, recipientPostalCode=postal.lower()).json()
    validate("dhl", "dhl.track", 200, full)
    details = full["shipments"][0]["details"]
    assert details["receiver"]["name"] == shipment.recipient.name
    assert details["proofOfDelivery"]["signed"]["name"] == shipment.signer
    assert details["proofOfDeliverySignedAvailable"] is True


def test_service_hint_must_fit_the_number(bundled: list[Scenario], make_sim: SimFactory) -> None:
    nums = {fmt: number(fmt, seed=6) for fmt in FORMATS}
    _, client = make_sim(scenarios=playing(bundled, "out-for-delivery", *nums.values()), mix=False)
    for fmt, n in nums.items():
        own = SERVICE_OF_FORMAT[fmt]
        assert track(client, n, service=own).json()["shipments"][0]["service"] == own
        for other in ("express", "parcel-de", "post-de", "parcel-uk"):
            if other != own:
                assert_problem(track(client, n, service=other), 404, NOT_FOUND)


def test_qualifiers_filter(bundled: list[Scenario], make_sim: SimFactory) -> None:
    n = number(seed=8)
    sim, client = make_sim(scenarios=playing(bundled, "customs-hold-released", n), mix=False)
    assert track(client, n, originCountryCode="us").status_code == 200
    assert_problem(track(client, n, originCountryCode="DE"), 404, NOT_FOUND)
    shipment = sim.catalog.lookup("dhl", n)
    assert shipment is not None
    assert track(client, n, recipientPostalCode=shipment.recipient.place.postal_code).is_success
    assert_problem(track(client, n, recipientPostalCode="00000"), 404, NOT_FOUND)
    assert track(client, n, requesterCountryCode="FR").status_code == 200


def test_language_is_validated_but_answers_are_english(
    bundled: list[Scenario], make_sim: SimFactory
) -> None:
    _, client = sim_for(make_sim, bundled)
    response = track(client, DELIVERED["express10"], language="de")
    assert response.status_code == 200
    # The spec: Content-Language tells the *actual* language; every text here is English.
    assert response.headers["content-language"] == "en"


def test_number_is_normalized(bundled: list[Scenario], make_sim: SimFactory) -> None:
    n = number("s10", seed=9)
    _, client = make_sim(scenarios=playing(bundled, "delivered-on-time", n), mix=False)
    spaced = f" {n[:4].lower()} {n[4:]} "
    assert track(client, spaced).json()["shipments"][0]["id"] == n


def test_mounted_under_carrier_prefix_and_cached(
    bundled: list[Scenario], make_sim: SimFactory
) -> None:
    _, client = sim_for(make_sim, bundled)
    n = DELIVERED["express10"]
    root = client.get(URL, params={"trackingNumber": n}, headers=H)
    prefixed = client.get("/dhl" + URL, params={"trackingNumber": n}, headers=H)
    assert root.status_code == prefixed.status_code == 200
    assert root.content == prefixed.content


def test_paging_beyond_the_only_result(bundled: list[Scenario], make_sim: SimFactory) -> None:
    _, client = sim_for(make_sim, bundled)
    n = DELIVERED["express10"]
    body = track(client, n, offset="5", limit="5").json()
    validate("dhl", "dhl.track", 200, body)
    assert body["shipments"] == []
    assert body["url"] == f"/track/shipments?trackingNumber={n}&offset=5&limit=5"
    assert body["firstUrl"] == body["lastUrl"] == body["prevUrl"]
    assert body["firstUrl"] == f"/track/shipments?trackingNumber={n}&offset=0&limit=5"
    assert "nextUrl" not in body
    assert len(track(client, n, offset="0", limit="1").json()["shipments"]) == 1


# ------------------------------------------------------------------ production vs the spec


def test_production_not_found_has_no_instance(make_sim: SimFactory) -> None:
    # The spec's example adds "instance": "/shipment/8264715546"; the live 404 captured in
    # netresearch/dhl-shipping-m2 #23 is 97 bytes without it, plus a Correlation-Id.
    _, client = make_sim(mix=False)
    response = track(client, "8264715546")
    body = assert_problem(response, 404, NOT_FOUND)
    assert len(response.content) == 97
    validate("dhl", "dhl.track", 404, body)
    uuid.UUID(response.headers["correlation-id"])


def test_spec_not_found_adds_instance(make_sim: SimFactory) -> None:
    _, client = make_sim(mix=False, not_found="spec")
    body = assert_problem(track(client, "8264715546"), 404)
    assert body == {
        "title": "No result found",
        "status": 404,
        "detail": "No shipment with given tracking number found.",
        "instance": "/shipment/8264715546",
    }
    validate("dhl", "dhl.track", 404, body)


def test_production_single_result_has_no_paging_links(
    bundled: list[Scenario], make_sim: SimFactory
) -> None:
    # The spec's example shows url/prevUrl/nextUrl/firstUrl/lastUrl; live single-shipment
    # answers carry only "shipments" (and the undeclared proofOfDeliverySignedAvailable).
    _, client = sim_for(make_sim, bundled)
    body = track(client, DELIVERED["express10"]).json()
    assert set(body) == {"shipments"}
    assert isinstance(body["shipments"][0]["details"]["proofOfDeliverySignedAvailable"], bool)
    validate("dhl", "dhl.track", 200, body)


def test_production_errors_outside_the_spec() -> None:
    # Spec 1.4.1 declares 200 and 404 only; 400 and 401 bodies follow NOTES §4.2/§4.5.
    assert declared_statuses("dhl", "dhl.track") == {200, 404}
    for status in (400, 401):
        with pytest.raises(AssertionError, match="not declared"):
            validate("dhl", "dhl.track", status, {"status": status})


# ------------------------------------------------------------------ not found and bad queries


def test_unknown_number_scenario_is_not_found(
    bundled: list[Scenario], make_sim: SimFactory
) -> None:
    n = number(seed=11)
    _, client = make_sim(scenarios=playing(bundled, "unknown-number", n), mix=False)
    assert_problem(track(client, n), 404, NOT_FOUND)


def test_valid_number_outside_the_mix_is_not_found(make_sim: SimFactory) -> None:
    _, client = make_sim(mix=False)
    for fmt in FORMATS:
        assert_problem(track(client, number(fmt, seed=12)), 404, NOT_FOUND)


def test_first_event_in_the_future_is_not_found(
    bundled: list[Scenario], make_sim: SimFactory
) -> None:
    n = number(seed=13)
    future = [
        s.model_copy(update={"start": timedelta(days=2)}) if s.name == "delivered-on-time" else s
        for s in playing(bundled, "delivered-on-time", n)
    ]
    sim, client = make_sim(scenarios=future, mix=False)
    sim.clock.freeze(KEY, at=EPOCH)
    assert_problem(track(client, n), 404, NOT_FOUND)


@pytest.mark.parametrize(
    "bad",
    [
        "7777777771",  # Express check digit wrong (7777777770 is valid)
        "00340434292135100187",  # SSCC check digit wrong
        "LY927647358DE",  # S10 check digit wrong
        "hello!",
        "1" * 80,
        "ÄÖÜ1234567",
    ],
)
def test_invalid_numbers_are_not_found(bad: str, make_sim: SimFactory) -> None:
    _, client = make_sim()
    assert_problem(track(client, bad), 404, NOT_FOUND)


@pytest.mark.parametrize(
    ("params", "mentions"),
    [
        ({}, "trackingNumber"),
        ({"trackingNumber": ""}, "trackingNumber"),
        ({"trackingNumber": "   "}, "trackingNumber"),
        ({"trackingNumber": ["7777777770", "8264715546"]}, "trackingNumber"),
        ({"trackingNumber": "7777777770", "service": "pigeon"}, "service"),
        ({"trackingNumber": "7777777770", "service": "EXPRESS"}, "service"),
        ({"trackingNumber": "7777777770", "requesterCountryCode": "DEU"}, "requesterCountryCode"),
        ({"trackingNumber": "7777777770", "originCountryCode": "1"}, "originCountryCode"),
        ({"trackingNumber": "7777777770", "language": "english"}, "language"),
        ({"trackingNumber": "7777777770", "offset": "-1"}, "offset"),
        ({"trackingNumber": "7777777770", "offset": "1.5"}, "offset"),
        ({"trackingNumber": "7777777770", "limit": "0"}, "limit"),
        ({"trackingNumber": "7777777770", "limit": "ten"}, "limit"),
        ({"trackingNumber": "7777777770", "limit": "99999999999"}, "limit"),
    ],
)
def test_malformed_queries_get_400(
    params: dict[str, Any], mentions: str, make_sim: SimFactory
) -> None:
    _, client = make_sim()
    assert_bad_request(client.get(URL, params=params, headers=H), mentions)


def test_other_methods_never_500(make_sim: SimFactory) -> None:
    _, client = make_sim()
    response = client.post(URL, params={"trackingNumber": "7777777770"}, headers=H, json={})
    assert response.status_code == 405


def test_cache_key_includes_the_options(bundled: list[Scenario], make_sim: SimFactory) -> None:
    sim: Simulation
    sim, client = sim_for(make_sim, bundled)
    n = DELIVERED["sscc20"]
    shipment = sim.catalog.lookup("dhl", n)
    assert shipment is not None
    postal = shipment.recipient.place.postal_code
    bare = track(client, n).content
    full = track(client, n, recipientPostalCode=postal).content
    assert bare != full
    assert track(client, n).content == bare


def test_query_string_decoding() -> None:
    assert dhl.query_pairs(b"trackingNumber=LY%20927+647359DE&service=&x") == [
        ("trackingNumber", "LY 927 647359DE"),
        ("service", ""),
        ("x", ""),
    ]
    assert dhl.query_pairs(b"") == []
    assert dhl.parse_query(dhl.query_pairs(b"trackingNumber=ly927647359de&service=")) == (
        dhl.Query("LY927647359DE")
    )
    query = dhl.parse_query(
        dhl.query_pairs(b"trackingNumber=1&originCountryCode=de&offset=2&limit=3&unknown=1")
    )
    assert (query.origin_country, query.offset, query.limit) == ("DE", 2, 3)
