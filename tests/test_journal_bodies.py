"""Bodies and headers in the journal (docs/behaviour.md §12): what was said, bounded and redacted before it is kept."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from bench.journal_memory import measure
from mockscim.journal import Journal, RawRequest
from mockscim.journal.bodies import BODY_CAP, HEADER_VALUE_CAP, Capture, body_of, exchange_text, pack_exchange

from .helpers import (
    AUTH,
    BJENSEN,
    BJENSEN_PASSWORD,
    CORE_USER,
    SCIM,
    SERVICE,
    SERVICE_SECRET,
    TOKEN,
    TOKEN_URL,
    journal_of,
    patch_body,
)

R = "[REDACTED]"


def only(client: TestClient) -> dict[str, Any]:
    entries = journal_of(client)["entries"]
    assert len(entries) == 1
    entry: dict[str, Any] = entries[0]
    return entry


def test_a_json_request_and_its_answer_are_kept_as_json(client: TestClient) -> None:
    body = {"schemas": [CORE_USER], "userName": "journal.user@example.com", "active": True}
    r = client.post("/scim/v2/Users", json=body, headers={**SCIM, "User-Agent": "Okta SCIM"})
    assert r.status_code == 201
    e = only(client)
    assert e["request"]["body"] == body
    assert e["request"]["headers"]["authorization"] == R
    assert e["request"]["headers"]["user-agent"] == "Okta SCIM"
    assert e["response"]["body"] == r.json()
    assert e["response"]["headers"]["content-type"] == r.headers["content-type"]
    assert e["response"]["headers"]["x-request-id"] == e["requestId"]
    assert "truncated" not in e["request"] and "truncated" not in e["response"]


def test_a_get_has_a_null_request_body(client: TestClient) -> None:
    client.get("/scim/v2/Users?count=1", headers=AUTH)
    e = only(client)
    assert e["request"]["body"] is None and e["response"]["body"]["totalResults"] >= 1


def test_text_binary_and_cut_bodies(client: TestClient) -> None:
    # 415 answers (RFC 7644 §3.8) that read the body first
    client.post("/scim/v2/Users", content=b"plain words", headers={**AUTH, "Content-Type": "text/plain"})
    client.post("/scim/v2/Users", content=b"\xff\x00\xfe", headers={**AUTH, "Content-Type": "application/octet-stream"})
    client.post("/scim/v2/Users", content=b"a" * (BODY_CAP + 10), headers={**AUTH, "Content-Type": "text/plain"})
    text, binary, big = journal_of(client)["entries"]
    assert text["request"]["body"] == "plain words"
    assert binary["request"]["body"] == {"base64": base64.b64encode(b"\xff\x00\xfe").decode()}
    assert big["request"]["body"] == "a" * BODY_CAP and big["request"]["truncated"] is True


def test_header_values_are_capped(client: TestClient) -> None:
    client.get("/nowhere", headers={"X-Big": "b" * 100_000, "User-Agent": "u" * 100_000})
    e = only(client)
    assert e["request"]["headers"]["x-big"] == "b" * HEADER_VALUE_CAP + "…"
    assert len(e["userAgent"]) <= 8192


def test_filters_q_principal_rule(client: TestClient) -> None:
    client.post("/scim/v2/Users", json={"schemas": [CORE_USER], "userName": "Needle.In.Body@example.com"},
                headers=SCIM)
    client.get("/scim/v2/Users", params={"filter": 'userName eq "x"'}, headers=AUTH)
    client.get("/nowhere/at/all")
    assert [e["path"] for e in journal_of(client, q="NEEDLE.in")["entries"]] == ["/scim/v2/Users"]
    assert [e["query"] for e in journal_of(client, q="USERNAME+EQ")["entries"]] == ['filter=userName+eq+%22x%22']
    assert [e["path"] for e in journal_of(client, q="AT/ALL")["entries"]] == ["/nowhere/at/all"]
    assert journal_of(client, principal=SERVICE.upper())["total"] == 2
    assert journal_of(client, principal="nobody")["total"] == 0
    assert journal_of(client, rule="*")["total"] == 0
    client.post("/_mockscim/scenario", json={"name": "t", "rules": [
        {"match": {"path": "/scim/v2/Groups"}, "then": {"status": 503}}]})
    client.get("/scim/v2/Groups", headers=AUTH)
    assert [e["rule"] for e in journal_of(client, rule="t#*")["entries"]] == ["t#0"]
    assert journal_of(client, rule="other#*")["total"] == 0


def test_one_entry_by_request_id(client: TestClient) -> None:
    r = client.post("/scim/v2/Users", json={"a": 1}, headers=SCIM)
    rid = r.headers["x-request-id"]
    one = client.get(f"/_mockscim/journal/{rid}")
    assert one.status_code == 200 and one.json() == only(client)
    assert one.json()["request"]["body"] == {"a": 1}
    missing = client.get("/_mockscim/journal/no-such-id")
    assert (missing.status_code, missing.json()) == (404, {"error": "no journal entry 'no-such-id'"})


def test_bodies_are_dropped_oldest_first_past_the_budget() -> None:
    sent = Capture()
    sent.add(b"x" * 90)
    exchange = pack_exchange("/", [(b"content-type", b"text/plain")], sent, [], Capture())
    journal = Journal(size=100, body_bytes=3 * len(exchange))
    for n in range(5):
        journal.record_request(1.0, RawRequest(f"r-{n}", "GET", "/", "", None, [], 200, None, None, 1.0, None),
                               exchange)
    entries = journal.entries()
    assert [e.get("bodies") for e in entries] == ["dropped", "dropped", None, None, None]
    assert [e["request"]["body"] for e in entries[2:]] == ["x" * 90] * 3
    assert "request" not in entries[0] and journal.kept_bytes == 3 * len(exchange)
    ring = Journal(size=2, body_bytes=10**6)  # evicted entries give their bytes back
    for n in range(5):
        ring.record_request(1.0, RawRequest(f"r-{n}", "GET", "/", "", None, [], 200, None, None, 1.0, None), exchange)
    assert ring.kept_bytes == 2 * len(exchange)


def secret_traffic(client: TestClient) -> list[str]:
    """Requests carrying every kind of secret docs/behaviour.md §12 lists; returns the secret values sent or seen."""
    seen = [TOKEN, SERVICE_SECRET, BJENSEN_PASSWORD]
    r = client.post(TOKEN_URL, data={"grant_type": "client_credentials", "client_id": SERVICE,
                                     "client_secret": SERVICE_SECRET})
    seen.append(r.json()["access_token"])
    r = client.post("/oauth2/token", data={"username": BJENSEN, "password": BJENSEN_PASSWORD,
                                           "grant_type": "password"})
    tokens = r.json()
    seen += [tokens["access_token"], tokens["refresh_token"]]
    r = client.post("/oauth2/token", data={"refresh_token": tokens["refresh_token"], "grant_type": "refresh_token"})
    seen += [r.json()["access_token"], r.json().get("refresh_token", "")]
    bearer = {"Authorization": f"Bearer {tokens['access_token']}", "Cookie": "session=c00kie-s3cret"}
    seen.append("c00kie-s3cret")
    client.get("/scim/v2/Users?count=1", headers=bearer)
    client.post("/scim/v2/Users", headers=SCIM, json={"schemas": [CORE_USER], "userName": "pw@example.com",
                                                       "password": "Us3r-Pa55word!"})
    seen.append("Us3r-Pa55word!")
    users = client.get("/scim/v2/Users", params={"filter": 'userName eq "pw@example.com"'}, headers=AUTH).json()
    uid = users["Resources"][0]["id"]
    client.patch(f"/scim/v2/Users/{uid}", headers=SCIM,
                 json=patch_body({"op": "replace", "path": "password", "value": "Patch-Pa55word!"}))
    client.patch(f"/scim/v2/Users/{uid}", headers=SCIM,
                 json=patch_body({"op": "replace", "value": {"password": "NoPath-Pa55word!"}}))
    seen += ["Patch-Pa55word!", "NoPath-Pa55word!"]
    state = client.get("/_mockscim/state").json()
    for record in state["PrivilegedData"]:
        seen += [v for k, v in (record.get("fields") or {}).items() if k == "password"]
    client.get("/scim/v2/PrivilegedData", headers=AUTH)
    client.get("/api/v1/secrets/12", headers=AUTH)
    client.put("/api/v1/secrets/12/fields/password", json={"value": "F1eld-s3cret!"}, headers=AUTH)
    client.get("/api/v1/secrets/12/fields/password", headers=AUTH)
    seen.append("F1eld-s3cret!")
    client.get(f"/scim/v2/Users?access_token={TOKEN}")
    return [s for s in seen if s]


def assert_no_secret(text: str, secrets: list[str]) -> None:
    for secret in secrets:
        assert secret not in text, f"{secret!r} is in the journal"
        assert json.dumps(secret)[1:-1] not in text


def test_no_secret_value_in_any_body_the_journal_keeps(make_client: Callable[..., TestClient],
                                                        tmp_path: Path) -> None:
    file = tmp_path / "journal.jsonl"
    client = make_client(journal_file=str(file))
    secrets = secret_traffic(client)
    listed = client.get("/_mockscim/journal", params={"limit": "1000"}).json()["entries"]
    assert len(listed) >= 12
    assert all("request" in e and "response" in e for e in listed)
    assert_no_secret(json.dumps(listed, ensure_ascii=False), secrets)  # in memory
    for e in listed:
        assert_no_secret(client.get(f"/_mockscim/journal/{e['requestId']}").text, secrets)
    lines = file.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == listed  # the file shows the same redacted data
    assert_no_secret(file.read_text(encoding="utf-8"), secrets)
    assert_no_secret(client.get("/_mockscim/").text, secrets)  # the dashboard
    by_path = {(e["method"], e["path"]): e for e in listed}
    token = by_path[("POST", TOKEN_URL)]
    assert "client_secret=%5BREDACTED%5D" in token["request"]["body"]
    assert token["response"]["body"]["access_token"] == R
    assert by_path[("GET", "/api/v1/secrets/12/fields/password")]["response"]["body"] == R
    assert by_path[("PUT", "/api/v1/secrets/12/fields/password")]["request"]["body"] == R
    items = by_path[("GET", "/api/v1/secrets/12")]["response"]["body"]["items"]
    assert items and all(i["itemValue"] == R for i in items)


def test_privileged_data_fields_and_patch_values_are_redacted() -> None:
    """PrivilegedData is read-only over SCIM (405), so its ``fields`` reach the journal only in bodies it is sent."""
    body = json.dumps({"name": "pd", "fields": {"password": "Pd-s3cret!"}}).encode()
    assert body_of(body, False, "application/scim+json", "/scim/v2/PrivilegedData", []) == {
        "body": {"name": "pd", "fields": R}}
    ops = json.dumps(patch_body({"op": "replace", "path": "fields.password", "value": "Pd-s3cret!"})).encode()
    kept = body_of(ops, False, "application/scim+json", "/scim/v2/PrivilegedData/12", [])
    assert kept["body"]["Operations"] == [{"op": "replace", "path": "fields.password", "value": R}]
    cut = b'{"userName": "a", "password": "Cut-s3cret!", "x": "' + b"y" * 100
    assert body_of(cut, True, "application/json", "/scim/v2/Users", []) == {
        "body": '{"userName": "a", "password": "[REDACTED]", "x": "' + "y" * 100, "truncated": True}


def test_memory_stays_flat_under_huge_headers_and_bodies() -> None:
    """100 requests with 5 MiB headers and 100 with 1 MiB bodies to a served mockscim: RSS within 50 MB."""
    before, after = measure()
    assert after - before < 50, (before, after)


def test_an_exchange_is_packed_whatever_the_header_types() -> None:
    """Headers as lists, bytearrays or memoryviews are kept as bytes; types marshal cannot keep are kept as their
    text: packing never fails the request."""
    sent = Capture()
    sent.add(b'{"a": 1}')
    packed = pack_exchange("/x", [[b"content-type", bytearray(b"application/json")]], sent,
                           [(b"etag", memoryview(b'W/"1"'))], Capture())
    assert json.loads("{" + exchange_text(packed) + "}") == {
        "request": {"headers": {"content-type": "application/json"}, "body": {"a": 1}},
        "response": {"headers": {"etag": 'W/"1"'}, "body": None}}
    odd = pack_exchange("/x", [(b"x-odd", object())], None, [], Capture())
    assert json.loads("{" + exchange_text(odd) + "}")["request"]["headers"]["b'x-odd'"].startswith("<object")
