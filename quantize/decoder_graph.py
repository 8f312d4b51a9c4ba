"""A llama-family decoder (llama, qwen2) as one ONNX graph with a KV cache, built from weight arrays.

The I/O layout is onnxruntime-genai's (`input_ids`, `attention_mask`, `past_key_values.N.key/value`
in; `logits`, `present.N.key/value` out), so the graph runs under our backend and under genai alike.
Attention is ORT's GroupQueryAttention: rotary embedding inside the op, and a KV buffer that past and
present may share, so a decode step writes one row instead of copying the whole cache.

`logits_to_keep` (a scalar input; 0 = every position) limits the output projection to the last k
positions: verifying a draft needs logits at several positions, a prompt needs only the last.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

if TYPE_CHECKING:
    from tqdm import tqdm

OPSET = 21
MS = "com.microsoft"


@dataclass(frozen=True)
class DecoderSpec:
    """The shape of a llama-family decoder; `rope_interleaved` is llama.cpp's NORM rope type."""

    arch: str
    n_layer: int
    n_embd: int
    n_head: int
    n_head_kv: int
    head_dim: int
    n_ff: int
    n_vocab: int
    context_length: int
    rms_eps: float
    rope_base: float
    rope_dim: int
    rope_interleaved: bool


class Weights(Protocol):
    """Float32 tensors by llama.cpp name, matrices as [out_features, in_features]."""

    def get(self, name: str) -> np.ndarray: ...

    def has(self, name: str) -> bool: ...


class _Graph:
    """Nodes and initializers with generated names; `op` returns the output names."""

    def __init__(self, dtype: np.dtype) -> None:
        self.dtype = np.dtype(dtype)
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self._n = 0

    def name(self, stem: str) -> str:
        self._n += 1
        return f"{stem}_{self._n}"

    def const(self, name: str, value: np.ndarray, *, cast: bool = True) -> str:
        arr = np.asarray(value.astype(self.dtype) if cast else value, order="C")
        self.inits.append(numpy_helper.from_array(arr, name))
        return name

    def op(self, op_type: str, inputs: list[str], n_out: int = 1, *, domain: str = "",
           outputs: list[str] | None = None, **attrs: object) -> list[str]:
        outs = outputs or [self.name(op_type) for _ in range(n_out)]
        self.nodes.append(helper.make_node(op_type, inputs, outs, name=self.name(op_type + "_node"),
                                           domain=domain, **attrs))
        return outs


def _rope_cache(spec: DecoderSpec) -> tuple[np.ndarray, np.ndarray]:
    inv_freq = spec.rope_base ** (-np.arange(0, spec.rope_dim, 2, dtype=np.float64) / spec.rope_dim)
    angles = np.outer(np.arange(spec.context_length, dtype=np.float64), inv_freq)
    return np.cos(angles).astype(np.float32), np.sin(angles).astype(np.float32)


def build_decoder(spec: DecoderSpec, weights: Weights, *, dtype: np.dtype = np.float32,
                  progress: tqdm | None = None) -> onnx.ModelProto:
    """The whole decoder; `progress` (a tqdm) is advanced once per layer."""
    g = _Graph(dtype)
    elem = helper.np_dtype_to_tensor_dtype(g.dtype)
    kv_dims = ["batch_size", spec.n_head_kv, "past_sequence_length", spec.head_dim]
    present_dims = ["batch_size", spec.n_head_kv, "total_sequence_length", spec.head_dim]
    inputs = [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch_size", "sequence_length"]),
              helper.make_tensor_value_info("attention_mask", TensorProto.INT64,
                                            ["batch_size", "total_sequence_length"])]
    outputs = [helper.make_tensor_value_info("logits", elem, ["batch_size", "logits_length", spec.n_vocab])]
    for i in range(spec.n_layer):
        for kind in ("key", "value"):
            inputs.append(helper.make_tensor_value_info(f"past_key_values.{i}.{kind}", elem, kv_dims))
            outputs.append(helper.make_tensor_value_info(f"present.{i}.{kind}", elem, present_dims))
    inputs.append(helper.make_tensor_value_info("logits_to_keep", TensorProto.INT64, []))

    # sequence lengths for GroupQueryAttention, from the mask as genai feeds it
    one = g.const("one_i64", np.array([1], dtype=np.int64), cast=False)
    mask_sum = g.op("ReduceSum", ["attention_mask", one], keepdims=0)[0]
    seqlens_k = g.op("Cast", [g.op("Sub", [mask_sum, one])[0]], to=TensorProto.INT32)[0]
    total_len = g.op("Gather", [g.op("Shape", ["attention_mask"])[0],
                                g.const("idx1", np.array(1, dtype=np.int64), cast=False)], axis=0)[0]
    total_len = g.op("Cast", [total_len], to=TensorProto.INT32)[0]
    cos, sin = _rope_cache(spec)
    cos_cache, sin_cache = g.const("cos_cache", cos), g.const("sin_cache", sin)

    embd = weights.get("token_embd.weight")
    hidden = g.op("Gather", [g.const("token_embd.weight", embd), "input_ids"])[0]
    residual = hidden
    eps = float(spec.rms_eps)
    for i in range(spec.n_layer):
        p = f"blk.{i}."
        norm_w = g.const(p + "attn_norm.weight", weights.get(p + "attn_norm.weight"))
        if i == 0:
            h = g.op("SimplifiedLayerNormalization", [hidden, norm_w], axis=-1, epsilon=eps, stash_type=1)[0]
        else:
            h, _, _, residual = g.op("SkipSimplifiedLayerNormalization", [hidden, residual, norm_w], 4,
                                     domain=MS, epsilon=eps)
        qkv_w = np.concatenate([weights.get(p + f"attn_{x}.weight") for x in "qkv"])
        qkv = g.op("MatMul", [h, g.const(p + "attn_qkv.weight", qkv_w.T)])[0]
        if weights.has(p + "attn_q.bias"):
            bias = np.concatenate([weights.get(p + f"attn_{x}.bias") for x in "qkv"])
            qkv = g.op("Add", [qkv, g.const(p + "attn_qkv.bias", bias)])[0]
        attn = g.op("GroupQueryAttention",
                    [qkv, "", "", f"past_key_values.{i}.key", f"past_key_values.{i}.value", seqlens_k,
                     total_len, cos_cache, sin_cache],
                    domain=MS, outputs=[g.name("attn"), f"present.{i}.key", f"present.{i}.value"],
                    num_heads=spec.n_head, kv_num_heads=spec.n_head_kv, do_rotary=1,
                    rotary_interleaved=int(spec.rope_interleaved))[0]
        attn_out = g.op("MatMul", [attn, g.const(p + "attn_output.weight", weights.get(p + "attn_output.weight").T)])[0]
        ffn_norm = g.const(p + "ffn_norm.weight", weights.get(p + "ffn_norm.weight"))
        h, _, _, residual = g.op("SkipSimplifiedLayerNormalization", [attn_out, residual, ffn_norm], 4,
                                 domain=MS, epsilon=eps)
        gate_up_w = np.concatenate([weights.get(p + "ffn_gate.weight"), weights.get(p + "ffn_up.weight")])
        gate_up = g.op("MatMul", [h, g.const(p + "ffn_gate_up.weight", gate_up_w.T)])[0]
        gate, up = g.op("Split", [gate_up, g.const(g.name("split"), np.array([spec.n_ff] * 2), cast=False)],
                        2, axis=-1)
        act = g.op("Mul", [g.op("Mul", [gate, g.op("Sigmoid", [gate])[0]])[0], up])[0]
        hidden = g.op("MatMul", [act, g.const(p + "ffn_down.weight", weights.get(p + "ffn_down.weight").T)])[0]
        if progress is not None:
            progress.update(1)
    out_norm = g.const("output_norm.weight", weights.get("output_norm.weight"))
    h = g.op("SkipSimplifiedLayerNormalization", [hidden, residual, out_norm], domain=MS, epsilon=eps)[0]
    start = g.op("Neg", [g.op("Reshape", ["logits_to_keep", one])[0]])[0]
    end = g.const("int64_max", np.array([np.iinfo(np.int64).max], dtype=np.int64), cast=False)
    h = g.op("Slice", [h, start, end, one])[0]
    out_w = weights.get("output.weight") if weights.has("output.weight") else embd
    g.op("MatMul", [h, g.const("output.weight", out_w.T)], outputs=["logits"])

    graph = helper.make_graph(g.nodes, f"{spec.arch}-decoder", inputs, outputs, g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET), helper.make_opsetid(MS, 1)],
                              producer_name="edge-runtime quantize")
    model.ir_version = 10
    return model
