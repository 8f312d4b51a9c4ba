"""The measurements the benchmark scripts share with the runtime, on real weights: the verify cost in
seconds and relative to one token, and verify batches side by side with one-token steps."""
from __future__ import annotations

import numpy as np

from edge_runtime.models.backends.exactness import batches_and_steps, first_mismatch, probe_tokens
from edge_runtime.models.backends.tokenizer import _byte_decoder, byte_alphabet
from edge_runtime.speculative.costs import batch_wake, verify_cost_curve, verify_cost_seconds


def test_verify_cost_in_seconds_and_relative_to_one_token(smol):
    ids = probe_tokens(smol, 40)
    seconds = verify_cost_seconds(smol, ids, [1, 2, 8], reps=2)
    assert list(seconds) == [1, 2, 8] and all(0 < s < 10 for s in seconds.values())
    curve = verify_cost_curve(smol, ids, range(1, 5), reps=2)
    assert list(curve) == [1, 2, 3, 4] and curve[1] == 1.0 and all(c > 0 for c in curve.values())
    assert smol.n_past == 0, "the measurement leaves the cache empty"


def test_batch_wake_times_a_batch_and_the_steps_after_it(smol):
    wake = batch_wake(smol, probe_tokens(smol, 40), size=3, after=2, reps=2)
    assert len(wake) == 3 and all(0 < c < 20 for c in wake)
    assert smol.n_past == 0, "the measurement leaves the cache empty"


def test_batches_and_steps_side_by_side(smol):
    ids = probe_tokens(smol, 30)
    seen = []
    for size, batch, steps in batches_and_steps(smol, ids, 20, 6):
        assert batch.shape == steps.shape == (size, smol.n_vocab)
        assert np.array_equal(batch.argmax(1), steps.argmax(1)), "a batch reads the same next tokens"
        seen.append((size, np.array_equal(batch, steps)))
    assert [s for s, _ in seen] == [2, 3, 4, 5, 6]
    bad = first_mismatch(smol, ids, 20, 6)
    assert bad == next((s for s, same in seen if not same), None)
    smol.truncate(0)


def test_byte_alphabet_spells_every_byte_once_printable_ascii_first():
    alphabet = byte_alphabet()
    assert sorted(b for b, _ in alphabet) == list(range(256))
    assert "".join(c for _, c in alphabet[:94]) == "".join(map(chr, range(ord("!"), ord("~") + 1)))
    assert _byte_decoder()[alphabet[-1][1]] == alphabet[-1][0] and len(_byte_decoder()) == 256
