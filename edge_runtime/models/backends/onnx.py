"""ONNX decoders through onnxruntime: a KV-cache decode loop in numpy, implementing CausalLM.

The graph's inputs and outputs decide how it is fed (onnxruntime-genai's and Optimum's layout:
`input_ids`, `attention_mask`, `position_ids` where present, `past_key_values.N.key/value` in,
`logits`, `present.N.key/value` out; `logits_to_keep` where present). Two cache modes:

- shared: past and present are one preallocated buffer per layer and tensor, bound once through IO
  binding; GroupQueryAttention writes the new rows in place. Rollback is only a smaller `n_past`.
  Chosen when the model says so (our export's metadata, or genai_config.json).
- concat: the graph returns past + new as a fresh tensor (Optimum). The outputs stay OrtValues and
  become the next step's inputs without a copy; rollback slices them.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Sequence

import numpy as np
import onnxruntime as ort

from edge_runtime.errors import ModelFileError
from edge_runtime.models.backends.base import TokenizerMethods, Vocab, batches, check_forward, default_threads
from edge_runtime.models.backends.tokenizer import Tokenizer, open_tokenizer

log = logging.getLogger("edge_runtime.onnx")

CPU = "CPUExecutionProvider"
PROVIDER_ALIASES = {
    "cpu": CPU, "xnnpack": "XnnpackExecutionProvider", "coreml": "CoreMLExecutionProvider",
    "nnapi": "NnapiExecutionProvider", "qnn": "QNNExecutionProvider", "dml": "DmlExecutionProvider",
    "directml": "DmlExecutionProvider", "openvino": "OpenVINOExecutionProvider", "cuda": "CUDAExecutionProvider",
}
DTYPES = {"tensor(float)": np.float32, "tensor(float16)": np.float16}
KV_BUFFER_KEY = "edge_runtime.kv_buffer"  # "shared": past and present may be one buffer
CONTEXT_KEY = "edge_runtime.context_length"  # longest sequence the graph's rotary cache covers


def choose_providers(preference: Sequence[str]) -> list[str]:
    """The preferred providers that this onnxruntime build has, in order, always ending with CPU."""
    available = ort.get_available_providers()
    wanted = [PROVIDER_ALIASES.get(p.lower(), p) for p in preference]
    chosen = [p for p in dict.fromkeys(wanted) if p in available and p != CPU]
    missing = [p for p in wanted if p not in available]
    if missing:
        log.warning("execution provider(s) %s not in this onnxruntime (it has %s); %s",
                    ", ".join(missing), ", ".join(available),
                    "using " + ", ".join(chosen + [CPU]) if chosen else "falling back to CPUExecutionProvider")
    return chosen + [CPU]


def find_model_file(path: Path) -> Path:
    """A .onnx file, or the one decoder in a model directory (model.onnx, or the only *.onnx)."""
    if path.is_file():
        return path
    if not path.is_dir():
        raise ModelFileError(f"ONNX model not found: {path}", "give a .onnx file or a directory holding model.onnx")
    if (path / "model.onnx").is_file():
        return path / "model.onnx"
    found = sorted(path.glob("*.onnx"))
    if len(found) != 1:
        raise ModelFileError(f"{path.name}: expected one .onnx decoder, found {len(found)}",
                             "name the decoder file itself, or keep one model.onnx in the directory")
    return found[0]


class _Layout:
    """What the graph takes and returns, read from the session rather than assumed."""

    def __init__(self, session: ort.InferenceSession, name: str) -> None:
        inputs = {i.name: i for i in session.get_inputs()}
        outputs = {o.name: o for o in session.get_outputs()}
        self.n_layer = sum(1 for n in inputs if n.startswith("past_key_values.") and n.endswith(".key"))
        kv_names = {f"past_key_values.{i}.{k}" for i in range(self.n_layer) for k in ("key", "value")}
        known = {"input_ids", "attention_mask", "position_ids", "logits_to_keep"} | kv_names
        unknown = sorted(set(inputs) - known)
        if "input_ids" not in inputs or "logits" not in outputs or not self.n_layer or unknown:
            raise ModelFileError(f"{name}: not a decoder with a KV cache in the genai/Optimum layout "
                                 f"(inputs {', '.join(inputs)})",
                                 "export it with `quantize export`, onnxruntime-genai's builder or Optimum "
                                 "(text-generation-with-past)" + (f"; unsupported input(s): {unknown}" if unknown else ""))
        past = inputs["past_key_values.0.key"]
        self.n_head_kv, self.head_dim = past.shape[1], past.shape[3]
        if not isinstance(self.n_head_kv, int) or not isinstance(self.head_dim, int):
            raise ModelFileError(f"{name}: KV cache shape {past.shape} has no fixed head count or head size",
                                 "re-export with static head dimensions")
        if past.type not in DTYPES or outputs["logits"].type not in DTYPES:
            raise ModelFileError(f"{name}: unsupported tensor types {past.type} / {outputs['logits'].type}",
                                 "use a float32 or float16 export")
        self.kv_dtype = DTYPES[past.type]
        self.logits_dtype = DTYPES[outputs["logits"].type]
        vocab_dim = outputs["logits"].shape[-1]
        self.n_vocab = vocab_dim if isinstance(vocab_dim, int) else 0
        self.has_mask = "attention_mask" in inputs
        self.has_positions = "position_ids" in inputs
        self.has_logits_to_keep = "logits_to_keep" in inputs
        self.kv = [(f"past_key_values.{i}.{k}", f"present.{i}.{k}") for i in range(self.n_layer) for k in ("key", "value")]


def _model_hints(session: ort.InferenceSession, directory: Path) -> tuple[bool, int]:
    """(past and present may share a buffer, longest context) from our metadata or genai_config.json."""
    meta = session.get_modelmeta().custom_metadata_map
    genai_path = directory / "genai_config.json"
    genai = json.loads(genai_path.read_text("utf-8")) if genai_path.is_file() else {}
    shared = meta.get(KV_BUFFER_KEY) == "shared" or bool(genai.get("search", {}).get("past_present_share_buffer"))
    context = int(meta.get(CONTEXT_KEY) or genai.get("model", {}).get("context_length") or 0)
    return shared, context


class ONNXModel(TokenizerMethods):
    """An ONNX decoder with one KV-cache sequence, implementing the CausalLM protocol."""

    def __init__(self, path: str | Path, *, name: str | None = None, n_ctx: int = 4096, n_batch: int = 512,
                 n_threads: int = 0, providers: Sequence[str] = ("cpu",), tokenizer: str | Path | None = None,
                 max_logits: int = 64) -> None:
        self.path = find_model_file(Path(path))
        directory = self.path.parent
        self.name = name or (directory.name if self.path.name == "model.onnx" else self.path.stem)
        self.n_threads = n_threads or default_threads()
        options = ort.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = self.n_threads, 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.providers = choose_providers(providers)
        try:
            self._session = ort.InferenceSession(str(self.path), options, providers=self.providers)
        except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph/... types
            raise ModelFileError(f"onnxruntime could not load {self.path.name}: {str(exc).splitlines()[0][:300]}",
                                 "the file is damaged, incomplete (missing .onnx.data) or needs a newer onnxruntime") from None
        self._layout = lay = _Layout(self._session, self.path.name)
        self._shared, context = _model_hints(self._session, directory)
        if context and n_ctx > context:
            log.info("%s: context %d capped to the model's %d", self.name, n_ctx, context)
            n_ctx = context
        self.n_ctx, self.n_batch = n_ctx, n_batch
        self.exact_batch: int | None = None  # onnxruntime's CPU kernels did not vary with batch in our tests
        self.max_logits = min(max_logits, n_batch)
        self.tokenizer: Tokenizer = open_tokenizer(tokenizer or directory)
        self.vocab: Vocab = self.tokenizer.vocab
        self.chat_template = self.tokenizer.chat_template
        self.n_vocab = lay.n_vocab or self.vocab.size
        self._io = self._session.io_binding()
        self._mask = np.ones((1, n_ctx), dtype=np.int64)
        self._logits = np.empty(self.max_logits * self.n_vocab, dtype=lay.logits_dtype)
        kv_shape = (1, lay.n_head_kv, n_ctx if self._shared else 0, lay.head_dim)
        # an OrtValue made from a numpy array uses (and keeps alive) the array's memory: no copy
        self._kv = [ort.OrtValue.ortvalue_from_numpy(np.zeros(kv_shape, dtype=lay.kv_dtype)) for _ in lay.kv]
        self._n_past = 0
        log.info("%s: %s, %d layers, cache %s, providers %s", self.name, self.path.name, lay.n_layer,
                 "shared buffer" if self._shared else "concat", ", ".join(self.providers))

    @property
    def n_past(self) -> int:
        return self._n_past

    @property
    def footprint(self) -> int:
        """Weights as stored (the .onnx file and its external data), the KV cache at n_ctx, the logits buffer."""
        directory = self.path.parent
        weights = self.path.stat().st_size + sum(
            f.stat().st_size for f in directory.glob(self.path.name + "*.data"))
        lay = self._layout
        kv = 2 * lay.n_layer * lay.n_head_kv * lay.head_dim * self.n_ctx * np.dtype(lay.kv_dtype).itemsize
        return weights + kv + self._logits.nbytes

    def forward(self, ids: list[int], *, logits_for: int = 1) -> np.ndarray:
        n = len(ids)
        check_forward(self, n, logits_for, self.max_logits)
        logits = None
        for start, end in batches(n, self.n_batch):
            logits = self._run(ids[start:end], logits_for if end == n else 1)
        return logits

    def _run(self, chunk: list[int], k: int) -> np.ndarray:
        if len(chunk) == 1 and self._shared and self._layout.has_logits_to_keep and self._n_past + 1 < self.n_ctx:
            # onnxruntime's MatMulNBits computes one row on another path than several, and the logits
            # differ by up to ~1; a token's logits must not depend on how many tokens came with it (greedy
            # speculative output must equal greedy decoding), so one token runs as two rows. The spare
            # row lands past n_past in the shared buffer, where the next step overwrites it.
            logits = self._run_rows([chunk[0], chunk[0]], 2)[:1]
            self._n_past -= 1
            return logits
        return self._run_rows(chunk, k)

    def _run_rows(self, chunk: list[int], k: int) -> np.ndarray:
        lay, io, m = self._layout, self._io, len(chunk)
        total = self._n_past + m
        io.clear_binding_outputs()
        io.bind_cpu_input("input_ids", np.asarray([chunk], dtype=np.int64))
        if lay.has_mask:
            io.bind_cpu_input("attention_mask", self._mask[:, :total])
        if lay.has_positions:
            io.bind_cpu_input("position_ids", np.arange(self._n_past, total, dtype=np.int64)[None])
        view = self._logits[:k * self.n_vocab].reshape(1, k, self.n_vocab)
        if lay.has_logits_to_keep:
            io.bind_cpu_input("logits_to_keep", np.array(k, dtype=np.int64))
            io.bind_ortvalue_output("logits", ort.OrtValue.ortvalue_from_numpy(view))
        else:
            io.bind_output("logits")  # every position: the graph has no way to skip the rest
        for (past, present), value in zip(lay.kv, self._kv):
            io.bind_ortvalue_input(past, value)
            if self._shared:
                io.bind_ortvalue_output(present, value)
            else:
                io.bind_output(present)
        try:
            self._session.run_with_iobinding(io)
        except Exception as exc:
            raise RuntimeError(f"onnxruntime failed on {self.name}: {str(exc).splitlines()[0][:300]}") from None
        if not self._shared or not lay.has_logits_to_keep:
            outputs = io.get_outputs()
            if not self._shared:
                self._kv = outputs[1:]
            if not lay.has_logits_to_keep:
                view[0] = outputs[0].numpy()[0, -k:]
        self._n_past = total
        return view[0]

    def truncate(self, n: int) -> None:
        if n >= self._n_past:
            return
        if not self._shared:
            self._kv = [ort.OrtValue.ortvalue_from_numpy(np.ascontiguousarray(v.numpy()[:, :, :n])) for v in self._kv]
        self._n_past = n

    def close(self) -> None:
        if getattr(self, "_session", None) is not None:
            self.tokenizer.close()
            self._session = None
            self._io = None
            self._kv = []

    def __del__(self) -> None:
        self.close()
