"""An expert on this machine vs on llama.cpp RPC servers over loopback: load time (cold: the servers'
tensor caches empty; cached: the second load), time to first token, decode tokens/s, and what crosses
the sockets per generated token (the kernel's TCP counters of the servers' connections, over the
decode alone).

    .venv/bin/python scripts/bench_rpc.py --model smollm2-135m-instruct-q4_1 --max-tokens 64 --out-dir out/

Loopback has no latency to speak of, so the last columns add what a real network would: every
generated token waits for at least one round trip per remote device (activations in, results out).
"""
from __future__ import annotations

import argparse
import re
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from benchlib import ROOT, bar_chart, markdown_table

from edge_runtime.config import parse_config
from edge_runtime.cli.rpc import start_local_server
from edge_runtime.runtime import Runtime

PROMPT = "Write a short story about a lighthouse keeper who finds a message in a bottle."
LAYOUTS = {"local": (0, []), "local+1 (half)": (1, [1, 1]), "1 server": (1, [0, 1]), "2 servers": (2, [0, 1, 1])}
NETWORKS = {"LAN 1 Gbit/s, 0.3 ms": (0.3e-3, 125e6), "Wi-Fi 100 Mbit/s, 3 ms": (3e-3, 12.5e6)}


def _counter(ss_output: str, key: str) -> int:
    return sum(int(v) for v in re.findall(rf"\b{key}:(\d+)", ss_output))


def socket_counters(endpoints: list[str]) -> tuple[int, int]:
    """(bytes both ways, data segments the servers sent) on the servers' connections so far, from the
    kernel's TCP counters (`ss -ti`): what crosses the sockets, whatever wrote it."""
    total, replies = 0, 0
    for endpoint in endpoints:
        port = endpoint.rsplit(":", 1)[1]
        out = subprocess.run(["ss", "-tinH", "state", "established", f"( sport = :{port} )"],
                             capture_output=True, text=True, check=True).stdout
        total += _counter(out, "bytes_sent") + _counter(out, "bytes_received")
        replies += _counter(out, "data_segs_out")
    return total, replies


def runtime(model: str, endpoints: list[str], split: list[float], threads: int) -> Runtime:
    expert: dict[str, Any] = {"model": model} | ({"rpc": endpoints, "tensor_split": split} if endpoints else {})
    return Runtime(parse_config({"experts": {"e": expert}, "context": 1024}, "bench"), threads=threads)


def load_seconds(rt: Runtime) -> float:
    started = time.perf_counter()
    rt.loader.expert("e")
    return time.perf_counter() - started


def measure(model: str, n_servers: int, split: list[float], args: argparse.Namespace) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as cache:
        servers = [start_local_server(Path(cache) / str(i), args.threads) for i in range(n_servers)]
        endpoints = [ep for _, ep in servers]
        try:
            rt = runtime(model, endpoints, split, args.threads)
            cold = load_seconds(rt)
            rt.close()
            rt = runtime(model, endpoints, split, args.threads)
            cached = load_seconds(rt)
            rt.generate(PROMPT, expert="e", draft="none", max_tokens=4)  # warm the compute graphs
            rt.loader.expert("e").truncate(0)
            before = socket_counters(endpoints)
            result = rt.generate(PROMPT, expert="e", draft="none", max_tokens=args.max_tokens)
            after = socket_counters(endpoints)
            rt.close()
        finally:
            for proc, _ in servers:
                proc.kill()
                proc.wait()
    s, n = result.stats, max(1, result.stats.completion_tokens + 1)  # + the prompt's step
    return {"cold": cold, "cached": cached, "ttft": s.ttft_s, "tps": s.tokens_per_s,
            "bytes": (after[0] - before[0]) / n, "replies": (after[1] - before[1]) / n, "devices": n_servers}


def network_cost(row: dict[str, float], rtt: float, bandwidth: float) -> float:
    """Seconds a real network adds per token: one round trip per remote device, plus the bytes' time."""
    return row["devices"] * rtt + row["bytes"] / bandwidth


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", default="smollm2-135m-instruct-q4_1")
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out-dir", default=str(ROOT / "out"))
    args = ap.parse_args()
    results = {name: measure(args.model, n, split, args) for name, (n, split) in LAYOUTS.items()}
    headers = ["layout", "load cold s", "load cached s", "TTFT s", "tok/s", "KB/token", "server replies/token"]
    headers += [f"ms/token added, at least, on {net}" for net in NETWORKS]
    rows = [[name, r["cold"], r["cached"], r["ttft"], r["tps"], r["bytes"] / 1e3, r["replies"],
             *[1e3 * network_cost(r, *net) for net in NETWORKS.values()]] for name, r in results.items()]
    print(f"{args.model}, {args.max_tokens} tokens, greedy, no draft, {args.threads} thread(s) per process\n")
    print(markdown_table(headers, rows))
    out = Path(args.out_dir)
    bar_chart(out / "bench_rpc.png", list(results), {
        "tok/s": [r["tps"] for r in results.values()],
        "TTFT ms": [1e3 * r["ttft"] for r in results.values()],
        "cold load s x10": [10 * r["cold"] for r in results.values()],
        "cached load s x10": [10 * r["cached"] for r in results.values()]},
        title=f"{args.model}: local vs loopback RPC servers", ylabel="value (see legend)")
    print(f"\nchart: {out / 'bench_rpc.png'}")


if __name__ == "__main__":
    main()
