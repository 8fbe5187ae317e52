"""Bad input through HTTP (docs/behaviour.md §7): malformed JSON, non-objects, media types, sizes, 500s, routing."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient
from starlette.types import Message

from mockscim import MockScim
from mockscim.scim import errors
from tests.helpers import AUTH, SCIM, err

MALFORMED = err(400, errors.InvalidValue.template, "invalidSyntax")


@pytest.mark.parametrize("raw", [b"{", b"[1, 2]", b'"text"', b"null", b"\xff\xfe", b""],
                         ids=["truncated", "array", "string", "null", "not-utf8", "empty"])
def test_malformed_or_non_object_body(client: TestClient, raw: bytes) -> None:
    """Malformed JSON or a body that is not an object → 400 invalidSyntax, nothing created."""
    before = client.get("/scim/v2/Users", headers=AUTH).json()["totalResults"]
    r = client.post("/scim/v2/Users", content=raw, headers=SCIM)
    assert r.status_code == 400 and r.json() == MALFORMED
    assert client.get("/scim/v2/Users", headers=AUTH).json()["totalResults"] == before


@pytest.mark.parametrize("ctype", ["text/plain", "application/xml", "application/x-www-form-urlencoded"])
def test_wrong_content_type_is_415(client: TestClient, ctype: str) -> None:
    """A body with a media type other than application/scim+json or application/json → 415 SCIM error."""
    r = client.post("/scim/v2/Users", content=b'{"userName": "x@y"}', headers={**AUTH, "Content-Type": ctype})
    assert r.status_code == 415
    assert r.json() == err(415, errors.UnsupportedMediaType.template)


def test_application_json_with_charset_is_fine(client: TestClient) -> None:
    """application/json; charset=utf-8 is accepted."""
    r = client.post("/scim/v2/Users", content=b'{"userName": "cs@y"}',
                    headers={**AUTH, "Content-Type": "application/json; charset=utf-8"})
    assert r.status_code == 201


def test_body_over_max_body_is_413(make_client: Any) -> None:
    """A body over --max-body bytes → 413, declared or streamed."""
    c = make_client(max_body=100)
    r = c.post("/scim/v2/Users", json={"userName": "x" * 200}, headers=SCIM)
    assert r.status_code == 413 and r.json() == err(413, errors.PayloadTooLarge.template)
    r = c.post("/scim/v2/Users", json={"userName": "ok@y"}, headers=SCIM)
    assert r.status_code == 201


def test_unexpected_exception_is_500_without_traceback(client: TestClient, monkeypatch: pytest.MonkeyPatch,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    """Any unexpected exception → 500 `Internal Server Error.`; the traceback goes to the log only."""
    core = client.app.state.runtime.core  # type: ignore[attr-defined]

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("kaboom-secret-detail")

    monkeypatch.setattr(core, "get", boom)
    r = client.get("/scim/v2/Users/x", headers=AUTH)
    assert r.status_code == 500 and r.json() == err(500, "Internal Server Error.")
    assert "kaboom" not in r.text and "Traceback" not in r.text
    assert "kaboom-secret-detail" in caplog.text
    assert isinstance(client.app.state.runtime.errors[-1], RuntimeError)  # type: ignore[attr-defined]


def test_unknown_scim_path_is_404_naming_it(client: TestClient) -> None:
    """An unknown path under /scim/v2 → 404 `Resource 'Widgets/1' not found.`."""
    r = client.get("/scim/v2/Widgets/1", headers=AUTH)
    assert r.status_code == 404 and r.json() == err(404, "Resource 'Widgets/1' not found.")


def test_unsupported_method_is_405_with_allow(client: TestClient) -> None:
    """A method a route does not serve → 405 SCIM error with Allow (RFC 9110 §15.5.6)."""
    r = client.put("/scim/v2/Users", json={}, headers=SCIM)
    assert r.status_code == 405
    assert r.json() == err(405, errors.MethodNotAllowed.template)
    assert set(r.headers["allow"].split(", ")) >= {"GET", "POST"}


def test_bulk_is_501(client: TestClient) -> None:
    """Delinea does not support Bulk: /scim/v2/Bulk → 501 (docs/behaviour.md §1)."""
    r = client.post("/scim/v2/Bulk", json={"Operations": []}, headers=SCIM)
    assert r.status_code == 501 and r.json() == err(501, errors.NotImplementedFeature.template)


def test_every_catalogue_entry_renders_with_string_status() -> None:
    """Every catalogue class renders an RFC 7644 §3.12 body with status as a string."""
    for key, cls in errors.CATALOGUE.items():
        body = cls("x").body()
        assert body["schemas"] == ["urn:ietf:params:scim:api:messages:2.0:Error"], key
        assert body["status"] == str(cls.status) and isinstance(body["detail"], str)


def test_concurrent_duplicate_creates_on_a_real_socket() -> None:
    """Parallel creates of the same userName over real connections → exactly one 201, the rest 409."""
    import concurrent.futures

    with MockScim() as server:
        url = server.url

        def create(_: int) -> int:
            return httpx.post(f"{url}/scim/v2/Users", json={"userName": "race@example.com"}, headers=SCIM,
                              timeout=10).status_code

        with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
            codes = list(pool.map(create, range(32)))
        assert sorted(codes) == [201] + [409] * 31
        listed = httpx.get(f"{url}/scim/v2/Users", params={"filter": 'userName eq "race@example.com"'},
                           headers=AUTH, timeout=10).json()
        assert listed["totalResults"] == 1


@pytest.mark.parametrize(("name", "body"), [
    ("lone-surrogate", b'{"userName": "bad\\ud800@example.com"}'),
    ("lone-low-surrogate-in-extension", b'{"userName": "ok@example.com", "title": "\\udfff"}'),
    ("nested-20000", b'{"userName": "d@x", "name": ' + b'{"a": ' * 20000 + b"1" + b"}" * 20001),
    ("nested-100-lists", b'{"userName": "d@x", "emails": ' + b"[" * 100 + b"]" * 100 + b"}"),
    ("nan", b'{"userName": "n@x", "title": NaN}'),
    ("infinity", b'{"userName": "n@x", "title": -Infinity}'),
    ("overflowing-number", b'{"userName": "n@x", "title": 1e999}'),
])
def test_unservable_json_is_refused_and_changes_nothing(client: TestClient, name: str, body: bytes) -> None:
    """Lone surrogates, absurd nesting and numbers JSON cannot carry (RFC 8259 §6) → 400 invalidSyntax, nothing
    stored, later reads still work."""
    r = client.post("/scim/v2/Users", content=body, headers=SCIM)
    assert r.status_code == 400 and r.json() == MALFORMED
    listed = client.get("/scim/v2/Users", headers=AUTH)
    assert listed.status_code == 200 and listed.json()["totalResults"] == 5
    assert client.get("/_mockscim/state").status_code == 200


def test_unservable_state_is_refused(client: TestClient) -> None:
    """PUT /_mockscim/state with a lone surrogate or deep nesting → 400 {"error"}, the state unchanged."""
    for raw in (b'{"Users": [{"userName": "\\ud800"}]}', b"[" * 100000):
        r = client.put("/_mockscim/state", content=raw, headers={"Content-Type": "application/json"})
        assert r.status_code == 400 and isinstance(r.json()["error"], str)
    assert client.get("/scim/v2/Users", headers=AUTH).json()["totalResults"] == 5


@pytest.mark.parametrize("flt", [
    "(" * 1500 + 'userName eq "x"' + ")" * 1500,
    "not (" * 1000 + 'userName eq "x"' + ")" * 1000,
    " and ".join(f'userName eq "u{i}"' for i in range(1000)),
], ids=["parentheses", "not", "and-chain"])
def test_absurd_filters_are_400_not_500(make_client: Any, flt: str) -> None:
    """A filter nested or chained beyond any client's needs → 400 not in proper format, in both profiles."""
    for profile in ("cloud", "rfc"):
        r = make_client(profile=profile).get("/scim/v2/Users", params={"filter": flt}, headers=AUTH)
        assert r.status_code == 400 and r.json()["scimType"] == "invalidFilter"


def test_huge_start_index_is_an_empty_page(client: TestClient) -> None:
    """A startIndex beyond any list is still an integer: 200 with no resources (RFC 7644 §3.4.2.4)."""
    r = client.get("/scim/v2/Users", params={"startIndex": "99999999999999999999999"}, headers=AUTH)
    assert r.status_code == 200 and r.json()["Resources"] == [] and r.json()["totalResults"] == 5


@pytest.mark.parametrize(("method", "path", "patched", "body"), [
    ("GET", "/_mockscim/state", "export_state", {"error": "Internal Server Error."}),
    ("GET", "/api/v1/secrets/12", "principal", None),
], ids=["control-plane", "facade"])
def test_500_takes_the_shape_of_its_surface(client: TestClient, monkeypatch: pytest.MonkeyPatch, method: str,
                                            path: str, patched: str, body: Any) -> None:
    """An unexpected exception on the control plane answers {"error"}; on the facade {"errorCode","message"}."""
    core = client.app.state.runtime.core  # type: ignore[attr-defined]

    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("kaboom")

    monkeypatch.setattr(core, patched, boom)
    r = client.request(method, path, headers=AUTH)
    assert r.status_code == 500
    if body is not None:
        assert r.json() == body
    else:
        assert r.json() == {"errorCode": "InternalServerError", "message": "Internal Server Error."}



@pytest.mark.parametrize("raised", [RuntimeError("kaboom-after-the-head"), errors.NotFound("kaboom-after-the-head")],
                         ids=["unexpected", "a-scim-error"])
def test_exception_after_the_head_was_sent_sends_no_second_head(monkeypatch: pytest.MonkeyPatch,
                                                                caplog: pytest.LogCaptureFixture,
                                                                raised: Exception) -> None:
    """An exception once the response has started, unexpected or one a surface renders: no second head after it (the
    guard and the error renderer ask the request state whether the response started), the traceback goes to the log
    only, and the journal records the response as not completed (status 0, docs/behaviour.md §10). Driven as ASGI,
    so that every message the server sends is seen."""
    import asyncio

    from mockscim import create_app
    from mockscim.http.responses import ScimResponse

    async def half(self: ScimResponse, scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        raise raised

    app = create_app()
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    path = "/scim/v2/Users/2819c223-7f76-453a-919d-413861904646"
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
             "headers": [(b"host", b"127.0.0.1:8000"), (b"authorization", AUTH["Authorization"].encode())],
             "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8000)}
    with monkeypatch.context() as patched:
        patched.setattr(ScimResponse, "__call__", half)
        asyncio.run(app(scope, receive, send))
    assert [(m["type"], m.get("status")) for m in sent] == [("http.response.start", 200)]
    assert "kaboom-after-the-head" in caplog.text
    kept = app.state.runtime.errors[-1]
    assert kept is raised or (isinstance(kept, RuntimeError) and kept.__cause__ is raised)
    entry = TestClient(app).get("/_mockscim/journal").json()["entries"][-1]
    assert (entry["method"], entry["path"], entry["status"]) == ("GET", path, 0)
