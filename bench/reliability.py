"""kill -9 trials (docs/store.md): writers, compaction and state imports against ``mockscim serve --store``, killed."""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

AUTH = {"Authorization": "Bearer mockscim-token"}
SCIM = {**AUTH, "Content-Type": "application/scim+json"}
USER = "urn:ietf:params:scim:schemas:core:2.0:User"
INF = float("inf")


@dataclass
class Op:
    """One write to one user: the value it leaves (``None``: deleted), when it was sent, when its 2xx came back."""

    value: str | None
    sent: float
    acked: float | None = None


@dataclass
class Trial:
    """Every write of every cycle, per user; the state-import windows; what the restarts found."""

    ops: dict[str, list[Op]] = field(default_factory=dict)
    windows: list[tuple[float, float]] = field(default_factory=list)
    cycles: int = 0
    acknowledged: int = 0
    imports: int = 0
    lost: list[str] = field(default_factory=list)
    partial: list[str] = field(default_factory=list)
    failed_restarts: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, user: str, op: Op) -> None:
        with self.lock:
            self.ops.setdefault(user, []).append(op)
            if op.acked is not None:
                self.acknowledged += 1


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(store: Path, compact_bytes: int) -> tuple[subprocess.Popen[bytes], str] | str:
    """``mockscim serve --store``; the process and its URL once health answers, or the one line it refused with."""
    port = free_port()
    env = {**os.environ, "MOCKSCIM_STORE_COMPACT_MIN_BYTES": str(compact_bytes)}
    proc = subprocess.Popen([sys.executable, "-m", "mockscim", "serve", "--port", str(port), "--store", str(store),
                             "--log-level", "error"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return (proc.stderr.read().decode(errors="replace") if proc.stderr else "").strip() or "exited"
        try:
            if httpx.get(f"{url}/_mockscim/health", timeout=2).status_code == 200:
                return proc, url
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    proc.kill()
    proc.wait(10)
    return "did not answer within 60 s"


def writer(trial: Trial, url: str, tag: str, seed: int, stop: threading.Event) -> None:
    """Creates, PATCHes (two attributes at once: a half-applied one is visible as a mismatch), PUTs and DELETEs of
    its own users, and member adds to its own group (delete cascades), until the server dies or ``stop``."""
    rng = random.Random(seed)
    mine: dict[str, str] = {}
    group: str | None = None
    n = 0
    with httpx.Client(base_url=url, headers=SCIM, timeout=30) as client:
        while not stop.is_set():
            n += 1
            choice = rng.random()
            name = rng.choice(list(mine)) if mine else None
            value = f"v{n}"
            sent = time.monotonic()
            try:
                if group is None:
                    name = None  # no user's write
                    r = client.post("/scim/v2/Groups", json={"displayName": f"g-{tag}"})
                    if r.status_code == 201:
                        group = r.json()["id"]
                    continue
                if name is None or choice < 0.35:
                    name = f"{tag}-{n}@example.com"
                    r = client.post("/scim/v2/Users", json={"userName": name, "displayName": value, "title": value})
                    op = Op(value, sent, time.monotonic() if r.status_code == 201 else None)
                    if r.status_code == 201:
                        mine[name] = r.json()["id"]
                elif choice < 0.6:
                    r = client.patch(f"/scim/v2/Users/{mine[name]}", json={
                        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                        "Operations": [{"op": "replace", "value": {"displayName": value, "title": value}}]})
                    op = Op(value, sent, time.monotonic() if r.status_code == 200 else None)
                elif choice < 0.75:
                    r = client.put(f"/scim/v2/Users/{mine[name]}", json={"schemas": [USER], "userName": name,
                                                                          "displayName": value, "title": value})
                    op = Op(value, sent, time.monotonic() if r.status_code == 200 else None)
                elif choice < 0.9:
                    r = client.patch(f"/scim/v2/Groups/{group}", json={
                        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                        "Operations": [{"op": "add", "path": "members", "value": [{"value": mine[name]}]}]})
                    continue
                else:
                    r = client.delete(f"/scim/v2/Users/{mine.pop(name)}")
                    op = Op(None, sent, time.monotonic() if r.status_code == 204 else None)
            except httpx.HTTPError:
                # Sent, never acknowledged: it may or may not be there (a member add changes no user value).
                if name is not None and not 0.75 <= choice < 0.9:
                    trial.record(name, Op(None if choice >= 0.9 else value, sent))
                return
            if r.status_code == 404:  # an import put back a state without this user: not ours any more
                mine.pop(name, None)
            trial.record(name, op)


def importer(trial: Trial, url: str, stop: threading.Event) -> None:
    """GET the state and PUT it back, again and again: a whole new snapshot while the writers run."""
    with httpx.Client(base_url=url, headers={"Content-Type": "application/json"}, timeout=60) as client:
        while not stop.wait(0.1):
            began = time.monotonic()
            try:
                state = client.get("/_mockscim/state").json()
                r = client.put("/_mockscim/state", content=json.dumps(state))
            except httpx.HTTPError:
                with trial.lock:
                    trial.windows.append((began, INF))
                return
            with trial.lock:
                trial.windows.append((began, time.monotonic() if r.status_code == 200 else INF))
                trial.imports += 1


def check(trial: Trial, url: str) -> None:
    """After a restart: every user's value is that of its last acknowledged write (one no import could have
    superseded), or of a write sent after it; ``displayName`` and ``title`` (set together) always agree."""
    state = httpx.get(f"{url}/_mockscim/state", timeout=120).json()
    found = {u["userName"]: u for u in state["Users"]}
    with trial.lock:
        windows = list(trial.windows)
        histories = {k: list(v) for k, v in trial.ops.items()}
    for name, ops in histories.items():
        doc = found.get(name)
        if doc is not None and doc.get("displayName") != doc.get("title"):
            trial.partial.append(f"{name}: displayName {doc.get('displayName')!r}, title {doc.get('title')!r}")
        certain = [i for i, op in enumerate(ops) if op.acked is not None
                   and not any(op.sent < end and op.acked > begin for begin, end in windows)]
        if not certain:
            continue
        possible = {op.value for op in ops[certain[-1]:]}
        now = None if doc is None else doc.get("displayName")
        if now not in possible:
            trial.lost.append(f"{name}: {now!r}, expected one of {sorted(map(str, possible))}")


def cycle(trial: Trial, store: Path, number: int, writers: int, seconds: float, imports: bool,
          compact_bytes: int, rng: random.Random) -> bool:
    """One start, a burst of writers (and an importer), kill -9 (every fifth cycle: during a graceful shutdown)."""
    started = start(store, compact_bytes)
    if isinstance(started, str):
        trial.failed_restarts.append(f"cycle {number}: {started}")
        return False
    proc, url = started
    try:
        if number:
            check(trial, url)  # what the previous kill left, as this start loaded it
        stop = threading.Event()
        threads = [threading.Thread(target=writer, args=(trial, url, f"c{number}t{i}", rng.random(), stop))
                   for i in range(writers)]
        if imports:
            threads.append(threading.Thread(target=importer, args=(trial, url, stop)))
        for thread in threads:
            thread.start()
        time.sleep(seconds * (0.5 + rng.random()))
        if number % 5 == 4:
            proc.send_signal(signal.SIGTERM)  # killed during the shutdown's final snapshot
            time.sleep(rng.random() * 0.05)
        proc.kill()
        proc.wait(30)
        stop.set()
        for thread in threads:
            thread.join(60)
        trial.cycles += 1
        return True
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(30)
        if proc.stderr:
            proc.stderr.close()


def run(cycles: int, writers: int, seconds: float, *, imports: bool = True, compact_bytes: int = 64 * 1024,
        directory: Path | None = None, seed: int = 0) -> Trial:
    """``cycles`` kill -9 cycles on one store, then a last start that checks the last one."""
    trial = Trial()
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory(dir=directory) as tmp:
        store = Path(tmp) / "store.json"
        for number in range(cycles):
            if not cycle(trial, store, number, writers, seconds, imports, compact_bytes, rng):
                return trial
        started = start(store, compact_bytes)
        if isinstance(started, str):
            trial.failed_restarts.append(f"final start: {started}")
            return trial
        proc, url = started
        try:
            check(trial, url)
        finally:
            proc.kill()
            proc.wait(30)
            if proc.stderr:
                proc.stderr.close()
    return trial


def table(trial: Trial, writers: int) -> str:
    head = "| cycles | writers | state imports | acknowledged | lost | partial | restarts that did not load |"
    row = (f"| {trial.cycles} | {writers} | {trial.imports} | {trial.acknowledged:,} | {len(trial.lost)} | "
           f"{len(trial.partial)} | {len(trial.failed_restarts)} |")
    return "\n".join([head, "|---|---|---|---|---|---|---|", row])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.reliability", description=__doc__)
    parser.add_argument("--cycles", type=int, default=50)
    parser.add_argument("--writers", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=1.5, help="mean time writers run before the kill")
    parser.add_argument("--no-imports", action="store_true", help="no state imports during the writes")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    began = time.monotonic()
    trial = run(args.cycles, args.writers, args.seconds, imports=not args.no_imports, seed=args.seed)
    print(table(trial, args.writers))
    print(f"\n{time.monotonic() - began:.0f} s; compaction whenever the log passes 64 KiB (or the snapshot)")
    for line in [*trial.failed_restarts, *trial.lost[:20], *trial.partial[:20]]:
        print(line)
    return 0 if not (trial.lost or trial.partial or trial.failed_restarts) else 1


if __name__ == "__main__":
    sys.exit(main())


__all__ = ["Trial", "main", "run", "table"]
