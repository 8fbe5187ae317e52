"""SCIM resource endpoints (RFC 7644 §3.3-3.6): read the request, call the core, render the answer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from mockscim.auth.principal import ANONYMOUS, Principal
from mockscim.core.engine import Core, ListParams
from mockscim.http.context import header, state_of
from mockscim.http.responses import ScimResponse, base_url, etag_headers, query_dict, read_json
from mockscim.http.routes import route
from mockscim.http.runtime import runtime_of
from mockscim.resources.base import Kind
from mockscim.scim.errors import InvalidValue
from mockscim.scim.profile import Profile
from mockscim.scim.query import Projection, list_response, parse_page, sort_key

SEARCH_REQUEST = "urn:ietf:params:scim:api:messages:2.0:SearchRequest"
_NO_PROJECTION = Projection()


def _request(request: Request) -> tuple[Core, Principal, str]:
    """The core, the caller, and the SCIM endpoint the path names as the surface map classified it (none for the root
    search): what every handler starts from, read from the request's state once."""
    state = state_of(request.scope)
    return runtime_of(request).core, state.principal or ANONYMOUS, state.target.resource or ""


def _render(kind: Kind, doc: Mapping[str, Any], request: Request, projection: Projection) -> dict[str, Any]:
    if not projection:
        return kind.render(doc, base_url(request))
    # What the projection drops anyway is left out before rendering: a group's members are never walked for
    # excludedAttributes=members (RFC 7644 §3.4.2.5, docs/behaviour.md §6).
    out = kind.render(kind.trimmed(doc, projection.keeps), base_url(request))
    return projection.apply(kind.rtype, out)


def _projection(kind: Kind, source: Mapping[str, Any]) -> Projection:
    attributes, excluded = source.get("attributes"), source.get("excludedAttributes")
    if attributes is None and excluded is None:
        return _NO_PROJECTION
    # POST /.search carries them as lists (RFC 7644 §3.4.3); a query string as comma-separated text.
    if isinstance(attributes, list):
        attributes = ",".join(map(str, attributes))
    if isinstance(excluded, list):
        excluded = ",".join(map(str, excluded))
    return Projection.parse(kind.rtype, attributes, excluded)


def _one(kind: Kind, doc: Mapping[str, Any], request: Request, status: int = 200) -> Response:
    projection = _projection(kind, query_dict(request)) if request.scope["query_string"] else _NO_PROJECTION
    body = _render(kind, doc, request, projection)
    headers = etag_headers(doc)
    if status == 201:
        headers["Location"] = body["meta"]["location"] if "meta" in body else kind.render(doc, base_url(request))[
            "meta"]["location"]
    return ScimResponse(body, status_code=status, headers=headers)


async def collection(request: Request) -> Response:
    """``GET /{Resources}`` lists, ``POST /{Resources}`` creates (RFC 7644 §3.3, §3.4.2)."""
    core, caller, endpoint = _request(request)
    kind = core.kind(endpoint)
    if request.method == "POST":
        kind.before_create(caller)  # docs/behaviour.md §4 precedence: 503 before the body is read
        body = await read_json(request, runtime_of(request).settings.max_body)
        doc = await core.create(kind.endpoint, body, caller)
        return _one(kind, doc, request, 201)
    q = query_dict(request)
    params = ListParams(q.get("filter"), q.get("startIndex"), q.get("count"), q.get("sortBy"), q.get("sortOrder"))
    return _list(core, kind, params, _projection(kind, q), request, caller)


def _list(core: Core, kind: Kind, params: ListParams, projection: Projection, request: Request,
          caller: Principal) -> Response:
    total, docs, page = core.list(kind.endpoint, params, caller)
    resources = [_render(kind, d, request, projection) for d in docs]
    return ScimResponse(list_response(resources, total, page))


async def search(request: Request) -> Response:
    """``POST /{Resources}/.search`` and ``POST /.search`` (RFC 7644 §3.4.3), served by the ``rfc`` profile."""
    core, caller, endpoint = _request(request)
    body = await read_json(request, runtime_of(request).settings.max_body)
    schemas = body.get("schemas")
    if not isinstance(schemas, list) or SEARCH_REQUEST not in schemas:
        raise InvalidValue(scim_type="invalidSyntax")
    kinds = [core.kind(endpoint)] if endpoint else [core.kind(e) for e in core.profile.endpoints]

    def text(key: str) -> str | None:
        value = body.get(key)
        return None if value is None else str(value)

    params = ListParams(text("filter"), text("startIndex"), text("count"), text("sortBy"), text("sortOrder"))
    if len(kinds) == 1:
        return _list(core, kinds[0], params, _projection(kinds[0], body), request, caller)
    # RFC 7644 §3.4.3: a root search is one result set over every type: filtered per type, then sorted (§3.4.2.3)
    # and paged (§3.4.2.4) as a whole, so sortBy orders Users and Groups together and totalResults counts them all.
    page = parse_page(params.start_index, params.count,
                      default_count=core.profile.default_count, max_results=core.profile.max_results)
    found: list[tuple[Kind, Mapping[str, Any]]] = [
        (kind, doc) for kind in kinds for doc in _everything(core, kind, params.filter, caller)]
    if params.sort_by and core.profile.sorting:
        keys = {kind.endpoint: sort_key(kind.rtype, params.sort_by) for kind in kinds}

        def key(pair: tuple[Kind, Mapping[str, Any]]) -> tuple[Any, ...]:
            missing, value = keys[pair[0].endpoint](pair[1])
            return missing, type(value).__name__, value  # one attribute may have another type in another schema

        found.sort(key=key, reverse=(params.sort_order or "").lower() == "descending")
    window = found[page.start - 1: page.start - 1 + page.count]
    resources = [_render(kind, doc, request, _projection(kind, body)) for kind, doc in window]
    return ScimResponse(list_response(resources, len(found), page))


def _everything(core: Core, kind: Kind, flt: str | None, caller: Principal) -> list[Mapping[str, Any]]:
    """Every resource of ``kind`` matching ``flt``, fetched page by page (a page is capped at maxResults)."""
    out: list[Mapping[str, Any]] = []
    while True:
        total, docs, _ = core.list(kind.endpoint, ListParams(flt, str(len(out) + 1), str(core.profile.max_results)),
                                   caller)
        out.extend(docs)
        if not docs or len(out) >= total:
            return out


async def item(request: Request) -> Response:
    """``GET``/``PUT``/``PATCH``/``DELETE`` one resource (RFC 7644 §3.4.1, §3.5, §3.6)."""
    core, caller, endpoint = _request(request)
    kind = core.kind(endpoint)
    rid = request.path_params["id"]
    method = request.method
    if method in ("GET", "HEAD"):
        doc = core.get(kind.endpoint, rid, caller)
        version = doc.get("meta", {}).get("version")
        inm = header(request.scope, b"if-none-match")
        if inm and version and (inm.strip() == "*" or version in {t.strip() for t in inm.split(",")}):
            # docs/behaviour.md §6 [C]: If-None-Match with the current version → 304 (RFC 9110 §13.1.2).
            return Response(status_code=304, headers=etag_headers(doc))
        return _one(kind, doc, request)
    if_match = header(request.scope, b"if-match")
    if method == "DELETE":
        await core.delete(kind.endpoint, rid, caller, if_match)
        return Response(status_code=204)
    # docs/behaviour.md §4 precedence: 413/415/malformed JSON (4) come before a missing resource (5).
    body = await read_json(request, runtime_of(request).settings.max_body)
    if method == "PUT":
        doc = await core.replace(kind.endpoint, rid, body, caller, if_match)
        status = core.profile.put_status
    else:
        doc = await core.patch(kind.endpoint, rid, body, caller, if_match)
        status = core.profile.patch_status
    if status == 204:
        return Response(status_code=204, headers=etag_headers(doc))
    return _one(kind, doc, request, status)


def routes(profile: Profile) -> list[BaseRoute]:
    """The resource routes the profile serves; methods it does not serve answer 405 with ``Allow`` (docs/behaviour.md
    §4)."""
    out: list[BaseRoute] = []
    for endpoint in profile.endpoints:
        allowed = profile.methods.get(endpoint, ())
        coll = [m for m in ("GET", "POST") if m in allowed]
        one = [m for m in ("GET", "PUT", "PATCH", "DELETE") if m in allowed]
        # By id first (the most requests, matched on the first try): `POST /{endpoint}/.search` only matches it
        # partly (the method), so the router goes on to the search route; `GET …/.search` reads an id, as before.
        out.append(route(f"/{endpoint}/{{id}}", item, one))
        out.append(route(f"/{endpoint}", collection, coll))
        if profile.search:
            out.append(route(f"/{endpoint}/.search", search, ["POST"]))
    if profile.search:
        out.append(route("/.search", search, ["POST"]))
    return out
