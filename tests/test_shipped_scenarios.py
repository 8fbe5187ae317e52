"""Each shipped scenario (docs/behaviour.md §10) driven end to end over HTTP, the way a demo runs it."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
from starlette.testclient import TestClient

from tests.helpers import AUTH, MPEPPER_ID, NOT_AUTHORIZED, SCIM, USERS, active_rules, journal_of, oauth_token, patch


def start(make_client: Callable[..., TestClient], name: str) -> TestClient:
    """A fresh server started with ``--scenario name``."""
    client = make_client(scenario=name)
    assert client.get("/_mockscim/scenario").json()["active"]["name"] == name
    return client


def users_named(client: TestClient, user_name: str) -> int:
    found = client.get(USERS, params={"filter": f'userName eq "{user_name}"'}, headers=AUTH).json()
    return int(found["totalResults"])


def test_secret_server_outage(make_client: Callable[..., TestClient]) -> None:
    """The first container creation takes Secret Server down; SCIM users go on; bringing it back ends the story."""
    client = start(make_client, "secret-server-outage")
    assert client.get(USERS, headers=AUTH).status_code == 200
    down = client.post("/scim/v2/Containers", headers=SCIM, json={"name": "Payroll"})
    assert (down.status_code, down.json()["detail"]) == (503, "Secret Server service unavailable.")
    assert client.get("/scim/v2/PrivilegedData", headers=AUTH).status_code == 503
    assert client.post("/scim/v2/Containers", headers=SCIM, json={"name": "Payroll"}).status_code == 503
    assert client.get(USERS, headers=AUTH).status_code == 200
    assert client.get("/_mockscim/health").json()["secretServer"] == "down"
    assert (active_rules(client)[0]["fired"], active_rules(client)[0]["remaining"]) == (1, 0)
    assert journal_of(client, status="503")["entries"][0]["rule"] == "secret-server-outage#0"
    client.put("/_mockscim/secret-server", json={"available": True})
    assert client.post("/scim/v2/Containers", headers=SCIM, json={"name": "Payroll"}).status_code == 201
    assert client.get("/scim/v2/PrivilegedData", headers=AUTH).status_code == 200


def test_flaky_secret_server(make_client: Callable[..., TestClient]) -> None:
    """About one secret read and one container creation in three answer 503, the same ones on every run."""

    def run() -> tuple[list[int], list[int], int]:
        client = start(make_client, "flaky-secret-server")
        reads = [client.get("/scim/v2/PrivilegedData/12" if i % 2 else "/scim/v2/PrivilegedData",
                            headers=AUTH).status_code for i in range(30)]
        creates = [client.post("/scim/v2/Containers", headers=SCIM, json={"name": f"c{i}"}).status_code
                   for i in range(15)]
        assert client.get(USERS, headers=AUTH).status_code == 200  # users are never affected
        return reads, creates, len(client.get("/scim/v2/Containers", headers=AUTH).json()["Resources"])

    reads, creates, containers = run()
    assert set(reads) == {200, 503} and 4 <= reads.count(503) <= 16
    assert set(creates) == {201, 503}
    assert containers == 4 + creates.count(201)  # a 503 wrote nothing
    assert run() == (reads, creates, containers)


def test_owner_revoked(make_client: Callable[..., TestClient]) -> None:
    """The first container read revokes the caller's Owner on it and below, until reset."""
    client = start(make_client, "owner-revoked")
    assert client.get("/scim/v2/Containers/2", headers=AUTH).status_code == 403
    assert client.get("/scim/v2/Containers/2", headers=AUTH).status_code == 403
    assert client.get("/scim/v2/Containers/3", headers=AUTH).status_code == 403  # inherits from 2
    assert client.get("/scim/v2/PrivilegedData/12", headers=AUTH).status_code == 403  # a secret in 3
    assert client.get("/scim/v2/Containers/1", headers=AUTH).status_code == 200
    denied = journal_of(client, status="403")["entries"]
    assert denied[0]["rule"] == "owner-revoked#0" and denied[0]["detail"] == (
        "Owner-level permission is required for this operation.")
    client.post("/_mockscim/reset")
    assert client.get("/scim/v2/Containers/2", headers=AUTH).status_code == 200


def test_federated_user_edit(make_client: Callable[..., TestClient]) -> None:
    """Edits of displayName, emails or name are refused with Delinea's 400; other edits go through."""
    client = start(make_client, "federated-user-edit")
    mpepper = f"{USERS}/{MPEPPER_ID}"
    for op in ({"op": "replace", "path": "displayName", "value": "M"},
               {"op": "add", "path": "emails", "value": [{"value": "m@x.test", "type": "work"}]},
               {"op": "replace", "path": "name.givenName", "value": "Marky"},
               {"op": "Replace", "value": {"name": {"givenName": "Marky"}}}):
        refused = patch(client, mpepper, op)
        assert (refused.status_code, refused.json()["detail"]) == (400, NOT_AUTHORIZED), op
    assert patch(client, mpepper, {"op": "replace", "path": "active", "value": False}).status_code == 200
    user = client.get(mpepper, headers=AUTH).json()
    assert (user["displayName"], user["active"]) == ("Mark Pepper", False)
    put = client.put(mpepper, headers=SCIM, json={**user, "title": "Lead"})
    assert put.status_code == 400
    slim = client.put(mpepper, headers=SCIM, json={"userName": user["userName"], "title": "Lead"})
    assert slim.status_code == 200


def test_duplicate_usernames(make_client: Callable[..., TestClient]) -> None:
    """The first creation works; every later one answers 409 uniqueness and writes nothing."""
    client = start(make_client, "duplicate-usernames")
    assert client.post(USERS, headers=SCIM, json={"userName": "first@x.test"}).status_code == 201
    for name in ("second@x.test", "third@x.test"):
        taken = client.post(USERS, headers=SCIM, json={"userName": name})
        assert taken.status_code == 409
        body = taken.json()
        assert (body["scimType"], body["detail"]) == ("uniqueness", "Attribute 'userName' MUST be unique.")
        assert users_named(client, name) == 0


def test_throttled(make_client: Callable[..., TestClient]) -> None:
    """Requests 3, 6, 9 and 12 answer 429 with Retry-After: 2; then about one in three, the same on every run."""

    def run() -> list[httpx.Response]:
        client = start(make_client, "throttled")
        return [client.get(USERS, headers=AUTH) for _ in range(60)]

    responses = run()
    codes = [r.status_code for r in responses]
    assert [i + 1 for i, c in enumerate(codes[:12]) if c == 429] == [3, 6, 9, 12]
    assert all(r.headers["retry-after"] == "2" and r.json()["detail"] == "Too many requests."
               for r in responses if r.status_code == 429)
    assert 6 <= codes[12:].count(429) <= 26
    assert [r.status_code for r in run()] == codes


def test_slow_network(make_client: Callable[..., TestClient]) -> None:
    """Every SCIM request waits 300 ms; the control plane does not."""
    client = start(make_client, "slow-network")
    started = time.perf_counter()
    assert client.get(USERS, headers=AUTH).status_code == 200
    assert time.perf_counter() - started >= 0.3
    assert journal_of(client)["entries"][0]["durationMs"] >= 300
    started = time.perf_counter()
    client.get("/_mockscim/health")
    assert time.perf_counter() - started < 0.3


def test_internal_errors(make_client: Callable[..., TestClient]) -> None:
    """About one SCIM request in five answers 500 without writing anything, the same ones on every run."""

    def run() -> list[int]:
        client = start(make_client, "internal-errors")
        codes = [client.post(USERS, headers=SCIM, json={"userName": f"u{i}@x.test"}).status_code for i in range(40)]
        client.delete("/_mockscim/scenario")
        written = [users_named(client, f"u{i}@x.test") for i in range(40)]
        assert written == [1 if c == 201 else 0 for c in codes]
        return codes

    codes = run()
    assert set(codes) == {201, 500} and 3 <= codes.count(500) <= 16
    assert run() == codes


def test_token_expiry(make_client: Callable[..., TestClient]) -> None:
    """The third SCIM request expires its OAuth token: 401 from then on, until a new token is fetched."""
    client = start(make_client, "token-expiry")
    oauth = {"Authorization": f"Bearer {oauth_token(client)}"}
    assert [client.get(USERS, headers=oauth).status_code for _ in range(4)] == [200, 200, 401, 401]
    assert client.get(USERS, headers=oauth).headers["www-authenticate"] == "Bearer"
    fresh = {"Authorization": f"Bearer {oauth_token(client)}"}
    assert client.get(USERS, headers=fresh).status_code == 200
    assert client.get(USERS, headers=AUTH).status_code == 200
    assert journal_of(client, status="401")["entries"][0]["rule"] == "token-expiry#0"


def test_ghost_writes(make_client: Callable[..., TestClient]) -> None:
    """The first user and group creations are committed but answer 500: a blind retry meets 409."""
    client = start(make_client, "ghost-writes")
    ghost = client.post(USERS, headers=SCIM, json={"userName": "ghost@x.test"})
    assert (ghost.status_code, ghost.json()["detail"]) == (500, "Internal Server Error.")
    assert users_named(client, "ghost@x.test") == 1
    assert client.post(USERS, headers=SCIM, json={"userName": "ghost@x.test"}).status_code == 409
    assert client.post("/scim/v2/Groups", headers=SCIM, json={"displayName": "Ghosts"}).status_code == 500
    groups = client.get("/scim/v2/Groups", params={"filter": 'displayName eq "Ghosts"'}, headers=AUTH).json()
    assert groups["totalResults"] == 1
    assert client.post("/scim/v2/Groups", headers=SCIM, json={"displayName": "Ghosts"}).status_code == 409
    assert client.post(USERS, headers=SCIM, json={"userName": "real@x.test"}).status_code == 201
