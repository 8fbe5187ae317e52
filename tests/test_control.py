"""Tests for the control plane (docs/behaviour.md §12): scenario, scenarios, journal, admin token, dashboard page."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from mockscim.app import create_app
from mockscim.control.dashboard import PAGE
from mockscim.scenarios import ScenarioError
from mockscim.settings import Settings
from tests.helpers import AUTH, SCIM, activate

SHIPPED = {"duplicate-usernames", "federated-user-edit", "flaky-secret-server", "ghost-writes", "internal-errors",
           "owner-revoked", "secret-server-outage", "slow-network", "throttled", "token-expiry"}
GOOD_YAML = """\
name: from-file
description: A file scenario.
rules:
  - match: {resource: Users}
    times: 2
    then: {status: 503}
"""


def active(client: TestClient) -> object:
    return client.get("/_mockscim/scenario").json()["active"]


# ------------------------------------------------------------------------------------------------------ scenario


def test_no_active_scenario(client: TestClient) -> None:
    """``GET /_mockscim/scenario`` → ``{"active": null}`` when none is active."""
    assert client.get("/_mockscim/scenario").json() == {"active": None}


def test_activate_a_shipped_scenario_by_name(client: TestClient) -> None:
    """``POST {"name"}`` activates a shipped scenario; GET shows it with each rule's budget, 0-based."""
    response = client.post("/_mockscim/scenario", json={"name": "ghost-writes"})
    assert response.status_code == 200
    shown = client.get("/_mockscim/scenario").json()["active"]
    assert response.json()["active"] == shown
    assert set(shown) == {"name", "description", "seed", "activatedAt", "rules"}
    assert (shown["name"], shown["seed"]) == ("ghost-writes", None)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", shown["activatedAt"])
    assert abs((datetime.fromisoformat(shown["activatedAt"].replace("Z", "+00:00")) - datetime.now(UTC))
               .total_seconds()) < 5
    assert shown["rules"][0] == {"index": 0, "fired": 0, "remaining": 1, "times": 1,
                                 "match": {"resource": "Users", "operation": "create"},
                                 "then": {"apply_then_fail": "internal_error"}}


def test_remaining_is_null_without_times(client: TestClient) -> None:
    """A rule without ``times`` reports ``remaining: null``."""
    shown = activate(client, {"match": {}, "then": {"latency": "1ms"}})
    assert shown["rules"] == [{"index": 0, "fired": 0, "remaining": None, "match": {}, "then": {"latency": "1ms"}}]


def test_activate_from_a_path(make_client: Callable[..., TestClient], tmp_path: Path) -> None:
    """``POST {"path"}`` loads a scenario file (from ``--scenario-dir``: docs/behaviour.md §12)."""
    client = make_client(scenario_dir=str(tmp_path))
    path = tmp_path / "mine.yaml"
    path.write_text(GOOD_YAML, encoding="utf-8")
    response = client.post("/_mockscim/scenario", json={"path": str(path)})
    assert response.json()["active"]["name"] == "from-file"
    assert client.get("/scim/v2/Users", headers=AUTH).status_code == 503


def test_activate_inline(client: TestClient) -> None:
    """An inline scenario object (with ``rules``) is activated as given."""
    shown = activate(client, {"match": {"resource": "Users"}, "then": {"status": 418}}, seed=5, name="inline-one")
    assert (shown["name"], shown["seed"]) == ("inline-one", 5)
    assert client.get("/scim/v2/Users", headers=AUTH).status_code == 418


@pytest.mark.parametrize(("body", "named"), [
    ({"name": "no-such-scenario"}, "no-such-scenario"),
    ({"name": "../etc/passwd"}, "../etc/passwd"),
    ({"path": "/does/not/exist.yaml"}, "/does/not/exist.yaml"),
    ({"rules": [{"match": {"colour": "red"}, "then": {"status": 500}}], "name": "x"}, "colour"),
    ({"name": "x", "rules": [{"match": {}, "then": {"latency": "fast"}}]}, "rules[0].then.latency"),
    ({"name": "x", "rules": [{"match": {}, "then": {"error": "no_such_key"}}]}, "no_such_key"),
    ({"unknown": 1}, "expected"),
    ([1, 2], "expected"),
])
def test_bad_activation_is_refused_and_keeps_the_active_one(client: TestClient, body: object, named: str) -> None:
    """Unknown names, missing paths and invalid scenarios → 400 ``{"error"}`` naming them; nothing changes."""
    client.post("/_mockscim/scenario", json={"name": "throttled"})
    response = client.post("/_mockscim/scenario", json=body)
    assert response.status_code == 400
    assert set(response.json()) == {"error"} and named in response.json()["error"]
    assert client.get("/_mockscim/scenario").json()["active"]["name"] == "throttled"


def test_invalid_inline_names_inline_rule_index_and_key(client: TestClient) -> None:
    """An invalid inline scenario's error names ``inline``, the rule index and the key."""
    body = {"name": "x", "rules": [{"match": {}, "then": {"status": 500}}, {"match": {}, "then": {}, "tiems": 2}]}
    error = client.post("/_mockscim/scenario", json=body).json()["error"]
    assert "inline" in error and "rules[1]" in error and "tiems" in error


def test_invalid_file_names_the_file(make_client: Callable[..., TestClient], tmp_path: Path) -> None:
    """An invalid scenario file's error names the file, the rule index and the key."""
    client = make_client(scenario_dir=str(tmp_path))
    path = tmp_path / "broken.yaml"
    path.write_text(GOOD_YAML.replace("times: 2", "times: 2\n    probabilty: 0.5"), encoding="utf-8")
    error = client.post("/_mockscim/scenario", json={"path": str(path)}).json()["error"]
    assert str(path) in error and "rules[0]" in error and "probabilty" in error


def test_malformed_json_is_a_clear_error(client: TestClient) -> None:
    """A body that is not JSON → 400 ``{"error"}``."""
    response = client.post("/_mockscim/scenario", content=b"{nope", headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and "JSON" in response.json()["error"]


def test_delete_is_idempotent(client: TestClient) -> None:
    """``DELETE /_mockscim/scenario`` → 204 whether or not one was active."""
    client.post("/_mockscim/scenario", json={"name": "throttled"})
    assert client.delete("/_mockscim/scenario").status_code == 204
    assert client.delete("/_mockscim/scenario").status_code == 204
    assert active(client) is None


def test_reset_keeps_the_scenario_and_the_journal(client: TestClient) -> None:
    """``POST /_mockscim/reset`` leaves the active scenario and the journal alone."""
    client.post("/_mockscim/scenario", json={"name": "throttled"})
    client.get("/scim/v2/Users", headers=AUTH)
    client.post("/_mockscim/reset")
    assert client.get("/_mockscim/scenario").json()["active"]["name"] == "throttled"
    assert client.get("/_mockscim/journal").json()["total"] == 1


def test_shipped_scenarios_are_listed(client: TestClient) -> None:
    """``GET /_mockscim/scenarios`` lists the shipped scenarios with their descriptions."""
    listed = client.get("/_mockscim/scenarios").json()["scenarios"]
    assert {s["name"] for s in listed} == SHIPPED
    assert all(set(s) == {"name", "description"} and s["description"] for s in listed)


def test_scenario_setting_activates_at_start(make_client: Callable[..., TestClient], tmp_path: Path) -> None:
    """``--scenario`` takes a shipped name or a path; an unknown one stops the start with a message naming it."""
    assert make_client(scenario="throttled").get("/_mockscim/scenario").json()["active"]["name"] == "throttled"
    path = tmp_path / "mine.yaml"
    path.write_text(GOOD_YAML, encoding="utf-8")
    assert make_client(scenario=str(path)).get("/_mockscim/scenario").json()["active"]["name"] == "from-file"
    with pytest.raises(ScenarioError, match="nope"):
        create_app(Settings(scenario="nope"))


# ------------------------------------------------------------------------------------------------------- journal


def test_journal_filters_over_http(client: TestClient) -> None:
    """``status``, ``method``, ``path``, ``since`` and ``limit`` filter ``GET /_mockscim/journal``."""
    first = client.get("/scim/v2/Users", headers=AUTH).headers["x-request-id"]
    client.get("/scim/v2/Users/missing", headers=AUTH)
    client.post("/scim/v2/Users", headers={**AUTH, "Content-Type": "application/scim+json"}, json={})
    client.get("/scim/v2/Groups", headers=AUTH)

    def ids(**params: str) -> tuple[int, list[str]]:
        body = client.get("/_mockscim/journal", params=params).json()
        return body["total"], [e["path"] for e in body["entries"]]

    assert ids(status="404") == (1, ["/scim/v2/Users/missing"])
    assert ids(status="4xx")[0] == 2
    assert ids(method="post") == (1, ["/scim/v2/Users"])
    assert ids(path="/scim/v2/Users*")[0] == 3
    assert ids(since=first) == (3, ["/scim/v2/Users/missing", "/scim/v2/Users", "/scim/v2/Groups"])
    assert ids(since="2000-01-01T00:00:00Z")[0] == 4
    assert ids(limit="1") == (4, ["/scim/v2/Groups"])
    for bad in ({"status": "4x"}, {"limit": "many"}, {"since": "yesterday"}):
        response = client.get("/_mockscim/journal", params=bad)
        assert response.status_code == 400 and next(iter(bad)) in response.json()["error"]


# --------------------------------------------------------------------------------------------------- admin token


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/_mockscim/scenario"), ("POST", "/_mockscim/scenario"),
    ("DELETE", "/_mockscim/scenario"), ("GET", "/_mockscim/scenarios"), ("GET", "/_mockscim/journal"),
    ("DELETE", "/_mockscim/journal"), ("POST", "/_mockscim/reset"), ("GET", "/_mockscim/state"),
    ("PUT", "/_mockscim/secret-server"),
])
def test_admin_token_guards_the_control_plane(make_client: Callable[..., TestClient], method: str, path: str) -> None:
    """With ``--admin-token`` every control call but health needs it: 401 ``{"error"}`` + WWW-Authenticate."""
    client = make_client(admin_token="adm1n")
    for headers in ({}, AUTH, {"Authorization": "Bearer wrong"}):
        response = client.request(method, path, headers=headers)
        assert response.status_code == 401
        assert response.json() == {"error": "admin token required"}
        assert response.headers["www-authenticate"] == "Bearer"
    assert client.request(method, path, headers={"Authorization": "Bearer adm1n"}).status_code != 401


def test_health_stays_open_with_an_admin_token(make_client: Callable[..., TestClient]) -> None:
    """``/_mockscim/health`` needs no admin token."""
    assert make_client(admin_token="adm1n").get("/_mockscim/health").status_code == 200


def test_admin_token_is_not_a_scim_token(make_client: Callable[..., TestClient]) -> None:
    """The admin token does not open SCIM."""
    client = make_client(admin_token="adm1n")
    assert client.get("/scim/v2/Users", headers={"Authorization": "Bearer adm1n"}).status_code == 401


# ----------------------------------------------------------------------------------------------------- dashboard


def page_script() -> str:
    match = re.search(r"<script>(.*)</script>", PAGE, re.S)
    assert match is not None
    return match.group(1)


def test_dashboard_is_one_static_page_without_external_assets(client: TestClient) -> None:
    """``GET /_mockscim/`` is one HTML page with its style, script and icon inline; request values never reach it
    server-side (the script shows them with textContent, never as HTML)."""
    client.get("/scim/v2/Users/<script>alert(1)</script>", headers={**AUTH, "User-Agent": "<img src=x onerror=1>"})
    page = client.get("/_mockscim/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    assert page.text == PAGE and "alert(1)" not in page.text
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", PAGE) and "<script src" not in PAGE
    assert 'rel="icon" href="data:image/svg+xml,' in PAGE  # no /favicon.ico request to journal as a 404
    assert "innerHTML" not in PAGE and "insertAdjacentHTML" not in PAGE and "document.write" not in PAGE
    assert "sessionStorage" in PAGE and "localStorage" not in PAGE and "cookie" not in PAGE.lower()
    assert client.get("/_mockscim/journal").json()["total"] == 1  # the page journals nothing


def test_dashboard_calls_only_control_routes_that_exist(client: TestClient) -> None:
    """Every ``api(method, "/path…")`` call of the script is a documented control route."""
    doc = client.get("/_mockscim/openapi.json").json()["paths"]
    calls = set(re.findall(r'api\("([A-Z]+)", "(/[a-z-]*)', page_script()))
    assert calls == {("GET", "/journal"), ("GET", "/health"), ("GET", "/secret-server"), ("GET", "/scenario"),
                     ("GET", "/scenarios"), ("PUT", "/secret-server"), ("POST", "/reset"), ("DELETE", "/journal"),
                     ("POST", "/scenario"), ("DELETE", "/scenario")}
    for method, path in calls:
        assert method.lower() in doc[path], (method, path)
    assert '"/journal/" + encodeURIComponent(id)' in page_script() and "get" in doc["/journal/{requestId}"]


@pytest.mark.skipif(shutil.which("node") is None, reason="no node to check the script's syntax")
def test_dashboard_script_parses(tmp_path: Path) -> None:
    script = tmp_path / "dashboard.js"
    script.write_text(page_script(), encoding="utf-8")
    done = subprocess.run(["node", "--check", str(script)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_dashboard_page_loads_without_the_admin_token_and_its_data_does_not(
        make_client: Callable[..., TestClient]) -> None:
    """docs/behaviour.md §12: with ``--admin-token`` the page (no data) loads; the API it calls still needs it."""
    client = make_client(admin_token="adm1n")
    assert client.get("/_mockscim/").status_code == 200
    assert client.get("/_mockscim/journal").status_code == 401
    assert client.post("/_mockscim/", json={}).status_code == 401  # only GET and HEAD are open
    assert client.get("/_mockscim/journal", headers={"Authorization": "Bearer adm1n"}).status_code == 200


@pytest.mark.parametrize("path", ["/_mockscim/nope", "/_mockscim/journal/a/b", "/_mockscim/health/x"])
@pytest.mark.parametrize("admin_token", [None, "adm1n"])
def test_unknown_control_path_is_a_control_404(make_client: Callable[..., TestClient], path: str,
                                               admin_token: str | None) -> None:
    """docs/behaviour.md §12: an unknown path under /_mockscim → 404 in the control plane's `{"error"}` shape, never
    the Secret Server's `{"message"}`, and is not journaled."""
    client = make_client(admin_token=admin_token)
    headers = {"Authorization": f"Bearer {admin_token}"} if admin_token else {}
    for method in ("GET", "DELETE"):
        r = client.request(method, path, headers=headers)
        assert r.status_code == 404 and set(r.json()) == {"error"} and isinstance(r.json()["error"], str), r.text
    assert client.get("/_mockscim/journal", headers=headers).json()["total"] == 0


def test_reset_after_many_writes_is_exactly_the_fixture(client: TestClient) -> None:
    """docs/behaviour.md §12: reset swaps the fixture back in (kept packed), whatever was written meanwhile: the
    same state, the same lookups, and Secret Server ids counting from where the fixture left them."""
    start = client.get("/_mockscim/state", headers=AUTH).json()
    group, first_user = start["Groups"][0]["id"], start["Users"][1]["id"]
    container_ids = set()
    for _ in range(2):
        ids = [client.post("/scim/v2/Users", json={"userName": f"w{i}@example.com"}, headers=SCIM).json()["id"]
               for i in range(30)]
        patch = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                 "Operations": [{"op": "add", "path": "members", "value": [{"value": u} for u in ids]}]}
        assert client.patch(f"/scim/v2/Groups/{group}", json=patch, headers=SCIM).status_code == 200
        assert client.delete(f"/scim/v2/Users/{first_user}", headers=AUTH).status_code == 204
        created = client.post("/scim/v2/Containers", json={"name": "written"}, headers=SCIM)
        assert created.status_code == 201
        container_ids.add(created.json()["id"])
        assert client.post("/_mockscim/reset", headers=AUTH).status_code == 200
        assert client.get("/_mockscim/state", headers=AUTH).json() == start
        found = client.get("/scim/v2/Users", params={"filter": 'userName eq "w0@example.com"'}, headers=AUTH).json()
        assert found["totalResults"] == 0
        assert client.get(f"/scim/v2/Users/{first_user}", headers=AUTH).status_code == 200
        members = client.get(f"/scim/v2/Groups/{group}", headers=AUTH).json().get("members", [])
        assert [m["value"] for m in members] == [m["value"] for m in start["Groups"][0].get("members", [])]
    assert len(container_ids) == 1  # the next id after a reset is the fixture's next id again


def test_reset_reads_a_large_fixture_again_once_it_changed(tmp_path: Path) -> None:
    """A fixture too large to keep as text is kept packed while its file is unchanged, and read again after."""
    from mockscim.app import _KEEP_IN_MEMORY

    path = tmp_path / "big.json"
    filler = [{"id": f"u{i}", "userName": f"user{i}@example.com", "title": "x" * 200} for i in range(
        _KEEP_IN_MEMORY // 200 + 10)]
    path.write_text(json.dumps({"Users": filler}))
    client = TestClient(create_app(Settings(fixture=str(path))))
    assert client.post("/scim/v2/Users", json={"userName": "extra@example.com"}, headers=SCIM).status_code == 201
    assert client.post("/_mockscim/reset", headers=AUTH).status_code == 200
    assert client.get("/scim/v2/Users", headers=AUTH).json()["totalResults"] == len(filler)
    path.write_text(json.dumps({"Users": filler[:3]}))
    assert client.post("/_mockscim/reset", headers=AUTH).status_code == 200
    assert client.get("/scim/v2/Users", headers=AUTH).json()["totalResults"] == 3


def test_reset_of_a_durable_store_is_a_swap_and_is_persisted(tmp_path: Path) -> None:
    """With --store, the packed swap is written as a snapshot like any load: a restart after a reset gives the
    fixture (docs/behaviour.md §13)."""
    path = str(tmp_path / "store.json")
    client = TestClient(create_app(Settings(store=path)))
    start = client.get("/_mockscim/state", headers=AUTH).json()
    group = start["Groups"][0]["id"]
    patch = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
             "Operations": [{"op": "Remove", "path": "members", "value": [
                 {"value": m["value"]} for m in start["Groups"][0].get("members", [])]}]}
    assert client.patch(f"/scim/v2/Groups/{group}", json=patch, headers=SCIM).status_code == 200
    assert client.post("/_mockscim/reset", headers=AUTH).status_code == 200
    assert client.post("/scim/v2/Users", json={"userName": "gone@example.com"}, headers=SCIM).status_code == 201
    assert client.patch(f"/scim/v2/Groups/{group}", json=patch, headers=SCIM).status_code == 200
    assert client.post("/_mockscim/reset", headers=AUTH).status_code == 200
    assert client.get("/_mockscim/state", headers=AUTH).json() == start
    client.app.state.runtime.core.close()
    again = TestClient(create_app(Settings(store=path)))
    assert again.get("/_mockscim/state", headers=AUTH).json() == start
    again.app.state.runtime.core.close()
