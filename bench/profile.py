"""``python -m bench.profile``: py-spy profiles of a mockscim server per operation, as top functions (self, total)."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench.load import loop_factory
from bench.run import (
    CLIENT_CPU,
    MEMORY,
    QUICK,
    Bench,
    Server,
    Target,
    free_port,
    mockscim_argv,
    pinning,
    stop_all,
    user_pool,
)

_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::\d+)?\)$")


def _frame(text: str) -> str:
    """``func (path/file.py:12)`` → ``file.py:func`` with the path shortened to the package."""
    match = _FRAME.match(text)
    if match is None:
        return text
    path = match["file"]
    for marker in ("site-packages/", "/work/main/", "lib/python3."):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{path}:{match['func']}"


def collapse(raw: Path, top: int) -> list[str]:
    """Top functions of a py-spy ``raw`` (collapsed stacks) file: self and inclusive share of the samples."""
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        samples += n
        frames = [_frame(f) for f in stack.split(";") if not f.startswith(("process ", "thread "))]
        if frames:
            own[frames[-1]] += n
        for frame in set(frames):
            total[frame] += n
    out = [f"{samples} samples; top self:"]
    out += [f"  {n / samples:6.1%}  {frame}" for frame, n in own.most_common(top)]
    out.append("top inclusive (mockscim and starlette frames):")
    picked = [(f, n) for f, n in total.most_common() if "mockscim" in f or "starlette" in f or "json" in f]
    out += [f"  {n / samples:6.1%}  {frame}" for frame, n in picked[:top]]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--store", default="memory", help="memory, or tinydb")
    parser.add_argument("--seconds", type=int, default=6)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--ops", default="GET by id,PATCH,POST,filter eq,PUT,list page of 100")
    args = parser.parse_args(argv)
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    pin = pinning()
    if pin:
        os.sched_setaffinity(0, {CLIENT_CPU})
    plan = dataclasses.replace(QUICK, sizes=(args.users,), seconds=float(args.seconds), reps=1)
    try:
        with tempfile.TemporaryDirectory(prefix="mockscim-profile-") as tmp, \
                asyncio.Runner(loop_factory=loop_factory()) as runner:
            work = Path(tmp)
            store = "memory" if args.store == "memory" else str(work / "store.json")
            server = Server(MEMORY, mockscim_argv(free_port(), store), 0)
            server.port = int(server.argv[server.argv.index("--port") + 1])
            server.start(work, pin)
            server.wait_ready()
            bench = Bench(plan, runner, work, pin)
            pool = user_pool(args.users + 200_000 // 10)
            target = Target(server, pool)
            bench.onboard(target, args.users)
            requests = bench._requests(target, args.users)
            for op in args.ops.split(","):
                raw = work / f"{op}.txt"
                spy_proc = subprocess.Popen([spy, "record", "--pid", str(server.pid), "--rate", "250", "--format",
                                             "raw", "--output", str(raw), "--nonblocking", "--duration",
                                             str(args.seconds + 1)], stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL)
                time.sleep(0.5)
                if op == "POST":
                    reqs = target.post_requests(target.done, len(pool))
                else:
                    reqs = requests[op]
                m = bench.load(target, reqs, op, count=len(reqs) if op == "POST" else 10**9,
                               seconds=float(args.seconds), warmup=50)
                spy_proc.wait(args.seconds + 30)
                print(f"\n### {op} @ {args.users:,} users, {args.store}: {m.result.rps:,.0f} req/s, "
                      f"{m.cpu_us:,.0f} µs CPU per request")
                print("\n".join(collapse(raw, args.top)) if raw.exists() else "(py-spy wrote nothing)")
            server.stop()
    finally:
        stop_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
