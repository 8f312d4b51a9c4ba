"""Speculative decoding, side by side in one process: plain, each drafter, and llama.cpp's own
llama-speculative-simple on the same prompts (greedy). Prints a markdown table and draws a PNG.

    .venv/bin/python scripts/bench_speculative.py --out-dir out/
"""
from __future__ import annotations

import argparse
import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
from tqdm import tqdm

from benchlib import ROOT, bar_chart, ensure_llama_tools, llama_bench_tps, llama_speculative, markdown_table, read_records
from edge_runtime.models.backends.base import value_type
from edge_runtime.models.backends.gguf import GGUFModel
from edge_runtime.models.catalog import resolve
from edge_runtime.chat import encode_prompt
from edge_runtime.config import SpeculativeConfig, load_config
from edge_runtime.sampling import Sampler, SamplingParams
from edge_runtime.speculative.costs import speedup_bound, step_seconds, verify_cost_curve
from edge_runtime.speculative.decoder import Decoder
from edge_runtime.speculative.drafters import CombinedDrafter, Drafter, ModelDrafter, PromptLookupDrafter
from edge_runtime.speculative.policy import VerifyCost

LLAMA_METHODS = {"llama.cpp ngram-simple": dict(spec_type="ngram-simple"),
                 "llama.cpp ngram-map-k": dict(spec_type="ngram-map-k"),
                 "llama.cpp draft 0.5B": dict(spec_type="draft-simple", draft=True, draft_max=3)}


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--prompts", default=str(ROOT / "scripts" / "prompts" / "speculative.jsonl"))
    ap.add_argument("--expert", default="code")
    ap.add_argument("--max-tokens", type=int, default=256)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--methods", default="plain,lookup,model,lookup+model")
    ap.add_argument("--modes", default="exact,fast", help="verify modes each drafter runs in")
    ap.add_argument("--repack", action="store_true", help="repacked weights (loaded with mmap off)")
    ap.add_argument("--target", default="", help="a GGUF to bench instead of the expert's file (a layout variant)")
    ap.add_argument("--no-llama", action="store_true", help="skip llama.cpp's own tools")
    ap.add_argument("--llama-methods", default=",".join(LLAMA_METHODS), help="which of llama.cpp's to run")
    ap.add_argument("--kinds", default="", help="only these prompt kinds, comma-separated")
    ap.add_argument("--limit", type=int, default=0, help="only the first N prompts")
    ap.add_argument("--out-dir", default=str(ROOT / "out"))
    args = ap.parse_args()
    args.prompt_records = read_records(args.prompts)
    if args.kinds:
        args.prompt_records = [p for p in args.prompt_records if p["kind"] in args.kinds.split(",")]
    args.prompt_records = args.prompt_records[:args.limit] if args.limit else args.prompt_records
    if not args.prompt_records:
        ap.error(f"no prompt of kind {args.kinds!r} in {args.prompts}")
    return args


@dataclass
class Bench:
    """The models under test and running totals per (method, prompt kind): tokens, seconds, drafted,
    accepted, steps, and whether the output equalled plain decoding's (1, 0; -1: not ours to check)."""

    args: argparse.Namespace
    target: GGUFModel
    draft: GGUFModel
    target_path: Path
    draft_path: Path
    agg: dict[tuple[str, str], list[float]] = field(default_factory=lambda: defaultdict(lambda: [0, 0.0, 0, 0, 0, 1]))
    costs: dict[str, list[float]] = field(default_factory=lambda: {"target": [], "draft": []})
    prompt_tokens: list[int] = field(default_factory=list)

    def tps(self, method: str, kinds: list[str]) -> float:
        tok = sum(self.agg[(method, k)][0] for k in kinds)
        sec = sum(self.agg[(method, k)][1] for k in kinds)
        return tok / sec if sec else 0.0


def load_models(args: argparse.Namespace, exp_model: str, exp_draft: str, name: str) -> Bench:
    target_path, draft_path = Path(args.target) if args.target else resolve(exp_model), resolve(exp_draft)
    target = GGUFModel(target_path, name=name, n_ctx=4096, n_threads=args.threads, repack=args.repack,
                       use_mmap=not args.repack)
    draft = GGUFModel(draft_path, name="draft", n_ctx=4096, n_threads=args.threads)
    return Bench(args, target, draft, target_path, draft_path)


def drafter_factories(draft: GGUFModel, spec: SpeculativeConfig) -> dict[str, Callable[[], Drafter | None]]:
    greedy = Sampler(SamplingParams())
    return {
        "plain": lambda: None,
        "lookup": lambda: PromptLookupDrafter(spec.ngram_max, spec.ngram_min),
        "model": lambda: ModelDrafter(draft, greedy, spec.p_min),
        "lookup+model": lambda: CombinedDrafter(PromptLookupDrafter(spec.ngram_max, spec.ngram_min),
                                                ModelDrafter(draft, greedy, spec.p_min)),
    }


def run_ours(bench: Bench, record: dict, ids: list[int], decoders: dict[str, tuple[Decoder, Callable, str]]) -> None:
    """Every method of ours on one prompt; each one's output is compared with the first's (plain)."""
    reference: list[int] | None = None
    for method, (decoder, make_drafter, verify) in decoders.items():
        decoder.drafter = make_drafter()
        out = [t for step in decoder.generate(ids, max_tokens=bench.args.max_tokens, verify=verify) for t in step]
        reference = out if reference is None else reference
        s, a = decoder.stats, bench.agg[(method, record["kind"])]
        a[0] += s.completion_tokens - 1
        a[1] += s.decode_s
        a[2] += s.drafted
        a[3] += s.accepted
        a[4] += s.steps
        a[5] = a[5] and int(out == reference)
        bench.target.truncate(0)


def run_llama(bench: Bench, record: dict, ids: list[int], llama: dict[str, dict]) -> None:
    """llama.cpp's own speculative decoding on the same rendered prompt."""
    rendered = bench.target.detokenize(ids).decode("utf-8", "replace")
    for name, opts in llama.items():
        r = llama_speculative(bench.target_path, rendered, n_gen=bench.args.max_tokens, threads=bench.args.threads,
                              spec_type=opts.get("spec_type"), draft=bench.draft_path if opts.get("draft") else None,
                              draft_max=opts.get("draft_max"))
        a = bench.agg[(name, record["kind"])]
        a[0] += r["decoded"]
        a[1] += r["decoded"] / r["tokens_per_s"]
        a[2] += r["drafted"]
        a[3] += r["accepted"]
        a[5] = -1


def summary_rows(bench: Bench, methods: list[str], kinds: list[str], best_llama: float) -> list[list]:
    rows = []
    for method in methods:
        for kind in kinds + ["all"]:
            ks = kinds if kind == "all" else [kind]
            drafted, accepted, steps, tokens = (sum(bench.agg[(method, k)][i] for k in ks) for i in (2, 3, 4, 0))
            exact = min(bench.agg[(method, k)][5] for k in ks)
            rows.append([method, kind, bench.tps(method, ks), bench.tps(method, ks) / bench.tps("plain", ks),
                         f"{bench.tps(method, ks) / best_llama:.2f}" if best_llama and kind == "all" else "-",
                         f"{accepted / drafted:.0%}" if drafted else "-",
                         f"{tokens / steps:.2f}" if steps else "-",
                         {1: "yes", 0: "NO", -1: "n/a"}[exact]])
    return rows


def header(bench: Bench, draft_name: str, curve: dict[int, float], kinds: list[str], llama: bool) -> str:
    """The setup, the verify cost curve and its ceilings, and llama-bench's plain speed next to ours."""
    args, target = bench.args, bench.target
    exact_batch = target.exact_batch
    c = float(np.mean(bench.costs["draft"]) / np.mean(bench.costs["target"]))
    text = (f"Target {bench.target_path.name} ({'repacked, mmap off' if args.repack else 'plain layout'}, "
            f"{args.threads} threads, greedy, max {args.max_tokens} tokens, load average {os.getloadavg()[0]:.1f}, "
            f"{len(args.prompt_records)} prompts); draft {draft_name}: step cost c = {c:.2f} of a target step.")
    text += ("\nVerify batch cost in one-token steps: "
             + ", ".join(f"b{size} {cost:.2f}" for size, cost in curve.items())
             + f"; bit-exact up to b{exact_batch} (measured), so drafts that are always right give at most "
             f"{speedup_bound(curve, exact_batch):.2f}x in exact mode and {speedup_bound(curve, max(curve)):.2f}x "
             f"in fast mode (b <= {max(curve)}).")
    if not llama:
        return text
    depth = round(float(np.mean(bench.prompt_tokens)))  # where our replies start decoding
    v_cache = value_type(target.kv_type)
    bench_tps = {d: llama_bench_tps(bench.target_path, n_gen=args.max_tokens, threads=args.threads, depth=d,
                                    v_cache=v_cache) for d in (0, depth)}
    ours = bench.tps("plain", kinds)
    return text + (f"\nllama-bench -n {args.max_tokens} -ctv {v_cache} plain decode: "
                   f"{bench_tps[0]:.1f} tok/s from an empty cache, {bench_tps[depth]:.1f} tok/s at -d {depth} (the "
                   f"prompts' mean length); our plain: {ours:.1f} tok/s (ratio {ours / bench_tps[0]:.3f} and "
                   f"{ours / bench_tps[depth]:.3f}).")


def write_outputs(bench: Bench, text: str, methods: list[str], kinds: list[str]) -> None:
    out = Path(bench.args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_speculative.md").write_text(text + "\n")
    bar_chart(out / "bench_speculative.png", kinds + ["all"],
              {m: [bench.tps(m, kinds if k == "all" else [k]) / bench.tps("plain", kinds if k == "all" else [k])
                   for k in kinds + ["all"]] for m in methods if m != "plain"},
              title=f"Speculative decoding vs plain ({bench.target_path.name}, {bench.args.threads} threads)",
              ylabel="tokens/s relative to our plain decoding", hline=1.0)
    print(f"\nwrote {out / 'bench_speculative.md'} and {out / 'bench_speculative.png'}")


def main() -> None:
    args = parse_args()
    cfg = load_config()
    exp, spec = cfg.expert(args.expert), cfg.speculative
    bench = load_models(args, exp.model, exp.draft, exp.name)
    factories = drafter_factories(bench.draft, spec)
    runs = [("plain", "exact")] + [(m, v) for m in args.methods.split(",") if m != "plain"
                                   for v in args.modes.split(",")]
    llama = {} if args.no_llama else {k: LLAMA_METHODS[k] for k in args.llama_methods.split(",")}
    if llama:
        ensure_llama_tools()
    first = encode_prompt(bench.target, args.prompt_records[0]["prompt"])
    curve, step = verify_cost_curve(bench.target, first, range(1, 18)), step_seconds(bench.target, first)
    # one decoder per method for all prompts, starting from the measured curve, as a tuned runtime's does
    decoders = {m if m == "plain" else f"{m} {v}": (
        Decoder(bench.target, max_draft=spec.max_draft, min_draft=spec.min_draft, fast_max_draft=spec.fast_max_draft,
                cost=VerifyCost.measured(curve, step)), factories[m], v) for m, v in runs}
    for record in tqdm(args.prompt_records, desc="prompts", unit="prompt"):
        ids = encode_prompt(bench.target, record["prompt"])
        bench.prompt_tokens.append(len(ids))
        bench.costs["target"].append(step_seconds(bench.target, ids))
        bench.costs["draft"].append(step_seconds(bench.draft, ids))
        run_ours(bench, record, ids, decoders)
        run_llama(bench, record, ids, llama)
    kinds = list(dict.fromkeys(p["kind"] for p in args.prompt_records))
    methods = list(decoders) + list(llama)
    best_llama = max((bench.tps(m, kinds) for m in llama), default=0.0)
    table = markdown_table(["method", "prompts", "tok/s", "vs plain", "vs llama.cpp best", "acceptance", "tokens/step",
                            "= plain output"], summary_rows(bench, methods, kinds, best_llama))
    text = header(bench, exp.draft, curve, kinds, bool(llama)) + "\n\n" + table
    print(text)
    write_outputs(bench, text, methods, kinds)


if __name__ == "__main__":
    main()
