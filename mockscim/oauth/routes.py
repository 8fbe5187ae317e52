"""The Platform token endpoint (SPEC §2): OAuth2 client credentials and refresh tokens, RFC 6749 error bodies."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import parse_qsl, unquote_plus

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mockscim.context import state_of
from mockscim.core import Core
from mockscim.tokens import Issued, TokenRegistry

SCOPES = ("xpm.platform", "xpmheadless")


def _error(code: str, description: str, *, basic: bool = False) -> Response:
    # RFC 6749 §5.2; a client that authenticated with Basic gets 401 + WWW-Authenticate (§5.2 invalid_client).
    if basic and code == "invalid_client":
        return JSONResponse({"error": code, "error_description": description}, status_code=401,
                            headers={"WWW-Authenticate": 'Basic realm="mockscim"', "Cache-Control": "no-store"})
    return JSONResponse({"error": code, "error_description": description}, status_code=400,
                        headers={"Cache-Control": "no-store"})


def _issued(issued: Issued) -> Response:
    return JSONResponse({
        "access_token": issued.access_token,
        "token_type": "Bearer",
        "expires_in": issued.expires_in,
        "scope": issued.scope,
        "refresh_token": issued.refresh_token,
    }, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


async def read_form(request: Request, max_body: int) -> dict[str, str]:
    """A form-encoded body, bounded by ``max_body`` (no multipart: token requests are urlencoded)."""
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > max_body:
            return {}
    try:
        return dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError:
        return {}


def basic_credentials(request: Request) -> tuple[str, str] | None:
    """RFC 6749 §2.3.1: client credentials in HTTP Basic, form-urlencoded inside."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return ("", "")
    user, _, secret = decoded.partition(":")
    return unquote_plus(user), unquote_plus(secret)


def service_user_secret(core: Core, client_id: str) -> str | None:
    """The clientSecret of the service user ``client_id`` (its userName, SPEC §13), if there is one."""
    for su in core.store.all("serviceUsers"):
        if str(su["userName"]).lower() == client_id.lower():
            return str(su["clientSecret"])
    return None


async def token(request: Request) -> Response:
    """``POST /identity/api/oauth2/token/xpmplatform``."""
    core: Core = request.app.state.core
    registry: TokenRegistry = request.app.state.tokens
    form = await read_form(request, request.app.state.settings.max_body)
    basic = basic_credentials(request)
    client_id = basic[0] if basic else form.get("client_id")
    client_secret = basic[1] if basic else form.get("client_secret")
    grant = form.get("grant_type")
    if grant == "client_credentials":
        scope = form.get("scope") or "xpm.platform"
        if not client_id or client_secret is None or service_user_secret(core, client_id) != client_secret:
            return _error("invalid_client", "Client authentication failed.", basic=basic is not None)
        if scope not in SCOPES:
            return _error("invalid_scope", f"The scope must be one of {', '.join(SCOPES)}.")
        principal = core.principal(client_id)
        if principal is None or principal.user_name is None:
            return _error("invalid_client", "Client authentication failed.", basic=basic is not None)
        state_of(request.scope).principal = principal  # the journal names who got a token (SPEC §12)
        return _issued(registry.issue(principal.user_name, scope))
    if grant == "refresh_token":
        if client_id is not None and service_user_secret(core, client_id) != client_secret:
            return _error("invalid_client", "Client authentication failed.", basic=basic is not None)
        owner = None if client_id is None else _canonical(core, client_id)
        issued = registry.refresh(form.get("refresh_token", ""), owner)
        if issued is None:
            return _error("invalid_grant", "The refresh token is unknown or was already used.")
        return _issued(issued)
    return _error("unsupported_grant_type", "Supported grant types: client_credentials, refresh_token.")


def _canonical(core: Core, client_id: str) -> str:
    principal = core.principal(client_id)
    return principal.user_name if principal and principal.user_name else client_id
