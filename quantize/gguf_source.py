"""A GGUF file as the source of an export: its decoder shape, its weights dequantized, its vocabulary.

`gguf.quants.dequantize` turns any llama.cpp block type (Q4_K, Q5_0, Q8_0, ...) into float32, so an
already-quantized GGUF exports without a float16 original and without torch. The vocabulary and chat
template travel as a GGUF that holds metadata only, which llama.cpp loads with `vocab_only`: the ONNX
model then tokenizes exactly as the GGUF one does.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from gguf import GGUFReader, GGUFValueType, GGUFWriter
from gguf.quants import dequantize

from edge_runtime.errors import ModelFileError
from edge_runtime.models.header import GGUFInfo, read_gguf

from .decoder_graph import DecoderSpec

# llama.cpp's rope type per architecture: llama's converter permutes Q/K for interleaved pairs (NORM)
ROPE_INTERLEAVED = {"llama": True, "qwen2": False}


class GGUFSource:
    """Weights by llama.cpp tensor name; matrices come out as [out_features, in_features] float32."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.info = read_gguf(self.path)  # clear errors for missing, foreign and truncated files
        self.spec = _spec(self.info)
        self._reader = GGUFReader(self.path)
        self._tensors = {t.name: t for t in self._reader.tensors}

    def has(self, name: str) -> bool:
        return name in self._tensors

    def get(self, name: str) -> np.ndarray:
        t = self._tensors[name]
        values = dequantize(t.data, t.tensor_type)
        return np.asarray(values, dtype=np.float32).reshape(tuple(int(d) for d in reversed(t.shape)))

    def write_vocab(self, out: Path) -> None:
        """Every metadata key (vocabulary, special ids, chat template, hparams), no tensors."""
        writer = GGUFWriter(str(out), self.info.arch)
        for field in self._reader.fields.values():
            if field.name.startswith("GGUF.") or field.name == "general.architecture":
                continue  # the writer sets these itself
            vtype = field.types[0]
            sub = field.types[-1] if vtype == GGUFValueType.ARRAY else None
            writer.add_key_value(field.name, field.contents(), vtype, sub_type=sub)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_tensors_to_file()
        writer.close()


def _spec(info: GGUFInfo) -> DecoderSpec:
    arch = info.arch
    if arch not in ROPE_INTERLEAVED:
        raise ModelFileError(f"{info.path.name}: architecture {arch!r} cannot be exported to ONNX yet",
                             "export supports " + ", ".join(ROPE_INTERLEAVED) + " (llama-family decoders)")
    scaling = info.arch_get("rope.scaling.type", "none")
    if scaling != "none":
        raise ModelFileError(f"{info.path.name}: rope scaling {scaling!r} is not supported by the export",
                             "export a model without rope scaling")
    head_dim = info.head_dim_k
    return DecoderSpec(
        arch=arch, n_layer=info.n_layer, n_embd=info.n_embd, n_head=info.n_head, n_head_kv=info.n_head_kv,
        head_dim=head_dim, n_ff=int(info.arch_get("feed_forward_length")), n_vocab=info.vocab_size,
        context_length=info.context_length, rms_eps=float(info.arch_get("attention.layer_norm_rms_epsilon")),
        rope_base=float(info.arch_get("rope.freq_base", 10000.0)),
        rope_dim=int(info.arch_get("rope.dimension_count", head_dim)), rope_interleaved=ROPE_INTERLEAVED[arch])
