"""`edge-runtime rpc-serve` (this machine's CPU/GPU as a llama.cpp RPC device for another machine's
runtime) and `edge-runtime devices` (what the configured RPC servers offer)."""
from __future__ import annotations

import argparse
import ipaddress
import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any


from edge_runtime.models.backends.base import default_threads
from edge_runtime.models.catalog import models_dir
from edge_runtime.cli.options import add_config_option
from edge_runtime.config import load_config
from edge_runtime.rpc.endpoints import RemoteUnavailable, probe
from edge_runtime.errors import ConfigError, EdgeRuntimeError
from edge_runtime.memory.budget import fmt_bytes

EXPOSURE = """\
An RPC server on {host} lets anyone who can reach port {port} run code on this machine's llama.cpp:
the protocol has no authentication and no encryption, and has had remote-code-execution bugs
(CVE-2026-34159, llama.cpp issue 25289). Keep it on loopback and tunnel instead, from the client:
    ssh -N -L {port}:127.0.0.1:{port} user@this-machine
then configure the expert with rpc = ["127.0.0.1:{port}"]."""


def register(subparsers: Any) -> None:
    """Add `rpc-serve` and `devices` to the CLI's subparsers."""
    p = subparsers.add_parser("rpc-serve", help="offer this machine's CPU/GPU to another machine's runtime")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: loopback only)")
    p.add_argument("--port", type=int, default=50052)
    p.add_argument("--cache", default=str(models_dir().parent / "rpc-cache"),
                   help="where received weights are kept, so the next load sends hashes instead (default: %(default)s)")
    p.add_argument("--no-cache", action="store_true", help="keep no weights on disk")
    p.add_argument("--threads", type=int, default=None, help="CPU threads (default: physical cores)")
    p.add_argument("--allow-remote", action="store_true", help="listen beyond loopback (read the warning)")
    p.set_defaults(func=cmd_rpc_serve)

    p = subparsers.add_parser("devices", help="this machine and the RPC servers' devices with their memory")
    add_config_option(p)
    p.add_argument("--rpc", action="append", default=[], help="host:port of a server to list (repeatable)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_devices)


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def cmd_rpc_serve(args: argparse.Namespace) -> int:
    from edge_runtime.models.backends.ggml import name_of
    from edge_runtime.rpc import offload as rpc

    warning = EXPOSURE.format(host=args.host, port=args.port)
    if not is_loopback(args.host):
        if not args.allow_remote:
            raise ConfigError(f"refusing to serve RPC on {args.host} without --allow-remote\n{warning}",
                              "pass --allow-remote only on a network you trust, or tunnel as above")
        print(f"WARNING: {warning}", file=sys.stderr)
    cache = None if args.no_cache else Path(args.cache).expanduser()
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)  # llama.cpp writes into it but does not create it
    devices = rpc.serving_devices()
    print(f"edge-runtime rpc-serve on {args.host}:{args.port}: "
          f"{', '.join(name_of(d) for d in devices)}; one client at a time; Ctrl-C stops", file=sys.stderr)
    sys.stdout.flush()
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # the server loop is C: Python's handler would never run
    rpc.serve(f"{args.host}:{args.port}", str(cache) if cache else None, args.threads or default_threads(), devices)
    raise EdgeRuntimeError(f"the RPC server could not listen on {args.host}:{args.port}",
                           "is the port taken? pick another with --port")


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_local_server(cache: Path | None, threads: int = 1) -> tuple[subprocess.Popen, str]:
    """`rpc-serve` in a subprocess on a free loopback port, returned once it answers a probe
    (for tests and benchmarks: the caller kills it)."""
    port = free_port()
    cmd = [sys.executable, "-m", "edge_runtime.cli.main", "rpc-serve", "--port", str(port), "--threads", str(threads)]
    cmd += ["--cache", str(cache)] if cache else ["--no-cache"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"127.0.0.1:{port}"
    for _ in range(100):
        try:
            probe(endpoint, timeout=1)
            return proc, endpoint
        except RemoteUnavailable:
            time.sleep(0.1)
    proc.kill()
    raise EdgeRuntimeError(f"rpc-serve did not start on {endpoint}")


def _endpoints(args: argparse.Namespace) -> list[str]:
    configured = [ep for exp in load_config(args.config).experts.values() for ep in exp.rpc]
    return list(dict.fromkeys([*args.rpc, *configured]))


def cmd_devices(args: argparse.Namespace) -> int:
    """This machine's devices as llama.cpp sees them (CPU, GPUs), then each RPC server's."""
    from edge_runtime.models.backends.ggml import list_devices

    rows: list[dict[str, Any]] = [{"where": "local", "device": d.name, "free_bytes": d.free, "total_bytes": d.total,
                                   "state": d.type} for d in list_devices() if not d.name.startswith("RPC")]
    for endpoint in _endpoints(args):
        try:
            rows += [{"where": endpoint, "device": f"#{d.index}", "free_bytes": d.free, "total_bytes": d.total,
                      "state": "up"} for d in probe(endpoint)]
        except RemoteUnavailable as exc:
            rows.append({"where": endpoint, "device": "-", "free_bytes": 0, "total_bytes": 0, "state": exc.message})
    if args.json:
        print(json.dumps(rows))
        return 0
    for r in rows:
        print(f"{r['where']:24s} {r['device']:8s} {fmt_bytes(r['free_bytes']):>10s} free of "
              f"{fmt_bytes(r['total_bytes']):>10s}  {r['state']}")
    return 0
