"""How many tokens a verify batch may hold and still compute what one-token steps compute, bit for bit.

Measured, not assumed: which kernels run depends on the batch size, the weight types, the repack
setting, the context length and the CPU. On the 1.5B Q4_K_M with AVX-512 (llama.cpp in
llama-cpp-python 0.3.36): from 8 rows the K-quant "tiled" matmul replaces the per-row dot products
(tiled.cpp, `rows >= 8`); repacked Q4_K switches from gemv to gemm kernels at 4 rows; and from 257
cached tokens on (KV padded to 512) a one-token step's flash attention splits the KV range across
threads and merges the partial sums, which no batch does (ops.cpp `use_split_kv_path`), so with
f16 K and V no batch at all matched past that point. The GGUF backend stores V as q8_0 to keep
attention on one path (see `value_type`).
"""
from __future__ import annotations

from typing import Iterator

import numpy as np

from edge_runtime.models.backends.base import CausalLM

# A fixed text from which the probe contexts are cut: ordinary code, as the runtime mostly decodes.
PROBE_TEXT = '''def merge_intervals(intervals):
    """Merge overlapping [start, end] pairs and return them sorted by start."""
    merged = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return merged


class RingBuffer:
    """A fixed-size queue that overwrites its oldest item when full."""

    def __init__(self, capacity: int) -> None:
        self.items = [None] * capacity
        self.head = self.size = 0

    def push(self, item) -> None:
        self.items[(self.head + self.size) % len(self.items)] = item
        if self.size < len(self.items):
            self.size += 1
        else:
            self.head = (self.head + 1) % len(self.items)
'''
# Cached tokens before the probed batch: short, medium, and past 256 (where llama.cpp pads the KV
# view to 512 and picks other attention kernels).
PROBE_POSITIONS = (4, 100, 300)


def probe_tokens(model: CausalLM, n: int) -> list[int]:
    """At least n tokens of the probe text (repeated as needed)."""
    ids = model.tokenize(PROBE_TEXT, add_bos=False)
    return (ids * (n // len(ids) + 1))[:n]


def batches_and_steps(model: CausalLM, ids: list[int], position: int, max_batch: int
                      ) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """For b = 2..max_batch: (b, the logits of a batch of b tokens at `position`, those of b one-token
    steps over the same tokens), computed lazily so a caller may stop at the first difference."""
    model.truncate(0)
    model.forward(ids[:position])
    steps = np.stack([model.forward([t])[0].copy() for t in ids[position:position + max_batch]])
    for size in range(2, max_batch + 1):
        model.truncate(position)
        yield size, model.forward(ids[position:position + size], logits_for=size), steps[:size]


def first_mismatch(model: CausalLM, ids: list[int], position: int, max_batch: int) -> int | None:
    """The smallest batch size b <= max_batch whose logits differ from b one-token steps at `position`."""
    for size, batch, steps in batches_and_steps(model, ids, position, max_batch):
        if not np.array_equal(batch, steps):
            return size
    return None


def measure_exact_batch(model: CausalLM, max_batch: int = 16,
                        positions: tuple[int, ...] = PROBE_POSITIONS) -> dict[str, object]:
    """The largest b such that every batch of b' <= b tokens equals b' one-token steps bitwise, at each
    probed position that fits the context; and the first mismatching size seen at each position."""
    usable = [p for p in positions if p + max_batch < model.n_ctx]
    ids = probe_tokens(model, max(usable) + max_batch)
    exact, mismatches = max_batch, {}
    for position in usable:
        bad = first_mismatch(model, ids, position, exact)
        mismatches[str(position)] = bad
        if bad is not None:
            exact = bad - 1
        if exact == 1:
            break
    model.truncate(0)
    return {"exact_batch": exact, "first_mismatch": mismatches, "max_batch": max_batch}
