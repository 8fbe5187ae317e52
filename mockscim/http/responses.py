"""What the endpoints share of HTTP: SCIM responses, bounded JSON and form bodies, the query, the base URL."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

from starlette.requests import Request
from starlette.responses import JSONResponse

from mockscim.http.context import state_of
from mockscim.http.runtime import runtime_of
from mockscim.scim.errors import InvalidValue, PayloadTooLarge, UnsupportedMediaType
from mockscim.util import jsontext
from mockscim.util.urlquery import parse_query

SCIM_MEDIA = "application/scim+json"
_JSON_TYPES = {"application/scim+json", "application/json"}
_SCIM_TYPE = (b"content-type", SCIM_MEDIA.encode("ascii"))


class JsonResponse(JSONResponse):
    """Starlette's ``JSONResponse`` encoded by orjson (:func:`mockscim.util.jsontext.dumps`: the same bytes but for a
    negative exponent, ``1e-7``): every surface answers with it."""

    def render(self, content: Any) -> bytes:
        return jsontext.dumps(content)


class ScimResponse(JsonResponse):
    """RFC 7644 §3.1: SCIM responses are ``application/scim+json``."""

    media_type = SCIM_MEDIA

    def init_headers(self, headers: Mapping[str, str] | None = None) -> None:
        """Starlette's headers (the given ones, then length and type), without its general checks: every SCIM answer
        passes here, and sets neither of those two itself."""
        raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()] if headers else []
        if self.status_code in (204, 304) or self.status_code < 200 or any(
                k == b"content-length" or k == b"content-type" for k, _ in raw):
            super().init_headers(headers)
            return
        raw.append((b"content-length", b"%d" % len(self.body)))
        raw.append(_SCIM_TYPE)
        self.raw_headers = raw


async def read_json(request: Request, max_body: int) -> dict[str, Any]:
    """The request body as a JSON object: 413 over ``max_body``, 415 for a media type other than JSON (none at all is
    JSON), 400 when malformed."""
    declared = b""
    content_type: bytes | None = None
    for name, value in request.scope["headers"]:  # one pass over the raw headers (Headers.get scans per call)
        if name == b"content-length" and not declared:
            declared = value
        elif name == b"content-type" and content_type is None:
            content_type = value
    if declared.isdigit() and int(declared) > max_body:
        raise PayloadTooLarge()
    chunks = bytearray()
    async for chunk in request.stream():
        chunks += chunk
        if len(chunks) > max_body:
            raise PayloadTooLarge()
    # docs/behaviour.md §7: a body with no Content-Type at all is read as JSON (older Okta test suites send none).
    media = None if content_type is None else content_type.decode("latin-1").split(";", 1)[0].strip().lower()
    if chunks and media is not None and media not in _JSON_TYPES:
        raise UnsupportedMediaType()
    try:
        body = jsontext.loads(chunks)
    except jsontext.JsonTextError:
        raise InvalidValue(scim_type="invalidSyntax") from None
    if not isinstance(body, dict):
        # docs/behaviour.md §7: a body that is not a JSON object is malformed too.
        raise InvalidValue(scim_type="invalidSyntax")
    return body


def query_dict(request: Request) -> dict[str, str]:
    """The query string as a plain dict, the last value of a repeated name winning (as Starlette's ``query_params``,
    without building its multi-dict: a SCIM list reads five names from it)."""
    return parse_query(request.scope["query_string"].decode("latin-1"))


def base_url(request: Request) -> str:
    """The server's root URL as the client should see it (no trailing slash), worked out once per request:
    ``--public-url``, trusted forwarded headers, or the request's own (docs/behaviour.md §14)."""
    state = state_of(request.scope)
    if state.base is None:
        state.base = runtime_of(request).hosts.base(request.scope)
    return state.base


def etag_headers(doc: Mapping[str, Any]) -> dict[str, str]:
    """RFC 7644 §3.14: the resource version as ``ETag``."""
    version = doc.get("meta", {}).get("version")
    return {"ETag": version} if version else {}


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
