"""llama.cpp's RPC backend through ctypes: RPC servers as devices for a model, and serving one.

Reached the way llama.cpp's own `--rpc` does (common/arg.cpp): the "RPC" registry entry's
`ggml_backend_rpc_add_server`, found with `ggml_backend_reg_get_proc_address`. Every call here that
talks to a server aborts the whole process when the server cannot be reached (GGML_ABORT in
ggml-rpc.cpp), so only a worker process of its own (backends/remote.py) or `rpc-serve` calls them.
"""
from __future__ import annotations

import ctypes
from dataclasses import dataclass, field
from typing import Sequence

import llama_cpp as ll

from edge_runtime.errors import EdgeRuntimeError
from edge_runtime.models.backends.ggml import device_handles, ggml_lib, type_of

_p = ctypes.c_void_p
_ADD_SERVER = ctypes.CFUNCTYPE(_p, ctypes.c_char_p)
_START_SERVER = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_size_t,
                                 ctypes.POINTER(_p))


def _proc(name: str, prototype: type) -> ctypes._CFuncPtr:
    """A function of the RPC backend, or a clear error when this llama.cpp was built without it."""
    ll.llama_backend_init()
    lib = ggml_lib()
    reg = lib.ggml_backend_reg_by_name(b"RPC")
    address = lib.ggml_backend_reg_get_proc_address(reg, name.encode()) if reg else None
    if not address:
        raise EdgeRuntimeError("this llama-cpp-python was built without the RPC backend",
                               "rebuild it with CMAKE_ARGS=-DGGML_RPC=ON (`make clean run` does)")
    return prototype(address)


def add_server(endpoint: str) -> list[int]:
    """Register one server ("host:port"); its devices' handles. Aborts the process if it is down."""
    reg = _proc("ggml_backend_rpc_add_server", _ADD_SERVER)(endpoint.encode())
    if not reg:
        raise EdgeRuntimeError(f"RPC server {endpoint} offers no devices")
    lib = ggml_lib()
    lib.ggml_backend_register(reg)
    return [lib.ggml_backend_reg_dev_get(reg, i) for i in range(lib.ggml_backend_reg_dev_count(reg))]


def serving_devices() -> list[int]:
    """What `rpc-server` offers: the accelerators of this build, else the CPU."""
    devices = device_handles()
    gpus = [d for d in devices if type_of(d) in ("gpu", "igpu")]
    return gpus or [d for d in devices if type_of(d) == "cpu"][:1]


def serve(endpoint: str, cache_dir: str | None, threads: int, devices: Sequence[int]) -> None:
    """Run llama.cpp's RPC server on this thread until the process ends (it serves one client at a time)."""
    array = (_p * len(devices))(*devices)
    start = _proc("ggml_backend_rpc_start_server", _START_SERVER)
    start(endpoint.encode(), cache_dir.encode() if cache_dir else None, threads, len(devices), array)


@dataclass
class Offload:
    """Where a model's layers go: the last `n_layers` (of n_layer + output) onto `devices` in `split`
    proportions; the rest, and the input embedding, stay on the local CPU (llama.cpp's own rule)."""

    devices: list[int]
    n_layers: int
    split: list[float]
    _keep: list[object] = field(default_factory=list, repr=False)  # ctypes arrays the params point into

    def apply(self, mparams: ll.llama_model_params) -> None:
        """Set the model params; the NULL-terminated device list and the split stay alive with self."""
        devices = (_p * (len(self.devices) + 1))(*self.devices, None)
        split = (ctypes.c_float * ll.llama_max_devices())(*self.split)
        self._keep = [devices, split]
        mparams.devices = ctypes.cast(devices, _p)
        mparams.tensor_split = split
        mparams.n_gpu_layers = self.n_layers
