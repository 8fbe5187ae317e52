"""The Secret Server rules without HTTP (docs/behaviour.md §9): tables of inputs and what the rules decide."""

from __future__ import annotations

from typing import Any

import pytest

from mockscim.app import load_fixture
from mockscim.auth.principal import Principal
from mockscim.core.state import normalise_state
from mockscim.kinds.templates import SHIPPED, field_by, template_by
from mockscim.scim.profile import load_profile
from mockscim.secretserver import rules
from mockscim.secretserver.models import Access
from mockscim.store import Put
from mockscim.store.memory import MemoryStore

SERVICE = Principal("scim-service@mockscim.test", "8a0b3f0e-5c1d-4e0a-9a57-000000000001")
BJENSEN = Principal("bjensen@example.com", "2819c223-7f76-453a-919d-413861904646")


@pytest.fixture(scope="module")
def store() -> MemoryStore:
    """The default fixture in a memory store (the rules only read it; the writes they plan are checked here)."""
    loaded = MemoryStore()
    loaded.load(normalise_state(load_fixture(None), load_profile("cloud"), now="2024-01-01T00:00:00.000Z"))
    return loaded


def access(store: MemoryStore, who: Principal = SERVICE) -> Access:
    return Access(store, who, ())


def body(**change: Any) -> dict[str, Any]:
    base = {"name": "n", "folderid": 5, "secrettemplateid": 2,
            "items": [{"slug": "username", "itemvalue": "u"}, {"fieldid": 204, "itemvalue": "p"}]}
    return {**base, **change}


@pytest.mark.parametrize(("change", "refusal", "message"), [
    ({}, None, ""),
    ({"folderid": 4}, rules.Denied, "Access Denied"),  # bjensen's folder
    ({"folderid": -1}, rules.Denied, "Access Denied"),  # nobody holds rights on the root
    ({"folderid": 404}, rules.Invalid, "Folder 404 not found."),
    ({"secrettemplateid": 0}, rules.Invalid, "Secret template 0 not found."),
    ({"secrettemplateid": None}, rules.Invalid, "secretTemplateId is required."),
    ({"items": [{"slug": "username", "itemvalue": "u"}]}, rules.Invalid,
     "The field 'Password' (password) is required."),
    ({"items": [{"fieldname": "Nope", "itemvalue": "u"}]}, rules.Invalid,
     "Field 'Nope' is not on the secret template 'Password'."),
    ({"siteid": "north"}, rules.Invalid, "siteId must be an integer."),
    ({"checkoutintervalminutes": "30", "requirescomment": True}, None, ""),
    ({"active": False, "id": 99, "checkedout": True}, None, ""),  # ignored
])
def test_create_secret(store: MemoryStore, change: dict[str, Any], refusal: type[rules.Refusal] | None,
                       message: str) -> None:
    if refusal is not None:
        with pytest.raises(refusal) as caught:
            rules.create_secret(store, access(store), body(**change))
        assert caught.value.message == message
        return
    changes = rules.create_secret(store, access(store), body(**change))
    secret, grant = changes
    assert isinstance(secret, Put) and isinstance(grant, Put)
    assert secret.doc["active"] is True and secret.doc["id"] != "99"
    assert secret.doc["fields"] == {"username": "u", "password": "p"} and secret.doc["secretTemplateId"] == 2
    assert secret.doc.get("checkOutIntervalMinutes") == (30 if "checkoutintervalminutes" in change else None)
    assert grant.doc["rights"] == ["Owner"] and grant.doc["user"] == {"value": SERVICE.user_id}


@pytest.mark.parametrize(("who", "sid", "write", "refusal"), [
    (SERVICE, "15", "update", None),
    (SERVICE, "15", "delete", None),
    (BJENSEN, "15", "update", rules.Denied),  # no right on folder 5
    (BJENSEN, "14", "delete", None),  # Owner of payroll-api
    (SERVICE, "14", "update", rules.Denied),
    (SERVICE, "404", "delete", rules.Denied),  # missing looks like denied
])
def test_rights_on_writes(store: MemoryStore, who: Principal, sid: str, write: str,
                          refusal: type[rules.Refusal] | None) -> None:
    def run() -> Any:
        if write == "delete":
            return rules.deactivate_secret(store, access(store, who), sid)
        return rules.update_secret(store, access(store, who), sid, body(secrettemplateid=0))

    if refusal is not None:
        with pytest.raises(refusal):
            run()
    else:
        (change,) = run()
        assert isinstance(change, Put) and change.doc["id"] == sid


@pytest.mark.parametrize(("query", "expected"), [
    ([], {"skip": 0, "take": 10, "text": "", "exact": False, "sort": "name", "descending": False}),
    ([("paging.filter.searchText", "sa"), ("paging.take", "30"), ("", ""), ("paging.skip", "0")],
     {"text": "sa", "take": 30, "skip": 0}),
    ([("filter.searchText", "a"), ("paging.filter.searchText", "b")], {"text": "b"}),  # the last one wins
    ([("PAGING.FILTER.ISEXACTMATCH", "True")], {"exact": True}),  # names any case, as Secret Server binds them
    ([("paging.filter.searchField", "")], {"search_field": ""}),  # the Go SDK's empty field: no field
    ([("filter.searchFieldSlug", "username")], {"search_field": "username"}),
    ([("filter.folderId", "-1")], {"folder_id": None}),
    ([("filter.folderId", "7"), ("filter.includeSubFolders", "true")], {"folder_id": "7", "sub_folders": True}),
    ([("filter.secretTemplateId", "6007")], {"template_id": 6007}),
    ([("filter.extendedFields", "Machine"), ("paging.filter.extendedFields", "Notes")],
     {"extended": ("Machine", "Notes")}),
    ([("take", "5000")], {"take": 1000}),
    ([("sortBy[0].name", "Id"), ("sortBy[0].direction", "Desc")], {"sort": "id", "descending": True}),
    ([("autoComment", "x"), ("whatever", "1")], {"text": ""}),  # not filters: ignored
])
def test_secret_query(query: list[tuple[str, str]], expected: dict[str, Any]) -> None:
    parsed = rules.secret_query(query)
    assert {k: getattr(parsed, k) for k in expected} == expected


@pytest.mark.parametrize(("query", "message"), [
    ([("filter.scope", "All")], "The search parameter 'filter.scope' is not supported by mockscim."),
    ([("paging.filter.heartbeatStatus", "x")],
     "The search parameter 'paging.filter.heartbeatStatus' is not supported by mockscim."),
    ([("sortBy[2].name", "id")], "The search parameter 'sortBy[2].name' is not supported by mockscim."),
    ([("skip", "x")], "skip must be an integer."),
    ([("take", "-3")], "skip and take must be non-negative integers."),
    ([("filter.folderId", "1.5")], "filter.folderId must be an integer."),
])
def test_secret_query_refusals(query: list[tuple[str, str]], message: str) -> None:
    with pytest.raises(rules.Invalid) as caught:
        rules.secret_query(query)
    assert caught.value.message == message


SECRET = {"id": "7", "name": "db", "fields": {"username": "root", "private-key": {"filename": "k", "base64": ""}}}


@pytest.mark.parametrize(("query", "matches"), [
    ([("filter.searchText", "D")], True),
    ([("filter.searchText", "db"), ("filter.isExactMatch", "true")], True),
    ([("filter.searchText", "d"), ("filter.isExactMatch", "true")], False),
    ([("filter.searchText", "roo"), ("filter.searchField", "username")], True),
    ([("filter.searchText", "root"), ("filter.searchField", "Username"), ("filter.isExactMatch", "true")], True),
    ([("filter.searchText", "k"), ("filter.searchField", "private key"), ("filter.isExactMatch", "true")], True),
    ([("filter.searchText", "x"), ("filter.searchField", "nope")], False),
    ([("filter.secretTemplateId", "2")], False),
])
def test_a_query_matches(query: list[tuple[str, str]], matches: bool) -> None:
    assert rules.secret_query(query)._matches(SECRET) is matches


@pytest.mark.parametrize(("flags", "holder", "comment", "auto", "refusal", "holder_after"), [
    ({}, None, None, False, None, None),
    ({"requiresComment": True}, None, None, False, rules.CommentRequired, None),
    ({"requiresComment": True}, None, "  ", False, rules.CommentRequired, None),
    ({"requiresComment": True}, None, "why", False, None, None),
    ({"checkOutEnabled": True}, None, None, False, rules.CheckOutRequired, None),
    ({"checkOutEnabled": True}, None, None, True, None, "me"),
    ({"checkOutEnabled": True}, "me", None, False, None, "me"),
    ({"checkOutEnabled": True}, "other", None, True, rules.CheckedOutByOther, "other"),
    ({"checkOutEnabled": True, "requiresComment": True}, None, None, True, rules.CommentRequired, None),
])
def test_check_read(flags: dict[str, bool], holder: str | None, comment: str | None, auto: bool,
                    refusal: type[rules.Refusal] | None, holder_after: str | None) -> None:
    checked_out = {} if holder is None else {"7": holder}
    secret = {"id": "7", **flags}
    if refusal is None:
        rules.check_read(secret, "me", checked_out, comment=comment, auto_check_out=auto)
    else:
        with pytest.raises(refusal):
            rules.check_read(secret, "me", checked_out, comment=comment, auto_check_out=auto)
    assert checked_out.get("7") == holder_after


def test_insensitive_lowers_every_key() -> None:
    body = {"Name": "x", "Items": [{"FieldID": 1, "ItemValue": "V"}], "SshKeyArgs": {"GenerateSshKeys": True}}
    assert rules.insensitive(body) == {"name": "x", "items": [{"fieldid": 1, "itemvalue": "V"}],
                                       "sshkeyargs": {"generatesshkeys": True}}


def test_shipped_templates() -> None:
    ids = [f["secretTemplateFieldId"] for t in SHIPPED for f in t["fields"]]
    assert len(ids) == len(set(ids))  # docs/behaviour.md §9: field ids unique across templates
    assert [t["name"] for t in SHIPPED] == ["Password", "Web Password", "Unix Account (SSH)", "Windows Account",
                                            "SQL Server Account"]
    ssh = template_by(SHIPPED, name="unix account (ssh)")
    assert ssh is not None and template_by(SHIPPED, tid="6007") is ssh
    assert field_by(ssh, fid=600704) is field_by(ssh, slug="Private-Key") is field_by(ssh, slug="private key")
    assert field_by(ssh, fid=0, slug="") is None


def test_generate_password_has_every_class() -> None:
    for _ in range(50):
        p = rules.generate_password()
        assert len(p) == 20
        assert any(c.isupper() for c in p) and any(c.islower() for c in p) and any(c.isdigit() for c in p)
        assert any(not c.isalnum() for c in p)
