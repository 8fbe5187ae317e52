"""``python -m bench.secretserver [--quick]``: the Secret Server API (GET secret, search, create) beside a ceiling."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bench.load import Result, loop_factory, request, run_load
from bench.run import HOST, TOKEN, Server, free_port, mockscim_argv, pinning, stop_all

GO_SEARCH = ("/api/v1/secrets?paging.filter.searchText=db-root&paging.filter.searchField=&paging.filter."
             "doNotCalculateTotal=true&paging.take=30&&paging.skip=0&paging.filter.extendedFields=Machine")
"""The Go SDK's search, as it sends it (docs/behaviour.md §9)."""

CREATE = json.dumps({"Name": "bench", "FolderID": 5, "SiteID": 1, "SecretTemplateID": 2, "Active": False,
                     "Items": [{"FieldID": 203, "ItemValue": "u"}, {"FieldID": 204, "ItemValue": "p"}]}).encode()


# -- the ceiling: fixed JSON for the same routes, no store, no rules ------------------------------------------------
def ceiling_app() -> Starlette:
    """A minimal Starlette app answering each measured route with a fixed body of the same shape."""
    secret = {"id": 12, "name": "db-root", "folderId": 3, "secretTemplateId": 6007, "active": True,
              "items": [{"itemId": 1201, "fieldId": 600701, "slug": "machine", "itemValue": "db01.internal"}]}
    page = {"skip": 0, "take": 30, "total": 1, "records": [{"id": 12, "name": "db-root", "folderId": 3}]}

    async def get_secret(request: Request) -> Response:
        return JSONResponse(secret)

    async def search(request: Request) -> Response:
        return JSONResponse(page)

    async def create(request: Request) -> Response:
        await request.body()
        return JSONResponse(secret)

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return Starlette(routes=[
        Route("/api/v1/secrets/{id}", get_secret, methods=["GET"]),
        Route("/api/v1/secrets", search, methods=["GET"]),
        Route("/api/v1/secrets/", create, methods=["POST"]),
        Route("/_mockscim/health", health, methods=["GET"]),
    ])


def serve_ceiling(port: int) -> None:
    import uvicorn

    uvicorn.run(ceiling_app(), host=HOST, port=port, log_level="warning", access_log=False)


# -- the measurement -----------------------------------------------------------------------------------------------
PHASES: tuple[tuple[str, bytes], ...] = (
    ("GET secret", request("GET", "/api/v1/secrets/12", HOST, token=TOKEN)),
    ("search (Go SDK)", request("GET", GO_SEARCH, HOST, token=TOKEN)),
    ("create (Go SDK)", request("POST", "/api/v1/secrets/", HOST, token=TOKEN, body=CREATE,
                                content_type="application/json")),
)


def measure(port: int, count: int, seconds: float) -> dict[str, Result]:
    async def run() -> dict[str, Result]:
        out = {}
        for name, raw in PHASES:
            out[name] = await run_load(HOST, port, [raw], count=count, seconds=seconds, concurrency=8,
                                       warmup=count // 10, name=name)
        return out

    factory = loop_factory()
    if factory is None:
        return asyncio.run(run())
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(run())


def table(ours: dict[str, Result], ceiling: dict[str, Result]) -> list[str]:
    lines = ["| Secret Server API | mockscim req/s | ceiling req/s | mockscim/ceiling | mockscim p50 ms | errors |",
             "|---|---:|---:|---:|---:|---:|"]
    for name, _ in PHASES:
        a, b = ours[name], ceiling[name]
        ratio = f"{a.rps / b.rps:.2f}" if b.rps else "-"
        errors = a.errors + sum(n for status, n in a.statuses.items() if status != 200)
        lines.append(f"| {name} | {a.rps:,.0f} | {b.rps:,.0f} | {ratio} | {a.percentile(0.5):.2f} | {errors} |")
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.secretserver", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a few hundred requests a phase")
    parser.add_argument("--serve-ceiling", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_ceiling:
        serve_ceiling(args.serve_ceiling)
        return 0
    count, seconds = (400, 2.0) if args.quick else (3_000, 6.0)
    pin = pinning()
    results: dict[str, dict[str, Result]] = {}
    with tempfile.TemporaryDirectory(prefix="mockscim-bench-ss-") as tmp:
        try:
            for label, argv_of in (("mockscim", lambda p: mockscim_argv(p, "memory")),
                                   ("ceiling", lambda p: [sys.executable, "-m", "bench.secretserver",
                                                          "--serve-ceiling", str(p)])):
                port = free_port()
                server = Server(label, argv_of(port), port)
                server.start(Path(tmp), pin)
                server.wait_ready()
                results[label] = measure(port, count, seconds)
                server.stop()
        finally:
            stop_all()
    for line in table(results["mockscim"], results["ceiling"]):
        print(line)
    print(f"({count} requests a phase, 8 connections, {'pinned' if pin else 'unpinned'}; create answers 200 with a "
          "new secret each time)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

