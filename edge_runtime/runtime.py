"""Runtime: route -> plan -> pool -> decode. The one place that wires the stages together."""
from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

import numpy as np

from .backends import CausalLM, is_onnx, open_model
from .backends.gguf import default_threads
from .catalog import resolve
from .chat import Message, encode_prompt
from .config import Config, ExpertConfig, load_config
from .errors import BudgetError, ConfigError, EdgeRuntimeError, ModelFileError
from .fusion import MixtureLM, score_response
from .gguf_file import read_gguf
from .memory import (ModelPool, budget_bytes, estimate_footprint, fit_gpu_layers, fmt_bytes, gpu_budget_bytes,
                     peak_rss_bytes)
from .sampling import Sampler, SamplingParams
from .speculative.decoder import Decoder, GenerationStats
from .speculative.drafters import CombinedDrafter, Drafter, ModelDrafter, PromptLookupDrafter, check_compatible

# A model draft pays on a memory-bound CPU only when its step is far cheaper than the target's;
# the step cost follows the weight bytes read. Measured: the 0.5B at 44% of the 1.5B loses (0.62x).
MODEL_DRAFT_MAX_COST = 0.25
MIN_CONTEXT = 512  # the smallest context worth reducing to: a prompt and an answer of a few hundred tokens


@dataclass
class Route:
    domain: str
    expert: str
    probabilities: dict[str, float] = field(default_factory=dict)
    latency_ms: float = 0.0
    confident: bool = True
    reason: str = "routed"


@dataclass
class GenerationResult:
    text: str
    route: Route
    draft: str
    stats: GenerationStats
    peak_rss_bytes: int
    notes: list[str] = field(default_factory=list)
    pool_loads: int = 0  # models loaded by this runtime so far
    pool_evictions: int = 0  # models evicted to stay inside the budget so far
    footprints: dict[str, tuple[int, int]] = field(default_factory=dict)  # planned vs measured bytes per model

    def as_dict(self) -> dict[str, Any]:
        s = self.stats
        return {"text": self.text, "expert": self.route.expert, "domain": self.route.domain,
                "route_probabilities": self.route.probabilities, "route_reason": self.route.reason,
                "draft": self.draft, "prompt_tokens": s.prompt_tokens, "completion_tokens": s.completion_tokens,
                "cached_prompt_tokens": s.cached_prompt_tokens, "drafted": s.drafted, "accepted": s.accepted,
                "acceptance_rate": round(s.acceptance_rate, 4), "tokens_per_step": round(s.tokens_per_step, 3),
                "ttft_s": round(s.ttft_s, 4), "decode_s": round(s.decode_s, 4),
                "tokens_per_s": round(s.tokens_per_s, 2), "finish_reason": s.finish_reason,
                "peak_rss_bytes": self.peak_rss_bytes, "pool_loads": self.pool_loads,
                "pool_evictions": self.pool_evictions, "notes": self.notes,
                "footprints": {key: {"planned_bytes": planned, "measured_bytes": measured}
                               for key, (planned, measured) in self.footprints.items()}}


class TextStream:
    """Token ids to text pieces: UTF-8 split across tokens, and stop strings across pieces."""

    def __init__(self, model: CausalLM, stop: Sequence[str] = ()) -> None:
        self.model, self.stop = model, [s for s in stop if s]
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._held = ""  # text withheld because it might be the start of a stop string
        self.text = ""
        self.stopped = False

    def feed(self, ids: list[int]) -> str:
        pending = self._held + self._decoder.decode(self.model.detokenize(ids))
        for s in self.stop:
            at = pending.find(s)
            if at >= 0:
                self.stopped, self._held = True, ""
                return self._emit(pending[:at])
        keep = max((len(s) - 1 for s in self.stop), default=0)
        cut = len(pending)
        for k in range(min(keep, len(pending)), 0, -1):
            if any(s.startswith(pending[-k:]) for s in self.stop):
                cut = len(pending) - k
                break
        self._held = pending[cut:]
        return self._emit(pending[:cut])

    def flush(self) -> str:
        rest = "" if self.stopped else self._held + self._decoder.decode(b"", final=True)
        self._held = ""
        return self._emit(rest)

    def _emit(self, piece: str) -> str:
        self.text += piece
        return piece


class Generation:
    """Iterate for text pieces as they are accepted; `result` is set once iteration ends."""

    def __init__(self, pieces: Iterator[str]) -> None:
        self._pieces = pieces
        self.result: GenerationResult | None = None

    def __iter__(self) -> Iterator[str]:
        return self._pieces

    def close(self) -> None:
        """Stop early (a client went away): the generator's cleanup runs and the model is released."""
        self._pieces.close()  # type: ignore[attr-defined]


@dataclass
class _Job:
    """What one request asks for, carried through routing, fusion and decoding."""

    prompt: str | list[Message]
    mode: str
    max_tokens: int
    params: SamplingParams
    stop: Sequence[str]
    raw: bool


class Runtime:
    def __init__(self, config: Config | None = None, *, threads: int | None = None,
                 memory_budget: str | None = None) -> None:
        self.config = config or load_config()
        self.threads = threads or self.config.threads or default_threads()
        self.budget = budget_bytes(memory_budget or self.config.memory_budget)  # the whole process
        self.pool = ModelPool(self.budget)
        self._decoders: dict[str, Decoder] = {}
        self._router: Any = None
        self._compatible: set[tuple[str, str]] = set()
        self._device_bytes: dict[str, int] = {}  # planned accelerator bytes per loaded model key

    # -- routing -------------------------------------------------------------------------------
    def route(self, text: str) -> Route:
        """The expert for a prompt: the router's top domain mapped through the config."""
        cfg = self.config
        if self._router is None:
            from .router.model import Router

            self._router = Router.load(cfg.router.model)
        decision = self._router.predict(text)
        expert = cfg.experts_for(decision.domain)[0]
        top = decision.probabilities[decision.domain]
        return Route(decision.domain, expert, decision.probabilities, decision.latency_ms,
                     confident=top >= cfg.router.threshold)

    def forced_route(self, expert: str) -> Route:
        exp = self.config.expert(expert)
        return Route(exp.domains[0] if exp.domains else "general", expert, reason="forced")

    # -- loading -------------------------------------------------------------------------------
    def _context(self, exp: ExpertConfig) -> int:
        return exp.context or self.config.context

    def _plan(self, path: Path, n_ctx: int) -> int:
        """Bytes a model will hold, loaded with this runtime's settings."""
        cfg = self.config
        return estimate_footprint(path, n_ctx, cfg.kv_type, cfg.batch, repack=cfg.repack).total

    def _fitted_context(self, path: Path, key: str, n_ctx: int, notes: list[str]) -> int:
        """The configured context, halved until the model fits the budget's room (and said so).

        Below MIN_CONTEXT the pool refuses with the smallest configuration's numbers.
        """
        room = self.pool.room()
        if room is None or key in self.pool.loaded() or is_onnx(path):
            return n_ctx
        fitted = n_ctx
        while fitted > MIN_CONTEXT and self._plan(path, fitted) > room:
            fitted = max(MIN_CONTEXT, fitted // 2)
        if fitted != n_ctx:
            notes.append(f"context of {key!r} reduced from {n_ctx} to {fitted} tokens to fit the memory budget")
        return fitted

    def _gpu_placement(self, path: Path, key: str, n_ctx: int, gpu_layers: int, main_gpu: int,
                       notes: list[str]) -> tuple[int, int | None]:
        """(layers to offload, host bytes) under the GPU memory budget: fewer layers before refusing."""
        cfg = self.config
        loaded = set(self.pool.loaded())
        room = gpu_budget_bytes(cfg.gpu_memory_budget, main_gpu) - sum(
            b for k, b in self._device_bytes.items() if k in loaded and k != key)
        placed = fit_gpu_layers(path, n_ctx, gpu_layers, max(0, room), cfg.kv_type, cfg.batch)
        n_layer = read_gguf(path).n_layer
        if placed.layers_on_device < (n_layer if gpu_layers < 0 else min(gpu_layers - 1, n_layer)):
            notes.append(f"{key!r}: {placed.layers_on_device} of {n_layer} layers on the GPU (asked "
                         f"{'all' if gpu_layers < 0 else gpu_layers - 1}) to fit the GPU memory budget of "
                         f"{fmt_bytes(max(0, room))}")
        self._device_bytes[key] = placed.device.total
        return placed.gpu_layers, placed.host.total if placed.gpu_layers else None

    def load(self, ref: str, *, key: str, n_ctx: int, tokenizer: str = "",
             notes: list[str] | None = None, gpu_layers: int = 0, main_gpu: int = 0) -> CausalLM:
        """A model through the pool: its footprint is planned from the header before loading."""
        cfg = self.config
        path = resolve(ref)
        notes = notes if notes is not None else []
        n_ctx = self._fitted_context(path, key, n_ctx, notes)
        need = self._plan(path, n_ctx)
        options: dict[str, Any] = dict(name=key, n_ctx=n_ctx, n_threads=self.threads, n_batch=cfg.batch)
        if is_onnx(path):
            options.update(providers=cfg.providers, tokenizer=resolve(tokenizer) if tokenizer else None)
        else:
            options.update(kv_type=cfg.kv_type, use_mmap=cfg.mmap, use_mlock=cfg.mlock, repack=cfg.repack)
            if gpu_layers and key not in self.pool.loaded():
                layers, host = self._gpu_placement(path, key, n_ctx, gpu_layers, main_gpu, notes)
                options.update(gpu_layers=layers, main_gpu=main_gpu)
                need = host if host is not None else need
        return self.pool.get(key, need, lambda: open_model(path, **options))

    def expert_model(self, name: str, notes: list[str] | None = None) -> CausalLM:
        exp = self.config.expert(name)
        return self.load(exp.model, key=name, n_ctx=self._context(exp), tokenizer=exp.tokenizer, notes=notes,
                         gpu_layers=exp.n_gpu_layers, main_gpu=exp.main_gpu)

    def _drafter(self, exp: ExpertConfig, target: CausalLM, mode: str, params: SamplingParams,
                 notes: list[str]) -> Drafter | None:
        spec = self.config.speculative
        if mode == "none":
            return None
        lookup = PromptLookupDrafter(spec.ngram_max, spec.ngram_min)
        if mode == "lookup":
            return lookup
        if not exp.draft:
            if mode == "model":
                raise ConfigError(f"expert {exp.name!r} has no draft model configured",
                                  f"set `draft = \"MODEL\"` under [experts.{exp.name}] or use --draft lookup")
            return lookup
        if mode == "auto":
            cost = estimate_footprint(resolve(exp.draft), 1).weights / max(1, estimate_footprint(
                resolve(exp.model), 1).weights)
            if cost > MODEL_DRAFT_MAX_COST:
                return lookup
        key = f"{exp.name}/draft"
        try:
            draft = self.load(exp.draft, key=key, n_ctx=target.n_ctx, gpu_layers=exp.n_gpu_layers,
                              main_gpu=exp.main_gpu)  # the draft lives where its target does
        except (BudgetError, ModelFileError) as exc:  # degrade before refusing: lookup costs no memory
            notes.append(f"model draft unavailable ({exc.message}); using lookup drafting")
            return lookup
        if (target.name, key) not in self._compatible:
            check_compatible(target, draft)
            self._compatible.add((target.name, key))
        model = ModelDrafter(draft, Sampler(params), spec.p_min)
        return model if mode == "model" else CombinedDrafter(lookup, model)

    # -- generation ----------------------------------------------------------------------------
    def stream(self, prompt: str | list[Message], *, expert: str = "auto", draft: str | None = None,
               max_tokens: int = 256, params: SamplingParams | None = None, stop: Sequence[str] = (),
               raw: bool = False) -> Generation:
        """Start a generation; iterate the returned object for text, then read `.result`.

        With `expert="auto"` and a router that is unsure, the top experts are fused.
        """
        params = params or SamplingParams()
        mode = draft or self.config.speculative.draft
        route_text = prompt if isinstance(prompt, str) else next(
            (m["content"] for m in reversed(prompt) if m.get("role") == "user"), "")
        route = self.route(route_text) if expert == "auto" else self.forced_route(expert)
        job = _Job(prompt, mode, max_tokens, params, stop, raw)
        generation = Generation(iter(()))
        plan = self._ranked_experts(route)[:2] if expert == "auto" and not route.confident else []
        pieces = self._fused(generation, route, plan, job) if len(plan) > 1 else self._single(generation, route, job)
        generation._pieces = pieces
        return generation

    def _load_routed(self, route: Route, notes: list[str]) -> tuple[Route, CausalLM]:
        """The routed expert, or the next best one when it cannot load (missing file, over budget)."""
        ranked = [route.expert] + [n for n, _ in self._ranked_experts(route) if n != route.expert]
        if route.reason == "forced":
            ranked = ranked[:1]
        for i, name in enumerate(ranked):
            try:
                model = self.expert_model(name, notes)
            except EdgeRuntimeError as exc:
                if i == len(ranked) - 1:
                    raise
                notes.append(f"expert {name!r} unavailable ({exc.message}); routed to the next best")
                continue
            if name != route.expert:
                route = Route(route.domain, name, route.probabilities, route.latency_ms, route.confident,
                              reason="next best")
            return route, model
        raise AssertionError("unreachable: the last candidate re-raises")

    def _single(self, generation: Generation, route: Route, job: _Job) -> Iterator[str]:
        notes: list[str] = []
        route, target = self._load_routed(route, notes)
        exp = self.config.expert(route.expert)
        with self.pool.pinned(exp.name):
            ids = encode_prompt(target, job.prompt, raw=job.raw)
            drafter = self._drafter(exp, target, job.mode, job.params, notes)
            yield from self._decode(generation, route, target, exp.name, drafter, ids, job, notes,
                                    pins=(f"{exp.name}/draft",))

    def _decode(self, generation: Generation, route: Route, target: CausalLM, key: str, drafter: Drafter | None,
                ids: list[int], job: _Job, notes: list[str], pins: Sequence[str] = ()) -> Iterator[str]:
        """Stream one decoder's text; the result lands on `generation` when the stream ends."""
        with self.pool.pinned(*pins):
            decoder = self._decoders.get(key)
            if decoder is None or decoder.target is not target:
                spec = self.config.speculative
                decoder = self._decoders[key] = Decoder(target, max_draft=spec.max_draft, min_draft=spec.min_draft)
            decoder.drafter = drafter
            text = TextStream(target, job.stop)
            for ids_step in decoder.generate(ids, max_tokens=job.max_tokens, params=job.params):
                piece = text.feed(ids_step)
                if piece:
                    yield piece
                if text.stopped:
                    decoder.stats.finish_reason = "stop"
                    break
            tail = text.flush()
            if tail:
                yield tail
        generation.result = GenerationResult(text.text, route, drafter.name if drafter else "none",
                                             decoder.stats, peak_rss_bytes(), notes, self.pool.loads,
                                             self.pool.evictions, dict(self.pool.footprints))

    # -- fusion --------------------------------------------------------------------------------
    def _ranked_experts(self, route: Route) -> list[tuple[str, float]]:
        """Experts by the summed router probability of the domains they serve."""
        weights: dict[str, float] = {}
        for domain, prob in sorted(route.probabilities.items(), key=lambda kv: -kv[1]):
            name = self.config.experts_for(domain)[0]
            weights[name] = weights.get(name, 0.0) + prob
        return sorted(weights.items(), key=lambda kv: -kv[1])

    def _fused(self, generation: Generation, route: Route, plan: list[tuple[str, float]], job: _Job
               ) -> Iterator[str]:
        notes: list[str] = []
        loaded: list[tuple[str, float, CausalLM]] = []
        for name, weight in plan:
            try:
                loaded.append((name, weight, self.expert_model(name, notes)))
            except EdgeRuntimeError as exc:  # over budget or missing: fuse fewer, never crash
                notes.append(f"expert {name!r} left out of fusion: {exc.message}")
        if len(loaded) < 2:
            yield from self._single(generation, route, job)  # falls back to the next best that loads
            return
        plan = [(name, weight) for name, weight, _ in loaded]
        models = [model for _, _, model in loaded]
        names = [n for n, _ in plan]
        with self.pool.pinned(*names):
            try:
                mixture = MixtureLM(models, [w for _, w in plan])
            except EdgeRuntimeError:
                mixture = None
            if mixture is not None:
                fused = Route(route.domain, "+".join(names), route.probabilities, route.latency_ms, False,
                              reason="fused: token-level mixture " + ", ".join(f"{n} {w:.2f}" for n, w in plan))
                ids = encode_prompt(mixture, job.prompt, raw=job.raw)
                drafter = None if job.mode == "none" else PromptLookupDrafter(
                    self.config.speculative.ngram_max, self.config.speculative.ngram_min)
                yield from self._decode(generation, fused, mixture, "mix:" + fused.expert, drafter, ids, job, notes)
                return
            yield from self._best_of(generation, route, names, models, job, notes)

    def _best_of(self, generation: Generation, route: Route, names: list[str], models: list[CausalLM],
                 job: _Job, notes: list[str]) -> Iterator[str]:
        """Experts of different vocabularies: each answers, the largest model scores, the best wins."""
        results = []
        for name in names:
            inner = Generation(iter(()))
            for _ in self._single(inner, Route(route.domain, name, route.probabilities, route.latency_ms, False,
                                               reason="fusion candidate"), job):
                pass
            results.append(inner.result)
        scorer = max(models, key=lambda m: m.footprint)
        prompt_ids = encode_prompt(scorer, job.prompt, raw=job.raw)
        scores = [score_response(scorer, prompt_ids, r.text) for r in results]
        best = int(np.argmax(scores))
        chosen = results[best]
        chosen.route = Route(route.domain, names[best], route.probabilities, route.latency_ms, False,
                             reason="fused: best of " + ", ".join(f"{n} {s:.3f}" for n, s in zip(names, scores))
                             + f" (mean log-prob under {scorer.name})")
        chosen.notes = notes + chosen.notes
        generation.result = chosen
        yield chosen.text

    def generate(self, prompt: str | list[Message], **kwargs: Any) -> GenerationResult:
        generation = self.stream(prompt, **kwargs)
        for _ in generation:
            pass
        assert generation.result is not None
        return generation.result

    def close(self) -> None:
        self.pool.close()
