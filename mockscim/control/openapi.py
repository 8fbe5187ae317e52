"""The OpenAPI 3.1 document of the control plane (docs/behaviour.md §12), served at ``/_mockscim/openapi.json``."""

from __future__ import annotations

from typing import Any

from mockscim import __version__

PREFIX = "/_mockscim"

_ERROR = {"$ref": "#/components/schemas/Error"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _error(description: str) -> dict[str, Any]:
    return _json(_ERROR, description)


_GUARDED = {"401": _error("`--admin-token` is set and the request does not carry it (`WWW-Authenticate: Bearer`)")}
_BAD = {"400": _error("the body or a parameter is invalid; `error` says which")}

_ENTRY = {
    "type": "object",
    "description": "One journal entry (docs/behaviour.md §12); bodies redacted, cut at 64 KiB.",
    "required": ["time", "requestId", "method", "path", "query", "principal", "userAgent", "status", "scimType",
                 "detail", "durationMs", "rule"],
    "properties": {
        "time": {"type": "string", "format": "date-time"},
        "requestId": {"type": "string"},
        "method": {"type": "string"},
        "path": {"type": "string"},
        "query": {"type": "string"},
        "principal": {"type": ["string", "null"]},
        "userAgent": {"type": ["string", "null"]},
        "status": {"type": "integer", "description": "0 for a dropped connection"},
        "scimType": {"type": ["string", "null"]},
        "detail": {"type": ["string", "null"]},
        "durationMs": {"type": "number"},
        "rule": {"type": ["string", "null"], "description": "`<scenario>#<index>` of the rule that fired"},
        "request": {"$ref": "#/components/schemas/Message"},
        "response": {"$ref": "#/components/schemas/Message"},
        "bodies": {"const": "dropped", "description": "instead of request/response, once the body budget is spent"},
    },
}

_MESSAGE = {
    "type": "object",
    "required": ["headers", "body"],
    "properties": {
        "headers": {"type": "object", "additionalProperties": {"type": "string"}},
        "body": {"description": "JSON as JSON, other text as a string, binary as {\"base64\": …}, or null"},
        "truncated": {"const": True},
    },
}

_SCENARIO_STATUS = {
    "type": "object",
    "required": ["active"],
    "properties": {"active": {"oneOf": [{"type": "null"}, {
        "type": "object",
        "required": ["name", "description", "seed", "activatedAt", "rules"],
        "properties": {
            "name": {"type": "string"}, "description": {"type": "string"}, "seed": {},
            "activatedAt": {"type": "string", "format": "date-time"},
            "rules": {"type": "array", "items": {
                "type": "object", "required": ["index", "fired", "remaining"],
                "properties": {"index": {"type": "integer"}, "fired": {"type": "integer"},
                               "remaining": {"type": ["integer", "null"]}}}},
        },
    }]}},
}

_SCENARIO_BODY = {"oneOf": [
    {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}},
     "description": "a shipped scenario"},
    {"type": "object", "required": ["path"], "properties": {"path": {"type": "string"}},
     "description": "a scenario file on the server"},
    {"type": "object", "required": ["name", "rules"], "description": "a scenario document (docs/scenarios)"},
]}


def _query(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema or {"type": "string"}}


def _paths() -> dict[str, Any]:
    journal_filters = [
        _query("status", "a code (404) or a class (4xx)"),
        _query("method", "exact, case-insensitive"),
        _query("path", "exact; a glob when it contains *"),
        _query("since", "an ISO 8601 time (entries at or after it) or a requestId (entries after it)"),
        _query("q", "a case-insensitive substring of the path, query, detail or request body"),
        _query("principal", "the entry's principal"),
        _query("rule", "a glob on the entry's rule"),
        _query("limit", "the newest N matching entries (default 100)", {"type": "integer", "minimum": 0}),
    ]
    return {
        "/": {"get": {
            "summary": "The dashboard", "operationId": "dashboard",
            "responses": {"200": {"description": "an HTML page", "content": {"text/html": {}}}, **_GUARDED}}},
        "/health": {"get": {
            "summary": "Health, version, profile and Secret Server availability", "operationId": "health",
            "security": [],
            "responses": {
                "200": _json({"type": "object", "required": ["status", "version", "profile", "secretServer", "store"],
                              "properties": {"status": {"const": "ok"}, "version": {"type": "string"},
                                             "profile": {"type": "string"}, "secretServer": {"enum": ["up", "down"]},
                                             "store": {"const": "ok"}}}, "healthy"),
                "503": _json({"type": "object", "required": ["status", "store", "storeError"],
                              "properties": {"status": {"const": "failing"}, "store": {"const": "failing"},
                                             "storeError": {"type": "string"}}},
                             "the store's disk refuses writes (docs/behaviour.md §13)")}}},
        "/reset": {"post": {
            "summary": "The store back to its fixture, Secret Server to its start-up availability",
            "operationId": "reset",
            "responses": {"200": _json({"type": "object", "properties": {"status": {"const": "reset"}}}, "reset"),
                          **_GUARDED}}},
        "/state": {
            "get": {"summary": "Export the whole store (docs/behaviour.md §13)", "operationId": "exportState",
                    "responses": {"200": _json({"type": "object"}, "the state"), **_GUARDED}},
            "put": {"summary": "Import the whole store", "operationId": "loadState",
                    "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}},
                    "responses": {"200": _json({"type": "object", "properties": {
                        "status": {"const": "loaded"}, "counts": {"type": "object"}}}, "loaded"), **_BAD,
                        **_GUARDED}}},
        "/secret-server": {
            "get": {"summary": "Whether Secret Server is up", "operationId": "getSecretServer",
                    "responses": {"200": _json({"$ref": "#/components/schemas/Availability"}, "availability"),
                                  **_GUARDED}},
            "put": {"summary": "Take Secret Server down or bring it back (docs/behaviour.md §8)",
                    "operationId": "setSecretServer",
                    "requestBody": {"required": True, "content": {"application/json": {
                        "schema": {"$ref": "#/components/schemas/Availability"}}}},
                    "responses": {"200": _json({"$ref": "#/components/schemas/Availability"}, "availability"),
                                  **_BAD, **_GUARDED}}},
        "/scenario": {
            "get": {"summary": "The active scenario with each rule's fired and remaining counts",
                    "operationId": "getScenario",
                    "responses": {"200": _json(_SCENARIO_STATUS, "the active scenario, or null"), **_GUARDED}},
            "post": {"summary": "Activate a scenario (afresh)", "operationId": "activateScenario",
                     "requestBody": {"required": True, "content": {
                         "application/json": {"schema": _SCENARIO_BODY},
                         "application/yaml": {"schema": _SCENARIO_BODY},
                         "text/yaml": {"schema": _SCENARIO_BODY}}},
                     "responses": {"200": _json(_SCENARIO_STATUS, "activated"),
                                   "400": _error("unknown, missing or invalid scenario; the active one stays"),
                                   **_GUARDED}},
            "delete": {"summary": "Deactivate (idempotent)", "operationId": "deactivateScenario",
                       "responses": {"204": {"description": "no scenario is active"}, **_GUARDED}}},
        "/scenarios": {"get": {
            "summary": "The shipped scenarios", "operationId": "listScenarios",
            "responses": {"200": _json({"type": "object", "properties": {"scenarios": {"type": "array", "items": {
                "type": "object", "properties": {"name": {"type": "string"}, "description": {"type": "string"}}}}}},
                "the shipped scenarios"), **_GUARDED}}},
        "/journal": {
            "get": {"summary": "Journal entries, newest last", "operationId": "queryJournal",
                    "parameters": journal_filters,
                    "responses": {"200": _json({"type": "object", "required": ["total", "entries"], "properties": {
                        "total": {"type": "integer", "description": "every matching entry, before limit"},
                        "entries": {"type": "array", "items": {"$ref": "#/components/schemas/JournalEntry"}}}},
                        "the matching entries"), **_BAD, **_GUARDED}},
            "delete": {"summary": "Clear the journal", "operationId": "clearJournal",
                       "responses": {"204": {"description": "cleared"}, **_GUARDED}}},
        "/journal/{requestId}": {"get": {
            "summary": "One journal entry with its bodies", "operationId": "getJournalEntry",
            "parameters": [{"name": "requestId", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": _json({"$ref": "#/components/schemas/JournalEntry"}, "the entry"),
                          "404": _error("no entry with that requestId is kept"), **_GUARDED}}},
        "/openapi.json": {"get": {
            "summary": "This document", "operationId": "openapi",
            "responses": {"200": _json({"type": "object"}, "OpenAPI 3.1"), **_GUARDED}}},
    }


def document() -> dict[str, Any]:
    """The OpenAPI 3.1 document (https://spec.openapis.org/oas/v3.1.0) of every control-plane route."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "mockscim control plane", "version": __version__,
                 "description": "Reset, state, Secret Server availability, scenarios and the request journal of a "
                                "running mockscim (docs/behaviour.md §12)."},
        "servers": [{"url": PREFIX}],
        "security": [{}, {"adminToken": []}],
        "paths": _paths(),
        "components": {
            "securitySchemes": {"adminToken": {"type": "http", "scheme": "bearer",
                                               "description": "the `--admin-token`, when one is set"}},
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}},
                "Availability": {"type": "object", "required": ["available"],
                                 "properties": {"available": {"type": "boolean"}}},
                "JournalEntry": _ENTRY,
                "Message": _MESSAGE,
            },
        },
    }
