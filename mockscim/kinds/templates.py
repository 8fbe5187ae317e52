"""Secret templates: the five shipped ones and the SecretTemplateModel shape (docs/behaviour.md §9, §13)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["SECRET_FLAGS", "SHIPPED", "TEMPLATES_KEY", "field_by", "shipped_templates", "template_by"]

TEMPLATES_KEY = "SecretTemplates"
"""The state's list of templates (docs/behaviour.md §13); absent, :data:`SHIPPED` is used."""

SECRET_FLAGS: Mapping[str, type] = {
    # docs/behaviour.md §9, §13: a secret's flags, kept and echoed (a boolean or an integer each).
    "requiresComment": bool, "checkOutEnabled": bool, "autoChangeEnabled": bool,
    "checkOutChangePasswordEnabled": bool, "enableInheritPermissions": bool, "enableInheritSecretPolicy": bool,
    "proxyEnabled": bool, "sessionRecordingEnabled": bool, "webLauncherRequiresIncognitoMode": bool,
    "checkOutIntervalMinutes": int, "secretPolicyId": int, "launcherConnectAsSecretId": int,
    "passwordTypeWebScriptId": int,
}

# (slug, display name, is a file, is a password, is notes, is a URL, required) per field.
_Field = tuple[str, str, bool, bool, bool, bool, bool]
_TEXT, _FILE = False, True


def _f(slug: str, name: str, *, file: bool = _TEXT, password: bool = False, notes: bool = False, url: bool = False,
       required: bool = False) -> _Field:
    return slug, name, file, password, notes, url, required


_DECLARED: tuple[tuple[int, str, tuple[_Field, ...]], ...] = (
    # [C] ids: Secret Server's own ids for these templates where known; field ids are template id * 100 + n so that
    # they are unique across templates (docs/behaviour.md §9).
    (2, "Password", (
        _f("resource", "Resource"), _f("host", "Host"), _f("username", "Username", required=True),
        _f("password", "Password", password=True, required=True), _f("notes", "Notes", notes=True))),
    (1, "Web Password", (
        _f("url", "URL", url=True, required=True), _f("username", "Username", required=True),
        _f("password", "Password", password=True, required=True), _f("notes", "Notes", notes=True))),
    (6007, "Unix Account (SSH)", (
        _f("machine", "Machine", required=True), _f("username", "Username", required=True),
        _f("password", "Password", password=True), _f("private-key", "Private Key", file=_FILE),
        _f("private-key-passphrase", "Private Key Passphrase", password=True),
        _f("public-key", "Public Key", file=_FILE), _f("notes", "Notes", notes=True))),
    (6003, "Windows Account", (
        _f("machine", "Machine", required=True), _f("username", "Username", required=True),
        _f("password", "Password", password=True, required=True), _f("notes", "Notes", notes=True))),
    (6004, "SQL Server Account", (
        _f("server", "Server", required=True), _f("database", "Database"), _f("username", "Username", required=True),
        _f("password", "Password", password=True, required=True), _f("notes", "Notes", notes=True))),
)


def _model(tid: int, name: str, fields: Sequence[_Field]) -> dict[str, Any]:
    return {"id": tid, "name": name, "fields": [
        {"secretTemplateFieldId": tid * 100 + n, "fieldSlugName": slug, "displayName": display, "name": display,
         "description": f"The {display.lower()}.", "isFile": file, "isList": False, "listType": "None",
         "isNotes": notes, "isPassword": password, "isRequired": required, "isUrl": url}
        for n, (slug, display, file, password, notes, url, required) in enumerate(fields, start=1)]}


SHIPPED: tuple[dict[str, Any], ...] = tuple(_model(*t) for t in _DECLARED)
"""The shipped templates as SecretTemplateModels (docs/behaviour.md §9)."""


def shipped_templates() -> list[dict[str, Any]]:
    """A fresh copy of the shipped templates (a state owns its own)."""
    return [{**t, "fields": [dict(f) for f in t["fields"]]} for t in SHIPPED]


def template_by(templates: Sequence[Mapping[str, Any]], *, tid: Any = None, name: Any = None
                ) -> Mapping[str, Any] | None:
    """The template with id ``tid`` (any spelling of the integer), else the one named ``name`` (case-insensitive)."""
    if tid is not None and str(tid).strip() not in ("", "0"):
        return next((t for t in templates if str(t["id"]) == str(tid).strip()), None)
    if isinstance(name, str):
        return next((t for t in templates if str(t["name"]).lower() == name.lower()), None)
    return None


def field_by(template: Mapping[str, Any], *, fid: Any = None, slug: Any = None) -> Mapping[str, Any] | None:
    """The template's field with id ``fid``, else with slug (or name) ``slug``, case-insensitively."""
    fields: Sequence[Mapping[str, Any]] = template["fields"]
    if fid is not None and str(fid).strip() not in ("", "0"):
        return next((f for f in fields if str(f["secretTemplateFieldId"]) == str(fid).strip()), None)
    if isinstance(slug, str) and slug:
        low = slug.lower()
        return next((f for f in fields if str(f["fieldSlugName"]).lower() == low or str(f["name"]).lower() == low),
                    None)
    return None
