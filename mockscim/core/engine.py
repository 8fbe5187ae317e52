"""The pure core: create, read, list, replace, patch and delete any kind against the store (docs/behaviour.md §3-6)."""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mockscim.auth.principal import ANONYMOUS, Principal
from mockscim.auth.tokens import TokenRegistry
from mockscim.core.state import StateError, StateReader, normalise_state, read_state
from mockscim.resources import KINDS
from mockscim.resources.base import Kind
from mockscim.scim import filters
from mockscim.scim.errors import Immutable, NotFound, PreconditionFailed
from mockscim.scim.patch import parse_operations
from mockscim.scim.patch_values import same_value
from mockscim.scim.profile import Profile
from mockscim.scim.query import Page, parse_page, sort_key
from mockscim.scim.validate import clean_resource
from mockscim.store import Change, Delete, Put, Store
from mockscim.util import jsontext
from mockscim.util.timefmt import iso_utc_epoch


@dataclass(slots=True)
class ListParams:
    """The query parameters of a list (GET on a collection, or ``POST /.search``); not frozen: a frozen dataclass
    costs a ``object.__setattr__`` per field, and one is built per list request."""

    filter: str | None = None
    start_index: str | None = None
    count: str | None = None
    sort_by: str | None = None
    sort_order: str | None = None


@dataclass
class Core:
    """Everything a request can do to the data, with no HTTP in sight. Endpoints are thin wrappers around it."""

    store: Store
    profile: Profile
    fixture: Callable[[], str | bytes]
    fixture_stamp: Callable[[], object] = lambda: None
    """Changes when the fixture's text may have (the file's size and time): a reset then reads it again."""
    secret_server_default: bool = True
    secret_server_up: bool = True
    revoked: set[tuple[str, str]] = field(default_factory=set)
    checked_out: dict[str, str] = field(default_factory=dict)
    """Secret id → the user id that has it checked out (docs/behaviour.md §9); not state: reset and load clear it."""
    tokens: TokenRegistry | None = None
    kinds: dict[str, Kind] = field(default_factory=dict)
    _version_lock: threading.Lock = field(default_factory=threading.Lock)
    _last_version: int = 0
    _principals: dict[tuple[str | None, int], Principal | None] = field(default_factory=dict)
    _kept: tuple[object, Any] | None = None  # (fixture stamp, the store's packed copy of the loaded fixture)

    def __post_init__(self) -> None:
        self.kinds = {name: cls(self) for name, cls in KINDS.items()}
        self.secret_server_up = self.secret_server_default
        if self.tokens is not None:
            self.tokens.owner_of = self.owner_of  # docs/behaviour.md §2: tokens belong to a principal's id

    # -- state -----------------------------------------------------------------------------------------------------
    def start(self) -> None:
        """Load the fixture into a store that did not come from disk (at start-up, before any request)."""
        if not getattr(self.store, "loaded_from_disk", False):
            self._reset()

    async def load_state(self, raw: Any) -> None:
        """Replace the whole store with ``raw`` (docs/behaviour.md §13); invalid → StateError, store unchanged.
        Returns once the new state is durable."""
        self._load(raw)
        await self.store.sync()

    async def reset(self) -> None:
        """Back to the start-up fixture, Secret Server availability and no revocations (docs/behaviour.md §12)."""
        self._reset()
        await self.store.sync()

    def _load(self, raw: Any) -> None:
        self._swap(normalise_state(raw, self.profile, now=self.now()))

    def _swap(self, state: Mapping[str, Sequence[Mapping[str, Any]]]) -> None:
        with self.store.lock:
            self.store.load(state)
            self.revoked.clear()
            self.checked_out.clear()
            if self.tokens is not None:
                self.tokens.purge()  # docs/behaviour.md §2: a principal gone now is gone for its tokens for good

    def _reset(self) -> None:
        # The fixture's millions of new dicts would set off full cyclic collections all along; none is garbage.
        paused = gc.isenabled()
        gc.disable()
        try:
            self._reset_store()
        finally:
            if paused:
                gc.enable()

    def _reset_store(self) -> None:
        stamp = self.fixture_stamp()
        if self._kept is not None and self._kept[0] == stamp:
            # The fixture as loaded before, in the store's own form: a swap, not a parse (docs/behaviour.md §12).
            with self.store.lock:
                self.store.load(self._kept[1])
                self.revoked.clear()
        else:
            state = self._read_fixture()
            self._swap(state)
            self._kept = (stamp, state)  # loading a state never changes it
        self.secret_server_up = self.secret_server_default

    def _read_fixture(self) -> Mapping[str, Sequence[Mapping[str, Any]]]:
        """The fixture in the store's own form, each entry stored as soon as it is parsed and checked: the whole
        parse is never held at once (docs/store.md "Loading a fixture").

        Only a plain text is read so (an object of lists, kinds in state-file order). Anything else, or any error,
        and the text is read again whole, which gives the same state or says precisely what is wrong with it.
        """
        staging = self.store.staging(streamed=True)
        reader = StateReader(self.profile, self.now(), staging.putter, owned=True)
        try:
            for kind, entries in jsontext.stream_lists(self.fixture()):  # no reference kept: freed once decoded
                reader.read(kind, entries)
            reader.finish()
            return staging.state()
        except (jsontext.JsonTextError, StateError):
            pass
        del staging, reader
        try:
            raw = jsontext.loads(self.fixture())
        except jsontext.JsonTextError as exc:
            raise StateError(f"the fixture is not usable JSON: {exc}") from None
        staging = self.store.staging()
        read_state(raw, StateReader(self.profile, self.now(), staging.putter))
        return staging.state()

    def close(self) -> None:
        """Flush and close the store (a clean shutdown, docs/behaviour.md §14)."""
        self.store.close()

    def export_state(self) -> dict[str, list[dict[str, Any]]]:
        return self.store.export()

    # -- principals (docs/behaviour.md §2) -----------------------------------------------------------------------------
    def principal(self, user_name: str | None) -> Principal | None:
        """The caller behind a token: ``None`` (static token) is the first service user; a user no longer in the
        state has no principal (its OAuth tokens stop working).

        Every authenticated request asks this, so the answer is cached until the service users change; a cached
        principal is re-checked against the userName index (no document read) in case its User was deleted or renamed.
        """
        key = (user_name.lower() if user_name else None, self.store.revision("serviceUsers"))
        cached = self._principals.get(key, self)
        if cached is not self and isinstance(cached, Principal | None):
            if cached is None or cached.user_id is None:
                return cached
            if cached.user_id in self.store.lookup_ids("Users", "userName", cached.user_name):
                return cached
        found = self._find_principal(user_name)
        if len(self._principals) > 1024:
            self._principals.clear()
        self._principals[key] = found
        return found

    def _find_principal(self, user_name: str | None) -> Principal | None:
        if user_name is None:
            first = next(self.store.all("serviceUsers"), None)
            if first is None:
                return ANONYMOUS
            user_name = str(first["userName"])
        elif not any(str(su["userName"]).lower() == user_name.lower() for su in self.store.all("serviceUsers")):
            return None
        users = self.store.lookup("Users", "userName", user_name)
        if not users:
            return None
        return Principal(str(users[0]["userName"]), str(users[0]["id"]))

    def authenticate(self, token: str, *, users: bool = False) -> Principal | None:
        """The caller a bearer token stands for (docs/behaviour.md §2), or ``None`` when it stands for nobody now.

        The static token is the first service user; an OAuth token is the service user it was issued to while that
        user exists. With ``users`` (the Secret Server API, §9), a token of the password grant may also stand for an
        active User who is no service user.
        """
        if self.tokens is None:
            return None
        resolved = self.tokens.resolve(token)
        if resolved is None:
            return None
        principal = self.principal(resolved[1])
        if principal is None and users and resolved[1] is not None:
            found = self.store.lookup("Users", "userName", resolved[1])
            if found and found[0].get("active", True) is not False:
                principal = Principal(str(found[0]["userName"]), str(found[0]["id"]))
        return principal

    def owner_of(self, user_name: str) -> str | None:
        """The principal ``user_name`` stands for now, as the key tokens are bound to (docs/behaviour.md §2): its
        service user's id, else (password grant on the Secret Server API) an active User's id."""
        principal = self.principal(user_name)
        if principal is not None and principal.user_id is not None:
            return f"su:{principal.user_id}"
        found = self.store.lookup("Users", "userName", user_name)
        return f"user:{found[0]['id']}" if found and found[0].get("active", True) is not False else None

    def service_user_secret(self, client_id: str) -> str | None:
        """The clientSecret of the service user ``client_id`` (its userName, docs/behaviour.md §13), if any."""
        for su in self.store.all("serviceUsers"):
            if str(su["userName"]).lower() == client_id.lower():
                return str(su["clientSecret"])
        return None

    def on_service_user_removed(self, user_name: str) -> None:
        if self.tokens is not None:
            self.tokens.forget_user(user_name)

    # -- helpers used by kinds -------------------------------------------------------------------------------------
    def now(self) -> str:
        """RFC 7643 §2.3.5 dateTime, UTC, millisecond precision."""
        return iso_utc_epoch()

    def new_version(self) -> str:
        """A weak ETag (RFC 7232 §2.3) that changes on every write (docs/behaviour.md §6)."""
        with self._version_lock:
            n = max(self._last_version + 1, time.time_ns() // 1000)
            self._last_version = n
        return f'W/"{n:x}"'

    def kind(self, endpoint: str) -> Kind:
        if endpoint not in self.profile.resource_types:
            raise NotFound(endpoint)
        return self.kinds[endpoint]

    def get_or_404(self, endpoint: str, id: str) -> Mapping[str, Any]:
        doc = self.store.get(endpoint, id)
        if doc is None:
            raise NotFound(id)
        return doc

    # -- operations ------------------------------------------------------------------------------------------------
    async def create(self, endpoint: str, body: Mapping[str, Any], caller: Principal) -> Mapping[str, Any]:
        """Create a resource; returns it once it is durable (docs/behaviour.md §4, §13)."""
        doc = self._create(endpoint, body, caller)
        await self.store.sync()
        return doc

    async def replace(self, endpoint: str, id: str, body: Mapping[str, Any], caller: Principal,
                      if_match: str | None = None) -> Mapping[str, Any]:
        """PUT (docs/behaviour.md §6); returns the new resource once it is durable."""
        doc = self._replace(endpoint, id, body, caller, if_match)
        await self.store.sync()
        return doc

    async def patch(self, endpoint: str, id: str, body: Mapping[str, Any], caller: Principal,
                    if_match: str | None = None) -> Mapping[str, Any]:
        """PATCH (docs/behaviour.md §6), atomic; returns the new resource once it is durable."""
        doc = self._patch(endpoint, id, body, caller, if_match)
        await self.store.sync()
        return doc

    async def delete(self, endpoint: str, id: str, caller: Principal, if_match: str | None = None) -> None:
        """DELETE with its cascades (docs/behaviour.md §4); returns once durable."""
        self._delete(endpoint, id, caller, if_match)
        await self.store.sync()

    def _create(self, endpoint: str, body: Mapping[str, Any], caller: Principal) -> Mapping[str, Any]:
        kind = self.kind(endpoint)
        kind.before_create(caller)
        doc = clean_resource(kind.rtype, body)
        kind.prepare(doc, None)
        with self.store.lock:
            doc["id"] = kind.new_id()
            extra = kind.validate(doc, None, caller)
            self._stamp(kind, doc, None)
            self.store.apply([Put(endpoint, doc), *extra])
        return doc

    def get(self, endpoint: str, id: str, caller: Principal) -> Mapping[str, Any]:
        kind = self.kind(endpoint)
        kind.before_read(caller)
        doc = self.get_or_404(endpoint, id)
        kind.require_owner(doc, caller)
        return doc

    def list(self, endpoint: str, params: ListParams, caller: Principal) -> tuple[int, list[Mapping[str, Any]], Page]:
        kind = self.kind(endpoint)
        kind.before_read(caller)
        page = parse_page(params.start_index, params.count,
                          default_count=self.profile.default_count, max_results=self.profile.max_results)
        node = None if params.filter is None else self._parse_filter(endpoint, params.filter)
        with self.store.lock:
            kind.guard_filter(node, caller)
            visible = kind.visibility(caller)
            if node is None and visible is None and not params.sort_by:
                # Fast path: an unfiltered list of everything is a slice, not a scan.
                total = self.store.count(endpoint)
                return total, self.store.page(endpoint, page.start - 1, page.start - 1 + page.count), page
            if node is None and visible is None and params.sort_by and self.profile.sorting:
                # Sorted by an attribute whose index orders it as sortBy does: a slice of the index's order.
                attr = kind.sort_index(params.sort_by)
                ids = None if attr is None else self.store.sorted_ids(
                    endpoint, attr, (params.sort_order or "").lower() == "descending")
                if ids is not None:
                    window = ids[page.start - 1: page.start - 1 + page.count]
                    return len(ids), [d for i in window if (d := self.store.get(endpoint, i)) is not None], page
            candidates, exact = self._candidates(kind, node)
            match = None if exact or node is None else filters.compile_filter(
                node, core_schema=kind.rtype.schema.id, case_exact=kind.case_exact)
            found = [d for d in candidates if (match is None or match(d)) and (visible is None or visible(d))]
        if params.sort_by and self.profile.sorting:
            found.sort(key=sort_key(kind.rtype, params.sort_by),
                       reverse=(params.sort_order or "").lower() == "descending")
        return len(found), found[page.start - 1: page.start - 1 + page.count], page

    def _replace(self, endpoint: str, id: str, body: Mapping[str, Any], caller: Principal,
                 if_match: str | None = None) -> Mapping[str, Any]:
        kind = self.kind(endpoint)
        with self.store.lock:
            old = self.get_or_404(endpoint, id)
            kind.require_owner(old, caller)
            if "id" in body and body["id"] != id and self.profile.foreign_id == "reject":
                raise Immutable("id")
            new = clean_resource(kind.rtype, body)
            self._keep_immutables(kind, new, old)
            kind.carry_over(new, old)
            kind.prepare(new, old)
            new["id"] = id
            extra = kind.validate(new, old, caller)
            self._check_if_match(old, if_match)
            self._stamp(kind, new, old)
            self.store.apply([Put(endpoint, new, old), *extra])
        return new

    def _patch(self, endpoint: str, id: str, body: Mapping[str, Any], caller: Principal,
               if_match: str | None = None) -> Mapping[str, Any]:
        kind = self.kind(endpoint)
        with self.store.lock:
            old = self.get_or_404(endpoint, id)
            kind.require_owner(old, caller)
            ops = parse_operations(body)
            ops, moves = kind.intercept_patch(ops, old, caller)
            new = kind.apply_patch(old, ops, strict_read_only=self.profile.foreign_id == "reject")
            kind.prepare(new, old)
            extra = [*kind.validate(new, old, caller), *moves]
            self._check_if_match(old, if_match)
            self._stamp(kind, new, old)
            self.store.apply([Put(endpoint, new, old), *extra])
        return new

    def _delete(self, endpoint: str, id: str, caller: Principal, if_match: str | None = None) -> None:
        kind = self.kind(endpoint)
        with self.store.lock:
            old = self.get_or_404(endpoint, id)
            kind.require_owner(old, caller)
            self._check_if_match(old, if_match)
            changes: list[Change] = [Delete(endpoint, id), *kind.on_delete(old)]
            self.store.apply(changes)
            if endpoint == "Users" and self.tokens is not None:
                # docs/behaviour.md §2: its tokens go with it, whatever comes back later under its name or id.
                self.tokens.forget_owner(f"su:{id}")
                self.tokens.forget_owner(f"user:{id}")

    async def transact(self, build: Callable[[], Sequence[Change]]) -> Sequence[Change]:
        """A Secret Server write (docs/behaviour.md §9): ``build`` reads the store, checks, and returns the changes,
        all under the store's lock, so the checks and the write are one atomic step (a refusal raised by ``build``
        writes nothing). Every ``Put`` of a resource kind is stamped (``meta``, ``schemas``) as a SCIM write is.
        Returns the changes once they are durable."""
        with self.store.lock:
            changes = list(build())
            for change in changes:
                if isinstance(change, Put) and change.kind in self.kinds and isinstance(change.doc, dict):
                    self._stamp(self.kinds[change.kind], change.doc, change.previous)
            self.store.apply(changes)
        await self.store.sync()
        return changes

    # -- internals -------------------------------------------------------------------------------------------------
    def _parse_filter(self, endpoint: str, raw: str) -> filters.Node:
        node = filters.parse_filter(raw)
        allow = self.profile.filter_allow_list
        if allow is not None:
            # docs/behaviour.md §5: Delinea's allow-list, with its three distinct errors.
            filters.enforce_allow_list(node, raw, allow.get(endpoint, ()),
                                       core_schema=self.kinds[endpoint].rtype.schema.id)
        return node

    def _candidates(self, kind: Kind, node: filters.Node | None) -> tuple[Iterable[Mapping[str, Any]], bool]:
        """Plan a filter: an ``eq`` on ``id`` or an indexed attribute is answered from the index (docs/behaviour.md §5).

        Also says whether the candidates are exactly the matches (a lone ``eq`` of a string on ``id`` or on an
        attribute the index folds as the filter compares it), so that no predicate need be compiled or run. The
        predicate is never cached: provisioning clients look each user up once (``userName eq "<that user>"``),
        so a cache would only keep garbage alive (measured: it doubled the cost of ``eq`` at 100k users).
        """
        if node is not None:
            alone = isinstance(node, filters.Compare) and isinstance(node.value, str) and node.path.sub is None
            for path, value in filters.eq_terms(node):
                if path.urn and path.urn.lower() != kind.rtype.schema.id.lower():
                    continue
                dotted = kind.canonical_path(path.dotted())
                if dotted == "id":
                    doc = self.store.get(kind.endpoint, str(value))
                    return ([doc] if doc is not None else []), alone
                if dotted is not None and self.store.indexed(kind.endpoint, dotted):
                    return self.store.lookup(kind.endpoint, dotted, value), alone and kind.exact_index(dotted)
        # Unpacked one by one as the filter goes: never the whole kind at once.
        return self.store.all(kind.endpoint), False

    def _keep_immutables(self, kind: Kind, new: dict[str, Any], old: Mapping[str, Any]) -> None:
        """PUT: an absent immutable keeps its value; a different one is refused (docs/behaviour.md §6, RFC 7643 §7)."""
        for scope_key, schema in ((None, kind.rtype.schema), *((e.id, e) for e in kind.rtype.extensions)):
            new_scope = new if scope_key is None else new.get(scope_key)
            old_scope = old if scope_key is None else old.get(scope_key)
            if not isinstance(old_scope, Mapping):
                continue
            for attr in schema.attributes:
                if attr.mutability != "immutable" or attr.name not in old_scope:
                    continue
                if new_scope is None:
                    new_scope = new.setdefault(str(scope_key), {})
                if attr.name in new_scope and not same_value(attr, old_scope[attr.name], new_scope[attr.name]):
                    raise Immutable(attr.name)
                # Absent, or the same value (caseExact-folded, as PATCH decides it): the stored spelling stays.
                new_scope[attr.name] = old_scope[attr.name]

    def _check_if_match(self, old: Mapping[str, Any], if_match: str | None) -> None:
        """RFC 9110 §13.1.1: ``If-Match`` with no current version → 412 (checked last, docs/behaviour.md §4
        precedence)."""
        if if_match is None:
            return
        tags = {t.strip() for t in if_match.split(",")}
        if "*" in tags:
            return
        current = old.get("meta", {}).get("version")
        if current not in tags and (current or "").removeprefix("W/") not in tags:
            raise PreconditionFailed()

    def _stamp(self, kind: Kind, doc: dict[str, Any], old: Mapping[str, Any] | None) -> None:
        now = self.now()
        created = old.get("meta", {}).get("created", now) if old else now
        doc["schemas"] = kind.schemas(doc)
        doc["meta"] = {"resourceType": kind.rtype.name, "created": created, "lastModified": now,
                       "version": self.new_version()}
