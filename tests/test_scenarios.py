"""Tests for scenario loading, validation, request classification and rule budgets (docs/behaviour.md §10)."""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from mockscim.scenarios import (
    SHIPPED_DIR,
    ActiveScenario,
    Decision,
    Effect,
    RequestInfo,
    Scenario,
    ScenarioError,
    check_files,
    load_scenario,
    parse_duration,
    resolve,
    shipped,
)
from mockscim.surfaces import classify

SHIPPED_NAMES = [
    "duplicate-usernames",
    "federated-user-edit",
    "flaky-secret-server",
    "ghost-writes",
    "internal-errors",
    "owner-revoked",
    "secret-server-outage",
    "slow-network",
    "throttled",
    "token-expiry",
]

OK_RULE: dict[str, Any] = {"match": {}, "then": {"status": 500}}


class FakeClock:
    """A settable monotonic clock."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def scenario(*rules: Mapping[str, Any], seed: int | None = None, name: str = "t") -> Scenario:
    """An inline scenario holding ``rules``."""
    data: dict[str, Any] = {"name": name, "rules": list(rules)}
    if seed is not None:
        data["seed"] = seed
    return load_scenario(data)


def req(method: str = "GET", path: str = "/scim/v2/Users", **kwargs: Any) -> RequestInfo:
    """A request to decide on."""
    return RequestInfo(method=method, path=path, **kwargs)


def fired_index(active: ActiveScenario, request: RequestInfo) -> int | None:
    """The index of the rule that fires for ``request``, or None."""
    decision = active.decide(request)
    return None if decision is None else decision.rule.index


# ------------------------------------------------------------------------------------------------------ validation

VALIDATION_CASES: list[tuple[str, dict[str, Any], str]] = [
    ("unknown top-level key", {"name": "x", "rules": [], "nmae": "y"}, "inline: unknown key 'nmae'"),
    ("missing name", {"rules": []}, "inline: missing key 'name'"),
    ("missing rules", {"name": "x"}, "inline: missing key 'rules'"),
    ("rules not a list", {"name": "x", "rules": {"a": 1}}, "inline: rules: must be a list"),
    ("name not a string", {"name": 3, "rules": []}, "inline: name: must be a string"),
    ("seed not an integer", {"name": "x", "seed": "7", "rules": []}, "inline: seed: must be an integer"),
    ("rule not a mapping", {"name": "x", "rules": [OK_RULE, "oops"]}, "inline: rules[1]: must be a mapping"),
    (
        "unknown rule key",
        {"name": "x", "rules": [OK_RULE, OK_RULE, {**OK_RULE, "thne": {}}]},
        "inline: rules[2]: unknown key 'thne'",
    ),
    ("missing then", {"name": "x", "rules": [{"match": {}}]}, "inline: rules[0]: missing key 'then'"),
    ("missing match", {"name": "x", "rules": [{"then": {"status": 500}}]}, "inline: rules[0]: missing key 'match'"),
    (
        "unknown match key",
        {"name": "x", "rules": [OK_RULE, {"match": {"methd": "GET"}, "then": {"status": 500}}]},
        "inline: rules[1].match: unknown key 'methd'",
    ),
    (
        "unknown then key",
        {"name": "x", "rules": [{"match": {}, "then": {"eror": "internal_error"}}]},
        "inline: rules[0].then: unknown key 'eror'",
    ),
    (
        "bad latency",
        {"name": "x", "rules": [{"match": {}, "then": {"latency": "5 sec"}}]},
        "inline: rules[0].then.latency: bad duration '5 sec'",
    ),
    (
        "bad window start",
        {"name": "x", "rules": [{**OK_RULE, "window": {"start": "soon", "end": "5s"}}]},
        "inline: rules[0].window.start: bad duration 'soon'",
    ),
    (
        "bad window end",
        {"name": "x", "rules": [{**OK_RULE, "window": {"start": "1s", "end": "1h"}}]},
        "inline: rules[0].window.end: bad duration '1h'",
    ),
    (
        "window start after end",
        {"name": "x", "rules": [{**OK_RULE, "window": {"start": "5s", "end": "5s"}}]},
        "inline: rules[0].window: start (5 s) must be before end (5 s)",
    ),
    (
        "unknown window key",
        {"name": "x", "rules": [{**OK_RULE, "window": {"begin": "5s"}}]},
        "inline: rules[0].window: unknown key 'begin'",
    ),
    (
        "probability above 1",
        {"name": "x", "rules": [{**OK_RULE, "probability": 1.5}]},
        "inline: rules[0].probability: must be a number in [0, 1]",
    ),
    (
        "probability below 0",
        {"name": "x", "rules": [{**OK_RULE, "probability": -0.1}]},
        "inline: rules[0].probability: must be a number in [0, 1]",
    ),
    (
        "probability a string",
        {"name": "x", "rules": [{**OK_RULE, "probability": "0.5"}]},
        "inline: rules[0].probability: must be a number in [0, 1]",
    ),
    (
        "probability a boolean",
        {"name": "x", "rules": [{**OK_RULE, "probability": True}]},
        "inline: rules[0].probability: must be a number in [0, 1]",
    ),
    (
        "negative after",
        {"name": "x", "rules": [{**OK_RULE, "after": -1}]},
        "inline: rules[0].after: must be a non-negative integer",
    ),
    (
        "fractional times",
        {"name": "x", "rules": [{**OK_RULE, "times": 1.5}]},
        "inline: rules[0].times: must be a non-negative integer",
    ),
    (
        "expect not a boolean",
        {"name": "x", "rules": [{**OK_RULE, "expect": "yes"}]},
        "inline: rules[0].expect: must be true or false",
    ),
    (
        "unknown catalogue key",
        {"name": "x", "rules": [{"match": {}, "then": {"error": "teapot"}}]},
        "inline: rules[0].then.error: unknown catalogue key 'teapot'",
    ),
    (
        "unknown apply_then_fail key",
        {"name": "x", "rules": [{"match": {}, "then": {"apply_then_fail": "oops"}}]},
        "inline: rules[0].then.apply_then_fail: unknown catalogue key 'oops'",
    ),
    (
        "error and status",
        {"name": "x", "rules": [{"match": {}, "then": {"error": "internal_error", "status": 500}}]},
        "inline: rules[0].then: 'error' and 'status' are exclusive",
    ),
    (
        "error and apply_then_fail",
        {
            "name": "x",
            "rules": [{"match": {}, "then": {"error": "internal_error", "apply_then_fail": "internal_error"}}],
        },
        "inline: rules[0].then: 'error' and 'apply_then_fail' are exclusive",
    ),
    (
        "status out of range",
        {"name": "x", "rules": [{"match": {}, "then": {"status": 600}}]},
        "inline: rules[0].then.status: must be an HTTP status 100..599",
    ),
    (
        "status a string",
        {"name": "x", "rules": [{"match": {}, "then": {"status": "429"}}]},
        "inline: rules[0].then.status: must be an HTTP status 100..599",
    ),
    ("no effect", {"name": "x", "rules": [{"match": {}, "then": {}}]}, "inline: rules[0].then: no effect"),
    (
        "drop_connection false only",
        {"name": "x", "rules": [{"match": {}, "then": {"drop_connection": False}}]},
        "inline: rules[0].then: no effect",
    ),
    (
        "drop_connection not a boolean",
        {"name": "x", "rules": [{"match": {}, "then": {"drop_connection": "yes"}}]},
        "inline: rules[0].then.drop_connection: must be true or false",
    ),
    (
        "detail alone",
        {"name": "x", "rules": [{"match": {}, "then": {"detail": "x", "latency": "1s"}}]},
        "inline: rules[0].then: 'detail' and 'scimType' need 'error', 'status' or 'apply_then_fail'",
    ),
    (
        "container without owner",
        {"name": "x", "rules": [{"match": {}, "then": {"container": "3", "latency": 1}}]},
        "inline: rules[0].then: 'container' and 'principal' need 'owner'",
    ),
    (
        "header value not a string",
        {"name": "x", "rules": [{"match": {}, "then": {"headers": {"Retry-After": 2}}}]},
        "inline: rules[0].then.headers.Retry-After: must be a string",
    ),
    (
        "bad header name",
        {"name": "x", "rules": [{"match": {}, "then": {"headers": {"Retry After": "2"}}}]},
        "inline: rules[0].then.headers: bad header name 'Retry After'",
    ),
    (
        "header value with a line break",
        {"name": "x", "rules": [{"match": {}, "then": {"headers": {"X": "a\r\nb"}}}]},
        "inline: rules[0].then.headers.X: a header value must not hold line breaks",
    ),
    (
        "bad secret_server",
        {"name": "x", "rules": [{"match": {}, "then": {"secret_server": "off"}}]},
        "inline: rules[0].then.secret_server: unknown value 'off'",
    ),
    (
        "bad owner",
        {"name": "x", "rules": [{"match": {}, "then": {"owner": "remove"}}]},
        "inline: rules[0].then.owner: unknown value 'remove'",
    ),
    (
        "bad token",
        {"name": "x", "rules": [{"match": {}, "then": {"token": "revoke"}}]},
        "inline: rules[0].then.token: unknown value 'revoke'",
    ),
    (
        "bad operation",
        {"name": "x", "rules": [{"match": {"operation": "update"}, "then": {"status": 500}}]},
        "inline: rules[0].match.operation: unknown operation 'update'",
    ),
    (
        "bad resource",
        {"name": "x", "rules": [{"match": {"resource": "User"}, "then": {"status": 500}}]},
        "inline: rules[0].match.resource: unknown resource 'User'",
    ),
    (
        "method not a string",
        {"name": "x", "rules": [{"match": {"method": 1}, "then": {"status": 500}}]},
        "inline: rules[0].match.method: must be a string",
    ),
    (
        "bad path glob",
        {"name": "x", "rules": [{"match": {"path": "/scim/v2/[Users"}, "then": {"status": 500}}]},
        "inline: rules[0].match.path: bad glob '/scim/v2/[Users': unbalanced '['",
    ),
    (
        "bad filter glob",
        {"name": "x", "rules": [{"match": {"filter": "userName eq [x"}, "then": {"status": 500}}]},
        "inline: rules[0].match.filter: bad glob 'userName eq [x': unbalanced '['",
    ),
    (
        "bad header glob",
        {"name": "x", "rules": [{"match": {"header": {"User-Agent": "[!"}}, "then": {"status": 500}}]},
        "inline: rules[0].match.header.User-Agent: bad glob '[!': unbalanced '['",
    ),
    (
        "bad body glob",
        {"name": "x", "rules": [{"match": {"body": {"userName": "a[b"}}, "then": {"status": 500}}]},
        "inline: rules[0].match.body.userName: bad glob 'a[b': unbalanced '['",
    ),
    (
        "non-string glob",
        {"name": "x", "rules": [{"match": {"body": {"active": False}}, "then": {"status": 500}}]},
        'inline: rules[0].match.body.active: must be a string, got False (quote it: "false")',
    ),
    (
        "header matcher not a mapping",
        {"name": "x", "rules": [{"match": {"header": "x"}, "then": {"status": 500}}]},
        "inline: rules[0].match.header: must be a mapping",
    ),
]


@pytest.mark.parametrize(("data", "expected"), [c[1:] for c in VALIDATION_CASES], ids=[c[0] for c in VALIDATION_CASES])
def test_validation_errors(data: dict[str, Any], expected: str) -> None:
    """Every violation raises ScenarioError naming the source, the rule index and the key."""
    with pytest.raises(ScenarioError) as info:
        load_scenario(data)
    assert str(info.value).startswith(expected), str(info.value)


def test_validation_error_is_a_value_error_with_hint() -> None:
    """ScenarioError is a ValueError, and a misspelt key gets a suggestion after the exact message."""
    with pytest.raises(ValueError, match=r"^inline: rules\[0\]: unknown key 'thne' \(did you mean 'then'\?\)$"):
        load_scenario({"name": "x", "rules": [{"match": {}, "thne": {"status": 500}}]})


def test_file_errors_name_the_file(tmp_path: Path) -> None:
    """A file's errors name its path, or the given origin."""
    path = tmp_path / "my.yaml"
    path.write_text(
        "name: x\nrules:\n  - {match: {}, then: {status: 500}}\n  - {match: {}, then: {status: 500}}\n"
        "  - {match: {}, thne: {status: 500}}\n"
    )
    with pytest.raises(ScenarioError, match=r"rules\[2\]: unknown key 'thne'") as info:
        load_scenario(path)
    assert str(info.value).startswith(f"{path}: rules[2]: unknown key 'thne'")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path, origin="my.yaml")
    assert str(info.value).startswith("my.yaml: rules[2]: unknown key 'thne'")


@pytest.mark.parametrize(
    ("filename", "text", "expected"),
    [
        ("bad.yaml", "name: x\nrules: [\n", "invalid YAML"),
        ("dup.yaml", "name: x\nname: y\nrules: []\n", "duplicate key 'name'"),
        ("bad.json", '{"name": "x", "rules": [}', "invalid JSON"),
        ("dup.json", '{"name": "x", "name": "y", "rules": []}', "duplicate key 'name'"),
        ("empty.yaml", "", "a scenario must be a mapping"),
        ("list.yml", "- 1\n", "a scenario must be a mapping"),
        ("x.txt", "name: x\nrules: []\n", "expected a .yaml, .yml or .json file"),
    ],
)
def test_syntax_errors_name_the_file(tmp_path: Path, filename: str, text: str, expected: str) -> None:
    """YAML/JSON syntax errors, duplicate keys and wrong file types are ScenarioErrors naming the file."""
    path = tmp_path / filename
    path.write_text(text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(str(path))
    assert str(info.value).startswith(f"{path}: ")
    assert expected in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    """A file that does not exist is a ScenarioError naming it."""
    with pytest.raises(ScenarioError, match=r"nope\.yaml: no such file"):
        load_scenario(tmp_path / "nope.yaml")


def test_json_and_yaml_files_load(tmp_path: Path) -> None:
    """A .json and a .yml file load like inline objects, with the path as source."""
    data = {"name": "j", "seed": 5, "rules": [{"match": {"method": "get"}, "then": {"status": 418}}]}
    json_path = tmp_path / "s.json"
    json_path.write_text(json.dumps(data))
    yml_path = tmp_path / "s.yml"
    yml_path.write_text(json.dumps(data))  # JSON is YAML too
    for path in (json_path, yml_path):
        loaded = load_scenario(path)
        assert (loaded.name, loaded.seed, loaded.source) == ("j", 5, str(path))
        assert loaded.rules[0].match.method == "GET"
    assert load_scenario(data).source == "inline"
    assert load_scenario(data, origin="body").source == "body"


def test_effect_fields_parsed() -> None:
    """Every `then` key lands in its Effect field, durations in seconds and header names as given."""
    s = scenario(
        {
            "match": {},
            "then": {
                "error": "not_unique",
                "detail": "d",
                "scimType": "uniqueness",
                "headers": {"Retry-After": "2"},
                "latency": "250ms",
                "drop_connection": True,
            },
        },
        {"match": {}, "then": {"status": 429, "secret_server": "down", "token": "expire"}},
        {"match": {}, "then": {"owner": "revoke", "container": "3", "principal": "x@y"}},
        {"match": {}, "then": {"apply_then_fail": "internal_error", "latency": 2}},
    )
    e0, e1, e2, e3 = (rule.then for rule in s.rules)
    assert (e0.error, e0.detail, e0.scim_type, dict(e0.headers), e0.latency, e0.drop_connection) == (
        "not_unique",
        "d",
        "uniqueness",
        {"Retry-After": "2"},
        0.25,
        True,
    )
    assert (e1.status, e1.secret_server, e1.token, e1.error) == (429, "down", "expire", None)
    assert (e2.owner, e2.container, e2.principal) == ("revoke", "3", "x@y")
    assert (e3.apply_then_fail, e3.latency, e3.drop_connection) == ("internal_error", 2.0, False)
    assert isinstance(e0, Effect)


def test_rule_fields_parsed() -> None:
    """Budgets and window are parsed; a window may leave out start or end; `match: null` matches everything."""
    s = scenario(
        {
            "match": None,
            "then": {"status": 500},
            "after": 2,
            "times": 3,
            "probability": 1,
            "window": {"start": "500ms", "end": "2m"},
            "expect": True,
        },
        {"match": {}, "then": {"status": 500}, "window": {"start": "1s"}},
        {"match": {}, "then": {"status": 500}, "window": {"end": 10}},
    )
    r0, r1, r2 = s.rules
    assert (r0.index, r0.after, r0.times, r0.probability, r0.window, r0.expect) == (0, 2, 3, 1.0, (0.5, 120.0), True)
    assert r1.window == (1.0, float("inf"))
    assert r2.window == (0.0, 10.0)
    assert (r1.after, r1.times, r1.probability, r1.expect) == (0, None, None, False)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("250ms", 0.25),
        ("1.5s", 1.5),
        ("2m", 120.0),
        ("0s", 0.0),
        (" 3s ", 3.0),
        ("5", 5.0),
        (".5s", 0.5),
        (3, 3.0),
        (0.75, 0.75),
    ],
)
def test_parse_duration(text: str | int | float, seconds: float) -> None:
    """Durations are <number>ms|s|m, or a plain number of seconds."""
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["5 sec", "1h", "s", "", "-1s", "1e3s", "1,5s", -1, float("inf"), float("nan"), True])
def test_parse_duration_rejects(text: Any) -> None:
    """Anything else is a ValueError quoting the text."""
    with pytest.raises(ValueError, match="bad duration"):
        parse_duration(text)


# -------------------------------------------------------------------------------------------------------- matching

MATCH_CASES: list[tuple[str, dict[str, Any], RequestInfo, bool]] = [
    ("method, any case", {"method": "post"}, req("POST"), True),
    ("method differs", {"method": "POST"}, req("GET"), False),
    ("resource", {"resource": "Users"}, req("GET", "/scim/v2/Users/abc"), True),
    ("resource differs", {"resource": "Groups"}, req("GET", "/scim/v2/Users/abc"), False),
    ("operation", {"operation": "create"}, req("POST"), True),
    ("operation differs", {"operation": "create"}, req("GET"), False),
    (
        "resource and operation",
        {"resource": "Containers", "operation": "delete"},
        req("DELETE", "/scim/v2/Containers/3"),
        True,
    ),
    ("path glob", {"path": "/scim/v2/Groups*"}, req("GET", "/scim/v2/Groups/1"), True),
    ("path star crosses slashes", {"path": "/scim/*/members"}, req("GET", "/scim/v2/Groups/1/members"), True),
    ("path glob differs", {"path": "/scim/v2/Groups*"}, req("GET", "/scim/v2/Users/1"), False),
    ("path ignores query", {"path": "/scim/v2/Users"}, req("GET", "/scim/v2/Users?filter=x"), True),
    ("path is case-sensitive", {"path": "/scim/v2/users"}, req("GET", "/scim/v2/Users"), False),
    ("header, name any case", {"header": {"User-Agent": "Okta*"}}, req(headers={"user-agent": "Okta SCIM"}), True),
    ("header, request name any case", {"header": {"user-agent": "Okta*"}}, req(headers={"User-Agent": "Okta"}), True),
    ("header value case-sensitive", {"header": {"User-Agent": "Okta*"}}, req(headers={"user-agent": "okta"}), False),
    ("header absent", {"header": {"User-Agent": "*"}}, req(), False),
    ("principal", {"principal": "svc@mockscim.test"}, req(principal="svc@mockscim.test"), True),
    ("principal, userName any case", {"principal": "SVC@mockscim.test"}, req(principal="svc@MockScim.test"), True),
    ("principal differs", {"principal": "svc@mockscim.test"}, req(principal="other@mockscim.test"), False),
    ("principal absent", {"principal": "svc@mockscim.test"}, req(), False),
    ("filter glob", {"filter": 'userName eq "*"'}, req(filter='userName eq "ann"'), True),
    ("filter glob differs", {"filter": "userName eq *"}, req(filter='displayName eq "ann"'), False),
    ("filter absent", {"filter": "*"}, req(), False),
    ("body glob", {"body": {"displayName": "A*"}}, req("POST", body={"displayName": "Ann"}), True),
    ("body glob differs", {"body": {"displayName": "A*"}}, req("POST", body={"displayName": "Bob"}), False),
    ("body attribute any case", {"body": {"displayname": "A*"}}, req("POST", body={"displayName": "Ann"}), True),
    ("body boolean as JSON text", {"body": {"active": "false"}}, req("POST", body={"active": False}), True),
    ("body number as JSON text", {"body": {"n": "4?"}}, req("POST", body={"n": 42}), True),
    ("body null as JSON text", {"body": {"title": "null"}}, req("POST", body={"title": None}), True),
    (
        "body object as JSON text",
        {"body": {"name": '{"givenName": "Ann"*'}},
        req("POST", body={"name": {"givenName": "Ann", "familyName": "Lee"}}),
        True,
    ),
    (
        "body list as JSON text",
        {"body": {"Operations": '*"path": "displayName"*'}},
        req("PATCH", "/scim/v2/Users/1", body={"Operations": [{"op": "replace", "path": "displayName", "value": "X"}]}),
        True,
    ),
    ("body JSON text keeps non-ASCII", {"body": {"name": '*"Zoë"*'}}, req("POST", body={"name": {"g": "Zoë"}}), True),
    ("body attribute absent", {"body": {"displayName": "*"}}, req("POST", body={"userName": "ann"}), False),
    ("no body", {"body": {"displayName": "*"}}, req("POST"), False),
    (
        "all given must match",
        {"method": "POST", "resource": "Users", "header": {"X-A": "1"}},
        req("POST", headers={"x-a": "2"}),
        False,
    ),
    ("empty match matches SCIM", {}, req("DELETE", "/scim/v2/Groups/1"), True),
    ("empty match matches the token endpoint", {}, req("POST", "/identity/api/oauth2/token/xpmplatform"), True),
    ("empty match matches the facade", {}, req("GET", "/api/v1/secrets/12"), True),
    ("never the control plane", {}, req("GET", "/_mockscim/scenario"), False),
    ("never the control plane, even by path", {"path": "*"}, req("POST", "/_mockscim/reset"), False),
    ("never outside the served surfaces", {"path": "*"}, req("GET", "/favicon.ico"), False),
]


@pytest.mark.parametrize(
    ("match", "request_", "expected"), [c[1:] for c in MATCH_CASES], ids=[c[0] for c in MATCH_CASES]
)
def test_matchers(match: dict[str, Any], request_: RequestInfo, expected: bool) -> None:
    """Each matcher matches as docs/behaviour.md §10 "Matching" says, and all given must match."""
    active = ActiveScenario(scenario({"match": match, "then": {"status": 500}}))
    assert (active.decide(request_) is not None) is expected


def test_request_info_derives_resource_and_operation() -> None:
    """RequestInfo carries classify()'s resource and operation, and lower-cases header names."""
    info = RequestInfo(method="patch", path="/scim/v2/Groups/1", headers={"X-Thing": "A"})
    assert (info.resource, info.operation) == ("Groups", "patch")
    assert dict(info.headers) == {"x-thing": "A"}


CLASSIFY_CASES: list[tuple[str, str, tuple[str | None, str | None]]] = [
    ("POST", "/scim/v2/Users", ("Users", "create")),
    ("GET", "/scim/v2/Users", ("Users", "list")),
    ("GET", "/scim/v2/Users/", ("Users", "list")),
    ("GET", "/scim/v2/Users?filter=userName%20eq%20%22a%22", ("Users", "list")),
    ("GET", "/scim/v2/Users/abc", ("Users", "read")),
    ("PUT", "/scim/v2/Users/abc", ("Users", "replace")),
    ("PATCH", "/scim/v2/Users/abc", ("Users", "patch")),
    ("DELETE", "/scim/v2/Users/abc", ("Users", "delete")),
    ("post", "/scim/v2/Groups", ("Groups", "create")),
    ("POST", "/scim/v2/Users/.search", ("Users", "list")),
    ("POST", "/scim/v2/.search", (None, "list")),
    ("POST", "/scim/v2/Containers", ("Containers", "create")),
    ("GET", "/scim/v2/Containers/3", ("Containers", "read")),
    ("GET", "/scim/v2/ContainerPermissions", ("ContainerPermissions", "list")),
    ("GET", "/scim/v2/PrivilegedData/12", ("PrivilegedData", "read")),
    ("DELETE", "/scim/v2/PrivilegedDataPermissions/5", ("PrivilegedDataPermissions", "delete")),
    ("GET", "/scim/v2/ServiceProviderConfig", ("ServiceProviderConfig", "read")),
    ("GET", "/scim/v2/ResourceTypes", ("ResourceTypes", "list")),
    ("GET", "/scim/v2/ResourceTypes/User", ("ResourceTypes", "read")),
    ("GET", "/scim/v2/Schemas", ("Schemas", "list")),
    ("GET", "/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:User", ("Schemas", "read")),
    ("POST", "/scim/v2/Bulk", ("Bulk", "create")),
    ("GET", "/scim/v2/Widgets/1", (None, None)),
    ("GET", "/scim/v2", (None, None)),
    ("POST", "/identity/api/oauth2/token/xpmplatform", ("Token", "token")),
    ("POST", "/oauth2/token", ("Token", "token")),
    ("POST", "/platform/identity/api/oauth2/token/xpmplatform", ("Token", "token")),
    ("GET", "/api/v1/secrets/12", ("SecretServer", "read")),
    ("GET", "/api/v1/secrets/0?secretPath=%5Ca%5Cb", ("SecretServer", "read")),
    ("GET", "/api/v1/secrets/12/fields/password", ("SecretServer", "read")),
    ("GET", "/api/v1/secrets", ("SecretServer", "list")),
    ("GET", "/api/v2/secrets", ("SecretServer", "list")),
    ("GET", "/api/v1/secrets/search-total", ("SecretServer", "list")),
    ("GET", "/api/v1/folders/3", ("SecretServer", "read")),
    ("GET", "/api/v1/folders/lookup", ("SecretServer", "list")),
    ("GET", "/api/v1/healthcheck", ("SecretServer", "list")),
    ("GET", "/platform/api/v1/healthcheck", ("SecretServer", "list")),
    ("GET", "/platform/health", ("SecretServer", "list")),
    ("GET", "/platform/vaultbroker/api/vaults", ("SecretServer", "list")),
    ("GET", "/_mockscim/scenario", (None, None)),
    ("POST", "/_mockscim/reset", (None, None)),
    ("GET", "/", (None, None)),
    ("GET", "/healthz", (None, None)),
    ("GET", "/health", (None, None)),  # docs/behaviour.md §1: the root serves no /health, no /vaultbroker
    ("GET", "/vaultbroker/api/vaults", (None, None)),
    ("GET", "/api/v10/x", (None, None)),
]


@pytest.mark.parametrize(("method", "path", "expected"), CLASSIFY_CASES)
def test_classify(method: str, path: str, expected: tuple[str | None, str | None]) -> None:
    """classify() gives the (resource, operation) of docs/behaviour.md §10 "Matching"."""
    target = classify(method, path)
    assert (target.resource, target.operation) == expected


# --------------------------------------------------------------------------------------------------------- budgets


def test_after_lets_requests_through_whole() -> None:
    """The first `after` candidates pass through untouched (no later rule tries), then the rule fires."""
    active = ActiveScenario(
        scenario(
            {"match": {"method": "POST"}, "after": 2, "then": {"status": 500}},
            {"match": {}, "then": {"status": 418}},
        )
    )
    sequence = [fired_index(active, req(m)) for m in ("POST", "GET", "POST", "POST", "POST")]
    assert sequence == [None, 1, None, 0, 0]  # the GET is no candidate of rule 0 and uses none of its `after`


def test_times_budget_then_next_rule() -> None:
    """A rule fires at most `times` times; then it is no candidate and the next rule decides."""
    active = ActiveScenario(
        scenario(
            {"match": {}, "times": 2, "then": {"status": 500}},
            {"match": {}, "then": {"status": 418}},
            {"match": {}, "times": 0, "then": {"status": 400}},
        )
    )
    assert [fired_index(active, req()) for _ in range(4)] == [0, 0, 1, 1]
    assert [r["remaining"] for r in active.status()["rules"]] == [0, None, 0]


def test_after_and_times_together() -> None:
    """`after: 1, times: 2` lets one request through, acts on two, then lets everything through."""
    active = ActiveScenario(scenario({"match": {}, "after": 1, "times": 2, "then": {"status": 500}}))
    assert [fired_index(active, req()) for _ in range(5)] == [None, 0, 0, None, None]


def test_window_uses_time_since_activation() -> None:
    """A window rule is a candidate only in [start, end) since activation; `after` counts only in the window."""
    clock = FakeClock()
    active = ActiveScenario(
        scenario({"match": {}, "window": {"start": "5s", "end": "35s"}, "after": 1, "then": {"status": 503}}),
        clock=clock,
    )
    clock.now += 4.999
    assert active.decide(req()) is None
    assert active.decide(req()) is None  # still outside: `after` untouched
    clock.now += 0.001
    assert active.decide(req()) is None  # first in-window candidate: passed through under `after`
    assert active.decide(req()) is not None
    clock.now += 29.999
    assert active.decide(req()) is not None
    clock.now += 0.001
    assert active.decide(req()) is None
    assert active.elapsed() == pytest.approx(35.0)


def test_probability_is_seeded_and_deterministic() -> None:
    """Two activations of one seeded scenario decide identically over 200 requests; another seed differs."""
    rules = (
        {"match": {"method": "GET"}, "probability": 0.3, "then": {"status": 503}},
        {"match": {}, "probability": 0.5, "times": 40, "then": {"status": 500}},
    )
    methods = ["GET" if i % 3 else "POST" for i in range(200)]

    def run(seed: int) -> list[int | None]:
        active = ActiveScenario(scenario(*rules, seed=seed))
        return [fired_index(active, req(m)) for m in methods]

    first, second = run(7), run(7)
    assert first == second
    assert 0 < first.count(0) < 200 and first.count(1) == 40
    assert run(8) != first


def test_draws_follow_random_with_the_seed() -> None:
    """Draws are random.Random(seed).random() < p, made only once `after` is used up; no seed means seed 0."""
    for seed in (None, 11):
        active = ActiveScenario(
            scenario({"match": {}, "after": 3, "probability": 0.4, "then": {"status": 500}}, seed=seed)
        )
        rng = random.Random(0 if seed is None else seed)
        expected = [False] * 3 + [rng.random() < 0.4 for _ in range(97)]
        assert [active.decide(req()) is not None for _ in range(100)] == expected


def test_lost_draw_uses_no_budget_and_lets_next_rule_try() -> None:
    """A lost draw leaves `times` untouched and hands the request to the next rule."""
    active = ActiveScenario(
        scenario(
            {"match": {}, "probability": 0.5, "times": 30, "then": {"status": 500}},
            {"match": {}, "then": {"status": 418}},
            seed=1,
        )
    )
    decisions = [fired_index(active, req()) for _ in range(200)]
    assert None not in decisions
    assert decisions.count(0) == 30  # every firing used budget, no lost draw did
    first_full = [i for i, d in enumerate(decisions) if d == 0][-1]
    assert decisions[:first_full].count(1) > 0  # lost draws went to rule 1 while rule 0 still had budget
    assert all(d == 1 for d in decisions[first_full + 1 :])
    assert [r["fired"] for r in active.status()["rules"]] == [30, 170]


def test_probability_bounds() -> None:
    """Probability 0 never fires and 1 always fires."""
    never = ActiveScenario(scenario({"match": {}, "probability": 0, "then": {"status": 500}}))
    always = ActiveScenario(scenario({"match": {}, "probability": 1.0, "then": {"status": 500}}))
    assert all(never.decide(req()) is None for _ in range(50))
    assert all(always.decide(req()) is not None for _ in range(50))


def test_first_rule_that_fires_decides() -> None:
    """Rules are tried in order; the first that fires decides, and a rule that does not match is skipped."""
    active = ActiveScenario(
        scenario(
            {"match": {"method": "DELETE"}, "then": {"status": 400}},
            {"match": {"resource": "Users"}, "then": {"status": 409}},
            {"match": {}, "then": {"status": 500}},
            name="order",
        )
    )
    decision = active.decide(req("GET", "/scim/v2/Users/1"))
    assert decision is not None and decision.rule.index == 1 and decision.effect.status == 409
    assert decision.tag == "order#1"
    assert isinstance(decision, Decision)
    assert fired_index(active, req("GET", "/scim/v2/Groups/1")) == 2
    assert fired_index(active, req("DELETE", "/scim/v2/Groups/1")) == 0


def test_budgets_exact_under_concurrency() -> None:
    """8 threads x 50 decide() calls on `after: 50, times: 100` give exactly 100 firings."""
    active = ActiveScenario(scenario({"match": {}, "after": 50, "times": 100, "then": {"status": 500}}))
    fired: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        count = sum(active.decide(req()) is not None for _ in range(50))
        with lock:
            fired.append(count)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(fired) == 100
    assert active.status()["rules"][0]["fired"] == 100
    assert active.status()["rules"][0]["remaining"] == 0


# ---------------------------------------------------------------------------------------------- status, expectations


def test_status_shape() -> None:
    """status() has name, description, seed, activatedAt (UTC 'Z') and per rule index/fired/remaining + the rule."""
    rule = {
        "match": {"resource": "Users"},
        "times": 3,
        "window": {"start": "0s", "end": "1m"},
        "then": {"error": "internal_error", "latency": "250ms"},
    }
    s = load_scenario(
        {"name": "st", "description": "d", "seed": 9, "rules": [rule, {"match": {}, "then": {"headers": {"X-A": "1"}}}]}
    )
    active = ActiveScenario(s, wall=lambda: datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC))
    active.decide(req("GET", "/scim/v2/Users/1"))
    status = active.status()
    assert status == {
        "name": "st",
        "description": "d",
        "seed": 9,
        "activatedAt": "2024-01-02T03:04:05.000Z",
        "rules": [
            {"index": 0, "fired": 1, "remaining": 2, **rule},
            {"index": 1, "fired": 0, "remaining": None, "match": {}, "then": {"headers": {"X-A": "1"}}},
        ],
    }
    assert list(status["rules"][0])[:3] == ["index", "fired", "remaining"]
    json.dumps(status)
    status["rules"][0]["then"]["error"] = "changed"
    assert active.status()["rules"][0]["then"]["error"] == "internal_error"
    assert s.rules[0].raw["then"]["error"] == "internal_error"


def test_status_defaults() -> None:
    """Without description and seed, status() reports "" and null."""
    status = ActiveScenario(scenario(OK_RULE)).status()
    assert (status["description"], status["seed"]) == ("", None)
    assert status["activatedAt"].endswith("Z")


def test_unfired_expectations() -> None:
    """unfired_expectations() lists the `expect: true` rules that never fired."""
    active = ActiveScenario(
        scenario(
            {"match": {"method": "POST"}, "expect": True, "then": {"status": 500}},
            {"match": {"method": "PUT"}, "expect": True, "then": {"status": 500}},
            {"match": {"method": "GET"}, "then": {"status": 500}},
        )
    )
    assert [r.index for r in active.unfired_expectations()] == [0, 1]
    active.decide(req("POST"))
    assert [r.index for r in active.unfired_expectations()] == [1]


def test_needs_body() -> None:
    """needs_body is true only when some rule has a body matcher."""
    assert not ActiveScenario(scenario(OK_RULE)).needs_body
    with_body = scenario(OK_RULE, {"match": {"body": {"userName": "*"}}, "then": {"status": 500}})
    assert ActiveScenario(with_body).needs_body


# ------------------------------------------------------------------------------------------------ shipped scenarios


def test_shipped_scenarios_load() -> None:
    """Every docs/behaviour.md §10 scenario ships, loads, is named after its file and tells its story with a run
    hint."""
    scenarios = shipped()
    assert [s.name for s in scenarios] == SHIPPED_NAMES
    for s in scenarios:
        path = SHIPPED_DIR / f"{s.name}.yaml"
        assert s.source == str(path)
        assert s.description and s.rules
        text = path.read_text()
        assert text.startswith("#") and f"mockscim serve --scenario {s.name}" in text
        json.dumps(ActiveScenario(s).status())


def test_resolve() -> None:
    """resolve() finds a shipped name, then a path, and refuses anything else naming it."""
    assert resolve("throttled").name == "throttled"
    assert resolve(str(SHIPPED_DIR / "slow-network.yaml")).name == "slow-network"
    with pytest.raises(ScenarioError, match="unknown scenario 'nope'"):
        resolve("nope")
    with pytest.raises(ScenarioError, match=r"unknown scenario '/no/such\.yaml'"):
        resolve("/no/such.yaml")


def test_check_files(tmp_path: Path) -> None:
    """check_files() returns one error line per bad file and nothing for good ones."""
    good = str(SHIPPED_DIR / "ghost-writes.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: b\nrules:\n  - match: {}\n    then: {latency: 5 sec}\n")
    missing = str(tmp_path / "missing.yaml")
    assert check_files([good]) == []
    problems = check_files([good, str(bad), missing])
    assert problems == [f"{bad}: rules[0].then.latency: bad duration '5 sec'", f"{missing}: no such file"]
    assert all("\n" not in p for p in problems)


def test_throttled_every_third_request() -> None:
    """throttled answers 429 with Retry-After on SCIM requests 3, 6, 9 and 12, and not on the token endpoint."""
    active = ActiveScenario(resolve("throttled"))
    assert active.decide(req("POST", "/identity/api/oauth2/token/xpmplatform")) is None
    hits = [i for i in range(1, 13) if active.decide(req()) is not None]
    assert hits == [3, 6, 9, 12]
    decision = ActiveScenario(resolve("throttled"))
    for _ in range(2):
        decision.decide(req())
    third = decision.decide(req())
    assert third is not None and third.effect.error == "too_many_requests"
    assert dict(third.effect.headers) == {"Retry-After": "2"}
    assert third.tag == "throttled#0"


@pytest.mark.parametrize(
    ("method", "body", "refused"),
    [
        ("PATCH", {"Operations": [{"op": "replace", "path": "displayName", "value": "X"}]}, True),
        ("PATCH", {"Operations": [{"op": "replace", "value": {"displayName": "X"}}]}, True),
        ("PATCH", {"Operations": [{"op": "add", "path": 'emails[type eq "work"].value', "value": "a@b"}]}, True),
        ("PATCH", {"Operations": [{"op": "replace", "path": "name.givenName", "value": "A"}]}, True),
        ("PATCH", {"Operations": [{"op": "replace", "path": "name", "value": {"givenName": "A"}}]}, True),
        ("PATCH", {"Operations": [{"op": "replace", "path": "active", "value": False}]}, False),
        ("PATCH", {"Operations": [{"op": "replace", "path": "userName", "value": "x"}]}, False),
        ("PUT", {"userName": "a", "displayName": "A"}, True),
        ("PUT", {"userName": "a", "active": True}, False),
    ],
)
def test_federated_user_edit(method: str, body: dict[str, Any], refused: bool) -> None:
    """federated-user-edit refuses PATCH/PUT on Users touching displayName, emails or name, and nothing else."""
    active = ActiveScenario(resolve("federated-user-edit"))
    decision = active.decide(req(method, "/scim/v2/Users/1", body=body))
    assert (decision is not None) is refused
    assert decision is None or decision.effect.error == "not_authorized"
    assert active.needs_body


def test_token_expiry_and_duplicate_usernames() -> None:
    """token-expiry expires on the 3rd SCIM request only; duplicate-usernames lets the first create through."""
    expiry = ActiveScenario(resolve("token-expiry"))
    assert [expiry.decide(req()) is not None for _ in range(5)] == [False, False, True, False, False]
    dup = ActiveScenario(resolve("duplicate-usernames"))
    results = [dup.decide(req("POST")) for _ in range(3)]
    assert results[0] is None
    assert all(r is not None and r.effect.status == 409 and r.effect.scim_type == "uniqueness" for r in results[1:])
    assert results[1] is not None and results[1].effect.detail == "Attribute 'userName' MUST be unique."
