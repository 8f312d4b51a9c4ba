"""Tool offers and tool-call histories for a chat template.

A template with a tools branch (Qwen2.5's) gets `tools` and assistant `tool_calls` as it expects,
with each call's arguments as an object (OpenAI sends them as a JSON string). A template without one
gets the documented fallback: the offer as a system message in the same Hermes format, past calls as
assistant text, and tool results as user messages in <tool_response> tags.
"""
from __future__ import annotations

import json
from typing import Any

from edge_runtime.constrain.tools import CLOSE, OPEN
from edge_runtime.errors import FieldError

Message = dict[str, Any]

OFFER = ("# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
         "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n{tools}\n</tools>\n\n"
         "For each function call, return a json object with function name and arguments within "
         "<tool_call></tool_call> XML tags:\n<tool_call>\n{{\"name\": <function-name>, \"arguments\": <args-json-object>}}\n"
         "</tool_call>")


def knows_tools(template: str | None) -> bool:
    """Whether a chat template renders `tools` itself."""
    return bool(template) and "tools" in template  # type: ignore[operator]


def _arguments(call: Any, where: str) -> dict[str, Any]:
    """One past call as {"name", "arguments": object}, from OpenAI's {"function": {"name", "arguments": str}}."""
    fn = call.get("function", call) if isinstance(call, dict) else None
    if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
        raise FieldError(where, "each tool call needs a function with a name")
    args = fn.get("arguments", {})
    if isinstance(args, str):
        try:
            args = json.loads(args) if args.strip() else {}
        except json.JSONDecodeError:
            raise FieldError(f"{where}.function.arguments", "is not a JSON object") from None
    return {"name": fn["name"], "arguments": args}


def with_calls(messages: list[Message]) -> list[Message]:
    """Messages whose assistant tool calls carry their arguments as objects, as templates expect."""
    out = []
    for i, msg in enumerate(messages):
        calls = msg.get("tool_calls")
        if calls:
            msg = msg | {"tool_calls": [{"type": "function", "function": _arguments(c, f"messages[{i}].tool_calls[{j}]")}
                                        for j, c in enumerate(calls)]}
        out.append(msg)
    return out


def fallback(messages: list[Message], tools: list[dict[str, Any]]) -> list[Message]:
    """The conversation for a template without a tools branch: everything as plain turns."""
    out: list[Message] = []
    if tools:
        offer = OFFER.format(tools="\n".join(json.dumps(t, ensure_ascii=False) for t in tools))
        if messages and messages[0]["role"] == "system":
            out.append({"role": "system", "content": f"{messages[0]['content']}\n\n{offer}"})
            messages = messages[1:]
        else:
            out.append({"role": "system", "content": offer})
    for msg in messages:
        if msg["role"] == "tool":
            out.append({"role": "user", "content": f"<tool_response>\n{msg['content']}\n</tool_response>"})
        elif msg.get("tool_calls"):
            blocks = [f"{OPEN}\n{json.dumps(c['function'], ensure_ascii=False)}\n{CLOSE}" for c in msg["tool_calls"]]
            out.append({"role": "assistant", "content": "\n".join([msg["content"], *blocks]).strip()})
        else:
            out.append(msg)
    return out
