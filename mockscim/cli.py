"""The ``mockscim`` command: serve, seed, scenario list|check, journal (docs/behaviour.md §14)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import fields
from typing import TYPE_CHECKING, Any

from mockscim import __version__
from mockscim.settings import Settings

if TYPE_CHECKING:
    from mockscim.journal import Journal
    from mockscim.journal.lines import LineWriter

_HELP = {
    "host": "interface to bind (default 127.0.0.1)",
    "port": "port to listen on (default 8000)",
    "store": "'memory' (default) or a TinyDB file PATH.json that persists across restarts",
    "fixture": "state file loaded at start and by reset (default: the shipped default.json; or 'empty')",
    "scenario": "a shipped scenario name or a scenario file to activate at start",
    "profile": "'cloud' (default, Delinea SCIM Cloud), 'rfc', or a profile file",
    "token": "static bearer token (default mockscim-token)",
    "token_ttl": "OAuth access token lifetime in seconds (default 3600)",
    "token_grace": "accept tokens this many seconds past expiry (Delinea's SDK 2.0.1 needs 300)",
    "max_body": "largest request body in bytes (default 1048576)",
    "admin_token": "bearer token the control plane /_mockscim requires (default: none)",
    "journal_file": "append the request journal to this JSON Lines file",
    "journal_size": "entries the in-memory journal keeps (default 10000)",
    "journal_body_bytes": "bytes of bodies the in-memory journal keeps in all (default 33554432, 32 MiB)",
    "secret_server_down": "start with Secret Server unavailable",
    "log_level": "critical|error|warning|info|debug (default info)",
}


def _serve_parser(sub: Any) -> None:
    serve = sub.add_parser("serve", help="run the emulator", description="Run mockscim. Every option also reads "
                           "MOCKSCIM_<NAME> (e.g. MOCKSCIM_TOKEN_TTL); the command line wins.")
    for f in fields(Settings):
        flag = "--" + f.name.replace("_", "-")
        if "bool" in str(f.type):
            serve.add_argument(flag, action="store_const", const=True, default=None, help=_HELP[f.name])
        elif str(f.type).startswith("int"):
            serve.add_argument(flag, type=int, default=None, help=_HELP[f.name])
        else:
            serve.add_argument(flag, default=None, help=_HELP[f.name])


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mockscim", description="A local emulator of Delinea's SCIM Cloud API "
                                     "and Secret Server, with scriptable failure modes.")
    parser.add_argument("--version", action="version", version=f"mockscim {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    _serve_parser(sub)
    seed = sub.add_parser("seed", help="write a realistic, reproducible state file with Faker")
    for name in ("users", "groups", "containers", "secrets"):
        seed.add_argument(f"--{name}", type=int, default=0, help=f"number of {name}")
    seed.add_argument("--seed", type=int, default=0, help="random seed: same arguments → byte-identical file")
    seed.add_argument("--locale", default="en_US", help="Faker locale for names (default en_US)")
    seed.add_argument("-o", "--output", required=True, help="the state file to write")
    scenario = sub.add_parser("scenario", help="list shipped scenarios or check scenario files")
    scenario_sub = scenario.add_subparsers(dest="scenario_command", required=True)
    scenario_sub.add_parser("list", help="shipped scenarios with their descriptions")
    check = scenario_sub.add_parser("check", help="validate scenario files (exit 1 on any error)")
    check.add_argument("files", nargs="+")
    journal = sub.add_parser("journal", help="print a running server's request journal")
    journal.add_argument("--url", default="http://127.0.0.1:8000", help="the server's base URL")
    for name in ("status", "method", "path", "since", "limit"):
        journal.add_argument(f"--{name}", default=None, help=f"journal filter '{name}' (docs/behaviour.md §12)")
    journal.add_argument("--admin-token", default=os.environ.get("MOCKSCIM_ADMIN_TOKEN"))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    command: str = args.command
    if command == "serve":
        return serve(args)
    if command == "seed":
        return seed(args)
    if command == "scenario":
        return scenario(args)
    return journal(args)


def serve(args: argparse.Namespace) -> int:
    """Start the server; print the base URL, the token and a working curl line (docs/behaviour.md §1)."""
    import uvicorn

    from mockscim.app import create_app

    try:
        overrides = {f.name: getattr(args, f.name) for f in fields(Settings)}
        settings = Settings.from_env(**overrides)
        app = create_app(settings)
    except Exception as exc:  # a start-up error is a message, never a traceback
        print(f"mockscim: cannot start: {exc}", file=sys.stderr)
        return 2
    lines = _log_lines(settings.log_level, app.state.runtime.journal)
    base = f"http://{settings.host}:{settings.port}"
    print(f"mockscim {__version__} ({settings.profile} profile) on {base}", flush=True)
    print(f"  SCIM base URL: {base}/scim/v2", flush=True)
    print(f"  bearer token:  {settings.token}", flush=True)
    print(f"  try: curl -s -H 'Authorization: Bearer {settings.token}' {base}/scim/v2/Users", flush=True)
    # log_config=None: uvicorn's records go to the root logger, hence through the same writer as the rest.
    config = uvicorn.Config(app, host=settings.host, port=settings.port, log_level=settings.log_level,
                            log_config=None, lifespan="off", access_log=False)
    try:
        _quiet_signals_server(config).run()
    finally:
        try:
            app.state.runtime.core.close()  # docs/behaviour.md §14: a clean shutdown flushes the store
        finally:
            if lines is not None:
                lines.close()  # what is still waiting is written: a clean stop loses no log line
    return 0


def _log_lines(level: str, journal: Journal) -> LineWriter | None:
    """Send every stderr log line through one :class:`~mockscim.journal.lines.LineWriter` (docs/performance.md,
    "Log lines"): the root logger's records, uvicorn's included, and at INFO the journal's JSON line per request
    (docs/behaviour.md §12), which skips the logging module. Returns the writer, or None without a real stderr."""
    import logging

    from mockscim.journal.lines import LineHandler, LineWriter

    fmt = "%(asctime)s %(levelname)s %(name)s %(message)s"
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, ValueError):  # stderr replaced by something without a descriptor
        logging.basicConfig(level=level.upper(), format=fmt)
        return None
    writer = LineWriter(fd)
    logging.basicConfig(level=level.upper(), format=fmt, handlers=[LineHandler(writer)])
    if logging.getLogger("mockscim.journal").isEnabledFor(logging.INFO):
        journal.log_to(writer.write)
    return writer


def _quiet_signals_server(config: Any) -> Any:
    """uvicorn's server, but SIGINT/SIGTERM end ``run()`` normally instead of being re-raised after the graceful
    shutdown, so the store is closed and the exit status is 0."""
    import contextlib
    import signal
    from collections.abc import Iterator

    import uvicorn

    class Server(uvicorn.Server):
        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            previous = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
            try:
                yield
            finally:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

    return Server(config)


def seed(args: argparse.Namespace) -> int:
    """``mockscim seed``: Faker data in the state format, progress on stderr for large N (docs/behaviour.md §13)."""
    from mockscim.seed.generate import generate_state, write_state

    def progress(stage: str, done: int, total: int) -> None:
        print(f"  {stage}: {done}/{total}", file=sys.stderr, flush=True)

    big = max(args.users, args.secrets) >= 10000
    try:
        state = generate_state(users=args.users, groups=args.groups, containers=args.containers,
                               secrets=args.secrets, seed=args.seed, locale=args.locale,
                               progress=progress if big else None)
        write_state(state, args.output)
    except (ValueError, OSError) as exc:
        print(f"mockscim seed: {exc}", file=sys.stderr)
        return 2
    counts = ", ".join(f"{len(v)} {k}" for k, v in state.items())
    print(f"wrote {args.output}: {counts}", file=sys.stderr)
    return 0


def scenario(args: argparse.Namespace) -> int:
    from mockscim.scenarios import check_files, shipped

    if args.scenario_command == "list":
        for s in shipped():
            print(f"{s.name:24} {s.description}")
        return 0
    problems = check_files(args.files)
    for line in problems:
        print(line, file=sys.stderr)
    if not problems:
        print(f"{len(args.files)} scenario file(s) valid")
    return 1 if problems else 0


def journal(args: argparse.Namespace) -> int:
    """Print the journal of a running server as JSON Lines (the connector log, docs/behaviour.md §12)."""
    import httpx

    params = {k: getattr(args, k) for k in ("status", "method", "path", "since", "limit") if getattr(args, k)}
    headers = {"Authorization": f"Bearer {args.admin_token}"} if args.admin_token else {}
    try:
        response = httpx.get(f"{args.url.rstrip('/')}/_mockscim/journal", params=params, headers=headers, timeout=10)
    except httpx.HTTPError as exc:
        print(f"mockscim journal: {exc}", file=sys.stderr)
        return 2
    if response.status_code != 200:
        print(f"mockscim journal: {response.status_code} {response.text}", file=sys.stderr)
        return 2
    for entry in response.json().get("entries", []):
        print(json.dumps(entry))
    return 0
