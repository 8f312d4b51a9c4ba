"""The domain router: a prompt's text -> calibrated probabilities over code, math, writing, general,
and the prompt's language."""
from edge_runtime.router.language import detect_language
from edge_runtime.router.model import RouteDecision, Router

__all__ = ["RouteDecision", "Router", "detect_language"]
