"""The tuned profile: per model file, how it loads fastest on this machine, read and written here only.

Two things write one: the first load of a GGUF file on a machine (probe.py: a few seconds, repack on or
off) and `edge-runtime tune` (the whole measurement: cost curves, verify modes, layout variants). Stored
with the other per-machine measurements (see machine_cache), so it is ignored as soon as the file, the
CPU, the llama.cpp build or the thread count changes.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from edge_runtime.speculative.policy import VerifyCost
from edge_runtime.tuning.machine_cache import cache_key, file_identity, read_entries, write_entry

KIND = "profile"
PROBE, TUNE = "probe", "tune"  # who measured a profile: the first load's quick probe, or `edge-runtime tune`


@dataclass
class SettingTiming:
    """One way of loading a file (repack on or off, mmap off), timed: its one-token step, and for the
    setting that loads, its verify cost curve, bit-exact batch and the speed-up bounds they imply."""

    repack: bool
    step_ms: float
    curve: dict[int, float] | None = None
    exact_batch: int | None = None
    bound_exact: float | None = None
    bound_fast: float | None = None

    def cost(self) -> VerifyCost | None:
        """The verify costs for a decoder to start from; None for a setting whose curve was not measured."""
        return None if self.curve is None else VerifyCost.measured(self.curve, self.step_ms / 1000)

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> "SettingTiming":
        curve = {int(k): float(v) for k, v in raw["curve"].items()} if raw.get("curve") else None
        return cls(raw["repack"], raw["step_ms"], curve, raw.get("exact_batch"), raw.get("bound_exact"),
                   raw.get("bound_fast"))


@dataclass
class TunedProfile:
    """What was measured for one file here, and what it therefore loads with."""

    settings: dict[str, SettingTiming]  # "plain" and "repack"
    source: str = TUNE
    verify: str = "exact"  # the faster lookup mode tune measured; a probe does not measure it
    modes: dict[str, dict[str, float]] = field(default_factory=dict)  # verify mode -> tok/s, acceptance, ...
    layout: str = ""  # the layout variant to load ("" = the file as it is)
    variants: dict[str, "TunedProfile"] = field(default_factory=dict)
    loss: float | None = None  # a variant's perplexity loss against its source, when measured

    @property
    def repack(self) -> bool:
        """Repacked weights load when their one-token step was the faster one."""
        return self.loaded.repack

    @property
    def loaded(self) -> SettingTiming:
        return min(self.settings.values(), key=lambda s: s.step_ms)

    def best_step_ms(self) -> float:
        return self.loaded.step_ms

    def cost(self) -> VerifyCost | None:
        """The verify costs of the setting that loads, for a decoder to start from."""
        return self.loaded.cost()

    def files(self) -> list[tuple[str, "TunedProfile"]]:
        """(layout, profile) of the file as it is ("") and of each variant measured."""
        return [("", self)] + list(self.variants.items())

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> "TunedProfile":
        return cls({k: SettingTiming.from_json(v) for k, v in raw["settings"].items()}, raw.get("source", TUNE),
                   raw.get("verify", "exact"), raw.get("modes", {}), raw.get("layout", ""),
                   {k: cls.from_json(v) for k, v in raw.get("variants", {}).items()}, raw.get("loss"))


def _key(path: Path, threads: int) -> str:
    return cache_key(path, {"threads": threads})


def tuned(path: Path, threads: int) -> TunedProfile | None:
    """The profile measured for this file here with this many threads; None if it has none yet.
    An entry in an older or foreign shape counts as none: it is measured again, never trusted."""
    raw = read_entries(KIND).get(_key(path, threads))
    try:
        return TunedProfile.from_json(raw) if raw else None
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def save(path: Path, threads: int, profile: TunedProfile) -> None:
    write_entry(KIND, _key(path, threads), {**profile.to_json(), **file_identity(path), "threads": threads})


def verify_mode(requested: str, profile: TunedProfile | None) -> str:
    """`auto` becomes the mode tune measured faster for the file, or exact when it was not measured."""
    if requested != "auto":
        return requested
    return profile.verify if profile is not None else "exact"


def describe(path: Path, threads: int) -> str:
    """One line for `inspect`: the layout and settings the file loads with here, or how it gets them."""
    p = tuned(path, threads)
    if p is None:
        return f"none yet for {threads} threads on this machine (measured on first load; `edge-runtime tune` refines)"
    loaded = p.variants[p.layout] if p.layout else p
    weights = f"layout {p.layout} (perplexity {loaded.loss:+.1%})" if p.layout else "layout as is"
    chosen = loaded.loaded
    exact = chosen.exact_batch if chosen.exact_batch is not None else "not measured"
    by = "first-load probe" if p.source == PROBE else "tune"
    return (f"{weights}, repack {'on' if loaded.repack else 'off'}, mmap off, verify {loaded.verify}; "
            f"step {chosen.step_ms:.1f} ms, exact batch {exact} ({by})")
