"""The first load of a GGUF file on a machine times a one-token step with repacked weights and without,
and keeps the faster: a few seconds once, so the default path is fast without `edge-runtime tune`.

Whether llama.cpp's repacked CPU kernels win depends on the CPU and the file's quantization (on the
2-core VMs measured here the 1.5B Q4_K_M stepped 5-35% faster repacked; Q4_1 has no repacked kernel),
so it is measured where it runs, with the settings the runtime will load with, never assumed.
"""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from edge_runtime.chat import encode_prompt
from edge_runtime.models.backends.gguf import GGUFModel
from edge_runtime.speculative.costs import step_seconds
from edge_runtime.tuning.profile import PROBE, SettingTiming, TunedProfile, save

SETTINGS = {"plain": False, "repack": True}  # setting name -> repack
PROBE_PROMPT = "Write a Python function that returns the squares of the even numbers in a list."


@dataclass(frozen=True)
class LoadSettings:
    """What a measurement loads a file with: the same threads, KV type and batch the runtime uses, so the
    step timed is the step that runs (mmap is off for both settings: repacked weights are copied anyway)."""

    threads: int
    kv_type: str = "f16"
    n_batch: int = 512
    n_ctx: int = 1024

    def open(self, path: Path, repack: bool) -> GGUFModel:
        return GGUFModel(path, n_ctx=self.n_ctx, n_batch=self.n_batch, n_threads=self.threads, kv_type=self.kv_type,
                         repack=repack, use_mmap=False)


def step_ms(path: Path, repack: bool, load: LoadSettings, prompt: str, steps: int = 16) -> float:
    """A one-token step of one file loaded one way, in ms: what decides the setting."""
    model = load.open(path, repack)
    try:
        return 1000 * step_seconds(model, encode_prompt(model, prompt), steps)
    finally:
        model.close()


def measure_settings(path: Path, load: LoadSettings, prompt: str, on_step: Callable[[str], None] = lambda _: None,
                     steps: int = 16) -> dict[str, SettingTiming]:
    """Every setting of one file timed, one after the other."""
    measured = {}
    for name, repack in SETTINGS.items():
        on_step(name)
        measured[name] = SettingTiming(repack, step_ms(path, repack, load, prompt, steps))
    return measured


def machine_is_busy() -> bool:
    """More runnable work than cores: timings taken now say more about the neighbours than the file."""
    return os.getloadavg()[0] > (os.cpu_count() or 1)


def first_load_profile(path: Path, load: LoadSettings) -> TunedProfile:
    """The probe's profile of a file with none here: measured, said in one line on stderr, and kept
    unless the machine was busy while it measured (then it serves this process and is measured again)."""
    settings = measure_settings(path, load, PROBE_PROMPT, steps=12)
    profile = TunedProfile(settings, source=PROBE)
    busy = machine_is_busy()
    if not busy:
        save(path, load.threads, profile)
    plain, repack = settings["plain"].step_ms, settings["repack"].step_ms
    kept = "not kept: the machine was busy, measured again next time" if busy else "kept; `edge-runtime tune` refines"
    print(f"edge-runtime: first load of {path.name} on this machine: one-token step {plain:.1f} ms plain, "
          f"{repack:.1f} ms repacked; loading {'repacked' if profile.repack else 'plain'} ({kept})", file=sys.stderr)
    return profile
