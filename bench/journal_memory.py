"""Journal memory stays flat (docs/behaviour.md §12): RSS of a served mockscim before and after huge requests."""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

MIB = 1024 * 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def rss_mb(pid: int) -> float:
    """VmRSS from /proc/<pid>/status, in MB (10^6 bytes)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024 / 1e6
    raise RuntimeError("no VmRSS")


def measure(headers: int = 100, header_mib: int = 5, bodies: int = 100, body_mib: int = 1) -> tuple[float, float]:
    """``(before, after)`` RSS in MB of a served mockscim around ``headers`` requests with a ``header_mib`` MiB
    header and ``bodies`` requests with a ``body_mib`` MiB body (all of them journaled)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([sys.executable, "-m", "mockscim", "serve", "--port", str(port), "--log-level",
                             "warning", "--max-body", str(body_mib * MIB + 1024)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/_mockscim/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("mockscim did not start")
            time.sleep(0.1)
        auth = {"Authorization": "Bearer mockscim-token"}
        with httpx.Client(base_url=url, timeout=60) as client:
            for _ in range(20):  # warm up: imports, first allocations
                client.get("/scim/v2/Users?count=1", headers=auth)
            before = rss_mb(proc.pid)
            big = "h" * (header_mib * MIB)
            for _ in range(headers):  # refused at the edge (docs/behaviour.md §14: a head over 64 KiB → 431)
                r = client.get("/scim/v2/Users?count=1", headers={**auth, "X-Big": big, "User-Agent": big})
                assert r.status_code == 431, r.status_code
            large = "l" * (24 * 1024)  # under the edge's limit: kept, its values capped (docs/behaviour.md §12)
            for _ in range(headers):
                r = client.get("/scim/v2/Users?count=1", headers={**auth, "X-Large": large, "User-Agent": large})
                assert r.status_code == 200, r.status_code
            body = b'{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"' + b"b" * (
                body_mib * MIB - 100) + b'"}'
            for _ in range(bodies):
                r = client.post("/scim/v2/Users", content=body,
                                headers={**auth, "Content-Type": "application/scim+json"})
                assert r.status_code in (201, 409), r.status_code  # the same userName: one created
            journal = client.get("/_mockscim/journal", params={"limit": "100000"}).json()
            assert journal["total"] == 20 + headers + bodies, journal["total"]
            after = rss_mb(proc.pid)
        return before, after
    finally:
        proc.terminate()
        proc.wait(15)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=100, help="requests of each kind (default 100)")
    args = parser.parse_args()
    before, after = measure(args.requests, 5, args.requests, 1)
    print(f"RSS before {before:.1f} MB, after {after:.1f} MB: {after - before:+.1f} MB "
          f"({args.requests} requests with 5 MiB headers (431 at the edge), {args.requests} with 24 KiB headers, "
          f"{args.requests} with 1 MiB bodies)")
    return 0 if after - before < 50 else 1


if __name__ == "__main__":
    raise SystemExit(main())
