"""What one generation did: tokens, drafting, timing. Travels with every result."""
from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class GenerationStats:
    prompt_tokens: int = 0
    cached_prompt_tokens: int = 0  # prompt tokens whose KV was reused from the previous request
    completion_tokens: int = 0
    drafted: int = 0
    accepted: int = 0
    forced: int = 0  # tokens a grammar forced and jump-forward appended without sampling
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
