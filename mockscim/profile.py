"""Profiles (SPEC §11): every tunable of the SPEC as data, one JSON file per profile inside the package."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mockscim.schema import ALL_ENDPOINTS, ResourceType, build_resource_types

PROFILE_DIR = Path(__file__).parent / "data" / "profiles"

_KEYS = {
    "name", "description", "endpoints", "linkedObject", "federatedRule", "filterAllowList", "sorting", "search",
    "immutable", "unique", "foreignId", "patchStatus", "putStatus", "defaultCount", "maxResults", "methods", "rights",
}


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
        # State files hold every type, whatever the profile serves (SPEC §11): validate them against all of them.
        object.__setattr__(self, "all_types", build_resource_types(
            endpoints=ALL_ENDPOINTS, linked_object=True, **common))

    def allows(self, endpoint: str, method: str) -> bool:
        """Whether ``method`` is served on ``endpoint`` (else 405, SPEC §4)."""
        return method in self.methods.get(endpoint, ())


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
    unknown = sorted(set(raw) - _KEYS)
    missing = sorted(_KEYS - set(raw) - {"description"})
    if unknown or missing:
        raise ProfileError(f"{origin}: unknown keys {unknown}, missing keys {missing}")
    endpoints = tuple(raw["endpoints"])
    if not set(endpoints) <= set(ALL_ENDPOINTS):
        raise ProfileError(f"{origin}: endpoints: unknown {sorted(set(endpoints) - set(ALL_ENDPOINTS))}")
    allow = raw["filterAllowList"]
    try:
        return Profile(
            name=str(raw["name"]),
            description=str(raw.get("description", "")),
            endpoints=endpoints,
            linked_object=bool(raw["linkedObject"]),
            federated_rule=bool(raw["federatedRule"]),
            filter_allow_list=None if allow is None else {k: tuple(v) for k, v in allow.items()},
            sorting=bool(raw["sorting"]),
            search=bool(raw["search"]),
            immutable=frozenset(raw["immutable"]),
            unique=frozenset(raw["unique"]),
            foreign_id=str(raw["foreignId"]),
            patch_status=int(raw["patchStatus"]),
            put_status=int(raw["putStatus"]),
            default_count=int(raw["defaultCount"]),
            max_results=int(raw["maxResults"]),
            methods={k: tuple(v) for k, v in raw["methods"].items()},
            rights={k: tuple(v) for k, v in raw["rights"].items()},
        )
    except (TypeError, ValueError, AttributeError) as exc:
        raise ProfileError(f"{origin}: {exc}") from None
