"""Every bad `serve` value and a port in use: one line naming it, the right exit code, no traceback (§14)."""

from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import pytest

from tests.helpers import MOCKSCIM, free_port, one_line, read_banner, run


@pytest.mark.parametrize(("args", "line"), [
    (["--log-level", "loud"],
     "mockscim serve: --log-level 'loud': not a log level (critical|error|warning|info|debug)"),
    (["--port", "99999"], "mockscim serve: --port 99999: not a TCP port (0-65535; 0 picks a free one)"),
    (["--port", "-1"], "mockscim serve: --port -1: not a TCP port (0-65535; 0 picks a free one)"),
    (["--token-ttl", "-5"], "mockscim serve: --token-ttl -5: must be a positive number"),
    (["--token-grace", "-1"], "mockscim serve: --token-grace -1: must not be negative"),
    (["--journal-size", "0"], "mockscim serve: --journal-size 0: must be a positive number"),
    (["--max-body", "-1"], "mockscim serve: --max-body -1: must be a positive number of bytes"),
    (["--admin-token", ""],
     "mockscim serve: --admin-token '': a bearer token must be non-empty, without spaces (RFC 6750 §2.1)"),
    (["--token", "a b"],
     "mockscim serve: --token 'a b': a bearer token must be non-empty, without spaces (RFC 6750 §2.1)"),
    (["--fixture", "nope.json"],
     "mockscim serve: --fixture 'nope.json': no such file (nor a shipped fixture: default, empty)"),
    (["--store", "/nonexistent-dir/s.json"],
     "mockscim serve: --store '/nonexistent-dir/s.json': directory /nonexistent-dir does not exist"),
    (["--journal-file", "/nonexistent-dir/j.jsonl"],
     "mockscim serve: --journal-file '/nonexistent-dir/j.jsonl': directory /nonexistent-dir does not exist"),
    (["--public-url", "scim.example.test"],
     "mockscim serve: --public-url 'scim.example.test': expected http(s)://host[:port][/path]"),
    (["--forwarded-allow-ips", "10.0.0.1,nope"],
     "mockscim serve: --forwarded-allow-ips '10.0.0.1,nope': 'nope' is not an IP address or network (or '*')"),
    (["--secret-server-path", "SecretServer"],
     "mockscim serve: --secret-server-path 'SecretServer': expected a path such as /SecretServer"),
    (["--tls-cert", "cert.pem"], "mockscim serve: --tls-key None: --tls-cert and --tls-key go together"),
])
def test_a_bad_value_is_one_line_naming_option_and_value(args: list[str], line: str) -> None:
    r = run("serve", "--port", str(free_port()), *args)
    assert r.returncode == 2
    assert one_line(r) == line


def test_a_host_that_does_not_resolve_names_the_option() -> None:
    r = run("serve", "--port", str(free_port()), "--host", "nowhere.invalid")
    assert r.returncode == 2
    assert one_line(r).startswith("mockscim serve: --host 'nowhere.invalid': not an address of this machine (")


def test_a_missing_scenario_names_the_option() -> None:
    r = run("serve", "--port", str(free_port()), "--scenario", "nope.yaml")
    assert r.returncode == 2
    assert one_line(r).startswith("mockscim serve: --scenario 'nope.yaml': unknown scenario 'nope.yaml'")


def test_an_unwritable_store_directory(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    if os.access(locked, os.W_OK):  # root: a directory the kernel refuses files in
        locked = Path("/sys")
    r = run("serve", "--port", str(free_port()), "--store", str(locked / "s.json"))
    assert r.returncode == 2
    assert one_line(r) == f"mockscim serve: --store {str(locked / 's.json')!r}: directory {locked} is not writable"


def test_a_bad_environment_value_names_the_variable() -> None:
    r = run("serve", env={"MOCKSCIM_PORT": "eighty"})
    assert r.returncode == 2
    assert one_line(r) == "mockscim serve: MOCKSCIM_PORT: expected an integer, got 'eighty'"


def test_a_port_in_use_is_exit_1_before_any_banner() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        r = run("serve", "--port", str(port))
    assert r.returncode == 1
    assert one_line(r) == (f"mockscim serve: cannot listen on 127.0.0.1:{port}: address already in use "
                           "(another mockscim? pick another --port)")


def test_port_0_prints_the_port_it_listens_on() -> None:
    proc = subprocess.Popen([*MOCKSCIM, "serve", "--port", "0", "--log-level", "warning"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        first = read_banner(proc)[0]
        port = int(first.split("http://127.0.0.1:")[1].split()[0].rstrip(","))
        assert port > 0
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            pass
    finally:
        proc.terminate()
        proc.wait(10)


def test_the_banner_names_everything_a_first_user_needs(tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen([*MOCKSCIM, "serve", "--port", str(port), "--scenario", "throttled", "--admin-token", "adm",
                             "--journal-file", str(tmp_path / "j.jsonl"), "--store", str(tmp_path / "s.json"),
                             "--secret-server-down", "--secret-server-path", "/SecretServer", "--log-level", "warning"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        banner = "".join(read_banner(proc))
    finally:
        proc.terminate()
        proc.wait(10)
    base = f"http://127.0.0.1:{port}"
    for text in (f"SCIM base URL:        {base}/scim/v2", "bearer token:         mockscim-token",
                 f"OAuth token endpoint: {base}/identity/api/oauth2/token/xpmplatform "
                 "(client_id scim-service@mockscim.test)",
                 f"Secret Server:        {base}/SecretServer (Platform mode: {base}/platform), down",
                 f"dashboard:            {base}/_mockscim/", "profile:              cloud",
                 "scenario:             throttled", f"store:                {tmp_path / 's.json'}",
                 f"journal file:         {tmp_path / 'j.jsonl'}", "control plane:        guarded by --admin-token"):
        assert text in banner, banner


def test_tls_without_a_place_for_the_ca_is_one_line() -> None:
    env = {"MOCKSCIM_HOME": "/dev/null/home"}
    r = run("serve", "--tls", "--port", str(free_port()), env=env)
    assert r.returncode == 2
    assert one_line(r) == "mockscim serve: --tls: cannot create the local CA in /dev/null/home/ca: Not a directory"
    r = run("tls", "ca-path", env=env)
    assert r.returncode == 1 and one_line(r).startswith("mockscim tls: cannot create the CA in ")


def test_a_tls_pair_that_does_not_load_is_one_line(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert.write_text("not a certificate")
    key.write_text("not a key")
    r = run("serve", "--port", str(free_port()), "--tls-cert", str(cert), "--tls-key", str(key))
    assert r.returncode == 2
    assert one_line(r).startswith(f"mockscim serve: --tls-cert {str(cert)!r}, --tls-key {str(key)!r}: not a matching "
                                  "PEM pair")


def test_your_own_tls_pair_is_served(tmp_path: Path) -> None:
    import ssl

    import httpx
    import trustme

    ca = trustme.CA()
    leaf = ca.issue_cert("127.0.0.1")
    cert, key, cafile = tmp_path / "cert.pem", tmp_path / "key.pem", tmp_path / "ca.pem"
    leaf.cert_chain_pems[0].write_to_path(str(cert))
    leaf.private_key_pem.write_to_path(str(key))
    ca.cert_pem.write_to_path(str(cafile))
    port = free_port()
    proc = subprocess.Popen([*MOCKSCIM, "serve", "--port", str(port), "--tls-cert", str(cert), "--tls-key", str(key),
                             "--log-level", "warning"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        banner = read_banner(proc)
        assert f"listening on https://127.0.0.1:{port}" in banner[0]
        assert "TLS CA:               (your --tls-cert's issuer)" in "".join(banner)
        verify = ssl.create_default_context(cafile=str(cafile))
        assert httpx.get(f"https://127.0.0.1:{port}/_mockscim/health", verify=verify).json()["status"] == "ok"
    finally:
        proc.terminate()
        proc.wait(10)
