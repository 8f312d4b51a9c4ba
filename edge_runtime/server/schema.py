"""Request bodies of the OpenAI API, checked strictly so a wrong type is a 400 that names the field.

Strict mode: `"5"` is not a number and `true` is not an integer, as with OpenAI itself. Parameters
the runtime cannot honour (n > 1, penalties, logprobs, logit_bias, the old `functions`) are refused
rather than ignored; `response_format`, `tools`, `tool_choice` and `parallel_tool_calls` are decoded
under a grammar (edge_runtime/constrain). Only bookkeeping fields (`user`, `metadata`, `store`,
`service_tier`) and fields this module does not name are ignored.
"""
from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from edge_runtime.sampling import SamplingParams

MAX_STOP = 4  # OpenAI's limit on stop strings


class StreamOptions(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")
    include_usage: bool = False


def _text_parts(value: Any) -> str:
    """A message's content: a string, or OpenAI's list of {"type": "text", "text": ...} parts."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(p, dict) and p.get("type") == "text"
                                       and isinstance(p.get("text"), str) for p in value):
        return "\n".join(p["text"] for p in value)
    raise ValueError("must be a string or a list of text parts ({\"type\": \"text\", \"text\": ...}); "
                     "only text is supported")


class ChatMessage(BaseModel):
    model_config = ConfigDict(strict=True, extra="ignore")
    role: str
    content: str = ""
    tool_calls: list[dict[str, Any]] | None = None  # an assistant turn that called tools
    tool_call_id: str | None = None  # a tool turn: which call it answers

    @field_validator("content", mode="before")
    @classmethod
    def _content(cls, value: Any) -> str:
        return _text_parts(value)


class _Generate(BaseModel):
    """Parameters common to chat and text completions; None means "the default"."""

    model_config = ConfigDict(strict=True, extra="ignore")
    model: str
    max_tokens: int | None = Field(None, ge=1)
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, gt=0, le=1)
    n: int | None = None
    stop: list[str] = []
    seed: int | None = None
    stream: bool | None = False
    stream_options: StreamOptions | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    # llama-server's extensions, mapped straight onto SamplingParams
    top_k: int | None = Field(None, ge=0)
    min_p: float | None = Field(None, ge=0, lt=1)
    repeat_penalty: float | None = Field(None, gt=0)
    response_format: dict[str, Any] | None = None  # checked by constrain.request when the job is built
    # OpenAI fields the runtime does not implement: refused when they ask for something
    logprobs: bool | None = None
    top_logprobs: int | None = None
    logit_bias: dict[str, Any] | None = None
    functions: list[Any] | None = None
    function_call: Any = None

    @field_validator("logprobs", "top_logprobs", "logit_bias", "functions", "function_call")
    @classmethod
    def _unsupported(cls, value: Any, info: Any) -> Any:
        if value:
            hint = "; use tools and tool_choice" if info.field_name.startswith("function") else ""
            raise ValueError(f"is not supported by this server{hint}")
        return value

    @field_validator("n")
    @classmethod
    def _one_choice(cls, value: int | None) -> int | None:
        if value not in (None, 1):
            raise ValueError("only n=1 is supported")
        return value

    @field_validator("presence_penalty", "frequency_penalty")
    @classmethod
    def _no_penalty(cls, value: float | None) -> float | None:
        if value:
            raise ValueError("is not supported; use repeat_penalty (e.g. 1.1) instead")
        return value

    @field_validator("stop", mode="before")
    @classmethod
    def _stop(cls, value: Any) -> list[str]:
        stops = [] if value is None else [value] if isinstance(value, str) else value
        if not isinstance(stops, list) or not all(isinstance(s, str) for s in stops) or len(stops) > MAX_STOP:
            raise ValueError(f"must be a string or a list of at most {MAX_STOP} strings")
        return stops

    def sampling(self) -> SamplingParams:
        """OpenAI's defaults where a field is absent: temperature 1, top_p 1; repeat_penalty: the config's."""
        return SamplingParams(temperature=1.0 if self.temperature is None else self.temperature,
                              top_p=1.0 if self.top_p is None else self.top_p, top_k=self.top_k or 0,
                              min_p=self.min_p or 0.0, repeat_penalty=self.repeat_penalty, seed=self.seed)

    @property
    def include_usage(self) -> bool:
        return bool(self.stream_options and self.stream_options.include_usage)


class ChatRequest(_Generate):
    messages: list[ChatMessage]
    max_completion_tokens: int | None = Field(None, ge=1)  # the newer name of max_tokens
    tools: list[Any] | None = None
    tool_choice: str | dict[str, Any] | None = None
    parallel_tool_calls: bool = True

    @property
    def token_limit(self) -> int | None:
        return self.max_completion_tokens or self.max_tokens

    def message_dicts(self) -> list[dict[str, Any]]:
        return [m.model_dump(exclude_none=True) for m in self.messages]

    def shape(self) -> dict[str, Any]:
        """The keyword arguments of Runtime.stream that shape the reply."""
        return {"response_format": self.response_format, "tools": self.tools, "tool_choice": self.tool_choice,
                "parallel_tool_calls": self.parallel_tool_calls}


class CompletionRequest(_Generate):
    prompt: str
    tools: Any = None

    @field_validator("tools")
    @classmethod
    def _no_tools(cls, value: Any) -> Any:
        if value is not None:
            raise ValueError("tools are served by /v1/chat/completions, not /v1/completions")
        return value

    @field_validator("prompt", mode="before")
    @classmethod
    def _one_prompt(cls, value: Any) -> Any:
        if isinstance(value, list) and len(value) == 1 and isinstance(value[0], str):
            return value[0]
        if isinstance(value, list):
            raise ValueError("must be one string (batches of prompts and token arrays are not supported)")
        return value

    @property
    def token_limit(self) -> int | None:
        return self.max_tokens

    def shape(self) -> dict[str, Any]:
        return {"response_format": self.response_format}


def describe(err: ValidationError) -> tuple[str, str]:
    """The first problem as ("messages[0].content: must be ...", "messages[0].content")."""
    first = err.errors(include_url=False)[0]
    param = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first["loc"]).lstrip(".")
    msg = first["msg"].removeprefix("Value error, ")
    if first["type"] == "missing":
        msg = "required field is missing"
    return (f"{param}: {msg}" if param else msg), param
