"""The Store protocol: ordered documents per kind, unique-attribute indexes, atomic change sets."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from mockscim import kinds

KINDS = kinds.TABLES
"""Every table, in state-file order (docs/behaviour.md §13); ``serviceUsers`` are keyed by ``userName``."""

INDEXES: Mapping[str, Mapping[str, bool]] = kinds.indexes()
"""kind → {dotted attribute → case-insensitive?}, from the kind registry."""


@dataclass(frozen=True)
class Put:
    """Insert or replace ``doc`` (its ``id``, or ``userName`` for service users) in ``kind``.

    ``previous``: the stored document this replaces, as the caller read it under the store's lock (a replace then
    need not read it again to re-index); ``None`` when unknown.
    """

    kind: str
    doc: Mapping[str, Any]
    previous: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Delete:
    """Remove the document ``id`` from ``kind``."""

    kind: str
    id: str


Change = Put | Delete


def key_of(kind: str, doc: Mapping[str, Any]) -> str:
    """The key a document is stored under."""
    return str(doc["userName"] if kind == kinds.SERVICE_USERS else doc["id"])


class Staging(Protocol):
    """A state put together document by document (``Store.staging``), then loaded whole."""

    def putter(self, kind: str) -> Callable[[list[dict[str, Any]]], None]: ...

    def state(self) -> Mapping[str, Sequence[Mapping[str, Any]]]: ...


class Store(Protocol):
    """What the core needs from storage. Readers hold ``lock`` around a read-check-write sequence."""

    lock: threading.RLock
    failure: str | None
    """Why the last write failed, while the store cannot write (``None``: it can)."""

    def get(self, kind: str, id: str) -> Mapping[str, Any] | None: ...

    def all(self, kind: str) -> Iterator[Mapping[str, Any]]: ...

    def count(self, kind: str) -> int: ...

    def lookup(self, kind: str, attr: str, value: Any) -> list[Mapping[str, Any]]: ...

    def lookup_ids(self, kind: str, attr: str, value: Any) -> list[str]: ...

    def ids_where(self, kind: str, attr: str, test: Callable[[str], bool]) -> list[str]: ...

    def indexed(self, kind: str, attr: str) -> bool: ...

    def apply(self, changes: Sequence[Change]) -> None: ...

    def next_id(self, kind: str) -> str: ...

    def revision(self, kind: str) -> int: ...

    def page(self, kind: str, start: int, stop: int) -> list[Mapping[str, Any]]: ...

    def sorted_ids(self, kind: str, attr: str, descending: bool = False) -> Sequence[str] | None: ...

    def load(self, state: Mapping[str, Sequence[Mapping[str, Any]]]) -> None: ...

    def staging(self, streamed: bool = False) -> Staging: ...

    def export(self) -> dict[str, list[dict[str, Any]]]: ...

    async def sync(self) -> None: ...

    def close(self) -> None: ...
