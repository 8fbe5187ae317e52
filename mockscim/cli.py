"""The ``mockscim`` command: serve, seed, scenario list|check, store check, journal (docs/behaviour.md §14)."""

from __future__ import annotations

import argparse
import gc
import json
import os
import socket
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import fields
from typing import TYPE_CHECKING, Any

from mockscim import __version__
from mockscim.settings import Settings
from mockscim.tls import ca_path

if TYPE_CHECKING:
    from mockscim.journal import Journal, Query
    from mockscim.journal.lines import LineWriter


_HELP = {
    "host": "interface to bind (default 127.0.0.1)",
    "port": "port to listen on (default 8000)",
    "store": "'memory' (default) or a TinyDB file PATH.json that persists across restarts",
    "fixture": "state file loaded at start and by reset (default: the shipped default.json; or 'empty')",
    "scenario": "a shipped scenario name or a scenario file to activate at start",
    "scenario_dir": "a directory {\"path\": …} scenarios may be read from, besides the working directory",
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
    "tls": "serve HTTPS with a certificate from mockscim's local CA (its path: `mockscim tls ca-path`)",
    "tls_cert": "serve HTTPS with this certificate (PEM; with --tls-key)",
    "tls_key": "the private key of --tls-cert (PEM)",
    "public_url": "the URL clients reach this server at (behind a tunnel or proxy): meta.location, $ref and the "
                  "vault URL use it, and its host is allowed",
    "forwarded_allow_ips": "peers whose X-Forwarded-Proto/-Host are believed: IPs or networks, comma-separated, or * "
                           "(default 127.0.0.1)",
    "secret_server_path": "also serve the Secret Server API below this on-prem prefix (e.g. /SecretServer)",
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
    seed = sub.add_parser("seed", help="write a realistic, reproducible state file with Faker",
                          description="Write a state file (docs/state.md) with Faker data: the service user plus the "
                          "counts asked for. Give at least one count.")
    for name, what in (("users", "users besides the service user"), ("groups", "groups"),
                       ("containers", "containers (Secret Server folders)"), ("secrets", "secrets (PrivilegedData)")):
        seed.add_argument(f"--{name}", type=int, default=None, metavar="N", help=f"number of {what} (default 0)")
    seed.add_argument("--seed", type=int, default=0, help="random seed: same arguments → byte-identical file "
                      "(default 0)")
    seed.add_argument("--locale", default="en_US", help="Faker locale for names (default en_US)")
    seed.add_argument("-o", "--output", required=True, help="the state file to write (a regular file; replaced "
                      "atomically)")
    scenario = sub.add_parser("scenario", help="list shipped scenarios or check scenario files")
    scenario_sub = scenario.add_subparsers(dest="scenario_command", required=True)
    scenario_sub.add_parser("list", help="shipped scenarios with their descriptions")
    check = scenario_sub.add_parser("check", help="validate scenario files (exit 1 on any error)")
    check.add_argument("files", nargs="+")
    tls = sub.add_parser("tls", help="the local CA behind --tls")
    tls_sub = tls.add_subparsers(dest="tls_command", required=True)
    tls_sub.add_parser("ca-path", help="print the CA certificate's path (created if it does not exist yet)")
    store = sub.add_parser("store", help="verify a --store file offline")
    store_sub = store.add_subparsers(dest="store_command", required=True)
    store_check = store_sub.add_parser("check", help="verify PATH.json and its log, writing nothing (exit 1 on a "
                                       "fault, with one line naming the file, the line and the fault)")
    store_check.add_argument("path")
    journal = sub.add_parser("journal", help="print the request journal of a server, or of a journal file",
                             description="Print journal entries (docs/journal.md), oldest first.")
    source = journal.add_mutually_exclusive_group()
    source.add_argument("--url", default=None, help="the server's base URL (default http://127.0.0.1:8000)")
    source.add_argument("--file", default=None, help="a --journal-file (JSON Lines) to read instead, offline")
    for name, text in (("status", "a code (404) or a class (4xx)"), ("method", "GET, POST, …"),
                       ("path", "exact, or a glob with *"), ("since", "an ISO 8601 time or a requestId"),
                       ("limit", "the newest N matching entries (default 100)")):
        journal.add_argument(f"--{name}", default=None, help=text)
    journal.add_argument("--follow", "-f", action="store_true", help="keep printing entries as they arrive")
    journal.add_argument("--format", choices=("table", "json"), default=None,
                         help="table (default on a terminal) or json (one object a line)")
    journal.add_argument("--admin-token", default=os.environ.get("MOCKSCIM_ADMIN_TOKEN"),
                         help="the server's --admin-token (default $MOCKSCIM_ADMIN_TOKEN)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:
        # `mockscim journal | head`: the reader left; say nothing more (Python's "Note on SIGPIPE").
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        return 130


def _main(argv: Sequence[str] | None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    command: str = args.command
    if command == "seed" and all(getattr(args, n) is None for n in ("users", "groups", "containers", "secrets")):
        print("mockscim seed: give at least one of --users, --groups, --containers, --secrets", file=sys.stderr)
        return 2
    if command == "serve":
        return serve(args)
    if command == "seed":
        return seed(args)
    if command == "scenario":
        return scenario(args)
    if command == "tls":
        return tls_ca_path()
    if command == "store":
        return store(args)
    return journal(args)


def serve(args: argparse.Namespace) -> int:
    """Start the server (docs/behaviour.md §14): values checked, then the port, then the banner, then requests."""
    with _start_up():
        import uvicorn

        started = _start(args)
    if isinstance(started, int):
        return started
    settings, sock, app = started
    lines = _log_lines(settings.log_level, app.state.runtime.journal)
    try:
        cert = _server_cert(settings)
    except OSError as exc:
        sock.close()
        app.state.runtime.core.close()
        if lines is not None:
            lines.close()
        return _fail(f"--tls: cannot create the local CA in {ca_path().parent}: {exc.strerror or exc}", 2)
    tls_files = (settings.tls_cert, settings.tls_key) if cert is None else (str(cert.certfile), str(cert.keyfile))
    print(_banner(settings, app, sock.getsockname()[1], tls=settings.tls or settings.tls_cert is not None),
          flush=True)
    # log_config=None: uvicorn's records go to the root logger, hence through the same writer as the rest.
    from mockscim.http.edge import config_options

    # docs/behaviour.md §14: a request head over 64 KiB → 431, a head not sent within 10 s → closed (http/edge.py)
    config = uvicorn.Config(app, log_level=settings.log_level, log_config=None, lifespan="off", access_log=False,
                            proxy_headers=False,  # forwarded headers are the app's business (--forwarded-allow-ips)
                            ssl_certfile=tls_files[0], ssl_keyfile=tls_files[1], **config_options())
    try:
        _quiet_signals_server(config).run(sockets=[sock])
    finally:
        try:
            app.state.runtime.core.close()  # docs/behaviour.md §14: a clean shutdown flushes the store
        finally:
            if cert is not None:
                cert.remove()
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
        journal.log_to(writer)
    return writer


def _fail(message: str, code: int) -> int:
    print(f"mockscim serve: {message}", file=sys.stderr)
    return code


def _start_problem(settings: Settings) -> str | None:
    """The first bad value, as one line naming the option and the value (docs/behaviour.md §14), or None."""
    from mockscim.app import fixture_path
    from mockscim.scenarios import ScenarioError, resolve
    from mockscim.scim.profile import load_profile

    found = settings.problems()
    if found:
        return found[0]
    if settings.fixture is not None and not fixture_path(settings.fixture).is_file():
        return f"--fixture {settings.fixture!r}: no such file (nor a shipped fixture: default, empty)"
    try:
        load_profile(settings.profile)
    except Exception as exc:
        return f"--profile {settings.profile!r}: {exc}"
    if settings.scenario is not None:
        try:
            resolve(settings.scenario)
        except ScenarioError as exc:
            return f"--scenario {settings.scenario!r}: {exc}"
    if settings.tls_cert is not None and settings.tls_key is not None:
        import ssl

        try:
            ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(settings.tls_cert, settings.tls_key)
        except (OSError, ssl.SSLError) as exc:
            return f"--tls-cert {settings.tls_cert!r}, --tls-key {settings.tls_key!r}: not a matching PEM pair ({exc})"
    return None


def _listen(host: str, port: int) -> Any:
    """A socket listening on ``host:port``, bound before anything is printed (docs/behaviour.md §14)."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a restart need not wait out TIME_WAIT
        sock.bind(address)
        sock.listen(2048)
        sock.set_inheritable(True)
    except OSError:
        sock.close()
        raise
    return sock


def _reason(exc: OSError) -> str:
    import errno

    if exc.errno == errno.EADDRINUSE:
        return "address already in use (another mockscim? pick another --port)"
    return exc.strerror or str(exc)


def _address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


@contextmanager
def _start_up() -> Iterator[None]:
    """No cyclic garbage collection while the server starts: the imports, the app and a fixture allocate millions of
    objects that all live on, and collecting among them finds nothing. What exists once started is then left out of
    every later collection (``gc.freeze``), so a full one does not walk a large fixture's groups and indexes."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.freeze()
            gc.enable()


def _start(args: argparse.Namespace) -> tuple[Settings, socket.socket, Any] | int:
    """The settings, the listening socket and the app, or the exit code once the reason is printed."""
    from mockscim.app import create_app

    try:
        overrides = {f.name: getattr(args, f.name) for f in fields(Settings)}
        settings = Settings.from_env(**overrides)
    except ValueError as exc:
        return _fail(str(exc), 2)
    problem = _start_problem(settings)
    if problem is not None:
        return _fail(problem, 2)
    try:
        sock = _listen(settings.host, settings.port)
    except socket.gaierror as exc:
        return _fail(f"--host {settings.host!r}: not an address of this machine ({exc.strerror})", 2)
    except OSError as exc:
        return _fail(f"cannot listen on {_address(settings.host, settings.port)}: {_reason(exc)}", 1)
    try:
        app = create_app(settings)
    except Exception as exc:  # a start-up error is a message, never a traceback
        sock.close()
        return _fail(f"cannot start: {exc}", 2)
    return settings, sock, app


def _server_cert(settings: Settings) -> Any:
    """A certificate from the local CA for ``--tls`` (unless ``--tls-cert`` gives one), or None."""
    from urllib.parse import urlsplit

    if not settings.tls or settings.tls_cert is not None:
        return None
    from mockscim.tls import ServerCert

    names = [settings.host]
    if settings.public_url:
        names.append(urlsplit(settings.public_url).hostname or "")
    return ServerCert(names)


def _banner(settings: Settings, app: Any, port: int, *, tls: bool) -> str:
    """What a first user needs (docs/behaviour.md §14): where everything is, and how it is set up."""
    host = settings.host if settings.host not in ("0.0.0.0", "::", "") else "127.0.0.1"
    local = f"{'https' if tls else 'http'}://{_address(host, port)}"
    base = settings.public_url.rstrip("/") if settings.public_url else local
    core = app.state.runtime.core
    first = next(core.store.all("serviceUsers"), None)
    client = first["userName"] if first is not None else "(none: the state has no service user)"
    prefix = "/" + settings.secret_server_path.strip("/") if settings.secret_server_path else ""
    active = app.state.runtime.scenario.active
    store = "memory" if settings.store == "memory" else settings.store
    fixture = settings.fixture or "default"
    guard = "guarded by --admin-token" if settings.admin_token else "open (no --admin-token)"
    lines = [
        f"mockscim {__version__} listening on {local}" + (f", public URL {base}" if base != local else ""),
        f"  SCIM base URL:        {base}/scim/v2",
        f"  bearer token:         {settings.token}",
        f"  OAuth token endpoint: {base}/identity/api/oauth2/token/xpmplatform (client_id {client})",
        f"  Secret Server:        {base}{prefix} (Platform mode: {base}/platform), "
        + ("up" if core.secret_server_up else "down (--secret-server-down)"),
        f"  dashboard:            {base}/_mockscim/",
        f"  profile:              {settings.profile}",
        f"  scenario:             {active.scenario.name if active is not None else 'none'}",
        f"  store:                {store} (fixture {fixture})",
        f"  journal file:         {settings.journal_file or 'none'}",
        f"  control plane:        {guard}",
    ]
    if tls:
        ca = ca_path() if settings.tls_cert is None else "(your --tls-cert's issuer)"
        lines.append(f"  TLS CA:               {ca} (trust it: verify=, REQUESTS_CA_BUNDLE, SSL_CERT_FILE)")
    cacert = f" --cacert {ca_path()}" if tls and settings.tls_cert is None else ""
    lines.append(f"  try: curl -s{cacert} -H 'Authorization: Bearer {settings.token}' {local}/scim/v2/Users")
    return "\n".join(lines)


def _quiet_signals_server(config: Any) -> Any:
    """uvicorn's server, but SIGINT/SIGTERM end ``run()`` normally instead of being re-raised after the graceful
    shutdown, so the store is closed and the exit status is 0."""
    import contextlib
    import signal

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


_ITEM_BYTES = {"users": 8192, "groups": 2048, "containers": 3072, "secrets": 3072}
"""Peak memory per generated item, measured with tracemalloc and doubled for the interpreter's own overhead."""


def _available_memory() -> int | None:
    """Bytes of memory available now (Linux ``MemAvailable``; elsewhere free pages), or None when unknown."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    for pages in ("SC_AVPHYS_PAGES", "SC_PHYS_PAGES"):  # macOS has only the second: all memory, an upper bound
        try:
            return os.sysconf(pages) * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            continue
    return None


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} PiB"


def _seed_problem(counts: dict[str, int], output: str) -> str | None:
    """What stops ``seed`` before it starts: a negative count, more than fits in memory, a target that is not a
    regular file or whose directory is missing (one line each, naming the option and value)."""
    for name, n in counts.items():
        if n < 0:
            return f"--{name} {n}: must not be negative"
    available = _available_memory()
    needed = sum(_ITEM_BYTES[k] * n for k, n in counts.items())
    if available is not None and needed > available:
        name = max(counts, key=lambda k: _ITEM_BYTES[k] * counts[k])
        others = needed - _ITEM_BYTES[name] * counts[name]
        most = max(0, (available - others) // _ITEM_BYTES[name])
        return (f"--{name} {counts[name]}: needs about {_size(needed)} of memory, {_size(available)} is available "
                f"(at most about {most} {name} here)")
    if os.path.exists(output) and not os.path.isfile(output):
        return f"-o {output!r}: not a regular file (seed replaces a file; it will not write to a device or directory)"
    folder = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(folder):
        return f"-o {output!r}: directory {folder} does not exist"
    return None


def seed(args: argparse.Namespace) -> int:
    """``mockscim seed``: Faker data in the state format, progress on stderr for large N (docs/behaviour.md §13)."""
    from mockscim.seed.generate import generate_state, write_state

    def progress(stage: str, done: int, total: int) -> None:
        print(f"  {stage}: {done}/{total}", file=sys.stderr, flush=True)

    counts = {name: getattr(args, name) or 0 for name in ("users", "groups", "containers", "secrets")}
    problem = _seed_problem(counts, args.output)
    if problem is not None:
        print(f"mockscim seed: {problem}", file=sys.stderr)
        return 2
    big = max(counts.values()) >= 10000
    try:
        state = generate_state(**counts, seed=args.seed, locale=args.locale, progress=progress if big else None)
        write_state(state, args.output)
    except (ValueError, OSError) as exc:
        print(f"mockscim seed: {exc}", file=sys.stderr)
        return 2
    except MemoryError:
        print("mockscim seed: out of memory: ask for fewer items (docs/sizing.md)", file=sys.stderr)
        return 2
    written = ", ".join(f"{len(v)} {k}" for k, v in state.items())
    print(f"wrote {args.output}: {written}", file=sys.stderr)
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


def tls_ca_path() -> int:
    """``mockscim tls ca-path``: the CA certificate ``--tls`` servers are issued from (docs/behaviour.md §14)."""
    from mockscim.tls import load_or_create_ca

    try:
        load_or_create_ca()
    except OSError as exc:
        print(f"mockscim tls: cannot create the CA in {exc.filename or ca_path().parent}: {exc.strerror}",
              file=sys.stderr)
        return 1
    print(ca_path())
    return 0


def store(args: argparse.Namespace) -> int:
    """``mockscim store check PATH`` (docs/behaviour.md §13): what a start would read, checked, nothing written."""
    from mockscim.core import check_stored_state
    from mockscim.store.durable import StoreError, check_store

    try:
        print(check_store(args.path, check_stored_state))
    except StoreError as exc:
        print(f"mockscim store check: {exc}", file=sys.stderr)
        return 1
    return 0


def journal(args: argparse.Namespace) -> int:
    """Print journal entries from a server or a ``--journal-file`` (docs/behaviour.md §12, §14); on stderr, how many
    matched when ``limit`` cut the answer."""
    from mockscim.journal import Query

    params = {k: getattr(args, k) for k in ("status", "method", "path", "since", "limit") if getattr(args, k)}
    try:
        query = Query.parse(params)
    except ValueError as exc:
        print(f"mockscim journal: --{exc}", file=sys.stderr)
        return 2
    table = args.format == "table" or (args.format is None and sys.stdout.isatty())
    show = _table_line if table else json.dumps
    if table:
        print(_table_line(None), flush=True)
    source = _FileJournal(args.file, query) if args.file else _ServerJournal(args, params)
    try:
        total, entries = source.first()
    except _JournalError as exc:
        print(f"mockscim journal: {exc}", file=sys.stderr)
        return 2
    for entry in entries:
        print(show(entry), flush=args.follow)
    if total > len(entries):
        sys.stdout.flush()  # the entries first, then the note, when both go to one terminal
        print(f"{len(entries)} of {total} matching entries (the newest; --limit N for more)", file=sys.stderr)
    while args.follow:
        import time

        time.sleep(0.5)
        try:
            for entry in source.more():
                print(show(entry), flush=True)
        except _JournalError as exc:
            print(f"mockscim journal: {exc}", file=sys.stderr)
            return 2
    return 0


class _JournalError(Exception):
    pass


class _ServerJournal:
    """``GET /_mockscim/journal`` of a running server; :meth:`more` asks for what came after the last entry."""

    def __init__(self, args: argparse.Namespace, params: dict[str, str]) -> None:
        self.url = f"{(args.url or 'http://127.0.0.1:8000').rstrip('/')}/_mockscim/journal"
        self.params = params
        self.headers = {"Authorization": f"Bearer {args.admin_token}"} if args.admin_token else {}
        self.last: str | None = None

    def _get(self, params: dict[str, str]) -> tuple[int, list[dict[str, Any]]]:
        import httpx

        try:
            response = httpx.get(self.url, params=params, headers=self.headers, timeout=10)
        except httpx.HTTPError as exc:
            raise _JournalError(f"{self.url}: {exc}") from None
        if response.status_code != 200:
            raise _JournalError(f"{self.url}: {response.status_code} {response.text}")
        body = response.json()
        entries: list[dict[str, Any]] = body.get("entries", [])
        if entries:
            self.last = entries[-1]["requestId"]
        return int(body.get("total", len(entries))), entries

    def first(self) -> tuple[int, list[dict[str, Any]]]:
        return self._get(self.params)

    def more(self) -> list[dict[str, Any]]:
        params = {k: v for k, v in self.params.items() if k != "limit"}
        if self.last is not None:
            params["since"] = self.last
        params["limit"] = "10000"
        return self._get(params)[1]


class _FileJournal:
    """A ``--journal-file`` read offline with the API's filters; :meth:`more` reads what was appended since."""

    def __init__(self, path: str, query: Query) -> None:
        self.path = path
        self.query = query
        self.offset = 0
        self.seen_since = query.since is None

    def _read(self) -> list[dict[str, Any]]:
        try:
            with open(self.path, "rb") as fh:
                fh.seek(self.offset)
                data = fh.read()
        except OSError as exc:
            raise _JournalError(f"--file {self.path!r}: {exc.strerror or exc}") from None
        end = data.rfind(b"\n") + 1  # a line still being written waits for its end
        self.offset += end
        found: list[dict[str, Any]] = []
        for line in data[:end].splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict) and self._keeps(entry):
                found.append(entry)
        return found

    def _keeps(self, entry: dict[str, Any]) -> bool:
        query = self.query
        if query.since_time is not None:
            from mockscim.journal.ring import parse_time

            when = parse_time(str(entry.get("time", "")))
            if when is None or when < query.since_time:
                return False
        elif not self.seen_since:
            self.seen_since = entry.get("requestId") == query.since
            return False
        return query.keeps(entry)

    def first(self) -> tuple[int, list[dict[str, Any]]]:
        found = self._read()
        return len(found), found[-self.query.limit:] if self.query.limit else []

    def more(self) -> list[dict[str, Any]]:
        return self._read()


_COLUMNS = (("time", 24), ("status", 6), ("method", 6), ("path", 40), ("principal", 28), ("rule", 24))


def _table_line(entry: dict[str, Any] | None) -> str:
    """One table row (``None``: the header); the detail last, unpadded."""
    if entry is None:
        return " ".join(name.upper().ljust(width) for name, width in _COLUMNS) + " DETAIL"
    cells = []
    for name, width in _COLUMNS:
        value = entry.get(name)
        if name == "path" and entry.get("query"):
            value = f"{value}?{entry['query']}"
        text = "-" if value is None else str(value)
        cells.append(text[:width].ljust(width))
    return " ".join(cells) + " " + str(entry.get("detail") or "")
