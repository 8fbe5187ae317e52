"""A web page cannot drive the control plane (docs/behaviour.md §12): form posts, foreign origins, files outside the
working directory, and no file contents in errors."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from starlette.testclient import TestClient

from mockscim import MockScim
from tests.helpers import AUTH

DOWN = {"name": "x", "rules": [{"match": {"path": "/scim/v2/*"}, "then": {"status": 503}}]}
EVIL = "http://evil.example"


def users_ok(client: TestClient) -> bool:
    return client.get("/scim/v2/Users", headers=AUTH).status_code == 200


@pytest.mark.parametrize(("path", "content_type"), [
    ("/_mockscim/scenario", "text/plain"),
    ("/_mockscim/scenario", "application/x-www-form-urlencoded"),
    ("/_mockscim/scenario", "multipart/form-data; boundary=x"),
    ("/_mockscim/state", "text/plain"),
    ("/_mockscim/secret-server", "text/plain;charset=UTF-8"),
])
def test_a_form_post_is_refused_and_changes_nothing(client: TestClient, path: str, content_type: str) -> None:
    """What an HTML form can send without asking (enctype text/plain carries JSON-looking text) → 415, unchanged."""
    state = client.get("/_mockscim/state").json()
    body = json.dumps(DOWN if path.endswith("scenario") else {"available": False} if "secret" in path else {})
    method = client.put if path != "/_mockscim/scenario" else client.post
    response = method(path, content=body, headers={"Content-Type": content_type})
    allowed = "application/json or application/scim+json" if path != "/_mockscim/scenario" else \
        "application/json or application/scim+json or application/x-yaml or application/yaml or text/yaml"
    assert response.status_code == 415
    assert response.json() == {"error": f"control-plane writes take {allowed} (Content-Type: "
                                        f"{content_type.partition(';')[0]})"}
    assert client.get("/_mockscim/scenario").json() == {"active": None}
    assert client.get("/_mockscim/secret-server").json() == {"available": True}
    assert client.get("/_mockscim/state").json() == state and users_ok(client)


@pytest.mark.parametrize("origin", [EVIL, "null", "http://127.0.0.1:1", "https://testserver"])
def test_a_foreign_origin_is_refused_even_with_json(client: TestClient, origin: str) -> None:
    response = client.post("/_mockscim/scenario", json=DOWN, headers={"Origin": origin})
    assert response.status_code == 403
    assert response.json() == {"error": f"cross-origin request refused: Origin {origin!r} is not this server's "
                                        "origin (http://testserver)"}
    reset = client.post("/_mockscim/reset", headers={"Origin": origin})
    assert reset.status_code == 403
    assert client.get("/_mockscim/scenario").json() == {"active": None} and users_ok(client)


def test_own_origin_and_no_origin_are_served(client: TestClient) -> None:
    """The server's own pages (the dashboard) and non-browser clients (curl, SDKs: no Origin) work."""
    assert client.post("/_mockscim/scenario", json={"name": "throttled"},
                       headers={"Origin": "http://testserver"}).status_code == 200
    assert client.delete("/_mockscim/scenario").status_code == 204
    assert client.post("/_mockscim/reset").status_code == 200  # no body: no type needed
    yaml_doc = "name: y\nrules:\n  - match: {}\n    then: {latency: 1ms}\n"
    as_yaml = client.post("/_mockscim/scenario", content=yaml_doc, headers={"Content-Type": "application/yaml"})
    assert as_yaml.status_code != 415  # a YAML type passes the guard (the YAML body itself: docs/behaviour.md §12)


def test_a_cross_site_form_post_over_http_changes_nothing() -> None:
    """The reproduction of the finding, over a real socket: curl -H 'Origin: http://evil.example'
    -H 'Content-Type: text/plain' --data-binary '{…503 rule…}' $B/_mockscim/scenario."""
    with MockScim() as server:
        url = server.url
        response = httpx.post(f"{url}/_mockscim/scenario", content=json.dumps(DOWN),
                              headers={"Origin": EVIL, "Content-Type": "text/plain"})
        assert response.status_code == 403 and "cross-origin request refused" in response.json()["error"]
        assert httpx.get(f"{url}/scim/v2/Users", headers=AUTH).status_code == 200


@pytest.fixture
def elsewhere(tmp_path: Path) -> Iterator[Path]:
    """A directory that is not the working directory (which is the repository: pytest's rootdir)."""
    yield tmp_path


def test_a_scenario_file_outside_the_working_directory_is_not_read(client: TestClient, elsewhere: Path) -> None:
    secret = elsewhere / "secrets.yaml"
    secret.write_text("name: x\nrules: []\npassword: hunter2\n", encoding="utf-8")
    response = client.post("/_mockscim/scenario", json={"path": str(secret)})
    assert response.status_code == 400
    assert response.json() == {"error": f"scenario file {str(secret)!r} is outside the working directory (see "
                                         "--scenario-dir): not read"}
    link = Path.cwd() / f".mockscim-test-link-{os.getpid()}.yaml"
    link.symlink_to(secret)
    try:  # a link under the working directory to a file outside it: resolved, then refused
        refused = client.post("/_mockscim/scenario", json={"path": link.name})
        assert refused.status_code == 400 and "is outside the working directory" in refused.json()["error"]
    finally:
        link.unlink()


def test_errors_about_a_scenario_file_never_echo_its_values(make_client: Callable[..., TestClient],
                                                             elsewhere: Path) -> None:
    client = make_client(scenario_dir=str(elsewhere))
    path = elsewhere / "bad.yaml"
    path.write_text("name: x\nrules:\n  - match: {path: 'hunter2-[x'}\n    then: {status: 'hunter3'}\n"
                    "    probability: 7\n", encoding="utf-8")
    error = client.post("/_mockscim/scenario", json={"path": str(path)}).json()["error"]
    assert error.startswith(f"{path}: rules[0]") and "hunter" not in error and "7" not in error.removeprefix(
        str(path))
    keys = elsewhere / "keys.yaml"
    keys.write_text("name: x\nrules: []\napi_key: sk-live-123\n", encoding="utf-8")
    error = client.post("/_mockscim/scenario", json={"path": str(keys)}).json()["error"]
    assert "api_key" in error and "sk-live" not in error  # the key is named, its value is not


def test_the_host_allow_list_seam_refuses_a_rebound_name() -> None:
    """DNS rebinding: a page of evil.example whose name now points at 127.0.0.1 sends Host and Origin of evil.example,
    so its Origin is "the server's own". The Host allow-list (issue 17) closes that through this seam (create_app
    wires None for now: no check until that option exists)."""
    from mockscim.app import create_app
    from mockscim.middleware.crosssite import CrossSiteMiddleware

    guarded = TestClient(CrossSiteMiddleware(create_app(), allowed_hosts={"127.0.0.1", "localhost"}),
                         base_url="http://evil.example:8000")
    r = guarded.post("/_mockscim/reset", headers={"Origin": "http://evil.example:8000"})
    assert r.status_code == 403 and r.json() == {"error": "Host 'evil.example:8000' is not one this server answers to"}
    local = TestClient(CrossSiteMiddleware(create_app(), allowed_hosts={"127.0.0.1"}), base_url="http://127.0.0.1:8000")
    assert local.post("/_mockscim/reset", headers={"Origin": "http://127.0.0.1:8000"}).status_code == 200
