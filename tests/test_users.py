"""Users through HTTP (docs/behaviour.md §3, §4): create, read, list, replace, delete, uniqueness, federated users."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from tests.helpers import AUTH, BJENSEN_ID, ENTERPRISE, JDOE_ID, LINKED, SCIM, USERS, err


def create(client: TestClient, **attrs: Any) -> dict[str, Any]:
    body = {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], **attrs}
    r = client.post(USERS, json=body, headers=SCIM)
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_create_returns_201_with_location_etag_and_meta(client: TestClient) -> None:
    """POST answers 201 with Location, ETag and a complete meta; the resource is then readable."""
    r = client.post(USERS, json={"userName": "alice@example.com", "displayName": "Alice"}, headers=SCIM)
    assert r.status_code == 201
    body = r.json()
    assert r.headers["content-type"] == "application/scim+json"
    assert r.headers["location"] == f"http://testserver/scim/v2/Users/{body['id']}"
    assert r.headers["etag"] == body["meta"]["version"]
    assert body["meta"]["resourceType"] == "User"
    assert body["meta"]["location"] == r.headers["location"]
    assert body["meta"]["created"].endswith("Z") and body["meta"]["lastModified"].endswith("Z")
    assert body["schemas"] == ["urn:ietf:params:scim:schemas:core:2.0:User"]
    again = client.get(f"{USERS}/{body['id']}", headers=AUTH)
    assert again.status_code == 200 and again.json() == body


def test_okta_create_shape_is_accepted_and_password_never_returned(client: TestClient) -> None:
    """Okta's create (placeholder password, groups: [], locale) gives 201; the password is never shown."""
    body = create(client, userName="okta.user@example.com", password="placeholder-Pw1", groups=[], locale="en-US",
                  displayName="Okta User", externalId="00u1", active=True,
                  emails=[{"primary": True, "value": "okta.user@example.com", "type": "work"}],
                  name={"givenName": "Okta", "familyName": "User"})
    assert "password" not in body and "passwordHash" not in body
    got = client.get(f"{USERS}/{body['id']}", headers=AUTH).json()
    assert "password" not in got and "passwordHash" not in got
    state = client.get("/_mockscim/state").json()
    stored = next(u for u in state["Users"] if u["id"] == body["id"])
    assert "password" not in stored and stored["passwordHash"].startswith("sha256$")


def test_entra_create_shape_ignores_unknown_schemas_and_read_only_attributes(client: TestClient) -> None:
    """Entra's create with meta, roles: [] and an enterprise extension is accepted; meta from the client is ignored."""
    body = create(client, userName="entra@example.com", active="True", roles=[],
                  meta={"resourceType": "User", "created": "1999-01-01T00:00:00Z"},
                  schemas=["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE, "urn:unknown:schema"],
                  **{ENTERPRISE: {"employeeNumber": "42"}, "urn:unknown:schema": {"x": 1}, "unknownAttr": 5})
    assert body["active"] is True
    assert body[ENTERPRISE] == {"employeeNumber": "42"}
    assert body["schemas"] == ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE]
    assert "unknownAttr" not in body and "urn:unknown:schema" not in body
    assert body["meta"]["created"] != "1999-01-01T00:00:00Z"


def test_missing_username_is_required_error(client: TestClient) -> None:
    """A create without userName → 400 `Attribute 'userName' is required.`."""
    r = client.post(USERS, json={"displayName": "No Name"}, headers=SCIM)
    assert r.status_code == 400
    assert r.json() == err(400, "Attribute 'userName' is required.", "invalidValue")


@pytest.mark.parametrize(("attrs", "name"), [
    ({"active": "maybe"}, "active"),
    ({"emails": "x@example.com"}, "emails"),
    ({"name": "Alice"}, "name"),
    ({"name": {"givenName": 5}}, "name.givenName"),
    ({ENTERPRISE: {"employeeNumber": 7}}, "employeeNumber"),
    ({"emails": [{"value": "a@x", "primary": True}, {"value": "b@x", "primary": True}]}, "emails"),
], ids=["boolean", "multi-not-list", "complex-not-object", "sub-attribute", "extension", "two-primaries"])
def test_wrong_type_is_invalid_attribute(client: TestClient, attrs: dict[str, Any], name: str) -> None:
    """A wrong type for a known attribute → 400 naming the attribute as the schema does (docs/behaviour.md §7)."""
    r = client.post(USERS, json={"userName": "typed@example.com", **attrs}, headers=SCIM)
    assert r.status_code == 400
    assert r.json() == err(400, f"The '{name}' attribute was invalid.", "invalidValue")
    assert client.get(USERS, params={"filter": 'userName eq "typed@example.com"'}, headers=AUTH).json()[
        "totalResults"] == 0


def test_duplicate_username_case_insensitive_is_409(client: TestClient) -> None:
    """userName is unique case-insensitively: BJENSEN@example.com conflicts with bjensen@example.com."""
    r = client.post(USERS, json={"userName": "BJENSEN@example.com"}, headers=SCIM)
    assert r.status_code == 409
    assert r.json() == err(409, "Attribute 'userName' MUST be unique.", "uniqueness")


def test_get_unknown_id_is_404_with_the_id(client: TestClient) -> None:
    """GET of an id that does not exist → 404 `Resource '<id>' not found.`."""
    r = client.get(f"{USERS}/nope-123", headers=AUTH)
    assert r.status_code == 404
    assert r.json() == err(404, "Resource 'nope-123' not found.")


def test_put_replaces_and_changes_version(client: TestClient) -> None:
    """PUT replaces the attributes (absent ones go), keeps userName, and changes meta.version and lastModified."""
    user = create(client, userName="carol@example.com", title="Engineer", nickName="Caz")
    r = client.put(f"{USERS}/{user['id']}", json={"userName": "carol@example.com", "title": "Manager"}, headers=SCIM)
    assert r.status_code == 200
    body = r.json()
    assert body["title"] == "Manager" and "nickName" not in body
    assert body["meta"]["version"] != user["meta"]["version"]
    assert body["meta"]["created"] == user["meta"]["created"]
    assert client.get(f"{USERS}/{user['id']}", headers=AUTH).json()["title"] == "Manager"


def test_put_without_username_keeps_it(client: TestClient) -> None:
    """In a PUT an absent immutable attribute keeps its stored value (docs/behaviour.md §6)."""
    user = create(client, userName="dave@example.com")
    r = client.put(f"{USERS}/{user['id']}", json={"displayName": "Dave"}, headers=SCIM)
    assert r.status_code == 200 and r.json()["userName"] == "dave@example.com"


def test_put_changing_username_is_immutable_error(client: TestClient) -> None:
    """Changing userName → 400 mutability `Attribute 'userName' is immutable and cannot be changed.`."""
    user = create(client, userName="erin@example.com")
    r = client.put(f"{USERS}/{user['id']}", json={"userName": "erin2@example.com"}, headers=SCIM)
    assert r.status_code == 400
    assert r.json() == err(400, "Attribute 'userName' is immutable and cannot be changed.", "mutability")
    assert client.get(f"{USERS}/{user['id']}", headers=AUTH).json()["userName"] == "erin@example.com"


def test_put_with_foreign_id_is_immutable_error(client: TestClient) -> None:
    """A PUT body whose id is another resource's → 400 mutability naming id (cloud profile, docs/behaviour.md §11)."""
    r = client.put(f"{USERS}/{BJENSEN_ID}", json={"id": "other", "userName": "bjensen@example.com"}, headers=SCIM)
    assert r.status_code == 400
    assert r.json() == err(400, "Attribute 'id' is immutable and cannot be changed.", "mutability")


def test_put_with_same_id_is_accepted(client: TestClient) -> None:
    """A PUT body carrying the resource's own id is fine."""
    r = client.put(f"{USERS}/{BJENSEN_ID}", json={"id": BJENSEN_ID, "userName": "bjensen@example.com",
                                                "displayName": "Babs Jensen", "active": False}, headers=SCIM)
    assert r.status_code == 200 and r.json()["active"] is False


@pytest.mark.parametrize("change", [
    {"displayName": "Janet Doe"},
    {"emails": [{"value": "jane@other.example.com", "type": "work", "primary": True}]},
    {"name": {"familyName": "Doe", "givenName": "Janet"}},
], ids=["displayName", "emails", "name"])
def test_federated_user_put_of_protected_attribute_is_not_authorized(client: TestClient,
                                                                      change: dict[str, Any]) -> None:
    """Changing a federated user's displayName, emails or name by PUT → Delinea's 400 "not authorized"
    (docs/behaviour.md §3)."""
    current = client.get(f"{USERS}/{JDOE_ID}", headers=AUTH).json()
    body = {k: v for k, v in current.items() if k not in ("meta", "id", "groups")} | change
    r = client.put(f"{USERS}/{JDOE_ID}", json=body, headers=SCIM)
    assert r.status_code == 400
    assert r.json() == err(400, "You are not authorized to perform this operation. Please contact your IT helpdesk. "
                                "No additional diagnostic information is available.")
    assert client.get(f"{USERS}/{JDOE_ID}", headers=AUTH).json() == current


def test_federated_user_put_omitting_protected_attribute_is_a_change(client: TestClient) -> None:
    """A PUT that omits the displayName a federated user has is a change, and refused."""
    r = client.put(f"{USERS}/{JDOE_ID}", json={"userName": "jdoe@corp.example.com", "active": False}, headers=SCIM)
    assert r.status_code == 400 and r.json()["detail"].startswith("You are not authorized")


def test_federated_user_other_attributes_may_change(client: TestClient) -> None:
    """active may change on a federated user; e-mails equal after normalisation are not a change."""
    current = client.get(f"{USERS}/{JDOE_ID}", headers=AUTH).json()
    body = {k: v for k, v in current.items() if k not in ("meta", "groups")}
    body["active"] = False
    body["emails"] = [{"value": "JDOE@corp.example.com", "type": "work", "primary": True}]
    r = client.put(f"{USERS}/{JDOE_ID}", json=body, headers=SCIM)
    assert r.status_code == 200 and r.json()["active"] is False


def test_federated_user_patch_of_name_is_not_authorized(client: TestClient) -> None:
    """A PATCH of a federated user's name.givenName is refused too; active via PATCH is fine."""
    ops = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
           "Operations": [{"op": "replace", "path": "name.givenName", "value": "Janet"}]}
    r = client.patch(f"{USERS}/{JDOE_ID}", json=ops, headers=SCIM)
    assert r.status_code == 400 and r.json()["detail"].startswith("You are not authorized")
    ops["Operations"] = [{"op": "Replace", "path": "active", "value": "False"}]
    r = client.patch(f"{USERS}/{JDOE_ID}", json=ops, headers=SCIM)
    assert r.status_code == 200 and r.json()["active"] is False


def test_linked_object_source_is_immutable(client: TestClient) -> None:
    """LinkedObject source cannot change once set (docs/behaviour.md §3 immutables)."""
    current = client.get(f"{USERS}/{JDOE_ID}", headers=AUTH).json()
    body = {k: v for k, v in current.items() if k not in ("meta", "groups")}
    body[LINKED] = {"source": "Okta", "nativeIdentifier": "CORP\\jdoe"}
    r = client.put(f"{USERS}/{JDOE_ID}", json=body, headers=SCIM)
    assert r.status_code == 400
    assert r.json() == err(400, "Attribute 'source' is immutable and cannot be changed.", "mutability")


def test_delete_is_permanent_and_again_404(client: TestClient) -> None:
    """DELETE → 204; GET after → 404; DELETE again → 404 (docs/behaviour.md §4 [D])."""
    user = create(client, userName="gone@example.com")
    assert client.delete(f"{USERS}/{user['id']}", headers=AUTH).status_code == 204
    assert client.get(f"{USERS}/{user['id']}", headers=AUTH).json() == err(404, f"Resource '{user['id']}' not found.")
    r = client.delete(f"{USERS}/{user['id']}", headers=AUTH)
    assert r.status_code == 404 and r.json()["detail"] == f"Resource '{user['id']}' not found."


def test_delete_cascades_out_of_groups(client: TestClient) -> None:
    """A deleted user leaves every group's members (docs/behaviour.md §4 [D])."""
    group = client.get("/scim/v2/Groups/e9e30dba-f08f-4109-8486-d5c6a331660a", headers=AUTH).json()
    assert [m["value"] for m in group["members"]] == [BJENSEN_ID]
    assert client.delete(f"{USERS}/{BJENSEN_ID}", headers=AUTH).status_code == 204
    group = client.get("/scim/v2/Groups/e9e30dba-f08f-4109-8486-d5c6a331660a", headers=AUTH).json()
    assert "members" not in group or group["members"] == []


def test_groups_attribute_is_derived_from_membership(client: TestClient) -> None:
    """A user's groups come from Group members, with value, display, $ref and type (RFC 7643 §4.1.2)."""
    body = client.get(f"{USERS}/{BJENSEN_ID}", headers=AUTH).json()
    assert body["groups"] == [{"value": "e9e30dba-f08f-4109-8486-d5c6a331660a", "display": "Tour Guides",
                               "$ref": "http://testserver/scim/v2/Groups/e9e30dba-f08f-4109-8486-d5c6a331660a",
                               "type": "direct"}]


def test_groups_in_a_body_are_ignored(client: TestClient) -> None:
    """groups is read-only: sending it changes no membership."""
    user = create(client, userName="grp@example.com", groups=[{"value": "e9e30dba-f08f-4109-8486-d5c6a331660a"}])
    assert "groups" not in user


def test_if_match_stale_is_412_and_current_succeeds(client: TestClient) -> None:
    """If-Match with a stale version → 412 and nothing changes; with the current one the write succeeds."""
    user = create(client, userName="etag@example.com")
    v1 = user["meta"]["version"]
    r = client.put(f"{USERS}/{user['id']}", json={"title": "A"}, headers={**SCIM, "If-Match": v1})
    assert r.status_code == 200
    r = client.put(f"{USERS}/{user['id']}", json={"title": "B"}, headers={**SCIM, "If-Match": v1})
    assert r.status_code == 412
    assert r.json() == err(412, "The resource has changed: its version does not match If-Match.")
    assert client.get(f"{USERS}/{user['id']}", headers=AUTH).json()["title"] == "A"


def test_if_none_match_current_is_304(client: TestClient) -> None:
    """GET with If-None-Match of the current version → 304 (docs/behaviour.md §6)."""
    r = client.get(f"{USERS}/{BJENSEN_ID}", headers=AUTH)
    again = client.get(f"{USERS}/{BJENSEN_ID}", headers={**AUTH, "If-None-Match": r.headers["etag"]})
    assert again.status_code == 304 and again.headers["etag"] == r.headers["etag"]


def test_excluded_and_included_attributes(client: TestClient) -> None:
    """attributes= keeps only those (plus id and schemas); excludedAttributes= drops them (RFC 7644 §3.4.2.5)."""
    r = client.get(f"{USERS}/{BJENSEN_ID}", params={"attributes": "userName,name.givenName"}, headers=AUTH).json()
    assert set(r) == {"id", "schemas", "userName", "name"} and r["name"] == {"givenName": "Barbara"}
    r = client.get(f"{USERS}/{BJENSEN_ID}", params={"excludedAttributes": "emails,groups"}, headers=AUTH).json()
    assert "emails" not in r and "groups" not in r and r["userName"] == "bjensen@example.com"


def test_put_username_differing_only_in_case_is_the_same_value(client: TestClient) -> None:
    """userName compares case-insensitively (docs/behaviour.md §3): a PUT spelling it in other case is no change, as in
    PATCH."""
    r = client.put(f"{USERS}/{BJENSEN_ID}", json={"userName": "BJENSEN@example.com", "displayName": "Babs"},
                   headers=SCIM)
    assert r.status_code == 200 and r.json()["userName"] == "bjensen@example.com"
