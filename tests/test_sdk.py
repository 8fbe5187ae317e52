"""Delinea's own ``python-tss-sdk`` 2.0.1 against a live mockscim (docs/behaviour.md §9)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from delinea.secrets.server import (  # type: ignore[import-untyped]
    AccessTokenAuthorizer,
    PasswordGrantAuthorizer,
    SecretServer,
    SecretServerClientError,
    SecretServerError,
    SecretServerServiceError,
    ServerFolder,
    ServerSecret,
)

from mockscim import MockScim
from tests.helpers import AUTH, BJENSEN_ID, BJENSEN_LOGIN, SCIM, SERVICE, SERVICE_LOGIN


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    """One live server for the read-only tests (the SDK speaks real HTTP through ``requests``)."""
    with MockScim(token_grace=300) as server:
        yield server.url


@pytest.fixture
def fresh() -> Iterator[str]:
    """A live server of its own, for tests that change state."""
    with MockScim(token_grace=300) as server:
        yield server.url


def sdk(base: str, user: tuple[str, str] = SERVICE_LOGIN) -> SecretServer:
    return SecretServer(base, PasswordGrantAuthorizer(base, *user))


def test_password_grant_reads_username_and_password(url: str) -> None:
    server = sdk(url)
    secret = ServerSecret(**server.get_secret(12))
    assert server.authorizer._server_type == "secret_server"  # detected via /api/v1/healthcheck (§3.2)
    assert secret.fields["username"].value == "root"
    assert secret.fields["password"].value == "s3cr3t-Root!"
    assert secret.name == "db-root" and secret.folder_id == 3
    assert secret.last_heart_beat_check.year >= 2000  # parsed by strptime: no timezone suffix


def test_folder(url: str) -> None:
    folder = ServerFolder(**sdk(url).get_folder(2))
    assert folder.folder_name == "Databases"
    assert folder.folder_path == "\\Infrastructure\\Databases"
    assert folder.parent_folder_id == 1


def test_folder_with_children_and_by_path(url: str) -> None:
    server = sdk(url)
    tree = server.get_folder(1, query_params={}, get_all_children=True)
    assert [c["id"] for c in tree["childFolders"]] == [2]
    by_path = server.get_folder_by_path("/Infrastructure/Databases")
    assert by_path["id"] == 2 and [c["id"] for c in by_path["childFolders"]] == [3]


def test_secret_ids_by_folder(url: str) -> None:
    server = sdk(url)
    assert server.get_secret_ids_by_folderid(2) == [13]
    assert server.get_secret_ids_by_folderid(3) == [12]
    assert server.get_secret_ids_by_folderid(1) == []  # search-total "0" is sent back as take=0


def test_child_folder_ids(url: str) -> None:
    server = sdk(url)
    assert server.get_child_folder_ids_by_folderid(1) == [2]
    assert server.get_child_folder_ids_by_folderid(2) == [3]
    assert server.get_child_folder_ids_by_folderid(3) == []


def test_secret_by_path(url: str) -> None:
    secret = ServerSecret(**sdk(url).get_secret_by_path("Infrastructure/Databases/Production/db-root"))
    assert secret.id == 12 and secret.fields["password"].value == "s3cr3t-Root!"


def test_search_and_lookup_raw_json(url: str) -> None:
    server = sdk(url)
    assert '"records"' in server.search_secrets({"filter.searchText": "sa"})
    assert '"Databases"' in server.lookup_folders({"filter.parentFolderId": 1})


@pytest.mark.parametrize(("params", "expected"), [
    ({"filter.searchText": "sa", "filter.isExactMatch": True}, ["sa"]),
    ({"filter.searchText": "root", "filter.searchField": "username", "filter.isExactMatch": True}, ["db-root"]),
    ({"filter.secretTemplateId": 1}, ["vendor-portal"]),
    ({"filter.includeSubFolders": True, "filter.folderId": 2, "sortBy[0].direction": "desc"}, ["sa", "db-root"]),
    ({"filter.searchText": "d", "sortBy[0].name": "name", "sortBy[0].direction": "desc"},
     ["vendor-portal", "deploy-bot", "db-root"]),
])
def test_search_secrets_with_the_filters(url: str, params: dict[str, object], expected: list[str]) -> None:
    """docs/behaviour.md §9: the SDK passes ``query_params`` through; every filter it names is honoured."""
    found = json.loads(sdk(url).search_secrets(params))
    assert [r["name"] for r in found["records"]] == expected


def test_search_secrets_refuses_a_filter_it_cannot_honour(url: str) -> None:
    with pytest.raises(SecretServerClientError) as caught:
        sdk(url).search_secrets({"filter.scope": "All"})
    assert caught.value.message == "The search parameter 'filter.scope' is not supported by mockscim."


@pytest.mark.parametrize("secret_id", [14, 999])
def test_non_owned_or_missing_secret_raises_client_error(url: str, secret_id: int) -> None:
    with pytest.raises(SecretServerClientError) as caught:
        sdk(url).get_secret(secret_id)
    assert caught.value.message == "Access Denied"


def test_non_owned_folder_and_path_raise_client_error(url: str) -> None:
    server = sdk(url)
    with pytest.raises(SecretServerClientError):
        server.get_folder(4)
    with pytest.raises(SecretServerClientError):
        server.get_secret_by_path("\\Finance\\payroll-api")


def test_other_user_reads_what_it_owns(url: str) -> None:
    server = sdk(url, BJENSEN_LOGIN)
    assert ServerSecret(**server.get_secret(14)).fields["password"].value == "Pay-r0ll$ecret"
    assert 14 in server.get_secret_ids_by_folderid(4)
    with pytest.raises(SecretServerClientError):
        server.get_secret(12)


def test_bad_password_raises_client_error(url: str) -> None:
    with pytest.raises(SecretServerClientError) as caught:
        sdk(url, (SERVICE, "wrong")).get_secret(12)
    assert caught.value.message == "invalid_grant"


def test_static_token_with_access_token_authorizer(url: str) -> None:
    server = SecretServer(url, AccessTokenAuthorizer("mockscim-token", url))
    assert ServerSecret(**server.get_secret(13)).fields["username"].value == "sa"


def test_secret_server_down_raises_service_error(fresh: str) -> None:
    """docs/behaviour.md §8: an SDK in Secret Server mode reports an outage as a service error (the 503)."""
    server = sdk(fresh)
    server.get_secret(12)  # authenticated while up
    httpx.put(f"{fresh}/_mockscim/secret-server", json={"available": False}).raise_for_status()
    with pytest.raises(SecretServerServiceError):
        server.get_secret(12)
    with pytest.raises(SecretServerServiceError):
        server.get_secret(14)  # docs/behaviour.md §8: the 503 comes before the access check
    with pytest.raises(SecretServerServiceError):
        server.get_secret_ids_by_folderid(2)
    httpx.put(f"{fresh}/_mockscim/secret-server", json={"available": True}).raise_for_status()
    assert server.get_secret(12)["id"] == 12


def test_secret_server_down_before_the_first_call(fresh: str) -> None:
    """docs/behaviour.md §1, §8: a new SDK pointed at the root while Secret Server is down finds no healthy probe
    (`/api/v1/healthcheck` 503, the root's `/health` 404), so it reports that it cannot reach a server instead of
    taking the root for a Platform and failing later with `invalid_client` for a password user."""
    httpx.put(f"{fresh}/_mockscim/secret-server", json={"available": False}).raise_for_status()
    httpx.delete(f"{fresh}/_mockscim/journal").raise_for_status()
    for user in (SERVICE_LOGIN, BJENSEN_LOGIN):
        server = sdk(fresh, user)
        with pytest.raises(SecretServerError) as raised:
            server.get_secret(12)
        assert raised.value.message == "Unable to detect server type via health check endpoints."
        assert getattr(server.authorizer, "_server_type", None) is None
    paths = [e["path"] for e in httpx.get(f"{fresh}/_mockscim/journal").json()["entries"]]
    assert set(paths) == {"/api/v1/healthcheck", "/health"}  # no Platform token request, no vault lookup
    httpx.put(f"{fresh}/_mockscim/secret-server", json={"available": True}).raise_for_status()
    back = sdk(fresh)
    assert back.get_secret(12)["id"] == 12 and back.authorizer._server_type == "secret_server"  # back up


@pytest.mark.parametrize("warm", [True, False])
def test_secret_server_down_in_platform_mode_raises_service_error(fresh: str, warm: bool) -> None:
    """docs/behaviour.md §8: in Platform mode (`url + "/platform"`) the Platform side keeps working, so the SDK gets
    its token and vault, then reports the outage from the vault's `/api/v1` as a service error (the 503)."""
    platform = f"{fresh}/platform"
    server = SecretServer(platform, PasswordGrantAuthorizer(platform, *SERVICE_LOGIN))
    if warm:
        assert server.get_secret(12)["id"] == 12
    httpx.put(f"{fresh}/_mockscim/secret-server", json={"available": False}).raise_for_status()
    with pytest.raises(SecretServerServiceError) as raised:
        server.get_secret(12)
    response = raised.value.message  # the SDK keeps the requests.Response as the error's message
    assert response.status_code == 503 and response.json()["errorCode"] == "ServiceUnavailable"
    assert server.authorizer._server_type == "platform" and server.base_url == fresh


def test_platform_mode(url: str) -> None:
    platform = f"{url}/platform"
    server = SecretServer(platform, PasswordGrantAuthorizer(platform, *SERVICE_LOGIN))
    secret = ServerSecret(**server.get_secret(12))
    assert server.authorizer._server_type == "platform"  # /platform/api/v1/healthcheck is a 404 (docs/behaviour.md §1)
    assert server.base_url == url  # the vault's connection.url is the root URL
    assert secret.fields["password"].value == "s3cr3t-Root!"
    assert server.get_secret_ids_by_folderid(2) == [13]
    with pytest.raises(SecretServerClientError):
        server.get_secret(14)


def test_platform_mode_bad_client_raises(url: str) -> None:
    platform = f"{url}/platform"
    server = SecretServer(platform, PasswordGrantAuthorizer(platform, SERVICE, "wrong"))
    with pytest.raises(SecretServerClientError):
        server.get_secret(12)


def test_scim_provisioned_folder_and_permission_are_visible(fresh: str) -> None:
    """An IdP creates a folder, moves a secret in and grants bjensen View, all over SCIM; the SDK sees it."""
    created = httpx.post(f"{fresh}/scim/v2/Containers", headers=SCIM, json={
        "schemas": ["urn:ietf:params:scim:schemas:pam:1.0:Container"], "name": "Provisioned", "parent": {"value": "5"},
    })
    assert created.status_code == 201, created.text
    folder_id = created.json()["id"]
    moved = httpx.patch(f"{fresh}/scim/v2/Containers/{folder_id}", headers=SCIM, json={
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "add", "path": "privilegedData", "value": [{"value": "15"}]}],
    })
    assert moved.status_code in (200, 204), moved.text
    server = sdk(fresh, BJENSEN_LOGIN)
    with pytest.raises(SecretServerClientError):
        server.get_folder(int(folder_id))
    granted = httpx.post(f"{fresh}/scim/v2/ContainerPermissions", headers=SCIM, json={
        "schemas": ["urn:ietf:params:scim:schemas:pam:1.0:ContainerPermission"],
        "container": {"value": folder_id}, "user": {"value": BJENSEN_ID}, "rights": ["View"],
    })
    assert granted.status_code == 201, granted.text
    folder = server.get_folder(int(folder_id))
    assert folder["folderPath"] == "\\Applications\\Provisioned"
    assert server.get_secret_ids_by_folderid(int(folder_id)) == [15]
    secret = ServerSecret(**server.get_secret_by_path("\\Applications\\Provisioned\\deploy-bot"))
    assert secret.fields["username"].value == "deploy"
    # The service user that created the folder owns it; removing the permission over SCIM takes bjensen's access.
    assert ServerSecret(**sdk(fresh).get_secret(15)).folder_id == int(folder_id)
    gone = httpx.delete(f"{fresh}/scim/v2/ContainerPermissions/{granted.json()['id']}", headers=AUTH)
    assert gone.status_code == 204
    with pytest.raises(SecretServerClientError):
        server.get_secret(15)


def test_scim_provisioned_user_reads_through_the_sdk(fresh: str) -> None:
    user = httpx.post(f"{fresh}/scim/v2/Users", headers=SCIM, json={
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "new.hire@example.com",
        "password": "Hire-2026!",
    })
    assert user.status_code == 201, user.text
    granted = httpx.post(f"{fresh}/scim/v2/ContainerPermissions", headers=SCIM, json={
        "schemas": ["urn:ietf:params:scim:schemas:pam:1.0:ContainerPermission"],
        "container": {"value": "2"}, "user": {"value": user.json()["id"]}, "rights": ["View"],
    })
    assert granted.status_code == 201, granted.text
    server = sdk(fresh, ("new.hire@example.com", "Hire-2026!"))
    assert server.get_secret_ids_by_folderid(3) == [12]  # inherited from folder 2
    assert ServerSecret(**server.get_secret(12)).fields["username"].value == "root"


def test_sdk_reads_a_file_field_and_a_comment_required_secret(fresh: str) -> None:
    """docs/behaviour.md §9: an uploaded file comes back as the download the SDK makes for ``fileAttachmentId``;
    a secret requiring a comment reads with ``autoComment`` (Delinea's Ansible collection passes it)."""
    headers = {"Authorization": AUTH["Authorization"]}
    created = httpx.post(f"{fresh}/api/v1/secrets/", headers=headers, json={
        "Name": "jump", "FolderID": 5, "SecretTemplateID": 6007, "RequiresComment": True,
        "Items": [{"FieldID": 600701, "ItemValue": "jump.internal"}, {"FieldID": 600702, "ItemValue": "ops"}]})
    assert created.status_code == 200, created.text
    sid = created.json()["id"]
    r = httpx.put(f"{fresh}/api/v1/secrets/{sid}/fields/public-key", headers=headers,
                  files={"file": ("id.pub", b"ssh-ed25519 AAAA test")})
    assert r.status_code == 200
    server = sdk(fresh)
    with pytest.raises(SecretServerClientError) as caught:
        server.get_secret(sid)
    assert caught.value.message == "The requested Secret requires a comment when viewed."
    secret = server.get_secret(sid, query_params={"autoComment": "ansible run"})
    item = next(i for i in secret["items"] if i["slug"] == "public-key")
    assert item["itemValue"].content == b"ssh-ed25519 AAAA test" and item["filename"] == "id.pub"
