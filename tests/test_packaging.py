"""The wheel holds (pyproject.toml `[tool.setuptools]`) every package and the shipped data (docs/behaviour.md §13)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from mockscim.util.shipped import fixtures_dir, scenarios_dir

ROOT = Path(__file__).resolve().parents[1]


def setuptools_config() -> dict[str, Any]:
    config: dict[str, Any] = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    return config


def test_every_code_package_is_listed() -> None:
    """The package list is written out (the data packages cannot be found), so a new subpackage must be added to it."""
    config = setuptools_config()
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "mockscim").rglob("__init__.py")}
    data = {"mockscim.data.profiles", *config["package-dir"]}
    assert set(config["packages"]) - data == on_disk


def test_shipped_data_is_the_top_level_folders() -> None:
    """``fixtures/`` and ``scenarios/`` are the data packages, and what the running code finds is their files."""
    config = setuptools_config()
    assert config["package-dir"] == {"mockscim.shipped_fixtures": "fixtures", "mockscim.shipped_scenarios": "scenarios"}
    for found, folder, pattern in [(fixtures_dir(), "fixtures", "*.json"), (scenarios_dir(), "scenarios", "*.yaml")]:
        names = sorted(p.name for p in (ROOT / folder).glob(pattern))
        assert names and sorted(p.name for p in found.glob(pattern)) == names
        assert {p.name for p in (ROOT / folder).iterdir()} - set(names) <= {"README.md", "__init__.py", "__pycache__"}
