"""Where the shipped fixtures and scenarios are at run time (docs/behaviour.md §13), via ``importlib.resources``."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

# The repository's top-level ``fixtures/`` and ``scenarios/`` folders, installed as these two packages
# (pyproject.toml, ``[tool.setuptools.package-dir]``): by a wheel and by an editable install alike.
FIXTURES_PACKAGE = "mockscim.shipped_fixtures"
SCENARIOS_PACKAGE = "mockscim.shipped_scenarios"


def _folder(package: str) -> Path:
    """The folder holding ``package``'s files: a real directory, as every supported install leaves it."""
    root = files(package)
    if not isinstance(root, Path):  # e.g. imported from a zip archive, which mockscim does not support
        raise RuntimeError(f"mockscim's shipped data ({package}) is not a folder on disk: {root!r}")
    return root


def fixtures_dir() -> Path:
    """The folder of the shipped fixtures, one ``<name>.json`` each (``default``, ``empty``)."""
    return _folder(FIXTURES_PACKAGE)


def scenarios_dir() -> Path:
    """The folder of the shipped scenarios, one ``<name>.yaml`` each."""
    return _folder(SCENARIOS_PACKAGE)
