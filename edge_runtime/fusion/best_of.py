"""Response-level fusion: each expert answers in turn (candidates are text, so only one expert needs to
be held at a time); replies that pass the prose checks (edge_runtime.evidence.prose) come first, and the
strongest expert's mean token log-probability picks among them."""
from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

from edge_runtime.models.backends.base import CausalLM
from edge_runtime.chat import encode_prompt
from edge_runtime.errors import EdgeRuntimeError
from edge_runtime.evidence.prose import assess
from edge_runtime.generation import GenerationResult, Pieces, Request
from edge_runtime.router.routing import Route
from edge_runtime.sampling import log_softmax
from edge_runtime.fusion.base import Team, drain


def score_response(scorer: CausalLM, prompt_ids: list[int], response: str, chunk: int = 8) -> float:
    """Mean log-probability per token of `response` after `prompt_ids` under `scorer`.

    Small chunks: each row of logits becomes float64 copies here (152k-token vocabularies: 1.2 MB a
    row), memory the budget's plan does not hold.
    """
    ids = scorer.tokenize(response, add_bos=False)
    if not ids:
        return float("-inf")
    scorer.truncate(0)
    prev = scorer.forward(prompt_ids, logits_for=1)[0].astype(np.float64)  # predicts ids[0]
    total = 0.0
    for start in range(0, len(ids), chunk):
        part = ids[start:start + chunk]
        out = scorer.forward(part, logits_for=len(part)).astype(np.float64)
        rows = log_softmax(np.vstack([prev, out[:-1]]))
        total += float(rows[np.arange(len(part)), part].sum())
        prev = out[-1]
    return total / len(ids)


def score_answers(team: Team, experts: list[str], texts: list[str], request: Request,
                  notes: list[str]) -> tuple[str, list[float]]:
    """The strongest of `experts` (the best judge) and its mean log-prob of each text."""
    scorer_name = team.loader.strongest(experts)
    with team.loader.pinned(scorer_name, notes) as scorer:
        prompt_ids = encode_prompt(scorer, request.prompt, raw=request.raw)
        return scorer_name, [score_response(scorer, prompt_ids, text) for text in texts]


def answer_in_turn(team: Team, route: Route, names: list[str], request: Request,
                   notes: list[str]) -> list[tuple[str, GenerationResult]]:
    """Each expert's answer, one after another; an expert that cannot load is left out and said so."""
    answers = []
    for name in names:
        try:
            answers.append((name, drain(team.answer(route.to(name, "fusion candidate"), request, notes))))
        except EdgeRuntimeError as exc:
            if not answers and name == names[-1]:
                raise
            notes.append(f"expert {name!r} left out of fusion: {exc.message}")
    return answers


class BestOfFusion:
    name = "best-of"

    def run(self, team: Team, route: Route, plan: list[tuple[str, float]], request: Request,
            notes: list[str]) -> Pieces:
        started = time.perf_counter()
        answers = answer_in_turn(team, route, [name for name, _ in plan], request, notes)
        scorer_name, scores = score_answers(team, [n for n, _ in answers], [r.text for _, r in answers],
                                            request, notes)
        failures = [assess(request.user_text, r.text) for _, r in answers]  # a failing reply never wins over
        best = max(range(len(answers)), key=lambda i: (not failures[i], scores[i], -i))  # one that passes
        name, chosen = answers[best]
        reason = "fused: best of " + ", ".join(f"{n} {s:.3f}" for (n, _), s in zip(answers, scores)) \
            + f" (prose checks first, then mean log-prob under {scorer_name})"
        fusion = {"mode": self.name, "winner": name, "seconds": round(time.perf_counter() - started, 3),
                  "candidates": [{"expert": n, "score": round(s, 4), "failures": f,
                                  "completion_tokens": r.stats.completion_tokens}
                                 for (n, r), s, f in zip(answers, scores, failures)]}
        yield chosen.text
        return team.account(replace(chosen, route=route.to(name, reason), notes=notes, fusion=fusion))
