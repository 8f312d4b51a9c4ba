"""The whole path on the default team: route a real prompt, load the expert, decode, report."""
from __future__ import annotations

import pytest

from edge_runtime.generation import Request
from edge_runtime.runtime import Runtime


@pytest.fixture(scope="module")
def runtime():
    rt = Runtime(threads=2)
    yield rt
    rt.close()


@pytest.mark.slow
@pytest.mark.parametrize("prompt, expert", [
    ("Refactor this Python loop into a list comprehension: for x in xs: out.append(x * 2)", "code"),
    ("この関数のバグを直してください: def add(a, b): return a - b", "code"),
])
def test_auto_routes_real_prompts_to_the_right_expert(runtime, prompt, expert):
    result = runtime.generate(prompt, expert="auto", max_tokens=8)
    assert result.route.reason == "routed" and result.route.expert == expert
    assert result.route.probabilities and result.stats.completion_tokens > 0


@pytest.mark.parametrize("prompt, domain", [("Write a short poem about the first snow of winter.", "writing"),
                                            ("What is a good way to keep houseplants alive while I travel?",
                                             "general")])
def test_prose_goes_to_the_cascade_never_to_the_135m_alone(runtime, prompt, domain):
    """Everyday prose: the 135M passed fewer checks than either Qwen (docs/prose.md), so prose is answered by
    the cascade (0.5B, then the 1.5B when the reply fails its checks), and a routed writing prompt by the 1.5B."""
    route = runtime.route(prompt)
    assert route.domain == domain and route.expert in ("code", "general")
    plan = runtime.cascade_plan(route, Request(prompt))
    assert [name for name, _ in plan] == ["general", "code"]


@pytest.mark.parametrize("prompt", ["春の朝についての短い詩を書いてください。",
                                    "会議に遅れることを上司に伝える丁寧なメールを書いてください。",
                                    "メールの書き方を教えて"])
def test_japanese_writing_goes_to_an_expert_that_reads_japanese(prompt, tmp_path):
    """The writing expert (SmolLM2, English only) answered these with garbage; where a config routes writing
    to it, routing must say why it chose another expert."""
    cfg = tmp_path / "smol_writes.toml"
    cfg.write_text('[experts.code]\ndomains = ["code", "math"]\n[experts.writing]\ndomains = ["writing"]\n')
    from edge_runtime.config import load_config

    rt = Runtime(load_config(cfg), threads=1)
    route = rt.route(prompt)
    assert route.language == "ja" and route.domain == "writing"
    assert "ja" in rt.config.expert(route.expert).languages
    assert route.expert == "code" and "'writing' does not read 'ja'" in route.reason


def test_an_expert_without_languages_reads_everything(tmp_path):
    cfg = tmp_path / "any.toml"
    cfg.write_text('[experts.code]\ndomains = ["code", "math"]\n[experts.writing]\nlanguages = []\ndomains = ["writing"]\n')
    from edge_runtime.config import load_config

    rt = Runtime(load_config(cfg), threads=1)
    assert rt.route("春の朝についての短い詩を書いてください。").expert == "writing"
