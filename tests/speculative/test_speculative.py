"""Speculative decoding on real models: greedy output equals plain output for every drafter,
sampled output keeps the target's distribution, rollback keeps caches consistent, and an
incompatible draft is refused."""
from __future__ import annotations

import numpy as np
import pytest

from edge_runtime.chat import encode_prompt
from edge_runtime.errors import IncompatibleDraftError
from edge_runtime.sampling import Sampler, SamplingParams
from edge_runtime.speculative.decoder import Decoder
from edge_runtime.speculative.drafters import (CombinedDrafter, Draft, ModelDrafter, PromptLookupDrafter,
                                                check_compatible)
from edge_runtime.speculative.verify import verify_stochastic


CODE_EDIT = """Rename the variable `total` to `running_sum` in this function and change nothing else:

def accumulate(values):
    total = 0
    for value in values:
        total = total + value
    return total
"""
FREE_WRITING = "Write a short, vivid paragraph about autumn in a mountain town."


class UnrelatedDrafter:
    """Proposes tokens from an unrelated text: almost always wrong, to exercise rejection paths."""

    name = "unrelated"

    def __init__(self, tokens: list[int]) -> None:
        self.tokens, self.i = tokens, 0

    def reset(self) -> None:
        self.i = 0

    def propose(self, context, max_len):
        out = [self.tokens[(self.i + j) % len(self.tokens)] for j in range(max_len)]
        self.i += 1
        return Draft(out)


def generate(model, prompt, drafter, max_tokens=48, min_draft=0):
    decoder = Decoder(model, drafter, min_draft=min_draft)
    out = [t for step in decoder.generate(prompt, max_tokens=max_tokens) for t in step]
    return out, decoder


@pytest.mark.parametrize("text", [CODE_EDIT, FREE_WRITING])
def test_lookup_greedy_equals_plain(smol, text):
    prompt = encode_prompt(smol, text)
    plain, _ = generate(smol, prompt, None, 64)
    spec, dec = generate(smol, prompt, PromptLookupDrafter(), 64)
    assert spec == plain
    assert dec.stats.steps <= len(plain)


def test_mostly_wrong_drafter_still_gives_plain_output(smol):
    prompt = encode_prompt(smol, FREE_WRITING)
    plain, _ = generate(smol, prompt, None)
    wrong = UnrelatedDrafter(smol.tokenize("zebra quantum lasagna 1987 ;;; <div> marmalade"))
    spec, dec = generate(smol, prompt, wrong, min_draft=2)
    assert spec == plain
    assert dec.stats.drafted > 0 and dec.stats.acceptance_rate < 0.3


def test_rollback_leaves_the_target_cache_consistent(smol):
    prompt = encode_prompt(smol, CODE_EDIT)
    out, dec = generate(smol, prompt, UnrelatedDrafter(smol.tokenize("alpha beta gamma")), 24, min_draft=2)
    sequence = prompt + out
    # the cache holds everything but the last token (all of it when the model ended the answer: the
    # end-of-generation token is not part of the text); the next logits must match a fresh evaluation
    held = len(sequence) - (0 if dec.stats.finish_reason == "stop" else 1)
    assert smol.n_past == held
    probe = smol.tokenize(" Done", add_bos=False)
    cached_next = smol.forward(sequence[held:] + probe).copy()
    smol.truncate(0)
    fresh_next = smol.forward(sequence + probe)
    # batched and incremental evaluation round differently in quantized matmuls, so compare the
    # prediction and the shape of the logits rather than bits; a stale cache fails both
    assert int(np.argmax(cached_next)) == int(np.argmax(fresh_next))
    assert np.corrcoef(cached_next[0], fresh_next[0])[0, 1] > 0.995


@pytest.mark.slow
@pytest.mark.parametrize("text", [CODE_EDIT, FREE_WRITING])
def test_model_draft_greedy_equals_plain(qwen15, qwen05, text):
    prompt = encode_prompt(qwen15, text)
    plain, _ = generate(qwen15, prompt, None, 40)
    drafter = ModelDrafter(qwen05, Sampler(SamplingParams()), p_min=0.3)
    spec, dec = generate(qwen15, prompt, drafter, 40, min_draft=1)  # verify drafts even where they do not pay
    assert spec == plain
    assert dec.stats.accepted > 0
    combined, _ = generate(qwen15, prompt, CombinedDrafter(PromptLookupDrafter(), drafter), 40, min_draft=1)
    assert combined == plain


@pytest.mark.slow
def test_incompatible_draft_is_refused(qwen15, smol):
    with pytest.raises(IncompatibleDraftError, match="vocab"):
        check_compatible(qwen15, smol)
    check_compatible(qwen15, qwen15)


def _real_distributions(smol, temperature):
    """Two different real next-token distributions from SmolLM2, warped the same way."""
    sampler = Sampler(SamplingParams(temperature=temperature, top_k=20, seed=0))
    smol.truncate(0)
    p_logits = smol.forward(smol.tokenize("My favourite colour is")).copy()[0]
    smol.truncate(0)
    q_logits = smol.forward(smol.tokenize("The weather today is")).copy()[0]
    return sampler, p_logits, q_logits


@pytest.mark.parametrize("draft_kind", ["model", "point-mass"])
def test_stochastic_acceptance_keeps_the_target_distribution(smol, draft_kind):
    """vLLM-style check of the rejection sampler: the first emitted token ~ p, whatever q is.

    Tolerance: total variation distance below 0.03 with 20,000 draws over <= 20 tokens
    (the expected TVD from sampling noise alone is about 0.01).
    """
    sampler, p_logits, q_logits = _real_distributions(smol, temperature=1.0)
    p = sampler.distribution(p_logits)
    q = sampler.distribution(q_logits)
    support = np.flatnonzero(p)
    logits = np.stack([p_logits, p_logits])  # the second row is only read when the draft is accepted
    counts = np.zeros_like(p)
    draws = 20_000
    for _ in range(draws):
        if draft_kind == "model":
            draft = Draft([sampler.pick(q)], q[None, :])
        else:
            draft = Draft([int(support[0])])  # a lookup-style deterministic proposal
        accepted, nxt = verify_stochastic(draft, logits, sampler, [])
        counts[draft.tokens[0] if accepted else nxt] += 1
    tvd = 0.5 * np.abs(counts / draws - p).sum()
    assert tvd < 0.03, f"TVD {tvd:.4f}"
    assert 0.5 * np.abs(q - p).sum() > 0.2, "the draft distribution really differs from the target's"


def test_greedy_model_draft_stops_where_the_draft_itself_is_unsure(smol):
    """p_min is judged by the draft's own softmax probability, also when drafting greedily (the greedy
    one-hot distribution once made every token look certain, so drafts always ran to full length)."""
    from edge_runtime.speculative.drafters import probability

    ids = smol.tokenize("Once upon a time, in a small village by the sea, there lived")
    sure = ModelDrafter(smol, Sampler(SamplingParams()), p_min=0.0).propose(ids, 6)
    unsure = ModelDrafter(smol, Sampler(SamplingParams()), p_min=1.01).propose(ids, 6)
    assert len(sure.tokens) == 6 and sure.probs is None
    assert unsure.tokens == sure.tokens[:1]  # the first token is always proposed, the rest fall below 1.01
    logits = np.array([0.0, np.log(3.0)], dtype=np.float32)
    assert probability(logits, 1) == pytest.approx(0.75)


def test_decoder_keeps_the_measured_costs_across_generations(smol):
    decoder = Decoder(smol, PromptLookupDrafter())
    ids = encode_prompt(smol, CODE_EDIT)
    for _ in decoder.generate(ids, max_tokens=24, verify="fast"):
        pass
    first = dict(decoder.cost._seconds)
    for _ in decoder.generate(ids, max_tokens=24, verify="fast"):
        pass
    assert 1 in first and set(first) <= set(decoder.cost._seconds)
