"""Secret search as real clients send it (docs/behaviour.md §9): the Go SDK's and ESO's ``paging.`` prefix, filters."""

from __future__ import annotations

import pytest
from starlette.testclient import TestClient

from tests.helpers import AUTH

# The Go SDK's Secrets(searchText, field) query, byte for byte (reference/findings: note the empty pair from `&&`).
GO_NO_FIELD = ("/api/v1/secrets?paging.filter.searchText={text}&paging.filter.searchField=&paging.filter."
               "doNotCalculateTotal=true&paging.take=30&&paging.skip=0&paging.filter.extendedFields=Machine"
               "&paging.filter.extendedFields=Notes&paging.filter.extendedFields=Username")
GO_FIELD = ("/api/v1/secrets?paging.filter.searchText={text}&paging.filter.searchField={field}&paging.filter."
            "doNotCalculateTotal=true&paging.take=30&&paging.skip=0&paging.filter.isExactMatch=true")

SUMMARY_KEYS = {
    "id", "name", "folderId", "folderPath", "secretTemplateId", "secretTemplateName", "siteId", "active",
    "checkedOut", "checkOutEnabled", "requiresComment", "isRestricted", "isOutOfSync", "outOfSyncReason",
    "lastHeartBeatStatus", "lastAccessed", "createDate", "daysUntilExpiration", "hasLauncher", "checkOutUserId",
    "checkOutUserName", "autoChangeEnabled", "doubleLockEnabled", "requiresApproval", "inheritsPermissions",
    "hidePassword", "responseCodes", "extendedValues",
}


def names(client: TestClient, url: str) -> list[str]:
    r = client.get(url, headers=AUTH)
    assert r.status_code == 200, r.text
    return [rec["name"] for rec in r.json()["records"]]


def test_go_sdk_search_for_sa_returns_sa_and_nothing_else(client: TestClient) -> None:
    r = client.get(GO_NO_FIELD.format(text="sa"), headers=AUTH)
    assert r.status_code == 200
    body = r.json()
    assert [rec["name"] for rec in body["records"]] == ["sa"]
    assert body["take"] == 30 and body["skip"] == 0
    # extendedFields: each named field's value, by the name the SDK used (SQL Server Account has no Machine)
    assert body["records"][0]["extendedValues"] == {"Username": "sa"}


def test_go_sdk_search_by_field_is_exact(client: TestClient) -> None:
    assert names(client, GO_FIELD.format(text="root", field="username")) == ["db-root"]
    assert names(client, GO_FIELD.format(text="roo", field="username")) == []  # exact: no substring
    assert names(client, GO_FIELD.format(text="ROOT", field="Username")) == ["db-root"]  # by display name, any case


def test_eso_exact_name_lookup(client: TestClient) -> None:
    """External Secrets Operator looks a secret up by its name: exact, so ``sa`` is not ``sa-old`` (nor db-root)."""
    created = client.post("/api/v1/secrets", headers=AUTH, json={
        "name": "sa-old", "folderId": 2, "secretTemplateId": 6004,
        "items": [{"slug": "server", "itemValue": "s"}, {"slug": "username", "itemValue": "u"},
                  {"slug": "password", "itemValue": "p"}]})
    assert created.status_code == 200, created.text
    url = "/api/v1/secrets?paging.filter.searchText=sa&paging.filter.isExactMatch=true&paging.take=30"
    assert names(client, url) == ["sa"]
    assert names(client, url.replace("isExactMatch=true", "isExactMatch=false")) == ["sa", "sa-old"]


@pytest.mark.parametrize(("bare", "prefixed"), [
    ("filter.searchText=pay", "paging.filter.searchText=pay"),
    ("filter.folderId=4", "paging.filter.folderId=4"),
    ("filter.folderId=1&filter.includeSubFolders=true",
     "paging.filter.folderId=1&paging.filter.includeSubFolders=true"),
    ("filter.secretTemplateId=1", "paging.filter.secretTemplateId=1"),
    ("filter.searchFieldSlug=url&filter.searchText=vendor",
     "paging.filter.searchFieldSlug=url&paging.filter.searchText=vendor"),
    ("take=1&skip=1", "paging.take=1&paging.skip=1"),
    ("sortBy[0].name=name&sortBy[0].direction=desc", "paging.sortBy[0].name=name&paging.sortBy[0].direction=desc"),
])
def test_every_parameter_bare_or_prefixed(client: TestClient, bare: str, prefixed: str) -> None:
    assert names(client, f"/api/v1/secrets?{bare}") == names(client, f"/api/v1/secrets?{prefixed}")
    assert names(client, f"/api/v2/secrets?{prefixed}") == names(client, f"/api/v1/secrets?{bare}")


@pytest.mark.parametrize(("query", "expected"), [
    ("", ["db-root", "deploy-bot", "sa", "vendor-portal"]),
    ("filter.searchText=DE", ["deploy-bot"]),
    ("filter.folderId=2", ["sa"]),
    ("filter.folderId=2&filter.includeSubFolders=true", ["db-root", "sa"]),
    ("filter.secretTemplateId=6007", ["db-root"]),
    ("filter.secretTemplateId=1", ["vendor-portal"]),
    ("filter.searchField=server&filter.searchText=sql01", ["sa"]),
    ("filter.searchField=password&filter.searchText=D3ploy-B0t!&filter.isExactMatch=true", ["deploy-bot"]),
    ("sortBy[0].direction=desc", ["vendor-portal", "sa", "deploy-bot", "db-root"]),
    ("sortBy[0].name=id&sortBy[0].direction=asc", ["db-root", "sa", "deploy-bot", "vendor-portal"]),
    ("take=2&skip=1", ["deploy-bot", "sa"]),
    ("autoComment=ignored&unknownParameter=1", ["db-root", "deploy-bot", "sa", "vendor-portal"]),
])
def test_filters(client: TestClient, query: str, expected: list[str]) -> None:
    assert names(client, f"/api/v1/secrets?{query}") == expected


@pytest.mark.parametrize(("query", "named"), [
    ("filter.heartbeatStatus=Success", "filter.heartbeatStatus"),
    ("paging.filter.scope=All", "paging.filter.scope"),
    ("filter.onlySharedWithMe=true", "filter.onlySharedWithMe"),
    ("sortBy[1].name=id", "sortBy[1].name"),
])
def test_a_filter_that_cannot_be_honoured_is_400_naming_it(client: TestClient, query: str, named: str) -> None:
    for path in ("/api/v1/secrets", "/api/v1/secrets/search-total", "/api/v2/secrets"):
        r = client.get(f"{path}?{query}", headers=AUTH)
        assert r.status_code == 400
        assert r.json() == {"errorCode": "API_BadRequest",
                            "message": f"The search parameter '{named}' is not supported by mockscim."}


@pytest.mark.parametrize(("query", "message"), [
    ("sortBy[0].name=color", "sortBy[0].name 'color' is not supported by mockscim."),
    ("sortBy[0].direction=sideways", "sortBy[0].direction 'sideways' must be asc or desc."),
    ("filter.folderId=abc", "filter.folderId must be an integer."),
    ("paging.filter.secretTemplateId=x", "filter.secretTemplateId must be an integer."),
    ("paging.take=-1", "skip and take must be non-negative integers."),
])
def test_bad_values_are_400(client: TestClient, query: str, message: str) -> None:
    r = client.get(f"/api/v1/secrets?{query}", headers=AUTH)
    assert r.status_code == 400 and r.json() == {"errorCode": "API_BadRequest", "message": message}


def test_take_is_capped_at_1000(client: TestClient) -> None:
    assert client.get("/api/v1/secrets?paging.take=5000", headers=AUTH).json()["take"] == 1000


def test_search_total_honours_the_prefix(client: TestClient) -> None:
    r = client.get("/api/v1/secrets/search-total?paging.filter.searchText=sa", headers=AUTH)
    assert r.status_code == 200 and r.json() == 1
    assert client.get("/api/v2/secrets/search-total?paging.filter.folderId=4", headers=AUTH).json() == 1


def test_inactive_only_with_include_inactive(client: TestClient) -> None:
    assert client.delete("/api/v1/secrets/13", headers=AUTH).status_code == 200
    assert "sa" not in names(client, "/api/v1/secrets")
    assert "sa" in names(client, "/api/v1/secrets?paging.filter.includeInactive=true")


def test_summary_records_carry_every_key(client: TestClient) -> None:
    record = client.get("/api/v1/secrets?filter.searchText=db-root", headers=AUTH).json()["records"][0]
    assert set(record) == SUMMARY_KEYS
    assert record["folderPath"] == "\\Infrastructure\\Databases\\Production"
    assert record["secretTemplateId"] == 6007 and record["secretTemplateName"] == "Unix Account (SSH)"
    assert record["extendedValues"] is None and record["checkOutUserId"] == -1
    summary = client.get("/api/v1/secrets/12/summary", headers=AUTH)
    assert summary.status_code == 200 and set(summary.json()) == SUMMARY_KEYS
    assert client.get("/api/v2/secrets/12/summary", headers=AUTH).json() == summary.json()


def test_a_search_never_shows_what_the_caller_may_not_see(client: TestClient) -> None:
    """payroll-api (folder 4, bjensen's) stays out of the service user's results whatever the filters say."""
    assert names(client, "/api/v1/secrets?paging.filter.searchText=payroll") == []
    assert names(client, "/api/v1/secrets?filter.folderId=4&take=100") == ["vendor-portal"]


@pytest.mark.parametrize(("path", "query", "expected"), [
    ("/api/v1/users", "paging.filter.searchText=jensen", ["bjensen@example.com"]),
    ("/api/v1/users", "filter.searchText=jensen", ["bjensen@example.com"]),
    ("/api/v1/folders", "paging.filter.parentFolderId=1&paging.filter.limitToDirectDescendents=true",
     ["Databases"]),
    ("/api/v1/folders/lookup", "paging.filter.searchText=prod", ["Production"]),
    ("/api/v1/secret-templates", "paging.filter.searchText=account",
     ["Unix Account (SSH)", "Windows Account", "SQL Server Account"]),
])
def test_other_searches_take_the_prefix_too(client: TestClient, path: str, query: str, expected: list[str]) -> None:
    r = client.get(f"{path}?{query}", headers=AUTH)
    assert r.status_code == 200, r.text
    records = r.json()["records"]
    assert [rec.get("userName") or rec.get("folderName") or rec.get("value") or rec.get("name")
            for rec in records] == expected


@pytest.mark.parametrize("path", ["/api/v1/users", "/api/v1/folders", "/api/v1/folders/lookup",
                                  "/api/v1/secret-templates"])
def test_other_searches_refuse_filters_they_cannot_honour(client: TestClient, path: str) -> None:
    r = client.get(f"{path}?paging.filter.domainId=3", headers=AUTH)
    assert r.status_code == 400
    assert r.json()["message"] == "The search parameter 'paging.filter.domainId' is not supported by mockscim."


def test_name_search_finds_what_a_scan_finds_and_follows_writes(client: TestClient) -> None:
    """``filter.searchText`` without a field is a case-insensitive substring of the name (answered from the name
    index): the same secrets as a scan of the exported state, also after secrets are created, renamed and deleted."""
    def expected(text: str) -> list[str]:
        state = client.get("/_mockscim/state", headers=AUTH).json()
        visible = set(names(client, "/api/v1/secrets?filter.includeInactive=true&take=1000"))
        return sorted(s["name"] for s in state["PrivilegedData"]
                      if text.lower() in s["name"].lower() and s["name"] in visible)

    def found(text: str) -> list[str]:
        return sorted(names(client, f"/api/v1/secrets?filter.searchText={text}&filter.includeInactive=true&take=1000"))

    for i, name in enumerate(["Web-Prod-A", "web-prod-b", "WEB-test", "db prod"]):
        r = client.post("/api/v1/secrets", headers=AUTH, json={
            "name": name, "folderId": 2, "secretTemplateId": 6004,
            "items": [{"slug": "server", "itemValue": f"s{i}"}, {"slug": "username", "itemValue": "u"},
                      {"slug": "password", "itemValue": "p"}]})
        assert r.status_code == 200, r.text
    texts = ["web", "WEB-PROD", "prod", "db", "-", "nothing-like-it", "s"]
    for text in texts:
        assert found(text) == expected(text), text
    assert found("web-prod") == ["Web-Prod-A", "web-prod-b"]
    web_test = next(s for s in client.get("/_mockscim/state", headers=AUTH).json()["PrivilegedData"]
                    if s["name"] == "WEB-test")
    r = client.get(f"/api/v1/secrets/{web_test['id']}", headers=AUTH)
    assert r.status_code == 200
    renamed = {**r.json(), "name": "Web-Prod-C"}
    assert client.put(f"/api/v1/secrets/{web_test['id']}", headers=AUTH, json=renamed).status_code == 200
    prod_a = next(s for s in client.get("/_mockscim/state", headers=AUTH).json()["PrivilegedData"]
                  if s["name"] == "Web-Prod-A")
    assert client.delete(f"/api/v1/secrets/{prod_a['id']}", headers=AUTH).status_code == 200
    for text in texts:
        assert found(text) == expected(text), text
    assert found("web-prod") == ["Web-Prod-A", "Web-Prod-C", "web-prod-b"]  # a deleted secret is inactive (§9)
    assert sorted(names(client, "/api/v1/secrets?filter.searchText=web-prod&take=1000")) == ["Web-Prod-C", "web-prod-b"]
