"""`edge-runtime`: pull | inspect | devices | run | chat | route | router train | serve | rpc-serve | tune.

The one CLI layer: the options every command shares (config, memory budget, threads) are declared
here once, a Runtime is built from them in one place, and every subcommand, `edge-quantize` included,
runs inside one error boundary that turns an EdgeRuntimeError into its message, hint and exit code.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Callable

from .catalog import is_verified, load_catalog, models_dir, pull, resolve
from .backends.base import default_threads
from .config import DRAFT_MODES, VERIFY_MODES, Config, load_config
from .errors import EdgeRuntimeError, PromptError
from .gguf_file import read_gguf
from .jsonl import read_prompts
from .memory import estimate_footprint, fmt_bytes
from .profile import describe
from .sampling import SamplingParams

if TYPE_CHECKING:
    from .runtime import Runtime


def _config(args: argparse.Namespace) -> Config:
    cfg = load_config(getattr(args, "config", None))
    if getattr(args, "execute_code", False):
        cfg = replace(cfg, execute_code=True)
    if getattr(args, "gpu_memory_budget", None):
        cfg.gpu_memory_budget = args.gpu_memory_budget
    layers = getattr(args, "gpu_layers", None)
    if layers is not None:  # --gpu-layers N|all: every expert (and its draft) on the accelerator
        for exp in cfg.experts.values():
            exp.gpu_layers = layers if layers == "all" else int(layers)
    return cfg


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


def add_config_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", metavar="FILE", help="a TOML file merged over the packaged defaults")


def add_runtime_options(p: argparse.ArgumentParser) -> None:
    """What every command that loads experts takes."""
    add_config_option(p)
    p.add_argument("--memory-budget", default=None, help="e.g. 1.5GB, 70%%, auto")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--gpu-layers", default=None, metavar="N|all",
                   help="layers of each expert on the accelerator (llama.cpp counts the output layer first)")
    p.add_argument("--gpu-memory-budget", default=None, help="device bytes for offloaded layers: auto, 80%%, 6GB")


def open_runtime(args: argparse.Namespace) -> "Runtime":
    from .runtime import Runtime

    return Runtime(_config(args), threads=args.threads, memory_budget=args.memory_budget)


def guarded(command: Callable[[argparse.Namespace], int | None], args: argparse.Namespace) -> int:
    """The error boundary: a problem the user can act on is printed with its hint, never a traceback."""
    try:
        return int(command(args) or 0)
    except EdgeRuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130


def models_of(cfg: Config) -> list[str]:
    """Every model reference the configuration names (experts, then their drafts), once each."""
    refs = [e.model for e in cfg.experts.values()] + [e.draft for e in cfg.experts.values() if e.draft]
    return list(dict.fromkeys(refs))


def cmd_pull(args: argparse.Namespace) -> int:
    catalog = load_catalog()
    if args.list:
        for name, entry in catalog.items():
            state = "ready" if is_verified(entry) else "-"
            print(f"{name:40s} {fmt_bytes(entry.size):>10s}  {state}")
        print(f"models directory: {models_dir()}")
        return 0
    names = args.names or [r for r in models_of(_config(args)) if r in catalog]
    for name in names:
        path = pull(name)
        print(f"{name}: {path}")
    return 0


def cmd_inspect(args: argparse.Namespace) -> int:
    cfg = _config(args)
    path = resolve(args.model)
    info = read_gguf(path)
    n_ctx = args.context or cfg.context
    fp = estimate_footprint(path, n_ctx, args.kv_type or cfg.kv_type, cfg.batch, repack=cfg.repack,
                            mmap=cfg.mmap and not cfg.repack)
    rows = [("file", path.name), ("architecture", info.arch), ("name", info.get("general.name", "")),
            ("parameters", f"{info.n_params / 1e6:.1f} M"), ("quantization", info.file_type),
            ("file size", fmt_bytes(info.file_size)), ("layers", info.n_layer),
            ("heads / kv heads", f"{info.n_head} / {info.n_head_kv}"), ("vocab", info.vocab_size),
            ("tokenizer", info.get("tokenizer.ggml.model", "")), ("context (trained)", info.context_length),
            ("chat template", "yes" if info.chat_template else "no"),
            ("tuned profile", describe(path, cfg.threads or default_threads())),
            (f"planned memory @ {n_ctx} ctx", f"{fmt_bytes(fp.total)} = weights {fmt_bytes(fp.weights)} "
                                               f"+ KV {fmt_bytes(fp.kv_cache)} + compute {fmt_bytes(fp.compute)}")]
    if args.json:
        print(json.dumps({k: v for k, v in rows} | {"footprint_bytes": fp.total}, default=str))
    else:
        for key, value in rows:
            print(f"{key:28s} {value}")
    return 0


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
    p.add_argument("--execute-code", action="store_true",
                   help="verified fusion may run model-written code in the sandbox (see docs/sandbox.md for the risks)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="edge-runtime", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("pull", help="fetch catalog models into the models directory")
    p.add_argument("names", nargs="*", help="catalog names (default: every model the config uses)")
    p.add_argument("--list", action="store_true", help="list the catalog and what is ready")
    add_config_option(p)
    p.set_defaults(func=cmd_pull)

    p = sub.add_parser("inspect", help="what a model file is and what it will cost in memory")
    p.add_argument("model", help="catalog name, path, or hf://owner/repo/file.gguf")
    p.add_argument("--context", type=int, default=0)
    p.add_argument("--kv-type", default=None)
    p.add_argument("--json", action="store_true")
    add_config_option(p)
    p.set_defaults(func=cmd_inspect)

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

    from . import rpc_cli, tune
    from .server import cli as server_cli
    from .router import cli as router_cli

    router_cli.register(sub)
    server_cli.register(sub)
    rpc_cli.register(sub)
    tune.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return guarded(args.func, args)


if __name__ == "__main__":
    sys.exit(main())
