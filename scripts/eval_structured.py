"""Tool-use and JSON-schema rates of a model, through the official `openai` client against the real
server: data/structured/tools.jsonl (right function and arguments, or no call when none is due) and
data/structured/schemas.jsonl (replies that validate). Greedy decoding; writes a JSON of every reply.

    python scripts/eval_structured.py [--model qwen2.5-coder-1.5b-instruct-q4_k_m] [--only tools|schemas]

Without --model the server runs the packaged default team (what `edge-runtime serve` runs); with it, one
expert that loads that model and serves every domain.
"""
from __future__ import annotations

import argparse
import json
import socket
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import jsonschema
import openai
import uvicorn
from tqdm import tqdm

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from edge_runtime.config import load_config  # noqa: E402
from edge_runtime.runtime import Runtime  # noqa: E402
from edge_runtime.server.app import ServerSettings, create_app  # noqa: E402

DATA = ROOT / "data" / "structured"
CONFIG = 'inherit = false\ntuned = false\ncontext = 2048\ndefault_expert = "main"\n[experts.main]\nmodel = "{model}"\ndomains = ["general", "code", "math", "writing"]\n'


@contextmanager
def served(model: str | None, threads: int) -> Iterator[openai.OpenAI]:
    """The server on a free loopback port, in this process: the default team, or one expert `model`."""
    if model is None:
        runtime = Runtime(load_config(None), threads=threads)
    else:
        with tempfile.NamedTemporaryFile("w", suffix=".toml", delete=False) as f:
            f.write(CONFIG.format(model=model))
        runtime = Runtime(load_config(f.name), threads=threads)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    srv = uvicorn.Server(uvicorn.Config(create_app(runtime, ServerSettings()), log_level="warning"))
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not srv.started:
        time.sleep(0.1)
    try:
        yield openai.OpenAI(base_url=f"http://127.0.0.1:{sock.getsockname()[1]}/v1", api_key="none",
                            max_retries=0, timeout=900)
    finally:
        srv.should_exit = True
        thread.join(30)
        runtime.close()


def _matches(value: Any, accepted: list[Any]) -> bool:
    norm = (lambda v: v.strip().lower() if isinstance(v, str) else v)
    return any(norm(value) == norm(a) or (isinstance(a, (int, float)) and value == a) for a in accepted)


def judge_tool(task: dict[str, Any], calls: list[Any]) -> bool:
    """Exactly the expected call with the expected arguments, or no call when none is expected."""
    expect = task["expect"]
    if expect is None:
        return not calls
    if len(calls) != 1 or calls[0].function.name != expect["name"]:
        return False
    args = json.loads(calls[0].function.arguments)
    return (all(k in args and _matches(args[k], v) for k, v in expect.get("args", {}).items())
            and all(isinstance(args.get(k), str) and all(s.lower() in args[k].lower() for s in subs)
                    for k, subs in expect.get("contains", {}).items()))


def show(row: dict[str, Any], ok: bool, what: Any) -> None:
    """One line per task as it ends (long runs on a shared CPU are watched, and may be cut short)."""
    print(f"  {'ok ' if ok else 'BAD'} {row['id']} ({row['seconds']}s, {row['finish']}): {what}", flush=True)


def run_tools(client: openai.OpenAI, max_tokens: int, skip: int = 0) -> list[dict[str, Any]]:
    toolbox = {t["function"]["name"]: t for t in json.loads((DATA / "toolbox.json").read_text())}
    tasks = [json.loads(line) for line in (DATA / "tools.jsonl").read_text().splitlines() if line.strip()][skip:]
    rows = []
    for task in tqdm(tasks, desc="tools", disable=not sys.stderr.isatty()):
        started = time.perf_counter()
        reply = client.chat.completions.create(model="auto", temperature=0, max_tokens=max_tokens,
                                               messages=[{"role": "user", "content": task["prompt"]}],
                                               tools=[toolbox[n] for n in task["tools"]])
        msg = reply.choices[0].message
        calls = msg.tool_calls or []
        rows.append({"id": task["id"], "lang": task["lang"], "right": judge_tool(task, calls),
                     "calls": [[c.function.name, c.function.arguments] for c in calls], "content": msg.content,
                     "finish": reply.choices[0].finish_reason, "seconds": round(time.perf_counter() - started, 2)})
        show(rows[-1], rows[-1]["right"], rows[-1]["calls"] or repr((msg.content or "")[:60]))
    return rows


def run_schemas(client: openai.OpenAI, max_tokens: int, skip: int = 0) -> list[dict[str, Any]]:
    tasks = [json.loads(line) for line in (DATA / "schemas.jsonl").read_text().splitlines() if line.strip()][skip:]
    rows = []
    for task in tqdm(tasks, desc="schemas", disable=not sys.stderr.isatty()):
        started = time.perf_counter()
        reply = client.chat.completions.create(
            model="auto", temperature=0, max_tokens=max_tokens,
            messages=[{"role": "user", "content": task["prompt"]}],
            response_format={"type": "json_schema", "json_schema": {"name": task["id"].replace("-", "_"),
                                                                    "schema": task["schema"], "strict": True}})
        text = reply.choices[0].message.content or ""
        try:
            jsonschema.validate(json.loads(text), task["schema"])
            valid = True
        except (json.JSONDecodeError, jsonschema.ValidationError):
            valid = False
        rows.append({"id": task["id"], "lang": task["lang"], "valid": valid, "text": text,
                     "finish": reply.choices[0].finish_reason, "seconds": round(time.perf_counter() - started, 2)})
        show(rows[-1], valid, text[:80])
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None, help="one model as the only expert (default: the packaged team)")
    ap.add_argument("--only", choices=["tools", "schemas"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-tokens", type=int, default=384)
    ap.add_argument("--skip", type=int, default=0, help="start at this task of each set (to split a run)")
    ap.add_argument("--out", default=str(ROOT / "scripts" / "results" / "eval_structured.json"))
    args = ap.parse_args()
    results: dict[str, Any] = {"model": args.model or "default team"}
    with served(args.model, args.threads) as client:
        if args.only in (None, "tools"):
            rows = results["tools"] = run_tools(client, args.max_tokens, args.skip)
            right = sum(r["right"] for r in rows)
            print(f"tools: {right}/{len(rows)} right ({100 * right / len(rows):.0f}%)", flush=True)
        if args.only in (None, "schemas"):
            rows = results["schemas"] = run_schemas(client, args.max_tokens, args.skip)
            valid = sum(r["valid"] for r in rows)
            print(f"schemas: {valid}/{len(rows)} valid; finish=length: {sum(r['finish'] == 'length' for r in rows)}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
