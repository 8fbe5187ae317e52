"""``GET /_mockscim/openapi.json`` (docs/behaviour.md §12): every control-plane route documented, nothing more."""

from __future__ import annotations

import re
from typing import Any

from starlette.routing import Route
from starlette.testclient import TestClient

from mockscim.control import routes

METHODS = {"get", "put", "post", "delete", "patch"}


def shape(path: str) -> str:
    """A path with its parameters unnamed: ``/journal/{request_id}`` and ``/journal/{requestId}`` are one route."""
    return re.sub(r"\{[^}]+\}", "{}", path)


def test_every_control_route_is_documented_and_nothing_else(client: TestClient) -> None:
    r = client.get("/_mockscim/openapi.json")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    doc = r.json()
    assert doc["openapi"] == "3.1.0" and doc["servers"] == [{"url": "/_mockscim"}]
    actual = {(shape(route.path), method.lower()) for route in routes() if isinstance(route, Route)
              for method in route.methods or () if method != "HEAD"}
    documented = {(shape(path), method) for path, item in doc["paths"].items() for method in item if method in METHODS}
    assert documented == actual
    assert len(actual) == 15


def test_every_operation_has_answers_and_every_reference_resolves(client: TestClient) -> None:
    doc = client.get("/_mockscim/openapi.json").json()
    ids = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            ids.append(op["operationId"])
            assert op["summary"] and op["responses"], (path, method)
            for status, answer in op["responses"].items():
                assert re.fullmatch(r"[1-5]\d\d", status) and answer["description"], (path, method, status)
                if status.startswith("4"):
                    schema = answer["content"]["application/json"]["schema"]
                    assert schema == {"$ref": "#/components/schemas/Error"}, (path, method, status)
            for param in op.get("parameters", []):
                if param["in"] == "path":
                    assert "{" + param["name"] + "}" in path
    assert len(ids) == len(set(ids))

    def refs(node: Any) -> list[str]:
        if isinstance(node, dict):
            return [v for k, v in node.items() if k == "$ref"] + [r for v in node.values() for r in refs(v)]
        if isinstance(node, list):
            return [r for v in node for r in refs(v)]
        return []

    for ref in refs(doc):
        name = ref.removeprefix("#/components/schemas/")
        assert name in doc["components"]["schemas"], ref


def test_the_documented_answers_are_what_the_routes_answer(client: TestClient) -> None:
    """A few live checks of the document against the server: required keys present, errors in the Error shape."""
    doc = client.get("/_mockscim/openapi.json").json()
    health = client.get("/_mockscim/health").json()
    schema = doc["paths"]["/health"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert set(schema["required"]) == set(health)
    missing = client.get("/_mockscim/journal/nope")
    assert missing.status_code == 404 and set(missing.json()) == {"error"}
    entry = doc["components"]["schemas"]["JournalEntry"]
    client.get("/scim/v2/Users")
    [kept] = client.get("/_mockscim/journal").json()["entries"]
    assert set(entry["required"]) <= set(kept) <= set(entry["properties"])
