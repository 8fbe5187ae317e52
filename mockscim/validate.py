"""Request bodies → stored resources: type checks and coercion by the schema, unknown keys dropped (SPEC §3)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from mockscim.errors import InvalidAttribute
from mockscim.schema import Attribute, ResourceType

_TRUE = {"true"}
_FALSE = {"false"}


def coerce(attr: Attribute, value: Any, label: str) -> Any:
    """Check ``value`` against ``attr`` and return its stored form; a wrong type → ``InvalidAttribute(label)``.

    ``label`` is the attribute path as the schema names it (``name.givenName``, ``employeeNumber``: SPEC §7).
    ``None`` means unassigned (RFC 7644 §3.5.1) and is returned as is; callers drop it.
    """
    if value is None:
        return None
    if attr.multi_valued:
        if not isinstance(value, list):
            raise InvalidAttribute(label)
        items = [coerce_single(attr, v, label) for v in value if v is not None]
        if attr.type == "complex" and sum(1 for v in items if v.get("primary") is True) > 1:
            # RFC 7643 §2.4: the primary value "true" MUST appear no more than once.
            raise InvalidAttribute(label)
        return items
    return coerce_single(attr, value, label)


def coerce_single(attr: Attribute, value: Any, label: str) -> Any:
    """One value (a single-valued attribute, or one element of a multi-valued one)."""
    kind = attr.type
    if kind == "complex":
        if not isinstance(value, Mapping):
            raise InvalidAttribute(label)
        out: dict[str, Any] = {}
        for key, sub_value in value.items():
            sub = attr.sub(key)
            if sub is None:
                continue  # SPEC §3: unknown keys are ignored, not rejected.
            coerced = coerce(sub, sub_value, f"{label}.{sub.name}")
            if coerced is not None:
                out[sub.name] = coerced
        return out
    if kind == "boolean":
        if isinstance(value, bool):
            return value
        # Entra ID sends "True"/"False" strings (delinea-scim.md §4.1); accept them in any case.
        if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
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
        # SPEC §3: rights come from the profile's vocabulary; anything else is invalid.
        match = next((c for c in attr.canonical_values if c.lower() == value.lower()), None)
        if match is None:
            raise InvalidAttribute(label)
        return match
    return value


def clean_resource(rtype: ResourceType, body: Mapping[str, Any]) -> dict[str, Any]:
    """The stored form of a POST/PUT body: known attributes only, canonical names, coerced values.

    Read-only attributes (``id``, ``meta``, ``groups``, ``owner``…) and unknown attributes or schema URNs are
    dropped here (SPEC §3); the caller checks a foreign ``id`` and immutables itself.
    """
    out: dict[str, Any] = {}
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
                if ext_attr is None or ext_attr.mutability == "readOnly":
                    continue
                coerced = coerce(ext_attr, sub_value, ext_attr.name)
                if coerced is not None:
                    ext_out[ext_attr.name] = coerced
            if ext_out:
                out[ext.id] = ext_out
            continue
        attr = rtype.attr(key)
        if attr is None or attr.mutability == "readOnly":
            continue
        coerced = coerce(attr, value, attr.name)
        if coerced is not None and coerced != []:
            out[attr.name] = coerced
    return out


def schemas_of(rtype: ResourceType, doc: Mapping[str, Any]) -> list[str]:
    """The ``schemas`` list of a stored resource: the core URN and every extension it carries (RFC 7643 §3)."""
    return [rtype.schema.id, *(ext.id for ext in rtype.extensions if ext.id in doc)]
