"""``python -m bench`` / ``python bench/run.py [--quick]``: mockscim (memory, TinyDB; default log level and warning)
beside a ceiling, one table."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

if __package__ in (None, ""):  # ``python bench/run.py``: make ``bench`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.load import Result, client_ceiling, loop_factory, request, run_load

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
TOKEN = "mockscim-token"
PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
SERVER_CPU, CLIENT_CPU = 0, 1
_LOCATION = re.compile(rb"\r\nlocation: [^\r]*/Users/([^\r/?]+)\r", re.IGNORECASE)


@dataclass(frozen=True)
class Plan:
    """How much to do: store sizes, requests per phase and its time cap, the long run, repetitions."""

    sizes: tuple[int, ...]
    count: int
    seconds: float
    post_count: int
    long_run: int
    long_seconds: float
    cold_starts: int = 5
    resets: int = 20
    concurrency: int = 16
    reps: int = 2
    label: str = "full"


FULL = Plan(sizes=(1_000, 10_000, 100_000), count=6_000, seconds=4.0, post_count=3_000, long_run=200_000,
            long_seconds=150.0)
QUICK = Plan(sizes=(1_000, 10_000), count=600, seconds=1.0, post_count=300, long_run=12_000, long_seconds=8.0,
             cold_starts=3, resets=20, reps=1, label="quick")
OPS = ("filter eq", "GET by id", "PATCH", "PUT", "list page of 100", "POST")


# -- processes ------------------------------------------------------------------------------------------------------
def pinning() -> bool:
    """Pin server to CPU 0 and client to CPU 1 when ``taskset`` exists and both CPUs are ours."""
    try:
        allowed = os.sched_getaffinity(0)
    except AttributeError:  # pragma: no cover - not Linux
        return False
    return shutil.which("taskset") is not None and {SERVER_CPU, CLIENT_CPU} <= allowed


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """A server subprocess in its own session, killed (group and all) by ``stop``."""

    name: str
    argv: list[str]
    port: int
    proc: subprocess.Popen[bytes] | None = None
    log: Path | None = None
    started_at: float = 0.0

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, log_dir: Path, pin: bool) -> None:
        self.log = log_dir / f"{self.name.replace(' ', '_')}-{self.port}.log"
        argv = ["taskset", "-c", str(SERVER_CPU), *self.argv] if pin else self.argv
        self.started_at = time.perf_counter()
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(argv, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, start_new_session=True)
        REGISTRY.append(self)

    def wait_ready(self, timeout: float = 120.0) -> float:
        """Seconds from ``start`` to the first 200 of ``/_mockscim/health`` (polled every 2 ms)."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}: {self.tail()}")
            if http_status(self.port, "/_mockscim/health") == 200:
                return time.perf_counter() - self.started_at
            time.sleep(0.002)
        raise RuntimeError(f"{self.name} not ready after {timeout:.0f} s: {self.tail()}")

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-2000:] if self.log and self.log.exists() else ""

    def rss_mb(self) -> float:
        """VmRSS from /proc/<pid>/status, in MB (10^6 bytes)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024 / 1e6
        return float("nan")

    def cpu_seconds(self) -> float:
        fields_ = Path(f"/proc/{self.pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields_[11]) + int(fields_[12])) / os.sysconf("SC_CLK_TCK")

    def runtime(self) -> str:
        """Which event loop and HTTP parser the process really loaded (from its memory maps)."""
        maps = Path(f"/proc/{self.pid}/maps").read_text()
        loop = "uvloop" if "/uvloop/loop." in maps else "asyncio"
        http = "httptools" if "/httptools/parser/parser." in maps else "h11"
        return f"{loop}+{http}"

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.proc.wait(wait)
                return
            except subprocess.TimeoutExpired:
                continue


REGISTRY: list[Server] = []


CLEANUP: list[Path] = []


def stop_all() -> None:
    while REGISTRY:
        REGISTRY.pop().stop()


def _on_signal(signum: int, _frame: object) -> None:
    """SIGTERM/SIGINT: kill every server group now and leave. Raising instead would be swallowed when the signal
    lands inside an event-loop callback, and the run would go on."""
    for server in REGISTRY:
        if server.proc is not None and server.proc.poll() is None:
            try:
                os.killpg(server.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    for path in CLEANUP:
        shutil.rmtree(path, ignore_errors=True)
    print(f"bench: stopped by signal {signum}; servers killed", file=sys.stderr, flush=True)
    os._exit(128 + signum)


def http_status(port: int, path: str, method: str = "GET") -> int:
    """A one-shot HTTP/1.1 request on a new connection; its status, or 0 when nothing answers."""
    try:
        with socket.create_connection((HOST, port), timeout=2) as sock:
            sock.sendall(f"{method} {path} HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n"
                         "Content-Length: 0\r\n\r\n".encode())
            head = sock.recv(64)
    except OSError:
        return 0
    return int(head[9:12]) if head.startswith(b"HTTP/1.") and len(head) >= 12 else 0


def mockscim_argv(port: int, store: str, fixture: str | None = None, log_level: str = "warning") -> list[str]:
    """``mockscim serve`` on ``port``; ``log_level="info"`` is the default configuration (a JSON log line per
    request on stderr, which :class:`Server` sends to its log file)."""
    argv = [sys.executable, "-m", "mockscim", "serve", "--host", HOST, "--port", str(port), "--store", store,
            "--log-level", log_level]
    return [*argv, "--fixture", fixture] if fixture else argv


def ceiling_argv(port: int) -> list[str]:
    return [sys.executable, str(ROOT / "bench" / "ceiling.py"), "--host", HOST, "--port", str(port)]


# -- data ------------------------------------------------------------------------------------------------------------
def user_pool(n: int) -> list[dict[str, Any]]:
    """``n`` realistic users from ``mockscim.seed.generate`` (seed 1), without ids, the service user left out."""
    from mockscim.seed.generate import generate_state

    users = generate_state(users=n, groups=0, containers=0, secrets=0, seed=1)["Users"][1:]
    return [{k: v for k, v in u.items() if k != "id"} for u in users]


def dumps(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


@dataclass
class Target:
    """One server under test and what the bench knows of its users (pool index → id)."""

    server: Server
    pool: list[dict[str, Any]]
    ids: dict[int, str] = field(default_factory=dict)
    done: int = 0

    @property
    def hostport(self) -> str:
        return f"{HOST}:{self.server.port}"

    def post_requests(self, start: int, end: int) -> list[bytes]:
        return [request("POST", "/scim/v2/Users", self.hostport, token=TOKEN, body=dumps(self.pool[i]))
                for i in range(start, end)]


# -- phases ----------------------------------------------------------------------------------------------------------
@dataclass
class Measure:
    """One cell: a load result, the server's CPU share during it and its CPU time per request (µs).

    CPU per request is the figure that survives a shared machine: when other processes take the server's core,
    req/s drops but the CPU each request costs does not. Ratios are given both ways.
    """

    result: Result
    server_cpu: float
    cpu_us: float


class Bench:
    """Runs every phase against one server after another and keeps the results by (row, users, server)."""

    def __init__(self, plan: Plan, runner: asyncio.Runner, workdir: Path, pin: bool) -> None:
        self.plan = plan
        self.runner = runner
        self.workdir = workdir
        self.pin = pin
        self.cells: dict[tuple[str, str, str], Any] = {}
        self.notes: list[str] = []
        self.runtimes: dict[str, str] = {}
        self.rng = random.Random(7)

    def load(self, target: Target, requests: Sequence[bytes], name: str, *, count: int | None = None,
             seconds: float | None = None, keep: bool = False, warmup: int | None = None,
             concurrency: int | None = None) -> Measure:
        count = self.plan.count if count is None else count
        cpu0, t0 = target.server.cpu_seconds(), time.perf_counter()
        result = self.runner.run(run_load(
            HOST, target.server.port, requests, count=count, seconds=self.plan.seconds if seconds is None else seconds,
            concurrency=self.plan.concurrency if concurrency is None else concurrency,
            warmup=max(50, count // 20) if warmup is None else warmup, keep_responses=keep, name=name))
        wall, cpu = time.perf_counter() - t0, target.server.cpu_seconds() - cpu0
        measure = Measure(result, cpu / wall if wall > 0 else 0.0,
                          cpu / result.completed * 1e6 if result.completed else float("nan"))
        if result.errors:
            bad = {s: n for s, n in result.statuses.items() if s >= 400 or s == 0}
            self.notes.append(f"{target.server.name} {name}: {result.errors} errors {bad}")
        return measure

    def onboard(self, target: Target, upto: int) -> tuple[Measure, int, float]:
        """POST pool users until ``upto`` are in, learning their ids from ``Location``; the last 10 % (at least
        500) is a run of its own: the creates/s *at* ``upto``. Returns it, and all creates with their seconds."""
        begin = target.done
        window = min(upto - begin, max(500, (upto - begin) // 10))
        created, seconds = 0, 0.0
        measure: Measure | None = None
        for start, end in ((begin, upto - window), (upto - window, upto)):
            if end <= start:
                continue
            reqs = target.post_requests(start, end)
            measure = self.load(target, reqs, f"onboard {start}-{end}", count=len(reqs), seconds=900.0, keep=True,
                                warmup=0)
            for index, raw in measure.result.responses:
                match = _LOCATION.search(raw)
                if match:
                    target.ids[start + index] = match.group(1).decode()
            measure.result.responses.clear()
            created += measure.result.completed
            seconds += measure.result.elapsed
        target.done = upto
        assert measure is not None
        return measure, created, seconds

    def phases(self, targets: Sequence[Target], size: int) -> None:
        """Every operation at ``size`` onboarded users, servers back to back per operation so that the noise of a
        shared machine hits all of them alike; best of ``reps``. Filter first (the size is exact), POST last."""
        key = f"{size:,}"
        requests = {t.server.name: self._requests(t, size) for t in targets}
        for op in OPS:
            for _ in range(self.plan.reps):
                for target in targets:
                    name = target.server.name
                    if op == "POST":
                        start = target.done
                        reqs = target.post_requests(start, start + self.plan.post_count)
                        target.done = start + self.plan.post_count
                        measure = self.load(target, reqs, op, count=len(reqs))
                    else:
                        count = max(100, self.plan.count // 5) if op == "list page of 100" else self.plan.count
                        measure = self.load(target, requests[name][op], op, count=count)
                    best = self.cells.get((op, key, name))
                    if best is not None:
                        low = min(best.cpu_us, measure.cpu_us)
                        measure = measure if measure.result.rps > best.result.rps else best
                        measure.cpu_us = low  # the lowest CPU cost of the reps beside the best throughput
                    self.cells[op, key, name] = measure

    def _requests(self, target: Target, size: int) -> dict[str, list[bytes]]:
        hp = target.hostport
        known = [i for i in range(size) if i in target.ids]
        rng = random.Random(size)
        n = min(self.plan.count, 5000)
        picks = [rng.choice(known) for _ in range(n)]
        patch = [{"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "title", "value": f"Title {k}"}]}
                 for k in range(n)]
        return {
            "filter eq": [request("GET", "/scim/v2/Users?filter=" + quote(f'userName eq "{self._name(target, i)}"'),
                                  hp, token=TOKEN) for i in picks],
            "GET by id": [request("GET", f"/scim/v2/Users/{target.ids[i]}", hp, token=TOKEN) for i in picks],
            "PATCH": [request("PATCH", f"/scim/v2/Users/{target.ids[i]}", hp, token=TOKEN, body=dumps(patch[k]))
                      for k, i in enumerate(picks)],
            "PUT": [request("PUT", f"/scim/v2/Users/{target.ids[i]}", hp, token=TOKEN,
                            body=dumps({**target.pool[i], "title": f"Put {k}"})) for k, i in enumerate(picks)],
            "list page of 100": [request("GET", f"/scim/v2/Users?startIndex={rng.randint(1, max(1, size - 100))}"
                                         "&count=100", hp, token=TOKEN) for _ in range(min(n, 2000))],
        }

    @staticmethod
    def _name(target: Target, index: int) -> str:
        return str(target.pool[index]["userName"])

    def run_all(self, specs: Sequence[tuple[str, Callable[[int], list[str]]]], pool: list[dict[str, Any]],
                long_run: str) -> None:
        """Start every server (default fixture), onboard them size by size with the phases at each size, then the
        long run on ``long_run``."""
        targets: list[Target] = []
        for name, argv in specs:
            server = Server(name, argv(free_port()), 0)
            server.port = int(server.argv[server.argv.index("--port") + 1])
            server.start(self.workdir, self.pin)
            server.wait_ready()
            self.runtimes[name] = server.runtime()
            targets.append(Target(server, pool))
            progress(f"{name}: started ({self.runtimes[name]}), RSS {server.rss_mb():.0f} MB")
        totals: dict[str, list[float]] = {t.server.name: [0.0, 0.0] for t in targets}
        for size in self.plan.sizes:
            for target in targets:
                name, t0 = target.server.name, time.perf_counter()
                measure, created, seconds = self.onboard(target, size)
                self.cells["onboarding creates/s", f"{size:,}", name] = measure
                totals[name][0] += created
                totals[name][1] += seconds
                progress(f"{name}: onboarded {size:,} users in {time.perf_counter() - t0:.1f} s")
                if size == self.plan.sizes[-1]:
                    self.cells["RSS after onboarding", f"{size:,}", name] = target.server.rss_mb()
            t0 = time.perf_counter()
            self.phases(targets, size)
            progress(f"phases at {size:,} in {time.perf_counter() - t0:.1f} s")
        for target in targets:
            all_created, all_seconds = totals[target.server.name]
            self.cells["onboarding creates/s", "overall", target.server.name] = all_created / all_seconds
            if target.server.name == long_run:
                self._long_run(target)
            target.server.stop()

    def _long_run(self, target: Target) -> None:
        """RSS before, after the journal is full (20k) and after ``long_run`` requests of GET/filter/PATCH."""
        hp = target.hostport
        ids = list(target.ids.items())
        reqs: list[bytes] = []
        for k in range(6000):
            i, uid = ids[self.rng.randrange(len(ids))]
            match k % 3:
                case 0:
                    reqs.append(request("GET", f"/scim/v2/Users/{uid}", hp, token=TOKEN))
                case 1:
                    q = quote(f'userName eq "{target.pool[i]["userName"]}"')
                    reqs.append(request("GET", f"/scim/v2/Users?filter={q}", hp, token=TOKEN))
                case _:
                    reqs.append(request("PATCH", f"/scim/v2/Users/{uid}", hp, token=TOKEN, body=dumps(
                        {"schemas": [PATCH_OP], "Operations": [{"op": "replace", "path": "title", "value": f"L{k}"}]})))
        name = target.server.name
        first = min(20_000, self.plan.long_run // 4)
        before = target.server.rss_mb()
        self.load(target, reqs, "long run (1)", count=first, seconds=self.plan.long_seconds)
        full = target.server.rss_mb()
        rest = self.load(target, reqs, "long run (2)", count=self.plan.long_run - first,
                         seconds=self.plan.long_seconds)
        after = target.server.rss_mb()
        done = first + rest.result.completed
        self.cells["RSS over long run", f"{done:,} req", name] = (before, full, after, first)
        progress(f"{name}: long run {done:,} requests, RSS {before:.1f} → {full:.1f} → {after:.1f} MB")

    def cold_and_reset(self, name: str, argv: Callable[[int, str], list[str]], store_dir: Path | None) -> None:
        """Cold start (process start → first 200, median) and reset of the default fixture (median of ``resets``)."""
        times: list[float] = []
        cpu: list[float] = []
        for k in range(self.plan.cold_starts):
            store = str(store_dir / f"cold-{k}.json") if store_dir else "memory"
            server = Server(name, argv(free_port(), store), 0)
            server.port = int(server.argv[server.argv.index("--port") + 1])
            server.start(self.workdir, self.pin)
            times.append(server.wait_ready(60.0) * 1000)
            cpu.append(server.cpu_seconds() * 1000)  # CPU the process burnt until then: robust on a busy machine
            if k == self.plan.cold_starts - 1:
                target = Target(server, [])
                reset = [request("POST", "/_mockscim/reset", target.hostport)]
                m = self.load(target, reset, "reset", count=self.plan.resets + 2, warmup=2, concurrency=1)
                self.cells["reset (default fixture)", "ms", name] = m
            server.stop()
        self.cells["cold start", "ms", name] = times
        self.cells["cold start", "cpu ms", name] = cpu


def progress(message: str) -> None:
    print(f"  [{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# -- the table -------------------------------------------------------------------------------------------------------
CEILING, MEMORY, DEFAULT, TINYDB = "ceiling", "mockscim memory", "mockscim default (info)", "mockscim TinyDB"
SERVERS = (CEILING, MEMORY, DEFAULT, TINYDB)
SHORT = {MEMORY: "memory", DEFAULT: "info", TINYDB: "TinyDB"}
"""Column names of the ratios to the ceiling."""


def _fmt_rate(value: float) -> str:
    return f"{value:,.0f}".replace(",", " ")


def _num(value: float | None, digits: int = 0) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, Measure):
        r = value.result
        cap = "†" if r.truncated else ""
        err = f" **{r.errors} err**" if r.errors else ""
        return (f"{_fmt_rate(r.rps)}{cap} ({r.p50:.2f} / {r.p99:.2f}) · {value.cpu_us:,.0f} µs"
                f" · {value.server_cpu:.0%}{err}")
    if isinstance(value, float):
        return _fmt_rate(value)
    return str(value)


def _ratio(num: Any, den: Any) -> str:
    """mockscim / ceiling: throughput, and (for measures) CPU efficiency = ceiling µs per request / mockscim's."""
    a, b = _scalar(num), _scalar(den)
    if a is None or b is None or b == 0:
        return "-"
    text = f"{a / b:.0%}"
    if isinstance(num, Measure) and isinstance(den, Measure) and num.cpu_us > 0:
        text += f" (cpu {den.cpu_us / num.cpu_us:.0%})"
    return text


def _scalar(value: Any) -> float | None:
    if isinstance(value, Measure):
        return value.result.rps
    if isinstance(value, float | int):
        return float(value)
    return None


def _efficiency(num: Any, den: Any) -> float | None:
    if isinstance(num, Measure) and isinstance(den, Measure) and num.cpu_us > 0:
        return den.cpu_us / num.cpu_us
    return None


def _row(label: str, key: str, values: Sequence[Any], fmt: Callable[[Any], str] = _cell) -> str:
    """One table row: the ceiling, then each mockscim server beside its ratio to the ceiling (order of SERVERS)."""
    ceiling, *rest = values
    cells = " | ".join(f"{fmt(v)} | {_ratio(v, ceiling)}" for v in rest)
    return f"| {label} | {key} | {fmt(ceiling)} | {cells} |"


HEADER = ("| figure | users | ceiling | " + " | ".join(f"{s} | {SHORT[s]} / ceiling" for s in SERVERS[1:]) + " |")


def table(bench: Bench, client: Result) -> list[str]:
    """The one table: operations by store size; columns ceiling / memory / default (info) / TinyDB, each with its
    ratio to the ceiling."""
    c = bench.cells
    blank = " |" * (2 * len(SERVERS) - 2)
    lines = [
        HEADER,
        "|---|" + "---:|" * (2 * len(SERVERS)),
        f"| client's own ceiling (fixed-answer server) | - | {_fmt_rate(client.rps)} ({client.p50:.2f} / "
        f"{client.p99:.2f}) · client cpu {client.client_cpu:.0%} |{blank}",
    ]
    for op in OPS:
        for size in bench.plan.sizes:
            key = f"{size:,}"
            values = [c.get((op, key, s)) for s in SERVERS]
            if any(v is not None for v in values):
                lines.append(_row(op, key, values))
    for key in [f"{s:,}" for s in bench.plan.sizes] + ["overall"]:
        lines.append(_row("onboarding creates/s" + (" (last 10 % up to)" if key != "overall" else ""), key,
                          [c.get(("onboarding creates/s", key, s)) for s in SERVERS]))
    last = f"{bench.plan.sizes[-1]:,}"
    lines.append(_row("RSS MB after onboarding", last, [c.get(("RSS after onboarding", last, s)) for s in SERVERS],
                      lambda v: _num(v, 1)))
    for (fig, key, server), value in list(c.items()):
        if fig == "RSS over long run":
            before, full, after, first = value
            cells = [""] * (2 * len(SERVERS) - 2)
            cells[2 * SERVERS.index(server) - 2] = f"{before:.1f} → {full:.1f} → {after:.1f}"
            lines.append(f"| RSS MB over a long run ({server}): start → after {first:,} req (journal full) → end | "
                         f"{key} | | " + " | ".join(cells) + " |")
    cold = [c.get(("cold start", "ms", s)) for s in SERVERS]
    lines.append(_row(f"cold start ms (start → first 200, median of {bench.plan.cold_starts})", "default fixture",
                      [statistics.median(v) if v else None for v in cold], _num))
    cold = [c.get(("cold start", "cpu ms", s)) for s in SERVERS]
    lines.append(_row("cold start: CPU ms the process used until then (median)", "default fixture",
                      [statistics.median(v) if v else None for v in cold], _num))
    resets = [c.get(("reset (default fixture)", "ms", s)) for s in SERVERS]
    lines.append(_row(f"reset ms (POST /_mockscim/reset, median of {bench.plan.resets})", "default fixture",
                      [v.result.p50 if isinstance(v, Measure) else None for v in resets], lambda v: _num(v, 2)))
    return lines


def budget(bench: Bench) -> Iterator[str]:
    """Each target of issues 9 and 20 (the default configuration, ``info``, within the same budget), met or not, from
    this run's table (throughput ratios judged on CPU per request)."""
    c, sizes = bench.cells, bench.plan.sizes
    big, small = f"{sizes[-1]:,}", f"{sizes[0]:,}"

    def verdict(ok: bool | None) -> str:
        return "n/a" if ok is None else ("MET" if ok else "MISSED")

    for op, floor in (("GET by id", 0.6), ("filter eq", 0.6), ("PATCH", 0.5), ("POST", 0.5)):
        for store in (MEMORY, DEFAULT, TINYDB):
            parts, oks = [], []
            for size in sizes:
                num, den = c.get((op, f"{size:,}", store)), c.get((op, f"{size:,}", CEILING))
                eff = _efficiency(num, den)
                oks.append(None if eff is None else eff >= floor)
                parts.append(f"@{size:,} {_ratio(num, den)}")
            ok = None if None in oks else all(oks)
            yield f"{verdict(ok)}: {op}, {store} ≥ {floor:.0%} of the ceiling: " + ", ".join(parts)
    # The ceiling answers the same at every size: its own ratio between the two phases is how much this machine's
    # speed moved meanwhile (shown beside the verdict, which stays on mockscim's own CPU).
    c_lo, c_hi = c.get(("filter eq", small, CEILING)), c.get(("filter eq", big, CEILING))
    drift = (f"; the ceiling's own: {c_hi.cpu_us / c_lo.cpu_us:.2f}x"
             if isinstance(c_lo, Measure) and isinstance(c_hi, Measure) else "")
    for store in (MEMORY, DEFAULT, TINYDB):
        lo, hi = c.get(("filter eq", small, store)), c.get(("filter eq", big, store))
        if isinstance(lo, Measure) and isinstance(hi, Measure):
            cost = hi.cpu_us / lo.cpu_us
            yield (f"{verdict(cost <= 1.10)}: filter eq cost @ {big} vs @ {small}, {store}: {cost:.2f}x CPU per "
                   f"request ({hi.cpu_us:,.0f} vs {lo.cpu_us:,.0f} µs; req/s {hi.result.rps:,.0f} vs "
                   f"{lo.result.rps:,.0f}{drift}) (target ≤ 1.10x)")
    mem, tdb = c.get(("onboarding creates/s", big, MEMORY)), c.get(("onboarding creates/s", big, TINYDB))
    tdb_small = c.get(("onboarding creates/s", small, TINYDB))
    if isinstance(mem, Measure) and isinstance(tdb, Measure):
        share = tdb.result.rps / mem.result.rps
        yield f"{verdict(share >= 0.5)}: TinyDB creates/s @ {big} = {share:.0%} of memory's (target ≥ 50 %)"
    if isinstance(tdb, Measure) and isinstance(tdb_small, Measure):
        rate, cost = tdb.result.rps / tdb_small.result.rps, tdb.cpu_us / tdb_small.cpu_us
        yield (f"{verdict(rate >= 0.8 and cost <= 1.25)}: TinyDB creates flat from {small} to {big}: req/s "
               f"{rate:.0%}, CPU per create {cost:.2f}x (target: ≥ 80 % and ≤ 1.25x)")
    for store in (MEMORY, DEFAULT, TINYDB):
        rss = c.get(("RSS after onboarding", big, store))
        if rss is not None:
            yield f"{verdict(rss <= 200)}: RSS @ {big} users, {store}: {rss:.0f} MB (target ≤ 200 MB)"
    for (fig, key, server), value in c.items():
        if fig == "RSS over long run":
            _, full, after, first = value
            ok = after - full <= max(5.0, 0.05 * full)
            yield (f"{verdict(ok)}: memory flat over {key}, {server}: {full:.1f} MB after {first:,} → {after:.1f} MB "
                   "(target: growth ≤ 5 % or 5 MB once the journal is full)")
    for store in (MEMORY, DEFAULT, TINYDB):
        cold, cpu = c.get(("cold start", "ms", store)), c.get(("cold start", "cpu ms", store))
        if cold and cpu:
            med = statistics.median(cold)
            yield (f"{verdict(med <= 300)}: cold start, {store}: {med:.0f} ms, {statistics.median(cpu):.0f} ms of it "
                   "CPU (target ≤ 300 ms)")
    for store in (MEMORY, DEFAULT, TINYDB):
        reset = c.get(("reset (default fixture)", "ms", store))
        if isinstance(reset, Measure):
            yield f"{verdict(reset.result.p50 <= 5)}: reset, {store}: {reset.result.p50:.2f} ms (target ≤ 5 ms)"


def environment(pin: bool) -> list[str]:
    """Versions, pinning and the middleware the app is built with."""
    import platform
    from importlib.metadata import version

    def v(name: str) -> str:
        try:
            return version(name)
        except Exception:
            return "absent"

    out = [f"python {platform.python_version()}, " + ", ".join(
        f"{p} {v(p)}" for p in ("mockscim", "starlette", "uvicorn", "uvloop", "httptools", "tinydb"))]
    out.append(f"cpus {os.cpu_count()}; pinning: "
               + (f"server CPU {SERVER_CPU}, client CPU {CLIENT_CPU} (taskset)" if pin else "none (unpinned)"))
    try:
        from mockscim.app import create_app
        from mockscim.settings import Settings

        app = create_app(Settings())
        names = [m.cls.__name__ for m in app.user_middleware]  # type: ignore[attr-defined]
        out.append("mockscim middleware (outer → inner): " + " → ".join(names))
    except Exception as exc:  # the stack is being finished by others: report, do not fail
        out.append(f"mockscim middleware: could not build the app ({exc!r})")
    return out


def sections(quick: bool, million: bool) -> list[str]:
    """The Secret Server API (GET secret, search, create) and scale (big groups, fixtures, resets, sortBy, the pytest
    fixture) sections, each its own module run as a process and printing its table beside its ceiling or bound."""
    out: list[str] = []
    for module, extra in (("bench.secretserver", []), ("bench.scale", [] if million else ["--no-million"])):
        progress(f"section: python -m {module}")
        argv = [sys.executable, "-m", module, *extra, *(["--quick"] if quick else [])]
        done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=1800)
        out += ["", f"### `python -m {module}{' ' + ' '.join(argv[3:]) if argv[3:] else ''}`", "",
                done.stdout.rstrip() if done.returncode == 0 else f"failed ({done.returncode}): {done.stderr[-2000:]}"]
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1k/10k users and small counts (under a minute)")
    parser.add_argument("--output", help="also write the report (markdown) to this file")
    parser.add_argument("--only-core", action="store_true",
                        help="skip the Secret Server and scale sections (python -m bench.secretserver / bench.scale)")
    parser.add_argument("--million", action="store_true", help="the scale section also loads a 1M-user fixture")
    args = parser.parse_args(argv)
    plan = QUICK if args.quick else FULL
    pin = pinning()
    if pin:
        os.sched_setaffinity(0, {CLIENT_CPU})
    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    t_start = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory(prefix="mockscim-bench-") as tmp, \
                asyncio.Runner(loop_factory=loop_factory()) as runner:
            workdir = Path(tmp)
            CLEANUP.append(workdir)
            env = environment(pin)
            progress("measuring the client's own ceiling")
            client = client_ceiling(count=plan.count * 4, seconds=plan.seconds * 2,
                                    pin_server=(lambda: os.sched_setaffinity(0, {SERVER_CPU})) if pin else None)
            bench = Bench(plan, runner, workdir, pin)
            progress("cold starts and resets")
            bench.cold_and_reset(CEILING, lambda port, _store: ceiling_argv(port), None)
            bench.cold_and_reset(MEMORY, lambda port, store: mockscim_argv(port, store), None)
            bench.cold_and_reset(DEFAULT, lambda port, store: mockscim_argv(port, store, log_level="info"), None)
            bench.cold_and_reset(TINYDB, lambda port, store: mockscim_argv(port, store), workdir)
            n = plan.sizes[-1] + plan.post_count * len(plan.sizes) * plan.reps
            progress(f"generating {n:,} users")
            pool = user_pool(n)
            bench.run_all([(CEILING, ceiling_argv), (MEMORY, lambda port: mockscim_argv(port, "memory")),
                           (DEFAULT, lambda port: mockscim_argv(port, "memory", log_level="info")),
                           (TINYDB, lambda port: mockscim_argv(port, str(workdir / "store.json")))], pool, MEMORY)
            report = [f"## mockscim bench ({plan.label} run, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})",
                      "", *(f"* {line}" for line in env),
                      "* uvicorn as loaded per server: " + ", ".join(f"{k} {v}" for k, v in bench.runtimes.items()),
                      f"* concurrency {plan.concurrency}; {plan.count:,} requests per phase (cap {plan.seconds:.0f} s, "
                      f"† = cap hit), first 5 % unmeasured, best of {plan.reps}; POST {plan.post_count:,} new users",
                      f"* load average at the end of the run: {os.getloadavg()[0]:.1f} ({os.cpu_count()} CPUs; "
                      "above ~2 means other processes shared the machine)", "",
                      "Cells: req/s (p50 / p99 ms) · server CPU µs per request · server CPU share during the phase. "
                      "Ratios: throughput (CPU efficiency = ceiling µs / mockscim µs); the budget is judged on "
                      "CPU efficiency, which a busy shared machine does not distort.",
                      f"{MEMORY} and {TINYDB} run with `--log-level warning`; {DEFAULT} is `mockscim serve` as "
                      "shipped: memory store, `--log-level info`, a JSON log line per request on stderr (here a file).",
                      "", *table(bench, client), "", "Budget (issues 9 and 20):", "",
                      *(f"* {b}" for b in budget(bench))]
            if bench.notes:
                report += ["", "Errors:", *(f"* {n}" for n in bench.notes)]
            if not args.only_core:
                stop_all()  # the core phases' servers are done: the sections below start their own
                report += sections(args.quick, args.million)
            report += ["", f"Total bench time {time.perf_counter() - t_start:.0f} s."]
            text = "\n".join(report)
            print(text, flush=True)
            if args.output:
                Path(args.output).write_text(text + "\n", encoding="utf-8")
    finally:
        stop_all()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


if __name__ == "__main__":
    sys.exit(main())
