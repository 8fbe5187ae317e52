"""The privileged-access half of the seed data (docs/behaviour.md §13): a folder tree, secrets and their permissions."""

from __future__ import annotations

import base64
import random
import struct
from collections.abc import Sequence
from typing import Any

from mockscim.seed.data import (
    ACCOUNT_NAMES,
    CONTAINER_PERMISSION_SCHEMA,
    CONTAINER_RIGHTS,
    CONTAINER_SCHEMA,
    CONTAINER_TREE,
    DATABASES,
    ENVIRONMENTS,
    HOST_PREFIXES,
    HOST_ROLES,
    MAX_CONTAINER_DEPTH,
    NOTES,
    PRIVILEGED_DATA_PERMISSION_SCHEMA,
    PRIVILEGED_DATA_SCHEMA,
    SECRET_RIGHTS,
    SECRET_TEMPLATES,
    TEMPLATE_WEIGHTS,
    Progress,
    Unique,
    random_password,
    spaced,
    ticker,
    weighted,
)


def make_containers(
    rng: random.Random, count: int, service_id: str, cities: Sequence[str], progress: Progress | None
) -> tuple[list[dict[str, Any]], list[str]]:
    """``count`` containers in a tree up to MAX_CONTAINER_DEPTH deep, parents before children; also the root ids."""
    if count == 0:
        return [], []
    n_roots = min(count, len(CONTAINER_TREE), max(3, count // 25))
    themes = rng.sample(list(CONTAINER_TREE), n_roots)
    siblings: dict[str, Unique] = {"": Unique()}
    theme_of: dict[str, str] = {}
    depth_of: dict[str, int] = {}
    path_of: dict[str, str] = {}
    eligible: list[str] = []
    result: list[dict[str, Any]] = []
    tick = ticker(progress, "containers", count)
    for index in range(count):
        cid = str(index + 1)
        if index < n_roots:
            parent = ""
            name = spaced(siblings[""], themes[index])
            theme_of[cid], depth_of[cid], path_of[cid] = themes[index], 1, name
        else:
            parent = rng.choice(eligible)
            depth = depth_of[parent] + 1
            pool: Sequence[str] = (
                CONTAINER_TREE[theme_of[parent]] if depth == 2 else ENVIRONMENTS if depth == 3 else cities
            )
            used = siblings.setdefault(parent, Unique())
            base = rng.choice(pool)
            for _ in range(3):
                if not used.taken(base):
                    break
                base = rng.choice(pool)
            name = spaced(used, base)
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


def make_container_permissions(
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
    tick = ticker(progress, "permissions", target)
    for done in range(1, target + 1):
        cid = rng.choice(containers)["id"]
        use_group = bool(group_ids) and (not user_ids or rng.random() < 0.6)
        principal = rng.choice(group_ids) if use_group else rng.choice(user_ids)
        if (cid, principal) not in seen:
            add(cid, "group" if use_group else "user", principal, weighted(rng, CONTAINER_RIGHTS))
        tick(done)
    return result


def make_secrets(
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
    names: dict[str, Unique] = {}
    result: list[dict[str, Any]] = []
    tick = ticker(progress, "secrets", count)
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
            "password": random_password(rng),
            "notes": rng.choice(NOTES),
        }
        fields = {key: values[key] for key in SECRET_TEMPLATES[template]}
        label = f"{values['database']} on {host}" if template == "SQL Server Account" else host
        cid = rng.choice(containers)["id"] if containers else ""
        base = f"{username}@{host.split('.')[0]}"
        name = names.setdefault(cid, Unique()).claim(base, base + " (", ")")
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
    _flags_and_files(random.Random(rng.random()), result)
    return result


def _flags_and_files(rng: random.Random, secrets: Sequence[dict[str, Any]]) -> None:
    """docs/behaviour.md §9, §13: about half the SSH secrets carry a public key file; about one in ten secrets
    requires a comment, one in twenty must be checked out (a generator of its own, so the rest of the data set
    stays as it was)."""
    for secret in secrets:
        if secret["type"] == "Unix Account (SSH)" and rng.random() < 0.5:
            secret["fields"]["public-key"] = {"filename": "id_ed25519.pub",
                                              "base64": base64.b64encode(_public_key(rng)).decode()}
        draw = rng.random()
        if draw < 0.1:
            secret["requiresComment"] = True
        elif draw < 0.15:
            secret["checkOutEnabled"] = True


def _public_key(rng: random.Random) -> bytes:
    """An OpenSSH ``ssh-ed25519`` public key line (RFC 8709 §4 wire format) over 32 reproducible random bytes."""
    def wire(data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + data

    blob = wire(b"ssh-ed25519") + wire(bytes(rng.getrandbits(8) for _ in range(32)))
    return b"ssh-ed25519 " + base64.b64encode(blob) + b" seed@mockscim\n"


def make_secret_permissions(
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
                    "rights": [weighted(rng, SECRET_RIGHTS)],
                }
            )
    return result
