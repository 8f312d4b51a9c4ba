"""Peak RSS and time per request for a mixed-domain batch under several memory budgets, each in a
fresh process (peak RSS is per process), plus the estimate-vs-measured footprint of each model.

    .venv/bin/python scripts/bench_memory.py --budgets 1.3GB,1.4GB,1.8GB,2.5GB,auto --out-dir out/

Under 1.4GB the code expert fits alone (at a reduced context); under 1.3GB it does not, and its prompts
go to the next best expert. "auto" (70% of available memory) holds all three.
"""
from __future__ import annotations

import argparse
import json
import subprocess
from collections import Counter
import sys
from pathlib import Path

from benchlib import ROOT, bar_chart, markdown_table

PROMPTS = [  # written for this benchmark: one per domain, and code twice to force a swap back
    "Write a Python function that checks whether a string is a palindrome.",
    "Write a four-line poem about a lighthouse at night.",
    "What should I pack for a weekend hiking trip?",
    "Fix this function so it returns the average: def avg(xs): return sum(xs) / len(xs) - 1",
    "Write a short thank-you note to a neighbour who watered my plants.",
]

WORKER = """
import json, sys, time
from edge_runtime.runtime import Runtime
from edge_runtime.memory.budget import peak_rss_bytes
budget, max_tokens = sys.argv[1], int(sys.argv[2])
prompts = json.loads(sys.argv[3])
rt = Runtime(memory_budget=budget, threads=2)
rows = []
for p in prompts:
    t = time.perf_counter()
    r = rt.generate(p, expert="auto", max_tokens=max_tokens)
    rows.append({"expert": r.route.expert, "seconds": time.perf_counter() - t})
print(json.dumps({"budget_bytes": rt.budget, "peak_rss": peak_rss_bytes(), "rows": rows,
                  "loads": rt.pool.loads, "evictions": rt.pool.evictions,
                  "load_seconds": rt.pool.load_seconds}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--budgets", default="1.3GB,1.4GB,1.8GB,2.5GB,auto")
    ap.add_argument("--max-tokens", type=int, default=32)
    ap.add_argument("--out-dir", default=str(ROOT / "out"))
    args = ap.parse_args()
    results = []
    for budget in args.budgets.split(","):
        proc = subprocess.run([sys.executable, "-c", WORKER, budget, str(args.max_tokens), json.dumps(PROMPTS)],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            results.append((budget, None, proc.stderr.strip().splitlines()[-1]))
            continue
        results.append((budget, json.loads(proc.stdout.strip().splitlines()[-1]), ""))
    rows = []
    for budget, r, err in results:
        if r is None:
            rows.append([budget, "-", "refused", "-", "-", "-", "-", "-", err[:80]])
            continue
        secs = [x["seconds"] for x in r["rows"]]
        answered = Counter(x["expert"] for x in r["rows"])
        rows.append([budget, f"{r['budget_bytes'] / 1e9:.2f} GB", f"{r['peak_rss'] / 1e9:.2f} GB",
                     "yes" if r["peak_rss"] <= r["budget_bytes"] else "NO",
                     " ".join(f"{name} {n}" for name, n in sorted(answered.items())), r["loads"], r["evictions"],
                     f"{r['load_seconds'] / max(1, r['loads']):.2f} s", f"{sum(secs) / len(secs):.2f} s"])
    table = markdown_table(["budget", "bytes", "peak RSS", "under budget", "answered by", "loads", "evictions",
                            "load (swap) time", "time per request"], rows)
    print(f"{len(PROMPTS)} mixed-domain prompts, routed, max {args.max_tokens} tokens, fresh process per budget\n")
    print(table)
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_memory.md").write_text(table + "\n")
    ok = [(b, r) for b, r, _ in results if r]
    bar_chart(out / "bench_memory.png", [b for b, _ in ok],
              {"peak RSS (GB)": [r["peak_rss"] / 1e9 for _, r in ok],
               "budget (GB)": [r["budget_bytes"] / 1e9 for _, r in ok]},
              title="Peak RSS under memory budgets (mixed batch)", ylabel="GB")


if __name__ == "__main__":
    main()
