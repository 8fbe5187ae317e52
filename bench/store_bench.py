"""Creates per second at 1k, 10k and 100k users, memory vs durable (TinyDB + WAL) store (docs/behaviour.md §13)."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

HEADERS = {"Authorization": "Bearer mockscim-token", "Content-Type": "application/scim+json"}
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"


@dataclass
class Result:
    """One store's run: when each checkpoint was reached, and the durable file's stop/restart times."""

    store: str
    reached: int = 0
    elapsed: float = 0.0
    at: dict[int, float] = field(default_factory=dict)
    cpu_at: dict[int, float] = field(default_factory=dict)
    stop_s: float | None = None
    restart_s: float | None = None
    file_mb: float | None = None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(store: str) -> tuple[subprocess.Popen[bytes], str, float]:
    """``mockscim serve`` in a subprocess on a free loopback port; returns it once /_mockscim/health answers."""
    port = free_port()
    began = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mockscim", "serve", "--port", str(port), "--store", store, "--fixture", "empty",
         "--log-level", "warning"],
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"server for --store {store} exited with {proc.returncode}")
        try:
            if httpx.get(f"{url}/_mockscim/health", timeout=1).status_code == 200:
                return proc, url, time.perf_counter() - began
        except httpx.TransportError:
            time.sleep(0.02)
        if time.perf_counter() - began > 120:
            proc.kill()
            raise SystemExit("server did not start within 120 s")


def server_cpu(pid: int) -> float:
    """CPU seconds the server process has used (Linux /proc; NaN elsewhere): immune to a noisy neighbour."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")


async def drive(url: str, pid: int, total: int, checkpoints: list[int], concurrency: int, cap: float,
                result: Result) -> None:
    """``concurrency`` workers POST users until ``total`` are created or ``cap`` seconds pass."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    issued = 0
    began = time.perf_counter()
    pending = sorted(checkpoints)
    result.cpu_at[0] = server_cpu(pid)

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal issued
        while issued < total and time.perf_counter() - began < cap:
            n = issued
            issued += 1
            body = {"schemas": [USER_SCHEMA], "userName": f"bench.user.{n}@example.com", "displayName": f"User {n}",
                    "name": {"givenName": "Bench", "familyName": f"User{n}"},
                    "emails": [{"value": f"bench.user.{n}@example.com", "type": "work", "primary": True}]}
            r = await client.post("/scim/v2/Users", json=body)
            if r.status_code != 201:
                raise SystemExit(f"create {n} answered {r.status_code}: {r.text[:200]}")
            result.reached += 1
            while pending and result.reached >= pending[0]:
                result.at[pending[0]] = time.perf_counter() - began
                result.cpu_at[pending.pop(0)] = server_cpu(pid)

    async with httpx.AsyncClient(base_url=url, headers=HEADERS, limits=limits, timeout=60) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    result.elapsed = time.perf_counter() - began


def run(store_kind: str, checkpoints: list[int], concurrency: int, cap: float, workdir: Path) -> Result:
    store = "memory" if store_kind == "memory" else str(workdir / "bench-store.json")
    result = Result(store_kind)
    proc, url, _ = start(store)
    try:
        asyncio.run(drive(url, proc.pid, max(checkpoints), checkpoints, concurrency, cap, result))
    finally:
        began = time.perf_counter()
        proc.send_signal(signal.SIGTERM)  # clean shutdown: the durable store compacts into PATH.json
        proc.wait(300)
        result.stop_s = time.perf_counter() - began
    if store_kind == "durable":
        result.file_mb = os.path.getsize(store) / 1e6
        again, _, result.restart_s = start(store)  # start-up reads and validates every document
        again.send_signal(signal.SIGTERM)
        again.wait(300)
    return result


def rate(result: Result, checkpoint: int) -> str:
    """Creates/s in the last tenth before ``checkpoint`` (e.g. 90k→100k): the cost at that store size; and the
    server's CPU µs per create over the same window."""
    if checkpoint not in result.at:
        return "—"
    low = checkpoint - checkpoint // 10
    per_s = (checkpoint - low) / max(result.at[checkpoint] - result.at.get(low, 0.0), 1e-9)
    cpu_us = (result.cpu_at[checkpoint] - result.cpu_at[low]) / (checkpoint - low) * 1e6
    return f"{per_s:,.0f} ({cpu_us:,.0f}µs)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="1k and 5k users only")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--cap", type=float, default=600.0, help="seconds per store before stopping (default 600)")
    parser.add_argument("--stores", default="memory,durable")
    args = parser.parse_args(argv)
    sizes = [1_000, 5_000] if args.quick else [1_000, 10_000, 100_000]
    checkpoints = sorted({*sizes, *(s - s // 10 for s in sizes)})
    results = []
    with tempfile.TemporaryDirectory(prefix="mockscim-bench-") as tmp:
        for kind in args.stores.split(","):
            print(f"{kind}: creating up to {max(sizes):,} users, concurrency {args.concurrency} …", file=sys.stderr)
            results.append(run(kind, checkpoints, args.concurrency, args.cap, Path(tmp)))
    heads = [f"@{s // 1000}k/s (cpu)" for s in sizes]
    print(f"{'store':<8} " + " ".join(f"{h:>16}" for h in heads) + f" {'overall/s':>10} {'users':>8} {'time s':>7}"
          f" {'stop s':>7} {'restart s':>9} {'file MB':>8}")
    for r in results:
        overall = f"{r.reached / r.elapsed:,.0f}" if r.elapsed else "—"

        def fmt(v: float | None, spec: str = ".1f") -> str:
            return "—" if v is None else format(v, spec)

        print(f"{r.store:<8} " + " ".join(f"{rate(r, s):>16}" for s in sizes) + f" {overall:>10} {r.reached:>8,}"
              f" {r.elapsed:>7.1f} {fmt(r.stop_s):>7} {fmt(r.restart_s):>9} {fmt(r.file_mb):>8}")
    print(f"(@Nk = creates/s over the last tenth before N users, and in brackets the server's CPU time per create "
          f"in that window; HTTP to a `mockscim serve` subprocess, concurrency {args.concurrency}, python "
          f"{sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
