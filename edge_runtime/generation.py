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
    """Token ids to text pieces: UTF-8 split across tokens, stop strings across pieces, a `limit` that reads
    the text so far and says where the reply ends (None: not yet), and a `hold` that says how many characters
    at its end to keep back for now (the end marks a closing phrase may yet go before)."""

    def __init__(self, model: CausalLM, stop: Sequence[str] = (), limit: Callable[[str], int | None] | None = None,
                 hold: Callable[[str], int] | None = None) -> None:
        self.model, self.stop, self.limit, self.hold = model, [s for s in stop if s], limit, hold
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._held = ""  # text withheld: it might start a stop string, or `hold` keeps it back
        self.text = ""
        self.stopped = False
        self.limited = False  # stopped where `limit` said the reply ends

    def feed(self, ids: list[int]) -> str:
        pending = self._held + self._decoder.decode(self.model.detokenize(ids))
        end = self._end(pending)
        if end is not None:
            self.stopped, pending = True, pending[:end]
        cut = len(pending) if self.stopped else len(pending) - self._stop_prefix(pending)
        if self.hold is not None:
            cut = max(0, cut - self.hold(self.text + pending[:cut]))
        self._held = pending[cut:]
        return self.emit(pending[:cut])

    def _end(self, pending: str) -> int | None:
        """Where in `pending` the reply ends: a stop string, or the limit; None: it goes on."""
        for s in self.stop:
            at = pending.find(s)
            if at >= 0:
                return at
        cut = self.limit(self.text + pending) if self.limit is not None else None
        if cut is None:
            return None
        self.limited = True
        return max(0, cut - len(self.text))

    def _stop_prefix(self, pending: str) -> int:
        """How many characters at the end of `pending` could begin a stop string."""
        for k in range(min(max((len(s) - 1 for s in self.stop), default=0), len(pending)), 0, -1):
            if any(s.startswith(pending[-k:]) for s in self.stop):
                return k
        return 0

    def flush(self, finish: Callable[[str, str], str] | None = None) -> str:
        """The text still held back, as `finish(text so far, held)` rewrites it (a closing phrase goes in)."""
        rest = self._held + ("" if self.stopped else self._decoder.decode(b"", final=True))
        self._held = ""
        return self.emit(finish(self.text, rest) if finish is not None else rest)

    def emit(self, piece: str) -> str:
        """Text that is part of the reply from here on (also text no token wrote: a forced phrase)."""
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
