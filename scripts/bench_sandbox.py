"""What the sandbox costs: one sandboxed `print(1)` against plain `python -I -c 'print(1)'` (the same
interpreter), interleaved round by round so a busy shared CPU slows both alike; then several checks side
by side (a thread pool of run_python calls) against the same number one after another.
Prints a markdown table and draws a PNG (matplotlib: `pip install -e '.[bench]'`).

    .venv/bin/python scripts/bench_sandbox.py --rounds 40 --out-dir out/
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

from tqdm import tqdm

from benchlib import ROOT, bar_chart, markdown_table
from edge_runtime.evidence import fence
from edge_runtime.evidence.layers import probe
from edge_runtime.evidence.sandbox import run_python


def _ms(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def _plain() -> None:
    subprocess.run([fence.interpreter(), "-I", "-c", "print(1)"], capture_output=True, check=True)


def _sandboxed() -> None:
    result = run_python("print(1)")
    if result.stdout != "1\n":
        raise SystemExit(f"the sandbox did not run print(1): {result.ended}\n{result.stderr}")


def _side_by_side(n: int) -> None:
    with ThreadPoolExecutor(n) as pool:
        list(pool.map(lambda _: _sandboxed(), range(n)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rounds", type=int, default=40)
    ap.add_argument("--parallel", type=int, default=4, help="candidates' checks run side by side")
    ap.add_argument("--out-dir", default=str(ROOT / "out"))
    args = ap.parse_args()
    layers = probe()
    print("\n".join(layers.lines()))
    if not layers.strong:
        print("warning: the kernel fence is incomplete here; this measures the degraded sandbox", file=sys.stderr)
    _plain(), _sandboxed()  # warm the page cache and the probe
    times: dict[str, list[float]] = {"plain python -I": [], "sandboxed": [],
                                     f"{args.parallel} sandboxed side by side": [],
                                     f"{args.parallel} sandboxed one after another": []}
    for _ in tqdm(range(args.rounds), desc="rounds", disable=not sys.stderr.isatty()):
        times["plain python -I"].append(_ms(_plain))
        times["sandboxed"].append(_ms(_sandboxed))
    for _ in tqdm(range(max(3, args.rounds // 8)), desc="parallel", disable=not sys.stderr.isatty()):
        times[f"{args.parallel} sandboxed side by side"].append(_ms(lambda: _side_by_side(args.parallel)))
        times[f"{args.parallel} sandboxed one after another"].append(
            _ms(lambda: [_sandboxed() for _ in range(args.parallel)]))
    medians = {name: statistics.median(values) for name, values in times.items()}
    overhead = statistics.median(s - p for s, p in zip(times["sandboxed"], times["plain python -I"]))
    rows = [[name, f"{medians[name]:.1f}", f"{min(values):.1f}", len(values)] for name, values in times.items()]
    print(markdown_table(["run", "median ms", "min ms", "n"], rows))
    print(f"\nsandbox overhead over plain python -I (median of paired rounds): {overhead:.1f} ms "
          f"(ratio {medians['sandboxed'] / medians['plain python -I']:.2f})")
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    bar_chart(out / "bench_sandbox.png", list(medians), {"median ms": list(medians.values())},
              title="print(1): plain python -I vs the sandbox", ylabel="milliseconds")
    print(f"plot: {out / 'bench_sandbox.png'}")


if __name__ == "__main__":
    main()
