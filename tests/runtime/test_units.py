"""Model-free specifications of small parts: stop strings across pieces, the pool's LRU and pins,
nucleus truncation, and speculative sampling on synthetic distributions."""
from __future__ import annotations

import numpy as np
import pytest

from edge_runtime.errors import BudgetError
from edge_runtime.generation import TextStream
from edge_runtime.memory.budget import ModelPool
from edge_runtime.sampling import Sampler, SamplingParams, _top_p
from edge_runtime.speculative.drafters import Draft
from edge_runtime.speculative.verify import verify_stochastic


class CharVocab:
    """Token i is the i-th character of an alphabet: enough for a TextStream."""

    def __init__(self, alphabet: str) -> None:
        self.alphabet = alphabet

    def detokenize(self, ids: list[int]) -> bytes:
        return "".join(self.alphabet[i] for i in ids).encode("utf-8")


class Held:
    """A stand-in model for the pool: it only needs to be closable (the pool never runs it)."""

    def __init__(self) -> None:
        self.closed = False

    def close(self) -> None:
        self.closed = True


def stream_pieces(text: str, stop: list[str], split: int) -> tuple[str, bool]:
    vocab = CharVocab(text)
    stream = TextStream(vocab, stop)  # type: ignore[arg-type]
    ids = list(range(len(text)))
    out = "".join(stream.feed(ids[i:i + split]) for i in range(0, len(ids), split) if not stream.stopped)
    return out + stream.flush(), stream.stopped


@pytest.mark.parametrize("split", [1, 2, 3, 7])
def test_stop_string_split_across_pieces_is_never_shown(split):
    text, stopped = stream_pieces("answer: 42\nUser: next", ["\nUser:"], split)
    assert text == "answer: 42" and stopped


def test_text_that_only_looks_like_a_stop_start_is_released():
    text, stopped = stream_pieces("a\nUseful line", ["\nUser:"], 2)
    assert text == "a\nUseful line" and not stopped


class ByteVocab:
    """Token i is the byte i, so one character of UTF-8 may take several tokens."""

    def detokenize(self, ids: list[int]) -> bytes:
        return bytes(ids)


def test_multibyte_characters_split_across_tokens_come_out_whole():
    stream = TextStream(ByteVocab())  # type: ignore[arg-type]
    first, second = "é".encode()
    assert stream.feed([first]) == "" and stream.feed([second]) == "é"


def test_pool_evicts_least_recently_used_and_never_pinned(monkeypatch):
    monkeypatch.setattr("edge_runtime.memory.budget.rss_bytes", lambda: 0)  # the process itself holds nothing here
    pool = ModelPool(budget=250)
    a = pool.get("a", 100, Held)
    pool.get("b", 100, Held)
    pool.get("a", 100, Held)  # a is now the most recently used
    pool.get("c", 100, Held)
    assert pool.loaded() == ["a", "c"] and pool.evictions == 1 and not a.closed
    with pool.pinned("a"):
        pool.get("d", 100, Held)
        assert "a" in pool.loaded() and "c" not in pool.loaded()
        with pool.pinned("d"), pytest.raises(BudgetError, match="models in use"):
            pool.get("e", 100, Held)
    with pytest.raises(BudgetError, match="needs 300 B"):
        pool.get("huge", 300, Held)


def test_pool_counts_the_larger_of_planned_and_measured(monkeypatch):
    rss = {"now": 0}
    monkeypatch.setattr("edge_runtime.memory.budget.rss_bytes", lambda: rss["now"])

    def load() -> Held:
        rss["now"] += 180  # the load grows RSS by 180 though 100 were planned
        return Held()

    pool = ModelPool(budget=1000)
    pool.get("a", 100, load)
    assert pool.footprints["a"] == (100, 180) and pool.used == 180


def test_top_p_keeps_the_smallest_set_reaching_the_mass():
    probs = np.array([0.05, 0.4, 0.3, 0.2, 0.05])
    kept = _top_p(probs, 0.85)
    assert np.flatnonzero(kept).tolist() == [1, 2, 3] and kept.sum() == pytest.approx(1.0)
    wide = np.r_[np.full(3000, 2.0), np.full(2000, 1.0)] / 8000  # the window must widen past 64 and 1024
    assert np.count_nonzero(_top_p(wide, 0.6101)) == 2441  # ceil(0.6101 * 8000 / 2)


@pytest.mark.parametrize("k", [1, 3, 6])
@pytest.mark.parametrize("with_probs", [True, False])
def test_stochastic_verification_keeps_the_target_distribution(k, with_probs):
    """The first emitted token of a verify step must follow the target p, whatever the draft q."""
    rng = np.random.default_rng(k)
    vocab = 6
    target_logits = rng.normal(size=(k + 1, vocab)).astype(np.float32)
    draft_probs = rng.dirichlet(np.ones(vocab), size=k)
    sampler = Sampler(SamplingParams(temperature=1.0, seed=k))
    p0 = sampler.distribution(target_logits[0])
    counts = np.zeros(vocab)
    trials = 20000
    for _ in range(trials):
        tokens = [int(rng.choice(vocab, p=q)) for q in draft_probs]
        draft = Draft(tokens, draft_probs if with_probs else None)
        accepted, nxt = verify_stochastic(draft, target_logits, sampler, [])
        counts[tokens[0] if accepted > 0 else nxt] += 1
    expected = p0 * trials
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    assert chi2 < 20.5  # chi-square, 5 degrees of freedom, p = 0.001


def test_gpu_budget_from_free_memory_is_read_once_so_loaded_models_count_once(monkeypatch):
    """'auto' is a share of the GPU's free memory: read after a model is on the GPU, free already excludes
    it, and subtracting its bytes again would count it twice."""
    free = {"now": 1000}
    monkeypatch.setattr("edge_runtime.memory.budget.gpu_budget_bytes", lambda spec, gpu: free["now"])
    monkeypatch.setattr("edge_runtime.memory.budget.rss_bytes", lambda: 0)
    pool = ModelPool(gpu_budget="auto")
    assert pool.device_room(0, "a") == 1000
    pool.hold_device("a", 0, 400)
    pool.get("a", 10, Held)
    free["now"] -= 400  # the device now holds a
    assert pool.device_room(0, "b") == 600 and pool.device_room(0, "a") == 1000
    assert pool.device_room(1, "b") == 600  # another GPU: its own budget
    pool.evict("a")
    assert pool.device_room(0, "b") == 1000
