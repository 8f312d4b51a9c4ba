"""Everyday prose (issue 27): each expert alone, `auto`, and each mechanism on and off, on data/prose/ (sets
written for this project before any tuning; provenance in each file).

Two steps, so scoring never costs a model run:
- `run` asks the runtime (its public API: `Runtime(config).generate`) every prompt of both sets and appends
  the replies, with seconds and tokens, to OUT/replies.jsonl under a label; a label already there is resumed.
- `report` scores every recorded reply with the runtime's own checks (`edge_runtime.evidence.shapes`: the
  shape extracted from the prompt, loops and echoes; `edge_runtime.language.japanese` for Japanese replies),
  simulates cascades from the recorded singles (quality against cost), and writes a table and a PNG.

    nice .venv/bin/python scripts/bench_prose.py run --label code --expert code --repeat-penalty 1.0
    nice .venv/bin/python scripts/bench_prose.py run --label auto                  # the default config
    .venv/bin/python scripts/bench_prose.py report                                 # docs table + PNG

Pass rates are of all prompts of a set; seconds per reply is wall time per prompt including prefill,
measured on whatever else the machine runs, so compare rows of one run only.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from tqdm import tqdm

from benchlib import ROOT
from edge_runtime.config import Config, load_config
from edge_runtime.runtime import Runtime
from edge_runtime.sampling import SamplingParams

SETS = {"shapes": ROOT / "data" / "prose" / "shapes.json", "japanese": ROOT / "data" / "prose" / "japanese.json"}
OUT = ROOT / "scripts" / "results" / "prose"


def load_set(name: str) -> dict[str, Any]:
    return json.loads(SETS[name].read_text("utf-8"))


def recorded(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]


def params_for(args: argparse.Namespace) -> SamplingParams | None:
    """None leaves decoding to the config's defaults; a penalty given pins greedy with that penalty."""
    if args.repeat_penalty is None:
        return None
    return SamplingParams(repeat_penalty=args.repeat_penalty)


def configured(args: argparse.Namespace) -> Config:
    """The packaged config (or --config's) with the mechanisms switched as asked."""
    cfg = load_config(args.config)
    if args.japanese_mask is not None:
        cfg = replace(cfg, sampling=replace(cfg.sampling, japanese_mask=args.japanese_mask == "on"))
    if args.dry is not None:
        cfg = replace(cfg, sampling=replace(cfg.sampling, dry_multiplier=args.dry))
    if args.shape_guide is not None:
        cfg = replace(cfg, sampling=replace(cfg.sampling, shape_guide=args.shape_guide == "on"))
    if args.cascade is not None:
        cfg = replace(cfg, cascade=[] if args.cascade == "none" else args.cascade.split(","))
    return cfg


def run(args: argparse.Namespace) -> None:
    out = Path(args.out_dir) / "replies.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    done = {(r["label"], r["id"]) for r in recorded(out)}
    runtime = Runtime(configured(args), threads=args.threads)
    prompts = [(name, p, args.max_tokens or load_set(name)["max_tokens"])
               for name in args.sets for p in load_set(name)["prompts"][::args.every]]
    todo = [(s, p, m) for s, p, m in prompts if (args.label, p["id"]) not in done
            and (not args.ids or p["id"] in args.ids.split(","))][:args.limit]
    with out.open("a", encoding="utf-8") as sink:
        for set_name, prompt, max_tokens in tqdm(todo, desc=args.label, disable=not sys.stderr.isatty()):
            started = time.perf_counter()
            result = runtime.generate(prompt["prompt"], expert=args.expert, max_tokens=max_tokens,
                                      params=params_for(args))
            seconds = time.perf_counter() - started
            s = result.stats
            record = {"label": args.label, "set": set_name, "id": prompt["id"], "text": result.text,
                      "seconds": round(seconds, 3), "max_tokens": max_tokens, "completion_tokens": s.completion_tokens,
                      "decode_s": round(s.decode_s, 3), "expert": result.route.expert,
                      "route_reason": result.route.reason, "fusion": result.fusion}
            sink.write(json.dumps(record, ensure_ascii=False) + "\n")
            sink.flush()
    runtime.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="record replies under a label")
    r.add_argument("--label", required=True)
    r.add_argument("--expert", default="auto", help="an expert of the config, or auto (routing and fusion)")
    r.add_argument("--config", default=None, help="a TOML merged over the packaged default")
    r.add_argument("--repeat-penalty", type=float, default=None, help="pin greedy with this penalty")
    r.add_argument("--japanese-mask", choices=["on", "off"], default=None, help="default: the config's")
    r.add_argument("--dry", type=float, default=None, help="DRY multiplier (default: the config's)")
    r.add_argument("--shape-guide", choices=["on", "off"], default=None, help="default: the config's")
    r.add_argument("--cascade", default=None, help="experts, comma-separated, or none (default: the config's)")
    r.add_argument("--sets", nargs="+", default=list(SETS), choices=list(SETS))
    r.add_argument("--threads", type=int, default=2)
    r.add_argument("--limit", type=int, default=None)
    r.add_argument("--ids", default="", help="only these prompt ids, comma-separated")
    r.add_argument("--every", type=int, default=1, help="every n-th prompt of each set (a fixed subset)")
    r.add_argument("--max-tokens", type=int, default=None, help="cap replies (default: the set's own)")
    r.add_argument("--out-dir", default=str(OUT))
    rep = sub.add_parser("report", help="score the recorded replies: table and PNG")
    rep.add_argument("--out-dir", default=str(OUT))
    args = ap.parse_args()
    if args.command == "run":
        run(args)
    else:
        from bench_prose_report import report

        report(Path(args.out_dir))


if __name__ == "__main__":
    main()
