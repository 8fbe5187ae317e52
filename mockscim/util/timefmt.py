"""The one timestamp format: RFC 7643 §2.3.5 dateTime in UTC with milliseconds and ``Z`` (meta, journal, scenarios)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any


def iso_utc(moment: datetime | None = None) -> str:
    """``moment`` (now when omitted; a naive datetime is read as UTC) as ``2026-11-28T21:16:55.123Z``."""
    if moment is None:
        moment = datetime.now(UTC)
    elif moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


_second: list[Any] = [None, ""]


def iso_utc_epoch(moment: float | None = None) -> str:
    """:func:`iso_utc` of epoch seconds (now when omitted), the date and time formatted once per second: every
    request needs one (meta timestamps, the journal)."""
    if moment is None:
        moment = time.time()
    second = int(moment)
    cached = _second
    if cached[0] != second:
        cached[1] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        cached[0] = second
    return f"{cached[1]}.{int((moment - second) * 1000):03d}Z"

