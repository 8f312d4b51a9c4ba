"""Japanese numerals (三百二十, 二千五百, 五万) as digits, and counting the quantities a text mentions.

Word problems and their answers write numbers in kanji as often as in digits, and full-width digits
(１２０) as often as ASCII; NFKC handles the width, this module the kanji.
"""
from __future__ import annotations

import re
import unicodedata

_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_SMALL = {"十": 10, "百": 100, "千": 1000}
_LARGE = {"万": 10_000, "億": 100_000_000}
_RUN = re.compile(r"(?<![\d.])[〇零一二三四五六七八九十百千万億]*[〇零一二三四五六七八九十][〇零一二三四五六七八九十百千万億]*")
# a run with a digit or 十 that no ASCII digit precedes: "3万5千" is left to the caller's unit expansion
_QUANTITY = re.compile(r"\d+(?:[.,]\d+)*")


def kanji_value(run: str) -> int | None:
    """三百二十 -> 320, 二千五百 -> 2500, 十七 -> 17, 一万二千 -> 12000, 二〇二六 -> 2026; None if malformed."""
    if all(c in _DIGITS for c in run):
        return int("".join(str(_DIGITS[c]) for c in run))
    total = section = digit = 0
    pending = False
    for c in run:
        if c in _DIGITS:
            if pending:
                return None  # two digits in a row inside a positional numeral
            digit, pending = _DIGITS[c], True
        elif c in _SMALL:
            section += (digit if pending else 1) * _SMALL[c]
            digit, pending = 0, False
        else:
            total += (section + (digit if pending else 0) or 1) * _LARGE[c]
            section = digit = 0
            pending = False
    return total + section + (digit if pending else 0)


def with_digits(text: str) -> str:
    """The text with full-width digits made ASCII (NFKC) and kanji numerals written in digits."""
    def digits(match: re.Match[str]) -> str:
        value = kanji_value(match.group())
        return match.group() if value is None else str(value)
    return _RUN.sub(digits, unicodedata.normalize("NFKC", text))


def quantities(text: str) -> int:
    """How many numbers the text mentions, in any script."""
    return len(_QUANTITY.findall(with_digits(text)))
