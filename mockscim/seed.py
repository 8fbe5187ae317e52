"""Reproducible, realistic seed data (SPEC §13): users, groups, a folder tree, secrets and permissions as state JSON."""

from __future__ import annotations

import json
import os
import random
import tempfile
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["SERVICE_CLIENT_SECRET", "SERVICE_USER_NAME", "dumps_state", "generate_state", "write_state"]

from mockscim.seed_data import (
    ACCOUNT_NAMES,
    CONTAINER_PERMISSION_SCHEMA,
    CONTAINER_RIGHTS,
    CONTAINER_SCHEMA,
    CONTAINER_TREE,
    DATABASES,
    DEPARTMENTS,
    ENTERPRISE_SCHEMA,
    ENVIRONMENTS,
    FEDERATED_SHARE,
    GROUP_QUALIFIERS,
    GROUP_SCHEMA,
    HOST_PREFIXES,
    HOST_ROLES,
    INACTIVE_SHARE,
    LINKED_SCHEMA,
    MAX_CONTAINER_DEPTH,
    NAME_POOL_DRAWS,
    NOTES,
    PASSWORD_USERS,
    PRIVILEGED_DATA_PERMISSION_SCHEMA,
    PRIVILEGED_DATA_SCHEMA,
    SECRET_RIGHTS,
    SECRET_TEMPLATES,
    SERVICE_CLIENT_SECRET,
    SERVICE_USER_NAME,
    SPECIAL_GROUPS,
    TEMPLATE_WEIGHTS,
    USER_SCHEMA,
    Progress,
    _ascii_slug,
    _name_pool,
    _password,
    _pool,
    _spaced,
    _ticker,
    _Unique,
    _uuid,
    _weighted,
)


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
    """Build a state (SPEC §13) with ``users`` users besides the service user and exactly ``groups`` groups,
    ``containers`` containers and ``secrets`` secrets; the same arguments always give the same state.

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
    domain = (_ascii_slug((organization.split() or [""])[0]) or "corp") + ".example"
    draws = min(NAME_POOL_DRAWS, max(50, users * 2))
    given_pool, given_slugs = _name_pool(fake, "first", draws)
    family_pool, family_slugs = _name_pool(fake, "last", draws)
    titles = _pool(fake.job, 300)
    cities = _pool(fake.city, 200)

    service_id = _uuid(rng, ids)
    user_list, user_ids = _users(rng, ids, users, domain, organization, given_pool, family_pool,
                                 given_slugs, family_slugs, titles, service_id, progress)  # fmt: skip
    group_list = _groups(rng, ids, groups, user_list, progress)
    container_list, roots = _containers(rng, containers, service_id, cities, progress)
    container_perms = _container_permissions(rng, container_list, roots, service_id, user_ids, group_list, progress)
    secret_list = _secrets(rng, secrets, container_list, domain, given_slugs, family_slugs, progress)
    secret_perms = _secret_permissions(rng, secret_list, user_ids, group_list)
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
    user_names = _Unique()
    user_names.claim(SERVICE_USER_NAME)
    external_ids: set[str] = set()
    sam_names = _Unique()
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
    tick = _ticker(progress, "users", count)
    generated_ids: list[str] = []
    for i in range(count):
        gi, fi = rng.randrange(n_given), rng.randrange(n_family)
        given, family = given_pool[gi], family_pool[fi]
        base = f"{given_slugs[gi]}.{family_slugs[fi]}"
        local = user_names.claim(f"{base}@{domain}", base, "@" + domain)
        user_id = _uuid(rng, ids)
        external_id = _uuid(rng, external_ids)
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
    names = _Unique()
    external_ids: set[str] = set()
    result: list[dict[str, Any]] = []
    for i in range(count):
        result.append(
            {
                "id": _uuid(rng, ids),
                "schemas": [GROUP_SCHEMA],
                "displayName": _spaced(names, bases[i % len(bases)]),
                "externalId": _uuid(rng, external_ids),
                "members": [],
            }
        )
    if not result:
        return result
    tick = _ticker(progress, "memberships", len(users) - 1)
    for done, user in enumerate(users[1:], start=1):
        k = min(count, rng.choices((0, 1, 2, 3), weights=(20, 40, 25, 15))[0])
        for g in rng.sample(range(count), k):
            result[g]["members"].append({"value": user["id"], "display": user["userName"], "type": "User"})
        tick(done)
    return result


def _containers(
    rng: random.Random, count: int, service_id: str, cities: Sequence[str], progress: Progress | None
) -> tuple[list[dict[str, Any]], list[str]]:
    """``count`` containers in a tree up to MAX_CONTAINER_DEPTH deep, parents before children; also the root ids."""
    if count == 0:
        return [], []
    n_roots = min(count, len(CONTAINER_TREE), max(3, count // 25))
    themes = rng.sample(list(CONTAINER_TREE), n_roots)
    siblings: dict[str, _Unique] = {"": _Unique()}
    theme_of: dict[str, str] = {}
    depth_of: dict[str, int] = {}
    path_of: dict[str, str] = {}
    eligible: list[str] = []
    result: list[dict[str, Any]] = []
    tick = _ticker(progress, "containers", count)
    for index in range(count):
        cid = str(index + 1)
        if index < n_roots:
            parent = ""
            name = _spaced(siblings[""], themes[index])
            theme_of[cid], depth_of[cid], path_of[cid] = themes[index], 1, name
        else:
            parent = rng.choice(eligible)
            depth = depth_of[parent] + 1
            pool: Sequence[str] = (
                CONTAINER_TREE[theme_of[parent]] if depth == 2 else ENVIRONMENTS if depth == 3 else cities
            )
            used = siblings.setdefault(parent, _Unique())
            base = rng.choice(pool)
            for _ in range(3):
                if not used.taken(base):
                    break
                base = rng.choice(pool)
            name = _spaced(used, base)
            theme_of[cid], depth_of[cid], path_of[cid] = theme_of[parent], depth, f"{path_of[parent]} / {name}"
        container: dict[str, Any] = {
            "id": cid,
            "schemas": [CONTAINER_SCHEMA],
            "name": name,
            "displayName": name,
            "description": f"Credentials for {path_of[cid]}",
        }
        if parent:
            container["parent"] = {"value": parent}
        container["owner"] = {"value": service_id}
        result.append(container)
        if depth_of[cid] < MAX_CONTAINER_DEPTH:
            eligible.append(cid)
        tick(index + 1)
    return result, [str(i + 1) for i in range(n_roots)]


def _container_permissions(
    rng: random.Random,
    containers: Sequence[dict[str, Any]],
    roots: Sequence[str],
    service_id: str,
    user_ids: Sequence[str],
    groups: Sequence[dict[str, Any]],
    progress: Progress | None,
) -> list[dict[str, Any]]:
    """Owner for the service user on most (not all) roots, then assorted rights for other users and groups."""
    result: list[dict[str, Any]] = []
    seen: set[tuple[str, str]] = set()

    def add(cid: str, kind: str, principal: str, right: str) -> None:
        seen.add((cid, principal))
        result.append(
            {
                "id": str(len(result) + 1),
                "schemas": [CONTAINER_PERMISSION_SCHEMA],
                "container": {"value": cid},
                kind: {"value": principal},
                "rights": [right],
            }
        )

    n_unowned = max(1, round(len(roots) * 0.2)) if len(roots) >= 2 else 0
    unowned = set(rng.sample(list(roots), n_unowned))
    for cid in roots:
        if cid not in unowned:
            add(cid, "user", service_id, "Owner")
    group_ids = [g["id"] for g in groups]
    if not containers or not (user_ids or group_ids):
        return result
    target = len(containers) + len(containers) // 2
    tick = _ticker(progress, "permissions", target)
    for done in range(1, target + 1):
        cid = rng.choice(containers)["id"]
        use_group = bool(group_ids) and (not user_ids or rng.random() < 0.6)
        principal = rng.choice(group_ids) if use_group else rng.choice(user_ids)
        if (cid, principal) not in seen:
            add(cid, "group" if use_group else "user", principal, _weighted(rng, CONTAINER_RIGHTS))
        tick(done)
    return result


def _secrets(
    rng: random.Random,
    count: int,
    containers: Sequence[dict[str, Any]],
    domain: str,
    given_slugs: Sequence[str],
    family_slugs: Sequence[str],
    progress: Progress | None,
) -> list[dict[str, Any]]:
    """``count`` secrets spread over the containers, names unique per container, fields per template."""
    templates = list(SECRET_TEMPLATES)
    names: dict[str, _Unique] = {}
    result: list[dict[str, Any]] = []
    tick = _ticker(progress, "secrets", count)
    for index in range(count):
        template = rng.choices(templates, weights=TEMPLATE_WEIGHTS)[0]
        host = f"{HOST_PREFIXES[template]}-{rng.choice(HOST_ROLES)}-{rng.randint(1, 99):02d}.{domain}"
        if rng.random() < 0.7:
            username = rng.choice(ACCOUNT_NAMES[template])
        else:
            username = rng.choice(given_slugs)[:1] + rng.choice(family_slugs)
        values = {
            "resource": host,
            "machine": host,
            "server": host,
            "database": rng.choice(DATABASES),
            "url": f"https://{host}/login",
            "username": username,
            "password": _password(rng),
            "notes": rng.choice(NOTES),
        }
        fields = {key: values[key] for key in SECRET_TEMPLATES[template]}
        label = f"{values['database']} on {host}" if template == "SQL Server Account" else host
        cid = rng.choice(containers)["id"] if containers else ""
        base = f"{username}@{host.split('.')[0]}"
        name = names.setdefault(cid, _Unique()).claim(base, base + " (", ")")
        secret: dict[str, Any] = {
            "id": str(index + 1),
            "schemas": [PRIVILEGED_DATA_SCHEMA],
            "name": name,
            "type": template,
            "description": f"{template} for {label}",
        }
        if cid:
            secret["container"] = {"value": cid}
        secret["active"] = True
        secret["fields"] = fields
        result.append(secret)
        tick(index + 1)
    return result


def _secret_permissions(
    rng: random.Random, secrets: Sequence[dict[str, Any]], user_ids: Sequence[str], groups: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """One to three permissions on about 15 % of the secrets, for users and groups other than the service user."""
    group_ids = [g["id"] for g in groups]
    result: list[dict[str, Any]] = []
    if not (user_ids or group_ids):
        return result
    for secret in secrets:
        if rng.random() >= 0.15:
            continue
        named: set[str] = set()
        for _ in range(rng.randint(1, 3)):
            use_group = bool(group_ids) and (not user_ids or rng.random() < 0.5)
            principal = rng.choice(group_ids) if use_group else rng.choice(user_ids)
            if principal in named:
                continue
            named.add(principal)
            result.append(
                {
                    "id": str(len(result) + 1),
                    "schemas": [PRIVILEGED_DATA_PERMISSION_SCHEMA],
                    "privilegedData": {"value": secret["id"]},
                    "group" if use_group else "user": {"value": principal},
                    "rights": [_weighted(rng, SECRET_RIGHTS)],
                }
            )
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
