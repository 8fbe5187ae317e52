"""Scenarios (docs/behaviour.md §10): the scenario language, its files, and the engine that decides which rule
fires for a request. Pure: no HTTP here; the faults middleware applies what the engine decides."""

from __future__ import annotations

from mockscim.scenarios.engine import ActiveScenario, Decision, RequestInfo, matches
from mockscim.scenarios.files import SHIPPED_DIR, check_files, load_scenario, resolve, shipped
from mockscim.scenarios.model import Effect, Match, Rule, Scenario, ScenarioError
from mockscim.scenarios.rules import glob_problem, parse_duration
from mockscim.scenarios.slot import ScenarioSlot

__all__ = [
    "SHIPPED_DIR",
    "ActiveScenario",
    "Decision",
    "Effect",
    "Match",
    "RequestInfo",
    "Rule",
    "Scenario",
    "ScenarioError",
    "ScenarioSlot",
    "check_files",
    "glob_problem",
    "load_scenario",
    "matches",
    "parse_duration",
    "resolve",
    "shipped",
]
