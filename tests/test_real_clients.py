"""What third-party clients sent that mockscim mishandled, replayed through HTTP (docs/behaviour.md §1, §7)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from mockscim.scim.profile import PROFILE_DIR
from tests.helpers import AUTH, SCIM, TOKEN

V2 = "/scim/v2"
BJENSEN_ID = "2819c223-7f76-453a-919d-413861904646"
CORE_USER = "urn:ietf:params:scim:schemas:core:2.0:User"


# -- endpoint names in any case (Microsoft's SCIM reference tests call /users; Delinea's on-prem $refs are lower) ----

@pytest.mark.parametrize(("sent", "declared"), [
    ("/users", "/Users"),
    ("/USERS", "/Users"),
    (f"/users/{BJENSEN_ID}", f"/Users/{BJENSEN_ID}"),
    ("/groups?count=1", "/Groups?count=1"),
    ("/containers/1", "/Containers/1"),
    ("/containerpermissions", "/ContainerPermissions"),
    ("/privilegeddata/12", "/PrivilegedData/12"),
    ("/privilegeddatapermissions", "/PrivilegedDataPermissions"),
    ("/schemas", "/Schemas"),
    ("/schemas/urn:ietf:params:scim:schemas:core:2.0:user", f"/Schemas/{CORE_USER}"),
    ("/resourcetypes", "/ResourceTypes"),
    ("/resourcetypes/user", "/ResourceTypes/User"),
    ("/serviceproviderconfig", "/ServiceProviderConfig"),
])
def test_endpoint_names_are_case_insensitive(client: TestClient, sent: str, declared: str) -> None:
    """docs/behaviour.md §1: `/scim/v2/users/{id}`, `/USERS`, `/serviceproviderconfig` answer what the declared
    spelling answers (they were 404)."""
    r = client.get(V2 + sent, headers=AUTH)
    assert r.status_code == 200, r.text
    assert r.json() == client.get(V2 + declared, headers=AUTH).json()
    assert r.json().get("totalResults", 1) > 0


def test_lowercase_writes_land_on_the_declared_endpoint(client: TestClient) -> None:
    """A create, patch and delete through `/users` behave as through `/Users`; `meta.location` names `/Users`."""
    created = client.post(f"{V2}/users", json={"schemas": [CORE_USER], "userName": "lower@example.com"}, headers=SCIM)
    assert created.status_code == 201, created.text
    location = created.json()["meta"]["location"]
    assert location.endswith(f"{V2}/Users/{created.json()['id']}") and created.headers["Location"] == location
    uid = created.json()["id"]
    patched = client.patch(f"{V2}/uSeRs/{uid}", headers=SCIM, json={
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "displayName", "value": "Lower"}]})
    assert patched.status_code == 200 and patched.json()["displayName"] == "Lower"
    assert client.delete(f"{V2}/users/{uid}", headers=AUTH).status_code == 204
    assert client.get(f"{V2}/Users/{uid}", headers=AUTH).status_code == 404


def test_unknown_endpoint_in_lower_case_is_still_unknown(client: TestClient) -> None:
    """docs/behaviour.md §1: an unknown path → 404 naming the path below /scim/v2 as sent."""
    r = client.get(f"{V2}/widgets/1", headers=AUTH)
    assert r.status_code == 404 and r.json()["detail"] == "Resource 'widgets/1' not found."


@pytest.mark.parametrize("path", ["/Users/", f"/Users/{BJENSEN_ID}/", "/users/", "/ServiceProviderConfig/",
                                  "/Schemas/"])
def test_trailing_slash_is_ignored_never_redirected(client: TestClient, path: str) -> None:
    """docs/behaviour.md §1: `GET /scim/v2/Users/` answered a 307 built from the Host header; now it is the list."""
    r = client.get(V2 + path, headers=AUTH, follow_redirects=False)
    assert r.status_code == 200, (r.status_code, r.headers.get("location"))
    assert r.json() == client.get(V2 + path.rstrip("/"), headers=AUTH).json() | (
        {"meta": r.json()["meta"]} if "meta" in r.json() else {})


def test_journal_keeps_the_path_as_sent(client: TestClient) -> None:
    """docs/behaviour.md §12: the journal's `path` is what the client sent, not the routed spelling."""
    client.delete("/_mockscim/journal")
    client.get(f"{V2}/users/", headers=AUTH)
    entries = client.get("/_mockscim/journal").json()["entries"]
    assert [(e["path"], e["status"]) for e in entries] == [(f"{V2}/users/", 200)]


def test_token_is_still_required_in_any_case(client: TestClient) -> None:
    """docs/behaviour.md §1: every SCIM route needs the bearer token, whatever its spelling."""
    for path in ("/users", "/schemas", "/Users/"):
        r = client.get(V2 + path)
        assert r.status_code == 401, path
    assert client.get(f"{V2}/users", headers={"Authorization": f"Bearer {TOKEN}x"}).status_code == 401


# -- a body with no Content-Type (older Okta test suites send none) -------------------------------------------------

def test_a_body_without_content_type_is_read_as_json(client: TestClient) -> None:
    """docs/behaviour.md §7: POST, PUT and PATCH with a JSON body and no `Content-Type` succeed (they were 415)."""
    created = client.post(f"{V2}/Users", content=b'{"userName": "okta-spec@example.com", "active": true}',
                          headers=AUTH)
    assert "content-type" not in {k.lower() for k in created.request.headers}
    assert created.status_code == 201, created.text
    uid = created.json()["id"]
    put = client.put(f"{V2}/Users/{uid}", content=b'{"userName": "okta-spec@example.com", "active": false}',
                     headers=AUTH)
    assert put.status_code == 200 and put.json()["active"] is False
    patch = client.patch(f"{V2}/Users/{uid}", headers=AUTH, content=(
        b'{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],'
        b' "Operations": [{"op": "replace", "path": "displayName", "value": "Okta"}]}'))
    assert patch.status_code == 200 and patch.json()["displayName"] == "Okta"
    assert client.get(f"{V2}/Users/{uid}", headers=AUTH).json()["displayName"] == "Okta"


def test_a_malformed_body_without_content_type_is_still_malformed(client: TestClient) -> None:
    """docs/behaviour.md §7: read as JSON, a non-JSON body is the 400 invalidSyntax, not a 415; nothing created."""
    before = client.get(f"{V2}/Users", headers=AUTH).json()["totalResults"]
    r = client.post(f"{V2}/Users", content=b"userName=x", headers=AUTH)
    assert r.status_code == 400 and r.json()["scimType"] == "invalidSyntax"
    assert client.get(f"{V2}/Users", headers=AUTH).json()["totalResults"] == before
    # A Content-Type that is there and not JSON is still 415.
    assert client.post(f"{V2}/Users", content=b"{}", headers={**AUTH, "Content-Type": ""}).status_code == 415


# -- journal details ------------------------------------------------------------------------------------------------

SERVICE = ("scim-service@mockscim.test", "mockscim-secret")
PLATFORM_TOKEN = "/identity/api/oauth2/token/xpmplatform"


def _journal(client: TestClient) -> list[dict[str, object]]:
    entries: list[dict[str, object]] = client.get("/_mockscim/journal").json()["entries"]
    return entries


def test_secret_path_stays_readable_in_the_journal(client: TestClient) -> None:
    """docs/behaviour.md §12: `secretPath` is a path, not a credential (it was `[REDACTED]` for containing
    "secret"); the static token sent in the query string is still redacted."""
    client.delete("/_mockscim/journal")
    path = r"\Infrastructure\Databases\Production\db-root"
    r = client.get("/api/v1/secrets/0", params={"secretPath": path}, headers=AUTH)
    assert r.status_code == 200 and r.json()["id"] == 12
    client.get("/api/v1/folders/0", params={"folderPath": r"\Applications", "access_token": TOKEN}, headers=AUTH)
    queries = [e["query"] for e in _journal(client)]
    assert queries == ["secretPath=%5CInfrastructure%5CDatabases%5CProduction%5Cdb-root",
                       "folderPath=%5CApplications&access_token=[REDACTED]"]


@pytest.mark.parametrize(("path", "form", "principal"), [
    ("/oauth2/token", {"grant_type": "password", "username": SERVICE[0], "password": SERVICE[1]}, SERVICE[0]),
    ("/oauth2/token", {"grant_type": "password", "username": "BJENSEN@example.com", "password": "Jensen-2024!"},
     "bjensen@example.com"),
    (PLATFORM_TOKEN, {"grant_type": "client_credentials", "client_id": SERVICE[0], "client_secret": SERVICE[1]},
     SERVICE[0]),
    (f"/platform{PLATFORM_TOKEN}",
     {"grant_type": "client_credentials", "client_id": SERVICE[0], "client_secret": SERVICE[1]}, SERVICE[0]),
])
def test_token_requests_are_journaled_with_their_principal(client: TestClient, path: str, form: dict[str, str],
                                                           principal: str) -> None:
    """docs/behaviour.md §12: `principal` is set on the token endpoints too (a successful `POST /oauth2/token` had
    `principal: null`), for the grant and for the refresh that follows it; a refused request stays null."""
    client.delete("/_mockscim/journal")
    first = client.post(path, data=form)
    assert first.status_code == 200, first.text
    refreshed = client.post(path, data={"grant_type": "refresh_token", "refresh_token": first.json()["refresh_token"]})
    assert refreshed.status_code == 200, refreshed.text
    refused = client.post(path, data={**form, "password": "wrong", "client_secret": "wrong"})
    assert refused.status_code in (400, 401)
    assert [(e["path"], e["status"], e["principal"]) for e in _journal(client)] == [
        (path, 200, principal), (path, 200, principal), (path, refused.status_code, None)]


# -- set-once immutables (docs/behaviour.md §6) ----------------------------------------------------------------------

LINKED = "urn:ietf:params:scim:schemas:pam:1.0:LinkedObject"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
IMMUTABLE = "Attribute '{}' is immutable and cannot be changed."


def _patch(client: TestClient, path: str, *ops: dict[str, object]) -> Any:
    return client.patch(V2 + path, headers=SCIM, json={"schemas": [PATCH_OP], "Operations": list(ops)})


def _is_error(r: Any, status: int, detail: str, scim_type: str | None) -> None:
    assert r.status_code == status, r.text
    assert r.json()["detail"] == detail and r.json().get("scimType") == scim_type


@pytest.mark.parametrize("how", ["put", "patch"])
def test_an_unset_linked_object_may_be_set_once(client: TestClient, how: str) -> None:
    """docs/behaviour.md §6: LinkedObject `source`/`nativeIdentifier` (immutable) may be set once on a user that has
    none (RFC 7644 §3.5.1), by PUT or PATCH; changing them afterwards is the mutability 400, nothing changed."""
    link = {"source": "ActiveDirectory", "nativeIdentifier": "CORP\\bjensen"}
    if how == "put":
        user = client.get(f"{V2}/Users/{BJENSEN_ID}", headers=AUTH).json()
        body = {k: v for k, v in user.items() if k not in ("meta", "groups")}
        r = client.put(f"{V2}/Users/{BJENSEN_ID}", json={**body, LINKED: link}, headers=SCIM)
    else:
        r = _patch(client, f"/Users/{BJENSEN_ID}", {"op": "add", "path": LINKED, "value": link})
    assert r.status_code == 200, r.text
    assert client.get(f"{V2}/Users/{BJENSEN_ID}", headers=AUTH).json()[LINKED] == link
    version = client.get(f"{V2}/Users/{BJENSEN_ID}", headers=AUTH).json()["meta"]["version"]
    _is_error(_patch(client, f"/Users/{BJENSEN_ID}", {"op": "replace", "path": f"{LINKED}:source", "value": "Okta"}),
              400, IMMUTABLE.format("source"), "mutability")
    _is_error(client.put(f"{V2}/Users/{BJENSEN_ID}", headers=SCIM, json={
        "schemas": [CORE_USER, LINKED], "userName": "bjensen@example.com",
        LINKED: {**link, "nativeIdentifier": "CORP\\other"}}), 400, IMMUTABLE.format("nativeIdentifier"), "mutability")
    after = client.get(f"{V2}/Users/{BJENSEN_ID}", headers=AUTH).json()
    assert after[LINKED] == link and after["meta"]["version"] == version


@pytest.mark.parametrize("how", ["put", "patch"])
def test_a_root_container_stays_at_the_root(client: TestClient, how: str) -> None:
    """docs/behaviour.md §6 [C]: the exception to set-once: a container created at the root never gets a parent
    (cloud's `fixedAtCreation`), nothing changed."""
    before = client.get(f"{V2}/Containers/5", headers=AUTH).json()
    if how == "put":
        r = client.put(f"{V2}/Containers/5", headers=SCIM, json={"name": "Applications", "parent": {"value": "1"}})
    else:
        r = _patch(client, "/Containers/5", {"op": "add", "path": "parent", "value": {"value": "1"}})
    _is_error(r, 400, IMMUTABLE.format("parent"), "mutability")
    assert client.get(f"{V2}/Containers/5", headers=AUTH).json() == before


def test_a_profile_may_let_a_root_container_take_a_parent_once(make_client: Callable[..., TestClient],
                                                                tmp_path: Path) -> None:
    """docs/behaviour.md §11: the rule is profile data. A profile with `"fixedAtCreation": []` lets a root container
    take a parent once: one the caller owns, not itself nor its own descendant; then it is fixed like any immutable."""
    raw = json.loads((PROFILE_DIR / "cloud.json").read_text(encoding="utf-8"))
    path = tmp_path / "movable.json"
    path.write_text(json.dumps({**raw, "name": "movable", "fixedAtCreation": []}), encoding="utf-8")
    client = make_client(profile=str(path))

    def set_parent(cid: str, parent: str) -> Any:
        return _patch(client, f"/Containers/{cid}", {"op": "add", "path": "parent", "value": {"value": parent}})

    _is_error(set_parent("1", "3"), 400, "The 'parent' attribute was invalid.", "invalidValue")  # its grandchild
    _is_error(set_parent("1", "1"), 400, "The 'parent' attribute was invalid.", "invalidValue")  # itself
    _is_error(set_parent("5", "404"), 400, "The 'parent' attribute was invalid.", "invalidValue")  # missing
    _is_error(set_parent("5", "4"), 403, "Owner-level permission is required for this operation.", None)
    assert client.get(f"{V2}/Containers/5", headers=AUTH).json().get("parent") is None
    moved = set_parent("5", "1")
    assert moved.status_code == 200 and moved.json()["parent"]["value"] == "1"
    _is_error(set_parent("5", "2"), 400, IMMUTABLE.format("parent"), "mutability")
    assert client.get(f"{V2}/Containers/5", headers=AUTH).json()["parent"]["value"] == "1"


# -- blank required values -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("blank", ["   ", "\t", "\u00a0", " \n "])
@pytest.mark.parametrize(("profile", "path", "attr"), [
    ("cloud", "/Users", "userName"), ("rfc", "/Users", "userName"), ("cloud", "/Groups", "displayName"),
    ("cloud", "/Containers", "name"),
])
def test_a_required_value_of_only_whitespace_is_missing(make_client: Callable[..., TestClient], profile: str,
                                                        path: str, attr: str, blank: str) -> None:
    """A `userName` of only spaces was accepted; a required string that is only whitespace is no value: 400
    `Attribute '<attr>' is required.` (docs/behaviour.md §7), nothing created."""
    client = make_client(profile=profile)
    before = client.get(V2 + path, headers=AUTH).json()["totalResults"]
    r = client.post(V2 + path, json={attr: blank}, headers=SCIM)
    assert r.status_code == 400 and r.json()["detail"] == f"Attribute '{attr}' is required.", r.text
    assert r.json()["scimType"] == "invalidValue"
    assert client.get(V2 + path, headers=AUTH).json()["totalResults"] == before


@pytest.mark.parametrize("how", ["put", "patch"])
def test_a_user_name_cannot_be_blanked_by_put_or_patch(make_client: Callable[..., TestClient], how: str) -> None:
    """Under rfc, where userName is mutable, PUT or PATCH to spaces is the same 400; the user keeps its name."""
    client = make_client(profile="rfc")
    if how == "put":
        r = client.put(f"{V2}/Users/{BJENSEN_ID}", json={"schemas": [CORE_USER], "userName": "  "}, headers=SCIM)
    else:
        r = _patch(client, f"/Users/{BJENSEN_ID}", {"op": "replace", "path": "userName", "value": "  "})
    assert r.status_code == 400 and r.json()["detail"] == "Attribute 'userName' is required.", r.text
    assert client.get(f"{V2}/Users/{BJENSEN_ID}", headers=AUTH).json()["userName"] == "bjensen@example.com"


# -- integers are ASCII digits everywhere (Python's int() and str.isdigit() take more) ------------------------------

NOT_ASCII_INTEGERS = ["1_0", "\u0663", "\u00b2", "+5", "-1", "5.0"]


@pytest.mark.parametrize("value", NOT_ASCII_INTEGERS)
@pytest.mark.parametrize("param", ["skip", "take"])
def test_secret_server_paging_wants_ascii_digits(client: TestClient, param: str, value: str) -> None:
    """`take=1_0` read as 10 and `take=٣` as 3; now 400 with a string `message` (docs/behaviour.md §9), like
    `take=bad`."""
    r = client.get("/api/v1/secrets", params={param: value}, headers=AUTH)
    assert r.status_code == 400, r.text
    message = "skip and take must be non-negative integers." if value == "-1" else f"{param} must be an integer."
    assert r.json() == {"errorCode": "API_BadRequest", "message": message}
    assert client.get("/api/v1/secrets", params={param: "3"}, headers=AUTH).status_code == 200


@pytest.mark.parametrize("value", NOT_ASCII_INTEGERS)
def test_journal_limit_wants_ascii_digits(client: TestClient, value: str) -> None:
    """docs/behaviour.md §12: `limit=٣` was read as 3 and `limit=²` answered Python's own int() message."""
    r = client.get("/_mockscim/journal", params={"limit": value})
    assert r.status_code == 400
    assert r.json() == {"error": f"limit: expected a non-negative integer, got {value!r}"}


@pytest.mark.parametrize("value", ["\u0661", "\u00b2", "1_0"])
def test_secret_server_ids_in_a_state_are_ascii_digits(client: TestClient, value: str) -> None:
    """docs/behaviour.md §13: Container ids are integers rendered as strings; an Arabic-Indic digit was loaded as
    one, `²` answered Python's own int() message. Both are refused naming the entry, the running state unchanged."""
    state = client.get("/_mockscim/state").json()
    before = json.dumps(state, sort_keys=True)
    state["Containers"].append({"id": value, "name": "odd"})
    r = client.put("/_mockscim/state", json=state)
    assert r.status_code == 400
    assert r.json() == {"error": f"invalid state: Containers[5] (id {value!r}): Secret Server ids are integers "
                                 "rendered as strings"}
    assert json.dumps(client.get("/_mockscim/state").json(), sort_keys=True) == before


@pytest.mark.parametrize("path", ["/api/v1/secrets/", "/api/v1/secrets/12/", "/api/v2/secrets/",
                                  "/api/v1/healthcheck/", "/platform/health/", "/api/v1/folders/1/"])
def test_secret_server_trailing_slash_is_ignored_never_redirected(client: TestClient, path: str) -> None:
    """docs/behaviour.md §9: a trailing slash is ignored on the Secret Server API (it answered a 307 built from the
    Host header)."""
    r = client.get(path, headers=AUTH, follow_redirects=False)
    assert r.status_code == 200, (r.status_code, r.headers.get("location"))
    assert r.json() == client.get(path.rstrip("/"), headers=AUTH).json()


def test_token_endpoint_trailing_slash_is_ignored(client: TestClient) -> None:
    """docs/behaviour.md §9: `POST /oauth2/token/` is the token endpoint, not a redirect (a client would re-POST the
    password to wherever the Host header pointed)."""
    r = client.post("/oauth2/token/", data={"grant_type": "password", "username": SERVICE[0], "password": SERVICE[1]},
                    follow_redirects=False)
    assert r.status_code == 200 and r.json()["token_type"] == "bearer"


@pytest.mark.parametrize("path", ["/users/.search", "/Users/.SEARCH", "/.Search"])
def test_search_in_any_case_under_rfc(make_client: Callable[..., TestClient], path: str) -> None:
    """docs/behaviour.md §1, §11: `POST /.search` (rfc) answers under any spelling of the endpoint and of `.search`."""
    client = make_client(profile="rfc")
    r = client.post(V2 + path, headers=SCIM, json={"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
                                                   "filter": 'userName eq "bjensen@example.com"'})
    assert r.status_code == 200, r.text
    assert [u["id"] for u in r.json()["Resources"]] == [BJENSEN_ID]
