"""Random-weight GGUFs of a given shape, for timing where the real files cannot go (the lent GPU machine has
no hub): a forward costs the same whatever the weights, so these stand in for the real files' speed, never
their text. bench_gpu.py and bench_cpu_curves.py write them with the `gguf` package.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from edge_runtime.models.backends.tokenizer import byte_alphabet

# Shapes of the default experts, read from the real files (both GGUFs store output.weight; with the rule
# below the tensor type counts match theirs exactly: 1.5B Q4_K 169, Q6_K 29, F32 141; 0.5B Q5_0 133, Q8_0 13,
# Q4_K 12, Q6_K 12, F32 121) (`python -c "from edge_runtime.models.header import
# read_gguf; ..."` on ~/.cache/edge-runtime/models) and of Qwen2.5-7B-Instruct (its config.json).
SHAPES = {
    "qwen2.5-0.5b": dict(n_embd=896, n_layer=24, n_head=14, n_head_kv=2, n_ff=4864, n_vocab=151936, tied=False),
    "qwen2.5-1.5b": dict(n_embd=1536, n_layer=28, n_head=12, n_head_kv=2, n_ff=8960, n_vocab=151936, tied=False),
    "qwen2.5-7b": dict(n_embd=3584, n_layer=28, n_head=28, n_head_kv=4, n_ff=18944, n_vocab=152064, tied=False),
}
if os.environ.get("BENCH_GPU_SMOKE"):  # a quick dry run of bench_gpu.py on a CPU with small shapes
    SHAPES = {k: dict(v, n_embd=256, n_layer=2, n_head=4, n_head_kv=2, n_ff=512) for k, v in SHAPES.items()}
TINY = dict(n_embd=256, n_layer=4, n_head=4, n_head_kv=2, n_ff=512, n_vocab=512, tied=False)

# Block layouts of the quantized types written raw (bytes per block, values per block).
QTYPES = {"Q4_K": (144, 256), "Q6_K": (210, 256), "Q5_0": (22, 32), "Q8_0": (34, 32), "F32": (4, 1), "F16": (2, 1)}
FALLBACK = {"Q4_K": "Q5_0", "Q6_K": "Q8_0"}  # llama.cpp's choice when a row is not a multiple of 256
ASCII_TOKENS = 94  # GPT-2 byte alphabet ids 0..93 are the printable ASCII characters '!'..'~'


def use_more_bits(i: int, n: int) -> bool:
    """llama.cpp's Q4_K_M rule: these layers' attn_v and ffn_down get Q6_K."""
    return i < n // 8 or i >= 7 * n // 8 or (i - n // 8) % 3 == 2


def q4km_type(name: str, layer: int, n_layer: int, n_cols: int, tied: bool) -> str:
    """The tensor type llama.cpp's Q4_K_M quantization gives this tensor."""
    if name == "output.weight" or (tied and name == "token_embd.weight"):
        t = "Q6_K"
    elif name.endswith("attn_v.weight") or name.endswith("ffn_down.weight"):
        t = "Q6_K" if use_more_bits(layer, n_layer) else "Q4_K"
    else:
        t = "Q4_K"
    return FALLBACK[t] if n_cols % 256 else t


def random_blocks(qtype: str, rows: int, cols: int, rng: np.random.Generator) -> np.ndarray:
    """Random quantized blocks whose scales give weights of roughly +-0.02."""
    size, per = QTYPES[qtype]
    nblocks = rows * cols // per
    raw = rng.integers(0, 256, size=(nblocks, size), dtype=np.uint8)
    at, d = {"Q4_K": (0, 2e-5), "Q6_K": (208, 5e-6), "Q5_0": (0, 1.2e-3), "Q8_0": (0, 1.5e-4)}[qtype]
    raw[:, at:at + 2] = np.frombuffer(np.float16(d).tobytes(), np.uint8)
    if qtype == "Q4_K":
        raw[:, 2:4] = np.frombuffer(np.float16(d).tobytes(), np.uint8)  # dmin
    return raw.reshape(rows, cols // per * size)


def silence_rows(raw: np.ndarray, qtype: str, keep: int) -> None:
    """Zero the block scales of rows >= keep: those tokens' weights become exactly 0."""
    size, _ = QTYPES[qtype]
    blocks = raw[keep:].reshape(raw.shape[0] - keep, -1, size)
    at = 208 if qtype == "Q6_K" else 0
    blocks[:, :, at:at + 2] = 0
    if qtype == "Q4_K":
        blocks[:, :, 2:4] = 0


def eos_id(n_vocab: int) -> int:
    """Qwen2.5's <|im_end|> id, or the last id of a small vocabulary."""
    return 151645 if n_vocab > 151645 else n_vocab - 1


def synthetic_vocab(n_vocab: int) -> tuple[list[str], list[int], list[str]]:
    """A byte-level BPE vocabulary (GPT-2 byte alphabet + filler tokens, one merge): every prompt
    tokenizes to (about) its bytes. <|im_end|> is at Qwen's id (control), so 0.5B, 1.5B and 7B share it."""
    tokens = [char for _, char in byte_alphabet()] + ["\u0120\u0120"] + [f"<tok{i}>" for i in range(257, n_vocab)]
    types = [1] * n_vocab
    eos = eos_id(n_vocab)
    tokens[eos], types[eos] = "<|im_end|>", 3
    return tokens, types, ["\u0120 \u0120"]  # one merge (two spaces): llama.cpp requires the list


def write_metadata(w, path: Path, shape: dict, quant: bool) -> None:
    """Qwen2 hyperparameters and the synthetic tokenizer."""
    w.add_name(path.stem + " (random weights)")
    w.add_context_length(32768)
    w.add_embedding_length(shape["n_embd"])
    w.add_block_count(shape["n_layer"])
    w.add_feed_forward_length(shape["n_ff"])
    w.add_head_count(shape["n_head"])
    w.add_head_count_kv(shape["n_head_kv"])
    w.add_rope_freq_base(1e6)
    w.add_layer_norm_rms_eps(1e-6)
    w.add_file_type(15 if quant else 0)  # MOSTLY_Q4_K_M / ALL_F32
    tokens, types, merges = synthetic_vocab(shape["n_vocab"])
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("qwen2")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(merges)
    w.add_eos_token_id(eos_id(shape["n_vocab"]))
    w.add_bos_token_id(eos_id(shape["n_vocab"]))
    w.add_add_bos_token(False)


class TensorWriter:
    """Adds random tensors: Q4_K_M types (quant) or F32. One random tensor per type and shape is shared
    by the layers (writing is faster; speed does not depend on the values)."""

    def __init__(self, w, shape: dict, quant: bool, rng: np.random.Generator) -> None:
        self.w, self.shape, self.quant, self.rng = w, shape, quant, rng
        self.cache: dict[tuple, np.ndarray] = {}

    def mat(self, name: str, rows: int, cols: int, layer: int = 0) -> None:
        import gguf

        if not self.quant:
            self.w.add_tensor(name, (self.rng.standard_normal((rows, cols)) * 0.05).astype(np.float32))
            return
        t = q4km_type(name, layer, self.shape["n_layer"], cols, self.shape["tied"])
        key = (t, rows, cols)
        if key not in self.cache:
            self.cache[key] = random_blocks(t, rows, cols, self.rng)
            if rows == self.shape["n_vocab"]:  # embedding / output: only printable ASCII tokens get weight,
                silence_rows(self.cache[key], t, ASCII_TOKENS)  # so greedy text round-trips through the tokenizer
        self.w.add_tensor(name, self.cache[key], raw_dtype=gguf.GGMLQuantizationType[t])

    def vec(self, name: str, n: int, value: float | None = None) -> None:
        data = np.full(n, value, np.float32) if value is not None else (self.rng.standard_normal(n) * 0.02).astype(np.float32)
        self.w.add_tensor(name, data)


def write_model(path: Path, shape: dict, *, seed: int = 0, quant: bool = True) -> Path:
    """A Qwen2-architecture GGUF with random weights: Q4_K_M tensor types (quant) or F32 (tiny)."""
    import gguf

    e, L, F, V = shape["n_embd"], shape["n_layer"], shape["n_ff"], shape["n_vocab"]
    kv = shape["n_head_kv"] * (e // shape["n_head"])
    w = gguf.GGUFWriter(str(path), "qwen2")
    write_metadata(w, path, shape, quant)
    t = TensorWriter(w, shape, quant, np.random.default_rng(seed))
    t.mat("token_embd.weight", V, e)
    for i in range(L):
        p = f"blk.{i}."
        t.vec(p + "attn_norm.weight", e, 1.0)
        t.mat(p + "attn_q.weight", e, e, i)
        t.mat(p + "attn_k.weight", kv, e, i)
        t.mat(p + "attn_v.weight", kv, e, i)
        t.vec(p + "attn_q.bias", e)
        t.vec(p + "attn_k.bias", kv)
        t.vec(p + "attn_v.bias", kv)
        t.mat(p + "attn_output.weight", e, e, i)
        t.vec(p + "ffn_norm.weight", e, 1.0)
        t.mat(p + "ffn_gate.weight", F, e, i)
        t.mat(p + "ffn_up.weight", F, e, i)
        t.mat(p + "ffn_down.weight", e, F, i)
    t.vec("output_norm.weight", e, 1.0)
    if not shape["tied"]:
        t.mat("output.weight", V, e)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path
