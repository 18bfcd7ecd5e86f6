"""`carriersim serve --tls`: HTTPS from a local CA that `carriersim ca` names, on a real socket."""

from __future__ import annotations

import ssl
import stat
from pathlib import Path

import httpx

from client import CarrierSettings, TrackingClient
from tests.processes import HOST, carriersim, serving

NUMBER = "1ZY1PMRS0113639240"  # out-for-delivery, declared for UPS


def test_the_reference_client_tracks_over_tls_trusting_the_ca_file(tmp_path: Path) -> None:
    home = {"CARRIERSIM_HOME": str(tmp_path / "home")}
    ca = carriersim("ca", env=home)
    assert ca.returncode == 0, ca.stderr
    ca_file = Path(ca.stdout.strip())
    assert ca_file == tmp_path / "home" / "ca.pem" and ca_file.is_file()
    key = tmp_path / "home" / "ca-key.pem"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600  # the CA's key is its owner's only
    with serving(["--tls", "--log-level", "warning"], tmp_path / "log", env=home) as port:
        base = f"https://{HOST}:{port}"
        # The command line, trusting the CA with one setting (SSL_CERT_FILE).
        tracked = carriersim(
            "track", NUMBER, "--base-url", base, env={**home, "SSL_CERT_FILE": str(ca_file)}
        )
        assert tracked.returncode == 0, tracked.stdout + tracked.stderr
        assert f"{NUMBER}  UPS  out_for_delivery" in tracked.stdout
        # The library, with httpx's verify=.
        login = CarrierSettings(client_id="tls-test", client_secret="x")
        context = ssl.create_default_context(cafile=str(ca_file))
        with (
            httpx.Client(verify=context, trust_env=False) as http,
            TrackingClient(base_url=base, ups=login, http_client=http) as tracker,
        ):
            assert tracker.track(NUMBER).status == "out_for_delivery"
        # It is real TLS: a client that does not trust the CA refuses the server.
        # and says what to set, at once (asking again would meet the same certificate).
        untrusted = carriersim("track", NUMBER, "--base-url", base, env={**home})
        assert untrusted.returncode == 3, untrusted.stdout + untrusted.stderr
        assert "TLS certificate is not trusted" in untrusted.stdout
        assert "SSL_CERT_FILE=$(carriersim ca)" in untrusted.stdout
    # The same CA serves the next run: a client set up once keeps working.
    assert carriersim("ca", env=home).stdout.strip() == str(ca_file)
