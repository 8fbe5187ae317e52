"""The request journal (docs/behaviour.md §12): entries, ring bound, filters, JSON Lines file, log lines, redaction."""

from __future__ import annotations

import base64
import json
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from mockscim.journal.lines import LineWriter
from mockscim.journal.ring import (
    KEYS,
    REDACTED,
    Journal,
    Query,
    RawRequest,
    build_entry,
    entry_line,
    redact_query,
    redact_text,
    sensitive,
)
from tests.helpers import AUTH, SCIM

SERVICE = "scim-service@mockscim.test"
SECRET = "mockscim-secret"
TOKEN_URL = "/identity/api/oauth2/token/xpmplatform"


def entry(n: int, *, status: int = 200, method: str = "GET", path: str = "/scim/v2/Users") -> dict[str, Any]:
    """A journal entry with request id ``r-0000000n``."""
    return {"time": "", "requestId": f"r-{n:08d}", "method": method, "path": path, "query": "", "principal": None,
            "userAgent": None, "status": status, "scimType": None, "detail": None, "durationMs": 1.0, "rule": None}


def meta(e: dict[str, Any]) -> dict[str, Any]:
    """An entry's metadata: what a log line on stderr carries (docs/behaviour.md §12)."""
    return {k: e[k] for k in KEYS}


def filled(*entries: dict[str, Any], start: datetime | None = None, size: int = 100) -> Journal:
    """A journal holding ``entries`` one second apart."""
    journal = Journal(size)
    start = start or datetime(2025, 1, 1, tzinfo=UTC)
    for i, e in enumerate(entries):
        journal.record(start + timedelta(seconds=i), e)
    return journal


def oauth_token(client: TestClient) -> str:
    """An access token from the Platform token endpoint (client credentials)."""
    response = client.post(TOKEN_URL, data={"grant_type": "client_credentials", "client_id": SERVICE,
                                            "client_secret": SECRET})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


@contextmanager
def log_lines(client: TestClient, sink: str, caplog: pytest.LogCaptureFixture, tmp_path: Path) -> Iterator[list[str]]:
    """Collect the journal's log lines while the block runs: ``logging`` on ``mockscim.journal`` (an embedded app),
    or ``writer``, the LineWriter ``serve`` hands them to (docs/performance.md "Log lines")."""
    lines: list[str] = []
    if sink == "logging":
        with caplog.at_level(logging.INFO, logger="mockscim.journal"):
            yield lines
        lines += [r.getMessage() for r in caplog.records]
        return
    path = tmp_path / "stderr.log"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    writer = LineWriter(fd)
    journal: Journal = client.app.state.runtime.journal  # type: ignore[attr-defined]
    journal.log_to(writer)
    try:
        yield lines
    finally:
        journal.log_to(None)
        assert writer.close()
        os.close(fd)
    lines += path.read_text(encoding="utf-8").splitlines()


def journal_of(client: TestClient, **params: Any) -> dict[str, Any]:
    response = client.get("/_mockscim/journal", params=params)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


# ------------------------------------------------------------------------------------------------ pure journal


def test_ring_keeps_the_newest_entries_only() -> None:
    """Memory stays flat: the ring keeps the newest ``size`` entries."""
    journal = filled(*(entry(i) for i in range(10)), size=3)
    assert len(journal) == 3
    assert [e["requestId"] for e in journal.entries()] == ["r-00000007", "r-00000008", "r-00000009"]


def test_status_filter_takes_a_code_or_a_class() -> None:
    """``status=404`` matches the code, ``status=4xx`` the class, ``status=0`` dropped connections."""
    journal = filled(entry(1, status=200), entry(2, status=404), entry(3, status=409), entry(4, status=0))
    assert [e["requestId"] for e in journal.query(Query.parse({"status": "404"}))[1]] == ["r-00000002"]
    assert journal.query(Query.parse({"status": "4xx"}))[0] == 2
    assert journal.query(Query.parse({"status": "4XX"}))[0] == 2
    assert journal.query(Query.parse({"status": "0"}))[1][0]["requestId"] == "r-00000004"


@pytest.mark.parametrize("params", [{"status": "44"}, {"status": "4x"}, {"status": "abc"}, {"limit": "-1"},
                                    {"limit": "ten"}])
def test_bad_filters_are_refused_naming_the_parameter(params: dict[str, str]) -> None:
    """A malformed ``status`` or ``limit`` is a ValueError naming it."""
    with pytest.raises(ValueError, match=next(iter(params))):
        Query.parse(params)


def test_method_is_exact_and_case_insensitive() -> None:
    """``method=post`` matches POST only."""
    journal = filled(entry(1, method="GET"), entry(2, method="POST"), entry(3, method="POST"))
    assert journal.query(Query.parse({"method": "post"}))[0] == 2


def test_path_is_exact_unless_it_holds_a_star() -> None:
    """``path`` matches exactly, or as a glob when it contains ``*``."""
    journal = filled(entry(1, path="/scim/v2/Users"), entry(2, path="/scim/v2/Users/1"),
                     entry(3, path="/scim/v2/Groups"))
    assert journal.query(Query.parse({"path": "/scim/v2/Users"}))[0] == 1
    assert journal.query(Query.parse({"path": "/scim/v2/Users*"}))[0] == 2
    assert journal.query(Query.parse({"path": "*/Groups"}))[0] == 1


def test_since_a_time_keeps_entries_at_or_after_it() -> None:
    """``since`` an ISO 8601 time: entries that arrived at or after it."""
    start = datetime(2025, 1, 1, tzinfo=UTC)
    journal = filled(*(entry(i) for i in range(5)), start=start)
    assert journal.query(Query.parse({"since": "2025-01-01T00:00:02Z"}))[0] == 3
    assert journal.query(Query.parse({"since": "2025-01-01T00:00:02.000+00:00"}))[0] == 3
    assert journal.query(Query.parse({"since": "2025-01-01T00:00:10Z"}))[0] == 0


def test_since_a_request_id_keeps_entries_after_it() -> None:
    """``since`` a requestId: the entries recorded after it, even once it left the ring."""
    journal = filled(*(entry(i) for i in range(6)), size=4)
    assert [e["requestId"] for e in journal.query(Query.parse({"since": "r-00000003"}))[1]] == [
        "r-00000004", "r-00000005"]
    assert journal.query(Query.parse({"since": "r-00000000"}))[0] == 4  # evicted: ids are sortable
    with pytest.raises(ValueError, match="since"):
        journal.query(Query.parse({"since": "not-a-time-nor-an-id"}))


def test_limit_keeps_the_newest_and_total_counts_all() -> None:
    """``limit`` keeps the newest matching entries, oldest first; ``total`` counts every match."""
    journal = filled(*(entry(i) for i in range(150)), size=200)
    total, entries = journal.query(Query.parse({}))
    assert (total, len(entries), entries[-1]["requestId"]) == (150, 100, "r-00000149")
    total, entries = journal.query(Query.parse({"limit": "2"}))
    assert (total, [e["requestId"] for e in entries]) == (150, ["r-00000148", "r-00000149"])
    assert journal.query(Query.parse({"limit": "0"})) == (150, [])


def test_file_gets_one_json_object_a_line(tmp_path: Path) -> None:
    """``--journal-file`` appends JSON Lines, flushed per entry (readable while the server runs)."""
    path = tmp_path / "journal.jsonl"
    journal = Journal(2, str(path))
    for i in range(3):
        journal.record(datetime.now(UTC), entry(i))
    lines = path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["requestId"] for line in lines] == ["r-00000000", "r-00000001", "r-00000002"]
    journal.close()
    Journal(2, str(path)).record(datetime.now(UTC), entry(9))  # appends, never truncates
    assert len(path.read_text(encoding="utf-8").splitlines()) == 4


def test_query_redaction_by_name_and_by_value() -> None:
    """Credential-named parameters and known secret values are replaced; the rest stays raw."""
    raw = "access_token=abc&count=2&client_secret=s&filter=userName%20eq%20%22x%22&x=tok-1234"
    assert redact_query(raw, ["tok-1234"]) == (
        f"access_token={REDACTED}&count=2&client_secret={REDACTED}&filter=userName%20eq%20%22x%22&x={REDACTED}")
    assert redact_query("password=p&Refresh_Token=r&api_key=k", ()) == (
        f"password={REDACTED}&Refresh_Token={REDACTED}&api_key={REDACTED}")
    assert redact_text("Resource 'tok-1234' not found.", ["tok-1234"]) == f"Resource '{REDACTED}' not found."


@pytest.mark.parametrize(("raw", "redacted"), [
    ("secretPath=%5Cdb%5Croot", "secretPath=%5Cdb%5Croot"),  # a path, not a credential (docs/behaviour.md §12)
    ("folderPath=%5Csecrets&filter.searchText=secret", "folderPath=%5Csecrets&filter.searchText=secret"),
    ("secretId=12&tokenType=bearer&passwordless=1", "secretId=12&tokenType=bearer&passwordless=1"),
    ("TOKEN=t&Password=p&client%5Fsecret=s", f"TOKEN={REDACTED}&Password={REDACTED}&client%5Fsecret={REDACTED}"),
    ("id_token=i&client_assertion=a&apikey=k", f"id_token={REDACTED}&client_assertion={REDACTED}&apikey={REDACTED}"),
])
def test_query_redaction_is_by_exact_name(raw: str, redacted: str) -> None:
    """docs/behaviour.md §12: credential parameters are redacted by name, any case; a name that merely contains
    "secret", "token" or "password" stays readable."""
    assert redact_query(raw) == redacted


def test_request_entries_are_built_when_read_and_redacted() -> None:
    """record_request keeps the raw request; the entry is built (and redacted) once, on first read."""
    journal = Journal(size=2)
    basic = base64.b64encode(b"client:s3cret-value").decode()
    headers = [(b"authorization", f"Basic {basic}".encode()), (b"user-agent", b"agent s3cret-value")]
    journal.record_request(1764366000.25, RawRequest(
        "r-1", "GET", "/scim/v2/Users/s3cret-value", "access_token=abc&count=1", "svc", headers, 404,
        None, "Resource s3cret-value not found.", 1.23456, None))
    first = journal.entries()[0]
    assert first == {
        "time": "2025-11-28T21:40:00.250Z", "requestId": "r-1", "method": "GET", "path": f"/scim/v2/Users/{REDACTED}",
        "query": f"access_token={REDACTED}&count=1", "principal": "svc", "userAgent": f"agent {REDACTED}",
        "status": 404, "scimType": None, "detail": f"Resource {REDACTED} not found.", "durationMs": 1.235,
        "rule": None}
    assert list(first) == list(KEYS)
    assert journal.entries()[0] is first  # built once
    assert journal.query(Query.parse({"status": "404"})) == (1, [first])


@pytest.mark.parametrize("request_", [
    RawRequest("r-1", "GET", "/scim/v2/Users", "", None, [], 0, None, None, 0.0004, None),
    RawRequest("r-2", "PATCH", "/scim/v2/Users/ü\"\\\n\x01", "filter=a%20eq%20%22%C3%A9%22&access_token=t0k3n-x",
               "svc", [(b"authorization", b"Bearer t0k3n-x"), (b"user-agent", b"agent \xe9 t0k3n-x")], 409,
               "uniqueness", "User 't0k3n-x' \u2028 exists.", 12345.67891, "scenario#0"),
    RawRequest("r-3", "POST", "/identity/api/oauth2/token/xpmplatform", "a+b=c%2Bd", "svc",
               [(b"authorization", b"Basic " + base64.b64encode(b"id:s3cr%2Bt"))], 200, None, None, 7, None),
])
def test_the_log_line_is_the_entry_as_json(request_: RawRequest) -> None:
    """The line ``serve`` writes without building the entry is byte for byte the entry's JSON."""
    line = entry_line(1764366000.25, request_)
    entry = build_entry(1764366000.25, request_)
    assert line == json.dumps(entry, ensure_ascii=False, separators=(",", ":"))
    assert json.loads(line) == entry


def test_the_query_decoders_decode_as_urllib() -> None:
    """The fast query decoders (the journal's, the SCIM list's) give what ``unquote_plus`` and ``parse_qsl`` give,
    for any mix of escapes, stray '%', '+', '=' and '&'."""
    import random
    from urllib.parse import parse_qsl, unquote_plus

    from mockscim.util import urlquery

    rng = random.Random(3)
    pieces = ["%20", "%22", "%40", "%2b", "%2B", "%7E", "%7f", "%80", "%C3%A9", "%c3", "%zz", "%", "%4", "+", "a",
              "filter=", "&", "userName", "\u00e9", "%E2%82%AC", "=", "&&", "%3D", "%26"]
    for _ in range(5000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 8)))
        assert urlquery.unquote_plus(text) == unquote_plus(text), text
        assert urlquery.parse_query(text) == dict(parse_qsl(text, keep_blank_values=True)), text


def test_sensitive_names_match_the_pattern() -> None:
    """The substring test of credential names agrees with the case-insensitive pattern it stands in for."""
    import random

    from mockscim.journal.ring import _SENSITIVE

    rng = random.Random(5)
    pieces = ["TOKEN", "tok", "en", "Secret", "PASSw", "pwd", "credential", "api", "_", "-", "key", "KEY", "assertion",
              "Authorization", "x", "=", "&", " ", "\u00e9", "\u212a", "\u017f", "\u0131"]  # non-ASCII: the regex
    for _ in range(5000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 6)))
        assert sensitive(text) == bool(_SENSITIVE.search(text)), text


# ------------------------------------------------------------------------------------------------ over HTTP


def test_every_response_carries_the_request_id_of_its_entry(client: TestClient) -> None:
    """``X-Request-Id`` equals the journal entry's ``requestId``; the entry has exactly the docs/behaviour.md §12
    keys."""
    response = client.get("/scim/v2/Users?count=1", headers={**AUTH, "User-Agent": "Okta SCIM Client"})
    entries = journal_of(client)["entries"]
    assert len(entries) == 1
    e = entries[0]
    assert tuple(e) == (*KEYS, "request", "response")
    assert e["requestId"] == response.headers["x-request-id"]
    assert (e["method"], e["path"], e["query"], e["status"]) == ("GET", "/scim/v2/Users", "count=1", 200)
    assert (e["principal"], e["userAgent"], e["rule"]) == (SERVICE, "Okta SCIM Client", None)
    assert e["time"].endswith("Z") and datetime.fromisoformat(e["time"].replace("Z", "+00:00"))
    assert isinstance(e["durationMs"], float) and e["durationMs"] >= 0


def test_errors_are_journaled_with_scim_type_and_detail(client: TestClient) -> None:
    """A SCIM error's scimType and detail go into its entry; an unauthenticated caller is null."""
    client.get("/scim/v2/Users?filter=userName%20co%20%22x%22", headers=AUTH)
    client.get("/scim/v2/Users")
    bad, anonymous = journal_of(client)["entries"]
    assert (bad["status"], bad["scimType"]) == (400, "invalidFilter")
    assert bad["detail"] == "Filter string 'userName co \"x\"' is not supported by Delinea."
    assert bad["query"] == "filter=userName%20co%20%22x%22"
    assert (anonymous["status"], anonymous["principal"], anonymous["detail"]) == (401, None, "Authentication failed.")


def test_control_plane_gets_an_id_but_no_entry(client: TestClient) -> None:
    """Control-plane calls are not journaled, yet carry an ``X-Request-Id``."""
    assert client.get("/_mockscim/health").headers["x-request-id"]
    client.post("/_mockscim/reset")
    assert journal_of(client) == {"total": 0, "entries": []}


def test_request_ids_are_unique(client: TestClient) -> None:
    """Each request gets its own id."""
    ids = {client.get("/scim/v2/Users", headers=AUTH).headers["x-request-id"] for _ in range(20)}
    assert len(ids) == 20


def test_size_bounds_the_journal(make_client: Callable[..., TestClient]) -> None:
    """``--journal-size`` bounds memory."""
    client = make_client(journal_size=5)
    for _ in range(12):
        client.get("/scim/v2/ServiceProviderConfig", headers=AUTH)
    assert journal_of(client)["total"] == 5


def test_delete_clears_the_journal(client: TestClient) -> None:
    """``DELETE /_mockscim/journal`` empties it (204)."""
    client.get("/scim/v2/Users", headers=AUTH)
    assert client.delete("/_mockscim/journal").status_code == 204
    assert journal_of(client)["total"] == 0


def test_log_lines_carry_the_same_fields(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    """Each entry is also a log line on ``mockscim.journal``: its message is the entry's JSON."""
    with caplog.at_level(logging.INFO, logger="mockscim.journal"):
        response = client.get("/scim/v2/Users/nobody", headers=AUTH)
    records = [r for r in caplog.records if r.name == "mockscim.journal"]
    assert len(records) == 1
    logged = json.loads(records[0].getMessage())
    assert logged == meta(journal_of(client)["entries"][0]) == records[0].journal  # type: ignore[attr-defined]
    assert logged["requestId"] == response.headers["x-request-id"]


def test_log_lines_through_the_writer_carry_the_same_fields(
    client: TestClient, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    """``serve`` hands the same line to its LineWriter instead of the logger: the entry's JSON, one per request."""
    with log_lines(client, "writer", caplog, tmp_path) as lines:
        response = client.get("/scim/v2/Users/nobody", headers=AUTH)
    assert len(lines) == 1
    logged = json.loads(lines[0])
    assert logged == meta(journal_of(client)["entries"][0])  # stderr lines carry the metadata fields (§12)
    assert logged["requestId"] == response.headers["x-request-id"]


@pytest.mark.parametrize("sink", ["logging", "writer"])
def test_no_secret_reaches_the_journal_file_or_the_log(
    make_client: Callable[..., TestClient], tmp_path: Path, caplog: pytest.LogCaptureFixture, sink: str
) -> None:
    """Tokens, client secrets, passwords and secret field values appear in neither the journal file nor the logs
    (through ``logging`` or ``serve``'s writer)."""
    path = tmp_path / "journal.jsonl"
    client = make_client(journal_file=str(path))
    password, field_value = "Hunter2-Pa55word!", "s3cr3t-Root!"  # a user's password; secret 12's password field
    with log_lines(client, sink, caplog, tmp_path) as logged:
        token = oauth_token(client)
        basic = base64.b64encode(f"{SERVICE}:{SECRET}".encode()).decode()
        client.post(TOKEN_URL, data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {basic}"})
        oauth = {"Authorization": f"Bearer {token}"}
        client.get("/scim/v2/Users", headers=oauth)
        client.get(f"/scim/v2/Users/{token}", headers=oauth)  # echoed in the 404 detail
        client.get(f"/scim/v2/Users?access_token={token}&client_secret={SECRET}&password={password}", headers=AUTH)
        client.get("/scim/v2/Groups", params={"t": "mockscim-token"}, headers=AUTH)  # its own token, by value
        client.get("/scim/v2/Groups", headers={"User-Agent": f"bot {token}", **oauth})
        client.post("/scim/v2/Users", headers=SCIM, json={"userName": "new@example.com", "password": password})
        client.put(f"/scim/v2/Users?secret={field_value}", headers=SCIM, json={})
        client.get("/scim/v2/PrivilegedData/12", headers=AUTH)
        assert client.get("/api/v1/secrets/12/fields/password", headers=oauth).text == f'"{field_value}"'
        grant = client.post("/oauth2/token", data={"grant_type": "password", "username": "bjensen@example.com",
                                                   "password": "Jensen-2024!"}).json()["access_token"]
        client.get(f"/api/v1/secrets/12?access_token={grant}", headers={"Authorization": f"Bearer {grant}"})
    text = path.read_text(encoding="utf-8")
    assert len(text.splitlines()) == 13
    assert sum(line.startswith('{"time":') for line in logged) == 13  # one line per request, whichever the sink
    logs = "\n".join(logged)
    for secret in ("mockscim-token", token, SECRET, password, field_value, grant, "Jensen-2024!"):
        assert secret not in text
        assert secret not in logs
    assert REDACTED in text


def test_no_secret_leaves_the_journal_api(make_client: Callable[..., TestClient]) -> None:
    """Without a journal file or log, queries are redacted when read: no token leaves through the control plane."""
    client = make_client()
    token = oauth_token(client)
    client.get(f"/scim/v2/Users?access_token={token}&count=1", headers=AUTH)
    client.get("/scim/v2/Groups", params={"t": "mockscim-token", "filter": 'displayName eq "x"'}, headers=AUTH)
    oauth = {"Authorization": f"Bearer {token}"}
    client.get("/scim/v2/Users", params={"filter": f'userName eq "{token}"'}, headers=oauth)
    for query in ("", "?limit=2", "?path=/scim/v2/*", "?method=GET"):
        text = client.get(f"/_mockscim/journal{query}").text
        assert token not in text and "mockscim-token" not in text
        assert REDACTED in text
    entries = client.get("/_mockscim/journal").json()["entries"]
    assert [e["query"] for e in entries[-3:]] == [
        f"access_token={REDACTED}&count=1", f"t={REDACTED}&filter=displayName+eq+%22x%22", f"filter={REDACTED}"]


def test_epoch_time_formatting_matches_iso_utc() -> None:
    """The middleware's per-second cached formatter writes exactly what iso_utc writes for the same moment."""
    from mockscim.util.timefmt import iso_utc, iso_utc_epoch

    for t in (0.0, 1764366000.123, 1764366000.999, 1764366001.0, 1764366001.5, 1893456000.001):
        moment = datetime.fromtimestamp(int(t), UTC).replace(microsecond=int((t - int(t)) * 1000) * 1000)
        assert iso_utc_epoch(t) == iso_utc(moment)
