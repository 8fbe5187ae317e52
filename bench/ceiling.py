"""The ceiling: a minimal Starlette app serving mockscim's User JSON shapes from a dict, with no validation at all."""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
import uuid
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
_EQ = re.compile(r'^\s*userName\s+eq\s+"(.*)"\s*$', re.IGNORECASE)


class ScimJSON(JSONResponse):
    media_type = "application/scim+json"


class Users:
    """Users by id, an index userName → id, and the insertion order (for O(page) list slices)."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.fixture: list[dict[str, Any]] = []
        self.reset()

    def reset(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {}
        self.by_name: dict[str, str] = {}
        self.order: list[str] = []
        for doc in self.fixture:
            self.put(dict(doc), new=True)

    def load(self, users: list[dict[str, Any]]) -> None:
        self.fixture = users
        self.reset()

    def put(self, doc: dict[str, Any], *, new: bool) -> dict[str, Any]:
        now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
        meta = doc.get("meta") if isinstance(doc.get("meta"), dict) else None
        doc["meta"] = {"resourceType": "User", "created": meta["created"] if meta else now, "lastModified": now,
                       "version": f'W/"{time.time_ns() // 1000:x}"'}
        uid = doc["id"]
        if new:
            self.order.append(uid)
        self.docs[uid] = doc
        self.by_name[str(doc.get("userName", "")).lower()] = uid
        return doc

    def render(self, doc: dict[str, Any]) -> dict[str, Any]:
        out = dict(doc)
        out["meta"] = {**doc["meta"], "location": f"{self.base}/scim/v2/Users/{doc['id']}"}
        return out


def create_app(base: str, fixture: str | None = None) -> Starlette:
    """The ceiling app; ``fixture`` is a mockscim state file whose ``Users`` it serves."""
    users = Users(base)
    if fixture:
        with open(fixture, encoding="utf-8") as fh:
            users.load(json.load(fh).get("Users", []))

    def one(doc: dict[str, Any], status: int = 200) -> Response:
        body = users.render(doc)
        headers = {"ETag": doc["meta"]["version"]}
        if status == 201:
            headers["Location"] = body["meta"]["location"]
        return ScimJSON(body, status_code=status, headers=headers)

    def missing() -> Response:
        return ScimJSON({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "status": "404"}, 404)

    async def collection(request: Request) -> Response:
        if request.method == "POST":
            doc = json.loads(await request.body())
            doc["id"] = str(uuid.uuid4())
            return one(users.put(doc, new=True), 201)
        q = request.query_params
        flt = q.get("filter")
        if flt is not None:
            match = _EQ.match(flt)
            uid = users.by_name.get(match.group(1).lower()) if match else None
            found = [users.docs[uid]] if uid else []
            start, count, total = 1, len(found), len(found)
        else:
            start = max(1, int(q.get("startIndex", "1")))
            count = min(1000, max(0, int(q.get("count", "100"))))
            found = [users.docs[i] for i in users.order[start - 1: start - 1 + count]]
            total = len(users.order)
        return ScimJSON({"schemas": [LIST_SCHEMA], "totalResults": total, "startIndex": start,
                         "itemsPerPage": len(found), "Resources": [users.render(d) for d in found]})

    async def item(request: Request) -> Response:
        uid = request.path_params["id"]
        doc = users.docs.get(uid)
        if doc is None:
            return missing()
        if request.method == "GET":
            return one(doc)
        body = json.loads(await request.body())
        if request.method == "PUT":
            new = dict(body)
            new["id"], new["meta"] = uid, doc["meta"]
        else:
            new = dict(doc)
            for op in body.get("Operations", ()):
                if str(op.get("op", "")).lower() != "replace":
                    continue
                if op.get("path"):
                    new[op["path"]] = op.get("value")
                else:
                    new.update(op.get("value") or {})
        return one(users.put(new, new=False))

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def reset(request: Request) -> Response:
        users.reset()
        return JSONResponse({"status": "reset"})

    return Starlette(routes=[
        Route("/scim/v2/Users", collection, methods=["GET", "POST"]),
        Route("/scim/v2/Users/{id}", item, methods=["GET", "PUT", "PATCH"]),
        Route("/_mockscim/health", health, methods=["GET"]),
        Route("/_mockscim/reset", reset, methods=["POST"]),
    ])


def main(argv: list[str] | None = None) -> int:
    """``python bench/ceiling.py --port P [--fixture STATE.json]``: uvicorn with mockscim's exact settings."""
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--fixture", default=None)
    args = parser.parse_args(argv)
    app = create_app(f"http://{args.host}:{args.port}", args.fixture)
    # The same uvicorn.Config as mockscim/cli.py serve: loop/http "auto" (uvloop + httptools when installed).
    config = uvicorn.Config(app, host=args.host, port=args.port, log_level="warning", lifespan="off",
                            access_log=False)
    uvicorn.Server(config).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
