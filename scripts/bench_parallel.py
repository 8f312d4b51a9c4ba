"""Parallel clients: do N requests asked at once finish sooner than the same N asked one after another?

Each round, each server answers N prompts one after another, then N others all at once from N client
threads (two disjoint sets cycling through the kinds of scripts/prompts/speculative.jsonl, our own; the
next round swaps the sets, so over an even number of rounds both ways answer the same prompts) (the official `openai`
client, greedy, `max_tokens` each). The gain is the sequential wall time over the concurrent one. Servers:
ours with `--parallel N` (continuous batching: the requests decode together, one KV lane each), ours with
`--parallel 1` (a FIFO, one at a time), and llama.cpp's llama-server on the same file with `-np N`, built
from the llama.cpp sources our llama-cpp-python vendors (scripts/build_llama_tools.sh). Rounds alternate
the servers, so a load on the machine that comes and goes falls on each alike; only one server works
at a time (llama.cpp's threads spin: two busy servers on two cores would time each other's contention).
Replies run to `max_tokens` on these prompts, so both ways write the same number of tokens (the table
shows both).

    python scripts/bench_parallel.py                        # writes docs/parallel.md and .png
    python scripts/bench_parallel.py --no-llama-server --rounds 1 --max-tokens 32

Needs the [server] and [dev] extras, and matplotlib for the PNG.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import ROOT, TOOLS, bar_chart, ensure_llama_tools, markdown_table, read_records, server  # noqa: E402

PROMPTS = ROOT / "scripts" / "prompts" / "speculative.jsonl"


def prompt_sets(n: int) -> tuple[list[str], list[str]]:
    """Two disjoint sets of n prompts, each cycling through the kinds: each round asks one set one after
    another and the other at once, and the next round swaps them. Asking the same prompts both ways
    would let the second way draft its replies from the first's (our lookup drafts from earlier replies)."""
    rows = read_records(PROMPTS)
    kinds = sorted({r["kind"] for r in rows})
    by_kind = {k: [r["prompt"] for r in rows if r["kind"] == k] for k in kinds}
    pick = [[by_kind[kinds[i % len(kinds)]][2 * (i // len(kinds)) + which] for i in range(n)] for which in (0, 1)]
    return pick[0], pick[1]


def ask(client: Any, model: str, prompt: str, max_tokens: int) -> tuple[str, int]:
    """(reply text, completion tokens) of one greedy chat request."""
    reply = client.chat.completions.create(model=model, messages=[{"role": "user", "content": prompt}],
                                           max_tokens=max_tokens, temperature=0)
    return reply.choices[0].message.content or "", reply.usage.completion_tokens if reply.usage else 0


def tagged(texts: list[str], rnd: int) -> list[str]:
    """The prompts behind a ticket line of the round, so a later round is not answered from a cache of an
    earlier one's identical prompt (both servers keep prompt caches)."""
    return [f"Ticket {rnd}-{i}.\n{t}" for i, t in enumerate(texts)]


def one_round(client: Any, model: str, sets: tuple[list[str], list[str]], max_tokens: int,
              rnd: int) -> dict[str, Any]:
    """One set one after another, then the other all at once: wall seconds and tokens of each way."""
    one_by_one, at_once = sets if rnd % 2 == 0 else sets[::-1]
    started = time.perf_counter()
    alone = [ask(client, model, t, max_tokens) for t in tagged(one_by_one, rnd)]
    sequential_s = time.perf_counter() - started
    started = time.perf_counter()
    with ThreadPoolExecutor(len(at_once)) as pool:
        together = list(pool.map(lambda t: ask(client, model, t, max_tokens), tagged(at_once, rnd)))
    concurrent_s = time.perf_counter() - started
    return {"sequential_s": sequential_s, "concurrent_s": concurrent_s,
            "tokens_sequential": sum(n for _, n in alone), "tokens_concurrent": sum(n for _, n in together)}


def report(results: dict[str, list[dict[str, Any]]], out: Path, meta: dict[str, Any]) -> str:
    rows, gains = [], {}
    for label, rounds in results.items():
        seq = sum(r["sequential_s"] for r in rounds)
        par = sum(r["concurrent_s"] for r in rounds)
        tokens = sum(r["tokens_concurrent"] for r in rounds)
        gains[label] = seq / par
        rows.append([label, f"{seq:.1f}", f"{par:.1f}", f"**{seq / par:.2f}x**",
                     f"{sum(r['tokens_sequential'] for r in rounds) / seq:.2f}", f"{tokens / par:.2f}"])
    table = markdown_table(["server", "one after another, s", "all at once, s", "gain", "tok/s one by one",
                            "tok/s at once"], rows)
    bar_chart(out.with_suffix(".png"), list(gains), {"gain": list(gains.values())},
              title=f"{meta['clients']} clients at once vs one after another ({meta['model']})",
              ylabel="sequential time / concurrent time")
    out.with_suffix(".json").write_text(json.dumps({"meta": meta, "results": results}, indent=1))
    return table


def servers_to_run(args: argparse.Namespace, path: Path, running: ExitStack) -> dict[str, tuple[str, str]]:
    """Start each server (ours at --parallel N and 1, and llama-server) and return label -> (URL, model)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    found: dict[str, tuple[str, str]] = {}
    for offset, parallel in enumerate((args.clients, 1)):
        port = args.port + offset
        cmd = [sys.executable, "-m", "edge_runtime.cli.main", "serve", "--port", str(port), "--threads",
               str(args.threads), "--parallel", str(parallel), "--max-queue", str(args.clients)]
        running.enter_context(server(cmd, f"http://127.0.0.1:{port}/health",
                                     ROOT / "out" / f"parallel.edge-runtime-{parallel}.log", env))
        found[f"edge-runtime --parallel {parallel}"] = (f"http://127.0.0.1:{port}/v1", args.expert)
    if not args.no_llama_server:
        ensure_llama_tools()
        port = args.port + 2
        cmd = [str(TOOLS / "llama-server"), "-m", str(path), "-np", str(args.clients), "-c",
               str(args.clients * 4096), "-t", str(args.threads), "--port", str(port)]
        running.enter_context(server(cmd, f"http://127.0.0.1:{port}/health", ROOT / "out" / "parallel.llama-server.log"))
        found[f"llama-server -np {args.clients}"] = (f"http://127.0.0.1:{port}/v1", args.model)
    return found


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="qwen2.5-coder-1.5b-instruct-q4_k_m", help="catalog name of the file")
    ap.add_argument("--expert", default="code", help="our expert that loads --model")
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-tokens", type=int, default=96)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--port", type=int, default=8491)
    ap.add_argument("--no-llama-server", action="store_true")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "parallel")
    args = ap.parse_args()
    from openai import OpenAI

    from edge_runtime.models.catalog import resolve

    path = resolve(args.model)
    sets = prompt_sets(args.clients)
    (ROOT / "out").mkdir(exist_ok=True)  # the servers' logs (gitignored)
    results: dict[str, list[dict[str, Any]]] = {}
    with ExitStack() as running:
        found = servers_to_run(args, path, running)
        clients = {label: (OpenAI(base_url=url, api_key="bench", timeout=1800, max_retries=0), model)
                   for label, (url, model) in found.items()}
        for client, model in clients.values():
            ask(client, model, "Hello!", 4)  # loads what the first request would (router, tokenizer caches)
        for rnd in range(args.rounds):
            for label, (client, model) in clients.items():
                results.setdefault(label, []).append(one_round(client, model, sets, args.max_tokens, rnd))
                print(f"round {rnd + 1} {label}: {results[label][-1]}", file=sys.stderr)
    meta = {"model": path.name, "threads": args.threads, "clients": args.clients, "max_tokens": args.max_tokens,
            "rounds": args.rounds, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    print(report(results, args.out, meta))


if __name__ == "__main__":
    main()
