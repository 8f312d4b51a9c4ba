"""Load test of `edge-runtime serve`: N concurrent streaming clients (the official `openai` client),
M requests each, loopback only and bounded in count and time. Reports throughput, time to first
token p50/p99 (as the client sees it: queueing included), errors and the server's peak RSS, as a
markdown table and a PNG.

    .venv/bin/python scripts/load_test.py --config tests/data/smol.toml --model code,general
    .venv/bin/python scripts/load_test.py --url http://127.0.0.1:8080 --pid 1234   # a running server

Without --url it starts its own server (a subprocess on a free loopback port, with a random API key).
"""
from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import httpx
import numpy as np
import openai
import psutil

from benchlib import ROOT, figure, markdown_table, pyplot, save_figure
from edge_runtime.cli.rpc import free_port
from edge_runtime.jsonl import read_prompts

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
CLIENT_COLOURS = ["tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:brown", "tab:pink", "tab:olive",
                  "tab:cyan"]  # no red: red marks a failed request


@dataclass
class Outcome:
    client: int
    start_s: float  # since the test began
    ttft_s: float | None = None
    total_s: float = 0.0
    tokens: int = 0
    server_ttft_s: float | None = None  # prefill + first token, from the runtime's own stats
    queue_s: float | None = None
    error: str = ""


class RssSampler(threading.Thread):
    """Samples a process's resident set (with its children) until stopped; keeps the timeline."""

    def __init__(self, pid: int, t0: float, every_s: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.proc, self.t0, self.every_s = psutil.Process(pid), t0, every_s
        self.samples: list[tuple[float, int]] = []
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.wait(self.every_s):
            try:
                procs = [self.proc, *self.proc.children(recursive=True)]
                rss = sum(p.memory_info().rss for p in procs)
            except psutil.NoSuchProcess:
                return
            self.samples.append((time.perf_counter() - self.t0, rss))

    def stop(self) -> int:
        self._halt.set()
        self.join()
        return max((rss for _, rss in self.samples), default=0)


def start_server(args: argparse.Namespace, key: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    cmd = [sys.executable, "-m", "edge_runtime.cli.main", "serve", "--host", "127.0.0.1", "--port", str(port),
           "--max-queue", str(args.max_queue if args.max_queue is not None else args.clients)]
    for flag, value in (("--config", args.config), ("--threads", args.threads),
                        ("--memory-budget", args.memory_budget)):
        if value is not None:
            cmd += [flag, str(value)]
    log = open(Path(args.out_dir) / "load_test_server.log", "w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
                            env=os.environ | {"EDGE_RUNTIME_API_KEY": key})
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited ({proc.returncode}); see {log.name}")
        try:
            if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                return proc, url
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the server did not answer /health within 120 s")


def one_request(client: openai.OpenAI, model: str, prompt: str, max_tokens: int, who: int, t0: float) -> Outcome:
    start = time.perf_counter()
    out = Outcome(who, start - t0)
    try:
        stream = client.chat.completions.create(model=model, messages=[{"role": "user", "content": prompt}],
                                                max_tokens=max_tokens, temperature=0, stream=True,
                                                stream_options={"include_usage": True})
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content and out.ttft_s is None:
                out.ttft_s = time.perf_counter() - start
            stats = (chunk.model_extra or {}).get("edge_runtime")
            if stats:
                out.server_ttft_s, out.queue_s = stats["ttft_s"], stats["queue_s"]
            if chunk.usage:
                out.tokens = chunk.usage.completion_tokens
    except Exception as exc:  # counted and reported, never fatal: the test is about errors too
        out.error = f"{type(exc).__name__}: {str(exc)[:120]}"
    out.total_s = time.perf_counter() - start
    return out


def run_clients(args: argparse.Namespace, url: str, key: str, prompts: list[str], t0: float) -> list[Outcome]:
    models = args.model.split(",")
    deadline = t0 + args.time_limit

    def client_loop(who: int) -> list[Outcome]:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0, timeout=args.request_timeout)
        results = []
        for i in range(args.requests):
            if time.perf_counter() > deadline:
                break
            n = who * args.requests + i
            results.append(one_request(client, models[n % len(models)], prompts[n % len(prompts)],
                                       args.max_tokens, who, t0))
        return results

    with ThreadPoolExecutor(args.clients) as pool:
        return [o for batch in pool.map(client_loop, range(args.clients)) for o in batch]


def report(args: argparse.Namespace, outcomes: list[Outcome], wall_s: float, peak_rss: int,
           rss: list[tuple[float, int]]) -> str:
    ok = [o for o in outcomes if not o.error]
    tokens = sum(o.tokens for o in ok)

    def pct(values: list[float | None], q: float) -> float:
        present = [v for v in values if v is not None]
        return float(np.percentile(present, q)) if present else float("nan")

    ttft = [o.ttft_s for o in ok]
    server_ttft = [o.server_ttft_s for o in ok]
    queue = [o.queue_s for o in ok]
    rows = [("clients x requests", f"{args.clients} x {args.requests} (model {args.model}, "
                                   f"max_tokens {args.max_tokens})"),
            ("requests completed", len(ok)), ("errors", len(outcomes) - len(ok)),
            ("completion tokens", tokens), ("wall time (s)", round(wall_s, 2)),
            ("throughput (tokens/s)", round(tokens / wall_s, 2) if wall_s else 0),
            ("TTFT p50 / p99 (s), client", f"{pct(ttft, 50):.2f} / {pct(ttft, 99):.2f}"),
            ("server TTFT p50 (s), prefill", f"{pct(server_ttft, 50):.3f}"),
            ("queue wait p50 / p99 (s)", f"{pct(queue, 50):.2f} / {pct(queue, 99):.2f}"),
            ("server peak RSS (MB)", f"{peak_rss / 1e6:.0f}" if peak_rss else "n/a"),
            ("server RSS first / last sample (MB)",
             f"{rss[0][1] / 1e6:.0f} / {rss[-1][1] / 1e6:.0f}" if rss else "n/a")]
    errors = sorted({o.error for o in outcomes if o.error})
    table = markdown_table(["metric", "value"], rows)
    return table + "".join(f"\n\nerror: {e}" for e in errors[:5])


@figure
def plot(path: Path, outcomes: list[Outcome], rss: list[tuple[float, int]]) -> None:
    plt = pyplot()

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for o in outcomes:
        if o.error:
            left.plot(o.start_s, o.client, "rx", markersize=10)
            continue
        first = o.ttft_s if o.ttft_s is not None else o.total_s
        left.broken_barh([(o.start_s, first), (o.start_s + first, o.total_s - first)], (o.client - 0.3, 0.6),
                         facecolors=["lightgrey", CLIENT_COLOURS[o.client % len(CLIENT_COLOURS)]],
                         edgecolor="white")
    left.set_yticks(range(max((o.client for o in outcomes), default=0) + 1))
    left.set(xlabel="time (s)", ylabel="client",
             title="requests: waiting for the first token (grey), streaming (colour), failed (x)")
    left.title.set_fontsize(9)
    if rss:
        right.plot([t for t, _ in rss], [r / 1e6 for _, r in rss])
    right.set(xlabel="time (s)", ylabel="server RSS (MB)", title="server memory")
    right.set_ylim(bottom=0)
    save_figure(fig, path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", help="a running server on loopback (default: start one)")
    ap.add_argument("--pid", type=int, help="with --url: the server's process id, for its RSS")
    ap.add_argument("--api-key", default=os.environ.get("EDGE_RUNTIME_API_KEY", "none"), help="with --url")
    ap.add_argument("--config", help="for the started server, e.g. tests/data/smol.toml")
    ap.add_argument("--threads", type=int)
    ap.add_argument("--memory-budget")
    ap.add_argument("--max-queue", type=int, help="for the started server (default: --clients)")
    ap.add_argument("--model", default="auto", help="comma-separated, cycled over requests (default auto)")
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--requests", type=int, default=3, help="per client")
    ap.add_argument("--max-tokens", type=int, default=32)
    ap.add_argument("--time-limit", type=float, default=600, help="no new request after this many seconds")
    ap.add_argument("--request-timeout", type=float, default=300)
    ap.add_argument("--prompts", default=str(ROOT / "scripts" / "prompts" / "speculative.jsonl"))
    ap.add_argument("--out-dir", default=str(ROOT / "out"))
    args = ap.parse_args()
    if not (0 < args.clients <= 64 and 0 < args.requests <= 100):
        raise SystemExit("--clients must be 1..64 and --requests 1..100: this is a bounded test")
    if args.url and urlparse(args.url).hostname not in LOOPBACK:
        raise SystemExit("--url must be a loopback address: this test does not leave the machine")
    Path(args.out_dir).mkdir(parents=True, exist_ok=True)
    prompts = read_prompts(args.prompts)

    key = args.api_key if args.url else secrets.token_hex(16)
    if args.url:
        proc, url, pid = None, args.url, args.pid
    else:
        proc, url = start_server(args, key)
        pid = proc.pid
    try:
        warm = openai.OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0, timeout=args.request_timeout)
        for model in dict.fromkeys(args.model.split(",")):  # load each model before the clock starts
            try:
                warm.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}],
                                             max_tokens=1)
            except openai.APIError as exc:
                raise SystemExit(f"warm-up request for {model!r} failed: {exc}") from None
        t0 = time.perf_counter()
        sampler = RssSampler(pid, t0) if pid else None
        if sampler:
            sampler.start()
        outcomes = run_clients(args, url, key, prompts, t0)
        wall_s = time.perf_counter() - t0
        peak = sampler.stop() if sampler else 0
    finally:
        if proc is not None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
    samples = sampler.samples if sampler else []
    print(report(args, outcomes, wall_s, peak, samples))
    png = Path(args.out_dir) / "load_test.png"
    plot(png, outcomes, samples)
    print(f"\nplot: {png}")


if __name__ == "__main__":
    main()
