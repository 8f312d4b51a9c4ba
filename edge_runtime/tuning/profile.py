"""The tuned profile: per model file, what `edge-runtime tune` measured best on this machine.

Stored with the other per-machine measurements (see machine_cache), so it is ignored as soon as the
file, the CPU, the llama.cpp build or the thread count changes; `run`, `serve` and `inspect` read it.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from edge_runtime.tuning.machine_cache import cache_key, file_identity, read_entries, write_entry
from edge_runtime.speculative.policy import VerifyCost

KIND = "profile"


def _key(path: Path, threads: int) -> str:
    return cache_key(path, {"threads": threads})


def tuned(path: Path, threads: int) -> dict[str, Any] | None:
    """The settings tune chose for this file here: repack, mmap, verify, layout; None if untuned."""
    return read_entries(KIND).get(_key(path, threads))


def save(path: Path, threads: int, settings: dict[str, Any]) -> None:
    write_entry(KIND, _key(path, threads), {**settings, **file_identity(path), "threads": threads})


def verify_mode(requested: str, profile: dict[str, Any]) -> str:
    """`auto` becomes the mode tune measured faster for the file (its profile, see
    `ExpertLoader.profile`), or exact when there is none."""
    return profile.get("verify", "exact") if requested == "auto" else requested


def loaded_setting(profile: dict[str, Any]) -> dict[str, Any]:
    """What tune measured for the setting the file loads with (repack on or off): step, curve, exact batch."""
    return profile["settings"]["repack" if profile["repack"] else "plain"]


def setting_cost(setting: dict[str, Any]) -> VerifyCost | None:
    """The verify costs tune measured for one setting, for a decoder to start from (None: a setting tune
    found slower has no curve)."""
    if "curve" not in setting:
        return None
    return VerifyCost.measured({int(k): v for k, v in setting["curve"].items()}, setting["step_ms"] / 1000)


def measured_cost(profile: dict[str, Any]) -> VerifyCost | None:
    """The verify costs of the setting the profiled file loads with; None when the file is untuned."""
    return setting_cost(loaded_setting(profile)) if profile else None


def describe(path: Path, threads: int) -> str:
    """One line for `inspect`: the layout tune chose for this file here and the loaded file's settings,
    or how to get a profile."""
    p = tuned(path, threads)
    if p is None:
        return f"none for {threads} threads on this machine (run `edge-runtime tune`)"
    layout = p.get("layout", "")  # profiles older than layouts have none
    loaded = p["variants"][layout] if layout else p
    weights = f"layout {layout} (perplexity {loaded['loss']:+.1%})" if layout else "layout as is"
    chosen = loaded_setting(loaded)
    exact = chosen.get("exact_batch", "not measured")  # tune measures it for files that may load
    return (f"{weights}, repack {'on' if loaded['repack'] else 'off'}, mmap off, verify "
            f"{loaded.get('verify', 'exact')}; step {chosen['step_ms']:.1f} ms, exact batch {exact}")
