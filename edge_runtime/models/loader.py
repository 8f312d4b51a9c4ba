"""Experts through the memory pool: each load planned from the file header first, the context reduced
before a load is refused, and the next best expert taken when one cannot load."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from edge_runtime.models.backends import CausalLM, is_onnx, open_model
from edge_runtime.models.catalog import resolve
from edge_runtime.config import Config, ExpertConfig
from edge_runtime.rpc.endpoints import Endpoints, RemoteUnavailable
from edge_runtime.errors import EdgeRuntimeError
from edge_runtime.models.header import read_gguf
from edge_runtime.tuning.layouts import variant, variant_path
from edge_runtime.memory.budget import ModelPool, estimate_footprint, fit_gpu_layers, fmt_bytes
from edge_runtime.memory.placement import fit
from edge_runtime.tuning.probe import LoadSettings, first_load_profile
from edge_runtime.tuning.profile import TunedProfile, tuned
from edge_runtime.router.routing import Route

MIN_CONTEXT = 512  # the smallest context worth reducing to: a prompt and an answer of a few hundred tokens


def weight_bytes(ref: str) -> int:
    """The bytes of weights a model reads per step: what its strength and its step cost follow."""
    return estimate_footprint(resolve(ref), 1).weights


class ExpertLoader:
    """Loads experts and drafts by config name into one budgeted, LRU pool."""

    def __init__(self, config: Config, pool: ModelPool, threads: int) -> None:
        self.config, self.pool, self.threads = config, pool, threads
        self.lanes = 1  # KV sequences per GGUF model: one per generation a parallel server runs at once
        self.endpoints = Endpoints()  # the RPC servers' last known states, for /health
        self._probed: dict[Path, TunedProfile] = {}  # probes this process ran but did not keep (a busy machine)

    def profile(self, path: Path | None) -> TunedProfile | None:
        """The measured profile of a file (tune's, or the first load's probe), or None when it has none (or
        there is no file) or `tuned` is off: the one place that decides whether measured choices (layout,
        repack, verify default) apply."""
        if not self.config.tuned or path is None:
            return None
        return tuned(path, self.threads) or self._probed.get(path)

    def probe_first_load(self, path: Path, key: str) -> None:
        """A GGUF file loading on this machine's CPU for the first time gets its repack setting measured
        (probe.py), when `tuned` is on and both settings fit the budget's room one at a time."""
        if not self.config.tuned or is_onnx(path) or key in self.pool.loaded() or self.profile(path) is not None:
            return
        load = LoadSettings(self.threads, self.config.kv_type, self.config.batch)
        room = self.pool.room()
        need = estimate_footprint(path, load.n_ctx, load.kv_type, load.n_batch, repack=True, mmap=False).total
        if room is None or need <= room:
            self._probed[path] = first_load_profile(path, load)

    def chosen_layout(self, path: Path, layout: str = "") -> str:
        """The layout a file loads in: the expert's config's, else the tuned profile's, else "" (as is)."""
        if is_onnx(path):
            return ""
        profile = self.profile(path)
        return layout or (profile.layout if profile else "")

    def weights(self, ref: str, layout: str = "") -> tuple[Path, str]:
        """The file that loads for a model reference (its layout variant, made on first use), and the layout."""
        path = resolve(ref)
        layout = self.chosen_layout(path, layout)
        return (variant(path, layout, self.threads), layout) if layout else (path, "")

    def weight_options(self, path: Path) -> dict[str, bool]:
        """Repack and mmap for the file that loads: its tuned profile's when there is one, else the
        config's; repacked weights load with mmap off, which keeps no second copy resident."""
        profile = self.profile(path)
        repack = profile.repack if profile else self.config.repack
        return {"repack": repack, "use_mmap": self.config.mmap and not repack}

    def plan(self, path: Path, n_ctx: int) -> int:
        """Bytes a model will hold, loaded with this runtime's settings (a KV cache of n_ctx per lane)."""
        cfg, options = self.config, self.weight_options(path)
        return estimate_footprint(path, n_ctx, cfg.kv_type, cfg.batch, repack=options["repack"],
                                  mmap=options["use_mmap"], lanes=self.lanes).total

    def _fitted_context(self, path: Path, key: str, n_ctx: int) -> int:
        """The configured context, halved until the model fits the budget's room.

        Below MIN_CONTEXT the pool refuses with the smallest configuration's numbers.
        """
        room = self.pool.room()
        if room is None or key in self.pool.loaded() or is_onnx(path):
            return n_ctx
        fitted = n_ctx
        while fitted > MIN_CONTEXT and self.plan(path, fitted) > room:
            fitted = max(MIN_CONTEXT, fitted // 2)
        return fitted

    def _gpu_placement(self, path: Path, key: str, n_ctx: int, gpu_layers: int, main_gpu: int,
                       notes: list[str]) -> tuple[int, int | None]:
        """(layers to offload, host bytes) under the GPU memory budget: fewer layers before refusing."""
        cfg = self.config
        room = self.pool.device_room(main_gpu, key)
        placed = fit_gpu_layers(path, n_ctx, gpu_layers, max(0, room), cfg.kv_type, cfg.batch, lanes=self.lanes)
        n_layer = read_gguf(path).n_layer
        if placed.layers_on_device < (n_layer if gpu_layers < 0 else min(gpu_layers - 1, n_layer)):
            notes.append(f"{key!r}: {placed.layers_on_device} of {n_layer} layers on the GPU (asked "
                         f"{'all' if gpu_layers < 0 else gpu_layers - 1}) to fit the GPU memory budget of "
                         f"{fmt_bytes(max(0, room))}")
        self.pool.hold_device(key, main_gpu, placed.device.total)
        return placed.gpu_layers, placed.host.total if placed.gpu_layers else None

    def load(self, ref: str, *, key: str, n_ctx: int, tokenizer: str = "", notes: list[str] | None = None,
             gpu_layers: int = 0, main_gpu: int = 0, layout: str = "") -> CausalLM:
        """A model through the pool: the file that loads (a layout variant, see `weights`) has its
        footprint (host, and device when layers are offloaded) planned from its header before loading."""
        cfg = self.config
        notes = notes if notes is not None else []
        path, layout = self.weights(ref, layout)
        if layout:
            notes.append(f"{key!r} loads layout {layout}: {path.name}")
        if not gpu_layers:
            self.probe_first_load(path, key)
        fitted = self._fitted_context(path, key, n_ctx)
        need = self.plan(path, fitted)
        options: dict[str, Any] = dict(name=key, n_ctx=fitted, n_threads=self.threads, n_batch=cfg.batch)
        if is_onnx(path):
            options.update(providers=cfg.providers, tokenizer=resolve(tokenizer) if tokenizer else None)
        else:
            options.update(kv_type=cfg.kv_type, use_mlock=cfg.mlock, n_seq=self.lanes, **self.weight_options(path))
            if gpu_layers and key not in self.pool.loaded():
                layers, host = self._gpu_placement(path, key, fitted, gpu_layers, main_gpu, notes)
                options.update(gpu_layers=layers, main_gpu=main_gpu)
                need = host if host is not None else need
        model = self.pool.get(key, need, lambda: open_model(path, **options))
        if fitted != n_ctx:
            notes.append(f"context of {key!r} reduced from {n_ctx} to {fitted} tokens to fit the memory budget")
        return model

    def path_of(self, ref: str, layout: str = "") -> Path | None:
        """The file a model loads, if it is here (its layout variant once made; nothing is made here);
        None when it was never pulled."""
        try:
            path = resolve(ref)
        except EdgeRuntimeError:
            return None
        layout = self.chosen_layout(path, layout)
        made = variant_path(path, layout) if layout else path
        return made if made.is_file() else path

    def strongest(self, names: list[str]) -> str:
        """The expert with the most weight bytes: the best judge of the others' answers."""
        return max(names, key=lambda n: weight_bytes(self.config.expert(n).model))

    def remote(self, exp: ExpertConfig, n_ctx: int) -> CausalLM:
        """An expert with layers on RPC devices, in a worker process: its servers are probed and its
        split planned (what stays here counts against the budget) before the worker starts."""
        from edge_runtime.rpc.worker import RemoteModel

        cfg = self.config
        path, _ = self.weights(exp.model, exp.layout)
        loaded = self.pool.cached(exp.name)
        if loaded is not None:
            return loaded
        placement = fit(path, n_ctx, cfg.kv_type, cfg.batch, self.endpoints.check(exp.rpc), exp.tensor_split)

        def start() -> CausalLM:
            model = RemoteModel(path, name=exp.name, endpoints=exp.rpc, placement=placement,
                                on_exit=lambda detail: self.endpoints.held(exp.rpc, None, detail),
                                n_ctx=n_ctx, n_threads=self.threads, n_batch=cfg.batch, kv_type=cfg.kv_type)
            self.endpoints.held(exp.rpc, exp.name)
            return model

        return self.pool.get(exp.name, placement.local, start)

    def expert(self, name: str, notes: list[str] | None = None) -> CausalLM:
        exp = self.config.expert(name)
        if exp.rpc:
            return self.remote(exp, exp.context or self.config.context)
        return self.load(exp.model, key=name, n_ctx=exp.context or self.config.context, tokenizer=exp.tokenizer,
                         notes=notes, gpu_layers=exp.n_gpu_layers, main_gpu=exp.main_gpu, layout=exp.layout)

    @contextmanager
    def pinned(self, name: str, notes: list[str]) -> Iterator[CausalLM]:
        """An expert loaded and pinned in one step: nothing loaded while it is in use evicts it."""
        model = self.expert(name, notes)
        with self.holding(name):
            yield model

    @contextmanager
    def holding(self, name: str) -> Iterator[None]:
        """Pinned while in use; an expert whose RPC server died mid-call is dropped from the pool, so
        the next request probes its servers again and, while they are down, routes past it."""
        try:
            with self.pool.pinned(name):
                yield
        except RemoteUnavailable:
            if name in self.pool.loaded():
                self.pool.evict(name)
            raise

    @contextmanager
    def routed(self, route: Route, ranked: list[str], notes: list[str]) -> Iterator[tuple[Route, CausalLM]]:
        """The routed expert, pinned, or the next best of `ranked` when it cannot load (missing file,
        over budget); a forced route has no next best."""
        names = [route.expert] + ([] if route.reason == "forced" else [n for n in ranked if n != route.expert])
        for i, name in enumerate(names):
            try:
                model = self.expert(name, notes)
            except EdgeRuntimeError as exc:
                if i == len(names) - 1:
                    raise
                notes.append(f"expert {name!r} unavailable ({exc.message}); routed to the next best")
                continue
            with self.holding(name):
                yield (route if name == route.expert else route.to(name, "next best")), model
            return
