"""Worker threads run the generations, in arrival order, and hand their pieces to the event loop.

`parallel` threads each run one generation at a time in their own KV lane; they take turns on a baton
(lanes.py), so the Runtime's pool and caches, which are not thread-safe, see one thread at a time, and
their forward passes run together as one llama.cpp batch. Requests beyond them wait in a FIFO (fair:
first come, first served) whose length is capped (a full queue is refused, never grown without bound),
and a job whose client has gone is closed between two pieces, which frees its slot and its lane at once.
"""
from __future__ import annotations

import asyncio
import queue
import threading
import time
from contextlib import nullcontext
from typing import Any, Awaitable, Callable

from edge_runtime.generation import Generation
from edge_runtime.models.backends.lanes import Baton

PIECE, DONE, ERROR = "piece", "done", "error"
WAITING, RUNNING, FINISHED = "waiting", "running", "finished"
DISCONNECT_POLL_S = 0.25  # how often a request that is not streaming yet checks for its client


class QueueFull(Exception):
    """Every slot (the running generations and `max_queue` waiting ones) is taken."""


class ClientGone(Exception):
    """The client disconnected before its answer was ready."""


class ShuttingDown(Exception):
    """The server stopped before this generation could finish."""


class Job:
    """One request's generation: started by the worker, read by the request's coroutine."""

    def __init__(self, start: Callable[[], Generation], worker: Worker) -> None:
        self._start = start
        self._worker = worker
        self._loop = asyncio.get_running_loop()
        self._events: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.cancelled = threading.Event()
        self.state = WAITING
        self.submitted = time.perf_counter()
        self.queue_s = 0.0

    def cancel(self) -> None:
        """Stop (or never start) this generation; a no-op once it has finished."""
        self.cancelled.set()
        self._worker.drop(self)

    async def next(self, is_disconnected: Callable[[], Awaitable[bool]] | None = None) -> tuple[str, Any]:
        """The next (kind, value) event; with `is_disconnected`, raise ClientGone when the client leaves."""
        if is_disconnected is None:
            return await self._events.get()
        while True:
            try:
                return await asyncio.wait_for(self._events.get(), DISCONNECT_POLL_S)
            except asyncio.TimeoutError:
                if await is_disconnected():
                    raise ClientGone from None

    def emit(self, kind: str, value: Any) -> None:
        try:
            self._loop.call_soon_threadsafe(self._events.put_nowait, (kind, value))
        except RuntimeError:  # the event loop is closed: nobody is listening any more
            self.cancelled.set()

    def run(self) -> bool:
        """In the worker thread: generate, emitting pieces; False if stopped because it was cancelled."""
        self.queue_s = time.perf_counter() - self.submitted
        try:
            generation = self._start()
            for piece in generation:
                if self.cancelled.is_set():
                    generation.close()
                    self.emit(ERROR, ShuttingDown())  # read only if the server, not the client, stopped it
                    return False
                self.emit(PIECE, piece)
            self.emit(DONE, generation.result)
        except Exception as exc:  # reported to the request, which maps it to an HTTP error
            self.emit(ERROR, exc)
        return True


class Worker:
    """The generation threads (one per lane) and their bounded FIFO."""

    def __init__(self, max_queue: int, after_job: Callable[[], None] = lambda: None, parallel: int = 1) -> None:
        if max_queue < 0:
            raise ValueError("max_queue must be >= 0")
        if parallel < 1:
            raise ValueError("parallel must be >= 1")
        self.max_queue, self.parallel = max_queue, parallel
        self._after_job = after_job
        self._jobs: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self.baton = Baton() if parallel > 1 else None
        self._threads = [threading.Thread(target=self._serve, args=(lane,), name=f"edge-runtime-generation-{lane}",
                                          daemon=True) for lane in range(parallel)]
        self._current: set[Job] = set()
        self.waiting = self.running = 0
        self.completed = self.cancelled = self.rejected = 0

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def submit(self, start: Callable[[], Generation]) -> Job:
        """Queue a generation (call from the event loop); QueueFull when every slot is taken."""
        with self._lock:
            if self.waiting + self.running >= self.max_queue + self.parallel:
                self.rejected += 1
                raise QueueFull
            self.waiting += 1
            job = Job(start, self)
        self._jobs.put(job)
        return job

    def drop(self, job: Job) -> None:
        """A job that has not started yet gives its slot back now (its client left while waiting)."""
        with self._lock:
            if job.state == WAITING:
                job.state = FINISHED
                self.waiting -= 1
                self.cancelled += 1

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {"running": self.running, "waiting": self.waiting, "max_queue": self.max_queue,
                    "parallel": self.parallel, "completed": self.completed, "cancelled": self.cancelled,
                    "rejected": self.rejected}

    def _serve(self, lane: int) -> None:
        while (job := self._jobs.get()) is not None:
            with self._lock:
                if job.state != WAITING:
                    continue
                job.state, self.waiting, self.running = RUNNING, self.waiting - 1, self.running + 1
                self._current.add(job)
            finished = False
            try:
                with self.baton.lane(lane) if self.baton else nullcontext():
                    finished = self._run(job)
            finally:
                with self._lock:
                    job.state, self.running = FINISHED, self.running - 1
                    self._current.discard(job)
                    self.completed += finished
                    self.cancelled += not finished

    def _run(self, job: Job) -> bool:
        """The job, then the after-job hook (in the job's turn: it reads the runtime's pool)."""
        try:
            return job.run()
        finally:
            self._after_job()

    def stop(self) -> None:
        """Cancel what is queued and running, and wait for the thread (so the runtime can be closed)."""
        while True:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                job.cancel()
                job.emit(ERROR, ShuttingDown())
        with self._lock:
            for job in self._current:
                job.cancelled.set()
        for _ in self._threads:
            self._jobs.put(None)
        for thread in self._threads:
            if thread.is_alive():
                thread.join()
