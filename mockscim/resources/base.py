"""The base of every resource kind: the hooks the core calls, with the defaults most kinds keep."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from mockscim.kinds import KindSpec
from mockscim.kinds.templates import SECRET_FLAGS
from mockscim.scim.errors import InvalidAttribute, InvalidValue, NotUnique, RequiredAttribute
from mockscim.scim.filters import parse_path
from mockscim.scim.patch import apply_operations
from mockscim.scim.schema import COMMON, ResourceType
from mockscim.scim.validate import schemas_of
from mockscim.store import Change
from mockscim.surfaces import scim_url

if TYPE_CHECKING:
    from mockscim.auth.principal import Principal
    from mockscim.scim.filters import Node
    from mockscim.scim.patch import Operation
    from mockscim.scim.profile import Profile
    from mockscim.store import Store

Doc = dict[str, Any]
_HIDDEN = frozenset({"passwordHash", "password", "fields", "secretTemplateId", "siteId", *SECRET_FLAGS})
"""Stored keys never rendered: RFC 7643 §4.1.1 password is returned "never"; secret fields, template, site and flags
never (docs/behaviour.md §3, §13: only the Secret Server API and the state export show them)."""


class Context(Protocol):
    """What a kind may use of the world around it: the narrow side of the core (``mockscim.core.Core`` is one)."""

    store: Store
    profile: Profile
    revoked: set[tuple[str, str]]
    secret_server_up: bool

    @property
    def kinds(self) -> Mapping[str, Kind]: ...

    def now(self) -> str: ...

    def new_version(self) -> str: ...

    def on_service_user_removed(self, user_name: str) -> None: ...


class Kind:
    """One resource kind (``Users``, ``Containers``…). Subclasses name their entry of the kind registry
    (:mod:`mockscim.kinds`) and override the hooks they need."""

    spec: ClassVar[KindSpec]

    def __init__(self, context: Context) -> None:
        self.context = context
        self.store = context.store
        types = context.profile.resource_types
        self.rtype: ResourceType = types.get(self.endpoint) or context.profile.all_types[self.endpoint]
        self._case_exact = _case_exact_table(self.rtype)
        self._paths = {p.lower(): p for p in self._case_exact}
        self._exact_indexes = _exact_indexes(self.rtype, self.spec)

    @property
    def endpoint(self) -> str:
        """The kind's name: its SCIM endpoint and store table (``Users``)."""
        return self.spec.name

    # -- identity and schema ---------------------------------------------------------------------------------------
    def new_id(self) -> str:
        """Users and Groups get UUIDs; Secret Server objects integer strings (docs/behaviour.md §3)."""
        return self.store.next_id(self.endpoint) if self.spec.integer_ids else str(uuid.uuid4())

    def schemas(self, doc: Mapping[str, Any]) -> list[str]:
        return schemas_of(self.rtype, doc)

    def case_exact(self, dotted_lower: str) -> bool:
        """RFC 7643 §2.2 caseExact of an attribute path (``emails.value``)."""
        return self._case_exact.get(self._paths.get(dotted_lower, dotted_lower), False)

    def exact_index(self, dotted: str) -> bool:
        """True when the store's index on ``dotted`` answers an ``eq`` of a string exactly: a single-valued string
        attribute whose index folds case as RFC 7643 §2.2 caseExact says the filter compares."""
        return dotted in self._exact_indexes

    def sort_index(self, sort_by: str) -> str | None:
        """The indexed attribute whose index orders resources as ``sortBy=sort_by`` does (RFC 7644 §3.4.2.3): a
        required single-valued string the index folds as its caseExact compares (``userName``), else ``None``."""
        try:
            path = parse_path(sort_by)
        except InvalidValue:
            return None
        attr = path.attr
        if attr.sub is not None or (attr.urn is not None and attr.urn.lower() != self.rtype.schema.id.lower()):
            return None
        name = self.canonical_path(attr.name)
        found = self.rtype.attr(name) if name is not None else None
        return name if name is not None and found is not None and found.required and self.exact_index(name) else None

    def canonical_path(self, dotted: str) -> str | None:
        """The schema's spelling of a dotted path (``username`` → ``userName``), or ``None`` if unknown."""
        return self._paths.get(dotted.lower())

    # -- hooks -----------------------------------------------------------------------------------------------------
    def before_read(self, caller: Principal) -> None:
        """Checks that come before anything else on a read (Secret Server availability, docs/behaviour.md §8)."""

    def before_create(self, caller: Principal) -> None:
        """Checks that come before anything else on a create (Secret Server availability for containers)."""

    def prepare(self, doc: Doc, old: Mapping[str, Any] | None) -> None:
        """Normalise a new or replaced document (defaults, password hashing)."""

    def carry_over(self, new: Doc, old: Mapping[str, Any]) -> None:
        """PUT: keep what a replacement cannot set (read-only and write-only values)."""

    def validate(self, doc: Doc, old: Mapping[str, Any] | None, caller: Principal) -> list[Change]:
        """Required attributes, references, uniqueness (docs/behaviour.md §4 precedence 7-9); returns extra changes."""
        self.require(doc)
        return []

    def require_owner(self, doc: Mapping[str, Any], caller: Principal) -> None:
        """403 when the caller lacks Owner on the addressed resource (docs/behaviour.md §4); nothing for Users and
        Groups."""

    def visibility(self, caller: Principal) -> Callable[[Mapping[str, Any]], bool] | None:
        """A predicate hiding what the caller may not list, or ``None`` when everything is visible."""
        return None

    def guard_filter(self, node: Node | None, caller: Principal) -> None:
        """403 for a filter naming a container or secret the caller does not own (docs/behaviour.md §4)."""

    def intercept_patch(self, ops: Sequence[Operation], old: Mapping[str, Any],
                        caller: Principal) -> tuple[list[Operation], list[Change]]:
        """Take out operations on derived attributes (a container's ``privilegedData``) and turn them into changes."""
        return list(ops), []

    def apply_patch(self, old: Mapping[str, Any], ops: Sequence[Operation], *, strict_read_only: bool) -> Doc:
        """The new stored document after ``ops`` (RFC 7644 §3.5.2, atomic: ``old`` is never changed)."""
        return apply_operations(self.rtype, old, ops, resource_id=str(old["id"]), strict_read_only=strict_read_only)

    def trimmed(self, doc: Mapping[str, Any], keeps: Callable[[str], bool]) -> Mapping[str, Any]:
        """``doc`` without the stored attributes a projection drops, where leaving them out before rendering saves
        walking them (a group's members, RFC 7644 §3.4.2.5); the others are dropped after rendering."""
        return doc

    def on_delete(self, doc: Mapping[str, Any]) -> list[Change]:
        """Cascades of a delete (docs/behaviour.md §4)."""
        return []

    def render(self, doc: Mapping[str, Any], base: str) -> Doc:
        """The resource as the API shows it: derived attributes, ``$ref``s and ``meta.location`` filled in."""
        out = {k: v for k, v in doc.items() if k not in _HIDDEN}
        out["meta"] = {**doc["meta"], "location": scim_url(base, self.endpoint, doc["id"])}
        return out

    # -- shared checks ---------------------------------------------------------------------------------------------
    def require(self, doc: Mapping[str, Any]) -> None:
        """RFC 7643 §7 ``required``: every required top-level attribute is present; a string of only whitespace is
        no value (a `userName` of spaces names nobody)."""
        for attr in self.rtype.schema.attributes:
            if not attr.required:
                continue
            value = doc.get(attr.name)
            if value in (None, "", [], {}) or (isinstance(value, str) and not value.strip()):
                raise RequiredAttribute(attr.name)

    def unique(self, doc: Mapping[str, Any], attr: str, label: str | None = None) -> None:
        """409 when another document of this kind has the same indexed value (docs/behaviour.md §3)."""
        value = doc.get(attr)
        if value is None:
            return
        for other in self.store.lookup_ids(self.endpoint, attr, value):  # ids: no document to read
            if other != doc["id"]:
                raise NotUnique(label or attr)

    def reference(self, doc: Mapping[str, Any], attr: str, target: str) -> Mapping[str, Any] | None:
        """The resource ``doc[attr].value`` names in ``target``; a dangling reference is invalid (docs/behaviour.md
        §3)."""
        ref = doc.get(attr)
        if ref is None:
            return None
        value = ref.get("value") if isinstance(ref, Mapping) else None
        found = self.store.get(target, value) if isinstance(value, str) else None
        if found is None:
            raise InvalidAttribute(attr)
        return found

    def ref(self, endpoint: str, id: str, base: str, display: str | None) -> Doc:
        """A rendered reference ``{value, display, $ref}``."""
        out: Doc = {"value": id}
        if display is not None:
            out["display"] = display
        out["$ref"] = scim_url(base, endpoint, id)
        return out


def _case_exact_table(rtype: ResourceType) -> dict[str, bool]:
    """Every dotted attribute path of ``rtype`` → caseExact, for filter compilation and planning."""
    table: dict[str, bool] = {}
    for attr in (*COMMON, *rtype.schema.attributes):
        table[attr.name] = attr.case_exact
        for sub in attr.sub_attributes:
            table[f"{attr.name}.{sub.name}"] = sub.case_exact
    return table


def _exact_indexes(rtype: ResourceType, spec: KindSpec) -> frozenset[str]:
    indexed = spec.indexes
    return frozenset(a.name for a in (*COMMON, *rtype.schema.attributes)
                     if a.name in indexed and a.type == "string" and not a.multi_valued
                     and a.case_exact != indexed[a.name])
