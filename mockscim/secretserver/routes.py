"""The Secret Server REST API and Platform mode for Delinea's SDKs (docs/behaviour.md §1, §8, §9)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from mockscim.auth import Issued, Principal, check_password
from mockscim.core import Core
from mockscim.http.context import state_of
from mockscim.http.errors import TokenError
from mockscim.http.responses import base_url, read_form
from mockscim.http.runtime import runtime_of
from mockscim.secretserver import models
from mockscim.secretserver.errors import AccessDenied, AuthenticationFailed, BadRequest, FieldNotFound, Unavailable
from mockscim.surfaces import SECRET_SERVER_TOKEN

HEALTH = {"Healthy": True, "healthy": True, "databaseHealthy": True, "serviceBusHealthy": True,
          "storageAccountHealthy": True, "scheduledForDeletion": False}
"""docs/behaviour.md §9: capital ``Healthy`` for the Python SDK, the lower-case keys for the Go SDK."""

PASSWORD_SCOPE = "xpm.platform"
"""The scope a password-grant token is registered with (it is never reported: Secret Server has no scopes)."""

Handler = Callable[[Request, Principal], Awaitable[Response]]


# -- authentication (docs/behaviour.md §2, §9) ------------------------------------------------------------------
def api(handler: Handler, *, needs_secret_server: bool = True) -> Callable[[Request], Awaitable[Response]]:
    """Authenticate (401), then docs/behaviour.md §8's 503 while Secret Server is down (before validation and access
    checks)."""

    async def endpoint(request: Request) -> Response:
        caller = state_of(request.scope).principal  # resolved once, by RequestMiddleware
        if caller is None:
            raise AuthenticationFailed()
        if needs_secret_server and not runtime_of(request).core.secret_server_up:
            raise Unavailable()
        try:
            return await handler(request, caller)
        except models.BadPaging:
            raise BadRequest("skip and take must be non-negative integers.") from None

    endpoint.__name__ = handler.__name__
    return endpoint


def _access(request: Request, caller: Principal) -> models.Access:
    core = runtime_of(request).core
    return models.Access(core.store, caller, core.revoked)


# -- health -----------------------------------------------------------------------------------------------------
async def healthcheck(request: Request) -> Response:
    """``GET /api/v1/healthcheck``: what the SDK probes first to pick Secret Server mode (docs/behaviour.md §9)."""
    if not runtime_of(request).core.secret_server_up:
        return JSONResponse({**HEALTH, "Healthy": False, "healthy": False, "databaseHealthy": False,
                             "errorCode": "ServiceUnavailable", "message": "Secret Server service unavailable."},
                            status_code=503)
    return JSONResponse(HEALTH)


async def platform_health(request: Request) -> Response:
    """``GET /platform/health``: the Platform probe; it stays up with Secret Server down
    (docs/behaviour.md §8)."""
    return JSONResponse({"Healthy": True})


async def platform_no_healthcheck(request: Request) -> Response:
    """``/platform/api/v1/healthcheck``: unhealthy, without "healthy" anywhere, so the SDK picks Platform mode."""
    return JSONResponse({"message": "Not found."}, status_code=404)


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
    return JSONResponse({"access_token": issued.access_token, "token_type": "bearer",
                         "expires_in": issued.expires_in, "refresh_token": issued.refresh_token},
                        headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


# -- vault broker (docs/behaviour.md §9) ------------------------------------------------------------------------
async def vaults(request: Request, caller: Principal) -> Response:
    """``GET /platform/vaultbroker/api/vaults``: one default vault whose URL is this server's root (docs/behaviour.md
    §1)."""
    return JSONResponse({"vaults": [{
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
def _readable_secret(request: Request, caller: Principal) -> Mapping[str, Any] | None:
    """The secret the path (or ``0?secretPath=``) names, if the caller may read it (docs/behaviour.md §9)."""
    secret = _by_id_or_path(request, "PrivilegedData", "secretPath", models.find_secret)
    if secret is None or not _access(request, caller).can_read_secret(str(secret["id"])):
        return None
    return secret


async def get_secret(request: Request, caller: Principal) -> Response:
    """``GET /api/v1/secrets/{id}``: a SecretModel."""
    secret = _readable_secret(request, caller)
    if secret is None:
        raise AccessDenied()
    return JSONResponse(models.secret_model(runtime_of(request).core.store, secret))


async def get_field(request: Request, caller: Principal) -> Response:
    """``GET /api/v1/secrets/{id}/fields/{slug}``: the raw value as a JSON string."""
    secret = _readable_secret(request, caller)
    if secret is None:
        raise AccessDenied()
    slug = request.path_params["slug"]
    fields = models.sub_map(secret, "fields")
    key = slug if slug in fields else next((k for k in fields if str(k).lower() == slug.lower()), None)
    if key is None:
        raise FieldNotFound(slug)
    value = fields[key]
    return JSONResponse("" if value is None else str(value))


async def search_secrets(request: Request, caller: Principal) -> Response:
    """``GET /api/v1/secrets`` (and ``/api/v2``): PagingOfSecretSummary."""
    store = runtime_of(request).core.store
    params = request.query_params
    found = models.search_secrets(store, _access(request, caller), params)
    return JSONResponse(models.paging(params, found, lambda s: models.secret_summary(store, s)))


async def search_total(request: Request, caller: Principal) -> Response:
    """``GET /api/v1/secrets/search-total``: a bare integer (the SDK sends its text back as ``take``, §3.5)."""
    found = models.search_secrets(runtime_of(request).core.store, _access(request, caller), request.query_params)
    return JSONResponse(len(found))


# -- folders ----------------------------------------------------------------------------------------------------
async def get_folder(request: Request, caller: Principal) -> Response:
    """``GET /api/v1/folders/{id}`` (``0?folderPath=``; ``getAllChildren=true`` fills ``childFolders``)."""
    store = runtime_of(request).core.store
    folder = _by_id_or_path(request, "Containers", "folderPath", models.find_folder)
    if folder is None or not _access(request, caller).can_see_folder(str(folder["id"])):
        raise AccessDenied()
    with_children = models.truthy(request.query_params.get("getAllChildren"))
    return JSONResponse(models.folder_model(store, folder, with_children=with_children))


async def lookup_folders(request: Request, caller: Principal) -> Response:
    """``GET /api/v1/folders/lookup``: PagingOfFolderLookup, records ``{id, value}``."""
    store = runtime_of(request).core.store
    params = request.query_params
    found = models.search_folders(store, _access(request, caller), params)
    return JSONResponse(models.paging(params, found, lambda c: {"id": models.ss_id(c["id"]), "value": c.get("name")}))


# -- users ------------------------------------------------------------------------------------------------------
async def users(request: Request, caller: Principal) -> Response:
    """``GET /api/v1/users``: SCIM users as Secret Server users (docs/behaviour.md §9)."""
    params = request.query_params
    found = models.search_users(runtime_of(request).core.store, params)
    return JSONResponse(models.paging(params, found, models.user_model))


def routes() -> list[BaseRoute]:
    """Every facade route, Platform mode included (docs/behaviour.md §1). The ``/platform`` routes are plain routes, not
    a Mount, so the vault's ``connection.url`` is the root URL whose ``/api/v1`` accepts the Platform token."""
    get = ["GET"]
    found: list[BaseRoute] = [
        Route("/api/v1/healthcheck", healthcheck, methods=get),
        Route(SECRET_SERVER_TOKEN, token, methods=["POST"]),
        Route("/api/v1/secrets/search-total", api(search_total), methods=get),
        Route("/api/v2/secrets/search-total", api(search_total), methods=get),
        Route("/api/v1/secrets", api(search_secrets), methods=get),
        Route("/api/v2/secrets", api(search_secrets), methods=get),
        Route("/api/v1/secrets/{id}/fields/{slug}", api(get_field), methods=get),
        Route("/api/v1/secrets/{id}", api(get_secret), methods=get),
        Route("/api/v1/folders/lookup", api(lookup_folders), methods=get),
        Route("/api/v1/folders/{id}", api(get_folder), methods=get),
        Route("/api/v1/users", api(users), methods=get),
        Route("/platform/health", platform_health, methods=get),
        Route("/platform/vaultbroker/api/vaults", api(vaults, needs_secret_server=False), methods=get),
        Route("/platform/api/v1/healthcheck", platform_no_healthcheck, methods=get),
    ]
    return found
