"""Examples written in prose, and the function a prompt asks for when it never says `def`.

People rarely write doctests: they write "f(3) should return 9", "e.g. f(3) is 9", "f(3) は 9 を返す",
"Input: 3 / Output: 9" (入力/出力) or a table whose header names the parameters. Each found example
is (call source, label, expected literal); checks.py makes it a Check like any other, so a candidate
is run against what the prompt promised.
"""
from __future__ import annotations

import ast
import re
from typing import Iterator

from edge_runtime.evidence.signature import balanced, is_literal, signature

Example = tuple[str, str, str]  # (call source, label, expected literal source)

_CONNECTOR = re.compile(
    r"\s*`?\s*(?:should\s+(?:return|give|be)|returns?|gives?|is|equals|==|➞|→|⇒|->|=>|は)\s*`?\s*",
    re.I)
_IO_IN = re.compile(r"^\W*(?:input|入力)\s*[:：]\s*(.+)$", re.I)
_IO_OUT = re.compile(r"^\W*(?:output|出力)\s*[:：]\s*(.+)$", re.I)
def _literal_prefix(text: str) -> str | None:
    """The longest start of `text` that is a Python literal (a result: 9, "G.H.", [1, 2], None)."""
    text = text.strip().strip("`")
    for end in range(len(text), 0, -1):
        if text[end - 1] in " ,.":  # "should return 13." ends a sentence, not a float
            continue
        piece = text[:end].strip().rstrip(",")
        try:
            ast.literal_eval(piece)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
        return ast.unparse(ast.parse(piece, mode="eval"))  # one spelling, as the other extractors write it
    return None


def _whole_literal(cell: str) -> str | None:
    """The cell as one literal's source, or None when it is anything more (a range, a word)."""
    node = _parse(cell.strip().strip("`"))
    return ast.unparse(node) if node is not None and is_literal(node) else None


def sentence_checks(prompt: str, name: str) -> Iterator[Example]:
    """"name(args) should return / is / returns / は <literal>" anywhere in the text."""
    text = prompt
    for match in re.finditer(rf"(?<![\w.]){re.escape(name)}\(", text):
        inside = balanced(text, match.end() - 1)
        line = text[text.rfind("\n", 0, match.start()) + 1:match.start()].strip()
        if inside is None or line.startswith(("assert", ">>>")):  # checks.py reads those lines itself
            continue
        call = f"{name}({inside})"
        rest = text[match.end() + len(inside) + 1:]
        link = _CONNECTOR.match(rest)
        if not link or not _is_call(call):
            continue
        call = ast.unparse(ast.parse(call, mode="eval"))
        paragraph = re.split(r"\n\s*\n", rest[link.end():])[0]
        expected = _literal_prefix(" ".join(paragraph.split("\n")))
        if expected is not None:
            yield call, f"{call} -> {expected}", expected


def io_checks(prompt: str, name: str, params: list[str]) -> Iterator[Example]:
    """"Input: args" then "Output: value" (English or 入力/出力), the input read as the argument list."""
    pending: str | None = None
    for raw in prompt.splitlines():
        given, out = _IO_IN.match(raw.strip()), _IO_OUT.match(raw.strip())
        if given:
            pending = given.group(1).strip()
        elif out and pending is not None:
            call = _call_from_args(name, pending, params)
            expected = _literal_prefix(out.group(1))
            if call and expected is not None:
                yield call, f"Input: {pending} Output: {expected}", expected
            pending = None


def _call_from_args(name: str, args: str, params: list[str]) -> str | None:
    """name(args) with `x = 1, y = 2` made positional; a bare literal is the one argument."""
    call = _parse(f"{name}({args})")
    if not isinstance(call, ast.Call):
        return None
    if call.keywords and params and {k.arg for k in call.keywords} <= set(params):
        order = {p: i for i, p in enumerate(params)}
        call.args += [k.value for k in sorted(call.keywords, key=lambda k: order[k.arg or ""])]
        call.keywords = []
    return ast.unparse(call) if not call.keywords else None


def table_checks(prompt: str, name: str, params: list[str]) -> Iterator[Example]:
    """Markdown tables whose header names every parameter plus one result column."""
    rows = [[c.strip() for c in line.strip().strip("|").split("|")]
            for line in prompt.splitlines() if line.strip().startswith("|")]
    header: list[str] = []
    for cells in rows:
        if all(set(c) <= set("-: ") for c in cells):
            continue
        check = _table_row(name, params, header, cells) if len(cells) == len(header) else None
        if check:
            yield check
        else:
            header = [c.strip("`") for c in cells]


def _table_row(name: str, params: list[str], header: list[str], cells: list[str]) -> Example | None:
    if not params or not set(params) <= set(header) or len(header) != len(params) + 1:
        return None
    result_col = next(i for i, h in enumerate(header) if h not in params)
    values = {h: _whole_literal(cells[i]) for i, h in enumerate(header)}
    if any(v is None for v in values.values()):
        return None
    call = f"{name}({', '.join(str(values[p]) for p in params)})"
    expected = str(values[header[result_col]])
    return call, f"table: {call} -> {expected}", expected


def prose_checks(prompt: str) -> list[Example]:
    """Every example written in prose, for the function the prompt's signature names."""
    sig = signature(prompt)
    if sig is None:
        return []
    name, params = sig
    return [*sentence_checks(prompt, name), *io_checks(prompt, name, params), *table_checks(prompt, name, params)]


def _parse(text: str) -> ast.expr | None:
    try:
        return ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        return None


def _is_call(source: str) -> bool:
    node = _parse(source)
    return isinstance(node, ast.Call) and not any(isinstance(a, ast.Starred) for a in node.args) \
        and all(is_literal(a) for a in [*node.args, *(k.value for k in node.keywords)])
