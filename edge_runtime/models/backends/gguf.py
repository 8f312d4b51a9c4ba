"""llama.cpp through llama-cpp-python's low-level API: the only module that touches its ctypes.

One batch is allocated per model and reused; numpy views over its arrays fill it without Python
loops, and only the positions whose logits are asked for get the logits flag, so the output
projection (a large share of CPU time at a 152k vocabulary) runs only where it is read.
"""
from __future__ import annotations

import ctypes
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import llama_cpp as ll
import numpy as np

from edge_runtime.errors import ModelFileError
from edge_runtime.models.header import read_gguf
from edge_runtime.tuning.machine_cache import cached
from edge_runtime.models.backends.base import KV_TYPES, TokenizerMethods, Vocab, batches, check_forward, default_threads, value_type
from edge_runtime.models.backends.exactness import measure_exact_batch
from edge_runtime.models.backends.lanes import baton, lane

if TYPE_CHECKING:
    from edge_runtime.rpc.offload import Offload

log = logging.getLogger("edge_runtime.llama")

# The largest verify batch measured bit-identical to one-token steps with every layer on a GPU: on CUDA
# (H100, scripts/bench_gpu.py, scripts/results/gpu_h100.md) the 7B shape differs from b=2 on and the 1.5B
# from b=3 (by ~1e-4: other kernels for k rows), so exact greedy decoding does not draft on a GPU. Drafts
# there pay only with fast verification, which accepts near-tie differences.
GPU_EXACT_BATCH = 1
_LOG_ERROR = 4  # ggml_log_level: 0 none, 1 debug, 2 info, 3 warn, 4 error, 5 continues the last line


@ll.llama_log_callback
def _forward_llama_log(level: int, text: bytes, _user: ctypes.c_void_p) -> None:
    if level == _LOG_ERROR and text:
        log.error(text.decode("utf-8", errors="replace").rstrip())


_backend_ready = False


@ctypes.CFUNCTYPE(ctypes.c_bool, ctypes.c_float, ctypes.c_void_p)
def _quiet_progress(_progress: float, _user: ctypes.c_void_p) -> bool:
    """Load without llama.cpp's progress dots on stderr; True means go on loading."""
    return True


def _init_backend() -> None:
    global _backend_ready
    if not _backend_ready:
        ll.llama_log_set(_forward_llama_log, ctypes.c_void_p(0))
        ll.llama_backend_init()
        _backend_ready = True


class _Native:
    """One pointer (or struct) llama.cpp allocated, freed exactly once: by `close()` or when collected.

    `owner` keeps what it was made from alive (a context needs its model), so no free order is written
    by hand anywhere.
    """

    def __init__(self, handle: object, free: Callable[[object], None], owner: "_Native | None" = None) -> None:
        self.handle, self._free, self._owner = handle, free, owner
        self._open = True

    def close(self) -> None:
        if self._open:
            self._open = False
            self._free(self.handle)

    def __del__(self) -> None:
        self.close()


class LlamaVocab:
    """Tokenizer, vocabulary and chat template of a llama.cpp model.

    The GGUF backend wraps its own model; `from_gguf` loads only the vocabulary of a GGUF (no weights),
    so a model that runs elsewhere (ONNX) tokenizes exactly as its GGUF sibling does.
    """

    def __init__(self, model: ll.llama_model_p, *, owned: bool = False) -> None:
        # freed by close() (or collection) only when this object loaded it
        self._owned = _Native(model, ll.llama_model_free) if owned else None
        self._vocab_p = ll.llama_model_get_vocab(model)
        self._pieces: dict[int, bytes] = {}
        self._piece_buf = ctypes.create_string_buffer(256)
        template = ll.llama_model_chat_template(model, None)
        self.chat_template: str | None = template.decode("utf-8") if template else None
        self.vocab = self._read_vocab()

    @classmethod
    def from_gguf(cls, path: str | Path) -> "LlamaVocab":
        path = Path(path)
        read_gguf(path)  # refuses missing, foreign and truncated files with a clear message
        _init_backend()
        mparams = ll.llama_model_default_params()
        mparams.vocab_only = True
        model = ll.llama_model_load_from_file(str(path).encode(), mparams)
        if not model:
            raise ModelFileError(f"llama.cpp could not read the vocabulary of {path.name}",
                                 "the file is damaged or its tokenizer type is unsupported")
        return cls(model, owned=True)

    def _read_vocab(self) -> Vocab:
        v = self._vocab_p
        n_vocab = ll.llama_vocab_n_tokens(v)
        texts = [ll.llama_vocab_get_text(v, i) or b"" for i in range(n_vocab)]
        eog = frozenset(i for i in range(n_vocab) if ll.llama_vocab_is_eog(v, i))
        bos, eos = ll.llama_vocab_bos(v), ll.llama_vocab_eos(v)
        vtype = {1: "spm", 2: "bpe", 3: "wpm", 4: "ugm", 5: "rwkv", 6: "plamo2"}.get(ll.llama_vocab_type(v), "none")
        return Vocab(size=n_vocab, vocab_type=vtype, bos=bos if bos >= 0 else None,
                     eos=eos if eos >= 0 else None, eog=eog, add_bos=bool(ll.llama_vocab_get_add_bos(v)),
                     texts=texts)

    def tokenize(self, text: str, *, special: bool = False, add_bos: bool | None = None) -> list[int]:
        raw = text.encode("utf-8")
        add = self.vocab.add_bos if add_bos is None else add_bos
        cap = len(raw) + 8
        buf = (ll.llama_token * cap)()
        n = ll.llama_tokenize(self._vocab_p, raw, len(raw), buf, cap, add, special)
        if n < 0:
            cap = -n
            buf = (ll.llama_token * cap)()
            n = ll.llama_tokenize(self._vocab_p, raw, len(raw), buf, cap, add, special)
        return list(buf[:n])

    def token_bytes(self, token: int) -> bytes:
        piece = self._pieces.get(token)
        if piece is None:
            n = ll.llama_token_to_piece(self._vocab_p, token, self._piece_buf, len(self._piece_buf), 0, False)
            if n < 0:
                big = ctypes.create_string_buffer(-n)
                n = ll.llama_token_to_piece(self._vocab_p, token, big, -n, 0, False)
                piece = big.raw[:n]
            else:
                piece = self._piece_buf.raw[:n]
            self._pieces[token] = piece
        return piece

    def detokenize(self, ids: list[int]) -> bytes:
        return b"".join(self.token_bytes(t) for t in ids)

    def close(self) -> None:
        if self._owned is not None:
            self._owned.close()


class _Batch(_Native):
    """llama.cpp's token batch, with numpy views that fill it without Python loops (a slot's sequence id
    is written only where it changes: in a one-lane model, never)."""

    def __init__(self, size: int) -> None:
        super().__init__(ll.llama_batch_init(size, 0, 1), ll.llama_batch_free)
        raw = self.handle
        self.token = np.ctypeslib.as_array(raw.token, shape=(size,))
        self.pos = np.ctypeslib.as_array(raw.pos, shape=(size,))
        self.logits = np.ctypeslib.as_array(raw.logits, shape=(size,))
        np.ctypeslib.as_array(raw.n_seq_id, shape=(size,))[:] = 1
        self._seqs = np.zeros(size, dtype=np.int32)
        for i in range(size):
            raw.seq_id[i][0] = 0

    def assign(self, start: int, end: int, seq: int) -> None:
        """Slots [start, end) belong to sequence `seq`."""
        for i in np.flatnonzero(self._seqs[start:end] != seq):
            self.handle.seq_id[start + int(i)][0] = seq
        self._seqs[start:end] = seq


def _has_gpu() -> bool:
    from edge_runtime.models.backends.ggml import gpu_devices

    return bool(gpu_devices())


def _load_mode(mmap: bool, mlock: bool) -> int:
    """llama.cpp's LLAMA_LOAD_MODE_*: NONE 0, MMAP 1, MLOCK 2, MMAP_MLOCK 3."""
    return int(mmap) + 2 * int(mlock)


def _model_params(use_mmap: bool, use_mlock: bool, repack: bool, offload: Offload | None, gpu_layers: int,
                  main_gpu: int) -> Any:
    mparams = ll.llama_model_default_params()
    # gpu_layers: layers on the accelerator, -1 all (llama.cpp offloads the output layer first, then the
    # repeating layers from the last one down; the token embedding stays on the host)
    # this llama.cpp has one `load_mode` (setting the old use_mmap/use_mlock fields on the ctypes struct
    # only adds Python attributes, and mmap stayed on whatever the config said)
    mparams.load_mode = _load_mode(use_mmap, use_mlock)
    mparams.n_gpu_layers, mparams.main_gpu = gpu_layers, main_gpu
    mparams.progress_callback = _quiet_progress
    if offload is not None:  # layers on RPC devices; it keeps the arrays the params point into
        offload.apply(mparams)
    # Repacked weight buffers (llama.cpp's CPU_REPACK: interleaved rows for wider SIMD) load in place of
    # the originals when mmap is off; with mmap on, the mapped originals stay resident beside them.
    mparams.use_extra_bufts = repack
    return mparams


def _context_params(n_ctx: int, n_batch: int, max_logits: int, threads: int, kv_type: str, n_seq: int) -> Any:
    cparams = ll.llama_context_default_params()
    cparams.n_ctx, cparams.n_batch, cparams.n_ubatch = n_ctx * n_seq, n_batch, n_batch
    # lanes of a parallel server: a KV sequence each, n_ctx cells apiece (a split buffer attends faster
    # than a unified one when the sequences share no prefix)
    cparams.n_seq_max, cparams.kv_unified = n_seq, False
    cparams.n_outputs_max = max_logits  # bounds the logits buffer: n_batch x vocab x 4 B otherwise
    cparams.n_threads, cparams.n_threads_batch = threads, threads
    cparams.type_k = KV_TYPES[kv_type][0]
    cparams.type_v = KV_TYPES[value_type(kv_type)][0]
    cparams.no_perf = True
    return cparams


class GGUFModel(TokenizerMethods):
    """A GGUF model implementing the CausalLM protocol, with a KV-cache sequence per lane (`n_seq`, one
    for each generation a parallel server runs at once; see lanes.py): a thread works in its own lane."""

    def __init__(self, path: str | Path, *, name: str | None = None, n_ctx: int = 4096, n_batch: int = 512,
                 n_threads: int = 0, kv_type: str = "f16", use_mmap: bool = True, use_mlock: bool = False,
                 max_logits: int = 64, repack: bool = False, offload: Offload | None = None, gpu_layers: int = 0,
                 main_gpu: int = 0, n_seq: int = 1) -> None:
        self.path = Path(path)
        self.info = read_gguf(self.path)  # refuses missing, foreign and truncated files up front
        self.name = name or self.path.stem
        _init_backend()
        if kv_type not in KV_TYPES:
            raise ModelFileError(f"unknown KV cache type {kv_type!r}", "use one of " + ", ".join(KV_TYPES))
        self.offload = offload
        self.gpu_layers, self.main_gpu = gpu_layers, main_gpu
        self.repack, self.use_mmap = repack, use_mmap
        # measured on first use (CPU); GPU kernels for 1 and k rows differ (measured by bench_gpu.py)
        self._exact_batch: int | None = GPU_EXACT_BATCH if gpu_layers != 0 and _has_gpu() else None
        mparams = _model_params(use_mmap, use_mlock, repack, offload, gpu_layers, main_gpu)
        model = ll.llama_model_load_from_file(str(self.path).encode(), mparams)
        if not model:
            raise ModelFileError(f"llama.cpp could not load {self.path.name} ({self.info.arch})",
                                 "the architecture may be unsupported by this llama.cpp, or the file is damaged")
        self._model = _Native(model, ll.llama_model_free)
        self.n_threads = n_threads or default_threads()
        self.n_batch, self.max_logits, self.kv_type = n_batch, min(max_logits, n_batch), kv_type
        self.n_seq = n_seq
        ctx = ll.llama_init_from_model(model, _context_params(n_ctx, n_batch, self.max_logits, self.n_threads,
                                                               kv_type, n_seq))
        if not ctx:
            self._model.close()
            raise ModelFileError(f"llama.cpp could not create a context for {self.path.name}",
                                 "lower the context size or choose another KV cache type")
        self._ctx = _Native(ctx, ll.llama_free, owner=self._model)
        self.n_ctx = ll.llama_n_ctx_seq(ctx)  # a lane's context
        self._mem = ll.llama_get_memory(ctx)
        self._batch = _Batch(n_batch)
        self._n_past = [0] * n_seq  # per lane
        self.tokenizer = LlamaVocab(model)
        self.n_vocab = self.tokenizer.vocab.size
        self.vocab = self.tokenizer.vocab
        self.chat_template = self.tokenizer.chat_template

    @property
    def n_past(self) -> int:
        return self._n_past[self._seq()]

    def _seq(self) -> int:
        """The calling thread's lane (a model loaded with one lane serves every thread in it)."""
        if self.n_seq == 1:
            return 0
        seq = lane()
        if seq >= self.n_seq:
            raise RuntimeError(f"{self.name} was loaded with {self.n_seq} lanes, not for lane {seq}")
        return seq

    @property
    def exact_batch(self) -> int:
        """The largest verify batch that computes what one-token steps compute, bit for bit: measured
        on first use (a few forward passes; it empties the KV cache) and cached per file and machine."""
        if self._exact_batch is None:
            settings = {"repack": self.repack, "kv_type": self.kv_type, "threads": self.n_threads,
                        "n_batch": self.n_batch, "probe": 1}
            self._exact_batch = int(cached("exact_batch", self.path, settings,
                                           lambda: measure_exact_batch(self))["exact_batch"])
        return self._exact_batch

    @property
    def footprint(self) -> int:
        return int(ll.llama_model_size(self._model.handle)) + self.info.kv_cache_bytes(self.n_ctx * self.n_seq, self.kv_type)

    def forward(self, ids: list[int], *, logits_for: int = 1) -> np.ndarray:
        n = len(ids)
        check_forward(self, n, logits_for, self.max_logits)
        turns = baton()
        if turns is not None and self.n_seq > 1:
            return turns.forward(self, ids, logits_for)
        return self._forward_seq(self._seq(), ids, logits_for)

    def _forward_seq(self, seq: int, ids: list[int], logits_for: int) -> np.ndarray:
        """One lane's tokens in batches of n_batch; a view of the logits buffer (valid until the next decode)."""
        n = len(ids)
        for start, end in batches(n, self.n_batch):
            self._fill(0, seq, ids[start:end], logits_for if end == n else 0)
            self._decode(end - start)
        return np.ctypeslib.as_array(ll.llama_get_logits(self._ctx.handle), shape=(logits_for, self.n_vocab))

    def decode_together(self, requests: list[tuple[int, list[int], int]]) -> list[np.ndarray]:
        """Several lanes' (seq, ids, logits_for) forwards in as few decodes as n_batch and the logits
        buffer allow; each lane's logits are copied out, since the next decode overwrites them. Lanes go
        into a batch in sequence order: llama.cpp rebuilds its graph when the order changes (4 lanes on
        a 2-core CPU: 256 ms a batch in arrival order, 208 ms sorted)."""
        order = sorted(range(len(requests)), key=lambda i: requests[i][0])
        out: list[np.ndarray] = [np.empty(0)] * len(requests)
        done = 0
        for pack in _packs([requests[i] for i in order], self.n_batch, self.max_logits):
            for logits in self._decode_pack(pack):
                out[order[done]] = logits
                done += 1
        return out

    def _decode_pack(self, pack: list[tuple[int, list[int], int]]) -> list[np.ndarray]:
        """One llama_decode of several lanes' tokens (or the batches of one long forward)."""
        if len(pack) == 1:
            seq, ids, logits_for = pack[0]
            return [self._forward_seq(seq, ids, logits_for).copy()]
        at = 0
        for seq, ids, logits_for in pack:
            at = self._fill(at, seq, ids, logits_for)
        self._decode(at)
        starts = np.cumsum([0] + [logits_for for _seq, _ids, logits_for in pack])
        rows = np.ctypeslib.as_array(ll.llama_get_logits(self._ctx.handle), shape=(int(starts[-1]), self.n_vocab))
        return [rows[a:b].copy() for a, b in zip(starts[:-1], starts[1:])]

    def _fill(self, at: int, seq: int, ids: list[int], logits_for: int) -> int:
        """Put one lane's tokens in the batch from slot `at`, the last `logits_for` of them flagged for
        logits; the slot after them."""
        batch, m, past = self._batch, len(ids), self._n_past[seq]
        end = at + m
        batch.token[at:end] = ids
        batch.pos[at:end] = np.arange(past, past + m, dtype=np.int32)
        batch.logits[at:end] = 0
        if logits_for:
            batch.logits[end - logits_for:end] = 1
        batch.assign(at, end, seq)
        self._n_past[seq] = past + m
        return end

    def _decode(self, n_tokens: int) -> None:
        self._batch.handle.n_tokens = n_tokens
        rc = ll.llama_decode(self._ctx.handle, self._batch.handle)
        if rc != 0:
            raise RuntimeError(f"llama_decode failed with code {rc} for {self.name}")

    def truncate(self, n: int) -> None:
        seq = self._seq()
        if n < self._n_past[seq]:
            ll.llama_memory_seq_rm(self._mem, seq, n, -1)
            self._n_past[seq] = n

    def save_state(self) -> bytearray:
        """The KV cache of the lane's sequence as llama.cpp serializes it (cells, positions, K and V rows):
        what a prefix cache keeps so a later prompt with this prefix skips its prefill."""
        seq = self._seq()
        size = ll.llama_state_seq_get_size(self._ctx.handle, seq)
        blob = bytearray(size)
        n = ll.llama_state_seq_get_data(self._ctx.handle, (ctypes.c_uint8 * size).from_buffer(blob), size, seq)
        del blob[n:]
        return blob

    def load_state(self, blob: bytearray) -> bool:
        """Replace the lane's KV cache with a `save_state` blob (of any lane); False (cache emptied) when
        llama.cpp refuses it (another KV type or a context too small for it)."""
        seq = self._seq()
        ll.llama_memory_seq_rm(self._mem, seq, -1, -1)
        self._n_past[seq] = 0
        src = (ctypes.c_uint8 * len(blob)).from_buffer(blob)
        if ll.llama_state_seq_set_data(self._ctx.handle, src, len(blob), seq) != len(blob):
            ll.llama_memory_seq_rm(self._mem, seq, -1, -1)
            return False
        self._n_past[seq] = ll.llama_memory_seq_pos_max(self._mem, seq) + 1
        return True

    def close(self) -> None:
        """Free native memory now rather than at collection; a context goes before its model."""
        for native in ("_batch", "_ctx", "_model"):
            if hasattr(self, native):
                getattr(self, native).close()


def _packs(requests: list[tuple[int, list[int], int]], n_batch: int,
           max_logits: int) -> list[list[tuple[int, list[int], int]]]:
    """Forwards grouped, in order, into decodes of at most n_batch tokens and max_logits logits rows; a
    forward longer than n_batch goes alone (it is split into batches of its own)."""
    packs: list[list[tuple[int, list[int], int]]] = []
    tokens = rows = 0
    for request in requests:
        _seq, ids, logits_for = request
        if not packs or tokens + len(ids) > n_batch or rows + logits_for > max_logits:
            packs.append([])
            tokens = rows = 0
        packs[-1].append(request)
        tokens, rows = tokens + len(ids), rows + logits_for
    return packs
