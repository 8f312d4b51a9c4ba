"""Requantize a GGUF with llama.cpp's own `llama_model_quantize`, optionally guided by an imatrix.

Requantizing an already-quantized file (Q4_1 -> Q8_0) is allowed but compounds the error of both
steps: every result should go through `quantize eval` next to its source.
"""
from __future__ import annotations

import ctypes
import logging
import re
import sys
from pathlib import Path

import llama_cpp as ll
import numpy as np
from gguf import GGUFReader
from gguf.constants import LlamaFileType
from tqdm import tqdm

from edge_runtime.models.backends.base import default_threads
from edge_runtime.models.backends.gguf import _forward_llama_log, _init_backend
from edge_runtime.errors import ConfigError, ModelFileError
from edge_runtime.models.header import read_gguf

from edge_runtime.models.atomic_output import atomic_output

log = logging.getLogger("edge_runtime.quantize")
_TENSOR_LINE = re.compile(rb"^\[\s*(\d+)/\s*(\d+)\]")
_bar: tqdm | None = None


@ll.llama_log_callback
def _progress_log(level: int, text: bytes, _user: ctypes.c_void_p) -> None:
    """llama.cpp logs one "[ i/ n] tensor ..." line per tensor: that is the progress bar."""
    match = _TENSOR_LINE.match(text or b"")
    if match and _bar is not None:
        _bar.total = int(match.group(2))
        _bar.n = int(match.group(1))
        _bar.refresh()
    elif level == 4 and text:  # 4 is an error; 5 continues any earlier line (progress dots)
        log.error(text.decode("utf-8", errors="replace").rstrip())


TYPES = {t.name.removeprefix("MOSTLY_").removeprefix("ALL_"): int(t) for t in LlamaFileType
         if t.name.startswith(("MOSTLY_", "ALL_F32")) and "GUESSED" not in t.name}


def file_type(name: str) -> int:
    key = name.upper()
    if key not in TYPES:
        raise ConfigError(f"unknown GGUF type {name!r}", "use one of " + ", ".join(TYPES))
    return TYPES[key]


def load_imatrix(path: Path) -> dict[str, np.ndarray]:
    """llama-imatrix's GGUF output: per weight, the mean squared activation of each input column."""
    try:
        reader = GGUFReader(path)
    except Exception:  # gguf raises ValueError/struct errors for foreign files
        raise ModelFileError(f"{path.name}: not an importance matrix in GGUF format",
                             "make one with `llama-imatrix -m MODEL -f TEXT -o imatrix.gguf`") from None
    tensors = {t.name: t for t in reader.tensors}
    out = {}
    for name, sums in tensors.items():
        if name.endswith(".in_sum2") and name[:-8] + ".counts" in tensors:
            counts = np.asarray(tensors[name[:-8] + ".counts"].data, dtype=np.float32).reshape(-1, 1)
            values = np.asarray(sums.data, dtype=np.float32).reshape(counts.shape[0], -1)
            out[name[:-8]] = np.ascontiguousarray(values / np.where(counts > 0, counts, 1), dtype=np.float32)
    if not out:
        raise ModelFileError(f"{path.name}: holds no in_sum2/counts tensors", "give a file written by llama-imatrix")
    return out


def requantize(source: Path, out: Path, qtype: str, *, imatrix: Path | None = None, threads: int = 0,
               force: bool = False) -> Path:
    """Write `out` as `qtype`; tensors already quantized are requantized (allow_requantize)."""
    read_gguf(source)  # refuses missing, foreign and truncated inputs with a clear message
    params = ll.llama_model_quantize_default_params()
    params.ftype = file_type(qtype)
    params.allow_requantize = True
    params.nthread = threads or default_threads()
    if imatrix is not None:
        entries = load_imatrix(imatrix)
        table = (ll.llama_model_imatrix_data * (len(entries) + 1))()  # zeroed last entry ends the list
        keep = []
        for slot, (name, values) in zip(table, entries.items()):
            keep.append(name.encode())
            slot.name, slot.size = keep[-1], values.size
            slot.data = values.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
        params.imatrix = table
    global _bar
    _init_backend()
    with atomic_output(out, [source], force=force) as tmp, \
            tqdm(desc=f"quantize {qtype}", unit="tensor", file=sys.stderr, disable=None) as _bar:
        ll.llama_log_set(_progress_log, ctypes.c_void_p(0))
        try:
            rc = ll.llama_model_quantize(str(source).encode(), str(tmp).encode(), ctypes.byref(params))
        finally:
            ll.llama_log_set(_forward_llama_log, ctypes.c_void_p(0))
            _bar = None
        if rc != 0:
            raise ModelFileError(f"llama.cpp could not quantize {source.name} to {qtype} (code {rc})",
                                 "types such as IQ2_XXS need --imatrix; see the log above for the reason")
    return out
