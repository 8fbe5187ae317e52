"""The Secret Server API over HTTP (docs/behaviour.md §1, §8, §9): shapes, access, outage, tokens, errors."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.helpers import (
    AUTH,
    BJENSEN,
    BJENSEN_LOGIN,
    BJENSEN_PASSWORD,
    MPEPPER_ID,
    SCIM,
    SERVICE,
    SERVICE_LOGIN,
    SERVICE_SECRET,
    SS_DENIED,
    SS_UNAVAILABLE,
    password_token,
    secret_server,
)

NO_TZ = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$")
DENIED = SS_DENIED
UNAUTHENTICATED = {"errorCode": "AuthenticationFailed", "message": "Authentication failed."}
UNAVAILABLE = SS_UNAVAILABLE
HEALTHY = {"Healthy": True, "healthy": True, "databaseHealthy": True, "serviceBusHealthy": True,
           "storageAccountHealthy": True, "scheduledForDeletion": False}

# Every authenticated facade GET (docs/behaviour.md §9), with the parameters the SDK sends.
API_GETS = [
    "/api/v1/secrets/12",
    "/api/v1/secrets/12/fields/password",
    "/api/v1/secrets/0?secretPath=%5CInfrastructure%5CDatabases%5CProduction%5Cdb-root",
    "/api/v1/secrets?filter.folderId=2&take=5",
    "/api/v2/secrets?filter.folderId=2",
    "/api/v1/secrets/search-total?filter.folderId=2",
    "/api/v2/secrets/search-total",
    "/api/v1/folders/2",
    "/api/v1/folders/0?folderPath=%5CInfrastructure&getAllChildren=true",
    "/api/v1/folders/lookup?filter.parentFolderId=1&filter.limitToDirectDescendents=True&take=1",
    "/api/v1/users",
]


def down(client: TestClient) -> None:
    secret_server(client, False)


# -- health and Platform detection (docs/behaviour.md §9) -------------------------------------------------------
def test_healthcheck_is_healthy_with_capital_h(client: TestClient) -> None:
    r = client.get("/api/v1/healthcheck")
    assert r.status_code == 200
    assert r.json() == HEALTHY


def test_healthcheck_down_is_503_and_unhealthy(client: TestClient) -> None:
    down(client)
    r = client.get("/api/v1/healthcheck")
    assert r.status_code == 503
    assert r.json()["Healthy"] is False and r.json()["healthy"] is False
    assert isinstance(r.json()["message"], str)


def test_platform_health_stays_up(client: TestClient) -> None:
    assert client.get("/platform/health").json() == {"Healthy": True}
    down(client)
    r = client.get("/platform/health")
    assert r.status_code == 200 and r.json() == {"Healthy": True}


@pytest.mark.parametrize("path", ["/health", "/vaultbroker/api/vaults"])
@pytest.mark.parametrize("available", [True, False])
def test_the_root_serves_no_platform_routes(client: TestClient, path: str, available: bool) -> None:
    """docs/behaviour.md §1: the root is a Secret Server: `/health` and `/vaultbroker` are 404, up or down, so an SDK
    whose `/api/v1/healthcheck` probe meets a 503 never detects Platform mode there."""
    client.put("/_mockscim/secret-server", json={"available": available})
    r = client.get(path, headers=AUTH)
    assert r.status_code == 404 and r.json() == {"message": "Not found."}
    assert b"healthy" not in r.content.lower()


def test_platform_healthcheck_is_not_found_without_healthy(client: TestClient) -> None:
    r = client.get("/platform/api/v1/healthcheck")
    assert r.status_code == 404
    assert r.json() == {"message": "Not found."}
    assert b"healthy" not in r.content.lower()


# -- tokens (docs/behaviour.md §9) -------------------------------------------------------------------------------------
@pytest.mark.parametrize("user", [SERVICE_LOGIN, BJENSEN_LOGIN, (SERVICE.upper(), SERVICE_SECRET)])
def test_password_grant(client: TestClient, user: tuple[str, str]) -> None:
    r = client.post("/oauth2/token", data={"username": user[0], "password": user[1], "grant_type": "password"})
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    assert isinstance(body["access_token"], str) and isinstance(body["refresh_token"], str)
    assert client.get("/api/v1/users", headers={"Authorization": f"Bearer {body['access_token']}"}).status_code == 200


@pytest.mark.parametrize("form", [
    {"username": SERVICE, "password": "wrong", "grant_type": "password"},
    {"username": BJENSEN, "password": "wrong", "grant_type": "password"},
    {"username": "nobody@example.com", "password": "x", "grant_type": "password"},
    {"username": "old.admin@example.com", "password": "", "grant_type": "password"},
    {"username": BJENSEN, "grant_type": "password"},
    {"grant_type": "refresh_token", "refresh_token": "unknown"},
])
def test_bad_grant_is_invalid_grant(client: TestClient, form: dict[str, str]) -> None:
    r = client.post("/oauth2/token", data=form)
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_grant" and isinstance(r.json()["error_description"], str)


def test_unknown_grant_type(client: TestClient) -> None:
    r = client.post("/oauth2/token", data={"username": SERVICE, "password": SERVICE_SECRET})
    assert r.status_code == 400 and r.json()["error"] == "unsupported_grant_type"


def test_inactive_user_cannot_get_a_token(client: TestClient) -> None:
    patch = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
             "Operations": [{"op": "replace", "path": "active", "value": False}]}
    uid = "2819c223-7f76-453a-919d-413861904646"
    headers = password_token(client, BJENSEN_LOGIN)
    assert client.patch(f"/scim/v2/Users/{uid}", json=patch, headers=SCIM).status_code == 200
    r = client.post("/oauth2/token", data={"username": BJENSEN, "password": BJENSEN_PASSWORD, "grant_type": "password"})
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    assert client.get("/api/v1/secrets/14", headers=headers).json() == UNAUTHENTICATED


def test_refresh_token_grant_is_single_use(client: TestClient) -> None:
    first = client.post("/oauth2/token", data={"username": BJENSEN, "password": BJENSEN_PASSWORD,
                                               "grant_type": "password"}).json()
    form = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    second = client.post("/oauth2/token", data=form)
    assert second.status_code == 200 and second.json()["access_token"] != first["access_token"]
    assert client.get("/api/v1/secrets/14", headers={"Authorization": f"Bearer {second.json()['access_token']}"}
                      ).status_code == 200
    assert client.post("/oauth2/token", data=form).json()["error"] == "invalid_grant"


def test_password_grant_user_is_not_a_scim_caller(client: TestClient) -> None:
    # docs/behaviour.md §2: SCIM callers are service users; a User's password-grant token only opens the facade.
    headers = password_token(client, BJENSEN_LOGIN)
    assert client.get("/scim/v2/Users", headers=headers).status_code == 401


def test_service_user_password_token_is_that_service_user(client: TestClient) -> None:
    headers = password_token(client, SERVICE_LOGIN)
    assert client.get("/api/v1/secrets/12", headers=headers).status_code == 200
    assert client.get("/api/v1/secrets/14", headers=headers).json() == DENIED


def test_platform_token_opens_the_facade(client: TestClient) -> None:
    for path in ("/identity/api/oauth2/token/xpmplatform", "/platform/identity/api/oauth2/token/xpmplatform"):
        r = client.post(path, data={"client_id": SERVICE, "client_secret": SERVICE_SECRET,
                                    "grant_type": "client_credentials", "scope": "xpmheadless"})
        assert r.status_code == 200, r.text
        headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
        assert client.get("/api/v1/secrets/12", headers=headers).status_code == 200


def test_token_grace_covers_the_sdks_reuse(make_client: Callable[..., TestClient]) -> None:
    # docs/behaviour.md §2: SDK 2.0.1 reuses a token up to 300 s past expires_in; --token-grace accepts it that long.
    strict = make_client(token_ttl=0)
    headers = password_token(strict, SERVICE_LOGIN)
    time.sleep(0.01)
    assert strict.get("/api/v1/secrets/12", headers=headers).json() == UNAUTHENTICATED
    lenient = make_client(token_ttl=0, token_grace=300)
    headers = password_token(lenient, SERVICE_LOGIN)
    time.sleep(0.01)
    assert lenient.get("/api/v1/secrets/12", headers=headers).status_code == 200


# -- authentication (docs/behaviour.md §9) -----------------------------------------------------------------------------
@pytest.mark.parametrize("path", [*API_GETS, "/platform/vaultbroker/api/vaults"])
@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": "Bearer nope"},
    {"Authorization": "Basic bW9ja3NjaW06c2VjcmV0"},
    {"Authorization": "Bearer"},
])
def test_missing_or_bad_token_is_401(client: TestClient, path: str, headers: dict[str, str]) -> None:
    r = client.get(path, headers=headers)
    assert r.status_code == 401
    assert r.json() == UNAUTHENTICATED


def test_two_authorization_headers_are_401(client: TestClient) -> None:
    r = client.get("/api/v1/secrets/12", headers=[("Authorization", AUTH["Authorization"])] * 2)
    assert r.status_code == 401 and r.json() == UNAUTHENTICATED


def test_auth_comes_before_the_outage(client: TestClient) -> None:
    down(client)
    assert client.get("/api/v1/secrets/12").json() == UNAUTHENTICATED


# -- Secret Server down (docs/behaviour.md §8) -------------------------------------------------------------------------
@pytest.mark.parametrize("path", [*API_GETS, "/api/v1/secrets/14", "/api/v1/secrets/999", "/api/v1/folders/4",
                                  "/api/v1/secrets?take=bad"])
def test_down_answers_503_after_auth(client: TestClient, path: str) -> None:
    down(client)
    r = client.get(path, headers=AUTH)
    assert r.status_code == 503
    assert r.json() == UNAVAILABLE


def test_down_token_endpoint_is_503(client: TestClient) -> None:
    down(client)
    r = client.post("/oauth2/token", data={"username": SERVICE, "password": SERVICE_SECRET, "grant_type": "password"})
    assert r.status_code == 503 and r.json() == UNAVAILABLE


def test_down_keeps_platform_token_and_vaults(client: TestClient) -> None:
    down(client)
    r = client.post("/platform/identity/api/oauth2/token/xpmplatform",
                    data={"client_id": SERVICE, "client_secret": SERVICE_SECRET, "grant_type": "client_credentials"})
    assert r.status_code == 200
    headers = {"Authorization": f"Bearer {r.json()['access_token']}"}
    assert client.get("/platform/vaultbroker/api/vaults", headers=headers).status_code == 200
    client.put("/_mockscim/secret-server", json={"available": True})
    assert client.get("/api/v1/secrets/12", headers=headers).status_code == 200


def test_reset_brings_secret_server_back(make_client: Callable[..., TestClient]) -> None:
    client = make_client(secret_server_down=True)
    assert client.get("/api/v1/secrets/12", headers=AUTH).status_code == 503
    client.put("/_mockscim/secret-server", json={"available": True})
    assert client.get("/api/v1/secrets/12", headers=AUTH).status_code == 200


# -- vault broker (docs/behaviour.md §9) ------------------------------------------------------------------------
def test_vaults_point_at_the_root_url(client: TestClient) -> None:
    r = client.get("/platform/vaultbroker/api/vaults", headers=AUTH)
    assert r.status_code == 200
    (vault,) = r.json()["vaults"]
    assert vault["type"] == "SecretServerCloud"
    assert vault["isDefault"] is vault["isGlobalDefault"] is vault["isActive"] is True
    assert vault["connection"] == {"url": "http://testserver", "oAuthProfileId": "mockscim"}
    assert isinstance(vault["vaultId"], str) and isinstance(vault["name"], str)


# -- secrets ----------------------------------------------------------------------------------------------------
def test_secret_model(client: TestClient) -> None:
    r = client.get("/api/v1/secrets/12", headers=AUTH)
    assert r.status_code == 200
    s = r.json()
    assert s["id"] == 12 and s["name"] == "db-root" and s["folderId"] == 3
    assert s["secretTemplateName"] == "Unix Account (SSH)" and isinstance(s["secretTemplateId"], int)
    assert s["active"] is True and s["checkedOut"] is False and s["checkOutEnabled"] is False
    assert isinstance(s["siteId"], int) and isinstance(s["lastHeartBeatStatus"], str)
    assert NO_TZ.match(s["lastHeartBeatCheck"]) and NO_TZ.match(s["lastPasswordChangeAttempt"])
    items = {i["slug"]: i for i in s["items"]}
    # the template's fields in its order, then the extra field the secret carries (docs/behaviour.md §13)
    assert list(items) == ["machine", "username", "password", "private-key", "private-key-passphrase", "public-key",
                           "notes", "host"]
    assert items["private-key"]["isFile"] is True and items["private-key"]["fileAttachmentId"] is None
    assert items["username"]["itemValue"] == "root" and items["password"]["itemValue"] == "s3cr3t-Root!"
    password = items["password"]
    assert password["isPassword"] is True and items["username"]["isPassword"] is False
    assert password["fieldName"] == "Password" and password["fileAttachmentId"] is None
    assert password["isFile"] is False and password["isList"] is False and password["listType"] == "None"
    assert password["isNotes"] is False and isinstance(password["fieldDescription"], str)
    assert "filename" in password
    assert len({i["itemId"] for i in s["items"]}) == 8 and all(isinstance(i["fieldId"], int) for i in s["items"])


def test_secret_by_path(client: TestClient) -> None:
    for path in (r"\Infrastructure\Databases\Production\db-root", r"\infrastructure\DATABASES\production\DB-ROOT"):
        r = client.get("/api/v1/secrets/0", params={"secretPath": path}, headers=AUTH)
        assert r.status_code == 200 and r.json()["id"] == 12


@pytest.mark.parametrize("path", [r"\Finance\payroll-api", r"\Infrastructure\db-root", r"\Nope\x", "\\", ""])
def test_secret_by_path_denied_or_missing(client: TestClient, path: str) -> None:
    r = client.get("/api/v1/secrets/0", params={"secretPath": path}, headers=AUTH)
    assert r.status_code == 400 and r.json() == DENIED


def test_field_is_the_raw_value(client: TestClient) -> None:
    r = client.get("/api/v1/secrets/12/fields/password", headers=AUTH)
    assert r.status_code == 200 and r.json() == "s3cr3t-Root!"
    assert client.get("/api/v1/secrets/12/fields/USERNAME", headers=AUTH).json() == "root"


def test_unknown_field_is_a_400_with_message(client: TestClient) -> None:
    r = client.get("/api/v1/secrets/12/fields/nope", headers=AUTH)
    assert r.status_code == 400 and isinstance(r.json()["message"], str)


@pytest.mark.parametrize("path", ["/api/v1/secrets/14", "/api/v1/secrets/999", "/api/v1/secrets/abc",
                                  "/api/v1/secrets/14/fields/password", "/api/v1/secrets/999/fields/password",
                                  "/api/v1/secrets/0"])
def test_denied_or_missing_secret(client: TestClient, path: str) -> None:
    # docs/behaviour.md §9: Secret Server answers the same 400 for a secret that does not exist and one the caller may
    # not read.
    r = client.get(path, headers=AUTH)
    assert r.status_code == 400 and r.json() == DENIED


def test_owner_of_another_folder_reads_its_secrets(client: TestClient) -> None:
    headers = password_token(client, BJENSEN_LOGIN)
    assert client.get("/api/v1/secrets/14/fields/password", headers=headers).json() == "Pay-r0ll$ecret"
    assert client.get("/api/v1/secrets/12", headers=headers).json() == DENIED


def test_group_rights_on_an_ancestor_grant_read(client: TestClient) -> None:
    # mpepper is in DB Admins, which holds Edit on folder 2: secrets in 2 and its subfolder 3 are readable.
    patch = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
             "Operations": [{"op": "replace", "path": "password", "value": "Pepper-2024!"}]}
    assert client.patch(f"/scim/v2/Users/{MPEPPER_ID}", json=patch, headers=SCIM).status_code == 200
    headers = password_token(client, ("mpepper@example.com", "Pepper-2024!"))
    assert client.get("/api/v1/secrets/13", headers=headers).status_code == 200
    assert client.get("/api/v1/secrets/12", headers=headers).status_code == 200
    assert client.get("/api/v1/secrets/15", headers=headers).json() == DENIED
    assert client.get("/api/v1/folders/1", headers=headers).json() == DENIED
    assert client.get("/api/v1/folders/3", headers=headers).status_code == 200


def test_list_right_lists_but_does_not_read(client: TestClient) -> None:
    # PrivilegedDataPermissions are read-only over SCIM: the state import adds one with List only.
    state = client.get("/_mockscim/state").json()
    state["PrivilegedDataPermissions"].append({"id": "90", "privilegedData": {"value": "15"},
                                               "user": {"value": MPEPPER_ID}, "rights": ["List"]})
    assert client.put("/_mockscim/state", json=state).status_code in (200, 204)
    patch = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
             "Operations": [{"op": "replace", "path": "password", "value": "Pepper-2024!"}]}
    client.patch(f"/scim/v2/Users/{MPEPPER_ID}", json=patch, headers=SCIM)
    headers = password_token(client, ("mpepper@example.com", "Pepper-2024!"))
    found = client.get("/api/v1/secrets", params={"filter.folderId": "5"}, headers=headers).json()
    assert [r["id"] for r in found["records"]] == [15]
    assert client.get("/api/v1/secrets/15", headers=headers).json() == DENIED


def test_revoked_owner_loses_the_facade_too(client: TestClient) -> None:
    # docs/behaviour.md §10 owner-revoked: reading container 3 over SCIM revokes the caller's Owner there; the facade
    # agrees.
    assert client.post("/_mockscim/scenario", json={"name": "owner-revoked"}).status_code in (200, 201)
    assert client.get("/scim/v2/Containers/3", headers=AUTH).status_code == 403  # the revocation comes first
    assert client.get("/api/v1/secrets/12", headers=AUTH).json() == DENIED
    assert client.get("/api/v1/folders/3", headers=AUTH).json() == DENIED
    assert client.get("/api/v1/secrets/13", headers=AUTH).status_code == 200
    assert client.post("/_mockscim/reset").status_code in (200, 204)
    assert client.get("/api/v1/secrets/12", headers=AUTH).status_code == 200


def test_static_token_without_service_user_sees_nothing(client: TestClient) -> None:
    state = client.get("/_mockscim/state").json()
    state["serviceUsers"] = []
    assert client.put("/_mockscim/state", json=state).status_code in (200, 204)
    assert client.get("/api/v1/secrets/12", headers=AUTH).json() == DENIED
    assert client.get("/api/v1/folders/1", headers=AUTH).json() == DENIED
    assert client.get("/api/v1/secrets/search-total", headers=AUTH).json() == 0
    assert client.get("/api/v1/folders/lookup", headers=AUTH).json()["records"] == []


# -- secret search (docs/behaviour.md §9) -----------------------------------------------------------------
@pytest.mark.parametrize("version", ["v1", "v2"])
def test_secret_search(client: TestClient, version: str) -> None:
    r = client.get(f"/api/{version}/secrets", params={"filter.folderId": "2"}, headers=AUTH)
    assert r.status_code == 200
    page = r.json()
    assert [s["id"] for s in page["records"]] == [13]
    record = page["records"][0]
    assert record["folderPath"] == r"\Infrastructure\Databases" and record["folderId"] == 2
    assert record["name"] == "sa" and record["secretTemplateName"] == "SQL Server Account"
    assert page["total"] == 1 and page["success"] is True and page["severity"] == "None"
    for key in ("skip", "take", "pageCount", "currentPage", "batchCount", "prevSkip", "nextSkip", "hasPrev",
                "hasNext", "sortBy"):
        assert key in page
    total = client.get(f"/api/{version}/secrets/search-total", params={"filter.folderId": "2"}, headers=AUTH)
    assert total.status_code == 200 and total.text == "1"


def test_secret_search_filters_and_paging(client: TestClient) -> None:
    def ids(**params: str) -> list[int]:
        return [s["id"] for s in client.get("/api/v1/secrets", params=params, headers=AUTH).json()["records"]]

    assert 14 not in ids(take="100")  # not the service user's
    assert ids(**{"filter.folderId": "1", "filter.includeSubFolders": "true"}) == [12, 13]
    assert ids(**{"filter.searchText": "DB-"}) == [12]
    assert set(ids(**{"filter.folderId": "4"})) == {s for s in ids(take="100") if s not in (12, 13, 15)}
    first = client.get("/api/v1/secrets", params={"take": "1", "skip": "1"}, headers=AUTH).json()
    assert first["take"] == 1 and first["skip"] == 1 and len(first["records"]) == 1
    assert first["hasPrev"] is True and first["currentPage"] == 2
    assert first["hasNext"] is (first["total"] > 2)
    assert client.get("/api/v1/secrets/search-total", params={"filter.searchText": "zzz"}, headers=AUTH).json() == 0


@pytest.mark.parametrize("params", [{"take": "x"}, {"skip": "-1"}, {"take": "1.5"}])
def test_bad_paging_is_a_400_with_message(client: TestClient, params: dict[str, str]) -> None:
    for path in ("/api/v1/secrets", "/api/v1/folders/lookup", "/api/v1/users"):
        r = client.get(path, params=params, headers=AUTH)
        assert r.status_code == 400 and isinstance(r.json()["message"], str)


def test_inactive_secrets_need_include_inactive(client: TestClient) -> None:
    state = client.get("/_mockscim/state").json()
    for secret in state["PrivilegedData"]:
        if secret["id"] == "13":
            secret["active"] = False
    assert client.put("/_mockscim/state", json=state).status_code in (200, 204)
    folder = {"filter.folderId": "2"}
    assert client.get("/api/v1/secrets", params=folder, headers=AUTH).json()["records"] == []
    found = client.get("/api/v1/secrets", params={**folder, "filter.includeInactive": "true"}, headers=AUTH).json()
    assert [s["id"] for s in found["records"]] == [13] and found["records"][0]["active"] is False


# -- folders ----------------------------------------------------------------------------------------------------
def test_folder_model(client: TestClient) -> None:
    f = client.get("/api/v1/folders/2", headers=AUTH).json()
    assert f["id"] == 2 and f["folderName"] == "Databases" and f["folderPath"] == r"\Infrastructure\Databases"
    assert f["parentFolderId"] == 1 and f["inheritPermissions"] is True and f["childFolders"] is None
    for key in ("folderTypeId", "secretPolicyId", "inheritSecretPolicy", "secretTemplates"):
        assert key in f
    assert client.get("/api/v1/folders/1", headers=AUTH).json()["parentFolderId"] == -1


def test_folder_with_all_children(client: TestClient) -> None:
    f = client.get("/api/v1/folders/1", params={"getAllChildren": "true"}, headers=AUTH).json()
    (child,) = f["childFolders"]
    assert child["id"] == 2 and child["childFolders"][0]["folderPath"] == r"\Infrastructure\Databases\Production"
    assert child["childFolders"][0]["childFolders"] == []


def test_folder_by_path(client: TestClient) -> None:
    r = client.get("/api/v1/folders/0", params={"folderPath": r"\Infrastructure\Databases", "getAllChildren": "true"},
                   headers=AUTH)
    assert r.status_code == 200 and r.json()["id"] == 2 and r.json()["childFolders"][0]["id"] == 3


@pytest.mark.parametrize("path", ["/api/v1/folders/4", "/api/v1/folders/999", "/api/v1/folders/0",
                                  "/api/v1/folders/0?folderPath=%5CFinance", "/api/v1/folders/0?folderPath=%5CNope"])
def test_denied_or_missing_folder(client: TestClient, path: str) -> None:
    r = client.get(path, headers=AUTH)
    assert r.status_code == 400 and r.json() == DENIED


def test_folder_lookup(client: TestClient) -> None:
    def lookup(**params: str) -> dict[str, Any]:
        r = client.get("/api/v1/folders/lookup", params=params, headers=AUTH)
        assert r.status_code == 200
        body: dict[str, Any] = r.json()
        return body

    direct = {"filter.parentFolderId": "1", "filter.limitToDirectDescendents": "True"}
    first = lookup(**direct, take="1")
    assert first["total"] == 1 and first["records"] == [{"id": 2, "value": "Databases"}]
    assert [r["id"] for r in lookup(**{"filter.parentFolderId": "1"})["records"]] == [2, 3]
    assert lookup(**{"filter.parentFolderId": "3", "filter.limitToDirectDescendents": "True"})["total"] == 0
    everything = [r["id"] for r in lookup(take="100")["records"]]
    assert 4 not in everything and {1, 2, 3, 5} <= set(everything)
    assert [r["value"] for r in lookup(**{"filter.searchText": "prod"})["records"]] == ["Production"]
    roots = lookup(**{"filter.limitToDirectDescendents": "True"}, take="100")["records"]
    assert {r["id"] for r in roots} == {1, 5}


# -- users ------------------------------------------------------------------------------------------------------
def test_users(client: TestClient) -> None:
    page = client.get("/api/v1/users", params={"take": "100"}, headers=AUTH).json()
    users = {u["userName"]: u for u in page["records"]}
    assert "old.admin@example.com" not in users  # inactive: only with filter.includeInactive
    bjensen = users["bjensen@example.com"]
    assert bjensen["id"] == "2819c223-7f76-453a-919d-413861904646"
    assert bjensen["displayName"] == "Babs Jensen" and bjensen["emailAddress"] == "bjensen@example.com"
    assert bjensen["enabled"] is True and bjensen["isApplicationAccount"] is False
    assert NO_TZ.match(bjensen["created"])
    assert users["scim-service@mockscim.test"]["isApplicationAccount"] is True
    everyone = client.get("/api/v1/users", params={"take": "100", "filter.includeInactive": "true"},
                          headers=AUTH).json()
    assert everyone["total"] == page["total"] + 1
    found = client.get("/api/v1/users", params={"filter.searchText": "jensen"}, headers=AUTH).json()
    assert [u["userName"] for u in found["records"]] == ["bjensen@example.com"]


def test_scim_created_user_is_a_secret_server_user(client: TestClient) -> None:
    body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "new.hire@example.com",
            "password": "Hire-2026!"}
    created = client.post("/scim/v2/Users", json=body, headers=SCIM)
    assert created.status_code == 201
    found = client.get("/api/v1/users", params={"filter.searchText": "new.hire"}, headers=AUTH).json()
    assert [u["id"] for u in found["records"]] == [created.json()["id"]]
    password_token(client, ("new.hire@example.com", "Hire-2026!"))


# -- unknown paths ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/api/v1/widgets", "/api/v3/secrets", "/api/v1/secrets/12/fields",
                                  "/platform/api/v1/x"])
def test_unknown_api_path_is_404_with_message(client: TestClient, path: str) -> None:
    r = client.get(path, headers=AUTH)
    assert r.status_code == 404 and isinstance(r.json()["message"], str)


def test_wrong_method_is_405_with_message(client: TestClient) -> None:
    r = client.post("/api/v1/secrets/12", headers=AUTH)
    assert r.status_code == 405 and isinstance(r.json()["message"], str)
