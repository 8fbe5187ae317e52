"""The in-memory store: insertion-ordered dicts per kind plus value indexes, safe under concurrent requests."""

from __future__ import annotations

import copy
import itertools
import marshal
import operator
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from mockscim import kinds
from mockscim.store import INDEXES, KINDS, Change, Put, key_of
from mockscim.store.members import MEMBERS, GroupDoc


def index_keys(doc: Mapping[str, Any], dotted: str, fold: bool) -> list[str]:
    """The index keys of ``doc`` for ``dotted`` (``emails.value`` yields one key per e-mail)."""
    head, _, sub = dotted.partition(".")
    value = doc.get(head)
    values = value if isinstance(value, list) else [value]
    out: list[str] = []
    for v in values:
        if sub:
            v = v.get(sub) if type(v) is dict or isinstance(v, Mapping) else None
        if type(v) is str:
            out.append(v.lower() if fold else v)  # the common case first: no str() of a str
        elif isinstance(v, int | float) and not isinstance(v, bool):
            key = str(v)
            out.append(key.lower() if fold else key)
    return out


PACKED = frozenset(KINDS) - {"Groups"}
"""Kinds kept packed (``marshal``: ~650 bytes for a user instead of ~2.3 KB of dicts and strings; 2.5 µs to unpack).
Groups stay live objects: their member lists can be long, and every User read looks its groups up."""

GROUPED = frozenset(k.name for k in kinds.ALL if k.member_set)
"""Kinds whose documents are :class:`GroupDoc` (``members`` in a member table: O(1) one-member changes)."""
assert all(k.member_set in (None, MEMBERS) for k in kinds.ALL)

Stored = bytes | Mapping[str, Any]


def unpack(stored: Stored) -> Mapping[str, Any]:
    """A stored document as a mapping: a fresh dict when packed, else the live (never mutated) one."""
    if isinstance(stored, bytes):
        doc: Mapping[str, Any] = marshal.loads(stored)
        return doc
    return stored


class MemoryStore:
    """Documents in insertion-ordered dicts (the order lists are served in, docs/behaviour.md §13) with per-attribute
    indexes.

    Every index maps a normalised value to the ordered set of ids carrying it, so uniqueness checks and ``eq``
    filters on indexed attributes never scan a kind. Documents of the ``PACKED`` kinds are kept as ``marshal``
    bytes (in memory only, never on disk): a user with its index entries takes ~0.9 KB instead of ~2.3 KB.
    """

    failure: str | None = None  # memory never refuses a write

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._clear()

    def _clear(self) -> None:
        self._docs: dict[str, dict[str, Stored]] = {k: {} for k in KINDS}
        self._seq: dict[str, dict[str, int]] = {k: {} for k in KINDS}
        self._counter = 0
        self._index: dict[str, dict[str, dict[str, str | dict[str, None]]]] = {
            kind: {attr: {} for attr in attrs} for kind, attrs in INDEXES.items()
        }
        self._next: dict[str, int] = {k: 1 for k in KINDS}
        self._sorted: dict[tuple[str, str, int, bool], list[str] | None] = {}
        self._revision: dict[str, int] = {k: getattr(self, "_revision", {}).get(k, 0) + 1 for k in KINDS}
        self._shared: set[str] = set()  # kinds whose dicts are still a loaded Packed's (copied at the first change)

    # -- reads ---------------------------------------------------------------------------------------------------
    def get(self, kind: str, id: str) -> Mapping[str, Any] | None:
        stored = self._docs[kind].get(id)
        return None if stored is None else unpack(stored)

    def all(self, kind: str) -> Iterator[Mapping[str, Any]]:
        return map(unpack, list(self._docs[kind].values()))

    def count(self, kind: str) -> int:
        return len(self._docs[kind])

    def revision(self, kind: str) -> int:
        """A number that changes whenever a document of ``kind`` does (callers cache derived facts on it)."""
        return self._revision[kind]

    def page(self, kind: str, start: int, stop: int) -> list[Mapping[str, Any]]:
        """Documents ``start`` (0-based) to ``stop`` in list order, without copying the whole kind."""
        docs = self._docs[kind]
        if start >= len(docs):
            return []  # also for a startIndex beyond what islice accepts (RFC 7644 §3.4.2.4: any integer)
        with self.lock:
            return list(map(unpack, itertools.islice(docs.values(), start, min(stop, len(docs)))))

    def indexed(self, kind: str, attr: str) -> bool:
        return attr in INDEXES.get(kind, {})

    def lookup(self, kind: str, attr: str, value: Any) -> list[Mapping[str, Any]]:
        """Documents of ``kind`` whose ``attr`` equals ``value`` (folded where the index is case-insensitive)."""
        docs = self._docs[kind]
        return [unpack(docs[i]) for i in self.lookup_ids(kind, attr, value)]

    def lookup_ids(self, kind: str, attr: str, value: Any) -> list[str]:
        """The keys :meth:`lookup` would return the documents of, in list order, without unpacking any."""
        fold = INDEXES[kind][attr]
        ids = self._index[kind][attr].get(str(value).lower() if fold else str(value))
        if ids is None:
            return []
        if isinstance(ids, str):
            return [ids]
        return sorted(ids, key=self._seq[kind].__getitem__)

    def ids_where(self, kind: str, attr: str, test: Callable[[str], bool]) -> list[str]:
        """The keys of the documents whose index key of ``attr`` (folded where the index is case-insensitive)
        passes ``test``, in no particular order: a substring search over names tests the index's keys, one string
        each, and unpacks only the documents that match (docs/performance.md)."""
        with self.lock:
            found: list[str] = []
            for value, ids in self._index[kind][attr].items():
                if test(value):
                    found.extend((ids,) if isinstance(ids, str) else ids)
            return list(dict.fromkeys(found))

    def sorted_ids(self, kind: str, attr: str, descending: bool = False) -> Sequence[str] | None:
        """Every key of ``kind`` ordered by its index value of ``attr`` (RFC 7644 §3.4.2.3 ``sortBy``; equal values
        in list order, also when descending), or ``None`` unless every document has exactly one such value. Kept
        until the kind changes: a sorted page at 100k users then costs the page, not a sort."""
        if attr not in INDEXES.get(kind, {}):
            return None
        with self.lock:
            cache_key = (kind, attr, self._revision[kind], descending)
            if cache_key not in self._sorted:
                seq = self._seq[kind]
                groups = [[ids] if isinstance(ids, str) else sorted(ids, key=seq.__getitem__)
                          for _, ids in sorted(self._index[kind][attr].items())]
                ordered = list(itertools.chain.from_iterable(reversed(groups) if descending else groups))
                whole = len(ordered) == len(self._docs[kind]) == len(set(ordered))
                if len(self._sorted) > 8:
                    self._sorted.clear()
                self._sorted[cache_key] = ordered if whole else None
            return self._sorted[cache_key]

    def next_id(self, kind: str) -> str:
        """The next integer id of ``kind`` (Secret Server ids, docs/behaviour.md §3), never reused while the store
        lives."""
        with self.lock:
            n = self._next[kind]
            docs = self._docs[kind]
            while str(n) in docs:
                n += 1
            self._next[kind] = n + 1
            return str(n)

    # -- writes --------------------------------------------------------------------------------------------------
    def apply(self, changes: Sequence[Change]) -> None:
        """Apply a change set atomically (callers validated it under ``lock``)."""
        with self.lock:
            for change in changes:
                if isinstance(change, Put):
                    self._put(change.kind, change.doc, change.previous)
                else:
                    self._delete(change.kind, change.id)

    def _put(self, kind: str, doc: Mapping[str, Any], previous: Mapping[str, Any] | None = None,
             fresh: bool = False) -> None:
        key = _fresh(key_of(kind, doc)) if fresh else key_of(kind, doc)
        if kind in self._shared:
            self._own(kind)
        self._revision[kind] += 1
        docs = self._docs[kind]
        old = docs.get(key)
        if old is None:
            self._counter += 1
            self._seq[kind][key] = self._counter
            if key.isascii() and key.isdigit() and int(key) >= self._next[kind]:
                self._next[kind] = int(key) + 1
        indexes = INDEXES.get(kind, {})
        before = (previous if previous is not None else unpack(old)) if old is not None and indexes else None
        change: tuple[list[str], list[str]] | None = None
        if kind in GROUPED:
            group = GroupDoc.of(_fresh_json(doc) if fresh else doc)
            if group.pending:
                if group.stale(unpack(old) if old is not None else None):
                    group = GroupDoc.of(dict(group.items()))  # not from what is stored: stored whole
                else:
                    change = group.change()
                    group.commit()
            docs[key] = doc = group
        else:
            docs[key] = marshal.dumps(doc) if kind in PACKED else doc  # type: ignore[arg-type]
        seen: dict[str, str] = {}
        for attr, fold in indexes.items():
            head = attr.partition(".")[0]
            if head == MEMBERS and kind in GROUPED:
                self._index_members(self._index[kind][attr], key, before, doc, change)
                continue
            if before is not None and before.get(head) == doc.get(head):
                continue  # the indexed value did not change (a PATCH of a title): nothing to re-index
            bucket = self._index[kind][attr]
            # One string for equal keys (a userName that is also the e-mail); ordered, without repeats.
            keys = index_keys(doc, attr, fold)
            if fresh and not fold:
                keys = [_fresh(k) for k in keys]
            added = {seen.setdefault(k, k): None for k in keys}
            if before is not None:
                # A replace touches only the keys that changed: re-adding an unchanged one would leave a deleted
                # slot behind in the index dict each time (a PATCH of a title grew them by ~10 MB per 100k).
                for k in dict.fromkeys(index_keys(before, attr, fold)):
                    if k in added:
                        del added[k]
                    else:
                        _drop(bucket, k, key)
            for k in added:
                _add(bucket, k, key)

    def _index_members(self, bucket: dict[str, str | dict[str, None]], key: str, before: Mapping[str, Any] | None,
                       doc: Mapping[str, Any], change: tuple[list[str], list[str]] | None) -> None:
        """The ``members.value`` index of a group: the change alone for a member edit, else the difference."""
        if change is not None:
            removed, added = change
        else:
            old = index_keys(before, "members.value", False) if before is not None else []
            new = index_keys(doc, "members.value", False)
            old_set, new_set = set(old), set(new)
            removed = [k for k in dict.fromkeys(old) if k not in new_set]
            added = [k for k in dict.fromkeys(new) if k not in old_set]
        for k in removed:
            _drop(bucket, k, key)
        for k in added:
            _add(bucket, k, key)

    def _delete(self, kind: str, key: str) -> None:
        if kind in self._shared:
            self._own(kind)
        self._revision[kind] += 1
        old = self._docs[kind].pop(key, None)
        if old is not None:
            doc = unpack(old)
            for attr, fold in INDEXES.get(kind, {}).items():
                bucket = self._index[kind][attr]
                for k in index_keys(doc, attr, fold):
                    _drop(bucket, k, key)
            del self._seq[kind][key]

    def load(self, state: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
        """Replace everything with ``state`` (already validated, docs/behaviour.md §13); a :class:`Packed` state
        (:meth:`Staging.state`) is swapped in without building or copying anything (:meth:`_own`)."""
        with self.lock:
            if isinstance(state, Packed):
                revision = self._revision
                self._docs, self._seq, self._index = state.shared()
                self._shared = set(KINDS)
                self._counter, self._next = state.counter, dict(state.next)
                self._revision = {k: revision[k] + 1 for k in KINDS}
                return
            self._clear()
            for kind in KINDS:
                self._load_kind(kind, state.get(kind, ()))

    def _own(self, kind: str) -> None:
        """Copy on write: the first change of ``kind`` after a :class:`Packed` was loaded copies the dicts of that
        kind from it (its table, sequence and index buckets), so a load (start-up, reset) copies nothing and the
        state kept for the next reset stays as it was (docs/behaviour.md §12)."""
        self._docs[kind] = self._docs[kind].copy()
        self._seq[kind] = self._seq[kind].copy()
        if kind in self._index:
            self._index[kind] = {attr: _bucket_copy(bucket) for attr, bucket in self._index[kind].items()}
        self._shared.discard(kind)

    def _load_kind(self, kind: str, docs: Sequence[Mapping[str, Any]]) -> None:
        put = self._loader(kind)
        for doc in docs:
            put(doc)

    def _loader(self, kind: str, streamed: bool = False) -> Callable[[Mapping[str, Any]], None]:
        """:meth:`_put` of one document of ``kind`` into an empty store: what a put decides per document (packed or
        grouped, which indexes, what was there before) is decided once per kind, and a plain string value is indexed
        without :func:`index_keys` (a 100k-user fixture: ≈ 1.3 → 0.6 s).

        ``streamed``: the documents come from a parse that is freed entry by entry, so the strings kept (keys,
        index keys, members) are kept as they are; from a whole parse, they are copied (:func:`_fresh`)."""
        table, seq, nexts = self._docs[kind], self._seq[kind], self._next
        grouped, packed = kind in GROUPED, kind in PACKED
        indexes = [(attr, attr.partition(".")[0], "." in attr, fold, self._index[kind][attr])
                   for attr, fold in INDEXES.get(kind, {}).items()]
        dumps, service = marshal.dumps, kind == kinds.SERVICE_USERS
        copy = not streamed

        def put(doc: Mapping[str, Any]) -> None:
            key = str(doc["userName"] if service else doc["id"])
            if copy:
                key = _fresh(key)
            if key in table:
                self._put(kind, doc, fresh=True)  # a key given twice (a state no validator saw): the slow way
                return
            self._counter += 1
            seq[key] = self._counter
            if key.isascii() and key.isdigit() and int(key) >= nexts[kind]:
                nexts[kind] = int(key) + 1
            if grouped:
                doc = group = GroupDoc.loaded(doc, _fresh_json, _fresh if copy else None)  # indexed as they are
                table[key] = group
            else:
                table[key] = dumps(doc) if packed else doc  # type: ignore[arg-type]
            seen: dict[str, str] = {}
            for attr, head, dotted, fold, bucket in indexes:
                if grouped and head == MEMBERS and (values := group.member_values()) is not None:
                    keys = values  # from the member table: no member built
                elif type(value := doc.get(head)) is str and not dotted:
                    keys = [value.lower() if fold else (_fresh(value) if copy and not grouped else value)]
                else:
                    keys = index_keys(doc, attr, fold)
                    if copy and not fold and not grouped:
                        keys = [_fresh(k) for k in keys]
                for k in keys:
                    _add(bucket, seen.setdefault(k, k), key)  # one string for equal keys (userName, e-mail)

        return put

    def _bulk_loader(self, kind: str, streamed: bool = False) -> Callable[[list[dict[str, Any]]], None]:
        """:meth:`_loader` for a list of documents at a time. Streamed packed documents whose ids are new strings
        (not integers) are stored in a few passes at C speed (``map``, ``dict.update``): a fixture's users, a few
        hundred at a time, without a Python call per user (docs/performance.md); any other list goes one by one."""
        put = self._loader(kind, streamed)

        def one_by_one(docs: list[dict[str, Any]]) -> None:
            for doc in docs:
                put(doc)

        if kind not in PACKED or kind == kinds.SERVICE_USERS or not streamed:
            return one_by_one
        table, seq = self._docs[kind], self._seq[kind]
        indexes = INDEXES.get(kind, {})
        plain = [(attr, fold, self._index[kind][attr]) for attr, fold in indexes.items() if "." not in attr]
        dotted = [(attr, fold, self._index[kind][attr]) for attr, fold in indexes.items() if "." in attr]
        get, repeat = dict.get, itertools.repeat

        def put_many(docs: list[dict[str, Any]]) -> None:
            keys: list[Any] = list(map(get, docs, repeat("id")))
            columns: list[tuple[list[Any], bool, Any]] = [(list(map(get, docs, repeat(attr))), fold, bucket)
                                                          for attr, fold, bucket in plain]
            if (not _STR.issuperset(map(type, keys)) or any(map(str.isdigit, keys)) or len(set(keys)) != len(keys)
                    or not table.keys().isdisjoint(keys)
                    or not all(_STR_OR_NONE.issuperset(map(type, column)) for column, _, _ in columns)):
                one_by_one(docs)  # not the plain case: as _loader decides, document by document
                return
            table.update(zip(keys, map(marshal.dumps, docs), strict=True))
            seq.update(zip(keys, range(self._counter + 1, self._counter + 1 + len(keys)), strict=True))
            self._counter += len(keys)
            shared: dict[str, str] = {}  # one string for equal index keys (a userName that is also the e-mail)
            for column, fold, bucket in columns:
                if None in column:
                    pairs = [(k.lower() if fold else k, key)
                             for k, key in zip(column, keys, strict=True) if k is not None]
                    found = [k for k, _ in pairs]
                else:
                    found = list(map(str.lower, column)) if fold else column
                    pairs = list(zip(found, keys, strict=True))
                if fold:
                    shared.update(zip(found, found, strict=True))
                _index_all(bucket, found, pairs)
            for attr, fold, bucket in dotted:
                head, _, sub = attr.partition(".")
                lists: list[Any] = list(map(get, docs, repeat(head)))
                if _LIST.issuperset(map(type, lists)) and _ONE.issuperset(map(len, lists)):
                    items: list[Any] = list(map(operator.itemgetter(0), lists))  # one value each (an e-mail)
                    values: list[Any] = list(map(get, items, repeat(sub))) if _DICT.issuperset(map(type, items)) else []
                    if values and _STR.issuperset(map(type, values)):
                        found = list(map(str.lower, values)) if fold else values
                        found = list(map(shared.get, found, found))
                        _index_all(bucket, found, list(zip(found, keys, strict=True)))
                        continue
                for doc, key in zip(docs, keys, strict=True):
                    for k in dict.fromkeys(index_keys(doc, attr, fold)):
                        _add(bucket, shared.get(k, k), key)

        return put_many

    def staging(self, streamed: bool = False) -> Staging:
        """A new state to put together document by document, for :meth:`load` to swap in whole; ``streamed``: from
        a parse freed entry by entry (see :meth:`_loader`)."""
        return Staging(streamed)

    def export(self) -> dict[str, list[dict[str, Any]]]:
        """A deep copy of everything, in state-file order."""
        with self.lock:
            return {kind: [marshal.loads(d) if type(d) is bytes else copy.deepcopy(dict(d))  # type: ignore[arg-type]
                           for d in self._docs[kind].values()] for kind in KINDS}

    async def sync(self) -> None:
        """Nothing to wait for: memory is the whole store."""

    def close(self) -> None:
        """Nothing to release."""


Index = dict[str, dict[str, dict[str, str | dict[str, None]]]]


class Staging:
    """A state put together document by document (a fixture as it is parsed, docs/performance.md) in a store of its
    own: :meth:`state` is what :meth:`MemoryStore.load` then swaps in, so nothing is half-loaded if a later entry
    is refused."""

    def __init__(self, streamed: bool = False) -> None:
        self._store = MemoryStore()
        self._streamed = streamed

    def putter(self, kind: str) -> Callable[[list[dict[str, Any]]], None]:
        """A function that adds documents (checked, in stored form) to ``kind``, after those added before."""
        return self._store._bulk_loader(kind, self._streamed)

    def state(self) -> Packed:
        """Everything put, as a state to :meth:`MemoryStore.load` (and to keep: loading it never changes it)."""
        store = self._store
        return Packed(store._docs, store._seq, store._index, store._counter, store._next)


class Packed(Mapping[str, Sequence[Mapping[str, Any]]]):
    """A state in the memory store's own form (:meth:`Staging.state`): packed documents, list order, indexes. Read as
    a mapping it is a state like any other (kind → list of documents), so a store that does not know it loads it the
    slow way."""

    def __init__(self, docs: dict[str, dict[str, Stored]], seq: dict[str, dict[str, int]], index: Index,
                 counter: int, nexts: Mapping[str, int]) -> None:
        """The dicts given are the state's own from now on: nobody changes them (a store copies before it does)."""
        self._docs, self._seq, self._index = docs, seq, index
        self.counter = counter
        self.next = dict(nexts)

    def shared(self) -> tuple[dict[str, dict[str, Stored]], dict[str, dict[str, int]], Index]:
        """New outer dicts over this state's own per-kind dicts, which the loading store copies before it changes
        one (:meth:`MemoryStore._own`)."""
        return dict(self._docs), dict(self._seq), {kind: dict(attrs) for kind, attrs in self._index.items()}

    def __getitem__(self, kind: str) -> list[Mapping[str, Any]]:
        return [unpack(d) for d in self._docs[kind].values()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._docs)

    def __len__(self) -> int:
        return len(self._docs)


def _bucket_copy(bucket: dict[str, str | dict[str, None]]) -> dict[str, str | dict[str, None]]:
    out = bucket.copy()
    for value, ids in bucket.items():
        if type(ids) is dict:
            out[value] = ids.copy()
    return out


def _fresh(text: str) -> str:
    """A new string equal to ``text``. What a loaded state keeps (ids, index keys, group members) is copied so
    that nothing it keeps lives among the parsed state's objects: once that state is freed, whole allocator arenas
    are free and go back to the system (a 100k-user fixture otherwise pins ≈ 450 MB of them)."""
    return "".join([text, ""])


_SHARED = {s: s for s in ("User", "Group", "direct", "work", "home", "other")}
"""Values many documents repeat: one string each instead of one per document."""


def _fresh_json(value: Any) -> Any:
    """``value`` (JSON-shaped) with every string and container new (see :func:`_fresh`); keys interned."""
    if isinstance(value, str):
        return _SHARED.get(value) or _fresh(value)
    if isinstance(value, Mapping):
        return {sys.intern(k): _fresh_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_fresh_json(v) for v in value]
    return value


def _add(bucket: dict[str, str | dict[str, None]], value: str, key: str) -> None:
    """Put ``key`` in the index bucket of ``value``: a bucket is the one id carrying a value (most values are unique:
    no dict per value, which costs ~80 MB at 100k users), or an ordered set of ids once a second one shares it."""
    ids = bucket.get(value)
    if ids is None or ids == key:
        bucket[value] = key
    elif isinstance(ids, str):
        bucket[value] = {ids: None, key: None}
    else:
        ids[key] = None


_STR, _STR_OR_NONE = frozenset({str}), frozenset({str, type(None)})
_DICT, _LIST, _ONE = frozenset({dict}), frozenset({list}), frozenset({1})


def _index_all(bucket: dict[str, str | dict[str, None]], found: list[str], pairs: list[tuple[str, str]]) -> None:
    """Index ``pairs`` (index key, document key) in ``bucket``: at C speed when every index key is new."""
    if len(set(found)) == len(found) and bucket.keys().isdisjoint(found):
        bucket.update(pairs)  # every value new: one id each
    else:
        for k, key in pairs:
            _add(bucket, k, key)


def _drop(bucket: dict[str, str | dict[str, None]], value: str, key: str) -> None:
    """Take ``key`` out of the index bucket of ``value``."""
    ids = bucket.get(value)
    if ids == key:
        del bucket[value]
    elif isinstance(ids, dict):
        ids.pop(key, None)
        if len(ids) == 1:
            bucket[value] = next(iter(ids))
