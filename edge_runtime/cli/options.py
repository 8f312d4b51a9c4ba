"""The options every command shares, declared once, and the one error boundary every subcommand runs in."""
from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from typing import TYPE_CHECKING, Callable

from edge_runtime.config import Config, load_config
from edge_runtime.errors import EdgeRuntimeError

if TYPE_CHECKING:
    from edge_runtime.runtime import Runtime


def config_from_args(args: argparse.Namespace) -> Config:
    cfg = load_config(getattr(args, "config", None))
    execute = getattr(args, "execute_code", None)
    if execute is not None:  # "auto" | "true" | "false", as the config spells it
        cfg = replace(cfg, execute_code={"true": True, "false": False}.get(execute, execute))
    if getattr(args, "gpu_memory_budget", None):
        cfg.gpu_memory_budget = args.gpu_memory_budget
    layers = getattr(args, "gpu_layers", None)
    if layers is not None:  # --gpu-layers N|all: every expert (and its draft) on the accelerator
        for exp in cfg.experts.values():
            exp.gpu_layers = layers if layers == "all" else int(layers)
    return cfg


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
    from edge_runtime.runtime import Runtime

    return Runtime(config_from_args(args), threads=args.threads, memory_budget=args.memory_budget)


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
