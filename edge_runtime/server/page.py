"""The chat page at `/`: three static files shipped in the package (no CDN, nothing built at install),
talking to the same `/v1/chat/completions` stream as any client."""
from __future__ import annotations

from importlib import resources

from fastapi import FastAPI
from fastapi.responses import Response

from edge_runtime.server.responses import APIError

FILES = {"index.html": "text/html; charset=utf-8", "chat.js": "text/javascript; charset=utf-8",
         "chat.css": "text/css; charset=utf-8"}


def static_file(name: str) -> Response:
    if name not in FILES:
        raise APIError(404, f"no page file {name!r}", code="not_found")
    body = resources.files("edge_runtime.server").joinpath("static", name).read_bytes()
    return Response(body, media_type=FILES[name], headers={"Cache-Control": "no-cache"})


def add_page(app: FastAPI) -> None:
    """`GET /` (the page) and `GET /static/NAME` (its script and style); no key needed to load them,
    the page sends the key the person types with each API call."""

    @app.get("/", include_in_schema=False)
    async def page() -> Response:
        return static_file("index.html")

    @app.get("/static/{name}", include_in_schema=False)
    async def static(name: str) -> Response:
        return static_file(name)
