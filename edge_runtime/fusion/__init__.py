"""Fusion: several experts answer one prompt when the router is unsure, by one of these strategies."""
from __future__ import annotations

from .base import FusionStrategy, Team, drain
from .best_of import BestOfFusion, score_response
from .mixture import MixtureFusion, MixtureLM

STRATEGIES: dict[str, type] = {"mixture": MixtureFusion, "best-of": BestOfFusion}


def strategy(name: str) -> FusionStrategy:
    return STRATEGIES[name]()


__all__ = ["BestOfFusion", "FusionStrategy", "MixtureFusion", "MixtureLM", "STRATEGIES", "Team", "drain",
           "score_response", "strategy"]
