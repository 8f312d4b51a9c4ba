"""`edge-runtime`: pull | inspect | devices | run | chat | route | router train | serve | rpc-serve | tune | sandbox.

One module per subcommand group; the shared options and the error boundary live in options.py.
"""
from __future__ import annotations

import argparse
import sys

from edge_runtime.cli import generate, models, router, rpc, sandbox, serve, tune
from edge_runtime.cli.options import guarded


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="edge-runtime", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for group in (models, generate, router, serve, rpc, tune, sandbox):
        group.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return guarded(args.func, args)


if __name__ == "__main__":
    sys.exit(main())
