"""Layout variants: a requantized copy of a GGUF whose weights suit faster CPU kernels.

llama.cpp repacks Q4_0 weights into interleaved Q4_0x8 blocks for its gemm/gemv kernels (AVX2, AVX-512,
ARM); Qwen2.5-Coder-1.5B requantized from Q4_K_M to Q4_0 decoded 18% faster on a 2-core x86 VM. A
variant changes the weights, so its perplexity loss against the original is measured on the project's
own text before it is offered, never assumed.

llama.cpp (through `quantize`) is imported only where a variant is made or scored, so that reading a
config stays light.
"""
from __future__ import annotations

from pathlib import Path

from edge_runtime.models.catalog import models_dir
from edge_runtime.errors import ConfigError
from edge_runtime.models.header import read_gguf

LAYOUTS = ("Q4_0",)  # the variant types offered: each has repacked CPU kernels in llama.cpp


def check_layout(layout: str, where: str) -> str:
    """The layout as given, or a ConfigError that names the allowed values."""
    if layout and layout not in LAYOUTS:
        raise ConfigError(f"{where}: unknown layout {layout!r}",
                          'use "" (the file as it is) or one of: ' + ", ".join(LAYOUTS))
    return layout


def has_layout(path: Path, layout: str) -> bool:
    """True when the file already is of that type: its variant would be a copy of itself."""
    return read_gguf(path).file_type == layout


def variant_path(source: Path, layout: str) -> Path:
    """Where a variant lives: the models directory, never beside a source that may be read-only."""
    return models_dir() / f"{source.stem}.{layout}.gguf"


def _origin(source: Path) -> str:
    """What a variant was made from: a replaced or re-pulled source makes its variant stale."""
    stat = source.stat()
    return f"{source.resolve()}:{stat.st_size}:{stat.st_mtime_ns}\n"


def variant(source: Path, layout: str, threads: int = 0) -> Path:
    """The file to load for `layout`: the source when it already is that type, else its variant, made on
    first use (and again when the source changed) by llama.cpp's requantization; a progress bar shows on
    a terminal and stays quiet in a pipe."""
    if has_layout(source, layout):
        return source
    out = variant_path(source, layout)
    stamp = out.with_name(out.name + ".source")
    origin = _origin(source)
    if out.is_file() and stamp.is_file() and stamp.read_text() == origin:
        return out
    from edge_runtime.models.requantize import requantize

    requantize(source, out, layout, threads=threads, force=True)
    stamp.write_text(origin)
    return out


def perplexity_loss(source: Path, made: Path, threads: int = 0) -> float:
    """The variant's perplexity over its source's, minus one (0.031: 3.1% worse), on the whole of
    edge_runtime/tuning/eval_data/eval.txt: prose, code and numbers, the same number `quantize eval` reports. A slice would
    be faster but drop the code or the numbers (the text runs prose, then code, then arithmetic); the
    whole text is about 1000 tokens of prompt processing per file, small next to tune's step timings."""
    from edge_runtime.tuning.perplexity import default_text, evaluate

    text = default_text()
    base, new = (evaluate(path, text, n_threads=threads).perplexity for path in (source, made))
    return new / base - 1
