"""The plugin's webhook receiver fixture, run the way users meet it: pytest inside pytest,
a real server on a loopback socket, deliveries sent over HTTP."""

from __future__ import annotations

import httpx
import pytest

from simulator.webhook_recorder import WebhookServer
from tests.plugin.test_plugin import inner, run, write

pytest_plugins = ["pytester"]

__all__ = ["inner"]  # the fixture, used by the tests below


def test_records_deliveries_and_answers_as_told(inner: pytest.Pytester) -> None:
    write(
        inner,
        """
        import time

        def test_inbox(carriersim_webhook):
            hook = carriersim_webhook
            assert hook.url.startswith("http://127.0.0.1:")
            hook.respond(500, times=2, path="/fedex")
            hook.respond(202, body={"ok": True}, path="/fedex")
            with httpx.Client(trust_env=False, timeout=5) as http:
                sent = [
                    http.post(hook.url + "/fedex", content=b'{"n": %d}' % i,
                              headers={"fdx-signature": "sig"}).status_code
                    for i in range(4)
                ]
                other = http.post(hook.url + "/usps?x=1", json={"payload": "{}"})
            assert sent == [500, 500, 202, 202] and other.status_code == 200
            first, *_, last = hook.wait_for(4, path="/fedex")
            assert first.method == "POST" and first.header("FDX-Signature") == "sig"
            assert first.json() == {"n": 0} and first.status == 500
            assert last.status == 202 and last.received_at <= hook.deliveries[-1].received_at
            (usps,) = hook.wait_for(1, path="usps")
            assert usps.query == "x=1" and usps.header_map["content-type"] == "application/json"
            assert [d.path for d in hook.deliveries] == ["/fedex"] * 4 + ["/usps"]


        def test_hang_then_answer(carriersim_webhook):
            carriersim_webhook.hang(1.0, times=1)
            with httpx.Client(trust_env=False) as http:
                with pytest.raises(httpx.ReadTimeout):
                    http.post(carriersim_webhook.url, content=b"{}", timeout=0.2)
                started = time.monotonic()
                again = http.post(carriersim_webhook.url, content=b"{}", timeout=5)
                assert again.status_code == 200
                assert time.monotonic() - started < 0.9
            hung, answered = carriersim_webhook.wait_for(2)
            assert (hung.delay, answered.delay) == (1.0, 0.0)
            assert answered.monotonic > hung.monotonic


        def test_wait_is_bounded_and_says_what_arrived(carriersim_webhook):
            with httpx.Client(trust_env=False, timeout=5) as http:
                http.put(carriersim_webhook.url + "/ups", content=b"x")
            started = time.monotonic()
            with pytest.raises(AssertionError, match=r"0 of 1 deliveries below /dhl arrived "
                               r"within 0.3 s \\(received: PUT /ups → 200\\)"):
                carriersim_webhook.wait_for(1, timeout=0.3, path="/dhl")
            assert time.monotonic() - started < 2


        def test_bad_rule(carriersim_webhook):
            with pytest.raises(ValueError, match="not an HTTP status"):
                carriersim_webhook.respond(42)
            with pytest.raises(ValueError, match="times"):
                carriersim_webhook.respond(200, times=0)
        """,
    )
    run(inner).assert_outcomes(passed=4)


def test_each_test_has_its_own_inbox(inner: pytest.Pytester) -> None:
    write(
        inner,
        """
        URLS = []

        def test_first(carriersim_webhook, carriersim_webhook_server):
            URLS.append(carriersim_webhook.url)
            carriersim_webhook.respond(503)
            with httpx.Client(trust_env=False, timeout=5) as http:
                assert http.post(carriersim_webhook.url, content=b"1").status_code == 503

        def test_second(carriersim_webhook, carriersim_webhook_server):
            assert carriersim_webhook.url != URLS[0]
            assert carriersim_webhook.deliveries == []
            with httpx.Client(trust_env=False, timeout=5) as http:
                # The first test's rule is gone with its inbox; a late delivery there is a stray.
                assert http.post(carriersim_webhook.url, content=b"2").status_code == 200
                assert http.post(URLS[0], content=b"late").status_code == 404
            assert carriersim_webhook_server.strays == ["POST /" + URLS[0].rsplit("/", 1)[1]]
        """,
    )
    run(inner).assert_outcomes(passed=2)


def test_a_failing_test_reports_its_deliveries(inner: pytest.Pytester) -> None:
    write(
        inner,
        """
        def test_expects_two(carriersim_webhook):
            carriersim_webhook.respond(500)
            with httpx.Client(trust_env=False, timeout=5) as http:
                http.post(carriersim_webhook.url + "/usps", content=b"{}")
            carriersim_webhook.wait_for(2, timeout=0.2)
        """,
    )
    result = run(inner)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["*carriersim: webhook deliveries to http://127.0.0.1:*", "*POST /usps → 500 (2 bytes)*"]
    )


def test_the_server_without_pytest() -> None:
    with WebhookServer() as server:
        inbox = server.inbox("orders / eu")
        assert "/orders-eu-" in inbox.url
        inbox.respond(429, times=1)
        with httpx.Client(trust_env=False, timeout=5) as http:
            codes = [http.post(inbox.url + "/dhl", content=b"{}").status_code for _ in range(2)]
        assert codes == [429, 200]
        assert [d.status for d in inbox.wait_for(2)] == [429, 200]
        inbox.clear()
        assert inbox.deliveries == []
