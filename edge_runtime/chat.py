"""Chat messages to a prompt string with the model's own Jinja template from its GGUF metadata.

The template runs in jinja2's immutable sandbox: a model file is data from the internet and its
template must not reach Python objects.
"""
from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

from jinja2 import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from edge_runtime.constrain.prompt import fallback, knows_tools, with_calls
from edge_runtime.errors import ModelFileError, PromptError

if TYPE_CHECKING:
    from edge_runtime.models.backends.base import CausalLM

Message = dict[str, Any]


def _raise(message: str) -> None:
    raise PromptError(f"chat template refused the messages: {message}")


@lru_cache(maxsize=16)
def _compile(template: str) -> Any:
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.globals["raise_exception"] = _raise
    try:
        return env.from_string(template)
    except TemplateError as exc:
        raise ModelFileError(f"the model's chat template does not compile ({exc})",
                             "pass a raw prompt instead of messages, or fix the template in the config") from None


def validate_messages(messages: list[Message]) -> None:
    if not messages:
        raise PromptError("no messages", "send at least one message with a role and content")
    for i, msg in enumerate(messages):
        if not isinstance(msg, dict) or "role" not in msg or not isinstance(msg.get("content"), str):
            raise PromptError(f"message {i} needs a string `role` and a string `content`")
        if msg["role"] not in ("system", "user", "assistant", "tool"):
            raise PromptError(f"message {i}: unknown role {msg['role']!r}", "use system, user, assistant or tool")
    if not any(m["content"].strip() or m.get("tool_calls") for m in messages):
        raise PromptError("the prompt is empty", "write something for the model to answer")


def render_chat(template: str | None, messages: list[Message], *, bos_token: str = "",
                eos_token: str = "", tools: list[dict[str, Any]] | None = None) -> str:
    """The prompt text for `messages` (and the `tools` offered), ending where the assistant's reply begins.

    A model without a template (a base model) is used as a plain completion model: the messages'
    contents are joined and the model continues them. A template without a tools branch gets tools
    and tool turns as plain messages (constrain/prompt.py).
    """
    validate_messages(messages)
    messages = with_calls(messages)
    if not knows_tools(template) and (tools or any(m.get("tool_calls") or m["role"] == "tool" for m in messages)):
        messages, tools = fallback(messages, tools or []), None
    if not template:
        return "\n\n".join(m["content"] for m in messages)
    try:
        return _compile(template).render(messages=messages, add_generation_prompt=True, tools=tools or None,
                                         bos_token=bos_token, eos_token=eos_token)
    except TemplateError as exc:
        raise PromptError(f"chat template failed on these messages ({exc})") from None


def encode_prompt(model: CausalLM, prompt: str | list[Message], *, raw: bool = False,
                  tools: list[dict[str, Any]] | None = None) -> list[int]:
    """Token ids for a prompt: a string becomes one user message unless `raw` (plain completion)."""
    if raw and isinstance(prompt, str):
        if not prompt.strip():
            raise PromptError("the prompt is empty", "write something for the model to answer")
        return model.tokenize(prompt)
    messages = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else prompt
    bos = model.vocab.texts[model.vocab.bos].decode("utf-8", "replace") if model.vocab.bos is not None else ""
    text = render_chat(model.chat_template, messages, bos_token=bos, tools=tools)
    add_bos = model.vocab.add_bos and not (bos and text.startswith(bos))
    return model.tokenize(text, special=True, add_bos=add_bos)
