"""For other test suites (docs/pytest.md): ``MockScim``, a live server in a background thread."""

from __future__ import annotations

from mockscim.testing.server import JournalEntry, MockScim, MockScimError, ScenarioSource

__all__ = ["JournalEntry", "MockScim", "MockScimError", "ScenarioSource"]
