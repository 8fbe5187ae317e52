"""Reproducible, realistic seed data (docs/behaviour.md §13): users, groups, folders, secrets and permissions."""

from __future__ import annotations

import json
import os
import random
import tempfile
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["SERVICE_CLIENT_SECRET", "SERVICE_USER_NAME", "dumps_state", "generate_state", "write_state"]

from mockscim.seed.data import (
    DEPARTMENTS,
    ENTERPRISE_SCHEMA,
    FEDERATED_SHARE,
    GROUP_QUALIFIERS,
    GROUP_SCHEMA,
    INACTIVE_SHARE,
    LINKED_SCHEMA,
    NAME_POOL_DRAWS,
    PASSWORD_USERS,
    SERVICE_CLIENT_SECRET,
    SERVICE_USER_NAME,
    SPECIAL_GROUPS,
    USER_SCHEMA,
    Progress,
    Unique,
    ascii_slug,
    name_pool,
    pool,
    random_uuid,
    spaced,
    ticker,
)
from mockscim.seed.pam import make_container_permissions, make_containers, make_secret_permissions, make_secrets


def generate_state(
    *,
    users: int,
    groups: int,
    containers: int,
    secrets: int,
    seed: int,
    locale: str = "en_US",
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Build a state (docs/behaviour.md §13) with ``users`` users besides the service user and exactly ``groups``
    groups, ``containers`` containers and ``secrets`` secrets; the same arguments always give the same state.

    Raises ValueError for a negative count or an unknown locale.
    """
    for label, value in (("users", users), ("groups", groups), ("containers", containers), ("secrets", secrets)):
        if value < 0:
            raise ValueError(f"{label} must be >= 0, got {value}")
    from faker import Faker  # lazy: the server's cold start must not import Faker

    try:
        fake = Faker(locale)
    except AttributeError as exc:
        raise ValueError(f"unknown locale {locale!r}") from exc
    fake.seed_instance(seed)
    rng = random.Random(seed)
    ids: set[str] = set()

    organization = fake.company()
    domain = (ascii_slug((organization.split() or [""])[0]) or "corp") + ".example"
    draws = min(NAME_POOL_DRAWS, max(50, users * 2))
    given_pool, given_slugs = name_pool(fake, "first", draws)
    family_pool, family_slugs = name_pool(fake, "last", draws)
    titles = pool(fake.job, 300)
    cities = pool(fake.city, 200)

    service_id = random_uuid(rng, ids)
    user_list, user_ids = _users(rng, ids, users, domain, organization, given_pool, family_pool,
                                 given_slugs, family_slugs, titles, service_id, progress)  # fmt: skip
    group_list = _groups(rng, ids, groups, user_list, progress)
    container_list, roots = make_containers(rng, containers, service_id, cities, progress)
    container_perms = make_container_permissions(rng, container_list, roots, service_id, user_ids, group_list, progress)
    secret_list = make_secrets(rng, secrets, container_list, domain, given_slugs, family_slugs, progress)
    secret_perms = make_secret_permissions(rng, secret_list, user_ids, group_list)
    return {
        "serviceUsers": [{"userName": SERVICE_USER_NAME, "clientSecret": SERVICE_CLIENT_SECRET}],
        "Users": user_list,
        "Groups": group_list,
        "Containers": container_list,
        "ContainerPermissions": container_perms,
        "PrivilegedData": secret_list,
        "PrivilegedDataPermissions": secret_perms,
    }


def _users(
    rng: random.Random,
    ids: set[str],
    count: int,
    domain: str,
    organization: str,
    given_pool: Sequence[str],
    family_pool: Sequence[str],
    given_slugs: Sequence[str],
    family_slugs: Sequence[str],
    titles: Sequence[str],
    service_id: str,
    progress: Progress | None,
) -> tuple[list[dict[str, Any]], list[str]]:
    """The service user first, then ``count`` generated users; also the generated users' ids (service user excluded)."""
    user_names = Unique()
    user_names.claim(SERVICE_USER_NAME)
    external_ids: set[str] = set()
    sam_names = Unique()
    service: dict[str, Any] = {
        "id": service_id,
        "schemas": [USER_SCHEMA],
        "userName": SERVICE_USER_NAME,
        "name": {"givenName": "SCIM", "familyName": "Service", "formatted": "SCIM Service"},
        "displayName": "SCIM Service",
        "emails": [{"value": SERVICE_USER_NAME, "type": "work", "primary": True}],
        "active": True,
    }
    result: list[dict[str, Any]] = [service]
    candidates = range(PASSWORD_USERS, count)
    inactive = set(rng.sample(candidates, round(count * INACTIVE_SHARE))) if count > PASSWORD_USERS else set()
    federated = set(rng.sample(range(count), round(count * FEDERATED_SHARE)))
    n_given, n_family = len(given_pool), len(family_pool)
    tick = ticker(progress, "users", count)
    generated_ids: list[str] = []
    for i in range(count):
        gi, fi = rng.randrange(n_given), rng.randrange(n_family)
        given, family = given_pool[gi], family_pool[fi]
        base = f"{given_slugs[gi]}.{family_slugs[fi]}"
        local = user_names.claim(f"{base}@{domain}", base, "@" + domain)
        user_id = random_uuid(rng, ids)
        external_id = random_uuid(rng, external_ids)
        formatted = f"{given} {family}"
        user: dict[str, Any] = {
            "id": user_id,
            "schemas": [USER_SCHEMA, ENTERPRISE_SCHEMA],
            "userName": local,
            "name": {"givenName": given, "familyName": family, "formatted": formatted},
            "displayName": formatted,
            "emails": [{"value": local, "type": "work", "primary": True}],
            "active": i not in inactive,
            "externalId": external_id,
            "title": rng.choice(titles),
        }
        if i < PASSWORD_USERS:
            user["password"] = f"Passw0rd!{i + 1}"
        user[ENTERPRISE_SCHEMA] = {
            "employeeNumber": str(100001 + i),
            "department": rng.choice(DEPARTMENTS),
            "organization": organization,
        }
        if i in federated:
            user["schemas"].append(LINKED_SCHEMA)
            sam = sam_names.claim((given_slugs[gi][:1] + family_slugs[fi])[:16])
            user[LINKED_SCHEMA] = {"source": "ActiveDirectory", "nativeIdentifier": sam}
        result.append(user)
        generated_ids.append(user_id)
        tick(i + 1)
    return result, generated_ids


def _groups(
    rng: random.Random, ids: set[str], count: int, users: Sequence[dict[str, Any]], progress: Progress | None
) -> list[dict[str, Any]]:
    """``count`` groups with unique display names; every generated user joins 0 to 3 of them."""
    bases = list(SPECIAL_GROUPS) + [d + q for d in DEPARTMENTS for q in GROUP_QUALIFIERS]
    rng.shuffle(bases)
    names = Unique()
    external_ids: set[str] = set()
    result: list[dict[str, Any]] = []
    for i in range(count):
        result.append(
            {
                "id": random_uuid(rng, ids),
                "schemas": [GROUP_SCHEMA],
                "displayName": spaced(names, bases[i % len(bases)]),
                "externalId": random_uuid(rng, external_ids),
                "members": [],
            }
        )
    if not result:
        return result
    tick = ticker(progress, "memberships", len(users) - 1)
    for done, user in enumerate(users[1:], start=1):
        k = min(count, rng.choices((0, 1, 2, 3), weights=(20, 40, 25, 15))[0])
        for g in rng.sample(range(count), k):
            result[g]["members"].append({"value": user["id"], "display": user["userName"], "type": "User"})
        tick(done)
    return result


def dumps_state(state: Mapping[str, Any]) -> str:
    """The state as deterministic JSON text: one resource a line (diffable, and written by the C encoder —
    ``indent`` would switch json to its pure-Python encoder, 10x slower at 100k users), non-ASCII kept, key order
    as built, trailing newline."""
    encode = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode
    parts = []
    for kind, docs in state.items():
        items = ",\n  ".join(encode(d) for d in docs)
        parts.append(f'{encode(kind)}: [\n  {items}\n ]' if docs else f"{encode(kind)}: []")
    return "{\n " + ",\n ".join(parts) + "\n}\n"


def write_state(state: Mapping[str, Any], path: str | os.PathLike[str]) -> None:
    """Write ``dumps_state(state)`` to ``path`` atomically (a temporary file beside it, fsync, then os.replace)."""
    target = os.fspath(path)
    text = dumps_state(state)
    directory = os.path.dirname(os.path.abspath(target))
    fd, tmp = tempfile.mkstemp(prefix=".seed-", suffix=".tmp", dir=directory)
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # docs/behaviour.md §14: the usual permissions, not mkstemp's 0600
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _umask() -> int:
    """The process's umask (read by setting it, then putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
