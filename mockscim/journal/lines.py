"""The stderr log lines of ``serve`` (docs/behaviour.md §12): handed over in O(1), written off the event loop."""

from __future__ import annotations

import json
import logging
import os
import select
import threading

from mockscim.util.timefmt import iso_utc_epoch

FLUSH_SECONDS = 0.1
"""A line handed over is written within this many seconds (sooner when a lot is waiting)."""

BOUND = 1 << 20
"""Characters of lines that may wait to be written; a line that would go past it is dropped and counted."""

HURRY = 64 << 10
"""Waiting characters that wake the writer before :data:`FLUSH_SECONDS` is up (one pipe's worth)."""


def dropped_line(count: int, at: float | None = None) -> str:
    """The JSON line that reports ``count`` lines dropped because the output was not being read."""
    return json.dumps({"time": iso_utc_epoch(at), "droppedLines": count,
                       "detail": f"{count} log lines dropped: stderr was not being read"}, separators=(",", ":"))


class LineWriter:
    """Lines from any thread, written to the file descriptor ``fd`` in order by one thread of its own.

    :meth:`write` only appends to a buffer, so a request never waits for a slow terminal and a blocked one (paused,
    or a full pipe nobody drains) never stalls it. At most :data:`BOUND` characters wait; a line beyond that is
    dropped, and once the output takes lines again the count is written where they were missing
    (:func:`dropped_line`). :meth:`close` writes what is waiting. Each line is written whole, by this thread alone,
    so lines never interleave.
    """

    def __init__(self, fd: int, *, bound: int = BOUND, interval: float = FLUSH_SECONDS, hurry: int = HURRY) -> None:
        self.fd = fd
        self.bound = bound
        self.interval = interval
        self.hurry = hurry
        self.dropped = 0
        """Lines dropped so far: the buffer was full, the writer closed, or the output failed."""
        self.written = 0
        """Lines written so far (the dropped-count lines included)."""
        self._lock = threading.Lock()
        self._lines: list[str] = []
        self._size = 0
        self._missing = 0  # dropped since the last batch: reported after it
        self._hurried = False
        self._closed = False
        self._waiting = threading.Event()  # lines wait, or closing
        self._now = threading.Event()  # write without waiting for the interval: a lot waits, or closing
        self._thread = threading.Thread(target=self._run, name="mockscim-log-lines", daemon=True)
        self._thread.start()

    def write(self, line: str) -> None:
        """Queue ``line`` (without its newline); never blocks on the output, never raises."""
        with self._lock:
            size = self._size + len(line) + 1
            if size > self.bound or self._closed:
                self.dropped += 1
                if not self._closed:
                    self._missing += 1
                return
            if not self._lines:
                self._waiting.set()
            self._lines.append(line)
            self._size = size
            if size >= self.hurry and not self._hurried:
                self._hurried = True
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
                lines, missing, closed = self._lines, self._missing, self._closed
                self._lines, self._size, self._missing, self._hurried = [], 0, 0, False
                self._waiting.clear()
                self._now.clear()
            if missing:
                lines.append(dropped_line(missing))
            if lines:
                self._write(lines)
            if closed:  # nothing is accepted once closed: this was the last batch
                return

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
