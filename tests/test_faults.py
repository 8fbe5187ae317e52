"""Tests for the fault middleware (docs/behaviour.md §10) over HTTP: every matcher, budget and effect."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from mockscim import MockScim
from mockscim.settings import Settings
from tests.helpers import (
    AUTH,
    BJENSEN_ID,
    SCIM,
    SERVICE,
    TOKEN_URL,
    USERS,
    activate,
    active_rules,
    journal_of,
    oauth_token,
)

FAIL: dict[str, Any] = {"status": 500}


def new_user(client: TestClient, user_name: str) -> httpx.Response:
    return client.post(USERS, headers=SCIM, json={"userName": user_name})


# ------------------------------------------------------------------------------------------------------ matchers


def test_no_scenario_changes_nothing(client: TestClient) -> None:
    """Without an active scenario requests are handled normally and journaled with no rule."""
    assert client.get(USERS, headers=AUTH).status_code == 200
    assert journal_of(client)["entries"][0]["rule"] is None


def test_method_matcher(client: TestClient) -> None:
    """``method`` matches the HTTP method only."""
    activate(client, {"match": {"method": "DELETE"}, "then": FAIL})
    assert client.get(f"{USERS}/{BJENSEN_ID}", headers=AUTH).status_code == 200
    assert client.delete(f"{USERS}/{BJENSEN_ID}", headers=AUTH).status_code == 500
    assert client.get(f"{USERS}/{BJENSEN_ID}", headers=AUTH).status_code == 200  # nothing was deleted


def test_resource_and_operation_matchers(client: TestClient) -> None:
    """``resource`` names the endpoint and ``operation`` what the request does to it."""
    activate(client, {"match": {"resource": "Groups", "operation": "list"}, "then": FAIL})
    assert client.get(USERS, headers=AUTH).status_code == 200
    assert client.get("/scim/v2/Groups/e9e30dba-f08f-4109-8486-d5c6a331660a", headers=AUTH).status_code == 200
    assert client.get("/scim/v2/Groups", headers=AUTH).status_code == 500


def test_token_resource_covers_the_token_endpoint(client: TestClient) -> None:
    """``resource: Token`` matches the Platform token endpoint."""
    activate(client, {"match": {"resource": "Token", "operation": "token"}, "then": {"error": "service_unavailable"}})
    response = client.post(TOKEN_URL, data={"grant_type": "client_credentials", "client_id": SERVICE,
                                            "client_secret": "mockscim-secret"})
    assert response.status_code == 503


def test_secret_server_resource_covers_the_facade(client: TestClient) -> None:
    """``resource: SecretServer`` matches the Secret Server facade, not SCIM."""
    activate(client, {"match": {"resource": "SecretServer", "operation": "read"}, "then": FAIL})
    assert client.get("/api/v1/secrets/12", headers=AUTH).status_code == 500
    assert client.get("/api/v1/healthcheck").status_code == 200  # a list/probe, not a read of one thing
    assert client.get("/scim/v2/PrivilegedData/12", headers=AUTH).status_code == 200


def test_path_glob_ignores_the_query(client: TestClient) -> None:
    """``path`` is a glob over the path without its query string; ``*`` crosses ``/``."""
    activate(client, {"match": {"path": "/scim/v2/Groups*"}, "then": FAIL})
    assert client.get(f"{USERS}?filter=x", headers=AUTH).status_code == 400
    assert client.get("/scim/v2/Groups?count=1", headers=AUTH).status_code == 500
    assert client.get("/scim/v2/Groups/abc/def", headers=AUTH).status_code == 500


def test_header_matcher_name_insensitive_value_sensitive(client: TestClient) -> None:
    """Header names match case-insensitively, values case-sensitively."""
    activate(client, {"match": {"header": {"USER-AGENT": "Okta*"}}, "then": FAIL})
    assert client.get(USERS, headers={**AUTH, "User-Agent": "okta/1.0"}).status_code == 200
    assert client.get(USERS, headers={**AUTH, "user-agent": "Okta SCIM/1.0"}).status_code == 500


def test_principal_matcher(client: TestClient) -> None:
    """``principal`` matches the caller's userName, static or OAuth token alike; no token, no principal."""
    activate(client, {"match": {"principal": SERVICE.upper()}, "then": {"status": 429}})
    assert client.get(USERS, headers=AUTH).status_code == 429
    token = oauth_token(client)
    assert client.get(USERS, headers={"Authorization": f"Bearer {token}"}).status_code == 429
    assert client.get(USERS).status_code == 401
    activate(client, {"match": {"principal": "someone@else.test"}, "then": FAIL})
    assert client.get(USERS, headers=AUTH).status_code == 200


def test_filter_matcher(client: TestClient) -> None:
    """``filter`` globs the raw filter; a request without one does not match."""
    activate(client, {"match": {"filter": "userName eq *"}, "then": FAIL})
    assert client.get(USERS, headers=AUTH).status_code == 200
    assert client.get(USERS, params={"filter": 'externalId eq "x"'}, headers=AUTH).status_code == 200
    assert client.get(USERS, params={"filter": 'userName eq "x"'}, headers=AUTH).status_code == 500


def test_body_matcher_and_replay(client: TestClient) -> None:
    """``body`` globs top-level attributes (non-strings as JSON); the body still reaches the app intact."""
    activate(client, {"match": {"body": {"userName": "bad*", "active": "false"}}, "then": {"status": 422}})
    assert client.post(USERS, headers=SCIM, json={"userName": "bad1@x.test", "active": False}).status_code == 422
    created = client.post(USERS, headers=SCIM, json={"userName": "bad2@x.test", "active": True})
    assert created.status_code == 201 and created.json()["userName"] == "bad2@x.test"
    assert client.post(USERS, headers=SCIM, content=b"{not json").status_code == 400
    big = b'{"userName": "' + b"x" * 2000 + b'"}'
    assert client.post(USERS, headers=SCIM, content=big).status_code == 201


def test_body_over_max_body_still_gets_413(make_client: Callable[..., TestClient]) -> None:
    """A body matcher reads at most ``--max-body``; the app still answers 413."""
    client = make_client(max_body=100)
    activate(client, {"match": {"body": {"userName": "*"}}, "then": FAIL})
    assert client.post(USERS, headers=SCIM, json={"userName": "y" * 500}).status_code == 413


def test_rules_never_apply_to_the_control_plane(client: TestClient) -> None:
    """A catch-all rule leaves ``/_mockscim`` alone, so a scenario can always be inspected and removed."""
    activate(client, {"match": {}, "then": FAIL})
    assert client.get("/_mockscim/health").status_code == 200
    assert client.get(USERS, headers=AUTH).status_code == 500
    assert client.delete("/_mockscim/scenario").status_code == 204
    assert client.get(USERS, headers=AUTH).status_code == 200


# ------------------------------------------------------------------------------------------------------- budgets


def test_after_lets_the_first_candidates_through(client: TestClient) -> None:
    """``after: 2``: the first two matching requests pass, the third fires."""
    activate(client, {"match": {"resource": "Users"}, "after": 2, "then": FAIL})
    assert [client.get(USERS, headers=AUTH).status_code for _ in range(4)] == [200, 200, 500, 500]


def test_times_limits_firings_and_status_reports_it(client: TestClient) -> None:
    """``times: 2`` fires twice; GET /_mockscim/scenario shows fired and remaining."""
    activate(client, {"match": {"resource": "Users"}, "times": 2, "then": FAIL})
    assert [client.get(USERS, headers=AUTH).status_code for _ in range(3)] == [500, 500, 200]
    assert (active_rules(client)[0]["fired"], active_rules(client)[0]["remaining"]) == (2, 0)


def test_window_is_time_since_activation(client: TestClient) -> None:
    """``window`` is [start, end) since activation."""
    activate(client, {"match": {}, "window": {"start": "10m"}, "then": FAIL},
             {"match": {}, "window": {"end": "150ms"}, "then": {"status": 503}})
    assert client.get(USERS, headers=AUTH).status_code == 503
    time.sleep(0.2)
    assert client.get(USERS, headers=AUTH).status_code == 200


def test_first_rule_that_fires_decides_and_a_lost_draw_lets_the_next_try(client: TestClient) -> None:
    """Rules are tried in order; a lost draw uses no budget and the next rule may fire."""
    activate(client, {"match": {}, "probability": 0, "times": 1, "then": FAIL},
             {"match": {}, "then": {"status": 503}}, {"match": {}, "then": {"status": 502}})
    assert client.get(USERS, headers=AUTH).status_code == 503
    assert [r["fired"] for r in active_rules(client)] == [0, 1, 0]
    assert active_rules(client)[0]["remaining"] == 1


def test_seeded_probability_is_reproducible(make_client: Callable[..., TestClient]) -> None:
    """The same scenario, seed and requests give the same answers; activation restarts the generator."""
    rule = {"match": {"resource": "Users"}, "probability": 0.5, "then": FAIL}

    def run(client: TestClient) -> list[int]:
        activate(client, rule, seed=99)
        return [client.get(USERS, headers=AUTH).status_code for _ in range(30)]

    first = make_client()
    a, b, c = run(first), run(make_client()), run(first)
    assert a == b == c
    assert 0 < a.count(500) < 30


def test_reactivation_starts_budgets_afresh(client: TestClient) -> None:
    """Activating a scenario again resets its counters."""
    rule = {"match": {}, "times": 1, "then": FAIL}
    activate(client, rule)
    assert client.get(USERS, headers=AUTH).status_code == 500
    assert client.get(USERS, headers=AUTH).status_code == 200
    activate(client, rule)
    assert client.get(USERS, headers=AUTH).status_code == 500


def test_budgets_are_exact_under_concurrent_requests() -> None:
    """``times: 7`` fires exactly 7 times among 60 concurrent requests on a live server."""
    with MockScim() as server, httpx.Client(base_url=server.url, headers=AUTH) as http:
        activate(http, {"match": {"resource": "Users"}, "after": 5, "times": 7, "then": {"status": 503}})
        with ThreadPoolExecutor(12) as pool:
            codes = list(pool.map(lambda _: http.get(USERS).status_code, range(60)))
        assert (codes.count(503), codes.count(200)) == (7, 53)
        rule = http.get("/_mockscim/scenario").json()["active"]["rules"][0]
        assert (rule["fired"], rule["remaining"]) == (7, 0)


# ------------------------------------------------------------------------------------------------------- effects


@pytest.mark.parametrize(("url", "detail"), [
    (f"{USERS}/abc", "The 'abc' attribute was invalid."),
    (f"{USERS}?filter=userName%20eq%20%22x%22", "The 'userName eq \"x\"' attribute was invalid."),
    (USERS, "The '' attribute was invalid."),
])
def test_error_fills_the_catalogue_text(client: TestClient, url: str, detail: str) -> None:
    """``error: <key>`` answers the catalogue error, {0} = the id in the path, else the raw filter, else empty."""
    activate(client, {"match": {}, "then": {"error": "invalid_attribute"}})
    response = client.get(url, headers=AUTH)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/scim+json"
    assert response.json() == {"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "400",
                               "scimType": "invalidValue", "detail": detail}
    e = journal_of(client)["entries"][-1]
    assert (e["status"], e["scimType"], e["detail"], e["rule"]) == (400, "invalidValue", detail, "t#0")
    assert e["principal"] == SERVICE


def test_explicit_status_detail_scim_type(client: TestClient) -> None:
    """``status``/``detail``/``scimType`` are sent as written; ``status`` alone borrows a fixed catalogue text."""
    activate(client, {"match": {"resource": "Users"}, "times": 1,
                      "then": {"status": 409, "detail": "Taken, sorry.", "scimType": "uniqueness"}},
             {"match": {"resource": "Users"}, "times": 1, "then": {"status": 429}},
             {"match": {"resource": "Users"}, "times": 1, "then": {"status": 502}},
             {"match": {"resource": "Users"}, "times": 1, "then": {"status": 204}},
             {"match": {"resource": "Users"}, "times": 1, "then": {"error": "not_found", "detail": "Gone."}})
    assert client.get(USERS, headers=AUTH).json() == {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "409", "scimType": "uniqueness",
        "detail": "Taken, sorry."}
    assert client.get(USERS, headers=AUTH).json()["detail"] == "Too many requests."
    assert client.get(USERS, headers=AUTH).json()["detail"] == "Bad Gateway."
    no_content = client.get(USERS, headers=AUTH)
    assert (no_content.status_code, no_content.content) == (204, b"")
    gone = client.get(f"{USERS}/{BJENSEN_ID}", headers=AUTH)
    assert (gone.status_code, gone.json()["detail"]) == (404, "Gone.")


def test_headers_go_on_whatever_answers(client: TestClient) -> None:
    """``headers`` are added to an error, and to a normally handled response (replacing same-named ones)."""
    activate(client, {"match": {"method": "POST"}, "then": {"error": "too_many_requests",
                                                            "headers": {"Retry-After": "2"}}},
             {"match": {}, "then": {"headers": {"X-Scenario": "on", "Content-Type": "application/json"}}})
    throttled = new_user(client, "a@x.test")
    assert (throttled.status_code, throttled.headers["retry-after"]) == (429, "2")
    normal = client.get(USERS, headers=AUTH)
    assert (normal.status_code, normal.headers["x-scenario"]) == (200, "on")
    assert normal.headers.get_list("content-type") == ["application/json"]
    assert journal_of(client)["entries"][-1]["rule"] == "t#1"


def test_unauthenticated_error_keeps_www_authenticate(client: TestClient) -> None:
    """``error: unauthenticated`` answers 401 with ``WWW-Authenticate: Bearer``."""
    activate(client, {"match": {}, "then": {"error": "unauthenticated"}})
    response = client.get(USERS, headers=AUTH)
    assert (response.status_code, response.headers["www-authenticate"]) == (401, "Bearer")


def test_error_writes_nothing(client: TestClient) -> None:
    """An ``error`` answers instead of handling: nothing is written."""
    activate(client, {"match": {"operation": "create"}, "then": {"error": "internal_error"}})
    assert new_user(client, "ghost@x.test").status_code == 500
    client.delete("/_mockscim/scenario")
    found = client.get(USERS, params={"filter": 'userName eq "ghost@x.test"'}, headers=AUTH).json()
    assert found["totalResults"] == 0


def test_apply_then_fail_commits_then_fails(client: TestClient) -> None:
    """``apply_then_fail``: the write is committed, the client sees the error, its retry meets 409."""
    activate(client, {"match": {"operation": "create"}, "times": 1, "then": {"apply_then_fail": "internal_error"}})
    failed = new_user(client, "twice@x.test")
    assert (failed.status_code, failed.json()["detail"]) == (500, "Internal Server Error.")
    found = client.get(USERS, params={"filter": 'userName eq "twice@x.test"'}, headers=AUTH).json()
    assert found["totalResults"] == 1
    retry = new_user(client, "twice@x.test")
    assert (retry.status_code, retry.json()["scimType"]) == (409, "uniqueness")
    first = journal_of(client, method="POST")["entries"][0]
    assert (first["status"], first["detail"], first["rule"], first["principal"]) == (
        500, "Internal Server Error.", "t#0", SERVICE)


def test_apply_then_fail_without_budget_lets_the_retry_meet_409(client: TestClient) -> None:
    """docs/behaviour.md §10 (its own example): with no `times`, the client's retry of the same create is handled,
    fails with 409, and that 409 is what the client sees (it got the 500 again); the rule still counts as fired and
    the journal names it; nothing more is written."""
    activate(client, {"match": {"resource": "Users", "operation": "create"},
                      "then": {"apply_then_fail": "internal_error"}})
    assert new_user(client, "ghost@x.test").status_code == 500
    retry = new_user(client, "ghost@x.test")
    assert retry.status_code == 409
    assert retry.json() == {"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "409",
                            "scimType": "uniqueness", "detail": "Attribute 'userName' MUST be unique."}
    found = client.get(USERS, params={"filter": 'userName eq "ghost@x.test"'}, headers=AUTH).json()
    assert found["totalResults"] == 1
    assert [r["fired"] for r in active_rules(client)] == [2]
    entries = journal_of(client, method="POST")["entries"]
    assert [(e["status"], e["rule"], e["scimType"], e["detail"]) for e in entries] == [
        (500, "t#0", None, "Internal Server Error."),
        (409, "t#0", "uniqueness", "Attribute 'userName' MUST be unique.")]


@pytest.mark.parametrize(("method", "path", "body", "status", "detail"), [
    ("POST", USERS, {"displayName": "no userName"}, 400, "Attribute 'userName' is required."),
    ("PUT", f"{USERS}/no-such-id", {"userName": "nobody@x.test"}, 404, "Resource 'no-such-id' not found."),
    ("PATCH", f"{USERS}/{BJENSEN_ID}", {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                                     "Operations": [{"op": "replace", "path": "userName", "value": "b@x.test"}]},
     400, "Attribute 'userName' is immutable and cannot be changed."),
])
def test_apply_then_fail_answers_a_failed_handling_as_is(client: TestClient, method: str, path: str,
                                                         body: dict[str, Any], status: int, detail: str) -> None:
    """docs/behaviour.md §10: when the handling itself fails, that failure is answered, not the rule's error, and
    nothing is written."""
    before = client.get("/_mockscim/state").json()
    activate(client, {"match": {"path": "/scim/v2/Users*"}, "then": {"apply_then_fail": "internal_error"}})
    r = client.request(method, path, headers=SCIM, json=body)
    assert (r.status_code, r.json()["detail"]) == (status, detail)
    assert active_rules(client)[0]["fired"] == 1
    assert journal_of(client, method=method)["entries"][-1]["rule"] == "t#0"
    client.delete("/_mockscim/scenario")
    assert client.get("/_mockscim/state").json() == before


def test_latency_waits(client: TestClient) -> None:
    """``latency`` delays the answer."""
    activate(client, {"match": {"resource": "Users"}, "then": {"latency": "200ms"}})
    started = time.perf_counter()
    assert client.get(USERS, headers=AUTH).status_code == 200
    assert time.perf_counter() - started >= 0.2


def test_latency_does_not_block_other_requests() -> None:
    """A slow request does not hold up others on the same server (asyncio.sleep, not time.sleep)."""
    with MockScim() as server, httpx.Client(base_url=server.url, headers=AUTH, timeout=10) as http:
        activate(http, {"match": {"resource": "Groups"}, "then": {"latency": "800ms"}})
        slow: list[float] = []

        def call_slow() -> None:
            started = time.perf_counter()
            http.get("/scim/v2/Groups")
            slow.append(time.perf_counter() - started)

        thread = threading.Thread(target=call_slow)
        thread.start()
        time.sleep(0.1)
        started = time.perf_counter()
        assert http.get(USERS).status_code == 200
        fast = time.perf_counter() - started
        thread.join()
        assert fast < 0.4 and slow[0] >= 0.8


def test_secret_server_effect_outlives_the_scenario(client: TestClient) -> None:
    """``secret_server: down`` changes state first (this request meets the 503) and stays after the scenario."""
    activate(client, {"match": {"resource": "Containers", "operation": "create"}, "times": 1,
                      "then": {"secret_server": "down"}})
    response = client.post("/scim/v2/Containers", headers=SCIM, json={"name": "Blocked"})
    assert (response.status_code, response.json()["detail"]) == (503, "Secret Server service unavailable.")
    client.delete("/_mockscim/scenario")
    assert client.get("/_mockscim/secret-server").json() == {"available": False}
    activate(client, {"match": {"resource": "Users"}, "then": {"secret_server": "up"}})
    assert client.get(USERS, headers=AUTH).status_code == 200
    assert client.get("/_mockscim/secret-server").json() == {"available": True}


def test_owner_revoke_on_the_addressed_container_and_restore(client: TestClient) -> None:
    """``owner: revoke`` on ``/Containers/{id}`` denies the caller Owner there and below; ``restore`` lifts it."""
    activate(client, {"match": {"method": "GET", "path": "/scim/v2/Containers/2"}, "then": {"owner": "revoke"}},
             {"match": {"method": "PATCH"}, "then": {"owner": "restore", "container": "2", "status": 202}})
    assert client.get("/scim/v2/Containers/2", headers=AUTH).status_code == 403  # this request meets it
    assert client.get("/scim/v2/Containers/3", headers=AUTH).status_code == 403  # inherits from 2
    assert client.get("/scim/v2/Containers/1", headers=AUTH).status_code == 200
    assert client.patch("/scim/v2/Containers/1", headers=SCIM, json={}).status_code == 202
    assert client.get("/scim/v2/Containers/3", headers=AUTH).status_code == 200


def test_owner_revoke_named_container_and_principal_persists_until_reset(client: TestClient) -> None:
    """A named container and principal are revoked whatever the request addresses, until reset."""
    activate(client, {"match": {"resource": "Users"}, "times": 1,
                      "then": {"owner": "revoke", "container": "5", "principal": SERVICE}})
    client.get(USERS, headers=AUTH)
    client.delete("/_mockscim/scenario")
    assert client.get("/scim/v2/Containers/5", headers=AUTH).status_code == 403
    client.post("/_mockscim/reset")
    assert client.get("/scim/v2/Containers/5", headers=AUTH).status_code == 200


@pytest.mark.parametrize(("method", "url", "body", "container"), [
    ("GET", "/scim/v2/ContainerPermissions/1", None, "1"),
    ("GET", '/scim/v2/ContainerPermissions?filter=container.value%20eq%20%225%22', None, "5"),
    ("POST", "/scim/v2/ContainerPermissions", {"container": {"value": "2"}, "user": {"value": BJENSEN_ID},
                                               "rights": ["View"]}, "2"),
    ("GET", "/scim/v2/PrivilegedData/12", None, "3"),
    ("GET", '/scim/v2/PrivilegedData?filter=container.value%20eq%20%223%22', None, "3"),
    ("GET", "/api/v1/secrets/12/fields/password", None, "3"),
    ("GET", "/api/v1/folders/5", None, "5"),
    ("GET", "/scim/v2/Containers", None, None),
    ("GET", "/scim/v2/PrivilegedData", None, None),
])
def test_owner_revoke_finds_the_addressed_container(client: TestClient, method: str, url: str,
                                                    body: dict[str, Any] | None, container: str | None) -> None:
    """The addressed container: a permission's container, a secret's container, a facade folder; else none."""
    activate(client, {"match": {}, "then": {"owner": "revoke"}})
    client.request(method, url, headers=SCIM, json=body)
    revoked = client.app.state.runtime.core.revoked  # type: ignore[attr-defined]
    assert revoked == ({(container, SERVICE)} if container else set())


def test_token_expire_meets_401_and_spares_the_static_token(client: TestClient) -> None:
    """``token: expire`` kills the request's OAuth token (that request already gets 401); never the static one."""
    activate(client, {"match": {"resource": "Users"}, "then": {"token": "expire"}})
    oauth = {"Authorization": f"Bearer {oauth_token(client)}"}
    assert client.get("/scim/v2/Groups", headers=oauth).status_code == 200
    assert client.get(USERS, headers=oauth).status_code == 401
    assert client.get("/scim/v2/Groups", headers=oauth).status_code == 401
    assert client.get(USERS, headers=AUTH).status_code == 200
    assert [e["rule"] for e in journal_of(client, path="/scim/v2/Users")["entries"]] == ["t#0", "t#0"]


def test_drop_connection_closes_the_socket() -> None:
    """``drop_connection``: the client gets a transport error; the journal records status 0 and the rule."""
    with MockScim() as server, httpx.Client(base_url=server.url, headers=AUTH) as http:
        activate(http, {"match": {"resource": "Groups"}, "times": 1, "then": {"drop_connection": True}})
        with pytest.raises(httpx.TransportError):
            http.get("/scim/v2/Groups")
        assert http.get("/scim/v2/Groups").status_code == 200
        dropped, ok = http.get("/_mockscim/journal").json()["entries"]
        assert (dropped["status"], dropped["rule"], ok["status"]) == (0, "t#0", 200)


def test_apply_then_fail_with_drop_commits_then_drops() -> None:
    """``apply_then_fail`` with ``drop_connection``: the write happens, then the connection drops."""
    with MockScim() as server, httpx.Client(base_url=server.url, headers=SCIM) as http:
        activate(http, {"match": {"operation": "create"}, "times": 1,
                        "then": {"apply_then_fail": "internal_error", "drop_connection": True}})
        with pytest.raises(httpx.TransportError):
            http.post(USERS, json={"userName": "dropped@x.test"})
        assert http.post(USERS, json={"userName": "dropped@x.test"}).status_code == 409


def test_drop_connection_in_process_gives_no_complete_response(client: TestClient) -> None:
    """In process there is no socket: the response starts and never completes; the journal says 0."""
    activate(client, {"match": {}, "then": {"drop_connection": True}})
    client.get(USERS, headers=AUTH)
    assert journal_of(client)["entries"][0]["status"] == 0


def test_scenario_from_settings_starts_active(make_client: Callable[..., TestClient]) -> None:
    """``--scenario NAME`` activates a shipped scenario at start."""
    client = make_client(scenario="duplicate-usernames")
    assert client.get("/_mockscim/scenario").json()["active"]["name"] == "duplicate-usernames"
    assert Settings(scenario="x").scenario == "x"


def test_scenario_error_on_the_facade_has_a_string_message(make_client: Any) -> None:
    """A rule firing on a Secret Server route answers {"errorCode","message"} (docs/behaviour.md §7), which the SDK can
    read."""
    client = make_client()
    rule = {"name": "facade-throttle", "rules": [{"match": {"resource": "SecretServer"},
                                                    "then": {"status": 429, "headers": {"Retry-After": "1"}}}]}
    assert client.post("/_mockscim/scenario", json=rule).status_code == 200
    r = client.get("/api/v1/secrets/12", headers={"Authorization": "Bearer mockscim-token"})
    assert r.status_code == 429 and r.headers["retry-after"] == "1"
    assert r.json() == {"errorCode": "ScenarioError", "message": "Too many requests."}


def test_scenario_error_on_the_token_endpoint_is_an_rfc6749_body(make_client: Any) -> None:
    """A rule firing on a token endpoint answers an RFC 6749 §5.2 body."""
    client = make_client()
    rule = {"name": "idp-down", "rules": [{"match": {"resource": "Token"}, "then": {"error": "service_unavailable"}}]}
    assert client.post("/_mockscim/scenario", json=rule).status_code == 200
    r = client.post("/identity/api/oauth2/token/xpmplatform", data={"grant_type": "client_credentials"})
    assert r.status_code == 503
    assert r.json() == {"error": "temporarily_unavailable", "error_description": "Secret Server service unavailable."}
