"""Tool calls in the Hermes/Qwen2.5 format, decoded under a grammar, and parsed back into calls.

A reply that calls tools is one or more blocks

    <tool_call>
    {"name": "get_weather", "arguments": {"city": "Tokyo"}}
    </tool_call>

(the format the Qwen2.5 chat templates teach). Under `tool_choice` "auto" the reply is either such
blocks or text that does not start like one; "required" and a named function allow only calls. Each
call's arguments follow that function's `parameters` schema, with undeclared keys refused.
"""
from __future__ import annotations

import copy
import json
import re
import uuid
from typing import Any

from edge_runtime.constrain.grammars import JSON_OPTIONS, Grammar, check, llguidance
from edge_runtime.errors import FieldError

OPEN, CLOSE = "<tool_call>", "</tool_call>"
_BLOCK = re.compile(r"<tool_call>\s*(\{.*?\})\s*</tool_call>", re.S)
# Text in "auto" mode may not open like a call written some other way (a fenced or bare JSON object),
# so a model that means to call writes the one format clients parse.
_TEXT = r"/[^<`{\s][\s\S]*/"
_PROSE = r"/[^<\s][\s\S]*/"  # any text that does not open with a tag


def check_tools(tools: Any) -> list[dict[str, Any]]:
    """OpenAI's tool list, checked: each {"type": "function", "function": {"name", "parameters"?}}."""
    if not isinstance(tools, list) or not tools:
        raise FieldError("tools", "must be a non-empty list of {\"type\": \"function\", \"function\": {...}}")
    names: set[str] = set()
    for i, tool in enumerate(tools):
        where = f"tools[{i}]"
        if not isinstance(tool, dict) or tool.get("type") != "function" or not isinstance(tool.get("function"), dict):
            raise FieldError(where, "must be {\"type\": \"function\", \"function\": {\"name\": ..., \"parameters\": ...}}")
        fn = tool["function"]
        name = fn.get("name")
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", name):
            raise FieldError(f"{where}.function.name", "must be 1-64 letters, digits, '_', '.' or '-'")
        if name in names:
            raise FieldError(f"{where}.function.name", f"{name!r} is offered twice")
        names.add(name)
        if not isinstance(fn.get("parameters", {}), dict):
            raise FieldError(f"{where}.function.parameters", "must be a JSON schema object")
    return tools


def arguments_schema(function: dict[str, Any]) -> dict[str, Any]:
    """The schema a call's arguments follow: the declared parameters, closed to undeclared keys."""
    schema = copy.deepcopy(function.get("parameters") or {"type": "object", "properties": {}})
    if isinstance(schema.get("properties"), dict) and "additionalProperties" not in schema:
        schema["additionalProperties"] = False
    return schema


def call_schema(tools: list[dict[str, Any]]) -> dict[str, Any]:
    """One call of any offered function: {"name": <one of them>, "arguments": <its parameters>}."""
    options = [{"type": "object", "additionalProperties": False, "required": ["name", "arguments"],
                "properties": {"name": {"const": t["function"]["name"]},
                               "arguments": arguments_schema(t["function"])}} for t in tools]
    return {"anyOf": options, "x-guidance": JSON_OPTIONS}


def call_grammar(tools: list[dict[str, Any]], choice: Any = "auto", parallel: bool = True,
                 reply: dict[str, Any] | None = None) -> Grammar:
    """The grammar of a reply under `tool_choice`; raises FieldError for a choice it cannot honour.
    `reply`: the schema a reply that calls nothing follows (response_format), else free text."""
    offered = [t["function"]["name"] for t in tools]
    if isinstance(choice, dict):
        name = (choice.get("function") or {}).get("name") if choice.get("type") == "function" else None
        if name not in offered:
            raise FieldError("tool_choice", f"names no offered function (offered: {', '.join(offered)})",
                             "use \"auto\", \"none\", \"required\" or {\"type\": \"function\", \"function\": {\"name\": ...}}")
        tools, parallel = [t for t in tools if t["function"]["name"] == name], False
    elif choice not in ("auto", "required"):
        raise FieldError("tool_choice", f"unknown value {choice!r}", "use \"auto\", \"none\", \"required\" or a named function")
    try:
        body = json.dumps(call_schema(tools), ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise FieldError("tools", f"a parameters schema is not JSON ({exc})") from None
    calls = 'call ("\\n" call)*' if parallel else "call"
    if choice != "auto":
        text = ""
    elif reply is not None:
        text = f" | reply\nreply: %json {json.dumps(reply | {'x-guidance': JSON_OPTIONS}, ensure_ascii=False)}"
    else:
        text = f" | TEXT\nTEXT: {_TEXT}"
    lark = (f'start: calls{text}\ncalls: {calls}\n'
            f'call: "{OPEN}\\n" body "\\n{CLOSE}"\nbody: %json {body}\n')
    return check(llguidance().LLMatcher.grammar_from_lark(lark), "tools")


def text_grammar(what: str = "tool_choice") -> Grammar:
    """A reply of text that does not open a call (tool_choice "none" with tools in the prompt)."""
    return check(llguidance().LLMatcher.grammar_from_lark(f"start: TEXT\nTEXT: {_PROSE}\n"), what)


def parse_calls(text: str) -> tuple[str | None, list[dict[str, Any]]]:
    """(content, tool calls in OpenAI's shape) of a reply; a reply without call blocks is all content."""
    calls = []
    for match in _BLOCK.finditer(text):
        try:
            call = json.loads(match.group(1))
        except json.JSONDecodeError:
            continue  # a block cut off by max_tokens is left as text
        if isinstance(call, dict) and isinstance(call.get("name"), str):
            calls.append(openai_call(call["name"], call.get("arguments", {})))
    if not calls:
        return text, []
    rest = _BLOCK.sub("", text).strip()
    return rest or None, calls


def openai_call(name: str, arguments: Any) -> dict[str, Any]:
    """One call as OpenAI's `tool_calls` entry: arguments travel as a JSON string."""
    return {"id": f"call_{uuid.uuid4().hex[:24]}", "type": "function",
            "function": {"name": name, "arguments": json.dumps(arguments, ensure_ascii=False)}}


def intended_call(text: str, tools: list[dict[str, Any]]) -> str | None:
    """The offered function a text reply tries to call in some other format (a fenced JSON block
    naming it, as small models write under "auto"), or None: the runtime then decodes that call
    under the grammar instead of returning prose that clients cannot execute."""
    names = {t["function"]["name"] for t in tools}
    for name in re.findall(r'"name"\s*:\s*"([^"]+)"', text):
        if name in names:
            return name
    return None
