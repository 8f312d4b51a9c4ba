"""Decode speed under a JSON schema, in one run on this machine (modes interleaved prompt by prompt,
so a neighbour's load hits them alike), and the grammar mask's cost per step against a 0.5B step.

Modes: unconstrained (free text, same prompt), constrained, constrained + jump-forward, constrained +
jump-forward + drafting (prompt lookup + the 0.5B draft model, exact verify). Prompts and schemas are
the first N of data/structured/schemas.jsonl. Writes a markdown table and a PNG.

    python scripts/bench_structured.py [--target qwen2.5-coder-1.5b-instruct-q4_k_m] [--prompts 6]
(needs matplotlib: pip install matplotlib)
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

from tqdm import tqdm

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
from benchlib import bar_chart, markdown_table  # noqa: E402
from edge_runtime.chat import encode_prompt  # noqa: E402
from edge_runtime.constrain import grammars  # noqa: E402
from edge_runtime.constrain.matcher import Constraint  # noqa: E402
from edge_runtime.models.backends.gguf import GGUFModel  # noqa: E402
from edge_runtime.models.catalog import resolve  # noqa: E402
from edge_runtime.sampling import Sampler, SamplingParams  # noqa: E402
from edge_runtime.speculative.decoder import Decoder  # noqa: E402
from edge_runtime.speculative.drafters import CombinedDrafter, ModelDrafter, PromptLookupDrafter  # noqa: E402

MODES = ["unconstrained", "constrained", "constrained+jf", "constrained+jf+draft"]
OUT = ROOT / "scripts" / "results"


def run(decoder: Decoder, ids: list[int], grammar: grammars.Grammar | None, jump_forward: bool,
        max_tokens: int) -> tuple[float, int, float, int]:
    """(decode seconds, tokens after the first, mask seconds, masks) of one greedy generation."""
    constraint = Constraint(decoder.target, grammar) if grammar else None
    for _ in decoder.generate(ids, max_tokens=max_tokens, constraint=constraint, jump_forward=jump_forward):
        pass
    s = decoder.stats
    return s.decode_s, s.completion_tokens - 1, constraint.mask_s if constraint else 0.0, constraint.masks if constraint else 0


def step_seconds(model: GGUFModel, ids: list[int], steps: int = 24) -> float:
    """The median one-token decode step of `model` after `ids` (what a mask is compared with)."""
    import time

    decoder = Decoder(model)
    times, last = [], time.perf_counter()
    for _ in decoder.generate(ids, max_tokens=steps):
        now = time.perf_counter()
        times.append(now - last)
        last = now
    return statistics.median(times[1:])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--target", default="qwen2.5-coder-1.5b-instruct-q4_k_m")
    ap.add_argument("--draft", default="qwen2.5-coder-0.5b-instruct-q4_k_m")
    ap.add_argument("--prompts", type=int, default=6)
    ap.add_argument("--max-tokens", type=int, default=160)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    target = GGUFModel(resolve(args.target), name="target", n_ctx=2048, n_threads=args.threads)
    small = GGUFModel(resolve(args.draft), name="draft", n_ctx=2048, n_threads=args.threads)
    tasks = [json.loads(line) for line in (ROOT / "data/structured/schemas.jsonl").read_text().splitlines()][:args.prompts]
    drafter = CombinedDrafter(PromptLookupDrafter(), ModelDrafter(small, Sampler(SamplingParams())))
    decoders = {"unconstrained": Decoder(target), "constrained": Decoder(target), "constrained+jf": Decoder(target),
                "constrained+jf+draft": Decoder(target, drafter)}
    totals = {m: [0.0, 0] for m in MODES}
    mask_s, masks = 0.0, 0
    for task in tqdm(tasks, desc="prompts", disable=not sys.stderr.isatty()):
        ids = encode_prompt(target, task["prompt"] + "\nAnswer in JSON.")
        grammar = grammars.json_schema(task["schema"])
        for mode in MODES:
            seconds, tokens, ms, n = run(decoders[mode], ids, None if mode == "unconstrained" else grammar,
                                         "jf" in mode, args.max_tokens)
            totals[mode][0] += seconds
            totals[mode][1] += tokens
            mask_s, masks = mask_s + ms, masks + n
    small_step = step_seconds(small, encode_prompt(small, tasks[0]["prompt"]))
    mask = mask_s / max(1, masks)
    tps = {m: totals[m][1] / totals[m][0] for m in MODES}
    base = tps["constrained"]
    rows = [[m, round(tps[m], 2), round(tps[m] / base, 3)] for m in MODES]
    table = markdown_table(["mode", "tokens/s", "x constrained"], rows)
    summary = (f"mask: {1000 * mask:.3f} ms per step = {100 * mask / small_step:.2f}% of a 0.5B decode step "
               f"({1000 * small_step:.1f} ms), {masks} masks")
    print(f"target {args.target}, {len(tasks)} schemas, greedy, {args.threads} threads\n{table}\n{summary}")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "bench_structured.md").write_text(f"{table}\n\n{summary}\n")
    bar_chart(OUT / "bench_structured.png", [args.target.split("-instruct")[0]], {m: [tps[m]] for m in MODES},
              title="tokens/s under a JSON schema (same run)", ylabel="tokens/s")


if __name__ == "__main__":
    main()
