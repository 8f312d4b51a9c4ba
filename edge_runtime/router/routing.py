"""From a prompt to the experts that should answer it: the router's domains mapped through the config,
filtered to experts that read the prompt's language."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from edge_runtime.config import Config
from edge_runtime.evidence.signature import signature
from edge_runtime.router.language import detect_language


@dataclass
class Route:
    """The runtime's decision for one prompt: which expert, and why.

    `probabilities` and `latency_ms` are the router's own output (empty when the expert was forced).
    """

    domain: str
    expert: str
    probabilities: dict[str, float] = field(default_factory=dict)
    latency_ms: float = 0.0
    confident: bool = True
    reason: str = "routed"
    language: str = "en"

    def to(self, expert: str, reason: str) -> "Route":
        """The same decision handed to another expert, for another reason."""
        return Route(self.domain, expert, self.probabilities, self.latency_ms, self.confident, reason, self.language)


class Routing:
    """Routes prompts with the configured router (loaded on first use) and ranks the experts."""

    def __init__(self, config: Config, router: Any = None) -> None:
        self.config = config
        self._router = router  # the config's router is loaded at the first route

    def route(self, text: str) -> Route:
        """The top domain's first expert that reads the prompt's language."""
        cfg = self.config
        if self._router is None:
            from edge_runtime.router.model import Router

            self._router = Router.load(cfg.router.model)
        decision = self._router.predict(text)
        top = decision.probabilities[decision.domain]
        route = Route(decision.domain, "", decision.probabilities, decision.latency_ms,
                      confident=top >= cfg.router.threshold, language=decision.language)
        if route.domain != "code" and signature(text) is not None:
            # a typed signature to implement is code whatever the words around it (the router sent 4 of 66
            # fresh code tasks to writing or math, where the prose cascade answered with the 0.5B)
            route = replace(route, domain="code", confident=True)
            coders = [n for n in cfg.experts_for("code") if cfg.expert(n).reads(route.language)]
            if coders:
                return route.to(coders[0], "routed: a typed signature asks for code")
        ranked = self.ranked(route)
        preferred = cfg.experts_for(route.domain)[0]
        expert = ranked[0][0]
        if expert != preferred:
            return route.to(expert, f"routed: {preferred!r} does not read {route.language!r}")
        return route.to(expert, "routed")

    def structured(self, route: Route, need: str) -> Route:
        """The route for a reply under a grammar: the routed expert if it declares `need` ("tools", "json"),
        else the first (strongest) capable expert that reads the prompt's language."""
        capable = self.config.capable(need)
        if not capable or route.expert in capable:
            return route
        readers = [name for name in capable if self.config.experts[name].reads(route.language)]
        return route.to((readers or capable)[0], f"routed: {route.expert!r} does not serve {need}")

    def forced(self, expert: str, text: str = "") -> Route:
        exp = self.config.expert(expert)
        return Route(exp.domains[0] if exp.domains else "general", expert, reason="forced",
                     language=detect_language(text))

    def ranked(self, route: Route) -> list[tuple[str, float]]:
        """Experts that read the prompt's language, by the summed router probability of their domains.

        A domain whose experts cannot read the language gives its weight to the first expert in config
        order that can (the packaged team lists its strongest first). Every expert that reads it ranks,
        so there is a next best when the first cannot load. When none reads it, all experts rank:
        an answer in a weak language beats none.
        """
        weights: dict[str, float] = {}
        readers = [e.name for e in self.config.experts.values() if e.reads(route.language)]
        readers = readers or list(self.config.experts)
        for domain, prob in sorted(route.probabilities.items(), key=lambda kv: -kv[1]):
            for name in self.config.experts_for(domain) + readers:
                if name in readers:
                    weights[name] = weights.get(name, 0.0) + prob
                    break
        for name in readers:
            weights.setdefault(name, 0.0)
        return sorted(weights.items(), key=lambda kv: -kv[1])
