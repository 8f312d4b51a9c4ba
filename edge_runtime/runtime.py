"""Runtime: route -> plan -> pool -> decode or fuse. Thin wiring of the stages; each lives in its own module."""
from __future__ import annotations

from dataclasses import replace
from typing import Callable, Sequence

from edge_runtime.models.backends import CausalLM
from edge_runtime.models.backends.base import default_threads
from edge_runtime.chat import Message, encode_prompt
from edge_runtime.config import Config, load_config
from edge_runtime.models.loader import ExpertLoader
from edge_runtime.fusion import strategy, verifiable
from edge_runtime.generation import Generation, GenerationResult, Pieces, Request, TextStream
from edge_runtime.memory.budget import ModelPool, budget_bytes, peak_rss_bytes
from edge_runtime.tuning.profile import verify_mode
from edge_runtime.router.routing import Route, Routing
from edge_runtime.sampling import SamplingParams
from edge_runtime.speculative.decoder import Decoder
from edge_runtime.speculative.drafters import Drafter
from edge_runtime.speculative.factory import DrafterFactory


class Runtime:
    def __init__(self, config: Config | None = None, *, threads: int | None = None,
                 memory_budget: str | None = None) -> None:
        self.config = config or load_config()
        self.threads = threads or self.config.threads or default_threads()
        self.budget = budget_bytes(memory_budget or self.config.memory_budget)  # the whole process
        self.pool = ModelPool(self.budget, self.config.gpu_memory_budget)
        self.routing = Routing(self.config)
        self.loader = ExpertLoader(self.config, self.pool, self.threads)
        self.drafters = DrafterFactory(self.config.speculative, self.loader)
        self._decoders: dict[str, Decoder] = {}  # per model key: keeps its KV cache's prompt prefix

    def route(self, text: str) -> Route:
        """The expert for a prompt: the router's top domain mapped through the config."""
        return self.routing.route(text)

    def stream(self, prompt: str | list[Message], *, expert: str = "auto", draft: str | None = None,
               max_tokens: int = 256, params: SamplingParams | None = None, stop: Sequence[str] = (),
               raw: bool = False, progress: Callable[[str], None] | None = None,
               verify: str | None = None) -> Generation:
        """Start a generation; iterate the returned object for text, then read `.result`.

        With `expert="auto"` and a router that is unsure, the top experts are fused; `progress` hears of
        each fusion candidate while the answer waits for the judging. `verify`: exact (output identical to
        plain greedy), fast, or auto (default: the config's, then the tuned profile's).
        """
        request = Request(prompt, draft or self.config.speculative.draft, max_tokens, params or SamplingParams(),
                          stop, raw, progress, verify or self.config.speculative.verify)
        if expert != "auto":
            return Generation(self.answer(self.routing.forced(expert, request.user_text), request, []))
        route = self.route(request.user_text)
        ranked = self.routing.ranked(route)
        plan = self.fusion_plan(route, ranked, request)
        if plan:
            return Generation(strategy(self.config.fusion).run(self, route, plan, request, []))
        return Generation(self.answer(route, request, [], [name for name, _ in ranked]))

    def fusion_plan(self, route: Route, ranked: list[tuple[str, float]], request: Request) -> list[tuple[str, float]]:
        """The experts to fuse, or none. Unsure routes fuse their top experts. Verified fusion also checks
        answers a confident route gives when there is evidence (examples to run, a number to vote on):
        that is where a team beats its best member, even one expert with samples and a program."""
        cfg = self.config
        plan = ranked[:cfg.fusion_experts]
        if cfg.fusion == "verify":
            return plan if not route.confident or verifiable(request.user_text, cfg.execute_code, route.probabilities) else []
        return plan if not route.confident and len(plan) > 1 else []

    def answer(self, route: Route, request: Request, notes: list[str], ranked: Sequence[str] = ()) -> Pieces:
        """One expert's answer (the next best of `ranked` when it cannot load), speculative as configured."""
        with self.loader.routed(route, list(ranked), notes) as (route, target):
            exp = self.config.expert(route.expert)
            ids = encode_prompt(target, request.prompt, raw=request.raw)
            drafter = self.drafters.create(exp, target, request.draft, request.params, notes)
            with self.pool.pinned(self.drafters.draft_key(exp)):
                return (yield from self.decode(route, target, exp.name, drafter, ids, request, notes))

    def decode(self, route: Route, target: CausalLM, key: str, drafter: Drafter | None, ids: list[int],
               request: Request, notes: list[str]) -> Pieces:
        """Stream one decoder's text, then its result."""
        profile = self.loader.profile(getattr(target, "path", None))  # a mixture has no file: none
        decoder = self._decoders.get(key)
        if decoder is None or decoder.target is not target:
            spec = self.config.speculative
            decoder = self._decoders[key] = Decoder(target, max_draft=spec.max_draft, min_draft=spec.min_draft,
                                                    fast_max_draft=spec.fast_max_draft, cost=profile.cost() if profile else None)
        decoder.drafter = drafter
        verify = verify_mode(request.verify, profile)
        text = TextStream(target, request.stop)
        for ids_step in decoder.generate(ids, max_tokens=request.max_tokens, params=request.params, verify=verify):
            piece = text.feed(ids_step)
            if piece:
                yield piece
            if text.stopped:
                decoder.stats.finish_reason = "stop"
                break
        tail = text.flush()
        if tail:
            yield tail
        return self.account(GenerationResult(text.text, route, drafter.name if drafter else "none", decoder.stats,
                                             verify, 0, notes))

    def account(self, result: GenerationResult) -> GenerationResult:
        """The result with the pool's and the process's figures as of now."""
        pool = self.pool
        return replace(result, peak_rss_bytes=peak_rss_bytes(), pool_loads=pool.loads,
                       pool_evictions=pool.evictions, footprints=dict(pool.footprints))

    def generate(self, prompt: str | list[Message], **kwargs: object) -> GenerationResult:
        generation = self.stream(prompt, **kwargs)  # type: ignore[arg-type]
        for _ in generation:
            pass
        assert generation.result is not None
        return generation.result

    def verify_defaults(self) -> dict[str, str]:
        """Per expert, the verify mode a request that leaves it to the runtime gets (for /health)."""
        spec = self.config.speculative.verify
        return {name: verify_mode(spec, self.loader.profile(self.loader.path_of(exp.model, exp.layout)))
                for name, exp in self.config.experts.items()}

    def close(self) -> None:
        self._decoders.clear()
        self.pool.close()
