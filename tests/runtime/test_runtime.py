"""The whole path on the default team: route a real prompt, load the expert, decode, report."""
from __future__ import annotations

import pytest

from edge_runtime.runtime import Runtime


@pytest.fixture(scope="module")
def runtime():
    rt = Runtime(threads=2)
    yield rt
    rt.close()


@pytest.mark.slow
@pytest.mark.parametrize("prompt, expert", [
    ("Refactor this Python loop into a list comprehension: for x in xs: out.append(x * 2)", "code"),
    ("Write a short poem about the first snow of winter.", "writing"),
    ("What is a good way to keep houseplants alive while I travel?", "general"),
    ("この関数のバグを直してください: def add(a, b): return a - b", "code"),
])
def test_auto_routes_real_prompts_to_the_right_expert(runtime, prompt, expert):
    result = runtime.generate(prompt, expert="auto", max_tokens=8)
    assert result.route.reason == "routed" and result.route.expert == expert
    assert result.route.probabilities and result.stats.completion_tokens > 0


@pytest.mark.parametrize("prompt", ["春の朝についての短い詩を書いてください。",
                                    "会議に遅れることを上司に伝える丁寧なメールを書いてください。",
                                    "メールの書き方を教えて"])
def test_japanese_writing_goes_to_an_expert_that_reads_japanese(prompt):
    """The writing expert (SmolLM2, English only) answered these with garbage; routing must say why it
    chose another expert."""
    rt = Runtime(threads=1)
    route = rt.route(prompt)
    assert route.language == "ja" and route.domain == "writing"
    assert "ja" in rt.config.expert(route.expert).languages
    assert route.expert == "code" and "'writing' does not read 'ja'" in route.reason


def test_an_expert_without_languages_reads_everything(tmp_path):
    cfg = tmp_path / "any.toml"
    cfg.write_text('[experts.writing]\nlanguages = []\n')
    from edge_runtime.config import load_config

    rt = Runtime(load_config(cfg), threads=1)
    assert rt.route("春の朝についての短い詩を書いてください。").expert == "writing"
