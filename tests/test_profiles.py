"""Profiles through HTTP (docs/behaviour.md §11): each point where ``rfc`` differs from ``cloud``; files by path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from mockscim.app import create_app
from mockscim.cli import main
from mockscim.scim.profile import PROFILE_DIR, ProfileError, load_profile
from mockscim.settings import Settings
from tests.helpers import (
    AUTH,
    BJENSEN,
    BJENSEN_ID,
    CORE_USER,
    DB_ADMINS_ID,
    ENTERPRISE,
    GROUPS,
    JDOE,
    JDOE_ID,
    LINKED,
    MPEPPER,
    MPEPPER_ID,
    NOT_AUTHORIZED,
    OLD_ADMIN,
    OLD_ADMIN_ID,
    SCIM,
    SERVICE,
    TOUR_GUIDES,
    TOUR_GUIDES_ID,
    USERS,
    Make,
    patch,
)

V2 = "/scim/v2"
CORE_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
SEARCH = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
PAM = ["Containers", "ContainerPermissions", "PrivilegedData", "PrivilegedDataPermissions"]
PAM_TYPES = ["Container", "ContainerPermission", "PrivilegedData", "PrivilegedDataPermission"]
PAM_URNS = [f"urn:ietf:params:scim:schemas:pam:1.0:{t}" for t in PAM_TYPES]

NOT_SUPPORTED = "not supported by Delinea."  # docs/behaviour.md §5: or/not/pr/non-eq operators under cloud
COMBINATION = "Specified attribute and filter comparison combination is not supported."  # eq outside the allow-list
IMMUTABLE = "Attribute '{0}' is immutable and cannot be changed."


@pytest.fixture
def rfc(make_client: Make) -> TestClient:
    return make_client(profile="rfc")


@pytest.fixture
def cloud(make_client: Make) -> TestClient:
    return make_client(profile="cloud")


def user_names(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [u["userName"] for u in response.json().get("Resources", [])]


def assert_error(response: Any, status: int, detail: str, scim_type: str | None = None) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["detail"] == detail
    assert body.get("scimType") == scim_type


# -- served types ----------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("endpoint", PAM)
def test_pam_endpoints_404_under_rfc_served_under_cloud(rfc: TestClient, cloud: TestClient, endpoint: str) -> None:
    """docs/behaviour.md §11: only User and Group are served under rfc; the PAM endpoints answer 404 (docs/behaviour.md
    §1 text)."""
    for path in (f"{V2}/{endpoint}", f"{V2}/{endpoint}/1"):
        assert_error(rfc.get(path, headers=AUTH), 404, f"Resource '{path.removeprefix(V2 + '/')}' not found.")
    assert_error(rfc.post(f"{V2}/{endpoint}", json={"name": "x"}, headers=SCIM), 404,
                 f"Resource '{endpoint}' not found.")
    assert cloud.get(f"{V2}/{endpoint}", headers=AUTH).status_code == 200


def test_rfc_advertises_only_user_and_group(rfc: TestClient, cloud: TestClient) -> None:
    """docs/behaviour.md §11: rfc's discovery shows User (with the enterprise extension only) and Group; cloud shows all
    six."""
    types = rfc.get(f"{V2}/ResourceTypes", headers=AUTH).json()
    assert [t["name"] for t in types["Resources"]] == ["User", "Group"]
    assert types["totalResults"] == 2
    user = rfc.get(f"{V2}/ResourceTypes/User", headers=AUTH).json()
    assert user["schemaExtensions"] == [{"schema": ENTERPRISE, "required": False}]
    schemas = rfc.get(f"{V2}/Schemas", headers=AUTH).json()
    assert [s["id"] for s in schemas["Resources"]] == [CORE_USER, ENTERPRISE, CORE_GROUP]
    for name, urn in zip(PAM_TYPES, PAM_URNS, strict=True):
        assert rfc.get(f"{V2}/ResourceTypes/{name}", headers=AUTH).status_code == 404
        assert rfc.get(f"{V2}/Schemas/{urn}", headers=AUTH).status_code == 404
        assert cloud.get(f"{V2}/Schemas/{urn}", headers=AUTH).status_code == 200
    cloud_types = cloud.get(f"{V2}/ResourceTypes", headers=AUTH).json()
    assert [t["name"] for t in cloud_types["Resources"]] == ["User", "Group", *PAM_TYPES]


def test_unserved_types_are_loaded_kept_and_exported_under_rfc(rfc: TestClient) -> None:
    """docs/behaviour.md §11: state files are the same for both profiles; types rfc does not serve stay in the
    export."""
    state = rfc.get("/_mockscim/state", headers=AUTH).json()
    assert state["Containers"] and state["ContainerPermissions"]
    assert any(LINKED in u for u in state["Users"])


# -- filters (docs/behaviour.md §5) ------------------------------------------------------------------------------------

FILTERS: list[tuple[str, list[str], str]] = [
    # (filter, userNames under rfc in creation order, cloud's error detail)
    ('userName eq "BJENSEN@example.com"', [BJENSEN], ""),  # allowed under cloud too; caseExact false (RFC 7643 §4.1.1)
    ('userName ne "bjensen@example.com"', [SERVICE, MPEPPER, JDOE, OLD_ADMIN], NOT_SUPPORTED),
    ('userName co "PEPPER"', [MPEPPER], NOT_SUPPORTED),
    ('userName sw "old."', [OLD_ADMIN], NOT_SUPPORTED),
    ('userName ew "@corp.example.com"', [JDOE], NOT_SUPPORTED),
    ('name.familyName gt "p"', [SERVICE, MPEPPER], NOT_SUPPORTED),
    ('name.familyName ge "pepper"', [SERVICE, MPEPPER], NOT_SUPPORTED),
    ('name.familyName lt "doe"', [OLD_ADMIN], NOT_SUPPORTED),
    ('name.familyName le "DOE"', [JDOE, OLD_ADMIN], NOT_SUPPORTED),
    ('meta.lastModified gt "2000-01-01T00:00:00Z"', [SERVICE, BJENSEN, MPEPPER, JDOE, OLD_ADMIN], NOT_SUPPORTED),
    ("title pr", [BJENSEN], NOT_SUPPORTED),
    ('userName sw "b" or userName sw "m"', [BJENSEN, MPEPPER], NOT_SUPPORTED),
    ("not (active eq true)", [OLD_ADMIN], NOT_SUPPORTED),
    ('(userName sw "b" or userName sw "m") and not (name.givenName eq "Mark")', [BJENSEN], NOT_SUPPORTED),
    ('emails[type eq "work" and value ew "corp.example.com"]', [JDOE], NOT_SUPPORTED),
    (f'{CORE_USER}:userName sw "mp"', [MPEPPER], NOT_SUPPORTED),
    (f'{ENTERPRISE}:employeeNumber eq "701984"', [BJENSEN], COMBINATION),
    ("active eq false", [OLD_ADMIN], COMBINATION),
    ('displayName eq "Babs Jensen" and userName eq "bjensen@example.com"', [BJENSEN], COMBINATION),
]


@pytest.mark.parametrize(("flt", "expected", "cloud_error"), FILTERS, ids=[f[0] for f in FILTERS])
def test_every_filter_operator_under_rfc_allow_list_under_cloud(rfc: TestClient, cloud: TestClient, flt: str,
                                                              expected: list[str], cloud_error: str) -> None:
    """docs/behaviour.md §11/§5: rfc evaluates the whole RFC 7644 §3.4.2.2 grammar; cloud refuses what its allow-list
    lacks."""
    assert user_names(rfc.get(USERS, params={"filter": flt}, headers=AUTH)) == expected
    got = cloud.get(USERS, params={"filter": flt}, headers=AUTH)
    if not cloud_error:
        assert user_names(got) == expected
    elif cloud_error == NOT_SUPPORTED:
        assert_error(got, 400, f"Filter string '{flt}' is {NOT_SUPPORTED}", "invalidFilter")
    else:
        assert_error(got, 400, cloud_error, "invalidFilter")


def test_group_filters_under_rfc(rfc: TestClient, cloud: TestClient) -> None:
    """The rfc profile's operators apply to Groups too, including a value path on members."""
    found = rfc.get(GROUPS, params={"filter": f'members[value eq "{JDOE_ID}"] or displayName co "guide"'},
                    headers=AUTH).json()
    assert [g["id"] for g in found["Resources"]] == [TOUR_GUIDES_ID, DB_ADMINS_ID]
    flt = 'displayName co "guide"'
    assert_error(cloud.get(GROUPS, params={"filter": flt}, headers=AUTH), 400,
                 f"Filter string '{flt}' is {NOT_SUPPORTED}", "invalidFilter")


def test_unparseable_filter_is_the_same_error_in_both(rfc: TestClient, cloud: TestClient) -> None:
    """A filter that does not parse is 'not in proper format' in both profiles (docs/behaviour.md §5)."""
    for client in (rfc, cloud):
        assert_error(client.get(USERS, params={"filter": 'userName eq'}, headers=AUTH), 400,
                     "Filter string 'userName eq' is not in proper format.", "invalidFilter")


# -- sorting (RFC 7644 §3.4.2.3) ---------------------------------------------------------------------------------------

def test_sort_by_and_sort_order_under_rfc_ignored_under_cloud(rfc: TestClient, cloud: TestClient) -> None:
    """docs/behaviour.md §11: rfc sorts (strings case-insensitively, missing values last); cloud keeps creation
    order."""
    by_family = [OLD_ADMIN, JDOE, BJENSEN, MPEPPER, SERVICE]  # Admin, Doe, Jensen, Pepper, Service
    got = rfc.get(USERS, params={"sortBy": "name.familyName"}, headers=AUTH)
    assert user_names(got) == by_family
    got = rfc.get(USERS, params={"sortBy": "name.familyName", "sortOrder": "descending"}, headers=AUTH)
    assert user_names(got) == by_family[::-1]
    # Paging applies after sorting (RFC 7644 §3.4.2.4), and the filter before it.
    got = rfc.get(USERS, params={"sortBy": "userName", "startIndex": "2", "count": "2"}, headers=AUTH)
    assert user_names(got) == [JDOE, MPEPPER]
    assert got.json()["totalResults"] == 5 and got.json()["startIndex"] == 2
    # "title" is set on bjensen only: the others have no value and sort last ascending (RFC 7644 §3.4.2.3).
    assert user_names(rfc.get(USERS, params={"sortBy": "title"}, headers=AUTH))[0] == BJENSEN
    assert user_names(cloud.get(USERS, params={"sortBy": "name.familyName", "sortOrder": "descending"},
                                headers=AUTH)) == [SERVICE, BJENSEN, MPEPPER, JDOE, OLD_ADMIN]
    # externalId is caseExact (RFC 7643 §3.1): case-sensitive order, "S-…" before "b…" (RFC 7644 §3.4.2.3).
    got = rfc.get(USERS, params={"sortBy": "externalId", "attributes": "externalId"}, headers=AUTH).json()
    assert [u.get("externalId") for u in got["Resources"]] == ["S-1-5-21-1004", "bjensen", "mpepper", None, None]
    assert rfc.get(f"{V2}/ServiceProviderConfig", headers=AUTH).json()["sort"] == {"supported": True}
    assert cloud.get(f"{V2}/ServiceProviderConfig", headers=AUTH).json()["sort"] == {"supported": False}


def test_sort_by_an_indexed_attribute_matches_a_full_sort(rfc: TestClient) -> None:
    """sortBy on userName / Group displayName is served from the index (docs/store.md): the same order as sorting
    every resource (case-insensitive, equal values in creation order, also descending), paged after sorting, and
    fresh after a write."""
    names = ["beta", "Alpha", "alpha", "Gamma", "beta", "ALPHA", "delta"]
    for name in names:
        assert rfc.post(GROUPS, json={"displayName": name}, headers=SCIM).status_code == 201
    every = rfc.get(GROUPS, params={"count": "1000"}, headers=AUTH).json()["Resources"]
    for order in ("ascending", "descending"):
        expected = [g["id"] for g in sorted(every, key=lambda g: g["displayName"].lower(),
                                            reverse=order == "descending")]
        got = rfc.get(GROUPS, params={"sortBy": "displayName", "sortOrder": order, "count": "1000"}, headers=AUTH)
        assert [g["id"] for g in got.json()["Resources"]] == expected
        page = rfc.get(GROUPS, params={"sortBy": "displayName", "sortOrder": order, "startIndex": "3",
                                       "count": "2"}, headers=AUTH).json()
        assert [g["id"] for g in page["Resources"]] == expected[2:4] and page["totalResults"] == len(every)
    rfc.post(USERS, json={"userName": "aaa-first@example.com"}, headers=SCIM)
    assert user_names(rfc.get(USERS, params={"sortBy": "userName", "count": "1"}, headers=AUTH)) == [
        "aaa-first@example.com"]


# -- POST /.search (RFC 7644 §3.4.3) -----------------------------------------------------------------------------------

def test_search_per_resource_under_rfc(rfc: TestClient) -> None:
    """POST /Users/.search takes the query in the body: filter, attributes as a list, sortBy, paging."""
    body = {"schemas": [SEARCH], "filter": 'userName ew "example.com"', "attributes": ["userName"],
            "sortBy": "userName", "sortOrder": "descending", "startIndex": 1, "count": 2}
    got = rfc.post(f"{USERS}/.search", json=body, headers=SCIM)
    assert got.status_code == 200
    assert got.json()["totalResults"] == 4
    assert got.json()["Resources"] == [
        {"id": OLD_ADMIN_ID, "userName": OLD_ADMIN, "schemas": [CORE_USER]},
        {"id": MPEPPER_ID, "userName": MPEPPER, "schemas": [CORE_USER]},
    ]
    groups = rfc.post(f"{GROUPS}/.search", json={"schemas": [SEARCH], "filter": 'displayName sw "tour"'},
                      headers=SCIM)
    assert [g["id"] for g in groups.json()["Resources"]] == [TOUR_GUIDES_ID]


def test_search_at_the_root_under_rfc(rfc: TestClient) -> None:
    """POST /.search searches every served type at once (RFC 7644 §3.4.3), Users then Groups."""
    got = rfc.post(f"{V2}/.search", json={"schemas": [SEARCH], "filter": f'userName eq "{BJENSEN}" or '
                                          f'displayName eq "{TOUR_GUIDES}"'}, headers=SCIM)
    assert got.status_code == 200
    found = got.json()["Resources"]
    assert [(r["meta"]["resourceType"], r["id"]) for r in found] == [("User", BJENSEN_ID), ("Group", TOUR_GUIDES_ID)]
    assert got.json()["totalResults"] == 2
    everything = rfc.post(f"{V2}/.search", json={"schemas": [SEARCH], "count": 3}, headers=SCIM).json()
    assert everything["totalResults"] == 7 and everything["itemsPerPage"] == 3  # 5 users + 2 groups


def test_search_at_the_root_sorts_across_types_under_rfc(rfc: TestClient) -> None:
    """RFC 7644 §3.4.3: a root search with sortBy sorts the combined result, not each type on its own."""
    got = rfc.post(f"{V2}/.search", json={"schemas": [SEARCH], "sortBy": "displayName",
                                          "attributes": ["displayName"]}, headers=SCIM).json()
    names = [r["displayName"] for r in got["Resources"]]
    assert names == sorted(names, key=str.lower)
    assert names.index("DB Admins") < names.index("Jane Doe") < names.index("Tour Guides")
    paged = rfc.post(f"{V2}/.search", json={"schemas": [SEARCH], "sortBy": "displayName", "sortOrder": "descending",
                                            "startIndex": 2, "count": 2}, headers=SCIM).json()
    assert [r["displayName"] for r in paged["Resources"]] == names[::-1][1:3]


def test_search_request_needs_its_schema(rfc: TestClient) -> None:
    """A body without the SearchRequest URN is not a search request (RFC 7644 §3.4.3) → 400 invalidSyntax."""
    for path in (f"{V2}/.search", f"{USERS}/.search"):
        got = rfc.post(path, json={"filter": 'userName sw "b"'}, headers=SCIM)
        assert got.status_code == 400 and got.json()["scimType"] == "invalidSyntax"


def test_search_not_served_under_cloud(cloud: TestClient) -> None:
    """docs/behaviour.md §11: no POST /.search under cloud: the root is an unknown path, /Users/.search an id that takes
    no POST."""
    body = {"schemas": [SEARCH], "filter": f'userName eq "{BJENSEN}"'}
    assert_error(cloud.post(f"{V2}/.search", json=body, headers=SCIM), 404, "Resource '.search' not found.")
    got = cloud.post(f"{USERS}/.search", json=body, headers=SCIM)
    assert got.status_code == 405 and "POST" not in got.headers["allow"]


# -- userName mutability ---------------------------------------------------------------------------------------------

def test_user_name_mutable_under_rfc(rfc: TestClient) -> None:
    """docs/behaviour.md §11: rfc's userName is readWrite (RFC 7643 §4.1.1): PATCH and PUT change it; it stays
    unique."""
    got = patch(rfc, f"{USERS}/{BJENSEN_ID}", {"op": "replace", "path": "userName", "value": "babs@example.com"})
    assert got.status_code == 200 and got.json()["userName"] == "babs@example.com"
    got = rfc.put(f"{USERS}/{BJENSEN_ID}", json={"schemas": [CORE_USER], "userName": "barbara@example.com"},
                  headers=SCIM)
    assert got.status_code == 200 and got.json()["userName"] == "barbara@example.com"
    assert rfc.get(f"{USERS}/{BJENSEN_ID}", headers=AUTH).json()["userName"] == "barbara@example.com"
    clash = patch(rfc, f"{USERS}/{BJENSEN_ID}", {"op": "replace", "path": "userName", "value": MPEPPER.upper()})
    assert clash.status_code == 409 and clash.json()["scimType"] == "uniqueness"
    schema = rfc.get(f"{V2}/Schemas/{CORE_USER}", headers=AUTH).json()
    assert next(a for a in schema["attributes"] if a["name"] == "userName")["mutability"] == "readWrite"


def test_user_name_immutable_under_cloud(cloud: TestClient) -> None:
    """docs/behaviour.md §11/§6 [D]: cloud's userName is immutable: PATCH and PUT → 400 mutability, nothing changes."""
    version = cloud.get(f"{USERS}/{BJENSEN_ID}", headers=AUTH).json()["meta"]["version"]
    got = patch(cloud, f"{USERS}/{BJENSEN_ID}", {"op": "replace", "path": "userName", "value": "babs@example.com"})
    assert_error(got, 400, IMMUTABLE.format("userName"), "mutability")
    got = cloud.put(f"{USERS}/{BJENSEN_ID}", json={"schemas": [CORE_USER], "userName": "babs@example.com"},
                    headers=SCIM)
    assert_error(got, 400, IMMUTABLE.format("userName"), "mutability")
    after = cloud.get(f"{USERS}/{BJENSEN_ID}", headers=AUTH).json()
    assert after["userName"] == BJENSEN and after["meta"]["version"] == version
    # The same value, in another case, is no change (RFC 7643 §4.1.1 caseExact false).
    same = patch(cloud, f"{USERS}/{BJENSEN_ID}", {"op": "replace", "path": "userName", "value": BJENSEN.upper()})
    assert same.status_code == 200 and same.json()["userName"] == BJENSEN
    schema = cloud.get(f"{V2}/Schemas/{CORE_USER}", headers=AUTH).json()
    assert next(a for a in schema["attributes"] if a["name"] == "userName")["mutability"] == "immutable"


# -- read-only attributes, foreign id ----------------------------------------------------------------------------------

READ_ONLY = {"meta": {"resourceType": "Nope", "created": "1999-01-01T00:00:00Z", "version": 'W/"forged"'},
             "groups": [{"value": DB_ADMINS_ID}]}


def test_read_only_attributes_and_foreign_id_ignored_under_rfc(rfc: TestClient) -> None:
    """docs/behaviour.md §11: rfc ignores read-only attributes in a body, a foreign id included (RFC 7644 §3.5.1)."""
    put = rfc.put(f"{USERS}/{BJENSEN_ID}", json={"schemas": [CORE_USER], "id": "someone-else", "userName": BJENSEN,
                                                  "displayName": "Babs", **READ_ONLY}, headers=SCIM)
    assert put.status_code == 200
    body = put.json()
    assert body["id"] == BJENSEN_ID and body["displayName"] == "Babs"
    assert body["meta"]["resourceType"] == "User" and body["meta"]["version"] != 'W/"forged"'
    assert [g["value"] for g in body["groups"]] == [TOUR_GUIDES_ID]  # derived, not taken from the body
    for op in ({"op": "replace", "path": "id", "value": "someone-else"},
               {"op": "replace", "value": {"id": "someone-else", "title": "Guide"}},
               {"op": "add", "path": "meta.version", "value": 'W/"forged"'}):
        got = patch(rfc, f"{USERS}/{BJENSEN_ID}", op)
        assert got.status_code == 200, got.text
        assert got.json()["id"] == BJENSEN_ID
    assert rfc.get(f"{USERS}/someone-else", headers=AUTH).status_code == 404
    assert rfc.get(f"{USERS}/{BJENSEN_ID}", headers=AUTH).json()["title"] == "Guide"


def test_foreign_id_refused_under_cloud_read_only_ignored(cloud: TestClient) -> None:
    """docs/behaviour.md §11: cloud refuses a foreign id with 400 mutability; the same id and other read-only values are
    ignored."""
    for got in (
        cloud.put(f"{USERS}/{BJENSEN_ID}", json={"schemas": [CORE_USER], "id": "someone-else", "userName": BJENSEN},
                  headers=SCIM),
        patch(cloud, f"{USERS}/{BJENSEN_ID}", {"op": "replace", "path": "id", "value": "someone-else"}),
        patch(cloud, f"{USERS}/{BJENSEN_ID}", {"op": "replace", "value": {"id": "someone-else", "title": "Guide"}}),
    ):
        assert_error(got, 400, IMMUTABLE.format("id"), "mutability")
    assert cloud.get(f"{USERS}/{BJENSEN_ID}", headers=AUTH).json()["title"] == "Tour Guide"
    put = cloud.put(f"{USERS}/{BJENSEN_ID}", json={"schemas": [CORE_USER], "id": BJENSEN_ID, "userName": BJENSEN,
                                                    **READ_ONLY}, headers=SCIM)
    assert put.status_code == 200 and put.json()["meta"]["resourceType"] == "User"


# -- Group displayName uniqueness ------------------------------------------------------------------------------------

def test_group_display_name_not_unique_under_rfc(rfc: TestClient) -> None:
    """docs/behaviour.md §11: rfc's Group displayName has uniqueness none (RFC 7643 §4.2): duplicates are created and
    renamed to."""
    dup = rfc.post(GROUPS, json={"schemas": [CORE_GROUP], "displayName": TOUR_GUIDES.upper()}, headers=SCIM)
    assert dup.status_code == 201
    renamed = patch(rfc, f"{GROUPS}/{DB_ADMINS_ID}", {"op": "replace", "path": "displayName", "value": TOUR_GUIDES})
    assert renamed.status_code == 200
    found = rfc.get(GROUPS, params={"filter": f'displayName eq "{TOUR_GUIDES}"'}, headers=AUTH).json()
    assert found["totalResults"] == 3
    schema = rfc.get(f"{V2}/Schemas/{CORE_GROUP}", headers=AUTH).json()
    assert next(a for a in schema["attributes"] if a["name"] == "displayName")["uniqueness"] == "none"


def test_group_display_name_unique_under_cloud(cloud: TestClient) -> None:
    """docs/behaviour.md §11/§3: cloud's Group displayName is unique (case-insensitive): POST, PUT and PATCH → 409
    uniqueness."""
    detail = "Attribute 'displayName' MUST be unique."
    assert_error(cloud.post(GROUPS, json={"schemas": [CORE_GROUP], "displayName": TOUR_GUIDES.upper()},
                            headers=SCIM), 409, detail, "uniqueness")
    assert_error(patch(cloud, f"{GROUPS}/{DB_ADMINS_ID}", {"op": "replace", "path": "displayName",
                                                           "value": TOUR_GUIDES}), 409, detail, "uniqueness")
    assert_error(cloud.put(f"{GROUPS}/{DB_ADMINS_ID}", json={"schemas": [CORE_GROUP], "displayName": "tour guides"},
                           headers=SCIM), 409, detail, "uniqueness")
    schema = cloud.get(f"{V2}/Schemas/{CORE_GROUP}", headers=AUTH).json()
    assert next(a for a in schema["attributes"] if a["name"] == "displayName")["uniqueness"] == "server"


# -- LinkedObject and the federated rule -----------------------------------------------------------------------------

def test_no_linked_object_served_under_rfc(rfc: TestClient, cloud: TestClient) -> None:
    """docs/behaviour.md §11: rfc serves no LinkedObject: stored data is neither rendered nor listed in schemas (RFC
    7643 §3)."""
    got = rfc.get(f"{USERS}/{JDOE_ID}", headers=AUTH).json()
    assert LINKED not in got and got["schemas"] == [CORE_USER]
    listed = rfc.get(USERS, params={"filter": f'userName eq "{JDOE}"'}, headers=AUTH).json()["Resources"][0]
    assert LINKED not in listed and LINKED not in listed["schemas"]
    created = rfc.post(USERS, json={"schemas": [CORE_USER, LINKED], "userName": "ln@example.com",
                                    LINKED: {"source": "ActiveDirectory"}}, headers=SCIM)
    assert created.status_code == 201 and LINKED not in created.json()
    assert patch(rfc, f"{USERS}/{JDOE_ID}", {"op": "add", "path": f"{LINKED}:source", "value": "x"}).status_code == 400
    on_cloud = cloud.get(f"{USERS}/{JDOE_ID}", headers=AUTH).json()
    assert on_cloud[LINKED]["source"] == "ActiveDirectory" and LINKED in on_cloud["schemas"]


def test_linked_object_data_kept_across_writes_under_rfc(rfc: TestClient) -> None:
    """docs/behaviour.md §11: LinkedObject data under rfc is loaded, kept (PUT, PATCH) and exported, but not served."""
    put = rfc.put(f"{USERS}/{JDOE_ID}", json={"schemas": [CORE_USER], "userName": JDOE, "displayName": "J"},
                  headers=SCIM)
    assert put.status_code == 200 and LINKED not in put.json()
    assert patch(rfc, f"{USERS}/{JDOE_ID}", {"op": "replace", "path": "title", "value": "T"}).status_code == 200
    exported = next(u for u in rfc.get("/_mockscim/state", headers=AUTH).json()["Users"] if u["id"] == JDOE_ID)
    assert exported[LINKED] == {"source": "ActiveDirectory", "nativeIdentifier": "CORP\\jdoe"}
    assert exported["displayName"] == "J" and exported["title"] == "T"


def test_federated_rule_only_under_cloud(rfc: TestClient, cloud: TestClient) -> None:
    """docs/behaviour.md §11/§3 [D]: a federated user's displayName/emails/name are locked under cloud, free under
    rfc."""
    ops: list[dict[str, Any]] = [
        {"op": "replace", "path": "displayName", "value": "Janet Doe"},
        {"op": "replace", "path": "name.givenName", "value": "Janet"},
        {"op": "add", "path": "emails", "value": [{"value": "janet@example.com", "type": "home"}]},
    ]
    for op in ops:
        assert_error(patch(cloud, f"{USERS}/{JDOE_ID}", op), 400, NOT_AUTHORIZED)
        assert patch(rfc, f"{USERS}/{JDOE_ID}", op).status_code == 200
    got = rfc.get(f"{USERS}/{JDOE_ID}", headers=AUTH).json()
    assert got["displayName"] == "Janet Doe" and got["name"]["givenName"] == "Janet" and len(got["emails"]) == 2


# -- profile files -----------------------------------------------------------------------------------------------------

def _custom(tmp_path: Path, **changes: Any) -> Path:
    raw = json.loads((PROFILE_DIR / "rfc.json").read_text(encoding="utf-8"))
    raw.update(changes)
    path = tmp_path / "custom.json"
    path.write_text(json.dumps(raw), encoding="utf-8")
    return path


def test_profile_by_path(tmp_path: Path, make_client: Make) -> None:
    """--profile PATH (Settings.profile) loads a file: rfc with an allow-list, immutable userName, page size 2."""
    path = _custom(tmp_path, name="custom", defaultCount=2, filterAllowList={"Users": ["userName"], "Groups": []},
                   immutable=["Users.userName"])
    client = make_client(profile=str(path))
    page = client.get(USERS, headers=AUTH).json()
    assert page["itemsPerPage"] == 2 and page["totalResults"] == 5
    assert user_names(client.get(USERS, params={"filter": f'userName eq "{MPEPPER}"'}, headers=AUTH)) == [MPEPPER]
    assert_error(client.get(USERS, params={"filter": 'userName sw "m"'}, headers=AUTH), 400,
                 f"Filter string 'userName sw \"m\"' is {NOT_SUPPORTED}", "invalidFilter")
    assert_error(patch(client, f"{USERS}/{BJENSEN_ID}", {"op": "replace", "path": "userName", "value": "b@x"}),
                 400, IMMUTABLE.format("userName"), "mutability")
    assert client.get(f"{V2}/Containers", headers=AUTH).status_code == 404  # endpoints still rfc's
    assert load_profile(str(path)).name == "custom"


def test_shipped_profiles_differ_in_exactly_the_spec_points() -> None:
    """docs/behaviour.md §11: the two shipped files differ only in the keys that carry the listed differences."""
    cloud = json.loads((PROFILE_DIR / "cloud.json").read_text(encoding="utf-8"))
    rfc = json.loads((PROFILE_DIR / "rfc.json").read_text(encoding="utf-8"))
    differ = sorted(k for k in cloud if cloud[k] != rfc.get(k))
    assert differ == ["description", "endpoints", "federatedRule", "filterAllowList", "foreignId", "immutable",
                      "linkedObject", "methods", "name", "search", "sorting", "unique"]
    assert rfc["unique"] == ["Users.userName"] and rfc["immutable"] == [] and rfc["foreignId"] == "ignore"
    assert rfc["methods"] == {k: cloud["methods"][k] for k in ("Users", "Groups")}


BAD_PROFILES: list[tuple[str, str]] = [
    ("{not json", "Expecting property name"),
    ("[]", "a profile is a JSON object"),
    (json.dumps({"name": "x"}), "missing keys ['defaultCount'"),
    ("UNKNOWN_KEY", "unknown keys ['sortng']"),
    ("UNKNOWN_ENDPOINT", "endpoints: unknown ['Widgets']"),
]


@pytest.mark.parametrize(("text", "message"), BAD_PROFILES, ids=["json", "not-object", "missing", "unknown-key",
                                                                 "unknown-endpoint"])
def test_bad_profile_file_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str,
                                           message: str) -> None:
    """A profile file that does not load names the file and what is wrong, at start-up, with no traceback."""
    raw = json.loads((PROFILE_DIR / "rfc.json").read_text(encoding="utf-8"))
    if text == "UNKNOWN_KEY":
        text = json.dumps({**raw, "sortng": True})
    elif text == "UNKNOWN_ENDPOINT":
        text = json.dumps({**raw, "endpoints": ["Users", "Widgets"]})
    path = tmp_path / "bad.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ProfileError) as caught:
        create_app(Settings(profile=str(path)))
    assert str(path) in str(caught.value) and message in str(caught.value)
    assert main(["serve", "--profile", str(path), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"mockscim serve: --profile {str(path)!r}: ") and message in err
    assert "Traceback" not in err


def test_unknown_profile_name_lists_the_shipped_ones() -> None:
    with pytest.raises(ProfileError, match=r"unknown profile 'nope': not a shipped profile \(cloud, rfc\) nor a file"):
        load_profile("nope")
