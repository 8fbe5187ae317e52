"""The Go SDK's test flow over real HTTP, in Secret Server and Platform mode (docs/behaviour.md §9; request shapes
from the reference's Go SDK section: PascalCase bodies, the trailing slash, the search query, file downloads)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mockscim import MockScim
from tests.helpers import SERVICE_LOGIN as SERVICE


@pytest.fixture
def base() -> Iterator[str]:
    with MockScim(token_grace=300) as server:
        yield server.url


def secret_server_token(base: str) -> str:
    assert httpx.get(f"{base}/healthcheck.aspx").status_code == 200  # Go SDK 2.0.x's probe
    r = httpx.post(f"{base}/oauth2/token", data={"username": SERVICE[0], "password": SERVICE[1],
                                                 "grant_type": "password"})
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def platform_token(base: str) -> tuple[str, str]:
    """Platform mode: the Platform token, then the vault broker's default vault URL (reference §3)."""
    platform = f"{base}/platform"
    assert httpx.get(f"{platform}/api/v1/healthcheck").status_code == 404
    assert httpx.get(f"{platform}/health").status_code == 200
    r = httpx.post(f"{platform}/identity/api/oauth2/token/xpmplatform",
                   data={"grant_type": "client_credentials", "client_id": SERVICE[0], "client_secret": SERVICE[1],
                         "scope": "xpm.platform"})
    assert r.status_code == 200, r.text
    token = str(r.json()["access_token"])
    vaults = httpx.get(f"{platform}/vaultbroker/api/vaults", headers={"Authorization": f"Bearer {token}"}).json()
    url = next(v for v in vaults["vaults"] if v["isDefault"])["connection"]["url"]
    return token, str(url).rstrip("/")


def flow(api: str, token: str) -> None:
    """Template, create with generated SSH keys, read back with file downloads, search, update, delete, read."""
    auth = {"Authorization": f"Bearer {token}"}
    template = httpx.get(f"{api}/api/v1/secret-templates/6007", headers=auth).json()
    ids = {f["fieldSlugName"]: f["secretTemplateFieldId"] for f in template["fields"]}
    items: list[dict[str, Any]] = [{"FieldID": ids["machine"], "ItemValue": "go.internal"},
                                   {"FieldID": ids["username"], "ItemValue": "gopher"}]
    body = {"Name": "go-sdk", "FolderID": 5, "SiteID": 1, "SecretTemplateID": template["id"], "Active": False,
            "Items": items, "SshKeyArgs": {"GeneratePassphrase": True, "GenerateSshKeys": True}}
    created = httpx.post(f"{api}/api/v1/secrets/", headers=auth, json=body, timeout=30)
    assert created.status_code == 200, created.text
    sid = created.json()["id"]
    read = httpx.get(f"{api}/api/v1/secrets/{sid}", headers=auth).json()
    files = {}
    for item in read["items"]:
        if item["isFile"] and item["fileAttachmentId"] and item["filename"]:
            files[item["slug"]] = httpx.get(f"{api}/api/v1/secrets/{sid}/fields/{item['slug']}", headers=auth).content
    assert files["public-key"].startswith(b"ssh-rsa ") and b"PRIVATE KEY" in files["private-key"]
    search = httpx.get(f"{api}/api/v1/secrets?paging.filter.searchText=gopher&paging.filter.searchField=username"
                       "&paging.filter.doNotCalculateTotal=true&paging.take=30&&paging.skip=0"
                       "&paging.filter.isExactMatch=true", headers=auth).json()
    assert [r["id"] for r in search["records"]] == [sid]
    update = {**body, "ID": sid, "Name": "go-sdk-2", "Items": [*items, {"FieldID": ids["notes"], "ItemValue": "n"}]}
    del update["SshKeyArgs"]
    assert httpx.put(f"{api}/api/v1/secrets/{sid}", headers=auth, json=update).status_code == 200
    again = httpx.get(f"{api}/api/v1/secrets/{sid}", headers=auth).json()
    assert again["name"] == "go-sdk-2"
    assert {i["slug"]: i["filename"] for i in again["items"] if i["isFile"]} == {
        "private-key": "private-key.pem", "public-key": "public-key.pub"}  # files kept through the update
    assert httpx.delete(f"{api}/api/v1/secrets/{sid}", headers=auth).status_code == 200
    assert httpx.get(f"{api}/api/v1/secrets/{sid}", headers=auth).json()["active"] is False


def test_go_sdk_flow_secret_server_mode(base: str) -> None:
    flow(base, secret_server_token(base))


def test_go_sdk_flow_platform_mode(base: str) -> None:
    token, vault = platform_token(base)
    assert vault == base
    flow(vault, token)
