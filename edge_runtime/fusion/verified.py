"""Verified fusion: several candidates (each planned expert's greedy answer, samples from the strongest,
a program from the coder) judged by evidence rather than confidence. A team beats its best member
where someone can check an answer: the prompt's own examples, or agreement on a number."""
from __future__ import annotations

import time
from dataclasses import replace
from typing import Sequence

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


def verifiable(prompt: str, execute_code: bool) -> bool:
    """Whether verification has evidence to judge by: examples it may run, or a number to vote on."""
    return asks_for_number(prompt) or (execute_code and bool(extract_checks(prompt)))


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
        judge = choose(request.user_text, refused, notes)
        experts = [name for name, _ in plan]
        specs = lineup(experts, team.loader.strongest(experts), coder(config, route.language), judge.kinds,
                       config.fusion_max_candidates, judge.code_only)
        made, stopped = self._candidates(team, route, specs, judge, request, notes, started)
        index, why, text = judge.pick(team, made, request, notes)
        chosen = made[index]
        label = f"{chosen.spec.kind} answer of {chosen.spec.expert}"
        fusion = {"mode": self.name, "judge": judge.name, "candidates": [c.entry() for c in made],
                  "winner": chosen.spec.expert, "winner_index": index, "why": f"{label}: {why}",
                  "stopped": stopped, "seconds": round(time.perf_counter() - started, 3)}
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
