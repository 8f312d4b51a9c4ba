"""Judging candidates by evidence: the prompt's own examples run against each candidate's code, a vote
on the final number, or (with neither) the strongest expert's score, as best-of does."""
from __future__ import annotations

from typing import Mapping, Protocol, Sequence

from edge_runtime.generation import Request
from edge_runtime.router.routing import Route
from edge_runtime.evidence.answers import asks_for_code, asks_for_number, final_number, program_answer, vote
from edge_runtime.evidence.checks import extract_checks, extract_code, function_name
from edge_runtime.evidence.prose import assess
from edge_runtime.fusion.base import Team
from edge_runtime.fusion.best_of import score_answers
from edge_runtime.fusion.candidates import Candidate
from edge_runtime.fusion.code_judge import CodeJudge


class Judge(Protocol):
    name: str
    kinds: tuple[str, ...]  # the candidate kinds worth generating for this judge
    code_only: bool  # whether candidates are asked for the code alone
    domain: str | None  # candidates only from experts serving this domain; None: the fusion plan's

    def prepare(self, team: Team, expert: str, route: Route, request: Request, notes: list[str]) -> int:
        """Gather what judging needs before any candidate (test inputs); the tokens it spent."""

    def weigh(self, candidate: Candidate) -> str:
        """Record the candidate's evidence; a few words for the progress line."""

    def settled(self, candidates: Sequence[Candidate], remaining: int) -> str | None:
        """Why no further candidate could change the pick, or None."""

    def pick(self, team: Team, candidates: Sequence[Candidate], request: Request,
             notes: list[str]) -> tuple[int, str, str]:
        """The winner's index, why it won, and the reply to give."""


def choose(prompt: str, refused: str, notes: list[str], probabilities: Mapping[str, float]) -> Judge:
    """Code judged by checks and behaviour when the prompt asks for a named function (or carries examples)
    and code may run; a vote when it asks for a number; otherwise best-of. `refused` says why model-written
    code may not run here ('' when it may); the notes repeat it wherever that cost evidence."""
    checks, function = extract_checks(prompt), function_name(prompt)
    if not refused and (checks or (function and asks_for_code(prompt))):
        return CodeJudge(checks, function)
    if checks:
        notes.append(f"verify: the prompt's {len(checks)} example(s) were not run: {refused}")
    if asks_for_number(prompt, probabilities):
        if refused:
            notes.append(f"verify: no program candidate: {refused}")
        return VoteJudge(not refused)
    return ScoreJudge()


class VoteJudge:
    """Self-consistency on the final number; a program's printed number is one more vote.

    With code execution on, any reply whose code prints a number answers with what the code really
    printed (small coders write the right program and then invent its output), and such a computed
    answer weighs EXECUTED_WEIGHT: it breaks a tie against recalled arithmetic. A reply cut off by
    max_tokens votes with half weight: its last number is often a step, not the answer.
    """

    name = "vote"
    code_only = False
    domain = "math"
    EXECUTED_WEIGHT = 1.5

    def __init__(self, run_programs: bool) -> None:
        self.run_programs = run_programs
        self.kinds = ("greedy", "program", "sample") if run_programs else ("greedy", "sample")

    def prepare(self, team: Team, expert: str, route: Route, request: Request, notes: list[str]) -> int:
        return 0

    def weigh(self, candidate: Candidate) -> str:
        executed = program_answer(candidate.text) if self.run_programs else None
        program = candidate.spec.kind == "program"
        answer = executed if executed is not None or program else final_number(candidate.text)
        cut_off = candidate.result.stats.finish_reason == "length" and executed is None
        candidate.evidence = {"answer": answer, "cut_off": cut_off, "executed": executed is not None}
        return f"answer {answer}" + (" (computed)" if executed is not None else " (cut off)" if cut_off else "")

    @classmethod
    def _ballots(cls, candidates: Sequence[Candidate]) -> tuple[list[str | None], list[float]]:
        def weight(evidence: dict) -> float:
            return cls.EXECUTED_WEIGHT if evidence.get("executed") else 0.5 if evidence["cut_off"] else 1.0
        return [c.evidence["answer"] for c in candidates], [weight(c.evidence) for c in candidates]

    def settled(self, candidates: Sequence[Candidate], remaining: int) -> str | None:
        answers, weights = self._ballots(candidates)
        leader, _ = vote(answers, weights)
        if leader is None:
            return None
        tally: dict[str, float] = {}
        for answer, weight in zip(answers, weights):
            if answer is not None:
                tally[answer] = tally.get(answer, 0.0) + weight
        agreeing = sum(a == leader for a in answers)
        lead, second = tally.pop(leader), max(tally.values(), default=0.0)
        if agreeing >= 2 and lead >= 2.0 and lead > sum(tally.values()):  # adaptive: two full votes agreeing
            # and outweighing the rest end it; a conflict draws more
            return f"{agreeing} candidates agree on {leader}, outweighing every other answer"
        first = next(a for a in answers if a is not None) == leader  # `vote` gives ties to the first seen
        left = remaining * self.EXECUTED_WEIGHT if self.run_programs else remaining  # the most they could add
        if lead > second + left or (lead == second + left and first):
            return f"{leader} leads and the {remaining} candidate(s) left cannot overturn it"
        return None

    def pick(self, team: Team, candidates: Sequence[Candidate], request: Request,
             notes: list[str]) -> tuple[int, str, str]:
        winner, share = vote(*self._ballots(candidates))
        if winner is None:
            return 0, "no candidate gave a number", candidates[0].text
        agree = [i for i, c in enumerate(candidates) if c.evidence["answer"] == winner]
        why = f"{len(agree)} of {len(candidates)} candidates answer {winner} ({share:.0%} of the vote)"
        worded = [i for i in agree if candidates[i].spec.kind != "program"
                  and final_number(candidates[i].text) == winner]  # its own words say the winning number
        if worded:
            return worded[0], why, candidates[worded[0]].text
        program = extract_code(candidates[agree[0]].text)
        return agree[0], why, f"Computed by running this program:\n\n```python\n{program}\n```\n\nAnswer: {winner}"


class ScoreJudge:
    """No evidence to run: among the replies that pass the prose checks (shape asked, no loop or echo, the
    prompt's language; all of them when none passes), the strongest expert's mean log-probability picks."""

    name = "best-of"
    kinds = ("greedy",)
    code_only = False
    domain = None

    def prepare(self, team: Team, expert: str, route: Route, request: Request, notes: list[str]) -> int:
        return 0

    def weigh(self, candidate: Candidate) -> str:
        return "answered"

    def settled(self, candidates: Sequence[Candidate], remaining: int) -> str | None:
        return None

    def pick(self, team: Team, candidates: Sequence[Candidate], request: Request,
             notes: list[str]) -> tuple[int, str, str]:
        scorer, scores = score_answers(team, [c.spec.expert for c in candidates], [c.text for c in candidates],
                                       request, notes)
        failures = [assess(request.user_text, c.text) for c in candidates]
        for c, s, f in zip(candidates, scores, failures):
            c.evidence = {"score": round(s, 4), "failures": f}
        best = max(range(len(candidates)), key=lambda i: (not failures[i], scores[i], -i))
        checked = "passes the prose checks, " if not failures[best] else ""
        return best, f"{checked}highest mean log-prob under {scorer} ({scores[best]:.3f})", candidates[best].text
