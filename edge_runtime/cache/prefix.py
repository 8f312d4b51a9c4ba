"""KV states of earlier requests, found by token prefix: a conversation's next turn, or another
conversation with the same system prompt, restores the longest cached prefix instead of computing it.

One cache per loaded model. A state is llama.cpp's own serialization of the sequence
(`llama_state_seq_get_data`), restored byte for byte, so decoding after a restore computes exactly what
it computed when that prefix was live. Bytes held in memory count against the runtime's memory budget
(the pool asks the cache to give some back before it evicts a model); optional write-through to disk
(spill.py) keeps long prompts across processes.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Protocol, Sequence

from edge_runtime.cache.radix import Node, RadixTree
from edge_runtime.cache.spill import SpilledState, SpillStore

if TYPE_CHECKING:
    from edge_runtime.memory.budget import ModelPool

MIN_TOKENS = 32  # shorter sequences are recomputed in less time than a state takes to save


class Stateful(Protocol):
    """What a model needs for prefix caching (the GGUF backend has it; ONNX does not)."""

    @property
    def n_past(self) -> int: ...

    def save_state(self) -> bytearray: ...

    def load_state(self, blob: bytearray) -> bool: ...

    def truncate(self, n: int) -> None: ...


@dataclass(eq=False)
class State:
    blob: bytearray | None  # in memory; None when only on disk
    spilled: SpilledState | None = None

    @property
    def nbytes(self) -> int:
        return len(self.blob) if self.blob is not None else 0


class PrefixCache:
    """States by token prefix, at most `capacity` bytes in memory and never more than `admit` allows."""

    def __init__(self, capacity: int, admit: Callable[[int], bool], lock: threading.RLock | None = None,
                 spill: SpillStore | None = None) -> None:
        self.capacity, self.admit, self.spill = capacity, admit, spill
        self.lock = lock or threading.RLock()  # the pool's: it calls `shrink` while holding it
        self.tree = RadixTree()
        self.bytes = 0
        self.hits = self.evictions = 0
        for spilled in spill.entries() if spill else []:
            self.tree.insert(spilled.tokens, State(None, spilled))

    def restore(self, model: Stateful, prompt: Sequence[int], have: int) -> int:
        """Put the longest cached prefix of `prompt` (all but its last token) into the model's KV when it
        is longer than the `have` tokens already there; the tokens of `prompt` the KV now holds."""
        with self.lock:
            matched, node = self.tree.match(prompt[:len(prompt) - 1])
            leaf = self.tree.best_leaf(node) if matched > have else None
            if leaf is None:
                return have
            self.tree.lock(leaf)
        try:
            blob = self._blob(leaf)
            if blob is None:
                return have
            if not model.load_state(blob):  # the KV is empty now
                self._drop(leaf)
                return 0
        finally:
            with self.lock:
                self.tree.unlock(leaf)
        model.truncate(matched)
        with self.lock:
            self.tree.touch(leaf)
            self.hits += 1
        return matched

    def _blob(self, leaf: Node) -> bytearray | None:
        """A leaf's state, read back from disk (and kept in memory when there is room) if spilled."""
        state: State = leaf.value
        if state.blob is not None or state.spilled is None or self.spill is None:
            return state.blob
        blob = self.spill.read(state.spilled)
        if blob is None:
            self._drop(leaf)
        elif self._room(len(blob)):
            with self.lock:
                state.blob = blob
                self.bytes += len(blob)
        return blob

    def save(self, model: Stateful, tokens: Sequence[int]) -> None:
        """Keep the model's KV (holding `tokens`) for later prompts that start with them."""
        if len(tokens) < MIN_TOKENS:
            return
        with self.lock:
            matched, node = self.tree.match(tokens)
            if matched == len(tokens) and self.tree.best_leaf(node) is not None:
                self.tree.touch(self.tree.best_leaf(node))  # a stored state already holds them
                return
        blob = model.save_state()
        if not self._room(len(blob)):
            return
        state = State(blob, self.spill.write(list(tokens), blob) if self.spill else None)
        with self.lock:
            node, dropped = self.tree.insert(tokens, state)
            self.bytes += state.nbytes if node is not None else 0
            for old in dropped:
                self._free(old, delete=True)

    def _room(self, need: int) -> bool:
        """Make room for `need` more bytes: this cache's own least recently used states go first, then
        the pool decides (it may take more from this cache)."""
        if need > self.capacity:
            return False
        with self.lock:
            self.shrink(self.bytes + need - self.capacity)
            return self.admit(need)

    def shrink(self, need: int) -> int:
        """Free at least `need` bytes of memory if unlocked states hold them; the bytes freed. A state on
        disk leaves memory but stays findable."""
        freed = 0
        with self.lock:
            for leaf in self.tree.evictable():
                if freed >= need:
                    break
                state: State = leaf.value
                if state.blob is None:
                    continue
                freed += state.nbytes
                self.evictions += 1
                if state.spilled is not None:
                    self.bytes -= state.nbytes
                    state.blob = None
                else:
                    self._free(self.tree.remove(leaf), delete=False)
        return freed

    def _drop(self, leaf: Node) -> None:
        """Forget a state that could not be restored (its file vanished, or llama.cpp refused it)."""
        with self.lock:
            if leaf.value is not None:
                self._free(self.tree.remove(leaf), delete=True)

    def _free(self, state: State, *, delete: bool) -> None:
        self.bytes -= state.nbytes
        state.blob = None
        if delete and state.spilled is not None and self.spill is not None:
            self.spill.delete(state.spilled)

    def stats(self) -> dict[str, int]:
        with self.lock:
            return {"bytes": self.bytes, "states": len(self.tree.leaves()), "hits": self.hits,
                    "evictions": self.evictions}


def prefix_cache_for(model: object, capacity: int, spill_capacity: int, pool: "ModelPool") -> PrefixCache | None:
    """A cache for one loaded model counted in the pool's budget; None when off or the backend keeps no
    states (ONNX, a model in a worker process)."""
    if capacity <= 0 or not hasattr(model, "save_state"):
        return None
    path, kv_type = getattr(model, "path", None), getattr(model, "kv_type", "")
    spill = SpillStore(path, kv_type, spill_capacity) if spill_capacity > 0 and path is not None else None
    cache = PrefixCache(capacity, pool.admit, pool.lock, spill)
    pool.add_cache(cache)
    return cache
