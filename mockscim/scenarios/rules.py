"""Strict validation of scenario data (docs/behaviour.md §10): rules, matchers, effects and durations, with errors that
name the source, the rule and the key."""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, NoReturn

from mockscim.scenarios.model import (
    MATCH_KEYS,
    RULE_KEYS,
    THEN_KEYS,
    TOP_KEYS,
    WINDOW_KEYS,
    Effect,
    Match,
    Rule,
    Scenario,
    ScenarioError,
)
from mockscim.scim.errors import CATALOGUE
from mockscim.surfaces import OPERATIONS, RESOURCES

_DURATION = re.compile(r"(?P<number>\d+(?:\.\d*)?|\.\d+)(?P<unit>ms|s|m)?")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110 §5.6.2 token: a header name
_UNIT_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, None: 1.0}



def parse_duration(text: str | int | float) -> float:
    """Seconds in a docs/behaviour.md §10 duration: ``250ms``, ``1.5s``, ``2m``, or a plain number of seconds."""
    if isinstance(text, bool):
        raise ValueError(f"bad duration {text!r}")
    if isinstance(text, int | float):
        seconds = float(text)
    elif isinstance(text, str):
        found = _DURATION.fullmatch(text.strip())
        if found is None:
            raise ValueError(f"bad duration {text!r}")
        seconds = float(found["number"]) * _UNIT_SECONDS[found["unit"]]
    else:
        raise ValueError(f"bad duration {text!r}")
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"bad duration {text!r}")
    return seconds


def glob_problem(pattern: str) -> str | None:
    """Why ``pattern`` is not a usable ``fnmatch`` glob (an unbalanced ``[``), or None when it is."""
    # fnmatch silently reads an unclosed '[' as a literal; that is almost always a typo, so refuse it.
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        i += 1
        if c == "[":
            j = i
            if j < n and pattern[j] == "!":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1
            while j < n and pattern[j] != "]":
                j += 1
            if j >= n:
                return f"unbalanced '[' at position {i - 1} (write '[[]' for a literal '[')"
            i = j + 1
    return None


class _Checker:
    """Validates one scenario document; every failure names the source and the dotted location."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, problem: str) -> NoReturn:
        raise ScenarioError(f"{self.source}: {where}: {problem}" if where else f"{self.source}: {problem}")

    def keys(self, where: str, data: Mapping[Any, Any], allowed: Sequence[str]) -> None:
        for key in data:
            if not isinstance(key, str) or key not in allowed:
                hint = difflib.get_close_matches(str(key), allowed, n=1)
                suffix = f" (did you mean '{hint[0]}'?)" if hint else ""
                self.fail(where, f"unknown key {str(key)!r}{suffix}")

    def mapping(self, where: str, value: Any) -> Mapping[Any, Any]:
        if not isinstance(value, Mapping):
            self.fail(where, f"must be a mapping, got {_kind(value)}")
        return value

    def string(self, where: str, value: Any) -> str:
        if not isinstance(value, str):
            hint = ""
            if isinstance(value, bool | int | float):
                hint = f' (quote it: "{_json_scalar(value)}")'
            self.fail(where, f"must be a string, got {_kind(value)}{hint}")
        if not value:
            self.fail(where, "must not be empty")
        return value

    def glob(self, where: str, value: Any) -> str:
        pattern = self.string(where, value)
        problem = glob_problem(pattern)
        if problem:
            self.fail(where, f"bad glob {pattern!r}: {problem}")
        return pattern

    def choice(self, where: str, value: Any, allowed: Sequence[str], what: str) -> str:
        text = self.string(where, value)
        if text not in allowed:
            self.fail(where, f"unknown {what} {text!r} (one of {', '.join(allowed)})")
        return text

    def catalogue_key(self, where: str, value: Any) -> str:
        key = self.string(where, value)
        if key not in CATALOGUE:
            hint = difflib.get_close_matches(key, list(CATALOGUE), n=1)
            suffix = f"; did you mean '{hint[0]}'?" if hint else f"; known: {', '.join(sorted(CATALOGUE))}"
            self.fail(where, f"unknown catalogue key {key!r}{suffix}")
        return key

    def count(self, where: str, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            self.fail(where, f"must be a non-negative integer, got {value!r}")
        return value

    def duration(self, where: str, value: Any) -> float:
        try:
            return parse_duration(value)
        except ValueError as exc:
            self.fail(where, str(exc))

    def globs(self, where: str, value: Any, *, lower: bool) -> dict[str, str]:
        result: dict[str, str] = {}
        for name, pattern in self.mapping(where, value).items():
            key = self.string(f"{where}", name)
            norm = key.lower() if lower else key
            if norm in result:
                self.fail(where, f"duplicate key {key!r}")
            result[norm] = self.glob(f"{where}.{key}", pattern)
        return result

    def scenario(self, data: Any) -> Scenario:
        if not isinstance(data, Mapping):
            self.fail("", f"a scenario must be a mapping with 'name' and 'rules', got {_kind(data)}")
        self.keys("", data, TOP_KEYS)
        for key in ("name", "rules"):
            if key not in data:
                self.fail("", f"missing key {key!r}")
        name = self.string("name", data["name"])
        description = "" if data.get("description") is None else self.string("description", data["description"])
        seed = data.get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            self.fail("seed", f"must be an integer, got {seed!r}")
        rules = data["rules"]
        if isinstance(rules, str | bytes) or not isinstance(rules, Sequence):
            self.fail("rules", f"must be a list of rules, got {_kind(rules)}")
        built = tuple(self.rule(i, raw) for i, raw in enumerate(rules))
        return Scenario(name=name, description=description, seed=seed, rules=built, source=self.source)

    def rule(self, index: int, data: Any) -> Rule:
        where = f"rules[{index}]"
        data = self.mapping(where, data)
        self.keys(where, data, RULE_KEYS)
        for key in ("match", "then"):
            if key not in data:
                self.fail(where, f"missing key {key!r}")
        match = self.match(f"{where}.match", {} if data["match"] is None else data["match"])
        then = self.then(f"{where}.then", data["then"])
        after = 0 if data.get("after") is None else self.count(f"{where}.after", data["after"])
        times = None if data.get("times") is None else self.count(f"{where}.times", data["times"])
        window = None if data.get("window") is None else self.window(f"{where}.window", data["window"])
        probability: float | None = None
        if data.get("probability") is not None:
            p = data["probability"]
            if isinstance(p, bool) or not isinstance(p, int | float) or not 0 <= p <= 1:
                self.fail(f"{where}.probability", f"must be a number in [0, 1], got {p!r}")
            probability = float(p)
        expect = data.get("expect", False)
        if not isinstance(expect, bool):
            self.fail(f"{where}.expect", f"must be true or false, got {expect!r}")
        return Rule(
            index=index,
            match=match,
            then=then,
            after=after,
            times=times,
            window=window,
            probability=probability,
            expect=expect,
            raw=MappingProxyType(_plain(data)),
        )

    def window(self, where: str, data: Any) -> tuple[float, float]:
        data = self.mapping(where, data)
        self.keys(where, data, WINDOW_KEYS)
        if not data:
            self.fail(where, "give 'start', 'end' or both")
        start = self.duration(f"{where}.start", data.get("start", 0))
        end = math.inf if data.get("end") is None else self.duration(f"{where}.end", data["end"])
        if not start < end:
            self.fail(where, f"start ({start:g} s) must be before end ({end:g} s)")
        return (start, end)

    def match(self, where: str, data: Any) -> Match:
        data = self.mapping(where, data)
        self.keys(where, data, MATCH_KEYS)
        get = data.get
        return Match(
            method=None if get("method") is None else self.string(f"{where}.method", get("method")).upper(),
            resource=None
            if get("resource") is None
            else self.choice(f"{where}.resource", get("resource"), RESOURCES, "resource"),
            operation=None
            if get("operation") is None
            else self.choice(f"{where}.operation", get("operation"), OPERATIONS, "operation"),
            path=None if get("path") is None else self.glob(f"{where}.path", get("path")),
            header=MappingProxyType(self.globs(f"{where}.header", get("header") or {}, lower=True)),
            principal=None if get("principal") is None else self.string(f"{where}.principal", get("principal")),
            filter=None if get("filter") is None else self.glob(f"{where}.filter", get("filter")),
            body=MappingProxyType(self.globs(f"{where}.body", get("body") or {}, lower=False)),
        )

    def then(self, where: str, data: Any) -> Effect:
        data = self.mapping(where, data)
        self.keys(where, data, THEN_KEYS)
        given = {key for key, value in data.items() if value is not None}
        for a, b in (("error", "status"), ("error", "apply_then_fail"), ("status", "apply_then_fail")):
            if a in given and b in given:
                self.fail(where, f"'{a}' and '{b}' are exclusive")
        if given & {"detail", "scimType"} and not given & {"error", "status", "apply_then_fail"}:
            self.fail(where, "'detail' and 'scimType' need 'error', 'status' or 'apply_then_fail'")
        if given & {"container", "principal"} and "owner" not in given:
            self.fail(where, "'container' and 'principal' need 'owner'")

        def opt(key: str) -> Any:
            return data.get(key)

        status: int | None = None
        if opt("status") is not None:
            status = opt("status")
            if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
                self.fail(f"{where}.status", f"must be an HTTP status 100..599, got {status!r}")
        headers: dict[str, str] = {}
        for name, value in self.mapping(f"{where}.headers", opt("headers") or {}).items():
            key = self.string(f"{where}.headers", name)
            if not _TOKEN.fullmatch(key):
                self.fail(f"{where}.headers", f"bad header name {key!r}")
            text = "" if value == "" else self.string(f"{where}.headers.{key}", value)
            if "\r" in text or "\n" in text:
                self.fail(f"{where}.headers.{key}", "a header value must not hold line breaks")
            headers[key] = text
        drop = opt("drop_connection")
        if drop is not None and not isinstance(drop, bool):
            self.fail(f"{where}.drop_connection", f"must be true or false, got {drop!r}")
        effect = Effect(
            error=None if opt("error") is None else self.catalogue_key(f"{where}.error", opt("error")),
            status=status,
            detail=None if opt("detail") is None else self.string(f"{where}.detail", opt("detail")),
            scim_type=None if opt("scimType") is None else self.string(f"{where}.scimType", opt("scimType")),
            headers=MappingProxyType(headers),
            latency=None if opt("latency") is None else self.duration(f"{where}.latency", opt("latency")),
            secret_server=None
            if opt("secret_server") is None
            else self.choice(f"{where}.secret_server", opt("secret_server"), ("down", "up"), "value"),
            owner=None
            if opt("owner") is None
            else self.choice(f"{where}.owner", opt("owner"), ("revoke", "restore"), "value"),
            container=None if opt("container") is None else self.string(f"{where}.container", opt("container")),
            principal=None if opt("principal") is None else self.string(f"{where}.principal", opt("principal")),
            token=None if opt("token") is None else self.choice(f"{where}.token", opt("token"), ("expire",), "value"),
            apply_then_fail=None
            if opt("apply_then_fail") is None
            else self.catalogue_key(f"{where}.apply_then_fail", opt("apply_then_fail")),
            drop_connection=bool(drop),
        )
        if not _has_effect(effect):
            effects = ", ".join(key for key in THEN_KEYS if key not in _MODIFIERS)
            self.fail(where, f"no effect: give at least one of {effects}")
        return effect


_MODIFIERS = frozenset({"detail", "scimType", "container", "principal"})


def _has_effect(effect: Effect) -> bool:
    return bool(
        effect.error
        or effect.status is not None
        or effect.headers
        or effect.latency is not None
        or effect.secret_server
        or effect.owner
        or effect.token
        or effect.apply_then_fail
        or effect.drop_connection
    )


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Sequence):
        return "a list"
    return repr(value)


def _json_scalar(value: bool | int | float) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return repr(value)


def _plain(value: Any) -> Any:
    """A JSON-ready deep copy (mappings → dicts, sequences → lists) of a validated rule, for status()."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [_plain(v) for v in value]
    return value


def scenario_problems(data: Any, source: str) -> list[str]:
    """Every problem of a parsed scenario document, not only the first (``mockscim scenario check``,
    docs/behaviour.md §14): each top-level key, and within each rule its matchers, its effect and each budget."""
    checker = _Checker(source)
    found: list[str] = []

    def attempt(check: Any, *args: Any) -> None:
        try:
            check(*args)
        except ScenarioError as exc:
            found.append(str(exc))

    if not isinstance(data, Mapping):
        attempt(checker.scenario, data)
        return found
    for key in data:
        attempt(checker.keys, "", {key: None}, TOP_KEYS)
    for key in ("name", "rules"):
        if key not in data:
            found.append(f"{source}: missing key {key!r}")
    if "name" in data:
        attempt(checker.string, "name", data["name"])
    if data.get("description") is not None:
        attempt(checker.string, "description", data["description"])
    seed = data.get("seed")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
        found.append(f"{source}: seed: must be an integer, got {seed!r}")
    rules = data.get("rules")
    if "rules" in data and (isinstance(rules, str | bytes) or not isinstance(rules, Sequence)):
        found.append(f"{source}: rules: must be a list of rules, got {_kind(rules)}")
    elif isinstance(rules, Sequence):
        for index, raw in enumerate(rules):
            where = f"rules[{index}]"
            if not isinstance(raw, Mapping):
                attempt(checker.mapping, where, raw)
                continue
            for key in raw:
                attempt(checker.keys, where, {key: None}, RULE_KEYS)
            for key in ("match", "then"):
                if key not in raw:
                    found.append(f"{source}: {where}: missing key {key!r}")
            if "match" in raw:
                attempt(checker.match, f"{where}.match", {} if raw["match"] is None else raw["match"])
            if "then" in raw:
                attempt(checker.then, f"{where}.then", raw["then"])
            budgets = {k: raw[k] for k in RULE_KEYS if k not in ("match", "then") and k in raw}
            for key, value in budgets.items():
                attempt(checker.rule, index, {"match": {}, "then": {"status": 500}, key: value})
    return found


def build_scenario(data: Any, source: str) -> Scenario:
    """Validate a parsed scenario document (docs/behaviour.md §10) and build it; any violation →
    :class:`ScenarioError`."""
    return _Checker(source).scenario(data)
