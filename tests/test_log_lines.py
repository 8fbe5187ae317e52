"""The stderr log lines of ``serve`` (docs/behaviour.md §12, docs/performance.md "Log lines"): off the event loop,
complete JSON, bounded when stderr is not read."""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import IO, Any

import httpx
import pytest

from mockscim.journal import KEYS
from mockscim.journal.lines import FLUSH_SECONDS, LineWriter
from tests.helpers import AUTH, free_port, wait_healthy

pytestmark = pytest.mark.skipif(os.name != "posix", reason="pipes and signals as on POSIX")

MOCKSCIM = [sys.executable, "-m", "mockscim"]


# ------------------------------------------------------------------------------------------------ the writer


def read_until(fd: int, want: bytes, timeout: float) -> bytes:
    """What ``fd`` gives until ``want`` is in it or ``timeout`` seconds pass."""
    got = b""
    deadline = time.monotonic() + timeout
    while want not in got and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if ready:
            got += os.read(fd, 1 << 16)
    return got


def test_a_line_is_written_within_the_flush_interval() -> None:
    """A lone line reaches the output within 100 ms (plus scheduling slack), with no further write to push it."""
    r, w = os.pipe()
    writer = LineWriter(w)
    try:
        assert FLUSH_SECONDS <= 0.1
        for _ in range(3):
            start = time.monotonic()
            writer.write('{"n":1}')
            assert read_until(r, b"\n", 2.0) == b'{"n":1}\n'
            assert time.monotonic() - start < FLUSH_SECONDS + 0.15
    finally:
        assert writer.close()
        os.close(r)
        os.close(w)


def test_close_writes_everything_waiting() -> None:
    """A clean stop loses nothing: what waits is written by close(), in order."""
    r, w = os.pipe()
    writer = LineWriter(w, interval=60.0)  # nothing would be written before close
    for n in range(100):
        writer.write(json.dumps({"n": n}))
    assert writer.close()
    os.close(w)
    with os.fdopen(r, "rb") as out:
        assert [json.loads(line)["n"] for line in out.read().splitlines()] == list(range(100))
    assert (writer.written, writer.dropped) == (100, 0)


def test_an_unread_output_drops_lines_beyond_the_bound_and_counts_them() -> None:
    """With nobody reading, write() still returns at once; past the bound lines are dropped, and once the output is
    read again a line reports how many, where they were missing."""
    r, w = os.pipe()
    writer = LineWriter(w, bound=256)
    start = time.monotonic()
    for n in range(2000):  # ~2 MB: the 64 KiB pipe many times over, the bound many times over
        writer.write(json.dumps({"n": n, "pad": "x" * 1000}))
    assert time.monotonic() - start < 1.0
    assert writer.dropped > 1000
    with os.fdopen(r, "rb") as pipe:
        out: list[bytes] = []
        reader = drain(pipe, out)  # read again: the writer gets through
        assert writer.close()
        os.close(w)
        reader.join(10)
    lines = [json.loads(text) for text in out]
    expected = 0  # each report stands exactly where its lines went missing, and accounts for all of them
    for obj in lines:
        if "droppedLines" in obj:
            assert obj["detail"] == f"{obj['droppedLines']} log lines dropped: stderr was not being read"
            expected += obj["droppedLines"]
        else:
            assert obj["n"] == expected
            expected += 1
    assert expected == 2000
    assert lines[0]["n"] == 0 and 2000 - writer.dropped >= 256  # the oldest kept, a bound's worth at least


def test_deferred_lines_are_built_on_the_writer_thread_in_order() -> None:
    """write_deferred builds the line on the writer's thread; a line that fails to build is counted, not fatal."""
    r, w = os.pipe()
    writer = LineWriter(w)
    threads: set[str] = set()

    def render(n: int, text: str) -> str:
        threads.add(threading.current_thread().name)
        if n == 2:
            raise ValueError("cannot build")
        return json.dumps({"n": n, "text": text})

    writer.write('{"n":0}')
    for n in (1, 2, 3):
        writer.write_deferred(render, n, f"line {n}")
    assert writer.close()
    os.close(w)
    with os.fdopen(r, "rb") as out:
        assert [json.loads(line)["n"] for line in out.read().splitlines()] == [0, 1, 3]
    assert threads == {"mockscim-log-lines"} and (writer.written, writer.dropped) == (3, 1)


def test_the_writer_clock_formats_as_iso_utc_epoch() -> None:
    """The writer thread's clock (its own cache) writes what the event loop's iso_utc_epoch writes."""
    from mockscim.journal.lines import Clock
    from mockscim.util.timefmt import iso_utc_epoch

    clock = Clock()
    for t in (0.0, 1764366000.123, 1764366000.999, 1764366001.0, 1764366001.5, 1764366000.5, 1893456000.001):
        assert clock.stamp(t) == iso_utc_epoch(t)


def test_a_non_blocking_output_still_gets_whole_lines() -> None:
    """A stderr someone made non-blocking (O_NONBLOCK on a shared pipe) fills up like a blocking one: the writer
    waits for room instead of cutting a line."""
    import fcntl

    r, w = os.pipe()
    fcntl.fcntl(w, fcntl.F_SETFL, fcntl.fcntl(w, fcntl.F_GETFL) | os.O_NONBLOCK)
    writer = LineWriter(w)
    for n in range(300):  # ~300 KB: the pipe four times over
        writer.write(json.dumps({"n": n, "pad": "y" * 1000}))
    time.sleep(0.3)  # the writer meets a full pipe
    with os.fdopen(r, "rb") as pipe:
        out: list[bytes] = []
        reader = drain(pipe, out)
        assert writer.close()
        os.close(w)
        reader.join(10)
    assert [json.loads(line)["n"] for line in out] == list(range(300))
    assert (writer.written, writer.dropped) == (300, 0)


# ------------------------------------------------------------------------------------------------ `serve`


@contextmanager
def serve(*args: str, stderr: int | IO[bytes] = subprocess.PIPE) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``mockscim serve`` at the default log level (info) unless ``args`` say otherwise; yields its URL once it
    answers; killed at the end if still running."""
    port = free_port()
    proc = subprocess.Popen([*MOCKSCIM, "serve", "--port", str(port), *args], stdout=subprocess.DEVNULL,
                            stderr=stderr, stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc, 15)
        yield url, proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)


def fire(url: str, requests: int, workers: int, agent: Any) -> tuple[list[str], float]:
    """``requests`` GETs from ``workers`` threads, each on a keep-alive connection of its own (plain sockets: an
    HTTP client library would be the bottleneck); ``agent(n)`` is request n's User-Agent. Returns the
    X-Request-Ids answered with 200 and the slowest request's seconds."""
    ids: list[str] = []
    slowest = [0.0]
    lock = threading.Lock()
    port = int(url.rpartition(":")[2])

    def work(k: int) -> None:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock, sock.makefile("rb") as answers:
            for n in range(k, requests, workers):
                start = time.monotonic()
                sock.sendall(f"GET /scim/v2/Users?count=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: "
                             f"{AUTH['Authorization']}\r\nUser-Agent: {agent(n)}\r\n\r\n".encode("latin-1"))
                status = answers.readline()
                headers: dict[bytes, bytes] = {}
                while (line := answers.readline()) not in (b"\r\n", b""):
                    name, _, value = line.partition(b":")
                    headers[name.strip().lower()] = value.strip()
                body = answers.read(int(headers[b"content-length"]))
                took = time.monotonic() - start
                assert status.split()[1] == b"200", body
                with lock:
                    ids.append(headers[b"x-request-id"].decode())
                    slowest[0] = max(slowest[0], took)

    with ThreadPoolExecutor(workers) as pool:
        for future in [pool.submit(work, k) for k in range(workers)]:
            future.result()
    return ids, slowest[0]


def drain(stream: IO[bytes], into: list[bytes]) -> threading.Thread:
    """A thread appending each line of ``stream`` to ``into`` as it comes, until end of file."""

    def read() -> None:
        for line in stream:
            into.append(line)

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread


def split(lines: list[bytes]) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    """Stderr lines as (journal entries, dropped-count reports, other lines); a line that starts like JSON must be
    complete JSON."""
    entries: list[dict[str, Any]] = []
    reports: list[dict[str, Any]] = []
    other: list[str] = []
    for raw in lines:
        text = raw.decode("utf-8")
        if text.startswith("{"):
            obj = json.loads(text)  # a cut or interleaved line fails here
            (reports if "droppedLines" in obj else entries).append(obj)
        else:
            other.append(text)
    return entries, reports, other


def test_a_stderr_nobody_reads_does_not_stop_the_server() -> None:
    """stderr is a pipe nobody drains: 8,000 requests whose log lines fill the 64 KiB pipe ~280 times over (and the
    writer's 4,096 waiting lines) all answer promptly. Once drained, the lines kept plus the dropped count reported
    account for every request."""
    agent = "blocked-stderr " + "a" * 2000  # ~2.3 KB per log line
    with serve() as (url, proc):
        started = time.monotonic()
        ids, slowest = fire(url, 8000, 8, lambda n: agent)
        assert len(ids) == 8000
        assert slowest < 2.0 and time.monotonic() - started < 60
        assert httpx.get(f"{url}/_mockscim/health", timeout=2).status_code == 200
        assert proc.stderr is not None
        out: list[bytes] = []
        reader = drain(proc.stderr, out)  # drain now: the writer gets through and reports the count
        deadline = time.monotonic() + 10
        while not any(b'"droppedLines"' in line for line in list(out)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert any(b'"droppedLines"' in line for line in list(out)), "the count comes once stderr drains"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
        reader.join(10)
    entries, reports, other = split(out)
    mine = [e for e in entries if e["userAgent"] == agent]
    dropped = sum(r["droppedLines"] for r in reports)
    assert reports and dropped >= 1000
    assert len(mine) + dropped == 8000
    assert {e["requestId"] for e in mine} <= set(ids)
    assert all(" INFO uvicorn.error " in line for line in other), other[:3]


def test_every_line_is_complete_json_under_50_way_concurrency() -> None:
    """50 clients at once, log lines of 100 B to 6 KB (beyond an atomic pipe write): every stderr line is one
    complete entry, exactly the journal's, one per request, none lost on a clean stop (SIGTERM at once)."""
    r, w = os.pipe()
    with os.fdopen(r, "rb") as pipe:
        out: list[bytes] = []
        reader = drain(pipe, out)
        with serve(stderr=w) as (url, proc):
            os.close(w)
            ids, _ = fire(url, 1000, 50, lambda n: f"client-{n}-" + "b" * (n * 37 % 6000))
            journal = httpx.get(f"{url}/_mockscim/journal", params={"limit": "5000"}, timeout=5).json()["entries"]
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(15) == 0
        reader.join(10)
    entries, reports, other = split(out)
    assert reports == []
    assert all(tuple(e) == KEYS for e in entries)
    assert sorted(e["requestId"] for e in entries) == sorted(ids)
    journal = [{k: e[k] for k in KEYS} for e in journal]  # log lines carry the metadata (docs/behaviour.md §12)
    assert sorted(entries, key=lambda e: e["requestId"]) == sorted(journal, key=lambda e: e["requestId"])
    assert all(" INFO uvicorn.error " in line for line in other), other[:3]


def test_warning_writes_no_journal_lines() -> None:
    """``--log-level warning`` keeps the journal (the API still serves it) but writes no line per request."""
    with serve("--log-level", "warning") as (url, proc):
        fire(url, 20, 2, lambda n: "quiet")
        assert len(httpx.get(f"{url}/_mockscim/journal", timeout=5).json()["entries"]) == 20
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(15) == 0
        assert proc.stderr is not None
        assert proc.stderr.read() == b""
