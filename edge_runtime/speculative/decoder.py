"""The decode loop: propose, verify in one target batch, accept, roll back; plain decoding is the
same loop with no drafter.

The draft length adapts to what verification actually costs and earns: it grows while drafts are
accepted whole, shrinks to just past the last rejection, and drafting pauses when its recent
acceptance would not pay for the wider target batch.
"""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Iterator

from ..backends.base import CausalLM
from ..errors import PromptError
from ..sampling import Sampler, SamplingParams
from .drafters import Draft, Drafter
from .verify import verify_greedy, verify_stochastic


@dataclass
class GenerationStats:
    prompt_tokens: int = 0
    cached_prompt_tokens: int = 0  # prompt tokens whose KV was reused from the previous request
    completion_tokens: int = 0
    drafted: int = 0
    accepted: int = 0
    steps: int = 0  # target forward passes after the prompt
    ttft_s: float = 0.0
    decode_s: float = 0.0
    finish_reason: str = "length"

    @property
    def acceptance_rate(self) -> float:
        return self.accepted / self.drafted if self.drafted else 0.0

    @property
    def tokens_per_step(self) -> float:
        """Mean tokens produced per target forward (1.0 for plain decoding)."""
        return (self.completion_tokens - 1) / self.steps if self.steps else 1.0

    @property
    def tokens_per_s(self) -> float:
        """Decode speed after the first token, which belongs to the prompt's time."""
        return (self.completion_tokens - 1) / self.decode_s if self.decode_s > 0 else 0.0

    def as_dict(self) -> dict[str, float | int | str]:
        out = asdict(self)
        out.update(acceptance_rate=round(self.acceptance_rate, 4), tokens_per_step=round(self.tokens_per_step, 4),
                   tokens_per_s=round(self.tokens_per_s, 2))
        return out


@dataclass
class DraftPolicy:
    """Adaptive draft length with a pause when drafting stops paying.

    `batch_cost` is the cost of verifying one more token relative to a plain step (measured on a
    2-core CPU for a 1.5B Q4_K_M model: a 5-token batch costs about 1.3 plain steps).
    """

    max_draft: int = 6
    min_draft: int = 1
    batch_cost: float = 0.08
    pause_steps: int = 16
    length: int = 4
    _gain: float = 1.0  # moving average of accepted tokens per draft token
    _paused: int = 0

    def next_length(self, remaining: int) -> int:
        if self._paused > 0:
            self._paused -= 1
            return 0
        return max(0, min(self.length, remaining))

    def observe(self, drafted: int, accepted: int) -> None:
        if drafted == 0:
            return
        self.length = min(self.max_draft, self.length + 2) if accepted == drafted else max(self.min_draft, accepted + 1)
        self._gain = 0.8 * self._gain + 0.2 * (accepted / drafted)
        if self._gain < self.batch_cost:  # expected tokens gained < extra verification cost
            self._paused, self._gain = self.pause_steps, self.batch_cost * 2


class Decoder:
    """Generates from one target model, reusing its KV cache for a shared prompt prefix."""

    def __init__(self, target: CausalLM, drafter: Drafter | None = None, *, max_draft: int = 6,
                 min_draft: int = 1) -> None:
        self.target, self.drafter = target, drafter
        self.max_draft, self.min_draft = max_draft, min_draft
        self._cached: list[int] = []  # tokens held in the target's KV cache
        self.stats = GenerationStats()

    def _prefill(self, prompt: list[int]) -> tuple[int, list[float]]:
        common = 0
        limit = min(len(self._cached), len(prompt) - 1, self.target.n_past)
        while common < limit and self._cached[common] == prompt[common]:
            common += 1
        self.target.truncate(common)
        self._cached = self._cached[:common]
        logits = self.target.forward(prompt[common:], logits_for=1)[0]
        return common, logits

    def generate(self, prompt: list[int], *, max_tokens: int, params: SamplingParams | None = None
                 ) -> Iterator[list[int]]:
        """Yield the newly accepted tokens after each step; end at EOG or `max_tokens`."""
        params = params or SamplingParams()
        if max_tokens < 1:
            raise PromptError(f"max_tokens must be at least 1, got {max_tokens}")
        if not prompt:
            raise PromptError("the prompt is empty", "write something for the model to answer")
        if len(prompt) + max_tokens > self.target.n_ctx:
            raise PromptError(
                f"prompt ({len(prompt)} tokens) + max_tokens ({max_tokens}) exceed the context of "
                f"{self.target.n_ctx} tokens of {self.target.name!r}",
                "shorten the prompt, lower max_tokens, or raise `context` in the config")
        sampler = Sampler(params)
        stats = self.stats = GenerationStats(prompt_tokens=len(prompt))
        policy = DraftPolicy(self.max_draft, self.min_draft)
        if self.drafter is not None:
            self.drafter.reset()
        eog = self.target.vocab.eog
        tokens = list(prompt)
        start = time.perf_counter()
        try:
            stats.cached_prompt_tokens, logits = self._prefill(prompt)
            first = sampler.sample(logits, tokens)
            stats.ttft_s = time.perf_counter() - start
            if first in eog:
                stats.finish_reason = "stop"
                return
            tokens.append(first)
            stats.completion_tokens = 1
            yield [first]
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
                if stop is not None:
                    return
        finally:
            self._cached = tokens[:self.target.n_past]

    def _step(self, tokens: list[int], sampler: Sampler, policy: DraftPolicy, remaining: int) -> list[int]:
        """One target forward: verify a draft (maybe empty) and return the accepted tokens + 1."""
        length = policy.next_length(remaining - 1) if self.drafter is not None else 0
        draft = self.drafter.propose(tokens, length) if length > 0 else Draft([])  # type: ignore[union-attr]
        if len(draft.tokens) > length:
            draft = Draft(draft.tokens[:length], None if draft.probs is None else draft.probs[:length])
        logits = self.target.forward([tokens[-1], *draft.tokens], logits_for=len(draft.tokens) + 1)
        if sampler.params.greedy:
            accepted, nxt = verify_greedy(draft.tokens, logits, sampler, tokens)
        else:
            accepted, nxt = verify_stochastic(draft, logits, sampler, tokens)
        self.target.truncate(self.target.n_past - (len(draft.tokens) - accepted))
        stats = self.stats
        stats.steps += 1
        stats.drafted += len(draft.tokens)
        stats.accepted += accepted
        policy.observe(len(draft.tokens), accepted)
        if self.drafter is not None:
            self.drafter.update(tokens, len(draft.tokens), accepted)
        return [*draft.tokens[:accepted], nxt]
