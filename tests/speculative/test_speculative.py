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
from edge_runtime.speculative.policy import DraftPolicy
from edge_runtime.speculative.drafters import (CombinedDrafter, Draft, ModelDrafter, PromptLookupDrafter,
                                                check_compatible)
from edge_runtime.speculative.verify import verify_stochastic

from tests.conftest import QWEN_05, model_path

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


def test_policy_verifies_only_what_pays():
    """The cost model on its own: long drafts while the text copies, plain steps while drafts miss."""
    policy = DraftPolicy(max_draft=4)
    costs = {1: 0.10, 2: 0.13, 3: 0.16, 4: 0.21, 5: 0.25}  # seconds per verify batch, as on a 2-core CPU
    for size, seconds in costs.items():
        policy.cost.observe(size, seconds)
    for _ in range(10):
        policy.observe("lookup", 4, 4, costs[5])
    assert policy.verify_length("lookup", 4) == 4
    assert policy.verify_length("lookup", 2) == 2
    for _ in range(10):
        policy.observe("lookup", 2, 0, costs[3])
    assert policy.verify_length("lookup", 4) == 0
    assert [policy.verify_length("lookup", 4) for _ in range(8)].count(1) == 1  # one probe in eight
    assert DraftPolicy(max_draft=4, min_draft=2).verify_length("lookup", 4) >= 2


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


@pytest.mark.parametrize("alpha", [0.0, 0.3, 0.9, 1.0])
def test_expected_tokens_is_the_geometric_sum(alpha):
    from edge_runtime.speculative.policy import expected_tokens

    for length in (0, 1, 5, 16):
        assert expected_tokens(alpha, length) == pytest.approx(sum(alpha**i for i in range(length + 1)))


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


def _cpu_seconds(size: int) -> float:
    """A 2-core CPU's verify cost: k tokens cost nearly k steps up to 8, then flat (measured b9-b16 ~7.5)."""
    return 0.030 * min(size, 7.5 + 0.02 * size)


def _cpu_like_policy() -> DraftPolicy:
    policy = DraftPolicy(max_draft=16)
    for size in range(1, 18):
        policy.cost.observe(size, _cpu_seconds(size))
    return policy


def test_probes_ramp_up_while_accepted_whole_and_stop_at_a_miss():
    always_right, lengths = _cpu_like_policy(), []
    for _ in range(14):
        n = always_right.verify_length("lookup", 16)
        lengths.append(n)
        always_right.observe("lookup", n, n, _cpu_seconds(n + 1))
    first = lengths.index(1)  # the first probe, after probe_every plain steps
    assert first == always_right.probe_every - 1 and lengths[:first] == [0] * first
    assert lengths[first:first + 3] == [1, 2, 4]  # doubling, until the measured acceptance carries it:
    assert min(lengths[first + 3:]) >= 8  # long drafts, where alone on this curve they pay

    always_wrong, lengths = _cpu_like_policy(), []
    for _ in range(24):
        n = always_wrong.verify_length("lookup", 16)
        lengths.append(n)
        always_wrong.observe("lookup", n, 0, _cpu_seconds(n + 1))
    assert max(lengths) == 1 and sum(lengths) == 3  # a one-token probe every 8th step, no ramp


def test_lookup_keeps_following_the_place_it_copies():
    """A copy in progress keeps its source: the index's latest occurrence of the n-gram (1, 2, 3, 4)
    is the second one, but the text so far copies the first, so the draft continues with 20, 21, ..."""
    prompt = [40, 41, 1, 2, 3, 4, 20, 21, 22, 9, 1, 2, 3, 4, 30, 31]
    drafter = PromptLookupDrafter(ngram_max=4, ngram_min=3)
    assert drafter.propose(prompt + [40, 41, 1], 2).tokens == [2, 3]
    assert drafter.propose(prompt + [40, 41, 1, 2, 3, 4], 3).tokens == [20, 21, 22]
    assert drafter.propose(prompt + [40, 41, 1, 2, 3, 4, 20, 99], 3).tokens == []  # the copy ended
    fresh = PromptLookupDrafter(ngram_max=4, ngram_min=3)
    assert fresh.propose(prompt + [40, 41, 1, 2, 3, 4], 2).tokens == [30, 31]  # no copy under way: latest


def test_verify_costs_beyond_the_timed_sizes_grow_at_the_timed_rate():
    """A size never timed costs what the timed ones cost per token, not the optimistic prior: on a CPU
    where 4 tokens cost 3 steps, 17 would otherwise look cheaper than the 16 that were timed."""
    from edge_runtime.speculative.policy import VerifyCost

    cost = VerifyCost.measured({1: 1.0, 2: 1.8, 4: 3.0}, step_s=0.03)
    assert cost.relative(4) == pytest.approx(3.0)
    assert cost.relative(3) == pytest.approx(2.6)  # b2 plus b2's per-token rate
    assert cost.relative(8) == pytest.approx(3.0 + 4 * 2.0 / 3)  # b4 plus b4's per-token rate
    assert VerifyCost().relative(8) == pytest.approx(1 + 7 * 0.33)  # nothing timed: the prior


def test_policy_starting_from_measured_costs_skips_drafts_that_cannot_pay():
    from edge_runtime.speculative.policy import VerifyCost

    assert DraftPolicy(4).verify_length("lookup", 4) >= 1  # the prior: a token for a third of a step pays
    expensive = VerifyCost.measured({size: float(size) for size in range(1, 6)}, step_s=0.03)
    assert DraftPolicy(4, cost=expensive).verify_length("lookup", 4) == 0  # b tokens cost b steps


def test_decoder_keeps_the_measured_costs_across_generations(smol):
    decoder = Decoder(smol, PromptLookupDrafter())
    ids = encode_prompt(smol, CODE_EDIT)
    for _ in decoder.generate(ids, max_tokens=24, verify="fast"):
        pass
    first = dict(decoder.cost._seconds)
    for _ in decoder.generate(ids, max_tokens=24, verify="fast"):
        pass
    assert 1 in first and set(first) <= set(decoder.cost._seconds)
