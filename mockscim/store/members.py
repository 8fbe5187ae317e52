"""Group members held for O(1) changes: an append-only member table per group, one read-only view per version."""

from __future__ import annotations

import copy
import itertools
import sys
from collections.abc import Callable, Iterator, Mapping
from typing import Any

MEMBERS = "members"
_NEVER = sys.maxsize
_COMPACT_MIN = 256
_DICT, _STR, _USER = frozenset({dict}), frozenset({str}), frozenset({"User"})
_SHAPE = frozenset({("value", "display", "type")})
"""The keys of a member in the shape the Groups kind stores, in that order (see :func:`_canonical`)."""


def _canonical(member: Any) -> str | None:
    """The ``display`` of a member in the shape the Groups kind stores (``{value, display, type: User}``, in that
    order), else ``None``: only such members are kept as a bare display string."""
    if type(member) is dict and len(member) == 3 and member.get("type") == "User":
        keys = iter(member)
        display = member.get("display")
        if next(keys) == "value" and next(keys) == "display" and type(display) is str:
            return display
    return None


class MemberTable:
    """The members of one group over its versions: slots are only ever appended, and a slot's ``died`` is set once,
    to the version that removed it. A version ``v`` sees the slots with ``born <= v < died``, so a view of an older
    version reads consistently while newer changes land (from another thread too: the durable store's snapshots).
    ``where`` (value → live slot) serves the current version only, under the store's lock."""

    __slots__ = ("born", "dead", "died", "items", "odd", "values", "version", "where")

    def __init__(self, values: list[str], items: list[str | dict[str, Any]]) -> None:
        self.values = values
        self.items = items
        self.born = [0] * len(values)
        self.died = [_NEVER] * len(values)
        self.where = dict(zip(values, range(len(values)), strict=True))
        self.version = 0
        self.dead = 0
        self.odd = 0  # current members not in the stored shape (none at first: build takes only those)

    @classmethod
    def build(cls, members: list[Any], copy: Callable[[str], str] | None = None) -> MemberTable | None:
        """A table of ``members`` (stored member dicts), or ``None`` when they are not all in the stored shape with
        distinct values (a fixture may hold others; such a group is changed the general way). ``copy``: applied to
        every string kept (a state being loaded from a whole parse keeps none of the parsed ones)."""
        # The shape of every member checked at C speed, one pass per fact (a fixture's group of 2,000 members:
        # ≈ 0.15 µs a member, against ≈ 0.8 µs for _canonical of each).
        if not (_DICT.issuperset(map(type, members)) and _SHAPE.issuperset(map(tuple, members))):
            return None
        values: list[Any] = list(map(dict.get, members, itertools.repeat("value")))
        items: list[Any] = list(map(dict.get, members, itertools.repeat("display")))
        types = list(map(dict.get, members, itertools.repeat("type")))
        if not (_STR.issuperset(map(type, values)) and _STR.issuperset(map(type, items))
                and _STR.issuperset(map(type, types)) and _USER.issuperset(types)):
            return None
        if copy is not None:
            values, items = list(map(copy, values)), list(map(copy, items))
        table = cls(values, items)
        return table if len(table.where) == len(values) else None

    def at(self, version: int) -> Iterator[dict[str, Any]]:
        """The members (as stored) that ``version`` holds, in order."""
        born, died, values, items = self.born, self.died, self.values, self.items
        for i in range(len(values)):  # a length read once: slots appended meanwhile are of later versions
            if born[i] <= version < died[i]:
                item = items[i]
                yield {"value": values[i], "display": item, "type": "User"} if type(item) is str else item  # type: ignore[misc]

    def commit(self, removed: list[str], added: Mapping[str, dict[str, Any]]) -> int:
        """Apply one change (under the store's lock) as the next version, and return that version."""
        version = self.version + 1
        where, died = self.where, self.died
        for value in removed:
            slot = where.pop(value)
            died[slot] = version
            if type(self.items[slot]) is not str:
                self.odd -= 1
        self.dead += len(removed)
        for value, member in added.items():
            where[value] = len(self.values)
            display = _canonical(member)
            if display is None:
                self.odd += 1
            # ``values`` last: a reader on another thread bounds its walk by len(values), so the rest is there.
            self.died.append(_NEVER)
            self.born.append(version)
            self.items.append(display if display is not None else member)
            self.values.append(value)
        self.version = version
        return version

    def worn(self) -> bool:
        """More dead slots than live ones: time for a fresh table (amortised O(1) per change)."""
        return self.dead > max(len(self.where), _COMPACT_MIN)


class GroupDoc(dict[str, Any]):
    """A stored Group: its attributes in the dict itself, ``members`` read through the member table.

    Reads behave as a plain dict holding ``members`` (``get``, ``items``, iteration, ``dict(doc)``, JSON encoding);
    the list is built when asked for, so reads that do not ask (a user's groups, uniqueness, ``excludedAttributes
    =members``) never walk it. Never changed once stored; :meth:`edit` starts the next version, which holds only its
    change (``removed``, ``added``) until the store commits it.
    """

    __slots__ = ("_added", "_count", "_follows", "_origin", "_present", "_removed", "_source", "_version")

    def __init__(self, base: Mapping[str, Any], members: list[Any] | MemberTable | None, *, present: bool,
                 count: int, follows: str | None, version: int = 0) -> None:
        super().__init__(base)
        self._source = members if members is not None else []
        self._version = version
        self._present = present
        self._count = count
        self._follows = follows  # the key ``members`` comes before (key order as a dict would keep it), or None: last
        self._removed: list[str] | None = None
        self._added: dict[str, dict[str, Any]] | None = None
        self._origin: tuple[object, int] | None = None  # an edit: the (source, version) of the group it started from

    @classmethod
    def of(cls, doc: Mapping[str, Any]) -> GroupDoc:
        """A group document (as the core or a state file gives it) in stored form; its member list is kept as is."""
        if isinstance(doc, GroupDoc):
            return doc
        members = doc.get(MEMBERS)
        keys = list(doc)
        follows = None
        if MEMBERS in doc:
            at = keys.index(MEMBERS)
            follows = keys[at + 1] if at + 1 < len(keys) else None
        base = {k: v for k, v in doc.items() if k != MEMBERS}
        listed = members if isinstance(members, list) else []
        return cls(base, listed, present=MEMBERS in doc, count=len(listed), follows=follows)

    @classmethod
    def loaded(cls, doc: Mapping[str, Any], copy: Callable[[Any], Any],
               copy_text: Callable[[str], str] | None) -> GroupDoc:
        """A group of a state being loaded: its attributes through ``copy``, its members straight into a member table
        of ``copy_text``-ed strings (``None``: as they are) when they are all in stored shape (no member dict kept:
        ≈ 150 bytes a member less, and no copy of each), else as :meth:`of` keeps them."""
        members = doc.get(MEMBERS)
        table = MemberTable.build(members, copy_text) if type(members) is list else None
        if table is None:
            return cls.of(copy(doc))
        keys = list(doc)
        at = keys.index(MEMBERS)
        return cls(copy({k: v for k, v in doc.items() if k != MEMBERS}), table, present=True, count=len(table.values),
                   follows=keys[at + 1] if at + 1 < len(keys) else None)

    def member_values(self) -> list[str] | None:
        """The ``value`` of every member of a group as :meth:`loaded` built it (its own table, unchanged), without
        building a member; ``None`` for any other group."""
        source = self._source
        if isinstance(source, MemberTable) and source.version == self._version == 0 and not source.dead:
            return list(source.where)
        return None

    # -- members -----------------------------------------------------------------------------------------------------
    def members(self) -> list[Any]:
        """The member list this version holds (a new list; its elements are stored objects: do not change them)."""
        source = self._source
        if isinstance(source, MemberTable):
            current: list[Any] = list(source.at(self._version))
        else:
            current = list(source)
        if self._removed or self._added:
            gone = set(self._removed or ())
            current = [m for m in current if not (isinstance(m, Mapping) and m.get("value") in gone)]
            current.extend((self._added or {}).values())
        return current

    def has_member(self, value: str) -> bool:
        """Whether ``value`` is a member in this version (O(1) for the current version of an edited group)."""
        if self._added is not None and value in self._added:
            return True
        if self._removed is not None and value in self._removed:
            return False
        source = self._source
        if isinstance(source, MemberTable) and source.version == self._version:
            return value in source.where
        return any(isinstance(m, Mapping) and m.get("value") == value for m in self.members())

    @property
    def member_count(self) -> int:
        return self._count

    def edit(self) -> GroupDoc | None:
        """The next version, to be changed by :meth:`add_member` / :meth:`remove_member` and then stored; ``None``
        when this group's members are not all in stored shape (they are then changed the general way)."""
        source, version = self._source, self._version
        if not isinstance(source, MemberTable) or source.version != version:
            table = MemberTable.build(self.members())
            if table is None:
                return None
            source, version = table, 0
        nxt = GroupDoc(self.without_members(), source, present=self._present, count=self._count, follows=self._follows,
                       version=version)
        nxt._removed, nxt._added = [], {}
        nxt._origin = (self._source, self._version)
        return nxt

    def add_member(self, value: str, member: dict[str, Any]) -> bool:
        """Add ``member`` (named ``value``) at the end unless present; whether it was added."""
        assert self._added is not None and self._removed is not None, "edit() first"
        if self.has_member(value):
            return False
        if not self._present:
            self._follows = None  # RFC 7643 §2.5: an emptied attribute was unassigned; assigned again, it comes last
        self._added[value] = member
        self._count += 1
        self._present = True
        return True

    def remove_member(self, value: str) -> bool:
        """Remove the member ``value`` if present; whether it was."""
        assert self._added is not None and self._removed is not None, "edit() first"
        if value in self._added:
            del self._added[value]
        elif self.has_member(value):
            self._removed.append(value)
        else:
            return False
        self._count -= 1
        if self._count == 0:
            self._present = False  # RFC 7643 §2.5: no members left is unassigned
            self._follows = None
        return True

    def added(self) -> dict[str, dict[str, Any]]:
        """The members this edit adds (value → member), in order; the caller may replace them with stored forms."""
        return self._added if self._added is not None else {}

    @property
    def pending(self) -> bool:
        """True for an edit not yet stored."""
        return self._added is not None

    def change(self) -> tuple[list[str], list[str]]:
        """The member values this edit removes and adds, for the index (re-added ones appear in neither)."""
        removed, added = self._removed or [], self._added or {}
        back = [v for v in removed if v in added]
        if back:
            gone = set(back)
            return [v for v in removed if v not in gone], [v for v in added if v not in gone]
        return list(removed), list(added)

    def delta(self) -> tuple[list[str], list[dict[str, Any]], str | None] | None:
        """This edit as the durable log keeps it (docs/store.md, "What the log writes for a member change"): the
        values it removes, the members it adds (stored form) and the key ``members`` then precedes; ``None`` when a
        replay could not start an edit from the group as a snapshot holds it (a member not in the stored shape)."""
        table = self._source
        if self._added is None or self._removed is None or not isinstance(table, MemberTable) or table.odd:
            return None
        added = list(self._added.values())
        if any(_canonical(m) is None or m["value"] != v for v, m in zip(self._added, added, strict=True)):
            return None
        return list(self._removed), added, self._follows

    def replay(self, removed: list[str], added: list[dict[str, Any]], follows: str | None) -> None:
        """Make this edit the one :meth:`delta` described: the same removals, then the same additions (the order
        :meth:`commit` applies them in), ``members`` placed as it was."""
        for value in removed:
            self.remove_member(value)
        for member in added:
            self.add_member(member["value"], member)
        self._follows = follows

    def commit(self) -> None:
        """Store the edit (under the store's lock, the table at the version this edit started from)."""
        table = self._source
        assert isinstance(table, MemberTable) and self._removed is not None and self._added is not None
        self._version = table.commit(self._removed, self._added)
        self._removed = self._added = self._origin = None
        if table.worn():
            fresh = MemberTable.build(list(table.at(table.version)))
            if fresh is not None:  # a new table: views of older versions keep reading the old one
                self._source, self._version = fresh, 0

    def stale(self, stored: Mapping[str, Any] | None) -> bool:
        """Whether this edit no longer starts from ``stored`` (its table moved on, or the group was replaced)."""
        table = self._source
        origin = self._origin
        return (not isinstance(stored, GroupDoc) or origin is None
                or stored._source is not origin[0] or stored._version != origin[1]
                or not isinstance(table, MemberTable) or table.version != self._version)

    def without_members(self) -> dict[str, Any]:
        """The attributes but ``members``, without building the member list."""
        return dict(super().items())

    def _base_keys_with_members(self) -> list[str]:
        keys = list(super().keys())
        if self._present:
            follows = self._follows
            at = keys.index(follows) if follows is not None and follows in keys else len(keys)
            keys.insert(at, MEMBERS)
        return keys

    # -- the dict a reader sees --------------------------------------------------------------------------------------
    def keys(self) -> list[str]:  # type: ignore[override]
        return self._base_keys_with_members()

    def __iter__(self) -> Iterator[str]:
        return iter(self._base_keys_with_members())

    def __len__(self) -> int:
        return super().__len__() + (1 if self._present else 0)

    def __contains__(self, key: object) -> bool:
        return (self._present and key == MEMBERS) or super().__contains__(key)

    def __getitem__(self, key: str) -> Any:
        if key == MEMBERS and self._present:
            return self.members()
        return super().__getitem__(key)

    def get(self, key: str, default: Any = None) -> Any:
        if key == MEMBERS:
            return self.members() if self._present else default
        return super().get(key, default)

    def items(self) -> list[tuple[str, Any]]:  # type: ignore[override]
        members = self.members() if self._present else None
        return [(k, members if k == MEMBERS else super(GroupDoc, self).__getitem__(k))
                for k in self._base_keys_with_members()]

    def values(self) -> list[Any]:  # type: ignore[override]
        return [v for _, v in self.items()]

    def __setitem__(self, key: str, value: Any) -> None:
        if key == MEMBERS:
            self._set_members(value if isinstance(value, list) else [value])
        else:
            super().__setitem__(key, value)

    def __delitem__(self, key: str) -> None:
        if key == MEMBERS:
            if not self._present:
                raise KeyError(key)
            self._set_members(None)
        else:
            super().__delitem__(key)

    def pop(self, key: str, *default: Any) -> Any:
        if key == MEMBERS:
            if not self._present:
                if default:
                    return default[0]
                raise KeyError(key)
            members = self.members()
            self._set_members(None)
            return members
        return super().pop(key, *default)

    def _set_members(self, members: list[Any] | None) -> None:
        if members is None or not self._present:
            self._follows = None  # a removed key is gone; a new one comes last (a replaced one keeps its place)
        self._source, self._version = list(members or ()), 0
        self._count = len(self._source)
        self._present = members is not None
        self._removed = self._added = None

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def setdefault(self, key: str, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return self[key]

    def copy(self) -> dict[str, Any]:
        return dict(self.items())

    def __eq__(self, other: object) -> bool:
        mine = dict(self.items())
        return mine == (dict(other.items()) if isinstance(other, GroupDoc) else other)

    def __ne__(self, other: object) -> bool:
        return not self == other

    __hash__ = None

    def __repr__(self) -> str:
        return repr(dict(self.items()))

    def __copy__(self) -> dict[str, Any]:
        return dict(self.items())

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, Any]:
        return copy.deepcopy(dict(self.items()), memo)

    def __reduce__(self) -> tuple[Any, ...]:
        return (dict, (dict(self.items()),))
