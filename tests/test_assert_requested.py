"""``MockScim.assert_requested`` and the bodies of ``JournalEntry`` (docs/behaviour.md §14), directly and in pytest."""

from __future__ import annotations

import re

import httpcore  # noqa: F401  (imported up front for the inner pytester run: see tests/test_plugin.py)
import pytest
import uvicorn.protocols.http.auto  # noqa: F401

from mockscim.testing import MockScim

from .helpers import CORE_USER, PATCH_OP

pytest_plugins = ["pytester"]

USER_ID = "8a0b3f0e-5c1d-4e0a-9a57-000000000001"


def ids_out(text: str) -> str:
    """The report with request ids (different each run) replaced by ``ID``."""
    return re.sub(r"\([0-9a-f]{6}-\d{8}\)", "(ID)", text)


def deactivate(active: bool) -> dict[str, object]:
    return {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "active", "value": active}]}


@pytest.fixture(scope="module")
def server() -> MockScim:
    with MockScim() as m:
        yield m  # type: ignore[misc]


def traffic(m: MockScim) -> None:
    m.reset()
    with m.client() as c:
        c.get("/Users", params={"count": 1})
        c.patch(f"/Users/{USER_ID}", json=deactivate(False))
        c.post("/Users", json={"schemas": [CORE_USER], "userName": "x@example.com", "password": "Pa55-word!"})


def test_entries_carry_bodies_and_headers(server: MockScim) -> None:
    traffic(server)
    get, patch, post = server.journal()
    assert get.request_body is None and get.response_body["totalResults"] == 5
    assert patch.request_body == deactivate(False)
    assert patch.request_headers["authorization"] == "[REDACTED]"
    assert patch.request_headers["content-type"] == "application/json"
    assert post.request_body == {"schemas": [CORE_USER], "userName": "x@example.com", "password": "[REDACTED]"}
    assert post.response_body["userName"] == "x@example.com"


def test_matching_requests_are_returned(server: MockScim) -> None:
    traffic(server)
    [patch] = server.assert_requested("PATCH", f"/scim/v2/Users/{USER_ID}", body=deactivate(False), times=1)
    assert patch.status == 200
    assert len(server.assert_requested("patch", "/scim/v2/Users/*")) == 1
    assert len(server.assert_requested("GET", "/scim/v2/Users?count=1")) == 1
    assert server.assert_requested("DELETE", "/scim/v2/Users/*", times=0) == []
    assert len(server.assert_requested("POST", "/scim/v2/Users", body=lambda b: b["userName"] == "x@example.com")) == 1


def test_a_near_miss_lists_the_nearest_entries_with_a_body_diff(server: MockScim) -> None:
    traffic(server)
    with pytest.raises(AssertionError) as failed:
        server.assert_requested("PATCH", "/scim/v2/Users/*", body=deactivate(True))
    assert ids_out(str(failed.value)) == f"""\
expected PATCH /scim/v2/Users/* to be requested at least once, but 0 requests matched (of 3 in the journal).
with body:
    {{
      "Operations": [
        {{
          "op": "replace",
          "path": "active",
          "value": true
        }}
      ],
      "schemas": [
        "urn:ietf:params:scim:api:messages:2.0:PatchOp"
      ]
    }}
Nearest journal entries:
  1. PATCH /scim/v2/Users/{USER_ID} → 200 (ID)
     body (- expected, + sent):
       @@ -4,5 +4,5 @@
              "op": "replace",
              "path": "active",
       -      "value": true
       +      "value": false
            }}
          ],
  2. POST /scim/v2/Users → 201 (ID)
     method: POST (expected PATCH)
     path: /scim/v2/Users (expected /scim/v2/Users/*)
     body: {{"schemas": ["{CORE_USER}"], "userName": "x@example.com", "password": "[REDACTED]"}}
  3. GET /scim/v2/Users?count=1 → 200 (ID)
     method: GET (expected PATCH)
     path: /scim/v2/Users (expected /scim/v2/Users/*)
     body: null"""


def test_times_and_an_empty_journal(server: MockScim) -> None:
    traffic(server)
    with pytest.raises(AssertionError) as failed:
        server.assert_requested("PATCH", "/scim/v2/Users/*", times=2)
    assert ids_out(str(failed.value)) == (
        "expected PATCH /scim/v2/Users/* to be requested exactly 2 times, but 1 request matched (of 3 in the journal)."
        f"\nMatching requests:\n  PATCH /scim/v2/Users/{USER_ID} → 200 (ID)")
    server.clear_journal()
    with pytest.raises(AssertionError) as failed:
        server.assert_requested("GET", "/scim/v2/Groups")
    assert str(failed.value) == (
        "expected GET /scim/v2/Groups to be requested at least once, but 0 requests matched (of 0 in the journal)."
        "\nThe journal is empty: no request reached mockscim.")


def test_the_fixture_fails_a_test_with_the_near_miss_report(pytester: pytest.Pytester) -> None:
    pytester.makepyfile("""
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
UID = "8a0b3f0e-5c1d-4e0a-9a57-000000000001"

def body(active):
    return {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "active", "value": active}]}

def test_sent_as_expected(mockscim):
    with mockscim.client() as c:
        c.patch(f"/Users/{UID}", json=body(False))
    mockscim.assert_requested("PATCH", f"/scim/v2/Users/{UID}", body=body(False), times=1)

def test_not_sent_as_expected(mockscim):
    with mockscim.client() as c:
        c.patch(f"/Users/{UID}", json=body(False))
    mockscim.assert_requested("PATCH", f"/scim/v2/Users/{UID}", body=body(True))
""")
    result = pytester.runpytest("-p", "no:mockscim", "-p", "mockscim.pytest_plugin")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines([
        "*AssertionError: expected PATCH /scim/v2/Users/8a0b3f0e-* to be requested at least once, but 0 requests "
        "matched (of 1 in the journal).",
        "*Nearest journal entry:",
        "*1. PATCH /scim/v2/Users/8a0b3f0e-5c1d-4e0a-9a57-000000000001 → 200 (*)",
        "*-      \"value\": true",
        "*+      \"value\": false",
    ])
