"""Tokens belong to the principal (its id) they were issued to (docs/behaviour.md §2): revoked with it, never revived
by a namesake (any case) or by a state import that brings it back."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.helpers import SCIM

SERVICE = ("scim-service@mockscim.test", "mockscim-secret")
UNAUTHENTICATED = {"errorCode": "API_AuthenticationFailed", "message": "Authentication failed."}


def password_grant(client: TestClient, name: str, password: str) -> dict[str, Any]:
    r = client.post("/oauth2/token", data={"username": name, "password": password, "grant_type": "password"})
    assert r.status_code == 200, r.text
    return dict(r.json())


def client_credentials(client: TestClient) -> dict[str, Any]:
    r = client.post("/identity/api/oauth2/token/xpmplatform",
                    data={"grant_type": "client_credentials", "client_id": SERVICE[0], "client_secret": SERVICE[1]})
    assert r.status_code == 200, r.text
    return dict(r.json())


def bearer(token: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {token['access_token']}"}


def test_a_namesake_in_any_case_does_not_revive_a_password_grant_token(client: TestClient) -> None:
    created = client.post("/scim/v2/Users", headers=SCIM, json={"userName": "ann@example.com", "password": "pw-1"})
    assert created.status_code == 201
    token = password_grant(client, "ann@example.com", "pw-1")
    assert client.get("/api/v1/users", headers=bearer(token)).status_code == 200
    assert client.delete(f"/scim/v2/Users/{created.json()['id']}", headers=SCIM).status_code == 204
    assert client.get("/api/v1/users", headers=bearer(token)).status_code == 401
    again = client.post("/scim/v2/Users", headers=SCIM, json={"userName": "ANN@EXAMPLE.COM", "password": "pw-2"})
    assert again.status_code == 201
    refused = client.get("/api/v1/users", headers=bearer(token))
    assert refused.status_code == 401
    refreshed = client.post("/oauth2/token", data={"grant_type": "refresh_token",
                                                   "refresh_token": token["refresh_token"]})
    assert refreshed.status_code == 400 and refreshed.json()["error"] == "invalid_grant"
    fresh = password_grant(client, "ann@example.com", "pw-2")  # the namesake gets its own tokens
    assert client.get("/api/v1/users", headers=bearer(fresh)).status_code == 200


def test_an_import_that_brings_a_service_user_back_does_not_revive_its_tokens(client: TestClient) -> None:
    token = client_credentials(client)
    assert client.get("/scim/v2/Users", headers=bearer(token)).status_code == 200
    state = client.get("/_mockscim/state").json()
    without = {**state, "serviceUsers": []}
    assert client.put("/_mockscim/state", json=without).status_code == 200
    assert client.get("/scim/v2/Users", headers=bearer(token)).status_code == 401
    assert client.put("/_mockscim/state", json=state).status_code == 200  # the same user, the same id, back
    assert client.get("/scim/v2/Users", headers=bearer(token)).status_code == 401
    refreshed = client.post("/identity/api/oauth2/token/xpmplatform",
                            data={"grant_type": "refresh_token", "refresh_token": token["refresh_token"]})
    assert refreshed.status_code == 400 and refreshed.json()["error"] == "invalid_grant"
    assert client.get("/scim/v2/Users", headers=bearer(client_credentials(client))).status_code == 200


def test_a_deleted_service_user_restored_by_import_keeps_its_old_tokens_dead(client: TestClient) -> None:
    token = client_credentials(client)
    state = client.get("/_mockscim/state").json()
    su = next(u for u in state["Users"] if u["userName"] == SERVICE[0])
    # With another service user to call as, delete the User of the first one (its service user entry goes too).
    extra = {**state, "serviceUsers": [*state["serviceUsers"], {"userName": "ops@example.com", "clientSecret": "s"}],
             "Users": [*state["Users"], {"id": "ops", "userName": "ops@example.com"}]}
    assert client.put("/_mockscim/state", json=extra).status_code == 200
    assert client.get("/scim/v2/Users", headers=bearer(token)).status_code == 200  # still the same principal
    ops = client.post("/identity/api/oauth2/token/xpmplatform",
                      data={"grant_type": "client_credentials", "client_id": "ops@example.com", "client_secret": "s"})
    assert client.delete(f"/scim/v2/Users/{su['id']}", headers=bearer(ops.json())).status_code == 204
    assert client.get("/scim/v2/Users", headers=bearer(token)).status_code == 401
    assert client.put("/_mockscim/state", json=extra).status_code == 200
    assert client.get("/scim/v2/Users", headers=bearer(token)).status_code == 401


@pytest.mark.parametrize(("user", "named"), [
    ({"passwordHash": 5}, "'passwordHash' must be a string as exported (sha256$<salt>$<digest>)"),
    ({"passwordHash": "plain"}, "'passwordHash' must be a string as exported (sha256$<salt>$<digest>)"),
    ({"password": 5}, "'password' must be a string"),
])
def test_an_import_with_a_password_of_the_wrong_type_is_refused(client: TestClient, user: dict[str, Any],
                                                                named: str) -> None:
    """The finding: ``passwordHash: 5`` imported, then the password grant answered 500."""
    state = client.get("/_mockscim/state").json()
    bad = {**state, "Users": [*state["Users"], {"id": "pw", "userName": "pw@example.com", **user}]}
    r = client.put("/_mockscim/state", json=bad)
    assert r.status_code == 400
    assert r.json() == {"error": f"invalid state: Users[{len(state['Users'])}] (id 'pw'): {named}"}
    assert client.get("/_mockscim/state").json() == state
    grant = client.post("/oauth2/token", data={"username": "pw@example.com", "password": "5",
                                               "grant_type": "password"})
    assert grant.status_code == 400 and grant.json()["error"] == "invalid_grant"
