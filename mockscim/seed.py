"""Reproducible, realistic seed data (SPEC §13): users, groups, a folder tree, secrets and permissions as state JSON."""

from __future__ import annotations

import json
import os
import random
import tempfile
import unicodedata
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = ["SERVICE_CLIENT_SECRET", "SERVICE_USER_NAME", "dumps_state", "generate_state", "write_state"]

SERVICE_USER_NAME = "scim-service@mockscim.test"
SERVICE_CLIENT_SECRET = "mockscim-secret"

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE_SCHEMA = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
LINKED_SCHEMA = "urn:ietf:params:scim:schemas:pam:1.0:LinkedObject"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
CONTAINER_SCHEMA = "urn:ietf:params:scim:schemas:pam:1.0:Container"
CONTAINER_PERMISSION_SCHEMA = "urn:ietf:params:scim:schemas:pam:1.0:ContainerPermission"
PRIVILEGED_DATA_SCHEMA = "urn:ietf:params:scim:schemas:pam:1.0:PrivilegedData"
PRIVILEGED_DATA_PERMISSION_SCHEMA = "urn:ietf:params:scim:schemas:pam:1.0:PrivilegedDataPermission"

Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``; stages: users, memberships, containers, permissions, secrets."""

PROGRESS_EVERY = 10_000
FEDERATED_SHARE = 0.10
INACTIVE_SHARE = 0.05
PASSWORD_USERS = 3
MAX_CONTAINER_DEPTH = 4
NAME_POOL_DRAWS = 3000

DEPARTMENTS: tuple[str, ...] = (
    "Engineering", "Finance", "Human Resources", "Sales", "Marketing", "Legal", "IT Operations", "Security",
    "Customer Support", "Procurement", "Facilities", "Research", "Data Platform", "Customer Success", "Product",
    "Quality Assurance", "Compliance", "Internal Audit",
)  # fmt: skip
GROUP_QUALIFIERS: tuple[str, ...] = (
    "", " Admins", " Managers", " Contractors", " On-Call", " Readers", " Approvers", " Team Leads", " Interns",
    " EMEA", " APAC", " Americas",
)  # fmt: skip
SPECIAL_GROUPS: tuple[str, ...] = (
    "Domain Admins", "Secret Server Administrators", "Helpdesk", "VPN Users", "DBAs", "Linux Admins",
    "Windows Admins", "Network Engineers", "Cloud Ops", "Break Glass", "Privileged Access Reviewers", "SRE",
)  # fmt: skip

CONTAINER_TREE: dict[str, tuple[str, ...]] = {
    "Infrastructure": ("Linux Servers", "Windows Servers", "Storage", "Virtualization", "Backup", "Mainframe"),
    "Applications": ("ERP", "CRM", "Payroll", "Intranet", "E-Commerce", "Reporting", "Ticketing", "Mail"),
    "Databases": ("Oracle", "SQL Server", "PostgreSQL", "MySQL", "MongoDB", "Redis", "Data Warehouse"),
    "Network": ("Firewalls", "Switches", "Routers", "Load Balancers", "VPN", "Wireless", "DNS"),
    "Cloud": ("AWS", "Azure", "Google Cloud", "Kubernetes", "SaaS Admin Accounts"),
    "Security": ("PKI", "SIEM", "Vulnerability Scanners", "Break Glass", "HSM"),
    "Service Accounts": ("Batch Jobs", "Integrations", "Monitoring", "CI/CD", "Schedulers"),
    "Shared": ("Helpdesk", "Vendors", "Facilities", "Training"),
    "DevOps": ("Build Agents", "Artifact Repositories", "Source Control", "Secrets Rotation"),
    "Workstations": ("Local Administrators", "Kiosks", "Lab Machines", "Executive Laptops"),
}
ENVIRONMENTS: tuple[str, ...] = ("Production", "Staging", "Development", "Test", "QA", "Disaster Recovery", "Lab")

CONTAINER_RIGHTS: tuple[tuple[str, int], ...] = (("View", 40), ("Edit", 25), ("Add Secret", 20), ("Owner", 15))
SECRET_RIGHTS: tuple[tuple[str, int], ...] = (("List", 20), ("View", 40), ("Edit", 25), ("Owner", 15))

SECRET_TEMPLATES: dict[str, tuple[str, ...]] = {
    "Password": ("resource", "username", "password", "notes"),
    "Unix Account (SSH)": ("machine", "username", "password"),
    "Windows Account": ("machine", "username", "password"),
    "SQL Server Account": ("server", "database", "username", "password"),
    "Web Password": ("url", "username", "password"),
}
TEMPLATE_WEIGHTS: tuple[int, ...] = (25, 25, 20, 15, 15)
HOST_PREFIXES: dict[str, str] = {
    "Password": "app",
    "Unix Account (SSH)": "lnx",
    "Windows Account": "win",
    "SQL Server Account": "sql",
    "Web Password": "web",
}
HOST_ROLES: tuple[str, ...] = (
    "app", "db", "web", "api", "batch", "files", "mail", "auth", "cache", "mq", "build", "mon", "log", "proxy", "dc",
)  # fmt: skip
ACCOUNT_NAMES: dict[str, tuple[str, ...]] = {
    "Password": ("admin", "operator", "netadmin", "svc_integration", "api_user", "readonly"),
    "Unix Account (SSH)": ("root", "deploy", "ansible", "oracle", "postgres", "jenkins", "svc_backup", "svc_batch"),
    "Windows Account": ("Administrator", "svc_backup", "svc_monitor", "svc_batch", "svc_sql", "svc_iis"),
    "SQL Server Account": ("sa", "dbadmin", "reporting", "readonly", "svc_integration", "etl_loader"),
    "Web Password": ("admin", "operator", "support", "billing", "svc_integration", "readonly"),
}
DATABASES: tuple[str, ...] = (
    "master", "CRM", "Payroll", "Inventory", "Reporting", "HR", "Billing", "Orders", "Analytics", "Audit",
)  # fmt: skip
NOTES: tuple[str, ...] = (
    "Rotated quarterly.", "Break-glass account: check out with approval.", "Managed by the platform team.",
    "Do not share outside the on-call rotation.", "Used by the nightly batch run.", "Vendor support access.",
    "Legacy account, scheduled for decommissioning.", "Owner: application team.", "",
)  # fmt: skip
PASSWORD_SYMBOLS = "!@#$%^&*-_=+?"
PASSWORD_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789" + PASSWORD_SYMBOLS

_CYRILLIC = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюяіїєґ",
        "a b v g d e e zh z i y k l m n o p r s t u f kh ts ch sh shch - y - e yu ya i yi ye g".split(),
        strict=True,
    )
)
_GREEK = dict(
    zip("αβγδεζηθικλμνξοπρσςτυφχψω", "a v g d e z i th i k l m n x o p r s s t y f ch ps o".split(), strict=True)
)


class _Unique:
    """Hands out case-insensitively unique names: ``name`` itself, else ``prefix + n + suffix`` for n = 2, 3, …"""

    __slots__ = ("_next", "_used")

    def __init__(self) -> None:
        self._used: set[str] = set()
        self._next: dict[str, int] = {}

    def taken(self, name: str) -> bool:
        return name.casefold() in self._used

    def claim(self, name: str, prefix: str | None = None, suffix: str = "") -> str:
        """Return ``name`` if free, else the first free ``prefix + str(n) + suffix`` (prefix defaults to name)."""
        key = name.casefold()
        if key not in self._used:
            self._used.add(key)
            return name
        head = name if prefix is None else prefix
        n = self._next.get(key, 2)
        while (candidate := f"{head}{n}{suffix}").casefold() in self._used:
            n += 1
        self._next[key] = n + 1
        self._used.add(candidate.casefold())
        return candidate


def _spaced(unique: _Unique, name: str) -> str:
    """Claim ``name``, or ``name 2``, ``name 3``, … on a clash."""
    return unique.claim(name, name + " ")


def _ascii_slug(text: str) -> str:
    """Lower-case ASCII letters and digits of ``text`` (accents dropped, Cyrillic/Greek transliterated)."""
    out: list[str] = []
    for ch in unicodedata.normalize("NFKD", text.casefold()):
        if ch.isascii():
            if ch.isalnum():
                out.append(ch)
        elif ch in _CYRILLIC:
            out.append(_CYRILLIC[ch].strip("-"))
        elif ch in _GREEK:
            out.append(_GREEK[ch])
    return "".join(out)


def _uuid(rng: random.Random, used: set[str]) -> str:
    """A version-4 UUID string drawn from ``rng`` that is not in ``used`` (and is then added to it)."""
    while True:
        value = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        if value not in used:
            used.add(value)
            return value


def _pool(draw: Callable[[], str], count: int) -> list[str]:
    """Distinct non-empty values of ``count`` calls of ``draw``, in first-seen order."""
    seen: dict[str, None] = {}
    for _ in range(count):
        value = draw().strip()
        if value:
            seen[value] = None
    return list(seen)


def _name_pool(fake: Any, kind: str, draws: int) -> tuple[list[str], list[str]]:
    """Distinct ``first`` or ``last`` names from Faker and an ASCII slug for each (for e-mail and account names).

    Locales with romanized pairs (ja_JP) slug the romanization; other non-Latin names borrow a romanized name when the
    locale has some (zh_CN), else become ``user<n>``.
    """
    names: dict[str, str] = {}
    if hasattr(fake, f"{kind}_name_pair"):
        pair = getattr(fake, f"{kind}_name_pair")
        for _ in range(draws):
            native, _kana, roman = pair()
            names.setdefault(native, _ascii_slug(roman))
    else:
        romanized = getattr(fake, f"{kind}_romanized_name", None)
        for value in _pool(getattr(fake, f"{kind}_name"), draws):
            slug = _ascii_slug(value)
            if not slug and romanized is not None:
                slug = _ascii_slug(romanized())
            names[value] = slug
    display = list(names)
    slugs = [slug or f"user{i + 1}" for i, slug in enumerate(names.values())]
    return display, slugs


def _ticker(progress: Progress | None, stage: str, total: int) -> Callable[[int], None]:
    """A callback for item ``done`` (1-based) that reports every PROGRESS_EVERY items and at the end."""
    if progress is None or total <= 0:
        return lambda done: None

    def tick(done: int) -> None:
        if done % PROGRESS_EVERY == 0 or done == total:
            progress(stage, done, total)

    return tick


def _password(rng: random.Random) -> str:
    """A random 16 to 24 character password with upper, lower, digit and symbol characters."""
    length = rng.randint(16, 24)
    chars = [
        rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ"),
        rng.choice("abcdefghijkmnopqrstuvwxyz"),
        rng.choice("23456789"),
        rng.choice(PASSWORD_SYMBOLS),
        *rng.choices(PASSWORD_ALPHABET, k=length - 4),
    ]
    rng.shuffle(chars)
    return "".join(chars)


def _weighted(rng: random.Random, table: Sequence[tuple[str, int]]) -> str:
    return rng.choices([name for name, _ in table], weights=[w for _, w in table])[0]


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
