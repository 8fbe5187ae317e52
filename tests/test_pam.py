"""PAM resources over HTTP (docs/behaviour.md §3, §4, §8): Containers, PrivilegedData and their permissions."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.helpers import (
    AUTH,
    BJENSEN_ID,
    DB_ADMINS_ID,
    MPEPPER_ID,
    OWNER_REQUIRED,
    PATCH_OP,
    SCIM,
    SERVICE_ID,
    TOUR_GUIDES_ID,
    assert_scim_error,
    export_state,
    ids,
    listing,
    patch,
)

# The default fixture: containers 1 > 2 > 3 and 5 owned by the service user, 4 not; secrets 12 (in 3), 13 (in 2),
# 15 (in 5), 16 (in 4, Owner through its own permission) owned, 14 (in 4) not.


def load(client: TestClient, data: dict[str, list[dict[str, Any]]]) -> None:
    assert client.put("/_mockscim/state", json=data).status_code == 200


# -- Containers: reading -----------------------------------------------------------------------------------------
def test_container_list_shows_only_owned_containers(client: TestClient) -> None:
    assert ids(listing(client, "Containers")) == ["1", "2", "3", "5"]


@pytest.mark.parametrize(("flt", "expected"), [
    ('name eq "production"', ["3"]),           # docs/behaviour.md §3: name compares case-insensitively
    ('name eq "Finance"', []),                 # a name matching only a non-owned container: empty, not 403
    ('id eq "4"', []),                         # id eq is treated like name eq
    ('id eq "3"', ["3"]),
    ('id eq "3" and name eq "PRODUCTION"', ["3"]),
    ('name eq "nothing"', []),
])
def test_container_filters_show_only_owned(client: TestClient, flt: str, expected: list[str]) -> None:
    assert ids(listing(client, "Containers", flt)) == expected


def test_container_filter_outside_the_allow_list_is_400(client: TestClient) -> None:
    assert_scim_error(listing(client, "Containers", 'description eq "x"'), 400,
                      "Specified attribute and filter comparison combination is not supported.", "invalidFilter")


def test_container_get_renders_parent_owner_and_secrets(client: TestClient) -> None:
    r = client.get("/scim/v2/Containers/3", headers=AUTH)
    body = r.json()
    assert r.status_code == 200 and r.headers["etag"] == body["meta"]["version"]
    assert body["parent"] == {"value": "2", "display": "Databases", "$ref": "http://testserver/scim/v2/Containers/2"}
    assert body["owner"] == {"value": SERVICE_ID, "display": "scim-service@mockscim.test",
                             "$ref": f"http://testserver/scim/v2/Users/{SERVICE_ID}"}
    assert body["privilegedData"] == [
        {"value": "12", "display": "db-root", "$ref": "http://testserver/scim/v2/PrivilegedData/12"}]
    assert body["displayName"] == "Production" and body["meta"]["location"].endswith("/scim/v2/Containers/3")


def test_container_owner_is_inherited_from_an_ancestor(client: TestClient) -> None:
    # The service user's only permission in this branch is Owner on 1 (docs/behaviour.md §4 [D]: Owner passes down).
    data = export_state(client)
    assert [p for p in data["ContainerPermissions"] if p["container"]["value"] in ("2", "3")
            and p.get("user", {}).get("value") == SERVICE_ID] == []
    assert client.get("/scim/v2/Containers/3", headers=AUTH).status_code == 200


def test_container_get_without_owner_is_403(client: TestClient) -> None:
    assert_scim_error(client.get("/scim/v2/Containers/4", headers=AUTH), 403, OWNER_REQUIRED)


def test_container_get_missing_is_404(client: TestClient) -> None:
    assert_scim_error(client.get("/scim/v2/Containers/99", headers=AUTH), 404, "Resource '99' not found.")


def test_owner_through_a_group(client: TestClient) -> None:
    """docs/behaviour.md §4 [D]: a group grants what its direct members may do; Owner on 4 then covers its children."""
    data = export_state(client)
    data["Groups"].append({"id": "vault-admins", "displayName": "Vault Admins", "members": [{"value": SERVICE_ID}]})
    data["Containers"].append({"id": "6", "name": "Payroll", "parent": {"value": "4"}})
    data["ContainerPermissions"].append(
        {"id": "9", "container": {"value": "4"}, "group": {"value": "vault-admins"}, "rights": ["Owner"]})
    load(client, data)
    assert ids(listing(client, "Containers")) == ["1", "2", "3", "4", "5", "6"]
    assert client.get("/scim/v2/PrivilegedData/14", headers=AUTH).status_code == 200


def test_revoked_owner_denies_the_subtree(client: TestClient) -> None:
    """docs/behaviour.md §10: a revocation on 2 denies Owner on 2, 3 and their secrets and permissions, whatever they
    say."""
    client.app.state.runtime.core.revoked.add(("2", "scim-service@mockscim.test"))  # type: ignore[attr-defined]
    assert ids(listing(client, "Containers")) == ["1", "5"]
    for path in ("Containers/2", "Containers/3", "PrivilegedData/12", "ContainerPermissions/5"):
        assert_scim_error(client.get(f"/scim/v2/{path}", headers=AUTH), 403, OWNER_REQUIRED)
    assert_scim_error(listing(client, "ContainerPermissions", 'container.value eq "3"'), 403, OWNER_REQUIRED)
    assert client.get("/scim/v2/Containers/1", headers=AUTH).status_code == 200
    assert client.post("/_mockscim/reset").status_code == 200  # docs/behaviour.md §12: reset clears revocations
    assert client.get("/scim/v2/Containers/3", headers=AUTH).status_code == 200


# -- Containers: creating ----------------------------------------------------------------------------------------
def test_container_create_makes_the_caller_owner(client: TestClient) -> None:
    r = client.post("/scim/v2/Containers", headers=SCIM, json={
        "schemas": ["urn:ietf:params:scim:schemas:pam:1.0:Container"], "name": "Web", "parent": {"value": "1"},
        "owner": {"value": BJENSEN_ID}, "privilegedData": [{"value": "13"}]})
    body = r.json()
    assert r.status_code == 201 and r.headers["location"] == body["meta"]["location"]
    assert body["id"] == "6" and body["displayName"] == "Web"  # integer ids; displayName defaults to name
    assert body["owner"]["value"] == SERVICE_ID  # read-only: the caller, whatever the body says
    assert "privilegedData" not in body  # ignored in POST bodies (docs/behaviour.md §3)
    perms = listing(client, "ContainerPermissions", 'container.value eq "6"').json()["Resources"]
    assert [(p["user"]["value"], p["rights"]) for p in perms] == [(SERVICE_ID, ["Owner"])]
    assert client.get("/scim/v2/Containers/6", headers=AUTH).status_code == 200
    assert client.get("/scim/v2/PrivilegedData/13", headers=AUTH).json()["container"]["value"] == "2"


def test_container_create_keeps_a_given_display_name(client: TestClient) -> None:
    r = client.post("/scim/v2/Containers", headers=SCIM, json={"name": "web", "displayName": "Web servers"})
    assert (r.status_code, r.json()["displayName"], "parent" in r.json()) == (201, "Web servers", False)


def test_container_create_requires_name(client: TestClient) -> None:
    assert_scim_error(client.post("/scim/v2/Containers", headers=SCIM, json={"description": "x"}), 400,
                      "Attribute 'name' is required.", "invalidValue")


def test_container_create_with_missing_parent_is_400(client: TestClient) -> None:
    r = client.post("/scim/v2/Containers", headers=SCIM, json={"name": "x", "parent": {"value": "99"}})
    assert_scim_error(r, 400, "The 'parent' attribute was invalid.", "invalidValue")


def test_container_create_under_a_parent_not_owned_is_403(client: TestClient) -> None:
    before = export_state(client)
    r = client.post("/scim/v2/Containers", headers=SCIM, json={"name": "x", "parent": {"value": "4"}})
    assert_scim_error(r, 403, OWNER_REQUIRED)
    assert export_state(client) == before


@pytest.mark.parametrize(("name", "parent", "status"), [
    ("databases", "1", 409),       # a sibling already has it, case-insensitively
    ("INFRASTRUCTURE", None, 409),  # root containers are siblings
    ("Databases", "5", 201),       # the same name under another parent is fine
    ("Production", None, 201),
])
def test_container_name_unique_among_siblings(client: TestClient, name: str, parent: str | None, status: int) -> None:
    body: dict[str, Any] = {"name": name} | ({"parent": {"value": parent}} if parent else {})
    r = client.post("/scim/v2/Containers", headers=SCIM, json=body)
    if status == 409:
        assert_scim_error(r, 409, "Attribute 'name' MUST be unique.", "uniqueness")
    else:
        assert r.status_code == 201


def test_container_create_without_principal_gets_no_owner(client: TestClient) -> None:
    """docs/behaviour.md §2, §4: the static token with no service user creates, but owns nothing and gets no
    permission."""
    data = export_state(client)
    data["serviceUsers"] = []
    load(client, data)
    r = client.post("/scim/v2/Containers", headers=SCIM, json={"name": "Orphan"})
    assert r.status_code == 201 and "owner" not in r.json()
    after = export_state(client)
    assert len(after["ContainerPermissions"]) == len(data["ContainerPermissions"])
    assert_scim_error(client.get(f"/scim/v2/Containers/{r.json()['id']}", headers=AUTH), 403, OWNER_REQUIRED)
    assert ids(listing(client, "Containers")) == []


# -- Containers: changing ----------------------------------------------------------------------------------------
def test_container_put_replaces_the_writable_attributes(client: TestClient) -> None:
    current = client.get("/scim/v2/Containers/2", headers=AUTH).json()
    r = client.put("/scim/v2/Containers/2", headers=SCIM, json={
        **current, "name": "DBs", "displayName": "All databases", "type": "Folder", "description": None})
    body = r.json()
    assert r.status_code == 200, r.text
    assert (body["name"], body["displayName"], body["type"], "description" in body) == (
        "DBs", "All databases", "Folder", False)
    assert body["parent"]["value"] == "1" and body["owner"]["value"] == SERVICE_ID
    assert [s["value"] for s in body["privilegedData"]] == ["13"]
    assert client.get("/scim/v2/Containers/2", headers=AUTH).json()["name"] == "DBs"


def test_container_put_without_parent_keeps_it(client: TestClient) -> None:
    r = client.put("/scim/v2/Containers/3", headers=SCIM, json={"name": "Prod"})
    assert (r.status_code, r.json()["parent"]["value"], r.json()["displayName"]) == (200, "2", "Prod")


@pytest.mark.parametrize(("cid", "parent"), [("3", "1"), ("1", "5")])  # moved, or a root container given a parent
def test_container_parent_is_immutable_in_put(client: TestClient, cid: str, parent: str) -> None:
    r = client.put(f"/scim/v2/Containers/{cid}", headers=SCIM, json={"name": "x", "parent": {"value": parent}})
    assert_scim_error(r, 400, "Attribute 'parent' is immutable and cannot be changed.", "mutability")


@pytest.mark.parametrize("op", [{"op": "replace", "path": "parent", "value": {"value": "5"}},
                                {"op": "remove", "path": "parent"}])
def test_container_parent_is_immutable_in_patch(client: TestClient, op: dict[str, Any]) -> None:
    assert_scim_error(patch(client, "/scim/v2/Containers/3", op), 400,
                      "Attribute 'parent' is immutable and cannot be changed.", "mutability")


def test_container_patch_renames(client: TestClient) -> None:
    r = patch(client, "/scim/v2/Containers/5", {"op": "replace", "value": {"name": "Apps", "description": "Apps"}})
    assert (r.status_code, r.json()["name"], r.json()["description"]) == (200, "Apps", "Apps")
    assert ids(listing(client, "Containers", 'name eq "apps"')) == ["5"]


def test_container_patch_rename_to_a_sibling_name_is_409(client: TestClient) -> None:
    r = patch(client, "/scim/v2/Containers/5", {"op": "replace", "path": "name", "value": "infrastructure"})
    assert_scim_error(r, 409, "Attribute 'name' MUST be unique.", "uniqueness")


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_container_write_without_owner_is_403(client: TestClient, method: str) -> None:
    rename = {"op": "replace", "path": "name", "value": "x"}
    body: dict[str, Any] = {"name": "x"} if method == "PUT" else {"schemas": [PATCH_OP], "Operations": [rename]}
    assert_scim_error(client.request(method, "/scim/v2/Containers/4", headers=SCIM, json=body), 403, OWNER_REQUIRED)
    assert next(c for c in export_state(client)["Containers"] if c["id"] == "4")["name"] == "Finance"


def test_container_delete_is_405_with_allow(client: TestClient) -> None:
    r = client.delete("/scim/v2/Containers/1", headers=AUTH)
    assert r.status_code == 405 and r.json()["status"] == "405" and "DELETE" not in r.headers["allow"]
    assert set(r.headers["allow"].replace(" ", "").split(",")) >= {"GET", "PUT", "PATCH"}
    assert client.get("/scim/v2/Containers/1", headers=AUTH).status_code == 200


# -- Containers: moving secrets (docs/behaviour.md §4 "Add / Remove Secret in the Folder" [D]) -------------------------
def secrets_of(client: TestClient, cid: str) -> list[str]:
    body = client.get(f"/scim/v2/Containers/{cid}", headers=AUTH).json()
    return [s["value"] for s in body.get("privilegedData", [])]


def test_patch_add_moves_a_secret_in(client: TestClient) -> None:
    version = client.get("/scim/v2/Containers/2", headers=AUTH).json()["meta"]["version"]
    r = patch(client, "/scim/v2/Containers/5", {"op": "add", "path": "privilegedData", "value": [{"value": "13"}]})
    # Listed in creation order (docs/behaviour.md §4: order is stable).
    assert r.status_code == 200 and [s["value"] for s in r.json()["privilegedData"]] == ["13", "15"]
    assert secrets_of(client, "2") == []
    # The container it left shows another representation, so another version (docs/behaviour.md §6).
    assert client.get("/scim/v2/Containers/2", headers=AUTH).json()["meta"]["version"] != version
    assert client.get("/scim/v2/PrivilegedData/13", headers=AUTH).json()["container"]["value"] == "5"


def test_patch_add_of_a_secret_owned_through_its_permission(client: TestClient) -> None:
    r = patch(client, "/scim/v2/Containers/5", {"op": "add", "path": "privilegedData", "value": [{"value": "16"}]})
    assert r.status_code == 200 and secrets_of(client, "5") == ["15", "16"]


def test_patch_remove_by_filter_leaves_the_secret_without_container(client: TestClient) -> None:
    r = patch(client, "/scim/v2/Containers/3", {"op": "remove", "path": 'privilegedData[value eq "12"]'})
    assert r.status_code == 200 and "privilegedData" not in r.json()
    secret = next(s for s in export_state(client)["PrivilegedData"] if s["id"] == "12")
    assert "container" not in secret
    # Owner on it now comes only from PrivilegedDataPermissions, and the service user has none on 12.
    assert_scim_error(client.get("/scim/v2/PrivilegedData/12", headers=AUTH), 403, OWNER_REQUIRED)


def test_patch_remove_by_value_list(client: TestClient) -> None:
    r = patch(client, "/scim/v2/Containers/5", {"op": "Remove", "path": "privilegedData", "value": [{"value": "15"}]})
    assert r.status_code == 200 and secrets_of(client, "5") == []


def test_patch_remove_by_filter_matching_nothing_changes_nothing(client: TestClient) -> None:
    r = patch(client, "/scim/v2/Containers/5", {"op": "remove", "path": 'privilegedData[value eq "12"]'})
    assert r.status_code == 200 and secrets_of(client, "5") == ["15"] and secrets_of(client, "3") == ["12"]


def test_patch_replace_keeps_exactly_the_listed_secrets(client: TestClient) -> None:
    r = patch(client, "/scim/v2/Containers/5", {"op": "replace", "path": "privilegedData", "value": [{"value": "12"}]})
    assert r.status_code == 200 and secrets_of(client, "5") == ["12"] and secrets_of(client, "3") == []
    assert "container" not in next(s for s in export_state(client)["PrivilegedData"] if s["id"] == "15")


def test_patch_pathless_moves_and_renames_together(client: TestClient) -> None:
    r = patch(client, "/scim/v2/Containers/5",
              {"op": "add", "value": {"privilegedData": [{"value": "13"}], "type": "App"}})
    assert r.status_code == 200 and r.json()["type"] == "App" and secrets_of(client, "5") == ["13", "15"]


@pytest.mark.parametrize("op", [
    {"op": "add", "path": "privilegedData", "value": [{"value": "99"}]},
    {"op": "add", "path": "privilegedData", "value": [{"value": "13"}, {"value": "99"}]},
    {"op": "remove", "path": 'privilegedData[value eq "99"]'},
    {"op": "add", "path": "privilegedData", "value": ["13"]},
])
def test_patch_naming_a_missing_secret_is_400(client: TestClient, op: dict[str, Any]) -> None:
    before = export_state(client)
    assert_scim_error(patch(client, "/scim/v2/Containers/5", op), 400, "The 'privilegedData' attribute was invalid.",
                      "invalidValue")
    assert export_state(client) == before


def test_patch_moving_a_secret_not_owned_is_403(client: TestClient) -> None:
    before = export_state(client)
    r = patch(client, "/scim/v2/Containers/5",
              {"op": "add", "path": "privilegedData", "value": [{"value": "13"}, {"value": "14"}]})
    assert_scim_error(r, 403, OWNER_REQUIRED)
    assert export_state(client) == before


def test_patch_moving_into_a_container_not_owned_is_403(client: TestClient) -> None:
    r = patch(client, "/scim/v2/Containers/4", {"op": "add", "path": "privilegedData", "value": [{"value": "13"}]})
    assert_scim_error(r, 403, OWNER_REQUIRED)


@pytest.mark.parametrize(("cid", "op"), [
    ("3", {"op": "replace", "path": "parent", "value": {"value": "5"}}),
    ("5", {"op": "add", "path": "parent", "value": {"value": "1"}}),  # a root container given a parent
])
def test_patch_validation_error_comes_before_the_secret_403(client: TestClient, cid: str, op: dict[str, Any]) -> None:
    """docs/behaviour.md §4 precedence: 400 (7) on the container's own attributes before 403 (8) on a moved secret."""
    r = patch(client, f"/scim/v2/Containers/{cid}", op,
              {"op": "add", "path": "privilegedData", "value": [{"value": "14"}]})
    assert_scim_error(r, 400, "Attribute 'parent' is immutable and cannot be changed.", "mutability")


# -- ContainerPermissions ------------------------------------------------------------------------------------------
def test_permission_list_shows_only_permissions_of_owned_containers(client: TestClient) -> None:
    assert ids(listing(client, "ContainerPermissions")) == ["1", "2", "4", "5"]  # 3 is on container 4


@pytest.mark.parametrize(("flt", "expected"), [
    ('container.value eq "3"', ["5"]),               # stored on 3, not inherited from 1 (docs/behaviour.md §5)
    ('container.value eq "99"', []),                 # names nothing existing: empty
    (f'user.value eq "{BJENSEN_ID}"', []),              # only on container 4: hidden
    (f'group.value eq "{DB_ADMINS_ID}"', ["2"]),
    (f'container.value eq "1" and user.value eq "{SERVICE_ID}"', ["1"]),  # as SailPoint sends it
    (f'container.value eq "2" and user.value eq "{SERVICE_ID}"', []),
])
def test_permission_filters(client: TestClient, flt: str, expected: list[str]) -> None:
    assert ids(listing(client, "ContainerPermissions", flt)) == expected


def test_permission_filter_naming_a_container_not_owned_is_403(client: TestClient) -> None:
    r = listing(client, "ContainerPermissions", f'container.value eq "4" and user.value eq "{BJENSEN_ID}"')
    assert_scim_error(r, 403, OWNER_REQUIRED)


@pytest.mark.parametrize(("flt", "detail"), [
    ('container.value eq "4" and', "Filter string 'container.value eq \"4\" and' is not in proper format."),
    ('container.value eq "4" or container.value eq "1"',
     "Filter string 'container.value eq \"4\" or container.value eq \"1\"' is not supported by Delinea."),
    ('container.value eq "4" and rights eq "Owner"',
     "Specified attribute and filter comparison combination is not supported."),
])
def test_permission_filter_errors_come_before_the_403(client: TestClient, flt: str, detail: str) -> None:
    assert_scim_error(listing(client, "ContainerPermissions", flt), 400, detail, "invalidFilter")


def test_permission_get_renders_its_references(client: TestClient) -> None:
    body = client.get("/scim/v2/ContainerPermissions/2", headers=AUTH).json()
    assert body["container"] == {"value": "2", "display": "Databases", "name": "Databases",
                                 "$ref": "http://testserver/scim/v2/Containers/2"}
    assert body["group"] == {"value": DB_ADMINS_ID, "display": "DB Admins",
                             "$ref": f"http://testserver/scim/v2/Groups/{DB_ADMINS_ID}"}
    assert body["rights"] == ["Edit"] and "user" not in body


@pytest.mark.parametrize(("pid", "status"), [("3", 403), ("99", 404)])
def test_permission_get_not_owned_or_missing(client: TestClient, pid: str, status: int) -> None:
    detail = OWNER_REQUIRED if status == 403 else f"Resource '{pid}' not found."
    assert_scim_error(client.get(f"/scim/v2/ContainerPermissions/{pid}", headers=AUTH), status, detail)


@pytest.mark.parametrize("principal", [{"user": {"value": MPEPPER_ID}}, {"group": {"value": TOUR_GUIDES_ID}}])
def test_permission_create(client: TestClient, principal: dict[str, Any]) -> None:
    r = client.post("/scim/v2/ContainerPermissions", headers=SCIM,
                    json={"container": {"value": "5"}, "rights": ["view", "Add Secret", "View"], **principal})
    assert r.status_code == 201, r.text
    assert r.json()["rights"] == ["View", "Add Secret"] and r.json()["id"] == "6"
    assert ids(listing(client, "ContainerPermissions", 'container.value eq "5"')) == ["4", "6"]


@pytest.mark.parametrize(("body", "detail"), [
    ({"container": {"value": "5"}, "rights": ["View"]}, "Attribute 'user' is required."),
    ({"container": {"value": "5"}, "rights": ["View"], "user": {"value": MPEPPER_ID}, "group": {"value": DB_ADMINS_ID}},
     "The 'group' attribute was invalid."),
    ({"container": {"value": "5"}, "rights": ["Read"], "user": {"value": MPEPPER_ID}},
     "The 'rights' attribute was invalid."),
    ({"container": {"value": "5"}, "user": {"value": MPEPPER_ID}}, "Attribute 'rights' is required."),
    ({"rights": ["View"], "user": {"value": MPEPPER_ID}}, "Attribute 'container' is required."),
    ({"container": {"value": "99"}, "rights": ["View"], "user": {"value": MPEPPER_ID}},
     "The 'container' attribute was invalid."),
    ({"container": {"value": "5"}, "rights": ["View"], "user": {"value": "nobody"}},
     "The 'user' attribute was invalid."),
    ({"container": {"value": "5"}, "rights": ["View"], "group": {"value": "nobody"}},
     "The 'group' attribute was invalid."),
    # docs/behaviour.md §4 precedence: validation (7) before Owner on the named container (8).
    ({"container": {"value": "4"}, "rights": ["Bogus"], "user": {"value": MPEPPER_ID}},
     "The 'rights' attribute was invalid."),
])
def test_permission_create_validation(client: TestClient, body: dict[str, Any], detail: str) -> None:
    assert_scim_error(client.post("/scim/v2/ContainerPermissions", headers=SCIM, json=body), 400, detail,
                      "invalidValue")


def test_permission_create_on_a_container_not_owned_is_403(client: TestClient) -> None:
    # bjensen already has a permission on 4: 403 (8) comes before 409 (9).
    r = client.post("/scim/v2/ContainerPermissions", headers=SCIM,
                    json={"container": {"value": "4"}, "user": {"value": BJENSEN_ID}, "rights": ["View"]})
    assert_scim_error(r, 403, OWNER_REQUIRED)


@pytest.mark.parametrize(("principal", "attr"), [({"user": {"value": SERVICE_ID}}, "user"),
                                                 ({"group": {"value": DB_ADMINS_ID}}, "group")])
def test_permission_create_twice_is_409(client: TestClient, principal: dict[str, Any], attr: str) -> None:
    cid = "1" if attr == "user" else "2"
    r = client.post("/scim/v2/ContainerPermissions", headers=SCIM,
                    json={"container": {"value": cid}, "rights": ["View"], **principal})
    assert_scim_error(r, 409, f"Attribute '{attr}' MUST be unique.", "uniqueness")


def test_permission_put_changes_rights_only(client: TestClient) -> None:
    current = client.get("/scim/v2/ContainerPermissions/5", headers=AUTH).json()
    r = client.put("/scim/v2/ContainerPermissions/5", headers=SCIM, json={**current, "rights": ["Edit", "View"]})
    assert (r.status_code, r.json()["rights"]) == (200, ["Edit", "View"])
    assert client.get("/scim/v2/ContainerPermissions/5", headers=AUTH).json()["rights"] == ["Edit", "View"]


@pytest.mark.parametrize(("change", "attr"), [
    ({"container": {"value": "5"}}, "container"),
    ({"user": {"value": BJENSEN_ID}}, "user"),
    ({"group": {"value": DB_ADMINS_ID}}, "group"),
])
def test_permission_put_of_anything_but_rights_is_immutable(client: TestClient, change: dict[str, Any],
                                                            attr: str) -> None:
    body = {"container": {"value": "3"}, "user": {"value": MPEPPER_ID}, "rights": ["View"], **change}
    assert_scim_error(client.put("/scim/v2/ContainerPermissions/5", headers=SCIM, json=body), 400,
                      f"Attribute '{attr}' is immutable and cannot be changed.", "mutability")


def test_permission_patch_rights(client: TestClient) -> None:
    r = patch(client, "/scim/v2/ContainerPermissions/5", {"op": "add", "path": "rights", "value": ["Edit"]})
    assert (r.status_code, r.json()["rights"]) == (200, ["View", "Edit"])
    r = patch(client, "/scim/v2/ContainerPermissions/5", {"op": "remove", "path": 'rights[value eq "View"]'})
    assert r.json()["rights"] == ["Edit"]
    r = patch(client, "/scim/v2/ContainerPermissions/5", {"op": "replace", "path": "rights", "value": ["Admin"]})
    assert_scim_error(r, 400, "The 'rights' attribute was invalid.", "invalidValue")


@pytest.mark.parametrize(("op", "detail", "scim_type"), [
    ({"op": "replace", "path": "user", "value": {"value": BJENSEN_ID}},
     "Attribute 'user' is immutable and cannot be changed.", "mutability"),
    ({"op": "add", "path": "group", "value": {"value": DB_ADMINS_ID}},
     "Attribute 'group' is immutable and cannot be changed.", "mutability"),
    ({"op": "remove", "path": "rights"}, "Attribute 'rights' is required.", "mutability"),
])
def test_permission_patch_refusals(client: TestClient, op: dict[str, Any], detail: str, scim_type: str) -> None:
    assert_scim_error(patch(client, "/scim/v2/ContainerPermissions/5", op), 400, detail, scim_type)


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_permission_write_without_owner_is_403(client: TestClient, method: str) -> None:
    op = {"op": "replace", "path": "rights", "value": ["View"]}
    body: dict[str, Any] = ({"container": {"value": "4"}, "user": {"value": BJENSEN_ID}, "rights": ["View"]}
                            if method == "PUT" else {"schemas": [PATCH_OP], "Operations": [op]})
    r = client.request(method, "/scim/v2/ContainerPermissions/3", headers=SCIM,
                       **({} if method == "DELETE" else {"json": body}))
    assert_scim_error(r, 403, OWNER_REQUIRED)
    assert next(p for p in export_state(client)["ContainerPermissions"] if p["id"] == "3")["rights"] == ["Owner"]


def test_permission_delete(client: TestClient) -> None:
    assert client.delete("/scim/v2/ContainerPermissions/5", headers=AUTH).status_code == 204
    assert_scim_error(client.get("/scim/v2/ContainerPermissions/5", headers=AUTH), 404, "Resource '5' not found.")
    assert_scim_error(client.delete("/scim/v2/ContainerPermissions/5", headers=AUTH), 404, "Resource '5' not found.")


def test_sailpoint_sequence(client: TestClient) -> None:
    """SailPoint: container by name → permission by container.value and user.value → create → PATCH → delete."""
    found = listing(client, "Containers", 'name eq "Databases"').json()["Resources"]
    cid = found[0]["id"]
    query = f'container.value eq "{cid}" and user.value eq "{MPEPPER_ID}"'
    assert listing(client, "ContainerPermissions", query).json()["totalResults"] == 0
    r = client.post("/scim/v2/ContainerPermissions", headers=SCIM, json={
        "schemas": ["urn:ietf:params:scim:schemas:pam:1.0:ContainerPermission"],
        "container": {"value": cid}, "user": {"value": MPEPPER_ID}, "rights": ["View"]})
    assert r.status_code == 201
    pid = r.json()["id"]
    assert ids(listing(client, "ContainerPermissions", query)) == [pid]
    r = patch(client, f"/scim/v2/ContainerPermissions/{pid}",
              {"op": "replace", "path": "rights", "value": ["View", "Edit"]})
    assert (r.status_code, r.json()["rights"]) == (200, ["View", "Edit"])
    assert client.delete(f"/scim/v2/ContainerPermissions/{pid}", headers=AUTH).status_code == 204
    assert listing(client, "ContainerPermissions", query).json()["totalResults"] == 0
