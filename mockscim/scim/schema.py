"""Attribute definitions of every served schema (RFC 7643 §7 characteristics) and the lookups built on them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from mockscim import kinds
from mockscim.scim.schema_model import Attribute, Schema

__all__ = ["Attribute", "ResourceType", "Schema", "build_resource_types"]

CORE_USER = kinds.USERS.schema
ENTERPRISE_USER = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
LINKED_OBJECT = "urn:ietf:params:scim:schemas:pam:1.0:LinkedObject"
CORE_GROUP = kinds.GROUPS.schema
CONTAINER = kinds.CONTAINERS.schema
CONTAINER_PERMISSION = kinds.CONTAINER_PERMISSIONS.schema
PRIVILEGED_DATA = kinds.PRIVILEGED_DATA.schema
PRIVILEGED_DATA_PERMISSION = kinds.PRIVILEGED_DATA_PERMISSIONS.schema


def _multi(
    name: str,
    *,
    value_type: str = "string",
    refs: tuple[str, ...] = (),
    mutability: str = "readWrite",
    types: tuple[str, ...] = ("work", "home", "other"),
    description: str = "",
) -> Attribute:
    """A multi-valued complex attribute with the RFC 7643 §2.4 sub-attributes value, display, type, primary."""
    return Attribute(
        name,
        "complex",
        multi_valued=True,
        mutability=mutability,
        description=description,
        sub_attributes=(
            Attribute("value", value_type, mutability=mutability, reference_types=refs),
            Attribute("display", mutability=mutability),
            Attribute("type", mutability=mutability, canonical_values=types),
            Attribute("primary", "boolean", mutability=mutability),
        ),
    )


def _ref(
    name: str,
    refs: tuple[str, ...],
    *,
    mutability: str = "readWrite",
    required: bool = False,
    extra: tuple[Attribute, ...] = (),
    description: str = "",
) -> Attribute:
    """A single-valued reference to another resource: ``{value, display, $ref}`` (ids are case-exact, docs/behaviour.md
    §3)."""
    return Attribute(
        name,
        "complex",
        mutability=mutability,
        required=required,
        description=description,
        sub_attributes=(
            Attribute("value", mutability=mutability, case_exact=True),
            Attribute("display", mutability="readOnly"),
            *extra,
            Attribute("$ref", "reference", mutability="readOnly", case_exact=True, reference_types=refs),
        ),
    )


def _user_schema() -> Schema:
    name = Attribute(
        "name",
        "complex",
        description="The components of the user's real name.",
        sub_attributes=tuple(
            Attribute(n)
            for n in ("formatted", "familyName", "givenName", "middleName", "honorificPrefix", "honorificSuffix")
        ),
    )
    addresses = Attribute(
        "addresses",
        "complex",
        multi_valued=True,
        sub_attributes=(
            *(Attribute(n) for n in ("formatted", "streetAddress", "locality", "region", "postalCode", "country")),
            Attribute("type", canonical_values=("work", "home", "other")),
            Attribute("primary", "boolean"),
        ),
    )
    groups = Attribute(
        "groups",
        "complex",
        multi_valued=True,
        mutability="readOnly",
        sub_attributes=(
            Attribute("value", mutability="readOnly", case_exact=True),
            Attribute("$ref", "reference", mutability="readOnly", case_exact=True, reference_types=("Group",)),
            Attribute("display", mutability="readOnly"),
            Attribute("type", mutability="readOnly", canonical_values=("direct", "indirect")),
        ),
    )
    attrs = (
        Attribute(
            "userName",
            required=True,
            uniqueness="server",
            mutability="immutable",
            description="Unique identifier for the User, used to authenticate.",
        ),
        name,
        *(Attribute(n) for n in ("displayName", "nickName")),
        Attribute("profileUrl", "reference", reference_types=("external",)),
        *(Attribute(n) for n in ("title", "userType", "preferredLanguage", "locale", "timezone")),
        Attribute("active", "boolean"),
        Attribute("password", mutability="writeOnly", returned="never"),
        _multi("emails"),
        _multi("phoneNumbers", types=("work", "home", "mobile", "fax", "pager", "other")),
        _multi("ims", types=("aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo")),
        _multi("photos", value_type="reference", refs=("external",), types=("photo", "thumbnail")),
        addresses,
        groups,
        _multi("entitlements", types=()),
        _multi("roles", types=()),
        _multi("x509Certificates", value_type="binary", types=()),
    )
    return Schema(CORE_USER, "User", "User Account", attrs)


def _group_schema() -> Schema:
    members = Attribute(
        "members",
        "complex",
        multi_valued=True,
        sub_attributes=(
            Attribute("value", mutability="immutable", case_exact=True),
            Attribute("display", mutability="immutable"),
            Attribute("$ref", "reference", mutability="immutable", case_exact=True, reference_types=("User",)),
            Attribute("type", mutability="immutable", canonical_values=("User",)),
        ),
    )
    return Schema(
        CORE_GROUP,
        "Group",
        "Group",
        (
            Attribute("displayName", required=True, uniqueness="server"),
            members,
        ),
    )


def _enterprise_schema() -> Schema:
    manager = Attribute(
        "manager",
        "complex",
        sub_attributes=(
            Attribute("value", case_exact=True),
            Attribute("$ref", "reference", reference_types=("User",)),
            Attribute("displayName", mutability="readOnly"),
        ),
    )
    return Schema(
        ENTERPRISE_USER,
        "EnterpriseUser",
        "Enterprise User",
        (
            *(Attribute(n) for n in ("employeeNumber", "costCenter", "organization", "division", "department")),
            manager,
        ),
    )


def _linked_object_schema() -> Schema:
    # draft-grizzle-scim-pam-ext: the identity a federated user comes from; Delinea treats `source` as "federated".
    return Schema(
        LINKED_OBJECT,
        "LinkedObject",
        "Link to the directory a federated user comes from",
        (
            Attribute("source", mutability="immutable", description="The directory, e.g. ActiveDirectory."),
            Attribute("nativeIdentifier", mutability="immutable", case_exact=True),
        ),
    )


def _pam_schemas() -> tuple[Schema, ...]:
    container = Schema(
        CONTAINER,
        "Container",
        "A Secret Server folder",
        (
            Attribute("name", required=True, uniqueness="server"),
            Attribute("displayName"),
            Attribute("description"),
            Attribute("type"),
            _ref("parent", ("Container",), mutability="immutable"),
            _ref("owner", ("User",), mutability="readOnly"),
            Attribute(
                "privilegedData",
                "complex",
                multi_valued=True,
                sub_attributes=(
                    Attribute("value", case_exact=True),
                    Attribute("display", mutability="readOnly"),
                    Attribute(
                        "$ref", "reference", mutability="readOnly", case_exact=True, reference_types=("PrivilegedData",)
                    ),
                ),
            ),
        ),
    )
    rights = ("Owner", "Edit", "Add Secret", "View")
    container_permission = Schema(
        CONTAINER_PERMISSION,
        "ContainerPermission",
        "A Secret Server folder permission",
        (
            _ref(
                "container",
                ("Container",),
                mutability="immutable",
                required=True,
                extra=(Attribute("name", mutability="readOnly"),),
            ),
            _ref("user", ("User",), mutability="immutable"),
            _ref("group", ("Group",), mutability="immutable"),
            Attribute("rights", multi_valued=True, required=True, canonical_values=rights),
        ),
    )
    privileged_data = Schema(
        PRIVILEGED_DATA,
        "PrivilegedData",
        "A Secret Server secret (fields never exposed)",
        (
            Attribute("name", mutability="readOnly"),
            Attribute("type", mutability="readOnly", description="The secret template name."),
            Attribute("description", mutability="readOnly"),
            _ref("container", ("Container",), mutability="readOnly"),
            Attribute("active", "boolean", mutability="readOnly"),
        ),
    )
    pd_permission = Schema(
        PRIVILEGED_DATA_PERMISSION,
        "PrivilegedDataPermission",
        "A Secret Server secret permission",
        (
            _ref("privilegedData", ("PrivilegedData",), mutability="readOnly"),
            _ref("user", ("User",), mutability="readOnly"),
            _ref("group", ("Group",), mutability="readOnly"),
            Attribute(
                "rights", multi_valued=True, mutability="readOnly", canonical_values=("Owner", "Edit", "View", "List")
            ),
        ),
    )
    return container, container_permission, privileged_data, pd_permission


COMMON = (
    Attribute("id", mutability="readOnly", returned="always", uniqueness="server", case_exact=True),
    Attribute("externalId", case_exact=True),
    Attribute(
        "meta",
        "complex",
        mutability="readOnly",
        sub_attributes=tuple(
            Attribute(n, t, mutability="readOnly", case_exact=ce)
            for n, t, ce in (
                ("resourceType", "string", True),
                ("created", "dateTime", False),
                ("lastModified", "dateTime", False),
                ("location", "reference", True),
                ("version", "string", True),
            )
        ),
    ),
)
"""RFC 7643 §3.1: attributes every resource has."""


@dataclass(frozen=True)
class ResourceType:
    """A resource type (RFC 7643 §6) and the endpoint name used everywhere else (``Users``, ``Containers``)."""

    name: str
    endpoint: str
    schema: Schema
    extensions: tuple[Schema, ...] = ()
    description: str = ""
    # Lookup tables built once (hit per key of every request body and per rendered resource), keyed by the
    # lower-cased name (RFC 7643 §2.1: case-insensitive) and by the schema's own spelling, which skips lower().
    _exts: Mapping[str, Schema] = field(init=False, default_factory=dict, compare=False, repr=False)
    _attrs: Mapping[str, Attribute] = field(init=False, default_factory=dict, compare=False, repr=False)
    immutables: tuple[tuple[str | None, Attribute], ...] = field(init=False, default=(), compare=False, repr=False)
    """Every attribute with RFC 7643 §7 mutability ``immutable``, with its extension URN (None: core)."""
    memo: dict[Any, Any] = field(init=False, default_factory=dict, compare=False, repr=False)
    """Facts other modules derive from this type alone, computed once (the PATCH engine's resolved paths).
    Callers bound what they put here, since request text is part of the keys."""

    def __post_init__(self) -> None:
        immutables: list[tuple[str | None, Attribute]] = [
            (None, a) for a in self.schema.attributes if a.mutability == "immutable"
        ]
        for ext in self.extensions:
            immutables += [(ext.id, a) for a in ext.attributes if a.mutability == "immutable"]
        object.__setattr__(self, "immutables", tuple(immutables))
        exts: dict[str, Schema] = {}
        for s in reversed(self.extensions):  # the first declared wins, as the scan it replaces did
            exts[s.id.lower()] = s
        for s in reversed(self.extensions):
            exts[s.id] = exts[s.id.lower()]  # the exact spelling answers without lower()
        object.__setattr__(self, "_exts", exts)
        attrs = {a.name.lower(): a for a in reversed(COMMON)}  # the first common one wins, as the scan did
        attrs.update({a.name.lower(): self.schema._attrs[a.name.lower()] for a in self.schema.attributes})
        for a in (*COMMON, *self.schema.attributes):
            attrs[a.name] = attrs[a.name.lower()]  # a core attribute wins over a common one of the same name
        object.__setattr__(self, "_attrs", attrs)

    def ext(self, urn: str) -> Schema | None:
        """The extension schema with URN ``urn`` (case-insensitive)."""
        found = self._exts.get(urn)
        return found if found is not None else self._exts.get(urn.lower())

    def attr(self, name: str) -> Attribute | None:
        """A top-level core attribute, or a common one (id, externalId, meta)."""
        found = self._attrs.get(name)
        return found if found is not None else self._attrs.get(name.lower())

    def to_scim(self, base_url: str = "") -> dict[str, Any]:
        """This resource type as RFC 7643 §6 renders it."""
        return {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": self.name,
            "name": self.name,
            "endpoint": f"/{self.endpoint}",
            "description": self.description or self.name,
            "schema": self.schema.id,
            "schemaExtensions": [{"schema": s.id, "required": False} for s in self.extensions],
            "meta": {"resourceType": "ResourceType", "location": f"{base_url}/ResourceTypes/{self.name}"},
        }


def _override(schema: Schema, name: str, **changes: Any) -> Schema:
    """``schema`` with the top-level attribute ``name`` changed (profiles tune mutability and uniqueness)."""
    attrs = tuple(replace(a, **changes) if a.name == name else a for a in schema.attributes)
    return Schema(schema.id, schema.name, schema.description, attrs)


def build_resource_types(
    *,
    endpoints: Iterable[str],
    immutable: Iterable[str],
    unique: Iterable[str],
    linked_object: bool,
    rights: Mapping[str, Iterable[str]] | None = None,
) -> dict[str, ResourceType]:
    """The served resource types, keyed by endpoint name, with the profile's immutables and uniques applied.

    ``immutable`` / ``unique`` hold ``Endpoint.attribute`` names (``Users.userName``, ``Groups.displayName``).
    """
    immutables, uniques = set(immutable), set(unique)
    user, group = _user_schema(), _group_schema()
    container, container_permission, privileged_data, pd_permission = _pam_schemas()
    if rights:
        # docs/behaviour.md §11: the rights vocabularies are the profile's.
        container_permission = _override(
            container_permission, "rights", canonical_values=tuple(rights.get("ContainerPermissions", ()))
        )
        pd_permission = _override(
            pd_permission, "rights", canonical_values=tuple(rights.get("PrivilegedDataPermissions", ()))
        )
    user = _override(user, "userName", mutability="immutable" if "Users.userName" in immutables else "readWrite")
    group = _override(group, "displayName", uniqueness="server" if "Groups.displayName" in uniques else "none")
    user_ext = (_enterprise_schema(), _linked_object_schema()) if linked_object else (_enterprise_schema(),)
    schemas = {
        kinds.USERS: (user, user_ext), kinds.GROUPS: (group, ()), kinds.CONTAINERS: (container, ()),
        kinds.CONTAINER_PERMISSIONS: (container_permission, ()), kinds.PRIVILEGED_DATA: (privileged_data, ()),
        kinds.PRIVILEGED_DATA_PERMISSIONS: (pd_permission, ()),
    }
    every = {spec.name: ResourceType(spec.resource_type, spec.name, schema, extensions, spec.description)
             for spec, (schema, extensions) in schemas.items()}
    return {name: every[name] for name in endpoints}


ALL_ENDPOINTS: tuple[str, ...] = tuple(k.name for k in kinds.ALL)
