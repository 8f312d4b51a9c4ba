"""Executable checks from the examples a prompt itself carries, and running a candidate against them.

The prompt's own examples are the only ground truth a local team has for free: a candidate that
fails them is wrong whatever the models' confidence says.  Formats understood: doctest
(`>>> f(1)` + output), `f(x) == y`, `f(x) ➞ y` / `->` / `=>` / `→` / `returns y`, `assert ...`
lines, and `Input: ... Output: ...` pairs when the prompt names the function.
"""
from __future__ import annotations

import ast
import doctest
import json
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Sequence

from edge_runtime.evidence.prose_examples import prose_checks
from edge_runtime.evidence.sandbox import SandboxResult, run_python
from edge_runtime.evidence.signature import is_literal, signature

_HARNESS = Path(__file__).with_name("_harness.py").read_text()
_DEF = re.compile(r"^([ \t]*)def\s+([A-Za-z_]\w*)\s*\(", re.M)
_NAMED = re.compile(r"\b(?:function|method)\s+(?:called|named)\s+`?([A-Za-z_]\w*)", re.I)
_SIGNATURE = re.compile(r"(?:\b(?:function|method)|関数)\s*`?([A-Za-z_]\w*)\s*\(", re.I)  # function `f(x: int)`
_ARROW = re.compile(r"\s*(?:➞|→|⇒|->|=>|\s(?:should\s+)?returns?\s)\s*")
_PREFIX = re.compile(r"^(?:[-*•]\s+|\d+[.)]\s+|(?:example|e\.g\.)\s*\d*\s*:?\s*)+", re.I)
_INPUT = re.compile(r"^\W*input\s*:\s*(.+?)\s*(?:\boutput\s*:\s*(.+))?$", re.I)
_OUTPUT = re.compile(r"^\W*output\s*:\s*(.+)$", re.I)
_FENCE = re.compile(r"```[ \t]*([\w+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.S)
_PYTHON_TAGS = frozenset({"python", "py", "python3", ""})


@dataclass(frozen=True)
class Check:
    """`source` is an expression compared with `expected` (a literal or doctest output), or
    statements (an assert) that pass by not raising when `expected` is None."""

    source: str
    label: str
    expected: str | None = None


@dataclass(frozen=True)
class CheckOutcome:
    check: Check
    passed: bool
    detail: str


@dataclass(frozen=True)
class CheckReport:
    outcomes: list[CheckOutcome]
    sandbox: SandboxResult
    load_error: str = ""

    @property
    def passed(self) -> int:
        return sum(o.passed for o in self.outcomes)

    @property
    def total(self) -> int:
        return len(self.outcomes)


def function_name(prompt: str) -> str | None:
    """The function the prompt asks for: its last top-level `def`, else 'a function called X', else
    'a function `X(...)`' (関数 `X(...)` in Japanese)."""
    defs = _DEF.findall(prompt)
    top = [name for indent, name in defs if not indent]
    if top or defs:
        return (top or [name for _, name in defs])[-1]
    named = _NAMED.search(prompt) or _SIGNATURE.search(prompt)
    if named:
        return named.group(1)
    typed = signature(prompt)  # `f(x: int) -> int` with no "function" before it
    return typed[0] if typed else None


def extract_checks(prompt: str) -> list[Check]:
    """Every example in the prompt that can be run, in order, without duplicates."""
    found = [*_doctest_checks(prompt), *_line_checks(prompt), *_io_checks(prompt, function_name(prompt)),
             *(Check(*example) for example in prose_checks(prompt))]
    unique: dict[tuple[str, str | None], Check] = {}
    for check in found:
        unique.setdefault((_spelled(check.source), check.expected and _spelled(check.expected)), check)
    return list(unique.values())


def _spelled(source: str) -> str:
    """One spelling of an expression ('a' and "a" are the same example), the text when it is not one."""
    node = _parse(source)
    return ast.unparse(node) if node is not None else source.strip()


def _doctest_checks(prompt: str) -> Iterator[Check]:
    text = "\n".join(_doctest_line(line) for line in prompt.splitlines())
    try:
        examples = doctest.DocTestParser().get_examples(text)
    except ValueError:
        return
    for ex in examples:
        source, want = ex.source.strip(), ex.want.strip()
        if not want and _is_expression(source):
            want = "None"
        yield Check(source, f">>> {source.splitlines()[0]}", want or None)


def _doctest_line(line: str) -> str:
    """Dedented, so mixed indentation cannot fail the parser; a docstring's closing quotes end
    the expected output like a blank line would."""
    line = line.strip()
    return "" if line in ('"""', "'''") else line


def _line_checks(prompt: str) -> Iterator[Check]:
    for raw in prompt.splitlines():
        line = _clean(raw)
        if line.startswith((">>>", "...", "def ")):
            continue
        check = _assert_check(line) or _equality_check(line) or _arrow_check(line)
        if check:
            yield check


def _clean(raw: str) -> str:
    """A prompt line without bullets, 'Example:' labels, backticks and a sentence's final stop."""
    line = _PREFIX.sub("", raw.strip()).strip().strip("`").strip()
    return line.rstrip(";,").removesuffix(".")


def _assert_check(line: str) -> Check | None:
    if line.startswith("assert ") and _compiles(line, "exec"):
        return Check(line, line)
    return None


def _equality_check(line: str) -> Check | None:
    expr = _parse(line)
    if isinstance(expr, ast.Compare) and len(expr.ops) == 1 and isinstance(expr.ops[0], ast.Eq):
        if _is_call(expr.left):
            return Check(ast.unparse(expr.left), line, ast.unparse(expr.comparators[0]))
    return None


def _arrow_check(line: str) -> Check | None:
    parts = _ARROW.split(line, maxsplit=1)
    if len(parts) != 2:
        return None
    call, result = _parse(parts[0]), _parse(parts[1])
    if _is_call(call) and result is not None and is_literal(result):  # not `"x" and f(y)`: a second example
        return Check(ast.unparse(call), line, ast.unparse(result))
    return None


def _io_checks(prompt: str, name: str | None) -> Iterator[Check]:
    """`Input: a, b` then `Output: y` (same line or the next ones), called as name(a, b)."""
    if name is None:
        return
    pending: str | None = None
    for raw in prompt.splitlines():
        given, out = _INPUT.match(raw.strip()), _OUTPUT.match(raw.strip())
        if given:
            pending, answer = given.group(1), given.group(2)
        else:
            answer = out.group(1) if out else None
        call = _io_call(name, pending) if pending and answer else None
        result = _parse(_clean(answer)) if answer else None
        if call and result is not None:
            yield Check(call, f"Input: {pending} Output: {answer}", ast.unparse(result))
            pending = None


def _io_call(name: str, args: str) -> str | None:
    """name(args), with LeetCode-style `x = 1, y = 2` turned into positional arguments."""
    call = _parse(f"{name}({_clean(args)})")
    if not isinstance(call, ast.Call):
        return None
    call.args += [kw.value for kw in call.keywords]
    call.keywords = []
    return ast.unparse(call)


def _parse(text: str) -> ast.expr | None:
    try:
        return ast.parse(text.strip(), mode="eval").body
    except SyntaxError:
        return None


def _is_call(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute))


def _is_expression(source: str) -> bool:
    return _compiles(source, "eval")


def _compiles(source: str, mode: str) -> bool:
    try:
        compile(source, "<check>", mode)
        return True
    except SyntaxError:
        return False


def extract_code(reply: str, defines: str | None = None) -> str:
    """The largest fenced Python block (the last of equals), else the reply if it parses as code.

    With `defines`, only blocks that define that function compete, when any does: replies often repeat
    the prompt's doctests in a block larger than the function's own.
    """
    blocks = [body for tag, body in _FENCE.findall(reply) if tag.lower() in _PYTHON_TAGS]
    if defines:
        pattern = re.compile(rf"^\s*(?:async\s+)?def\s+{re.escape(defines)}\s*\(", re.M)
        blocks = [body for body in blocks if pattern.search(body)] or blocks
    if blocks:
        return max(reversed(blocks), key=len).strip("\n")
    text = reply.strip()
    looks_like_code = any(k in text for k in ("def ", "import ", "print(", "return ", " = "))
    return text if looks_like_code and _compiles(text, "exec") else ""


def run_checks(code: str, checks: Sequence[Check], *, per_check_s: float = 2.0, **limits: Any) -> CheckReport:
    """Run all checks against `code` in one sandbox process; checks not reached count as failed."""
    nonce = f"@@check-{secrets.token_hex(8)}@@"
    spec = {"nonce": nonce, "per_check_s": per_check_s,
            "checks": [{"source": c.source, "expected": c.expected} for c in checks]}
    result = run_python(_HARNESS, files={"candidate.py": code, "checks.json": json.dumps(spec)}, **limits)
    lines = [json.loads(line.partition(nonce)[2]) for line in result.stdout.splitlines() if nonce in line]
    load_error = next((line["load"] for line in lines if "load" in line), "")
    reached = {line["index"]: line for line in lines if "index" in line}
    missing = "not reached: " + ("timed out" if result.timed_out else (result.stderr.strip()[-200:] or "harness ended"))
    outcomes = [
        CheckOutcome(c, bool(reached[i]["passed"]), reached[i]["detail"]) if i in reached
        else CheckOutcome(c, False, missing)
        for i, c in enumerate(checks)
    ]
    return CheckReport(outcomes, result, load_error)
