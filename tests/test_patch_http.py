"""PATCH through HTTP (docs/behaviour.md §6): Entra and Okta shapes, atomicity, ETags, 200 vs 204, both profiles."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from mockscim.scim.profile import PROFILE_DIR
from tests.helpers import (
    AUTH,
    BJENSEN_ID,
    ENTERPRISE,
    GROUPS,
    INVALID_VALUE,
    JDOE_ID,
    MPEPPER_ID,
    OLD_ADMIN_ID,
    PATCH_OP,
    SCIM,
    TOUR_GUIDES_ID,
    USERS,
    Make,
    patch,
    patch_body,
)

PROFILES = ["cloud", "rfc"]


@pytest.fixture(params=PROFILES)
def client(request: pytest.FixtureRequest, make_client: Make) -> TestClient:
    """PATCH behaves the same in both profiles (docs/behaviour.md §6): every test here runs under cloud and rfc."""
    return make_client(profile=request.param)


def get(client: TestClient, path: str) -> dict[str, Any]:
    r = client.get(path, headers=AUTH)
    assert r.status_code == 200, r.text
    return dict(r.json())


def members(doc: dict[str, Any]) -> list[str]:
    return [m["value"] for m in doc.get("members", [])]


# -- Microsoft Entra ID (docs/behaviour.md §6) -------------------------------------------------------------------------

@pytest.mark.parametrize(("sent", "stored"), [("False", False), ("True", True), ("false", False)])
def test_entra_active_as_string(client: TestClient, sent: str, stored: bool) -> None:
    """Entra's default: PascalCase Replace with "True"/"False" strings (§4.1.2); stored as booleans."""
    r = patch(client, f"{USERS}/{OLD_ADMIN_ID}", {"op": "Replace", "path": "active", "value": sent})
    assert r.status_code == 200 and r.json()["active"] is stored
    assert get(client, f"{USERS}/{OLD_ADMIN_ID}")["active"] is stored


def test_entra_default_multi_replace(client: TestClient) -> None:
    """Entra's default shapes: Add of a single value, one Replace per path incl. value filter and URN paths."""
    r = patch(client, f"{USERS}/{BJENSEN_ID}",
              {"op": "Add", "path": "nickName", "value": "Babs"},
              {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "babs@example.com"},
              {"op": "Replace", "path": f"{ENTERPRISE}:employeeNumber", "value": "42"},
              {"op": "Replace", "path": f"{ENTERPRISE}:department", "value": "Tours"},
              {"op": "Replace", "path": "title", "value": "Lead Guide"})
    assert r.status_code == 200
    got = get(client, f"{USERS}/{BJENSEN_ID}")
    assert got == r.json()
    assert got["nickName"] == "Babs" and got["title"] == "Lead Guide"
    assert got["emails"] == [{"value": "babs@example.com", "type": "work", "primary": True}]
    assert got[ENTERPRISE] == {"employeeNumber": "42", "department": "Tours"}


def test_entra_aad_opt_path_less_with_dotted_and_urn_keys(client: TestClient) -> None:
    """aadOptscim062020: a path-less replace whose value has dotted and URN-qualified keys (§4.1.3)."""
    r = client.patch(f"{USERS}/{BJENSEN_ID}?aadOptscim062020", json=patch_body({"op": "replace", "value": {
        "displayName": "Barbara Jensen", "name.givenName": "Barb", f"{ENTERPRISE}:employeeNumber": "7",
        "active": False, "urn:example:unknown:attr": "ignored"}}), headers=SCIM)
    assert r.status_code == 200
    got = get(client, f"{USERS}/{BJENSEN_ID}")
    assert got["displayName"] == "Barbara Jensen" and got["active"] is False
    assert got["name"] == {"formatted": "Ms. Barbara J Jensen III", "familyName": "Jensen", "givenName": "Barb"}
    assert got[ENTERPRISE]["employeeNumber"] == "7" and got[ENTERPRISE]["department"] == "Tour Operations"


def test_entra_group_members_add_with_null_ref_and_remove_by_value(client: TestClient) -> None:
    """Add members with $ref null (§4.1.4); Remove with a value array removes only those (§4.1.2); the filter form."""
    r = patch(client, f"{GROUPS}/{TOUR_GUIDES_ID}",
              {"op": "Add", "path": "members", "value": [{"$ref": None, "value": MPEPPER_ID},
                                                         {"$ref": None, "value": JDOE_ID}]})
    assert r.status_code == 200 and members(r.json()) == [BJENSEN_ID, MPEPPER_ID, JDOE_ID]
    r = patch(client, f"{GROUPS}/{TOUR_GUIDES_ID}",
              {"op": "Remove", "path": "members", "value": [{"value": BJENSEN_ID}]})
    assert r.status_code == 200 and members(r.json()) == [MPEPPER_ID, JDOE_ID]
    r = patch(client, f"{GROUPS}/{TOUR_GUIDES_ID}", {"op": "remove", "path": f'members[value eq "{JDOE_ID}"]'})
    assert r.status_code == 200 and members(get(client, f"{GROUPS}/{TOUR_GUIDES_ID}")) == [MPEPPER_ID]
    assert TOUR_GUIDES_ID not in [g["value"] for g in get(client, f"{USERS}/{BJENSEN_ID}").get("groups", [])]


def test_remove_matching_nothing_is_200_and_no_change(client: TestClient) -> None:
    """docs/behaviour.md §6: a remove whose filter matches nothing changes nothing (200)."""
    before = get(client, f"{GROUPS}/{TOUR_GUIDES_ID}")
    r = patch(client, f"{GROUPS}/{TOUR_GUIDES_ID}", {"op": "remove", "path": 'members[value eq "nobody"]'})
    assert r.status_code == 200 and members(r.json()) == members(before)


# -- Okta (docs/behaviour.md §6) ---------------------------------------------------------------------------------------

def test_okta_path_less_deactivate(client: TestClient) -> None:
    """OIN apps deactivate with a path-less replace {"active": false} (§4.2.6)."""
    r = patch(client, f"{USERS}/{BJENSEN_ID}", {"op": "replace", "value": {"active": False}})
    assert r.status_code == 200 and r.json()["active"] is False


def test_okta_group_rename_and_membership(client: TestClient) -> None:
    """Okta renames with the same id inside value (a no-op for id, §4.2.8), then adds, removes and replaces members."""
    r = patch(client, f"{GROUPS}/{TOUR_GUIDES_ID}",
              {"op": "replace", "value": {"id": TOUR_GUIDES_ID, "displayName": "Guides"}},
              {"op": "add", "path": "members", "value": [{"value": MPEPPER_ID, "display": "mpepper@example.com"}]},
              {"op": "remove", "path": f'members[value eq "{BJENSEN_ID}"]'})
    assert r.status_code == 200
    assert r.json()["id"] == TOUR_GUIDES_ID and r.json()["displayName"] == "Guides"
    assert members(r.json()) == [MPEPPER_ID]
    r = patch(client, f"{GROUPS}/{TOUR_GUIDES_ID}", {"op": "replace", "path": "members",
                                                     "value": [{"value": BJENSEN_ID}, {"value": JDOE_ID}]})
    assert r.status_code == 200 and members(get(client, f"{GROUPS}/{TOUR_GUIDES_ID}")) == [BJENSEN_ID, JDOE_ID]


def test_okta_password_sync_is_write_only(client: TestClient) -> None:
    """Okta sends a (placeholder) password; it is stored hashed and never returned (RFC 7643 §4.1.1 returned never)."""
    r = patch(client, f"{USERS}/{BJENSEN_ID}", {"op": "replace", "path": "password", "value": "N3w-Secret!"})
    assert r.status_code == 200 and "password" not in r.json() and "passwordHash" not in r.json()
    assert "password" not in get(client, f"{USERS}/{BJENSEN_ID}")
    stored = client.app.state.runtime.core.store.get("Users", BJENSEN_ID)  # type: ignore[attr-defined]
    assert stored["passwordHash"].startswith("sha256$") and "N3w-Secret!" not in json.dumps(stored)


# -- atomicity (RFC 7644 §3.5.2: all operations or none) --------------------------------------------------------------

ATOMIC: list[tuple[str, str, list[dict[str, Any]], str, str]] = [
    # (path, label, operations where the last one fails, detail, scimType)
    (f"{USERS}/{BJENSEN_ID}", "noTarget", [
        {"op": "replace", "path": "displayName", "value": "Changed"},
        {"op": "add", "path": "emails", "value": [{"value": "second@example.com", "type": "home"}]},
        {"op": "replace", "path": 'emails[type eq "fax"].value', "value": "x"}], INVALID_VALUE, "noTarget"),
    (f"{USERS}/{BJENSEN_ID}", "wrong type", [
        {"op": "replace", "path": "title", "value": "Changed"},
        {"op": "replace", "path": "active", "value": "maybe"}], "The 'active' attribute was invalid.", "invalidValue"),
    (f"{USERS}/{BJENSEN_ID}", "invalidPath", [
        {"op": "replace", "path": "nickName", "value": "Changed"},
        {"op": "replace", "path": "shoeSize", "value": 44}], INVALID_VALUE, "invalidPath"),
    (f"{GROUPS}/{TOUR_GUIDES_ID}", "dangling member", [
        {"op": "replace", "path": "displayName", "value": "Changed"},
        {"op": "add", "path": "members", "value": [{"value": MPEPPER_ID}, {"value": "ghost"}]}],
     "The 'members' attribute was invalid.", "invalidValue"),
    (f"{GROUPS}/{TOUR_GUIDES_ID}", "required removed", [
        {"op": "add", "path": "members", "value": [{"value": MPEPPER_ID}]},
        {"op": "remove", "path": "displayName"}], "Attribute 'displayName' is required.", "mutability"),
]


@pytest.mark.parametrize(("path", "label", "ops", "detail", "scim_type"), ATOMIC, ids=[a[1] for a in ATOMIC])
def test_patch_is_atomic(client: TestClient, path: str, label: str, ops: list[dict[str, Any]], detail: str,
                         scim_type: str) -> None:
    """One failing operation → the exact 400, and a follow-up GET shows nothing changed, version included."""
    before = client.get(path, headers=AUTH)
    r = patch(client, path, *ops)
    assert r.status_code == 400, r.text
    assert r.json() == {"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "400",
                        "scimType": scim_type, "detail": detail}
    after = client.get(path, headers=AUTH)
    assert after.json() == before.json()
    assert after.headers["etag"] == before.headers["etag"]


INVALID: list[tuple[dict[str, Any], str]] = [
    ({"Operations": [{"op": "add", "path": "title", "value": "x"}]}, "invalidSyntax"),  # no PatchOp URN
    ({"schemas": [PATCH_OP], "Operations": []}, "invalidSyntax"),
    ({"schemas": [PATCH_OP], "Operations": [{"op": "merge", "path": "title", "value": "x"}]}, "invalidSyntax"),
    ({"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "title"}]}, "invalidSyntax"),
    ({"schemas": [PATCH_OP], "Operations": [{"op": "remove"}]}, "noTarget"),  # RFC 7644 §3.5.2.2
    ({"schemas": [PATCH_OP], "Operations": [{"op": "add", "path": "emails[type eq", "value": "x"}]}, "invalidPath"),
]


@pytest.mark.parametrize(("payload", "scim_type"), INVALID)
def test_invalid_patch_op_is_the_delinea_400(client: TestClient, payload: dict[str, Any], scim_type: str) -> None:
    """docs/behaviour.md §6: an invalid PatchOp → 400 with Delinea's detail and RFC 7644 §3.5.2's scimType; nothing
    changes."""
    version = get(client, f"{USERS}/{BJENSEN_ID}")["meta"]["version"]
    r = client.patch(f"{USERS}/{BJENSEN_ID}", json=payload, headers=SCIM)
    assert r.status_code == 400
    assert r.json()["detail"] == INVALID_VALUE and r.json()["scimType"] == scim_type
    assert get(client, f"{USERS}/{BJENSEN_ID}")["meta"]["version"] == version


# -- response, ETag, preconditions (docs/behaviour.md §6, RFC 7644 §3.14, RFC 9110 §13) --------------------------------

def test_patch_returns_200_with_the_resource_and_a_new_etag(client: TestClient) -> None:
    """PATCH → 200 with the whole resource (RFC 7644 §3.5.2), meta.version changed and sent as ETag."""
    before = client.get(f"{USERS}/{BJENSEN_ID}", headers=AUTH)
    assert before.headers["etag"] == before.json()["meta"]["version"]
    r = patch(client, f"{USERS}/{BJENSEN_ID}", {"op": "replace", "path": "title", "value": "Guide"})
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/scim+json"
    assert r.headers["etag"] == r.json()["meta"]["version"] != before.headers["etag"]
    assert r.headers["etag"].startswith('W/"')
    assert r.json() == get(client, f"{USERS}/{BJENSEN_ID}")
    assert r.json()["meta"]["lastModified"] >= before.json()["meta"]["lastModified"]
    assert r.json()["meta"]["created"] == before.json()["meta"]["created"]


def test_if_match_stale_is_412_and_changes_nothing(client: TestClient) -> None:
    """If-Match with a stale version → 412; the current one, or *, succeeds (RFC 9110 §13.1.1)."""
    stale = client.get(f"{USERS}/{BJENSEN_ID}", headers=AUTH).headers["etag"]
    current = patch(client, f"{USERS}/{BJENSEN_ID}", {"op": "replace", "path": "title", "value": "One"}).headers["etag"]
    r = patch(client, f"{USERS}/{BJENSEN_ID}", {"op": "replace", "path": "title", "value": "Two"},
              **{"If-Match": stale})
    assert r.status_code == 412 and r.json()["status"] == "412"
    got = client.get(f"{USERS}/{BJENSEN_ID}", headers=AUTH)
    assert got.json()["title"] == "One" and got.headers["etag"] == current
    r = patch(client, f"{USERS}/{BJENSEN_ID}", {"op": "replace", "path": "title", "value": "Two"},
              **{"If-Match": f"{stale}, {current}"})
    assert r.status_code == 200 and r.json()["title"] == "Two"
    r = patch(client, f"{USERS}/{BJENSEN_ID}", {"op": "replace", "path": "title", "value": "Three"},
              **{"If-Match": "*"})
    assert r.status_code == 200


def test_if_match_stale_with_an_invalid_patch_is_400(client: TestClient) -> None:
    """docs/behaviour.md §4 precedence: 412 only when the request would otherwise succeed (RFC 9110 §13.2.2); 400 comes
    first."""
    r = patch(client, f"{USERS}/{BJENSEN_ID}", {"op": "replace", "path": "shoeSize", "value": 1},
              **{"If-Match": 'W/"stale"'})
    assert r.status_code == 400 and r.json()["scimType"] == "invalidPath"


def test_if_none_match_current_is_304(client: TestClient) -> None:
    """GET with If-None-Match naming the current version → 304 with the ETag and no body (RFC 9110 §13.1.2)."""
    etag = patch(client, f"{USERS}/{BJENSEN_ID}", {"op": "replace", "path": "title", "value": "X"}).headers["etag"]
    r = client.get(f"{USERS}/{BJENSEN_ID}", headers={**AUTH, "If-None-Match": etag})
    assert r.status_code == 304 and r.headers["etag"] == etag and r.content == b""
    r = client.get(f"{USERS}/{BJENSEN_ID}", headers={**AUTH, "If-None-Match": 'W/"older"'})
    assert r.status_code == 200 and r.json()["title"] == "X"


def test_profile_with_patch_status_204(tmp_path: Path, make_client: Make) -> None:
    """A profile file with patchStatus 204 (docs/behaviour.md §11): 204, no body, the new ETag; the change is there."""
    raw = json.loads((PROFILE_DIR / "cloud.json").read_text(encoding="utf-8"))
    path = tmp_path / "entra-like.json"
    path.write_text(json.dumps({**raw, "name": "entra-like", "patchStatus": 204}), encoding="utf-8")
    client = make_client(profile=str(path))
    r = patch(client, f"{GROUPS}/{TOUR_GUIDES_ID}", {"op": "add", "path": "members", "value": [{"value": MPEPPER_ID}]})
    assert r.status_code == 204 and r.content == b""
    got = client.get(f"{GROUPS}/{TOUR_GUIDES_ID}", headers=AUTH)
    assert r.headers["etag"] == got.headers["etag"] == got.json()["meta"]["version"]
    assert members(got.json()) == [BJENSEN_ID, MPEPPER_ID]
    bad = patch(client, f"{GROUPS}/{TOUR_GUIDES_ID}", {"op": "remove"})
    assert bad.status_code == 400  # errors are unchanged by the switch
