"""Groups through HTTP (docs/behaviour.md §3, §4): members are existing Users, displayName unique, PATCH of members."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.helpers import AUTH, BJENSEN_ID, GROUPS, MPEPPER_ID, PATCH_OP, SCIM, err


def test_entra_group_create_with_foreign_schema_and_meta(client: TestClient) -> None:
    """Entra creates groups with a Microsoft schema URN, meta and empty members: 201 (docs/behaviour.md §6)."""
    body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group",
                        "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
            "displayName": "Sales", "externalId": "sales-1", "meta": {"resourceType": "Group"}, "members": []}
    r = client.post(GROUPS, json=body, headers=SCIM)
    assert r.status_code == 201, r.text
    assert r.json()["displayName"] == "Sales" and "members" not in r.json()


def test_group_requires_display_name(client: TestClient) -> None:
    """A group without displayName → 400 `Attribute 'displayName' is required.`."""
    r = client.post(GROUPS, json={"members": []}, headers=SCIM)
    assert r.status_code == 400 and r.json() == err(400, "Attribute 'displayName' is required.", "invalidValue")


def test_group_display_name_unique_case_insensitive(client: TestClient) -> None:
    """Group displayName is unique case-insensitively under the cloud profile → 409."""
    r = client.post(GROUPS, json={"displayName": "tour guides"}, headers=SCIM)
    assert r.status_code == 409 and r.json() == err(409, "Attribute 'displayName' MUST be unique.", "uniqueness")


def test_member_that_does_not_exist_is_invalid(client: TestClient) -> None:
    """A member naming no User → 400 `The 'members' attribute was invalid.` and nothing is created."""
    r = client.post(GROUPS, json={"displayName": "Ghosts", "members": [{"value": "nobody"}]}, headers=SCIM)
    assert r.status_code == 400 and r.json() == err(400, "The 'members' attribute was invalid.", "invalidValue")
    listed = client.get(GROUPS, params={"filter": 'displayName eq "Ghosts"'}, headers=AUTH).json()
    assert listed["totalResults"] == 0


def test_members_render_with_ref_and_display(client: TestClient) -> None:
    """Members carry value, display (the userName when not given), type and $ref."""
    r = client.post(GROUPS, json={"displayName": "Ops", "members": [{"value": BJENSEN_ID, "$ref": None}]}, headers=SCIM)
    assert r.status_code == 201
    assert r.json()["members"] == [{"value": BJENSEN_ID, "display": "bjensen@example.com", "type": "User",
                                    "$ref": f"http://testserver/scim/v2/Users/{BJENSEN_ID}"}]


def test_patch_add_and_remove_members_okta_and_entra(client: TestClient) -> None:
    """Okta's add with display, Entra's Remove with a value array: membership follows, seen on the user too."""
    gid = client.post(GROUPS, json={"displayName": "Patchers"}, headers=SCIM).json()["id"]
    add = {"schemas": [PATCH_OP], "Operations": [
        {"op": "add", "path": "members", "value": [{"value": BJENSEN_ID, "display": "bjensen@example.com"},
                                                   {"value": MPEPPER_ID}]}]}
    r = client.patch(f"{GROUPS}/{gid}", json=add, headers=SCIM)
    assert r.status_code == 200 and [m["value"] for m in r.json()["members"]] == [BJENSEN_ID, MPEPPER_ID]
    remove = {"schemas": [PATCH_OP],
              "Operations": [{"op": "Remove", "path": "members", "value": [{"value": BJENSEN_ID}]}]}
    r = client.patch(f"{GROUPS}/{gid}", json=remove, headers=SCIM)
    assert [m["value"] for m in r.json()["members"]] == [MPEPPER_ID]
    user = client.get(f"/scim/v2/Users/{MPEPPER_ID}", headers=AUTH).json()
    assert gid in [g["value"] for g in user["groups"]]


def test_patch_adding_unknown_member_changes_nothing(client: TestClient) -> None:
    """PATCH is atomic: adding a member that does not exist → 400 and the group is unchanged."""
    gid = "e9e30dba-f08f-4109-8486-d5c6a331660a"
    before = client.get(f"{GROUPS}/{gid}", headers=AUTH).json()
    ops = {"schemas": [PATCH_OP], "Operations": [
        {"op": "replace", "path": "displayName", "value": "Renamed"},
        {"op": "add", "path": "members", "value": [{"value": "ghost"}]}]}
    r = client.patch(f"{GROUPS}/{gid}", json=ops, headers=SCIM)
    assert r.status_code == 400 and r.json()["detail"] == "The 'members' attribute was invalid."
    assert client.get(f"{GROUPS}/{gid}", headers=AUTH).json() == before


def test_okta_rename_with_same_id_is_not_immutable(client: TestClient) -> None:
    """Okta's rename carries the same id inside value: a no-op for id, the rename happens."""
    gid = "e9e30dba-f08f-4109-8486-d5c6a331660a"
    ops = {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "value": {"id": gid, "displayName": "Guides"}}]}
    r = client.patch(f"{GROUPS}/{gid}", json=ops, headers=SCIM)
    assert r.status_code == 200 and r.json()["displayName"] == "Guides"


def test_group_excluded_members_as_entra_asks(client: TestClient) -> None:
    """Entra reads groups with excludedAttributes=members, by id and by displayName filter."""
    gid = "fc348aa8-3835-40eb-a20b-c726e15c55b5"
    one = client.get(f"{GROUPS}/{gid}", params={"excludedAttributes": "members"}, headers=AUTH).json()
    assert "members" not in one and one["displayName"] == "DB Admins"
    listed = client.get(GROUPS, params={"filter": 'displayName eq "db admins"', "excludedAttributes": "members"},
                        headers=AUTH).json()
    assert listed["totalResults"] == 1 and "members" not in listed["Resources"][0]


def test_delete_group_then_404(client: TestClient) -> None:
    """DELETE a group → 204, then 404; its members' groups no longer name it."""
    gid = "e9e30dba-f08f-4109-8486-d5c6a331660a"
    assert client.delete(f"{GROUPS}/{gid}", headers=AUTH).status_code == 204
    assert client.get(f"{GROUPS}/{gid}", headers=AUTH).status_code == 404
    assert "groups" not in client.get(f"/scim/v2/Users/{BJENSEN_ID}", headers=AUTH).json()
