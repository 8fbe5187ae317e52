"""HTTPS, the Host allow-list, --public-url, forwarded headers, --secret-server-path (docs/behaviour.md §14)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from mockscim import MockScim
from mockscim.tls import client_context
from tests.helpers import AUTH, MOCKSCIM, free_port, read_banner

SERVICE = ("scim-service@mockscim.test", "mockscim-secret")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """mockscim's home (where the local CA lives) in a temporary directory."""
    monkeypatch.setenv("MOCKSCIM_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def location(client: Any, **headers: str) -> str:
    r = client.get("/scim/v2/Users?count=1", headers={**AUTH, **headers})
    assert r.status_code == 200, r.text
    return str(r.json()["Resources"][0]["meta"]["location"])


# -- the Host allow-list --------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/scim/v2/Users", "/api/v1/secrets/12", "/oauth2/token"])
def test_a_foreign_host_is_refused_on_every_surface(make_client: Any, path: str) -> None:
    client = make_client()
    r = client.request("POST" if "token" in path else "GET", path, headers={**AUTH, "Host": "evil.example"})
    assert r.status_code == 400
    assert "Host 'evil.example' is not a name this server answers to" in r.text


def test_a_foreign_host_cannot_drive_the_control_plane(make_client: Any) -> None:
    """DNS rebinding: a page on evil.example re-pointed at 127.0.0.1 still sends its own Host → 403, nothing done."""
    client = make_client()
    r = client.put("/_mockscim/secret-server", json={"available": False}, headers={"Host": "evil.example:8000"})
    assert r.status_code == 403 and "evil.example" in r.json()["error"]
    assert client.get("/_mockscim/secret-server", headers={"Host": "127.0.0.1:8000"}).json() == {"available": True}


@pytest.mark.parametrize("host", ["localhost:8000", "127.0.0.1", "[::1]:8000", "LOCALHOST", "mockscim:8000",
                                  "scim.example.test"])
def test_loopback_single_label_and_public_hosts_are_answered(make_client: Any, host: str) -> None:
    client = make_client(public_url="https://scim.example.test")
    assert client.get("/scim/v2/Users", headers={**AUTH, "Host": host}).status_code == 200


def test_the_bind_host_is_allowed_and_a_wildcard_bind_allows_addresses(make_client: Any) -> None:
    assert make_client(host="10.1.2.3").get("/scim/v2/Users", headers={**AUTH, "Host": "10.1.2.3:8000"}).is_success
    assert make_client().get("/scim/v2/Users", headers={**AUTH, "Host": "10.1.2.3:8000"}).status_code == 400
    assert make_client(host="0.0.0.0").get("/scim/v2/Users", headers={**AUTH, "Host": "10.1.2.3"}).is_success
    assert make_client(host="0.0.0.0").get("/scim/v2/Users", headers={**AUTH, "Host": "a.example"}).status_code == 400


# -- the base URL -------------------------------------------------------------------------------------------------
def test_public_url_shows_in_meta_location_refs_and_the_vault_url(make_client: Any) -> None:
    client = make_client(public_url="https://scim.example.test/")
    assert location(client).startswith("https://scim.example.test/scim/v2/Users/")
    group = client.get("/scim/v2/Groups?count=1", headers=AUTH).json()["Resources"][0]
    assert all(m["$ref"].startswith("https://scim.example.test/scim/v2/") for m in group.get("members", []))
    vault = client.get("/platform/vaultbroker/api/vaults", headers=AUTH).json()["vaults"][0]
    assert vault["connection"]["url"] == "https://scim.example.test"


def test_forwarded_headers_are_believed_from_trusted_peers_only() -> None:
    from mockscim import create_app
    from mockscim.settings import Settings

    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "localhost:9443"}
    app = create_app(Settings())
    trusted = TestClient(app, base_url="http://localhost:8000", client=("127.0.0.1", 5000))
    assert location(trusted, **forwarded).startswith("https://localhost:9443/scim/v2/Users/")
    untrusted = TestClient(app, base_url="http://localhost:8000", client=("192.0.2.7", 5000))
    assert location(untrusted, **forwarded).startswith("http://localhost:8000/scim/v2/Users/")
    wide = TestClient(create_app(Settings(forwarded_allow_ips="192.0.2.0/24")), base_url="http://localhost:8000",
                      client=("192.0.2.7", 5000))
    assert location(wide, **forwarded).startswith("https://localhost:9443/")
    anyone = TestClient(create_app(Settings(forwarded_allow_ips="*")), base_url="http://localhost:8000",
                        client=("203.0.113.9", 5000))
    assert location(anyone, **forwarded).startswith("https://localhost:9443/")
    # A trusted X-Forwarded-Host is held to the same allow-list as Host.
    r = trusted.get("/scim/v2/Users", headers={**AUTH, "X-Forwarded-Host": "evil.example"})
    assert r.status_code == 400


# -- --secret-server-path -----------------------------------------------------------------------------------------
def test_the_secret_server_answers_under_an_on_prem_prefix(make_client: Any) -> None:
    client = make_client(secret_server_path="/SecretServer")
    form = {"grant_type": "password", "username": SERVICE[0], "password": SERVICE[1]}
    token = client.post("/SecretServer/oauth2/token", data=form).json()["access_token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/SecretServer/api/v1/secrets/12", headers=bearer).json()["name"] == "db-root"
    assert client.get("/api/v1/secrets/12", headers=bearer).json()["name"] == "db-root"  # the root still works
    assert client.get("/SecretServer/scim/v2/Users", headers=AUTH).status_code == 404  # SCIM is not below it
    entries = client.get("/_mockscim/journal").json()["entries"]
    assert entries[1]["path"] == "/SecretServer/api/v1/secrets/12"  # the journal shows what the client sent


# -- HTTPS --------------------------------------------------------------------------------------------------------
def test_mockscim_tls_serves_https_its_client_trusts(home: Path) -> None:
    with MockScim(tls=True) as m:
        assert m.url.startswith("https://127.0.0.1:") and m.ca_path == home / "ca" / "ca.pem"
        with m.client() as scim:
            assert scim.get("/Users").status_code == 200
        r = httpx.get(f"{m.url}/_mockscim/health", verify=client_context(m.ca_path))  # httpx verifies it
        assert r.json()["status"] == "ok"
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            httpx.get(f"{m.url}/_mockscim/health")  # not a publicly trusted certificate
    with MockScim(tls=True) as again:  # the CA is created once and reused
        assert again.ca_path == m.ca_path
        assert httpx.get(f"{again.url}/_mockscim/health", verify=client_context(m.ca_path)).is_success



@pytest.fixture
def served(home: Path) -> Iterator[tuple[str, str]]:
    """``mockscim serve --tls`` as a process: its URL and the CA path its banner printed."""
    port = free_port()
    proc = subprocess.Popen([*MOCKSCIM, "serve", "--tls", "--port", str(port), "--token-grace", "300",
                             "--log-level", "warning"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "MOCKSCIM_HOME": str(home)})
    try:
        banner = read_banner(proc)
        ca = next(line for line in banner if "TLS CA:" in line).split("TLS CA:")[1].split()[0]
        assert f"https://127.0.0.1:{port}" in banner[0]
        yield f"https://127.0.0.1:{port}", ca
    finally:
        proc.terminate()
        proc.wait(10)


def test_serve_tls_python_tss_sdk_reads_a_secret_with_the_printed_ca(served: tuple[str, str],
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK (requests underneath, no verify= of its own) trusts the CA through REQUESTS_CA_BUNDLE."""
    from delinea.secrets.server import (  # type: ignore[import-untyped]
        PasswordGrantAuthorizer,
        SecretServer,
        ServerSecret,
    )

    url, ca = served
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", ca)
    server = SecretServer(url, PasswordGrantAuthorizer(url, *SERVICE))
    secret = ServerSecret(**server.get_secret(12))
    assert secret.fields["username"].value == "root"
    import requests  # type: ignore[import-untyped]

    assert requests.get(f"{url}/_mockscim/health", verify=ca, timeout=10).json()["status"] == "ok"
    assert httpx.get(f"{url}/_mockscim/health", verify=client_context(ca)).json()["status"] == "ok"


def test_tls_ca_path_prints_the_ca_and_creates_it_once(home: Path) -> None:
    env = {**os.environ, "MOCKSCIM_HOME": str(home)}
    first = subprocess.run([*MOCKSCIM, "tls", "ca-path"], capture_output=True, text=True, env=env, timeout=30)
    assert first.returncode == 0 and first.stdout.strip() == str(home / "ca" / "ca.pem")
    pem = Path(first.stdout.strip()).read_bytes()
    assert pem.startswith(b"-----BEGIN CERTIFICATE-----")
    again = subprocess.run([*MOCKSCIM, "tls", "ca-path"], capture_output=True, text=True, env=env, timeout=30)
    assert again.stdout == first.stdout and Path(again.stdout.strip()).read_bytes() == pem
    assert (home / "ca" / "ca-key.pem").stat().st_mode & 0o077 == 0


def test_mockscim_refuses_bad_values_with_the_serve_wording() -> None:
    with pytest.raises(ValueError, match=r"^--token-ttl -5: must be a positive number$"):
        MockScim(token_ttl=-5)
    with pytest.raises(ValueError, match=r"^--public-url 'nope': expected http\(s\)://host\[:port\]\[/path\]$"):
        MockScim(public_url="nope")
