"""Single experts vs fusion on data/fusion/tasks.jsonl (checkable tasks written for this project), through
the runtime's public API only: `Runtime(config).generate(...)` and the result's `fusion` field.

Scoring: a code reply passes when its code passes the task's hidden tests (run with
`edge_runtime.evidence.sandbox`; never shown to a model); a number reply when its final number
(`edge_runtime.evidence.answers.final_number`: decimals and thousands separators allowed) is the answer.

The team is the packaged one without `writing` (code = Qwen2.5-Coder-1.5B, general = 0.5B), so the
methods compare those two and their fusions:
- `code`, `general`: one expert, greedy. To save CPU they are read off the `auto` run's candidate list
  when it holds that expert's greedy answer (the runtime's own output: the same greedy decoding, with the
  text and cost it reports per candidate); otherwise the expert is asked directly.
- `best-of`, `mixture`: the two experts fused on every task (router threshold 1.0: always unsure).
- `auto`: the router, then verified fusion (`fusion = "verify"`, `execute_code = true`). Every task here
  is checkable, so auto verifies all of them, and a forced `verify` would run the very same plan.
- `code, asked as fusion asks`: on code tasks verified fusion asks every candidate for the code alone
  (its checks run code, never read prose); this row is the code expert's greedy answer so asked, read
  off auto's candidates, to show how much of fusion's gain is the asking and how much the checking.
- `auto, verify only when unsure` (derived): auto's answer where the router was unsure, the routed
  expert's greedy candidate where it was confident; it measures whether verifying confident routes pays.

    .venv/bin/python scripts/bench_fusion.py --every 10 --fusion-time-s 1000 --out-dir out/   # a 9-task subset
    .venv/bin/python scripts/bench_fusion.py --report out/bench_fusion.jsonl                # tabulate saved runs
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from fractions import Fraction
from pathlib import Path
from typing import Any

from tqdm import tqdm

from benchlib import ROOT, bar_chart, markdown_table, read_records
from edge_runtime.config import Config, RouterConfig, load_config
from edge_runtime.generation import GenerationResult
from edge_runtime.runtime import Runtime
from edge_runtime.evidence.answers import final_number, normal_form
from edge_runtime.evidence.checks import extract_code
from edge_runtime.evidence.sandbox import run_python

SINGLES = ("code", "general")
AS_FUSION_ASKS = "code, asked as fusion asks"  # code tasks: "only the code"; the same answer otherwise
FUSED = ("best-of", "mixture")
ROWS = (*SINGLES, AS_FUSION_ASKS, *FUSED, "auto", "auto, verify only when unsure")
TASKS = ROOT / "data" / "fusion" / "tasks.jsonl"


def load_tasks(path: Path, kinds: list[str], every: int, limit: int | None) -> list[dict[str, Any]]:
    """Every `every`-th task of each chosen kind, in file order (a deterministic subset)."""
    tasks = read_records(path)
    return [t for kind in kinds for t in [t for t in tasks if t["kind"] == kind][::every]][:limit]


def team(fusion: str, always_fuse: bool) -> Config:
    """The packaged team without `writing`, fusing as asked; model code runs only for verify."""
    cfg = load_config()
    experts = {name: e for name, e in cfg.experts.items() if name in SINGLES}
    router = RouterConfig(cfg.router.model, 1.0 if always_fuse else cfg.router.threshold)
    return replace(cfg, experts=experts, router=router, fusion=fusion, execute_code=fusion == "verify")


def passes(task: dict[str, Any], text: str) -> bool:
    if task["kind"] == "number":
        return final_number(text) == normal_form(Fraction(task["answer"]))
    code = extract_code(text, task["entry_point"])
    return bool(code) and run_python(code + "\n\n" + "\n".join(task["hidden_tests"]) + "\n", timeout_s=10).ok


def outcome(task: dict[str, Any], text: str, seconds: float, tokens: int) -> dict[str, Any]:
    return {"pass": passes(task, text), "seconds": seconds, "tokens": tokens, "text": text}


def timed(runtime: Runtime, task: dict[str, Any], max_tokens: int, **kwargs: Any) -> tuple[GenerationResult, float]:
    started = time.perf_counter()
    result = runtime.generate(task["prompt"], max_tokens=max_tokens, **kwargs)
    return result, time.perf_counter() - started


def generated(result: GenerationResult) -> int:
    """Tokens a method generated: every fusion candidate's, not only the chosen answer's."""
    candidates = (result.fusion or {}).get("candidates", [])
    return sum(c.get("completion_tokens", 0) for c in candidates) or result.stats.completion_tokens


def singles(runtime: Runtime, task: dict[str, Any], auto: GenerationResult, max_tokens: int) -> dict[str, Any]:
    """Each expert alone, asked the prompt as written: its greedy candidate in auto's fusion when there
    is one, else asked directly; and the code expert's greedy answer as fusion asked it."""
    candidates = [c for c in (auto.fusion or {}).get("candidates", []) if c["kind"] == "greedy"]
    greedy = {c["expert"]: c for c in candidates if c.get("asked", "as written") == "as written"}
    out = {}
    for name in SINGLES:
        if name in greedy:
            c = greedy[name]
            out[name] = outcome(task, c["text"], c["seconds"], c["completion_tokens"])
        else:
            result, seconds = timed(runtime, task, max_tokens, expert=name)
            out[name] = outcome(task, result.text, seconds, result.stats.completion_tokens)
    reasked = next((c for c in candidates if c["expert"] == "code" and c.get("asked") == "code only"), None)
    out[AS_FUSION_ASKS] = (outcome(task, reasked["text"], reasked["seconds"], reasked["completion_tokens"])
                           if reasked else out["code"])
    return out


def auto_rows(runtime: Runtime, task: dict[str, Any], max_tokens: int) -> dict[str, Any]:
    """auto, the single experts read off its candidates, and auto verifying only unsure routes."""
    auto, seconds = timed(runtime, task, max_tokens)
    out = {"auto": outcome(task, auto.text, seconds, generated(auto))}
    out.update(singles(runtime, task, auto, max_tokens))
    candidates = (auto.fusion or {}).get("candidates", [])
    routed = candidates[0]["expert"] if candidates else auto.route.expert  # the first candidate is the routed one
    out["auto, verify only when unsure"] = out[routed] if auto.route.confident else out["auto"]
    out["auto"]["candidates"] = [{k: v for k, v in c.items() if k != "text"} for c in candidates]  # to read why
    return out


def run_task(runtimes: dict[str, Runtime], task: dict[str, Any], max_tokens: int) -> dict[str, Any]:
    """Every asked row's outcome for one task."""
    out = auto_rows(runtimes["auto"], task, max_tokens) if "auto" in runtimes else {}
    for mode in FUSED:
        if mode in runtimes:
            result, seconds = timed(runtimes[mode], task, max_tokens)
            out[mode] = outcome(task, result.text, seconds, generated(result))
    return {"id": task["id"], "kind": task["kind"], "rows": out}


def merged(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records of several runs (different methods, same tasks) as one record per task."""
    by_id: dict[str, dict[str, Any]] = {}
    for record in records:
        by_id.setdefault(record["id"], {**record, "rows": {}})["rows"].update(record["rows"])
    return list(by_id.values())


def table(records: list[dict[str, Any]]) -> tuple[str, dict[str, list[float]]]:
    """Markdown table (score by kind, s/task, tokens/task) and the scores for the chart."""
    kinds = sorted({r["kind"] for r in records})
    methods = [m for m in ROWS if all(m in r["rows"] for r in records)]
    rows, scores = [], {k: [] for k in ["all", *kinds]}
    for method in methods:
        cells: list[Any] = [method]
        for kind in ["all", *kinds]:
            hits = [r["rows"][method]["pass"] for r in records if kind in ("all", r["kind"])]
            cells.append(f"{sum(hits)}/{len(hits)} ({100 * sum(hits) / len(hits):.0f}%)")
            scores[kind].append(100 * sum(hits) / len(hits))
        n = len(records)
        cells += [sum(r["rows"][method]["seconds"] for r in records) / n,
                  sum(r["rows"][method]["tokens"] for r in records) / n]
        rows.append(cells)
    headers = ["method", "all", *kinds, "s/task", "tokens generated/task"]
    return markdown_table(headers, rows), scores


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", default=str(TASKS))
    ap.add_argument("--kinds", default="code,number", help="comma-separated: code, number")
    ap.add_argument("--every", type=int, default=1, help="every N-th task of those kinds (a deterministic subset)")
    ap.add_argument("--limit", type=int, default=None, help="at most N tasks")
    ap.add_argument("--code-tokens", type=int, default=512, help="max tokens per code answer")
    ap.add_argument("--number-tokens", type=int, default=320, help="max tokens per word-problem answer")
    ap.add_argument("--out-dir", default=str(ROOT / "out"))
    ap.add_argument("--methods", default="auto,best-of,mixture",
                    help="auto (with the single experts read off it), best-of, mixture")
    ap.add_argument("--fusion-time-s", type=float, default=None,
                    help="verify's time cap (default: the config's); lift it on a loaded, shared machine")
    ap.add_argument("--report", nargs="+", metavar="JSONL", help="only tabulate earlier runs' bench_fusion.jsonl")
    args = ap.parse_args()
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if args.report:
        report([row for name in args.report for row in read_records(name)], out)
        return
    tasks = load_tasks(Path(args.tasks), args.kinds.split(","), args.every, args.limit)
    runtimes = runtimes_for(args.methods.split(","), args.fusion_time_s)
    records = []
    with (out / "bench_fusion.jsonl").open("w") as log:
        for task in tqdm(tasks, desc="tasks", disable=not sys.stderr.isatty()):
            max_tokens = args.code_tokens if task["kind"] == "code" else args.number_tokens
            records.append(run_task(runtimes, task, max_tokens))
            log.write(json.dumps(records[-1]) + "\n")
            log.flush()
    report(records, out)


def runtimes_for(methods: list[str], fusion_time_s: float | None) -> dict[str, Runtime]:
    runtimes = {m: Runtime(team(m, True)) for m in FUSED if m in methods}
    if "auto" in methods:
        cfg = team("verify", False)
        runtimes["auto"] = Runtime(replace(cfg, fusion_time_s=fusion_time_s or cfg.fusion_time_s))
    return runtimes


def report(records: list[dict[str, Any]], out: Path) -> None:
    """One table per set of methods that ran on the same tasks: auto's rows where auto ran, and every
    row where every method ran (runs of several processes may have finished different tasks)."""
    records = merged(records)
    parts, charted = [], records
    for name, keep in (("auto and the single experts", "auto"), ("every method", None)):
        subset = [r for r in records if (keep in r["rows"] if keep else set(ROWS) <= set(r["rows"]))]
        if subset:
            text, scores = table(subset)
            parts.append(f"{name}, {len(subset)} tasks ({', '.join(r['id'] for r in subset)}):\n\n{text}")
            charted = subset
    text = "\n\n".join(parts)
    print(text)
    (out / "bench_fusion.md").write_text(text + "\n")
    methods = [m for m in ROWS if all(m in r["rows"] for r in charted)]
    bar_chart(out / "bench_fusion.png", methods, table(charted)[1],
              title=f"Fusion vs single experts ({len(charted)} tasks)", ylabel="% correct")


if __name__ == "__main__":
    main()
