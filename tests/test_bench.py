"""The benchmark runs end to end (``python -m bench --quick``): a smoke test, no timing assertions."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_bench_quick_prints_the_table(tmp_path: Path) -> None:
    """``--quick`` exits 0, prints the table header (the default configuration, ``info``, beside ``warning`` and the
    ceiling) and a row per measured figure, and writes the report file."""
    report = tmp_path / "bench.md"
    done = subprocess.run([sys.executable, "-m", "bench", "--quick", "--output", str(report)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    header = ("| figure | users | ceiling | mockscim memory | memory / ceiling | mockscim default (info) | "
              "info / ceiling | mockscim TinyDB | TinyDB / ceiling |")
    assert header in done.stdout
    core, _, sections = done.stdout.partition("\n### `python -m bench.secretserver")
    rows = [line for line in core.splitlines() if line.startswith("| ")]
    assert {line.count("|") for line in rows} == {header.count("|")}, "every row has every column"
    for row in ("| filter eq | 1,000 |", "| GET by id | 10,000 |", "| PATCH |", "| PUT |", "| POST |",
                "| list page of 100 |", "| onboarding creates/s", "| RSS MB after onboarding |", "| cold start ms",
                "| reset ms"):
        assert row in done.stdout, row
    assert "Budget (issues 9 and 20):" in done.stdout
    for op in ("GET by id", "filter eq", "PATCH", "POST"):
        assert f": {op}, mockscim default (info) ≥ " in done.stdout, op  # the default configuration is judged too
    assert report.read_text(encoding="utf-8").startswith("## mockscim bench (quick run")
    # The Secret Server and scale sections, each with its table (issues 15 and 19).
    assert sections, "no Secret Server section"
    assert "### `python -m bench.scale --no-million --quick`" in sections and "failed (" not in sections
    for row in ("| GET secret |", "| search (Go SDK) |", "| create (Go SDK) |", "| PATCH add one member (Entra)",
                "| DELETE /Users/{id}", "| GET /Users?sortBy=userName"):
        assert row in sections, row


def test_fixture_times_prints_start_and_reset(capsys: pytest.CaptureFixture[str]) -> None:
    """`python -m bench.fixture_times` measures MockScim start-up and reset (smoke test: no timing assertion)."""
    from bench.fixture_times import main

    main(rounds=2)
    out = capsys.readouterr().out
    assert "start: median" in out and "reset: median" in out
