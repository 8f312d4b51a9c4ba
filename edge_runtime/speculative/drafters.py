"""Drafters propose the next tokens cheaply; the decoder never knows which one it holds.

One call, `propose(context, max_len)`, and `reset()` between sequences. `context` is every token of
the sequence so far (prompt and accepted output), including the last one the target has not evaluated
yet. What a drafter earns is learned by the decoder's DraftPolicy, per drafter (`Draft.source`) and
per regime, so the drafters themselves keep no acceptance state (transformers' second call,
`update_candidate_strategy`, has nothing to do here).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, Sequence

import numpy as np

from edge_runtime.models.backends.base import CausalLM
from edge_runtime.errors import IncompatibleDraftError
from edge_runtime.sampling import Sampler
from edge_runtime.speculative.history import TokenHistory


@dataclass
class Draft:
    tokens: list[int]
    # q(x) for each proposed position, [len, n_vocab], for the stochastic acceptance rule;
    # None means each token was proposed deterministically (a point mass).
    probs: np.ndarray | None = None
    source: str = ""  # which drafter proposed it: acceptance is tracked per source


class Drafter(Protocol):
    name: str

    def propose(self, context: Sequence[int], max_len: int) -> Draft: ...

    def reset(self) -> None: ...

    def learn(self, sequence: Sequence[int]) -> None:
        """A finished sequence (prompt and reply), for drafters that draft from earlier requests."""


class PromptLookupDrafter:
    """Continue the longest recent n-gram of the context that occurred before (prompt lookup).

    Free to run: an index from n-gram to the position after its latest occurrence, extended
    incrementally as the context grows, for every n in [ngram_min, ngram_max].

    While the text keeps copying one place, the drafts keep following that place: the index's latest
    occurrence of an n-gram may be another copy of it (code repeats `merged[-1][1]`), and jumping
    there breaks a long copy in the middle.
    """

    name = "lookup"

    def __init__(self, ngram_max: int = 4, ngram_min: int = 3, history: TokenHistory | None = None) -> None:
        self.ngram_max, self.ngram_min = ngram_max, ngram_min
        self.history = history  # earlier requests: drafted from when the context itself has no match
        self.reset()

    def reset(self) -> None:
        self._index: dict[tuple[int, ...], int] = {}
        self._indexed = 1  # n-grams ending before this position are indexed
        self._source: int | None = None  # where the last draft was read from
        self._drafted_at = 0  # the context's length when it was
        self._earlier: int | None = None  # where in the history the last history draft was read from
        self._history_at = 0  # the context's length when it was

    def learn(self, sequence: Sequence[int]) -> None:
        if self.history is not None:
            self.history.add(sequence)

    def _extend(self, context: Sequence[int]) -> None:
        """Index the n-grams ending at each new position e < len(context) (their continuation
        starts at e). Contexts only grow within one generation; `reset` starts another."""
        for end in range(self._indexed, len(context)):
            for n in range(self.ngram_min, min(self.ngram_max, end) + 1):
                self._index[tuple(context[end - n:end])] = end
        self._indexed = max(self._indexed, len(context))

    def _still_copying(self, context: Sequence[int]) -> int | None:
        """Where the last draft's source continues, if every token since it was drafted came from it."""
        if self._source is None:
            return None
        grown = len(context) - self._drafted_at
        resume = self._source + grown
        if resume >= len(context) or context[self._drafted_at:] != context[self._source:resume]:
            return None
        return resume

    def _lookup(self, context: Sequence[int]) -> int | None:
        size = len(context)
        for n in range(min(self.ngram_max, size), self.ngram_min - 1, -1):
            pos = self._index.get(tuple(context[size - n:]))
            if pos is not None:
                return pos
        return None

    def propose(self, context: Sequence[int], max_len: int) -> Draft:
        self._extend(context)
        size = len(context)
        pos = self._still_copying(context)
        pos = self._lookup(context) if pos is None else pos
        self._source, self._drafted_at = pos, size
        if pos is None:
            return self._from_history(context, max_len)
        tokens = list(context[pos:pos + max_len])
        period = size - pos  # a match that runs into the present: the text repeats with this period
        while len(tokens) < max_len:
            tokens.append(tokens[len(tokens) - period])
        return Draft(tokens, source=self.name)

    def _from_history(self, context: Sequence[int], max_len: int) -> Draft:
        """A draft from earlier requests: the place the last one came from while the text keeps following
        it, else the longest recent match of the context's tail. Its own source: the decoder's policy
        learns separately whether these pay."""
        history, pos = self.history, self._earlier
        if history is None:
            return Draft([])
        grown = len(context) - self._history_at
        if pos is None or not history.follows(pos, context[self._history_at:]):
            pos = history.find(context)
        else:
            pos += grown
        self._earlier, self._history_at = pos, len(context)
        return Draft(history.continuation(pos, max_len) if pos is not None else [], source="history")


class ModelDrafter:
    """A small CausalLM that shares the target's vocabulary, its KV cache kept in step.

    Proposes greedily (or by sampling with the target's warping when `sampler` samples) and stops
    early when its own probability for the next token falls below `p_min`.
    """

    name = "model"

    def __init__(self, model: CausalLM, sampler: Sampler, p_min: float = 0.5) -> None:
        self.model, self.sampler, self.p_min = model, sampler, p_min
        # the generation's grammar (set by the decoder): drafts follow it, as the target's tokens will
        self.constraint: Any = None
        self._cached: list[int] = []  # tokens whose KV the draft model holds
        self._known = 0  # leading tokens of _cached known to equal the context

    def reset(self) -> None:
        """A new sequence: keep the KV of the longest shared prefix (checked at the next sync)."""
        self._known = 0

    def learn(self, sequence: Sequence[int]) -> None:
        pass  # the model knows nothing it would learn from one request

    def _sync(self, context: Sequence[int]) -> np.ndarray:
        """Bring the draft cache to `context`, reusing the common prefix; logits after it."""
        common = min(self._known, len(self._cached))
        limit = min(len(self._cached), len(context) - 1)
        while common < limit and self._cached[common] == context[common]:
            common += 1
        self.model.truncate(common)
        del self._cached[common:]
        self._cached.extend(context[common:])
        self._known = len(context)
        return self.model.forward(self._cached[common:], logits_for=1)[0]

    def _next(self, logits: np.ndarray, history: list[int]) -> tuple[int, float, np.ndarray | None]:
        """The next draft token, the draft's own probability of it (its stop test), and the distribution
        it was drawn from when sampling (greedy verification needs none)."""
        if self.sampler.params.greedy:
            token = self.sampler.argmax(logits, history)
            return token, probability(logits, token), None
        q = self.sampler.distribution(logits, history)
        token = self.sampler.pick(q)
        return token, float(q[token]), q

    def propose(self, context: Sequence[int], max_len: int) -> Draft:
        logits = self._sync(context)
        history = list(context)
        tokens: list[int] = []
        qs: list[np.ndarray] = []
        grammar = self.constraint
        for i in range(max_len):
            if grammar is not None:
                logits = grammar.apply(logits)
            token, confidence, q = self._next(logits, history)
            if confidence < self.p_min and i > 0:
                break
            tokens.append(token)
            history.append(token)
            if q is not None:
                qs.append(q)
            if grammar is not None and not grammar.advance(token):
                break
            if i + 1 < max_len:
                logits = self.model.forward([token], logits_for=1)[0]
                self._cached.append(token)
        if grammar is not None:
            grammar.rollback()
        probs = np.stack(qs) if qs else None
        return Draft(tokens, probs, self.name)


def probability(logits: np.ndarray, token: int) -> float:
    """Softmax probability of `token` under raw logits. A greedy draft stops below `p_min` by it: the
    one-hot greedy distribution would call every token certain, and the draft would always run to
    its full length (on the GPU, 16 draft steps to propose tokens the target then rejects)."""
    top = float(np.max(logits))
    return float(np.exp(logits[token] - top) / np.exp(logits - top).sum())


class CombinedDrafter:
    """The cheapest confident proposal: context n-grams when they match, else the model draft."""

    name = "lookup+model"

    def __init__(self, lookup: PromptLookupDrafter, model: ModelDrafter) -> None:
        self.lookup, self.model = lookup, model

    @property
    def constraint(self) -> Any:
        return self.model.constraint

    @constraint.setter
    def constraint(self, value: Any) -> None:
        self.model.constraint = value

    def reset(self) -> None:
        self.lookup.reset()
        self.model.reset()

    def learn(self, sequence: Sequence[int]) -> None:
        self.lookup.learn(sequence)

    def propose(self, context: Sequence[int], max_len: int) -> Draft:
        draft = self.lookup.propose(context, max_len)
        return draft if draft.tokens else self.model.propose(context, max_len)


def check_compatible(target: CausalLM, draft: CausalLM) -> None:
    """Refuse a draft whose tokens do not mean the same as the target's (as llama.cpp does).

    Vocab types and special ids must agree, sizes may differ by at most 128 (padding), and the
    token texts from id 5 on must be identical over the shared range.
    """
    tv, dv = target.vocab, draft.vocab
    who = f"draft {draft.name!r} for target {target.name!r}"
    if tv.vocab_type != dv.vocab_type:
        raise IncompatibleDraftError(f"{who}: vocab types differ ({dv.vocab_type} vs {tv.vocab_type})",
                                     "use a draft from the target's model family")
    if abs(tv.size - dv.size) > 128:
        raise IncompatibleDraftError(f"{who}: vocab sizes differ by {abs(tv.size - dv.size)} ({dv.size} vs {tv.size})",
                                     "use a draft with the target's tokenizer, or --draft lookup")
    if (tv.bos, tv.eos) != (dv.bos, dv.eos) and tv.add_bos:
        raise IncompatibleDraftError(f"{who}: special tokens differ (bos/eos {dv.bos}/{dv.eos} vs {tv.bos}/{tv.eos})",
                                     "use a draft with the target's tokenizer, or --draft lookup")
    for i in range(5, min(tv.size, dv.size)):
        if tv.texts[i] != dv.texts[i]:
            raise IncompatibleDraftError(
                f"{who}: token {i} differs ({dv.texts[i][:20]!r} vs {tv.texts[i][:20]!r})",
                "the tokenizers are not the same; use a draft from the target's family, or --draft lookup")
