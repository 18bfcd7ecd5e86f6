"""HTTPS for ``carriersim serve --tls``: a local certificate authority and a server certificate.

The CA is made once and kept (``carriersim ca`` prints where), so a client trusts every
later ``serve --tls`` with one setting: ``SSL_CERT_FILE`` (httpx, and so ``carriersim
track``; Python's ``ssl``), ``REQUESTS_CA_BUNDLE`` (requests), ``NODE_EXTRA_CA_CERTS``
(Node), or httpx's ``verify=``. Each ``serve --tls`` issues a fresh server certificate from
that CA for the loopback names and the address it listens on. The CA's key never leaves the
folder, which only its owner can read; it signs nothing but these local certificates.
"""

from __future__ import annotations

import fcntl
import ipaddress
import os
import tempfile
from pathlib import Path

HOME_ENV = "CARRIERSIM_HOME"
"""Where the CA is kept, when set (default: ``$XDG_DATA_HOME/carriersim``, else
``~/.local/share/carriersim``)."""

CA_FILE = "ca.pem"
_CA_KEY = "ca-key.pem"
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


def home(env: dict[str, str] | None = None) -> Path:
    """The folder carriersim keeps its CA in."""
    env = dict(os.environ) if env is None else env
    if env.get(HOME_ENV):
        return Path(env[HOME_ENV])
    data = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "carriersim"


def ensure_ca(folder: Path | None = None) -> Path:
    """The CA certificate's path, making the CA first if there is none yet."""
    import trustme

    folder = home() if folder is None else folder
    cert = folder / CA_FILE
    if cert.is_file():
        return cert
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    # Two servers starting at once must not each make half a CA.
    with (folder / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if cert.is_file():
            return cert
        ca = trustme.CA(organization_name="carriersim local CA")
        # The key first: a certificate on disk means a CA that is whole.
        _write_private(folder / _CA_KEY, ca.private_key_pem.bytes())
        _write_private(cert, ca.cert_pem.bytes(), mode=0o644)
    return cert


def server_certificate(host: str, folder: Path | None = None) -> Path:
    """A fresh certificate (key and chain in one PEM file) for the loopback names and
    ``host``, signed by the local CA."""
    import trustme

    folder = home() if folder is None else folder
    ca_cert = ensure_ca(folder)
    ca = trustme.CA.from_pem(ca_cert.read_bytes(), (folder / _CA_KEY).read_bytes())
    names = list(LOOPBACK_NAMES)
    if host not in names and not _unspecified(host):
        names.append(host)
    leaf = ca.issue_cert(*names, common_name=names[0])
    slug = "".join(c if c.isalnum() else "-" for c in host)
    path = folder / f"server-{slug}.pem"
    _write_private(path, leaf.private_key_and_cert_chain_pem.bytes())
    return path


def _write_private(path: Path, data: bytes, mode: int = 0o600) -> None:
    # Written whole under another name, then renamed: a server starting meanwhile reads the
    # old file or the new one, never half of one.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _unspecified(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False
