"""Token-level fusion of experts that share a vocabulary: `MixtureLM` steps them together and presents
the router-weighted mixture of their next-token distributions as one CausalLM, so the ordinary decoder,
sampling and speculative drafting all apply to the mixture unchanged."""
from __future__ import annotations

from contextlib import ExitStack
from typing import Sequence

import numpy as np

from edge_runtime.models.backends.base import CausalLM
from edge_runtime.chat import encode_prompt
from edge_runtime.errors import EdgeRuntimeError
from edge_runtime.generation import Pieces, Request
from edge_runtime.router.routing import Route
from edge_runtime.sampling import log_softmax
from edge_runtime.speculative.drafters import check_compatible
from edge_runtime.fusion.base import Team
from edge_runtime.fusion.best_of import BestOfFusion


class MixtureLM:
    """A CausalLM whose logits are log(sum_i w_i softmax(logits_i)) over experts of one vocabulary."""

    def __init__(self, models: Sequence[CausalLM], weights: Sequence[float]) -> None:
        if len(models) != len(weights) or not models:
            raise ValueError("one weight per model")
        for other in models[1:]:
            check_compatible(models[0], other)
        total = float(sum(weights))
        self.models = list(models)
        self.weights = np.asarray(weights, dtype=np.float64) / total
        first = models[0]
        self.name = "+".join(m.name for m in models)
        self.vocab, self.chat_template = first.vocab, first.chat_template
        self.n_ctx = min(m.n_ctx for m in models)
        self._n_vocab = min(m.vocab.size for m in models)

    @property
    def exact_batch(self) -> int | None:
        """The strictest member's limit (read on demand: a GGUF member measures it on first use)."""
        limits = [m.exact_batch for m in self.models if m.exact_batch is not None]
        return min(limits) if limits else None

    @property
    def n_past(self) -> int:
        return self.models[0].n_past

    @property
    def footprint(self) -> int:
        return sum(m.footprint for m in self.models)

    def tokenize(self, text: str, *, special: bool = False, add_bos: bool | None = None) -> list[int]:
        return self.models[0].tokenize(text, special=special, add_bos=add_bos)

    def detokenize(self, ids: list[int]) -> bytes:
        return self.models[0].detokenize(ids)

    def token_bytes(self, token: int) -> bytes:
        return self.models[0].token_bytes(token)

    def forward(self, ids: list[int], *, logits_for: int = 1) -> np.ndarray:
        mix = np.zeros((logits_for, self._n_vocab), dtype=np.float64)
        for model, weight in zip(self.models, self.weights):
            logits = model.forward(ids, logits_for=logits_for)
            if weight == 0.0:
                continue
            mix += weight * np.exp(log_softmax(logits[:, :self._n_vocab]))
        with np.errstate(divide="ignore"):
            return np.log(mix).astype(np.float32)

    def truncate(self, n: int) -> None:
        for model in self.models:
            model.truncate(n)

    def close(self) -> None:
        """The experts belong to the pool, which closes them."""


class MixtureFusion:
    """Experts of one vocabulary decoded as their router-weighted mixture. All of them must be held at
    once; when the budget cannot hold them together (or their vocabularies differ), best-of answers,
    one expert after another."""

    name = "mixture"

    def run(self, team: Team, route: Route, plan: list[tuple[str, float]], request: Request,
            notes: list[str]) -> Pieces:
        names = [name for name, _ in plan]
        with ExitStack() as held:
            try:
                models = [held.enter_context(team.loader.pinned(name, notes)) for name in names]
                mixture = MixtureLM(models, [weight for _, weight in plan])
            except EdgeRuntimeError as exc:
                notes.append(f"token mixture of {' and '.join(names)} impossible ({exc.message}); "
                             "best-of instead, one expert after another")
                mixture = None
            if mixture is not None:
                fused = route.to("+".join(names), "fused: token-level mixture " +
                                 ", ".join(f"{n} {w:.2f}" for n, w in plan))
                drafter = None if request.draft == "none" else team.drafters.lookup()
                ids = encode_prompt(mixture, request.prompt, raw=request.raw)
                return (yield from team.decode(fused, mixture, "mix:" + fused.expert, drafter, ids, request, notes))
        return (yield from BestOfFusion().run(team, route, plan, request, notes))
