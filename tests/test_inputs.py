"""simulator.inputs: request text becomes Python values here, or an error naming the field."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulator import inputs
from simulator.app import create_app
from simulator.inputs import InputError
from simulator.server import ServerThread
from tests.conftest import SimFactory


@given(st.text(max_size=5000) | st.binary(max_size=200) | st.integers())
def test_an_echo_is_bounded_and_says_the_length(value: object) -> None:
    shown = inputs.echo(value)
    assert len(shown) <= inputs.ECHO + 40
    if isinstance(value, str) and len(value) > inputs.ECHO:
        assert f"({len(value)} characters)" in shown


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        (b'"\\ud800"', "surrogate"),
        (b'{"a": "x\\udfffy"}', "surrogate"),
        (b"[" * 33 + b"]" * 33, "deeper than 32"),
        (b"[" * 100_000, "deeper than 32"),
        (b"NaN", "not JSON"),
        (b"1e400", "not JSON"),
        (b'"\xff"', "UTF-8"),
        (b"{", "not JSON"),
    ],
)
def test_json_a_server_could_not_carry_is_refused(raw: bytes, says: str) -> None:
    with pytest.raises(InputError) as caught:
        inputs.json_value(raw)
    assert caught.value.field == "body" and says in caught.value.message


def test_json_within_bounds_is_read() -> None:
    deep = b"[" * 32 + b"]" * 32
    assert inputs.json_value(deep) is not None
    assert inputs.json_value('"😀 \\ud83d\\ude00"'.encode()) == "😀 😀"
    assert inputs.json_value(b'{"n": 18446744073709551615}') == {"n": 18446744073709551615}


@pytest.mark.parametrize("bad", ["", "a\nb", "a\x00", "x" * 257, 5, None])
def test_a_tenant_name_is_short_printable_text(bad: object) -> None:
    with pytest.raises(InputError):
        inputs.tenant("tenant", bad)


def test_queries_and_forms_are_decoded_strictly() -> None:
    assert inputs.query(b"tenant=%C3%A9&x=1&x=2") == {"tenant": "é", "x": "2"}
    for raw in (b"tenant=%FF", b"tenant=\xff"):
        with pytest.raises(InputError):
            inputs.query(raw)
    with pytest.raises(InputError):
        inputs.form(b"client_id=%FE")


def test_a_tenant_names_the_same_tenant_by_query_and_by_header(make_sim: SimFactory) -> None:
    """A UTF-8 header is read as UTF-8, as the query is: one name, one tenant. Over a real
    socket: the in-process client re-encodes header bytes."""
    sim, _ = make_sim()
    with ServerThread(create_app(sim)) as server, httpx.Client(base_url=server.url) as c:
        by_query = c.get("/__admin/clock", params={"tenant": "é"}).json()["tenant"]
        by_header = c.get("/__admin/clock", headers={"X-Carriersim-Tenant": "é".encode()})
        assert by_query == by_header.json()["tenant"] == "é"
        r = c.get("/__admin/clock", headers={"X-Carriersim-Tenant": b"\xe9"})  # Latin-1 é
        assert r.status_code == 400 and r.json()["error"]["field"] == "X-Carriersim-Tenant"
        r = c.get(
            "/track/shipments",
            params={"trackingNumber": "1234567890"},
            headers={"DHL-API-Key": "k", "X-Carriersim-Tenant": b"\xff"},
        )
        assert r.status_code == 400 and "UTF-8" in r.json()["detail"]


def test_two_path_prefixes_that_are_not_utf8_are_refused_not_merged(
    make_sim: SimFactory,
) -> None:
    sim, c = make_sim()
    form = {"grant_type": "client_credentials", "client_id": "a", "client_secret": "s"}
    for prefix in ("/t/%FF", "/t/%FE"):
        r = c.post(f"{prefix}/oauth/token", data=form)
        assert r.status_code == 400, r.text
        assert "UTF-8" in r.json()["errors"][0]["message"]  # FedEx's own envelope
    assert "\ufffd" not in sim.store.tenants()
    r = c.post("/t/%C3%A9/oauth/token", data=form)
    assert r.status_code == 200


def test_a_bad_tenant_header_on_a_carrier_path_gets_the_carrier_envelope(
    make_sim: SimFactory,
) -> None:
    _, c = make_sim()
    r = c.get(
        "/track/shipments",
        params={"trackingNumber": "1234567890"},
        headers={"DHL-API-Key": "k", "X-Carriersim-Tenant": b"a\x01b"},
    )
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "control character" in r.json()["detail"]


def test_a_credential_is_held_to_the_tenant_name_rules(make_sim: SimFactory) -> None:
    """Every tenant a client can log in as is one the admin API can name."""
    _, c = make_sim()
    form = {"grant_type": "client_credentials", "client_id": "x" * 300, "client_secret": "s"}
    r = c.post("/oauth/token", data=form)
    assert r.status_code == 400
    assert "256 characters" in r.json()["errors"][0]["message"]
    r = c.post("/t/a%0Ab/oauth/token", data={**form, "client_id": "a"})
    assert r.status_code == 400 and "control character" in r.json()["errors"][0]["message"]
