"""Issue 26's judging rules on candidates whose evidence is given (no models): code picked by checks
then behaviour cluster, stopping once checks pass and two agree; the vote stops on agreement."""
from __future__ import annotations

from edge_runtime.evidence.checks import Check
from edge_runtime.generation import GenerationResult
from edge_runtime.router.routing import Route
from edge_runtime.speculative.stats import GenerationStats
from edge_runtime.fusion.candidates import Candidate, Spec
from edge_runtime.fusion.code_judge import CodeJudge
from edge_runtime.fusion.judges import CodeJudge as Chosen, ScoreJudge, VoteJudge, choose

CHECK = Check("f(1)", "f(1) -> 2", "2")


def coded(passed: int, key: str | None) -> Candidate:
    result = GenerationResult(f"code {key}", Route("code", "code", reason="test"), "none", GenerationStats(), "exact", 0)
    return Candidate(Spec("code", "sample"), result, 0.0, {"passed": passed, "total": 1, "behaviour": key})


def ballot(answer: str, kind: str = "greedy", executed: bool = False) -> Candidate:
    return Candidate(Spec("code", kind), None, 0.0,  # type: ignore[arg-type]
                     {"answer": answer, "cut_off": False, "executed": executed})


def test_code_judge_waits_for_agreement_among_candidates_that_pass_the_checks():
    judge = CodeJudge([CHECK], "f")
    judge.inputs = ["f(1)", "f(5)"]
    assert judge.settled([coded(1, "a")], 3) is None  # one passing candidate is not yet agreement
    assert judge.settled([coded(1, "a"), coded(1, "b")], 2) is None  # they conflict: draw more
    assert judge.settled([coded(1, "a"), coded(1, "b"), coded(1, "b")], 1)
    assert judge.settled([coded(0, "a"), coded(0, "a")], 2) is None  # agreeing on failing code is not enough


def test_code_judge_picks_checks_first_then_the_largest_cluster_then_the_earliest():
    judge = CodeJudge([CHECK], "f")
    made = [coded(0, "x"), coded(1, "a"), coded(1, "b"), coded(1, "b"), coded(0, "x")]
    assert judge.pick(None, made, None, [])[0] == 2  # type: ignore[arg-type]
    tie = [coded(1, "a"), coded(1, "b")]
    assert judge.pick(None, tie, None, [])[0] == 0  # type: ignore[arg-type]


def test_code_judge_without_examples_clusters_on_written_inputs_alone():
    judge = CodeJudge([], "f")
    judge.inputs = ["f(1)"]
    assert judge.settled([coded(0, "a"), coded(0, "a")], 2)
    assert judge.pick(None, [coded(0, "b"), coded(0, "a"), coded(0, "a")], None, [])[0] == 1  # type: ignore[arg-type]


def test_vote_stops_as_soon_as_two_candidates_agree_and_outweigh_the_rest():
    judge = VoteJudge(run_programs=True)
    assert judge.settled([ballot("12"), ballot("12", "program", True)], 2)
    assert judge.settled([ballot("12"), ballot("13", "program", True)], 2) is None
    assert judge.settled([ballot("12"), ballot("13", "program", True), ballot("12", "sample")], 1)


def test_choose_judges_a_named_function_without_examples_by_behaviour():
    probabilities = {"code": 0.9, "general": 0.0, "math": 0.05, "writing": 0.05}
    judge = choose("Write `count_vowels(s: str) -> int`.", "", [], probabilities)  # "": code may run
    assert isinstance(judge, Chosen) and judge.checks == [] and judge.domain == "code"
    assert isinstance(choose("Write `count_vowels(s: str) -> int`.", "execution is off", [], probabilities), ScoreJudge)
    assert isinstance(choose("A pen costs 3 dollars. What do 4 pens cost?", "", [], probabilities), VoteJudge)
