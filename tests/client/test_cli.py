"""`carriersim track`: output and the documented exit codes."""

from __future__ import annotations

import io
import json

import httpx
import pytest

from client import RetryPolicy
from client.cli import EXIT_CODES, main
from tests.client import bodies as B
from tests.client.fakes import BASE, FakeCarriers, carrier_of, respond

CREDS_ENV = {
    "UPS_CLIENT_ID": "id",
    "UPS_CLIENT_SECRET": "secret",
    "FEDEX_CLIENT_ID": "id",
    "FEDEX_CLIENT_SECRET": "secret",
    "USPS_CLIENT_ID": "id",
    "USPS_CLIENT_SECRET": "secret",
    "DHL_API_KEY": "dhl-key",
}


def healthy(request: httpx.Request) -> httpx.Response:
    carrier = carrier_of(request.url.path)
    if carrier == "dhl":
        if request.url.params["trackingNumber"] == "8264715546":
            return respond(404, B.DHL_NOT_FOUND)
        return respond(200, B.dhl_delivered(request.url.params["trackingNumber"]))
    if carrier == "ups":
        return respond(200, B.ups_delivered_live())
    if carrier == "usps":
        return respond(200, B.usps_delivered())
    return respond(200, B.fedex_delivered())


def run(
    argv: list[str], handler: object = healthy, env: dict[str, str] | None = None
) -> tuple[int, str]:
    out = io.StringIO()
    code = main(
        argv,
        transport=httpx.MockTransport(FakeCarriers(handler)),  # type: ignore[arg-type]
        env=CREDS_ENV if env is None else env,
        retry=RetryPolicy.for_testing(max_attempts=2),
        out=out,
    )
    return code, out.getvalue()


def test_all_tracked_prints_a_timeline_and_exits_0() -> None:
    code, text = run(["track", B.UPS_NUMBER, B.DHL_NUMBER, "--base-url", BASE])
    assert code == EXIT_CODES["ok"] == 0
    assert f"{B.UPS_NUMBER}  UPS  delivered" in text
    assert "signed by JOHNSON" in text
    lines = text.splitlines()
    first_event = next(line for line in lines if "pre_transit" in line)
    assert lines.index(first_event) < next(
        i for i, ln in enumerate(lines) if "  delivered  " in ln and "PARAMUS" in ln
    )
    assert "(no offset)" in text  # DHL's offset-less scan is marked


def test_not_found_exits_1_and_says_what_to_do() -> None:
    code, text = run([B.DHL_NUMBER, "8264715546", "--base-url", BASE])
    assert code == 1
    assert "NotFound" in text and "what to do:" in text


def test_ambiguous_number_exits_1_and_lists_candidates() -> None:
    code, text = run(["00340434292135100186", "--base-url", BASE])
    assert code == 1 and "candidates: fedex, dhl, usps" in text
    code, _ = run(["00340434292135100186", "--carrier", "dhl", "--base-url", BASE])
    assert code == 0


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([], env={}) == 2
    assert main(["1Z1442YY7229014688", "--carrier", "royalmail"], env={}) == 2
    assert main(["--help"], env={}) == 0
    capsys.readouterr()


def test_missing_credentials_exit_3() -> None:
    code, text = run([B.DHL_NUMBER], env={"CARRIERSIM_DHL_BASE_URL": BASE})
    assert code == 3 and "DHL_API_KEY" in text


def test_base_url_supplies_placeholder_credentials() -> None:
    # Against a simulator URL no real credentials are needed.
    code, _ = run([B.UPS_NUMBER, "--base-url", BASE], env={})
    assert code == 0


def test_carrier_unavailable_exits_4() -> None:
    unavailable = {"status": 503, "title": "Unavailable"}
    code, text = run([B.DHL_NUMBER, "--base-url", BASE], lambda r: respond(503, unavailable))
    assert code == 4 and "CarrierUnavailable" in text


def test_malformed_answer_exits_5_and_beats_not_found() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params["trackingNumber"] == "8264715546":
            return respond(404, B.DHL_NOT_FOUND)
        return respond(200, "<html>gateway</html>")

    code, _ = run([B.DHL_NUMBER, "8264715546", "--base-url", BASE], handler=handler)
    assert code == 5


def test_json_output() -> None:
    code, text = run([B.DHL_NUMBER, "8264715546", "--json", "--base-url", BASE])
    data = json.loads(text)
    assert code == 1
    assert [d["ok"] for d in data] == [True, False]
    assert data[0]["result"]["status"] == "delivered"
    assert data[1]["error"]["type"] == "NotFound" and data[1]["error"]["hint"]
