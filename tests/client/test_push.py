"""client.push: each carrier's push verified and read into the tracking model (NOTES §7)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest

from client import Carrier, Location, Status
from client.carriers.dhl import DhlAdapter
from client.carriers.fedex import FedexAdapter
from client.carriers.usps import UspsAdapter
from client.errors import (
    ConfigurationError,
    InvalidSignature,
    MalformedPush,
    PushRejected,
    ReplayedPush,
)
from client.push import (
    DhlPushAuth,
    FedexPushAuth,
    PushReceiver,
    PushSecrets,
    PushState,
    ReplayGuard,
    TokenIssuer,
    UpsPushAuth,
    UspsPushAuth,
    fedex_signature,
    fold,
    usps_signature,
    verify_and_parse,
)
from client.transport import HttpReply
from tests import push_bodies as pb

CREDENTIAL = pb.UPS_CREDENTIAL
FEDEX_TOKEN = pb.FEDEX_SECURITY_TOKEN
DHL = DhlPushAuth(pb.DHL_HEADER, pb.DHL_TOKEN)
EDT = timezone(timedelta(hours=-4))


def reply(body: object) -> HttpReply:
    return HttpReply(200, httpx.Headers(), pb.encode(body), "test:")


def ups_v1(name: str, spec: str = pb.UPS_V1) -> tuple[dict[str, str], bytes]:
    return pb.ups_v1_headers(CREDENTIAL), pb.encode(pb.ups_pushes(spec)[name])


def usps(notification: dict[str, Any]) -> tuple[dict[str, str], bytes]:
    return pb.usps_headers(notification), pb.encode(notification)


# ------------------------------------------------------------------------ signatures


def test_signatures_match_the_independent_ones() -> None:
    body = pb.encode(pb.fedex_push())
    assert (
        fedex_signature(body, FEDEX_TOKEN) == pb.fedex_headers(body, FEDEX_TOKEN)["fdx-signature"]
    )
    n = pb.usps_spec_examples()["scanEvent"]
    expected = pb.usps_headers(n, pb.USPS_SECRET)["X-HMAC"]
    assert usps_signature(n["timestamp"], n["payload"], pb.USPS_SECRET) == expected


# ------------------------------------------------------------------------------ UPS


def test_ups_v1_delivery_is_read_as_a_tracking_result() -> None:
    headers, body = ups_v1("7")
    delivery = verify_and_parse("ups", headers, body, UpsPushAuth(credential=CREDENTIAL))
    (update,) = delivery.updates
    assert update.carrier is Carrier.ups and update.number == "1Z204W4R0308071865"
    assert update.status is Status.delivered
    (event,) = update.events
    assert event.time == datetime(2024, 4, 23, 13, 50, 4, tzinfo=UTC)
    assert event.location == Location("CHARLOTTE", "NC", "28209", "US")
    assert update.result.delivered_at == event.time
    assert update.result.raw["trackingNumber"] == "1Z204W4R0308071865"  # the push, as sent


def test_ups_example_with_leading_space_and_blanks() -> None:
    headers, body = ups_v1("1")
    (update,) = verify_and_parse("ups", headers, body, UpsPushAuth(credential=CREDENTIAL)).updates
    assert update.number == "1ZABCXYZ0112346789"
    assert update.status is Status.pre_transit and update.events[0].raw_code == "003"
    assert update.events[0].location == Location(None, None, None, "US")
    assert update.result.estimated_delivery is None


def test_ups_v2_description_code_and_dotted_gmt_offset() -> None:
    push = pb.ups_pushes(pb.UPS_V2)["1"]
    push["gmtOffset"] = "-04.00"
    issuer = TokenIssuer({"ups-push-client": "s3cret"})
    grant = issuer.issue("ups-push-client", "s3cret")
    assert grant is not None
    headers = pb.ups_v2_headers(grant[0], "ups-push-client")
    delivery = verify_and_parse("ups", headers, pb.encode(push), UpsPushAuth(tokens=issuer))
    (event,) = delivery.updates[0].events
    assert delivery.updates[0].status is Status.out_for_delivery and event.raw_code == "021"
    assert event.time == datetime(2024, 4, 23, 9, 15, 19, tzinfo=EDT)
    assert event.time.utcoffset() == timedelta(hours=-4)
    assert delivery.updates[0].result.estimated_delivery == datetime(2024, 4, 23, tzinfo=UTC)


def test_ups_enhanced_delivery_names_the_receiver() -> None:
    headers, body = ups_v1("7", pb.UPS_ENHANCED_V1)
    (update,) = verify_and_parse("ups", headers, body, UpsPushAuth(credential=CREDENTIAL)).updates
    assert update.status is Status.delivered and update.result.signed_by == "John"


@pytest.mark.parametrize(
    "headers",
    [
        {"credential": "opaque-credential-8"},
        {"credential": ""},
        {},
        {"Authorization": f"Bearer {CREDENTIAL}"},
    ],
)
def test_ups_v1_wrong_or_missing_credential(headers: dict[str, str]) -> None:
    _, body = ups_v1("2")
    with pytest.raises(InvalidSignature) as info:
        verify_and_parse("ups", headers, body, UpsPushAuth(credential=CREDENTIAL))
    assert info.value.carrier is Carrier.ups and info.value.answer_status == 401


def test_ups_v2_token_must_be_live_and_match_x_api_key() -> None:
    now = [0.0]
    issuer = TokenIssuer({"a": "1", "b": "2"}, lifetime=60, clock=lambda: now[0])
    grant_a, grant_b = issuer.issue("a", "1"), issuer.issue("b", "2")
    assert grant_a and grant_b and issuer.issue("a", "2") is None and issuer.issue("c", "1") is None
    auth = UpsPushAuth(tokens=issuer, client_id="a")
    body = pb.encode(pb.ups_pushes(pb.UPS_V2)["2"])
    verify_and_parse("ups", pb.ups_v2_headers(grant_a[0], "a"), body, auth)
    for headers in (
        pb.ups_v2_headers(grant_a[0], "b"),  # x-api-key names another client
        pb.ups_v2_headers(grant_b[0], "b"),  # a live token, but not of the configured client
        pb.ups_v2_headers("forged", "a"),
    ):
        with pytest.raises(InvalidSignature):
            verify_and_parse("ups", headers, body, auth)
    now[0] = 61.0
    with pytest.raises(InvalidSignature, match="expired"):
        verify_and_parse("ups", pb.ups_v2_headers(grant_a[0], "a"), body, auth)


# ---------------------------------------------------------------------------- FedEx


def test_fedex_push_reads_like_its_tracking_answer() -> None:
    body = pb.encode(pb.fedex_push())
    delivery = verify_and_parse(
        "fedex", pb.fedex_headers(body, FEDEX_TOKEN), body, FedexPushAuth(FEDEX_TOKEN)
    )
    (update,) = delivery.updates
    tracked = FedexAdapter().parse_track(reply(pb.fedex_push()), [update.number])[update.number]
    assert update.result == tracked and update.status is Status.delivered


def test_fedex_bare_track_result_is_accepted() -> None:
    result = pb.fedex_push()["output"]["completeTrackResults"][0]["trackResults"][0]
    body = pb.encode(result)
    headers = pb.fedex_headers(body, FEDEX_TOKEN)
    (update,) = verify_and_parse("fedex", headers, body, FedexPushAuth(FEDEX_TOKEN)).updates
    assert update.status is Status.delivered and len(update.events) == 5


def test_fedex_signature_binds_the_raw_bytes() -> None:
    body = pb.encode(pb.fedex_push())
    headers = pb.fedex_headers(body, FEDEX_TOKEN)
    # The same JSON with other whitespace is another message for an HMAC of the raw body.
    respaced = body.replace(b", ", b",")
    with pytest.raises(InvalidSignature):
        verify_and_parse("fedex", headers, respaced, FedexPushAuth(FEDEX_TOKEN))
    with pytest.raises(InvalidSignature):
        verify_and_parse("fedex", headers, body, FedexPushAuth("another token"))


# ----------------------------------------------------------------------------- USPS


def test_usps_spec_example_verifies_and_reads_like_tracking() -> None:
    notification = pb.usps_spec_examples()["scanEvent"]
    headers, body = usps(notification)
    delivery = verify_and_parse(
        "usps", headers, body, UspsPushAuth(pb.USPS_SECRET), replay=ReplayGuard(window=None)
    )
    (update,) = delivery.updates
    tracked = UspsAdapter().parse_track(reply(pb.usps_record()), ["12345678"])["12345678"]
    assert update.result == tracked
    assert update.subscription_id == delivery.subscription_id == "123456789"
    assert update.sent_at == datetime(2024, 12, 27, 19, 5, 42, 747000, tzinfo=UTC)
    assert update.events[0].time == datetime(2025, 2, 7, 17, 55, 12, tzinfo=UTC)


def test_usps_deprecated_header_is_accepted() -> None:
    notification = pb.usps_spec_examples()["detailedScanEvent"]
    headers = {"hmac-header": pb.usps_headers(notification)["X-HMAC"]}
    delivery = verify_and_parse(
        "usps", headers, pb.encode(notification), UspsPushAuth(pb.USPS_SECRET)
    )
    assert delivery.updates[0].number == "12345678"


def test_usps_signature_covers_timestamp_and_payload() -> None:
    notification = pb.usps_spec_examples()["scanEvent"]
    headers = pb.usps_headers(notification)
    for field, value in (("timestamp", "2024-12-27T19:05:43.747Z"), ("payload", "{}")):
        with pytest.raises(InvalidSignature, match="X-HMAC"):
            verify_and_parse(
                "usps",
                headers,
                pb.encode({**notification, field: value}),
                UspsPushAuth(pb.USPS_SECRET),
            )
    # The subscription id is not signed: a change there does not break the signature.
    other = pb.encode({**notification, "subscriptionId": "2"})
    verify_and_parse("usps", headers, other, UspsPushAuth(pb.USPS_SECRET))


def test_usps_stale_timestamp_is_a_replay() -> None:
    notification = pb.usps_spec_examples()["scanEvent"]
    headers, body = usps(notification)
    sent = datetime(2024, 12, 27, 19, 5, 42, tzinfo=UTC)
    late = ReplayGuard(window=300, now=lambda: sent + timedelta(minutes=6))
    with pytest.raises(ReplayedPush) as info:
        verify_and_parse("usps", headers, body, UspsPushAuth(pb.USPS_SECRET), replay=late)
    assert not info.value.duplicate and info.value.answer_status == 401
    in_time = ReplayGuard(window=300, now=lambda: sent + timedelta(minutes=4))
    verify_and_parse("usps", headers, body, UspsPushAuth(pb.USPS_SECRET), replay=in_time)


# ------------------------------------------------------------------------------ DHL


def test_dhl_push_reads_like_its_tracking_answer() -> None:
    push = pb.dhl_push()
    delivery = verify_and_parse("dhl", pb.dhl_headers(DHL.header, DHL.token), pb.encode(push), DHL)
    (update,) = delivery.updates
    tracked = DhlAdapter().parse_track(reply({"shipments": push["shipments"]}), [update.number])
    assert update.result == tracked[update.number] and update.status is Status.delivered
    assert delivery.scope == "subscription.push" and update.subscription_id == "7f3c2e1a"
    assert not delivery.is_activation


def test_dhl_header_name_is_case_insensitive_and_token_exact() -> None:
    body = pb.encode(pb.dhl_push())
    verify_and_parse("dhl", {"x-hook-token": DHL.token}, body, DHL)
    with pytest.raises(InvalidSignature, match="X-Hook-Token"):
        verify_and_parse("dhl", {"X-Hook-Token": DHL.token + "x"}, body, DHL)


def test_dhl_activation_message_carries_the_secret() -> None:
    body = pb.encode(pb.dhl_activation("sub-1", "hook-secret"))
    delivery = verify_and_parse("dhl", pb.dhl_headers(DHL.header, DHL.token), body, DHL)
    assert delivery.is_activation and delivery.updates == ()
    assert (delivery.subscription_id, delivery.secret) == ("sub-1", "hook-secret")


# ---------------------------------------------------------------- replays, bad bodies


def test_a_delivery_is_accepted_once_until_forgotten() -> None:
    receiver = PushReceiver(PushSecrets(ups=UpsPushAuth(credential=CREDENTIAL)))
    headers, body = ups_v1("3")
    first = receiver.receive("ups", headers, body)
    # A resend with other whitespace is the same delivery.
    resent = pb.encode(pb.ups_pushes()["3"]).replace(b": ", b":")
    with pytest.raises(ReplayedPush) as info:
        receiver.receive("ups", headers, resent)
    assert info.value.duplicate and info.value.answer_status == 200
    receiver.forget(first)
    assert receiver.receive("ups", headers, body).delivery_id == first.delivery_id
    # Another scan of the same parcel is another delivery.
    receiver.receive("ups", *ups_v1("4"))


def test_replay_guard_is_bounded() -> None:
    guard = ReplayGuard(capacity=2)
    for ident in "abc":
        guard.remember(ident)
    assert len(guard) == 2
    guard.check(Carrier.ups, "a", None)  # the oldest was let go
    with pytest.raises(ReplayedPush):
        guard.check(Carrier.ups, "c", None)


@pytest.mark.parametrize(
    ("carrier", "body", "words"),
    [
        ("ups", b"<html>", "not JSON"),
        ("ups", b"[]", "not a JSON object"),
        ("ups", b'{"trackingNumber": "1Z204W4R0308071865"}', "activityStatus"),
        ("ups", b'{"activityStatus": {"type": "D"}}', "no tracking number"),
        ("fedex", b'{"output": {}}', "completeTrackResults"),
        ("usps", b'{"timestamp": "t", "payload": {"trackingNumber": "1"}}', "string fields"),
        ("usps", b'{"timestamp": "t", "payload": "{not json"}', "double-encoded"),
        ("dhl", b'{"scope": "subscription.push", "shipments": []}', "shipments"),
    ],
)
def test_malformed_bodies(carrier: str, body: bytes, words: str) -> None:
    receiver = PushReceiver(
        PushSecrets(
            ups=UpsPushAuth(credential=CREDENTIAL),
            fedex=FedexPushAuth(FEDEX_TOKEN),
            usps=UspsPushAuth(pb.USPS_SECRET),
            dhl=DHL,
        )
    )
    headers = {
        "credential": CREDENTIAL,
        "fdx-signature": fedex_signature(body, FEDEX_TOKEN),
        DHL.header: DHL.token,
        "x-hmac": usps_signature("t", "{not json", pb.USPS_SECRET),
    }
    with pytest.raises(MalformedPush, match=words) as info:
        receiver.receive(carrier, headers, body)
    assert info.value.answer_status == 400


def test_usps_payload_without_a_number_is_malformed() -> None:
    notification = pb.usps_notification({"error": {"code": "404", "message": "gone"}})
    headers, body = usps(notification)
    with pytest.raises(MalformedPush, match="names no tracking number"):
        verify_and_parse("usps", headers, body, UspsPushAuth(pb.USPS_SECRET))


def test_configuration_errors() -> None:
    headers, body = ups_v1("2")
    with pytest.raises(ConfigurationError, match="FedexPushAuth cannot check a UPS push"):
        verify_and_parse("ups", headers, body, FedexPushAuth(FEDEX_TOKEN))
    with pytest.raises(ConfigurationError, match="PushSecrets\\(usps="):
        PushReceiver(PushSecrets()).receive("usps", headers, body)
    with pytest.raises(ConfigurationError):
        verify_and_parse("ups", headers, body, UpsPushAuth())
    with pytest.raises(ConfigurationError):
        TokenIssuer({})
    with pytest.raises(MalformedPush, match="no carrier 'ontrac'"):
        verify_and_parse("ontrac", headers, body, UpsPushAuth(credential=CREDENTIAL))


def test_every_refusal_is_a_push_rejected_with_a_hint() -> None:
    _, body = ups_v1("2")
    with pytest.raises(PushRejected) as info:
        verify_and_parse("ups", {}, body, UpsPushAuth(credential=CREDENTIAL))
    assert "(ups)" in str(info.value) and "credential" in str(info.value)


def test_fold_keeps_numbers_apart() -> None:
    auth = UpsPushAuth(credential=CREDENTIAL)
    updates = [
        verify_and_parse("ups", *ups_v1(name), auth).updates[0] for name in ("2", "6", "3", "7")
    ]
    folded = fold(updates)
    assert folded.keys() == {"1ZABCXYZ0112346789", "1Z204W4R0308071865"}
    assert folded["1Z204W4R0308071865"].status is Status.delivered
    assert [e.raw_code for e in folded["1ZABCXYZ0112346789"].events] == ["005", "005"]
    with pytest.raises(ValueError, match="cannot be folded"):
        PushState.of(updates[0]).apply(updates[1])
