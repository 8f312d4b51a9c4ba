"""The decode loop: propose, verify in one target batch, accept, roll back; plain decoding is the
same loop with no drafter.

The draft length adapts to what verification actually costs and earns (see DraftPolicy). Two verify
modes: "exact" never verifies more tokens than the target computes bit-exactly as one-token steps
(`exact_batch`, measured per model file and machine), so greedy output equals plain output; "fast"
verifies drafts of up to `fast_max_draft` through whatever kernels a batch picks, so greedy output
may differ from plain output where the top two logits of a step are within rounding of each other.

A grammar (`constraint`) masks every sampled position, draft and verify positions included, so greedy
speculative output under a grammar equals plain greedy output under it. With `jump_forward`, tokens the
grammar forces (a key, `": "`, closing braces) are appended unsampled and evaluated in the next verify
batch, ahead of the draft, like a draft known to be accepted.
"""
from __future__ import annotations

import time
from typing import Iterator, Sequence

import numpy as np

from edge_runtime.cache.prefix import PrefixCache
from edge_runtime.constrain.matcher import Constraint
from edge_runtime.models.backends.base import CausalLM
from edge_runtime.models.backends.lanes import beside
from edge_runtime.errors import PromptError
from edge_runtime.language.mask import LogitMask
from edge_runtime.sampling import Sampler, SamplingParams
from edge_runtime.speculative.drafters import Draft, Drafter
from edge_runtime.speculative.policy import DraftPolicy, VerifyCost
from edge_runtime.speculative.stats import GenerationStats
from edge_runtime.speculative.verify import verify_greedy, verify_stochastic


class Decoder:
    """Generates from one target model, reusing its KV cache for a shared prompt prefix."""

    def __init__(self, target: CausalLM, drafter: Drafter | None = None, *, max_draft: int = 4,
                 min_draft: int = 0, fast_max_draft: int = 16, cost: VerifyCost | None = None) -> None:
        self.target, self.drafter = target, drafter
        self.max_draft, self.min_draft, self.fast_max_draft = max_draft, min_draft, fast_max_draft
        # What verify batches cost on this machine (tune's curve, then timed steps) outlives a generation:
        # learned afresh each time, the first hundred steps of every reply would draft on a guess.
        self.cost = cost or VerifyCost()
        self._cached: list[int] = []  # tokens held in the target's KV cache
        self.stats = GenerationStats()
        self.constraint: Constraint | None = None  # the running generation's grammar, if any
        self.jump_forward = True
        self.prefix_cache: PrefixCache | None = None  # earlier requests' states, restored by prefix

    def _prefill(self, prompt: list[int]) -> tuple[int, np.ndarray]:
        common = 0
        limit = min(len(self._cached), len(prompt) - 1, self.target.n_past)
        while common < limit and self._cached[common] == prompt[common]:
            common += 1
        if self.prefix_cache is not None:
            common = self.prefix_cache.restore(self.target, prompt, common)  # type: ignore[arg-type]
        self.target.truncate(common)
        self._cached = prompt[:common]
        logits = self.target.forward(prompt[common:], logits_for=1)[0]
        return common, logits

    def longest_draft(self, verify: str) -> int:
        """The longest draft a step may verify in this mode (the exact batch is only measured, on first
        use, when a drafter will need it)."""
        if verify == "fast":
            return self.fast_max_draft
        exact = self.target.exact_batch if self.drafter is not None else None
        return self.max_draft if exact is None else min(self.max_draft, exact - 1)

    def generate(self, prompt: list[int], *, max_tokens: int, params: SamplingParams | None = None,
                 verify: str = "exact", masks: Sequence[LogitMask] = (), constraint: Constraint | None = None,
                 jump_forward: bool = True) -> Iterator[list[int]]:
        """Yield the newly accepted tokens after each step; end at EOG, `max_tokens`, or a grammar's end.
        `masks` ban tokens per position, in plain steps and in verification alike."""
        params = params or SamplingParams()
        self.constraint, self.jump_forward = constraint, jump_forward
        if max_tokens < 1:
            raise PromptError(f"max_tokens must be at least 1, got {max_tokens}")
        if not prompt:
            raise PromptError("the prompt is empty", "write something for the model to answer")
        if len(prompt) + max_tokens > self.target.n_ctx:
            raise PromptError(
                f"prompt ({len(prompt)} tokens) + max_tokens ({max_tokens}) exceed the context of "
                f"{self.target.n_ctx} tokens of {self.target.name!r}",
                "shorten the prompt, lower max_tokens, or raise `context` in the config")
        sampler = Sampler(params, masks)
        stats = self.stats = GenerationStats(prompt_tokens=len(prompt))
        longest = self.longest_draft(verify)
        policy = DraftPolicy(longest, min(self.min_draft, longest), cost=self.cost)
        if self.drafter is not None:
            self.drafter.reset()
            if hasattr(self.drafter, "constraint"):  # a draft model drafts under the grammar too
                self.drafter.constraint = constraint
        eog = self.target.vocab.eog
        tokens = list(prompt)
        start = time.perf_counter()
        try:
            stats.cached_prompt_tokens, logits = self._prefill(prompt)
            first = sampler.sample(logits if constraint is None else constraint.apply(logits), tokens)
            stats.ttft_s = time.perf_counter() - start
            if constraint is not None:
                constraint.consume([first])
            if first in eog:
                stats.finish_reason = "stop"
                return
            tokens.append(first)
            stats.completion_tokens = 1
            yield [first]
            if self._grammar_done():
                return
            decode_start = time.perf_counter()
            while stats.completion_tokens < max_tokens:
                new = self._step(tokens, sampler, policy, max_tokens - stats.completion_tokens)
                stats.decode_s = time.perf_counter() - decode_start
                stop = next((i for i, t in enumerate(new) if t in eog), None)
                if stop is not None:
                    new = new[:stop]
                    stats.finish_reason = "stop"
                tokens.extend(new)
                stats.completion_tokens += len(new)
                if new:
                    yield new
                if stop is not None or self._grammar_done():
                    return
        finally:
            self._cached = tokens[:self.target.n_past]
            if self.drafter is not None and hasattr(self.drafter, "learn"):
                self.drafter.learn(tokens)
            if self.prefix_cache is not None:
                self.prefix_cache.save(self.target, self._cached)  # type: ignore[arg-type]

    def _grammar_done(self) -> bool:
        """A complete grammar ends the reply at once: no step is spent sampling the end-of-text."""
        if self.constraint is not None and self.constraint.done:
            self.stats.finish_reason = "stop"
            return True
        return False

    def _propose(self, tokens: list[int], policy: DraftPolicy, room: int) -> Draft:
        """The drafter's proposal, cut to what the policy will verify (beside other lanes' tokens, when a
        parallel server decodes several) and the grammar allows."""
        if self.drafter is None:
            return Draft([])
        length = policy.proposal_length(room)
        if length <= 0:
            return Draft([])
        started = time.perf_counter()
        draft = self.drafter.propose(tokens, length)
        policy.observe_proposal(len(draft.tokens), time.perf_counter() - started)
        keep = policy.verify_length(draft.source, min(length, len(draft.tokens)), beside())
        if self.constraint is not None:
            keep = self.constraint.valid_prefix(draft.tokens[:keep])
        return Draft(draft.tokens[:keep], None if draft.probs is None else draft.probs[:keep], draft.source)

    def _step(self, tokens: list[int], sampler: Sampler, policy: DraftPolicy, remaining: int) -> list[int]:
        """One target forward over forced tokens and a draft (both maybe empty); the accepted tokens + 1."""
        constraint = self.constraint
        forced = constraint.forced()[:remaining - 1] if constraint is not None and self.jump_forward else []
        if forced:
            constraint.consume(forced)
            if constraint.done:  # the grammar ends here: nothing left to sample
                self.stats.forced += len(forced)
                return forced
        context = tokens + forced if forced else tokens
        draft = self._propose(context, policy, max(0, remaining - 1 - len(forced)))
        started = time.perf_counter()
        logits = self.target.forward([tokens[-1], *forced, *draft.tokens], logits_for=len(draft.tokens) + 1)
        if constraint is not None:
            logits = constraint.apply_along(logits, draft.tokens)
        if sampler.params.greedy:
            accepted, nxt = verify_greedy(draft, logits, sampler, context)
        else:
            accepted, nxt = verify_stochastic(draft, logits, sampler, context)
        self.target.truncate(self.target.n_past - (len(draft.tokens) - accepted))
        if constraint is not None:
            constraint.consume([*draft.tokens[:accepted], nxt])
        # forced tokens ride in the batch: the cost curve hears of the draft's share of the time only
        seconds = (time.perf_counter() - started) * (len(draft.tokens) + 1) / (len(draft.tokens) + 1 + len(forced))
        # a batch shared with other lanes times their tokens too: it teaches acceptance, not costs
        policy.observe(draft.source, len(draft.tokens), accepted, None if beside() else seconds)
        stats = self.stats
        stats.steps += 1
        stats.drafted += len(draft.tokens)
        stats.accepted += accepted
        stats.forced += len(forced)
        return [*forced, *draft.tokens[:accepted], nxt]
