"""`edge-runtime serve`: the OpenAI-compatible endpoint (edge_runtime.server) behind uvicorn.

FastAPI and uvicorn are imported only when the command runs, so an install without the `[server]`
extra keeps every other command.
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Any

from edge_runtime.cli.options import add_runtime_options, open_runtime
from edge_runtime.errors import ConfigError, EdgeRuntimeError
from edge_runtime.sampling import SamplingParams

SERVER_PACKAGES = {"fastapi", "uvicorn", "starlette", "pydantic"}
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def register(subparsers: Any) -> None:
    """Add the `serve` subcommand to the CLI's subparsers."""
    p = subparsers.add_parser("serve", help="an OpenAI-compatible HTTP endpoint (needs edge-runtime[server])")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback only)")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--api-key", default=os.environ.get("EDGE_RUNTIME_API_KEY"),
                   help="require `Authorization: Bearer KEY` (default: $EDGE_RUNTIME_API_KEY, or none)")
    add_runtime_options(p)
    p.add_argument("--preload", default="",
                   help="experts to load before listening, comma-separated, so the first request does not wait for a "
                        "load (default: the config's first expert, its strongest; 'none': load each on first use)")
    p.add_argument("--max-queue", type=int, default=8,
                   help="requests that may wait behind the running ones; more get 429 (default 8)")
    p.add_argument("--parallel", type=int, default=0,
                   help="requests decoded together in one batch, each in its own KV cache lane (default: the "
                        "config's `parallel`)")
    p.set_defaults(func=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from edge_runtime.server.app import ServerSettings, create_app
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] not in SERVER_PACKAGES:
            raise
        raise ConfigError(f"`serve` needs {exc.name}, which is not installed",
                          "install edge-runtime[server]  (pip install 'edge-runtime[server]')") from None
    if args.max_queue < 0:
        raise ConfigError(f"--max-queue must be >= 0, got {args.max_queue}")
    if not 0 < args.port < 65536:
        raise ConfigError(f"--port must be between 1 and 65535, got {args.port}")
    if args.host not in LOOPBACK and not args.api_key:
        print(f"warning: listening on {args.host} without --api-key: anyone who can reach it can use it",
              file=sys.stderr)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(name)s: %(message)s")
    runtime = open_runtime(args)
    try:
        parallel = args.parallel or runtime.config.parallel
        runtime.serve_parallel(parallel)  # before preloading: models load with a KV lane per parallel request
        preload(runtime, args.preload)
        app = create_app(runtime, ServerSettings(api_key=args.api_key, max_queue=args.max_queue, parallel=parallel))
        uvicorn.run(app, host=args.host, port=args.port, log_level="info", timeout_graceful_shutdown=5)
    finally:
        runtime.close()
    return 0


def preload(runtime: Any, spec: str) -> None:
    """Load the named experts with their draft models (and the router) now; one that cannot load is
    reported, and the server still starts: the request that needs it gets the error, as without preloading."""
    if spec.strip().lower() == "none":
        return
    names = [n.strip() for n in spec.split(",") if n.strip()] or [next(iter(runtime.config.experts))]
    runtime.route("warm up")
    for name in names:
        try:
            exp = runtime.config.expert(name)
            target = runtime.loader.expert(exp.name)
            runtime.drafters.create(exp, target, runtime.config.speculative.draft, SamplingParams(), [])
            print(f"preloaded expert {name!r}", file=sys.stderr)
        except EdgeRuntimeError as exc:
            print(f"warning: expert {name!r} not preloaded: {exc}", file=sys.stderr)
