"""Logits to a next token: greedy, or a warped distribution (penalties, temperature, top-k, top-p,
min-p) sampled with a seeded generator.

`Sampler.distribution` returns the full warped probability vector, because speculative sampling
must apply the same warping to the target's and the draft's logits to keep the target's
distribution exactly.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import numpy as np

from edge_runtime.errors import PromptError

if TYPE_CHECKING:
    from edge_runtime.language.mask import LogitMask


@dataclass(frozen=True)
class SamplingParams:
    temperature: float = 0.0  # 0: greedy
    top_k: int = 0  # 0: off
    top_p: float = 1.0
    min_p: float = 0.0
    repeat_penalty: float | None = None  # 1: off; >1 discourages tokens seen in the last `repeat_last_n`;
    # None: the runtime's configured default (off where a Sampler is used directly)
    repeat_last_n: int = 64
    dry_multiplier: float = 0.0  # 0: off; DRY (llama.cpp's "don't repeat yourself"): a token that would extend
    # a repeat of an earlier sequence of n >= dry_allowed_length tokens loses dry_multiplier * dry_base^(n - allowed)
    dry_base: float = 1.75
    dry_allowed_length: int = 2
    dry_last_n: int = 512
    seed: int | None = None

    def __post_init__(self) -> None:
        checks = [(self.temperature >= 0, "temperature must be >= 0"),
                  (self.top_k >= 0, "top_k must be >= 0"),
                  (0 < self.top_p <= 1, "top_p must be in (0, 1]"),
                  (0 <= self.min_p < 1, "min_p must be in [0, 1)"),
                  (self.repeat_penalty is None or self.repeat_penalty > 0, "repeat_penalty must be > 0"),
                  (self.repeat_last_n >= 0, "repeat_last_n must be >= 0"),
                  (self.dry_multiplier >= 0 and self.dry_base >= 1, "dry_multiplier must be >= 0, dry_base >= 1"),
                  (self.dry_allowed_length >= 1 and self.dry_last_n >= 0, "dry_allowed_length must be >= 1")]
        for ok, message in checks:
            if not ok:
                raise PromptError(message)

    @property
    def greedy(self) -> bool:
        return self.temperature == 0

    @property
    def penalty(self) -> float:
        return 1.0 if self.repeat_penalty is None else self.repeat_penalty


class Sampler:
    """Stateful only in its random generator, so a seed reproduces a whole generation.

    `masks` ban tokens per position (a language's characters, say) after the penalty; every warp reads
    only the ids before the position, so verifying a draft warps each position exactly as plain decoding.
    """

    def __init__(self, params: SamplingParams, masks: Sequence["LogitMask"] = ()) -> None:
        self.params = params
        self.masks = tuple(masks)
        self.rng = np.random.default_rng(params.seed)

    @property
    def warps(self) -> bool:
        """Whether logits are changed before the pick (otherwise a plain argmax is the greedy token)."""
        return self.params.penalty != 1.0 or self.params.dry_multiplier > 0 or bool(self.masks)

    def _penalized(self, logits: np.ndarray, history: Sequence[int]) -> np.ndarray:
        p = self.params
        out = logits
        if p.penalty != 1.0 and history and p.repeat_last_n > 0:
            recent = np.unique(np.asarray(history[-p.repeat_last_n:], dtype=np.int64))
            out = logits.copy()
            vals = out[recent]
            out[recent] = np.where(vals > 0, vals / p.penalty, vals * p.penalty)
        if p.dry_multiplier > 0 and len(history) > p.dry_allowed_length:
            out = out.copy() if out is logits else out
            for token, length in dry_repeats(history[-p.dry_last_n:], p.dry_allowed_length).items():
                if token < out.size:
                    out[token] -= p.dry_multiplier * p.dry_base ** (length - p.dry_allowed_length)
        for mask in self.masks:
            banned = mask.banned(history)
            if banned.size:
                out = out.copy() if out is logits else out
                out[banned[banned < out.size]] = -np.inf
        return out

    def argmax(self, logits: np.ndarray, history: Sequence[int] = ()) -> int:
        return int(np.argmax(self._penalized(logits, history)))

    def distribution(self, logits: np.ndarray, history: Sequence[int] = ()) -> np.ndarray:
        """The warped next-token distribution over the whole vocabulary (float64, sums to 1)."""
        p = self.params
        z = self._penalized(logits, history).astype(np.float64)
        if p.greedy:
            probs = np.zeros_like(z)
            probs[int(np.argmax(z))] = 1.0
            return probs
        z /= p.temperature
        if 0 < p.top_k < z.size:
            kth = np.partition(z, -p.top_k)[-p.top_k]
            z[z < kth] = -np.inf
        z -= z.max()
        probs = np.exp(z)
        probs /= probs.sum()
        if p.top_p < 1.0:
            probs = _top_p(probs, p.top_p)
        if p.min_p > 0:
            probs[probs < p.min_p * probs.max()] = 0.0
            probs /= probs.sum()
        return probs

    def pick(self, probs: np.ndarray) -> int:
        """Draw one id from a probability vector (inverse CDF on one uniform draw)."""
        cdf = np.cumsum(probs)
        return int(min(np.searchsorted(cdf, self.rng.random() * cdf[-1], side="right"), probs.size - 1))

    def sample(self, logits: np.ndarray, history: Sequence[int] = ()) -> int:
        if self.params.greedy:
            return self.argmax(logits, history)
        return self.pick(self.distribution(logits, history))


def dry_repeats(history: Sequence[int], allowed: int, longest: int = 64) -> dict[int, int]:
    """For each token that would continue a repeat: the length of the longest earlier sequence that the end of
    `history` repeats and that this token followed (only lengths >= `allowed`)."""
    h = np.asarray(history, dtype=np.int64)
    n = h.size
    ends = np.flatnonzero(h[:-1] == h[-1])  # earlier places the last token occurred, each followed by h[end + 1]
    length = np.ones(ends.size, dtype=np.int64)
    alive = np.ones(ends.size, dtype=bool)
    for k in range(1, min(longest, n - 1)):
        before = ends - k
        alive &= (before >= 0) & (h[np.maximum(before, 0)] == h[n - 1 - k])
        if not alive.any():
            break
        length += alive
    found: dict[int, int] = {}
    for end, m in zip(ends, length):
        if m >= allowed:
            token = int(h[end + 1])
            found[token] = max(found.get(token, 0), int(m))
    return found


def _top_p(probs: np.ndarray, top_p: float) -> np.ndarray:
    """Keep the smallest set of most likely tokens whose mass reaches top_p.

    Sorting 152k floats per token is slow, so the candidates are widened (64, 1024, ... all) until
    they hold the mass; the result is exact.
    """
    n = probs.size
    k = 64
    while True:
        k = min(k, n)
        idx = np.argpartition(probs, n - k)[n - k:] if k < n else np.arange(n)
        idx = idx[np.argsort(probs[idx])[::-1]]
        cum = np.cumsum(probs[idx])
        if cum[-1] >= top_p or k == n:
            keep = idx[:int(np.searchsorted(cum, top_p)) + 1]
            out = np.zeros_like(probs)
            out[keep] = probs[keep]
            return out / out.sum()
        k *= 16


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """log p over the last axis, in float64, stable for large logits."""
    z = logits.astype(np.float64)
    z -= z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))
