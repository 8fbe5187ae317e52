"""List parameters: paging (RFC 7644 §3.4.2.4), sorting (§3.4.2.3) and attribute projection (§3.4.2.5)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mockscim.scim.errors import InvalidAttribute, InvalidValue
from mockscim.scim.schema import ResourceType

LIST_RESPONSE = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
_INTEGER = re.compile(r"-?[0-9]+")


@dataclass(frozen=True)
class Page:
    """A resolved page request: 1-based ``start`` and a ``count`` already capped."""

    start: int
    count: int


def parse_page(start_index: str | None, count: str | None, *, default_count: int, max_results: int) -> Page:
    """Read ``startIndex``/``count`` (docs/behaviour.md §4): below 1 → 1, below 0 → 0, capped at maxResults;
    non-integers → 400."""
    start = _int_param(start_index, "startIndex", 1)
    size = _int_param(count, "count", default_count)
    return Page(max(start, 1), min(max(size, 0), max_results))


def _int_param(raw: str | int | None, name: str, default: int) -> int:
    if raw is None or raw == "":
        return default
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    text = str(raw).strip()
    # RFC 7644 §3.4.2.4 integers are JSON integers (RFC 8259 §6): ASCII digits, no "_", no other scripts' digits.
    if not _INTEGER.fullmatch(text):
        raise InvalidAttribute(name)
    return int(text)


def list_response(resources: Sequence[Mapping[str, Any]], total: int, page: Page) -> dict[str, Any]:
    """An RFC 7644 §3.4.2 ListResponse, ``Resources`` always present (docs/behaviour.md §4: ``[]`` when ``count`` ≤ 0,
    as §3.4.2 requires it whenever ``totalResults`` is non-zero)."""
    body: dict[str, Any] = {
        "schemas": [LIST_RESPONSE],
        "totalResults": total,
        "startIndex": page.start,
        "itemsPerPage": len(resources) if page.count > 0 else 0,
    }
    body["Resources"] = list(resources) if page.count > 0 else []
    return body


def sort_key(rtype: ResourceType, sort_by: str) -> Any:
    """A key function for ``sortBy`` (RFC 7644 §3.4.2.3): missing values sort last, strings case-insensitively."""
    from mockscim.scim.filters import parse_path  # local: filters is only needed when a client sorts

    try:
        path = parse_path(sort_by)
    except InvalidValue:
        raise InvalidValue(scim_type="invalidPath") from None
    attr = path.attr
    exact = _case_exact(rtype, attr.urn, attr.name, attr.sub)

    def key(doc: Mapping[str, Any]) -> tuple[int, Any]:
        scope: Any = doc
        if attr.urn and attr.urn.lower() != rtype.schema.id.lower():
            ext = rtype.ext(attr.urn)
            scope = doc.get(ext.id, {}) if ext else {}
        value = _get_ci(scope, attr.name)
        if isinstance(value, list):
            primary = next((v for v in value if isinstance(v, Mapping) and v.get("primary")), None)
            value = primary if primary is not None else (value[0] if value else None)
        if attr.sub is not None or isinstance(value, Mapping):
            value = _get_ci(value, attr.sub or "value") if isinstance(value, Mapping) else None
        if value is None:
            return (1, "")
        # RFC 7644 §3.4.2.3: case-insensitive order for caseExact false strings, case-sensitive for caseExact ones.
        return (0, value.lower() if isinstance(value, str) and not exact else value)

    return key


def _case_exact(rtype: ResourceType, urn: str | None, name: str, sub: str | None) -> bool:
    """RFC 7643 §2.2 caseExact of the attribute ``sortBy`` names (a complex one sorts by ``value``, §3.4.2.3)."""
    if urn and urn.lower() != rtype.schema.id.lower():
        ext = rtype.ext(urn)
        top = ext.attr(name) if ext else None
    else:
        top = rtype.attr(name)
    if top is None:
        return False
    if top.type == "complex":
        child = top.sub(sub or "value")
        return child is not None and child.case_exact
    return top.case_exact


def _get_ci(scope: Any, name: str) -> Any:
    if not isinstance(scope, Mapping):
        return None
    if name in scope:
        return scope[name]
    low = name.lower()
    return next((v for k, v in scope.items() if k.lower() == low), None)


@dataclass(frozen=True)
class Projection:
    """``attributes`` / ``excludedAttributes`` (RFC 7644 §3.4.2.5), as lower-cased ``name`` / ``name.sub`` paths."""

    include: frozenset[str] = frozenset()
    exclude: frozenset[str] = frozenset()

    @classmethod
    def parse(cls, rtype: ResourceType, attributes: str | None, excluded: str | None) -> Projection:
        return cls(_paths(rtype, attributes), _paths(rtype, excluded))

    def __bool__(self) -> bool:
        return bool(self.include or self.exclude)

    def keeps(self, name: str) -> bool:
        """Whether the top-level attribute ``name`` (core schema) can appear in a projected resource."""
        low = name.lower()
        if low in ("id", "schemas"):
            return True
        if self.include:
            return low in self.include or bool(_subs(self.include, low))
        return low not in self.exclude

    def apply(self, rtype: ResourceType, doc: dict[str, Any]) -> dict[str, Any]:
        """Project a rendered resource; ``id`` and ``schemas`` are always returned (RFC 7643 §7 returned=always)."""
        if self.include:
            out: dict[str, Any] = {}
            for key, value in doc.items():
                low = key.lower()
                if low in ("id", "schemas") or low in self.include:
                    out[key] = value
                elif isinstance(value, Mapping) or isinstance(value, list):
                    subs = _subs(self.include, low)
                    if subs:
                        picked = _pick(value, subs)
                        if picked:
                            out[key] = picked
            return out
        out = {}
        for key, value in doc.items():
            low = key.lower()
            if low in self.exclude and low not in ("id", "schemas"):
                continue
            subs = _subs(self.exclude, low)
            out[key] = _drop(value, subs) if subs else value
        return out


def _paths(rtype: ResourceType, raw: str | None) -> frozenset[str]:
    if not raw:
        return frozenset()
    out: set[str] = set()
    for part in raw.split(","):
        path = part.strip()
        if not path:
            continue
        low = path.lower()
        core = rtype.schema.id.lower() + ":"
        if low.startswith(core):
            low = low[len(core):]
        else:
            for ext in rtype.extensions:
                if low == ext.id.lower():
                    break
                if low.startswith(ext.id.lower() + ":"):
                    low = ext.id.lower() + "|" + low[len(ext.id) + 1:]
                    break
        out.add(low)
    return frozenset(out)


def _subs(paths: frozenset[str], head: str) -> set[str]:
    """The sub-paths of ``paths`` under ``head``; extension paths are stored as ``<urn>|<attr>``."""
    out = set()
    for p in paths:
        sep = "|" if p.startswith("urn:") else "."
        first, found, rest = p.partition(sep)
        if found and first == head:
            out.add(rest)
    return out


def _pick(value: Any, subs: set[str]) -> Any:
    if isinstance(value, list):
        return [p for p in (_pick(v, subs) for v in value) if p]
    if isinstance(value, Mapping):
        return {k: v for k, v in value.items() if k.lower() in subs}
    return None


def _drop(value: Any, subs: set[str]) -> Any:
    if isinstance(value, list):
        return [_drop(v, subs) for v in value]
    if isinstance(value, Mapping):
        return {k: v for k, v in value.items() if k.lower() not in subs}
    return value
