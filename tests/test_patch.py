"""mockscim.scim.patch: RFC 7644 §3.5.2 PatchOp parsing and application, with Entra ID and Okta request shapes."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from mockscim.scim.errors import Immutable, InvalidAttribute, InvalidValue, RequiredAttribute, ScimError
from mockscim.scim.patch import PATCH_OP, Operation, apply_operations, parse_operations
from mockscim.scim.schema import (
    ALL_ENDPOINTS,
    CORE_GROUP,
    CORE_USER,
    ENTERPRISE_USER,
    LINKED_OBJECT,
    build_resource_types,
)
from tests.helpers import patch_body

RTS = build_resource_types(
    endpoints=ALL_ENDPOINTS,
    immutable=["Users.userName"],
    unique=["Users.userName", "Groups.displayName"],
    linked_object=True,
)
BAD = InvalidValue().detail  # docs/behaviour.md §6: the one detail every invalid PatchOp carries

# RFC 7644 §3.5.2 example ids.
USER_ID = "2819c223-7f76-453a-919d-413861904646"
OTHER_ID = "902c246b-6245-4190-8e05-00816be7344a"
GROUP_ID = "acbf3ae7-8463-4692-b4fd-9b4da3f908ce"
CERT = "MIIDQzCCAqygAwIBAgICEAAwDQYJKoZIhvcNAQEFBQAwTjELMAkGA1UEBhMCVVMx"
META = {"resourceType": "User", "version": 'W/"1"'}

WORK_ADDRESS = {
    "type": "work", "streetAddress": "100 Universal City Plaza", "locality": "Hollywood", "region": "CA",
    "postalCode": "91608", "country": "USA", "primary": True,
}
FORMATTED = "911 Universal City Plaza\nHollywood, CA 91608 USA"
HOME_ADDRESS = {"type": "home", "streetAddress": "456 Hollywood Blvd", "locality": "Hollywood", "country": "USA"}
WORK_EMAIL = {"value": "bjensen@example.com", "type": "work", "primary": True}
HOME_EMAIL = {"value": "babs@jensen.org", "type": "home"}
USER: dict[str, Any] = {
    "id": USER_ID,
    "schemas": [CORE_USER, ENTERPRISE_USER],
    "meta": META,
    "userName": "bjensen",
    "name": {"givenName": "Barbara", "familyName": "Jensen"},
    "displayName": "Babs Jensen",
    "active": True,
    "emails": [WORK_EMAIL],
    "addresses": [WORK_ADDRESS, HOME_ADDRESS],
    "x509Certificates": [{"value": CERT, "display": "Babs's certificate"}],
    ENTERPRISE_USER: {"employeeNumber": "701984"},
}
FEDERATED = {**USER, LINKED_OBJECT: {"source": "ActiveDirectory", "nativeIdentifier": "S-1-5-21"}}

MEMBER_A = {"value": USER_ID, "display": "Babs Jensen", "$ref": f"https://example.com/v2/Users/{USER_ID}"}
MEMBER_B = {"value": OTHER_ID, "display": "James Smith", "$ref": f"https://example.com/v2/Users/{OTHER_ID}"}
GROUP: dict[str, Any] = {
    "id": GROUP_ID, "schemas": [CORE_GROUP], "meta": {**META, "resourceType": "Group"},
    "displayName": "Tour Guides", "members": [MEMBER_A, MEMBER_B],
}
EMPTY_GROUP = {k: v for k, v in GROUP.items() if k != "members"}


def patch(endpoint: str, doc: dict[str, Any], operations: list[dict[str, Any]], **kw: Any) -> dict[str, Any]:
    """Parse and apply ``operations`` to ``doc`` as a resource of ``endpoint``."""
    resource_id = doc["id"]
    return apply_operations(RTS[endpoint], doc, parse_operations(patch_body(*operations)), resource_id=resource_id,
                            **kw)


def but(base: dict[str, Any], *drop: str, **changes: Any) -> dict[str, Any]:
    """``base`` without the keys ``drop`` and with ``changes``."""
    return {**{k: v for k, v in base.items() if k not in drop}, **changes}


def ext(**attrs: Any) -> dict[str, Any]:
    """The user's enterprise extension object with ``attrs`` changed."""
    return {ENTERPRISE_USER: {**USER[ENTERPRISE_USER], **attrs}}


APPLIED = [
    # --- RFC 7644 §3.5.2.1 add ---
    pytest.param("Groups", EMPTY_GROUP, [{"op": "add", "path": "members", "value": [MEMBER_A]}],
                 but(GROUP, members=[MEMBER_A]), id="rfc-add-members"),
    pytest.param("Users", USER, [{"op": "add", "value": {
        "emails": [HOME_EMAIL], "nickname": "Babs"}}],
                 but(USER, nickName="Babs", emails=[WORK_EMAIL, HOME_EMAIL]),
                 id="rfc-add-pathless-emails-nickname"),
    pytest.param("Users", USER, [{"op": "add", "path": "emails", "value": [HOME_EMAIL]}],
                 but(USER, emails=[WORK_EMAIL, HOME_EMAIL]), id="rfc-add-emails"),
    # --- RFC 7644 §3.5.2.2 remove ---
    pytest.param("Groups", GROUP, [{"op": "remove", "path": f'members[value eq "{USER_ID}"]'}],
                 but(GROUP, members=[MEMBER_B]), id="rfc-remove-one-member"),
    pytest.param("Groups", GROUP, [{"op": "remove", "path": "members"}], EMPTY_GROUP, id="rfc-remove-all-members"),
    pytest.param("Groups", GROUP, [{"op": "remove", "path": f'members[value eq "{USER_ID}" or value eq "{OTHER_ID}"]'}],
                 EMPTY_GROUP, id="rfc-remove-members-complex-filter"),
    pytest.param("Users", but(USER, emails=[WORK_EMAIL, {"value": "b@example.org", "type": "work"}]),
                 [{"op": "remove", "path": 'emails[type eq "work" and value ew "example.com"]'}],
                 but(USER, emails=[{"value": "b@example.org", "type": "work"}]), id="rfc-remove-emails-and-ew"),
    pytest.param("Groups", GROUP, [{"op": "remove", "path": "members"},
                                   {"op": "add", "path": "members", "value": [MEMBER_B]}],
                 but(GROUP, members=[MEMBER_B]), id="rfc-remove-all-then-add-members"),
    pytest.param("Users", USER, [{"op": "remove", "path": f'x509Certificates[value eq "{CERT}"].display'}],
                 but(USER, x509Certificates=[{"value": CERT}]), id="rfc-remove-sub-attribute-of-filtered"),
    # --- RFC 7644 §3.5.2.3 replace ---
    pytest.param("Groups", but(GROUP, members=[MEMBER_A]),
                 [{"op": "replace", "path": "members", "value": [MEMBER_B, {"value": USER_ID}]}],
                 but(GROUP, members=[MEMBER_B, {"value": USER_ID}]), id="rfc-replace-members"),
    pytest.param("Users", USER, [{"op": "replace", "path": 'addresses[type eq "work"]', "value": {
        "type": "work", "streetAddress": "911 Universal City Plaza", "locality": "Hollywood", "region": "CA",
        "postalCode": "91608", "country": "USA", "formatted": FORMATTED, "primary": True}}],
                 but(USER, addresses=[{**WORK_ADDRESS, "streetAddress": "911 Universal City Plaza",
                                       "formatted": FORMATTED}, HOME_ADDRESS]),
                 id="rfc-replace-work-address"),
    pytest.param("Users", USER, [{"op": "replace", "path": 'addresses[type eq "work"].streetAddress',
                                  "value": "1010 Broadway Ave"}],
                 but(USER, addresses=[{**WORK_ADDRESS, "streetAddress": "1010 Broadway Ave"}, HOME_ADDRESS]),
                 id="rfc-replace-work-street"),
    pytest.param("Users", USER, [{"op": "replace", "value": {"emails": [
        {"value": "bjensen@example.com", "type": "work", "primary": True},
        HOME_EMAIL], "nickname": "Babs"}}],
                 but(USER, nickName="Babs", emails=[WORK_EMAIL, HOME_EMAIL]),
                 id="rfc-replace-pathless"),
    # --- Entra ID (docs/behaviour.md §6) ---
    pytest.param("Users", USER, [{"op": "Replace", "path": "active", "value": "False"}], but(USER, active=False),
                 id="entra-replace-active-string"),
    pytest.param("Users", USER, [{"op": "Add", "path": "nickName", "value": "Babs"}], but(USER, nickName="Babs"),
                 id="entra-add-nickname"),
    pytest.param("Users", USER, [{"op": "Replace", "path": 'emails[type eq "work"].value', "value": "b@example.org"}],
                 but(USER, emails=[{**WORK_EMAIL, "value": "b@example.org"}]), id="entra-replace-work-email"),
    pytest.param("Users", USER, [{"op": "Replace", "path": f"{ENTERPRISE_USER}:employeeNumber", "value": "42"}],
                 but(USER, **ext(employeeNumber="42")), id="entra-replace-employee-number"),
    pytest.param("Users", USER, [{"op": "replace", "value": {
        "displayName": "Babs", "name.givenName": "Babs", f"{ENTERPRISE_USER}:employeeNumber": "42"}}],
                 but(USER, displayName="Babs", name={"givenName": "Babs", "familyName": "Jensen"},
                     **ext(employeeNumber="42")), id="entra-replace-pathless-dotted-and-urn-keys"),
    pytest.param("Groups", GROUP, [{"op": "Remove", "path": "members", "value": [{"value": USER_ID}]}],
                 but(GROUP, members=[MEMBER_B]), id="entra-remove-member-by-value-array"),
    pytest.param("Groups", but(GROUP, members=[MEMBER_A]),
                 [{"op": "Add", "path": "members", "value": [{"$ref": None, "value": OTHER_ID}]}],
                 but(GROUP, members=[MEMBER_A, {"value": OTHER_ID}]), id="entra-add-member-ref-null"),
    # --- Okta (docs/behaviour.md §6) ---
    pytest.param("Users", USER, [{"op": "replace", "value": {"active": False}}], but(USER, active=False),
                 id="okta-deactivate-pathless"),
    pytest.param("Groups", GROUP, [{"op": "replace", "value": {"id": GROUP_ID, "displayName": "Guides"}}],
                 but(GROUP, displayName="Guides"), id="okta-rename-with-same-id"),
    pytest.param("Groups", GROUP, [{"op": "remove", "path": f'members[value eq "{OTHER_ID}"]'}],
                 but(GROUP, members=[MEMBER_A]), id="okta-remove-member"),
    pytest.param("Groups", but(GROUP, members=[MEMBER_A]),
                 [{"op": "add", "path": "members", "value": [{"value": OTHER_ID, "display": "jsmith"}]}],
                 but(GROUP, members=[MEMBER_A, {"value": OTHER_ID, "display": "jsmith"}]), id="okta-add-member"),
    pytest.param("Groups", GROUP, [{"op": "replace", "path": "members", "value": [{"value": OTHER_ID}]}],
                 but(GROUP, members=[{"value": OTHER_ID}]), id="okta-replace-members"),
    # --- other semantics ---
    pytest.param("Groups", GROUP, [{"op": "add", "path": "members", "value": [{"value": USER_ID}]}], GROUP,
                 id="add-existing-member-is-no-op"),
    pytest.param("Users", USER, [{"op": "add", "path": "emails", "value": [{"value": "b@x.org", "primary": True}]}],
                 but(USER, emails=[{**WORK_EMAIL, "primary": False}, {"value": "b@x.org", "primary": True}]),
                 id="primary-reset-on-add"),
    pytest.param("Users", but(USER, emails=[WORK_EMAIL, {"value": "b@x.org", "type": "home"}]),
                 [{"op": "replace", "path": 'emails[type eq "home"].primary', "value": True}],
                 but(USER, emails=[{**WORK_EMAIL, "primary": False}, {"value": "b@x.org", "type": "home",
                                                                       "primary": True}]),
                 id="primary-reset-on-filtered-replace"),
    pytest.param("Groups", GROUP, [{"op": "remove", "path": 'members[value eq "nobody"]'}], GROUP,
                 id="remove-filter-without-match-is-no-op"),
    pytest.param("Users", USER, [{"op": "add", "path": "name", "value": {"middleName": "J"}}],
                 but(USER, name={**USER["name"], "middleName": "J"}), id="add-complex-merges"),
    pytest.param("Users", USER, [{"op": "replace", "path": "name", "value": {"givenName": "Babs"}}],
                 but(USER, name={"givenName": "Babs", "familyName": "Jensen"}), id="replace-complex-merges"),
    pytest.param("Users", USER, [{"op": "remove", "path": "name.givenName"}],
                 but(USER, name={"familyName": "Jensen"}), id="remove-sub-attribute"),
    pytest.param("Users", USER, [{"op": "remove", "path": "name.givenName"},
                                 {"op": "remove", "path": "name.familyName"}],
                 but(USER, "name"), id="emptied-complex-is-unassigned"),
    pytest.param("Users", USER, [{"op": "replace", "path": f"{CORE_USER}:displayName", "value": "B"}],
                 but(USER, displayName="B"), id="core-urn-qualified-path"),
    pytest.param("Users", USER, [{"op": "add", "path": ENTERPRISE_USER, "value": {"department": "Tours"}}],
                 but(USER, **ext(department="Tours")), id="extension-urn-path"),
    pytest.param("Users", USER, [{"op": "remove", "path": f"{ENTERPRISE_USER}:employeeNumber"}],
                 but(USER, ENTERPRISE_USER), id="emptied-extension-is-unassigned"),
    pytest.param("Users", USER, [{"op": "replace", "value": {ENTERPRISE_USER: {"costCenter": "4130"}}}],
                 but(USER, **ext(costCenter="4130")), id="pathless-extension-object"),
    pytest.param("Users", USER, [{"op": "replace", "value": {"manager.value": "x", "urn:x:y:title": "T",
                                                            "schemas": [CORE_USER], "title": "Guide"}}],
                 but(USER, title="Guide"), id="pathless-unknown-keys-ignored"),
    pytest.param("Users", USER, [{"op": "replace", "value": {"id": USER_ID, "meta": {"version": "x"},
                                                            "groups": [{"value": GROUP_ID}]}}],
                 USER, id="read-only-values-ignored"),
    pytest.param("Users", USER, [{"op": "replace", "path": "meta.version", "value": "x"}], USER,
                 id="read-only-path-ignored"),
    pytest.param("Users", USER, [{"op": "replace", "path": "password", "value": "s3cret!"}],
                 but(USER, password="s3cret!"), id="write-only-password-stored"),
    pytest.param("Users", USER, [{"op": "replace", "path": "userName", "value": "BJensen"}], USER,
                 id="immutable-same-value-is-no-op"),
    pytest.param("Users", USER, [{"op": "replace", "path": "displayName", "value": None}], but(USER, "displayName"),
                 id="replace-with-null-unassigns"),
    pytest.param("Users", USER, [{"op": "add", "path": f"{LINKED_OBJECT}:source", "value": "ActiveDirectory"}],
                 but(USER, **{LINKED_OBJECT: {"source": "ActiveDirectory"}}), id="immutable-add-when-unset"),
    pytest.param("Users", FEDERATED, [{"op": "replace", "path": "active", "value": False}],
                 but(FEDERATED, active=False), id="immutable-extension-untouched"),
]


@pytest.mark.parametrize(("endpoint", "doc", "operations", "expected"), APPLIED)
def test_apply(endpoint: str, doc: dict[str, Any], operations: list[dict[str, Any]], expected: dict[str, Any]) -> None:
    """Applying the operations yields the expected stored document and leaves the input untouched."""
    before = copy.deepcopy(doc)
    assert patch(endpoint, doc, operations) == expected
    assert doc == before


REFUSED = [
    pytest.param("Users", USER, {"op": "replace", "path": "favouriteColour", "value": "red"},
                 InvalidValue, "invalidPath", BAD, id="unknown-attribute"),
    pytest.param("Users", USER, {"op": "replace", "path": "name.nick", "value": "x"},
                 InvalidValue, "invalidPath", BAD, id="unknown-sub-attribute"),
    pytest.param("Users", USER, {"op": "replace", "path": "urn:example:ext:1.0:User:employeeNumber", "value": "x"},
                 InvalidValue, "invalidPath", BAD, id="unknown-urn"),
    pytest.param("Users", USER, {"op": "replace", "path": 'displayName[value eq "x"]', "value": "x"},
                 InvalidValue, "invalidPath", BAD, id="filter-on-single-valued"),
    pytest.param("Users", USER, {"op": "replace", "path": "active.value", "value": "x"},
                 InvalidValue, "invalidPath", BAD, id="sub-of-simple"),
    pytest.param("Users", USER, {"op": "replace", "path": 'emails[type eq "other"].value', "value": "x"},
                 InvalidValue, "noTarget", BAD, id="replace-filter-no-match"),
    pytest.param("Users", USER, {"op": "add", "path": 'emails[type eq "other"].display', "value": "x"},
                 InvalidValue, "noTarget", BAD, id="add-filter-no-match"),
    pytest.param("Users", USER, {"op": "replace", "path": "active", "value": "maybe"},
                 InvalidAttribute, "invalidValue", "The 'active' attribute was invalid.", id="wrong-type-boolean"),
    pytest.param("Users", USER, {"op": "replace", "value": {"active": "maybe"}},
                 InvalidAttribute, "invalidValue", "The 'active' attribute was invalid.", id="wrong-type-pathless"),
    pytest.param("Users", USER, {"op": "add", "path": "emails", "value": {"value": "x@y.org"}},
                 InvalidAttribute, "invalidValue", "The 'emails' attribute was invalid.", id="emails-not-a-list"),
    pytest.param("Users", USER, {"op": "replace", "path": "name.givenName", "value": 5},
                 InvalidAttribute, "invalidValue", "The 'name.givenName' attribute was invalid.", id="wrong-type-sub"),
    pytest.param("Users", USER, {"op": "replace", "path": f"{ENTERPRISE_USER}:employeeNumber", "value": 5},
                 InvalidAttribute, "invalidValue", "The 'employeeNumber' attribute was invalid.", id="wrong-type-ext"),
    pytest.param("Users", USER, {"op": "replace", "path": "emails",
                                 "value": [WORK_EMAIL, {**HOME_EMAIL, "primary": True}]},
                 InvalidAttribute, "invalidValue", "The 'emails' attribute was invalid.", id="two-primaries"),
    pytest.param("Users", USER, {"op": "replace", "path": "userName", "value": "babs"},
                 Immutable, "mutability", "Attribute 'userName' is immutable and cannot be changed.",
                 id="immutable-username-replace"),
    pytest.param("Users", USER, {"op": "replace", "value": {"userName": "babs"}},
                 Immutable, "mutability", "Attribute 'userName' is immutable and cannot be changed.",
                 id="immutable-username-pathless"),
    pytest.param("Users", USER, {"op": "remove", "path": "userName"},
                 Immutable, "mutability", "Attribute 'userName' is immutable and cannot be changed.",
                 id="immutable-username-remove"),
    pytest.param("Users", FEDERATED, {"op": "replace", "path": f"{LINKED_OBJECT}:source", "value": "Okta"},
                 Immutable, "mutability", "Attribute 'source' is immutable and cannot be changed.",
                 id="immutable-linked-object-source"),
    pytest.param("Users", FEDERATED, {"op": "remove", "path": LINKED_OBJECT},
                 Immutable, "mutability", "Attribute 'source' is immutable and cannot be changed.",
                 id="immutable-extension-removed"),
    pytest.param("Groups", GROUP, {"op": "replace", "value": {"id": "someone-else", "displayName": "x"}},
                 Immutable, "mutability", "Attribute 'id' is immutable and cannot be changed.", id="foreign-id"),
    pytest.param("Groups", GROUP, {"op": "remove", "path": "displayName"},
                 RequiredAttribute, "mutability", "Attribute 'displayName' is required.", id="required-removed"),
]


@pytest.mark.parametrize(("endpoint", "doc", "operation", "error", "scim_type", "detail"), REFUSED)
def test_apply_refused(endpoint: str, doc: dict[str, Any], operation: dict[str, Any], error: type[ScimError],
                       scim_type: str, detail: str) -> None:
    """An operation the schema or the resource refuses raises the exact catalogue error."""
    with pytest.raises(error) as caught:
        patch(endpoint, doc, [operation])
    assert type(caught.value) is error
    assert (caught.value.scim_type, caught.value.detail) == (scim_type, detail)


MALFORMED = [
    pytest.param({"Operations": [{"op": "add", "path": "nickName", "value": "x"}]}, "invalidSyntax", id="no-schemas"),
    pytest.param({"schemas": [CORE_USER], "Operations": [{"op": "add", "path": "nickName", "value": "x"}]},
                 "invalidSyntax", id="schemas-without-patchop"),
    pytest.param({"schemas": PATCH_OP, "Operations": [{"op": "add", "path": "nickName", "value": "x"}]},
                 "invalidSyntax", id="schemas-not-a-list"),
    pytest.param({"schemas": [PATCH_OP]}, "invalidSyntax", id="no-operations"),
    pytest.param({"schemas": [PATCH_OP], "Operations": {"op": "add"}}, "invalidSyntax", id="operations-not-a-list"),
    pytest.param(patch_body(), "invalidSyntax", id="operations-empty"),
    pytest.param(patch_body("add"), "invalidSyntax", id="operation-not-an-object"),  # type: ignore[arg-type]
    pytest.param(patch_body({"path": "nickName", "value": "x"}), "invalidSyntax", id="op-missing"),
    pytest.param(patch_body({"op": "copy", "path": "nickName", "value": "x"}), "invalidSyntax", id="op-unknown"),
    pytest.param(patch_body({"op": 1, "path": "nickName", "value": "x"}), "invalidSyntax", id="op-not-a-string"),
    pytest.param(patch_body({"op": "add", "path": "nickName"}), "invalidSyntax", id="add-without-value"),
    pytest.param(patch_body({"op": "Replace", "path": "nickName"}), "invalidSyntax", id="replace-without-value"),
    pytest.param(patch_body({"op": "remove"}), "noTarget", id="remove-without-path"),
    pytest.param(patch_body({"op": "remove", "path": "emails[type eq"}), "invalidPath", id="path-does-not-parse"),
    pytest.param(patch_body({"op": "remove", "path": 5}), "invalidPath", id="path-not-a-string"),
    pytest.param(patch_body({"op": "add", "value": ["x"]}), "invalidValue", id="pathless-value-not-an-object"),
]


@pytest.mark.parametrize(("request_body", "scim_type"), MALFORMED)
def test_parse_refused(request_body: dict[str, Any], scim_type: str) -> None:
    """A body that is not a valid PatchOp raises InvalidValue with the scimType RFC 7644 §3.5.2 names."""
    with pytest.raises(InvalidValue) as caught:
        parse_operations(request_body)
    assert (caught.value.scim_type, caught.value.detail) == (scim_type, BAD)


def test_parse_shapes() -> None:
    """Ops are lower-cased, paths parsed, values kept as given and the raw path kept."""
    ops = parse_operations(patch_body(
        {"op": "Replace", "path": 'emails[type eq "work"].value', "value": "x"},
        {"op": "remove", "path": "name.givenName"},
        {"op": "ADD", "value": {"nickName": "B"}},
    ))
    assert [(o.op, o.raw_path, o.value) for o in ops] == [
        ("replace", 'emails[type eq "work"].value', "x"), ("remove", "name.givenName", None),
        ("add", None, {"nickName": "B"}),
    ]
    assert all(isinstance(o, Operation) for o in ops)
    first, second = ops[0].path, ops[1].path
    assert first is not None and (first.attr.name, first.sub, first.filter is not None) == ("emails", "value", True)
    assert second is not None and (second.attr.name, second.attr.sub) == ("name", "givenName")
    assert ops[2].path is None


def test_foreign_id_ignored_when_not_strict() -> None:
    """Under the rfc profile (strict_read_only=False) a foreign id is ignored like every read-only value."""
    operations = [{"op": "replace", "value": {"id": "someone-else", "displayName": "Guides"}}]
    assert patch("Groups", GROUP, operations, strict_read_only=False) == but(GROUP, displayName="Guides")


def test_atomic() -> None:
    """When a later operation fails, the earlier ones leave no trace and the input document is unchanged."""
    doc = copy.deepcopy(USER)
    operations = [
        {"op": "replace", "path": "displayName", "value": "Changed"},
        {"op": "remove", "path": "emails"},
        {"op": "replace", "path": "active", "value": "maybe"},
    ]
    with pytest.raises(InvalidAttribute):
        patch("Users", doc, operations)
    assert doc == USER
    assert patch("Users", doc, operations[:2]) == but(USER, "emails", displayName="Changed")
    assert doc == USER
