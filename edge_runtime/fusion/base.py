"""The one interface every fusion strategy has, and what it may ask of the runtime."""
from __future__ import annotations

from typing import Protocol, Sequence

from edge_runtime.models.backends.base import CausalLM
from edge_runtime.models.loader import ExpertLoader
from edge_runtime.generation import GenerationResult, Pieces, Request
from edge_runtime.router.routing import Route
from edge_runtime.speculative.drafters import Drafter
from edge_runtime.speculative.factory import DrafterFactory


class Team(Protocol):
    """The runtime as a fusion strategy sees it."""

    loader: ExpertLoader
    drafters: DrafterFactory

    def answer(self, route: Route, request: Request, notes: list[str], ranked: Sequence[str] = ()) -> Pieces:
        """One expert's answer, speculative as configured, the expert pinned only while it decodes."""

    def account(self, result: GenerationResult) -> GenerationResult:
        """The result with the pool's and the process's figures as of now (after every candidate)."""

    def decode(self, route: Route, target: CausalLM, key: str, drafter: Drafter | None, ids: list[int],
               request: Request, notes: list[str]) -> Pieces:
        """Decode a loaded (pinned) model: text pieces, then the result."""


class FusionStrategy(Protocol):
    name: str

    def run(self, team: Team, route: Route, plan: list[tuple[str, float]], request: Request,
            notes: list[str]) -> Pieces:
        """Answer with the experts of `plan` (name, router weight), best first."""


def drain(pieces: Pieces) -> GenerationResult:
    """Run a generation to its end without showing its text: a candidate, not yet the answer."""
    while True:
        try:
            next(pieces)
        except StopIteration as stop:
            return stop.value
