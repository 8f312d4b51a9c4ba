"""What a free drafter (lookup) and the draft policy make of a recorded greedy reply under a verify
cost curve, and the most that any policy could make of that drafter there.

Greedy verification accepts a drafted token exactly when it is the reply's next token, so acceptance
belongs to the model, prompt and drafter, and the cost curve to the machine. A reply recorded once can
be replayed against the curve of this machine (to check the prediction against a timed run) and
against curves measured elsewhere (a many-core CPU, a GPU), to say what speculation gains there.
Model drafters are left out: their proposals cost time that depends on the machine too.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from edge_runtime.speculative.drafters import Drafter
from edge_runtime.speculative.policy import DraftPolicy, VerifyCost


@dataclass(frozen=True)
class Replay:
    tokens: int  # reply tokens decoded after the first (which the prompt's forward gives)
    steps: int  # target forwards
    cost: float  # their cost in one-token steps

    @property
    def speedup(self) -> float:
        return self.tokens / self.cost if self.cost else 1.0

    @property
    def tokens_per_step(self) -> float:
        return self.tokens / self.steps if self.steps else 1.0

    def __add__(self, other: Replay) -> Replay:
        return Replay(self.tokens + other.tokens, self.steps + other.steps, self.cost + other.cost)


def batch_cost(curve: dict[int, float], size: int) -> float:
    """A forward of `size` tokens in one-token steps, interpolated between measured sizes."""
    sizes = sorted(curve)
    if size > sizes[-1]:
        raise ValueError(f"the cost curve stops at b{sizes[-1]}, a batch of {size} was asked for")
    return float(np.interp(size, sizes, [curve[s] for s in sizes]))


def accepted_run(draft: Sequence[int], reply: Sequence[int]) -> int:
    """How many drafted tokens greedy verification keeps: the common prefix with the reply."""
    n = 0
    while n < len(draft) and n < len(reply) and draft[n] == reply[n]:
        n += 1
    return n


def replay(prompt: Sequence[int], reply: Sequence[int], drafter: Drafter, curve: dict[int, float], *,
           max_draft: int, oracle: bool = False, warm: bool = True) -> Replay:
    """Decode `reply` again as the Decoder would, with each step's cost taken from `curve`.

    The policy learns acceptance from scratch, as in each generation; it starts knowing the curve
    (`warm`, as a decoder does after tune or its first generation) or not. With `oracle`, each step
    verifies exactly the drafted tokens that will be accepted: no policy using this drafter can do
    better on this machine.
    """
    policy = DraftPolicy(max_draft, cost=VerifyCost.measured(curve, 1.0) if warm else None)
    drafter.reset()
    context, done, total = [*prompt, reply[0]], 1, Replay(0, 0, 0.0)
    while done < len(reply):
        remaining = len(reply) - done
        length = min(max_draft, remaining - 1) if oracle else policy.proposal_length(remaining - 1)
        proposed = drafter.propose(context, length).tokens[:length] if length > 0 else []
        accepted = accepted_run(proposed, reply[done:])
        verified = accepted if oracle else policy.verify_length("lookup", len(proposed))
        accepted = min(accepted, verified)
        cost = batch_cost(curve, verified + 1)
        policy.observe("lookup", verified, accepted, cost)  # seconds in units of a one-token step
        new = list(reply[done:done + accepted + 1])
        context += new
        done += len(new)
        total += Replay(len(new), 1, cost)
    return total
