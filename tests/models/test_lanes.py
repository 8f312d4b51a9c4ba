"""Lanes and the baton (continuous batching): generation threads take turns, and their forwards run
as one batch per model; on a real model, lanes decode what one lane at a time decodes."""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from edge_runtime.memory.budget import estimate_footprint, split_footprint
from edge_runtime.models.backends.gguf import GGUFModel
from edge_runtime.models.backends.lanes import Baton, lane
from edge_runtime.speculative.decoder import Decoder
from tests.conftest import SMOL, model_path


class RecordingModel:
    """Scheduling only (no inference): logits are the lane's number, and each batch is recorded, with
    how many threads were running Python at the time (the baton allows one)."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.inside = 0
        self.most_inside = 0
        self.fail = False

    def decode_together(self, requests: list[tuple[int, list[int], int]]) -> list[np.ndarray]:
        if not self.batches:
            time.sleep(0.3)  # the first lane's first forward is slow: the other lanes arrive meanwhile
        self.batches.append([seq for seq, _ids, _n in requests])
        if self.fail:
            raise RuntimeError("decode failed")
        return [np.full((n, 2), seq, dtype=np.float32) for seq, _ids, n in requests]

    def step(self, baton: Baton) -> float:
        self.inside += 1
        self.most_inside = max(self.most_inside, self.inside)
        self.inside -= 1
        return float(baton.forward(self, [1], 1)[0, 0])


def run_lanes(n: int, work) -> dict[int, object]:
    baton, results = Baton(), {}

    def body(i: int) -> None:
        with baton.lane(i):
            try:
                results[i] = work(baton)
            except Exception as exc:  # the test reads it
                results[i] = exc

    threads = [threading.Thread(target=body, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads), "a lane never finished"
    return results


def test_lanes_forwards_run_together_and_each_gets_its_own_logits():
    model = RecordingModel()
    results = run_lanes(3, lambda baton: [model.step(baton) for _ in range(5)])
    assert results == {i: [float(i)] * 5 for i in range(3)}
    assert model.most_inside == 1
    assert [len(b) for b in model.batches] == [1, 3, 3, 3, 3, 2]  # after the first, all arrived lanes at once


def test_a_lane_that_finishes_early_does_not_stall_the_others():
    model = RecordingModel()
    results = run_lanes(3, lambda baton: [model.step(baton) for _ in range(2 + 4 * lane())])
    assert [len(results[i]) for i in range(3)] == [2, 6, 10]
    assert model.batches[-1] == [2]  # the longest lane ends alone


def test_a_failed_batch_raises_in_every_lane_in_it():
    model = RecordingModel()
    model.fail = True
    results = run_lanes(2, lambda baton: model.step(baton))
    assert all(isinstance(r, RuntimeError) and "decode failed" in str(r) for r in results.values())


def test_outside_a_lane_the_thread_is_lane_zero():
    assert lane() == 0


@pytest.fixture(scope="module")
def three_lanes():
    model = GGUFModel(model_path(SMOL), name="smol-lanes", n_ctx=256, n_threads=2, n_seq=3)
    yield model
    model.close()


PROMPTS = ["The capital of France is", "def fibonacci(n):", "Once upon a time, a small robot"]


def greedy(model: GGUFModel, prompt: str) -> list[int]:
    ids = model.tokenize(prompt)
    return [t for step in Decoder(model).generate(ids, max_tokens=20) for t in step]


def test_lanes_decode_what_one_lane_at_a_time_decodes(three_lanes):
    alone = [greedy(three_lanes, p) for p in PROMPTS]
    together = run_lanes(3, lambda _baton: greedy(three_lanes, PROMPTS[lane()]))
    assert [together[i] for i in range(3)] == alone


def test_each_lane_gets_the_whole_context_and_the_plan_counts_them(three_lanes):
    one = estimate_footprint(model_path(SMOL), 256)
    three = estimate_footprint(model_path(SMOL), 256, lanes=3)
    assert three_lanes.n_ctx == 256 and three.kv_cache == 3 * one.kv_cache and three.weights == one.weights
    on_gpu = split_footprint(model_path(SMOL), 256, -1, lanes=3)  # offloaded blocks hold every lane's KV
    assert on_gpu.device.kv_cache + on_gpu.host.kv_cache == three.kv_cache


def test_lane_state_saves_and_loads_across_lanes(three_lanes):
    def save_in_lane_one(_baton):
        if lane() == 1:
            three_lanes.truncate(0)
            three_lanes.forward(three_lanes.tokenize("A shared system prompt"))
            return three_lanes.save_state(), three_lanes.n_past
        return None

    blob, n_past = run_lanes(2, save_in_lane_one)[1]
    assert three_lanes.load_state(blob) and three_lanes.n_past == n_past  # lane 0 (this thread)
