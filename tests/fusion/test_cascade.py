"""The cascade on real models: the cheap expert answers first, the next only when the reply fails its checks,
and a failing reply never beats a passing one."""
from __future__ import annotations

import pytest

from edge_runtime.config import load_config
from edge_runtime.evidence.prose import assess
from edge_runtime.fusion.cascade import CascadeFusion
from edge_runtime.generation import Generation, Request
from edge_runtime.runtime import Runtime

from tests.conftest import DATA

PROMPTS = ["List three colours of autumn leaves, as bullet points.",
           'Write one sentence about tea that ends with "zebra crossing".']


@pytest.fixture(scope="module")
def runtime(tmp_path_factory):
    path = tmp_path_factory.mktemp("cfg") / "cascade.toml"
    path.write_text('cascade = ["cheap", "general"]\n' + (DATA / "smol.toml").read_text() +
                    '\n[experts.cheap]\nmodel = "smollm2-135m-instruct-q4_1"\n'
                    '[sampling]\nrepeat_penalty = 1.1\n')
    rt = Runtime(load_config(path), threads=2)
    yield rt
    rt.close()


@pytest.mark.parametrize("prompt", PROMPTS)
def test_cascade_stops_at_the_first_passing_reply_and_never_picks_a_failing_one(runtime, prompt):
    heard: list[str] = []
    route = runtime.route(prompt).to("general", "test")
    request = Request(prompt, max_tokens=48, params=runtime.sampling(None), progress=heard.append)
    generation = Generation(CascadeFusion().run(runtime, route, [("cheap", 1.0), ("general", 1.0)], request, []))
    text = "".join(generation)
    fusion = generation.result.fusion
    tried = fusion["candidates"]
    assert [c["expert"] for c in tried] == ["cheap", "general"][:len(tried)] and len(heard) == len(tried)
    for c in tried:
        assert c["failures"] == assess(prompt, c["text"])  # the recorded evidence is the checks' own
    passing = [i for i, c in enumerate(tried) if not c["failures"]]
    if passing:
        assert passing == [len(tried) - 1]  # stopped at the first pass
        assert text == tried[-1]["text"] and fusion["winner"] == tried[-1]["expert"]
    else:
        assert len(tried) == 2 and len(assess(prompt, text)) == min(len(c["failures"]) for c in tried)
