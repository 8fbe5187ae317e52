"""mockscim.seed: counts, determinism, uniqueness, references, ownership and speed of generated state."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from mockscim.seed.generate import dumps_state, generate_state, write_state
from tests.helpers import LINKED, SERVICE

CONTAINER_RIGHTS = {"Owner", "Edit", "Add Secret", "View"}
SECRET_RIGHTS = {"Owner", "Edit", "View", "List"}
KEYS = [
    "serviceUsers",
    "Users",
    "Groups",
    "Containers",
    "ContainerPermissions",
    "PrivilegedData",
    "PrivilegedDataPermissions",
]


@pytest.fixture(scope="module")
def state() -> dict[str, Any]:
    """A medium-sized generated state shared by the read-only tests."""
    return generate_state(users=200, groups=30, containers=60, secrets=150, seed=7)


def _no_duplicates(values: list[str]) -> None:
    """Fail naming the values that occur more than once."""
    dupes = [v for v, n in Counter(values).items() if n > 1]
    assert not dupes, dupes


@pytest.mark.parametrize(
    ("users", "groups", "containers", "secrets"),
    [(0, 0, 0, 0), (1, 0, 0, 3), (5, 2, 1, 0), (10, 3, 2, 5), (200, 30, 60, 150), (50, 0, 7, 40), (0, 4, 3, 2)],
)
def test_counts_exact(users: int, groups: int, containers: int, secrets: int) -> None:
    """Each argument set yields exactly N+1 users and exactly the requested groups, containers and secrets."""
    s = generate_state(users=users, groups=groups, containers=containers, secrets=secrets, seed=3)
    assert list(s) == KEYS
    assert len(s["Users"]) == users + 1
    assert len(s["Groups"]) == groups
    assert len(s["Containers"]) == containers
    assert len(s["PrivilegedData"]) == secrets
    assert s["serviceUsers"] == [{"userName": SERVICE, "clientSecret": "mockscim-secret"}]
    if containers == 0:
        assert all("container" not in p for p in s["PrivilegedData"])


def test_negative_count_and_unknown_locale_rejected() -> None:
    """A negative count or an unknown locale raises ValueError."""
    with pytest.raises(ValueError, match="users"):
        generate_state(users=-1, groups=0, containers=0, secrets=0, seed=1)
    with pytest.raises(ValueError, match="locale"):
        generate_state(users=1, groups=0, containers=0, secrets=0, seed=1, locale="xx_YY")


def test_deterministic() -> None:
    """Two runs with the same arguments give identical text; another seed or locale gives different text."""
    args: dict[str, Any] = {"users": 120, "groups": 10, "containers": 25, "secrets": 40}
    a = dumps_state(generate_state(**args, seed=11))
    b = dumps_state(generate_state(**args, seed=11))
    assert a == b
    assert a != dumps_state(generate_state(**args, seed=12))
    assert a != dumps_state(generate_state(**args, seed=11, locale="de_DE"))


def test_uniqueness(state: dict[str, Any]) -> None:
    """userNames, e-mails, externalIds, ids, group names and sibling container names are unique case-insensitively."""
    users = state["Users"]
    _no_duplicates([u["userName"].casefold() for u in users])
    _no_duplicates([e["value"].casefold() for u in users for e in u["emails"]])
    _no_duplicates([u["externalId"] for u in users if "externalId" in u])
    _no_duplicates([x["id"] for x in users + state["Groups"]])
    _no_duplicates([u[LINKED]["nativeIdentifier"].casefold() for u in users if LINKED in u])
    _no_duplicates([g["displayName"].casefold() for g in state["Groups"]])
    for key in ("Containers", "ContainerPermissions", "PrivilegedData", "PrivilegedDataPermissions"):
        ids = [x["id"] for x in state[key]]
        assert ids == [str(i) for i in range(1, len(ids) + 1)], key
    siblings = [(c.get("parent", {}).get("value"), c["name"].casefold()) for c in state["Containers"]]
    _no_duplicates([f"{p}/{n}" for p, n in siblings])
    _no_duplicates([f"{p.get('container', {}).get('value')}/{p['name'].casefold()}" for p in state["PrivilegedData"]])
    assert all(c["displayName"] == c["name"] for c in state["Containers"])


def test_group_names_unique_when_many() -> None:
    """Asking for more groups than base names still gives case-insensitively unique display names."""
    s = generate_state(users=20, groups=600, containers=0, secrets=0, seed=5)
    _no_duplicates([g["displayName"].casefold() for g in s["Groups"]])


def test_references_resolve(state: dict[str, Any]) -> None:
    """Every member, parent, owner, container, principal and secret reference names something that exists."""
    users = {u["id"]: u for u in state["Users"]}
    groups = {g["id"] for g in state["Groups"]}
    containers = {c["id"]: c for c in state["Containers"]}
    secrets = {p["id"] for p in state["PrivilegedData"]}
    memberships: Counter[str] = Counter()
    for g in state["Groups"]:
        for m in g["members"]:
            assert m["value"] in users and m["type"] == "User"
            assert m["display"] == users[m["value"]]["userName"]
            memberships[m["value"]] += 1
        _no_duplicates([m["value"] for m in g["members"]])
    assert max(memberships.values()) <= 3
    for c in containers.values():
        assert c["owner"]["value"] in users
        if "parent" in c:
            assert c["parent"]["value"] in containers
            assert int(c["parent"]["value"]) < int(c["id"])
    for p in state["PrivilegedData"]:
        assert p["container"]["value"] in containers
    pairs = []
    for perm in state["ContainerPermissions"]:
        assert perm["container"]["value"] in containers
        assert ("user" in perm) != ("group" in perm)
        principal = perm["user"]["value"] if "user" in perm else perm["group"]["value"]
        assert principal in (users if "user" in perm else groups)
        assert len(perm["rights"]) == 1 and perm["rights"][0] in CONTAINER_RIGHTS
        pairs.append(f"{perm['container']['value']}/{principal}")
    _no_duplicates(pairs)
    assert state["PrivilegedDataPermissions"]
    pairs = []
    for perm in state["PrivilegedDataPermissions"]:
        assert perm["privilegedData"]["value"] in secrets
        assert ("user" in perm) != ("group" in perm)
        principal = perm["user"]["value"] if "user" in perm else perm["group"]["value"]
        assert principal in (users if "user" in perm else groups)
        assert len(perm["rights"]) == 1 and perm["rights"][0] in SECRET_RIGHTS
        pairs.append(f"{perm['privilegedData']['value']}/{principal}")
    _no_duplicates(pairs)


def test_container_tree_depth(state: dict[str, Any]) -> None:
    """Containers form a tree at most four levels deep with more than one level used."""
    parents = {c["id"]: c.get("parent", {}).get("value") for c in state["Containers"]}

    def depth(cid: str) -> int:
        """Levels from the root down to ``cid``."""
        parent = parents[cid]
        return 1 if parent is None else 1 + depth(parent)

    depths = {depth(cid) for cid in parents}
    assert max(depths) <= 4 and len(depths) >= 3


@pytest.mark.parametrize("containers", [2, 3, 10, 60, 500])
def test_service_user_owns_most_not_all_roots(containers: int) -> None:
    """The service user is the first User and has Owner on most roots, and nothing in at least one root's tree."""
    s = generate_state(users=30, groups=5, containers=containers, secrets=10, seed=9)
    service = s["Users"][0]
    assert service["userName"] == SERVICE
    assert s["serviceUsers"][0]["userName"] == SERVICE
    assert all(c["owner"]["value"] == service["id"] for c in s["Containers"])
    parents = {c["id"]: c.get("parent", {}).get("value") for c in s["Containers"]}

    def root(cid: str) -> str:
        """The root container above (or equal to) ``cid``."""
        parent = parents[cid]
        return cid if parent is None else root(parent)

    roots = [cid for cid, parent in parents.items() if parent is None]
    service_perms = [p for p in s["ContainerPermissions"] if p.get("user", {}).get("value") == service["id"]]
    owned = {p["container"]["value"] for p in service_perms if p["rights"] == ["Owner"]}
    touched_roots = {root(p["container"]["value"]) for p in service_perms}
    assert owned <= set(roots)
    assert set(roots) - touched_roots, "some root tree must carry no permission of the service user"
    assert 2 * len(owned) >= len(roots)
    if len(roots) >= 3:
        assert len(owned) > len(roots) - len(owned)
    assert not any(service["id"] in {m["value"] for m in g["members"]} for g in s["Groups"])


def test_federated_inactive_and_password_users(state: dict[str, Any]) -> None:
    """With 200 users about 10 % are federated, about 5 % inactive, and only the first three have a password."""
    generated = state["Users"][1:]
    federated = [u for u in generated if LINKED in u]
    inactive = [u for u in generated if u["active"] is False]
    assert 10 <= len(federated) <= 40
    assert 4 <= len(inactive) <= 20
    for u in federated:
        assert LINKED in u["schemas"]
        assert u[LINKED]["source"] == "ActiveDirectory" and u[LINKED]["nativeIdentifier"]
    assert all(LINKED not in u["schemas"] for u in generated if LINKED not in u)
    assert [u.get("password") for u in state["Users"][:5]] == [None, "Passw0rd!1", "Passw0rd!2", "Passw0rd!3", None]
    assert all("password" not in u for u in generated[3:])
    assert all(u["active"] for u in generated[:3])
    for u in generated:
        assert u["emails"][0]["type"] == "work" and u["emails"][0]["primary"] is True
        assert set(u["name"]) == {"givenName", "familyName", "formatted"}
        ext = u["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]
        assert set(ext) == {"employeeNumber", "department", "organization"}


def test_secret_fields(state: dict[str, Any]) -> None:
    """Every secret is active, has a known template and fields with a non-empty username and password."""
    templates = {
        "Password": ["resource", "username", "password", "notes"],
        "Unix Account (SSH)": ["machine", "username", "password"],
        "Windows Account": ["machine", "username", "password"],
        "SQL Server Account": ["server", "database", "username", "password"],
        "Web Password": ["url", "username", "password"],
    }
    for secret in state["PrivilegedData"]:
        assert secret["active"] is True
        own = [k for k in secret["fields"] if k != "public-key"]
        assert own == templates[secret["type"]]
        assert secret["fields"]["username"] and len(secret["fields"]["password"]) >= 16
    assert len({s["fields"]["password"] for s in state["PrivilegedData"]}) == len(state["PrivilegedData"])


def test_secrets_with_files_and_flags(state: dict[str, Any]) -> None:
    """docs/behaviour.md §9, §13: some SSH secrets carry a public key file, some require a comment or check-out."""
    secrets = state["PrivilegedData"]
    keyed = [s for s in secrets if "public-key" in s["fields"]]
    assert keyed and all(s["type"] == "Unix Account (SSH)" for s in keyed)
    for s in keyed:
        key = base64.b64decode(s["fields"]["public-key"]["base64"])
        assert s["fields"]["public-key"]["filename"] == "id_ed25519.pub" and key.startswith(b"ssh-ed25519 AAAA")
    assert any(s.get("requiresComment") is True for s in secrets)
    assert any(s.get("checkOutEnabled") is True for s in secrets)
    assert not any(s.get("requiresComment") and s.get("checkOutEnabled") for s in secrets)


def test_no_meta_and_no_timestamps(state: dict[str, Any]) -> None:
    """No object anywhere has a ``meta`` key and the text contains no date or time."""

    def walk(node: Any) -> None:
        """Assert recursively that no dict carries ``meta``."""
        if isinstance(node, dict):
            assert "meta" not in node
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(state)
    text = dumps_state(state)
    assert not re.search(r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2})?", text)
    assert not re.search(r"\b\d{2}:\d{2}:\d{2}\b", text)


def test_dumps_format(state: dict[str, Any]) -> None:
    """dumps_state is indent-1 JSON with non-ASCII kept, a trailing newline and the built key order."""
    text = dumps_state(state)
    assert text.endswith("}\n") and text.startswith('{\n "serviceUsers": [')
    assert json.loads(text) == state
    de = generate_state(users=30, groups=0, containers=0, secrets=0, seed=4, locale="de_DE")
    de_text = dumps_state(de)
    assert "\\u" not in de_text
    assert any(not ch.isascii() for ch in de_text)


def test_write_state(tmp_path: Path) -> None:
    """write_state writes exactly dumps_state's text as UTF-8, replacing any old file and leaving no temp file."""
    s = generate_state(users=15, groups=3, containers=4, secrets=5, seed=2, locale="fr_FR")
    target = tmp_path / "seed.json"
    target.write_text("old", encoding="utf-8")
    write_state(s, target)
    assert target.read_bytes() == dumps_state(s).encode("utf-8")
    write_state(s, str(target))
    assert [p.name for p in tmp_path.iterdir()] == ["seed.json"]


def test_progress_reports() -> None:
    """progress is called every 10,000 items of a stage and at its end."""
    calls: list[tuple[str, int, int]] = []
    generate_state(users=20_000, groups=2, containers=3, secrets=5, seed=1, progress=lambda *a: calls.append(a))
    assert ("users", 10_000, 20_000) in calls and ("users", 20_000, 20_000) in calls
    assert ("secrets", 5, 5) in calls
    assert all(done % 10_000 == 0 or done == total for _, done, total in calls)


def test_twenty_thousand_users_fast() -> None:
    """A 20,000-user generation is a smoke-check away from slow (under 10 s)."""
    start = time.perf_counter()
    s = generate_state(users=20_000, groups=200, containers=100, secrets=1000, seed=1)
    elapsed = time.perf_counter() - start
    assert len(s["Users"]) == 20_001
    assert elapsed < 10, elapsed


def test_import_does_not_load_faker() -> None:
    """Importing mockscim.seed.generate leaves Faker unimported (the server's cold start must stay light)."""
    code = "import sys, mockscim.seed.generate; print('faker' in sys.modules)"
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
