"""The CausalLM protocol: the one seam that lets GGUF and ONNX experts, drafts and targets mix.

A backend holds one sequence's KV cache. `forward` appends tokens and returns logits for the last
positions only; `truncate` rolls the cache back (rejected draft tokens, prefix reuse).
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
import psutil

from edge_runtime.errors import PromptError

# KV cache element types: the ggml type id llama.cpp takes, and bytes per element the planner counts
# (block types: block bytes / 32 elements).
KV_TYPES: dict[str, tuple[int, float]] = {
    "f32": (0, 4.0), "f16": (1, 2.0), "bf16": (30, 2.0), "q8_0": (8, 34 / 32), "q5_1": (7, 24 / 32),
    "q5_0": (6, 22 / 32), "q4_1": (3, 20 / 32), "q4_0": (2, 18 / 32)}


def value_type(kv_type: str) -> str:
    """The V cache type stored with K of `kv_type`. With K and V both f16 (or f32), llama.cpp's CPU
    flash attention splits a one-token step's KV range across threads and sums the parts in another
    order than any batch does, so no verify batch is bit-exact past 256 cached tokens. With V in q8_0
    every batch size takes the same path, and V takes 47% less memory."""
    return "q8_0" if kv_type in ("f16", "f32") else kv_type


def default_threads() -> int:
    """One thread per physical core: llama.cpp's matrix kernels gain nothing from hyper-threads."""
    return psutil.cpu_count(logical=False) or os.cpu_count() or 1


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


def check_forward(model: "CausalLM", n: int, logits_for: int, max_logits: int) -> None:
    """The arguments every backend's `forward` refuses: nothing to do, logits it cannot give, overflow."""
    if n == 0:
        raise ValueError("forward needs at least one token")
    if not 1 <= logits_for <= min(n, max_logits):
        raise ValueError(f"logits_for={logits_for} must be in 1..{min(n, max_logits)}")
    if model.n_past + n > model.n_ctx:
        raise PromptError(f"{model.name}: {model.n_past + n} tokens exceed the context of {model.n_ctx}",
                          "shorten the prompt, lower max_tokens, or raise `context` in the config")


class TokenizerMethods:
    """The text side of the protocol for backends that keep their tokenizer in `self.tokenizer`."""

    tokenizer: Any

    def tokenize(self, text: str, *, special: bool = False, add_bos: bool | None = None) -> list[int]:
        return self.tokenizer.tokenize(text, special=special, add_bos=add_bos)

    def token_bytes(self, token: int) -> bytes:
        return self.tokenizer.token_bytes(token)

    def detokenize(self, ids: list[int]) -> bytes:
        return self.tokenizer.detokenize(ids)


@runtime_checkable
class CausalLM(Protocol):
    """A decoder-only language model with a KV cache for one sequence."""

    name: str
    vocab: Vocab
    n_ctx: int
    chat_template: str | None
    # the largest forward batch whose logits equal one-token steps bit for bit (None: no limit known);
    # a verify batch never exceeds it, so greedy speculative output equals plain output
    exact_batch: int | None

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
