"""ggml's device and backend-registry API, bound with ctypes in this one module.

llama-cpp-python binds none of `ggml_backend_dev_*` / `ggml_backend_reg_*`, so they are bound here on the
libggml that its libllama loaded. The devices llama.cpp sees (CPU, CUDA/Vulkan/Metal GPUs, RPC servers)
are listed from Python; free and total memory are what the backend reports: for a GPU its dedicated
memory (cudaMemGetInfo, ...), for the CPU the host's, for an RPC device its server's answer.
"""
from __future__ import annotations

import ctypes
import os
from dataclasses import asdict, dataclass
from pathlib import Path

DEVICE_TYPES = {0: "cpu", 1: "gpu", 2: "igpu", 3: "accel"}
_p, _size = ctypes.c_void_p, ctypes.c_size_t
_SIGNATURES: dict[str, tuple[type | None, list[type]]] = {
    "ggml_backend_dev_count": (_size, []),
    "ggml_backend_dev_get": (_p, [_size]),
    "ggml_backend_dev_name": (ctypes.c_char_p, [_p]),
    "ggml_backend_dev_description": (ctypes.c_char_p, [_p]),
    "ggml_backend_dev_type": (ctypes.c_int, [_p]),
    "ggml_backend_dev_memory": (None, [_p, ctypes.POINTER(_size), ctypes.POINTER(_size)]),
    "ggml_backend_reg_by_name": (_p, [ctypes.c_char_p]),
    "ggml_backend_reg_get_proc_address": (_p, [_p, ctypes.c_char_p]),
    "ggml_backend_register": (None, [_p]),
    "ggml_backend_reg_dev_count": (_size, [_p]),
    "ggml_backend_reg_dev_get": (_p, [_p, _size]),
}
_lib: ctypes.CDLL | None = None


def ggml_lib() -> ctypes.CDLL:
    """libggml as llama_cpp loaded it, with the device and registry functions typed (once)."""
    global _lib
    if _lib is None:
        libggml = _load_libggml()
        for name, (restype, argtypes) in _SIGNATURES.items():
            fn = getattr(libggml, name)
            fn.restype, fn.argtypes = restype, argtypes
        _lib = libggml
    return _lib


def _load_libggml() -> ctypes.CDLL:
    """The libggml beside the libllama that llama_cpp loaded. llama_cpp takes libllama from
    LLAMA_CPP_LIB_PATH when it is set (a CUDA build carried to a GPU machine), but its own `_ggml`
    module always reads its package's lib folder, so that case loads from the same folder here."""
    override = os.environ.get("LLAMA_CPP_LIB_PATH")
    if override is None:
        from llama_cpp._ggml import libggml

        return libggml
    import llama_cpp  # noqa: F401 - libllama first: the libggml below is then the one it loaded
    from llama_cpp._ctypes_extensions import load_shared_library

    return load_shared_library("ggml", Path(override))


@dataclass(frozen=True)
class Device:
    index: int
    name: str  # ggml's device name: "CPU", "CUDA0", "Vulkan0", "MTL0", "RPC[host:port]"
    description: str
    type: str  # cpu | gpu | igpu | accel
    free: int  # bytes
    total: int  # bytes

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def memory_of(handle: int) -> tuple[int, int]:
    """(free, total) bytes a device reports now; for an RPC device this asks its server."""
    free, total = _size(0), _size(0)
    ggml_lib().ggml_backend_dev_memory(handle, ctypes.byref(free), ctypes.byref(total))
    return free.value, total.value


def name_of(handle: int) -> str:
    return (ggml_lib().ggml_backend_dev_name(handle) or b"").decode()


def type_of(handle: int) -> str:
    return DEVICE_TYPES.get(ggml_lib().ggml_backend_dev_type(handle), "unknown")


def device_handles() -> list[int]:
    """Every device registered with ggml, in its order (accelerators before the CPU)."""
    from edge_runtime.models.backends.gguf import _init_backend

    _init_backend()
    lib = ggml_lib()
    return [lib.ggml_backend_dev_get(i) for i in range(lib.ggml_backend_dev_count())]


def list_devices() -> list[Device]:
    """Every device registered with ggml, described."""
    lib = ggml_lib()
    return [Device(i, name_of(h), (lib.ggml_backend_dev_description(h) or b"").decode(errors="replace"),
                   type_of(h), *memory_of(h)) for i, h in enumerate(device_handles())]


def gpu_devices() -> list[Device]:
    """Devices with memory of their own or shared with the host that llama.cpp offloads layers to."""
    return [d for d in list_devices() if d.type in ("gpu", "igpu")]


def device_memory(name: str) -> tuple[int, int]:
    """(free, total) bytes of one device now, by ggml name ("CUDA0")."""
    for d in list_devices():
        if d.name == name:
            return d.free, d.total
    raise KeyError(f"no device named {name!r}")
