"""Fusion of real experts: token-level mixing (shared vocabulary) and best-of (different ones)."""
from __future__ import annotations

import pytest

from edge_runtime.chat import encode_prompt
from edge_runtime.config import load_config
from edge_runtime.fusion import MixtureLM, score_response
from edge_runtime.runtime import Generation, Route, Runtime, _Job
from edge_runtime.sampling import SamplingParams
from edge_runtime.speculative.decoder import Decoder
from edge_runtime.speculative.drafters import PromptLookupDrafter

from .conftest import DATA

PROMPT = "Write a Python function that returns the sum of two numbers."


def greedy(model, ids, n=24, drafter=None):
    return [t for step in Decoder(model, drafter).generate(ids, max_tokens=n) for t in step]


@pytest.mark.slow
def test_mixture_with_weights_one_zero_is_the_single_expert(qwen05, qwen15):
    ids = encode_prompt(qwen05, PROMPT)
    alone = greedy(qwen05, ids)
    mixed = greedy(MixtureLM([qwen05, qwen15], [1.0, 0.0]), ids)
    assert mixed == alone
    # speculative drafting applies to the mixture unchanged
    assert greedy(MixtureLM([qwen05, qwen15], [1.0, 0.0]), ids, drafter=PromptLookupDrafter()) == alone


@pytest.mark.slow
def test_even_mixture_is_coherent(qwen05, qwen15):
    mix = MixtureLM([qwen05, qwen15], [0.5, 0.5])
    text = mix.detokenize(greedy(mix, encode_prompt(mix, PROMPT), 48)).decode("utf-8", "replace")
    assert "def " in text and "return" in text


def test_score_prefers_a_sensible_answer(smol):
    ids = encode_prompt(smol, "What is the capital of France?")
    good = score_response(smol, ids, "The capital of France is Paris.")
    bad = score_response(smol, ids, "Purple seventeen under the spoon of Tuesday.")
    assert good > bad


def test_best_of_between_different_vocabularies_reports_both():
    runtime = Runtime(load_config(DATA / "fusion.toml"), threads=2)
    try:
        route = Route("general", "small", {"general": 0.4, "code": 0.35, "writing": 0.15, "math": 0.1},
                      confident=False)
        plan = runtime._ranked_experts(route)[:2]
        assert [name for name, _ in plan] == ["small", "coder"]
        generation = Generation(iter(()))
        job = _Job("Name three colors.", "auto", 24, SamplingParams(), (), False)
        text = "".join(runtime._fused(generation, route, plan, job))
        result = generation.result
        assert result is not None and text == result.text and text.strip()
        assert result.route.reason.startswith("fused: best of") and "small" in result.route.reason \
            and "coder" in result.route.reason
    finally:
        runtime.close()
