"""What a user gets with no flags and no `tune`: the default path against the tuned one, the path before
the first-load probe (the config's settings as they are), and llama.cpp's own llama-bench on the same
file; then `--draft auto` against `--draft none` per prompt kind. One run, interleaved (A B C A B C ...)
so that drift of a shared machine hits every setting alike. Prints markdown tables, draws a PNG.

    .venv/bin/python scripts/bench_defaults.py --out-dir out/defaults

Each setting gets an EDGE_RUNTIME_HOME of its own (the models directory linked in): "untuned" starts
empty, so its first load runs the probe, as a new user's does; "tuned" runs `tune` first.
"""
from __future__ import annotations

import argparse
import json
import os
import tempfile
from dataclasses import replace
from pathlib import Path
from statistics import median

from tqdm import tqdm

from benchlib import ROOT, bar_chart, ensure_llama_tools, llama_bench_tps, markdown_table
from edge_runtime.config import Config, load_config
from edge_runtime.models.catalog import models_dir, resolve
from edge_runtime.runtime import Runtime
from edge_runtime.tuning.tune import tune

PROMPTS = ROOT / "scripts" / "prompts" / "speculative.jsonl"


def home_with_models(root: Path, name: str) -> Path:
    """An empty EDGE_RUNTIME_HOME that shares the models directory (no copy, no download)."""
    home = root / name
    home.mkdir()
    (home / "models").symlink_to(models_dir())
    return home


class Setting:
    """One way of running the default team, in its own home, kept loaded across prompts."""

    def __init__(self, name: str, home: Path, cfg: Config, threads: int) -> None:
        self.name, self.home, self.cfg, self.threads = name, home, cfg, threads
        self.runtime: Runtime | None = None
        self.rates: dict[str, list[float]] = {}

    def run(self, prompt: str, kind: str, draft: str, max_tokens: int) -> None:
        os.environ["EDGE_RUNTIME_HOME"] = str(self.home)
        if self.runtime is None:
            self.runtime = Runtime(self.cfg, threads=self.threads)
        result = self.runtime.generate(prompt, expert="code", draft=draft, max_tokens=max_tokens)
        self.rates.setdefault(kind, []).append(result.stats.tokens_per_s)

    def close(self) -> None:
        if self.runtime is not None:
            self.runtime.close()


def load_prompts(kinds: list[str], per_kind: int) -> list[tuple[str, str]]:
    rows = [json.loads(line) for line in PROMPTS.read_text().splitlines() if line.strip()]
    picked = []
    for kind in kinds:
        picked += [(r["kind"], r["prompt"]) for r in rows if r["kind"] == kind][:per_kind]
    return picked


def interleave(settings: list[Setting], prompts: list[tuple[str, str]], drafts: list[str], max_tokens: int,
               desc: str) -> None:
    with tqdm(total=len(prompts) * len(settings), desc=desc, unit="reply") as bar:
        for kind, prompt in prompts:
            for setting, draft in zip(settings, drafts):
                setting.run(prompt, kind, draft, max_tokens)
                bar.update(1)


def decode_table(settings: list[Setting], llama: float | None) -> tuple[str, dict[str, float]]:
    rates = {s.name: median(r for rs in s.rates.values() for r in rs) for s in settings}
    if llama is not None:
        rates["llama-bench tg (same file)"] = llama
    tuned = rates["tuned (after edge-runtime tune)"]
    rows = [(name, rate, rate / tuned, rate / llama if llama else "-") for name, rate in rates.items()]
    return markdown_table(["setting (--draft none)", "tok/s (median)", "vs tuned", "vs llama-bench"], rows), rates


def draft_table(auto: Setting, none: Setting) -> tuple[str, dict[str, float]]:
    ratios = {kind: median(auto.rates[kind]) / median(none.rates[kind]) for kind in auto.rates}
    rows = [(kind, median(none.rates[kind]), median(auto.rates[kind]), ratios[kind]) for kind in ratios]
    return markdown_table(["prompt kind", "--draft none tok/s", "--draft auto tok/s", "auto / none"], rows), ratios


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-tokens", type=int, default=128)
    ap.add_argument("--per-kind", type=int, default=4, help="prompts of each kind")
    ap.add_argument("--kinds", default="code-edit,code-complete,qa,writing")
    ap.add_argument("--no-llama", action="store_true", help="skip llama-bench (it is built on first use)")
    ap.add_argument("--out-dir", default=str(ROOT / "out" / "defaults"))
    args = ap.parse_args()
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cfg = load_config()
    prompts = load_prompts(args.kinds.split(","), args.per_kind)
    model = resolve(cfg.expert("code").model)  # before EDGE_RUNTIME_HOME points at the settings' homes
    llama = None if args.no_llama else (ensure_llama_tools() and llama_bench_tps(
        model, n_gen=args.max_tokens, threads=args.threads, v_cache=cfg.kv_type))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        tuned_home = home_with_models(root, "tuned")
        os.environ["EDGE_RUNTIME_HOME"] = str(tuned_home)
        tune(replace(cfg, experts={"code": cfg.expert("code")}), args.threads, layouts=[])
        settings = [Setting("untuned default (first-load probe)", home_with_models(root, "untuned"), cfg, args.threads),
                    Setting("tuned (after edge-runtime tune)", tuned_home, cfg, args.threads),
                    Setting("config as is (tuned = false)", home_with_models(root, "plain"),
                            replace(cfg, tuned=False), args.threads)]
        code = [p for p in prompts if p[0].startswith("code")]
        interleave(settings, code, ["none"] * 3, args.max_tokens, "decode")
        for s in settings:
            s.close()
        auto, none = (Setting(name, settings[0].home, cfg, args.threads) for name in ("auto", "none"))
        interleave([auto, none], prompts, ["auto", "none"], args.max_tokens, "draft auto/none")
        auto.close(), none.close()
    table1, rates = decode_table(settings, llama)
    table2, ratios = draft_table(auto, none)
    report = f"{os.cpu_count()} CPUs, {args.threads} threads, {args.max_tokens} tokens\n\n{table1}\n\n{table2}\n"
    print(report)
    (out / "bench_defaults.md").write_text(report)
    try:
        bar_chart(out / "bench_defaults.png", list(rates), {"tok/s": list(rates.values())},
                  title="Code expert, --draft none: default path vs tuned vs llama-bench", ylabel="tokens/s")
        bar_chart(out / "bench_defaults_draft.png", list(ratios), {"auto / none": list(ratios.values())},
                  title="--draft auto against --draft none", ylabel="speed ratio", hline=1.0)
    except ImportError:
        print("matplotlib is missing: pip install -e '.[bench]' to draw the charts")


if __name__ == "__main__":
    main()
