"""Runtime: route -> plan -> pool -> decode or fuse. Thin wiring of the stages; each lives in its own module."""
from __future__ import annotations

from dataclasses import replace
from typing import Callable, Sequence

from edge_runtime.errors import ConfigError
from edge_runtime.models.backends import CausalLM, is_onnx
from edge_runtime.models.backends.lanes import lane
from edge_runtime.models.backends.base import default_threads
from edge_runtime.chat import Message, encode_prompt
from edge_runtime.constrain.grammars import Grammar
from edge_runtime.constrain.matcher import Constraint
from edge_runtime.constrain.request import structure
from edge_runtime.constrain.grounding import declined
from edge_runtime.constrain.tools import call_grammar, intended_call, parse_calls, text_grammar
from edge_runtime.config import Config, load_config
from edge_runtime.models.loader import ExpertLoader
from edge_runtime.evidence.layers import allowed as execution_allowed
from edge_runtime.fusion import strategy, verifiable
from edge_runtime.evidence.shapes import extract_shapes
from edge_runtime.fusion.cascade import CascadeFusion, cascade_experts
from edge_runtime.language.hints import with_language_hint
from edge_runtime.evidence.guide import ShapeGuide, lowercase_mask
from edge_runtime.language.mask import LogitMask, japanese_mask
from edge_runtime.generation import Generation, GenerationResult, Pieces, Request, TextStream
from edge_runtime.cache.prefix import PrefixCache, prefix_cache_for
from edge_runtime.memory.budget import ModelPool, budget_bytes, parse_size, peak_rss_bytes
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
        self._decoders: dict[tuple[str, int], Decoder] = {}  # per model key and lane: its KV cache's prompt prefix
        self._prefix: dict[str, PrefixCache | None] = {}  # per model key: earlier requests' KV states

    def serve_parallel(self, lanes: int) -> None:
        """Give each GGUF model `lanes` KV sequences, one per generation a server runs at once (their
        forwards are batched, lanes.py). Models loaded before with another count are unloaded."""
        for exp in self.config.experts.values():
            path = self.loader.path_of(exp.model, exp.layout)
            if lanes > 1 and (exp.rpc or (path is not None and is_onnx(path))):
                raise ConfigError(f"expert {exp.name!r} cannot decode requests in parallel (an ONNX or RPC model "
                                  "has one sequence)", "set parallel = 1 (serve --parallel 1)")
        if lanes != self.loader.lanes:
            self._decoders.clear()
            self.pool.close()
            self.loader.lanes = lanes

    def route(self, text: str) -> Route:
        """The expert for a prompt: the router's top domain mapped through the config."""
        return self.routing.route(text)

    def stream(self, prompt: str | list[Message], *, expert: str = "auto", draft: str | None = None,
               max_tokens: int = 256, params: SamplingParams | None = None, stop: Sequence[str] = (),
               raw: bool = False, progress: Callable[[str], None] | None = None,
               verify: str | None = None, response_format: dict | None = None, tools: list | None = None,
               tool_choice: str | dict | None = None, parallel_tool_calls: bool = True,
               grammar: Grammar | None = None, jump_forward: bool = True) -> Generation:
        """Start a generation; iterate the returned object for text, then read `.result`.

        With `expert="auto"` and a router that is unsure, the top experts are fused; `progress` hears of
        each fusion candidate while the answer waits for the judging. `verify`: exact (output identical to
        plain greedy), fast, or auto (default: the config's, then the tuned profile's). `response_format`,
        `tools`, `tool_choice`, `parallel_tool_calls` as in OpenAI's API, or a `grammar` of your own
        (constrain.grammars): the reply is decoded under it, and `.result.tool_calls` holds the calls made.
        """
        shape = structure(response_format, tools, tool_choice, parallel_tool_calls, grammar)
        params = self.sampling(params)
        draft = draft or self.config.speculative.draft
        if params.seed is not None and not params.greedy:
            draft = "none"  # a seed reproduces a sampled reply only if no draft changes how its draws are spent
        request = Request(prompt, draft, max_tokens, params, stop, raw, progress,
                          verify or self.config.speculative.verify, shape, jump_forward)
        if expert != "auto":
            return Generation(self.answer(self.routing.forced(expert, request.user_text), request, []))
        route = self.route(request.user_text)
        if shape is not None and shape.need:
            route = self.routing.structured(route, shape.need)
        cascade = self.cascade_plan(route, request) if shape is None else []  # a cascade cannot honour one either
        if cascade:
            return Generation(CascadeFusion().run(self, route, cascade, request, []))
        ranked = self.routing.ranked(route)
        mode = self.fusion_mode(request, route)
        plan = self.fusion_plan(route, ranked, request, mode) if shape is None else []  # fusion cannot honour a grammar
        if plan:
            return Generation(strategy(mode).run(self, route, plan, request, []))
        return Generation(self.answer(route, request, [], [name for name, _ in ranked]))

    def sampling(self, params: SamplingParams | None) -> SamplingParams:
        """The request's sampling with the config's penalties (repeat and DRY) where it sets no repeat_penalty."""
        params, d = params or SamplingParams(), self.config.sampling
        if params.repeat_penalty is None:
            params = replace(params, repeat_penalty=d.repeat_penalty, repeat_last_n=d.repeat_last_n,
                             dry_multiplier=d.dry_multiplier, dry_base=d.dry_base,
                             dry_allowed_length=d.dry_allowed_length)
        return params

    def cascade_plan(self, route: Route, request: Request) -> list[tuple[str, float]]:
        """The cascade's experts for a prose prompt, cheapest first: routed to writing or general, or an unsure
        route for a prompt that states a shape, with nothing to verify. None for other prompts, or when fewer
        than two experts of the cascade read the prompt's language."""
        text = request.user_text
        prose = route.domain in ("writing", "general") or (not route.confident and bool(extract_shapes(text)))
        if not prose or verifiable(text, True, route.probabilities):  # evidence to run or vote on: fusion's, not the cascade's
            return []
        names = cascade_experts(self, route.language)
        return [(name, 1.0) for name in names] if len(names) > 1 else []

    def masks(self, route: Route, target: CausalLM, guide: ShapeGuide | None = None) -> list[LogitMask]:
        """Token masks for this reply: Japanese prompts keep Chinese-only characters out (config: japanese_mask),
        and a prompt asking for lowercase keeps capitals out (the shape guide)."""
        masks: list[LogitMask] = []
        if route.language == "ja" and self.config.sampling.japanese_mask:
            masks.append(japanese_mask(target))
        if guide is not None and guide.lowercase:
            masks.append(lowercase_mask(target))
        return masks

    def fusion_mode(self, request: Request, route: Route) -> str:
        """The config's fusion; `auto` verifies a prompt carrying evidence (examples to run, a number to
        vote on) where model code may run here, and mixes otherwise. The sandbox is probed only then."""
        cfg = self.config
        if cfg.fusion != "auto":
            return cfg.fusion
        evident = verifiable(request.user_text, True, route.probabilities)
        return "verify" if evident and execution_allowed(cfg.execute_code) else "mixture"

    def fusion_plan(self, route: Route, ranked: list[tuple[str, float]], request: Request,
                    mode: str) -> list[tuple[str, float]]:
        """The experts to fuse, or none. Unsure routes fuse their top experts. Verified fusion also checks
        answers a confident route gives when there is evidence (examples to run, a number to vote on):
        that is where a team beats its best member, even one expert with samples and a program."""
        cfg = self.config
        plan = ranked[:cfg.fusion_experts]
        if mode == "verify":
            may_run = execution_allowed(cfg.execute_code)
            return plan if not route.confident or verifiable(request.user_text, may_run, route.probabilities) else []
        return plan if not route.confident and len(plan) > 1 else []

    def answer(self, route: Route, request: Request, notes: list[str], ranked: Sequence[str] = ()) -> Pieces:
        """One expert's answer (the next best of `ranked` when it cannot load), speculative as configured."""
        with self.loader.routed(route, list(ranked), notes) as (route, target):
            exp = self.config.expert(route.expert)
            prompt, shape = request.prompt, request.structure
            if self.config.sampling.language_hint and not request.raw and not (shape and shape.tools):
                prompt = with_language_hint(prompt, route.language)  # not with tools: it broke Japanese calls
            ids = encode_prompt(target, prompt, raw=request.raw, tools=shape.tools if shape else None)
            drafter = self.drafters.create(exp, target, request.draft, request.params, notes)
            with self.pool.pinned(self.drafters.draft_key(exp)):
                result = yield from self.decode(route, target, exp.name, drafter, ids, request, notes)
                if request.structure and request.structure.calls:
                    result = yield from self.tool_reply(route, target, exp.name, drafter, ids, request, result)
                    if result.text:
                        yield result.text
                return result

    def tool_reply(self, route: Route, target: CausalLM, key: str, drafter: Drafter | None, ids: list[int],
                   request: Request, result: GenerationResult) -> Pieces:
        """A reply offered tools, checked: under "auto", calls whose arguments the conversation does not
        hold are declined and the reply is written again without the offer (with it, small models write
        the call as JSON text); text that writes a call some other way (small models put JSON in a fenced
        block) is decoded again as that call under the grammar (the prompt is cached)."""
        shape = request.structure
        if result.tool_calls:
            if not (shape.may_decline and declined(result.tool_calls, shape.tools, request.prompt)):
                return result
            ids = encode_prompt(target, request.prompt, raw=request.raw)
            again, note = replace(shape, grammar=text_grammar()), "declined a call made of nothing the conversation says"
        else:
            name = intended_call(result.text, shape.tools)
            if name is None:
                return result
            again = replace(shape, grammar=call_grammar(shape.tools, {"type": "function", "function": {"name": name}}))
            note = f"the reply wrote a call to {name} as text: decoded it again under the tool grammar"
        result.notes.append(note)
        return (yield from self.decode(route, target, key, drafter, ids, replace(request, structure=again), result.notes))

    def decode(self, route: Route, target: CausalLM, key: str, drafter: Drafter | None, ids: list[int],
               request: Request, notes: list[str]) -> Pieces:
        """Stream one decoder's text, then its result."""
        profile = self.loader.profile(getattr(target, "path", None))  # a mixture has no file: none
        decoder = self._decoders.get((key, lane()))
        if decoder is None or decoder.target is not target:
            spec = self.config.speculative
            decoder = self._decoders[key, lane()] = Decoder(target, max_draft=spec.max_draft, min_draft=spec.min_draft,
                                                    fast_max_draft=spec.fast_max_draft, cost=profile.cost() if profile else None)
        decoder.drafter = drafter
        decoder.prefix_cache = self.prefix_cache(key, target)
        verify = verify_mode(request.verify, profile)
        shape, guide = request.structure, self.shape_guide(request)
        text = TextStream(target, request.stop, guide.cut if guide else None, guide.hold if guide else None)
        if guide and guide.opening:
            opening = target.tokenize(guide.opening, add_bos=False)
            ids = ids + opening  # the reply starts with the phrase asked for; the model goes on from it
            yield text.emit(guide.opening)
        constraint = Constraint(target, shape.grammar) if shape and shape.grammar else None
        for ids_step in decoder.generate(ids, max_tokens=request.max_tokens, params=request.params, verify=verify,
                                         masks=self.masks(route, target, guide), constraint=constraint,
                                         jump_forward=request.jump_forward):
            piece = text.feed(ids_step)
            if piece and not (shape and shape.calls):  # a reply offered tools is known only once whole
                yield piece
            if text.stopped:
                decoder.stats.finish_reason = "stop"
                break
        ended = decoder.stats.finish_reason == "stop"  # on its own: a reply cut at max_tokens gets no closing
        tail = text.flush(guide.finisher(notes) if guide and ended else None)
        if tail and not (shape and shape.calls):
            yield tail
        if text.limited and guide and guide.limit:
            notes.append(f"shape guide: ended after {guide.limit.n} {guide.limit.kind}")
        result = GenerationResult(text.text, route, drafter.name if drafter else "none", decoder.stats, verify, 0, notes)
        if shape and shape.calls:
            content, calls = parse_calls(text.text)
            result = replace(result, text=content or "", tool_calls=calls)
            if calls:
                decoder.stats.finish_reason = "tool_calls"
        return self.account(result)

    def shape_guide(self, request: Request) -> ShapeGuide | None:
        """What decoding enforces of the shape a prose prompt states (config: sampling.shape_guide)."""
        if not self.config.sampling.shape_guide or request.structure is not None or request.raw:
            return None
        return ShapeGuide.of(request.user_text)

    def prefix_cache(self, key: str, target: CausalLM) -> PrefixCache | None:
        """The prefix cache of a model key, made on its first generation (outlives reloads: the file and
        KV type, which a state depends on, do not change under a key)."""
        if key not in self._prefix:
            cfg = self.config
            self._prefix[key] = prefix_cache_for(target, parse_size(cfg.prefix_cache), parse_size(cfg.prefix_spill),
                                                 self.pool)
        return self._prefix[key]

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
        self._prefix.clear()
        self.pool.close()
