"""Generation with real weights (SmolLM2-135M): the backend, sampling, chat template, stopping."""
from __future__ import annotations

import numpy as np
import pytest

from edge_runtime.errors import PromptError
from edge_runtime.chat import encode_prompt
from edge_runtime.sampling import SamplingParams
from edge_runtime.speculative.decoder import Decoder


def chat_ids(model, text: str) -> list[int]:
    return encode_prompt(model, text)


def run(model, prompt: list[int], max_tokens: int, params: SamplingParams | None = None) -> tuple[list[int], Decoder]:
    decoder = Decoder(model)
    out = [t for step in decoder.generate(prompt, max_tokens=max_tokens, params=params) for t in step]
    return out, decoder


def test_multi_token_forward_matches_one_at_a_time(smol):
    ids = smol.tokenize("The quick brown fox jumps over the lazy dog")
    smol.truncate(0)
    batch = smol.forward(ids, logits_for=3).copy()
    smol.truncate(0)
    single = [smol.forward([t], logits_for=1)[0].copy() for t in ids]
    for k in range(3):
        np.testing.assert_allclose(batch[k], single[len(ids) - 3 + k], atol=2e-2, rtol=0)
        assert int(np.argmax(batch[k])) == int(np.argmax(single[len(ids) - 3 + k]))


def test_truncate_rolls_back_the_cache(smol):
    ids = smol.tokenize("Once upon a time, in a small village")
    smol.truncate(0)
    smol.forward(ids[:-2])
    expected = smol.forward(ids[-2:], logits_for=2).copy()
    smol.forward(smol.tokenize(" something else entirely"))
    smol.truncate(len(ids) - 2)
    assert smol.n_past == len(ids) - 2
    np.testing.assert_allclose(smol.forward(ids[-2:], logits_for=2), expected, atol=1e-3)


def test_chat_template_is_applied(smol):
    ids = chat_ids(smol, "Hello there")
    text = smol.detokenize(ids).decode()  # control tokens render as empty text
    assert "Hello there" in text
    im_start = smol.tokenize("<|im_start|>", special=True)
    assert len(im_start) == 1 and im_start[0] in ids, "the ChatML template's control token is in the prompt"


def test_greedy_is_deterministic_and_coherent(smol):
    prompt = chat_ids(smol, "What is 2 + 2?")
    first, _ = run(smol, prompt, 24)
    second, _ = run(smol, prompt, 24)
    assert first == second
    assert "4" in smol.detokenize(first).decode("utf-8", "replace")


def test_seeded_sampling_reproduces_and_seeds_differ(smol):
    prompt = chat_ids(smol, "Write one sentence about the sea.")
    params = SamplingParams(temperature=0.9, top_p=0.95, top_k=40, seed=7)
    a, _ = run(smol, prompt, 24, params)
    b, _ = run(smol, prompt, 24, params)
    assert a == b
    others = {tuple(run(smol, prompt, 24, SamplingParams(temperature=0.9, top_p=0.95, seed=s))[0]) for s in (1, 2, 3)}
    assert len(others | {tuple(a)}) > 1


def test_stops_at_end_of_generation(smol):
    out, decoder = run(smol, chat_ids(smol, "Name three colors."), 200)
    assert decoder.stats.finish_reason == "stop"
    assert 0 < len(out) < 200
    assert not set(out) & smol.vocab.eog


def test_stops_at_max_tokens(smol):
    out, decoder = run(smol, chat_ids(smol, "Tell me a long story about a dragon."), 5)
    assert len(out) == 5 and decoder.stats.finish_reason == "length"


def test_prompt_over_context_is_refused(smol):
    long_prompt = smol.tokenize("word " * 1100)
    with pytest.raises(PromptError, match="exceed the context"):
        run(smol, long_prompt, 8)


@pytest.mark.parametrize("max_tokens", [0, -3])
def test_bad_max_tokens(smol, max_tokens):
    with pytest.raises(PromptError, match="max_tokens"):
        run(smol, smol.tokenize("hi"), max_tokens)


def test_sampling_params_are_validated():
    for bad in (dict(temperature=-1), dict(top_p=0), dict(top_p=1.5), dict(min_p=1.0), dict(top_k=-1)):
        with pytest.raises(PromptError):
            SamplingParams(**bad)
