"""The durable store (docs/behaviour.md §13): memory reads plus a group-committed write-ahead log beside a TinyDB file.

``PATH.json`` is a TinyDB file (one table per kind, plus ``_mockscim``: format, generation, next ids); ``PATH.json.wal``
is a generation header, then one JSON line per ``apply()`` change set, so a cascade is atomic on disk and a torn tail
(never acknowledged) is dropped at recovery. ``apply()`` only encodes the change set and appends it to a buffer; a
writer thread, woken once per batch, writes everything buffered with one ``os.write`` and one ``os.fsync``, then wakes
each event loop waiting on that batch once; ``await sync()`` (before every 2xx) waits for it: one fsync and one
cross-thread wake serve many requests, and no write rewrites the file. Snapshots (``load()``, start-up, clean
``close()``, a log grown past the snapshot) go temp file, fsync, rename, fsync dir, then a new WAL generation: a WAL
of another generation is stale and ignored. A corrupt or foreign file raises ``StoreError`` before anything is
written. The full design: docs/store.md.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mockscim.store import KINDS, Change, Delete, Put
from mockscim.store.files import fsync_dir, parse_line, well_formed, write_all
from mockscim.store.memory import MemoryStore, Stored, unpack

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory lock
    fcntl = None  # type: ignore[assignment]

META = "_mockscim"
FORMAT = 1
COMPACT_MIN_BYTES = 32 * 1024 * 1024

_Waiters = dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]]


class StoreError(RuntimeError):
    """A store file that cannot be used (corrupt, foreign, locked) or a failed write; the message names the file."""


@dataclass(frozen=True)
class _Snapshot:
    """A whole state to write as ``PATH.json`` (``load()``, or compaction of the running state)."""

    tables: Mapping[str, Sequence[Stored]]
    next: Mapping[str, int]


Validator = Callable[[dict[str, list[dict[str, Any]]]], dict[str, list[dict[str, Any]]]]
"""Checks the tables read from disk as a whole state and returns them in stored form; raises ``ValueError`` naming
the bad entry (``mockscim.core.check_stored_state``)."""


class DurableStore(MemoryStore):
    """``--store PATH.json``: the memory store's indexes and reads, with every change set on disk before ``sync()``."""

    def __init__(self, path: str | os.PathLike[str], *, validate: Validator,
                 compact_min_bytes: int = COMPACT_MIN_BYTES) -> None:
        super().__init__()
        self.path = Path(path)
        self._validate = validate
        self.wal_path = Path(f"{self.path}.wal")
        self._compact_min = compact_min_bytes
        # ``_mutex`` guards the write queue below and is never held across I/O. ``_wake`` is a binary semaphore the
        # writer thread sleeps on: released (``_signalled``) at most once per batch, so however many change sets a
        # batch holds the writer is woken once. On an event loop the release is deferred to a ``call_soon`` (the
        # ``_kick_loop``): the batch then takes every request that loop runs in this iteration, and the writer
        # does not wake to fight the loop's thread for the GIL while it is still busy with them.
        self._mutex = threading.Lock()
        self._durable_cond = threading.Condition(self._mutex)  # flush(): a batch is on disk
        self._wake = threading.Lock()
        self._wake.acquire()
        self._signalled = False
        self._kick_loop: asyncio.AbstractEventLoop | None = None
        self._pending: list[bytes | _Snapshot] = []
        self._appended = self._durable = 0
        # sync() futures, per event loop: those settled when the batch now being written is on disk, and those
        # settled by the batch after it (the one that will take ``_pending``). One call_soon_threadsafe per loop
        # per batch; one future per request, so a cancelled request cancels nobody else's wait.
        self._in_flight: _Waiters = {}
        self._next_batch: _Waiters = {}
        self._error: StoreError | None = None
        self._stopping = self._closed = False
        self._generation: str | None = None
        self._wal_bytes = self._snapshot_bytes = 0
        self.loaded_from_disk = self.path.exists()
        self._wal_fd = self._open_wal() if self.wal_path.exists() else -1
        try:
            self._recover()
        except BaseException:
            if self._wal_fd >= 0:
                os.close(self._wal_fd)
            raise
        self._writer = threading.Thread(target=self._run, name=f"mockscim-store {self.path.name}", daemon=True)
        self._writer.start()

    # -- start-up (docs/behaviour.md §13: a file that does not load stops the start, untouched) ------------------------
    def _open_wal(self) -> int:
        try:
            fd = os.open(self.wal_path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        except OSError as exc:
            raise StoreError(f"{self.path}: cannot open its log {self.wal_path}: {exc.strerror}") from None
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                raise StoreError(f"{self.path}: in use by another mockscim server (lock on {self.wal_path})") from None
        return fd

    def _recover(self) -> None:
        if not self.loaded_from_disk:
            if self._wal_fd < 0:
                self._wal_fd = self._open_wal()
            return  # created by the first load() (the fixture), which is a snapshot
        tables, meta = self._read_snapshot()
        records = self._read_wal(meta.get("generation")) if self._wal_fd >= 0 else []
        if self._wal_fd < 0:
            self._wal_fd = self._open_wal()
        MemoryStore.load(self, tables)
        for record in records:
            self._replay(record)
        self._raise_next(meta.get("next"))
        if records or not meta.get("generation"):
            self._compact(self._current())
        else:
            self._generation = str(meta["generation"])
            self._snapshot_bytes = self.path.stat().st_size
            self._new_wal()

    def _read_snapshot(self) -> tuple[dict[str, list[dict[str, Any]]], dict[str, Any]]:
        hint = f"{self.path}: not a mockscim store"
        try:
            raw = self.path.read_bytes()
            data = json.loads(raw)
        except OSError as exc:
            raise StoreError(f"{self.path}: cannot read: {exc.strerror}") from None
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
        state = {kind: list(data.get(kind, {}).values()) for kind in KINDS}
        try:
            tables = self._validate(state)  # the store keeps tables; whether they are a valid state, the core says
        except ValueError as exc:
            raise StoreError(f"{hint}: {exc}") from None
        return tables, meta

    def _read_wal(self, generation: Any) -> list[dict[str, Any]]:
        """The complete records of a WAL of ``generation``; a torn or zero-filled tail is dropped (never acked)."""
        os.lseek(self._wal_fd, 0, os.SEEK_SET)
        chunks = []
        while chunk := os.read(self._wal_fd, 1 << 20):
            chunks.append(chunk)
        lines = b"".join(chunks).split(b"\n")[:-1]  # the part after the last newline is torn
        header = parse_line(lines[0]) if lines else None
        if header is None or not generation or header.get("generation") != generation:
            return []  # empty, torn at its header, or older than the snapshot (which already holds it)
        records: list[dict[str, Any]] = []
        bad = 0
        for number, line in enumerate(lines[1:], start=2):
            record = parse_line(line)
            if record is None or not well_formed(record):
                bad = bad or number
            elif bad:
                raise StoreError(f"{self.wal_path}: corrupt record at line {bad} (valid records follow it)")
            else:
                records.append(record)
        return records

    def _replay(self, record: Mapping[str, Any]) -> None:
        MemoryStore.apply(self, [Put(k, v) if op == "P" else Delete(k, v) for op, k, v in record["c"]])
        self._raise_next(record.get("n"))

    def _raise_next(self, nexts: Any) -> None:
        """Next ids as logged: an id handed out before a restart is not handed out again."""
        for kind, n in (nexts.items() if isinstance(nexts, dict) else ()):
            if kind in self._next and isinstance(n, int):
                self._next[kind] = max(self._next[kind], n)

    # -- writes --------------------------------------------------------------------------------------------------
    def apply(self, changes: Sequence[Change]) -> None:
        """Apply atomically in memory and queue one WAL record; durable once ``sync()`` returns (docs/behaviour.md
        §13)."""
        with self.lock:
            self._check_open()
            ops = _dumps([["P", c.kind, c.doc] if isinstance(c, Put) else ["D", c.kind, c.id] for c in changes])
            super().apply(changes)  # after encoding: a change that cannot be logged is not applied either
            nexts = ",".join(f'"{k}":{self._next[k]}' for k in {c.kind for c in changes})  # kinds: plain names
            self._enqueue(f'{{"c":{ops},"n":{{{nexts}}}}}\n'.encode())

    def load(self, state: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
        """Replace everything with ``state``; persisted as a new snapshot (reset, PUT state, start-up fixture)."""
        with self.lock:
            self._check_open()
            super().load(state)
            self._enqueue(self._current())

    def _current(self) -> _Snapshot:
        """The running state (an O(n) copy of references: stored documents are never changed in place)."""
        with self.lock:
            return _Snapshot({k: list(self._docs[k].values()) for k in KINDS}, dict(self._next))

    def _enqueue(self, item: bytes | _Snapshot) -> None:
        with self._mutex:
            self._pending.append(item)
            self._appended += 1
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
            self._durable_cond.wait_for(lambda: self._durable >= target or self._error is not None)
            if self._error is not None:
                raise self._error

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
            error: StoreError | None = None
            try:
                self._write(batch)
            except Exception as exc:  # disk full, I/O error…: no 2xx for these changes, and none after
                error = StoreError(f"{self.path}: write failed: {exc}")
            with self._mutex:
                ready, self._in_flight = self._in_flight, {}
                if error is None:
                    self._durable = target
                else:
                    self._error = self._error or error
                    for loop, futures in self._next_batch.items():  # never to be written
                        ready.setdefault(loop, []).extend(futures)
                    self._next_batch = {}
                self._durable_cond.notify_all()
                done = error is not None or (self._stopping and not self._pending)
            for loop, futures in ready.items():
                try:
                    loop.call_soon_threadsafe(_settle, futures, error)
                except RuntimeError:  # that loop is closed: nobody is waiting any more
                    pass
            if done:
                return

    def _write(self, batch: list[bytes | _Snapshot]) -> None:
        last = max((i for i, item in enumerate(batch) if isinstance(item, _Snapshot)), default=-1)
        if last < 0 and self._generation is None:
            self._compact(self._current())  # a fresh file written to without a load(): it holds this batch
            return
        if last >= 0:
            snapshot = batch[last]
            assert isinstance(snapshot, _Snapshot)
            self._compact(snapshot)
        data = b"".join(item for item in batch[last + 1:] if isinstance(item, bytes))
        if data:
            write_all(self._wal_fd, data)
            os.fsync(self._wal_fd)
            self._wal_bytes += len(data)
        if self._wal_bytes > max(self._compact_min, self._snapshot_bytes):
            # Records still pending are both in this snapshot and re-logged after it: replaying a Put or Delete
            # onto a state that already holds it gives the same state, so the overlap is harmless.
            self._compact(self._current())

    def _compact(self, snapshot: _Snapshot) -> None:
        """Snapshot to a temp file, fsync, rename over PATH.json, fsync the directory, then start a new WAL."""
        generation = uuid.uuid4().hex
        tmp = Path(f"{self.path}.tmp")
        meta = {"format": FORMAT, "generation": generation, "next": dict(snapshot.next)}
        with open(tmp, "w", encoding="utf-8") as out:
            out.write(f'{{"{META}":{{"1":{_dumps(meta)}}}')
            for kind in KINDS:
                out.write(f',"{kind}":{{')
                docs = snapshot.tables.get(kind, ())
                for start in range(0, len(docs), 1000):  # in slices: no whole-kind string in memory
                    out.write(("," if start else "") + ",".join(
                        f'"{i}":{_dumps(unpack(doc))}' for i, doc in enumerate(docs[start:start + 1000], start + 1)))
                out.write("}")
            out.write("}\n")
            out.flush()
            os.fsync(out.fileno())
            self._snapshot_bytes = out.tell()
        os.replace(tmp, self.path)
        fsync_dir(self.path.parent)
        self._generation = generation
        self.loaded_from_disk = True
        self._new_wal()

    def _new_wal(self) -> None:
        os.ftruncate(self._wal_fd, 0)
        header = json.dumps({"generation": self._generation}).encode() + b"\n"
        write_all(self._wal_fd, header)
        os.fsync(self._wal_fd)
        self._wal_bytes = 0

    def close(self) -> None:
        """Flush, compact into ``PATH.json`` and remove the WAL: the file alone is then the store (docs/behaviour.md
        §13)."""
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
                    if self._wal_bytes or self._generation is None:
                        self._compact(self._current())
                    self.wal_path.unlink(missing_ok=True)
                    fsync_dir(self.path.parent)
        finally:
            self._closed = True
            os.close(self._wal_fd)


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


__all__ = ["DurableStore", "StoreError"]
