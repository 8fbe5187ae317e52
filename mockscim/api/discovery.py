"""Discovery (RFC 7644 §4): ServiceProviderConfig, ResourceTypes and Schemas, built from the profile."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute

from mockscim.core.engine import Core
from mockscim.http.responses import ScimResponse, base_url
from mockscim.http.routes import route
from mockscim.http.runtime import runtime_of
from mockscim.scim.errors import NotFound, NotImplementedFeature
from mockscim.scim.query import LIST_RESPONSE
from mockscim.surfaces import SCIM_ROOT, scim_url


def _core(request: Request) -> Core:
    return runtime_of(request).core


def _listing(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"schemas": [LIST_RESPONSE], "totalResults": len(items), "startIndex": 1, "itemsPerPage": len(items),
            "Resources": items}


async def service_provider_config(request: Request) -> Response:
    """RFC 7643 §5, with what this profile supports (docs/behaviour.md §11)."""
    profile = _core(request).profile
    base = base_url(request)
    return ScimResponse({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "documentationUri": "https://docs.delinea.com/online-help/integrations/scim/scim-cloud.htm",
        "patch": {"supported": True},
        "bulk": {"supported": False, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": True, "maxResults": profile.max_results},
        "changePassword": {"supported": False},
        "sort": {"supported": profile.sorting},
        "etag": {"supported": True},
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "Client credentials at /identity/api/oauth2/token/xpmplatform, or the static token.",
            "specUri": "https://www.rfc-editor.org/info/rfc6750",
            "primary": True,
        }],
        "meta": {"resourceType": "ServiceProviderConfig", "location": scim_url(base, "ServiceProviderConfig")},
    })


async def resource_types(request: Request) -> Response:
    core = _core(request)
    base = base_url(request) + SCIM_ROOT
    items = [rt.to_scim(base) for rt in core.profile.resource_types.values()]
    name = request.path_params.get("name")
    if name is None:
        return ScimResponse(_listing(items))
    found = next((i for i in items if i["id"].lower() == name.lower()), None)  # docs/behaviour.md §1
    if found is None:
        raise NotFound(name)
    return ScimResponse(found)


async def schemas(request: Request) -> Response:
    core = _core(request)
    base = base_url(request) + SCIM_ROOT
    # docs/behaviour.md §1: as RFC 7643 §8.7.1 prints them, without the common attributes id, externalId and meta
    # (RFC 7643 §3.1); scim2-client cannot read a projected resource when the schema lists its own meta.
    seen: dict[str, dict[str, Any]] = {}
    for rt in core.profile.resource_types.values():
        for schema in (rt.schema, *rt.extensions):
            seen.setdefault(schema.id, schema.to_scim(base))
    urn = request.path_params.get("urn")
    if urn is None:
        return ScimResponse(_listing(list(seen.values())))
    found = next((i for k, i in seen.items() if k.lower() == urn.lower()), None)
    if found is None:
        raise NotFound(urn)
    return ScimResponse(found)


async def bulk(request: Request) -> Response:
    """Delinea does not support Bulk (RFC 7644 §3.7): 501."""
    raise NotImplementedFeature()


def routes() -> list[BaseRoute]:
    every = ["GET", "POST", "PUT", "PATCH", "DELETE"]
    return [
        route("/ServiceProviderConfig", service_provider_config, ["GET"]),
        route("/ResourceTypes", resource_types, ["GET"]),
        route("/ResourceTypes/{name}", resource_types, ["GET"]),
        route("/Schemas", schemas, ["GET"]),
        route("/Schemas/{urn}", schemas, ["GET"]),
        route("/Bulk", bulk, every),
    ]
