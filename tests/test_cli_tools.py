"""`mockscim journal`, `seed` and `scenario check` as a user meets them (docs/behaviour.md §14, docs/cli.md)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mockscim import MockScim
from tests.helpers import one_line, run

MOCKSCIM = [sys.executable, "-m", "mockscim"]


@pytest.fixture(scope="module")
def busy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[MockScim, Path]]:
    """A server with 130 journaled requests (120 of them 404s), also in a journal file."""
    journal = tmp_path_factory.mktemp("journal") / "journal.jsonl"
    with MockScim(journal_file=str(journal)) as m:
        with m.client() as scim:
            for i in range(120):
                scim.get(f"/Users/missing-{i}")
            for _ in range(10):
                scim.get("/Users", params={"count": 1})
        yield m, journal


# -- journal ------------------------------------------------------------------------------------------------------
def test_journal_says_on_stderr_when_limit_cut_the_answer(busy: tuple[MockScim, Path]) -> None:
    m, _ = busy
    r = run("journal", "--url", m.url, "--status", "4xx")
    assert r.returncode == 0
    lines = r.stdout.splitlines()
    assert len(lines) == 100 and all(json.loads(line)["status"] == 404 for line in lines)  # json when piped
    assert json.loads(lines[-1])["path"] == "/scim/v2/Users/missing-119"  # the newest, oldest first
    assert r.stderr == "100 of 120 matching entries (the newest; --limit N for more)\n"
    everything = run("journal", "--url", m.url, "--limit", "1000")
    assert len(everything.stdout.splitlines()) == 130 and everything.stderr == ""


def test_journal_reads_a_journal_file_offline_with_the_same_filters(busy: tuple[MockScim, Path]) -> None:
    _, journal = busy
    r = run("journal", "--file", str(journal), "--status", "200", "--limit", "3", "--format", "table")
    assert r.returncode == 0
    header, *rows = r.stdout.splitlines()
    assert header.split()[:4] == ["TIME", "STATUS", "METHOD", "PATH"]
    assert len(rows) == 3 and all(" 200 " in row and "/scim/v2/Users?count=1" in row for row in rows)
    assert r.stderr == "3 of 10 matching entries (the newest; --limit N for more)\n"
    missing = run("journal", "--file", str(journal.parent / "nope.jsonl"))
    assert missing.returncode == 2 and "--file" in one_line(missing) and "No such file" in missing.stderr


def test_journal_into_head_ends_quietly(busy: tuple[MockScim, Path]) -> None:
    """`mockscim journal | head -n 1`: no BrokenPipeError when the reader leaves."""
    m, _ = busy
    done = subprocess.run(f"{' '.join(MOCKSCIM)} journal --url {m.url} --limit 1000 | head -n 1", shell=True,
                          capture_output=True, text=True, timeout=60)
    assert len(done.stdout.splitlines()) == 1
    assert "Error" not in done.stderr and "Traceback" not in done.stderr


def test_journal_follow_prints_entries_as_they_arrive(busy: tuple[MockScim, Path]) -> None:
    """Entries made after `--follow` started are printed as they arrive, from a server and from a journal file."""
    m, journal = busy
    auth = {"Authorization": f"Bearer {m.token}"}
    for source, resource in ((["--url", m.url], "Groups"), (["--file", str(journal)], "Containers")):
        args = ["journal", *source, "--follow", "--limit", "1", "--path", f"/scim/v2/{resource}/*"]
        proc = subprocess.Popen([*MOCKSCIM, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        watchdog = threading.Timer(30, proc.kill)
        watchdog.start()
        try:
            seen: list[str] = []
            for path in (f"/scim/v2/{resource}/first", f"/scim/v2/{resource}/second"):
                httpx.get(f"{m.url}{path}", headers=auth)  # the second one surely after the follower started
                while path not in seen:
                    line = proc.stdout.readline()  # type: ignore[union-attr]
                    assert line, f"--follow ended; saw {seen}"
                    seen.append(json.loads(line)["path"])
            assert seen == [f"/scim/v2/{resource}/first", f"/scim/v2/{resource}/second"]
        finally:
            watchdog.cancel()
            proc.terminate()
            proc.wait(10)


def test_journal_bad_filter_and_unreachable_server() -> None:
    r = run("journal", "--status", "5zz")
    assert r.returncode == 2
    assert one_line(r) == "mockscim journal: --status: expected a code (404) or a class (4xx), got '5zz'"
    r = run("journal", "--url", "http://127.0.0.1:9")
    assert r.returncode == 2 and one_line(r).startswith("mockscim journal: http://127.0.0.1:9/_mockscim/journal: ")


# -- seed ---------------------------------------------------------------------------------------------------------
def test_seed_help_states_its_defaults() -> None:
    out = run("seed", "--help").stdout
    for text in ("number of users besides the service user (default 0)", "(default 0)", "(default en_US)"):
        assert text in " ".join(out.split())


def test_seed_without_counts_is_a_usage_error(tmp_path: Path) -> None:
    r = run("seed", "-o", str(tmp_path / "s.json"))
    assert r.returncode == 2
    assert one_line(r) == "mockscim seed: give at least one of --users, --groups, --containers, --secrets"
    assert not (tmp_path / "s.json").exists()


@pytest.mark.parametrize("args", [["--users", "1000000000000"], ["--groups", "1000000000"]])
def test_seed_more_than_fits_in_memory_is_one_clear_line(tmp_path: Path, args: list[str]) -> None:
    r = run("seed", *args, "-o", str(tmp_path / "s.json"))
    assert r.returncode == 2
    line = one_line(r)
    assert line.startswith(f"mockscim seed: {args[0]} {args[1]}: needs about ")
    assert "is available (at most about" in line


def test_seed_refuses_a_device_and_writes_files_with_umask_permissions(tmp_path: Path) -> None:
    r = run("seed", "--users", "1", "-o", "/dev/null")
    assert r.returncode == 2
    assert one_line(r) == ("mockscim seed: -o '/dev/null': not a regular file (seed replaces a file; it will not "
                           "write to a device or directory)")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    target = tmp_path / "s.json"
    done = subprocess.run(f"umask 022 && {' '.join(MOCKSCIM)} seed --users 2 -o {target}", shell=True,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir()] == ["s.json"]  # the temporary file was renamed onto it


# -- scenario check -----------------------------------------------------------------------------------------------
def test_scenario_check_reports_every_error_in_every_file(tmp_path: Path) -> None:
    one = tmp_path / "one.yaml"
    one.write_text("name: one\ncolour: red\nrules:\n"
                   "  - match: {resorce: Users}\n    then: {status: 999}\n    times: -1\n"
                   "  - match: {method: GET}\n    then: {eror: internal_error}\n    probability: 2\n")
    two = tmp_path / "two.yaml"
    two.write_text("name: [\n")
    r = run("scenario", "check", str(one), str(two))
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert r.stderr.splitlines() == [
        f"{one}: unknown key 'colour'",
        f"{one}: rules[0].match: unknown key 'resorce' (did you mean 'resource'?)",
        f"{one}: rules[0].then.status: must be an HTTP status 100..599, got 999",
        f"{one}: rules[0].times: must be a non-negative integer, got -1",
        f"{one}: rules[1].then: unknown key 'eror' (did you mean 'error'?)",
        f"{one}: rules[1].probability: must be a number in [0, 1], got 2",
        f"{two}: invalid YAML: expected the node content, but found '<stream end>' (line 2, column 1)",
    ]
