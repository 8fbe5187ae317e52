"""The Platform token endpoint (docs/behaviour.md §2): OAuth2 client credentials and refresh tokens."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mockscim.auth import Issued
from mockscim.core import Core
from mockscim.http.context import state_of
from mockscim.http.errors import TokenError
from mockscim.http.responses import JsonResponse, basic_credentials, read_form
from mockscim.http.runtime import runtime_of
from mockscim.surfaces import PLATFORM_ROOT, PLATFORM_TOKEN

SCOPES = ("xpm.platform", "xpmheadless")


def _error(code: str, description: str, *, basic: bool = False) -> TokenError:
    # RFC 6749 §5.2; a client that authenticated with Basic gets 401 + WWW-Authenticate (§5.2 invalid_client).
    if basic and code == "invalid_client":
        return TokenError(code, description, status=401, headers={"WWW-Authenticate": 'Basic realm="mockscim"'})
    return TokenError(code, description)


def _issued(issued: Issued) -> Response:
    return JsonResponse({
        "access_token": issued.access_token,
        "token_type": "Bearer",
        "expires_in": issued.expires_in,
        "scope": issued.scope,
        "refresh_token": issued.refresh_token,
    }, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


async def token(request: Request) -> Response:
    """``POST /identity/api/oauth2/token/xpmplatform`` (and under ``/platform``, for Platform mode)."""
    runtime = runtime_of(request)
    core, registry = runtime.core, runtime.tokens
    form = await read_form(request, runtime.settings.max_body)
    basic = basic_credentials(request)
    client_id = basic[0] if basic else form.get("client_id")
    client_secret = basic[1] if basic else form.get("client_secret")
    grant = form.get("grant_type")
    if grant == "client_credentials":
        scope = form.get("scope") or "xpm.platform"
        if not client_id or client_secret is None or core.service_user_secret(client_id) != client_secret:
            raise _error("invalid_client", "Client authentication failed.", basic=basic is not None)
        if scope not in SCOPES:
            raise _error("invalid_scope", f"The scope must be one of {', '.join(SCOPES)}.")
        principal = core.principal(client_id)
        if principal is None or principal.user_name is None:
            raise _error("invalid_client", "Client authentication failed.", basic=basic is not None)
        state_of(request.scope).principal = principal  # the journal names who got a token (docs/behaviour.md §12)
        return _issued(registry.issue(principal.user_name, scope))
    if grant == "refresh_token":
        if client_id is not None and core.service_user_secret(client_id) != client_secret:
            raise _error("invalid_client", "Client authentication failed.", basic=basic is not None)
        owner = None if client_id is None else _canonical(core, client_id)
        issued = registry.refresh(form.get("refresh_token", ""), owner)
        if issued is None:
            raise _error("invalid_grant", "The refresh token is unknown or was already used.")
        state_of(request.scope).principal = core.authenticate(issued.access_token)  # docs/behaviour.md §12
        return _issued(issued)
    raise _error("unsupported_grant_type", "Supported grant types: client_credentials, refresh_token.")


def _canonical(core: Core, client_id: str) -> str:
    principal = core.principal(client_id)
    return principal.user_name if principal and principal.user_name else client_id


def routes() -> list[BaseRoute]:
    """The Platform token endpoint, at the root and under ``/platform`` (Platform mode, docs/behaviour.md §1)."""
    return [Route(path, token, methods=["POST"]) for path in (PLATFORM_TOKEN, PLATFORM_ROOT + PLATFORM_TOKEN)]
