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
