"""OpenAI-compatible HTTP API over a Runtime: chat/completions, completions, models, health; SSE streams;
and the chat page at `/` (static files in the package, speaking the same API). This module only wires
routes to `Handlers`; see responses.py for the error contract."""
from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, AsyncIterator

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from edge_runtime.chat import validate_messages
from edge_runtime.errors import EdgeRuntimeError
from edge_runtime.runtime import Runtime
from edge_runtime.server.handlers import Handlers, ServerSettings, model_card
from edge_runtime.server.responses import CHAT, TEXT, APIError, api_error
from edge_runtime.server.schema import ChatRequest, CompletionRequest

__all__ = ["ServerSettings", "create_app"]
STATIC = Path(__file__).with_name("static")


def create_app(runtime: Runtime, settings: ServerSettings | None = None) -> FastAPI:
    """The ASGI app. It runs generations on its own worker thread; the caller closes the runtime."""
    handlers = Handlers(runtime, settings or ServerSettings())

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        handlers.worker.start()
        yield
        handlers.worker.stop()

    app = FastAPI(title="edge-runtime", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    _add_error_handlers(app)
    v1 = APIRouter(prefix="/v1", dependencies=[Depends(handlers.check_key)])

    @v1.post("/chat/completions")
    async def chat_completions(request: Request) -> Any:
        body: ChatRequest = await handlers.parse(request, ChatRequest)
        messages = body.message_dicts()
        validate_messages(messages)
        return await handlers.answer(request, body, CHAT, messages, raw=False)

    @v1.post("/completions")
    async def completions(request: Request) -> Any:
        body: CompletionRequest = await handlers.parse(request, CompletionRequest)
        return await handlers.answer(request, body, TEXT, body.prompt, raw=True)

    @v1.get("/models")
    async def models() -> dict[str, Any]:
        return handlers.models()

    @v1.get("/models/{name}")
    async def model(name: str) -> dict[str, Any]:
        return model_card(handlers.expert_for(name))

    app.include_router(v1)
    app.get("/health")(handlers.health)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    async def chat_page() -> FileResponse:
        return FileResponse(STATIC / "index.html")

    return app


def _add_error_handlers(app: FastAPI) -> None:
    """Every error leaves in OpenAI's shape; unexpected ones say only that it was the server's fault."""

    @app.exception_handler(APIError)
    async def _api(_request: Request, exc: APIError) -> JSONResponse:
        return exc.response()

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return APIError(exc.status_code, str(exc.detail), code="not_found" if exc.status_code == 404 else None
                        ).response()

    @app.exception_handler(EdgeRuntimeError)
    async def _runtime(_request: Request, exc: EdgeRuntimeError) -> JSONResponse:
        return api_error(exc).response()

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, _exc: Exception) -> JSONResponse:
        # uvicorn logs the traceback; the client learns only that it was not its fault
        return APIError(500, "internal server error", type="server_error").response()
