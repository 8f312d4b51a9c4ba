"""The function a prompt asks for, read from a typed signature such as `digital_root(n: int) -> int`.

Prompts name the function in many ways ("Write `f(x: int) -> int`", "関数 f(s: str) を", "I need f(...)");
a parameter list that parses as a Python signature with annotations is the one sign they share.
"""
from __future__ import annotations

import ast
import re

_CALL_START = re.compile(r"([A-Za-z_]\w*)\(")
_NOT_FUNCTIONS = frozenset({"print", "len", "round", "str", "int", "float", "list", "dict", "set", "tuple",
                            "sorted", "range", "sum", "max", "min", "abs", "repr", "type", "isinstance"})


def signature(prompt: str) -> tuple[str, list[str]] | None:
    """The first `name(params)` in the prompt that reads as a typed signature (at least one parameter
    annotated, or a return annotation), with its parameter names: the function asked for."""
    for match in _CALL_START.finditer(prompt):
        name = match.group(1)
        inside = balanced(prompt, match.end() - 1)
        if name in _NOT_FUNCTIONS or inside is None:
            continue
        after = prompt[match.end() + len(inside) + 1:]
        if ":" not in inside and not after.lstrip().startswith("->"):
            continue
        try:
            node = ast.parse(f"def {name}({inside}): pass").body[0]
        except SyntaxError:
            continue
        assert isinstance(node, ast.FunctionDef)
        return name, [a.arg for a in node.args.args]
    return None


def balanced(text: str, open_at: int) -> str | None:
    """The text inside the parenthesis opened at `open_at` (quotes respected), or None if unclosed."""
    depth, quote = 0, ""
    for i in range(open_at, len(text)):
        c = text[i]
        if quote:
            quote = "" if c == quote and text[i - 1] != "\\" else quote
        elif c in "\"'":
            quote = c
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                return text[open_at + 1:i]
    return None


def is_literal(node: ast.expr) -> bool:
    """Whether an expression is a plain value (what an example's result must be)."""
    try:
        ast.literal_eval(node)
        return True
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
