"""Is a reply acceptable Japanese? Measured as the issue asks: kana share, no Chinese-only characters or words.

Small Chinese-trained models slip from Japanese into Chinese mid-reply (季节 for 季節, 首先, 几点). A Han
character that Shift_JIS (JIS X 0208: the everyday kanji but four added in 2010, listed) cannot encode is not
written in Japanese; a few that JIS lists only as rare forms are simplified Chinese in practice (几, 个). Chinese-only
words made of characters Japanese also uses (首先, 可以) are caught by a short word list.
"""
from __future__ import annotations

import re
from functools import lru_cache

_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
_KANA = re.compile("[\u3041-\u309f\u30a1-\u30fa\u30fc-\u30ff\uff66-\uff9f]")
JIS_BUT_CHINESE = frozenset("几个")  # in JIS X 0208 as rare forms; in a reply, simplified Chinese
JOYO_OUTSIDE_JIS = frozenset("𠮟剝頰塡")  # everyday (jōyō) kanji since 2010 that JIS X 0208 lacks
CHINESE_WORDS = ("首先", "可以", "但是", "而且", "然后", "或者", "如果", "比如", "呢")  # their characters are JIS
MIN_KANA_SHARE = 0.25  # kana among kana + Han: everyday Japanese prose is 50-70%; Chinese is 0


@lru_cache(maxsize=65536)
def chinese_only(char: str) -> bool:
    """A Han character Japanese does not write: outside JIS X 0208, or one of its simplified-in-practice forms."""
    if not _HAN.fullmatch(char) or char in JOYO_OUTSIDE_JIS:
        return False
    if char in JIS_BUT_CHINESE:
        return True
    try:
        char.encode("shift_jis")
    except UnicodeEncodeError:
        return True
    return False


def kana_share(text: str) -> float:
    """Kana among the kana and Han characters of `text` (0 when it has neither)."""
    kana, han = len(_KANA.findall(text)), len(_HAN.findall(text))
    return kana / (kana + han) if kana + han else 0.0


def japanese_problems(text: str) -> list[str]:
    """Why `text` is not acceptable Japanese (empty when it is): too little kana, Chinese-only characters or words."""
    problems = []
    share = kana_share(text)
    if share < MIN_KANA_SHARE:
        problems.append(f"kana share {share:.0%} (under {MIN_KANA_SHARE:.0%}: not Japanese)")
    chars = sorted({c for c in text if chinese_only(c)})
    if chars:
        problems.append("Chinese-only characters: " + "".join(chars[:10]))
    words = [w for w in CHINESE_WORDS if w in text]
    if words:
        problems.append("Chinese-only words: " + ", ".join(words))
    return problems
