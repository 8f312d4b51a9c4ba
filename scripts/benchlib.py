"""Shared by the benchmark scripts: llama.cpp's own tools, prompt files, markdown tables, PNG charts.

matplotlib is optional (`pip install -e '.[bench]'`): without it a script writes its tables and says how
to get the PNG, since every drawing function here and in the scripts is wrapped in `figure`.
"""
from __future__ import annotations

import functools
import json
import re
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, Sequence, TypeVar

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / ".tools" / "bin"


def ensure_llama_tools() -> Path:
    """Build llama-bench and llama-speculative-simple from our llama-cpp-python's sources once."""
    subprocess.run(["bash", str(ROOT / "scripts" / "build_llama_tools.sh")], check=True)
    return TOOLS


def llama_bench_tps(model: Path, *, n_gen: int = 256, threads: int = 2, repetitions: int = 3, depth: int = 0,
                    v_cache: str = "f16") -> float:
    """Plain decode tokens/s from `llama-bench -n N -p 0` (the number llama.cpp users quote), or at a
    depth of `depth` cached tokens with a V cache of `v_cache`, as a reply after a prompt decodes."""
    out = subprocess.run([str(TOOLS / "llama-bench"), "-m", str(model), "-n", str(n_gen), "-p", "0",
                          "-t", str(threads), "-r", str(repetitions), "-d", str(depth), "-ctv", v_cache,
                          "-o", "json"],
                         check=True, capture_output=True, text=True).stdout
    return float(json.loads(out)[0]["avg_ts"])


def llama_speculative(model: Path, prompt: str, *, n_gen: int, threads: int = 2, spec_type: str | None = None,
                      draft: Path | None = None, draft_max: int | None = None) -> dict[str, float]:
    """Run llama-speculative-simple greedily; its decode tokens/s, drafted and accepted counts."""
    cmd = [str(TOOLS / "llama-speculative-simple"), "-m", str(model), "-p", prompt, "-n", str(n_gen),
           "--temp", "0", "-t", str(threads), "-c", "4096"]
    if draft_max is not None:  # otherwise llama.cpp's own default for the method
        cmd += ["--spec-draft-n-max", str(draft_max)]
    if draft is not None:
        cmd += ["-md", str(draft), "-td", str(threads)]
    if spec_type:
        cmd += ["--spec-type", spec_type]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    log = proc.stdout + proc.stderr
    if proc.returncode != 0:
        raise RuntimeError(f"llama-speculative-simple failed: {log[-800:]}")

    def grab(pattern: str) -> float:
        m = re.search(pattern, log)
        return float(m.group(1)) if m else float("nan")

    return {"tokens_per_s": grab(r"decoded\s+\d+ tokens in\s+[0-9.]+ seconds, speed:\s*([0-9.]+) t/s"), "decoded": grab(r"decoded\s+(\d+) tokens"),
            "drafted": grab(r"n_drafted\s*=\s*(\d+)"), "accepted": grab(r"n_accept\s*=\s*(\d+)")}


def wait_ready(url: str, proc: subprocess.Popen, timeout_s: float = 600) -> None:
    """Poll `url` until it answers 200; fail early if the server process died."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with code {proc.returncode} before it was ready")
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(1)
    raise RuntimeError(f"{url} was not ready after {timeout_s:.0f} s")


@contextmanager
def server(cmd: list[str], health: str, log: Path, env: dict[str, str] | None = None) -> Iterator[None]:
    """Run a server for the block, its output in `log`; stopped (by its own pid) afterwards."""
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
        try:
            wait_ready(health, proc)
            yield
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


def read_records(path: str | Path) -> list[dict[str, Any]]:
    """Every line of a JSONL prompt or task file, through the runtime's reader (its errors name the line)."""
    from edge_runtime.jsonl import read_jsonl  # here: bench_router.py puts the checkout on sys.path first

    return [row for _, row in read_jsonl(path, '{"kind": "...", "prompt": "..."}')]


def one_expert_runtime(model: str | Path, *, gpu_layers: int | str = 0, draft: str | Path | None = None,
                       **runtime_options: Any) -> Any:
    """A Runtime whose only expert, "t", is `model` (with `draft` as its draft model), for timing one file."""
    from edge_runtime.config import Config, ExpertConfig
    from edge_runtime.runtime import Runtime

    expert = ExpertConfig("t", str(model), ["general"], gpu_layers=gpu_layers, draft=str(draft) if draft else None)
    return Runtime(Config(experts={"t": expert}, default_expert="t", context=4096), **runtime_options)


def copying_prompt(runtime: Any, seed: str, max_tokens: int) -> tuple[str, Any]:
    """seed + the model's own greedy continuation + seed again: greedy decoding of it repeats what the model
    wrote, so drafting from the context pays (random weights included). Returns it and the first result."""
    from edge_runtime.sampling import SamplingParams

    first = runtime.generate(seed, expert="t", draft="none", max_tokens=max_tokens, raw=True, params=SamplingParams())
    return seed + first.text + seed, first


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    def cell(v: Any) -> str:
        return f"{v:.2f}" if isinstance(v, float) else str(v)

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


BENCH_EXTRA = "pip install -e '.[bench]'"
Draw = TypeVar("Draw", bound=Callable[..., Any])


def figure(draw: Draw) -> Draw:
    """Mark a function that draws a PNG: without matplotlib it prints how to get it and returns None."""
    @functools.wraps(draw)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            print(f"no PNG from {draw.__name__}: matplotlib is missing ({BENCH_EXTRA} installs it)", file=sys.stderr)
            return None
        return draw(*args, **kwargs)
    return run  # type: ignore[return-value]


def pyplot() -> Any:
    """matplotlib's pyplot drawing to files only (no display on a server or in CI)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig: Any, path: Path, dpi: int = 120) -> None:
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=dpi)
    pyplot().close(fig)


@figure
def bar_chart(path: Path, groups: Sequence[str], series: dict[str, Sequence[float]], *, title: str,
              ylabel: str, hline: float | None = None) -> None:
    """Grouped bars: one group per x label, one bar per series."""
    fig, ax = pyplot().subplots(figsize=(max(6, 1.6 * len(groups) + 2), 4.5))
    width = 0.8 / max(1, len(series))
    for i, (name, values) in enumerate(series.items()):
        xs = [g + (i - (len(series) - 1) / 2) * width for g in range(len(groups))]
        bars = ax.bar(xs, values, width, label=name)
        ax.bar_label(bars, fmt="%.2f", fontsize=7)
    if hline is not None:
        ax.axhline(hline, color="grey", linewidth=0.8, linestyle="--")
    ax.set_xticks(range(len(groups)), groups)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8)
    save_figure(fig, path)
