"""A CausalLM in a worker process: experts with layers on llama.cpp RPC devices.

llama.cpp aborts its whole process when an RPC server dies mid-call, so the GGUFModel that talks to
the servers lives in a spawned worker; here a dead worker is an error for one request, not the end of
the runtime. Text is tokenized here from the file's vocabulary (no round trip); a forward sends ids and
gets back only the logits rows asked for; truncate is sent without waiting (the pipe keeps order).
"""
from __future__ import annotations

import multiprocessing as mp
import os
import pickle
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Callable

import numpy as np

from edge_runtime.rpc.endpoints import RemoteUnavailable
from edge_runtime.errors import EdgeRuntimeError
from edge_runtime.memory.placement import Placement
from edge_runtime.models.backends.base import TokenizerMethods, check_forward
from edge_runtime.models.backends.gguf import LlamaVocab

LOAD_TIMEOUT_S = 600.0  # a first load pushes every remote weight over the network
STEP_TIMEOUT_S = 120.0  # a forward slower than this means a hung server: the worker is killed
_LOGITS, _ERROR, _READY = b"L", b"E", b"R"


@dataclass(frozen=True)
class WorkerSpec:
    path: str
    endpoints: list[str]
    placement: Placement
    options: dict[str, Any]  # GGUFModel keyword arguments


def _open(spec: WorkerSpec) -> Any:
    from edge_runtime.rpc import offload as rpc
    from edge_runtime.models.backends.gguf import GGUFModel

    devices = [dev for endpoint in spec.endpoints for dev in rpc.add_server(endpoint)]
    offload = rpc.Offload(devices, spec.placement.n_layers, spec.placement.split)
    return GGUFModel(spec.path, offload=offload, **spec.options)


def _error(exc: Exception) -> bytes:
    return _ERROR + pickle.dumps((getattr(exc, "message", str(exc)), getattr(exc, "hint", "")))


def _serve(conn: Connection, spec: WorkerSpec) -> None:
    """The worker: load, then answer forward/truncate until told to close or the parent goes away."""
    os.environ["GGML_NO_BACKTRACE"] = "1"  # an abort should end the worker at once, not start a debugger
    try:
        model = _open(spec)
    except Exception as exc:  # a file llama.cpp refuses; an unreachable server aborts instead
        conn.send_bytes(_error(exc))
        return
    conn.send_bytes(_READY + pickle.dumps((model.n_ctx, model.exact_batch, model.max_logits)))
    while True:
        try:
            op, *args = conn.recv()
        except EOFError:
            break
        if op == "close":
            break
        if op == "truncate":
            model.truncate(*args)
            continue
        try:
            ids, logits_for = args
            conn.send_bytes(_LOGITS + np.ascontiguousarray(model.forward(ids, logits_for=logits_for)).tobytes())
        except Exception as exc:  # this request fails; the worker keeps its model
            conn.send_bytes(_error(exc))
    model.close()


class RemoteModel(TokenizerMethods):
    """The CausalLM protocol over a pipe to a worker that owns the model and its RPC connections."""

    def __init__(self, path: str | Path, *, name: str, endpoints: list[str], placement: Placement,
                 on_exit: Callable[[str], None] = lambda detail: None, **options: Any) -> None:
        self.name, self.endpoints, self.placement, self._on_exit = name, endpoints, placement, on_exit
        self.tokenizer = LlamaVocab.from_gguf(path)
        self.vocab, self.chat_template = self.tokenizer.vocab, self.tokenizer.chat_template
        ctx = mp.get_context("spawn")  # never fork a process that holds llama.cpp threads
        self._conn, child = ctx.Pipe()
        spec = WorkerSpec(str(path), endpoints, placement, dict(options, name=name))
        self._proc = ctx.Process(target=_serve, args=(child, spec), name=f"rpc-{name}", daemon=True)
        started = time.perf_counter()
        self._proc.start()
        child.close()
        try:
            self.n_ctx, self.exact_batch, self.max_logits = pickle.loads(self._reply(LOAD_TIMEOUT_S))
        except EdgeRuntimeError:
            self.close()
            raise
        self.load_seconds = time.perf_counter() - started
        self._n_past = 0

    @property
    def n_past(self) -> int:
        return self._n_past

    @property
    def footprint(self) -> int:
        return self.placement.local

    def forward(self, ids: list[int], *, logits_for: int = 1) -> np.ndarray:
        check_forward(self, len(ids), logits_for, self.max_logits)
        self._send(("forward", list(ids), logits_for))
        rows = np.frombuffer(self._reply(STEP_TIMEOUT_S), dtype=np.float32)
        self._n_past += len(ids)
        return rows.reshape(logits_for, -1)

    def truncate(self, n: int) -> None:
        if n < self._n_past:
            self._send(("truncate", n))
            self._n_past = n

    def _send(self, message: tuple) -> None:
        try:
            self._conn.send(message)
        except (OSError, ValueError):
            raise self._lost("its worker is gone") from None

    def _reply(self, timeout: float) -> bytes:
        """The worker's answer; a worker that died or hung is an error for this request."""
        try:
            if not self._conn.poll(timeout):
                raise self._lost(f"no answer within {timeout:.0f}s")
            data = self._conn.recv_bytes()
        except (EOFError, OSError):
            self._proc.join(1)
            raise self._lost(f"its worker ended (exit code {self._proc.exitcode})") from None
        if data[:1] == _ERROR:
            message, hint = pickle.loads(data[1:])
            raise EdgeRuntimeError(message, hint)
        return data[1:]

    def _lost(self, why: str) -> RemoteUnavailable:
        detail = f"expert {self.name!r} lost its RPC server(s) {', '.join(self.endpoints)}: {why}"
        self.close(detail)
        return RemoteUnavailable(detail, "the server was stopped or the network dropped; the next request "
                                         "probes it again and routes to another expert meanwhile")

    def close(self, detail: str = "") -> None:
        """Stop the worker (its RPC connections end with it); `detail` says why when it was lost."""
        if self._proc.is_alive() and not detail:
            try:
                self._conn.send(("close",))
            except (OSError, ValueError):
                pass
            self._proc.join(5)
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join(5)
        if not self._conn.closed:
            self._conn.close()
            self.tokenizer.close()
            self._on_exit(detail)
