"""Which layers of a model go to which device, and what each device then holds, decided from the header
before a load: llama.cpp's own rule (the input embedding stays local; the last `n_layers` of
n_layer blocks + the output head go to the devices in proportion to the split), so the plan is what
the load will do. Bytes: the layer's weights and its share of the KV cache; the compute buffers and
logits are counted locally (the logits come home every step).
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass
from pathlib import Path

from edge_runtime.rpc.endpoints import RemoteDevice
from edge_runtime.errors import BudgetError, ConfigError
from edge_runtime.models.header import GGUFInfo, read_gguf
from edge_runtime.memory.budget import estimate_footprint, fmt_bytes


@dataclass(frozen=True)
class Placement:
    local: int  # bytes this machine holds
    remote: list[int]  # bytes each remote device holds, in device order
    n_layers: int  # layers offloaded (llama.cpp's n_gpu_layers)
    split: list[float]  # the remote devices' shares of those layers


def _unit_bytes(info: GGUFInfo, n_ctx: int, kv_type: str) -> list[int]:
    """Bytes of each unit llama.cpp places: every block with its KV cache, then the output head."""
    kv = info.kv_cache_bytes(n_ctx, kv_type) // max(1, info.n_layer)
    return [info.block_bytes.get(i, 0) + kv for i in range(info.n_layer)] + [info.output_bytes]


def place(path: Path, n_ctx: int, kv_type: str, n_batch: int, shares: list[float]) -> Placement:
    """Bytes per device for `shares` = [local, device 1, device 2, ...] (any non-negative weights)."""
    info = read_gguf(path)
    n_ctx = min(n_ctx, info.context_length or n_ctx)
    units = _unit_bytes(info, n_ctx, kv_type)
    n_off = round(len(units) * (1 - shares[0] / sum(shares)))
    remote_shares = shares[1:]
    cumulative = [sum(remote_shares[:i + 1]) / (sum(remote_shares) or 1) for i in range(len(remote_shares))]
    remote = [0] * len(remote_shares)
    start = len(units) - n_off
    for unit, nbytes in enumerate(units[start:]):
        device = bisect.bisect_right(cumulative, unit / n_off)  # llama.cpp: std::upper_bound on the splits
        remote[min(device, len(remote) - 1)] += nbytes
    compute = estimate_footprint(path, n_ctx, kv_type, n_batch).compute
    local = info.token_embd_bytes + sum(units[:start]) + compute
    return Placement(local, remote, n_off, [s / (sum(remote_shares) or 1) for s in remote_shares])


def fit(path: Path, n_ctx: int, kv_type: str, n_batch: int, devices: list[RemoteDevice],
        tensor_split: list[float]) -> Placement:
    """The configured split, or (none configured) every layer remote in proportion to the devices'
    free memory, as llama.cpp's `--rpc` does; refused with the numbers when a device cannot hold its part."""
    if tensor_split and len(tensor_split) != len(devices) + 1:
        raise ConfigError(f"tensor_split has {len(tensor_split)} shares for the local CPU and {len(devices)} "
                          f"remote devices", f"give {len(devices) + 1}: the local share first, then one per device")
    shares = tensor_split or [0.0] + [float(d.free) for d in devices]
    if sum(shares[1:]) <= 0:
        raise ConfigError("tensor_split gives the remote devices nothing", "give them a share, or drop `rpc`")
    plan = place(path, n_ctx, kv_type, n_batch, shares)
    for device, need in zip(devices, plan.remote):
        if need > device.free:
            raise BudgetError(
                f"{path.name} puts {fmt_bytes(need)} on device {device.index} of {device.endpoint}, which reports "
                f"{fmt_bytes(device.free)} free of {fmt_bytes(device.total)}",
                "lower its share in `tensor_split` (the first share is this machine's), or add an RPC server")
    return plan
