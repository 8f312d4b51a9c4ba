"""OpenAI-compatible HTTP API over a Runtime: chat/completions, completions, models, health; SSE streams.

Every error a client sees has OpenAI's shape, `{"error": {"message", "type", "param", "code"}}`, and
names the problem; none carries a stack trace or a file path (model and catalog failures are logged
in full and shown as "model unavailable"). Status codes:

- 400 bad JSON, wrong types, missing fields, a prompt or max_tokens over the context
- 401 missing or wrong API key; 404 unknown model or path; 413 body over the size limit
- 429 every queue slot taken (retry later); 500 the server's own fault (config, model files, bugs)
- 503 the memory budget cannot hold the expert: an operator's problem, not the request's, and one a
  retry may outlive (507 was considered, but it is WebDAV's "insufficient storage", which clients
  do not retry and proxies do not know)

A streamed request's prompt is tokenized and checked before the response starts (its first piece is
awaited first), so a prompt that does not fit is still a 400, not an error inside a 200 stream.
"""
from __future__ import annotations

import hmac
import json
import logging
import time
import uuid
from abc import ABC, abstractmethod
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, AsyncIterator

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from .chat import Message, validate_messages
from .errors import BudgetError, EdgeRuntimeError, PromptError
from .memory import rss_bytes
from .generation import GenerationResult
from .runtime import Runtime
from .server_queue import ERROR, PIECE, ClientGone, Job, QueueFull, Worker
from .server_schema import ChatRequest, CompletionRequest, describe

log = logging.getLogger("edge_runtime.server")
AUTO = "auto"
OWNER = "edge-runtime"


@dataclass(frozen=True)
class ServerSettings:
    api_key: str | None = None
    max_queue: int = 8  # requests that may wait behind the running one before a 429
    max_body_bytes: int = 1 << 20
    default_max_tokens: int = 256  # when a request names none


class APIError(Exception):
    """An HTTP error in OpenAI's shape."""

    def __init__(self, status: int, message: str, *, type: str = "invalid_request_error",
                 param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.type, self.param, self.code = status, message, type, param, code

    def body(self) -> dict[str, Any]:
        return {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}

    def response(self) -> JSONResponse:
        headers = {"Retry-After": "1"} if self.status in (429, 503) else None
        return JSONResponse(self.body(), status_code=self.status, headers=headers)


def api_error(exc: BaseException) -> APIError:
    """The client-facing form of a generation failure; detail that may hold paths stays in the log."""
    if isinstance(exc, PromptError):
        return APIError(400, _with_hint(exc))
    if isinstance(exc, BudgetError):
        return APIError(503, _with_hint(exc), type="server_error", code="insufficient_memory")
    if isinstance(exc, EdgeRuntimeError):
        log.error("generation failed: %s", exc)
        return APIError(500, "model unavailable (the server log has the detail)", type="server_error",
                        code="model_unavailable")
    log.error("generation failed", exc_info=exc)
    return APIError(500, "internal server error", type="server_error")


def _with_hint(exc: EdgeRuntimeError) -> str:
    return f"{exc.message} ({exc.hint})" if exc.hint else exc.message


# -- response shapes -----------------------------------------------------------------------------

class _Shape(ABC):
    """How one API kind spells a whole answer and a streamed piece."""

    prefix, object, chunk_object = "", "", ""

    @abstractmethod
    def whole(self, text: str, finish: str) -> dict[str, Any]: ...

    @abstractmethod
    def piece(self, text: str | None, finish: str | None) -> dict[str, Any]: ...


class _ChatShape(_Shape):
    prefix, object, chunk_object = "chatcmpl", "chat.completion", "chat.completion.chunk"

    def whole(self, text: str, finish: str) -> dict[str, Any]:
        return {"index": 0, "message": {"role": "assistant", "content": text}, "logprobs": None,
                "finish_reason": finish}

    def piece(self, text: str | None, finish: str | None) -> dict[str, Any]:
        delta = {} if text is None else {"content": text}
        return {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}


class _TextShape(_Shape):
    prefix, object, chunk_object = "cmpl", "text_completion", "text_completion"

    def whole(self, text: str, finish: str) -> dict[str, Any]:
        return {"index": 0, "text": text, "logprobs": None, "finish_reason": finish}

    def piece(self, text: str | None, finish: str | None) -> dict[str, Any]:
        return {"index": 0, "text": text or "", "logprobs": None, "finish_reason": finish}


CHAT, TEXT = _ChatShape(), _TextShape()


def usage(result: GenerationResult) -> dict[str, int]:
    s = result.stats
    return {"prompt_tokens": s.prompt_tokens, "completion_tokens": s.completion_tokens,
            "total_tokens": s.prompt_tokens + s.completion_tokens}


def runtime_stats(result: GenerationResult, job: Job) -> dict[str, Any]:
    """The runtime's own account (route, drafter, acceptance, tokens/s, ...), in the `edge_runtime` field."""
    stats = result.as_dict()
    del stats["text"]
    return stats | {"queue_s": round(job.queue_s, 4)}


class _JobStream(StreamingResponse):
    """An SSE response that cancels its job however it ends. When the client hangs up, Starlette
    cancels the stream; the worker then closes the generation before its next piece."""

    def __init__(self, job: Job, content: AsyncIterator[str]) -> None:
        super().__init__(content, media_type="text/event-stream",
                         headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        self.job = job

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.job.cancel()


def _sse(obj: dict[str, Any] | str) -> str:
    return f"data: {obj if isinstance(obj, str) else json.dumps(obj, ensure_ascii=False)}\n\n"


# -- the application -----------------------------------------------------------------------------

def create_app(runtime: Runtime, settings: ServerSettings | None = None) -> FastAPI:
    """The ASGI app. It runs generations on its own worker thread; the caller closes the runtime."""
    settings = settings or ServerSettings()
    memory: dict[str, Any] = {}

    def note_memory() -> None:
        """Run on the worker thread after each job: the pool is read only where it is changed."""
        memory.update(loaded=runtime.pool.loaded(), used_bytes=runtime.pool.used)

    worker = Worker(settings.max_queue, after_job=note_memory)
    note_memory()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        worker.start()
        yield
        worker.stop()

    app = FastAPI(title="edge-runtime", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)

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

    def check_key(request: Request) -> None:
        if settings.api_key is None:
            return
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), settings.api_key.encode()):
            raise APIError(401, "invalid or missing API key: send it as `Authorization: Bearer KEY`",
                           code="invalid_api_key")

    def expert_for(model: str) -> str:
        if model == AUTO or model in runtime.config.experts:
            return model
        raise APIError(404, f"the model {model!r} does not exist; GET /v1/models lists the models served",
                       param="model", code="model_not_found")

    async def parse(request: Request, kind: type[BaseModel]) -> Any:
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > settings.max_body_bytes:
            raise _too_large(settings.max_body_bytes)
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > settings.max_body_bytes:
                raise _too_large(settings.max_body_bytes)
        try:
            data = json.loads(body)
        except json.JSONDecodeError as exc:
            raise APIError(400, f"the request body is not valid JSON ({exc.msg} at position {exc.pos})") from None
        except UnicodeDecodeError:
            raise APIError(400, "the request body is not valid JSON (it is not UTF-8 text)") from None
        except RecursionError:
            raise APIError(400, "the request body is not valid JSON (nested too deeply)") from None
        if not isinstance(data, dict):
            raise APIError(400, "the request body must be a JSON object")
        try:
            return kind.model_validate(data)
        except ValidationError as exc:
            message, param = describe(exc)
            raise APIError(400, message, param=param or None) from None

    async def answer(request: Request, body: ChatRequest | CompletionRequest, shape: _Shape,
                     prompt: str | list[Message], raw: bool) -> Any:
        """Queue the generation, wait for its first piece (so prompt errors are still 4xx), then answer
        whole or as a stream."""
        expert, params = expert_for(body.model), body.sampling()
        max_tokens = body.token_limit or settings.default_max_tokens
        try:
            job = worker.submit(lambda: runtime.stream(prompt, expert=expert, max_tokens=max_tokens,
                                                       params=params, stop=body.stop, raw=raw))
        except QueueFull:
            raise APIError(429, f"the server is busy: {worker.max_queue} requests are already waiting; "
                           "retry shortly", type="rate_limit_error", code="queue_full") from None
        try:
            event = await job.next(request.is_disconnected)
            if event[0] == ERROR:
                raise api_error(event[1])
            head = {"id": f"{shape.prefix}-{uuid.uuid4().hex[:24]}", "created": int(time.time()),
                    "model": body.model}
            if body.stream:
                return _JobStream(job, stream(job, event, shape, head, body.include_usage))
            while event[0] == PIECE:
                event = await job.next(request.is_disconnected)
        except ClientGone:
            job.cancel()
            return Response(status_code=499)  # nobody is listening; this only ends the handler
        if event[0] == ERROR:
            raise api_error(event[1])
        result: GenerationResult = event[1]
        return {**head, "object": shape.object, "choices": [shape.whole(result.text, result.stats.finish_reason)],
                "usage": usage(result), "edge_runtime": runtime_stats(result, job)}

    async def stream(job: Job, event: tuple[str, Any], shape: _Shape, head: dict[str, Any],
                     include_usage: bool) -> AsyncIterator[str]:
        """SSE chunks until `[DONE]`; an error after the first piece is sent as an `error` event."""
        chunk = {**head, "object": shape.chunk_object}
        if shape is CHAT:
            yield _sse(chunk | {"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                             "logprobs": None, "finish_reason": None}]})
        while event[0] == PIECE:
            yield _sse(chunk | {"choices": [shape.piece(event[1], None)]})
            event = await job.next()
        if event[0] == ERROR:
            yield _sse(api_error(event[1]).body())
        else:
            result: GenerationResult = event[1]
            yield _sse(chunk | {"choices": [shape.piece(None, result.stats.finish_reason)],
                                "edge_runtime": runtime_stats(result, job)})
            if include_usage:
                yield _sse(chunk | {"choices": [], "usage": usage(result)})
        yield _sse("[DONE]")

    v1 = APIRouter(prefix="/v1", dependencies=[Depends(check_key)])

    @v1.post("/chat/completions")
    async def chat_completions(request: Request) -> Any:
        body: ChatRequest = await parse(request, ChatRequest)
        messages = body.message_dicts()
        validate_messages(messages)
        return await answer(request, body, CHAT, messages, raw=False)

    @v1.post("/completions")
    async def completions(request: Request) -> Any:
        body: CompletionRequest = await parse(request, CompletionRequest)
        return await answer(request, body, TEXT, body.prompt, raw=True)

    def model_card(name: str) -> dict[str, Any]:
        return {"id": name, "object": "model", "created": 0, "owned_by": OWNER}

    @v1.get("/models")
    async def models() -> dict[str, Any]:
        return {"object": "list", "data": [model_card(n) for n in [AUTO, *runtime.config.experts]]}

    @v1.get("/models/{name}")
    async def model(name: str) -> dict[str, Any]:
        return model_card(expert_for(name))

    app.include_router(v1)

    verify = runtime.verify_defaults()  # per expert; fixed while the server runs (tune reruns need a restart)

    @app.get("/health")
    async def health() -> dict[str, Any]:
        """For supervisors: no key needed, and it never waits for the generation queue."""
        return {"status": "ok", "queue": worker.stats(), "loaded": memory["loaded"], "verify": verify,
                "memory": {"budget_bytes": runtime.pool.budget, "used_bytes": memory["used_bytes"],
                           "rss_bytes": rss_bytes()}}

    return app


def _too_large(limit: int) -> APIError:
    return APIError(413, f"the request body is over the {limit}-byte limit", code="request_too_large")
