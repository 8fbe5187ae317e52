"""Profile files (docs/behaviour.md §11): every key type-checked, with an error naming the file and the key."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from mockscim.scim.profile import PROFILE_DIR, ProfileError, load_profile


@pytest.mark.parametrize(("key", "value", "message"), [
    ("patchStatus", "two hundred", "patchStatus: expected 200 or 204, got 'two hundred'"),
    ("patchStatus", 201, "patchStatus: expected 200 or 204, got 201"),
    ("foreignId", "maybe", "foreignId: expected 'reject' or 'ignore', got 'maybe'"),
    ("methods", ["GET"], "methods: expected an object of endpoint → list of strings, got ['GET']"),
    ("sorting", "yes", "sorting: expected true or false, got 'yes'"),
    ("immutable", "Users.userName", "immutable: expected a list of strings, got 'Users.userName'"),
    ("maxResults", -1, "maxResults: expected a non-negative integer, got -1"),
    ("endpoints", ["Users", "Widgets"], "endpoints: unknown ['Widgets']"),
], ids=lambda v: v if isinstance(v, str) and v.isidentifier() else None)
def test_bad_profile_value_names_the_key(tmp_path: Path, key: str, value: Any, message: str) -> None:
    """A wrong type or value in a profile file → ProfileError naming the file and the key."""
    raw = json.loads((PROFILE_DIR / "cloud.json").read_text())
    raw[key] = value
    path = tmp_path / "custom.json"
    path.write_text(json.dumps(raw))
    with pytest.raises(ProfileError) as info:
        load_profile(str(path))
    assert str(info.value) == f"{path}: {message}"


def test_shipped_profiles_load() -> None:
    """Both shipped profiles load and differ in what they serve."""
    assert set(load_profile("cloud").resource_types) > set(load_profile("rfc").resource_types)
