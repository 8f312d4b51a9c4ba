"""Where lookup decoding can pay, and how much of it the runtime takes.

Records the code expert's greedy replies to the project's code prompts here (timed: plain tok/s), measures
this machine's verify cost curve where those replies decode, then replays every reply under that curve and
under curves measured elsewhere (`--curves`: bench_gpu.py's JSON), with the runtime's draft policy and with
an oracle that verifies exactly the drafted tokens that will be accepted (the bound for any policy with
this drafter). A timed lookup run in fast mode here checks the prediction against the clock.

    .venv/bin/python scripts/replay_speculative.py --repack --curves scripts/results/gpu_h200.json --out-dir out/replay
"""
from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from tqdm import tqdm

from benchlib import ROOT, bar_chart, markdown_table, read_records
from gpu_report import relative
from edge_runtime.models.backends.gguf import GGUFModel
from edge_runtime.models.catalog import resolve
from edge_runtime.chat import encode_prompt
from edge_runtime.config import SpeculativeConfig, load_config
from edge_runtime.speculative.costs import step_seconds, verify_cost_curve
from edge_runtime.speculative.decoder import Decoder
from edge_runtime.speculative.drafters import PromptLookupDrafter
from edge_runtime.speculative.policy import VerifyCost
from edge_runtime.speculative.replay import Replay, replay

CURVE_SIZES = [*range(1, 18), 20, 24, 32, 48, 64]


def decode(decoder: Decoder, ids: list[int], max_tokens: int) -> tuple[list[int], float]:
    """The greedy reply and its decode tokens/s (after the first token)."""
    out = [t for step in decoder.generate(ids, max_tokens=max_tokens, verify="fast") for t in step]
    decoder.target.truncate(0)
    return out, (len(out) - 1) / decoder.stats.decode_s


def other_curves(paths: list[str], model: str) -> dict[str, dict[int, float]]:
    """Relative cost curves of `model`'s shape from bench_gpu.py results (seconds per batch size)."""
    curves = {}
    for path in paths:
        data = json.loads(Path(path).read_text())
        curves[data.get("device", Path(path).stem)] = relative(data["curves_s"][model])
    return curves


def record(args: argparse.Namespace, spec: SpeculativeConfig) -> tuple[list[dict], dict[int, float], str]:
    """The code expert's replies (plain tok/s twice, ABAB with a timed lookup run) and this CPU's curve."""
    path = resolve(load_config().expert(args.expert).model)
    target = GGUFModel(path, name=args.expert, n_ctx=4096, n_threads=args.threads, repack=args.repack,
                       use_mmap=not args.repack)
    prompts = read_records(args.prompts)
    plain = Decoder(target, None)
    records = []
    for p in tqdm([p for p in prompts if p["kind"] in args.kinds.split(",")], desc="record", unit="prompt"):
        ids = encode_prompt(target, p["prompt"])
        reply, tps = decode(plain, ids, args.max_tokens)
        records.append({"kind": p["kind"], "ids": ids, "reply": reply, "plain_tps": [tps]})
    longest = max(records, key=lambda r: len(r["reply"]))
    where = longest["ids"] + longest["reply"]  # the curve is timed where replies decode, not at the prompt
    curve = verify_cost_curve(target, where, CURVE_SIZES, reps=3)
    step = step_seconds(target, where[:len(where) - max(CURVE_SIZES)])
    lookup = Decoder(target, PromptLookupDrafter(spec.ngram_max, spec.ngram_min), max_draft=spec.max_draft,
                     fast_max_draft=spec.fast_max_draft, cost=VerifyCost.measured(curve, step))
    for r in tqdm(records, desc="timed lookup, plain", unit="prompt"):
        out, r["lookup_tps"] = decode(lookup, r["ids"], args.max_tokens)
        r["lookup_same"] = out == r["reply"]
        r["plain_tps"].append(decode(plain, r["ids"], args.max_tokens)[1])  # ABAB against drift
    setup = (f"{path.name} ({'repacked, mmap off' if args.repack else 'as is'}, {args.threads} threads), greedy, "
             f"max {args.max_tokens} tokens")
    return records, curve, setup


def short(machine: str) -> str:
    """A chart label: "Intel(R) Xeon(R) Processor, 16 threads" -> "Xeon, 16 threads"."""
    return re.sub(r"\(R\)|\(TM\)|Intel |AMD | Processor| CPU(?=,)", "", machine).replace(", ", "\n")


def timed_ratio(records: list[dict]) -> str:
    """Lookup (fast mode) against plain decoding, as timed here, over these replies."""
    tokens = sum(len(r["reply"]) - 1 for r in records)
    plain_s = sum((len(r["reply"]) - 1) * 2 / sum(r["plain_tps"]) for r in records)
    lookup_s = sum((len(r["reply"]) - 1) / r["lookup_tps"] for r in records)
    return f"{plain_s / lookup_s:.2f}x ({tokens / plain_s:.1f} tok/s plain)"


def replay_all(records: list[dict], curve: dict[int, float], spec: SpeculativeConfig, oracle: bool) -> Replay:
    """Every reply replayed under `curve`, summed."""
    return sum((replay(r["ids"], r["reply"], PromptLookupDrafter(spec.ngram_max, spec.ngram_min), curve,
                       max_draft=spec.fast_max_draft, oracle=oracle) for r in records), Replay(0, 0, 0.0))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--prompts", default=str(ROOT / "scripts" / "prompts" / "speculative.jsonl"))
    ap.add_argument("--kinds", default="code-edit,code-complete")
    ap.add_argument("--expert", default="code")
    ap.add_argument("--max-tokens", type=int, default=256)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repack", action="store_true", help="repacked weights (loaded with mmap off)")
    ap.add_argument("--replies", default="", help="a replies.json this script wrote: replay it, decode nothing")
    ap.add_argument("--curves", nargs="*", default=[], help="bench_gpu.py / bench_cpu_curves.py JSON to replay under")
    ap.add_argument("--curve-model", default="qwen2.5-1.5b", help="the shape in those results to use")
    ap.add_argument("--out-dir", default=str(ROOT / "out" / "replay"))
    args = ap.parse_args()
    spec = load_config().speculative
    if args.replies:
        saved = json.loads(Path(args.replies).read_text())
        records, curve, setup = saved["records"], {int(k): v for k, v in saved["curve"].items()}, saved["setup"]
    else:
        records, curve, setup = record(args, spec)

    kinds = list(dict.fromkeys(r["kind"] for r in records))
    machines = {"this CPU": curve, **other_curves(args.curves, args.curve_model)}
    rows, chart = [], {}
    for machine, c in machines.items():
        for kind in kinds:
            mine = [r for r in records if r["kind"] == kind]
            oracle, policy = replay_all(mine, c, spec, True), replay_all(mine, c, spec, False)
            rows.append([machine, kind, f"{oracle.tokens_per_step:.2f}", f"{oracle.speedup:.2f}x",
                         f"{policy.speedup:.2f}x", timed_ratio(mine) if machine == "this CPU" else "-"])
            chart.setdefault("free batches (any machine)", []).append(oracle.tokens_per_step)
            chart.setdefault("oracle (any policy, this drafter)", []).append(oracle.speedup)
            chart.setdefault("runtime policy (predicted)", []).append(policy.speedup)
    table = markdown_table(["machine (cost curve)", "prompts", "tokens/step, oracle", "oracle",
                            "runtime policy, predicted", "runtime, timed here"], rows)
    header = (f"{setup}, {len(records)} prompts, lookup drafts in fast mode (up to {spec.fast_max_draft}); timed "
              f"output identical to plain: {sum(r['lookup_same'] for r in records)}/{len(records)}.\n"
              "This CPU's verify cost curve (one-token steps), timed where the replies decode: "
              + ", ".join(f"b{k} {v:.2f}" for k, v in curve.items()))
    print(header + "\n\n" + table)
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "replay_speculative.md").write_text(header + "\n\n" + table + "\n")
    (out / "replies.json").write_text(json.dumps({"setup": setup, "curve": curve, "records": records}))
    bar_chart(out / "replay_speculative.png", [f"{short(m)}\n{k}" for m in machines for k in kinds], chart,
              title="Lookup decoding of the 1.5B's real replies: the bound and the runtime's policy",
              ylabel="speed-up over plain decoding", hline=1.0)
    print(f"\nwrote {out / 'replay_speculative.md'}, .png and replies.json")


if __name__ == "__main__":
    main()
