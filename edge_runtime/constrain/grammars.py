"""Grammars from what users write: a JSON schema, "any JSON object", a regex, Lark or GBNF.

Each becomes an llguidance grammar string, checked before any decoding so a bad one is a PromptError
that names where it came from (`what`: a request field or a file), never a fault mid-generation.
JSON is written with fixed separators (", " and ": ") and no free whitespace: a small model given
free whitespace can pad forever, and fixed separators are forced tokens jump-forward appends for free.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge_runtime.constrain.engine import llguidance
from edge_runtime.errors import FieldError, PromptError

JSON_OPTIONS = {"whitespace_flexible": False, "item_separator": ", ", "key_separator": ": "}
ANY_OBJECT: dict[str, Any] = {"type": "object"}
KINDS = ("json_schema", "regex", "lark", "gbnf")


@dataclass(frozen=True)
class Grammar:
    """An llguidance grammar, ready for a matcher, and what it was made from (named in errors)."""

    text: str
    what: str


def check(text: str, what: str) -> Grammar:
    """The grammar if the engine accepts it, else a PromptError naming `what` and the engine's reason."""
    llg = llguidance()
    failed, messages = llg.LLMatcher.validate_grammar_with_warnings(text)
    if failed:
        reason = messages[0] if messages else "the grammar engine refused it"
        raise FieldError(what, reason, "fix the schema or grammar; docs/structured.md lists what is supported")
    return Grammar(text, what)


def json_schema(schema: Any, what: str = "json_schema") -> Grammar:
    """Output that validates against `schema` (a dict, or a JSON text of one)."""
    if isinstance(schema, str):
        try:
            schema = json.loads(schema)
        except json.JSONDecodeError as exc:
            raise FieldError(what, f"not valid JSON ({exc.msg} at position {exc.pos})") from None
    if isinstance(schema, bool):
        schema = {} if schema else {"not": {}}
    if not isinstance(schema, dict):
        raise FieldError(what, f"a JSON schema must be an object, got {type(schema).__name__}")
    llg = llguidance()
    try:
        text = llg.LLMatcher.grammar_from_json_schema(schema, overrides=JSON_OPTIONS)
    except (ValueError, TypeError) as exc:
        raise FieldError(what, str(exc)) from None
    return check(text, what)


def json_object(what: str = "response_format") -> Grammar:
    """Any JSON object (OpenAI's `json_object` mode)."""
    return json_schema(ANY_OBJECT, what)


def regex(pattern: str, what: str = "regex") -> Grammar:
    return check(llguidance().LLMatcher.grammar_from_regex(pattern), what)


def lark(source: str, what: str = "grammar") -> Grammar:
    """A Lark grammar in llguidance's dialect, or llama.cpp's GBNF (told apart by llguidance)."""
    from llguidance.gbnf_to_lark import any_to_lark

    try:
        source = any_to_lark(source)
    except Exception as exc:  # the converter raises bare exceptions on syntax it does not take
        raise FieldError(what, f"not a Lark or GBNF grammar ({exc})") from None
    return check(llguidance().LLMatcher.grammar_from_lark(source), what)


def from_file(path: str | Path, kind: str) -> Grammar:
    """A grammar file for the CLI: `json_schema` (a .json schema), `regex`, `lark` or `gbnf`."""
    path = Path(path)
    try:
        source = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PromptError(f"cannot read the {kind} file {path.name} ({exc.__class__.__name__})") from None
    if kind == "json_schema":
        return json_schema(source, path.name)
    if kind == "regex":
        return regex(source.strip(), path.name)
    return lark(source, path.name)
