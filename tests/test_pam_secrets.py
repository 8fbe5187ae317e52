"""PrivilegedData and its permissions over HTTP: outages, cascades, error precedence (docs/behaviour.md §4, §8)."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.helpers import (
    AUTH,
    BJENSEN_ID,
    DB_ADMINS_ID,
    INVALID_VALUE,
    MPEPPER_ID,
    OWNER_REQUIRED,
    PATCH_OP,
    SCIM,
    UNAVAILABLE,
    assert_scim_error,
    export_state,
    ids,
    listing,
    patch,
    secret_server,
)


# -- PrivilegedData ------------------------------------------------------------------------------------------------
def test_secret_list_shows_only_owned_secrets_without_fields(client: TestClient) -> None:
    r = listing(client, "PrivilegedData")
    assert ids(r) == ["12", "13", "15", "16"]  # 14 is in container 4; 16 too, but owned through its permission
    assert all("fields" not in s for s in r.json()["Resources"])
    assert "s3cr3t-Root!" not in r.text and "password" not in r.text


def test_secret_get_renders_its_container_and_never_its_fields(client: TestClient) -> None:
    r = client.get("/scim/v2/PrivilegedData/12", headers=AUTH)
    body = r.json()
    assert r.status_code == 200 and "fields" not in body and "s3cr3t" not in r.text
    assert body["container"] == {"value": "3", "display": "Production",
                                 "$ref": "http://testserver/scim/v2/Containers/3"}
    assert (body["name"], body["type"], body["active"]) == ("db-root", "Unix Account (SSH)", True)


@pytest.mark.parametrize(("sid", "status"), [("14", 403), ("99", 404)])
def test_secret_get_not_owned_or_missing(client: TestClient, sid: str, status: int) -> None:
    detail = OWNER_REQUIRED if status == 403 else f"Resource '{sid}' not found."
    assert_scim_error(client.get(f"/scim/v2/PrivilegedData/{sid}", headers=AUTH), status, detail)


@pytest.mark.parametrize(("flt", "expected"), [
    ('name eq "DB-ROOT"', ["12"]),
    ('name eq "payroll-api"', []),      # non-owned: hidden
    ('id eq "14"', []),
    ('id eq "16"', ["16"]),
    ('container.value eq "3"', ["12"]),
    ('container.value eq "99"', []),
])
def test_secret_filters(client: TestClient, flt: str, expected: list[str]) -> None:
    assert ids(listing(client, "PrivilegedData", flt)) == expected


def test_secret_filter_naming_a_container_not_owned_is_403(client: TestClient) -> None:
    assert_scim_error(listing(client, "PrivilegedData", 'container.value eq "4"'), 403, OWNER_REQUIRED)


@pytest.mark.parametrize(("method", "path"), [
    ("POST", "PrivilegedData"), ("PUT", "PrivilegedData/12"), ("PATCH", "PrivilegedData/12"),
    ("DELETE", "PrivilegedData/12"), ("POST", "PrivilegedDataPermissions"), ("PUT", "PrivilegedDataPermissions/2"),
    ("PATCH", "PrivilegedDataPermissions/2"), ("DELETE", "PrivilegedDataPermissions/2"),
])
def test_secret_writes_are_405(client: TestClient, method: str, path: str) -> None:
    """docs/behaviour.md §4 [D]: the Platform prevents creating privileged data and its permissions; 405 with Allow
    [C]."""
    before = export_state(client)
    r = client.request(method, f"/scim/v2/{path}", headers=SCIM, json={"name": "x"})
    assert (r.status_code, r.json()["status"], r.json()["schemas"]) == (405, "405", [
        "urn:ietf:params:scim:api:messages:2.0:Error"])
    assert {m.strip() for m in r.headers["allow"].split(",")} == {"GET", "HEAD"}
    assert export_state(client) == before


# -- PrivilegedDataPermissions -----------------------------------------------------------------------------------
def test_secret_permission_list_shows_only_permissions_of_owned_secrets(client: TestClient) -> None:
    assert ids(listing(client, "PrivilegedDataPermissions")) == ["2", "3"]  # 1 is on secret 14


@pytest.mark.parametrize(("flt", "expected"), [
    ('privilegedData.value eq "12"', ["2"]),
    ('privilegedData.value eq "99"', []),
    (f'user.value eq "{BJENSEN_ID}"', []),
    (f'group.value eq "{DB_ADMINS_ID}" and privilegedData.value eq "12"', ["2"]),
])
def test_secret_permission_filters(client: TestClient, flt: str, expected: list[str]) -> None:
    assert ids(listing(client, "PrivilegedDataPermissions", flt)) == expected


def test_secret_permission_filter_naming_a_secret_not_owned_is_403(client: TestClient) -> None:
    assert_scim_error(listing(client, "PrivilegedDataPermissions", 'privilegedData.value eq "14"'), 403, OWNER_REQUIRED)


def test_secret_permission_get(client: TestClient) -> None:
    body = client.get("/scim/v2/PrivilegedDataPermissions/2", headers=AUTH).json()
    assert body["privilegedData"] == {"value": "12", "display": "db-root",
                                      "$ref": "http://testserver/scim/v2/PrivilegedData/12"}
    assert body["group"]["display"] == "DB Admins" and body["rights"] == ["View"]
    assert_scim_error(client.get("/scim/v2/PrivilegedDataPermissions/1", headers=AUTH), 403, OWNER_REQUIRED)
    assert_scim_error(client.get("/scim/v2/PrivilegedDataPermissions/99", headers=AUTH), 404,
                      "Resource '99' not found.")


# -- Secret Server availability (docs/behaviour.md §8 [D]) -------------------------------------------------------------
@pytest.mark.parametrize("path", ["PrivilegedData", "PrivilegedData/12", "PrivilegedData/14", "PrivilegedData/99",
                                  "PrivilegedData?filter=container.value%20eq%20%224%22",
                                  "PrivilegedData?filter=bogus", "PrivilegedData?count=x"])
def test_secret_reads_are_503_while_secret_server_is_down(client: TestClient, path: str) -> None:
    """Every GET of PrivilegedData: 503 before 404, 403 and validation, also for unknown or non-owned secrets."""
    secret_server(client, False)
    assert_scim_error(client.get(f"/scim/v2/{path}", headers=AUTH), 503, UNAVAILABLE)


@pytest.mark.parametrize(("content_type", "body"), [
    ("application/scim+json", b'{"name": "Web"}'),
    ("application/scim+json", b"{not json"),   # 503 (3) before malformed JSON (4)
    ("text/plain", b"name=Web"),               # and before 415
    ("application/json", b'{"parent": {"value": "4"}}'),  # and before validation and Owner checks
])
def test_container_create_is_503_and_writes_nothing(client: TestClient, content_type: str, body: bytes) -> None:
    secret_server(client, False)
    before = export_state(client)
    r = client.post("/scim/v2/Containers", headers={**AUTH, "Content-Type": content_type}, content=body)
    assert_scim_error(r, 503, UNAVAILABLE)
    assert export_state(client) == before


def test_everything_else_works_while_secret_server_is_down(client: TestClient) -> None:
    secret_server(client, False)
    assert ids(listing(client, "Containers")) == ["1", "2", "3", "5"]
    r = patch(client, "/scim/v2/Containers/5", {"op": "replace", "path": "description", "value": "x"})
    assert r.status_code == 200
    r = client.post("/scim/v2/ContainerPermissions", headers=SCIM,
                    json={"container": {"value": "5"}, "user": {"value": MPEPPER_ID}, "rights": ["View"]})
    assert r.status_code == 201
    assert ids(listing(client, "PrivilegedDataPermissions")) == ["2", "3"]
    assert client.get("/scim/v2/Users", headers=AUTH).status_code == 200
    secret_server(client, True)
    assert client.post("/scim/v2/Containers", headers=SCIM, json={"name": "Web"}).status_code == 201
    assert client.get("/scim/v2/PrivilegedData/12", headers=AUTH).status_code == 200


def test_secret_server_down_from_the_start_and_back_on_reset(make_client: Any) -> None:
    client = make_client(secret_server_down=True)
    assert_scim_error(client.get("/scim/v2/PrivilegedData", headers=AUTH), 503, UNAVAILABLE)
    secret_server(client, True)
    assert client.get("/scim/v2/PrivilegedData", headers=AUTH).status_code == 200
    client.post("/_mockscim/reset")
    assert_scim_error(client.post("/scim/v2/Containers", headers=SCIM, json={"name": "x"}), 503, UNAVAILABLE)


# -- Cascades (docs/behaviour.md §4 [D]) -------------------------------------------------------------------------------
def test_deleting_a_user_deletes_its_container_permissions(client: TestClient) -> None:
    assert client.get("/scim/v2/ContainerPermissions/5", headers=AUTH).status_code == 200
    assert client.delete(f"/scim/v2/Users/{MPEPPER_ID}", headers=AUTH).status_code == 204
    assert_scim_error(client.get("/scim/v2/ContainerPermissions/5", headers=AUTH), 404, "Resource '5' not found.")
    members = client.get(f"/scim/v2/Groups/{DB_ADMINS_ID}", headers=AUTH).json()["members"]
    assert MPEPPER_ID not in [m["value"] for m in members]


def test_deleting_a_user_deletes_its_privileged_data_permissions(client: TestClient) -> None:
    # bjensen's permissions are on container 4 and secret 14, which the caller does not own: 403 before, 404 after.
    assert_scim_error(client.get("/scim/v2/PrivilegedDataPermissions/1", headers=AUTH), 403, OWNER_REQUIRED)
    assert client.delete(f"/scim/v2/Users/{BJENSEN_ID}", headers=AUTH).status_code == 204
    assert_scim_error(client.get("/scim/v2/PrivilegedDataPermissions/1", headers=AUTH), 404, "Resource '1' not found.")
    assert_scim_error(client.get("/scim/v2/ContainerPermissions/3", headers=AUTH), 404, "Resource '3' not found.")


def test_deleting_a_group_deletes_its_permissions_of_both_kinds(client: TestClient) -> None:
    assert client.get("/scim/v2/PrivilegedDataPermissions/2", headers=AUTH).status_code == 200
    assert client.delete(f"/scim/v2/Groups/{DB_ADMINS_ID}", headers=AUTH).status_code == 204
    assert_scim_error(client.get("/scim/v2/ContainerPermissions/2", headers=AUTH), 404, "Resource '2' not found.")
    assert_scim_error(client.get("/scim/v2/PrivilegedDataPermissions/2", headers=AUTH), 404, "Resource '2' not found.")
    assert ids(listing(client, "PrivilegedDataPermissions")) == ["3"]


# -- Error precedence (docs/behaviour.md §4) ---------------------------------------------------------------------------
def test_401_comes_first_even_while_secret_server_is_down(client: TestClient) -> None:
    secret_server(client, False)
    r = client.get("/scim/v2/PrivilegedData/12")
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert client.post("/scim/v2/Containers", json={"name": "x"}).status_code == 401


def test_405_comes_before_503(client: TestClient) -> None:
    secret_server(client, False)
    assert client.delete("/scim/v2/PrivilegedData/12", headers=AUTH).status_code == 405
    assert client.post("/scim/v2/PrivilegedData", headers=SCIM, json={}).status_code == 405


def test_malformed_body_comes_before_404(client: TestClient) -> None:
    r = client.put("/scim/v2/Containers/99", headers=SCIM, content=b"{nope")
    assert_scim_error(r, 400, INVALID_VALUE, "invalidSyntax")


@pytest.mark.parametrize(("method", "path", "body"), [
    ("PUT", "Containers/99", {"name": "x", "parent": {"value": "4"}}),
    ("PATCH", "ContainerPermissions/99", {"schemas": [PATCH_OP], "Operations": [{"op": "bogus"}]}),
    ("DELETE", "ContainerPermissions/99", None),
])
def test_404_comes_before_403_and_400(client: TestClient, method: str, path: str, body: Any) -> None:
    r = client.request(method, f"/scim/v2/{path}", headers=SCIM, **({} if body is None else {"json": body}))
    assert_scim_error(r, 404, "Resource '99' not found.")


@pytest.mark.parametrize(("method", "path", "body"), [
    ("PUT", "Containers/4", {"description": "no name"}),
    ("PATCH", "Containers/4", {"schemas": [PATCH_OP], "Operations": [{"op": "bogus"}]}),
    ("PUT", "ContainerPermissions/3", {"rights": ["Bogus"]}),
])
def test_403_on_the_addressed_resource_comes_before_400(client: TestClient, method: str, path: str,
                                                        body: dict[str, Any]) -> None:
    assert_scim_error(client.request(method, f"/scim/v2/{path}", headers=SCIM, json=body), 403, OWNER_REQUIRED)


def test_400_comes_before_403_on_a_named_parent(client: TestClient) -> None:
    assert_scim_error(client.post("/scim/v2/Containers", headers=SCIM, json={"parent": {"value": "4"}}), 400,
                      "Attribute 'name' is required.", "invalidValue")


def test_403_on_a_named_parent_comes_before_409(client: TestClient) -> None:
    data = export_state(client)
    data["Containers"].append({"id": "6", "name": "Payroll", "parent": {"value": "4"}})
    assert client.put("/_mockscim/state", json=data).status_code == 200
    r = client.post("/scim/v2/Containers", headers=SCIM, json={"name": "payroll", "parent": {"value": "4"}})
    assert_scim_error(r, 403, OWNER_REQUIRED)


def test_409_comes_before_412_and_412_only_when_it_would_succeed(client: TestClient) -> None:
    stale = {"If-Match": 'W/"stale"'}
    r = client.put("/scim/v2/Containers/5", headers={**SCIM, **stale}, json={"name": "Infrastructure"})
    assert_scim_error(r, 409, "Attribute 'name' MUST be unique.", "uniqueness")
    r = client.put("/scim/v2/Containers/5", headers={**SCIM, **stale}, json={"name": "Apps"})
    assert r.status_code == 412
    assert client.get("/scim/v2/Containers/5", headers=AUTH).json()["name"] == "Applications"
