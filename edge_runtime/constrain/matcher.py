"""One generation's grammar state: the token mask at each position, forced tokens, and rollback.

The decoder asks for masks along a draft (one per verify position), then keeps only what verification
accepted; llguidance's matcher rolls back, so rejected draft tokens cost nothing but their masks.
"""
from __future__ import annotations

import time
from typing import Sequence

import numpy as np

from edge_runtime.constrain.engine import llguidance, tokenizer_for
from edge_runtime.constrain.grammars import Grammar
from edge_runtime.errors import PromptError
from edge_runtime.models.backends.base import CausalLM


class Constraint:
    """Masks logits so only tokens the grammar allows can be sampled; `mask_s` totals the time it took."""

    def __init__(self, model: CausalLM, grammar: Grammar) -> None:
        llg = llguidance()
        self.grammar = grammar
        self.matcher = llg.LLMatcher(tokenizer_for(model), grammar.text, log_level=0)
        if self.matcher.is_error():
            raise PromptError(f"{grammar.what}: {self.matcher.get_error()}")
        self.eog = model.vocab.eog
        self._words = np.zeros((model.vocab.size + 31) // 32, dtype=np.int32)
        self.mask_s, self.masks = 0.0, 0
        self._tentative = 0  # tokens a draft model advanced over, undone by `rollback`

    def allowed(self) -> np.ndarray:
        """A bool per token id (and up to 31 past the vocabulary): may it come next?"""
        started = time.perf_counter()
        words = self._words
        self.matcher.unsafe_compute_mask_ptr(words.ctypes.data, words.nbytes)
        bits = np.unpackbits(words.view(np.uint8), bitorder="little").view(bool)
        self.mask_s += time.perf_counter() - started
        self.masks += 1
        return bits

    def apply(self, logits: np.ndarray) -> np.ndarray:
        """A copy of one row of logits with the disallowed tokens at -inf."""
        return self._masked(logits, np.empty(logits.shape[-1], dtype=logits.dtype))

    def _masked(self, logits: np.ndarray, out: np.ndarray) -> np.ndarray:
        """`out` filled with -inf, then the allowed logits copied over: a masked copy costs per element it
        writes (writing -inf over the disallowed ones in place took 3x as long), and most are disallowed."""
        bits = self.allowed()
        n = min(bits.size, logits.shape[-1])
        out.fill(-np.inf)
        np.copyto(out[:n], logits[:n], where=bits[:n])
        return out

    def apply_along(self, logits: np.ndarray, draft: Sequence[int]) -> np.ndarray:
        """Row i masked as the grammar stands after draft[:i] (the matcher ends where it began)."""
        rows = np.empty(logits.shape, dtype=logits.dtype)
        for i in range(len(draft) + 1):
            self._masked(logits[i], rows[i])
            if i < len(draft):
                self.consume([draft[i]])
        self.matcher.rollback(len(draft))
        return rows

    def valid_prefix(self, tokens: Sequence[int]) -> int:
        """How many of `tokens` the grammar takes from here (a draft is cut there)."""
        return self.matcher.validate_tokens(list(tokens)) if tokens else 0

    def consume(self, tokens: Sequence[int]) -> None:
        """Advance over accepted tokens; end-of-generation ids end the text and are not grammar input."""
        for token in tokens:
            if token in self.eog:
                return
            if not self.matcher.consume_token(token):
                raise PromptError(f"{self.grammar.what}: the grammar refused token {token} "
                                  f"({self.matcher.get_error()})")

    def advance(self, token: int) -> bool:
        """Tentatively take one drafted token; False where the draft must end (end of text, or refused)."""
        if token in self.eog or self.matcher.try_consume_tokens([token]) != 1:
            return False
        self._tentative += 1
        return True

    def rollback(self) -> None:
        """Undo every `advance` since the last rollback."""
        self.matcher.rollback(self._tentative)
        self._tentative = 0

    def forced(self) -> list[int]:
        """Tokens the grammar forces next (a key, `": "`, closing braces): appended without sampling."""
        return list(self.matcher.compute_ff_tokens())

    @property
    def done(self) -> bool:
        """The grammar is complete and allows nothing more (the next token could only be end-of-text)."""
        return self.matcher.is_stopped()
