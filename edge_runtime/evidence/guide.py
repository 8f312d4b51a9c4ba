"""The part of a prompt's stated shape that decoding can make true by construction.

Checks (shapes.py) tell a reply that did what was asked from one that did not; for some demands no
second reply is needed, because decoding can simply honour them, the way a grammar forces text:
- "start with 'Dear Ana'": the reply's first tokens are the phrase (fed as the start of the answer, so
  the model continues from it);
- "end with 'Best, Tom'": when the model ends without it, the phrase is its last words;
- "in two sentences", "three bullet points": the reply ends where one sentence or item too many begins;
- "all lowercase": tokens with a capital letter are masked (a logit mask, so drafting stays exact).
Counts a reply falls short of, word and character limits, and phrases to include are left to the checks.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from edge_runtime.evidence.shapes import BULLET, Shape, extract_shapes, has_phrase, sentence_ends
from edge_runtime.language.mask import vocabulary_key
from edge_runtime.models.backends.base import CausalLM

_NUMBERED = re.compile(r"\s*(?:\d|[０-９]|[①-⑳]|\()")
_JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
_END_MARKS = re.compile(r"[.!?。！？\"”’'」』)\]\s]*$")


@dataclass(frozen=True)
class ShapeGuide:
    """What decoding enforces of one prompt's shapes; `of` gives None where there is nothing to enforce."""

    opening: str = ""
    closing: str = ""
    lowercase: bool = False
    limit: Shape | None = None  # items or sentences: the reply ends where one more would begin

    @classmethod
    def of(cls, prompt: str) -> "ShapeGuide | None":
        shapes = {shape.kind: shape for shape in extract_shapes(prompt)}
        limit = shapes.get("items") or (shapes.get("sentences") if "lines" not in shapes else None)
        guide = cls(shapes["starts_with"].text if "starts_with" in shapes else "",
                    shapes["ends_with"].text if "ends_with" in shapes else "",
                    "lowercase" in shapes, limit)
        return guide if guide != cls() else None

    def cut(self, text: str) -> int | None:
        """Where the reply ends when one sentence or list item more than asked has begun; else None."""
        if self.limit is None:
            return None
        n = self.limit.n
        if self.limit.kind == "items":
            starts = _item_starts(text)
            return starts[n] if len(starts) > n else None
        ends = sentence_ends(text)
        return ends[n - 1] if len(ends) >= n and re.search(r"\w", text[ends[n - 1]:]) else None

    def hold(self, text: str) -> int:
        """Characters at the end of the text so far to keep back while a closing phrase may yet be due: the
        final marks and quotes of a one-line reply, which the phrase goes before."""
        return len(_END_MARKS.search(text).group()) if self.closing else 0

    def closed(self, text: str, rest: str) -> str:
        """`rest` (the reply's held-back end) with the closing phrase put in where the reply lacks it: before
        the final marks of a one-line reply ("...with us, ride on!"), on a line of its own in a longer one."""
        whole = text + rest
        if not self.closing or not whole.strip() or has_phrase("ends_with", whole, self.closing):
            return rest
        japanese = bool(_JAPANESE.search(self.closing + whole[-40:]))
        if "\n" in whole.strip():
            return rest.rstrip() + ("\n" if japanese else "\n\n") + self.closing
        end = _END_MARKS.search(rest)
        body, marks = rest[:end.start()], end.group().strip()
        if japanese:
            return body + marks + self.closing
        joint = " " if re.search(r"[,:;—-]$", (text + body).rstrip()) else ", "
        return body + joint + self.closing + marks

    def finisher(self, notes: list[str]) -> Callable[[str, str], str]:
        """`closed`, noting in `notes` when it put the phrase in (a reader of the reply's account should know)."""
        def finish(text: str, rest: str) -> str:
            closed = self.closed(text, rest)
            if closed != rest:
                notes.append(f"shape guide: closed with {self.closing!r}")
            return closed
        return finish


def _item_starts(text: str) -> list[int]:
    """Offsets of the top-level list items: bullets at the first item's indent and of its kind (numbered
    or not), so details under an item are not counted as items."""
    starts, first = [], None
    for line in re.finditer(r"^.*$", text, re.MULTILINE):
        body = line.group()
        if not BULLET.match(body):
            continue
        kind = (len(body) - len(body.lstrip()), bool(_NUMBERED.match(body)))
        first = first or kind
        if kind == first:
            starts.append(line.start())
    return starts


class LowercaseMask:
    """Bans tokens that would write a capital letter (a LogitMask; end-of-generation stays allowed)."""

    def __init__(self, model: CausalLM) -> None:
        vocab = model.vocab
        capital = [i for i in range(vocab.size)
                   if any(c.isupper() for c in model.token_bytes(i).decode("utf-8", "ignore"))]
        self.always = np.setdiff1d(np.array(capital, dtype=np.int64), np.array(sorted(vocab.eog), dtype=np.int64))

    def banned(self, history: Sequence[int]) -> np.ndarray:
        return self.always


_LOWERCASE: dict[tuple[int, str, int], LowercaseMask] = {}


def lowercase_mask(model: CausalLM) -> LowercaseMask:
    """The model's vocabulary's mask, built on first use."""
    key = vocabulary_key(model)
    if key not in _LOWERCASE:
        _LOWERCASE[key] = LowercaseMask(model)
    return _LOWERCASE[key]
