"""Are a tool call's arguments taken from the conversation, or made up?

Under `tool_choice: "auto"` a small model calls a tool for requests that need none ("Hi! How are you?"
becomes get_weather(city="New York")). Such calls show twice: none of the free argument values (not an
enum or const the schema offers) comes from what the user said, and the request shares no word with the
function's name and description. A value is grounded when it is a number the conversation mentions (in
any script, English number words too), or a string whose words (Latin script) or characters (CJK)
appear there at least half. A call is declined only when both signs agree, so "the capital of France's
weather" (city "Paris", written nowhere) still calls get_weather; the reply is then written as text.
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
_NUMBER_WORDS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())} | {"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
                                                      "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100,
                                                      "thousand": 1000, "dozen": 12, "half": 0.5}
# words too common to relate a request to a function ("get", "what", ...)
_COMMON = set("the and for with from this that what how you your are can could would please get give tell "
              "make does did has have was were will about into then than them they there here when where which "
              "who why all any some".split())


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
    numbers |= {float(_NUMBER_WORDS[w]) for w in words if w in _NUMBER_WORDS}
    return any(_grounded(v, words, numbers) for v in values)


def _stems(text: str) -> set[str]:
    """Content words, cut to five letters so "translate" meets "translation"."""
    return {w[:5] for w in re.findall(r"[a-z]{3,}", text.lower().replace("_", " ")) if w not in _COMMON}


def related(conversation: str, function: dict[str, Any]) -> bool:
    """Whether the conversation shares a content word with the function's name or description."""
    return bool(_stems(conversation) & _stems(f"{function.get('name', '')} {function.get('description', '')}"))


def conversation_text(prompt: str | list[dict[str, Any]]) -> str:
    """The prompt string, or every message's content (rendering the prompt checked they are strings)."""
    return prompt if isinstance(prompt, str) else "\n".join(m["content"] for m in prompt)


def declined(calls: list[dict[str, Any]], tools: list[dict[str, Any]], prompt: str | list[dict[str, Any]]) -> bool:
    """Whether any of OpenAI-shaped `calls` is made of nothing the conversation says: no grounded value
    and no word in common with its function."""
    functions = {t["function"]["name"]: t["function"] for t in tools}
    text = conversation_text(prompt)

    def unfounded(call: dict[str, Any]) -> bool:
        fn = functions.get(call["function"]["name"], {})
        args = json.loads(call["function"]["arguments"])
        return not grounded(args, fn.get("parameters") or {}, text) and not related(text, fn)

    return any(unfounded(c) for c in calls)
