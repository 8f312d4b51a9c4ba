"""Weight quantization of ONNX decoders to onnxruntime's block formats, in numpy.

MatMul weights become MatMulNBits and the embedding table GatherBlockQuantized: blocks of 32 along
the input dimension, a float scale and an integer zero point per block (llama.cpp's Q4_1/Q8_0 shape).
Activations stay float; accuracy level 4 lets the CPU kernel use int8 dot products inside.

`int4` keeps the layers that 4 bits hurt most at 8 bits, as llama.cpp's Q4_K_M mix does with Q6_K:
the output projection and the FFN down projections (the embedding table, only looked up, stays 4-bit).
Measured on SmolLM2-135M (eval.txt, exported from the Q4_1 GGUF), perplexity against the GGUF's:
4 bits for every block matrix +16%, this mix +8%; `search` (13 scales per block, the least-squares
best kept) brings the mix to +6% at four times the quantization time.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, numpy_helper

from edge_runtime.models.backends.onnx import find_model_file
from edge_runtime.errors import ModelFileError

from edge_runtime.models.atomic_output import atomic_output

BITS = {"int4": 4, "int8": 8}
BLOCK = 32
ACCURACY_LEVEL = 4
EIGHT_BIT_NAMES = ("ffn_down", "down_proj", "lm_head", "output.weight")  # kept at 8 bits by int4
EMBEDDING_BITS = {"int4": 4, "int8": 8}
MS = "com.microsoft"


def save_model(model: onnx.ModelProto, directory: Path) -> None:
    """model.onnx with its weights in model.onnx.data (a protobuf cannot exceed 2 GB)."""
    onnx.save_model(model, str(directory / "model.onnx"), save_as_external_data=True,
                    all_tensors_to_one_file=True, location="model.onnx.data", size_threshold=1024)


def quantize_onnx(source: Path, out: Path, scheme: str, *, search: bool = False, force: bool = False) -> Path:
    """A quantized copy of an ONNX model directory (or file); tokenizer and config files come along."""
    model_file = find_model_file(source)
    with atomic_output(out, [source], force=force, directory=True) as tmp:
        model = quantize_weights(onnx.load(str(model_file)), scheme, search=search)
        props = {p.key: p.value for p in model.metadata_props}
        helper.set_model_props(model, {**props, "edge_runtime.weights": scheme})
        save_model(model, tmp)
        if source.is_dir():
            for extra in source.iterdir():
                if extra.is_file() and not extra.name.startswith(model_file.name):
                    shutil.copy2(extra, tmp / extra.name)
    return out


def quantize_blocks(w: np.ndarray, bits: int, *, search: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """w [rows, k] -> q uint8 [rows, blocks, BLOCK], scales f32 [rows, blocks], zero points u8 [rows, blocks].

    w ~ scale * (q - zero_point); rows are padded with zeros to whole blocks.
    """
    rows, k = w.shape
    x = np.pad(w.astype(np.float32), ((0, 0), (0, -k % BLOCK))).reshape(rows, -1, BLOCK)
    qmax = (1 << bits) - 1
    lo, hi = np.minimum(x.min(-1), 0), np.maximum(x.max(-1), 0)  # zero must be on the grid
    best: list[np.ndarray] = []
    for factor in np.linspace(0.75, 1.05, 13) if search else (1.0,):
        scale = (hi - lo) / qmax * factor
        scale = np.where(scale == 0, 1, scale)
        zero = np.clip(np.rint(-lo / scale), 0, qmax)
        q = np.clip(np.rint(x / scale[..., None] + zero[..., None]), 0, qmax)
        d = q - zero[..., None]
        if search:  # the least-squares scale for these integers
            den = (d * d).sum(-1)
            scale = np.where(den > 0, (x * d).sum(-1) / np.where(den > 0, den, 1), scale)
        err = ((x - scale[..., None] * d) ** 2).sum(-1)
        if not best:
            best = [q, scale, zero, err]
            continue
        better = err < best[3]
        best = [np.where(better[..., None], q, best[0])] + [np.where(better, v, b) for v, b in zip((scale, zero, err), best[1:])]
    return best[0].astype(np.uint8), best[1].astype(np.float32), best[2].astype(np.uint8)


def _pack4(values: np.ndarray) -> np.ndarray:
    """Two 4-bit values per byte along the last axis, low nibble first (odd lengths padded)."""
    if values.shape[-1] % 2:
        values = np.pad(values, [(0, 0)] * (values.ndim - 1) + [(0, 1)])
    return (values[..., 0::2] | (values[..., 1::2] << 4)).astype(np.uint8)


def _matmul_nbits(node: onnx.NodeProto, name: str, w: np.ndarray, bits: int, search: bool) -> tuple[onnx.NodeProto, list]:
    k, n = w.shape
    q, scales, zero = quantize_blocks(w.T, bits, search=search)
    data = _pack4(q) if bits == 4 else q
    zero_points = _pack4(zero).reshape(-1) if bits == 4 else zero.reshape(-1)
    inits = [numpy_helper.from_array(data, name + "_q"), numpy_helper.from_array(scales.reshape(-1), name + "_scales"),
             numpy_helper.from_array(zero_points, name + "_zp")]
    new = helper.make_node("MatMulNBits", [node.input[0], name + "_q", name + "_scales", name + "_zp"],
                           list(node.output), name=node.name, domain=MS, K=k, N=n, bits=bits, block_size=BLOCK,
                           accuracy_level=ACCURACY_LEVEL)
    return new, inits


def _gather_blocks(node: onnx.NodeProto, name: str, table: np.ndarray, bits: int) -> tuple[onnx.NodeProto, list]:
    q, scales, zero = quantize_blocks(table, bits)
    q = q.reshape(table.shape[0], -1)[:, :table.shape[1]]
    inits = [numpy_helper.from_array(_pack4(q) if bits == 4 else q, name + "_q"),
             numpy_helper.from_array(scales.astype(table.dtype), name + "_scales"),
             numpy_helper.from_array(_pack4(zero) if bits == 4 else zero, name + "_zp")]
    new = helper.make_node("GatherBlockQuantized", [name + "_q", node.input[1], name + "_scales", name + "_zp"],
                           list(node.output), name=node.name, domain=MS, bits=bits, block_size=BLOCK,
                           quantize_axis=1, gather_axis=0)
    return new, inits


def quantize_weights(model: onnx.ModelProto, scheme: str, *, search: bool = False) -> onnx.ModelProto:
    """Every MatMul and Gather over a 2-D float initializer, replaced in place by its block-quantized op."""
    bits = BITS[scheme]
    graph = model.graph
    inits = {t.name: t for t in graph.initializer}
    users: dict[str, int] = {}
    for node in graph.node:
        for name in node.input:
            users[name] = users.get(name, 0) + 1
    nodes, added, replaced = [], [], set()
    for node in graph.node:
        weight = node.input[1] if node.op_type == "MatMul" else node.input[0] if node.op_type == "Gather" else ""
        tensor = inits.get(weight) if node.domain == "" else None
        if tensor is None or len(tensor.dims) != 2 or users[weight] != 1 or \
                tensor.data_type not in (onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16):
            nodes.append(node)
            continue
        array = numpy_helper.to_array(tensor)
        if node.op_type == "Gather":
            new, extra = _gather_blocks(node, weight, array, EMBEDDING_BITS[scheme])
        elif array.dtype != np.float32:
            raise ModelFileError(f"{weight}: float16 weights; this quantizer writes float32-activation MatMulNBits",
                                 "quantize a float32 model (`quantize export --weights fp32`)")
        else:
            head = "logits" in node.output or any(s in weight or s in node.name for s in EIGHT_BIT_NAMES)
            new, extra = _matmul_nbits(node, weight, array, 8 if head else bits, search)
        nodes.append(new)
        added.extend(extra)
        replaced.add(weight)
    del graph.node[:]
    graph.node.extend(nodes)
    kept = [t for t in graph.initializer if t.name not in replaced]
    del graph.initializer[:]
    graph.initializer.extend(kept + added)
    if not any(o.domain == MS for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid(MS, 1))
    return model
