"""The ``mockscim`` command: serve, seed, scenario list|check, journal (docs/behaviour.md §14)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from dataclasses import fields
from typing import Any

from mockscim import __version__
from mockscim.settings import Settings
from mockscim.tls import ca_path

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
    tls = sub.add_parser("tls", help="the local CA behind --tls")
    tls_sub = tls.add_subparsers(dest="tls_command", required=True)
    tls_sub.add_parser("ca-path", help="print the CA certificate's path (created if it does not exist yet)")
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
    if command == "tls":
        return tls_ca_path()
    return journal(args)


def serve(args: argparse.Namespace) -> int:
    """Start the server (docs/behaviour.md §14): values checked, then the port, then the banner, then requests."""
    import logging

    import uvicorn

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
    except OSError as exc:
        return _fail(f"cannot listen on {_address(settings.host, settings.port)}: {_reason(exc)}", 1)
    try:
        app = create_app(settings)
    except Exception as exc:  # a start-up error is a message, never a traceback
        sock.close()
        return _fail(f"cannot start: {exc}", 2)
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    cert = _server_cert(settings)
    tls_files = (settings.tls_cert, settings.tls_key) if cert is None else (str(cert.certfile), str(cert.keyfile))
    print(_banner(settings, app, sock.getsockname()[1], tls=settings.tls or settings.tls_cert is not None),
          flush=True)
    config = uvicorn.Config(app, log_level=settings.log_level, lifespan="off", access_log=False,
                            proxy_headers=False,  # forwarded headers are the app's business (--forwarded-allow-ips)
                            ssl_certfile=tls_files[0], ssl_keyfile=tls_files[1])
    try:
        _quiet_signals_server(config).run(sockets=[sock])
    finally:
        app.state.runtime.core.close()  # docs/behaviour.md §14: a clean shutdown flushes the store
        if cert is not None:
            cert.remove()
    return 0


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
    import socket

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
