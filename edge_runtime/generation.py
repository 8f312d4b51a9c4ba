"""What a generation hands back: text pieces as they come, then one result with its account."""
from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from typing import Any, Callable, Generator, Iterator, Sequence

from edge_runtime.models.backends.base import CausalLM
from edge_runtime.chat import Message
from edge_runtime.constrain.request import Structure
from edge_runtime.router.routing import Route
from edge_runtime.sampling import SamplingParams
from edge_runtime.speculative.stats import GenerationStats


@dataclass
class Request:
    """What one request asks for, carried through routing, fusion and decoding."""

    prompt: str | list[Message]
    draft: str = "auto"
    max_tokens: int = 256
    params: SamplingParams = field(default_factory=SamplingParams)
    stop: Sequence[str] = ()
    raw: bool = False
    progress: Callable[[str], None] | None = None  # told of each fusion candidate while the answer waits
    verify: str = "auto"  # exact | fast | auto (the tuned profile's choice, else exact)
    structure: Structure | None = None  # a grammar the reply must follow, tools offered; None: free text
    jump_forward: bool = True  # append the tokens a grammar forces without sampling them

    def report(self, text: str) -> None:
        if self.progress is not None:
            self.progress(text)

    @property
    def user_text(self) -> str:
        """The text routing reads: the prompt, or the last user message of a conversation."""
        if isinstance(self.prompt, str):
            return self.prompt
        return next((m["content"] for m in reversed(self.prompt) if m.get("role") == "user"), "")


@dataclass
class GenerationResult:
    text: str
    route: Route
    draft: str
    stats: GenerationStats
    verify: str  # the verify mode that ran: exact or fast
    peak_rss_bytes: int
    notes: list[str] = field(default_factory=list)
    pool_loads: int = 0  # models loaded by this runtime so far
    pool_evictions: int = 0  # models evicted to stay inside the budget so far
    footprints: dict[str, tuple[int, int]] = field(default_factory=dict)  # planned vs measured bytes per model
    fusion: dict[str, Any] | None = None  # candidates, checks and the winner, when experts were fused
    tool_calls: list[dict[str, Any]] | None = None  # the calls a reply made, in OpenAI's shape (text: the rest)

    def as_dict(self) -> dict[str, Any]:
        s = self.stats
        out = {"text": self.text, "expert": self.route.expert, "domain": self.route.domain,
               "language": self.route.language, "route_probabilities": self.route.probabilities,
               "route_reason": self.route.reason, "draft": self.draft, "verify": self.verify}
        out.update(s.as_dict())
        out.update(peak_rss_bytes=self.peak_rss_bytes, pool_loads=self.pool_loads,
                   pool_evictions=self.pool_evictions, notes=self.notes,
                   footprints={key: {"planned_bytes": planned, "measured_bytes": measured}
                               for key, (planned, measured) in self.footprints.items()})
        if self.fusion is not None:
            out["fusion"] = self.fusion
        if self.tool_calls is not None:
            out["tool_calls"] = self.tool_calls
        return out


class TextStream:
    """Token ids to text pieces: UTF-8 split across tokens, and stop strings across pieces."""

    def __init__(self, model: CausalLM, stop: Sequence[str] = ()) -> None:
        self.model, self.stop = model, [s for s in stop if s]
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._held = ""  # text withheld because it might be the start of a stop string
        self.text = ""
        self.stopped = False

    def feed(self, ids: list[int]) -> str:
        pending = self._held + self._decoder.decode(self.model.detokenize(ids))
        for s in self.stop:
            at = pending.find(s)
            if at >= 0:
                self.stopped, self._held = True, ""
                return self._emit(pending[:at])
        keep = max((len(s) - 1 for s in self.stop), default=0)
        cut = len(pending)
        for k in range(min(keep, len(pending)), 0, -1):
            if any(s.startswith(pending[-k:]) for s in self.stop):
                cut = len(pending) - k
                break
        self._held = pending[cut:]
        return self._emit(pending[:cut])

    def flush(self) -> str:
        rest = "" if self.stopped else self._held + self._decoder.decode(b"", final=True)
        self._held = ""
        return self._emit(rest)

    def _emit(self, piece: str) -> str:
        self.text += piece
        return piece


Pieces = Generator[str, None, GenerationResult]


class Generation:
    """Iterate for text pieces as they are accepted; `result` is set once iteration ends.

    The pieces come from a generator that *returns* its result, so no stage sets it from outside.
    """

    def __init__(self, pieces: Pieces) -> None:
        self._pieces = pieces
        self._iterator = self._run()
        self.result: GenerationResult | None = None

    def _run(self) -> Iterator[str]:
        self.result = yield from self._pieces

    def __iter__(self) -> Iterator[str]:
        return self._iterator

    def close(self) -> None:
        """Stop early (a client went away): the generator's cleanup runs and the model is released."""
        self._iterator.close()
        self._pieces.close()
