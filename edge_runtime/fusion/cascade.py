"""The cascade for prose (FrugalGPT's, with checks instead of a learned scorer): the cheapest expert answers,
its reply is checked (`edge_runtime.evidence.prose.assess`: shape asked, loops, echo, language), and the next,
stronger expert answers only when the check fails. When none passes and `cascade_repair` is on, the last expert
is told what its reply lacks (the shapes it missed, a loop, the language) and rewrites it once. The reply with
the fewest failures wins, a later one on a tie: a failing reply never beats a passing one."""
from __future__ import annotations

import time
from dataclasses import replace

from edge_runtime.errors import EdgeRuntimeError
from edge_runtime.evidence.prose import assess
from edge_runtime.evidence.shapes import check_shape, demand, extract_shapes
from edge_runtime.generation import GenerationResult, Pieces, Request
from edge_runtime.router.routing import Route
from edge_runtime.fusion.base import Team, drain


def cascade_experts(team: Team, language: str) -> list[str]:
    """The configured cascade, less the experts that do not read the prompt's language."""
    config = team.loader.config
    return [name for name in config.cascade if config.expert(name).reads(language)]


Attempt = tuple[str, GenerationResult, list[str], float, str]  # expert, result, failures, seconds, answer|rewrite


class CascadeFusion:
    name = "cascade"

    def run(self, team: Team, route: Route, plan: list[tuple[str, float]], request: Request,
            notes: list[str]) -> Pieces:
        started = time.perf_counter()
        tried: list[Attempt] = []
        names = [name for name, _ in plan]
        for name in names:
            began = time.perf_counter()
            try:
                result = drain(team.answer(route.to(name, "cascade"), request, notes))
            except EdgeRuntimeError as exc:
                if not tried and name == names[-1]:
                    raise
                notes.append(f"expert {name!r} left out of the cascade: {exc.message}")
                continue
            failures = assess(request.user_text, result.text)
            tried.append((name, result, failures, time.perf_counter() - began, "answer"))
            request.report(f"cascade {name}: " + ("passed" if not failures else "; ".join(failures)))
            if not failures:
                break
        if tried and tried[-1][2] and team.loader.config.cascade_repair:
            tried.append(self._repair(team, route, request, tried[-1], notes))
        best = min(range(len(tried)), key=lambda i: (len(tried[i][2]), -i))
        name, chosen, failures, _, kind = tried[best]
        why = ("its rewrite " if kind == "rewrite" else "") + (
            "passed its checks" if not failures else f"fewest failures ({'; '.join(failures)})")
        fusion = {"mode": self.name, "winner": name, "why": why, "seconds": round(time.perf_counter() - started, 3),
                  "candidates": [{"expert": n, "kind": k, "failures": f, "seconds": round(s, 3),
                                  "completion_tokens": r.stats.completion_tokens, "text": r.text}
                                 for n, r, f, s, k in tried]}
        yield chosen.text
        return team.account(replace(chosen, route=route.to(name, f"cascade: {name} {why}"), notes=notes,
                                    fusion=fusion))

    @staticmethod
    def _repair(team: Team, route: Route, request: Request, last: Attempt, notes: list[str]) -> Attempt:
        """The last expert's reply rewritten after it is told what the checks found missing."""
        began = time.perf_counter()
        name, result = last[0], last[1]
        prompt = request.prompt
        messages = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else list(prompt)
        asked = repair_request(request.user_text, result.text, route.language)
        messages += [{"role": "assistant", "content": result.text}, {"role": "user", "content": asked}]
        repaired = drain(team.answer(route.to(name, "cascade repair"), replace(request, prompt=messages), notes))
        failures = assess(request.user_text, repaired.text)
        request.report(f"cascade {name} rewrite: " + ("passed" if not failures else "; ".join(failures)))
        return name, repaired, failures, time.perf_counter() - began, "rewrite"


def repair_request(prompt: str, reply: str, language: str) -> str:
    """What to ask of a reply that failed: the missed shapes as demands, plus no repeats and the language."""
    demands = [demand(s, language) for s in extract_shapes(prompt) if check_shape(s, reply)]
    if language == "ja":
        demands += ["同じ文をくり返さない", "自然な日本語だけで書く"]
        return "次の条件をすべて満たすように書き直してください：" + "、".join(demands) + "。書き直した答えだけを書いてください。"
    demands.append("does not repeat itself")
    return "Rewrite your answer so that it " + "; ".join(demands) + ". Reply with the rewritten answer only."
