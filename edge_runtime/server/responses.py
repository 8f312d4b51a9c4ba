"""What clients receive: OpenAI-shaped errors, answers and stream chunks.

Every error a client sees has OpenAI's shape, `{"error": {"message", "type", "param", "code"}}`, and
names the problem; none carries a stack trace or a file path (model and catalog failures are logged
in full and shown as "model unavailable"). Status codes:

- 400 bad JSON, wrong types, missing fields, a prompt or max_tokens over the context
- 401 missing or wrong API key; 404 unknown model or path; 413 body over the size limit
- 429 every queue slot taken (retry later); 500 the server's own fault (config, model files, bugs)
- 503 the memory budget cannot hold the expert: an operator's problem, not the request's, and one a
  retry may outlive (507 was considered, but it is WebDAV's "insufficient storage", which clients
  do not retry and proxies do not know)

"""
from __future__ import annotations

import json
import logging
from abc import ABC, abstractmethod
from typing import Any, AsyncIterator

from fastapi.responses import JSONResponse, StreamingResponse

from edge_runtime.errors import BudgetError, EdgeRuntimeError, PromptError
from edge_runtime.generation import GenerationResult
from edge_runtime.server.queue import Job

log = logging.getLogger("edge_runtime.server")


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
        return APIError(400, _with_hint(exc), param=getattr(exc, "field", None))
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

class Shape(ABC):
    """How one API kind spells a whole answer and a streamed piece."""

    prefix, object, chunk_object = "", "", ""

    @abstractmethod
    def whole(self, text: str, finish: str, tool_calls: list[dict[str, Any]] | None = None) -> dict[str, Any]: ...

    @abstractmethod
    def piece(self, text: str | None, finish: str | None) -> dict[str, Any]: ...

    def call_pieces(self, tool_calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Streamed tool calls (chat only)."""
        return []


class _ChatShape(Shape):
    prefix, object, chunk_object = "chatcmpl", "chat.completion", "chat.completion.chunk"

    def whole(self, text: str, finish: str, tool_calls: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": text}
        if tool_calls:
            message.update(content=text or None, tool_calls=tool_calls)
        return {"index": 0, "message": message, "logprobs": None, "finish_reason": finish}

    def call_pieces(self, tool_calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Each call as two `delta.tool_calls` chunks, its id and name, then its arguments, as OpenAI
        streams them (the official client joins the argument strings by `index`)."""
        pieces = []
        for i, call in enumerate(tool_calls):
            fn = call["function"]
            head = {"index": i, "id": call["id"], "type": "function", "function": {"name": fn["name"], "arguments": ""}}
            for delta in (head, {"index": i, "function": {"arguments": fn["arguments"]}}):
                pieces.append({"index": 0, "delta": {"tool_calls": [delta]}, "logprobs": None, "finish_reason": None})
        return pieces

    def piece(self, text: str | None, finish: str | None) -> dict[str, Any]:
        delta = {} if text is None else {"content": text}
        return {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}


class _TextShape(Shape):
    prefix, object, chunk_object = "cmpl", "text_completion", "text_completion"

    def whole(self, text: str, finish: str, tool_calls: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        return {"index": 0, "text": text, "logprobs": None, "finish_reason": finish}

    def piece(self, text: str | None, finish: str | None) -> dict[str, Any]:
        return {"index": 0, "text": text or "", "logprobs": None, "finish_reason": finish}


CHAT, TEXT = _ChatShape(), _TextShape()


def usage(result: GenerationResult) -> dict[str, Any]:
    s = result.stats
    return {"prompt_tokens": s.prompt_tokens, "completion_tokens": s.completion_tokens,
            "total_tokens": s.prompt_tokens + s.completion_tokens,
            "prompt_tokens_details": {"cached_tokens": s.cached_prompt_tokens}}  # OpenAI's name for reused KV


def runtime_stats(result: GenerationResult, job: Job) -> dict[str, Any]:
    """The runtime's own account (route, drafter, acceptance, tokens/s, ...), in the `edge_runtime` field."""
    stats = result.as_dict()
    del stats["text"]
    return stats | {"queue_s": round(job.queue_s, 4)}


class JobStream(StreamingResponse):
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


def sse(obj: dict[str, Any] | str) -> str:
    return f"data: {obj if isinstance(obj, str) else json.dumps(obj, ensure_ascii=False)}\n\n"


def too_large(limit: int) -> APIError:
    return APIError(413, f"the request body is over the {limit}-byte limit", code="request_too_large")
