"""The schema model: an attribute with every RFC 7643 §7 characteristic, and a schema of attributes."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

_TEXT = frozenset({"string", "reference", "binary"})
"""Types whose stored form is any JSON string as given (RFC 7643 §2.3.1, §2.3.6, §2.3.7)."""


def _by_name(attrs: Iterable[Attribute]) -> dict[str, Attribute]:
    """Attributes by lower-cased name (RFC 7643 §2.1: case-insensitive; the last declared wins) and by their own
    spelling, so the usual request, which spells names as the schema does, is answered without ``lower()``."""
    attrs = tuple(attrs)
    table = {a.name.lower(): a for a in attrs}
    for a in attrs:
        table[a.name] = table[a.name.lower()]
    return table


@dataclass(frozen=True)
class Attribute:
    """One attribute definition with every RFC 7643 §7 characteristic."""

    name: str
    type: str = "string"
    multi_valued: bool = False
    required: bool = False
    mutability: str = "readWrite"
    returned: str = "default"
    uniqueness: str = "none"
    case_exact: bool = False
    description: str = ""
    sub_attributes: tuple[Attribute, ...] = ()
    canonical_values: tuple[str, ...] = ()
    reference_types: tuple[str, ...] = ()
    _subs: Mapping[str, Attribute] = field(default_factory=dict, compare=False, repr=False)
    plain_type: builtins.type | None = field(init=False, default=None, compare=False, repr=False)
    """The Python type of a value that is already its own stored form (``str`` for a single string, reference or
    binary attribute other than ``rights``, whose values the profile's vocabulary spells; ``bool`` for a single
    boolean), else ``None``: such a value is stored as given (RFC 7643 §2.3)."""
    plain_subs: frozenset[tuple[str, builtins.type]] = field(init=False, default=frozenset(), compare=False,
                                                            repr=False)
    """(sub-attribute name as the schema spells it, its ``plain_type``) for those that have one: a complex value whose
    every (key, type of its value) is here is its own stored form (tested in C: ``issuperset(zip(…))``)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "_subs", _by_name(self.sub_attributes))
        plain: builtins.type | None = None
        if not self.multi_valued and self.type in _TEXT and not (self.canonical_values and self.name == "rights"):
            plain = str
        elif not self.multi_valued and self.type == "boolean":
            plain = bool
        object.__setattr__(self, "plain_type", plain)
        object.__setattr__(self, "plain_subs", frozenset((a.name, a.plain_type) for a in self.sub_attributes
                                                         if a.plain_type is not None))

    def sub(self, name: str) -> Attribute | None:
        """The sub-attribute called ``name`` (case-insensitive, RFC 7643 §2.1)."""
        found = self._subs.get(name)
        return found if found is not None else self._subs.get(name.lower())

    def to_scim(self) -> dict[str, Any]:
        """This attribute as RFC 7643 §7 renders it in ``/Schemas``."""
        out: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "multiValued": self.multi_valued,
            "description": self.description or self.name,
            "required": self.required,
            "caseExact": self.case_exact,
            "mutability": self.mutability,
            "returned": self.returned,
            "uniqueness": self.uniqueness,
        }
        if self.canonical_values:
            out["canonicalValues"] = list(self.canonical_values)
        if self.reference_types:
            out["referenceTypes"] = list(self.reference_types)
        if self.sub_attributes:
            out["subAttributes"] = [a.to_scim() for a in self.sub_attributes]
        return out


@dataclass(frozen=True)
class Schema:
    """A schema: its URN, name and top-level attributes."""

    id: str
    name: str
    description: str
    attributes: tuple[Attribute, ...]
    _attrs: Mapping[str, Attribute] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_attrs", _by_name(self.attributes))

    def attr(self, name: str) -> Attribute | None:
        """The top-level attribute called ``name`` (case-insensitive)."""
        found = self._attrs.get(name)
        return found if found is not None else self._attrs.get(name.lower())

    def to_scim(self, base_url: str = "") -> dict[str, Any]:
        """This schema as a ``/Schemas`` resource (RFC 7643 §7)."""
        return {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "attributes": [a.to_scim() for a in self.attributes],
            "meta": {"resourceType": "Schema", "location": f"{base_url}/Schemas/{self.id}"},
        }
