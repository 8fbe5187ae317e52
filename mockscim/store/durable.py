"""The durable store (docs/behaviour.md §13): memory reads plus a group-committed, checksummed write-ahead log.

``PATH.json`` is a TinyDB file (one table per kind, then ``_mockscim``: format, generation, the generation before,
the last record it holds, next ids, a CRC-32 of the tables); ``PATH.json.wal`` is a header (the snapshot generation
it follows and the record number it starts after), then one line per ``apply()`` change set, each with a sequence
number and a CRC-32, so a cascade is atomic on disk and anything but a torn final line (never acknowledged) is seen.
``apply()`` only encodes the change set and appends it to a buffer; a writer thread, woken once per batch, writes
everything buffered with one ``os.write`` and one ``os.fsync``, then wakes each event loop waiting on that batch once;
``await sync()`` (before every 2xx) waits for it. A write the disk refuses is undone in memory (the state is read back
from disk) and every waiter gets :class:`WriteFailed` (507); the store then writes synchronously until a write
succeeds again. At start, a damaged file stops the start with one line naming the file, the line and the fault, and
nothing is written. The full design: docs/store.md.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import os
import threading
import uuid
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mockscim.store import KINDS, Change, Delete, Put, key_of
from mockscim.store.files import Damaged, fsync_dir, header_line, record_line, unseal, well_formed, write_all
from mockscim.store.members import GroupDoc
from mockscim.store.memory import MemoryStore, Stored, unpack

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory lock
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger("mockscim.store")

META = "_mockscim"
FORMAT = 2
COMPACT_MIN_BYTES = 32 * 1024 * 1024
_META_MARK = b',"' + META.encode() + b'":{"1":'

_Waiters = dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]]

_ticket: contextvars.ContextVar[tuple[int, int]] = contextvars.ContextVar("mockscim_store_ticket")
"""(store, position in the queue) of the last change set this task (request) queued: its ``sync()`` tells a write
that failed before it asked from one that was never made."""


class StoreError(RuntimeError):
    """A store file that cannot be used (corrupt, foreign, locked) or a failed write; the message names the file."""


class WriteFailed(StoreError):
    """A write the disk refused (full, read-only, I/O error): nothing of it is applied; answered 507
    (docs/behaviour.md §13)."""


@dataclass(frozen=True)
class _Snapshot:
    """A whole state to write as ``PATH.json`` (``load()``, or compaction of the running state), holding every
    record up to ``seq``."""

    tables: Mapping[str, Sequence[Stored]]
    next: Mapping[str, int]
    seq: int


Validator = Callable[[dict[str, list[dict[str, Any]]]], dict[str, list[dict[str, Any]]]]
"""Checks the tables read from disk as a whole state and returns them in stored form; raises ``ValueError`` naming
the bad entry (``mockscim.core.check_stored_state``)."""


@dataclass
class _Log:
    """What a log holds, read and checked (nothing applied yet)."""

    records: list[tuple[int, dict[str, Any]]] = field(default_factory=list)  # (line number, record)
    end: int = 0  # offset just after the last complete line
    current: bool = False  # its records follow the snapshot (else: empty, or already in the snapshot)
    last_seq: int = 0
    torn: int = 0  # bytes of a torn final line (no line end): a write that was never acknowledged
    torn_line: int = 0


def read_snapshot(path: Path, validate: Validator) -> tuple[dict[str, list[dict[str, Any]]], dict[str, Any]]:
    """The snapshot's tables (checked as a state) and its ``_mockscim`` entry; :class:`StoreError` naming the file."""
    hint = f"{path}: not a mockscim store"
    try:
        raw = path.read_bytes()
        data = json.loads(raw)
    except OSError as exc:
        raise StoreError(f"{path}: cannot read: {exc.strerror}") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise StoreError(f"{hint} (not JSON: {exc})") from None
    if not isinstance(data, dict) or not all(isinstance(t, dict) for t in data.values()):
        raise StoreError(f'{hint} (a TinyDB file is {{"<table>": {{"<doc_id>": {{…}}}}}})')
    foreign = sorted(t for t in data if t not in KINDS and t != META and not (t == "_default" and not data[t]))
    if foreign or not any(k in data for k in KINDS):
        raise StoreError(f"{hint} (tables {sorted(data)}; expected {', '.join(KINDS)})")
    for table, docs in data.items():
        for doc_id, doc in docs.items():
            if not (doc_id.isascii() and doc_id.isdigit()) or not isinstance(doc, dict):
                raise StoreError(f"{hint} (table {table!r}, doc_id {doc_id!r}: not a TinyDB document)")
    meta: dict[str, Any] = next(iter(data.get(META, {}).values()), {})
    if "crc" in meta:
        mark = raw.rfind(_META_MARK)
        if mark < 0 or zlib.crc32(raw[1:mark]) != meta["crc"]:
            raise StoreError(f"{path}: checksum mismatch: the file was changed after mockscim wrote it (damaged, "
                             f"or edited: to load an edited file, remove \"crc\" from its {META} table)")
    state = {kind: list(data.get(kind, {}).values()) for kind in KINDS}
    try:
        tables = validate(state)  # the store keeps tables; whether they are a valid state, the core says
    except ValueError as exc:
        raise StoreError(f"{hint}: {exc}") from None
    return tables, meta


def read_log(wal_path: Path, data: bytes, meta: Mapping[str, Any], snapshot: Path) -> _Log:
    """Check every line of a log against its snapshot's ``meta`` (docs/behaviour.md §13): anything but a torn final
    line raises :class:`StoreError` naming the file, the line and the fault."""
    out = _Log()
    cut = data.rfind(b"\n") + 1
    out.end = cut
    out.torn = len(data) - cut
    lines = data[:cut].split(b"\n")[:-1]
    out.torn_line = len(lines) + 1
    if not lines:  # a log is renamed into place with its header: one without is damaged (cut, or emptied)
        raise StoreError(f"{wal_path}: line 1: no complete header ({'empty' if not data else 'cut short'})")

    def fail(number: int, what: str) -> StoreError:
        return StoreError(f"{wal_path}: line {number}: {what}")

    try:
        header = unseal(lines[0])
    except Damaged as exc:
        raise fail(1, f"damaged header: {exc}") from None
    generation, after = header.get("generation"), header.get("seq")
    if header.get("wal") != 2 or not isinstance(generation, str) or not isinstance(after, int):
        raise fail(1, "damaged header: not a log header")
    ours, before, held = meta.get("generation"), meta.get("previous"), meta.get("seq", 0)
    if ours and generation == ours:
        out.current = True
        if after != held:
            raise fail(1, f"the header follows record {after}, but {snapshot.name} holds records up to {held}")
    elif not (before and generation == before):
        raise fail(1, f"a header of generation {generation}, but {snapshot.name} is generation {ours} (after "
                   f"{before}): this log belongs to another snapshot")
    expected = after
    for number, line in enumerate(lines[1:], start=2):
        try:
            record = unseal(line)
        except Damaged as exc:
            raise fail(number, f"damaged record: {exc}") from None
        if not well_formed(record) or not isinstance(record.get("s"), int):
            raise fail(number, "damaged record: not a change set")
        if record["s"] != expected + 1:
            raise fail(number, f"record {record['s']} where record {expected + 1} belongs (a record is missing, "
                       "repeated or out of order)")
        expected += 1
        out.records.append((number, record))
    out.last_seq = expected
    if not out.current:
        if expected > held:
            raise fail(len(lines), f"record {expected} of the previous generation is not in {snapshot.name}, "
                       f"which holds records up to {held}")
        out.records = []  # the crash came between the snapshot's rename and the log's reset: all of it is held
    return out


def _apply_record(memory: MemoryStore, record: Mapping[str, Any]) -> None:
    """One logged change set, applied in memory in order: ``P`` (put a document), ``D`` (delete by key), and ``M``
    (a member change: the group as stored, edited by the logged removals and additions, its attributes replaced by
    the logged ones, docs/store.md)."""
    for op in record["c"]:
        change: Change
        if op[0] == "M":
            _, kind, base, removed, added, follows = op
            stored = MemoryStore.get(memory, kind, base["id"])
            edit = stored.edit() if isinstance(stored, GroupDoc) else None
            if edit is None:
                raise ValueError(f"no {kind} entry {base['id']!r} whose members it could change")
            edit.replay(removed, added, follows)
            dict.clear(edit)
            dict.update(edit, base)
            change = Put(kind, edit, stored)
        else:
            change = Put(op[1], op[2]) if op[0] == "P" else Delete(op[1], op[2])
        MemoryStore.apply(memory, [change])


def _encode(memory: MemoryStore, change: Change) -> list[Any]:
    """One change as a log operation: a group edit as its member change (``M``, O(change): docs/behaviour.md §13, "a
    one-member group PATCH logs the change, not the group") when a replay can redo it, else ``P`` or ``D``."""
    if isinstance(change, Delete):
        return ["D", change.kind, change.id]
    doc = change.doc
    if isinstance(doc, GroupDoc) and doc.pending:
        delta = doc.delta()
        stored = memory.get(change.kind, str(doc["id"])) if delta is not None else None
        if delta is not None and not doc.stale(stored):
            return ["M", change.kind, doc.without_members(), *delta]
    return ["P", change.kind, doc]


def _orphan(wal_path: Path, snapshot: Path) -> StoreError:
    return StoreError(f"{wal_path}: a write-ahead log without its snapshot {snapshot.name}: not started (it would "
                      f"start from the fixture); restore {snapshot.name}, or remove the log to start afresh")


def _replay(memory: MemoryStore, wal_path: Path, tables: dict[str, list[dict[str, Any]]], wal: _Log,
            validate: Validator | None) -> None:
    """``memory`` ← the snapshot's tables + the log's records; with ``validate``, the result is checked as an import
    is (docs/behaviour.md §13), and a failure names the first record after which the state no longer validates."""
    MemoryStore.load(memory, tables)
    for number, record in wal.records:
        try:
            _apply_record(memory, record)
        except Exception as exc:  # a record the store cannot even hold
            raise StoreError(f"{wal_path}: line {number}: a record that cannot be applied ({exc})") from None
    if validate is None or not wal.records:
        return
    try:
        validate(memory.export())
        return
    except ValueError as exc:
        reason = exc
    good, bad = 0, len(wal.records)  # bisection: the snapshot alone validated, all records do not
    while bad - good > 1:
        middle = (good + bad) // 2
        MemoryStore.load(memory, tables)
        for _, record in wal.records[:middle]:
            _apply_record(memory, record)
        try:
            validate(memory.export())
            good = middle
        except ValueError as exc:
            bad, reason = middle, exc
    raise StoreError(f"{wal_path}: line {wal.records[bad - 1][0]}: a record that makes the state invalid: {reason}")


class DurableStore(MemoryStore):
    """``--store PATH.json``: the memory store's indexes and reads, with every change set on disk before ``sync()``."""

    failure: str | None = None
    """Why the last write failed, until one succeeds again (``/_mockscim/health``, docs/behaviour.md §13)."""

    def __init__(self, path: str | os.PathLike[str], *, validate: Validator,
                 compact_min_bytes: int | None = None) -> None:
        super().__init__()
        self.path = Path(path)
        self._validate = validate
        self.wal_path = Path(f"{self.path}.wal")
        # The reliability trials (bench/reliability.py) compact often through this variable; it is not an option.
        self._compact_min = compact_min_bytes if compact_min_bytes is not None else int(
            os.environ.get("MOCKSCIM_STORE_COMPACT_MIN_BYTES", COMPACT_MIN_BYTES))
        # ``_mutex`` guards the write queue below and is never held across I/O. ``_wake`` is a binary semaphore the
        # writer thread sleeps on: released (``_signalled``) at most once per batch, so however many change sets a
        # batch holds the writer is woken once. On an event loop the release is deferred to a ``call_soon`` (the
        # ``_kick_loop``): the batch then takes every request that loop runs in this iteration, and the writer
        # does not wake to fight the loop's thread for the GIL while it is still busy with them. Lock order:
        # ``lock`` (the store's) before ``_mutex``.
        self._mutex = threading.Lock()
        self._durable_cond = threading.Condition(self._mutex)  # flush(): a batch is on disk
        self._wake = threading.Lock()
        self._wake.acquire()
        self._signalled = False
        self._kick_loop: asyncio.AbstractEventLoop | None = None
        self._pending: list[tuple[int, bytes] | _Snapshot] = []
        self._appended = self._durable = 0
        # sync() futures, per event loop: those settled when the batch now being written is on disk, and those
        # settled by the batch after it (the one that will take ``_pending``). One call_soon_threadsafe per loop
        # per batch; one future per request, so a cancelled request cancels nobody else's wait.
        self._in_flight: _Waiters = {}
        self._next_batch: _Waiters = {}
        self._error: StoreError | None = None  # the store cannot go on (its state could not be read back)
        self._failures = 0
        self._undone: list[tuple[int, int, WriteFailed]] = []  # queue positions (after, up to] a failure undid
        self._stopping = self._closed = False
        self._generation: str | None = None
        self._previous: str | None = None
        self._lsn = 0  # the sequence number of the last change set applied in memory
        self._logged = 0  # … and of the last one on disk (in the log or the snapshot)
        self._wal_end: int | None = None  # the log's durable length; None: it needs a new header first
        self._wal_bytes = self._snapshot_bytes = 0
        self.loaded_from_disk = self.path.exists()
        self._new_log = Path(f"{self.wal_path}.new")  # a log being started: renamed over the log once complete
        self._wal_is_new = not self.wal_path.exists()
        self._wal_fd = self._locked(self._new_log, create=True) if self._wal_is_new else self._open_wal()
        try:
            self._recover()
        except BaseException:
            if self._wal_is_new:
                self._new_log.unlink(missing_ok=True)  # only ever a log being started: nothing else is touched
            os.close(self._wal_fd)
            raise
        self._writer = threading.Thread(target=self._run, name=f"mockscim-store {self.path.name}", daemon=True)
        self._writer.start()

    # -- start-up (docs/behaviour.md §13: a file that does not load stops the start, untouched) ------------------------
    def _open_wal(self) -> int:
        """The log, locked (one server per file). A log is only ever replaced by a rename (``_new_wal``): a lock
        taken on a log that was replaced meanwhile is taken again on the new one."""
        for _ in range(10):
            fd = self._locked(self.wal_path, create=False)
            try:
                if os.fstat(fd).st_ino == os.stat(self.wal_path).st_ino:
                    return fd
            except OSError:
                pass
            os.close(fd)
        raise StoreError(f"{self.path}: in use by another mockscim server (its log {self.wal_path} keeps changing)")

    def _locked(self, path: Path, *, create: bool) -> int:
        try:
            fd = os.open(path, os.O_RDWR | os.O_APPEND | (os.O_CREAT if create else 0), 0o644)
        except OSError as exc:
            raise StoreError(f"{self.path}: cannot open its log {path}: {exc.strerror}") from None
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                raise StoreError(f"{self.path}: in use by another mockscim server (lock on {path})") from None
        return fd

    def _read_wal_bytes(self) -> bytes:
        os.lseek(self._wal_fd, 0, os.SEEK_SET)  # O_APPEND: writes go to the end wherever this leaves the offset
        chunks = []
        while chunk := os.read(self._wal_fd, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)

    def _recover(self) -> None:
        if not self.loaded_from_disk:
            if not self._wal_is_new and os.fstat(self._wal_fd).st_size > 0:
                raise _orphan(self.wal_path, self.path)
            return  # created by the first load() (the fixture), which is a snapshot
        tables, meta = read_snapshot(self.path, self._validate)
        wal = _Log() if self._wal_is_new else read_log(self.wal_path, self._read_wal_bytes(), meta, self.path)
        self._rebuild(tables, meta, wal, validate=True)
        if wal.torn:
            log.warning("%s: line %d: a torn final record (%d bytes without a line end) dropped: it was never "
                        "acknowledged", self.wal_path, wal.torn_line, wal.torn)
        try:
            self._start_log(meta, wal)
        except OSError as exc:
            raise StoreError(f"{self.wal_path}: cannot write: {exc.strerror or exc}") from None

    def _start_log(self, meta: Mapping[str, Any], wal: _Log) -> None:
        self._snapshot_bytes = self.path.stat().st_size
        if meta.get("format") != FORMAT or not meta.get("generation"):
            self._compact(self._current(self._lsn))  # a file of another format, or written by TinyDB: ours now
        elif wal.current:
            if wal.torn:
                os.ftruncate(self._wal_fd, wal.end)  # the torn line goes; appends follow the last whole one
                os.fsync(self._wal_fd)
            self._wal_end, self._wal_bytes = wal.end, wal.end
        else:
            self._new_wal()  # no log, an empty one, or one the snapshot already holds

    def _rebuild(self, tables: dict[str, list[dict[str, Any]]], meta: Mapping[str, Any], wal: _Log, *,
                 validate: bool) -> None:
        """Memory ← snapshot + log records; with ``validate``, the result is checked as an import would be."""
        _replay(self, self.wal_path, tables, wal, self._validate if validate else None)
        self._generation = str(meta["generation"]) if meta.get("generation") else None
        self._previous = meta.get("previous")
        for _, record in wal.records:
            self._raise_next(record.get("n"))
        self._raise_next(meta.get("next"))
        self._lsn = self._logged = wal.last_seq if wal.current else int(meta.get("seq", 0))

    def _raise_next(self, nexts: Any) -> None:
        """Next ids as logged: an id handed out before a restart is not handed out again."""
        for kind, n in (nexts.items() if isinstance(nexts, dict) else ()):
            if kind in self._next and isinstance(n, int):
                self._next[kind] = max(self._next[kind], n)

    def _read_back(self) -> None:
        """After a failed write: memory ← what is on disk (the log cut back to its durable length first)."""
        if self._wal_end is not None:
            try:
                os.ftruncate(self._wal_fd, self._wal_end)
            except OSError:
                pass  # the partial tail is a torn line for the next start, or overwritten by the next header
        handed_out = dict(self._next)
        try:
            tables, meta = read_snapshot(self.path, self._validate)
            end = self._wal_end
            wal = _Log() if end is None else read_log(self.wal_path, self._read_wal_bytes()[:end], meta, self.path)
            self._rebuild(tables, meta, wal, validate=False)
        except StoreError as exc:
            self._error = StoreError(f"{exc} (while undoing a failed write; restart the server)")
            return
        self._raise_next(handed_out)  # ids handed out stay unused
        if not wal.current:
            self._wal_end = None  # the header of this generation was not written: the next write starts it

    # -- writes --------------------------------------------------------------------------------------------------
    def apply(self, changes: Sequence[Change]) -> None:
        """Apply atomically in memory and queue one WAL record; durable once ``sync()`` returns (docs/behaviour.md
        §13). After a failed write, the record is written first and applied only once it is on disk."""
        with self.lock:
            self._check_open()
            ops = _dumps([_encode(self, c) for c in changes])
            nexts = dict(self._next)
            for c in changes:  # as MemoryStore._put raises them: a new numeric key moves its kind's next id
                key = key_of(c.kind, c.doc) if isinstance(c, Put) else ""
                if key.isascii() and key.isdigit() and key not in self._docs[c.kind]:
                    nexts[c.kind] = max(nexts[c.kind], int(key) + 1)
            line = record_line(self._lsn + 1, ops, ",".join(f'"{k}":{nexts[k]}' for k in {c.kind for c in changes}))
            if self.failure is not None and self._idle():
                _ticket.set((id(self), 0))  # nothing queued: durable when this returns
                self._append_now(line)
                super().apply(changes)
                self._lsn = self._logged = self._lsn + 1
                return
            super().apply(changes)  # after encoding: a change that cannot be logged is not applied either
            self._lsn += 1
            self._enqueue((self._lsn, line))

    def _idle(self) -> bool:
        with self._mutex:
            return not self._pending and self._durable >= self._appended

    def _append_now(self, line: bytes) -> None:
        """Write and fsync one record before it is applied (after a failed write; ``lock`` held, writer idle)."""
        try:
            self._append(line)
        except WriteFailed as exc:
            self.failure = str(exc)
            raise
        self.failure = None

    def _append(self, data: bytes) -> None:
        try:
            if self._wal_end is None:
                self._new_wal()
            assert self._wal_end is not None
            write_all(self._wal_fd, data)
            os.fsync(self._wal_fd)
        except (OSError, StoreError) as exc:
            if self._wal_end is not None:
                try:
                    os.ftruncate(self._wal_fd, self._wal_end)
                except OSError:
                    pass
            if isinstance(exc, StoreError):
                raise WriteFailed(str(exc)) from None  # a new log that could not be opened
            raise WriteFailed(f"{self.wal_path}: write failed: {exc.strerror or exc}") from None
        self._wal_end += len(data)
        self._wal_bytes += len(data)

    def load(self, state: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
        """Replace everything with ``state``; persisted as a new snapshot (reset, PUT state, start-up fixture)."""
        with self.lock:
            self._check_open()
            super().load(state)
            self._enqueue(self._current(self._lsn))

    def _current(self, seq: int) -> _Snapshot:
        """The running state (an O(n) copy of references: stored documents are never changed in place)."""
        with self.lock:
            return _Snapshot({k: list(self._docs[k].values()) for k in KINDS}, dict(self._next), seq)

    def _enqueue(self, item: tuple[int, bytes] | _Snapshot) -> None:
        with self._mutex:
            self._pending.append(item)
            self._appended += 1
            _ticket.set((id(self), self._appended))
            if self._signalled:
                return  # the writer is already due to take the batch this joins
            try:
                loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
            except RuntimeError:
                loop = None
            if loop is None or self._stopping:
                self._signal()
            elif self._kick_loop is not loop:
                self._kick_loop = loop
                loop.call_soon(self._kick)

    def _kick(self) -> None:
        """On the loop, after the requests ready in this iteration: hand the batch they made to the writer."""
        with self._mutex:
            self._kick_loop = None
            if self._pending and not self._signalled:
                self._signal()

    def _signal(self) -> None:
        """Wake the writer (``_mutex`` held). ``_wake`` is locked exactly when ``_signalled`` is false."""
        self._signalled = True
        self._wake.release()

    def _check_open(self) -> None:
        if self._closed or self._stopping:
            raise StoreError(f"{self.path}: store is closed")
        if self._error is not None:
            raise self._error

    async def sync(self) -> None:
        """Wait until every change applied before this call is on disk (group commit, docs/behaviour.md §13)."""
        loop = asyncio.get_running_loop()
        with self._mutex:
            if self._error is not None:
                raise self._error
            owner, mine = _ticket.get((0, 0))
            for after, upto, error in self._undone if owner == id(self) else ():
                if after < mine <= upto:
                    raise error  # undone before this request came to wait for it
            if self._durable >= self._appended:
                return
            # Everything applied so far is in the batch being written, or (if any is still buffered) in the next.
            waiters = self._next_batch if self._pending else self._in_flight
            if self._pending and not self._signalled and self._kick_loop is not loop:
                self._signal()  # buffered by another thread or loop, whose kick may never come
            future: asyncio.Future[None] = loop.create_future()
            waiters.setdefault(loop, []).append(future)
        await future

    def flush(self) -> None:
        """Block until everything applied so far is on disk (for threads without an event loop, and tests)."""
        with self._mutex:
            target = self._appended
            if self._pending and not self._signalled:
                self._signal()  # a kick scheduled on this thread's loop cannot run while it blocks here
            failures = self._failures
            self._durable_cond.wait_for(lambda: self._durable >= target or self._error is not None)
            if self._error is not None:
                raise self._error
            if self._failures != failures:
                raise WriteFailed(self.failure or f"{self.path}: write failed")

    def _run(self) -> None:
        """The writer thread: one write + one fsync per batch of whatever was appended meanwhile."""
        while True:
            self._wake.acquire()  # released once per batch (_signal), or by close()
            with self._mutex:
                self._signalled = False
                batch, self._pending, target = self._pending, [], self._appended
                self._in_flight, self._next_batch = self._next_batch, {}
                stopping = self._stopping
            if not batch:
                if stopping:
                    return  # close() with nothing left to write
                continue
            error: WriteFailed | None = None
            try:
                self._write(batch)
            except WriteFailed as exc:
                error = exc
            except Exception as exc:  # anything else on the way to disk: the same answer, nothing acknowledged
                error = WriteFailed(f"{self.path}: write failed: {exc}")
            if error is not None:
                self._undo(error)
            else:
                self._done(target, None)
                if self._wal_bytes > max(self._compact_min, self._snapshot_bytes):
                    self._compact_running()
            with self._mutex:
                if self._stopping and not self._pending:
                    return

    def _done(self, target: int, error: WriteFailed | None) -> None:
        """Settle every waiter of the batch just written (and, after a failure, of everything queued behind it)."""
        with self._mutex:
            ready, self._in_flight = self._in_flight, {}
            if error is not None:
                for loop, futures in self._next_batch.items():  # applied on top of the failed batch: undone too
                    ready.setdefault(loop, []).extend(futures)
                self._next_batch = {}
                self._failures += 1
                self._undone = [*self._undone[-63:], (self._durable, target, error)]
            self._durable = max(self._durable, target)
            self._durable_cond.notify_all()
        for loop, futures in ready.items():
            try:
                loop.call_soon_threadsafe(_settle, futures, error)
            except RuntimeError:  # that loop is closed: nobody is waiting any more
                pass

    def _undo(self, error: WriteFailed) -> None:
        """A batch the disk refused: drop it and everything queued behind it, read the state back from disk, and
        answer every waiter with the error (docs/behaviour.md §13: a refused write is not applied)."""
        log.error("%s", error)
        with self.lock:
            with self._mutex:
                self._pending = []
                target = self._appended
            self._read_back()
            self.failure = str(error)
            self._done(target, error)  # under ``lock``: no change set can slip in between and be failed with them

    def _write(self, batch: list[tuple[int, bytes] | _Snapshot]) -> None:
        last = max((i for i, item in enumerate(batch) if isinstance(item, _Snapshot)), default=-1)
        if last < 0 and self._generation is None:
            top = max(item[0] for item in batch if isinstance(item, tuple))
            self._compact(self._current(top))  # a fresh file written to without a load(): it holds this batch
            return
        if last >= 0:
            snapshot = batch[last]
            assert isinstance(snapshot, _Snapshot)
            self._compact(snapshot)
        records = [item for item in batch[last + 1:] if isinstance(item, tuple)]
        if records:
            self._append(b"".join(line for _, line in records))
            self._logged = records[-1][0]
        self.failure = None

    def _compact_running(self) -> None:
        """The log has grown past the snapshot: snapshot the running state, and the change sets queued meanwhile
        with it (they are in it: they are not logged again, and their waiters are settled by this snapshot)."""
        with self.lock:
            with self._mutex:
                if any(isinstance(item, _Snapshot) for item in self._pending):
                    return  # a load() is queued: it snapshots anyway
                snapshot = _Snapshot({k: list(self._docs[k].values()) for k in KINDS}, dict(self._next), self._lsn)
                self._pending = []
                target = self._appended
                self._in_flight, self._next_batch = self._next_batch, {}
        try:
            self._compact(snapshot)
        except WriteFailed as exc:
            self._undo(exc)
            return
        self._done(target, None)

    def _compact(self, snapshot: _Snapshot) -> None:
        """Snapshot to a temp file, fsync, rename over PATH.json, fsync the directory, then start a new WAL."""
        generation = uuid.uuid4().hex
        tmp = Path(f"{self.path}.tmp")
        crc = 0
        try:
            with open(tmp, "wb") as out:

                def put(text: str) -> None:
                    nonlocal crc
                    data = text.encode()
                    crc = zlib.crc32(data, crc)
                    out.write(data)

                out.write(b"{")
                for n, kind in enumerate(KINDS):
                    put(f'{"," if n else ""}"{kind}":{{')
                    docs = snapshot.tables.get(kind, ())
                    for start in range(0, len(docs), 1000):  # in slices: no whole-kind string in memory
                        chunk = enumerate(docs[start:start + 1000], start + 1)
                        put(("," if start else "") + ",".join(f'"{i}":{_dumps(unpack(doc))}' for i, doc in chunk))
                    put("}")
                meta = {"format": FORMAT, "generation": generation, "previous": self._generation,
                        "seq": snapshot.seq, "next": dict(snapshot.next), "crc": crc}
                out.write(_META_MARK + _dumps(meta).encode() + b"}}\n")
                out.flush()
                os.fsync(out.fileno())
                size = out.tell()
            os.replace(tmp, self.path)
        except OSError as exc:
            try:
                tmp.unlink(missing_ok=True)
            except OSError:
                pass
            raise WriteFailed(f"{tmp}: cannot write the snapshot: {exc.strerror or exc}") from None
        self._snapshot_bytes = size
        fsync_dir(self.path.parent)
        self._previous, self._generation = self._generation, generation
        self._logged = snapshot.seq
        self.loaded_from_disk = True
        self._wal_end = None
        try:
            self._new_wal()
        except (OSError, StoreError) as exc:
            # The snapshot is in place and holds everything: this change is durable. The next write starts the log
            # (and is refused, 507, if it cannot); until then the old log, of the previous generation, is stale.
            log.warning("%s: cannot start the log yet: %s", self.wal_path, getattr(exc, "strerror", None) or exc)

    def _new_wal(self) -> None:
        """Start the log of the current generation: written aside, fsynced, renamed over the old one (atomic: a log
        is never empty nor headless on disk, so an empty or headless one is damage, docs/behaviour.md §13)."""
        fd = self._wal_fd if self._wal_is_new else self._locked(self._new_log, create=True)
        header = header_line(str(self._generation), self._logged)
        try:
            os.ftruncate(fd, 0)
            write_all(fd, header)
            os.fsync(fd)
            os.replace(self._new_log, self.wal_path)
        except OSError:
            if fd != self._wal_fd:
                os.close(fd)
            raise
        fsync_dir(self.path.parent)
        if fd != self._wal_fd:
            os.close(self._wal_fd)  # the old log (unlinked by the rename): its lock goes with it
        self._wal_fd, self._wal_is_new = fd, False
        self._wal_end = len(header)
        self._wal_bytes = 0

    def close(self) -> None:
        """Flush, compact into ``PATH.json`` and remove the WAL: the file alone is then the store (docs/behaviour.md
        §13). If that last snapshot cannot be written, the log stays: the next start reads it."""
        with self._mutex:
            if self._closed or self._stopping:
                return
            self._stopping = True  # from now on _enqueue() (a racing apply) signals at once
            if not self._signalled:
                self._signal()  # the writer takes what is buffered, or finds nothing and stops
        self._writer.join()
        try:
            if self._error is None:
                with self.lock:
                    if self._wal_bytes or self._generation is None or self._wal_end is None:
                        self._compact(self._current(self._lsn))
                    self.wal_path.unlink(missing_ok=True)
                    fsync_dir(self.path.parent)
        except (OSError, StoreError) as exc:
            log.error("%s (the log is kept: the next start reads it)", exc)
        finally:
            self._closed = True
            if self._wal_is_new:
                self._new_log.unlink(missing_ok=True)
            os.close(self._wal_fd)


def check_store(path: str | os.PathLike[str], validate: Validator) -> str:
    """``mockscim store check PATH``: verify a store offline, writing nothing; one line saying what it holds, or
    :class:`StoreError` with the one line naming the file, the line and the fault."""
    snapshot = Path(path)
    wal_path = Path(f"{snapshot}.wal")
    if not snapshot.exists():
        if wal_path.exists() and wal_path.stat().st_size:
            raise _orphan(wal_path, snapshot)
        raise StoreError(f"{snapshot}: no such file")
    tables, meta = read_snapshot(snapshot, validate)
    wal = read_log(wal_path, wal_path.read_bytes(), meta, snapshot) if wal_path.exists() else _Log()
    memory = MemoryStore()
    _replay(memory, wal_path, tables, wal, validate)
    counts = ", ".join(f"{memory.count(k)} {k}" for k in KINDS if memory.count(k))
    torn = f"; a torn final record ({wal.torn} bytes, never acknowledged) would be dropped" if wal.torn else ""
    return f"{snapshot}: ok ({counts or 'empty'}; {len(wal.records)} log records to replay{torn})"


_dumps = json.JSONEncoder(separators=(",", ":"), check_circular=False).encode
"""Compact JSON, made once (``json.dumps`` with arguments builds an encoder per call). Stored documents come from
JSON and hold no cycles; a value JSON cannot hold still raises ``TypeError``."""


def _settle(futures: list[asyncio.Future[None]], error: StoreError | None) -> None:
    """On the waiters' loop: wake every ``sync()`` of one batch (a cancelled request's future is already done)."""
    for future in futures:
        if future.done():
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)


__all__ = ["DurableStore", "StoreError", "WriteFailed", "check_store"]
