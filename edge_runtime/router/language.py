"""The prompt's language from its script: enough to keep a prompt away from an expert that cannot read it."""
from __future__ import annotations


def detect_language(text: str) -> str:
    """'ja' (kana), 'ko' (Hangul), 'zh' (Han without kana), else 'en' (Latin script and empty text)."""
    han = False
    for ch in text:
        code = ord(ch)
        if 0x3040 <= code <= 0x30FF or 0xFF66 <= code <= 0xFF9F:
            return "ja"
        if 0xAC00 <= code <= 0xD7AF or 0x1100 <= code <= 0x11FF:
            return "ko"
        han = han or 0x4E00 <= code <= 0x9FFF
    return "zh" if han else "en"
