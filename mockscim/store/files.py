"""The durable store's files: checksummed, numbered log lines, and the write/fsync primitives under them."""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mockscim import kinds
from mockscim.store import KINDS

GROUPS = kinds.GROUPS.name

WAL_FORMAT = 2
"""Log format: every line is ``{"k":"<crc32 hex>",…}`` where the CRC-32 covers the bytes after ``{"k":"…",``."""

_PREFIX = b'{"k":"'
_BODY = len(_PREFIX) + 10  # 8 hex digits, then '",'


class Damaged(ValueError):
    """A complete log line that is not what the store wrote (docs/behaviour.md §13); the message says what is wrong."""


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def sealed(body: bytes) -> bytes:
    """One log line: ``body`` (a JSON object's members and its closing brace) behind its checksum, with its newline."""
    return b'{"k":"%08x",' % zlib.crc32(body) + body + b"\n"


def header_line(generation: str, seq: int) -> bytes:
    """The log's first line: the snapshot generation it follows and the sequence number its first record follows."""
    return sealed(b'"wal":%d,"generation":%s,"seq":%d}' % (WAL_FORMAT, json.dumps(generation).encode(), seq))


def record_line(seq: int, ops: str, nexts: str) -> bytes:
    """One change set: its sequence number, its operations (JSON text) and the next ids (JSON members)."""
    return sealed(f'"s":{seq},"c":{ops},"n":{{{nexts}}}}}'.encode())


def unseal(line: bytes) -> dict[str, Any]:
    """The object of a complete log line whose checksum holds; :class:`Damaged` otherwise."""
    if not line.startswith(_PREFIX) or line[_BODY - 2:_BODY] != b'",':
        if line.startswith(b'{"generation"') or line.startswith(b'{"c"'):
            raise Damaged("a line without checksum (a log of format 1, written by an older mockscim)")
        raise Damaged("not a mockscim log line (no checksum)")
    try:
        crc = int(line[len(_PREFIX):_BODY - 2], 16)
    except ValueError:
        raise Damaged("not a mockscim log line (its checksum is not hexadecimal)") from None
    if zlib.crc32(line[_BODY:]) != crc:
        raise Damaged("checksum mismatch (the line was changed after it was written)")
    try:
        value = json.loads(line)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Damaged(f"not JSON ({exc})") from None
    if not isinstance(value, dict):
        raise Damaged("not a JSON object")
    return value


def well_formed(record: Mapping[str, Any]) -> bool:
    """A record ``apply()`` could have written: ``{"c": [["P", kind, doc] | ["D", kind, key] | ["M", kind, base,
    removed, added, follows], …], "n": …}`` (``M``: a group's member change, docs/store.md)."""
    ops = record.get("c")
    if not isinstance(ops, list) or not isinstance(record.get("n", {}), dict):
        return False
    for op in ops:
        if isinstance(op, list) and len(op) == 6 and op[0] == "M":
            if not _member_change(op):
                return False
            continue
        if not (isinstance(op, list) and len(op) == 3 and op[1] in KINDS):
            return False
        verb, kind, target = op
        key = target.get("userName" if kind == "serviceUsers" else "id") if isinstance(target, dict) else target
        if verb not in ("P", "D") or (verb == "P") != isinstance(target, dict) or not isinstance(key, str):
            return False
    return True


def _member_change(op: list[Any]) -> bool:
    """``["M", kind, base, removed, added, follows]``: the group's attributes (with its ``id``), the member values
    removed, the members added (each with a string ``value``), and the key ``members`` precedes (or null)."""
    _, kind, base, removed, added, follows = op
    return (kind == GROUPS and isinstance(base, dict) and isinstance(base.get("id"), str)
            and isinstance(removed, list) and all(isinstance(v, str) for v in removed)
            and isinstance(added, list) and all(isinstance(m, dict) and isinstance(m.get("value"), str) for m in added)
            and (follows is None or isinstance(follows, str)))


def fsync_dir(directory: Path) -> None:
    """Make a rename durable (POSIX); a no-op where directories cannot be opened (Windows)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
