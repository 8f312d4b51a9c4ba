"""Measurements that hold only for one model file on one machine and llama.cpp build, kept on disk.

Machines of the same kind differ (an AVX-512 host decodes twice as fast as an AVX2 one, and picks other
kernels), so what was measured is stored under a key made of everything it depends on: the file (name,
size, mtime), the CPU (model and flags), the llama.cpp build and the load settings. Anything else
changes the key and the measurement runs again.
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

from edge_runtime.models.catalog import models_dir


def cache_dir() -> Path:
    """`$EDGE_RUNTIME_HOME/tuning`, beside the models directory."""
    return models_dir().parent / "tuning"


@lru_cache(maxsize=1)
def machine_identity() -> dict[str, str]:
    """The CPU and the llama.cpp build: what decides which kernels run and how they round."""
    import llama_cpp as ll

    cpu, flags = platform.processor(), ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            key, _, value = line.partition(":")
            if key.strip() == "model name":
                cpu = value.strip()
            elif key.strip() in ("flags", "Features") and not flags:
                flags = hashlib.sha256(" ".join(sorted(value.split())).encode()).hexdigest()[:16]
    except OSError:
        pass
    return {"cpu": cpu, "cpu_flags": flags, "llama_cpp": ll.__version__,
            "system_info": ll.llama_print_system_info().decode(errors="replace")}


def file_identity(path: Path) -> dict[str, Any]:
    """Name, size and modification time: a replaced or requantized file gets measured again."""
    stat = Path(path).stat()
    return {"file": Path(path).name, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def cache_key(path: Path, settings: dict[str, Any]) -> str:
    """One key for (file, machine, settings)."""
    identity = {**file_identity(path), **machine_identity(), **settings}
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:24]


def _store_path(kind: str) -> Path:
    return cache_dir() / f"{kind}.json"


def read_entries(kind: str) -> dict[str, Any]:
    try:
        return json.loads(_store_path(kind).read_text("utf-8"))
    except (OSError, ValueError):
        return {}


def write_entry(kind: str, key: str, value: Any) -> None:
    """Add one entry; written to a temporary file and renamed, so a reader never sees half a file."""
    entries = read_entries(kind)
    entries[key] = value
    path = _store_path(kind)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(entries, indent=1, sort_keys=True), "utf-8")
    tmp.replace(path)


def cached(kind: str, path: Path, settings: dict[str, Any], measure: Callable[[], dict[str, Any]]
           ) -> dict[str, Any]:
    """The stored measurement for this file, machine and settings, measured and stored when missing."""
    key = cache_key(path, settings)
    entry = read_entries(kind).get(key)
    if entry is None:
        entry = {**measure(), **file_identity(path), "settings": settings}
        write_entry(kind, key, entry)
    return entry
