"""`edge-runtime tune`: run tuning.tune on the config's experts, then show what it measured as a table
and the cost curves as a PNG."""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from edge_runtime.cli.options import add_config_option, config_from_args
from edge_runtime.models.backends.base import default_threads
from edge_runtime.tuning.layouts import LAYOUTS, check_layout
from edge_runtime.tuning.machine_cache import cache_dir
from edge_runtime.tuning.profile import SettingTiming, TunedProfile
from edge_runtime.tuning.tune import SIZES, tune


def curve_cells(setting: SettingTiming) -> str:
    """b2, b4, b8, b16, exact batch and both bounds; dashes for a setting that never loads (not measured)."""
    if setting.curve is None:
        return " | ".join(["-"] * 7)
    c = setting.curve
    return (" | ".join(f"{c[b]:.2f}" for b in (2, 4, 8, 16)) +
            f" | {setting.exact_batch} | {setting.bound_exact:.2f}x | {setting.bound_fast:.2f}x")


def table(profiles: dict[str, TunedProfile]) -> str:
    """One row per expert, layout and setting: step, cost curve points, exact batch, bounds, perplexity
    loss, chosen; then lookup decoding of the layout chosen."""
    head = ("| expert | layout | setting | step ms | b2 | b4 | b8 | b16 | exact batch | bound exact | bound fast "
            "| perplexity loss | chosen |")
    rows, modes = [head, "|" + "---|" * 13], []
    for expert, p in profiles.items():
        for layout, f in p.files():
            loss = (f"{f.loss:+.1%}" if f.loss is not None else "not measured: slower") if layout else ""
            for name, m in f.settings.items():
                chosen = f"yes, verify {f.verify}" if layout == p.layout and m is f.loaded else ""
                rows.append(f"| {expert} | {layout or 'as is'} | {name} | {m.step_ms:.1f} | {curve_cells(m)} | "
                            f"{loss} | {chosen} |")
        loaded = dict(p.files())[p.layout]
        modes.append(f"{expert}: " + ", ".join(
            f"{m} {s['tok_s']:.1f} tok/s (acceptance {s['acceptance']:.0%}, {s['tokens_per_step']:.2f} tokens/step)"
            for m, s in loaded.modes.items()))
    return "\n".join(rows) + "\n\nLookup decoding, " + "; ".join(modes)


def plot(profiles: dict[str, TunedProfile], path: Path) -> None:
    """Cost curves, one line per expert and file that loads, against the ideal (b tokens for one step)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for expert, p in profiles.items():
        for layout, f in p.files():
            for name, m in ((n, m) for n, m in f.settings.items() if m.curve):  # the settings that load
                sizes = sorted(m.curve)
                ax.plot(sizes, [m.curve[k] for k in sizes], marker="o",
                        label=f"{expert} {layout + ' ' if layout else ''}{name}")
    ax.plot(list(SIZES), list(SIZES), color="grey", linestyle="--", label="b steps (no batching gain)")
    ax.set_xlabel("tokens in one forward (b)")
    ax.set_ylabel("cost in one-token steps")
    ax.set_title(f"Verify cost curves, {os.cpu_count()} CPUs")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def cmd_tune(args: argparse.Namespace) -> int:
    cfg = config_from_args(args)
    threads = args.threads or cfg.threads or default_threads()
    layouts = [check_layout(x.strip(), "--layouts") for x in args.layouts.split(",") if x.strip()]
    profiles = tune(cfg, threads, layouts)
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs, {threads} threads\n")
    print(table(profiles))
    try:
        png = cache_dir() / "tune.png"
        plot(profiles, png)
        drawn = f"; cost curves in {png}"
    except ImportError:
        drawn = " (pip install matplotlib to draw the cost curves)"
    if args.json:
        print(json.dumps({name: p.to_json() for name, p in profiles.items()}))
    print(f"\nprofile written to {cache_dir() / 'profile.json'}{drawn}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("tune", help="measure layout variants, weight settings and verify modes here; write the "
                                    "tuned profile")
    add_config_option(p)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--layouts", default=",".join(LAYOUTS),
                   help="layout variants to make and measure, comma-separated ('' skips them); a variant is "
                        "chosen only when faster and within max_layout_loss perplexity")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_tune)
