"""Short final answers: read one number from a reply, and let several replies vote on it.

Experts phrase the same answer differently ("1,200円", "\\boxed{1200}", "１２００個", "1200.0"),
so answers are compared in one normal form: an integer, an exact decimal, or a reduced
fraction "p/q" where no finite decimal exists; 3/4 and 0.75 are the same answer.
"""
from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, localcontext
from fractions import Fraction
from typing import Any, Mapping, Sequence

from edge_runtime.evidence.checks import extract_code
from edge_runtime.evidence.numerals import quantities, with_digits
from edge_runtime.evidence.sandbox import run_python
from edge_runtime.evidence.signature import signature

_BOXED = re.compile(r"\\boxed\{((?:[^{}]|\{[^{}]*\})*)\}")
_TEX_FRAC = re.compile(r"\\[dt]?frac\{\s*(-?[\d.]+)\s*\}\{\s*(-?[\d.]+)\s*\}")
_NUMBER = re.compile(r"(?<![0-9A-Za-z_.,])(?:-(?=\d))?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:/\d+(?:\.\d+)?)?")
_UNITS = (("千", 1000), ("万", 10_000), ("億", 100_000_000))  # smallest first: 3万5千 -> 3万5000
MATH_PROBABILITY = 0.5  # the router's math probability above which a prompt with a quantity is a number question
_QUESTION = re.compile(r"[?？]|か[。.]?\s*$|か。", re.M)  # ends a question: "...?", "...ますか。"
_ASKS_CODE = re.compile(r"\b(?:write|implement|fix|refactor)\b.*\b(?:function|program|script|class|code)\b|関数|プログラム",
                        re.I | re.S)


def final_number(text: str) -> str | None:
    """The reply's answer: the last \\boxed{} if any, else its last number, in normal form."""
    text = with_digits(text).replace("\u2212", "-")
    boxed = _BOXED.findall(text)
    if boxed:
        text = boxed[-1]
    text = _TEX_FRAC.sub(r"\1/\2", text)
    for unit, scale in _UNITS:
        text = _expand_unit(text, unit, scale)
    for token in reversed(_NUMBER.findall(text)):
        value = _value(token)
        if value is not None:
            return normal_form(value)
    return None


def asks_for_number(prompt: str, probabilities: Mapping[str, float]) -> bool:
    """Whether the prompt wants one number, so replies can vote on it. The router's learned math
    probability decides, with a structural fallback for prompts it scores low (short Japanese word
    problems): a question that gives at least two quantities. A request for code never does, even when
    it says "how many" (its answer is the code)."""
    text = unicodedata.normalize("NFKC", prompt)
    if asks_for_code(text):
        return False
    given = quantities(text)
    if probabilities.get("math", 0.0) >= MATH_PROBABILITY:
        return given >= 1
    return given >= 2 and bool(_QUESTION.search(text))


def asks_for_code(prompt: str) -> bool:
    """A request for code: a typed signature to implement, or words asking for a function or program."""
    return signature(prompt) is not None or bool(_ASKS_CODE.search(prompt))


def _expand_unit(text: str, unit: str, scale: int) -> str:
    """Japanese 2万3000 -> 23000 (the digits after the unit are the remainder)."""
    pattern = re.compile(rf"(\d+(?:\.\d+)?){unit}(\d*)")
    return pattern.sub(lambda m: str(Fraction(m.group(1)) * scale + int(m.group(2) or 0)), text)


def _value(token: str) -> Fraction | None:
    top, _, bottom = token.replace(",", "").partition("/")
    denominator = Fraction(bottom) if bottom else Fraction(1)
    return Fraction(top) / denominator if denominator else None


def normal_form(value: Fraction) -> str:
    """Integer, exact decimal when the denominator is 2^a*5^b, else the reduced fraction."""
    if value.denominator == 1:
        return str(value.numerator)
    rest = value.denominator
    for prime in (2, 5):
        while rest % prime == 0:
            rest //= prime
    if rest != 1:
        return f"{value.numerator}/{value.denominator}"
    with localcontext() as ctx:
        ctx.prec = 100
        return format((Decimal(value.numerator) / Decimal(value.denominator)).normalize(), "f")


def vote(answers: Sequence[str | None], weights: Sequence[float] | None = None) -> tuple[str | None, float]:
    """Self-consistency: the answer with the most weight and its share of all the weight.

    A reply with no answer (None) cannot win but still counts in the share, since it did not
    agree; ties go to the answer seen first.
    """
    weights = [1.0] * len(answers) if weights is None else list(weights)
    if len(weights) != len(answers):
        raise ValueError("one weight per answer")
    tally: dict[str, float] = {}
    for answer, weight in zip(answers, weights):
        if answer is not None:
            tally[answer] = tally.get(answer, 0.0) + weight
    total = sum(weights)
    if not tally or total <= 0:
        return None, 0.0
    winner = max(tally, key=tally.__getitem__)
    return winner, tally[winner] / total


def program_answer(reply: str, **limits: Any) -> str | None:
    """Run the program in a coder's reply in the sandbox; its last printed number, or None if it failed."""
    code = extract_code(reply)
    if not code:
        return None
    result = run_python(code, **limits)
    return final_number(result.stdout) if result.ok else None
