"""Speculative decoding, side by side in one process: plain, each drafter, and llama.cpp's own
llama-speculative-simple on the same prompts (greedy). Prints a markdown table and draws a PNG.

    .venv/bin/python scripts/bench_speculative.py --out-dir out/
"""
from __future__ import annotations

import argparse
import json
import os
from collections import defaultdict
from pathlib import Path
from typing import Callable

import numpy as np
from tqdm import tqdm

from benchlib import ROOT, bar_chart, ensure_llama_tools, llama_bench_tps, llama_speculative, markdown_table
from edge_runtime.models.backends.base import value_type
from edge_runtime.models.backends.gguf import GGUFModel
from edge_runtime.models.catalog import resolve
from edge_runtime.chat import encode_prompt
from edge_runtime.config import load_config
from edge_runtime.sampling import Sampler, SamplingParams
from edge_runtime.speculative.costs import speedup_bound, step_seconds, verify_cost_curve
from edge_runtime.speculative.decoder import Decoder
from edge_runtime.speculative.drafters import CombinedDrafter, Drafter, ModelDrafter, PromptLookupDrafter
from edge_runtime.speculative.policy import VerifyCost

LLAMA_METHODS = {"llama.cpp ngram-simple": dict(spec_type="ngram-simple"),
                 "llama.cpp ngram-map-k": dict(spec_type="ngram-map-k"),
                 "llama.cpp draft 0.5B": dict(spec_type="draft-simple", draft=True, draft_max=3)}


def main() -> None:
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

    cfg = load_config()
    exp = cfg.expert(args.expert)
    spec = cfg.speculative
    target_path, draft_path = Path(args.target) if args.target else resolve(exp.model), resolve(exp.draft)
    target = GGUFModel(target_path, name=exp.name, n_ctx=4096, n_threads=args.threads, repack=args.repack,
                       use_mmap=not args.repack)
    draft = GGUFModel(draft_path, name="draft", n_ctx=4096, n_threads=args.threads)
    greedy = Sampler(SamplingParams())
    factories: dict[str, Callable[[], Drafter | None]] = {
        "plain": lambda: None,
        "lookup": lambda: PromptLookupDrafter(spec.ngram_max, spec.ngram_min),
        "model": lambda: ModelDrafter(draft, greedy, spec.p_min),
        "lookup+model": lambda: CombinedDrafter(PromptLookupDrafter(spec.ngram_max, spec.ngram_min),
                                                ModelDrafter(draft, greedy, spec.p_min)),
    }
    runs = [("plain", "exact")] + [(m, v) for m in args.methods.split(",") if m != "plain"
                                   for v in args.modes.split(",")]
    methods = [m if m == "plain" else f"{m} {v}" for m, v in runs]
    prompts = [json.loads(line) for line in Path(args.prompts).read_text().splitlines() if line.strip()]
    if args.kinds:
        prompts = [p for p in prompts if p["kind"] in args.kinds.split(",")]
    prompts = prompts[:args.limit] if args.limit else prompts
    if not prompts:
        ap.error(f"no prompt of kind {args.kinds!r} in {args.prompts}")
    llama = {} if args.no_llama else {k: LLAMA_METHODS[k] for k in args.llama_methods.split(",")}
    if llama:
        ensure_llama_tools()

    # per (method, kind): tokens, seconds, drafted, accepted, steps, exact
    agg: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0, 0.0, 0, 0, 0, 1])
    costs = {"target": [], "draft": []}
    first = encode_prompt(target, prompts[0]["prompt"])
    curve, step = verify_cost_curve(target, first, range(1, 18)), step_seconds(target, first)
    # one decoder per method for all prompts, starting from the measured curve, as a tuned runtime's does
    decoders = {method: Decoder(target, max_draft=spec.max_draft, min_draft=spec.min_draft,
                                fast_max_draft=spec.fast_max_draft, cost=VerifyCost.measured(curve, step))
                for method in methods}
    prompt_tokens = []
    for record in tqdm(prompts, desc="prompts", unit="prompt"):
        kind, ids = record["kind"], encode_prompt(target, record["prompt"])
        prompt_tokens.append(len(ids))
        costs["target"].append(step_seconds(target, ids))
        costs["draft"].append(step_seconds(draft, ids))
        reference: list[int] | None = None
        for method, (drafter, verify) in zip(methods, runs):
            decoder = decoders[method]
            decoder.drafter = factories[drafter]()
            out = [t for step in decoder.generate(ids, max_tokens=args.max_tokens, verify=verify) for t in step]
            reference = out if reference is None else reference
            s, a = decoder.stats, agg[(method, kind)]
            a[0] += s.completion_tokens - 1
            a[1] += s.decode_s
            a[2] += s.drafted
            a[3] += s.accepted
            a[4] += s.steps
            a[5] = a[5] and int(out == reference)
            target.truncate(0)
        rendered = target.detokenize(ids).decode("utf-8", "replace")
        for name, opts in llama.items():
            r = llama_speculative(target_path, rendered, n_gen=args.max_tokens, threads=args.threads,
                                  spec_type=opts.get("spec_type"), draft=draft_path if opts.get("draft") else None,
                                  draft_max=opts.get("draft_max"))
            a = agg[(name, kind)]
            a[0] += r["decoded"]
            a[1] += r["decoded"] / r["tokens_per_s"]
            a[2] += r["drafted"]
            a[3] += r["accepted"]
            a[5] = -1

    exact_batch = target.exact_batch
    ceiling, fast_ceiling = speedup_bound(curve, exact_batch), speedup_bound(curve, max(curve))
    kinds = list(dict.fromkeys(p["kind"] for p in prompts))
    all_methods = methods + list(llama)
    depth = round(float(np.mean(prompt_tokens)))  # where our replies start decoding
    bench_tps = {d: llama_bench_tps(target_path, n_gen=args.max_tokens, threads=args.threads, depth=d,
                                    v_cache=value_type(target.kv_type)) for d in (0, depth)} if llama else None
    c = float(np.mean(costs["draft"]) / np.mean(costs["target"]))

    def tps(method: str, kinds_: list[str]) -> float:
        tok = sum(agg[(method, k)][0] for k in kinds_)
        sec = sum(agg[(method, k)][1] for k in kinds_)
        return tok / sec if sec else 0.0

    best_llama = max((tps(m, kinds) for m in llama), default=0.0)
    rows = []
    for method in all_methods:
        for kind in kinds + ["all"]:
            ks = kinds if kind == "all" else [kind]
            drafted = sum(agg[(method, k)][2] for k in ks)
            accepted = sum(agg[(method, k)][3] for k in ks)
            steps = sum(agg[(method, k)][4] for k in ks)
            tokens = sum(agg[(method, k)][0] for k in ks)
            exact = min(agg[(method, k)][5] for k in ks)
            rows.append([method, kind, tps(method, ks), tps(method, ks) / tps("plain", ks),
                         f"{tps(method, ks) / best_llama:.2f}" if best_llama and kind == "all" else "-",
                         f"{accepted / drafted:.0%}" if drafted else "-",
                         f"{tokens / steps:.2f}" if steps else "-",
                         {1: "yes", 0: "NO", -1: "n/a"}[exact]])
    table = markdown_table(["method", "prompts", "tok/s", "vs plain", "vs llama.cpp best", "acceptance", "tokens/step",
                            "= plain output"], rows)
    header = (f"Target {target_path.name} ({'repacked, mmap off' if args.repack else 'plain layout'}, {args.threads} threads, "
              f"greedy, max {args.max_tokens} tokens, load average {os.getloadavg()[0]:.1f}, "
              f"{len(prompts)} prompts); draft {exp.draft}: step cost c = {c:.2f} of a target step.")
    header += ("\nVerify batch cost in one-token steps: "
               + ", ".join(f"b{size} {cost:.2f}" for size, cost in curve.items())
               + f"; bit-exact up to b{exact_batch} (measured), so drafts that are always right give at most "
               f"{ceiling:.2f}x in exact mode and {fast_ceiling:.2f}x in fast mode (b <= {max(curve)}).")
    if bench_tps:
        ours = tps("plain", kinds)
        header += (f"\nllama-bench -n {args.max_tokens} -ctv {value_type(target.kv_type)} plain decode: "
                   f"{bench_tps[0]:.1f} tok/s from an empty cache, {bench_tps[depth]:.1f} tok/s at -d {depth} (the "
                   f"prompts' mean length); our plain: {ours:.1f} tok/s (ratio {ours / bench_tps[0]:.3f} and "
                   f"{ours / bench_tps[depth]:.3f}).")
    print(header + "\n\n" + table)
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_speculative.md").write_text(header + "\n\n" + table + "\n")
    bar_chart(out / "bench_speculative.png", kinds + ["all"],
              {m: [tps(m, kinds if k == "all" else [k]) / tps("plain", kinds if k == "all" else [k])
                   for k in kinds + ["all"]] for m in all_methods if m != "plain"},
              title=f"Speculative decoding vs plain ({target_path.name}, {args.threads} threads)",
              ylabel="tokens/s relative to our plain decoding", hline=1.0)
    print(f"\nwrote {out / 'bench_speculative.md'} and {out / 'bench_speculative.png'}")


if __name__ == "__main__":
    main()
