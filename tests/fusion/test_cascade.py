"""The cascade on real models: the cheap expert answers first, the next only when the reply fails its checks,
and a failing reply never beats a passing one."""
from __future__ import annotations

import pytest

from edge_runtime.config import load_config
from edge_runtime.evidence.prose import assess
from edge_runtime.fusion.cascade import CascadeFusion, repair_request
from edge_runtime.generation import Generation, Request
from edge_runtime.runtime import Runtime

from tests.conftest import DATA

PROMPTS = ["List three colours of autumn leaves, as bullet points.",
           'Write one sentence about tea that ends with "zebra crossing".']


@pytest.fixture(scope="module")
def runtime(tmp_path_factory):
    path = tmp_path_factory.mktemp("cfg") / "cascade.toml"
    path.write_text('cascade = ["cheap", "general"]\ncascade_repair = true\n' + (DATA / "smol.toml").read_text() +
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
    asked = [(c["expert"], c["kind"]) for c in tried]
    assert asked in ([("cheap", "answer")], [("cheap", "answer"), ("general", "answer")],
                     [("cheap", "answer"), ("general", "answer"), ("general", "rewrite")])
    assert generation.result.route.expert in ("cheap", "general")
    assert len(heard) == len(tried)
    for c in tried:
        assert c["failures"] == assess(prompt, c["text"])  # the recorded evidence is the checks' own
    passing = [i for i, c in enumerate(tried) if not c["failures"]]
    if passing:
        assert passing == [len(tried) - 1]  # stopped at the first pass
        assert text == tried[-1]["text"]
    else:
        assert len(tried) == 3  # both failed: the last one was asked to rewrite
        assert len(assess(prompt, text)) == min(len(c["failures"]) for c in tried)


def test_the_rewrite_request_names_what_is_missing():
    asked = repair_request('Write one sentence about tea that ends with "zebra crossing".', "Tea. Tea.", "en")
    assert 'ends with "zebra crossing"' in asked and "exactly 1 sentence" in asked
    asked = repair_request("「拝啓」で始め、「敬具」で終えてください。", "拝啓\nこんにちは", "ja")
    assert "「敬具」で終える" in asked and "「拝啓」" not in asked
