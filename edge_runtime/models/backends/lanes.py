"""Parallel generations on shared models: each generation thread decodes in its own KV sequence (its
lane), and the forward passes the threads ask for run as one llama.cpp batch (continuous batching).

The threads take turns holding a baton: only the holder runs Python, so the runtime's pool, caches and
router need no locks, and a thread's steps interleave with the others' only where it asks for a forward
pass. There it hands the baton on; once no thread is left that could run, the pending forwards run
together, one batch per model. On a memory-bound machine a batch of k sequences' tokens costs far less
than k one-token steps (the weights are read once), which is where parallel clients gain.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator, Protocol

import numpy as np

_local = threading.local()


class BatchedModel(Protocol):
    def decode_together(self, requests: list[tuple[int, list[int], int]]) -> list[np.ndarray]: ...


def lane() -> int:
    """The KV sequence the calling thread decodes in: 0 outside a parallel server's generation threads."""
    return getattr(_local, "lane", 0)


def baton() -> Baton | None:
    """The baton the calling thread takes turns with, if it is a parallel generation thread."""
    return getattr(_local, "baton", None)


def beside() -> int:
    """How many other lanes are generating beside this thread's: their tokens share its batches."""
    turns = baton()
    return turns.active - 1 if turns is not None else 0


@dataclass(eq=False)
class _Forward:
    """One thread's forward pass, waiting for the batch it will run in."""
    model: BatchedModel
    seq: int
    ids: list[int]
    logits_for: int
    logits: np.ndarray | None = None
    error: BaseException | None = None
    done: bool = False


class Baton:
    """Turns between generation threads, and the batch of their forward passes."""

    def __init__(self) -> None:
        self._cv = threading.Condition()
        self._held = False
        self._ready = 0  # threads that could run now, waiting for the baton
        self._pending: list[_Forward] = []
        self.active = 0  # lanes running a generation

    @contextmanager
    def lane(self, index: int) -> Iterator[None]:
        """Run the calling thread's work in KV sequence `index`, taking turns with the other lanes."""
        _local.lane, _local.baton = index, self
        self._take()
        self.active += 1
        try:
            yield
        finally:
            self.active -= 1
            self._give()
            _local.lane, _local.baton = 0, None

    def forward(self, model: BatchedModel, ids: list[int], logits_for: int) -> np.ndarray:
        """The logits of `ids` in this thread's lane, computed in a batch with the other lanes' forwards."""
        request = _Forward(model, lane(), list(ids), logits_for)
        with self._cv:
            self._pending.append(request)
            self._held = False
            if self._ready == 0:
                self._run_pending()
            self._cv.notify_all()
            while not request.done or self._held:
                self._cv.wait()
            self._ready -= 1
            self._held = True
        if request.error is not None:
            raise request.error
        assert request.logits is not None
        return request.logits

    def _take(self) -> None:
        with self._cv:
            self._ready += 1
            while self._held:
                self._cv.wait()
            self._ready -= 1
            self._held = True

    def _give(self) -> None:
        with self._cv:
            self._held = False
            if self._ready == 0:
                self._run_pending()
            self._cv.notify_all()

    def _run_pending(self) -> None:
        """Run every pending forward, one batch per model: no thread is left that could add to the batch.
        Called holding the condition, which is let go while the batch runs, so lanes that arrive
        meanwhile queue for the baton (and join the next batch) instead of waiting on the lock."""
        pending, self._pending = self._pending, []
        if not pending:
            return
        self._held = True
        self._cv.release()
        try:
            by_model: dict[int, list[_Forward]] = {}
            for request in pending:
                by_model.setdefault(id(request.model), []).append(request)
            for group in by_model.values():
                _run_group(group)
        finally:
            self._cv.acquire()
            for request in pending:
                request.done = True
            self._ready += len(pending)
            self._held = False


def _run_group(group: list[_Forward]) -> None:
    """One model's forwards as one batch; an error reaches every thread whose forward was in it."""
    try:
        outputs = group[0].model.decode_together([(r.seq, r.ids, r.logits_for) for r in group])
    except Exception as exc:  # each waiting thread raises it as its own forward's failure
        for request in group:
            request.error = exc
        return
    for request, logits in zip(group, outputs):
        request.logits = logits
