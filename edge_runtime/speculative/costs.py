"""What a target forward costs on this machine: a one-token step, and a batch of b tokens in steps.

The verify cost curve decides whether speculation can pay at all: a draft of b - 1 tokens that is
always right yields b tokens for curve[b] steps, so b / curve[b] bounds the speed-up.
"""
from __future__ import annotations

import time
from typing import Sequence

import numpy as np

from edge_runtime.models.backends.base import CausalLM


def step_seconds(model: CausalLM, ids: list[int], steps: int = 16) -> float:
    """Seconds per one-token greedy forward after `ids` (what a plain step costs)."""
    model.truncate(0)
    model.forward(ids)
    start = time.perf_counter()
    token = ids[-1]
    for _ in range(steps):
        token = int(np.argmax(model.forward([token])[0]))
    model.truncate(0)
    return (time.perf_counter() - start) / steps


def verify_cost_seconds(model: CausalLM, ids: list[int], sizes: Sequence[int] = range(1, 9), reps: int = 5
                        ) -> dict[int, float]:
    """Median seconds of a forward of b tokens (all logits read, as a verify step does) at one position.
    Sizes are interleaved within each repetition, so load drift hits all alike."""
    start_at = len(ids) - max(sizes)
    model.truncate(0)
    model.forward(ids[:start_at])
    times: dict[int, list[float]] = {size: [] for size in sizes}
    for _ in range(reps):
        for size in sizes:
            model.truncate(start_at)
            start = time.perf_counter()
            model.forward(ids[start_at:start_at + size], logits_for=size)
            times[size].append(time.perf_counter() - start)
    model.truncate(0)
    return {size: float(np.median(times[size])) for size in sizes}


def verify_cost_curve(model: CausalLM, ids: list[int], sizes: Sequence[int] = range(1, 9), reps: int = 5
                      ) -> dict[int, float]:
    """verify_cost_seconds relative to one token: what the draft policy compares (sizes must hold 1)."""
    seconds = verify_cost_seconds(model, ids, sizes, reps)
    return {size: s / seconds[1] for size, s in seconds.items()}


def speedup_bound(curve: dict[int, float], largest: int) -> float:
    """The most any drafter could gain with batches up to `largest`: max over b of b / cost(b)."""
    return max(size / cost for size, cost in curve.items() if size <= largest)


def batch_wake(model: CausalLM, ids: list[int], size: int = 3, after: int = 3, reps: int = 8) -> list[float]:
    """A forward of `size` tokens and each of the `after` one-token steps that follow it, in one-token steps
    timed in a row (medians over `reps`). A backend that replays a captured graph runs it only while forwards
    keep one shape (llama.cpp's CUDA: on an H200 the two steps after a batch paid for rebuilding it), which
    verify_cost_curve cannot show: timing sizes in turn, its one-token baseline pays for that too."""
    model.truncate(0)
    model.forward(ids)
    token = ids[-1]

    def seconds(tokens: list[int]) -> float:
        started = time.perf_counter()
        model.forward(tokens)
        return time.perf_counter() - started

    rows = []
    for _ in range(reps):
        steady = [seconds([token]) for _ in range(after + 3)][-2:]
        rows.append(np.array([seconds([token] * size), *(seconds([token]) for _ in range(after))]) / np.mean(steady))
    model.truncate(0)
    return [float(x) for x in np.median(rows, axis=0)]
