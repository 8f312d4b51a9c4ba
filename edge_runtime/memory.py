"""Memory is decided before a load: estimate from the file header, admit under a budget, evict
least-recently-used models to make room, and never let the OS decide for us.
"""
from __future__ import annotations

import re
import resource
import sys
import threading
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import psutil

from .backends.base import CausalLM
from .errors import BudgetError, ConfigError
from .gguf_file import read_gguf

_UNITS = {"": 1, "B": 1, "KB": 1000, "MB": 1000**2, "GB": 1000**3, "KIB": 1024, "MIB": 1024**2, "GIB": 1024**3,
          "K": 1024, "M": 1024**2, "G": 1024**3}
AUTO_SHARE = 0.7  # "auto" leaves 30% of available memory to the rest of the system


def parse_size(text: str) -> int:
    """'1.5GB', '600MB', '2GiB', '123456' -> bytes."""
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([A-Za-z]*)\s*", text)
    if not m or m.group(2).upper() not in _UNITS:
        raise ConfigError(f"cannot read the size {text!r}", "write e.g. 1.5GB, 600MB or 2GiB")
    return int(float(m.group(1)) * _UNITS[m.group(2).upper()])


def budget_bytes(spec: str) -> int:
    """A budget from 'auto', a share of available memory ('70%'), or an absolute size."""
    available = psutil.virtual_memory().available
    spec = spec.strip()
    if spec == "auto":
        return int(available * AUTO_SHARE)
    if spec.endswith("%"):
        share = float(spec[:-1]) / 100
        if not 0 < share <= 1:
            raise ConfigError(f"memory budget {spec!r} must be a share between 0% and 100%")
        return int(available * share)
    return parse_size(spec)


def fmt_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.2f} {unit}"
        n /= 1000
    return f"{n:.2f} GB"


@dataclass(frozen=True)
class Footprint:
    weights: int
    kv_cache: int
    compute: int

    @property
    def total(self) -> int:
        return self.weights + self.kv_cache + self.compute


def estimate_footprint(path: Path, n_ctx: int, kv_type: str = "f16", n_batch: int = 512,
                       max_logits: int = 64) -> Footprint:
    """Weights from tensor extents, KV from the architecture, compute buffers from batch and vocab.

    ONNX models: the stored weights (the graph and its external data) plus 10%; their KV layout is
    read from the graph at load time, where the backend's `footprint` reports it.
    """
    from .backends import is_onnx
    from .backends.onnx import find_model_file

    if is_onnx(path):
        model = find_model_file(Path(path))
        stored = sum(f.stat().st_size for f in model.parent.glob(model.name + "*"))
        return Footprint(stored, 0, stored // 10)
    info = read_gguf(path)
    n_ctx = min(n_ctx, info.context_length or n_ctx)
    kv = info.kv_cache_bytes(n_ctx, kv_type)
    logits = max_logits * info.vocab_size * 4
    activations = n_batch * (info.n_embd * 4 + info.arch_get("feed_forward_length", 4 * info.n_embd)) * 4
    return Footprint(info.tensor_bytes, kv, logits + activations)


def peak_rss_bytes() -> int:
    """This process's peak resident set since start (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


class ModelPool:
    """Loaded models by key, least recently used first; pinned models are never evicted."""

    def __init__(self, budget: int | None = None) -> None:
        self.budget = budget
        self._models: OrderedDict[str, tuple[CausalLM, int]] = OrderedDict()
        self._pins: dict[str, int] = {}
        self._lock = threading.RLock()
        self.evictions = 0
        self.loads = 0

    @property
    def used(self) -> int:
        return sum(size for _, size in self._models.values())

    def loaded(self) -> list[str]:
        return list(self._models)

    def room(self) -> int | None:
        """Bytes a new model could get after evicting everything not pinned (None: no budget)."""
        if self.budget is None:
            return None
        with self._lock:
            return self.budget - sum(size for k, (_, size) in self._models.items() if self._pins.get(k))

    def _make_room(self, need: int, key: str) -> None:
        if self.budget is None:
            return
        if need > self.budget:
            raise BudgetError(f"{key!r} needs {fmt_bytes(need)} but only {fmt_bytes(max(0, self.budget))} of the "
                              "memory budget is left for models (the rest holds the process itself)",
                              "raise --memory-budget, set a smaller `kv_type`, or choose a smaller expert")
        for victim in [k for k in self._models if not self._pins.get(k)]:
            if self.used + need <= self.budget:
                break
            self.evict(victim)
        if self.used + need > self.budget:
            raise BudgetError(
                f"{key!r} needs {fmt_bytes(need)}; {fmt_bytes(self.used)} of the {fmt_bytes(self.budget)} budget "
                f"is held by models in use ({', '.join(self._models)})",
                "raise --memory-budget or wait for the running generation to finish")

    def evict(self, key: str) -> None:
        with self._lock:
            model, _ = self._models.pop(key)
            model.close()
            self.evictions += 1

    def get(self, key: str, need: int, loader: Callable[[], CausalLM]) -> CausalLM:
        """The model for `key`, loading it (after making room for `need` bytes) if absent."""
        with self._lock:
            if key in self._models:
                self._models.move_to_end(key)
                return self._models[key][0]
            self._make_room(need, key)
            model = loader()
            self.loads += 1
            self._models[key] = (model, need)
            return model

    @contextmanager
    def pinned(self, *keys: str) -> Iterator[None]:
        with self._lock:
            for k in keys:
                self._pins[k] = self._pins.get(k, 0) + 1
        try:
            yield
        finally:
            with self._lock:
                for k in keys:
                    self._pins[k] -= 1

    def close(self) -> None:
        with self._lock:
            for key in list(self._models):
                self.evict(key)
