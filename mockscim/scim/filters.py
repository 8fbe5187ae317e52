"""SCIM filters (RFC 7644 §3.4.2.2): parse, compile to predicates, plan index lookups, enforce Delinea's allow-list."""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Callable, Collection, Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from mockscim.scim.errors import FilterCombination, FilterUnsupported
from mockscim.scim.filter_parser import (
    And,
    AttrPath,
    Compare,
    Node,
    Not,
    Or,
    PatchPath,
    Present,
    Scalar,
    ValuePath,
    parse_filter,
    parse_path,
)

__all__ = [
    "And",
    "AttrPath",
    "Compare",
    "Node",
    "Not",
    "Or",
    "PatchPath",
    "Predicate",
    "Present",
    "Scalar",
    "ValuePath",
    "compile_filter",
    "enforce_allow_list",
    "eq_terms",
    "parse_filter",
    "parse_path",
]

Predicate = Callable[[Mapping[str, Any]], bool]
_Test = Callable[[Any], bool]
_Resolver = Callable[[Any], list[Any]]

_MISSING: Any = object()
_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "gt": operator.gt,
    "ge": operator.ge,
    "lt": operator.lt,
    "le": operator.le,
}
# RFC 7643 §2.3.5 dateTime (xsd:dateTime); a bare date is accepted too.
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:[Zz]|[-+]\d{2}:?\d{2})?")


def _lookup(obj: Any, key: str, low: str) -> Any:
    """``obj[key]`` with the key matched case-insensitively (RFC 7643 §2.1), or _MISSING."""
    if not isinstance(obj, Mapping):
        return _MISSING
    value = obj.get(key, _MISSING)
    if value is not _MISSING:
        return value
    for k, v in obj.items():
        if isinstance(k, str) and k.lower() == low:
            return v
    return _MISSING


def _has_value(value: Any) -> bool:
    """RFC 7644 §3.4.2.2 ``pr``: not null, not an empty string, list, or complex node."""
    if value is None or value is _MISSING or value == "":
        return False
    if isinstance(value, list):
        return any(_has_value(v) for v in value)
    if isinstance(value, Mapping):
        return any(_has_value(v) for v in value.values())
    return True


def _as_datetime(text: str) -> datetime | None:
    """A dateTime string as an aware datetime (naive means UTC), or None; RFC 7644 §3.4.2.2 compares chronologically."""
    if _DATE_RE.fullmatch(text) is None:
        return None
    try:
        dt = datetime.fromisoformat(text.upper())
    except ValueError:
        return None
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


@lru_cache(maxsize=1024)
def _resolver(path: AttrPath, core: str, *, element_value: bool) -> _Resolver:
    """Build ``doc -> [non-null values at path]``; ``element_value`` compares a complex value's ``value``.
    Cached: it depends on the path alone, and clients filter on few paths with many values."""
    urn, name, sub = path.urn, path.name, path.sub
    urn_key, name_l = urn or "", name.lower()
    urn_l = urn_key.lower()
    extension = urn is not None and urn_l != core

    def base(doc: Any) -> Any:
        if extension:  # another schema's attributes live under resource[<urn>] (RFC 7643 §3.3)
            doc = _lookup(doc, urn_key, urn_l)
        return _lookup(doc, name, name_l)

    if sub is not None:
        sub_l = sub.lower()

        def resolve_sub(doc: Any) -> list[Any]:
            value = base(doc)
            out: list[Any] = []
            # RFC 7644 §3.4.2.2: a multi-valued complex attribute matches if any element's sub-attribute does.
            for item in value if isinstance(value, list) else (value,):
                got = _lookup(item, sub, sub_l)
                out.extend(got if isinstance(got, list) else (got,))
            return [v for v in out if v is not None and v is not _MISSING]

        return resolve_sub

    def resolve(doc: Any) -> list[Any]:
        value = base(doc)
        items = value if isinstance(value, list) else (value,)
        if element_value:
            items = [_lookup(v, "value", "value") if isinstance(v, Mapping) else v for v in items]
        return [v for v in items if v is not None and v is not _MISSING]

    return resolve


def _never(_: Any) -> bool:
    return False


def _value_test(op: str, value: str | int | float | bool, exact: bool) -> _Test:
    """One attribute value against ``op value`` (RFC 7644 §3.4.2.2 table); a type mismatch is False."""
    if isinstance(value, bool):  # booleans: eq only (ne is its negation)
        return (lambda v: isinstance(v, bool) and v is value) if op == "eq" else _never
    if isinstance(value, int | float):
        if op == "eq":
            return lambda v: isinstance(v, int | float) and not isinstance(v, bool) and v == value
        if op in _ORDER:
            order = _ORDER[op]
            return lambda v: isinstance(v, int | float) and not isinstance(v, bool) and order(v, value)
        return _never
    fold: Callable[[str], str] = (lambda s: s) if exact else str.lower
    want = fold(value)
    if op == "eq":
        return lambda v: isinstance(v, str) and fold(v) == want
    if op == "co":
        return lambda v: isinstance(v, str) and want in fold(v)
    if op == "sw":
        return lambda v: isinstance(v, str) and fold(v).startswith(want)
    if op == "ew":
        return lambda v: isinstance(v, str) and fold(v).endswith(want)
    order = _ORDER[op]
    when = _as_datetime(value)
    if when is None:  # strings: lexicographic
        return lambda v: isinstance(v, str) and order(fold(v), want)

    def chrono(v: Any) -> bool:  # dateTime: chronological, falling back to lexicographic
        if not isinstance(v, str):
            return False
        got = _as_datetime(v)
        return order(fold(v), want) if got is None else order(got, when)

    return chrono


class _Ctx:
    """Compile-time settings: lower-cased core schema URN, the caseExact oracle, and the dotted-name prefix."""

    def __init__(self, core: str, case_exact: Callable[[str], bool] | None, prefix: str) -> None:
        self.core, self.case_exact, self.prefix = core, case_exact, prefix

    def exact(self, path: AttrPath) -> bool:
        return self.case_exact is not None and self.case_exact((self.prefix + path.dotted()).lower())


def _compile_compare(node: Compare, ctx: _Ctx) -> Predicate:
    resolve = _resolver(node.path, ctx.core, element_value=True)
    if node.value is None:  # "eq null" matches absent or null; "ne null" is its negation
        if node.op == "eq":
            return lambda doc: not resolve(doc)
        if node.op == "ne":
            return lambda doc: bool(resolve(doc))
        return _never
    # "ne" is "not eq": an absent attribute is not equal to anything.
    test = _value_test("eq" if node.op == "ne" else node.op, node.value, ctx.exact(node.path))
    if node.op == "ne":
        return lambda doc: not any(test(v) for v in resolve(doc))
    return lambda doc: any(test(v) for v in resolve(doc))


def _compile(node: Node, ctx: _Ctx) -> Predicate:
    if isinstance(node, Compare):
        return _compile_compare(node, ctx)
    if isinstance(node, Present):
        values = _resolver(node.path, ctx.core, element_value=False)
        return lambda doc: any(_has_value(v) for v in values(doc))
    if isinstance(node, And):
        left, right = _compile(node.left, ctx), _compile(node.right, ctx)
        return lambda doc: left(doc) and right(doc)
    if isinstance(node, Or):
        left, right = _compile(node.left, ctx), _compile(node.right, ctx)
        return lambda doc: left(doc) or right(doc)
    if isinstance(node, Not):
        inner = _compile(node.node, ctx)
        return lambda doc: not inner(doc)
    # RFC 7644 §3.4.2.2 valuePath: the filter applies to each element; simple elements act as {"value": element}.
    elements = _resolver(node.path, ctx.core, element_value=False)
    element_ctx = _Ctx("", ctx.case_exact, f"{ctx.prefix}{node.path.dotted()}.")
    match = _compile(node.filter, element_ctx)
    also = _compile(node.sub_compare, element_ctx) if node.sub_compare is not None else None

    def value_path(doc: Mapping[str, Any]) -> bool:
        for element in elements(doc):
            item = element if isinstance(element, Mapping) else {"value": element}
            if match(item) and (also is None or also(item)):
                return True
        return False

    return value_path


def compile_filter(node: Node, *, core_schema: str = "", case_exact: Callable[[str], bool] | None = None) -> Predicate:
    """Compile ``node`` once into a predicate over resource dicts; evaluation never raises."""
    return _compile(node, _Ctx(core_schema.lower(), case_exact, ""))


def eq_terms(node: Node) -> list[tuple[AttrPath, str | int | float | bool]]:
    """The non-null ``eq`` comparisons of the top-level conjunction, for index planning.

    A value path contributes its element's ``eq`` terms as dotted paths: ``emails[type eq "work"].value eq "x"``
    gives ``emails.value eq "x"`` (and ``emails.type eq "work"``), a superset the full filter then narrows."""
    if isinstance(node, And):
        return eq_terms(node.left) + eq_terms(node.right)
    if isinstance(node, Compare) and node.op == "eq" and node.value is not None:
        return [(node.path, node.value)]
    if isinstance(node, ValuePath) and node.path.sub is None:
        inner = eq_terms(node.filter) + (eq_terms(node.sub_compare) if node.sub_compare is not None else [])
        return [(AttrPath(node.path.urn, node.path.name, path.name), value)
                for path, value in inner if path.urn is None and path.sub is None]
    return []


def _path_key(path: AttrPath, core: str) -> str:
    """A path's allow-list spelling: lower-cased, URN dropped when it is the core schema."""
    dotted = path.dotted().lower()
    return dotted if path.urn is None or path.urn.lower() == core else f"{path.urn.lower()}:{dotted}"


def _value_path_key(path: AttrPath, node: Node | None, sub: str | None, core: str) -> str | None:
    """``emails[type eq "work"].value`` for a one-comparison ``eq`` value filter; None for any other value path."""
    if not isinstance(node, Compare) or node.op != "eq" or node.path.urn is not None:
        return None
    value = node.value.lower() if isinstance(node.value, str) else node.value
    key = f"{_path_key(path, core)}[{node.path.dotted().lower()} eq {json.dumps(value)}]"
    return key if sub is None else f"{key}.{sub.lower()}"


@lru_cache(maxsize=64)
def _allowed_keys(allowed: tuple[str, ...], core: str) -> frozenset[str]:
    keys: set[str] = set()
    for spelling in allowed:
        parsed = parse_path(spelling)
        if parsed.filter is None:
            keys.add(_path_key(parsed.attr, core))
        else:
            key = _value_path_key(parsed.attr, parsed.filter, parsed.sub, core)
            if key is not None:
                keys.add(key)
    return frozenset(keys)


def _check_supported(node: Node, raw: str) -> None:
    """docs/behaviour.md §5 check 1: only ``eq`` and ``and`` (value paths included), else FilterUnsupported."""
    if isinstance(node, And):
        _check_supported(node.left, raw)
        _check_supported(node.right, raw)
    elif isinstance(node, ValuePath):
        _check_supported(node.filter, raw)
        if node.sub_compare is not None:
            _check_supported(node.sub_compare, raw)
    elif not isinstance(node, Compare) or node.op != "eq":
        raise FilterUnsupported(raw)


def _check_allowed(node: Node, keys: frozenset[str], core: str) -> None:
    """docs/behaviour.md §5 check 2: every comparison names an allowed attribute, else FilterCombination."""
    if isinstance(node, And):
        _check_allowed(node.left, keys, core)
        _check_allowed(node.right, keys, core)
        return
    if isinstance(node, ValuePath):
        sub = node.sub_compare
        if sub is not None and (sub.path.urn is not None or sub.path.sub is not None):
            raise FilterCombination()
        key = _value_path_key(node.path, node.filter, None if sub is None else sub.path.name, core)
    else:
        key = _path_key(node.path, core) if isinstance(node, Compare | Present) else None
    if key is None or key not in keys:
        raise FilterCombination()


def enforce_allow_list(node: Node, raw: str, allowed: Collection[str], *, core_schema: str = "") -> None:
    """Apply Delinea's filter policy (docs/behaviour.md §5): FilterUnsupported first, then FilterCombination."""
    _check_supported(node, raw)
    core = core_schema.lower()
    _check_allowed(node, _allowed_keys(tuple(allowed), core), core)  # a profile's tuple: no copy, hashed once
