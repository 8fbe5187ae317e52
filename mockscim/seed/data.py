"""The tables and small helpers behind `mockscim seed`: names, templates, passwords, unique values."""

from __future__ import annotations

import random
import unicodedata
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from mockscim import kinds
from mockscim.scim.schema import ENTERPRISE_USER, LINKED_OBJECT

SERVICE_USER_NAME = "scim-service@mockscim.test"
SERVICE_CLIENT_SECRET = "mockscim-secret"

USER_SCHEMA = kinds.USERS.schema
ENTERPRISE_SCHEMA = ENTERPRISE_USER
LINKED_SCHEMA = LINKED_OBJECT
GROUP_SCHEMA = kinds.GROUPS.schema
CONTAINER_SCHEMA = kinds.CONTAINERS.schema
CONTAINER_PERMISSION_SCHEMA = kinds.CONTAINER_PERMISSIONS.schema
PRIVILEGED_DATA_SCHEMA = kinds.PRIVILEGED_DATA.schema
PRIVILEGED_DATA_PERMISSION_SCHEMA = kinds.PRIVILEGED_DATA_PERMISSIONS.schema

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


class Unique:
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


def spaced(unique: Unique, name: str) -> str:
    """Claim ``name``, or ``name 2``, ``name 3``, … on a clash."""
    return unique.claim(name, name + " ")


def ascii_slug(text: str) -> str:
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


def random_uuid(rng: random.Random, used: set[str]) -> str:
    """A version-4 UUID string drawn from ``rng`` that is not in ``used`` (and is then added to it)."""
    while True:
        value = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        if value not in used:
            used.add(value)
            return value


def pool(draw: Callable[[], str], count: int) -> list[str]:
    """Distinct non-empty values of ``count`` calls of ``draw``, in first-seen order."""
    seen: dict[str, None] = {}
    for _ in range(count):
        value = draw().strip()
        if value:
            seen[value] = None
    return list(seen)


def name_pool(fake: Any, kind: str, draws: int) -> tuple[list[str], list[str]]:
    """Distinct ``first`` or ``last`` names from Faker and an ASCII slug for each (for e-mail and account names).

    Locales with romanized pairs (ja_JP) slug the romanization; other non-Latin names borrow a romanized name when the
    locale has some (zh_CN), else become ``user<n>``.
    """
    names: dict[str, str] = {}
    if hasattr(fake, f"{kind}_name_pair"):
        pair = getattr(fake, f"{kind}_name_pair")
        for _ in range(draws):
            native, _kana, roman = pair()
            names.setdefault(native, ascii_slug(roman))
    else:
        romanized = getattr(fake, f"{kind}_romanized_name", None)
        for value in pool(getattr(fake, f"{kind}_name"), draws):
            slug = ascii_slug(value)
            if not slug and romanized is not None:
                slug = ascii_slug(romanized())
            names[value] = slug
    display = list(names)
    slugs = [slug or f"user{i + 1}" for i, slug in enumerate(names.values())]
    return display, slugs


def ticker(progress: Progress | None, stage: str, total: int) -> Callable[[int], None]:
    """A callback for item ``done`` (1-based) that reports every PROGRESS_EVERY items and at the end."""
    if progress is None or total <= 0:
        return lambda done: None

    def tick(done: int) -> None:
        if done % PROGRESS_EVERY == 0 or done == total:
            progress(stage, done, total)

    return tick


def random_password(rng: random.Random) -> str:
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


def weighted(rng: random.Random, table: Sequence[tuple[str, int]]) -> str:
    return rng.choices([name for name, _ in table], weights=[w for _, w in table])[0]
