"""kill -9 cycles under concurrent writers, compaction and state imports (docs/behaviour.md §13); the long run is
``python -m bench.reliability``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from bench.reliability import Op, Trial, check, run, start

pytestmark = pytest.mark.skipif(os.name != "posix", reason="SIGKILL is POSIX")


def test_five_kill_cycles_lose_nothing_acknowledged(tmp_path: Path) -> None:
    trial = run(5, 16, 1.0, directory=tmp_path, seed=18)
    assert trial.failed_restarts == []  # every restart loads
    assert trial.cycles == 5 and trial.acknowledged > 100 and trial.imports > 0
    assert trial.lost == [] and trial.partial == []


def test_the_check_sees_a_lost_write(tmp_path: Path) -> None:
    """The trial's check is not vacuous: a write acknowledged but absent after the restart is reported."""
    store = tmp_path / "store.json"
    started = start(store, 1 << 20)
    assert not isinstance(started, str), started
    proc, url = started
    try:
        trial = Trial()
        trial.record("bjensen@example.com", Op("Something else", 1.0, 2.0))  # "acknowledged", never written
        trial.record("ghost@example.com", Op("v1", 1.0, 2.0))
        check(trial, url)
        assert trial.lost == ["bjensen@example.com: 'Babs Jensen', expected one of ['Something else']",
                              "ghost@example.com: None, expected one of ['v1']"]
    finally:
        proc.kill()
        proc.wait(30)
