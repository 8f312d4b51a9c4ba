"""Read what a plan needs from a GGUF header, and refuse broken files before llama.cpp sees them.

`gguf.GGUFReader` builds a numpy view for every vocabulary entry (over 20 s for a 152k-token vocab
on this CPU); a plan needs only scalars and tensor extents, so this reader walks the header with
`struct` over an mmap and skips arrays. Type sizes come from the `gguf` package.
"""
from __future__ import annotations

import functools
import mmap
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType, LlamaFileType

from edge_runtime.models.backends.base import KV_TYPES, value_type
from edge_runtime.errors import ModelFileError

_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9


@dataclass(frozen=True)
class GGUFInfo:
    path: Path
    file_size: int
    metadata: dict[str, Any]  # scalars and strings; arrays are stored as their length
    n_tensors: int
    tensor_bytes: int
    n_params: int
    tensor_types: dict[str, int] = field(default_factory=dict)  # quant type name -> tensor count
    type_bytes: dict[str, int] = field(default_factory=dict)  # quant type name -> bytes of its tensors
    token_embd_type: str = ""
    token_embd_bytes: int = 0
    block_bytes: dict[int, int] = field(default_factory=dict)  # layer index -> bytes of its blk.N.* tensors
    output_bytes: int = 0  # output head and norm; a tied head counts the embedding llama.cpp duplicates
    tied_output: bool = False  # no output.weight: the head is the token embedding, copied where it runs

    def get(self, key: str, default: Any = None) -> Any:
        return self.metadata.get(key, default)

    @property
    def arch(self) -> str:
        return str(self.get("general.architecture", "unknown"))

    def arch_get(self, key: str, default: Any = None) -> Any:
        return self.get(f"{self.arch}.{key}", default)

    @property
    def n_layer(self) -> int:
        return int(self.arch_get("block_count", 0))

    @property
    def n_embd(self) -> int:
        return int(self.arch_get("embedding_length", 0))

    @property
    def n_head(self) -> int:
        return int(self.arch_get("attention.head_count", 0))

    @property
    def n_head_kv(self) -> int:
        return int(self.arch_get("attention.head_count_kv", self.n_head))

    @property
    def head_dim_k(self) -> int:
        return int(self.arch_get("attention.key_length", self.n_embd // max(self.n_head, 1)))

    @property
    def head_dim_v(self) -> int:
        return int(self.arch_get("attention.value_length", self.head_dim_k))

    @property
    def context_length(self) -> int:
        return int(self.arch_get("context_length", 0))

    @property
    def vocab_size(self) -> int:
        return int(self.get("tokenizer.ggml.tokens", 0))

    @property
    def chat_template(self) -> str | None:
        value = self.get("tokenizer.chat_template")
        return value if isinstance(value, str) else None

    @property
    def file_type(self) -> str:
        ftype = self.get("general.file_type")
        if ftype is None:
            return "unknown"
        try:
            return LlamaFileType(int(ftype)).name.removeprefix("MOSTLY_")
        except ValueError:
            return f"type {ftype}"

    def kv_cache_bytes(self, n_ctx: int, kv_type: str = "f16") -> int:
        """K and V for every layer: layers x KV heads x head size x context x bytes per element (V's
        type as the GGUF backend stores it, see `value_type`)."""
        per_head = self.head_dim_k * KV_TYPES[kv_type][1] + self.head_dim_v * KV_TYPES[value_type(kv_type)][1]
        return int(self.n_layer * self.n_head_kv * per_head * n_ctx)


class _Cursor:
    def __init__(self, buf: mmap.mmap, path: Path) -> None:
        self.buf, self.pos, self.path = buf, 0, path

    def unpack(self, fmt: str) -> Any:
        size = struct.calcsize(fmt)
        if self.pos + size > len(self.buf):
            raise ModelFileError(f"{self.path.name}: GGUF header is cut short (truncated file)",
                                 "the download is incomplete; pull the model again")
        (value,) = struct.unpack_from(fmt, self.buf, self.pos)
        self.pos += size
        return value

    def string(self) -> str:
        n = self.unpack("<Q")
        if self.pos + n > len(self.buf):
            raise ModelFileError(f"{self.path.name}: GGUF header is cut short (truncated file)",
                                 "the download is incomplete; pull the model again")
        raw = bytes(self.buf[self.pos:self.pos + n])
        self.pos += n
        return raw.decode("utf-8", errors="replace")

    def value(self, vtype: int) -> Any:
        if vtype in _SCALARS:
            return self.unpack(_SCALARS[vtype])
        if vtype == _STRING:
            return self.string()
        if vtype == _ARRAY:
            itype, count = self.unpack("<I"), self.unpack("<Q")
            if itype in _SCALARS:
                self.pos += struct.calcsize(_SCALARS[itype]) * count
            else:
                for _ in range(count):
                    self.value(itype)
            return count
        raise ModelFileError(f"{self.path.name}: unknown GGUF value type {vtype} (corrupt header)",
                             "the file is damaged or from an unsupported GGUF version")


def read_gguf(path: str | Path) -> GGUFInfo:
    """Parse the header; raise ModelFileError for a missing, foreign, truncated or corrupt file.

    Parsed once per file version (path, size, mtime): every request plans its expert from the header,
    and a 152k-token vocabulary takes ~0.4 s to walk on a small CPU.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"model file not found: {path.name}", "check the path or run `edge-runtime pull`")
    stat = path.stat()
    return _read_version(path, stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=32)
def _read_version(path: Path, size: int, mtime_ns: int) -> GGUFInfo:
    if size < 24:
        raise ModelFileError(f"{path.name}: {size} bytes is too small to be a GGUF model", "pull the model again")
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
        if buf[:4] != b"GGUF":
            raise ModelFileError(f"{path.name}: not a GGUF file (magic {bytes(buf[:4])!r})",
                                 "give a .gguf model; convert other formats with llama.cpp's convert_hf_to_gguf.py")
        cur = _Cursor(buf, path)
        cur.pos = 4
        version = cur.unpack("<I")
        if version not in (2, 3):
            raise ModelFileError(f"{path.name}: GGUF version {version} is not supported", "use GGUF v2 or v3")
        n_tensors, n_kv = cur.unpack("<Q"), cur.unpack("<Q")
        if n_tensors > 1_000_000 or n_kv > 1_000_000:
            raise ModelFileError(f"{path.name}: implausible GGUF counts (corrupt header)", "pull the model again")
        metadata: dict[str, Any] = {}
        for _ in range(n_kv):
            key = cur.string()
            metadata[key] = cur.value(cur.unpack("<I"))
        end, n_params, types, type_bytes, embd = 0, 0, {}, {}, ("", 0)
        blocks: dict[int, int] = {}
        output = {"output.weight": 0, "output_norm.weight": 0}
        for _ in range(n_tensors):
            name = cur.string()
            dims = [cur.unpack("<Q") for _ in range(cur.unpack("<I"))]
            ttype, offset = cur.unpack("<I"), cur.unpack("<Q")
            if ttype not in GGML_QUANT_SIZES:
                raise ModelFileError(f"{path.name}: tensor {name} has unknown type {ttype}",
                                     "the file needs a newer llama.cpp, or is damaged")
            block, type_size = GGML_QUANT_SIZES[GGMLQuantizationType(ttype)]
            count = 1
            for d in dims:
                count *= d
            n_params += count
            nbytes = count // block * type_size
            end = max(end, offset + nbytes)
            tname = GGMLQuantizationType(ttype).name
            types[tname] = types.get(tname, 0) + 1
            type_bytes[tname] = type_bytes.get(tname, 0) + nbytes
            if name == "token_embd.weight":
                embd = (tname, nbytes)
            elif name.startswith("blk."):
                layer = int(name.split(".")[1])
                blocks[layer] = blocks.get(layer, 0) + nbytes
            elif name in output:
                output[name] = nbytes
        align = int(metadata.get("general.alignment", 32))
        data_start = (cur.pos + align - 1) // align * align
    if data_start + end > size:
        raise ModelFileError(
            f"{path.name}: truncated: tensors need {data_start + end:,} bytes, the file has {size:,}",
            "the download is incomplete; pull the model again")
    head = output["output_norm.weight"] + (output["output.weight"] or embd[1])
    return GGUFInfo(path, size, metadata, n_tensors, end, n_params, types, type_bytes, *embd,
                    block_bytes=blocks, output_bytes=head, tied_output=not output["output.weight"])
