"""Experts through the memory pool: each load planned from the file header first, the context reduced
before a load is refused, and the next best expert taken when one cannot load."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from .backends import CausalLM, is_onnx, open_model
from .catalog import resolve
from .config import Config
from .errors import EdgeRuntimeError
from .memory import ModelPool, estimate_footprint
from .profile import tuned
from .routing import Route

MIN_CONTEXT = 512  # the smallest context worth reducing to: a prompt and an answer of a few hundred tokens


class ExpertLoader:
    """Loads experts and drafts by config name into one budgeted, LRU pool."""

    def __init__(self, config: Config, pool: ModelPool, threads: int) -> None:
        self.config, self.pool, self.threads = config, pool, threads

    def layout(self, path: Path) -> dict[str, bool]:
        """Repack and mmap for one file: the tuned profile's when there is one (and `tuned` is on), else
        the config's; repacked weights load with mmap off, which keeps no second copy resident."""
        cfg = self.config
        profile = tuned(path, self.threads) if cfg.tuned else None
        repack = bool(profile["repack"]) if profile else cfg.repack
        return {"repack": repack, "use_mmap": cfg.mmap and not repack}

    def plan(self, path: Path, n_ctx: int) -> int:
        """Bytes a model will hold, loaded with this runtime's settings."""
        cfg, layout = self.config, self.layout(path)
        return estimate_footprint(path, n_ctx, cfg.kv_type, cfg.batch, repack=layout["repack"],
                                  mmap=layout["use_mmap"]).total

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

    def load(self, ref: str, *, key: str, n_ctx: int, tokenizer: str = "",
             notes: list[str] | None = None) -> CausalLM:
        """A model through the pool: its footprint is planned from the header before loading."""
        cfg = self.config
        path = resolve(ref)
        fitted = self._fitted_context(path, key, n_ctx)
        options: dict[str, Any] = dict(name=key, n_ctx=fitted, n_threads=self.threads, n_batch=cfg.batch)
        if is_onnx(path):
            options.update(providers=cfg.providers, tokenizer=resolve(tokenizer) if tokenizer else None)
        else:
            options.update(kv_type=cfg.kv_type, use_mlock=cfg.mlock, **self.layout(path))
        model = self.pool.get(key, self.plan(path, fitted), lambda: open_model(path, **options))
        if fitted != n_ctx and notes is not None:
            notes.append(f"context of {key!r} reduced from {n_ctx} to {fitted} tokens to fit the memory budget")
        return model

    @staticmethod
    def path_of(ref: str) -> Path | None:
        """A model's file if it is here; None when it was never pulled."""
        try:
            return resolve(ref)
        except EdgeRuntimeError:
            return None

    def strongest(self, names: list[str]) -> str:
        """The expert with the most weight bytes: the best judge of the others' answers."""
        return max(names, key=lambda n: estimate_footprint(resolve(self.config.expert(n).model), 1).weights)

    def expert(self, name: str, notes: list[str] | None = None) -> CausalLM:
        exp = self.config.expert(name)
        return self.load(exp.model, key=name, n_ctx=exp.context or self.config.context, tokenizer=exp.tokenizer,
                         notes=notes)

    @contextmanager
    def pinned(self, name: str, notes: list[str]) -> Iterator[CausalLM]:
        """An expert loaded and pinned in one step: nothing loaded while it is in use evicts it."""
        model = self.expert(name, notes)
        with self.pool.pinned(name):
            yield model

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
            with self.pool.pinned(name):
                yield (route if name == route.expert else route.to(name, "next best")), model
            return
