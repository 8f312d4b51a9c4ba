"""Verified fusion: several candidates (the strongest fit expert's greedy answer, a program from the coder,
samples from the strongest, other fit experts last) judged by evidence rather than confidence. A team beats its best member
where someone can check an answer: the prompt's own examples, or agreement on a number."""
from __future__ import annotations

import time
from dataclasses import replace
from typing import Mapping, Sequence

from edge_runtime.config import Config
from edge_runtime.errors import EdgeRuntimeError
from edge_runtime.generation import Pieces, Request
from edge_runtime.router.routing import Route
from edge_runtime.evidence.answers import asks_for_number
from edge_runtime.evidence.checks import extract_checks
from edge_runtime.evidence.layers import allowed, refusal
from edge_runtime.fusion.base import Team
from edge_runtime.fusion.candidates import Candidate, Spec, generate, lineup
from edge_runtime.fusion.judges import Judge, choose


def verifiable(prompt: str, execute_code: bool, probabilities: Mapping[str, float]) -> bool:
    """Whether a confident route is worth verifying: examples it may run, or a number to vote on. A named
    function without examples is judged by behaviour only when the router is unsure: on the fresh code
    sample behaviour clusters did not yet beat the single expert (docs/team.md), and the default path
    (`make run`'s refactor prompt) should not pay several candidates and a held-back stream for it."""
    if asks_for_number(prompt, probabilities):
        return True
    return execute_code and bool(extract_checks(prompt))


def fit_experts(config: Config, judge: Judge, plan: list[str], language: str) -> list[str]:
    """The experts whose answers may be candidates, strongest first: those the config says serve the
    judge's domain and read the language (never a writing model's code), else the fusion plan's."""
    fit = [n for n in config.experts_for(judge.domain) if config.expert(n).reads(language)] if judge.domain else []
    return fit or plan


def coder(config: Config, language: str) -> str | None:
    """The expert that writes programs: the first code expert that reads the prompt's language."""
    names = [n for n in config.experts_for("code") if config.expert(n).reads(language)]
    return names[0] if names else None


class VerifiedFusion:
    name = "verify"

    def run(self, team: Team, route: Route, plan: list[tuple[str, float]], request: Request,
            notes: list[str]) -> Pieces:
        started = time.perf_counter()
        config = team.loader.config
        refused = "" if allowed(config.execute_code) else refusal(config.execute_code)
        judge = choose(request.user_text, refused, notes, route.probabilities)
        experts = fit_experts(config, judge, [name for name, _ in plan], route.language)
        strongest = team.loader.strongest(experts)
        experts = [strongest] + [e for e in experts if e != strongest]
        specs = lineup(experts, strongest, coder(config, route.language), judge.kinds,
                       config.fusion_max_candidates, judge.code_only)
        try:
            spent = judge.prepare(team, strongest, route, request, notes)
        except EdgeRuntimeError as exc:  # judging goes on with the prompt's own examples
            notes.append(f"verify: no test inputs from {strongest!r}: {exc.message}")
            spent = 0
        made, stopped = self._candidates(team, route, specs, judge, request, notes, started)
        index, why, text = judge.pick(team, made, request, notes)
        chosen = made[index]
        label = f"{chosen.spec.kind} answer of {chosen.spec.expert}"
        fusion = {"mode": self.name, "judge": judge.name, "candidates": [c.entry() for c in made],
                  "winner": chosen.spec.expert, "winner_index": index, "why": f"{label}: {why}",
                  "stopped": stopped, "seconds": round(time.perf_counter() - started, 3),
                  "tokens": spent + sum(c.result.stats.completion_tokens for c in made)}  # all it generated
        yield text
        reason = f"fused: verified by {judge.name}, {label}: {why} ({stopped})"
        return team.account(replace(chosen.result, text=text, route=route.to(chosen.spec.expert, reason),
                                    notes=notes, fusion=fusion))

    @staticmethod
    def _candidates(team: Team, route: Route, specs: Sequence[Spec], judge: Judge, request: Request,
                    notes: list[str], started: float) -> tuple[list[Candidate], str]:
        """Generate and weigh candidates in order until the judge is settled or a cap is reached."""
        time_s = team.loader.config.fusion_time_s
        made: list[Candidate] = []
        for i, spec in enumerate(specs):
            if made and time.perf_counter() - started > time_s:
                return made, f"time cap of {time_s:g}s reached after {len(made)} candidates"
            try:
                candidate = generate(team, route, spec, request, notes)
            except EdgeRuntimeError as exc:
                if not made and i == len(specs) - 1:
                    raise
                notes.append(f"{spec.kind} candidate of {spec.expert!r} left out: {exc.message}")
                continue
            made.append(candidate)
            request.report(f"candidate {i + 1}/{len(specs)} {spec.expert} {spec.kind}: {judge.weigh(candidate)}")
            settled = judge.settled(made, len(specs) - i - 1)
            if settled:
                return made, settled
        return made, f"all {len(specs)} candidates answered"
