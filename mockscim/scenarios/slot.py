"""The app's active scenario: one slot, replaced whole on activation (docs/behaviour.md §10, §12)."""

from __future__ import annotations

from mockscim.scenarios.engine import ActiveScenario
from mockscim.scenarios.model import Scenario


class ScenarioSlot:
    """The app's active scenario (the runtime's ``scenario``); activating replaces it whole, with fresh budgets."""

    def __init__(self, scenario: Scenario | None = None) -> None:
        self.active: ActiveScenario | None = None
        if scenario is not None:
            self.activate(scenario)

    def activate(self, scenario: Scenario) -> ActiveScenario:
        """Start ``scenario``: its clock, budgets and random generator start afresh (docs/behaviour.md §10)."""
        self.active = ActiveScenario(scenario)
        return self.active

    def deactivate(self) -> None:
        self.active = None
