"""A prose reply judged on evidence a program can check: the shape its prompt asks for, no loop, no echo of
the prompt, and the prompt's language (Japanese that reads as Japanese). A reply with no failures passes;
fusion and the cascade never let a failing reply beat a passing one."""
from __future__ import annotations

import re
from collections import Counter

from edge_runtime.evidence.shapes import Shape, check_shape, extract_shapes
from edge_runtime.language.hints import HINTS
from edge_runtime.language.japanese import japanese_problems
from edge_runtime.router.language import detect_language

_UNIT_LOOP = re.compile(r"(\S.{1,40}?)\1{3,}", re.DOTALL)  # a piece of 2-41 characters 4+ times in a row
_CHAR_LOOP = re.compile(r"([^\s\-=*_.#~|])\1{7,}")  # one character 8+ times in a row (emoji, 寿寿寿...)


def loop(reply: str) -> str | None:
    """What repeats, when the reply loops: a run of one piece, or a line or sentence said again."""
    for pattern in (_CHAR_LOOP, _UNIT_LOOP):
        match = pattern.search(reply)
        if match:
            return f"repeats {match.group(1)[:20]!r}"
    parts = [p.strip(" -*•・0123456789.)") for p in re.split(r"[\n。！？!?]|\.(?=\s)", reply)]
    said = Counter(p.casefold() for p in parts if len(p) >= 12)
    again = [p for p, n in said.items() if n >= 2]
    return f"says {again[0][:30]!r} {said[again[0]]} times" if again else None


def echo(prompt: str, reply: str) -> str | None:
    """When the reply repeats the prompt (its longest line) instead of answering it."""
    line = max((p.strip() for p in prompt.splitlines()), key=len, default="")
    if len(line) < 10:
        return None
    copies = reply.count(line)
    return f"repeats the prompt {copies} times" if copies >= 2 or (copies and len(reply) < 2 * len(line)) else None


def parrots_hint(reply: str, language: str) -> str | None:
    """When the reply repeats a sentence of the language hint the runtime gave the model (it talks about its
    instructions instead of answering)."""
    said = [s for s in re.split(r"[。.]", HINTS.get(language, "")) if len(s) >= 8 and s in reply]
    return "repeats the runtime's language instruction" if said else None


def only_phrases(shapes: list[Shape], reply: str) -> str | None:
    """When the reply is little more than the phrases it was asked to start or end with (a title and a
    sign-off, the rest never written)."""
    phrases = [s.text for s in shapes if s.kind in ("starts_with", "ends_with")]
    if not phrases:
        return None
    rest = reply
    for phrase in phrases:
        rest = rest.replace(phrase, "")
    return "says little beyond the phrases asked for" if len(re.findall(r"\w", rest)) < 12 else None


def assess(prompt: str, reply: str) -> list[str]:
    """Why the reply fails (empty: it passes)."""
    if not reply.strip():
        return ["empty reply"]
    shapes = extract_shapes(prompt)
    failures = [f for f in (check_shape(s, reply) for s in shapes) if f]
    failures += [f for f in (loop(reply), echo(prompt, reply), only_phrases(shapes, reply)) if f]
    language = detect_language(prompt)
    if language == "ja":
        failures += japanese_problems(reply) + [f for f in (parrots_hint(reply, language),) if f]
    elif language == "en" and detect_language(reply) != "en":
        failures.append(f"answers in {detect_language(reply)!r}, asked in English")
    return failures
