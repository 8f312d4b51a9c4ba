"""Model backends behind the CausalLM protocol; `open_model` picks one from the path."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from edge_runtime.models.backends.base import CausalLM


def is_onnx(path: str | Path) -> bool:
    """A .onnx file, or a directory that holds one (an export, a genai or Optimum model directory)."""
    path = Path(path)
    return path.suffix == ".onnx" or (path.is_dir() and any(path.glob("*.onnx")))


def open_model(path: str | Path, **options: Any) -> CausalLM:
    """ONNXModel for ONNX files and directories, GGUFModel otherwise; options go to the constructor."""
    if is_onnx(path):
        from edge_runtime.models.backends.onnx import ONNXModel

        return ONNXModel(path, **options)
    from edge_runtime.models.backends.gguf import GGUFModel

    return GGUFModel(path, **options)
