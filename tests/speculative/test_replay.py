"""Replaying a recorded greedy reply: what a lookup drafter and the draft policy would gain under a
given verify cost curve, and the bound no policy passes (made-up token ids: the arithmetic only)."""
from __future__ import annotations

import pytest

from edge_runtime.speculative.drafters import PromptLookupDrafter
from edge_runtime.speculative.replay import Replay, accepted_run, batch_cost, replay

CODE = list(range(100, 160))  # a 60-token "function" in the prompt
PROMPT = [1, 2, 3] + CODE + [4, 5]
COPYING = [6, 7] + CODE + [8]  # the reply: two new tokens, the function copied, one new token
NEW = list(range(200, 260))  # a reply that copies nothing
FREE = {size: 1.0 for size in range(1, 65)}  # a batch costs one step, whatever its size
CPU = {size: 1.0 + 0.45 * (size - 1) for size in range(1, 65)}


def test_accepted_run_is_the_common_prefix():
    assert accepted_run([5, 6, 7], [5, 6, 9]) == 2 and accepted_run([], [1]) == 0 and accepted_run([1], []) == 0


def test_batch_cost_interpolates_and_refuses_past_the_curve():
    assert batch_cost({1: 1.0, 3: 2.0}, 2) == pytest.approx(1.5)
    with pytest.raises(ValueError, match="stops at b3"):
        batch_cost({1: 1.0, 3: 2.0}, 4)


def test_oracle_bounds_the_policy_and_copying_pays_where_batches_are_free():
    for curve in (FREE, CPU):
        oracle = replay(PROMPT, COPYING, PromptLookupDrafter(4, 3), curve, max_draft=16, oracle=True)
        policy = replay(PROMPT, COPYING, PromptLookupDrafter(4, 3), curve, max_draft=16)
        assert oracle.tokens == policy.tokens == len(COPYING) - 1
        assert oracle.speedup >= policy.speedup
    assert oracle.speedup < replay(PROMPT, COPYING, PromptLookupDrafter(4, 3), FREE, max_draft=16,
                                   oracle=True).speedup  # the same drafts cost more on the CPU curve
    free = replay(PROMPT, COPYING, PromptLookupDrafter(4, 3), FREE, max_draft=16)
    assert free.tokens_per_step > 3 and free.speedup == pytest.approx(free.tokens_per_step)


def test_nothing_to_copy_gains_nothing_and_the_policy_loses_little():
    oracle = replay(PROMPT, NEW, PromptLookupDrafter(4, 3), CPU, max_draft=16, oracle=True)
    policy = replay(PROMPT, NEW, PromptLookupDrafter(4, 3), CPU, max_draft=16)
    assert oracle.speedup == pytest.approx(1.0) and oracle.steps == len(NEW) - 1
    assert 0.95 <= policy.speedup <= 1.0


def test_replays_add_up():
    assert Replay(3, 2, 2.5) + Replay(1, 1, 1.0) == Replay(4, 3, 3.5)
