"""A token mask that keeps Chinese-only characters out of a Japanese reply, applied as a logit mask by the
sampler, so plain decoding and the speculative verify step (which warps each verified position through the
same sampler) see the same distribution and exact mode stays exact.

Built once per vocabulary: a token whose own bytes hold a Chinese-only character is always banned. A
byte-level vocabulary also spells rare characters over two tokens, so where the text so far ends inside a
character, the tokens that would complete it into a Chinese-only one are banned too (worked out once per
such unfinished byte sequence, then cached).
"""
from __future__ import annotations

from typing import Protocol, Sequence

import numpy as np

from edge_runtime.language.japanese import chinese_only
from edge_runtime.models.backends.base import CausalLM


class LogitMask(Protocol):
    """Token ids a position may not take, given the ids before it (prompt included)."""

    def banned(self, history: Sequence[int]) -> np.ndarray: ...


def _has_banned_char(piece: bytes) -> bool:
    return any(chinese_only(c) for c in piece.decode("utf-8", errors="ignore"))


def _unfinished(tail: bytes) -> bytes:
    """The bytes after the last lead byte when they do not yet make a whole UTF-8 character; else b""."""
    for back in range(1, min(4, len(tail)) + 1):
        byte = tail[-back]
        if byte & 0xC0 == 0x80:  # a continuation byte: keep looking for its lead
            continue
        return tail[-back:] if back < _char_length(byte) else b""
    return b""


class JapaneseMask:
    """Bans tokens that would write a Chinese-only character (see edge_runtime.language.japanese)."""

    def __init__(self, pieces: list[bytes]) -> None:
        self.pieces = pieces
        self.always = np.array([i for i, p in enumerate(pieces) if _has_banned_char(p)], dtype=np.int64)
        self._continuing = [i for i, p in enumerate(pieces) if p and p[0] & 0xC0 == 0x80]
        self._after: dict[bytes, np.ndarray] = {}

    def banned(self, history: Sequence[int]) -> np.ndarray:
        tail = b"".join(self.pieces[t] for t in history[-4:] if 0 <= t < len(self.pieces))
        pending = _unfinished(tail)
        if not pending:
            return self.always
        if pending not in self._after:
            completes = [i for i in self._continuing if _completes_banned(pending, self.pieces[i])]
            self._after[pending] = np.union1d(self.always, np.array(completes, dtype=np.int64))
        return self._after[pending]


def _completes_banned(pending: bytes, piece: bytes) -> bool:
    """Whether `piece` finishes the character `pending` began as a Chinese-only one."""
    head = (pending + piece)[:_char_length(pending[0])]
    try:
        return chinese_only(head.decode("utf-8"))
    except UnicodeDecodeError:
        return False


def _char_length(lead: int) -> int:
    """Bytes in the UTF-8 character that `lead` starts (1 for ASCII or a stray byte)."""
    return 2 if lead >> 5 == 0b110 else 3 if lead >> 4 == 0b1110 else 4 if lead >> 3 == 0b11110 else 1


_MASKS: dict[tuple[int, str, int], JapaneseMask] = {}


def vocabulary_key(model: CausalLM) -> tuple[int, str, int]:
    """Tells vocabularies apart, so a mask built for one serves every model that shares it."""
    vocab = model.vocab
    return vocab.size, vocab.vocab_type, hash(tuple(vocab.texts[::97]))


def japanese_mask(model: CausalLM) -> JapaneseMask:
    """The model's vocabulary's mask, built on first use (a second model of the same vocabulary reuses it)."""
    key = vocabulary_key(model)
    if key not in _MASKS:
        _MASKS[key] = JapaneseMask([model.token_bytes(i) for i in range(model.vocab.size)])
    return _MASKS[key]
