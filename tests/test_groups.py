"""Groups through HTTP (docs/behaviour.md §3, §4): members are existing Users, displayName unique, PATCH of members."""

from __future__ import annotations

import random
from typing import Any

import pytest
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


def _patch(client: TestClient, gid: str, *ops: dict[str, object], query: str = "") -> tuple[int, dict[str, object]]:
    r = client.patch(f"{GROUPS}/{gid}{query}", json={"schemas": [PATCH_OP], "Operations": list(ops)}, headers=SCIM)
    return r.status_code, r.json()


def _values(client: TestClient, gid: str) -> list[str]:
    return [m["value"] for m in client.get(f"{GROUPS}/{gid}", headers=AUTH).json().get("members", [])]


def test_member_patch_answers_honour_projection(client: TestClient) -> None:
    """docs/behaviour.md §6: a PATCH_OP answer honours excludedAttributes / attributes like a GET (RFC 7644 §3.5.2)."""
    gid = client.post(GROUPS, json={"displayName": "Projected", "members": [{"value": BJENSEN_ID}]},
                      headers=SCIM).json()["id"]
    status, body = _patch(client, gid, {"op": "Add", "path": "members", "value": [{"value": MPEPPER_ID}]},
                          query="?excludedAttributes=members")
    assert status == 200 and "members" not in body and body["displayName"] == "Projected"
    status, body = _patch(client, gid, {"op": "remove", "path": f'members[value eq "{BJENSEN_ID}"]'},
                          query="?attributes=displayName")
    assert status == 200 and set(body) == {"id", "schemas", "displayName"}
    status, body = _patch(client, gid, {"op": "add", "path": "members", "value": [{"value": BJENSEN_ID}]},
                          query="?attributes=members.value")
    assert body["members"] == [{"value": MPEPPER_ID}, {"value": BJENSEN_ID}]
    r = client.put(f"{GROUPS}/{gid}?excludedAttributes=members", json={"displayName": "Projected", "members": [
        {"value": MPEPPER_ID}]}, headers=SCIM)
    assert r.status_code == 200 and "members" not in r.json()
    assert _values(client, gid) == [MPEPPER_ID]


def test_member_changes_one_at_a_time_keep_order_and_membership(client: TestClient) -> None:
    """Entra and Okta shapes in turn: order is the order of addition, a member removed and added again comes last,
    an added member already there changes nothing, and the user's groups follow (RFC 7643 §4.1.2)."""
    gid = client.post(GROUPS, json={"displayName": "One by one"}, headers=SCIM).json()["id"]
    add = {"op": "Add", "path": "members", "value": [{"value": BJENSEN_ID}, {"value": MPEPPER_ID}]}
    assert _patch(client, gid, add)[0] == 200
    assert _patch(client, gid, {"op": "add", "path": "members", "value": [{"value": BJENSEN_ID}]})[0] == 200
    assert _values(client, gid) == [BJENSEN_ID, MPEPPER_ID]
    assert _patch(client, gid, {"op": "Remove", "path": "members", "value": [{"value": BJENSEN_ID}]},
                  {"op": "add", "path": "members", "value": [{"value": BJENSEN_ID, "display": "Babs"}]})[0] == 200
    members = client.get(f"{GROUPS}/{gid}", headers=AUTH).json()["members"]
    assert [(m["value"], m["display"], m["type"]) for m in members] == [
        (MPEPPER_ID, client.get(f"/scim/v2/Users/{MPEPPER_ID}", headers=AUTH).json()["userName"], "User"),
        (BJENSEN_ID, "Babs", "User")]
    assert _patch(client, gid, {"op": "remove", "path": f'members[value eq "{MPEPPER_ID}"]'},
                  {"op": "remove", "path": f'members[value eq "{MPEPPER_ID}"]'})[0] == 200
    assert _values(client, gid) == [BJENSEN_ID]
    assert gid not in [g["value"] for g in client.get(f"/scim/v2/Users/{MPEPPER_ID}", headers=AUTH).json().get(
        "groups", [])]
    assert gid in [g["value"] for g in client.get(f"/scim/v2/Users/{BJENSEN_ID}", headers=AUTH).json()["groups"]]
    listed = client.get(GROUPS, params={"filter": f'members.value eq "{MPEPPER_ID}"'}, headers=AUTH).json()
    assert gid not in [g["id"] for g in listed.get("Resources", [])]
    assert _patch(client, gid, {"op": "Remove", "path": "members", "value": [{"value": BJENSEN_ID}]})[0] == 200
    group = client.get(f"{GROUPS}/{gid}", headers=AUTH).json()
    assert "members" not in group  # RFC 7643 §2.5: no members left is unassigned


def test_member_patch_is_atomic_and_checks_only_what_it_adds(client: TestClient) -> None:
    """A member added and removed again in one PATCH_OP is never checked; one that stays must exist, or nothing
    changes (RFC 7644 §3.5.2: atomic)."""
    gid = client.post(GROUPS, json={"displayName": "Atomic", "members": [{"value": BJENSEN_ID}]},
                      headers=SCIM).json()["id"]
    before = client.get(f"{GROUPS}/{gid}", headers=AUTH).json()
    status, body = _patch(client, gid, {"op": "add", "path": "members", "value": [{"value": "ghost"}]},
                          {"op": "remove", "path": 'members[value eq "ghost"]'})
    assert status == 200
    status, body = _patch(client, gid, {"op": "Remove", "path": "members", "value": [{"value": BJENSEN_ID}]},
                          {"op": "add", "path": "members", "value": [{"value": "ghost"}]})
    assert status == 400 and body["detail"] == "The 'members' attribute was invalid."
    assert client.get(f"{GROUPS}/{gid}", headers=AUTH).json()["members"] == before["members"]
    status, body = _patch(client, gid, {"op": "add", "path": "members", "value": [{"value": MPEPPER_ID}]},
                          {"op": "replace", "path": "displayName", "value": 5})
    assert status == 400 and _values(client, gid) == [BJENSEN_ID]


def test_deleting_a_user_leaves_its_groups_and_the_rest_of_them(client: TestClient) -> None:
    """docs/behaviour.md §4: a deleted user leaves every group; the other members stay, in order."""
    uid = client.post("/scim/v2/Users", json={"userName": "leaver@example.com"}, headers=SCIM).json()["id"]
    gid = client.post(GROUPS, json={"displayName": "Leavers", "members": [{"value": BJENSEN_ID}, {"value": uid},
                                                                           {"value": MPEPPER_ID}]},
                      headers=SCIM).json()["id"]
    assert _patch(client, gid, {"op": "replace", "path": "displayName", "value": "Leavers 2"})[0] == 200
    assert client.delete(f"/scim/v2/Users/{uid}", headers=AUTH).status_code == 204
    assert _values(client, gid) == [BJENSEN_ID, MPEPPER_ID]
    state = client.get("/_mockscim/state", headers=AUTH).json()
    exported = next(g for g in state["Groups"] if g["id"] == gid)
    assert [m["value"] for m in exported["members"]] == [BJENSEN_ID, MPEPPER_ID]


def test_member_changes_answer_as_the_general_engine_does(make_client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The member-table path gives the same answers and the same group as the general PATCH_OP engine, over a fixed
    random mix of Entra and Okta member operations, renames, no-ops and failing operations (RFC 7644 §3.5.2)."""
    from mockscim.store.members import GroupDoc

    rng = random.Random(19)
    fast, general = make_client(), make_client()  # the same fixture: the same user ids
    users = [u["id"] for u in fast.get("/_mockscim/state", headers=AUTH).json()["Users"]]
    gids = []
    for client in (fast, general):
        gids.append(client.post(GROUPS, json={"displayName": "Mixed", "members": [{"value": users[0]}]},
                                headers=SCIM).json()["id"])
    ids = {fast: gids[0], general: gids[1]}
    candidates = [*users, "ghost"]

    def operation() -> dict[str, Any]:
        who = rng.choice(candidates)
        return rng.choice([
            {"op": "Add", "path": "members", "value": [{"value": who}]},
            {"op": "add", "path": "members", "value": [{"value": who, "display": "Someone"}, {"value": who}]},
            {"op": "add", "path": "members", "value": [{}, {"value": who, "$ref": None}]},
            {"op": "Remove", "path": "members", "value": [{"value": who}]},
            {"op": "remove", "path": "members", "value": {"value": who}},
            {"op": "remove", "path": f'members[value eq "{who}"]'},
            {"op": "replace", "path": "displayName", "value": f"Mixed {rng.randrange(3)}"},
            {"op": "Replace", "value": {"displayName": "Mixed", "externalId": who}},
            {"op": "add", "path": "nosuch", "value": 1},
            {"op": "replace", "path": "displayName", "value": 5},
        ])

    for _ in range(80):
        body = {"schemas": [PATCH_OP], "Operations": [operation() for _ in range(rng.randint(1, 3))]}
        answers = []
        for client in (fast, general):
            monkeypatch.undo()
            if client is general:
                monkeypatch.setattr(GroupDoc, "edit", lambda self: None)
            r = client.patch(f"{GROUPS}/{ids[client]}", json=body, headers=SCIM)
            group = client.get(f"{GROUPS}/{ids[client]}", headers=AUTH).json()
            answers.append((r.status_code, _comparable(r.json()), _comparable(group)))
        monkeypatch.undo()
        assert answers[0] == answers[1], body


def _comparable(body: dict[str, Any]) -> Any:
    """An answer without what differs between two servers by design (ids, times, versions, locations)."""
    if "members" not in body and "displayName" not in body:
        return body
    return {"displayName": body.get("displayName"), "externalId": body.get("externalId"),
            "members": [(m["value"], m.get("display"), m.get("type")) for m in body.get("members", [])],
            "keys": [k for k in body if k not in ("id", "meta")]}
