"""The one timestamp format: RFC 7643 §2.3.5 dateTime in UTC with milliseconds and ``Z`` (meta, journal, scenarios)."""

from __future__ import annotations

from datetime import UTC, datetime


def iso_utc(moment: datetime | None = None) -> str:
    """``moment`` (now when omitted; a naive datetime is read as UTC) as ``2026-11-28T21:16:55.123Z``."""
    if moment is None:
        moment = datetime.now(UTC)
    elif moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
