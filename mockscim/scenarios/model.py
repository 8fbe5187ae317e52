"""The scenario data model (docs/behaviour.md §10): a scenario file's vocabularies and the validated rules."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

TOP_KEYS: tuple[str, ...] = ("name", "description", "seed", "rules")
RULE_KEYS: tuple[str, ...] = ("match", "then", "after", "times", "window", "probability", "expect")
MATCH_KEYS: tuple[str, ...] = ("method", "resource", "operation", "path", "header", "principal", "filter", "body")
THEN_KEYS: tuple[str, ...] = (
    "error",
    "status",
    "detail",
    "scimType",
    "headers",
    "latency",
    "secret_server",
    "owner",
    "container",
    "principal",
    "token",
    "apply_then_fail",
    "drop_connection",
)
WINDOW_KEYS: tuple[str, ...] = ("start", "end")


class ScenarioError(ValueError):
    """An invalid or unknown scenario; the message names the source, the rule index (0-based) and the key."""


def _empty_map() -> Mapping[str, str]:
    return MappingProxyType({})


@dataclass(frozen=True)
class Match:
    """A rule's matchers (docs/behaviour.md §10 "Matching"): all optional, all given must match."""

    method: str | None = None  # upper-cased
    resource: str | None = None
    operation: str | None = None
    path: str | None = None  # glob, matched without the query string
    header: Mapping[str, str] = field(default_factory=_empty_map)  # lower-cased name → value glob
    principal: str | None = None  # a userName, compared case-insensitively
    filter: str | None = None  # glob on the raw filter
    body: Mapping[str, str] = field(default_factory=_empty_map)  # top-level attribute → glob on its (JSON) text


@dataclass(frozen=True)
class Effect:
    """What a firing rule does (docs/behaviour.md §10 "Effects")."""

    error: str | None = None  # catalogue key (docs/behaviour.md §7)
    status: int | None = None
    detail: str | None = None
    scim_type: str | None = None
    headers: Mapping[str, str] = field(default_factory=_empty_map)
    latency: float | None = None  # seconds
    secret_server: str | None = None  # "down" | "up"
    owner: str | None = None  # "revoke" | "restore"
    container: str | None = None
    principal: str | None = None
    token: str | None = None  # "expire"
    apply_then_fail: str | None = None  # catalogue key
    drop_connection: bool = False


@dataclass(frozen=True)
class Rule:
    """One rule of a scenario: matchers, effect and budgets (docs/behaviour.md §10 "Budgets")."""

    index: int
    match: Match
    then: Effect
    after: int = 0
    times: int | None = None
    window: tuple[float, float] | None = None  # seconds since activation, [start, end)
    probability: float | None = None
    expect: bool = False
    raw: Mapping[str, Any] = field(default_factory=_empty_map)  # the rule as given


@dataclass(frozen=True)
class Scenario:
    """A validated scenario file (or inline object)."""

    name: str
    description: str
    seed: int | None
    rules: tuple[Rule, ...]
    source: str  # a path, or "inline"
