"""Interleaved multi-turn conversations through the OpenAI API: does a server reuse each history?

Four conversations (scripts/prompts/conversations.json: our own ~700-token system prompts, three user
turns each) take turns on one server, one request at a time: turn 1 of A, B, C, D, then turn 2 of each,
and so on; every request resends the whole history, as chat clients do. Time to first token (TTFT) is
timed per request with the official `openai` client, streaming; the total is the sum over all turns.
The same runs against llama.cpp's llama-server on the same model file (`-np 4 --cache-reuse 256`),
built from the llama.cpp sources our llama-cpp-python vendors (scripts/build_llama_tools.sh); both
servers run at once and take turns request by request, so both see the same machine.

    python scripts/bench_conversations.py                   # both servers, writes docs/conversations.*
    python scripts/bench_conversations.py --no-llama-server # ours only

Needs matplotlib for the PNG (`pip install matplotlib`) and the [server] and [dev] extras.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchlib import ROOT, TOOLS, bar_chart, ensure_llama_tools, markdown_table, server  # noqa: E402

PROMPTS = ROOT / "scripts" / "prompts" / "conversations.json"


def ask(client: Any, model: str, messages: list[dict[str, str]], max_tokens: int) -> tuple[str, float, float]:
    """(reply, seconds to the first content piece, seconds to the end), streamed."""
    start = time.perf_counter()
    ttft, parts = None, []
    stream = client.chat.completions.create(model=model, messages=messages, max_tokens=max_tokens,
                                            temperature=0, stream=True)
    for chunk in stream:
        piece = chunk.choices[0].delta.content if chunk.choices else None
        if piece:
            ttft = ttft if ttft is not None else time.perf_counter() - start
            parts.append(piece)
    total = time.perf_counter() - start
    return "".join(parts), ttft if ttft is not None else total, total


def run_conversations(servers: dict[str, tuple[str, str]], convs: list[dict[str, Any]],
                      max_tokens: int) -> dict[str, dict[str, Any]]:
    """Every turn of every conversation, interleaved, on each server: (base URL, model name) by label.

    The servers take turns request by request (one request in flight at a time), so a load on the
    machine that comes and goes falls on both alike; a server's total is the sum of its requests' times.
    """
    from openai import OpenAI

    clients = {label: (OpenAI(base_url=url, api_key="bench", timeout=1800), model)
               for label, (url, model) in servers.items()}
    for client, model in clients.values():
        ask(client, model, [{"role": "user", "content": "Say hello."}], 4)  # load and warm up, not timed
    histories = {label: [[{"role": "system", "content": c["system"]}] for c in convs] for label in clients}
    rows: dict[str, list[dict[str, Any]]] = {label: [] for label in clients}
    turns = len(convs[0]["turns"])
    bar = tqdm(total=turns * len(convs) * len(clients), desc="requests", disable=not sys.stderr.isatty())
    for turn in range(turns):
        for i, conv in enumerate(convs):
            for label, (client, model) in clients.items():
                history = histories[label][i]
                history.append({"role": "user", "content": conv["turns"][turn]})
                reply, ttft, total = ask(client, model, history, max_tokens)
                history.append({"role": "assistant", "content": reply})
                rows[label].append({"conversation": conv["name"], "turn": turn + 1, "ttft_s": ttft,
                                    "total_s": total, "reply": reply})
                bar.write(f"{label} {conv['name']} turn {turn + 1}: TTFT {ttft:.2f} s, {total:.2f} s", file=sys.stderr)
                bar.update()
    bar.close()
    return {label: {"requests": r, "wall_s": sum(x["total_s"] for x in r)} for label, r in rows.items()}


def mean_ttft(result: dict[str, Any], turn: int) -> float:
    values = [r["ttft_s"] for r in result["requests"] if r["turn"] == turn]
    return sum(values) / len(values)


def report(results: dict[str, dict[str, Any]], turns: int, out: Path, meta: dict[str, Any]) -> str:
    """A markdown table (per-turn mean TTFT, turn N / turn 1, total) and a PNG of the TTFTs."""
    names = list(results)
    rows = []
    for turn in range(1, turns + 1):
        row: list[Any] = [f"turn {turn}"]
        for name in names:
            row += [mean_ttft(results[name], turn), mean_ttft(results[name], turn) / mean_ttft(results[name], 1)]
        rows.append(row)
    rows.append(["all turns, s", *[v for name in names for v in (results[name]["wall_s"], float("nan"))]])
    headers = ["", *[h for name in names for h in (f"{name} TTFT s", f"{name} vs turn 1")]]
    table = markdown_table(headers, rows).replace("| nan ", "|  ")
    bar_chart(out.with_suffix(".png"), [f"turn {t}" for t in range(1, turns + 1)],
              {name: [mean_ttft(results[name], t) for t in range(1, turns + 1)] for name in names},
              title=f"4 interleaved conversations, mean TTFT per turn ({meta['model']})", ylabel="seconds")
    out.with_suffix(".json").write_text(json.dumps({"meta": meta, "results": results}, indent=1, ensure_ascii=False))
    return table


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="qwen2.5-coder-1.5b-instruct-q4_k_m", help="catalog name of the file")
    ap.add_argument("--expert", default="code", help="our expert that loads --model")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-tokens", type=int, default=24)
    ap.add_argument("--port", type=int, default=8391)
    ap.add_argument("--no-llama-server", action="store_true")
    ap.add_argument("--conversations", type=int, default=4, help="the first N conversations (a quick check)")
    ap.add_argument("--turns", type=int, default=3, help="the first N turns of each")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "conversations")
    args = ap.parse_args()
    from edge_runtime.models.catalog import resolve

    path = resolve(args.model)
    convs = [{**c, "turns": c["turns"][:args.turns]}
             for c in json.loads(PROMPTS.read_text("utf-8"))["conversations"][:args.conversations]]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    (ROOT / "out").mkdir(exist_ok=True)  # the servers' logs (gitignored)
    ours = [sys.executable, "-m", "edge_runtime.cli.main", "serve", "--port", str(args.port),
            "--threads", str(args.threads)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    servers = {"edge-runtime": (f"http://127.0.0.1:{args.port}/v1", args.expert)}
    with ExitStack() as running:
        running.enter_context(server(ours, f"http://127.0.0.1:{args.port}/health",
                                     ROOT / "out" / "conversations.edge-runtime.log", env))
        if not args.no_llama_server:
            ensure_llama_tools()
            port = args.port + 1
            cmd = [str(TOOLS / "llama-server"), "-m", str(path), "-np", "4", "--cache-reuse", "256",
                   "-c", str(4 * 4096), "-t", str(args.threads), "--port", str(port)]
            running.enter_context(server(cmd, f"http://127.0.0.1:{port}/health",
                                         ROOT / "out" / "conversations.llama-server.log"))
            servers["llama-server"] = (f"http://127.0.0.1:{port}/v1", args.model)
        results = run_conversations(servers, convs, args.max_tokens)
    meta = {"model": path.name, "threads": args.threads, "max_tokens": args.max_tokens,
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    print(report(results, len(convs[0]["turns"]), args.out, meta))


if __name__ == "__main__":
    main()
