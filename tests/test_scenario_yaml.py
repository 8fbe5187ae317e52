"""``POST /_mockscim/scenario`` with a YAML or JSON scenario document as the body (docs/behaviour.md §12)."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from .helpers import AUTH

DOC = """\
# a scenario as a file holds it
name: groups-down
description: every Groups request fails
rules:
  - match: {path: "/scim/v2/Groups"}
    then: {status: 503}
"""


@pytest.mark.parametrize("media", ["application/yaml", "text/yaml", "application/yaml; charset=utf-8"])
def test_a_yaml_document_activates(client: TestClient, media: str) -> None:
    r = client.post("/_mockscim/scenario", content=DOC.encode(), headers={"Content-Type": media})
    assert r.status_code == 200, r.text
    active = r.json()["active"]
    assert (active["name"], active["description"]) == ("groups-down", "every Groups request fails")
    assert [(rule["index"], rule["fired"], rule["remaining"]) for rule in active["rules"]] == [(0, 0, None)]
    assert client.get("/scim/v2/Groups", headers=AUTH).status_code == 503
    assert client.get("/_mockscim/scenario").json()["active"]["rules"][0]["fired"] == 1


def test_a_shipped_file_posted_as_is(client: TestClient) -> None:
    text = (Path(__file__).resolve().parents[1] / "scenarios" / "throttled.yaml").read_bytes()
    r = client.post("/_mockscim/scenario", content=text, headers={"Content-Type": "application/yaml"})
    assert r.status_code == 200 and r.json()["active"]["name"] == "throttled"


def test_a_json_document_still_activates(client: TestClient) -> None:
    r = client.post("/_mockscim/scenario", json={"name": "j", "rules": [
        {"match": {"path": "/scim/v2/Groups"}, "then": {"status": 503}}]})
    assert r.status_code == 200 and r.json()["active"]["name"] == "j"


def test_malformed_or_invalid_yaml_is_a_400_and_the_active_scenario_stays(client: TestClient) -> None:
    client.post("/_mockscim/scenario", content=DOC.encode(), headers={"Content-Type": "application/yaml"})
    bad = client.post("/_mockscim/scenario", content=b"rules: [\n  - {match: ", headers={"Content-Type": "text/yaml"})
    assert bad.status_code == 400
    assert bad.json() == {"error": "malformed YAML at line 2, column 3: expected the node content, but found '-'"}
    invalid = client.post("/_mockscim/scenario", content=b"rules:\n  - then: {status: 999}\n",
                          headers={"Content-Type": "application/yaml"})
    assert (invalid.status_code, invalid.json()) == (400, {"error": "inline: missing key 'name'"})
    assert client.post("/_mockscim/scenario", content=b"\xff\xfe",
                       headers={"Content-Type": "application/yaml"}).json() == {"error": "malformed YAML: not UTF-8"}
    assert client.get("/_mockscim/scenario").json()["active"]["name"] == "groups-down"
