"""The Secret Server REST API and Platform mode for Delinea's SDKs (docs/behaviour.md §1, §8, §9)."""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mockscim import kinds
from mockscim.auth import Issued, Principal, check_password
from mockscim.core import Core
from mockscim.http.context import state_of
from mockscim.http.errors import SecretServerError, TokenError
from mockscim.http.responses import JsonResponse, base_url, read_form
from mockscim.http.runtime import runtime_of
from mockscim.kinds.templates import field_by
from mockscim.scim.errors import ScimError
from mockscim.secretserver import models, rules
from mockscim.secretserver.errors import (
    AccessDenied,
    AuthenticationFailed,
    BadRequest,
    FieldNotFound,
    SecretCheckedOut,
    Unavailable,
    refused,
)
from mockscim.store import Change, Put
from mockscim.surfaces import SECRET_SERVER_TOKEN
from mockscim.util import jsontext

HEALTH = {"Healthy": True, "healthy": True, "databaseHealthy": True, "serviceBusHealthy": True,
          "storageAccountHealthy": True, "scheduledForDeletion": False}
"""docs/behaviour.md §9: capital ``Healthy`` for the Python SDK, the lower-case keys for the Go SDK."""

PASSWORD_SCOPE = "xpm.platform"
"""The scope a password-grant token is registered with (it is never reported: Secret Server has no scopes)."""

Handler = Callable[[Request, Principal], Awaitable[Response]]


# -- authentication (docs/behaviour.md §2, §9) ------------------------------------------------------------------
def api(handler: Handler, *, needs_secret_server: bool = True) -> Callable[[Request], Awaitable[Response]]:
    """Authenticate (401), then docs/behaviour.md §8's 503 while Secret Server is down (before validation and access
    checks); a refusal of the rules becomes its API error."""

    async def endpoint(request: Request) -> Response:
        caller = state_of(request.scope).principal  # resolved once (middleware/auth.py resolve_caller)
        if caller is None:
            raise AuthenticationFailed()
        if needs_secret_server and not runtime_of(request).core.secret_server_up:
            raise Unavailable()
        try:
            return await handler(request, caller)
        except rules.Refusal as refusal:
            raise refused(refusal) from None

    endpoint.__name__ = handler.__name__
    return endpoint


def _access(request: Request, caller: Principal) -> models.Access:
    core = runtime_of(request).core
    return models.Access(core.store, caller, core.revoked)


async def _body(request: Request) -> Any:
    """A JSON request body (bounded by ``max_body``), keys lower-cased (docs/behaviour.md §9: keys are
    case-insensitive); malformed → 400."""
    limit = runtime_of(request).settings.max_body
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > limit:
            raise BadRequest("The request body is too large.")
    try:
        return rules.insensitive(jsontext.loads(raw)) if raw.strip() else {}
    except jsontext.JsonTextError:
        raise BadRequest("The request body is not valid JSON.") from None


# -- health -----------------------------------------------------------------------------------------------------
async def healthcheck(request: Request) -> Response:
    """``GET /api/v1/healthcheck``: what the SDK probes first to pick Secret Server mode (docs/behaviour.md §9)."""
    if not runtime_of(request).core.secret_server_up:
        return JsonResponse({**HEALTH, "Healthy": False, "healthy": False, "databaseHealthy": False,
                             "errorCode": "ServiceUnavailable", "message": "Secret Server service unavailable."},
                            status_code=503)
    return JsonResponse(HEALTH)


async def platform_health(request: Request) -> Response:
    """``GET /platform/health``: the Platform probe; it stays up with Secret Server down
    (docs/behaviour.md §8)."""
    return JsonResponse({"Healthy": True})


async def platform_no_healthcheck(request: Request) -> Response:
    """``/platform/api/v1/healthcheck``: unhealthy, without "healthy" anywhere, so the SDK picks Platform mode."""
    return JsonResponse({"message": "Not found."}, status_code=404)


# -- tokens -----------------------------------------------------------------------------------------------------
async def token(request: Request) -> Response:
    """``POST /oauth2/token``: the password grant (a service user + its clientSecret, or a User + its password),
    and ``refresh_token``; RFC 6749 §5.2 errors with a string ``error`` (docs/behaviour.md §9)."""
    runtime = runtime_of(request)
    core, registry = runtime.core, runtime.tokens
    if not core.secret_server_up:
        raise Unavailable()
    form = await read_form(request, runtime.settings.max_body)
    grant = form.get("grant_type")
    if grant == "refresh_token":
        issued = registry.refresh(form.get("refresh_token", ""), None)
        if issued is None:
            raise TokenError("invalid_grant", "The refresh token is unknown or was already used.")
        return _issued(request, issued)
    if grant != "password":
        raise TokenError("unsupported_grant_type", "Supported grant types: password, refresh_token.")
    user_name, password = form.get("username", ""), form.get("password", "")
    owner = _password_owner(core, user_name, password) if user_name and password else None
    if owner is None:
        raise TokenError("invalid_grant", "The user name or password is incorrect.")
    return _issued(request, registry.issue(owner, PASSWORD_SCOPE))


def _password_owner(core: Core, user_name: str, password: str) -> str | None:
    """The canonical userName ``user_name``/``password`` authenticate, or ``None``."""
    secret = core.service_user_secret(user_name)
    if secret is not None and secret == password:
        principal = core.principal(user_name)
        return principal.user_name if principal is not None else None
    found = core.store.lookup("Users", "userName", user_name)
    user = found[0] if found and found[0].get("active", True) is not False else None
    if user is not None and check_password(user.get("passwordHash"), password):
        return str(user["userName"])
    return None


def _issued(request: Request, issued: Issued) -> Response:
    # docs/behaviour.md §12: the journal names the user the token was issued to.
    state_of(request.scope).principal = runtime_of(request).core.authenticate(issued.access_token, users=True)
    # Secret Server's token body (docs/behaviour.md §9): the SDK reads access_token and expires_in.
    return JsonResponse({"access_token": issued.access_token, "token_type": "bearer",
                         "expires_in": issued.expires_in, "refresh_token": issued.refresh_token},
                        headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


# -- vault broker (docs/behaviour.md §9) ------------------------------------------------------------------------
async def vaults(request: Request, caller: Principal) -> Response:
    """``GET /platform/vaultbroker/api/vaults``: one default vault whose URL is this server's root (docs/behaviour.md
    §1)."""
    return JsonResponse({"vaults": [{
        "vaultId": "00000000-0000-4000-8000-00000000cafe",
        "name": "mockscim",
        "type": "SecretServerCloud",
        "isDefault": True,
        "isGlobalDefault": True,
        "isActive": True,
        "connection": {"url": base_url(request), "oAuthProfileId": "mockscim"},
    }]})


def _by_id_or_path(request: Request, kind: str, path_param: str,
                   find: Callable[[Any, Sequence[str]], Mapping[str, Any] | None]) -> Mapping[str, Any] | None:
    """The object ``/{id}`` names, or with id ``0`` the one ``?secretPath=``/``?folderPath=`` names (docs/behaviour.md
    §9)."""
    store = runtime_of(request).core.store
    oid = request.path_params["id"]
    if oid == "0" and path_param in request.query_params:
        return find(store, models.normalise_path(request.query_params[path_param]))
    found: Mapping[str, Any] | None = store.get(kind, oid)
    return found


# -- secrets ----------------------------------------------------------------------------------------------------
def _readable_secret(request: Request, caller: Principal) -> Mapping[str, Any]:
    """The secret the path (or ``0?secretPath=``) names, if the caller may read it; else 400 Access Denied
    (docs/behaviour.md §9)."""
    secret = _by_id_or_path(request, "PrivilegedData", "secretPath", models.find_secret)
    if secret is None or not _access(request, caller).can_read_secret(str(secret["id"])):
        raise AccessDenied()
    return secret


def _unlocked(request: Request, caller: Principal) -> Mapping[str, Any]:
    """A readable secret whose items the caller may see now: its comment given (recorded in the journal's
    ``detail``), its check-out held (docs/behaviour.md §9)."""
    secret = _readable_secret(request, caller)
    params = request.query_params
    comment = params.get("autoComment")
    rules.check_read(secret, caller.user_id, runtime_of(request).core.checked_out, comment=comment,
                     auto_check_out=models.truthy(params.get("autoCheckOut")))
    if comment and secret.get("requiresComment") is True:
        state_of(request.scope).detail = f"comment: {comment}"
    return secret


def _written(changes: Sequence[Change]) -> Mapping[str, Any]:
    """The document a write's first change puts (the rules put the written secret or folder first)."""
    first = changes[0]
    assert isinstance(first, Put)
    return first.doc


def _model(request: Request, secret: Mapping[str, Any]) -> dict[str, Any]:
    core = runtime_of(request).core
    return models.secret_model(core.store, secret, core.checked_out)


async def get_secret(request: Request, caller: Principal) -> Response:
    """``GET /secrets/{id}``: a SecretModel."""
    return JsonResponse(_model(request, _unlocked(request, caller)))


async def get_summary(request: Request, caller: Principal) -> Response:
    """``GET /secrets/{id}/summary``: a SecretSummary (no items, so no comment or check-out needed)."""
    core = runtime_of(request).core
    return JsonResponse(models.secret_summary(core.store, _readable_secret(request, caller), core.checked_out))


async def get_field(request: Request, caller: Principal) -> Response:
    """``GET /secrets/{id}/fields/{slug}``: a text field's value as a JSON string; a file field's bytes with its
    filename (docs/behaviour.md §9)."""
    secret = _unlocked(request, caller)
    slug = request.path_params["slug"]
    fields = models.sub_map(secret, "fields")
    key = slug if slug in fields else next((k for k in fields if str(k).lower() == slug.lower()), None)
    if key is None:
        template = models.template_of(runtime_of(request).core.store, secret)
        if template is None or field_by(template, slug=slug) is None:
            raise FieldNotFound(slug)
        return JsonResponse("")
    value = fields[key]
    if isinstance(value, Mapping):
        name = str(value.get("filename") or key).replace('"', "")
        return Response(base64.b64decode(str(value.get("base64", ""))), media_type="application/octet-stream",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})
    return JsonResponse("" if value is None else str(value))


def _query(request: Request) -> rules.SecretQuery:
    return rules.secret_query(request.query_params.multi_items(), default_take=models.DEFAULT_TAKE)


async def search_secrets(request: Request, caller: Principal) -> Response:
    """``GET /secrets``: PagingOfSecretSummary; every filter honoured or refused (docs/behaviour.md §9)."""
    core = runtime_of(request).core
    query = _query(request)
    found = query.run(core.store, _access(request, caller))
    sort = [{"name": query.sort, "direction": "Desc" if query.descending else "Asc", "priority": 0}]
    return JsonResponse(models.paging(
        query.skip, query.take, found,
        lambda s: models.secret_summary(core.store, s, core.checked_out, query.extended_values(s)),
        sort_by=sort))


async def search_total(request: Request, caller: Principal) -> Response:
    """``GET /secrets/search-total``: a bare integer."""
    core = runtime_of(request).core
    return JsonResponse(len(_query(request).run(core.store, _access(request, caller))))


async def create_secret(request: Request, caller: Principal) -> Response:
    """``POST /secrets`` (and ``/secrets/``, as the Go SDK sends it): the new SecretModel (docs/behaviour.md §9)."""
    core = runtime_of(request).core
    body = await _body(request)
    keys = await run_in_threadpool(rules.keys_for, body)  # RSA and bcrypt take ~0.5 s: off the event loop
    changes = await core.transact(lambda: rules.create_secret(core.store, _access(request, caller), body, keys))
    return JsonResponse(_model(request, _written(changes)))


async def _change_secret(request: Request, caller: Principal, rule: Callable[..., Any]) -> Response:
    """Apply ``rule(store, access, id, body)`` to the secret the path names, through the core; the new SecretModel."""
    core = runtime_of(request).core
    body = await _body(request)
    sid = request.path_params["id"]
    changes = await core.transact(lambda: rule(core.store, _access(request, caller), sid, body))
    return JsonResponse(_model(request, _written(changes)))


async def update_secret(request: Request, caller: Principal) -> Response:
    """``PUT /secrets/{id}``: name, folder, items and flags replaced."""
    return await _change_secret(request, caller, rules.update_secret)


async def patch_general(request: Request, caller: Principal) -> Response:
    """``PATCH /secrets/{id}/general``: set or clear fields (``value: null`` clears a file field)."""
    return await _change_secret(request, caller, rules.patch_general)


async def put_field(request: Request, caller: Principal) -> Response:
    """``PUT /secrets/{id}/fields/{slug}``: JSON ``{"value"}``, or ``multipart/form-data`` with a ``file`` part."""
    core = runtime_of(request).core
    sid, slug = request.path_params["id"], request.path_params["slug"]
    value: str | rules.Upload
    if request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        value = await _upload(request)
    else:
        body = await _body(request)
        given = body.get("value") if isinstance(body, Mapping) else None
        if not isinstance(given, str):
            raise BadRequest("value must be a string.")
        value = given
    await core.transact(lambda: rules.set_field(core.store, _access(request, caller), sid, slug, value))
    return JsonResponse("" if isinstance(value, rules.Upload) else value)


async def _upload(request: Request) -> rules.Upload:
    limit = runtime_of(request).settings.max_body
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise BadRequest("The request body is too large.")
    try:
        async with request.form(max_files=1, max_fields=16) as form:
            part = form.get("file")
            if not isinstance(part, UploadFile):
                raise BadRequest("The multipart body needs a file part named 'file'.")
            content = await part.read(limit + 1)
            if len(content) > limit:
                raise BadRequest("The request body is too large.")
            return rules.Upload(part.filename or "file", content)
    except (MultiPartException, HTTPException):
        raise BadRequest("The multipart body is malformed.") from None


async def delete_secret(request: Request, caller: Principal) -> Response:
    """``DELETE /secrets/{id}`` (Owner): deactivates; answers a DeletedModel (docs/behaviour.md §9)."""
    core = runtime_of(request).core
    sid = request.path_params["id"]
    await core.transact(lambda: rules.deactivate_secret(core.store, _access(request, caller), sid))
    core.checked_out.pop(sid, None)
    return JsonResponse({"id": models.ss_id(sid), "objectType": "Secret", "responseCodes": []})


async def check_out(request: Request, caller: Principal) -> Response:
    """``POST /secrets/{id}/check-out``: the caller holds the secret until it checks it in (docs/behaviour.md §9)."""
    core = runtime_of(request).core
    secret = _readable_secret(request, caller)
    sid = str(secret["id"])
    holder = core.checked_out.get(sid)
    if holder is not None and holder != caller.user_id:
        raise SecretCheckedOut()
    if caller.user_id is not None:
        core.checked_out[sid] = caller.user_id
    return JsonResponse(models.secret_summary(core.store, secret, core.checked_out))


async def check_in(request: Request, caller: Principal) -> Response:
    """``POST /secrets/{id}/check-in``: releases the caller's check-out."""
    core = runtime_of(request).core
    secret = _readable_secret(request, caller)
    sid = str(secret["id"])
    holder = core.checked_out.get(sid)
    if holder is not None and holder != caller.user_id:
        raise SecretCheckedOut()
    core.checked_out.pop(sid, None)
    return JsonResponse(models.secret_summary(core.store, secret, core.checked_out))


# -- templates (docs/behaviour.md §9) ---------------------------------------------------------------------------
async def templates(request: Request, caller: Principal) -> Response:
    """``GET /secret-templates``: a paging envelope of ``{id, name}``."""
    params, skip, take = rules.template_query(request.query_params.multi_items())
    text = params.get("filter.searchText", "").lower()
    found = [t for t in runtime_of(request).core.store.all(kinds.SECRET_TEMPLATES) if text in str(t["name"]).lower()]
    return JsonResponse(models.paging(skip, take, found, lambda t: {"id": t["id"], "name": t["name"]}))


async def template(request: Request, caller: Principal) -> Response:
    """``GET /secret-templates/{id}``: a SecretTemplateModel; unknown → 400 Access Denied."""
    found = runtime_of(request).core.store.get(kinds.SECRET_TEMPLATES, request.path_params["id"])
    if found is None:
        raise AccessDenied()
    return JsonResponse(found)


async def generate_password(request: Request, caller: Principal) -> Response:
    """``POST /secret-templates/generate-password/{fieldId}``: a fresh password as a JSON string."""
    return JsonResponse(rules.generate_password())


# -- folders ----------------------------------------------------------------------------------------------------
async def get_folder(request: Request, caller: Principal) -> Response:
    """``GET /api/v1/folders/{id}`` (``0?folderPath=``; ``getAllChildren=true`` fills ``childFolders``)."""
    store = runtime_of(request).core.store
    folder = _by_id_or_path(request, "Containers", "folderPath", models.find_folder)
    if folder is None or not _access(request, caller).can_see_folder(str(folder["id"])):
        raise AccessDenied()
    with_children = models.truthy(request.query_params.get("getAllChildren"))
    return JsonResponse(models.folder_model(store, folder, with_children=with_children))


async def lookup_folders(request: Request, caller: Principal) -> Response:
    """``GET /folders/lookup``: PagingOfFolderLookup, records ``{id, value}``."""
    store = runtime_of(request).core.store
    params, skip, take = rules.folder_query(request.query_params.multi_items(), default_take=models.DEFAULT_TAKE)
    found = models.search_folders(store, _access(request, caller), params)
    return JsonResponse(models.paging(skip, take, found,
                                      lambda c: {"id": models.ss_id(c["id"]), "value": c.get("name")}))


async def search_folders(request: Request, caller: Principal) -> Response:
    """``GET /folders``: PagingOfFolderModel (``filter.searchText``, ``filter.parentFolderId``)."""
    store = runtime_of(request).core.store
    params, skip, take = rules.folder_query(request.query_params.multi_items(), default_take=models.DEFAULT_TAKE)
    found = models.search_folders(store, _access(request, caller), params)
    return JsonResponse(models.paging(skip, take, found,
                                      lambda c: models.folder_model(store, c, with_children=False)))


def _scim_refusal(exc: ScimError) -> SecretServerError:
    """A container rule's SCIM error as the API's (docs/behaviour.md §9: a folder is created exactly as a SCIM
    Container): no Owner → Access Denied; anything else names the problem."""
    if exc.status in (403, 404):
        return AccessDenied()
    if exc.status == 503:
        return Unavailable()
    return BadRequest(exc.detail)


async def create_folder(request: Request, caller: Principal) -> Response:
    """``POST /folders``: ``{folderName, parentFolderId (-1 = root), …}``, created as ``POST /Containers`` is."""
    core = runtime_of(request).core
    body = await _body(request)
    name = body.get("foldername") if isinstance(body, Mapping) else None
    if not isinstance(name, str) or not name.strip():
        raise BadRequest("folderName is required.")
    parent = rules.parent_of(body)
    doc: dict[str, Any] = {"name": name}
    if parent is not None:
        if core.store.get("Containers", parent) is None:
            raise BadRequest(f"Folder {parent} not found.")
        doc["parent"] = {"value": parent}
    try:
        created = await core.create("Containers", doc, caller)
    except ScimError as exc:
        raise _scim_refusal(exc) from None
    return JsonResponse(models.folder_model(core.store, created, with_children=False))


async def rename_folder(request: Request, caller: Principal) -> Response:
    """``PUT /folders/{id}``: renames (Owner or Edit)."""
    core = runtime_of(request).core
    body = await _body(request)
    cid = request.path_params["id"]
    changes = await core.transact(lambda: rules.rename_folder(core.store, _access(request, caller), cid, body))
    return JsonResponse(models.folder_model(core.store, _written(changes), with_children=False))


async def delete_folder(request: Request, caller: Principal) -> Response:
    """``DELETE /folders/{id}`` (Owner): an empty folder is removed with its permissions."""
    core = runtime_of(request).core
    cid = request.path_params["id"]
    await core.transact(lambda: rules.delete_folder(core.store, _access(request, caller), cid))
    return JsonResponse({"id": models.ss_id(cid), "objectType": "Folder", "responseCodes": []})


# -- users ------------------------------------------------------------------------------------------------------
async def users(request: Request, caller: Principal) -> Response:
    """``GET /api/v1/users``: SCIM users as Secret Server users (docs/behaviour.md §9)."""
    params, skip, take = rules.user_query(request.query_params.multi_items(), default_take=models.DEFAULT_TAKE)
    found = models.search_users(runtime_of(request).core.store, params)
    return JsonResponse(models.paging(skip, take, found, models.user_model))


def routes() -> list[BaseRoute]:
    """Every Secret Server route, Platform mode included (docs/behaviour.md §1, §9). Each answers with and without a
    trailing slash (the Go SDK creates with ``POST /api/v1/secrets/``); secrets also under ``/api/v2``. The
    ``/platform`` routes are plain routes, not a Mount, so the vault's ``connection.url`` is the root URL whose
    ``/api/v1`` accepts the Platform token."""
    get, post, put = ["GET"], ["POST"], ["PUT"]
    secrets: list[tuple[str, Handler, list[str]]] = [
        ("/secrets/search-total", search_total, get),
        ("/secrets", search_secrets, get),
        ("/secrets", create_secret, post),
        ("/secrets/{id}/fields/{slug}", get_field, get),
        ("/secrets/{id}/fields/{slug}", put_field, put),
        ("/secrets/{id}/summary", get_summary, get),
        ("/secrets/{id}/general", patch_general, ["PATCH"]),
        ("/secrets/{id}/check-out", check_out, post),
        ("/secrets/{id}/check-in", check_in, post),
        ("/secrets/{id}", get_secret, get),
        ("/secrets/{id}", update_secret, put),
        ("/secrets/{id}", delete_secret, ["DELETE"]),
    ]
    others: list[tuple[str, Handler, list[str]]] = [
        ("/secret-templates/generate-password/{fieldId}", generate_password, post),
        ("/secret-templates", templates, get),
        ("/secret-templates/{id}", template, get),
        ("/folders/lookup", lookup_folders, get),
        ("/folders", search_folders, get),
        ("/folders", create_folder, post),
        ("/folders/{id}", get_folder, get),
        ("/folders/{id}", rename_folder, put),
        ("/folders/{id}", delete_folder, ["DELETE"]),
        ("/users", users, get),
    ]
    found: list[BaseRoute] = [
        Route("/api/v1/healthcheck", healthcheck, methods=get),
        Route("/healthcheck.aspx", healthcheck, methods=get),
        Route(SECRET_SERVER_TOKEN, token, methods=post),
    ]
    table = [*((f"/api/{v}{path}", handler, methods) for v in ("v1", "v2") for path, handler, methods in secrets),
             *((f"/api/v1{path}", handler, methods) for path, handler, methods in others)]
    for path, handler, methods in table:
        endpoint = api(handler)
        found += [Route(path, endpoint, methods=methods), Route(path + "/", endpoint, methods=methods)]
    found += [
        Route("/platform/health", platform_health, methods=get),
        Route("/platform/vaultbroker/api/vaults", api(vaults, needs_secret_server=False), methods=get),
        Route("/platform/api/v1/healthcheck", platform_no_healthcheck, methods=get),
    ]
    return found
