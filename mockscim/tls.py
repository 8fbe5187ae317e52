"""HTTPS for `--tls`: a local CA made once and reused, and a server certificate it issues (docs/behaviour.md §14)."""

from __future__ import annotations

import ipaddress
import os
import shutil
import ssl
import tempfile
from pathlib import Path

__all__ = ["ServerCert", "ca_dir", "ca_path", "client_context", "load_or_create_ca"]

_CA_NAME = "mockscim local CA"


def ca_dir() -> Path:
    """Where the CA lives: ``$MOCKSCIM_HOME/ca``, else ``$XDG_DATA_HOME/mockscim/ca`` (``~/.local/share``)."""
    home = os.environ.get("MOCKSCIM_HOME")
    if home:
        return Path(home).expanduser() / "ca"
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "mockscim" / "ca"


def ca_path() -> Path:
    """The CA certificate clients trust (``verify=``, ``REQUESTS_CA_BUNDLE``, ``SSL_CERT_FILE``)."""
    return ca_dir() / "ca.pem"


def load_or_create_ca() -> tuple[bytes, bytes]:
    """The CA's certificate and key (PEM), created on first use. Creation writes a new directory and renames it
    into place, so two processes starting at once end with one CA, and a half-written CA is never read."""
    import trustme

    folder = ca_dir()
    if not (folder / "ca.pem").is_file():
        folder.parent.mkdir(parents=True, exist_ok=True)
        ca = trustme.CA(organization_name=_CA_NAME)
        fresh = Path(tempfile.mkdtemp(prefix=".ca-", dir=folder.parent))
        (fresh / "ca.pem").write_bytes(ca.cert_pem.bytes())
        key = fresh / "ca-key.pem"
        key.touch(mode=0o600)  # the CA's key stays its owner's
        key.write_bytes(ca.private_key_pem.bytes())
        fresh.chmod(0o755)
        try:
            fresh.rename(folder)
        except OSError:  # another process was first: use its CA
            shutil.rmtree(fresh, ignore_errors=True)
    return (folder / "ca.pem").read_bytes(), (folder / "ca-key.pem").read_bytes()


class ServerCert:
    """A certificate for ``localhost``, ``127.0.0.1``, ``::1`` and ``names``, issued by the local CA, as files
    uvicorn can load (a private temporary directory; :meth:`remove` deletes it)."""

    def __init__(self, names: list[str]) -> None:
        import trustme

        cert, key = load_or_create_ca()
        ca = trustme.CA.from_pem(cert, key)
        identities = list(dict.fromkeys(["localhost", "127.0.0.1", "::1", *(n for n in names if _nameable(n))]))
        leaf = ca.issue_cert(*identities, organization_name=_CA_NAME)
        self.folder = Path(tempfile.mkdtemp(prefix="mockscim-tls-"))  # 0700: the key is readable by us alone
        self.certfile = self.folder / "server.pem"
        self.keyfile = self.folder / "server-key.pem"
        self.certfile.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
        self.keyfile.write_bytes(leaf.private_key_pem.bytes())

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def _nameable(name: str) -> bool:
    """A name a certificate can carry: not a wildcard bind address, not empty."""
    name = name.strip("[]")
    if not name or name in ("0.0.0.0", "::"):
        return False
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return "/" not in name and " " not in name
    return True


def client_context(cafile: str | os.PathLike[str]) -> ssl.SSLContext:
    """An SSL context that trusts ``cafile`` (for httpx's ``verify=``)."""
    return ssl.create_default_context(cafile=os.fspath(cafile))
