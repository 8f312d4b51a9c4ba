"""`edge-runtime sandbox check | run`: which fence layers this machine allows, and running one file
exactly as a candidate's code is run (for users, for tests, for anyone auditing the fence)."""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path

from edge_runtime.cli.options import add_config_option, config_from_args
from edge_runtime.errors import ConfigError, PromptError
from edge_runtime.evidence.layers import allowed, probe, refusal
from edge_runtime.evidence.sandbox import Limits, run_python

_MAX_SOURCE = 1 << 20  # a candidate file larger than the sandbox's own file-size limit is refused


def verdict(execute_code: str | bool) -> str:
    """What verified fusion will do with model code under this setting, on this machine."""
    why = refusal(execute_code)
    name = {True: "true", False: "false"}.get(execute_code, execute_code)  # type: ignore[arg-type]
    if why:
        return f"execute_code = {name}: model-written code will NOT run: {why}"
    if not probe().strong:
        return f"execute_code = {name}: model-written code runs WITHOUT the kernel fence ({probe().missing}), warned"
    return f"execute_code = {name}: model-written code runs inside the fence; fusion = \"auto\" verifies prompts with evidence"


def cmd_check(args: argparse.Namespace) -> int:
    layers = probe()
    execute_code = config_from_args(args).execute_code
    if args.json:
        print(json.dumps({**asdict(layers), "cgroup": layers.cgroup.describe, "strong": layers.strong,
                          "execute_code": execute_code, "runs_code": allowed(execute_code)}, default=str))
    else:
        print("\n".join(layers.lines()))
        print(("fence:       complete (namespaces + seccomp)" if layers.strong
               else f"fence:       INCOMPLETE: {layers.missing}"))
        print(verdict(execute_code))
    return 0 if layers.strong else 1


def cmd_run(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        raise PromptError(f"no such file: {args.file}", "give the path of a Python file to run in the sandbox")
    if path.stat().st_size > _MAX_SOURCE:
        raise PromptError(f"{args.file} is larger than 1 MiB", "candidates are small programs; split or trim it")
    if args.timeout <= 0:
        raise ConfigError(f"--timeout must be positive, got {args.timeout:g}")
    execute_code = config_from_args(args).execute_code
    if not allowed(execute_code):
        raise ConfigError(f"not running {args.file}: {refusal(execute_code)}",
                          "`edge-runtime sandbox check` shows the layers; --execute-code true runs it anyway")
    result = run_python(path.read_text(encoding="utf-8", errors="replace"), timeout_s=args.timeout,
                        cpu_s=max(1, int(args.timeout)))
    if args.json:
        print(json.dumps({**asdict(result), "ended": result.ended}))
        return 0 if result.ok else 1
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    sys.stdout.flush()
    if (result.stdout or result.stderr) and not (result.stderr or result.stdout).endswith("\n"):
        print(file=sys.stderr)  # the account starts on a line of its own
    cut = " (output truncated)" if result.truncated else ""
    print(f"sandbox: {result.ended} after {result.seconds:.2f}s{cut}; "
          f"{'kernel fence' if result.fenced else 'NO kernel fence'}", file=sys.stderr)
    return 0 if result.ok else 1


def register(sub: argparse._SubParsersAction) -> None:
    """Add `sandbox check` and `sandbox run`."""
    p = sub.add_parser("sandbox", help="the sandbox that runs model-written code: check its layers, run a file")
    group = p.add_subparsers(dest="sandbox_command", required=True)
    check = group.add_parser("check", help="which fence layers this machine allows and what the runtime will do")
    add_config_option(check)
    check.add_argument("--json", action="store_true")
    check.set_defaults(func=cmd_check)
    run = group.add_parser("run", help="run FILE.py exactly as a candidate is run; print its output and end")
    run.add_argument("file", metavar="FILE.py")
    run.add_argument("--timeout", type=float, default=Limits.timeout_s, help="wall-clock seconds (default %(default)s)")
    run.add_argument("--execute-code", nargs="?", const="true", choices=("auto", "true", "false"), default=None,
                     help="override the config: true runs the file even where the kernel fence is incomplete")
    run.add_argument("--json", action="store_true", help="the whole result as one JSON object")
    add_config_option(run)
    run.set_defaults(func=cmd_run)
