"""Candidates for verified fusion: which answers to generate, in what order, and generating one.

Candidates are text, generated one after another, so only one expert is held at a time.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

from edge_runtime.chat import Message
from edge_runtime.generation import GenerationResult, Request
from edge_runtime.router.routing import Route
from edge_runtime.fusion.base import Team, drain

SAMPLE_TEMPERATURE = 0.7  # diverse enough to leave the greedy answer's mistakes, still on topic
PROGRAM_ASK = ("{}\n\nDo not answer in words. Write a short Python program that computes the answer and prints "
               "only the final number. Reply with one Python code block.")  # asked first, the number came bare
CODE_ASK = "{}\n\nReply with only the complete Python code in one code block, without explanation."
FENCE_END = "\n```\n"  # the first block's closing fence: what follows is explanation the checks do not read


@dataclass(frozen=True)
class Spec:
    """One candidate to generate: an expert's greedy answer, a sample (with its seed), or a program."""

    expert: str
    kind: str  # greedy | sample | program
    seed: int = 0
    code_only: bool = False  # asked for the code alone (the checks judge runs code, never reads prose)

    @property
    def asked(self) -> str:
        """How the prompt was put to the expert, as the result reports it."""
        return "program" if self.kind == "program" else "code only" if self.code_only else "as written"


@dataclass
class Candidate:
    spec: Spec
    result: GenerationResult
    seconds: float
    evidence: dict[str, Any]  # what the judge found: passed/total, answer, or score

    @property
    def text(self) -> str:
        return self.result.text

    def entry(self) -> dict[str, Any]:
        """The candidate as the result's `fusion` field reports it."""
        return {"expert": self.spec.expert, "kind": self.spec.kind, "asked": self.spec.asked, **self.evidence,
                "seconds": round(self.seconds, 3), "completion_tokens": self.result.stats.completion_tokens,
                "text": self.text}


def lineup(experts: list[str], strongest: str, coder: str | None, kinds: tuple[str, ...], cap: int,
           code_only: bool = False) -> list[Spec]:
    """The candidates in the order they are tried, strength first: the strongest expert's greedy answer
    (ties go to it), the program (the vote's strongest evidence), the strongest's samples, and only
    then, where samples are not wanted or the cap allows, the other experts' greedy answers."""
    greedy = [Spec(name, "greedy", code_only=code_only) for name in experts]
    program = [Spec(coder, "program")] if coder and "program" in kinds else []
    samples = ([Spec(strongest, "sample", seed, code_only) for seed in range(1, cap + 1)]
               if "sample" in kinds else [])
    return (greedy[:1] + program + samples + greedy[1:])[:cap]


def request_for(spec: Spec, request: Request) -> Request:
    """The request as this candidate asks it: greedy or sampled with its own seed; as written, for the
    code alone (stopping at the block's end), or as a program."""
    if spec.kind == "sample":
        seed = (request.params.seed or 0) + spec.seed
        request = replace(request, params=replace(request.params, temperature=SAMPLE_TEMPERATURE, seed=seed))
    else:
        request = replace(request, params=replace(request.params, temperature=0.0))
    if spec.kind == "program":
        return replace(request, prompt=_ask(request.prompt, PROGRAM_ASK))
    if spec.code_only:
        return replace(request, prompt=_ask(request.prompt, CODE_ASK), stop=[*request.stop, FENCE_END])
    return request


def _ask(prompt: str | list[Message], template: str) -> str | list[Message]:
    """The prompt with its (last) user message put through `template`."""
    if isinstance(prompt, str):
        return template.format(prompt)
    last = max(i for i, m in enumerate(prompt) if m.get("role") == "user")
    return [*prompt[:last], {**prompt[last], "content": template.format(prompt[last]["content"])},
            *prompt[last + 1:]]


def _closed(text: str) -> str:
    """A reply stopped at FENCE_END lacks its closing fence; the user gets it back."""
    return text + "\n```" if text.count("```") % 2 else text


def generate(team: Team, route: Route, spec: Spec, request: Request, notes: list[str]) -> Candidate:
    """One candidate, speculative as configured (raises when its expert cannot load)."""
    started = time.perf_counter()
    result = drain(team.answer(route.to(spec.expert, "fusion candidate"), request_for(spec, request), notes))
    if spec.code_only:
        result = replace(result, text=_closed(result.text))
    return Candidate(spec, result, time.perf_counter() - started, {})
