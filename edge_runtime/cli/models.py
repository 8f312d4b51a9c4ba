"""`edge-runtime pull` and `inspect`: models into the models directory, and what a file will cost."""
from __future__ import annotations

import argparse
import json

from edge_runtime.cli.options import add_config_option, config_from_args, models_of
from edge_runtime.memory.budget import estimate_footprint, fmt_bytes
from edge_runtime.models.backends.base import default_threads
from edge_runtime.models.catalog import is_verified, load_catalog, models_dir, pull, resolve
from edge_runtime.models.header import read_gguf
from edge_runtime.tuning.profile import describe


def cmd_pull(args: argparse.Namespace) -> int:
    catalog = load_catalog()
    if args.list:
        for name, entry in catalog.items():
            state = "ready" if is_verified(entry) else "-"
            print(f"{name:40s} {fmt_bytes(entry.size):>10s}  {state}")
        print(f"models directory: {models_dir()}")
        return 0
    names = args.names or [r for r in models_of(config_from_args(args)) if r in catalog]
    for name in names:
        path = pull(name)
        print(f"{name}: {path}")
    return 0


def cmd_inspect(args: argparse.Namespace) -> int:
    cfg = config_from_args(args)
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


def register(sub: argparse._SubParsersAction) -> None:
    """Add `pull` and `inspect`."""
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
