"""Verified fusion: candidates judged by the prompt's own examples, a vote on the number, or best-of;
caps, early stop, progress, and no model code run unless `execute_code` is on."""
from __future__ import annotations

from dataclasses import replace

import pytest

from edge_runtime.config import load_config
from edge_runtime.generation import GenerationResult, Request
from edge_runtime.router.routing import Route
from edge_runtime.speculative.stats import GenerationStats
from edge_runtime.fusion.candidates import CODE_ASK, FENCE_END, Candidate, Spec, lineup, request_for
from edge_runtime.fusion.judges import VoteJudge
from edge_runtime.runtime import Runtime
from edge_runtime.evidence import layers, sandbox
from edge_runtime.evidence.answers import final_number

from tests.conftest import DATA

ADD = "Write a Python function add(a, b) that returns the sum of a and b.\n\n>>> add(2, 3)\n5\n>>> add(-1, 1)\n0"
MULTIPLY = "What is 17 multiplied by 23? Answer with the number."


def runtime(**changes: object) -> Runtime:
    return Runtime(replace(load_config(DATA / "verify.toml"), **changes), threads=2)


def ballot(answer: str | None, kind: str = "greedy", cut_off: bool = False) -> Candidate:
    return Candidate(Spec("x", kind), None, 0.0, {"answer": answer, "cut_off": cut_off})  # type: ignore[arg-type]


def test_lineup_is_strength_first_greedy_program_samples_then_weaker_experts_and_caps():
    specs = lineup(["big", "small"], "big", "coder", ("greedy", "program", "sample"), 4)
    assert [(s.expert, s.kind) for s in specs] == [("big", "greedy"), ("coder", "program"), ("big", "sample"),
                                                   ("big", "sample")]
    assert len(lineup(["big"], "big", None, ("greedy", "sample"), 3)) == 3
    assert [s.kind for s in lineup(["a", "b"], "a", "coder", ("greedy",), 4)] == ["greedy", "greedy"]


def reply(text: str, kind: str = "greedy", finish: str = "stop") -> Candidate:
    result = GenerationResult(text, Route("x", "x", "test"), "none", GenerationStats(finish_reason=finish), "exact", 0)
    return Candidate(Spec("x", kind), result, 0.0, {})


def test_code_only_candidates_ask_for_the_code_and_stop_at_its_fence():
    specs = lineup(["big"], "big", None, ("greedy", "sample"), 2, code_only=True)
    assert all(s.code_only and s.asked == "code only" for s in specs)
    asked = request_for(specs[1], Request(ADD, stop=["END"]))
    assert asked.prompt == CODE_ASK.format(ADD) and list(asked.stop) == ["END", FENCE_END]
    assert asked.params.temperature > 0 and request_for(specs[0], Request(ADD)).params.temperature == 0
    assert request_for(Spec("big", "greedy"), Request(ADD)).prompt == ADD  # as written without code_only


def test_vote_counts_what_the_code_really_prints_not_the_output_it_invented():
    judge = VoteJudge(run_programs=True)
    invented = reply("```python\nprint(2 ** 12 - 100)\n```\n```output\n4096\n```\nThe answer is 4096.")
    assert judge.weigh(invented) == "answer 3996 (computed)"
    words = reply("2^12 - 100 = 4096")
    judge.weigh(words)
    assert words.evidence["answer"] == "4096" and not words.evidence["executed"]
    index, _, text = judge.pick(None, [words, invented], None, [])  # type: ignore[arg-type]
    assert index == 1 and final_number(text) == "3996" and "```python" in text  # the reply states what ran
    assert VoteJudge(run_programs=False).weigh(reply(invented.text)) == "answer 4096"  # nothing runs when off


def test_a_computed_answer_breaks_a_tie_against_recalled_ones():
    judge = VoteJudge(run_programs=True)
    made = [reply("48 x 25 = 120"), reply("```python\nprint(48 * 25)\n```", "program"),
            reply("1200"), reply("It is 120.")]
    for candidate in made:
        judge.weigh(candidate)
    assert [c.evidence["answer"] for c in made] == ["120", "1200", "1200", "120"]
    assert judge.pick(None, made, None, [])[0] == 2  # type: ignore[arg-type]  # the worded 1200


def test_vote_settles_on_agreement_or_when_the_rest_cannot_overturn_it():
    judge = VoteJudge(run_programs=True)
    assert judge.settled([ballot("4"), ballot("4")], remaining=1)
    assert judge.settled([ballot("4"), ballot("4")], remaining=2)  # adaptive: two full votes agree, stop
    assert VoteJudge(run_programs=False).settled([ballot("4"), ballot("4")], remaining=2)  # a 2-2 tie: first seen
    assert not judge.settled([ballot("4"), ballot("5")], remaining=2)
    assert not judge.settled([ballot("4", cut_off=True), ballot("4", cut_off=True)], remaining=2)
    assert judge.settled([ballot("4"), ballot(None), ballot("4")], remaining=1)


def test_code_prompt_with_examples_picks_a_passing_candidate_and_stops_early():
    rt = runtime(execute_code=True, fusion_max_candidates=4)
    try:
        result = rt.generate(ADD, max_tokens=96)
    finally:
        rt.close()
    fusion = result.fusion
    assert fusion["mode"] == "verify" and fusion["judge"] == "checks + behaviour"
    winner = fusion["candidates"][fusion["winner_index"]]
    assert winner["passed"] == winner["total"] == 2
    assert len(fusion["candidates"]) < 4 and "agree on" in fusion["stopped"]  # checks pass and two agree
    assert fusion["tokens"] >= sum(c["completion_tokens"] for c in fusion["candidates"])  # inputs count too
    assert result.route.reason.startswith("fused: verified by checks")
    assert "def add" in result.text and all(c["text"] for c in fusion["candidates"])


def test_auto_fusion_verifies_only_prompts_with_evidence_where_code_may_run():
    """The default (fusion = "auto", execute_code = "auto"): the sandbox is probed only for a prompt with
    evidence, so an ordinary prompt (the demo's) never pays for it."""
    rt = Runtime(load_config(), threads=2)
    def mode(text: str) -> str:
        return rt.fusion_mode(Request(text), rt.route(text))

    assert mode("Refactor this loop into a list comprehension.") == "mixture"
    assert mode(ADD) == ("verify" if layers.probe().strong else "mixture")
    rt.config.execute_code = False
    assert mode(ADD) == "mixture"


@pytest.mark.slow
@pytest.mark.skipif(not layers.probe().strong, reason="the kernel fence is incomplete here: auto runs no code")
def test_default_config_verifies_a_code_prompt_with_doctests_by_running_them():
    rt = Runtime(load_config(), threads=2)
    try:
        result = rt.generate(ADD, max_tokens=96)
    finally:
        rt.close()
    fusion = result.fusion
    assert fusion["mode"] == "verify" and fusion["judge"].startswith("checks")
    winner = fusion["candidates"][fusion["winner_index"]]
    assert winner["passed"] == winner["total"] == 2  # the prompt's two doctests ran against its code


def test_without_execute_code_nothing_is_executed_and_the_notes_say_so(monkeypatch):
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("model code ran without execute_code")

    monkeypatch.setattr(sandbox.subprocess, "Popen", refuse)
    rt = runtime(execute_code=False, fusion_max_candidates=2)
    try:
        code = rt.generate(ADD, max_tokens=16)
        number = rt.generate(MULTIPLY, max_tokens=16)
    finally:
        rt.close()
    assert code.fusion["judge"] == "best-of"
    assert any("2 example(s) were not run" in n and "execute_code" in n for n in code.notes)
    assert number.fusion["judge"] == "vote" and all(c["kind"] != "program" for c in number.fusion["candidates"])
    assert any("no program candidate" in n for n in number.notes)


def test_number_prompt_votes_with_a_program_candidate():
    rt = runtime(execute_code=True)
    try:
        result = rt.generate(MULTIPLY, max_tokens=64)
    finally:
        rt.close()
    fusion = result.fusion
    assert fusion["judge"] == "vote" and "program" in [c["kind"] for c in fusion["candidates"]]
    answers = [c["answer"] for c in fusion["candidates"]]
    assert final_number(result.text) == answers[fusion["winner_index"]] == "391"
    assert answers.count("391") >= 2  # the worded answer and the program agree


def test_caps_are_respected_and_progress_comes_before_the_answer():
    rt = runtime(execute_code=True, fusion_max_candidates=3, fusion_time_s=0.001)
    heard: list[str] = []
    try:
        generation = rt.stream("What is 2 + 2? Answer with the number.", max_tokens=8, progress=heard.append)
        pieces = []
        for piece in generation:
            pieces.append((piece, len(heard)))
    finally:
        rt.close()
    result = generation.result
    assert len(result.fusion["candidates"]) == 1 and result.fusion["stopped"].startswith("time cap")
    assert heard and heard[0].startswith("candidate 1/3 coder greedy: answer")
    assert pieces == [(result.text, 1)]  # one piece, the chosen answer, after the judging was reported


@pytest.mark.parametrize("cap", [3])
def test_candidate_cap(cap):
    rt = runtime(fusion_max_candidates=cap)
    try:
        result = rt.generate("What is 5 minus 9? Answer with the number.", max_tokens=12)
    finally:
        rt.close()
    assert 1 <= len(result.fusion["candidates"]) <= cap
