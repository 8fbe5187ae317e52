"""Writing through the Secret Server API as real clients do (docs/behaviour.md §9): shapes from their source."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from starlette.testclient import TestClient

from tests.helpers import AUTH, BJENSEN_LOGIN, SCIM, SS_DENIED, SS_UNAVAILABLE, password_token, secret_server

SERVICE_ID = "8a0b3f0e-5c1d-4e0a-9a57-000000000001"
BJENSEN_ID = "2819c223-7f76-453a-919d-413861904646"
COMMENT_REQUIRED = {"errorCode": "API_ValidateSecretAccessCommentRequired",
                    "message": "The requested Secret requires a comment when viewed."}
CHECK_OUT_REQUIRED = {"errorCode": "API_CheckOutRequired",
                      "message": "The secret must be checked out before it can be viewed."}
CHECKED_OUT = {"errorCode": "API_SecretCheckedOut", "message": "The secret is checked out by another user."}


def go_item(field_id: int, value: str) -> dict[str, Any]:
    """A Go SDK SecretItem: every key present, FieldID and ItemValue filled (reference: Go SDK request shapes)."""
    return {"ItemID": 0, "FieldID": field_id, "FileAttachmentID": 0, "FieldName": "", "Slug": "",
            "FieldDescription": "", "Filename": "", "ItemValue": value, "IsFile": False, "IsNotes": False,
            "IsPassword": False}


def go_secret(name: str, folder: int, template: int, items: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """The Go SDK's create body: Go's default JSON of its struct, PascalCase, zero values included."""
    return {"Name": name, "FolderID": folder, "ID": 0, "SiteID": 1, "SecretTemplateID": template,
            "SecretPolicyID": 0, "LauncherConnectAsSecretID": 0, "CheckOutIntervalMinutes": 0, "Active": False,
            "CheckedOut": False, "CheckOutEnabled": False, "AutoChangeEnabled": False,
            "CheckOutChangePasswordEnabled": False, "DelayIndexing": False, "EnableInheritPermissions": False,
            "EnableInheritSecretPolicy": False, "ProxyEnabled": False, "RequiresComment": False,
            "SessionRecordingEnabled": False, "WebLauncherRequiresIncognitoMode": False, "Items": items, **extra}


def create(client: TestClient, body: dict[str, Any], headers: dict[str, str] = AUTH) -> dict[str, Any]:
    r = client.post("/api/v1/secrets/", json=body, headers=headers)
    assert r.status_code == 200, r.text
    created: dict[str, Any] = r.json()
    return created


def ssh_secret(client: TestClient, **extra: Any) -> dict[str, Any]:
    return create(client, go_secret("jump-host", 5, 6007, [go_item(600701, "jump.internal"),
                                                            go_item(600702, "ops")], **extra))


def grant(client: TestClient, sid: int, user_id: str, rights: list[str]) -> None:
    """A PrivilegedDataPermission through the state (SCIM's cloud profile answers 405 for POST)."""
    state = client.get("/_mockscim/state").json()
    state["PrivilegedDataPermissions"].append({"id": "900", "privilegedData": {"value": str(sid)},
                                               "user": {"value": user_id}, "rights": rights})
    assert client.put("/_mockscim/state", json=state).status_code == 200


def values(secret: dict[str, Any]) -> dict[str, Any]:
    return {i["slug"]: i["itemValue"] for i in secret["items"]}


# -- templates, passwords, health ------------------------------------------------------------------------------
def test_go_sdk_reads_a_template(client: TestClient) -> None:
    r = client.get("/api/v1/secret-templates/6007", headers=AUTH)
    assert r.status_code == 200
    t = r.json()
    assert t["id"] == 6007 and t["name"] == "Unix Account (SSH)"
    assert [f["fieldSlugName"] for f in t["fields"]] == ["machine", "username", "password", "private-key",
                                                         "private-key-passphrase", "public-key", "notes"]
    assert set(t["fields"][3]) == {"secretTemplateFieldId", "fieldSlugName", "displayName", "name", "description",
                                   "isFile", "isList", "listType", "isNotes", "isPassword", "isRequired", "isUrl"}
    assert t["fields"][3]["isFile"] is True and t["fields"][3]["secretTemplateFieldId"] == 600704
    assert client.get("/api/v1/secret-templates/999", headers=AUTH).json() == SS_DENIED
    listed = client.get("/api/v1/secret-templates", headers=AUTH).json()
    assert [(r["id"], r["name"]) for r in listed["records"]] == [
        (2, "Password"), (1, "Web Password"), (6007, "Unix Account (SSH)"), (6003, "Windows Account"),
        (6004, "SQL Server Account")]


def test_generate_password(client: TestClient) -> None:
    r = client.post("/api/v1/secret-templates/generate-password/600703", headers=AUTH)
    assert r.status_code == 200
    first = r.json()
    assert isinstance(first, str) and len(first) == 20
    assert any(c.isupper() for c in first) and any(c.islower() for c in first) and any(c.isdigit() for c in first)
    assert not first.isalnum()
    assert client.post("/api/v1/secret-templates/generate-password/600703", headers=AUTH).json() != first


def test_healthcheck_aspx_is_the_go_sdk_2_probe(client: TestClient) -> None:
    assert client.get("/healthcheck.aspx").status_code == 200
    secret_server(client, False)
    assert client.get("/healthcheck.aspx").status_code == 503


# -- create, read, update, delete ------------------------------------------------------------------------------
def test_go_sdk_create_pascal_case_trailing_slash_field_id_only(client: TestClient) -> None:
    body = go_secret("new-db", 3, 6004, [go_item(600401, "sql02"), go_item(600403, "app"), go_item(600404, "pw")])
    created = create(client, body)
    assert created["name"] == "new-db" and created["folderId"] == 3 and created["secretTemplateId"] == 6004
    assert created["active"] is True  # Active: false in a create body is ignored (docs/behaviour.md §9)
    assert values(created) == {"server": "sql02", "database": "", "username": "app", "password": "pw", "notes": ""}
    assert created["secretPolicyId"] == 0 and created["checkOutIntervalMinutes"] == 0  # zero values echoed
    read = client.get(f"/api/v1/secrets/{created['id']}", headers=AUTH)
    assert read.status_code == 200 and read.json() == created
    assert client.get(f"/api/v2/secrets/{created['id']}", headers=AUTH).json() == created


@pytest.mark.parametrize(("change", "message"), [
    ({"SecretTemplateID": 77}, "Secret template 77 not found."),
    ({"FolderID": 99}, "Folder 99 not found."),
    ({"Name": ""}, "name is required."),
    ({"Items": [go_item(600401, "s"), go_item(600404, "p")]}, "The field 'Username' (username) is required."),
    ({"Items": [go_item(123, "x")]}, "Field '123' is not on the secret template 'SQL Server Account'."),
])
def test_create_refusals_name_the_problem(client: TestClient, change: dict[str, Any], message: str) -> None:
    body = {**go_secret("x", 3, 6004, [go_item(600401, "s"), go_item(600403, "u"), go_item(600404, "p")]),
            **change}
    before = client.get("/_mockscim/state").json()
    r = client.post("/api/v1/secrets", json=body, headers=AUTH)
    assert r.status_code == 400 and r.json() == {"errorCode": "API_BadRequest", "message": message}
    assert client.get("/_mockscim/state").json() == before  # nothing half-written


def test_create_in_a_denied_folder_is_access_denied(client: TestClient) -> None:
    body = go_secret("x", 4, 2, [go_item(203, "u"), go_item(204, "p")])  # folder 4 is bjensen's
    r = client.post("/api/v1/secrets", json=body, headers=AUTH)
    assert r.status_code == 400 and r.json() == SS_DENIED


def test_create_is_503_while_down_and_writes_nothing(client: TestClient) -> None:
    secret_server(client, False)
    r = client.post("/api/v1/secrets/", json=go_secret("x", 3, 2, []), headers=AUTH)
    assert r.status_code == 503 and r.json() == SS_UNAVAILABLE
    assert client.put("/_mockscim/secret-server", json={"available": True}).status_code == 200
    assert "x" not in [s["name"] for s in client.get("/_mockscim/state").json()["PrivilegedData"]]


def test_update_replaces_name_items_and_flags(client: TestClient) -> None:
    created = create(client, go_secret("web", 5, 1, [go_item(101, "https://a"), go_item(102, "u"),
                                                      go_item(103, "p")]))
    sid = created["id"]
    body = go_secret("web-2", 5, 1, [go_item(101, "https://b"), go_item(102, "u2"), go_item(103, "p2")],
                     ID=sid, Active=False, AutoChangeEnabled=True)
    r = client.put(f"/api/v1/secrets/{sid}", json=body, headers=AUTH)
    assert r.status_code == 200, r.text
    read = client.get(f"/api/v1/secrets/{sid}", headers=AUTH).json()
    assert read["name"] == "web-2" and read["active"] is True and read["autoChangeEnabled"] is True
    assert values(read) == {"url": "https://b", "username": "u2", "password": "p2", "notes": ""}


def test_update_and_delete_with_view_only_are_denied(client: TestClient) -> None:
    sid = create(client, go_secret("viewed", 5, 2, [go_item(203, "u"), go_item(204, "p")]))["id"]
    grant(client, sid, BJENSEN_ID, ["View"])
    bjensen = password_token(client, BJENSEN_LOGIN)
    assert client.get(f"/api/v1/secrets/{sid}", headers=bjensen).status_code == 200
    body = go_secret("mine", 5, 2, [go_item(203, "u"), go_item(204, "p")])
    for r in (client.put(f"/api/v1/secrets/{sid}", json=body, headers=bjensen),
              client.put(f"/api/v1/secrets/{sid}/fields/password", json={"value": "x"}, headers=bjensen),
              client.patch(f"/api/v1/secrets/{sid}/general", headers=bjensen,
                           json={"data": {"secretFields": [{"slug": "password", "dirty": True, "value": "x"}]}}),
              client.delete(f"/api/v1/secrets/{sid}", headers=bjensen)):
        assert r.status_code == 400 and r.json() == SS_DENIED
    after = client.get(f"/api/v1/secrets/{sid}", headers=AUTH).json()
    assert after["name"] == "viewed" and after["active"] is True and values(after)["password"] == "p"


def test_delete_then_read_is_inactive_and_gone_from_scim(client: TestClient) -> None:
    created = create(client, go_secret("temp", 5, 2, [go_item(203, "u"), go_item(204, "p")]))
    sid = created["id"]
    assert client.get(f"/scim/v2/PrivilegedData/{sid}", headers=AUTH).status_code == 200
    r = client.delete(f"/api/v1/secrets/{sid}", headers=AUTH)
    assert r.status_code == 200 and r.json() == {"id": sid, "objectType": "Secret", "responseCodes": []}
    read = client.get(f"/api/v1/secrets/{sid}", headers=AUTH)
    assert read.status_code == 200 and read.json()["active"] is False
    assert client.get(f"/scim/v2/PrivilegedData/{sid}", headers=AUTH).status_code == 404
    listed = client.get("/scim/v2/PrivilegedData", headers=AUTH).json()
    assert str(sid) not in [d["id"] for d in listed.get("Resources", [])]
    exported = next(s for s in client.get("/_mockscim/state").json()["PrivilegedData"] if s["id"] == str(sid))
    assert exported["active"] is False


def test_delete_needs_owner(client: TestClient) -> None:
    """The service user holds Owner on folder 1 and below, bjensen only Edit through a group on folder 2."""
    bjensen = password_token(client, BJENSEN_LOGIN)
    r = client.delete("/api/v1/secrets/13", headers=bjensen)
    assert r.status_code == 400 and r.json() == SS_DENIED
    assert client.get("/api/v1/secrets/13", headers=AUTH).json()["active"] is True


# -- SCIM sees the same secrets --------------------------------------------------------------------------------
def test_a_created_secret_is_privileged_data_to_its_owner(client: TestClient) -> None:
    created = create(client, go_secret("shared", 5, 2, [go_item(203, "u"), go_item(204, "p")]))
    r = client.get(f"/scim/v2/PrivilegedData/{created['id']}", headers=AUTH)
    assert r.status_code == 200
    doc = r.json()
    assert doc["name"] == "shared" and doc["container"]["value"] == "5"
    assert "fields" not in doc and "secretTemplateId" not in doc  # only the API shows them


def test_a_scim_container_is_a_folder_the_api_creates_in(client: TestClient) -> None:
    r = client.post("/scim/v2/Containers", headers=SCIM, json={
        "schemas": ["urn:ietf:params:scim:schemas:pam:1.0:Container"], "name": "From SCIM"})
    assert r.status_code == 201, r.text
    cid = int(r.json()["id"])
    assert client.get(f"/api/v1/folders/{cid}", headers=AUTH).json()["folderName"] == "From SCIM"
    created = create(client, go_secret("in-scim-folder", cid, 2, [go_item(203, "u"), go_item(204, "p")]))
    assert created["folderId"] == cid


# -- fields: multipart upload, download, PATCH general ---------------------------------------------------------
def test_multipart_upload_then_download_then_patch_general_clears(client: TestClient) -> None:
    sid = ssh_secret(client)["id"]
    key = b"-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n-----END OPENSSH PRIVATE KEY-----\n"
    r = client.put(f"/api/v1/secrets/{sid}/fields/private-key", headers=AUTH,
                   files={"file": ("id_ed25519", key, "application/octet-stream")})
    assert r.status_code == 200, r.text
    item = next(i for i in client.get(f"/api/v1/secrets/{sid}", headers=AUTH).json()["items"]
                if i["slug"] == "private-key")
    assert item["isFile"] is True and item["filename"] == "id_ed25519" and item["fileAttachmentId"]
    download = client.get(f"/api/v1/secrets/{sid}/fields/private-key", headers=AUTH)
    assert download.status_code == 200 and download.content == key
    assert 'filename="id_ed25519"' in download.headers["content-disposition"]
    exported = next(s for s in client.get("/_mockscim/state").json()["PrivilegedData"] if s["id"] == str(sid))
    assert exported["fields"]["private-key"] == {"filename": "id_ed25519", "base64": base64.b64encode(key).decode()}
    body = {"Data": {"SecretFields": [{"Slug": "private-key", "Dirty": True, "Value": None}]}}
    r = client.patch(f"/api/v1/secrets/{sid}/general", json=body, headers=AUTH)
    assert r.status_code == 200, r.text
    item = next(i for i in r.json()["items"] if i["slug"] == "private-key")
    assert item["fileAttachmentId"] is None and item["filename"] is None
    assert client.get(f"/api/v1/secrets/{sid}/fields/private-key", headers=AUTH).json() == ""


def test_json_field_upload_and_update_keeps_files(client: TestClient) -> None:
    sid = ssh_secret(client)["id"]
    client.put(f"/api/v1/secrets/{sid}/fields/public-key", headers=AUTH, files={"file": ("k.pub", b"ssh-rsa AAA")})
    r = client.put(f"/api/v1/secrets/{sid}/fields/password", json={"value": "n3w"}, headers=AUTH)
    assert r.status_code == 200 and r.json() == "n3w"
    assert client.get(f"/api/v1/secrets/{sid}/fields/password", headers=AUTH).json() == "n3w"
    body = go_secret("jump-host", 5, 6007, [go_item(600701, "m2"), go_item(600702, "ops")], ID=sid)
    assert client.put(f"/api/v1/secrets/{sid}", json=body, headers=AUTH).status_code == 200
    assert client.get(f"/api/v1/secrets/{sid}/fields/public-key", headers=AUTH).content == b"ssh-rsa AAA"


def test_unknown_field_upload_is_400(client: TestClient) -> None:
    missing = {"errorCode": "API_FieldNotFound", "message": "Field 'nope' not found."}
    r = client.put("/api/v1/secrets/12/fields/nope", json={"value": "x"}, headers=AUTH)
    assert r.status_code == 400 and r.json() == missing
    r = client.patch("/api/v1/secrets/12/general", headers=AUTH,
                     json={"data": {"secretFields": [{"slug": "nope", "dirty": True, "value": "x"}]}})
    assert r.status_code == 400 and r.json() == missing
    assert client.get("/api/v1/secrets/12/fields/nope", headers=AUTH).json() == missing


# -- SSH keys --------------------------------------------------------------------------------------------------
def test_ssh_keys_generated_on_create(client: TestClient) -> None:
    sid = ssh_secret(client, SshKeyArgs={"GenerateSshKeys": True, "GeneratePassphrase": True})["id"]
    public = client.get(f"/api/v1/secrets/{sid}/fields/public-key", headers=AUTH).content
    private = client.get(f"/api/v1/secrets/{sid}/fields/private-key", headers=AUTH).content
    passphrase = client.get(f"/api/v1/secrets/{sid}/fields/private-key-passphrase", headers=AUTH).json()
    assert public.startswith(b"ssh-rsa AAAA")
    assert private.startswith(b"-----BEGIN OPENSSH PRIVATE KEY-----")
    key = serialization.load_ssh_private_key(private, password=passphrase.encode())
    assert key.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                         serialization.PublicFormat.OpenSSH) == public.rsplit(b" ", 1)[0]


def test_ssh_key_args_on_a_template_without_key_fields_is_400(client: TestClient) -> None:
    body = go_secret("x", 5, 2, [go_item(203, "u"), go_item(204, "p")], SshKeyArgs={"GenerateSshKeys": True})
    r = client.post("/api/v1/secrets", json=body, headers=AUTH)
    assert r.status_code == 400
    assert r.json()["message"] == "sshKeyArgs: the secret template 'Password' has no key fields."


# -- comment required and check-out ----------------------------------------------------------------------------
def test_comment_required_with_and_without_auto_comment(client: TestClient) -> None:
    sid = create(client, go_secret("audited", 5, 2, [go_item(203, "u"), go_item(204, "p")],
                                   RequiresComment=True))["id"]
    for path in (f"/api/v1/secrets/{sid}", f"/api/v1/secrets/{sid}/fields/password"):
        r = client.get(path, headers=AUTH)
        assert r.status_code == 400 and r.json() == COMMENT_REQUIRED
    r = client.get(f"/api/v1/secrets/{sid}", params={"autoComment": "rotating keys"}, headers=AUTH)
    assert r.status_code == 200 and r.json()["requiresComment"] is True
    entries = client.get("/_mockscim/journal", params={"status": "200", "method": "GET"}).json()["entries"]
    read = [e for e in entries if e["path"] == f"/api/v1/secrets/{sid}"]
    assert [e["detail"] for e in read] == ["comment: rotating keys"]
    assert client.get(f"/api/v1/secrets/{sid}/fields/password?autoComment=why", headers=AUTH).json() == "p"


def test_check_out_by_two_users(client: TestClient) -> None:
    sid = create(client, go_secret("vault", 5, 2, [go_item(203, "u"), go_item(204, "p")], CheckOutEnabled=True))["id"]
    grant(client, sid, BJENSEN_ID, ["View"])
    bjensen = password_token(client, BJENSEN_LOGIN)
    r = client.get(f"/api/v1/secrets/{sid}", headers=AUTH)
    assert r.status_code == 400 and r.json() == CHECK_OUT_REQUIRED
    out = client.post(f"/api/v1/secrets/{sid}/check-out", headers=AUTH)
    assert out.status_code == 200 and out.json()["checkedOut"] is True
    assert out.json()["checkOutUserId"] == SERVICE_ID
    assert client.get(f"/api/v1/secrets/{sid}/fields/password", headers=AUTH).json() == "p"
    for attempt in (client.get(f"/api/v1/secrets/{sid}?autoCheckOut=true", headers=bjensen),
                    client.post(f"/api/v1/secrets/{sid}/check-out", headers=bjensen)):
        assert attempt.status_code == 400 and attempt.json() == CHECKED_OUT
    assert client.post(f"/api/v1/secrets/{sid}/check-in", headers=AUTH).status_code == 200
    r = client.get(f"/api/v1/secrets/{sid}?autoCheckOut=true", headers=bjensen)
    assert r.status_code == 200 and r.json()["checkedOut"] is True
    assert client.get(f"/api/v1/secrets/{sid}", headers=AUTH).json() == CHECKED_OUT


# -- folders ---------------------------------------------------------------------------------------------------
def test_folder_create_rename_delete(client: TestClient) -> None:
    r = client.post("/api/v1/folders", headers=AUTH, json={"folderName": "Team", "parentFolderId": 5,
                                                           "inheritPermissions": True, "inheritSecretPolicy": True})
    assert r.status_code == 200, r.text
    folder = r.json()
    assert folder["folderName"] == "Team" and folder["parentFolderId"] == 5
    assert folder["folderPath"] == "\\Applications\\Team"
    fid = folder["id"]
    assert client.get(f"/scim/v2/Containers/{fid}", headers=AUTH).json()["parent"]["value"] == "5"
    r = client.put(f"/api/v1/folders/{fid}", json={"folderName": "Squad"}, headers=AUTH)
    assert r.status_code == 200 and r.json()["folderName"] == "Squad"
    sid = create(client, go_secret("in-squad", fid, 2, [go_item(203, "u"), go_item(204, "p")]))["id"]
    r = client.delete(f"/api/v1/folders/{fid}", headers=AUTH)
    assert r.status_code == 400
    assert r.json() == {"errorCode": "API_FolderNotEmpty", "message": "The folder is not empty."}
    state = client.get("/_mockscim/state").json()
    state["PrivilegedData"] = [s for s in state["PrivilegedData"] if s["id"] != str(sid)]
    state["PrivilegedDataPermissions"] = [p for p in state["PrivilegedDataPermissions"]
                                          if p["privilegedData"]["value"] != str(sid)]
    assert client.put("/_mockscim/state", json=state).status_code == 200
    r = client.delete(f"/api/v1/folders/{fid}", headers=AUTH)
    assert r.status_code == 200 and r.json() == {"id": fid, "objectType": "Folder", "responseCodes": []}
    assert client.get(f"/api/v1/folders/{fid}", headers=AUTH).json() == SS_DENIED


def test_folder_create_at_root_and_refusals(client: TestClient) -> None:
    r = client.post("/api/v1/folders", json={"folderName": "Top", "parentFolderId": -1}, headers=AUTH)
    assert r.status_code == 200 and r.json()["parentFolderId"] == -1
    r = client.post("/api/v1/folders", json={"folderName": "X", "parentFolderId": 4}, headers=AUTH)
    assert r.status_code == 400 and r.json() == SS_DENIED  # folder 4 is bjensen's
    r = client.post("/api/v1/folders", json={"folderName": "Databases", "parentFolderId": 1}, headers=AUTH)
    assert r.status_code == 400 and r.json()["errorCode"] == "API_BadRequest"
    secret_server(client, False)
    r = client.post("/api/v1/folders", json={"folderName": "Y", "parentFolderId": -1}, headers=AUTH)
    assert r.status_code == 503 and r.json() == SS_UNAVAILABLE


def test_folder_search(client: TestClient) -> None:
    r = client.get("/api/v1/folders?paging.filter.searchText=data", headers=AUTH)
    assert r.status_code == 200
    assert [f["folderName"] for f in r.json()["records"]] == ["Databases"]
    r = client.get("/api/v1/folders?filter.folderTypeId=1", headers=AUTH)
    assert r.status_code == 400 and "filter.folderTypeId" in r.json()["message"]


# -- state: templates, file fields, flags (docs/behaviour.md §13) ----------------------------------------------
CUSTOM_TEMPLATE = {"id": 9001, "name": "API Key", "fields": [
    {"secretTemplateFieldId": 900101, "fieldSlugName": "key", "displayName": "Key", "name": "Key",
     "description": "The key.", "isFile": False, "isList": False, "listType": "None", "isNotes": False,
     "isPassword": True, "isRequired": True, "isUrl": False},
    {"secretTemplateFieldId": 900102, "fieldSlugName": "cert", "displayName": "Cert", "name": "Cert",
     "description": "The cert.", "isFile": True, "isList": False, "listType": "None", "isNotes": False,
     "isPassword": False, "isRequired": False, "isUrl": False}]}


def test_state_round_trips_templates_file_fields_and_flags(client: TestClient) -> None:
    state = client.get("/_mockscim/state").json()
    state["SecretTemplates"] = [CUSTOM_TEMPLATE]
    state["PrivilegedData"] = [{
        "id": "40", "name": "api", "secretTemplateId": 9001, "container": {"value": "5"}, "active": True,
        "requiresComment": True, "checkOutEnabled": False, "siteId": 3,
        "fields": {"key": "k-1", "cert": {"filename": "c.pem", "base64": base64.b64encode(b"CERT").decode()}}}]
    state["PrivilegedDataPermissions"] = []
    r = client.put("/_mockscim/state", json=state)
    assert r.status_code == 200, r.text
    exported = client.get("/_mockscim/state").json()
    assert exported["SecretTemplates"] == [CUSTOM_TEMPLATE]
    secret = exported["PrivilegedData"][0]
    assert secret["type"] == "API Key" and secret["requiresComment"] is True and secret["siteId"] == 3
    assert secret["fields"]["cert"] == {"filename": "c.pem", "base64": "Q0VSVA=="}
    assert client.put("/_mockscim/state", json=exported).status_code == 200
    assert client.get("/_mockscim/state").json() == exported
    r = client.get("/api/v1/secrets/40/fields/cert?autoComment=audit", headers=AUTH)
    assert r.status_code == 200 and r.content == b"CERT"
    assert client.get("/api/v1/secret-templates/9001", headers=AUTH).json() == CUSTOM_TEMPLATE
    assert client.get("/api/v1/secret-templates/2", headers=AUTH).json() == SS_DENIED  # only the state's templates


@pytest.mark.parametrize(("change", "message"), [
    ({"SecretTemplates": [{**CUSTOM_TEMPLATE, "id": "x"}]},
     "SecretTemplates[0] (id 'x'): 'id' must be a positive integer, unique among the templates"),
    ({"SecretTemplates": [CUSTOM_TEMPLATE, {**CUSTOM_TEMPLATE, "id": 9002}]},
     "SecretTemplates[1] (id 9002): 'name' must be a non-empty string, unique among the templates"),
    ({"SecretTemplates": [{**CUSTOM_TEMPLATE, "colour": "red"}]},
     "SecretTemplates[0] (id 9001): unknown key 'colour'"),
    ({"PrivilegedData": [{"id": "40", "name": "x", "type": "Nope"}]},
     "PrivilegedData[0] (id '40'): type 'Nope' names no existing SecretTemplates entry"),
    ({"PrivilegedData": [{"id": "40", "name": "x", "secretTemplateId": 77}]},
     "PrivilegedData[0] (id '40'): secretTemplateId 77 names no existing SecretTemplates entry"),
    ({"PrivilegedData": [{"id": "40", "name": "x", "type": "Unix Account (SSH)",
                          "fields": {"public-key": {"filename": "k", "base64": "***"}}}]},
     "PrivilegedData[0] (id '40'): file field 'public-key': 'base64' is not base64"),
    ({"PrivilegedData": [{"id": "40", "name": "x", "requiresComment": "yes"}]},
     "PrivilegedData[0] (id '40'): 'requiresComment' must be a boolean"),
])
def test_invalid_templates_and_flags_are_refused_naming_the_entry(client: TestClient, change: dict[str, Any],
                                                                  message: str) -> None:
    before = client.get("/_mockscim/state").json()
    state = {**before, "PrivilegedDataPermissions": [], **change}
    r = client.put("/_mockscim/state", json=state)
    assert r.status_code == 400
    assert message in r.json()["error"]
    assert client.get("/_mockscim/state").json() == before


# -- every new route: 401 first, then 503 while down, before any check (docs/behaviour.md §8) -------------------
WRITES = [
    ("POST", "/api/v1/secrets/", {"name": "x"}),
    ("POST", "/api/v2/secrets", {"name": "x"}),
    ("PUT", "/api/v1/secrets/999", {"name": "x"}),
    ("PATCH", "/api/v1/secrets/999/general", {"data": {}}),
    ("PUT", "/api/v1/secrets/999/fields/password", {"value": "x"}),
    ("DELETE", "/api/v1/secrets/999", None),
    ("POST", "/api/v1/secrets/999/check-out", None),
    ("POST", "/api/v1/secrets/999/check-in", None),
    ("GET", "/api/v1/secrets/999/summary", None),
    ("GET", "/api/v2/secrets/999", None),
    ("GET", "/api/v1/secret-templates", None),
    ("GET", "/api/v1/secret-templates/2", None),
    ("POST", "/api/v1/secret-templates/generate-password/204", None),
    ("GET", "/api/v1/folders", None),
    ("POST", "/api/v1/folders", {"folderName": "x"}),
    ("PUT", "/api/v1/folders/999", {"folderName": "x"}),
    ("DELETE", "/api/v1/folders/999", None),
]


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_401_then_503_before_any_check(client: TestClient, method: str, path: str, body: Any) -> None:
    before = client.get("/_mockscim/state").json()
    r = client.request(method, path, json=body)
    assert r.status_code == 401 and r.json() == {"errorCode": "AuthenticationFailed",
                                                 "message": "Authentication failed."}
    secret_server(client, False)
    r = client.request(method, path, json=body, headers=AUTH)
    assert r.status_code == 503 and r.json() == SS_UNAVAILABLE
    assert client.get("/_mockscim/state").json() == before


@pytest.mark.parametrize(("method", "path", "raw", "content_type"), [
    ("POST", "/api/v1/secrets", b"{not json", "application/json"),
    ("POST", "/api/v1/secrets", b"[1, 2]", "application/json"),
    ("POST", "/api/v1/secrets", b'{"name": "x", "folderId": 5.5, "secretTemplateId": 2}', "application/json"),
    ("POST", "/api/v1/secrets", b'{"name": "x", "folderId": 5, "secretTemplateId": true}', "application/json"),
    ("POST", "/api/v1/secrets", b'{"name": "x", "folderId": 5, "secretTemplateId": 2, "items": {}}',
     "application/json"),
    ("POST", "/api/v1/secrets", b'{"name": "x", "folderId": 5, "secretTemplateId": 2, "items": [7]}',
     "application/json"),
    ("POST", "/api/v1/secrets", b'{"name": 5, "folderId": 5, "secretTemplateId": 2}', "application/json"),
    ("POST", "/api/v1/secrets", b'{"name": "x", "folderId": 5, "secretTemplateId": 2, "requiresComment": "y"}',
     "application/json"),
    ("PUT", "/api/v1/secrets/15", b'"text"', "application/json"),
    ("PATCH", "/api/v1/secrets/15/general", b'{"data": {"secretFields": [{"dirty": true}]}}', "application/json"),
    ("PATCH", "/api/v1/secrets/15/general", b'{"data": 3}', "application/json"),
    ("PUT", "/api/v1/secrets/15/fields/password", b'{"value": 3}', "application/json"),
    ("PUT", "/api/v1/secrets/15/fields/password", b"--x\r\nbroken", "multipart/form-data; boundary=x"),
    ("PUT", "/api/v1/secrets/15/fields/password", b"--x--\r\n", "multipart/form-data; boundary=x"),
    ("POST", "/api/v1/folders", b'{"folderName": "x", "parentFolderId": "top"}', "application/json"),
    ("POST", "/api/v1/folders", b"[]", "application/json"),
    ("PUT", "/api/v1/folders/5", b'{"folderName": ""}', "application/json"),
])
def test_malformed_requests_are_400_and_write_nothing(client: TestClient, method: str, path: str, raw: bytes,
                                                      content_type: str) -> None:
    before = client.get("/_mockscim/state").json()
    r = client.request(method, path, content=raw, headers={**AUTH, "Content-Type": content_type})
    assert r.status_code == 400, r.text
    assert r.json()["errorCode"] == "API_BadRequest" and isinstance(r.json()["message"], str)
    assert client.get("/_mockscim/state").json() == before


def test_a_scenario_can_take_the_go_sdk_probe_down(client: TestClient) -> None:
    """`/healthcheck.aspx` (Go SDK 2.0.x's probe, docs/behaviour.md §9) is on the Secret Server surface, so a
    scenario matching `resource: SecretServer` reaches it (docs/behaviour.md §10)."""
    rule = {"name": "probe-down", "rules": [{"match": {"resource": "SecretServer", "path": "/healthcheck.aspx"},
                                              "then": {"status": 503}}]}
    assert client.post("/_mockscim/scenario", json=rule).status_code == 200
    r = client.get("/healthcheck.aspx")
    assert r.status_code == 503
    assert r.json() == {"errorCode": "ScenarioError", "message": "Secret Server service unavailable."}
