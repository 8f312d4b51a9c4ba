"""Cross-request drafting: lookup drafts from earlier requests' prompts and replies, within a window,
and exact-mode output on real weights stays the plain greedy output."""
from __future__ import annotations

from edge_runtime.speculative.decoder import Decoder
from edge_runtime.speculative.drafters import PromptLookupDrafter
from edge_runtime.speculative.history import TokenHistory


def test_the_history_continues_the_longest_recent_match_and_stops_at_a_sequence_end():
    history = TokenHistory(window=64, ngram_min=2, ngram_max=4)
    history.add([1, 2, 3, 4, 5, 6])
    history.add([9, 2, 3, 7, 8])
    pos = history.find([0, 9, 2, 3])
    assert history.continuation(pos, 5) == [7, 8], "the 3-gram [9, 2, 3] wins over the 2-gram [2, 3]"
    assert history.continuation(history.find([5, 0, 2, 3]), 8) == [7, 8], "[2, 3] was last seen before 7"
    assert history.continuation(history.find([0, 1, 2, 3]), 8) == [4, 5, 6], "a longer match in an older one"
    assert history.find([4, 4, 4]) is None


def test_the_window_keeps_the_newest_half_when_full():
    history = TokenHistory(window=20, ngram_min=2, ngram_max=3)
    for start in range(0, 50, 10):
        history.add(list(range(start, start + 9)))
    assert len(history) <= 20
    assert history.find([1, 2]) is None and history.find([41, 42]) is not None


def test_lookup_drafts_from_an_earlier_request_when_its_own_context_has_no_match():
    history = TokenHistory(ngram_min=3, ngram_max=4)
    lookup = PromptLookupDrafter(4, 3, history)
    lookup.learn([5, 6, 7, 8, 10, 11, 12, 13, 14])
    lookup.reset()
    draft = lookup.propose([1, 2, 7, 8, 10], 3)
    assert draft.tokens == [11, 12, 13] and draft.source == "history"
    assert lookup.propose([1, 2, 7, 8, 10, 11, 12], 3).tokens == [13, 14], "follows the same place"
    assert PromptLookupDrafter(4, 3).propose([1, 2, 7, 8, 10], 3).tokens == []


def test_a_repeated_request_drafts_its_earlier_reply_and_output_stays_exact(qwen05):
    """An agent loop sends the same kind of request again: the second reply is drafted from the first,
    and greedy exact output equals plain greedy output."""
    prompt = qwen05.tokenize("Write a JSON object for a user named Aiko, aged 31, living in Sapporo, "
                             "with fields name, age and city. Only the JSON.")
    plain = [t for step in Decoder(qwen05).generate(prompt, max_tokens=24) for t in step]
    decoder = Decoder(qwen05, PromptLookupDrafter(4, 3, TokenHistory()))
    first = [t for step in decoder.generate(prompt, max_tokens=24) for t in step]
    again = [t for step in decoder.generate(prompt + [], max_tokens=24) for t in step]
    assert first == plain == again
    alone = Decoder(qwen05, PromptLookupDrafter(4, 3))  # the same drafter without the history
    for _ in range(2):
        [t for step in alone.generate(prompt, max_tokens=24) for t in step]
    assert decoder.stats.accepted > alone.stats.accepted, "the second run drafted from the first reply"
