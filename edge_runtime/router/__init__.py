"""The domain router: a prompt's text -> calibrated probabilities over code, math, writing, general."""
from .model import RouteDecision, Router

__all__ = ["RouteDecision", "Router"]
