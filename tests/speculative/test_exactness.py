"""Exact verification on real weights: the measured exact batch holds, greedy speculative output equals
plain greedy output on every default expert (lookup drafts and long drafts), and fast mode departs from
plain output only where the plain run's top two logits were within rounding of each other."""
from __future__ import annotations

import numpy as np
import pytest

from edge_runtime.models.backends.exactness import first_mismatch, measure_exact_batch, probe_tokens
from edge_runtime.chat import encode_prompt
from edge_runtime.speculative.decoder import Decoder
from edge_runtime.speculative.drafters import Draft, PromptLookupDrafter

# Like the prompt of the report (a "complete this function" prompt about balls in an array), our own words.
BALLS = '''Complete this function:

def fewest_moves_to_group(balls: list[str]) -> int:
    """A row of balls, each "R", "G" or "B", lies in an array. One move takes a ball out and puts it
    back at either end of the row. Return the fewest moves that leave all balls of each colour next
    to each other, in the order R, G, B.

    >>> fewest_moves_to_group(["G", "R", "B"])
    1
    """
'''
# Largest logit gap at which fast mode may pick another token than plain decoding: the batch kernels'
# logits differ from one-token steps by up to ~0.9 (measured, 1.5B Q4_K_M), so a tie within twice that
# may resolve either way.
FAST_MARGIN = 2.0


class OracleDrafter:
    """Proposes the plain run's own continuation: always right until a divergence, so every step
    verifies the longest batch the mode allows."""

    name = "oracle"

    def __init__(self, prompt_len: int, plain: list[int]) -> None:
        self.prompt_len, self.plain = prompt_len, plain

    def reset(self) -> None:
        pass

    def propose(self, context, max_len):
        at = len(context) - self.prompt_len
        return Draft(self.plain[at:at + max_len], source="oracle")

    def update(self, context, n_drafted, n_accepted) -> None:
        pass


def plain_run(model, prompt, max_tokens):
    """Greedy tokens and, per token, the gap between the top two logits that chose it."""
    model.truncate(0)
    logits, out, gaps = model.forward(prompt)[0], [], []
    for _ in range(max_tokens):
        top2 = np.sort(logits)[-2:]
        out.append(int(np.argmax(logits)))
        gaps.append(float(top2[1] - top2[0]))
        logits = model.forward([out[-1]])[0]
    model.truncate(0)
    return out, gaps


def spec_run(model, prompt, drafter, max_tokens, verify, min_draft=0):
    decoder = Decoder(model, drafter, max_draft=16, min_draft=min_draft)
    out = [t for step in decoder.generate(prompt, max_tokens=max_tokens, verify=verify) for t in step]
    model.truncate(0)
    return out, decoder.stats


def check_exact(model, max_tokens=96):
    prompt = encode_prompt(model, BALLS)
    plain, _ = plain_run(model, prompt, max_tokens)
    lookup, _ = spec_run(model, prompt, PromptLookupDrafter(4, 1), max_tokens, "exact", min_draft=16)
    long, stats = spec_run(model, prompt, OracleDrafter(len(prompt), plain), max_tokens, "exact", min_draft=16)
    assert lookup == plain and long == plain
    assert stats.accepted >= max_tokens // 2, "the long drafts were verified, not skipped"


def test_exact_mode_equals_plain_smol(smol):
    check_exact(smol)


def test_exact_mode_equals_plain_qwen05(qwen05):
    check_exact(qwen05)


@pytest.mark.slow
def test_exact_mode_equals_plain_qwen15(qwen15):
    """The reported break: lookup drafting diverged from plain greedy on the 1.5B."""
    assert qwen15.exact_batch >= 2
    check_exact(qwen15, 128)


@pytest.mark.slow
def test_fast_mode_departs_only_at_near_ties(qwen15):
    prompt = encode_prompt(qwen15, BALLS)
    plain, gaps = plain_run(qwen15, prompt, 128)
    fast, stats = spec_run(qwen15, prompt, OracleDrafter(len(prompt), plain), 128, "fast", min_draft=16)
    first = next((i for i, (a, b) in enumerate(zip(plain, fast)) if a != b), None)
    assert stats.drafted > qwen15.exact_batch, "fast mode verified batches beyond the exact size"
    if first is not None:
        assert gaps[first] < FAST_MARGIN, (first, gaps[first])


def test_measured_exact_batch_holds_at_other_positions(qwen05):
    """The measurement generalises: batches up to the measured size match at positions it did not probe
    (past 256 cached tokens included, where one-token steps used to take another attention path)."""
    exact = measure_exact_batch(qwen05, max_batch=12)["exact_batch"]
    ids = probe_tokens(qwen05, 600)
    for position in (57, 270, 520):
        bad = first_mismatch(qwen05, ids, position, exact)
        assert bad is None, f"a {bad}-token batch at {position} differs"
    qwen05.truncate(0)


def test_exact_batch_is_cached_per_file_and_machine(tmp_path, monkeypatch, smol):
    from edge_runtime.tuning import machine_cache

    monkeypatch.setenv("EDGE_RUNTIME_HOME", str(tmp_path))
    calls = []
    measure = lambda: calls.append(1) or {"exact_batch": 5}  # noqa: E731
    settings = {"threads": 2}
    assert machine_cache.cached("exact_batch", smol.path, settings, measure)["exact_batch"] == 5
    assert machine_cache.cached("exact_batch", smol.path, settings, measure)["exact_batch"] == 5
    assert machine_cache.cached("exact_batch", smol.path, {"threads": 1}, measure)["exact_batch"] == 5
    assert len(calls) == 2 and (tmp_path / "tuning" / "exact_batch.json").is_file()
