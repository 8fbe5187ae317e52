"""The request journal (docs/behaviour.md §12): a bounded ring of redacted entries, filters, a JSON Lines log."""

from __future__ import annotations

import json
import logging
import re
import threading
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from functools import partial
from json.encoder import encode_basestring
from typing import Any, NamedTuple, TextIO
from urllib.parse import unquote_plus

from mockscim.journal.bodies import credentials as secrets_of
from mockscim.journal.bodies import exchange_text
from mockscim.journal.lines import Clock, LineWriter
from mockscim.util.timefmt import iso_utc_epoch
from mockscim.util.urlquery import unquote_plus as fast_unquote_plus

KEYS: tuple[str, ...] = (
    "time", "requestId", "method", "path", "query", "principal", "userAgent", "status", "scimType", "detail",
    "durationMs", "rule",
)
"""Exactly the keys of a journal entry (docs/behaviour.md §12), in the order they are written."""

REDACTED = "[REDACTED]"
DEFAULT_LIMIT = 100

# A cheap first look at a whole query: does any credential-like word appear at all?
_SENSITIVE = re.compile(r"token|secret|passw|pwd|credential|api[_-]?key|assertion|authorization", re.IGNORECASE)
# The same names as plain lower-case substrings: for ASCII text (nearly every query) a few `in` tests are ~10x
# cheaper than the case-insensitive regex, and ASCII case folding is all IGNORECASE can do there.
_SENSITIVE_WORDS = (
    "token", "secret", "passw", "pwd", "credential", "apikey", "api_key", "api-key", "assertion", "authorization",
)
# Query parameter names whose values are credentials (docs/behaviour.md §2, §12): redacted by name, never because a
# name merely contains "secret" or "token" (`secretPath` is a path, and stays readable).
_SENSITIVE_NAMES = frozenset({
    "access_token", "token", "refresh_token", "id_token", "password", "passwd", "pwd", "secret", "client_secret",
    "api_key", "apikey", "api-key", "assertion", "client_assertion", "authorization",
})
_STATUS = re.compile(r"0|[1-5]\d\d|[1-5]xx", re.IGNORECASE)

log = logging.getLogger("mockscim.journal")
_encode = json.JSONEncoder(ensure_ascii=False, check_circular=False, separators=(",", ":")).encode


def parse_time(text: str) -> datetime | None:
    """An ISO 8601 time (``Z`` or an offset; naive means UTC), or None when ``text`` is not one."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def sensitive(text: str) -> bool:
    """Whether ``text`` contains a credential-like name (``token``, ``secret``, ``passw``…), in any case."""
    if text.isascii():
        low = text.lower()
        for word in _SENSITIVE_WORDS:
            if word in low:
                return True
        return False
    return _SENSITIVE.search(text) is not None


def redact_query(query: str, known: Iterable[str] = ()) -> str:
    """The raw query string with credential-named parameters and any ``known`` secret value replaced."""
    if not query:
        return query
    known = [k for k in known if k]
    decoded = fast_unquote_plus(query)
    if not sensitive(decoded) and not any(k in query or k in decoded for k in known):
        return query  # the usual case, decided with at most one unquote instead of one per parameter
    parts = query.split("&")
    for i, part in enumerate(parts):
        name, eq, value = part.partition("=")
        if eq and value and unquote_plus(name).strip().lower() in _SENSITIVE_NAMES:
            parts[i] = f"{name}={REDACTED}"
        elif known and any(k in part or k in unquote_plus(part) for k in known):
            parts[i] = f"{name}={REDACTED}" if eq else REDACTED
    return "&".join(parts)


def redact_text(text: str | None, known: Iterable[str]) -> str | None:
    """``text`` with every ``known`` secret value replaced (tokens echoed in a path, a detail or a user agent)."""
    if text is None:
        return None
    for secret in known:
        if secret and secret in text:
            text = text.replace(secret, REDACTED)
    return text


@dataclass(frozen=True)
class Query:
    """A parsed ``GET /_mockscim/journal`` filter (docs/behaviour.md §12); build it with :meth:`parse`."""

    status: str | None = None
    method: str | None = None
    path: str | None = None
    since: str | None = None
    since_time: datetime | None = None
    limit: int = DEFAULT_LIMIT
    q: str | None = None
    principal: str | None = None
    rule: str | None = None

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> Query:
        """Validate query parameters; a bad one → ValueError naming it."""
        status = params.get("status") or None
        if status is not None and not _STATUS.fullmatch(status):
            raise ValueError(f"status: expected a code (404) or a class (4xx), got {status!r}")
        limit = DEFAULT_LIMIT
        if params.get("limit"):
            text = params["limit"]
            if not (text.isascii() and text.isdigit()):  # ASCII only: isdigit() takes other scripts
                raise ValueError(f"limit: expected a non-negative integer, got {text!r}")
            limit = int(text)
        since = params.get("since") or None
        return cls(
            status=None if status is None else status.lower(),
            method=(params.get("method") or None) and params["method"].upper(),
            path=params.get("path") or None,
            since=since,
            since_time=None if since is None else parse_time(since),
            limit=limit,
            q=(params.get("q") or None) and params["q"].lower(),
            principal=params.get("principal") or None,
            rule=params.get("rule") or None,
        )

    def text_hit(self, entry: Mapping[str, Any]) -> bool:
        """Whether ``q`` is in the entry's path, query or detail, ignoring case (docs/behaviour.md §12)."""
        q = self.q or ""
        return any(q in str(entry[key] or "").lower() for key in ("path", "query", "detail"))

    def keeps(self, entry: Mapping[str, Any]) -> bool:
        """Whether ``entry`` passes the status, method, path, principal and rule filters, and ``q`` on its path,
        query and detail (the journal looks in the request body when these do not match)."""
        if self.principal is not None and (entry["principal"] is None
                                           or str(entry["principal"]).lower() != self.principal.lower()):
            return False
        if self.rule is not None and (entry["rule"] is None or not fnmatchcase(str(entry["rule"]), self.rule)):
            return False
        if self.status is not None:
            code = str(entry["status"])
            if self.status.endswith("xx") and not (len(code) == 3 and code[0] == self.status[0]):
                return False
            if not self.status.endswith("xx") and code != self.status:
                return False
        if self.method is not None and str(entry["method"]).upper() != self.method:
            return False
        if self.path is not None:
            # docs/behaviour.md §12: exact, or a glob when it contains '*'.
            if "*" in self.path:
                return fnmatchcase(str(entry["path"]), self.path)
            return bool(entry["path"] == self.path)
        return True


class RawRequest(NamedTuple):
    """One request as the middleware saw it; the journal entry is built from it when first read or written out.

    Building an entry (credentials parsed, every field redacted, the time formatted) costs more than serving a
    small request, and entries are written far more often than read. ``headers`` are the two the entry needs
    (``user-agent``; ``authorization``, what to redact), each value cut to 8 KiB by the middleware; the whole head
    goes with the exchange.
    """

    request_id: str
    method: str
    path: str
    query: str
    principal: str | None
    headers: Sequence[tuple[bytes, bytes]]
    status: int
    scim_type: str | None
    detail: str | None
    duration_ms: float
    rule: str | None


DEFAULT_BODY_BYTES = 32 * 1024 * 1024
"""``--journal-body-bytes``: the bodies and headers all entries keep together (docs/behaviour.md §12)."""
DROPPED = '"bodies":"dropped"'


def credentials(headers: Iterable[tuple[bytes, bytes]]) -> tuple[str | None, list[str]]:
    """The user agent, and the credential values a request carries (bearer tokens, a Basic client secret)."""
    agent: str | None = None
    for name, value in headers:
        if name == b"user-agent":
            agent = value.decode("latin-1")
    return agent, secrets_of(headers)


def build_entry(arrived: float, request: RawRequest) -> dict[str, Any]:
    """The journal entry of ``request`` (exactly :data:`KEYS`), with every credential it carried redacted."""
    agent, known = credentials(request.headers)
    return {
        "time": iso_utc_epoch(arrived),
        "requestId": request.request_id,
        "method": request.method,
        "path": redact_text(request.path, known),
        "query": redact_query(request.query, known),  # docs/behaviour.md §2: a token in the query string is redacted
        "principal": request.principal,
        "userAgent": redact_text(agent, known),
        "status": request.status,
        "scimType": request.scim_type,
        "detail": redact_text(request.detail, known),
        "durationMs": round(request.duration_ms, 3),
        "rule": request.rule,
    }


def _string(value: str | None) -> str:
    return "null" if value is None else encode_basestring(value)


def entry_line(arrived: float, request: RawRequest, stamp: Callable[[float], str] = iso_utc_epoch) -> str:
    """``build_entry(arrived, request)`` as its JSON line, exactly as the journal's encoder writes it, without the
    dict: the log line of every request at ``info`` (docs/behaviour.md §12) costs half as much this way. Another
    thread than the event loop's passes its own ``stamp`` (a :class:`~mockscim.journal.lines.Clock`'s)."""
    agent, known = credentials(request.headers)
    s = encode_basestring  # a JSON string literal, non-ASCII kept as ensure_ascii=False keeps it
    return (
        f'{{"time":"{stamp(arrived)}","requestId":{s(request.request_id)},"method":{s(request.method)},'
        f'"path":{_string(redact_text(request.path, known))},'
        f'"query":{s(redact_query(request.query, known))},"principal":{_string(request.principal)},'
        f'"userAgent":{_string(redact_text(agent, known))},"status":{int(request.status)},'
        f'"scimType":{_string(request.scim_type)},"detail":{_string(redact_text(request.detail, known))},'
        f'"durationMs":{round(request.duration_ms, 3)!r},"rule":{_string(request.rule)}}}'
    )


_Item = list[Any]
"""A ring slot: ``[arrival epoch, entry dict or the RawRequest it is built from, the exchange (packed bytes, its
JSON text once read, DROPPED, or None), its size in bytes]``."""


def _exchange_text(item: _Item, lock: threading.Lock | None) -> str:
    """A slot's exchange as its JSON members, or ``DROPPED``'s: redacted and formatted when first read, then kept in
    the slot in place of the raw exchange unless it was dropped meanwhile (``lock``: the journal's, None when the
    caller holds it)."""
    exchange = item[2]
    if not isinstance(exchange, bytes):
        return str(exchange)
    text = exchange_text(exchange)
    if lock is None:
        item[2] = text
        return text
    with lock:
        if item[2] is exchange:
            item[2] = text
    return text


def _entry(item: _Item) -> dict[str, Any]:
    if not isinstance(item[1], dict):
        item[1] = build_entry(item[0], item[1])
    entry: dict[str, Any] = item[1]
    return entry


def _full(item: _Item, lock: threading.Lock) -> dict[str, Any]:
    """The entry with its ``request`` and ``response`` (or ``"bodies": "dropped"``)."""
    entry = _entry(item)
    if item[2] is None:
        return entry
    extra: dict[str, Any] = json.loads("{" + _exchange_text(item, lock) + "}")
    return {**entry, **extra}


def _request_text(item: _Item, lock: threading.Lock) -> str:
    """The request body as the text ``q`` searches (docs/behaviour.md §12)."""
    if not item[2] or item[2] is DROPPED:
        return ""
    body = json.loads("{" + _exchange_text(item, lock) + "}")["request"].get("body")
    return body if isinstance(body, str) else _encode(body)


class Journal:
    """The newest ``size`` entries in memory (memory stays flat), each also appended to ``path`` as JSON Lines."""

    def __init__(self, size: int = 10000, path: str | None = None, body_bytes: int = DEFAULT_BODY_BYTES) -> None:
        self._ring: deque[_Item] = deque(maxlen=max(size, 0))
        self.body_bytes = max(body_bytes, 0)
        self._kept_bytes = 0  # the sizes of the exchanges kept, in `_bodies` (oldest first)
        self._bodies: deque[_Item] = deque()
        self._lock = threading.Lock()
        self.path = path
        self._file: TextIO | None = None
        if path:
            # Line-buffered and flushed per entry: the connector log outlives the process (docs/behaviour.md §12).
            self._file = open(path, "a", buffering=1, encoding="utf-8")  # closed by close() or at collection
            weakref.finalize(self, self._file.close)
        self._write_failed = False
        self._writer: LineWriter | None = None
        self._render: Callable[[float, RawRequest], str] = entry_line

    def __len__(self) -> int:
        return len(self._ring)

    def record(self, arrived: datetime | float, entry: dict[str, Any]) -> None:
        """Keep ``entry`` (already redacted, exactly :data:`KEYS`), append it to the file, and log it (to the
        :meth:`log_to` writer, else on ``mockscim.journal`` at INFO).

        ``arrived`` is when the request arrived, as a datetime or as epoch seconds (what the middleware has).
        """
        if isinstance(arrived, datetime):
            arrived = arrived.timestamp()
        self._keep([arrived, entry, None, 0])

    def record_request(self, arrived: float, request: RawRequest, exchange: bytes | None = None) -> None:
        """Keep ``request`` and what it and its response said (``exchange``); its JSON line is built at once when the
        file or the log wants it (on the writer's thread for ``serve``'s stderr), its entry when first read."""
        item: _Item = [arrived, request, exchange, 0 if exchange is None else len(exchange)]
        if self._file is None and self._writer is None and not log.isEnabledFor(logging.INFO):
            with self._lock:  # kept, nothing else (what _keep does then, inline: every request comes here)
                self._append(item)
            return
        self._keep(item)

    def log_to(self, writer: LineWriter | None) -> None:
        """Hand each entry's JSON line to ``writer`` (``serve``'s stderr) instead of logging it on
        ``mockscim.journal``; None goes back to the logger."""
        self._writer = writer
        self._render = partial(entry_line, stamp=Clock().stamp)  # called on the writer's thread only

    def _keep(self, item: _Item) -> None:
        writer = self._writer
        logging_on = writer is None and log.isEnabledFor(logging.INFO)
        if not (self._file or writer is not None or logging_on):
            with self._lock:
                self._append(item)
            return
        if writer is not None and self._file is None and isinstance(item[1], RawRequest):
            with self._lock:
                self._append(item)
            writer.write_deferred(self._render, item[0], item[1])  # built off the event loop, a batch at a time
            return
        # The line is built once, for the file and the log line alike (docs/behaviour.md §12); the entry itself only
        # when the logging module wants it, or when it is first read.
        entry: dict[str, Any] | None = None
        if isinstance(item[1], RawRequest) and not logging_on:
            line = entry_line(item[0], item[1])
        else:
            entry = _entry(item)
            line = _encode(entry)
        with self._lock:
            self._append(item)
            if self._file is not None:
                try:
                    # The file carries the bodies too (docs/behaviour.md §12), the stderr line the metadata only.
                    self._file.write((f"{line[:-1]},{_exchange_text(item, None)}}}" if item[2] else line) + "\n")
                    self._file.flush()
                except (OSError, ValueError) as exc:  # a full disk must not fail the request
                    if not self._write_failed:
                        self._write_failed = True
                        log.warning("cannot write the journal file %s: %s", self.path, exc)
        if writer is not None:
            writer.write(line)
        elif logging_on:
            log.info(line, extra={"journal": entry})

    def _append(self, item: _Item) -> None:
        """Keep ``item`` (the lock held): evict the oldest when the ring is full, and drop the oldest bodies until
        those kept fit ``body_bytes`` (docs/behaviour.md §12: memory stays bounded whatever clients send)."""
        ring = self._ring
        if ring.maxlen is not None and len(ring) >= ring.maxlen:
            if not ring.maxlen:
                return
            old = ring[0]
            if old[2] is not None and old[2] is not DROPPED:
                self._kept_bytes -= old[3]
                old[2] = DROPPED
        ring.append(item)
        if item[2] is not None:
            if item[3] > self.body_bytes:
                item[2] = DROPPED
                return
            self._bodies.append(item)
            self._kept_bytes += item[3]
        bodies = self._bodies
        while bodies and (self._kept_bytes > self.body_bytes or bodies[0][2] is DROPPED):
            old = bodies.popleft()
            if old[2] is not DROPPED:
                self._kept_bytes -= old[3]
                old[2] = DROPPED

    @property
    def kept_bytes(self) -> int:
        """The bytes of bodies and headers kept, within :attr:`body_bytes`."""
        return self._kept_bytes

    def entries(self) -> list[dict[str, Any]]:
        """Every entry kept, oldest first, with its bodies."""
        with self._lock:
            items = list(self._ring)
        return [_full(item, self._lock) for item in items]

    def get(self, request_id: str) -> dict[str, Any] | None:
        """The entry of ``request_id`` with its bodies, or None when it is not kept."""
        with self._lock:
            items = list(self._ring)
        for item in reversed(items):
            if _entry(item)["requestId"] == request_id:
                return _full(item, self._lock)
        return None

    def query(self, query: Query) -> tuple[int, list[dict[str, Any]]]:
        """``(total, entries)``: every matching entry counted, the newest ``limit`` returned oldest first."""
        with self._lock:
            items = [(item[0], _entry(item), item) for item in self._ring]
        if query.since is not None:
            items = self._since(items, query)
        matching = [item for _, entry, item in items
                    if query.keeps(entry) and (query.q is None or query.text_hit(entry)
                                               or query.q in _request_text(item, self._lock).lower())]
        # The newest `limit`, or all when fewer match (a negative start would count from the end instead).
        kept = matching[max(len(matching) - query.limit, 0):] if query.limit else []
        return len(matching), [_full(item, self._lock) for item in kept]

    @staticmethod
    def _since(items: list[tuple[float, dict[str, Any], _Item]],
               query: Query) -> list[tuple[float, dict[str, Any], _Item]]:
        """docs/behaviour.md §12 ``since``: a requestId → the entries after it; an ISO 8601 time → the entries at or
        after it."""
        request_id = str(query.since)
        for i, (_, entry, _item) in enumerate(items):
            if entry["requestId"] == request_id:
                return items[i + 1:]
        if query.since_time is not None:
            since = query.since_time.timestamp()
            return [item for item in items if item[0] >= since]
        # Not kept (evicted from the ring): ids are sortable within a run, so keep those issued after it.
        prefix = request_id.rpartition("-")[0]
        if prefix and all(str(e["requestId"]).rpartition("-")[0] == prefix for _, e, _i in items):
            return [item for item in items if str(item[1]["requestId"]) > request_id]
        raise ValueError(f"since: {request_id!r} is neither an ISO 8601 time nor a request id in the journal")

    def clear(self) -> None:
        with self._lock:
            self._ring.clear()
            self._bodies.clear()
            self._kept_bytes = 0

    def close(self) -> None:
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None
