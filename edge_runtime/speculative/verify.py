"""Acceptance rules: which drafted tokens the target keeps, and the token it adds itself.

`logits[i]` is the target's output after the context plus draft[:i]; there are len(draft)+1 rows.
Greedy: keep the longest prefix equal to the target's argmax, then the target's own next token,
so the output is exactly the target's greedy output. Stochastic (Leviathan et al. 2023; Chen et
al. 2023): accept x with probability min(1, p(x)/q(x)); on rejection draw from
normalize(max(0, p - q)); if all are accepted draw the extra token from p. The output then has
the target's distribution exactly, whatever the draft.
"""
from __future__ import annotations

import numpy as np

from edge_runtime.sampling import Sampler
from edge_runtime.speculative.drafters import Draft


def verify_greedy(draft: Draft, logits: np.ndarray, sampler: Sampler,
                  history: list[int]) -> tuple[int, int]:
    """(number of draft tokens accepted, the target's next token after them)."""
    tokens = draft.tokens
    penalized = sampler.warps
    for i, token in enumerate(tokens):
        best = sampler.argmax(logits[i], history + tokens[:i]) if penalized else int(np.argmax(logits[i]))
        if best != token:
            return i, best
    n = len(tokens)
    return n, sampler.argmax(logits[n], history + tokens) if penalized else int(np.argmax(logits[n]))


def verify_stochastic(draft: Draft, logits: np.ndarray, sampler: Sampler,
                      history: list[int]) -> tuple[int, int]:
    """Speculative sampling; a draft without probabilities counts as a point mass q(x) = 1."""
    tokens = draft.tokens
    for i, token in enumerate(tokens):
        p = sampler.distribution(logits[i], history + tokens[:i])
        q_x = 1.0 if draft.probs is None else float(draft.probs[i][token])
        if q_x > 0 and sampler.rng.random() < min(1.0, p[token] / q_x):
            continue
        if draft.probs is None:
            residual = p.copy()
            residual[token] = 0.0
        else:
            residual = np.maximum(p - draft.probs[i], 0.0)
        total = residual.sum()
        # total == 0 only when p == q exactly, in which case rejection has probability 0
        return i, sampler.pick(residual / total if total > 0 else p)
    n = len(tokens)
    return n, sampler.pick(sampler.distribution(logits[n], history + tokens))
