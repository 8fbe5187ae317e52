"""The layer contract (pyproject's ``[tool.importlinter]``): dependencies point down, and the check really bites."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT = Path(sys.executable).parent / "lint-imports"


def lint(root: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(root)}  # the package under `root`, ahead of the installed one
    return subprocess.run([str(LINT), "--config", str(root / "pyproject.toml"), "--no-cache"], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_layers_are_kept() -> None:
    result = lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 1 kept, 0 broken." in result.stdout


def test_an_upward_import_breaks_the_contract(tmp_path: Path) -> None:
    """The store importing the app (a low layer reaching up) fails the check, naming the import."""
    shutil.copytree(ROOT / "mockscim", tmp_path / "mockscim", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    memory = tmp_path / "mockscim" / "store" / "memory.py"
    memory.write_text(memory.read_text() + "\nfrom mockscim.app import create_app  # noqa\n")
    result = lint(tmp_path)
    assert result.returncode != 0
    assert "mockscim layers BROKEN" in result.stdout
    assert "mockscim.store.memory -> mockscim.app" in result.stdout
