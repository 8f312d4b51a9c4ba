"""Fusion: several experts answer one prompt when the router is unsure (with `verify`, also when the answer
can be checked), by one of these strategies."""
from __future__ import annotations

from edge_runtime.fusion.base import FusionStrategy, Team, drain
from edge_runtime.fusion.best_of import BestOfFusion, score_response
from edge_runtime.fusion.mixture import MixtureFusion, MixtureLM
from edge_runtime.fusion.verified import VerifiedFusion, verifiable

STRATEGIES: dict[str, type] = {"mixture": MixtureFusion, "best-of": BestOfFusion, "verify": VerifiedFusion}


def strategy(name: str) -> FusionStrategy:
    return STRATEGIES[name]()


__all__ = ["BestOfFusion", "FusionStrategy", "MixtureFusion", "MixtureLM", "STRATEGIES", "Team", "drain",
           "VerifiedFusion",
           "score_response", "strategy", "verifiable"]
