"""The devices llama.cpp sees (CPU, CUDA/Vulkan/Metal GPUs, RPC servers), through ggml's device API.

llama-cpp-python binds none of `ggml_backend_dev_*`, so they are bound here with ctypes on the
libggml that its libllama loaded (the same directory, `LLAMA_CPP_LIB_PATH` when set). Free and total
memory are what the backend reports: for a GPU its dedicated memory (cudaMemGetInfo, ...), for the
CPU the host's.
"""
from __future__ import annotations

import ctypes
import pathlib
import sys
from dataclasses import asdict, dataclass

DEVICE_TYPES = {0: "cpu", 1: "gpu", 2: "igpu", 3: "accel"}
_lib: ctypes.CDLL | None = None


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


def _library_path() -> pathlib.Path:
    import llama_cpp.llama_cpp as lc  # loads libllama (and with it libggml) from its directory

    suffix = {"darwin": ".dylib", "win32": ".dll"}.get(sys.platform, ".so")
    base = pathlib.Path(lc._base_path)
    for name in (f"libggml{suffix}", f"ggml{suffix}", f"libggml.so"):
        if (base / name).exists():
            return base / name
    return base / f"libllama{suffix}"  # a static ggml build: the symbols live in libllama itself


def ggml_lib() -> ctypes.CDLL:
    """libggml as llama_cpp loaded it, with the device functions typed."""
    global _lib
    if _lib is None:
        lib = ctypes.CDLL(str(_library_path()))
        vp, sz = ctypes.c_void_p, ctypes.c_size_t
        lib.ggml_backend_dev_count.restype, lib.ggml_backend_dev_count.argtypes = sz, []
        lib.ggml_backend_dev_get.restype, lib.ggml_backend_dev_get.argtypes = vp, [sz]
        lib.ggml_backend_dev_name.restype, lib.ggml_backend_dev_name.argtypes = ctypes.c_char_p, [vp]
        lib.ggml_backend_dev_description.restype = ctypes.c_char_p
        lib.ggml_backend_dev_description.argtypes = [vp]
        lib.ggml_backend_dev_type.restype, lib.ggml_backend_dev_type.argtypes = ctypes.c_int, [vp]
        lib.ggml_backend_dev_memory.restype = None
        lib.ggml_backend_dev_memory.argtypes = [vp, ctypes.POINTER(sz), ctypes.POINTER(sz)]
        _lib = lib
    return _lib


def _device(lib: ctypes.CDLL, index: int) -> Device:
    dev = lib.ggml_backend_dev_get(index)
    free, total = ctypes.c_size_t(0), ctypes.c_size_t(0)
    lib.ggml_backend_dev_memory(dev, ctypes.byref(free), ctypes.byref(total))
    return Device(index, (lib.ggml_backend_dev_name(dev) or b"").decode(),
                  (lib.ggml_backend_dev_description(dev) or b"").decode(errors="replace"),
                  DEVICE_TYPES.get(lib.ggml_backend_dev_type(dev), "unknown"), free.value, total.value)


def list_devices() -> list[Device]:
    """Every device registered with ggml, in its order (accelerators before the CPU)."""
    from edge_runtime.models.backends.gguf import _init_backend

    _init_backend()
    lib = ggml_lib()
    return [_device(lib, i) for i in range(lib.ggml_backend_dev_count())]


def gpu_devices() -> list[Device]:
    """Devices with memory of their own or shared with the host that llama.cpp offloads layers to."""
    return [d for d in list_devices() if d.type in ("gpu", "igpu")]


def device_memory(name: str) -> tuple[int, int]:
    """(free, total) bytes of one device now, by ggml name ("CUDA0")."""
    for d in list_devices():
        if d.name == name:
            return d.free, d.total
    raise KeyError(f"no device named {name!r}")
