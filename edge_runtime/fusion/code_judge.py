"""Judging code candidates: the prompt's own examples first, then agreement in behaviour on test inputs
the coder wrote (CodeT / MBR-exec). Candidates come from the strongest code expert (greedy, then
samples), and the search stops as soon as the checks pass and two candidates agree."""
from __future__ import annotations

from dataclasses import replace
from typing import Sequence

from edge_runtime.generation import Request
from edge_runtime.router.routing import Route
from edge_runtime.evidence.behaviour import INPUTS_ASK, MAX_INPUTS, behaviour, cluster_sizes, fingerprint, parse_inputs
from edge_runtime.evidence.checks import Check, extract_code, run_checks
from edge_runtime.fusion.base import Team, drain
from edge_runtime.fusion.candidates import Candidate

INPUTS_TOKENS = 200  # enough for MAX_INPUTS one-line calls


class CodeJudge:
    """Most of the prompt's checks passed wins; among equals, the largest cluster of candidates that
    return the same values on the coder's test inputs; then the earlier (stronger) candidate."""

    name = "checks + behaviour"
    kinds = ("greedy", "sample")
    code_only = True
    domain = "code"

    def __init__(self, checks: list[Check], function: str | None) -> None:
        self.checks, self.function = checks, function
        self.inputs: list[str] = [c.source for c in checks if c.expected is not None]  # expressions, not asserts

    def prepare(self, team: Team, expert: str, route: Route, request: Request, notes: list[str]) -> int:
        """Ask `expert` for test inputs (greedy, short); the tokens it spent."""
        if self.function is None:
            return 0
        ask = INPUTS_ASK.format(prompt=request.user_text, n=MAX_INPUTS - 2, name=self.function)
        asked = replace(request, prompt=ask, max_tokens=INPUTS_TOKENS, stop=[],
                        params=replace(request.params, temperature=0.0))
        result = drain(team.answer(route.to(expert, "fusion test inputs"), asked, notes))
        written = [c for c in parse_inputs(result.text, self.function) if c not in self.inputs]
        self.inputs = (self.inputs + written)[:MAX_INPUTS]
        request.report(f"test inputs: {len(written)} written by {expert}")
        return result.stats.completion_tokens

    def weigh(self, candidate: Candidate) -> str:
        code = extract_code(candidate.text, self.function)
        passed = run_checks(code, self.checks).passed if code and self.checks else 0
        key = fingerprint(behaviour(code, self.inputs))
        candidate.evidence = {"passed": passed, "total": len(self.checks), "behaviour": key}
        return f"code passed {passed}/{len(self.checks)}, behaviour {key}"

    def _standing(self, candidates: Sequence[Candidate]) -> tuple[int, list[int]]:
        """The most checks passed, and each candidate's cluster size among those that passed as many."""
        best = max(c.evidence["passed"] for c in candidates)
        keys = [c.evidence["behaviour"] if c.evidence["passed"] == best else None for c in candidates]
        return best, cluster_sizes(keys)

    def settled(self, candidates: Sequence[Candidate], remaining: int) -> str | None:
        best, sizes = self._standing(candidates)
        if self.checks and best < len(self.checks):
            return None
        leaders = sum(c.evidence["passed"] == best for c in candidates)
        top = max(sizes)
        if top >= 2 and 2 * top > leaders:
            return f"{top} of {len(candidates)} candidates agree on {len(self.inputs)} inputs"
        if not self.inputs and self.checks:
            return "a candidate passed every check (no inputs to compare behaviour on)"
        return None

    def pick(self, team: Team, candidates: Sequence[Candidate], request: Request,
             notes: list[str]) -> tuple[int, str, str]:
        best, sizes = self._standing(candidates)
        index = max(range(len(candidates)), key=lambda i: (candidates[i].evidence["passed"], sizes[i], -i))
        why = (f"passed {best}/{len(self.checks)} of the prompt's checks; {sizes[index]} of {len(candidates)} "
               f"candidates behave alike on {len(self.inputs)} inputs")
        return index, why, candidates[index].text
