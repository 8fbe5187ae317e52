"""The command line (docs/behaviour.md §14): --version, serve (real process, env variables), seed, scenario."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import httpx

from tests.helpers import AUTH, MOCKSCIM, free_port, read_banner


def test_version() -> None:
    """`mockscim --version` prints the version."""
    from mockscim import __version__

    out = subprocess.run([*MOCKSCIM, "--version"], capture_output=True, text=True, check=True).stdout
    assert out.strip() == f"mockscim {__version__}"


def test_serve_prints_curl_line_honours_env_and_stops_cleanly() -> None:
    """serve prints base URL, token and a working curl line; MOCKSCIM_TOKEN is read; SIGTERM stops it (exit 0)."""
    port = free_port()
    env = {**os.environ, "MOCKSCIM_TOKEN": "env-token", "MOCKSCIM_PORT": str(port)}
    proc = subprocess.Popen([*MOCKSCIM, "serve", "--log-level", "warning"], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        lines = read_banner(proc)
        assert f"http://127.0.0.1:{port}" in lines[0]
        assert "env-token" in lines[2]
        assert f"curl -s -H 'Authorization: Bearer env-token' http://127.0.0.1:{port}/scim/v2/Users" in lines[-1]
        deadline = time.monotonic() + 10
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/scim/v2/Users",
                              headers={"Authorization": "Bearer env-token"}, timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        assert r.status_code == 200 and r.json()["totalResults"] >= 1
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
    finally:
        proc.kill()


def test_serve_bad_profile_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    """A start-up error (unknown profile) exits non-zero with a one-line message."""
    r = subprocess.run([*MOCKSCIM, "serve", "--profile", "nope", "--port", str(free_port())], capture_output=True,
                       text=True, timeout=30)
    assert r.returncode == 2 and "--profile 'nope': unknown profile 'nope'" in r.stderr and "Traceback" not in r.stderr


def test_serve_cli_overrides_env(tmp_path: Path) -> None:
    """The command line wins over MOCKSCIM_* (checked on Settings.from_env, which serve uses)."""
    from mockscim.settings import Settings

    s = Settings.from_env({"MOCKSCIM_PORT": "9000", "MOCKSCIM_SECRET_SERVER_DOWN": "yes"}, port=9100)
    assert s.port == 9100 and s.secret_server_down is True


def test_seed_writes_a_valid_state(tmp_path: Path) -> None:
    """`mockscim seed` writes a state file the server loads; same arguments → identical bytes."""
    out1, out2 = tmp_path / "a.json", tmp_path / "b.json"
    args = ["seed", "--users", "20", "--groups", "3", "--containers", "4", "--secrets", "5", "--seed", "7"]
    subprocess.run([*MOCKSCIM, *args, "-o", str(out1)], check=True, capture_output=True)
    subprocess.run([*MOCKSCIM, *args, "-o", str(out2)], check=True, capture_output=True)
    assert out1.read_bytes() == out2.read_bytes()
    state = json.loads(out1.read_text())
    assert len(state["Users"]) == 21 and len(state["Containers"]) == 4
    from starlette.testclient import TestClient

    from mockscim.app import create_app
    from mockscim.settings import Settings

    client = TestClient(create_app(Settings(fixture=str(out1))))
    assert client.get("/scim/v2/Users", headers=AUTH).json()["totalResults"] == 21


def test_scenario_list_and_check(tmp_path: Path) -> None:
    """`scenario list` names the shipped scenarios; `scenario check` exits 1 naming the bad rule and key."""
    out = subprocess.run([*MOCKSCIM, "scenario", "list"], capture_output=True, text=True, check=True).stdout
    assert "secret-server-outage" in out and "throttled" in out
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nrules:\n  - match: {method: GET}\n    then: {latency: 5 sec}\n")
    r = subprocess.run([*MOCKSCIM, "scenario", "check", str(bad)], capture_output=True, text=True)
    assert r.returncode == 1 and "rules[0]" in r.stderr and "latency" in r.stderr
