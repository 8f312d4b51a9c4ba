"""Does the team beat its best member on fresh sets (issue 26)? data/team/code.jsonl and numbers.jsonl,
written before any tuning, are answered by the best single expert and by `auto` side by side.

- `single`: the code expert alone (the team's best member on both kinds), greedy, asked as written, run
  once (--single-tokens, default the usual cap); its reply at the usual cap is that greedy text cut there.
- `auto`: the packaged team through `Runtime.generate` with its default configuration (verified fusion where
  the prompt carries evidence and model code may run in the kernel's fence): router, strength-first candidates, checks and behaviour clusters for
  code, a vote with a program for numbers, an adaptive budget.
- `single at the team's tokens` (iso-cost): the single expert's greedy reply cut at the tokens the team
  spent on that task (greedy text is a prefix of a longer greedy run, so one long run serves every cap;
  the cut is made in proportion of characters to tokens). Where the team spent more than the single's
  run, the single is credited with its whole run: a lower bound on the iso-cost gain unless
  --single-tokens covers the team's spend.
- `oracle`: a task counts when any team candidate, or the single, passes: the most a judge could pick.
  "gap recovered" = (auto - single) / (oracle - single).

Scoring as in bench_fusion.py: hidden tests run in the sandbox; the final number must equal the answer.

    PYTHONPATH=. .venv/bin/python scripts/bench_team.py --every 4 --out-dir out/team     # a subset
    PYTHONPATH=. .venv/bin/python scripts/bench_team.py --report out/team/bench_team.jsonl
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

from bench_fusion import passes
from benchlib import ROOT, bar_chart, markdown_table
from edge_runtime.config import Config, load_config
from edge_runtime.runtime import Runtime

SETS = {"code": ROOT / "data" / "team" / "code.jsonl", "number": ROOT / "data" / "team" / "numbers.jsonl"}
CAPS = {"code": 512, "number": 320}  # a reply's usual max_tokens, as bench_fusion.py uses
SINGLE = "code"  # the packaged team's strongest expert, and its best single on both kinds


def team_config(threads: int) -> Config:
    """The packaged team as a user gets it (fusion and execute_code "auto": verified fusion where the prompt
    carries evidence and the kernel fence holds); only the thread count is the benchmark's."""
    return replace(load_config(), threads=threads)


def cut(text: str, tokens: int, budget: int) -> str:
    """A greedy reply of `tokens` tokens as it would read had generation stopped at `budget` tokens."""
    return text if tokens <= budget else text[:max(0, len(text) * budget // max(tokens, 1))]


def run_task(runtime: Runtime, task: dict[str, Any], single_tokens: int) -> dict[str, Any]:
    """The single expert (once, long) and auto on one task, with every candidate's pass for the oracle."""
    started = time.perf_counter()
    single = runtime.generate(task["prompt"], expert=SINGLE, max_tokens=single_tokens)
    single_s = time.perf_counter() - started
    started = time.perf_counter()
    auto = runtime.generate(task["prompt"], max_tokens=CAPS[task["kind"]])
    auto_s = time.perf_counter() - started
    fusion = auto.fusion or {}
    candidates = fusion.get("candidates", [])
    n_single = single.stats.completion_tokens
    usual = cut(single.text, n_single, CAPS[task["kind"]])
    auto_tokens = fusion.get("tokens", auto.stats.completion_tokens)
    return {
        "id": task["id"], "kind": task["kind"], "lang": task["lang"],
        "single": {"pass": passes(task, usual), "tokens": min(n_single, CAPS[task["kind"]]), "seconds": single_s},
        "auto": {"pass": passes(task, auto.text), "tokens": auto_tokens, "seconds": auto_s,
                 "route": auto.route.domain, "judge": fusion.get("judge"), "stopped": fusion.get("stopped"),
                 "candidates": [{**{k: v for k, v in c.items() if k != "text"}, "pass": passes(task, c["text"])}
                                for c in candidates]},
        "iso": {"pass": passes(task, cut(single.text, n_single, auto_tokens)), "tokens": min(n_single, auto_tokens)},
    }


def summary(records: list[dict[str, Any]]) -> tuple[str, dict[str, list[float]]]:
    """Per set: pass rates, tokens and seconds per reply, iso-cost gain, share of the oracle gap."""
    rows, chart = [], {"single": [], "auto": [], "oracle": []}
    for kind in sorted({r["kind"] for r in records}):
        sub = [r for r in records if r["kind"] == kind]
        n = len(sub)
        single = sum(r["single"]["pass"] for r in sub)
        auto = sum(r["auto"]["pass"] for r in sub)
        iso = sum(r["iso"]["pass"] for r in sub)
        oracle = sum(r["single"]["pass"] or any(c["pass"] for c in r["auto"]["candidates"]) or r["auto"]["pass"]
                     for r in sub)
        tokens = {m: sum(r[m]["tokens"] for r in sub) / n for m in ("single", "auto")}
        seconds = {m: sum(r[m]["seconds"] for r in sub) / n for m in ("single", "auto")}
        gap = f"{(auto - single) / (oracle - single):.0%}" if oracle > single else "n/a"
        rows.append([kind, n, f"{single}/{n} ({single / n:.0%})", f"{auto}/{n} ({auto / n:.0%})",
                     f"{100 * (auto - single) / n:+.1f}", f"{tokens['single']:.0f} / {tokens['auto']:.0f} "
                     f"({tokens['auto'] / max(tokens['single'], 1):.2f}x)",
                     f"{seconds['single']:.1f} / {seconds['auto']:.1f}", f"{100 * (auto - iso) / n:+.1f} (iso {iso}/{n})",
                     f"{oracle}/{n}", gap])
        for name, value in (("single", single), ("auto", auto), ("oracle", oracle)):
            chart[name].append(100 * value / n)
    headers = ["set", "tasks", "single (code expert)", "auto (team)", "gain, points", "tokens/reply single / auto",
               "s/reply single / auto", "iso-cost gain, points", "oracle", "oracle gap recovered"]
    return markdown_table(headers, rows), chart


def report(records: list[dict[str, Any]], out: Path) -> None:
    text, chart = summary(records)
    print(text)
    (out / "bench_team.md").write_text(text + "\n")
    kinds = sorted({r["kind"] for r in records})
    bar_chart(out / "bench_team.png", kinds, chart, title=f"Team vs its best member on fresh sets "
              f"({len(records)} tasks)", ylabel="% correct")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kinds", default="code,number", help="comma-separated: code, number")
    ap.add_argument("--every", type=int, default=1, help="every N-th task of each set (a deterministic subset)")
    ap.add_argument("--offset", type=int, default=0, help="start at this task of each set")
    ap.add_argument("--ids", default="", help="only these task ids, comma-separated (rerun what a change touches)")
    ap.add_argument("--single-tokens", type=int, default=0,
                    help="the single expert's one run (0: the usual cap; more lets iso-cost see past it)")
    ap.add_argument("--threads", type=int, default=0, help="decoder threads (0: physical cores; 1 on a shared CPU, "
                    "where spinning threads stall each other)")
    ap.add_argument("--out-dir", default=str(ROOT / "out" / "team"))
    ap.add_argument("--report", nargs="+", metavar="JSONL", help="only tabulate earlier runs (a task's last record "
                    "counts: a rerun with --ids replaces the earlier one)")
    args = ap.parse_args()
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if args.report:
        latest = {r["id"]: r for name in args.report for line in Path(name).read_text().splitlines() if line
                  for r in [json.loads(line)]}
        report(list(latest.values()), out)
        return
    tasks = [t for kind in args.kinds.split(",") for t in
             [json.loads(line) for line in SETS[kind].read_text("utf-8").splitlines() if line][args.offset::args.every]]
    if args.ids:
        tasks = [t for t in tasks if t["id"] in args.ids.split(",")]
    runtime = Runtime(team_config(args.threads))
    records = []
    with (out / "bench_team.jsonl").open("a") as log:
        for task in tqdm(tasks, desc="tasks", disable=not sys.stderr.isatty()):
            records.append(run_task(runtime, task, args.single_tokens or CAPS[task["kind"]]))
            log.write(json.dumps(records[-1], ensure_ascii=False) + "\n")
            log.flush()
    report(records, out)


if __name__ == "__main__":
    main()
