"""What shape a request asks its reply to take (OpenAI's `response_format`, `tools`, `tool_choice`,
`parallel_tool_calls`, or a grammar of the user's own), checked into one `Structure`.

Every refusal is a FieldError naming the request field, raised before the request is queued.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from edge_runtime.constrain import grammars
from edge_runtime.constrain.grammars import Grammar
from edge_runtime.constrain.tools import call_grammar, check_tools, text_grammar
from edge_runtime.errors import FieldError

FORMATS = ("text", "json_object", "json_schema")


@dataclass(frozen=True)
class Structure:
    """The reply's grammar (None: free text), the tools the prompt offers, whether to parse calls, the
    capability an expert needs to serve it ("tools", "json"; None: a grammar of the user's own), and
    whether the model may answer in text instead of calling (tool_choice "auto")."""

    grammar: Grammar | None = None
    tools: list[dict[str, Any]] = field(default_factory=list)
    calls: bool = False
    need: str | None = None
    may_decline: bool = False


def reply_schema(response_format: Any) -> dict[str, Any] | None:
    """The schema `response_format` asks for (None: text); {"type": "object"} for json_object."""
    if response_format is None:
        return None
    kind = response_format.get("type") if isinstance(response_format, dict) else None
    if kind not in FORMATS:
        raise FieldError("response_format.type", f"unknown type {kind!r}", f"use one of {', '.join(FORMATS)}")
    if kind == "text":
        return None
    if kind == "json_object":
        return dict(grammars.ANY_OBJECT)
    spec = response_format.get("json_schema")
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        raise FieldError("response_format.json_schema", "must be {\"name\": ..., \"schema\": {...}, \"strict\": ...}")
    schema = spec.get("schema", {})
    if not isinstance(schema, dict):
        raise FieldError("response_format.json_schema.schema", "must be a JSON schema object")
    return schema


def structure(response_format: Any = None, tools: Any = None, tool_choice: Any = None,
              parallel_tool_calls: bool = True, grammar: Grammar | None = None) -> Structure | None:
    """The checked structure of a request, or None when it asks for plain text."""
    schema = reply_schema(response_format)
    if grammar is not None and (schema is not None or tools):
        raise FieldError("grammar", "cannot be combined with response_format or tools")
    if tools is None:
        if tool_choice not in (None, "none"):
            raise FieldError("tool_choice", "needs `tools` to choose from")
        return _format(schema, grammar)
    tools = check_tools(tools)
    if tool_choice == "none":  # the tools stay in the prompt (the history may use them); no call is possible
        shaped = _format(schema, None)
        return Structure(shaped.grammar if shaped else text_grammar(), tools, need="tools")
    choice = "auto" if tool_choice is None else tool_choice
    rule = call_grammar(tools, choice, parallel_tool_calls, schema)
    return Structure(rule, tools, calls=True, need="tools", may_decline=choice == "auto")


def _format(schema: dict[str, Any] | None, grammar: Grammar | None) -> Structure | None:
    if grammar is not None:
        return Structure(grammar)
    if schema is None:
        return None
    return Structure(grammars.json_schema(schema, "response_format.json_schema.schema"), need="json")
