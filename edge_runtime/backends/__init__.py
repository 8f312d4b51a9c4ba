"""Backends behind the CausalLM seam, chosen by the model file's format."""
from __future__ import annotations

from pathlib import Path

from .base import CausalLM, Vocab


def open_model(path: Path, *, name: str, n_ctx: int, n_threads: int, n_batch: int = 512, kv_type: str = "f16",
               use_mmap: bool = True, use_mlock: bool = False) -> CausalLM:
    """Load a model file as a CausalLM: GGUF through llama.cpp (ONNX directories through onnxruntime)."""
    from .gguf import GGUFModel

    return GGUFModel(path, name=name, n_ctx=n_ctx, n_threads=n_threads, n_batch=n_batch, kv_type=kv_type,
                     use_mmap=use_mmap, use_mlock=use_mlock)


__all__ = ["CausalLM", "Vocab", "open_model"]
