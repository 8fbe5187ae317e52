"""Profiles (docs/behaviour.md §11): every tunable behaviour as data, one JSON file per profile in the package."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mockscim.scim.schema import ALL_ENDPOINTS, ResourceType, build_resource_types

PROFILE_DIR = Path(__file__).parents[1] / "data" / "profiles"

_KEYS = {
    "name", "description", "endpoints", "linkedObject", "federatedRule", "filterAllowList", "sorting", "search",
    "immutable", "unique", "foreignId", "patchStatus", "putStatus", "defaultCount", "maxResults", "methods", "rights",
    "fixedAtCreation",
}
_OPTIONAL = {"description": "", "fixedAtCreation": []}


class ProfileError(ValueError):
    """A profile that does not load: the message names the file and the key."""


@dataclass(frozen=True)
class Profile:
    """One loaded profile; ``resource_types`` are the served types with the profile's rules applied."""

    name: str
    description: str
    endpoints: tuple[str, ...]
    linked_object: bool
    federated_rule: bool
    filter_allow_list: Mapping[str, tuple[str, ...]] | None
    sorting: bool
    search: bool
    immutable: frozenset[str]
    fixed_at_creation: frozenset[str]
    """Immutables that cannot be set later either, even on a resource created without them (``Containers.parent``:
    docs/behaviour.md §6, a container created at the root stays there); every other immutable may be set once."""
    unique: frozenset[str]
    foreign_id: str
    patch_status: int
    put_status: int
    default_count: int
    max_results: int
    methods: Mapping[str, tuple[str, ...]]
    rights: Mapping[str, tuple[str, ...]]
    resource_types: Mapping[str, ResourceType] = field(default_factory=dict, compare=False)
    all_types: Mapping[str, ResourceType] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        common: dict[str, Any] = {"immutable": self.immutable, "unique": self.unique, "rights": self.rights}
        object.__setattr__(self, "resource_types", build_resource_types(
            endpoints=self.endpoints, linked_object=self.linked_object, **common))
        # State files hold every type, whatever the profile serves (docs/behaviour.md §11): validate them against all of
        # them.
        object.__setattr__(self, "all_types", build_resource_types(
            endpoints=ALL_ENDPOINTS, linked_object=True, **common))


def load_profile(name_or_path: str = "cloud") -> Profile:
    """A shipped profile by name (``cloud``, ``rfc``), or a profile file by path."""
    path = PROFILE_DIR / f"{name_or_path}.json"
    if not path.is_file():
        path = Path(name_or_path)
    if not path.is_file():
        shipped = ", ".join(sorted(p.stem for p in PROFILE_DIR.glob("*.json")))
        raise ProfileError(f"unknown profile {name_or_path!r}: not a shipped profile ({shipped}) nor a file")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ProfileError(f"{path}: {exc}") from None
    return profile_from_dict(raw, str(path))


def profile_from_dict(raw: Any, origin: str) -> Profile:
    """Validate a profile document; an unknown or missing key, or a wrong type, names the file and the key."""
    if not isinstance(raw, dict):
        raise ProfileError(f"{origin}: a profile is a JSON object")
    raw = {**_OPTIONAL, **raw}
    unknown = sorted(set(raw) - _KEYS)
    missing = sorted(_KEYS - set(raw) - set(_OPTIONAL))
    if unknown or missing:
        raise ProfileError(f"{origin}: unknown keys {unknown}, missing keys {missing}")

    def fail(key: str, expected: str) -> ProfileError:
        return ProfileError(f"{origin}: {key}: expected {expected}, got {raw[key]!r}")

    def flag(key: str) -> bool:
        if not isinstance(raw[key], bool):
            raise fail(key, "true or false")
        return bool(raw[key])

    def strings(key: str, value: Any = None) -> tuple[str, ...]:
        value = raw[key] if value is None else value
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise fail(key, "a list of strings")
        return tuple(value)

    def table(key: str) -> dict[str, tuple[str, ...]]:
        if not isinstance(raw[key], dict):
            raise fail(key, "an object of endpoint → list of strings")
        return {k: strings(key, v) for k, v in raw[key].items()}

    def number(key: str, allowed: tuple[int, ...] = ()) -> int:
        value = raw[key]
        if not isinstance(value, int) or isinstance(value, bool) or value < 0 or (allowed and value not in allowed):
            raise fail(key, " or ".join(map(str, allowed)) if allowed else "a non-negative integer")
        return value

    endpoints = strings("endpoints")
    if not set(endpoints) <= set(ALL_ENDPOINTS):
        raise ProfileError(f"{origin}: endpoints: unknown {sorted(set(endpoints) - set(ALL_ENDPOINTS))}")
    if raw["foreignId"] not in ("reject", "ignore"):
        raise fail("foreignId", "'reject' or 'ignore'")
    if not isinstance(raw["name"], str) or not raw["name"]:
        raise fail("name", "a non-empty string")
    return Profile(
        name=raw["name"],
        description=str(raw.get("description", "")),
        endpoints=endpoints,
        linked_object=flag("linkedObject"),
        federated_rule=flag("federatedRule"),
        filter_allow_list=None if raw["filterAllowList"] is None else table("filterAllowList"),
        sorting=flag("sorting"),
        search=flag("search"),
        immutable=frozenset(strings("immutable")),
        fixed_at_creation=frozenset(strings("fixedAtCreation")),
        unique=frozenset(strings("unique")),
        foreign_id=raw["foreignId"],
        # RFC 7644 §3.5.1/§3.5.2: PUT answers 200; PATCH 200 with the resource or 204.
        patch_status=number("patchStatus", (200, 204)),
        put_status=number("putStatus", (200,)),
        default_count=number("defaultCount"),
        max_results=number("maxResults"),
        methods=table("methods"),
        rights=table("rights"),
    )
