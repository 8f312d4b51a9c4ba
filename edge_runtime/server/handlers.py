"""What each endpoint does, as methods of one object that holds the runtime, the settings and the queue.

A streamed request's prompt is tokenized and checked before the response starts (its first piece is
awaited first), so a prompt that does not fit is still a 400, not an error inside a 200 stream.
"""
from __future__ import annotations

import hmac
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any, AsyncIterator

from fastapi import Request
from fastapi.responses import Response
from pydantic import BaseModel, ValidationError

from edge_runtime.chat import Message
from edge_runtime.generation import GenerationResult
from edge_runtime.memory.budget import rss_bytes
from edge_runtime.runtime import Runtime
from edge_runtime.server.queue import ERROR, PIECE, ClientGone, Job, QueueFull, Worker
from edge_runtime.server.responses import CHAT, APIError, JobStream, Shape, too_large, api_error, runtime_stats, sse, usage
from edge_runtime.server.schema import ChatRequest, CompletionRequest, describe

AUTO = "auto"
OWNER = "edge-runtime"
PROGRESS = "progress"  # a fusion candidate was judged: sent to streams as an SSE comment line


@dataclass(frozen=True)
class ServerSettings:
    api_key: str | None = None
    max_queue: int = 8  # requests that may wait behind the running ones before a 429
    parallel: int = 1  # requests decoded together, each in its own KV lane (continuous batching)
    max_body_bytes: int = 1 << 20
    default_max_tokens: int = 256  # when a request names none


class Handlers:
    """The endpoints' logic; generations run on the worker's thread, one at a time."""

    def __init__(self, runtime: Runtime, settings: ServerSettings) -> None:
        self.runtime, self.settings = runtime, settings
        self.memory: dict[str, Any] = {}
        runtime.serve_parallel(settings.parallel)
        self.worker = Worker(settings.max_queue, after_job=self.note_memory, parallel=settings.parallel)
        self.note_memory()
        self.verify = runtime.verify_defaults()  # per expert; fixed while the server runs (a tune rerun needs a restart)

    def note_memory(self) -> None:
        """Run on the worker thread after each job: the pool is read only where it is changed."""
        pool = self.runtime.pool
        self.memory.update(loaded=pool.loaded(), used_bytes=pool.used, prefix_cache_bytes=pool.cache_bytes)

    def check_key(self, request: Request) -> None:
        key = self.settings.api_key
        if key is None:
            return
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), key.encode()):
            raise APIError(401, "invalid or missing API key: send it as `Authorization: Bearer KEY`",
                           code="invalid_api_key")

    def expert_for(self, model: str) -> str:
        if model == AUTO or model in self.runtime.config.experts:
            return model
        raise APIError(404, f"the model {model!r} does not exist; GET /v1/models lists the models served",
                       param="model", code="model_not_found")

    async def parse(self, request: Request, kind: type[BaseModel]) -> Any:
        """The body, size-capped while it arrives, as JSON validated against `kind`."""
        limit = self.settings.max_body_bytes
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > limit:
            raise too_large(limit)
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise too_large(limit)
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

    def submit(self, body: ChatRequest | CompletionRequest, prompt: str | list[Message], raw: bool) -> Job:
        """Queue the generation; a streamed one hears of fusion candidates as they are judged."""
        expert, params = self.expert_for(body.model), body.sampling()
        max_tokens = body.token_limit or self.settings.default_max_tokens
        submitted: list[Job] = []  # fusion progress goes to the job's stream once the job exists

        def progress(text: str) -> None:
            for queued in submitted:
                queued.emit(PROGRESS, text)

        try:
            job = self.worker.submit(lambda: self.runtime.stream(
                prompt, expert=expert, max_tokens=max_tokens, params=params, stop=body.stop, raw=raw,
                progress=progress if body.stream else None, **body.shape()))
        except QueueFull:
            raise APIError(429, f"the server is busy: {self.worker.max_queue} requests are already waiting; "
                           "retry shortly", type="rate_limit_error", code="queue_full") from None
        submitted.append(job)
        return job

    async def answer(self, request: Request, body: ChatRequest | CompletionRequest, shape: Shape,
                     prompt: str | list[Message], raw: bool) -> Any:
        """Queue the generation, wait for its first piece (so prompt errors are still 4xx), then answer
        whole or as a stream."""
        job = self.submit(body, prompt, raw)
        try:
            event = await job.next(request.is_disconnected)
            if event[0] == ERROR:
                raise api_error(event[1])
            head = {"id": f"{shape.prefix}-{uuid.uuid4().hex[:24]}", "created": int(time.time()),
                    "model": body.model}
            if body.stream:
                return JobStream(job, self.stream(job, event, shape, head, body.include_usage))
            while event[0] == PIECE:
                event = await job.next(request.is_disconnected)
        except ClientGone:
            job.cancel()
            return Response(status_code=499)  # nobody is listening; this only ends the handler
        if event[0] == ERROR:
            raise api_error(event[1])
        result: GenerationResult = event[1]
        return {**head, "object": shape.object, "choices": [shape.whole(result.text, result.stats.finish_reason, result.tool_calls)],
                "usage": usage(result), "edge_runtime": runtime_stats(result, job)}

    async def stream(self, job: Job, event: tuple[str, Any], shape: Shape, head: dict[str, Any],
                     include_usage: bool) -> AsyncIterator[str]:
        """SSE chunks until `[DONE]`; an error after the first piece is sent as an `error` event."""
        chunk = {**head, "object": shape.chunk_object}
        if shape is CHAT:
            yield sse(chunk | {"choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                            "logprobs": None, "finish_reason": None}]})
        while event[0] in (PIECE, PROGRESS):
            if event[0] == PROGRESS:
                yield f": {event[1]}\n\n"
            else:
                yield sse(chunk | {"choices": [shape.piece(event[1], None)]})
            event = await job.next()
        if event[0] == ERROR:
            yield sse(api_error(event[1]).body())
        else:
            result: GenerationResult = event[1]
            for piece in shape.call_pieces(result.tool_calls or []):
                yield sse(chunk | {"choices": [piece]})
            yield sse(chunk | {"choices": [shape.piece(None, result.stats.finish_reason)],
                               "edge_runtime": runtime_stats(result, job)})
            if include_usage:
                yield sse(chunk | {"choices": [], "usage": usage(result)})
        yield sse("[DONE]")

    def models(self) -> dict[str, Any]:
        return {"object": "list", "data": [model_card(n) for n in [AUTO, *self.runtime.config.experts]]}

    def health(self) -> dict[str, Any]:
        """For supervisors: no key needed, and it never waits for the generation queue."""
        pool = self.runtime.pool
        return {"status": "ok", "queue": self.worker.stats(), "loaded": self.memory["loaded"], "verify": self.verify,
                "memory": {"budget_bytes": pool.budget, "used_bytes": self.memory["used_bytes"],
                           "prefix_cache_bytes": self.memory["prefix_cache_bytes"], "rss_bytes": rss_bytes()},
                "remote": self.runtime.loader.endpoints.status()}


def model_card(name: str) -> dict[str, Any]:
    return {"id": name, "object": "model", "created": 0, "owned_by": OWNER}
