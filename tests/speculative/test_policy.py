"""The draft policy and the lookup drafter on their own, with no model: how far to draft given measured
costs and acceptance, and what an n-gram index proposes."""
from __future__ import annotations

import pytest

from edge_runtime.speculative.drafters import PromptLookupDrafter
from edge_runtime.speculative.policy import DraftPolicy


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


@pytest.mark.parametrize("alpha", [0.0, 0.3, 0.9, 1.0])
def test_expected_tokens_is_the_geometric_sum(alpha):
    from edge_runtime.speculative.policy import expected_tokens

    for length in (0, 1, 5, 16):
        assert expected_tokens(alpha, length) == pytest.approx(sum(alpha**i for i in range(length + 1)))


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
    for _ in range(64):
        n = always_wrong.verify_length("lookup", 16)
        lengths.append(n)
        always_wrong.observe("lookup", n, 0, _cpu_seconds(n + 1))
    # one-token probes, no ramp, ever further apart while they fail (8, 16, 32 plain steps): on a CPU
    # where a probe costs 0.7 of a step more than it earns, fixed probes every 8 steps cost 3% of the reply
    assert max(lengths) == 1 and [i for i, n in enumerate(lengths) if n] == [7, 23, 55]


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


def test_a_probe_accepted_whole_brings_probes_back_to_every_eighth_step():
    policy, lengths = _cpu_like_policy(), []
    for step in range(40):
        n = policy.verify_length("lookup", 1)  # the drafter offers one token: no ramp beyond it
        lengths.append(n)
        policy.observe("lookup", n, n if step >= 23 else 0, _cpu_seconds(n + 1))  # the text starts copying
    probes = [i for i, n in enumerate(lengths) if n]
    assert probes[:2] == [7, 23] and probes[2] <= 23 + policy.probe_every


def test_a_free_drafter_is_never_rested_but_a_costly_one_is():
    """Proposals costing microseconds (n-gram lookup) keep coming while drafting does not pay, so the
    probes can find a copy; a drafter spending 40% of a step per token is rested instead."""
    def run(proposal_share: float) -> list[int]:
        policy, offered = _cpu_like_policy(), []
        for _ in range(40):
            length = policy.proposal_length(16)
            offered.append(length)
            if length:
                policy.observe_proposal(4, 4 * proposal_share * _cpu_seconds(1))
                n = policy.verify_length("lookup", 4)
                policy.observe("lookup", n, 0, _cpu_seconds(n + 1))
            else:
                policy.observe("lookup", 0, 0, _cpu_seconds(1))
        return offered

    assert min(run(0.001)) > 0  # never paused
    assert run(0.4).count(0) >= 16  # rested at least one pause


def test_beside_other_lanes_a_draft_must_beat_their_sure_tokens():
    from edge_runtime.speculative.policy import VerifyCost

    cpu = VerifyCost.measured({1: 1.0, 2: 1.62, 4: 2.63, 8: 5.0}, step_s=0.08)  # this 2-core CPU's curve
    policy = DraftPolicy(max_draft=4, cost=cpu)
    for _ in range(20):
        policy.observe("lookup", 4, 3, 0.254)  # 3 of 4 accepted (alpha about 0.75), 5 tokens at 3.17 steps
    assert policy.verify_length("lookup", 4) > 0  # alone, such drafts pay
    assert policy.verify_length("lookup", 4, beside=3) == 0  # three lanes' tokens fill the batch already
    for _ in range(40):
        policy.observe("lookup", 4, 4, None)  # a shared batch: its time is not this lane's
    assert policy.verify_length("lookup", 4, beside=3) > 0  # copying: drafts beat even sure tokens
    assert cpu.relative(2) == pytest.approx(1.62)  # shared batches did not teach the cost curve


def test_beside_other_lanes_no_probe_rides_a_shared_batch():
    """Probes learn acceptance at a loss; alone a lane affords them, beside others every probe token
    lengthens a batch the other lanes wait on (4 clients on the 2-core CPU: 15 tok/s with probes, 21
    without, scripts/bench_parallel.py)."""
    from edge_runtime.speculative.policy import VerifyCost

    cpu = VerifyCost.measured({1: 1.0, 2: 1.62, 4: 2.63, 8: 5.0}, step_s=0.08)
    alone, shared = DraftPolicy(max_draft=4, cost=cpu), DraftPolicy(max_draft=4, cost=cpu)
    for policy in (alone, shared):
        for _ in range(20):
            policy.observe("lookup", 4, 0, 0.254)  # drafts never accepted: the model says plain
    assert max(alone.verify_length("lookup", 4) for _ in range(64)) > 0  # a probe, now and then
    assert max(shared.verify_length("lookup", 4, beside=3) for _ in range(64)) == 0
