"""The CausalLM protocol: the one seam that lets GGUF and ONNX experts, drafts and targets mix.

A backend holds one sequence's KV cache. `forward` appends tokens and returns logits for the last
positions only; `truncate` rolls the cache back (rejected draft tokens, prefix reuse).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np


@dataclass
class Vocab:
    """What a draft/target compatibility check compares, plus the ids generation stops on."""

    size: int
    vocab_type: str
    bos: int | None
    eos: int | None
    eog: frozenset[int]  # every end-of-generation id (eos, eot, <|im_end|>, ...)
    add_bos: bool
    texts: list[bytes] = field(repr=False, default_factory=list)  # token id -> raw token text


def batches(n: int, size: int) -> list[tuple[int, int]]:
    """[start, end) slices of at most `size` tokens; the last one is full, so it holds every position
    whose logits may be asked for (up to `size`)."""
    last = max(0, n - size)
    starts = [*range(0, last, size), last]
    return list(zip(starts, [*starts[1:], n]))


@runtime_checkable
class CausalLM(Protocol):
    """A decoder-only language model with a KV cache for one sequence."""

    name: str
    vocab: Vocab
    n_ctx: int
    chat_template: str | None

    @property
    def n_past(self) -> int:
        """Tokens held in the KV cache."""

    @property
    def footprint(self) -> int:
        """Bytes this model holds (weights, KV cache, compute buffers)."""

    def tokenize(self, text: str, *, special: bool = False, add_bos: bool | None = None) -> list[int]:
        """Text to ids; `special` parses control tokens such as <|im_start|>."""

    def detokenize(self, ids: list[int]) -> bytes:
        """Ids to raw bytes; bytes because a token may end inside a UTF-8 character."""

    def token_bytes(self, token: int) -> bytes:
        """One token's bytes as it appears in generated text."""

    def forward(self, ids: list[int], *, logits_for: int = 1) -> np.ndarray:
        """Append ids to the cache; logits of the last `logits_for` positions, shape [k, n_vocab].

        The array may be a view into the backend's own buffer: valid until the next `forward`.
        """

    def truncate(self, n: int) -> None:
        """Drop the cache back to its first n tokens."""

    def close(self) -> None:
        """Free native memory now rather than at garbage collection."""
