"""The language of a prompt, from the scripts its characters are written in.

The runtime only needs to tell apart languages that experts are trained for differently, and for
English, Japanese, Chinese and Korean the script alone decides it: kana occur only in Japanese,
Hangul only in Korean, Han without kana is Chinese. So a few regex searches (microseconds,
no model, no dependency) are enough. Latin text is reported as "en": telling English from other
Latin-script languages would need a statistical model, and no expert here is chosen by it.
"""
from __future__ import annotations

import re

_KANA = "\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f"  # hiragana, katakana (+ extension, half-width)
_HANGUL = "\u1100-\u11ff\u3130-\u318f\uac00-\ud7af"  # jamo, compatibility jamo, syllables
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"  # CJK ideographs
_CJK = re.compile(f"[{_KANA}{_HANGUL}{_HAN}]")  # one scan settles the common case, Latin text
_BY_SCRIPT = [(re.compile(f"[{_KANA}]"), "ja"), (re.compile(f"[{_HANGUL}]"), "ko"), (re.compile(f"[{_HAN}]"), "zh")]


def detect_language(text: str) -> str:
    """The prompt's language code: "ja", "ko", "zh", or "en" for Latin, other scripts and empty text.

    Kana is checked first, so Japanese with kanji, and code with a Japanese comment, come out "ja".
    """
    if not _CJK.search(text):
        return "en"
    return next(code for pattern, code in _BY_SCRIPT if pattern.search(text))
