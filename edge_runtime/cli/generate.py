"""`edge-runtime run` and `chat`: prompts answered, streamed, with the account of each reply."""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from edge_runtime.cli.options import add_runtime_options, open_runtime
from edge_runtime.config import DRAFT_MODES, VERIFY_MODES
from edge_runtime.errors import PromptError
from edge_runtime.jsonl import read_prompts
from edge_runtime.sampling import SamplingParams


class _StatusLine:
    """Fusion progress on one stderr line while the answer waits, cleared before the answer; only on a TTY."""

    def __init__(self) -> None:
        self.shown = False

    def __call__(self, text: str) -> None:
        if sys.stderr.isatty():
            print(f"\r\x1b[2K{text}", end="", file=sys.stderr, flush=True)
            self.shown = True

    def clear(self) -> None:
        if self.shown:
            print("\r\x1b[2K", end="", file=sys.stderr, flush=True)
            self.shown = False


def _sampling(args: argparse.Namespace) -> SamplingParams:
    return SamplingParams(temperature=args.temperature, top_k=args.top_k, top_p=args.top_p, min_p=args.min_p,
                          repeat_penalty=args.repeat_penalty, seed=args.seed)


def _prompts(args: argparse.Namespace) -> list[str]:
    if args.prompts_file:
        return read_prompts(args.prompts_file)
    if args.prompt is None:
        raise PromptError("no prompt given", "pass a PROMPT argument or --prompts-file FILE.jsonl")
    return [args.prompt]


def _summary(result: Any) -> str:
    s = result.stats
    spec = f", accepted {s.accepted}/{s.drafted} ({s.acceptance_rate:.0%})" if s.drafted else ""
    return (f"[{result.route.expert} · {result.route.domain} · draft {result.draft}] {s.completion_tokens} tokens, "
            f"{s.tokens_per_s:.1f} tok/s{spec}, ttft {s.ttft_s:.2f}s")


def cmd_run(args: argparse.Namespace) -> int:
    if args.max_tokens < 1:
        raise PromptError(f"--max-tokens must be at least 1, got {args.max_tokens}")
    params = _sampling(args)
    prompts = _prompts(args)
    runtime = open_runtime(args)
    status = _StatusLine()
    try:
        for prompt in prompts:
            gen = runtime.stream(prompt, expert=args.expert, draft=args.draft, max_tokens=args.max_tokens,
                                 params=params, raw=args.raw, progress=status, verify=args.verify)
            for piece in gen:
                status.clear()
                if not args.json:
                    print(piece, end="", flush=True)
            assert gen.result is not None
            if args.json:
                print(json.dumps(gen.result.as_dict(), ensure_ascii=False), flush=True)
            else:
                print()
                print(_summary(gen.result), file=sys.stderr)
                for note in gen.result.notes:
                    print(f"note: {note}", file=sys.stderr)
    finally:
        runtime.close()
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    runtime = open_runtime(args)
    messages: list[dict[str, str]] = []
    status = _StatusLine()
    print("edge-runtime chat: empty line or Ctrl-D to quit", file=sys.stderr)
    try:
        while True:
            try:
                line = input("> ")
            except EOFError:
                break
            if not line.strip():
                break
            messages.append({"role": "user", "content": line})
            gen = runtime.stream(messages, expert=args.expert, draft=args.draft, max_tokens=args.max_tokens,
                                 params=_sampling(args), progress=status, verify=args.verify)
            for piece in gen:
                status.clear()
                print(piece, end="", flush=True)
            print()
            assert gen.result is not None
            print(_summary(gen.result), file=sys.stderr)
            messages.append({"role": "assistant", "content": gen.result.text})
    finally:
        runtime.close()
    return 0


def _add_generation_options(p: argparse.ArgumentParser) -> None:
    add_runtime_options(p)
    p.add_argument("--expert", default="auto", help="an expert name, or auto to route (default)")
    p.add_argument("--draft", choices=DRAFT_MODES, default=None, help="drafter (default: from config, auto)")
    p.add_argument("--verify", choices=VERIFY_MODES, default=None,
                   help="exact: identical to plain greedy; fast: long drafts (default: config, then tuned)")
    p.add_argument("--max-tokens", type=int, default=256)
    p.add_argument("--temperature", type=float, default=0.0, help="0 = greedy (default)")
    p.add_argument("--top-p", type=float, default=1.0)
    p.add_argument("--top-k", type=int, default=0)
    p.add_argument("--min-p", type=float, default=0.0)
    p.add_argument("--repeat-penalty", type=float, default=1.0)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--execute-code", nargs="?", const="true", choices=("auto", "true", "false"), default=None,
                   help="verified fusion runs model-written code in the sandbox: auto (default: only inside the "
                        "kernel's fence), true (also without it; bare --execute-code), false (see docs/sandbox.md)")


def register(sub: argparse._SubParsersAction) -> None:
    """Add `run` and `chat`."""
    p = sub.add_parser("run", help="answer prompts, streamed, with routing and speculative decoding")
    p.add_argument("prompt", nargs="?")
    _add_generation_options(p)
    p.add_argument("--json", action="store_true", help="one JSON object per prompt instead of streaming")
    p.add_argument("--prompts-file", help='JSONL of {"prompt": ...} (or {"text": ...}) lines, answered in one process')
    p.add_argument("--raw", action="store_true", help="no chat template: plain completion of the prompt")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("chat", help="an interactive conversation in the terminal")
    _add_generation_options(p)
    p.set_defaults(func=cmd_chat)
