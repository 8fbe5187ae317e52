"""The request journal (docs/behaviour.md §12): a bounded ring of redacted entries, the connector log file, queries."""

from __future__ import annotations

from mockscim.journal.ring import (
    KEYS,
    REDACTED,
    Journal,
    Query,
    RawRequest,
    build_entry,
    parse_time,
    redact_query,
    redact_text,
)

__all__ = [
    "KEYS", "REDACTED", "Journal", "Query", "RawRequest", "build_entry", "parse_time", "redact_query", "redact_text",
]
