"""The README's "Failure modes in two minutes" block, run as written in a fresh shell (docs/behaviour.md §14)."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from mockscim import MockScim
from tests.helpers import free_port

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent


def demo_block() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("## Failure modes in two minutes"):]
    found = re.search(r"```sh\n(.*?)```", section, re.S)
    assert found is not None
    return found.group(1)


@contextmanager
def something_on_8000() -> Iterator[None]:
    """Another mockscim on port 8000 (or whatever already holds it: the same situation for the demo)."""
    try:
        with MockScim(port=8000):
            yield
    except OSError:
        yield


def run_demo(cwd: Path, path: str, port: int) -> str:
    env = {"HOME": str(cwd), "PATH": path, "DEMO_PORT": str(port), "LC_ALL": "C.UTF-8"}
    done = subprocess.run(["bash", "-c", demo_block()], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120)
    return done.stdout + done.stderr


def check_steps(out: str) -> None:
    assert '"name":"secret-server-outage"' in out, out  # 0: the scenario is active
    assert "POST /Users         -> 201" in out  # 1
    assert '"status":"503","detail":"Secret Server service unavailable."' in out
    assert "GET /PrivilegedData -> 503" in out
    rows = [line for line in out.splitlines() if re.match(r"\d{4}-\d\d-\d\dT\S+ +503 ", line)]
    assert len(rows) == 2 and "secret-server-outage#0" in rows[0]  # 2: the journal names the rule
    assert re.findall(r"HTTP/1.1 (\d+)", out) == ["200", "200", "429"]  # 3
    assert "retry-after: 2" in out.lower()
    assert '{"available":true}' in out and "POST /Containers -> 201" in out  # 4
    assert re.search(r"\d\dZ 201 +POST +/scim/v2/Containers", out)  # 5: the journal file, after the process
    assert "Traceback" not in out and "DEMO STOPPED" not in out and "command not found" not in out


@pytest.mark.parametrize("busy_8000", [False, True], ids=["8000-free", "8000-busy"])
def test_the_demo_runs_with_the_venv_from_the_setup_commands(tmp_path: Path, busy_8000: bool) -> None:
    (tmp_path / ".venv").symlink_to(VENV_BIN.parent)  # a checkout after `python3 -m venv .venv && pip install .`
    if busy_8000:
        with something_on_8000():
            out = run_demo(tmp_path, "/usr/bin:/bin", free_port())
    else:
        out = run_demo(tmp_path, "/usr/bin:/bin", free_port())
    check_steps(out)


def test_the_demo_runs_with_mockscim_on_the_path_and_no_venv(tmp_path: Path) -> None:
    with something_on_8000():
        out = run_demo(tmp_path, f"{VENV_BIN}:/usr/bin:/bin", free_port())
    check_steps(out)


def test_the_demo_stops_loudly_when_its_server_cannot_start(tmp_path: Path) -> None:
    (tmp_path / ".venv").symlink_to(VENV_BIN.parent)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        out = run_demo(tmp_path, "/usr/bin:/bin", port)
    assert f"mockscim serve: cannot listen on 127.0.0.1:{port}: address already in use" in out
    assert "DEMO STOPPED: mockscim did not start (see above)" in out
    assert "POST /Users         -> 000" in out  # nothing after it reaches whatever holds the port
    assert "Traceback" not in out
