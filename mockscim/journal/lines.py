"""The stderr log lines of ``serve`` (docs/behaviour.md §12): handed over in O(1), built and written off the loop."""

from __future__ import annotations

import json
import logging
import os
import select
import threading
import time
from collections.abc import Callable
from typing import Any

FLUSH_SECONDS = 0.1
"""A line handed over is written within this many seconds (sooner when many are waiting)."""

BOUND = 4096
"""Lines that may wait to be written; a line beyond them is dropped and counted."""

HURRY = 256
"""Waiting lines that wake the writer before :data:`FLUSH_SECONDS` is up."""


class Clock:
    """``iso_utc_epoch`` (mockscim/util/timefmt.py) with a cache of its own: the module's cache is the event loop's,
    and a second thread filling it could hand the loop another second's text. Use one per thread."""

    def __init__(self) -> None:
        self._second = -1
        self._text = ""

    def stamp(self, moment: float | None = None) -> str:
        """``moment`` (now when omitted) as ``2026-11-28T21:16:55.123Z``."""
        if moment is None:
            moment = time.time()
        second = int(moment)
        if second != self._second:
            self._text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = second
        return f"{self._text}.{int((moment - second) * 1000):03d}Z"


def dropped_line(count: int, stamp: str) -> str:
    """The JSON line that reports ``count`` lines dropped because the output was not being read."""
    return json.dumps({"time": stamp, "droppedLines": count,
                       "detail": f"{count} log lines dropped: stderr was not being read"}, separators=(",", ":"))


_Deferred = tuple[Callable[[Any, Any], str], Any, Any]
"""A line to build on the writer's thread: ``(render, a, b)`` becomes ``render(a, b)``."""


class LineWriter:
    """Lines from any thread, built if need be and written to the file descriptor ``fd`` in order, by one thread of
    its own.

    :meth:`write` and :meth:`write_deferred` only append to a list, so a request never waits for a slow terminal
    and a blocked one (paused, or a full pipe nobody drains) never stalls it. A deferred line is built on the
    writer's thread, a batch at a time. At most :data:`BOUND` lines wait; a line beyond them is dropped (never
    built), and once the output takes lines again the count is written where they went missing
    (:func:`dropped_line`). :meth:`close` writes what is waiting. Lines are written whole, by this thread alone, so
    they never interleave.
    """

    def __init__(self, fd: int, *, bound: int = BOUND, interval: float = FLUSH_SECONDS, hurry: int = HURRY) -> None:
        self.fd = fd
        self.bound = bound
        self.interval = interval
        self.hurry = hurry
        self.dropped = 0
        """Lines dropped so far: too many waited, the writer was closed, a line failed to build, or the output
        failed."""
        self.written = 0
        """Lines written so far (the dropped-count lines included)."""
        self._clock = Clock()
        self._lock = threading.Lock()
        self._lines: list[str | _Deferred] = []
        self._missing = 0  # dropped since the last batch: reported after it
        self._closed = False
        self._waiting = threading.Event()  # lines wait, or closing
        self._now = threading.Event()  # write without waiting for the interval: many wait, or closing
        self._thread = threading.Thread(target=self._run, name="mockscim-log-lines", daemon=True)
        self._thread.start()

    def write(self, line: str) -> None:
        """Queue ``line`` (without its newline); never blocks on the output, never raises."""
        self._queue(line)

    def write_deferred(self, render: Callable[[Any, Any], str], a: Any, b: Any) -> None:
        """Queue the line ``render(a, b)``, built on the writer's thread (cache-warm, a batch at a time) or never
        when it is dropped. ``render`` must be safe to call from that thread."""
        self._queue((render, a, b))

    def _queue(self, item: str | _Deferred) -> None:
        with self._lock:
            waiting = len(self._lines)
            if waiting >= self.bound or self._closed:
                self.dropped += 1
                if not self._closed:
                    self._missing += 1
                return
            self._lines.append(item)
            if not waiting:
                self._waiting.set()
            elif waiting + 1 == self.hurry:
                self._now.set()

    def close(self, timeout: float = 5.0) -> bool:
        """Write what is waiting and stop; False when the output stayed blocked for ``timeout`` seconds (what still
        waited is then lost: the process is ending)."""
        with self._lock:
            self._closed = True
            self._waiting.set()
            self._now.set()
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        while True:
            self._waiting.wait()
            self._now.wait(self.interval)
            with self._lock:
                batch, missing, closed = self._lines, self._missing, self._closed
                self._lines, self._missing = [], 0
                self._waiting.clear()
                self._now.clear()
            lines = self._build(batch)
            if missing:
                lines.append(dropped_line(missing, self._clock.stamp()))
            if lines:
                self._write(lines)
            if closed:  # nothing is accepted once closed: this was the last batch
                return

    def _build(self, batch: list[str | _Deferred]) -> list[str]:
        lines: list[str] = []
        for item in batch:
            if isinstance(item, str):
                lines.append(item)
                continue
            try:
                lines.append(item[0](item[1], item[2]))
            except Exception:  # a line that cannot be built is lost, not the writer
                with self._lock:
                    self.dropped += 1
        return lines

    def _write(self, lines: list[str]) -> None:
        data = memoryview(("\n".join(lines) + "\n").encode("utf-8", "backslashreplace"))
        while data:
            try:
                data = data[os.write(self.fd, data):]  # blocks while the reader is slow: only this thread waits
            except BlockingIOError:  # a stderr made non-blocking by whoever shares it: wait as a blocking one would
                select.select([], [self.fd], [])
            except OSError:  # stderr closed (EPIPE, EBADF): there is no one left to tell
                with self._lock:
                    self.dropped += len(lines)
                return
        with self._lock:
            self.written += len(lines)


class LineHandler(logging.Handler):
    """A logging handler that hands each formatted record to a :class:`LineWriter`, so that every stderr line of
    the process goes through the same writer and none blocks the event loop."""

    def __init__(self, writer: LineWriter, level: int = logging.NOTSET) -> None:
        super().__init__(level)
        self.writer = writer

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.writer.write(self.format(record))
        except Exception:
            self.handleError(record)
