"""What the tests share: the token and headers, the default fixture's names and ids, small request helpers."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from starlette.testclient import TestClient

if TYPE_CHECKING:
    from httpx2 import Response  # what starlette's TestClient answers with, httpx2 being installed (the test extra)

# -- credentials and headers ---------------------------------------------------------------------------------------

TOKEN = "mockscim-token"  # the static token of the default settings (docs/behaviour.md §2)
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SCIM = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/scim+json"}
TOKEN_URL = "/identity/api/oauth2/token/xpmplatform"  # the Platform token endpoint (docs/behaviour.md §2)

# -- SCIM URNs and paths -------------------------------------------------------------------------------------------

CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
LINKED = "urn:ietf:params:scim:schemas:pam:1.0:LinkedObject"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
USERS, GROUPS = "/scim/v2/Users", "/scim/v2/Groups"

# -- the default fixture (fixtures/default.json) -------------------------------------------------------------------

# userName (displayName for groups) and id of each; the service user's client secret, bjensen's password.
SERVICE, SERVICE_ID = "scim-service@mockscim.test", "8a0b3f0e-5c1d-4e0a-9a57-000000000001"
SERVICE_SECRET = "mockscim-secret"
BJENSEN, BJENSEN_ID = "bjensen@example.com", "2819c223-7f76-453a-919d-413861904646"
BJENSEN_PASSWORD = "Jensen-2024!"
MPEPPER, MPEPPER_ID = "mpepper@example.com", "c5a2e7d1-1f0b-4c57-8e2a-5b7f1d3a9e10"
JDOE, JDOE_ID = "jdoe@corp.example.com", "0f6d2b9a-3c4e-4f21-a8d7-9e1b2c3d4e5f"  # federated: LinkedObject source
OLD_ADMIN, OLD_ADMIN_ID = "old.admin@example.com", "7b3e9c1a-8d2f-4a6b-b5c4-3e2d1f0a9b8c"  # active false
TOUR_GUIDES, TOUR_GUIDES_ID = "Tour Guides", "e9e30dba-f08f-4109-8486-d5c6a331660a"  # members: bjensen
DB_ADMINS_ID = "fc348aa8-3835-40eb-a20b-c726e15c55b5"  # members: mpepper, jdoe
SERVICE_LOGIN = (SERVICE, SERVICE_SECRET)  # password-grant users (docs/behaviour.md §9)
BJENSEN_LOGIN = (BJENSEN, BJENSEN_PASSWORD)

# -- error texts of the catalogue (docs/behaviour.md §7) -----------------------------------------------------------

INVALID_VALUE = ("A required value was missing, or the value specified was not compatible with the operation or "
                 "attribute type, or resource schema")
NOT_AUTHORIZED = ("You are not authorized to perform this operation. Please contact your IT helpdesk. "
                  "No additional diagnostic information is available.")
OWNER_REQUIRED = "Owner-level permission is required for this operation."
UNAVAILABLE = "Secret Server service unavailable."
SS_DENIED = {"errorCode": "API_AccessDenied", "message": "Access Denied"}  # the Secret Server API's (§9)
SS_UNAVAILABLE = {"errorCode": "ServiceUnavailable", "message": UNAVAILABLE}  # docs/behaviour.md §8

# -- processes and ports -------------------------------------------------------------------------------------------

MOCKSCIM = [sys.executable, "-m", "mockscim"]  # the real command line, for tests that need its process

Make = Callable[..., TestClient]  # the ``make_client`` fixture: a client on a new app from Settings keywords


def free_port() -> int:
    """A loopback port free right now, for ``mockscim serve --port`` in a subprocess.

    The command line cannot pick a port itself and report it, so another process may take this one before the server
    binds it. Tests that need a live server in process use :class:`mockscim.MockScim`, which binds first.
    """
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- SCIM requests and answers -------------------------------------------------------------------------------------


def err(status: int, detail: str, scim_type: str | None = None) -> dict[str, Any]:
    """A SCIM error body (RFC 7644 §3.12: ``status`` a string)."""
    body: dict[str, Any] = {"schemas": [ERROR], "status": str(status)}
    if scim_type:
        body["scimType"] = scim_type
    body["detail"] = detail
    return body


def assert_scim_error(r: Response, status: int, detail: str, scim_type: str | None = None) -> None:
    """The response is exactly this SCIM error (RFC 7644 §3.12: ``status`` a string)."""
    body: dict[str, Any] = {"schemas": [ERROR], "status": str(status), "detail": detail}
    if scim_type is not None:
        body["scimType"] = scim_type
    assert (r.status_code, r.json()) == (status, body)


def patch_body(*ops: dict[str, Any]) -> dict[str, Any]:
    """A PatchOp request body carrying ``ops``."""
    return {"schemas": [PATCH_OP], "Operations": list(ops)}


def patch(client: TestClient, path: str, *ops: dict[str, Any], **headers: str) -> Response:
    """PATCH ``path`` with ``ops`` (SCIM headers, plus ``headers``)."""
    return client.patch(path, json=patch_body(*ops), headers={**SCIM, **headers})


def ids(r: Response) -> list[str]:
    """The ids a 200 list response holds, in order."""
    assert r.status_code == 200, r.text
    return [res["id"] for res in r.json().get("Resources", [])]


def listing(client: TestClient, endpoint: str, flt: str | None = None) -> Response:
    """GET ``/scim/v2/<endpoint>``, filtered by ``flt`` when given."""
    return client.get(f"/scim/v2/{endpoint}", headers=AUTH, params={} if flt is None else {"filter": flt})


# -- the control plane (docs/behaviour.md §12) and OAuth (§2) ------------------------------------------------------


def export_state(client: TestClient) -> dict[str, list[dict[str, Any]]]:
    """``GET /_mockscim/state``: the whole state."""
    exported: dict[str, list[dict[str, Any]]] = client.get("/_mockscim/state").json()
    return exported


def secret_server(client: TestClient, available: bool) -> None:
    """Bring Secret Server up or down (docs/behaviour.md §8)."""
    assert client.put("/_mockscim/secret-server", json={"available": available}).json() == {"available": available}


def activate(client: TestClient | httpx.Client, *rules: dict[str, Any], seed: int | None = None,
             name: str = "t") -> dict[str, Any]:
    """Activate an inline scenario holding ``rules`` (docs/behaviour.md §10)."""
    body: dict[str, Any] = {"name": name, "rules": list(rules)}
    if seed is not None:
        body["seed"] = seed
    response = client.post("/_mockscim/scenario", json=body)
    assert response.status_code == 200, response.text
    active: dict[str, Any] = response.json()["active"]
    return active


def active_rules(client: TestClient) -> list[dict[str, Any]]:
    """The active scenario's rules with their counters."""
    rules: list[dict[str, Any]] = client.get("/_mockscim/scenario").json()["active"]["rules"]
    return rules


def journal_of(client: TestClient, **params: Any) -> dict[str, Any]:
    """``GET /_mockscim/journal`` with ``params``."""
    response = client.get("/_mockscim/journal", params=params)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def oauth_token(client: TestClient) -> str:
    """An access token from the Platform token endpoint (client credentials)."""
    response = client.post(TOKEN_URL, data={"grant_type": "client_credentials", "client_id": SERVICE,
                                            "client_secret": SERVICE_SECRET})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def password_token(client: TestClient, user: tuple[str, str]) -> dict[str, str]:
    """``Authorization`` headers for a password-grant token of the Secret Server API (docs/behaviour.md §9)."""
    r = client.post("/oauth2/token", data={"username": user[0], "password": user[1], "grant_type": "password"})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def read_banner(proc: subprocess.Popen[str]) -> list[str]:
    """The banner's lines of a ``mockscim serve`` process, up to its last (the ``try: curl`` line)."""
    lines: list[str] = []
    while not lines or not lines[-1].lstrip().startswith("try:"):
        line = proc.stdout.readline()  # type: ignore[union-attr]
        assert line, f"no banner: {lines} {proc.stderr.read() if proc.poll() is not None else ''}"  # type: ignore[union-attr]
        lines.append(line)
    return lines


def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``mockscim ARGS`` as a process, to its end (bounded)."""
    return subprocess.run([*MOCKSCIM, *args], capture_output=True, text=True, timeout=60, cwd=cwd,
                          env={**os.environ, **(env or {})})


def one_line(r: subprocess.CompletedProcess[str]) -> str:
    """stderr as its only line; nothing on stdout (no banner before the error), no traceback."""
    assert "Traceback" not in r.stderr and r.stdout == "", (r.stdout, r.stderr)
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    return lines[0]


@contextmanager
def server(store: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``mockscim serve --store`` in a subprocess (kill -9 trials); yields its URL once /_mockscim/health answers."""
    port = free_port()
    proc = subprocess.Popen(
        [*MOCKSCIM, "serve", "--port", str(port), "--store", str(store), "--log-level", "warning"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    wait_healthy(url, proc, 10)
    try:
        yield url, proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
        if proc.stderr:
            proc.stderr.close()


def wait_healthy(url: str, proc: subprocess.Popen[bytes], seconds: float) -> None:
    """Return once ``url``'s ``/_mockscim/health`` answers 200; fail naming the exit (and its stderr) if the server
    process ends first, or after ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        if proc.poll() is not None:
            err = proc.stderr.read().decode() if proc.stderr else ""
            raise AssertionError(f"server exited {proc.returncode}: {err[-2000:]}")
        try:
            if httpx.get(f"{url}/_mockscim/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
