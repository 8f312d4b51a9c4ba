"""`edge-runtime tune`: measure each expert's weight settings and verify modes on this machine, and
write the fastest as the tuned profile that `run`, `serve` and `inspect` read.

Per expert file and setting (repack off/on, both with mmap off, with the config's threads, KV type and
batch): a one-token step; then, with the faster setting, the verify cost curve (b = 1..16 in one-token
steps), the exact batch and lookup decoding in exact and fast mode, interleaved, on a few of the
project's own code prompts. Each layout variant (layouts.py) the file is not already in is timed the
same way; only one that steps faster can be chosen, so only then are its perplexity loss against the
original and its verify modes measured: it is chosen when it loses at most `max_layout_loss`.
"""
from __future__ import annotations

import json
import math
from importlib import resources
from pathlib import Path

from tqdm import tqdm

from edge_runtime.chat import encode_prompt
from edge_runtime.config import Config
from edge_runtime.models.backends.gguf import GGUFModel
from edge_runtime.models.catalog import resolve
from edge_runtime.speculative.costs import speedup_bound, verify_cost_curve
from edge_runtime.speculative.decoder import Decoder
from edge_runtime.speculative.drafters import PromptLookupDrafter
from edge_runtime.tuning.layouts import has_layout, perplexity_loss, variant
from edge_runtime.tuning.probe import SETTINGS, LoadSettings, measure_settings
from edge_runtime.tuning.profile import SettingTiming, TunedProfile, save

SIZES = range(1, 17)
TUNE_TOKENS = 64


def tune_prompts(limit: int = 2) -> list[str]:
    """The first code-edit prompts the project benchmarks with: the regime speculation is for."""
    text = resources.files("edge_runtime.tuning").joinpath("tune_prompts.jsonl").read_text("utf-8")
    return [json.loads(line)["prompt"] for line in text.splitlines() if line.strip()][:limit]


def load_settings(cfg: Config, threads: int) -> LoadSettings:
    """The settings the runtime will load experts with, so tune times what runs."""
    return LoadSettings(threads, cfg.kv_type, cfg.batch)


def measure_file(path: Path, load: LoadSettings, prompt: str, bar: tqdm) -> TunedProfile:
    """Every setting of one file timed; the faster step is the setting it loads with."""
    profile = TunedProfile(measure_settings(path, load, prompt, lambda name: bar.set_postfix_str(f"{path.name} {name}")))
    bar.update(len(profile.settings))
    return profile


def lookup_speeds(model: GGUFModel, setting: SettingTiming, prompts: list[str]) -> dict[str, dict[str, float]]:
    """Lookup decoding in exact and fast mode, ABAB over the prompts: tok/s, acceptance, tokens/step. Each
    mode's decoder starts from the setting's measured cost curve and keeps what it learns, as `run` does."""
    totals = {mode: [0, 0.0, 0, 0, 0] for mode in ("exact", "fast")}
    decoders = {mode: Decoder(model, PromptLookupDrafter(4, 3), cost=setting.cost()) for mode in totals}
    for prompt in prompts:
        ids = encode_prompt(model, prompt)
        for mode, t in totals.items():
            decoder = decoders[mode]
            for _ in decoder.generate(ids, max_tokens=TUNE_TOKENS, verify=mode):
                pass
            s = decoder.stats
            for i, v in enumerate((s.completion_tokens - 1, s.decode_s, s.drafted, s.accepted, s.steps)):
                t[i] += v
    return {mode: {"tok_s": t[0] / t[1], "acceptance": t[3] / max(1, t[2]), "tokens_per_step": t[0] / max(1, t[4])}
            for mode, t in totals.items()}


def measure_loaded(path: Path, profile: TunedProfile, load: LoadSettings, prompts: list[str], bar: tqdm) -> None:
    """For the setting a file loads with: its verify cost curve, exact batch, and the faster of lookup exact
    and fast as its verify default (the other setting never loads, so these are not spent on it)."""
    bar.set_postfix_str(f"{path.name} cost curve, lookup exact/fast")
    setting = profile.loaded
    model = load.open(path, setting.repack)
    try:
        setting.curve = verify_cost_curve(model, encode_prompt(model, prompts[0]), SIZES, reps=3)
        setting.exact_batch = model.exact_batch
        setting.bound_exact = speedup_bound(setting.curve, setting.exact_batch)
        setting.bound_fast = speedup_bound(setting.curve, max(SIZES))
        profile.modes = lookup_speeds(model, setting, prompts)
    finally:
        model.close()
    profile.verify = max(profile.modes, key=lambda m: profile.modes[m]["tok_s"])
    bar.update(1)


def choose_layout(profile: TunedProfile, variants: dict[str, TunedProfile], max_loss: float) -> str:
    """The layout to load: the variant with the fastest best step, when that step beats the file as it
    is and its perplexity loss is at most max_loss; "" keeps the file as it is."""
    fit = {layout: v for layout, v in variants.items()
           if (v.loss if v.loss is not None else math.nan) <= max_loss and v.best_step_ms() < profile.best_step_ms()}
    return min(fit, key=lambda layout: fit[layout].best_step_ms(), default="")


def tune_variant(path: Path, layout: str, profile: TunedProfile, load: LoadSettings, prompts: list[str],
                 max_loss: float, bar: tqdm) -> TunedProfile:
    """One layout variant (made on first use) timed; one that steps faster gets its perplexity loss
    measured and, within max_loss, its curve and verify default (a slower one cannot be chosen)."""
    made = variant(path, layout, load.threads)
    measured = measure_file(made, load, prompts[0], bar)
    if measured.best_step_ms() < profile.best_step_ms():
        bar.total += 1
        bar.set_postfix_str(f"{made.name} perplexity")
        measured.loss = perplexity_loss(path, made, load.threads)
        bar.update(1)
        if measured.loss <= max_loss:
            bar.total += 1
            measure_loaded(made, measured, load, prompts, bar)
    save(made, load.threads, measured)
    return measured


def tune_model(path: Path, load: LoadSettings, prompts: list[str], layouts: list[str], max_loss: float,
               bar: tqdm) -> TunedProfile:
    """The file as it is and each layout variant measured; every file gets its own profile, and the
    original's names the layout to load."""
    profile = measure_file(path, load, prompts[0], bar)
    measure_loaded(path, profile, load, prompts, bar)
    profile.variants = {layout: tune_variant(path, layout, profile, load, prompts, max_loss, bar)
                        for layout in layouts}
    profile.layout = choose_layout(profile, profile.variants, max_loss)
    save(path, load.threads, profile)
    return profile


def tune(cfg: Config, threads: int, layouts: list[str]) -> dict[str, TunedProfile]:
    """Tune every GGUF model the config's experts use (each file once), with each of `layouts` the
    file is not already in."""
    paths = {name: resolve(exp.model) for name, exp in cfg.experts.items()}
    todo = {p: [layout for layout in layouts if not has_layout(p, layout)]
            for p in paths.values() if p.suffix == ".gguf"}
    steps = sum(len(SETTINGS) * (1 + len(v)) + 1 for v in todo.values())  # more where a variant is faster
    prompts, done, load = tune_prompts(), {}, load_settings(cfg, threads)
    with tqdm(total=steps, desc="tune", unit="step") as bar:
        for path in sorted(todo):
            done[path] = tune_model(path, load, prompts, todo[path], cfg.max_layout_loss, bar)
    return {name: done[path] for name, path in paths.items() if path in done}
