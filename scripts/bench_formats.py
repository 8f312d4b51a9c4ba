"""Size, peak memory, speed and perplexity of one model in every format: GGUF as shipped (and
requantized), ONNX fp32/fp16/int8/int4 exported from it. Writes formats.md and formats.png to --out-dir.

Each model is measured in its own subprocess, so peak RSS belongs to that model alone.

  python scripts/bench_formats.py                       # SmolLM2-135M, GGUF + ONNX fp32/int8/int4
  python scripts/bench_formats.py --gguf q05.gguf --onnx int4,int8 --requant Q8_0
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from benchlib import figure, pyplot, save_figure


def measure(path: Path, prompt_tokens: int, decode_tokens: int, threads: int) -> dict:
    """Runs in the child: load, prompt, decode, perplexity; peak RSS at the end."""
    from edge_runtime.models.backends import open_model
    from edge_runtime.tuning.perplexity import default_text, file_size, negative_log_likelihoods

    started = time.perf_counter()
    model = open_model(path, n_ctx=1024, n_threads=threads)
    load_s = time.perf_counter() - started
    ids = model.tokenize(default_text())
    prompt = ids[:prompt_tokens]
    started = time.perf_counter()
    logits = model.forward(prompt)[-1]
    prompt_s = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(decode_tokens):
        logits = model.forward([int(np.argmax(logits))])[-1]
    decode_s = time.perf_counter() - started
    ppl = float(np.exp(negative_log_likelihoods(model, ids).mean()))
    peak = _peak_rss()
    model.close()
    return {"size": file_size(path), "peak_rss": peak, "load_s": load_s, "prompt_tps": len(prompt) / prompt_s,
            "decode_tps": decode_tokens / decode_s, "perplexity": ppl}


def _peak_rss() -> int:
    """VmHWM: the peak of this process image (ru_maxrss would carry the parent's peak across exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    import resource  # not Linux: ru_maxrss (bytes on macOS)

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def prepare(gguf: Path, onnx: list[str], requant: list[str], models: Path) -> list[tuple[str, Path]]:
    """Every variant to measure, made once and reused from --out-dir on later runs."""
    from quantize.export import export
    from edge_runtime.models.requantize import requantize

    variants = [(f"GGUF {_file_type(gguf)} (as shipped)", gguf)]
    for qtype in requant:
        out = models / f"{gguf.stem}-{qtype}.gguf"
        if not out.exists():
            requantize(gguf, out, qtype)
        variants.append((f"GGUF {qtype} (requantized)", out))
    for weights in onnx:
        out = models / f"{gguf.stem}-onnx-{weights}"
        if not out.exists():
            export(gguf, out, weights=weights)
        variants.append((f"ONNX {weights}", out))
    return variants


def _file_type(path: Path) -> str:
    from edge_runtime.models.header import read_gguf

    return read_gguf(path).file_type


def markdown(model: str, rows: list[dict]) -> str:
    lines = [f"### {model}", "", "| format | file MB | peak RSS MB | load s | prompt tok/s | decode tok/s | perplexity |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['format']} | {r['size'] / 1e6:,.1f} | {r['peak_rss'] / 1e6:,.0f} | {r['load_s']:.1f} | "
                     f"{r['prompt_tps']:,.0f} | {r['decode_tps']:,.1f} | {r['perplexity']:.3f} |")
    return "\n".join(lines)


@figure
def chart(results: dict[str, list[dict]], out: Path) -> None:
    plt = pyplot()

    metrics = [("size", "file size (MB)", 1e-6), ("peak_rss", "peak RSS (MB)", 1e-6),
               ("prompt_tps", "prompt tokens/s", 1), ("decode_tps", "decode tokens/s", 1), ("perplexity", "perplexity", 1)]
    fig, axes = plt.subplots(len(results), len(metrics), figsize=(4 * len(metrics), 3.2 * len(results)), squeeze=False)
    for row, (model, rows) in zip(axes, results.items()):
        labels = [r["format"].replace(" (", "\n(") for r in rows]
        for ax, (key, title, scale) in zip(row, metrics):
            ax.barh(labels, [r[key] * scale for r in rows], color=["#4c72b0" if "GGUF" in lbl else "#dd8452" for lbl in labels])
            ax.set_title(f"{model}: {title}", fontsize=9)
            ax.invert_yaxis()
            ax.tick_params(labelsize=7)
    save_figure(fig, out, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gguf", type=Path, action="append", help="source GGUF (repeatable); default SmolLM2-135M")
    parser.add_argument("--onnx", default="fp32,int8,int4", help="ONNX weight formats to export and measure")
    parser.add_argument("--requant", default="", help="GGUF types to requantize to, e.g. Q8_0,Q4_0")
    parser.add_argument("--out-dir", type=Path, default=Path("out"))
    parser.add_argument("--prompt-tokens", type=int, default=256)
    parser.add_argument("--decode-tokens", type=int, default=64)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # child mode
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.prompt_tokens, args.decode_tokens, args.threads)))
        return
    from edge_runtime.models import catalog

    sources = args.gguf or [catalog.resolve("smollm2-135m-instruct-q4_1", fetch=True)]
    models = args.out_dir / "models"
    models.mkdir(parents=True, exist_ok=True)
    results: dict[str, list[dict]] = {}
    for gguf in sources:
        rows = []
        for label, path in prepare(gguf, [w for w in args.onnx.split(",") if w],
                                   [t for t in args.requant.split(",") if t], models):
            child = subprocess.run([sys.executable, __file__, "--measure", str(path), "--threads", str(args.threads),
                                    "--prompt-tokens", str(args.prompt_tokens), "--decode-tokens", str(args.decode_tokens)],
                                   capture_output=True, text=True, check=False)
            if child.returncode != 0:
                sys.exit(f"measuring {path} failed:\n{child.stderr[-2000:]}")
            rows.append({"format": label, **json.loads(child.stdout.strip().splitlines()[-1])})
            print(f"{gguf.stem}: {label}: {rows[-1]}", file=sys.stderr)
        results[gguf.stem] = rows
    table = "\n\n".join(markdown(model, rows) for model, rows in results.items())
    (args.out_dir / "formats.md").write_text(table + "\n")
    chart(results, args.out_dir / "formats.png")
    print(table)
    print(f"\nwrote {args.out_dir / 'formats.md'} and {args.out_dir / 'formats.png'}")


if __name__ == "__main__":
    main()
