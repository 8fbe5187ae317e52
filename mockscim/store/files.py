"""The durable store's files: the write-ahead log's record format, and the write/fsync primitives under it."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mockscim.store import KINDS


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def well_formed(record: Mapping[str, Any]) -> bool:
    """A record ``apply()`` could have written: ``{"c": [["P", kind, doc] | ["D", kind, key], …], "n": …}``."""
    ops = record.get("c")
    if not isinstance(ops, list):
        return False
    for op in ops:
        if not (isinstance(op, list) and len(op) == 3 and op[1] in KINDS):
            return False
        verb, kind, target = op
        key = target.get("userName" if kind == "serviceUsers" else "id") if isinstance(target, dict) else target
        if verb not in ("P", "D") or (verb == "P") != isinstance(target, dict) or not isinstance(key, str):
            return False
    return True


def parse_line(line: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(line)
    except (ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


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

