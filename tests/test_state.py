"""State import/export, reset and fixtures through HTTP, for both stores (docs/behaviour.md §12, §13)."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from mockscim.app import load_fixture
from mockscim.core import StateError
from mockscim.kinds.templates import shipped_templates
from mockscim.seed.generate import generate_state
from mockscim.util import jsontext
from tests.helpers import AUTH, SERVICE_ID, Make, one_line, patch, run

STATE = "/_mockscim/state"
KINDS = ["serviceUsers", "Users", "Groups", "Containers", "ContainerPermissions", "PrivilegedData",
         "PrivilegedDataPermissions", "SecretTemplates"]


@pytest.fixture
def open_client(make_client: Make, tmp_path: Path) -> Iterator[Make]:
    """Build clients; the durable stores they open are closed (compacted) at the end of the test."""
    made: list[TestClient] = []

    def make(**settings: Any) -> TestClient:
        c = make_client(**settings)
        made.append(c)
        return c

    yield make
    for c in made:
        c.app.state.runtime.core.store.close()  # type: ignore[attr-defined]


@pytest.fixture(params=["memory", "durable"])
def store_setting(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return "memory" if request.param == "memory" else str(tmp_path / "store.json")


@pytest.fixture
def api(open_client: Make, store_setting: str) -> TestClient:
    return open_client(store=store_setting)


def get_state(client: TestClient) -> dict[str, Any]:
    r = client.get(STATE, headers=AUTH)
    assert r.status_code == 200
    return dict(r.json())


def put_state(client: TestClient, state: Any) -> Any:
    return client.put(STATE, json=state, headers=AUTH)


def without_meta(state: dict[str, Any]) -> dict[str, Any]:
    """A state minus what a reload stamps afresh: ``meta`` times and salted password hashes."""
    return {k: [{a: v for a, v in d.items() if a not in ("meta", "passwordHash")} for d in docs]
            for k, docs in state.items()}


def rich_state() -> dict[str, Any]:
    """The default fixture plus one more of every resource type, a password user and a group-held permission."""
    state: dict[str, Any] = copy.deepcopy(load_fixture("default"))
    state["Users"].append({"id": "u-new", "userName": "new@example.com", "password": "Secret-123!",
                           "name": {"givenName": "New", "familyName": "User"}, "active": False,
                           "meta": {"created": "2020-01-02T03:04:05.000Z", "lastModified": "2021-01-01T00:00:00.000Z",
                                    "version": 'W/"7"'}})
    state["Groups"].append({"id": "g-new", "displayName": "New Group", "members": [{"value": "u-new"}]})
    state["Containers"].append({"id": "100", "name": "Leaf", "parent": {"value": "1"},
                                "owner": {"value": SERVICE_ID}})
    state["ContainerPermissions"].append({"id": "100", "container": {"value": "100"}, "group": {"value": "g-new"},
                                          "rights": ["View"]})
    state["PrivilegedData"].append({"id": "100", "name": "leaf-secret", "type": "Password",
                                    "container": {"value": "100"}, "active": True,
                                    "fields": {"username": "u", "password": "p", "host": "h"}})
    state["PrivilegedDataPermissions"].append({"id": "100", "privilegedData": {"value": "100"},
                                               "user": {"value": "u-new"}, "rights": ["Owner"]})
    return state


def test_state_round_trip_every_resource_type(api: TestClient) -> None:
    r = put_state(api, rich_state())
    assert r.status_code == 200, r.text
    exported = get_state(api)
    assert list(exported) == KINDS
    for kind, docs in rich_state().items():
        assert [str(d.get("id", d.get("userName"))) for d in docs] == \
               [str(d.get("id", d.get("userName"))) for d in exported[kind]], kind  # order and ids kept
    new = next(u for u in exported["Users"] if u["id"] == "u-new")
    assert "password" not in new and new["passwordHash"]  # docs/behaviour.md §13: exported as a hash, never clear text
    assert new["meta"]["created"] == "2020-01-02T03:04:05.000Z" and new["meta"]["version"] == 'W/"7"'
    secret = next(s for s in exported["PrivilegedData"] if s["id"] == "100")
    assert secret["fields"] == {"username": "u", "password": "p", "host": "h"}
    assert put_state(api, exported).status_code == 200  # an export loads back as it is
    assert get_state(api) == exported
    served = {"Users": "u-new", "Groups": "g-new", "Containers": "100", "ContainerPermissions": "100",
              "PrivilegedData": "100", "PrivilegedDataPermissions": "100"}
    for kind, id_ in served.items():  # what was imported is what the API serves
        r = api.get(f"/scim/v2/{kind}/{id_}", headers=AUTH)
        assert r.status_code == 200 and r.json()["id"] == id_, (kind, r.text)


def test_durable_state_survives_a_restart(open_client: Make, tmp_path: Path) -> None:
    path = str(tmp_path / "store.json")
    first = open_client(store=path)
    assert put_state(first, rich_state()).status_code == 200
    r = first.post("/scim/v2/Users", json={"userName": "after@example.com"}, headers=AUTH)
    assert r.status_code == 201
    before = get_state(first)
    first.app.state.runtime.core.store.close()  # type: ignore[attr-defined]
    second = open_client(store=path, fixture="empty")  # the file wins over --fixture (docs/behaviour.md §13)
    assert get_state(second) == before
    assert second.post("/_mockscim/reset", headers=AUTH).status_code == 200
    assert [u["userName"] for u in get_state(second)["Users"]] == ["scim-service@mockscim.test"]  # reset → --fixture
    second.app.state.runtime.core.store.close()  # type: ignore[attr-defined]
    third = open_client(store=path)
    assert [u["userName"] for u in get_state(third)["Users"]] == ["scim-service@mockscim.test"]


def invalid(state: dict[str, Any], kind: str, index: int, **change: Any) -> dict[str, Any]:
    bad = copy.deepcopy(state)
    bad[kind][index].update(change)
    return bad


FIX = load_fixture("default")
INVALID: list[tuple[str, Any, str]] = [
    ("dangling member", invalid(FIX, "Groups", 0, members=[{"value": "nobody"}]),
     "Groups[0] (id 'e9e30dba-f08f-4109-8486-d5c6a331660a'): 'members' names no existing Users entry"),
    ("dangling parent", invalid(FIX, "Containers", 1, parent={"value": "999"}),
     "Containers[1] (id '2'): 'parent' names no existing Containers entry"),
    ("dangling secret", invalid(FIX, "PrivilegedDataPermissions", 0, privilegedData={"value": "999"}),
     "PrivilegedDataPermissions[0] (id '1'): 'privilegedData' names no existing PrivilegedData entry"),
    ("container cycle", invalid(FIX, "Containers", 0, parent={"value": "3"}), "'parent' forms a cycle"),
    ("duplicate userName", invalid(FIX, "Users", 2, userName="BJENSEN@example.com"),
     "Users[2] (id 'c5a2e7d1-1f0b-4c57-8e2a-5b7f1d3a9e10'): duplicate userName"),
    ("duplicate id", invalid(FIX, "Containers", 1, id="1"), "Containers[1] (id '1'): duplicate id"),
    ("unknown top-level key", {**FIX, "Widgets": []}, "unknown key 'Widgets'"),
    ("unknown attribute", invalid(FIX, "Users", 1, shoeSize=42),
     "Users[1] (id '2819c223-7f76-453a-919d-413861904646'): unknown key 'shoeSize'"),
    ("bad type", invalid(FIX, "Users", 1, active="yes"),
     "Users[1] (id '2819c223-7f76-453a-919d-413861904646'): The 'active' attribute was invalid."),
    ("list expected", {**FIX, "Groups": {}}, "Groups: must be a list"),
    ("not an object", [], "a state is a JSON object"),
    ("secret fields", invalid(FIX, "PrivilegedData", 0, fields={"port": 22}), "'fields' must map names to strings"),
    ("orphan service user", {**FIX, "serviceUsers": [{"userName": "ghost", "clientSecret": "x"}]},
     "serviceUsers[0]: no User has userName 'ghost'"),
    ("blank userName", invalid(FIX, "Users", 2, userName="   "),
     "Users[2] (id 'c5a2e7d1-1f0b-4c57-8e2a-5b7f1d3a9e10'): 'userName' is required"),
    ("blank container name", invalid(FIX, "Containers", 4, name="\t"), "Containers[4] (id '5'): 'name' is required"),
]


@pytest.mark.parametrize(("state", "message"), [(s, m) for _, s, m in INVALID], ids=[i for i, _, _ in INVALID])
def test_invalid_state_is_refused_naming_the_entry(api: TestClient, state: Any, message: str) -> None:
    api.post("/scim/v2/Users", json={"userName": "keep@example.com"}, headers=AUTH)
    before = get_state(api)
    r = put_state(api, state)
    assert r.status_code == 400
    assert list(r.json()) == ["error"] and message in r.json()["error"], r.json()
    assert get_state(api) == before  # the running state is unchanged


def test_malformed_json_is_refused(api: TestClient) -> None:
    before = get_state(api)
    r = api.put(STATE, content=b'{"Users": [', headers={**AUTH, "Content-Type": "application/json"})
    assert r.status_code == 400 and "malformed JSON" in r.json()["error"]
    assert get_state(api) == before


def test_reset_goes_back_to_the_fixture(api: TestClient) -> None:
    start = get_state(api)
    api.post("/scim/v2/Users", json={"userName": "temp@example.com"}, headers=AUTH)
    api.delete("/scim/v2/Users/2819c223-7f76-453a-919d-413861904646", headers=AUTH)
    assert put_state(api, {}).status_code == 200
    r = api.post("/_mockscim/reset", headers=AUTH)
    assert r.status_code == 200
    assert without_meta(get_state(api)) == without_meta(start)


def test_fixture_file(open_client: Make, store_setting: str, tmp_path: Path) -> None:
    mine = {"serviceUsers": [{"userName": "svc@corp.test", "clientSecret": "s"}],
            "Users": [{"id": "svc", "userName": "svc@corp.test"}, {"id": "x", "userName": "x@corp.test"}]}
    fixture = tmp_path / "mine.json"
    fixture.write_text(json.dumps(mine))
    c = open_client(store=store_setting, fixture=str(fixture))
    assert [u["userName"] for u in get_state(c)["Users"]] == ["svc@corp.test", "x@corp.test"]
    assert get_state(c)["Groups"] == []  # lists absent from a state file are empty
    put_state(c, load_fixture("default"))
    c.post("/_mockscim/reset", headers=AUTH)
    assert [u["id"] for u in get_state(c)["Users"]] == ["svc", "x"]


def test_seed_output_loads_and_is_served(api: TestClient) -> None:
    seeded = generate_state(users=50, groups=5, containers=8, secrets=10, seed=3)
    r = put_state(api, seeded)
    assert r.status_code == 200, r.text
    state = get_state(api)
    # a state without SecretTemplates gets the five shipped ones (docs/behaviour.md §13)
    assert {k: len(v) for k, v in state.items()} == {"SecretTemplates": 5, **{k: len(v) for k, v in seeded.items()}}
    listed = api.get("/scim/v2/Users?count=1", headers=AUTH).json()
    assert listed["totalResults"] == 51
    someone = seeded["Users"][7]
    found = api.get("/scim/v2/Users", params={"filter": f'userName eq "{someone["userName"].upper()}"'},
                    headers=AUTH).json()
    assert [u["id"] for u in found["Resources"]] == [someone["id"]]
    assert api.get("/scim/v2/Groups", headers=AUTH).json()["totalResults"] == 5


@pytest.mark.parametrize("name", ["default", "empty"])
def test_shipped_fixtures_load(make_client: Make, name: str) -> None:
    c = make_client(fixture=name)
    state = get_state(c)
    assert state["serviceUsers"] == [{"userName": "scim-service@mockscim.test", "clientSecret": "mockscim-secret"}]
    assert put_state(c, load_fixture(name)).status_code == 200


def test_api_writes_survive_a_restart(open_client: Make, tmp_path: Path) -> None:
    """docs/behaviour.md §9, §13: a secret written through the Secret Server API (template, file field, flags) is
    in the durable store's log and loads back after a restart, replayed and validated like an import."""
    path = str(tmp_path / "store.json")
    first = open_client(store=path)
    r = first.post("/api/v1/secrets/", headers=AUTH, json={
        "Name": "kept", "FolderID": 5, "SecretTemplateID": 6007, "CheckOutEnabled": True,
        "Items": [{"FieldID": 600701, "ItemValue": "m"}, {"FieldID": 600702, "ItemValue": "u"}]})
    assert r.status_code == 200, r.text
    sid = r.json()["id"]
    r = first.put(f"/api/v1/secrets/{sid}/fields/public-key", headers=AUTH, files={"file": ("k.pub", b"ssh-rsa K")})
    assert r.status_code == 200
    assert first.delete("/api/v1/secrets/13", headers=AUTH).status_code == 200
    before = get_state(first)
    first.app.state.runtime.core.store.close()  # type: ignore[attr-defined]
    second = open_client(store=path)
    assert get_state(second) == before
    kept = next(s for s in before["PrivilegedData"] if s["id"] == str(sid))
    assert kept["checkOutEnabled"] is True and kept["fields"]["public-key"]["filename"] == "k.pub"
    assert next(s for s in before["PrivilegedData"] if s["id"] == "13")["active"] is False


FILE_INVALID = [(i, st, m) for i, st, m in INVALID if isinstance(st, dict)] + [
    ("not an object", [], "a state is a JSON object"),
    ("kinds out of order, one invalid", {"Groups": [{"displayName": "g", "members": [{"value": "nobody"}]}],
                                         "Users": [{"id": "u", "userName": "u@example.com"}]},
     "Groups[0] (id"),
]


@pytest.mark.parametrize(("state", "message"), [(s, m) for _, s, m in FILE_INVALID],
                         ids=[i for i, _, _ in FILE_INVALID])
def test_an_invalid_fixture_file_is_refused_naming_the_entry(make_client: Make, tmp_path: Path, state: Any,
                                                             message: str) -> None:
    """A fixture file is read entry by entry as it is parsed; its errors are the ones a state PUT gets."""
    fixture = tmp_path / "bad.json"
    fixture.write_text(json.dumps(state, indent=1))
    with pytest.raises(StateError, match=re.escape(message)):
        make_client(fixture=str(fixture))


def test_a_fixture_that_is_not_json_after_a_bad_entry_names_the_json_error(tmp_path: Path) -> None:
    """The first entry is refused, but the text breaks off later: the fixture is reported as the JSON it is not,
    as when it was parsed whole before being read."""
    fixture = tmp_path / "cut.json"
    fixture.write_text('{"Users": [{"id": "a"}],\n "Groups": [')
    r = run("serve", "--port", "0", "--fixture", str(fixture))
    assert r.returncode == 2
    assert one_line(r) == ("mockscim serve: cannot start: the fixture is not usable JSON: malformed JSON: Expecting "
                           "value: line 2 column 13 (char 37)")


SEEDED = generate_state(users=700, groups=6, containers=8, secrets=12, seed=5)
SEEDED["Users"][3]["displayName"] = "Zoë 😀"  # a surrogate pair where ensure_ascii escapes it
# Users are read a few hundred at a time, plain batches at C speed: the second batch holds one of each entry that
# sends its batch the long way (and the third a user the store indexes one by one).
SEEDED["Users"][300].update(meta={"created": "2020-01-01T00:00:00Z", "version": 'W/"7"'})
SEEDED["Users"][301].update(emails=[{"value": "Two@Example.com", "type": "work", "primary": True},
                                    {"value": "two@example.com", "type": "home"}])
SEEDED["Users"][302].update(userName="MiXeD@Example.com", active="True")
SEEDED["Users"][303].pop("externalId")
SEEDED["Users"][304].update(emails=[{"value": SEEDED["Users"][305]["userName"].upper(), "type": "work"}])
SEEDED["Users"].insert(600, {"id": "12345", "userName": "digits@example.com", "externalId": "12345"})
# Templates come last in a state file: a secret naming a template of the file is resolved when the reading ends.
SEEDED["SecretTemplates"] = [*shipped_templates(), {"id": 9001, "name": "Door Code", "fields": [
    {"secretTemplateFieldId": 900101, "fieldSlugName": "code"}]}]
SEEDED["PrivilegedData"][0].update(type="Door Code", fields={"code": "1234"})
LAYOUTS = {
    "one line": lambda: json.dumps(SEEDED, ensure_ascii=False).encode(),
    "one entry per line": lambda: ("{\n" + ",\n".join(
        f" {json.dumps(kind)}: [\n  " + ",\n  ".join(json.dumps(d, ensure_ascii=False) for d in docs) + "\n ]"
        for kind, docs in SEEDED.items()) + "\n}\n").encode(),
    "indented": lambda: json.dumps(SEEDED, ensure_ascii=False, indent="\t").encode(),
    "kinds reordered": lambda: json.dumps(dict(reversed(SEEDED.items())), ensure_ascii=False).encode(),
    "byte-order mark": lambda: b"\xef\xbb\xbf" + json.dumps(SEEDED, ensure_ascii=False).encode(),
    "surrogate escapes": lambda: json.dumps(SEEDED, ensure_ascii=True).encode(),
}


@pytest.mark.parametrize(("layout", "whole"), [
    ("one line", False), ("one entry per line", False), ("indented", False), ("kinds reordered", True),
    ("byte-order mark", True), ("surrogate escapes", True)])
def test_a_fixture_loads_the_same_however_its_text_is_laid_out(make_client: Make, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch, layout: str,
                                                                whole: bool) -> None:
    """A plain fixture is read entry by entry and never parsed whole (a 1M-user text would take ~6 GB); one the
    entry reader leaves alone (kinds out of their order, a byte-order mark, surrogate escapes) is parsed whole.
    Either way the server holds what the same state PUT gives."""
    fixture = tmp_path / "seeded.json"
    fixture.write_bytes(LAYOUTS[layout]())
    parsed_whole: list[int] = []
    loads = jsontext.loads
    monkeypatch.setattr(jsontext, "loads", lambda raw: parsed_whole.append(len(raw)) or loads(raw))
    c = make_client(fixture=str(fixture))
    monkeypatch.undo()
    assert bool(parsed_whole) == whole
    served = get_state(c)
    assert next(u for u in served["Users"] if u["id"] == SEEDED["Users"][3]["id"])["displayName"] == "Zoë 😀"
    door = next(d for d in served["PrivilegedData"] if d["id"] == SEEDED["PrivilegedData"][0]["id"])
    assert (door["secretTemplateId"], door["type"]) == (9001, "Door Code")
    found = {q: _ids(c, q) for q in FILTERS}
    assert put_state(c, SEEDED).status_code == 200
    again = get_state(c)
    assert without_meta(again) == without_meta(served)
    assert [list(d) for docs in again.values() for d in docs] == [list(d) for docs in served.values() for d in docs]
    assert {q: _ids(c, q) for q in FILTERS} == found  # the indexes too
    assert found['userName eq "mixed@example.com"'] == [U[302]["id"]] and found['id eq "12345"'] == ["12345"]


def _ids(c: TestClient, query: str) -> list[str]:
    r = c.get("/scim/v2/Users", params={"filter": query, "count": 5}, headers=AUTH)
    assert r.status_code == 200, r.text
    return [u["id"] for u in r.json()["Resources"]]


U = SEEDED["Users"]
FILTERS = [f'userName eq "{U[k]["userName"].upper()}"' for k in (1, 299, 305, 450, 699)] + [
    *(f'emails.value eq "{U[k]["emails"][0]["value"].upper()}"' for k in (10, 305, 650)),
    'emails.value eq "two@example.com"', 'userName eq "mixed@example.com"',
    f'externalId eq "{U[500]["externalId"]}"', 'externalId eq "12345"', 'id eq "12345"']


def test_reset_after_writes_goes_back_to_the_fixture_every_time(api: TestClient) -> None:
    """A reset swaps in the fixture as loaded; the writes after it change copies, never the kept fixture: the
    second round of the same writes resets to the same start, values and index lookups alike."""
    start = get_state(api)
    renamed, deleted = start["Users"][1], start["Users"][2]
    group = start["Groups"][0]
    for round in range(2):
        assert patch(api, f"/scim/v2/Users/{renamed['id']}", {"op": "replace", "path": "emails", "value": [
            {"value": f"renamed{round}@example.com", "type": "work"}]}).status_code == 200
        assert api.post("/scim/v2/Users", json={"userName": f"new{round}@example.com"},
                        headers=AUTH).status_code == 201
        assert api.delete(f"/scim/v2/Users/{deleted['id']}", headers=AUTH).status_code == 204
        assert patch(api, f"/scim/v2/Groups/{group['id']}",
                     {"op": "remove", "path": f'members[value eq "{group["members"][0]["value"]}"]'}).status_code in (
                         200, 204)
        assert api.post("/_mockscim/reset", headers=AUTH).status_code == 200
        assert without_meta(get_state(api)) == without_meta(start)
        assert _users_where(api, f'emails.value eq "{renamed["emails"][0]["value"]}"') == [renamed["id"]]
        assert _users_where(api, f'emails.value eq "renamed{round}@example.com"') == []
        assert _users_where(api, f'userName eq "new{round}@example.com"') == []
        assert _users_where(api, f'userName eq "{deleted["userName"]}"') == [deleted["id"]]


def _users_where(c: TestClient, query: str) -> list[str]:
    r = c.get("/scim/v2/Users", params={"filter": query}, headers=AUTH)
    assert r.status_code == 200, r.text
    return [u["id"] for u in r.json()["Resources"]]
