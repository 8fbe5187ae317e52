"""Authentication through HTTP (docs/behaviour.md §2): static token, client credentials, refresh, expiry, grace."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from starlette.testclient import TestClient

from mockscim.auth import tokens as tokens_module
from tests.helpers import SERVICE, SERVICE_SECRET, TOKEN_URL, err

CLIENT = {"client_id": SERVICE, "client_secret": SERVICE_SECRET}


def grant(client: TestClient, **form: str) -> Any:
    return client.post(TOKEN_URL, data=form)


@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Bearer wrong"},
    {"Authorization": "Basic bW9ja3NjaW0tdG9rZW4="},
    {"Authorization": "Bearer"},
], ids=["none", "unknown", "basic-scheme", "empty"])
def test_missing_or_bad_token_is_401(client: TestClient, headers: dict[str, str]) -> None:
    """No token, an unknown one or another scheme → 401 SCIM error with WWW-Authenticate: Bearer."""
    r = client.get("/scim/v2/Users", headers=headers)
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"
    assert r.json() == err(401, "Authentication failed.")


def test_401_comes_before_everything_even_unknown_paths(client: TestClient) -> None:
    """Every SCIM route needs the token, discovery and /Bulk included; 401 wins over 404 (docs/behaviour.md §4
    precedence)."""
    for path in ("/scim/v2/ServiceProviderConfig", "/scim/v2/Bulk", "/scim/v2/Widgets/1", "/scim/v2/Schemas"):
        assert client.get(path).status_code == 401


def test_scheme_case_insensitive_and_spaces(client: TestClient) -> None:
    """RFC 6750: the scheme is case-insensitive; surrounding spaces are ignored."""
    assert client.get("/scim/v2/Users", headers={"Authorization": "  bearer   mockscim-token "}).status_code == 200


def test_two_authorization_headers_is_401(client: TestClient) -> None:
    """More than one Authorization header → 401."""
    r = client.get("/scim/v2/Users", headers=[("Authorization", "Bearer mockscim-token"),
                                              ("Authorization", "Bearer mockscim-token")])
    assert r.status_code == 401


def test_token_in_query_string_is_not_accepted(client: TestClient) -> None:
    """Tokens are accepted in the header only."""
    assert client.get("/scim/v2/Users", params={"access_token": "mockscim-token"}).status_code == 401


@pytest.mark.parametrize(("scope", "expected"), [(None, "xpm.platform"), ("xpm.platform", "xpm.platform"),
                                                 ("xpmheadless", "xpmheadless")])
def test_client_credentials_grant(client: TestClient, scope: str | None, expected: str) -> None:
    """client_credentials → access + refresh token with the requested scope; the token works on SCIM."""
    form = {"grant_type": "client_credentials", **CLIENT}
    if scope:
        form["scope"] = scope
    r = grant(client, **form)
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    body = r.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600 and body["scope"] == expected
    assert body["refresh_token"]
    r = client.get("/scim/v2/Users", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert r.status_code == 200


def test_client_credentials_via_basic(client: TestClient) -> None:
    """Client credentials may come as HTTP Basic (RFC 6749 §2.3.1); a wrong secret → 401 + WWW-Authenticate Basic."""
    good = base64.b64encode(b"scim-service@mockscim.test:mockscim-secret").decode()
    r = client.post(TOKEN_URL, data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {good}"})
    assert r.status_code == 200
    bad = base64.b64encode(b"scim-service@mockscim.test:nope").decode()
    r = client.post(TOKEN_URL, data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {bad}"})
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Basic")
    assert r.json()["error"] == "invalid_client"


@pytest.mark.parametrize(("form", "error"), [
    ({"grant_type": "client_credentials", "client_id": "scim-service@mockscim.test", "client_secret": "x"},
     "invalid_client"),
    ({"grant_type": "client_credentials", "client_id": "nobody", "client_secret": "mockscim-secret"}, "invalid_client"),
    ({"grant_type": "client_credentials", **CLIENT, "scope": "admin"}, "invalid_scope"),
    ({"grant_type": "password", "username": "a", "password": "b"}, "unsupported_grant_type"),
    ({"grant_type": "refresh_token", "refresh_token": "unknown"}, "invalid_grant"),
], ids=["bad-secret", "unknown-client", "bad-scope", "bad-grant", "unknown-refresh"])
def test_token_errors_are_rfc6749_bodies(client: TestClient, form: dict[str, str], error: str) -> None:
    """Token errors are RFC 6749 §5.2 JSON bodies with status 400."""
    r = grant(client, **form)
    assert r.status_code == 400 and r.headers["content-type"] == "application/json"
    assert r.json()["error"] == error and isinstance(r.json()["error_description"], str)


def test_refresh_token_is_single_use_and_old_access_token_lives(client: TestClient) -> None:
    """A refresh gives a new pair; the used refresh token stops working; the old access token still works."""
    first = grant(client, grant_type="client_credentials", **CLIENT).json()
    second = grant(client, grant_type="refresh_token", refresh_token=first["refresh_token"]).json()
    assert second["access_token"] != first["access_token"]
    again = grant(client, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    for tok in (first["access_token"], second["access_token"]):
        assert client.get("/scim/v2/Users", headers={"Authorization": f"Bearer {tok}"}).status_code == 200


def test_refresh_with_mismatched_client_is_refused_and_token_kept(client: TestClient) -> None:
    """A refused refresh (wrong client secret) leaves the refresh token valid."""
    first = grant(client, grant_type="client_credentials", **CLIENT).json()
    r = grant(client, grant_type="refresh_token", refresh_token=first["refresh_token"],
              client_id="scim-service@mockscim.test", client_secret="wrong")
    assert r.status_code == 400 and r.json()["error"] == "invalid_client"
    r = grant(client, grant_type="refresh_token", refresh_token=first["refresh_token"], **CLIENT)
    assert r.status_code == 200


def test_expiry_is_strict_and_grace_extends_it(make_client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past expires_in a token is refused; --token-grace accepts it that much longer (SDK 2.0.1's +300 s)."""
    now = [1000.0]
    monkeypatch.setattr(tokens_module.time, "monotonic", lambda: now[0])
    for grace, accepted_at_70 in ((0, False), (30, True)):
        c = make_client(token_ttl=60, token_grace=grace)
        tok = grant(c, grant_type="client_credentials", **CLIENT).json()["access_token"]
        assert grant(c, grant_type="client_credentials", **CLIENT).json()["expires_in"] == 60
        now[0] += 70
        status = c.get("/scim/v2/Users", headers={"Authorization": f"Bearer {tok}"}).status_code
        assert status == (200 if accepted_at_70 else 401)
        now[0] += 100
        assert c.get("/scim/v2/Users", headers={"Authorization": f"Bearer {tok}"}).status_code == 401
        assert c.get("/scim/v2/Users", headers={"Authorization": "Bearer mockscim-token"}).status_code == 200


def test_token_of_deleted_service_user_stops_working(client: TestClient) -> None:
    """Deleting a service user's User removes the service user and its tokens (docs/behaviour.md §13)."""
    tok = grant(client, grant_type="client_credentials", **CLIENT).json()["access_token"]
    assert client.delete("/scim/v2/Users/8a0b3f0e-5c1d-4e0a-9a57-000000000001",
                         headers={"Authorization": f"Bearer {tok}"}).status_code == 204
    assert client.get("/scim/v2/Users", headers={"Authorization": f"Bearer {tok}"}).status_code == 401
    assert client.get("/_mockscim/state").json()["serviceUsers"] == []
    # The static token still authenticates, with no principal (docs/behaviour.md §2).
    assert client.get("/scim/v2/Users", headers={"Authorization": "Bearer mockscim-token"}).status_code == 200


def test_custom_static_token(make_client: Any) -> None:
    """--token replaces the static token."""
    c = make_client(token="s3cret")
    assert c.get("/scim/v2/Users", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    assert c.get("/scim/v2/Users", headers={"Authorization": "Bearer mockscim-token"}).status_code == 401
