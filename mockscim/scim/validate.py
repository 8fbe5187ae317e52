"""Request bodies → stored resources: type checks and coercion by the schema (docs/behaviour.md §3)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from mockscim.scim.errors import InvalidAttribute
from mockscim.scim.schema import Attribute, ResourceType

_TRUE = {"true"}
_FALSE = {"false"}
_BOOLEAN_TEXT = _TRUE | _FALSE
_TEXT = frozenset({"string", "reference", "binary"})
"""Types whose stored form is any JSON string as given (RFC 7643 §2.3.1, §2.3.6, §2.3.7)."""
NOT_PLAIN = object()


def plain(attr: Attribute, value: Any) -> Any:
    """The fast path of the common values: ``value`` itself when it is already its own stored form, else
    ``NOT_PLAIN`` (``Attribute.plain_type``: a single string of a string/reference/binary attribute other than
    ``rights``, checked against the profile's vocabulary, or a JSON boolean of a boolean attribute). Everything else
    goes through ``coerce`` unchanged.
    """
    return value if type(value) is attr.plain_type else NOT_PLAIN


def coerce(attr: Attribute, value: Any, label: str) -> Any:
    """Check ``value`` against ``attr`` and return its stored form; a wrong type → ``InvalidAttribute(label)``.

    ``label`` is the attribute path as the schema names it (``name.givenName``, ``employeeNumber``: docs/behaviour.md
    §7). ``None`` means unassigned (RFC 7644 §3.5.1) and is returned as is; callers drop it.
    """
    if value is None:
        return None
    if attr.multi_valued:
        if not isinstance(value, list):
            raise InvalidAttribute(label)
        items = [coerce_single(attr, v, label) for v in value if v is not None]
        if len(items) > 1 and attr.type == "complex" and sum(1 for v in items if v.get("primary") is True) > 1:
            # RFC 7643 §2.4: the primary value "true" MUST appear no more than once.
            raise InvalidAttribute(label)
        return items
    return coerce_single(attr, value, label)


def coerce_single(attr: Attribute, value: Any, label: str) -> Any:
    """One value (a single-valued attribute, or one element of a multi-valued one)."""
    kind = attr.type
    if type(value) is str and kind in _TEXT and not (attr.canonical_values and attr.name == "rights"):
        return value  # the common case first: a plain string (RFC 7643 §2.3.1)
    if kind == "complex":
        if type(value) is not dict and not isinstance(value, Mapping):
            raise InvalidAttribute(label)
        if attr.plain_subs.issuperset(zip(value, map(type, value.values()), strict=True)):
            return dict(value)  # every key spelt as the schema does, every value its own stored form
        out: dict[str, Any] = {}
        for key, sub_value in value.items():
            sub = attr.sub(key)
            if sub is None or sub_value is None:
                # docs/behaviour.md §3: unknown keys are ignored, not rejected; RFC 7644 §3.5.1: null is unassigned.
                continue
            # The label (an f-string) is only built when the value is not a plain one: it is only needed for errors.
            coerced = plain(sub, sub_value)
            if coerced is NOT_PLAIN:
                coerced = coerce(sub, sub_value, f"{label}.{sub.name}")
            out[sub.name] = coerced
        return out
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        # Entra ID sends "True"/"False" strings (docs/behaviour.md §6); accept them in any case.
        if isinstance(value, str) and value.lower() in _BOOLEAN_TEXT:
            return value.lower() in _TRUE
        raise InvalidAttribute(label)
    if kind == "integer":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise InvalidAttribute(label)
    if kind == "decimal":
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
        raise InvalidAttribute(label)
    if not isinstance(value, str):
        raise InvalidAttribute(label)
    if kind == "dateTime":
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise InvalidAttribute(label) from None
    if attr.canonical_values and attr.name == "rights":
        # docs/behaviour.md §3: rights come from the profile's vocabulary; anything else is invalid.
        match = next((c for c in attr.canonical_values if c.lower() == value.lower()), None)
        if match is None:
            raise InvalidAttribute(label)
        return match
    return value


def clean_resource(rtype: ResourceType, body: Mapping[str, Any]) -> dict[str, Any]:
    """The stored form of a POST/PUT body: known attributes only, canonical names, coerced values.

    Read-only attributes (``id``, ``meta``, ``groups``, ``owner``…) and unknown attributes or schema URNs are
    dropped here (docs/behaviour.md §3); the caller checks a foreign ``id`` and immutables itself.
    """
    out: dict[str, Any] = {}
    attr_of = rtype.attr
    for key, value in body.items():
        if key == "schemas":
            continue
        if key.startswith("urn:"):
            ext = rtype.ext(key)
            if ext is None:
                if key.lower() == rtype.schema.id.lower() and isinstance(value, Mapping):
                    out.update(clean_resource(rtype, value))  # core attributes nested under the core URN
                continue
            if not isinstance(value, Mapping):
                raise InvalidAttribute(ext.name)
            ext_out: dict[str, Any] = {}
            for sub_key, sub_value in value.items():
                ext_attr = ext.attr(sub_key)
                if ext_attr is None or ext_attr.mutability == "readOnly" or sub_value is None:
                    continue
                coerced = plain(ext_attr, sub_value)
                if coerced is NOT_PLAIN:
                    coerced = coerce(ext_attr, sub_value, ext_attr.name)
                ext_out[ext_attr.name] = coerced
            if ext_out:
                out[ext.id] = ext_out
            continue
        attr = attr_of(key)
        if attr is None or attr.mutability == "readOnly" or value is None:
            continue
        coerced = plain(attr, value)
        if coerced is NOT_PLAIN:
            coerced = coerce(attr, value, attr.name)
            if coerced == []:
                continue
        out[attr.name] = coerced
    return out


def schemas_of(rtype: ResourceType, doc: Mapping[str, Any]) -> list[str]:
    """The ``schemas`` list of a stored resource: the core URN and every extension it carries (RFC 7643 §3)."""
    return [rtype.schema.id, *(ext.id for ext in rtype.extensions if ext.id in doc)]
