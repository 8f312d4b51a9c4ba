"""The shape a prose prompt asks for, read from the prompt, and checked in a reply.

Everyday prompts state their shape ("three bullet points", "under 50 words", "end with 'Thanks'",
"箇条書きで3つ", "100文字以内で"); a program can check each one, so fusion and the cascade can prefer a reply
that does what was asked over one that sounds likely. English and Japanese phrasings are read; a prompt
with no stated shape gets none (loops, echoes and the reply's language are checked by `assess` regardless).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

_NUMBER_WORDS = {w: i for i, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve"
                                            .split())}
_KANJI_DIGITS = {c: i for i, c in enumerate("〇一二三四五六七八九十")}
_COUNT = r"(\d+|[０-９]+|zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|[一二三四五六七八九十])"
_QUOTED = r"[\"“”']([^\"“”]+?)[\"“”']"
_JA_QUOTED = r"「([^」]+)」"


@dataclass(frozen=True)
class Shape:
    """One checkable demand: kind is items, lines, sentences, max_words, min_words, max_chars, starts_with,
    ends_with, contains, lowercase or json."""

    kind: str
    n: int = 0
    text: str = ""
    keys: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        out: dict = {"kind": self.kind}
        if self.kind in ("items", "lines", "sentences", "max_words", "min_words", "max_chars"):
            out["n"] = self.n
        elif self.kind in ("starts_with", "ends_with", "contains"):
            out["text"] = self.text
        elif self.kind == "json":
            out["keys"] = list(self.keys)
        return out


def _number(word: str) -> int:
    word = word.lower().translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    if word.isdigit():
        return int(word)
    return _NUMBER_WORDS.get(word, _KANJI_DIGITS.get(word, 0))


def _first(patterns: list[str], text: str) -> re.Match | None:
    for pattern in patterns:
        match = re.search(pattern, text, re.IGNORECASE)
        if match:
            return match
    return None


_LIST_CUE = r"bullet|bulleted|numbered list|as a list|checklist|箇条書き|番号付き|リスト"
_PER_LINE = r"one per line|one on each line|each on its own line|1行に1つ|一行に一つ"
_COUNTS = {  # kind -> patterns whose group(1) is the count
    "sentences": [rf"\b{_COUNT}[- ]sentences?\b", rf"{_COUNT}\s*文(?!字)"],
    "lines": [rf"\b{_COUNT}[- ]lines?\b", rf"{_COUNT}\s*行(?!に)"],
    "max_words": [rf"(?:under|fewer than|less than|at most|no more than|maximum of|max(?:imum)?)\s+{_COUNT}\s+words"],
    "min_words": [rf"(?:at least|no fewer than|minimum of|more than)\s+{_COUNT}\s+words"],
    "max_chars": [rf"{_COUNT}\s*(?:文字|字)以内", rf"{_COUNT}\s*(?:文字|字)まで"],
}
_PHRASES = {  # kind -> patterns whose group(1) is the phrase
    "starts_with": [rf"(?:start|begin)s?(?: it| the \w+)? with {_QUOTED}", rf"{_JA_QUOTED}\s*(?:で|から)(?:始め|始ま|書き始め)"],
    "ends_with": [rf"(?:end|finish|close|sign off)s?(?: it| the \w+)? with {_QUOTED}",
                  rf"{_JA_QUOTED}\s*で(?:終え|終わ|締め|結ん|しめ)"],
    "contains": [rf"(?:include|use|contain|mention)s?(?: the word| the phrase)? {_QUOTED}",
                 rf"{_JA_QUOTED}\s*という(?:言葉|単語|語)を(?:入れ|使|含め)"],
}


def _count_before(prompt: str, cue_pattern: str) -> int:
    """The count a list prompt asks for: the number nearest before its cue, else the first in the prompt."""
    cue = re.search(cue_pattern, prompt, re.IGNORECASE)
    pattern = rf"\b{_COUNT}\b(?![- ]?(?:sentences?|lines?|words))|{_COUNT}\s*(?:つ|項目|個|点)"
    counts = [(m.start(), _number(m.group(1) or m.group(2))) for m in re.finditer(pattern, prompt, re.IGNORECASE)]
    counts = [(at, n) for at, n in counts if n > 0]
    if not counts or cue is None:
        return 0
    before = [n for at, n in counts if at < cue.start()]
    return before[-1] if before else counts[0][1]


def extract_shapes(prompt: str) -> list[Shape]:
    """Every shape the prompt states, in a fixed order of kinds."""
    shapes: list[Shape] = []
    per_line, items = _count_before(prompt, _PER_LINE), _count_before(prompt, _LIST_CUE)
    if per_line:
        shapes.append(Shape("lines", per_line))
    elif items:
        shapes.append(Shape("items", items))
    for kind, patterns in _COUNTS.items():
        if kind == "lines" and any(s.kind == "lines" for s in shapes):
            continue
        match = _first(patterns, prompt)
        if match and _number(match.group(1)) > 0:
            shapes.append(Shape(kind, _number(match.group(1))))
    for kind, patterns in _PHRASES.items():
        match = _first(patterns, prompt)
        if match:
            shapes.append(Shape(kind, text=match.group(1).strip()))
    if re.search(r"\b(?:all )?lower[- ]?case\b|小文字", prompt, re.IGNORECASE):
        shapes.append(Shape("lowercase"))
    if re.search(r"(?<![A-Za-z])JSON(?![A-Za-z])", prompt, re.IGNORECASE):
        keys = re.findall(rf"{_QUOTED}|{_JA_QUOTED}", prompt.split("key", 1)[-1] if "key" in prompt.lower()
                          else prompt.split("キー", 1)[-1])
        shapes.append(Shape("json", keys=tuple(a or b for a, b in keys)))
    return shapes


BULLET = re.compile(r"^\s*(?:[-*•・●◦▪+]|\d+[.)．）]|[０-９]+[.)．）]|[①-⑳]|\(\d+\))\s*\S")
_SENTENCE_END = re.compile(r"[.!?](?=[\s\"”')\]]|$)|[。！？](?![」』）)])|[。！？][」』）)]")
_FENCE = re.compile(r"^```[\w-]*\s*\n(.*?)\n```\s*$", re.DOTALL)


def _lines(reply: str) -> list[str]:
    return [line for line in reply.splitlines() if line.strip() and line.strip() != "```"]


def count_items(reply: str) -> int:
    """List items at the list's top level (sub-points under an item are part of it)."""
    indents = [len(line) - len(line.lstrip()) for line in _lines(reply) if BULLET.match(line)]
    return sum(1 for indent in indents if indent == min(indents)) if indents else 0


def sentence_ends(reply: str) -> list[int]:
    """Offsets just past each sentence's end mark; a list marker ("2. ") ends no sentence, and a decimal
    point has no space after it, so it ends none either."""
    ends = []
    for mark in _SENTENCE_END.finditer(reply):
        line = reply[reply.rfind("\n", 0, mark.start()) + 1:mark.start()]
        if not re.fullmatch(r"\s*\d+", line):
            ends.append(mark.end())
    return ends


def count_sentences(reply: str) -> int:
    """Sentences by their end marks (a last one without a mark counts too); list markers are not sentences."""
    ends = sentence_ends(reply)
    tail = re.sub(r"^\s*\d+[.)]", "", reply[ends[-1]:] if ends else reply, flags=re.MULTILINE)
    return len(ends) + (1 if re.search(r"\w", tail) else 0)


def _words(reply: str) -> int:
    return len(re.findall(r"[\w'’-]+", reply))


def _plain(text: str) -> str:
    """Text as compared for a phrase: markdown emphasis and quotes dropped, whitespace single, case folded."""
    text = re.sub(r"[*_`\"“”「」『』]", "", text)
    return re.sub(r"\s+", " ", text).strip().casefold()


def has_phrase(kind: str, reply: str, phrase: str) -> bool:
    """Whether the reply starts with, ends with or contains (`kind`) the phrase, compared as a reader would:
    markdown, quotes, case, spacing and final punctuation aside."""
    body, phrase = _plain(reply).rstrip(".!。！ "), _plain(phrase).rstrip(".!。！")
    return {"starts_with": body.startswith, "ends_with": body.endswith, "contains": body.__contains__}[kind](phrase)


def _json_object(reply: str) -> dict | None:
    text = reply.strip()
    fenced = _FENCE.match(text)
    try:
        value = json.loads(fenced.group(1) if fenced else text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def check_shape(shape: Shape, reply: str) -> str | None:
    """None when the reply has the shape; otherwise what it has instead."""
    k, n = shape.kind, shape.n
    if k == "items":
        got = count_items(reply)
        return None if got == n else f"{got} list items, asked {n}"
    if k == "lines":
        got = len(_lines(reply))
        return None if got == n else f"{got} lines, asked {n}"
    if k == "sentences":
        got = count_sentences(reply)
        return None if got == n else f"{got} sentences, asked {n}"
    if k in ("max_words", "min_words"):
        got = _words(reply)
        ok = got <= n if k == "max_words" else got >= n
        return None if ok else f"{got} words, asked {'at most' if k == 'max_words' else 'at least'} {n}"
    if k == "max_chars":
        got = len(re.sub(r"\s", "", reply))
        return None if got <= n else f"{got} characters, asked at most {n}"
    if k in ("starts_with", "ends_with", "contains"):
        return None if has_phrase(k, reply, shape.text) else f"does not {k.replace('_', ' ').replace('contains', 'contain')} {shape.text!r}"
    if k == "lowercase":
        return None if reply == reply.lower() else "has capital letters"
    obj = _json_object(reply)
    if obj is None:
        return "not a JSON object"
    missing = [key for key in shape.keys if key not in obj]
    return f"JSON lacks keys {missing}" if missing else None


_DEMANDS = {
    "en": {"items": "is a list of exactly {n} items", "lines": "has exactly {n} lines",
           "sentences": "has exactly {n} sentences", "max_words": "has at most {n} words",
           "min_words": "has at least {n} words", "max_chars": "has at most {n} characters",
           "starts_with": 'starts with "{text}"', "ends_with": 'ends with "{text}"', "contains": 'contains "{text}"',
           "lowercase": "is all lowercase", "json": "is only a JSON object with the keys {keys}"},
    "ja": {"items": "ちょうど{n}項目の箇条書きにする", "lines": "ちょうど{n}行にする", "sentences": "ちょうど{n}文にする",
           "max_chars": "{n}文字以内にする", "starts_with": "「{text}」で始める", "ends_with": "「{text}」で終える",
           "contains": "「{text}」という言葉を入れる", "json": "キー{keys}を持つJSONだけにする"},
}


def demand(shape: Shape, language: str) -> str:
    """The shape as an instruction in the prompt's language (English where no phrasing is written)."""
    phrasing = _DEMANDS.get(language, {}).get(shape.kind) or _DEMANDS["en"][shape.kind]
    return phrasing.format(n=shape.n, text=shape.text, keys=", ".join(shape.keys))
