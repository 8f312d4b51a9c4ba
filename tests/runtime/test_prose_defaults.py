"""Decoding defaults for prose: the config's repetition penalty fills in what a request leaves open (and only
that), the Japanese mask is on for Japanese prompts only, and a cascade naming an unknown expert is refused."""
from __future__ import annotations

import numpy as np
import pytest

from edge_runtime.config import load_config
from edge_runtime.errors import ConfigError, PromptError
from edge_runtime.language.hints import with_language_hint
from edge_runtime.router.routing import Route
from edge_runtime.runtime import Runtime
from edge_runtime.sampling import Sampler, SamplingParams, dry_repeats
from edge_runtime.server.schema import ChatRequest


def test_the_config_penalty_fills_only_what_the_request_leaves_open():
    rt = Runtime(load_config(), threads=1)
    assert rt.sampling(None).repeat_penalty == 1.1
    assert rt.sampling(SamplingParams(temperature=0.7)).repeat_penalty == 1.1
    assert rt.sampling(SamplingParams(repeat_penalty=1.0)).repeat_penalty == 1.0  # off when asked
    assert ChatRequest(model="auto", messages=[{"role": "user", "content": "hi"}]).sampling().repeat_penalty is None


def test_a_bare_sampler_leaves_an_open_penalty_off():
    assert not Sampler(SamplingParams()).warps and Sampler(SamplingParams(repeat_penalty=1.2)).warps
    with pytest.raises(PromptError):
        SamplingParams(repeat_penalty=0)


def test_config_refuses_bad_sampling_and_cascade(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('cascade = ["general", "poet"]\n')
    with pytest.raises(ConfigError, match="poet"):
        load_config(bad)
    bad.write_text('[sampling]\nrepeat_penalti = 1.2\n')
    with pytest.raises(ConfigError, match="did you mean 'repeat_penalty'"):
        load_config(bad)


def test_japanese_mask_only_for_japanese_prompts(qwen05):
    rt = Runtime(load_config(), threads=1)
    assert rt.masks(Route("writing", "code", language="ja"), qwen05)
    assert rt.masks(Route("writing", "code", language="en"), qwen05) == []


def test_japanese_prompts_get_a_system_message_asking_for_japanese_unless_they_set_one():
    hinted = with_language_hint("秋の俳句を書いて", "ja")
    assert hinted[0]["role"] == "system" and "日本語" in hinted[0]["content"] and hinted[1]["content"] == "秋の俳句を書いて"
    own = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "秋の俳句を書いて"}]
    assert with_language_hint(own, "ja") is own and with_language_hint("Write a haiku", "en") == "Write a haiku"


def test_dry_finds_the_token_that_would_extend_a_repeat():
    assert dry_repeats([1, 2, 3, 9, 1, 2, 3], 2) == {9: 3} and dry_repeats([1, 2, 3, 4], 2) == {}
    logits = np.zeros(16, dtype=np.float32)
    sampler = Sampler(SamplingParams(repeat_penalty=1.0, dry_multiplier=0.8))
    history = [1, 2, 3, 9, 4, 1, 2, 3]
    assert sampler.warps and sampler.distribution(logits + np.eye(16)[9], history).argmax() != 9
