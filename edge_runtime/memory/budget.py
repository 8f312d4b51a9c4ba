"""Memory is decided before a load: estimate from the file header, admit under a budget, evict
least-recently-used models to make room, and never let the OS decide for us.
"""
from __future__ import annotations

import ctypes
import gc
import re
import resource
import sys
import threading
import time
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Protocol

import psutil

from edge_runtime.models.backends.base import CausalLM
from edge_runtime.errors import BudgetError, ConfigError
from edge_runtime.models.header import GGUFInfo, read_gguf

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


# Weight types llama.cpp's CPU backend repacks on AVX2 and NEON CPUs. With mmap on, the mapped original
# pages it read stay resident beside the repacked copy (measured: 1.5B Q4_K_M +630 MB RSS; llama.cpp
# issue 16761); with mmap off the repacked buffers are loaded in their place. The token embedding is
# only gathered from and so never repacked.
REPACKED_TYPES = ("Q4_0", "Q4_K", "IQ4_NL")


def repacked_bytes(info: GGUFInfo) -> int:
    """Bytes llama.cpp copies into repacked buffers (approximate: the exact set depends on the CPU)."""
    embedding = info.token_embd_bytes if info.token_embd_type in REPACKED_TYPES else 0
    return sum(info.type_bytes.get(t, 0) for t in REPACKED_TYPES) - embedding


def estimate_footprint(path: Path, n_ctx: int, kv_type: str = "f16", n_batch: int = 512,
                       max_logits: int = 64, repack: bool = False, mmap: bool = True, lanes: int = 1) -> Footprint:
    """Weights from tensor extents, KV from the architecture (n_ctx cells for each of `lanes` sequences),
    compute buffers from batch and vocab.

    ONNX models: the stored weights (the graph and its external data) plus 10%; their KV layout is
    read from the graph at load time, where the backend's `footprint` reports it.
    """
    from edge_runtime.models.backends import is_onnx
    from edge_runtime.models.backends.onnx import find_model_file

    if is_onnx(path):
        model = find_model_file(Path(path))
        stored = sum(f.stat().st_size for f in model.parent.glob(model.name + "*"))
        return Footprint(stored, 0, stored // 10)
    info = read_gguf(path)
    n_ctx = min(n_ctx, info.context_length or n_ctx)
    kv = info.kv_cache_bytes(n_ctx, kv_type) * lanes
    logits = max_logits * info.vocab_size * 4
    activations = n_batch * (info.n_embd * 4 + info.arch_get("feed_forward_length", 4 * info.n_embd)) * 4
    return Footprint(info.tensor_bytes + (repacked_bytes(info) if repack and mmap else 0), kv, logits + activations)


@dataclass(frozen=True)
class PlacedFootprint:
    """A GGUF model's bytes split between host memory and one accelerator, for `gpu_layers` offloaded."""

    gpu_layers: int  # as llama.cpp counts them: the output layer first, then blocks from the last one down
    layers_on_device: int  # transformer blocks on the device
    host: Footprint
    device: Footprint

    @property
    def total(self) -> int:
        return self.host.total + self.device.total


def offloaded(n_layer: int, gpu_layers: int) -> tuple[int, bool]:
    """(transformer blocks on the device, output layer on the device) for llama.cpp's n_gpu_layers.

    llama.cpp counts n_layer + 1 offloadable layers: the output layer goes first, then the blocks from
    the last one down; -1 (or anything past n_layer) is all of them. The token embedding never moves.
    """
    n = n_layer + 1 if gpu_layers < 0 else min(gpu_layers, n_layer + 1)
    return max(0, n - 1), n >= 1


def split_footprint(path: Path, n_ctx: int, gpu_layers: int, kv_type: str = "f16", n_batch: int = 512,
                    max_logits: int = 64, lanes: int = 1) -> PlacedFootprint:
    """Host and device bytes of a GGUF loaded with `gpu_layers` on an accelerator.

    Weights: blocks by their `blk.N.*` tensors; the token embedding stays on the host; the output
    projection (a second copy of the embedding when they are tied) is on the device once any layer is.
    The KV cache of an offloaded block lives on the device. The compute buffer (activations and the
    logits of up to `max_logits` rows) is on the device when anything is offloaded; the host keeps the
    logits it reads back and the input embeddings.
    """
    info = read_gguf(path)
    full = estimate_footprint(path, n_ctx, kv_type, n_batch, max_logits, lanes=lanes)
    if gpu_layers == 0 or info.n_layer == 0:
        return PlacedFootprint(0, 0, full, Footprint(0, 0, 0))
    blocks, output = offloaded(info.n_layer, gpu_layers)
    first = info.n_layer - blocks
    dev_weights = sum(b for i, b in info.block_bytes.items() if i >= first) + (info.output_bytes if output else 0)
    copy = info.token_embd_bytes if output and info.tied_output else 0  # a tied head is duplicated on the device
    host_weights = info.tensor_bytes - dev_weights + copy
    dev_kv = full.kv_cache * blocks // info.n_layer
    logits = max_logits * info.vocab_size * 4
    host_compute = logits + n_batch * info.n_embd * 4
    device = Footprint(dev_weights, dev_kv, full.compute if output else 0)
    host = Footprint(host_weights, full.kv_cache - dev_kv, host_compute if output else full.compute)
    return PlacedFootprint(gpu_layers, blocks, host, device)


def fit_gpu_layers(path: Path, n_ctx: int, gpu_layers: int, budget: int, kv_type: str = "f16",
                   n_batch: int = 512, max_logits: int = 64, lanes: int = 1) -> PlacedFootprint:
    """The placement with the most offloaded layers (at most `gpu_layers`) whose device bytes fit
    `budget`; 0 layers (all on the host) when not even the output layer fits."""
    info = read_gguf(path)
    layers = info.n_layer + 1 if gpu_layers < 0 else min(gpu_layers, info.n_layer + 1)
    while layers > 0:
        placed = split_footprint(path, n_ctx, layers, kv_type, n_batch, max_logits, lanes)
        if placed.device.total <= budget:
            return placed
        layers -= 1
    return split_footprint(path, n_ctx, 0, kv_type, n_batch, max_logits, lanes)


def gpu_budget_bytes(spec: str, main_gpu: int = 0) -> int:
    """Device bytes the models may take on the main GPU: 'auto' (90% of its free memory now), a share
    of its free memory ('80%'), or a size. 0 where llama.cpp sees no GPU."""
    spec = spec.strip()
    if spec not in ("auto",) and not spec.endswith("%"):
        return parse_size(spec)
    from edge_runtime.models.backends.ggml import gpu_devices

    gpus = gpu_devices()
    if not gpus:
        return 0
    free = gpus[min(main_gpu, len(gpus) - 1)].free
    share = 0.9 if spec == "auto" else float(spec[:-1]) / 100
    if not 0 < share <= 1:
        raise ConfigError(f"GPU memory budget {spec!r} must be a share between 0% and 100%")
    return int(free * share)


def peak_rss_bytes() -> int:
    """This process's peak resident set since start (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def rss_bytes() -> int:
    """This process's resident set now."""
    return psutil.Process().memory_info().rss


def release_freed_memory() -> None:
    """Collect the closed model's Python objects and hand glibc's free heap back to the OS, so that
    the next load sees the memory the last one gave up (RSS otherwise keeps a swap's slack)."""
    gc.collect()
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6").malloc_trim(0)
        except (OSError, AttributeError):  # musl and other libcs: nothing to trim
            pass


class Shrinkable(Protocol):
    """A cache whose bytes count against the budget and that gives them back on demand (prefix states)."""

    bytes: int

    def shrink(self, need: int) -> int: ...


class ModelPool:
    """The one owner of the memory budget: loaded models by key, least recently used first; pinned models
    are never evicted. It decides host bytes (`get`, `room`) and accelerator bytes (`device_room`,
    `hold_device`); the loader and placement ask it, they keep no count of their own.

    The budget covers the whole process. What the process holds besides its models (the router,
    tokenizers, allocator slack after a swap) is measured before every load, not once at start:
    it grows, and a promise made against the start would be broken by it.
    """

    def __init__(self, budget: int | None = None, gpu_budget: str = "auto") -> None:
        self.budget, self.gpu_budget = budget, gpu_budget
        self._gpu_budgets: dict[int, int] = {}  # main GPU -> bytes, fixed at its first use
        self._device: dict[str, tuple[int, int]] = {}  # key -> (main GPU, planned device bytes)
        self._models: OrderedDict[str, tuple[CausalLM, int]] = OrderedDict()
        self._pins: dict[str, int] = {}
        self._lock = threading.RLock()
        self.evictions = 0
        self.loads = 0
        self.load_seconds = 0.0  # total time spent loading: what a swap costs
        self.footprints: dict[str, tuple[int, int]] = {}  # key -> (planned, measured RSS growth) at its last load
        self._caches: list[Shrinkable] = []  # cheaper to give up than a model: shrunk first

    @property
    def lock(self) -> threading.RLock:
        """The pool's lock, shared by the caches it may shrink from another call."""
        return self._lock

    @property
    def used(self) -> int:
        return sum(size for _, size in self._models.values()) + self.cache_bytes

    @property
    def cache_bytes(self) -> int:
        return sum(cache.bytes for cache in self._caches)

    def add_cache(self, cache: Shrinkable) -> None:
        with self._lock:
            self._caches.append(cache)

    def admit(self, need: int) -> bool:
        """Whether a cache may take `need` more bytes, after the caches gave back what they can; models
        are never evicted for a cache."""
        with self._lock:
            self._shrink_caches(need)
            return self._fits(need)

    def _shrink_caches(self, need: int) -> None:
        """Caches give back bytes until `need` more fits (or they hold nothing evictable)."""
        if self.budget is None:
            return
        for cache in self._caches:
            excess = self.overhead() + self.used + need - self.budget
            if excess <= 0:
                return
            cache.shrink(excess)

    def loaded(self) -> list[str]:
        return list(self._models)

    def overhead(self) -> int:
        """Resident bytes of the process that are not its models' planned footprints."""
        return max(0, rss_bytes() - self.used)

    def _pinned_bytes(self) -> int:
        return sum(size for k, (_, size) in self._models.items() if self._pins.get(k))

    def room(self) -> int | None:
        """Bytes a new model could get after evicting everything not pinned (None: no budget)."""
        if self.budget is None:
            return None
        with self._lock:
            return self.budget - self.overhead() - self._pinned_bytes()

    def device_room(self, main_gpu: int, key: str) -> int:
        """Accelerator bytes `key` may take on `main_gpu`: the GPU budget less what the other loaded models
        hold there. A share of free memory ('auto', '80%') is read once, before this pool holds anything
        on that GPU: read again later it would count the pool's own models twice (free already excludes them)."""
        if main_gpu not in self._gpu_budgets:
            self._gpu_budgets[main_gpu] = gpu_budget_bytes(self.gpu_budget, main_gpu)
        with self._lock:
            held = sum(b for k, (gpu, b) in self._device.items() if gpu == main_gpu and k != key and k in self._models)
        return max(0, self._gpu_budgets[main_gpu] - held)

    def hold_device(self, key: str, main_gpu: int, nbytes: int) -> None:
        """Record the accelerator bytes planned for `key` (counted while it stays loaded)."""
        with self._lock:
            self._device[key] = (main_gpu, nbytes)

    def _fits(self, need: int) -> bool:
        return self.budget is None or self.overhead() + self.used + need <= self.budget

    def _make_room(self, need: int, key: str) -> None:
        room = self.room()
        if room is None:
            return
        if need > room:
            if self._pinned_bytes():
                raise BudgetError(
                    f"{key!r} needs {fmt_bytes(need)}; models in use ({', '.join(self._models)}) leave "
                    f"{fmt_bytes(max(0, room))} of the {fmt_bytes(self.budget)} budget",
                    "raise --memory-budget or wait for the running generation to finish")
            raise BudgetError(f"{key!r} needs {fmt_bytes(need)} but only {fmt_bytes(max(0, room))} of the "
                              "memory budget is left for models (the rest holds the process itself)",
                              "raise --memory-budget, set a smaller `kv_type`, or choose a smaller expert")
        self._shrink_caches(need)
        for victim in [k for k in self._models if not self._pins.get(k)]:
            if self._fits(need):
                break
            self.evict(victim)

    def evict(self, key: str) -> None:
        with self._lock:
            model, _ = self._models.pop(key)
            self._device.pop(key, None)
            model.close()
            del model
            release_freed_memory()
            self.evictions += 1

    def cached(self, key: str) -> CausalLM | None:
        """The model for `key` if it is loaded (now the most recently used), else None."""
        with self._lock:
            if key not in self._models:
                return None
            self._models.move_to_end(key)
            return self._models[key][0]

    def get(self, key: str, need: int, loader: Callable[[], CausalLM]) -> CausalLM:
        """The model for `key`, loading it (after making room for `need` bytes) if absent."""
        with self._lock:
            model = self.cached(key)
            if model is not None:
                return model
            self._make_room(need, key)
            started, rss_before = time.perf_counter(), rss_bytes()
            model = loader()
            self.load_seconds += time.perf_counter() - started
            measured = rss_bytes() - rss_before
            self.footprints[key] = (need, measured)
            self.loads += 1
            self._models[key] = (model, max(need, measured))  # an estimate that fell short is not trusted
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
