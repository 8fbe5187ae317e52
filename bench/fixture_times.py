"""``python -m bench.fixture_times``: MockScim start-up and per-test reset, as the pytest plugin pays them."""

from __future__ import annotations

import statistics
import time

from mockscim.testing.server import MockScim


def main(rounds: int = 20) -> None:
    """Print the median (min, max) of ``rounds`` start-ups and of ``rounds`` resets of the default fixture."""
    first = time.perf_counter()
    MockScim().start().stop()  # the first start in a process also pays the imports
    first_ms = (time.perf_counter() - first) * 1000
    starts: list[float] = []
    resets: list[float] = []
    for _ in range(rounds):
        t = time.perf_counter()
        server = MockScim().start()  # construct, bind a free port, uvicorn listening (readiness awaited)
        starts.append(time.perf_counter() - t)
        server.stop()
    with MockScim() as server, server.client() as scim:
        for i in range(rounds):
            scim.post("/Users", json={"userName": f"u{i}@example.com"})  # something for reset to undo
            t = time.perf_counter()
            server.reset()
            resets.append(time.perf_counter() - t)
    print(f"first start in a process (imports included): {first_ms:.0f} ms")
    for name, xs in (("start", starts), ("reset", resets)):
        ms = [x * 1000 for x in xs]
        print(f"{name}: median {statistics.median(ms):.1f} ms (min {min(ms):.1f}, max {max(ms):.1f}; {rounds} rounds)")


if __name__ == "__main__":
    main()
