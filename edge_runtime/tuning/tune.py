"""`edge-runtime tune`: measure each expert's weight settings and verify modes on this machine, and
write the fastest as the tuned profile that `run`, `serve` and `inspect` read.

Per expert file and setting (repack off/on, both with mmap off): a one-token step; then, with the faster
setting, the verify cost curve (b = 1..16 in one-token steps), the exact batch and lookup decoding in exact
and fast mode, interleaved, on a few of the project's own code prompts. Each layout variant (layouts.py)
the file is not already in is timed the same way; only one that steps faster can be chosen, so only then
are its perplexity loss against the original and its verify modes measured: it is chosen when it loses
at most `max_layout_loss`.
"""
from __future__ import annotations

import argparse
import json
import math
import os
from importlib import resources
from pathlib import Path
from typing import Any

from tqdm import tqdm

from edge_runtime.models.backends.gguf import GGUFModel
from edge_runtime.models.catalog import resolve
from edge_runtime.chat import encode_prompt
from edge_runtime.config import Config, load_config
from edge_runtime.tuning.layouts import LAYOUTS, check_layout, has_layout, perplexity_loss, variant
from edge_runtime.models.backends.base import default_threads
from edge_runtime.tuning.machine_cache import cache_dir
from edge_runtime.tuning.profile import loaded_setting, save, setting_cost
from edge_runtime.speculative.costs import speedup_bound, step_seconds, verify_cost_curve
from edge_runtime.speculative.decoder import Decoder
from edge_runtime.speculative.drafters import PromptLookupDrafter

SETTINGS = {"plain": {"repack": False}, "repack": {"repack": True}}
SIZES = range(1, 17)
TUNE_TOKENS = 64


def tune_prompts(limit: int = 2) -> list[str]:
    """The first code-edit prompts the project benchmarks with: the regime speculation is for."""
    text = resources.files("edge_runtime.tuning").joinpath("tune_prompts.jsonl").read_text("utf-8")
    return [json.loads(line)["prompt"] for line in text.splitlines() if line.strip()][:limit]


def step_ms(path: Path, repack: bool, threads: int, prompt: str) -> float:
    """A one-token step of one file loaded one way (mmap off), in ms: what decides the setting."""
    model = GGUFModel(path, n_ctx=1024, n_threads=threads, repack=repack, use_mmap=False)
    try:
        return 1000 * step_seconds(model, encode_prompt(model, prompt))
    finally:
        model.close()


def measure_file(path: Path, threads: int, prompt: str, bar: tqdm) -> dict[str, Any]:
    """Every setting of one file timed; the faster step is the setting it loads with."""
    measured = {}
    for name, setting in SETTINGS.items():
        bar.set_postfix_str(f"{path.name} {name}")
        measured[name] = {"repack": setting["repack"], "step_ms": step_ms(path, setting["repack"], threads, prompt)}
        bar.update(1)
    best = min(measured, key=lambda n: measured[n]["step_ms"])
    return {"repack": SETTINGS[best]["repack"], "mmap": False, "settings": measured}


def lookup_speeds(model: GGUFModel, setting: dict[str, Any], prompts: list[str]) -> dict[str, dict[str, float]]:
    """Lookup decoding in exact and fast mode, ABAB over the prompts: tok/s, acceptance, tokens/step. Each
    mode's decoder starts from the setting's measured cost curve and keeps what it learns, as `run` does."""
    totals = {mode: [0, 0.0, 0, 0, 0] for mode in ("exact", "fast")}
    decoders = {mode: Decoder(model, PromptLookupDrafter(4, 3), cost=setting_cost(setting)) for mode in totals}
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


def measure_loaded(path: Path, profile: dict[str, Any], threads: int, prompts: list[str], bar: tqdm) -> None:
    """For the setting a file loads with: its verify cost curve, exact batch, and the faster of lookup exact
    and fast as its verify default (the other setting never loads, so these are not spent on it)."""
    bar.set_postfix_str(f"{path.name} cost curve, lookup exact/fast")
    setting = loaded_setting(profile)
    model = GGUFModel(path, n_ctx=1024, n_threads=threads, repack=setting["repack"], use_mmap=False)
    try:
        curve = verify_cost_curve(model, encode_prompt(model, prompts[0]), SIZES, reps=3)
        exact = model.exact_batch
        setting.update(curve=curve, exact_batch=exact, bound_exact=speedup_bound(curve, exact),
                       bound_fast=speedup_bound(curve, max(SIZES)))
        speeds = lookup_speeds(model, setting, prompts)
    finally:
        model.close()
    profile.update(verify=max(speeds, key=lambda m: speeds[m]["tok_s"]), modes=speeds)
    bar.update(1)


def best_step(profile: dict[str, Any]) -> float:
    """A file's fastest one-token step, in ms, over the settings measured."""
    return min(m["step_ms"] for m in profile["settings"].values())


def choose_layout(profile: dict[str, Any], variants: dict[str, dict[str, Any]], max_loss: float) -> str:
    """The layout to load: the variant with the fastest best step, when that step beats the file as it
    is and its perplexity loss is at most max_loss; "" keeps the file as it is."""
    fit = {layout: v for layout, v in variants.items()
           if v.get("loss", math.nan) <= max_loss and best_step(v) < best_step(profile)}
    return min(fit, key=lambda layout: best_step(fit[layout]), default="")


def tune_model(path: Path, threads: int, prompts: list[str], layouts: list[str], max_loss: float,
               bar: tqdm) -> dict[str, Any]:
    """The file as it is and each layout variant (made on first use) timed; a variant that steps faster
    gets its perplexity loss measured and, within max_loss, its curve and verify default (a slower one
    cannot be chosen, so neither is spent on it). Every file gets its own profile; the original's names
    the layout to load."""
    profile, variants = measure_file(path, threads, prompts[0], bar), {}
    measure_loaded(path, profile, threads, prompts, bar)
    for layout in layouts:
        made = variant(path, layout, threads)
        measured = variants[layout] = measure_file(made, threads, prompts[0], bar)
        if best_step(measured) < best_step(profile):
            bar.total += 1
            bar.set_postfix_str(f"{made.name} perplexity")
            measured["loss"] = perplexity_loss(path, made, threads)
            bar.update(1)
            if measured["loss"] <= max_loss:
                bar.total += 1
                measure_loaded(made, measured, threads, prompts, bar)
        save(made, threads, measured)
    profile.update(layout=choose_layout(profile, variants, max_loss), variants=variants)
    save(path, threads, profile)
    return profile


def files(profile: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(layout, profile) of the file as it is ("") and of each variant tune measured."""
    return [("", profile)] + list(profile.get("variants", {}).items())


def curve_cells(setting: dict[str, Any]) -> str:
    """b2, b4, b8, b16, exact batch and both bounds; dashes for a setting that never loads (not measured)."""
    if "curve" not in setting:
        return " | ".join(["-"] * 7)
    c = {int(k): v for k, v in setting["curve"].items()}
    return (" | ".join(f"{c[b]:.2f}" for b in (2, 4, 8, 16)) +
            f" | {setting['exact_batch']} | {setting['bound_exact']:.2f}x | {setting['bound_fast']:.2f}x")


def table(profiles: dict[str, dict[str, Any]]) -> str:
    """One row per expert, layout and setting: step, cost curve points, exact batch, bounds, perplexity
    loss, chosen; then lookup decoding of the layout chosen."""
    head = ("| expert | layout | setting | step ms | b2 | b4 | b8 | b16 | exact batch | bound exact | bound fast "
            "| perplexity loss | chosen |")
    rows, modes = [head, "|" + "---|" * 13], []
    for expert, p in profiles.items():
        for layout, f in files(p):
            loss = (f"{f['loss']:+.1%}" if "loss" in f else "not measured: slower") if layout else ""
            for name, m in f["settings"].items():
                chosen = f"yes, verify {f['verify']}" if layout == p["layout"] and m["repack"] == f["repack"] else ""
                rows.append(f"| {expert} | {layout or 'as is'} | {name} | {m['step_ms']:.1f} | {curve_cells(m)} | "
                            f"{loss} | {chosen} |")
        loaded = dict(files(p))[p["layout"]]
        modes.append(f"{expert}: " + ", ".join(
            f"{m} {s['tok_s']:.1f} tok/s (acceptance {s['acceptance']:.0%}, {s['tokens_per_step']:.2f} tokens/step)"
            for m, s in loaded["modes"].items()))
    return "\n".join(rows) + "\n\nLookup decoding, " + "; ".join(modes)


def plot(profiles: dict[str, dict[str, Any]], path: Path) -> None:
    """Cost curves, one line per expert and file that loads, against the ideal (b tokens for one step)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for expert, p in profiles.items():
        for layout, f in files(p):
            for name, m in ((n, m) for n, m in f["settings"].items() if "curve" in m):  # the settings that load
                sizes = sorted(int(k) for k in m["curve"])
                ax.plot(sizes, [m["curve"][k] for k in sizes], marker="o",
                        label=f"{expert} {layout + ' ' if layout else ''}{name}")
    ax.plot(list(SIZES), list(SIZES), color="grey", linestyle="--", label="b steps (no batching gain)")
    ax.set_xlabel("tokens in one forward (b)")
    ax.set_ylabel("cost in one-token steps")
    ax.set_title(f"Verify cost curves, {os.cpu_count()} CPUs")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def tune(cfg: Config, threads: int, layouts: list[str]) -> dict[str, dict[str, Any]]:
    """Tune every GGUF model the config's experts use (each file once), with each of `layouts` the
    file is not already in."""
    paths = {name: resolve(exp.model) for name, exp in cfg.experts.items()}
    todo = {p: [layout for layout in layouts if not has_layout(p, layout)]
            for p in paths.values() if p.suffix == ".gguf"}
    steps = sum(len(SETTINGS) * (1 + len(v)) + 1 for v in todo.values())  # more where a variant is faster
    prompts, done = tune_prompts(), {}
    with tqdm(total=steps, desc="tune", unit="step") as bar:
        for path in sorted(todo):
            done[path] = tune_model(path, threads, prompts, todo[path], cfg.max_layout_loss, bar)
    return {name: done[path] for name, path in paths.items() if path in done}


def cmd_tune(args: argparse.Namespace) -> int:
    cfg = load_config(args.config)
    threads = args.threads or cfg.threads or default_threads()
    layouts = [check_layout(x.strip(), "--layouts") for x in args.layouts.split(",") if x.strip()]
    profiles = tune(cfg, threads, layouts)
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs, {threads} threads\n")
    print(table(profiles))
    png = cache_dir() / "tune.png"
    plot(profiles, png)
    if args.json:
        print(json.dumps(profiles, default=str))
    print(f"\nprofile written to {cache_dir() / 'profile.json'}; cost curves in {png}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("tune", help="measure layout variants, weight settings and verify modes here; write the "
                                    "tuned profile")
    p.add_argument("--config")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--layouts", default=",".join(LAYOUTS),
                   help="layout variants to make and measure, comma-separated ('' skips them); a variant is "
                        "chosen only when faster and within max_layout_loss perplexity")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_tune)
