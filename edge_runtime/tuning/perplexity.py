"""Perplexity and size side by side, so a quantization is judged by what it cost, not assumed.

Perplexity is exp(mean negative log-likelihood) of each token given the ones before it, in windows of
`window` tokens (the cache is cleared between windows). Models compared must share a tokenizer, or
their per-token perplexities measure different things.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from edge_runtime.models.backends import open_model
from edge_runtime.models.backends.base import CausalLM
from edge_runtime.errors import PromptError
from edge_runtime.sampling import log_softmax

STEP = 64  # tokens per forward call; every position's logits are read


def default_text() -> str:
    return resources.files("edge_runtime.tuning").joinpath("eval_data/eval.txt").read_text("utf-8")


def file_size(path: Path) -> int:
    """Bytes on disk: a file, or every file of a model directory."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.is_dir() else path.stat().st_size


def negative_log_likelihoods(model: CausalLM, ids: list[int], window: int = 512) -> np.ndarray:
    """-log p(token | earlier tokens of its window) for every token but each window's first."""
    nll = []
    for start in range(0, len(ids) - 1, window):
        chunk = ids[start:start + window + 1]
        model.truncate(0)
        for pos in range(0, len(chunk) - 1, STEP):
            inputs, targets = chunk[pos:pos + STEP], chunk[pos + 1:pos + STEP + 1]
            logits = model.forward(inputs, logits_for=len(inputs))[:len(targets)].astype(np.float64)
            nll.append(-log_softmax(logits)[np.arange(len(targets)), targets])
        model.truncate(0)
    return np.concatenate(nll)


@dataclass
class Evaluation:
    name: str
    size: int
    tokens: int
    perplexity: float
    seconds: float


def evaluate(path: Path, text: str, *, window: int = 512, **options) -> Evaluation:
    model = open_model(path, n_ctx=window + STEP, **options)
    try:
        ids = model.tokenize(text)
        if len(ids) < 2:
            raise PromptError("the evaluation text is shorter than two tokens", "give a longer --text")
        started = time.perf_counter()
        nll = negative_log_likelihoods(model, ids, window)
        seconds = time.perf_counter() - started
    finally:
        model.close()
    return Evaluation(path.name, file_size(path), len(nll), math.exp(float(nll.mean())), seconds)


def markdown_table(results: list[Evaluation]) -> str:
    """One row per model; the change in perplexity is against the first model."""
    base = results[0].perplexity
    rows = ["| model | size (MB) | tokens | perplexity | vs first | eval tokens/s |", "|---|---:|---:|---:|---:|---:|"]
    for r in results:
        rows.append(f"| {r.name} | {r.size / 1e6:,.1f} | {r.tokens} | {r.perplexity:.3f} | "
                    f"{(r.perplexity / base - 1) * 100:+.1f}% | {r.tokens / r.seconds:,.0f} |")
    return "\n".join(rows)
