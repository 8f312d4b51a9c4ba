"""Prefix states on real weights: a restored prefix computes what a fresh prefill computes, greedy
decoding through a Decoder is unchanged by the cache, the cache keeps inside its budget, and states on
disk are found again by another cache only for the same model file."""
from __future__ import annotations

import numpy as np
import pytest

from edge_runtime.cache.prefix import PrefixCache, prefix_cache_for
from edge_runtime.cache.spill import SpillStore
from edge_runtime.memory.budget import ModelPool
from edge_runtime.speculative.decoder import Decoder
from tests.conftest import SMOL, model_path

# Our own text: a system prompt two conversations share, then their own questions.
SYSTEM = ("You are the help desk of a small bicycle repair shop in Kyoto. Answer in two sentences at most. "
          "The shop opens at nine and closes at six, is closed on Wednesdays, and repairs punctures while "
          "the customer waits. Brake and gear adjustments take a day. ") * 2
QUESTIONS = ["Can you fix a flat tyre today?", "How long does a gear adjustment take?",
             "Are you open on Wednesday afternoon?"]


@pytest.fixture(scope="module")
def model():
    from edge_runtime.models.backends.gguf import GGUFModel

    m = GGUFModel(model_path(SMOL), name="smol", n_ctx=1024, n_threads=2)
    yield m
    m.close()


def prompt(model, question: str) -> list[int]:
    return model.tokenize(f"{SYSTEM}\nQuestion: {question}\nAnswer:")


def unbounded() -> PrefixCache:
    return PrefixCache(1 << 30, lambda need: True)


def test_a_restored_prefix_computes_what_a_fresh_prefill_computes(model):
    first, second = prompt(model, QUESTIONS[0]), prompt(model, QUESTIONS[1])
    cache = unbounded()
    model.truncate(0)
    model.forward(first)
    cache.save(model, first)
    model.truncate(0)
    fresh = model.forward(second)[0].copy()
    model.forward(model.tokenize(" unrelated text that overwrites nothing", add_bos=False))
    model.truncate(0)
    restored = cache.restore(model, second, 0)
    shared = next(i for i, (a, b) in enumerate(zip(first, second)) if a != b)
    assert restored == shared == model.n_past and restored > 100
    again = model.forward(second[restored:])[0]
    assert np.array_equal(fresh, again), "the prefix's KV must be the one a fresh prefill writes"


def greedy(decoder: Decoder, ids: list[int]) -> list[int]:
    return [t for step in decoder.generate(ids, max_tokens=8) for t in step]


FOLLOW_UP = "\nQuestion: And on Sunday?\nAnswer:"


def test_interleaved_conversations_decode_as_if_each_ran_alone(model):
    """Two conversations take turns on one model; with the cache each turn restores its own history and
    the replies equal those of a fresh prefill of the whole history."""
    follow = model.tokenize(FOLLOW_UP, add_bos=False)
    expected: dict[str, list[list[int]]] = {}
    for q in QUESTIONS[:2]:
        ids, expected[q] = prompt(model, q), []
        for _ in range(2):
            model.truncate(0)
            expected[q].append(greedy(Decoder(model), ids))
            ids = ids + expected[q][-1] + follow
    model.truncate(0)
    cached = Decoder(model)
    cached.prefix_cache = unbounded()
    histories = {q: prompt(model, q) for q in QUESTIONS[:2]}
    for turn in range(2):
        for q, ids in histories.items():
            assert greedy(cached, ids) == expected[q][turn]
            if turn == 1:
                assert cached.stats.cached_prompt_tokens >= len(ids) - len(follow) - 1, \
                    "the earlier turn (all but a last reply token never fed back) came from the cache"
            histories[q] = ids + expected[q][turn] + follow


def test_the_cache_stays_inside_its_capacity_and_the_pools_budget(model):
    model.truncate(0)
    model.forward(prompt(model, QUESTIONS[0]))
    one = len(model.save_state())
    cache = PrefixCache(int(one * 2.5), lambda need: True)
    for q in QUESTIONS:
        ids = prompt(model, q)
        model.truncate(0)
        model.forward(ids)
        cache.save(model, ids)
        assert cache.bytes <= cache.capacity
    assert cache.stats()["states"] == 2 and cache.evictions == 1
    first = prompt(model, QUESTIONS[0])
    shared = next(i for i, (a, b) in enumerate(zip(first, prompt(model, QUESTIONS[1]))) if a != b)
    assert cache.restore(model, first, 0) == shared, "the oldest state went: only the system prompt is left"
    pool = ModelPool(budget=1)  # a budget the process already exceeds: the pool admits nothing
    refused = prefix_cache_for(model, 1 << 30, 0, pool)
    refused.save(model, prompt(model, QUESTIONS[2]))
    assert refused.bytes == 0 and pool.cache_bytes == 0


def test_spilled_states_are_found_by_a_new_cache_for_the_same_file_only(model, tmp_path):
    ids = prompt(model, QUESTIONS[0])
    store = SpillStore(model.path, model.kv_type, 1 << 30, root=tmp_path)
    model.truncate(0)
    model.forward(ids)
    PrefixCache(1 << 30, lambda need: True, spill=store).save(model, ids)
    later = PrefixCache(1 << 30, lambda need: True, spill=SpillStore(model.path, model.kv_type, 1 << 30, root=tmp_path))
    assert later.bytes == 0 and later.stats()["states"] == 1, "found on disk, not read until used"
    model.truncate(0)
    assert later.restore(model, ids + [42], 0) == len(ids) == model.n_past
    other = SpillStore(model.path, model.kv_type, 1 << 30, root=tmp_path)
    other.sha256 = "0" * 64  # another file's hash under the same directory name
    assert other.entries() == []
