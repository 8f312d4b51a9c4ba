"""The shape guide on real weights (the 0.5B): a reply starts and ends with the phrases asked for, writes no
capital where lowercase is asked, stops at the sentence count, and says what it did; off in the config or
for a structured or raw request, decoding is left alone."""
from __future__ import annotations

from dataclasses import replace

import pytest

from edge_runtime.config import load_config
from edge_runtime.evidence.shapes import Shape, check_shape, count_sentences
from edge_runtime.generation import Request
from edge_runtime.runtime import Runtime


@pytest.fixture(scope="module")
def runtime():
    rt = Runtime(threads=2)
    yield rt
    rt.close()


def test_the_reply_starts_with_the_phrase_and_the_model_goes_on_from_it(runtime):
    result = runtime.generate('Write a short thank-you note to my neighbour for feeding my cat. Start with "Dear Ana".',
                              expert="general", max_tokens=16)
    assert result.text.startswith("Dear Ana") and len(result.text) > len("Dear Ana") + 5


def test_a_reply_that_ends_on_its_own_ends_with_the_closing_asked_for(runtime):
    prompt = 'Write a one-line slogan for a bakery that ends with "baked at dawn".'
    result = runtime.generate(prompt, expert="general", max_tokens=48)
    assert result.stats.finish_reason == "stop"
    assert check_shape(Shape("ends_with", text="baked at dawn"), result.text) is None


def test_lowercase_replies_have_no_capitals_and_stop_at_the_sentence_count(runtime):
    result = runtime.generate("Describe the sea at night in all lowercase, in one sentence.", expert="general",
                              max_tokens=60)
    assert result.text.strip() and result.text == result.text.lower()
    assert count_sentences(result.text) <= 1


def test_the_guide_is_off_when_configured_so_and_for_structured_or_raw_requests(runtime):
    prompt = 'Write a note. Start with "Dear Ana".'
    assert runtime.shape_guide(Request(prompt)).opening == "Dear Ana"
    assert runtime.shape_guide(Request(prompt, raw=True)) is None
    off = Runtime(replace(load_config(), sampling=replace(load_config().sampling, shape_guide=False)), threads=1)
    assert off.shape_guide(Request(prompt)) is None
