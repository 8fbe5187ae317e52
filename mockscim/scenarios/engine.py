"""The scenario engine (docs/behaviour.md §10): which rule fires for a request, with budgets, windows and draws."""

from __future__ import annotations

import copy
import json
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from typing import Any

from mockscim.scenarios.model import Effect, Match, Rule, Scenario
from mockscim.surfaces import Target, classify
from mockscim.util.timefmt import iso_utc

__all__ = ["ActiveScenario", "Decision", "RequestInfo", "matches"]


DEFAULT_SEED = 0  # a scenario without `seed` is still deterministic (docs/behaviour.md §10 "Randomness is seeded")

@dataclass(frozen=True)
class RequestInfo:
    """What the rules can see of a request; ``resource`` and ``operation`` come from :func:`classify`."""

    method: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)  # lower-cased names
    principal: str | None = None
    filter: str | None = None
    body: Mapping[str, Any] | None = None
    target: Target | None = None
    """What the request addresses, as the surface map classified it (worked out here when not given)."""
    resource: str | None = field(init=False, default=None)
    operation: str | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        target = self.target if self.target is not None else classify(self.method, self.path)
        object.__setattr__(self, "target", target)
        object.__setattr__(self, "resource", target.resource)
        object.__setattr__(self, "operation", target.operation)
        if any(name != name.lower() for name in self.headers):
            object.__setattr__(self, "headers", {name.lower(): value for name, value in self.headers.items()})


def _json_text(value: Any) -> str:
    """How a body matcher sees a value: strings as they are, anything else as its JSON text (docs/behaviour.md §10)."""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return str(value)


def _body_value(body: Mapping[str, Any], name: str) -> tuple[bool, Any]:
    if name in body:
        return (True, body[name])
    folded = name.casefold()  # RFC 7643 §2.1: attribute names are case-insensitive
    for key, value in body.items():
        if isinstance(key, str) and key.casefold() == folded:
            return (True, value)
    return (False, None)


def matches(match: Match, request: RequestInfo) -> bool:
    """Whether every matcher given in ``match`` matches ``request`` (docs/behaviour.md §10 "Matching")."""
    if match.method is not None and request.method.upper() != match.method:
        return False
    if match.resource is not None and request.resource != match.resource:
        return False
    if match.operation is not None and request.operation != match.operation:
        return False
    if match.path is not None and not fnmatchcase(request.path.split("?", 1)[0], match.path):
        return False
    for name, pattern in match.header.items():  # names case-insensitive, values case-sensitive
        value = request.headers.get(name)
        if value is None or not fnmatchcase(value, pattern):
            return False
    if match.principal is not None and (
        request.principal is None or request.principal.casefold() != match.principal.casefold()
    ):
        return False  # a userName: case-insensitive, as SCIM compares it (RFC 7643 §4.1.1)
    if match.filter is not None and (request.filter is None or not fnmatchcase(request.filter, match.filter)):
        return False
    if match.body:
        if request.body is None:
            return False
        for name, pattern in match.body.items():
            found, value = _body_value(request.body, name)
            if not found or not fnmatchcase(_json_text(value), pattern):
                return False
    return True


# ------------------------------------------------------------------------------------------------------- deciding


@dataclass(frozen=True)
class Decision:
    """The rule that fired for a request and what it does."""

    rule: Rule
    effect: Effect
    scenario: str = ""  # the scenario's name, for the tag

    @property
    def tag(self) -> str:
        """``"<scenario name>#<index>"``, the journal's ``rule`` (docs/behaviour.md §12)."""
        return f"{self.scenario}#{self.rule.index}"


def _utcnow() -> datetime:
    return datetime.now(UTC)


class _Budget:
    """One rule's counters: candidates let through under ``after``, and firings."""

    __slots__ = ("fired", "passed")

    def __init__(self) -> None:
        self.passed = 0
        self.fired = 0


class ActiveScenario:
    """An activated scenario: its clock, budgets and random generator, started afresh at activation (docs/behaviour.md
    §10)."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], datetime] = _utcnow,
    ) -> None:
        self.scenario = scenario
        self.needs_body = any(rule.match.body for rule in scenario.rules)
        self._clock = clock
        self._started = clock()
        self.activated_at = wall()
        self._random = random.Random(DEFAULT_SEED if scenario.seed is None else scenario.seed)
        self._budgets = [_Budget() for _ in scenario.rules]
        self._lock = threading.Lock()

    def elapsed(self) -> float:
        """Seconds since activation, on the injected clock."""
        return self._clock() - self._started

    def decide(self, request: RequestInfo) -> Decision | None:
        """The rule that fires for ``request``, or None when the request passes through (docs/behaviour.md §10
        "Budgets").

        Reading of docs/behaviour.md §10 "The first `after` candidates pass through, and are counted": such a candidate
        is a request that the rule lets through *as a whole* — it is counted against ``after`` and handled normally,
        and no later rule is tried for it (unlike a lost draw, which the behaviour reference says "lets the next rule
        try"). So ``after: 2`` on a rule means exactly "the first 2 matching requests go through untouched".
        No draw is made for them; the draw comes only once ``after`` is used up.
        """
        if request.target is None or not request.target.faultable:
            return None  # docs/behaviour.md §10: rules apply to SCIM, both token endpoints and the facade only
        with self._lock:  # budgets and draws are exact and ordered under concurrent requests
            elapsed = self.elapsed()
            for rule, budget in zip(self.scenario.rules, self._budgets, strict=True):
                if rule.times is not None and budget.fired >= rule.times:
                    continue  # no `times` left: no longer a candidate
                if rule.window is not None and not rule.window[0] <= elapsed < rule.window[1]:
                    continue
                if not matches(rule.match, request):
                    continue
                if budget.passed < rule.after:
                    budget.passed += 1
                    return None
                if rule.probability is not None and not self._random.random() < rule.probability:
                    continue  # a lost draw uses no budget and lets the next rule try
                budget.fired += 1
                return Decision(rule=rule, effect=rule.then, scenario=self.scenario.name)
        return None

    def status(self) -> dict[str, Any]:
        """The ``active`` object of ``GET /_mockscim/scenario`` (docs/behaviour.md §12)."""
        with self._lock:
            counts = [(b.fired, b.passed) for b in self._budgets]
        rules: list[dict[str, Any]] = []
        for rule, (fired, _passed) in zip(self.scenario.rules, counts, strict=True):
            remaining = None if rule.times is None else max(rule.times - fired, 0)
            rules.append({"index": rule.index, "fired": fired, "remaining": remaining, **copy.deepcopy(dict(rule.raw))})
        return {
            "name": self.scenario.name,
            "description": self.scenario.description,
            "seed": self.scenario.seed,
            "activatedAt": iso_utc(self.activated_at),
            "rules": rules,
        }

    def unfired_expectations(self) -> list[Rule]:
        """Rules marked ``expect: true`` that never fired (the pytest plugin fails the test for them, docs/behaviour.md
        §14)."""
        with self._lock:
            pairs = zip(self.scenario.rules, self._budgets, strict=True)
            return [rule for rule, budget in pairs if rule.expect and not budget.fired]
