"""Merging several experts when the router is unsure.

Token level (experts share a vocabulary): `MixtureLM` steps them together and presents the
router-weighted mixture of their next-token distributions as one CausalLM, so the ordinary decoder,
sampling and speculative drafting all apply to the mixture unchanged.
Response level (vocabularies differ): each expert answers and `score_response` (mean token
log-probability under one scoring model) picks the best.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .backends.base import CausalLM
from .speculative.drafters import check_compatible


class MixtureLM:
    """A CausalLM whose logits are log(sum_i w_i softmax(logits_i)) over experts of one vocabulary."""

    def __init__(self, models: Sequence[CausalLM], weights: Sequence[float]) -> None:
        if len(models) != len(weights) or not models:
            raise ValueError("one weight per model")
        for other in models[1:]:
            check_compatible(models[0], other)
        total = float(sum(weights))
        self.models = list(models)
        self.weights = np.asarray(weights, dtype=np.float64) / total
        first = models[0]
        self.name = "+".join(m.name for m in models)
        self.vocab, self.chat_template = first.vocab, first.chat_template
        self.n_ctx = min(m.n_ctx for m in models)
        limits = [m.exact_batch for m in models if m.exact_batch is not None]
        self.exact_batch = min(limits) if limits else None
        self._n_vocab = min(m.vocab.size for m in models)

    @property
    def n_past(self) -> int:
        return self.models[0].n_past

    @property
    def footprint(self) -> int:
        return sum(m.footprint for m in self.models)

    def tokenize(self, text: str, *, special: bool = False, add_bos: bool | None = None) -> list[int]:
        return self.models[0].tokenize(text, special=special, add_bos=add_bos)

    def detokenize(self, ids: list[int]) -> bytes:
        return self.models[0].detokenize(ids)

    def token_bytes(self, token: int) -> bytes:
        return self.models[0].token_bytes(token)

    def forward(self, ids: list[int], *, logits_for: int = 1) -> np.ndarray:
        mix = np.zeros((logits_for, self._n_vocab), dtype=np.float64)
        for model, weight in zip(self.models, self.weights):
            logits = model.forward(ids, logits_for=logits_for)
            if weight == 0.0:
                continue
            z = logits[:, :self._n_vocab].astype(np.float64)
            z -= z.max(axis=1, keepdims=True)
            p = np.exp(z)
            p /= p.sum(axis=1, keepdims=True)
            mix += weight * p
        with np.errstate(divide="ignore"):
            return np.log(mix).astype(np.float32)

    def truncate(self, n: int) -> None:
        for model in self.models:
            model.truncate(n)

    def close(self) -> None:
        """The experts belong to the pool, which closes them."""


def _log_prob(logits: np.ndarray, token: int) -> float:
    z = logits - logits.max()
    return float(z[token] - np.log(np.exp(z).sum()))


def score_response(scorer: CausalLM, prompt_ids: list[int], response: str, chunk: int = 32) -> float:
    """Mean log-probability per token of `response` after `prompt_ids` under `scorer`."""
    ids = scorer.tokenize(response, add_bos=False)
    if not ids:
        return float("-inf")
    scorer.truncate(0)
    prev = scorer.forward(prompt_ids, logits_for=1)[0].astype(np.float64)  # predicts ids[0]
    total = 0.0
    for start in range(0, len(ids), chunk):
        part = ids[start:start + chunk]
        out = scorer.forward(part, logits_for=len(part)).astype(np.float64)
        for row, token in zip([prev, *out[:-1]], part):
            total += _log_prob(row, token)
        prev = out[-1]
    return total / len(ids)
