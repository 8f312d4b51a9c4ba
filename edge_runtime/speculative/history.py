"""What an expert said and was told before: drafts for text that repeats across requests.

Agent loops resend the same tool-call JSON, edit requests return the code they were given last time, and
chat clients quote earlier replies; the current prompt alone often holds none of it. As in SuffixDecoding,
earlier prompts and replies form one token stream over a bounded window, indexed by every suffix of
length ngram_min..ngram_max (the suffix tree's top levels, as a hash of n-grams to their latest end),
so the longest recent match of the context's tail is found in O(ngram_max) lookups.
"""
from __future__ import annotations

from typing import Sequence

SEPARATOR = -1  # between sequences: no continuation runs from one request into the next


class TokenHistory:
    """Earlier sequences of one expert, the last `window` tokens of them."""

    def __init__(self, window: int = 16384, ngram_min: int = 4, ngram_max: int = 8) -> None:
        self.window, self.ngram_min, self.ngram_max = window, ngram_min, ngram_max
        self._tokens: list[int] = []
        self._index: dict[tuple[int, ...], int] = {}  # n-gram -> position after its latest occurrence

    def __len__(self) -> int:
        return len(self._tokens)

    def add(self, sequence: Sequence[int]) -> None:
        """Learn one finished sequence (prompt and reply); the oldest half goes when the window is full."""
        if not sequence:
            return
        start = len(self._tokens)
        self._tokens.extend(sequence)
        self._tokens.append(SEPARATOR)
        if len(self._tokens) > self.window:
            self._tokens = self._tokens[len(self._tokens) - self.window // 2:]
            self._index.clear()
            start = 0
        self._index_from(start)

    def _index_from(self, start: int) -> None:
        tokens = self._tokens
        for end in range(max(start, self.ngram_min), len(tokens)):
            for n in range(self.ngram_min, min(self.ngram_max, end) + 1):
                gram = tuple(tokens[end - n:end])
                if SEPARATOR in gram:
                    break
                self._index[gram] = end

    def find(self, context: Sequence[int]) -> int | None:
        """Where the longest indexed tail of `context` continues in the history, or None."""
        for n in range(min(self.ngram_max, len(context)), self.ngram_min - 1, -1):
            pos = self._index.get(tuple(context[len(context) - n:]))
            if pos is not None:
                return pos
        return None

    def follows(self, pos: int, tokens: Sequence[int]) -> bool:
        """Whether the history at `pos` reads `tokens` (a draft from there is still being accepted)."""
        return self._tokens[pos:pos + len(tokens)] == list(tokens)

    def continuation(self, pos: int, max_len: int) -> list[int]:
        """Up to `max_len` tokens from `pos`, stopping at the end of that earlier sequence."""
        out = self._tokens[pos:pos + max_len]
        return out[:out.index(SEPARATOR)] if SEPARATOR in out else out
