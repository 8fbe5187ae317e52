"""The PATCH engine's per-operation invariants, kept while the engine copies on write (RFC 7644 §3.5.2)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from mockscim.scim.errors import Immutable, InvalidValue, ScimError
from mockscim.scim.patch import PATCH_OP, apply_operations, parse_operations
from mockscim.scim.schema import ALL_ENDPOINTS, CORE_USER, ENTERPRISE_USER, LINKED_OBJECT, build_resource_types
from mockscim.scim.validate import clean_resource

USERS = build_resource_types(
    endpoints=ALL_ENDPOINTS, immutable=["Users.userName"], unique=["Users.userName"], linked_object=True
)["Users"]
USER_ID = "2819c223-7f76-453a-919d-413861904646"  # RFC 7644 §3.5.2 example id
STORED: dict[str, Any] = {
    "id": USER_ID,
    "schemas": [CORE_USER, ENTERPRISE_USER, LINKED_OBJECT],
    "userName": "bjensen",
    "name": {"givenName": "Barbara", "familyName": "Jensen"},
    "emails": [{"value": "bjensen@example.com", "type": "work", "primary": True}],
    ENTERPRISE_USER: {"employeeNumber": "1", "manager": {"value": "m1"}},
    LINKED_OBJECT: {"source": "ActiveDirectory", "nativeIdentifier": "S-1-5"},
    "meta": {"resourceType": "User", "version": 'W/"1"'},
}


def patch(doc: dict[str, Any], *ops: dict[str, Any]) -> dict[str, Any]:
    body = {"schemas": [PATCH_OP], "Operations": list(ops)}
    return apply_operations(USERS, doc, parse_operations(body), resource_id=USER_ID)


def containers(value: Any) -> list[int]:
    """The ids of every dict and list inside ``value``."""
    if isinstance(value, dict):
        return [id(value), *(i for v in value.values() for i in containers(v))]
    if isinstance(value, list):
        return [id(value), *(i for v in value for i in containers(v))]
    return []


@pytest.mark.parametrize("ops", [
    [{"op": "replace", "path": "displayName", "value": "Babs"}],
    [{"op": "Replace", "value": {"displayName": "Babs", "name.givenName": "Babs",
                                 f"{ENTERPRISE_USER}:department": "Tour Operations", "active": "True"}}],
    [{"op": "remove", "path": f"{ENTERPRISE_USER}:manager"}, {"op": "add", "path": "emails",
                                                               "value": [{"value": "b@x.org", "primary": True}]}],
], ids=["path", "entra-pathless", "two-ops"])
def test_stored_document_is_never_changed_nor_shared(ops: list[dict[str, Any]]) -> None:
    stored = copy.deepcopy(STORED)
    new = patch(stored, *ops)
    assert stored == STORED
    assert not set(containers(new)) & set(containers(stored))  # the result is a copy all the way down


def test_a_later_operation_sees_the_pruned_document() -> None:
    # RFC 7643 §2.5: the element emptied by op 1 is gone before op 2; "ne" matches an absent value (RFC 7644
    # §3.4.2.2), so op 2 would hit an empty element if pruning waited until the end.
    with pytest.raises(InvalidValue) as err:
        patch({**STORED, "emails": [{"value": "a"}]},
              {"op": "remove", "path": "emails.value"},
              {"op": "replace", "path": 'emails[type ne "x"].display', "value": "d"})
    assert err.value.scim_type == "noTarget"


def test_an_immutable_changed_then_restored_is_still_an_error() -> None:
    # RFC 7644 §3.5.2: each operation is checked, not only the end result.
    with pytest.raises(Immutable):
        patch(STORED, {"op": "replace", "path": "userName", "value": "x"},
              {"op": "replace", "path": "userName", "value": "bjensen"})


def test_the_first_failing_operation_names_the_error() -> None:
    with pytest.raises(ScimError) as err:
        patch(STORED, {"op": "replace", "path": f"{LINKED_OBJECT}:source", "value": "LDAP"},
              {"op": "replace", "path": 'emails[type eq "home"].value', "value": "b"})
    assert isinstance(err.value, Immutable)


def test_stored_empty_values_are_pruned_by_any_patch() -> None:
    # A POST may store "name": {} (clean_resource keeps an empty complex value); the next PATCH drops it.
    new = patch({**STORED, "name": {}, ENTERPRISE_USER: {"costCenter": None}},
                {"op": "replace", "path": "title", "value": "Tour Guide"})
    assert "name" not in new and ENTERPRISE_USER not in new and new["title"] == "Tour Guide"
    assert new["meta"] == STORED["meta"]


def test_same_immutable_value_keeps_the_stored_spelling() -> None:
    new = patch(STORED, {"op": "replace", "path": "userName", "value": "BJENSEN"},
                {"op": "add", "path": "title", "value": "t"})
    assert new["userName"] == "bjensen"


def test_clean_resource_fast_paths_keep_coercion() -> None:
    body = {
        "schemas": [CORE_USER], "userName": "bjensen", "active": "False", "title": None, "emails": [],
        "name": {"givenName": "Barbara", "middleName": None, "bogus": 1},
        ENTERPRISE_USER: {"employeeNumber": "7", "department": None, "manager": {"value": "m1", "displayName": "x"}},
        CORE_USER: {"displayName": "Babs"},  # core attributes nested under the core URN
    }
    assert clean_resource(USERS, body) == {
        "userName": "bjensen", "active": False, "name": {"givenName": "Barbara"},
        ENTERPRISE_USER: {"employeeNumber": "7", "manager": {"value": "m1", "displayName": "x"}}, "displayName": "Babs",
    }
