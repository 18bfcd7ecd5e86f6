"""The real thing: `carriersim serve` as a process, uvicorn on a real loopback socket."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from simulator.loader import load_paths
from simulator.probe import ask
from simulator.settings import BUNDLED_SCENARIOS
from tests.processes import HOST, serving

JOURNAL_LIMIT = 25


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    args = ["--clock-start", "2026-03-02T15:00:00Z", "--log-level", "warning",
            "--journal-limit", str(JOURNAL_LIMIT)]  # fmt: skip
    log = tmp_path_factory.mktemp("server") / "stderr.log"
    with serving(args, log, env={"CARRIERSIM_SECRET": "socket-test"}) as port:
        yield f"http://{HOST}:{port}"


@pytest.mark.parametrize("carrier", ["ups", "fedex", "usps", "dhl"])
def test_tracks_a_delivered_parcel_over_a_real_socket(server: str, carrier: str) -> None:
    scenario = {s.name: s for s in load_paths([BUNDLED_SCENARIOS])}["delivered-on-time"]
    number = scenario.numbers[carrier][0]

    async def go() -> tuple[httpx.Response, httpx.Response]:
        async with httpx.AsyncClient(base_url=server, timeout=10) as http:
            direct = await ask(http, carrier, number, tenant=f"socket-{carrier}")
        async with httpx.AsyncClient(base_url=f"{server}/{carrier}", timeout=10) as http:
            prefixed = await ask(http, carrier, number, tenant=f"socket-{carrier}")
        return direct, prefixed

    direct, prefixed = asyncio.run(go())
    assert direct.status_code == 200, direct.text
    assert number in direct.text
    assert "json" in direct.headers["content-type"]
    # The per-carrier prefix serves the very same API.
    assert prefixed.status_code == 200
    assert _stable(prefixed) == _stable(direct)


def _stable(response: httpx.Response) -> object:
    """The body without the per-request transaction id FedEx stamps on every answer."""
    body = response.json()
    if isinstance(body, dict):
        body.pop("transactionId", None)
    return body


def test_unknown_path_is_a_clear_json_404(server: str) -> None:
    r = httpx.get(f"{server}/nope")
    assert r.status_code == 404
    assert r.json()["path"] == "/nope"


def test_the_journal_keeps_as_many_requests_as_serve_was_told(server: str) -> None:
    with httpx.Client(base_url=server, timeout=10) as http:
        for i in range(JOURNAL_LIMIT + 10):
            http.get(f"/journal-limit-probe/{i}")
        kept = http.get("/__admin/requests").json()
    probes = [e["path"] for e in kept if "journal-limit-probe" in e["path"]]
    assert len(kept) == JOURNAL_LIMIT
    assert probes[-1] == f"/journal-limit-probe/{JOURNAL_LIMIT + 9}"
