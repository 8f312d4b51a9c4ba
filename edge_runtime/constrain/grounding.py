"""Are a tool call's arguments taken from the conversation, or made up?

Under `tool_choice: "auto"` a small model calls a tool for requests that need none ("Hi! How are you?"
becomes get_weather(city="New York")). Such calls show in their arguments: none of the free values (not
an enum or const the schema offers) comes from what the user said. A call is grounded when it has no
free values, or when at least one of them does: a number the conversation mentions (in any script), or
a string whose words (Latin script) or characters (CJK) appear there at least half. A call that is not
grounded is declined, and the reply is written as text instead.
"""
from __future__ import annotations

import json
import re
from typing import Any, Iterator

from edge_runtime.evidence.numerals import with_digits

_WORD = re.compile(r"[^\W_]+", re.U)
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
MIN_SHARE = 0.5  # of a string's words (or CJK characters) that must appear in the conversation


def free_values(value: Any, schema: dict[str, Any]) -> Iterator[Any]:
    """The strings and numbers of `value` the model chose freely (enum, const and booleans excluded)."""
    if not isinstance(schema, dict) or "enum" in schema or "const" in schema or isinstance(value, bool):
        return
    if isinstance(value, dict):
        props = schema.get("properties") or {}
        for key, item in value.items():
            yield from free_values(item, props.get(key, {}))
    elif isinstance(value, list):
        for item in value:
            yield from free_values(item, schema.get("items") or {})
    elif isinstance(value, (str, int, float)):
        yield value


def _pieces(text: str) -> list[str]:
    """Lower-case words, with CJK runs split into characters (Japanese has no spaces)."""
    out: list[str] = []
    for word in _WORD.findall(text.lower()):
        out.extend(_CJK.findall(word) if _CJK.search(word) else [word])
    return out


def _grounded(value: Any, words: set[str], numbers: set[float]) -> bool:
    if isinstance(value, (int, float)):
        return float(value) in numbers
    pieces = _pieces(with_digits(value))
    return bool(pieces) and sum(p in words for p in pieces) / len(pieces) >= MIN_SHARE


def grounded(arguments: dict[str, Any], schema: dict[str, Any], conversation: str) -> bool:
    """Whether a call with these arguments (following `schema`) draws on the conversation's text."""
    values = list(free_values(arguments, schema))
    if not values:
        return True
    text = with_digits(conversation)
    words = set(_pieces(text))
    numbers = {float(n) for n in _NUMBER.findall(text.replace(",", ""))}
    return any(_grounded(v, words, numbers) for v in values)


def conversation_text(prompt: str | list[dict[str, Any]]) -> str:
    """Everything the user and the tools said (a prompt string, or every message's content)."""
    if isinstance(prompt, str):
        return prompt
    return "\n".join(m["content"] if isinstance(m.get("content"), str) else str(m.get("content") or "")
                     for m in prompt)


def declined(calls: list[dict[str, Any]], tools: list[dict[str, Any]], prompt: str | list[dict[str, Any]]) -> bool:
    """Whether any of OpenAI-shaped `calls` is not grounded in the conversation."""
    schemas = {t["function"]["name"]: t["function"].get("parameters") or {} for t in tools}
    text = conversation_text(prompt)
    return any(not grounded(json.loads(c["function"]["arguments"]), schemas.get(c["function"]["name"], {}), text)
               for c in calls)
