"""Benchmark the router: accuracy and calibration on three evaluation sets, load time, latency on one thread.

The sets: the held-out split of prompts.jsonl, the new-user prompts, and the short/chit-chat/typo/
off-topic prompts. ECE (expected calibration error, 10 equal-width bins of the top probability) says
how far the router's confidence is from its accuracy: fusion trusts that confidence (router.threshold).

Latency is measured over every held-out prompt (several passes, after a warm-up). Wall-clock time
counts time the OS gave to other processes; CPU time (this thread only) does not, so on a busy
machine the two differ and CPU time is the model's own cost.

    python scripts/bench_router.py [--router PATH] [--out-dir out/]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from benchlib import ROOT, figure, pyplot, read_records, save_figure

sys.path.insert(0, str(ROOT))

from edge_runtime.router.model import Router  # noqa: E402
from edge_runtime.router.train import evaluate  # noqa: E402


def score(router: Router, rows: list[dict]) -> dict:
    """Accuracy, ECE and confusion matrix of the router's own predict() on labelled rows."""
    probs = np.array([[router.predict(row["text"]).probabilities[label] for label in router.labels] for row in rows])
    return evaluate(probs, [row["domain"] for row in rows], router.labels)


def latencies(router: Router, texts: list[str], passes: int) -> tuple[np.ndarray, np.ndarray]:
    """Wall-clock and thread-CPU milliseconds per predict() call."""
    for text in texts[:50]:
        router.predict(text)
    wall, cpu = [], []
    for _ in range(passes):
        for text in texts:
            w0, c0 = time.perf_counter(), time.thread_time()
            router.predict(text)
            cpu.append(time.thread_time() - c0)
            wall.append(time.perf_counter() - w0)
    return np.array(wall) * 1e3, np.array(cpu) * 1e3


@figure
def plot(confusion: np.ndarray, labels: list[str], wall: np.ndarray, path: Path) -> None:
    plt = pyplot()

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.5))
    ax1.imshow(confusion, cmap="Blues")
    ax1.set(xticks=range(len(labels)), yticks=range(len(labels)), xticklabels=labels, yticklabels=labels,
            xlabel="predicted", ylabel="true", title="held-out confusion matrix")
    for (i, j), v in np.ndenumerate(confusion):
        ax1.text(j, i, str(v), ha="center", va="center", color="white" if v > confusion.max() / 2 else "black")
    ax2.hist(np.minimum(wall, 2.0), bins=80, color="tab:blue")
    ax2.axvline(np.percentile(wall, 99), color="tab:red", linestyle="--", label="p99")
    ax2.set(xlabel="latency per prompt, ms (clipped at 2)", ylabel="calls", title="router latency, one thread")
    ax2.legend()
    save_figure(fig, path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--router", default="builtin", help="router .onnx (default: the packaged one)")
    parser.add_argument("--data", default=str(ROOT / "data/router/prompts.jsonl"))
    parser.add_argument("--new-user", default=str(ROOT / "data/router/new_user_prompts.jsonl"))
    parser.add_argument("--short-offtopic", default=str(ROOT / "data/router/short_offtopic_heldout.jsonl"))
    parser.add_argument("--passes", type=int, default=5, help="latency passes over the held-out prompts")
    parser.add_argument("--out-dir", default="out", help="where the PNG goes")
    args = parser.parse_args()

    start = time.perf_counter()
    router = Router.load(args.router)
    load_ms = (time.perf_counter() - start) * 1e3
    test = [r for r in read_records(Path(args.data)) if r.get("split") == "test"]
    sets = {"held-out split": test, "new-user": read_records(Path(args.new_user)),
            "short/off-topic": read_records(Path(args.short_offtopic))}
    scores = {name: score(router, rows) for name, rows in sets.items()}
    wall, cpu = latencies(router, [r["text"] for r in test], args.passes)
    size = (Path(args.router) if args.router != "builtin" else ROOT / "edge_runtime/router/router.onnx").stat().st_size

    print("| metric | value |\n|---|---|")
    for name, m in scores.items():
        print(f"| {name} accuracy / ECE (n={m['n']}) | {m['accuracy']:.1%} / {m['ece']:.3f} |")
    print(f"| load time | {load_ms:.1f} ms |")
    for name, ms in (("wall", wall), ("CPU", cpu)):
        p50, p99 = np.percentile(ms, [50, 99])
        print(f"| latency {name} p50 / p99 / max (n={len(ms)}) | {p50:.3f} / {p99:.3f} / {ms.max():.3f} ms |")
    print(f"| ONNX size | {size / 1e6:.2f} MB |")

    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    plot(np.array(scores["held-out split"]["confusion"]), router.labels, wall, out / "router_bench.png")
    print(f"\nplot: {out / 'router_bench.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
