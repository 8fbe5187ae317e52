"""``python -m bench.scale [--quick] [--no-million]``: where real tenants live (issue 19), each line by its bound."""

# Big groups (one-member PATCH in Entra and Okta shapes, a rename, GET excludedAttributes=members at 1k / 10k / 50k
# members), fixture start-up and reset at 100k and 1M users, user delete at 200 vs 20,000 containers, sortBy at 100k
# users under rfc, and the pytest fixture's cost per test beside an empty test. Servers are `python -m mockscim
# serve` subprocesses on 127.0.0.1; costs are the server's CPU per request (utime + stime from /proc) unless the line
# says wall time. Every loop is bounded; servers are killed by process group at the end (docs/performance.md).

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
TOKEN = "mockscim-token"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SERVICE = {"userName": "scim-service@mockscim.test", "clientSecret": "mockscim-secret"}
TICK = os.sysconf("SC_CLK_TCK")
GROUP_URL = "/Groups/g?excludedAttributes=members"


@dataclass
class Line:
    """One row of the table: what, the figure, the bound it is held to, and whether it holds."""

    what: str
    figure: str
    bound: str
    ok: bool | None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


class Server:
    """``python -m mockscim serve`` in its own session, with its CPU time and memory read from /proc."""

    def __init__(self, *args: str) -> None:
        self.port = _free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.log = tempfile.TemporaryFile()
        self.started = time.perf_counter()
        self.proc = subprocess.Popen([sys.executable, "-m", "mockscim", "serve", "--host", HOST, "--port",
                                      str(self.port), "--log-level", "warning", *args], cwd=ROOT,
                                     stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, timeout: float) -> float:
        """Seconds from start until ``/_mockscim/health`` answers 200."""
        deadline = self.started + timeout
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                self.log.seek(0)
                raise RuntimeError(f"server exited: {self.log.read().decode(errors='replace')[-2000:]}")
            try:
                if httpx.get(f"{self.url}/_mockscim/health", timeout=1.0).status_code == 200:
                    return time.perf_counter() - self.started
            except httpx.HTTPError:
                pass
            time.sleep(0.02)
        raise RuntimeError(f"server not ready after {timeout:.0f} s")

    def cpu(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / TICK

    def reset_peak(self) -> None:
        """Start VmHWM again from the current RSS (Linux ≥ 4.0: ``5`` to /proc/<pid>/clear_refs)."""
        Path(f"/proc/{self.proc.pid}/clear_refs").write_text("5")

    def memory_mb(self) -> tuple[float, float]:
        """(VmRSS, VmHWM) in MB."""
        found = {}
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = int(value.split()[0]) / 1000
        return found["VmRSS"], found["VmHWM"]

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(30)
        self.log.close()


@contextmanager
def serving(*args: str, timeout: float = 600.0) -> Iterator[tuple[Server, float]]:
    server = Server(*args)
    try:
        yield server, server.wait_ready(timeout)
    finally:
        server.stop()


def client(server: Server) -> httpx.Client:
    return httpx.Client(base_url=f"{server.url}/scim/v2", timeout=120.0,
                        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/scim+json"})


def cpu_per_request(server: Server, send: Callable[[int], httpx.Response], count: int) -> float:
    """Median over three rounds of the server's CPU µs per request, ``count`` requests a round."""
    rounds = []
    for r in range(3):
        before = server.cpu()
        for i in range(count):
            response = send(r * count + i)
            if response.status_code >= 300:
                raise RuntimeError(f"{response.status_code}: {response.text[:300]}")
        rounds.append((server.cpu() - before) / count * 1e6)
    return statistics.median(rounds)


def _write(path: Path, state: dict[str, Any]) -> Path:
    path.write_text(json.dumps(state), encoding="utf-8")
    return path


def _users(n: int, prefix: str) -> list[dict[str, Any]]:
    return [{"id": f"{prefix}{i}", "userName": f"{prefix}{i}@scale.test"} for i in range(n)]


def _service_user() -> dict[str, Any]:
    return {"id": "svc", "userName": SERVICE["userName"]}


# -- big groups -----------------------------------------------------------------------------------------------------
def groups(tmp: Path, sizes: tuple[int, ...], count: int) -> tuple[list[Line], dict[str, dict[int, float]]]:
    costs: dict[str, dict[int, float]] = {}
    spare = 3 * count + 10
    for size in sizes:
        members = _users(size, "m")
        extra = _users(spare, "x")
        group = {"id": "g", "displayName": "All employees",
                 "members": [{"value": u["id"], "display": u["userName"], "type": "User"} for u in members]}
        fixture = _write(tmp / f"group{size}.json", {"serviceUsers": [SERVICE],
                                                     "Users": [_service_user(), *members, *extra],
                                                     "Groups": [group]})
        with serving("--fixture", str(fixture), "--journal-size", "100") as (server, _), client(server) as c:
            def patch(*ops: dict[str, Any]) -> httpx.Response:
                return c.patch(GROUP_URL, json={"schemas": [PATCH_OP], "Operations": list(ops)})

            c.patch(GROUP_URL, json={"schemas": [PATCH_OP], "Operations": [
                {"op": "replace", "path": "displayName", "value": "warm"}]})  # the first change builds the table
            shapes: dict[str, Callable[[int], httpx.Response]] = {
                "PATCH add one member (Entra)": lambda i: patch(
                    {"op": "Add", "path": "members", "value": [{"value": f"x{i}"}]}),
                "PATCH remove one member (Entra)": lambda i: patch(
                    {"op": "Remove", "path": "members", "value": [{"value": f"x{i}"}]}),
                "PATCH add one member (Okta)": lambda i: patch(
                    {"op": "add", "path": "members", "value": [{"value": f"x{i}", "display": f"x{i}@scale.test"}]}),
                "PATCH remove one member (Okta)": lambda i: patch(
                    {"op": "remove", "path": f'members[value eq "x{i}"]'}),
                "PATCH replace displayName": lambda i: patch(
                    {"op": "replace", "path": "displayName", "value": f"All employees {i}"}),
                "GET excludedAttributes=members": lambda i: c.get(GROUP_URL),
            }
            for name, send in shapes.items():
                costs.setdefault(name, {})[size] = cpu_per_request(server, send, count)
    lines = []
    small, big = sizes[0], sizes[-1]
    for name, by_size in costs.items():
        ratio = by_size[big] / by_size[small]
        figures = " / ".join(f"{by_size[s]:,.0f}" for s in sizes)
        bounded = "add" in name or "remove" in name or name.startswith("GET")
        lines.append(Line(f"{name}, µs at {' / '.join(f'{s // 1000}k' for s in sizes)} members",
                          f"{figures} ({big // 1000}k = {ratio:.2f}x {small // 1000}k)",
                          f"≤ 3x at {big // 1000}k" if bounded else "(no bound)", ratio <= 3 if bounded else None))
    return lines, costs


# -- big groups on the durable store -------------------------------------------------------------------------------
def durable_groups(tmp: Path, size: int, count: int) -> list[Line]:
    """One-member PATCHes (Entra add, then remove) of a ``size``-member group with ``--store``: the server's CPU per
    PATCH and the bytes each adds to the log (docs/store.md: a member change logs the change, not the group)."""
    members = _users(size, "m")
    extra = _users(3 * count + 5, "x")
    group = {"id": "g", "displayName": "All employees",
             "members": [{"value": u["id"], "display": u["userName"], "type": "User"} for u in members]}
    fixture = _write(tmp / f"durable{size}.json", {"serviceUsers": [SERVICE], "Users": [_service_user(), *members,
                                                                                         *extra], "Groups": [group]})
    store = tmp / f"durable{size}-store.json"
    wal = Path(f"{store}.wal")
    lines = []
    with serving("--fixture", str(fixture), "--store", str(store), "--journal-size", "100") as (server, _), \
            client(server) as c:
        def patch(op: str, i: int) -> httpx.Response:
            return c.patch(GROUP_URL, json={"schemas": [PATCH_OP], "Operations": [
                {"op": op, "path": "members", "value": [{"value": f"x{i}"}]}]})

        c.patch(GROUP_URL, json={"schemas": [PATCH_OP], "Operations": [
            {"op": "replace", "path": "displayName", "value": "warm"}]})  # the log is started; the table built
        for op in ("Add", "Remove"):
            before = wal.stat().st_size  # five PATCHes first, for the log's growth (the rounds may compact it)
            for i in range(5):
                assert patch(op, 3 * count + i).status_code == 200
            logged = (wal.stat().st_size - before) / 5
            cost = cpu_per_request(server, lambda i, op=op: patch(op, i), count)
            lines.append(Line(f"durable store: PATCH {op.lower()} one member (Entra) at {size // 1000}k members, µs "
                              "(log bytes per PATCH)", f"{cost:,.0f} ({logged:,.0f})", "(no bound)", None))
    return lines


# -- fixtures ---------------------------------------------------------------------------------------------------------
def seed(tmp: Path, users: int) -> Path:
    path = tmp / f"seed{users}.json"
    subprocess.run([sys.executable, "-m", "mockscim", "seed", "--users", str(users), "--groups", "500",
                    "--containers", "200", "--secrets", "2000", "--seed", "1", "-o", str(path)], cwd=ROOT,
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=900)
    return path


def fixture_lines(path: Path, label: str, ready_bound: float, rss_bound: float, resets: int) -> list[Line]:
    with serving("--fixture", str(path), timeout=900) as (server, ready):
        ready_cpu = server.cpu()
        rss, start_peak = server.memory_mb()
        server.reset_peak()  # the peak of the resets alone, not of the start-up parse
        times = []
        with client(server) as c:
            for i in range(resets):
                c.post("/Users", json={"userName": f"reset{i}@scale.test"})
                started = time.perf_counter()
                r = httpx.post(f"{server.url}/_mockscim/reset", timeout=600)
                times.append(time.perf_counter() - started)
                assert r.status_code == 200, r.text
        _, hwm = server.memory_mb()
    reset = statistics.median(times)
    return [
        Line(f"fixture {label}: ready (start → health 200), s wall (server CPU)", f"{ready:.2f} ({ready_cpu:.2f})",
             f"≤ {ready_bound:g}", ready <= ready_bound),
        Line(f"fixture {label}: RSS when ready, MB", f"{rss:,.0f}", f"≤ {rss_bound:,.0f}", rss <= rss_bound),
        Line(f"fixture {label}: POST /_mockscim/reset after a write, s (median of {resets})", f"{reset:.3f}",
             "≤ 1" if label == "100k" else "(no bound)", reset <= 1 if label == "100k" else None),
        Line(f"fixture {label}: high-water mark of the resets / RSS when ready", f"{hwm:,.0f} MB = {hwm / rss:.2f}x",
             "≤ 1.5x" if label == "100k" else "(no bound)", hwm / rss <= 1.5 if label == "100k" else None),
        Line(f"fixture {label}: high-water mark of the start (the parse) / RSS when ready",
             f"{start_peak:,.0f} MB = {start_peak / rss:.2f}x", "(no bound)", None),
    ]


# -- user delete against the number of containers ---------------------------------------------------------------
def deletes(tmp: Path, sizes: tuple[int, ...], count: int) -> list[Line]:
    costs = {}
    for size in sizes:
        containers = [{"id": str(i + 1), "name": f"folder {i}", "owner": {"value": "svc"}} for i in range(size)]
        users = _users(3 * count, "d")
        fixture = _write(tmp / f"containers{size}.json", {"serviceUsers": [SERVICE],
                                                          "Users": [_service_user(), *users],
                                                          "Containers": containers})
        with serving("--fixture", str(fixture), "--journal-size", "100") as (server, _), client(server) as c:
            costs[size] = cpu_per_request(server, lambda i: c.delete(f"/Users/d{i}"), count)
    small, big = sizes
    ratio = costs[big] / costs[small]
    return [Line(f"DELETE /Users/{{id}}, µs at {small:,} / {big:,} containers",
                 f"{costs[small]:,.0f} / {costs[big]:,.0f} ({ratio:.2f}x)", "≤ 2x", ratio <= 2)]


# -- sortBy -----------------------------------------------------------------------------------------------------------
def sort_by(path: Path, label: str, rounds: int) -> list[Line]:
    with serving("--fixture", str(path), "--profile", "rfc", timeout=900) as (server, _), client(server) as c:
        c.get("/Users", params={"sortBy": "userName", "count": "100"})  # the first one sorts the index
        walls = []
        before = server.cpu()
        for i in range(rounds):
            started = time.perf_counter()
            r = c.get("/Users", params={"sortBy": "userName", "count": "100", "startIndex": str(1 + 100 * i)})
            walls.append(time.perf_counter() - started)
            assert r.status_code == 200 and len(r.json()["Resources"]) == 100
        cpu = (server.cpu() - before) / rounds
    wall = statistics.median(walls) * 1000
    return [Line(f"GET /Users?sortBy=userName&count=100 at {label} users (rfc), ms wall (server CPU)",
                 f"{wall:.1f} ({cpu * 1000:.1f})", "≤ 100", wall <= 100)]


# -- the pytest fixture ----------------------------------------------------------------------------------------------
_WITH_FIXTURE = '''
import pytest

@pytest.mark.parametrize("i", range({n}))
def test_three_requests(mockscim, i):
    with mockscim.client() as scim:
        assert scim.post("/Users", json={{"userName": f"u{{i}}@example.com"}}).status_code == 201
        assert scim.get("/Users", params={{"filter": f'userName eq "u{{i}}@example.com"'}}).status_code == 200
        assert scim.get("/Groups").status_code == 200
'''
_EMPTY = '''
import pytest

@pytest.mark.parametrize("i", range({n}))
def test_nothing(i):
    pass
'''


def per_test(tmp: Path, tests: int) -> list[Line]:
    def session(name: str, text: str) -> float:
        folder = tmp / name
        folder.mkdir(exist_ok=True)
        (folder / "pytest.ini").write_text("[pytest]\n", encoding="utf-8")
        (folder / "test_it.py").write_text(text.format(n=tests), encoding="utf-8")
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
                               str(folder)], cwd=folder, capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            raise RuntimeError(done.stdout[-2000:] + done.stderr[-2000:])
        return time.perf_counter() - started

    # Alternated, best of two each: one pytest session is a few seconds, and a busy machine adds noise to either.
    empty, used = min(session("empty", _EMPTY), session("empty", _EMPTY)), float("inf")
    for _ in range(2):
        used = min(used, session("fixture", _WITH_FIXTURE))
        empty = min(empty, session("empty", _EMPTY))
    extra = (used - empty) / tests * 1000
    return [Line(f"{tests} tests x 3 requests through the `mockscim` fixture, ms a test beyond an empty test",
                 f"{extra:.1f} (sessions {used:.1f} s vs {empty:.1f} s)", "≤ 10", extra <= 10)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes and counts: a smoke test, not a measure")
    parser.add_argument("--no-million", action="store_true", help="skip the 1M-user fixture (minutes, ~6 GB)")
    args = parser.parse_args(argv)
    quick = args.quick
    started = time.perf_counter()
    lines: list[Line] = []
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="mockscim-scale-") as folder:
        tmp = Path(folder)
        group_lines, _ = groups(tmp, (1_000, 5_000) if quick else (1_000, 10_000, 50_000), 50 if quick else 300)
        lines += group_lines
        lines += durable_groups(tmp, 2_000 if quick else 10_000, 50 if quick else 300)
        lines += deletes(tmp, (200, 2_000) if quick else (200, 20_000), 50 if quick else 500)
        lines += per_test(tmp, 30 if quick else 300)
        users = 5_000 if quick else 100_000
        fixture = seed(tmp, users)
        label = f"{users // 1000}k"
        lines += fixture_lines(fixture, label, 2.5, 300, 3 if quick else 5)
        lines += sort_by(fixture, label, 5 if quick else 20)
        fixture.unlink()
        if not quick and not args.no_million:
            big = seed(tmp, 1_000_000)
            lines += fixture_lines(big, "1M", 30, 3000, 2)
            big.unlink()
    width = max(len(line.what) for line in lines)
    print(f"\npython -m bench.scale{' --quick' if quick else ''}: {time.perf_counter() - started:.0f} s, load average "
          f"{load:.1f} at start, {os.getloadavg()[0]:.1f} at end ({os.cpu_count()} CPUs)\n")
    print(f"| {'line'.ljust(width)} | measured | bound | verdict |")
    print(f"|{'-' * (width + 2)}|---|---|---|")
    for line in lines:
        verdict = "—" if line.ok is None else ("met" if line.ok else "**not met**")
        print(f"| {line.what.ljust(width)} | {line.figure} | {line.bound} | {verdict} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
