"""GGUF -> ONNX decoder with a KV cache, at fp32, fp16, int8 or int4, written atomically.

Written directly on `gguf` (which dequantizes any llama.cpp block type) and `onnx` (31 MB installed):
no torch (a 192 MB wheel), no transformers, no hub. onnxruntime-genai's model builder reads only f16/f32
GGUFs and asks transformers' AutoConfig for the model by name, so it would need that whole stack plus a
float Hugging Face copy of the model; this path exports SmolLM2-135M to int4 in under 30 s on 2 cores. The graph
keeps logits for any number of trailing positions (`logits_to_keep`), which draft verification needs.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnx
from tqdm import tqdm

from edge_runtime.models.backends.onnx import CONTEXT_KEY, KV_BUFFER_KEY
from edge_runtime.errors import ModelFileError

from .decoder_graph import build_decoder
from .gguf_source import GGUFSource
from .onnx import BITS, quantize_weights, save_model
from edge_runtime.models.atomic_output import atomic_output

WEIGHTS = ("fp32", "fp16", "int8", "int4")


def export(source: Path, out: Path, *, weights: str = "int4", search: bool = False, force: bool = False) -> Path:
    """Export a GGUF to the directory `out` (model.onnx, model.onnx.data, tokenizer.gguf)."""
    if source.is_dir():
        raise ModelFileError(f"{source.name}: exporting a Hugging Face directory is not supported yet",
                             "export the model's GGUF (any quantization; it is dequantized on the way)")
    src = GGUFSource(source)
    spec = src.spec
    with atomic_output(out, [source], force=force, directory=True) as tmp, \
            tqdm(total=spec.n_layer + 2, desc=f"export {weights}", unit="step", file=sys.stderr, disable=None) as bar:
        bar.set_postfix_str("dequantize and build")
        model = build_decoder(spec, src, dtype=np.float16 if weights == "fp16" else np.float32, progress=bar)
        bar.set_postfix_str(f"quantize {weights}" if weights in BITS else "")
        if weights in BITS:
            model = quantize_weights(model, weights, search=search)
        bar.update(1)
        onnx.helper.set_model_props(model, {
            KV_BUFFER_KEY: "shared", CONTEXT_KEY: str(spec.context_length), "edge_runtime.source": source.name,
            "edge_runtime.weights": weights})
        bar.set_postfix_str("save")
        save_model(model, tmp)
        src.write_vocab(tmp / "tokenizer.gguf")
        bar.update(1)
    return out
