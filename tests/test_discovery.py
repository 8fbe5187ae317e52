"""Discovery through HTTP (RFC 7644 §4, docs/behaviour.md §1): ServiceProviderConfig, ResourceTypes, Schemas."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from tests.helpers import AUTH

CHARACTERISTICS = {"name", "type", "multiValued", "required", "mutability", "returned", "uniqueness", "caseExact"}
SCHEMAS = [
    "urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
    "urn:ietf:params:scim:schemas:pam:1.0:LinkedObject", "urn:ietf:params:scim:schemas:core:2.0:Group",
    "urn:ietf:params:scim:schemas:pam:1.0:Container", "urn:ietf:params:scim:schemas:pam:1.0:ContainerPermission",
    "urn:ietf:params:scim:schemas:pam:1.0:PrivilegedData",
    "urn:ietf:params:scim:schemas:pam:1.0:PrivilegedDataPermission",
]


def test_service_provider_config(client: TestClient) -> None:
    """patch true, bulk false, filter with maxResults, sort per profile, etag true, oauthbearertoken."""
    body = client.get("/scim/v2/ServiceProviderConfig", headers=AUTH).json()
    assert body["patch"] == {"supported": True}
    assert body["bulk"]["supported"] is False
    assert body["filter"] == {"supported": True, "maxResults": 1000}
    assert body["sort"] == {"supported": False} and body["etag"] == {"supported": True}
    assert body["authenticationSchemes"][0]["type"] == "oauthbearertoken"


def test_resource_types_list_all_six(client: TestClient) -> None:
    """/ResourceTypes is a ListResponse of the six resource types; each is readable by name."""
    body = client.get("/scim/v2/ResourceTypes", headers=AUTH).json()
    assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:ListResponse"]
    names = [r["name"] for r in body["Resources"]]
    assert names == ["User", "Group", "Container", "ContainerPermission", "PrivilegedData",
                     "PrivilegedDataPermission"]
    for name in names:
        one = client.get(f"/scim/v2/ResourceTypes/{name}", headers=AUTH)
        assert one.status_code == 200 and one.json()["name"] == name
    assert client.get("/scim/v2/ResourceTypes/Widget", headers=AUTH).status_code == 404


def test_schemas_list_and_full_attribute_definitions(client: TestClient) -> None:
    """/Schemas lists every served schema; every attribute carries all RFC 7643 §7 characteristics."""
    body = client.get("/scim/v2/Schemas", headers=AUTH).json()
    assert sorted(s["id"] for s in body["Resources"]) == sorted(SCHEMAS)
    for schema in body["Resources"]:
        stack = list(schema["attributes"])
        while stack:
            attr = stack.pop()
            assert CHARACTERISTICS <= set(attr), (schema["id"], attr["name"])
            stack.extend(attr.get("subAttributes", []))


@pytest.mark.parametrize("urn", SCHEMAS)
def test_schema_by_urn(client: TestClient, urn: str) -> None:
    """/Schemas/{urn} answers one schema."""
    r = client.get(f"/scim/v2/Schemas/{urn}", headers=AUTH)
    assert r.status_code == 200 and r.json()["id"] == urn


def test_schema_matches_enforcement(client: TestClient) -> None:
    """userName is required, server-unique, immutable (cloud); password is writeOnly and never returned."""
    user = client.get("/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:User", headers=AUTH).json()
    attrs = {a["name"]: a for a in user["attributes"]}
    assert attrs["userName"]["required"] is True and attrs["userName"]["uniqueness"] == "server"
    assert attrs["userName"]["mutability"] == "immutable" and attrs["userName"]["caseExact"] is False
    assert attrs["password"]["mutability"] == "writeOnly" and attrs["password"]["returned"] == "never"
    assert attrs["groups"]["mutability"] == "readOnly"


def test_schemas_omit_the_common_attributes(client: TestClient) -> None:
    """docs/behaviour.md §1: no schema lists id, externalId or meta (RFC 7643 §3.1 common attributes; §8.7.1 prints
    the User and Group schemas without them); scim2-client cannot read a projected resource otherwise."""
    listed = client.get("/scim/v2/Schemas", headers=AUTH).json()["Resources"]
    one = [client.get(f"/scim/v2/Schemas/{urn}", headers=AUTH).json() for urn in SCHEMAS]
    for schema in (*listed, *one):
        assert {a["name"] for a in schema["attributes"]}.isdisjoint({"id", "externalId", "meta"}), schema["id"]
