"""Which drafter an expert gets: lookup, its draft model, or both, by mode and by what pays here."""
from __future__ import annotations

from edge_runtime.models.backends.base import CausalLM
from edge_runtime.config import ExpertConfig, SpeculativeConfig
from edge_runtime.errors import BudgetError, ConfigError, ModelFileError
from edge_runtime.models.loader import ExpertLoader, weight_bytes
from edge_runtime.sampling import Sampler, SamplingParams
from edge_runtime.speculative.drafters import CombinedDrafter, Drafter, ModelDrafter, PromptLookupDrafter, check_compatible
from edge_runtime.speculative.history import TokenHistory

# A model draft pays on a memory-bound CPU only when its step is far cheaper than the target's;
# the step cost follows the weight bytes read. Measured: the 0.5B at 44% of the 1.5B loses (0.62x).
MODEL_DRAFT_MAX_COST = 0.25


class DrafterFactory:
    def __init__(self, spec: SpeculativeConfig, loader: ExpertLoader) -> None:
        self.spec, self.loader = spec, loader
        self._compatible: set[tuple[str, str]] = set()  # (target, draft) pairs already checked
        self._histories: dict[str, TokenHistory] = {}  # per expert: its earlier requests, for lookup drafts

    def lookup(self, exp: ExpertConfig | None = None) -> PromptLookupDrafter:
        """Prompt lookup that also drafts from the expert's earlier requests (`history` tokens of them);
        a mixture of experts (no `exp`) drafts from its prompt only."""
        history = None
        if self.spec.history > 0 and exp is not None:
            history = self._histories.setdefault(exp.name, TokenHistory(self.spec.history))
        return PromptLookupDrafter(self.spec.ngram_max, self.spec.ngram_min, history)

    def draft_key(self, exp: ExpertConfig) -> str:
        """The pool key of an expert's draft model (pinned with the expert while it decodes)."""
        return f"{exp.name}/draft"

    def create(self, exp: ExpertConfig, target: CausalLM, mode: str, params: SamplingParams,
               notes: list[str]) -> Drafter | None:
        """`none`: no drafter; `lookup`; `model`: the expert's draft model; `auto`: the model draft only
        when it is cheap enough to pay, with lookup first."""
        if mode == "none":
            return None
        if mode == "lookup":
            return self.lookup(exp)
        if not exp.draft:
            if mode == "model":
                raise ConfigError(f"expert {exp.name!r} has no draft model configured",
                                  f"set `draft = \"MODEL\"` under [experts.{exp.name}] or use --draft lookup")
            return self.lookup(exp)
        if mode == "auto" and self._relative_cost(exp) > MODEL_DRAFT_MAX_COST:
            return self.lookup(exp)
        key = self.draft_key(exp)
        try:
            draft = self.loader.load(exp.draft, key=key, n_ctx=target.n_ctx, gpu_layers=exp.n_gpu_layers,
                                     main_gpu=exp.main_gpu)  # the draft lives where its target does
        except (BudgetError, ModelFileError) as exc:  # degrade before refusing: lookup costs no memory
            notes.append(f"model draft unavailable ({exc.message}); using lookup drafting")
            return self.lookup(exp)
        if (target.name, key) not in self._compatible:
            check_compatible(target, draft)
            self._compatible.add((target.name, key))
        model = ModelDrafter(draft, Sampler(params), self.spec.p_min)
        return model if mode == "model" else CombinedDrafter(self.lookup(exp), model)

    @staticmethod
    def _relative_cost(exp: ExpertConfig) -> float:
        """A draft step's cost relative to the expert's, from the weight bytes each step reads."""
        return weight_bytes(exp.draft) / max(1, weight_bytes(exp.model))
