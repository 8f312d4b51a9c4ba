"""`edge-runtime route` and `edge-runtime router train`, added to the main CLI by `register`.

Errors are left to the main CLI's one error boundary.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from edge_runtime.cli.options import add_config_option
from edge_runtime.config import load_config
from edge_runtime.errors import PromptError
from edge_runtime.jsonl import read_prompts
from edge_runtime.router.routing import Routing
from edge_runtime.router.model import Router


def route(args: argparse.Namespace) -> int:
    if (args.prompt is None) == (args.jsonl is None):
        raise PromptError("give either a PROMPT or --jsonl FILE", 'edge-runtime route "what is 2+2"')
    routing = Routing(load_config(args.config), Router.load(args.router) if args.router else None)
    if args.jsonl is None:
        r = routing.route(args.prompt)
        print(f"domain: {r.domain}   expert: {r.expert}   language: {r.language}   ({r.latency_ms:.2f} ms)")
        if r.reason != "routed":
            print(f"  ({r.reason})")
        for domain, p in sorted(r.probabilities.items(), key=lambda kv: kv[1], reverse=True):
            print(f"  {domain:<8} {p:6.1%}  {'#' * round(p * 40)}")
        return 0
    for text in read_prompts(args.jsonl):
        r = routing.route(text)
        print(json.dumps({"domain": r.domain, "expert": r.expert, "language": r.language, "reason": r.reason,
                          "probabilities": {k: round(v, 6) for k, v in r.probabilities.items()},
                          "latency_ms": round(r.latency_ms, 4)}, ensure_ascii=False))
    return 0


def router_train(args: argparse.Namespace) -> int:
    from edge_runtime.router.train import format_report, train  # needs the [train] extra; only this command pays for it

    meta = train(args.data, args.out, new_user=args.new_user, lexicon=args.lexicon, c=args.c, folds=args.folds)
    print(format_report(meta))
    print(f"\nwrote {Path(args.out).name} and {Path(args.out).with_suffix('.json').name}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `route` and `router train` to the main parser's subcommands."""
    p = subparsers.add_parser("route", help="show which domain and expert a prompt goes to")
    p.add_argument("prompt", nargs="?", help="the prompt text")
    p.add_argument("--jsonl", metavar="FILE", help='route every {"text": ...} (or {"prompt": ...}) line of FILE (- for stdin), one JSON line out each')
    add_config_option(p)
    p.add_argument("--router", metavar="PATH", help="router .onnx file (default: the config's router.model)")
    p.set_defaults(func=route)

    r = subparsers.add_parser("router", help="router tools")
    sub = r.add_subparsers(dest="router_command", required=True)
    t = sub.add_parser("train", help="fit the router from labelled JSONL and export ONNX")
    t.add_argument("--data", required=True, metavar="FILE", help='JSONL of {"text", "domain", "split"?}; split "test" rows are held out')
    t.add_argument("--out", required=True, metavar="FILE", help="the .onnx to write (metadata goes next to it as .json)")
    t.add_argument("--new-user", metavar="FILE", help="a second JSONL evaluated after training, never trained on")
    t.add_argument("--lexicon", metavar="DIR", help="folder of <domain>.txt term lists added as training rows")
    t.add_argument("--c", type=float, default=30.0, help="inverse regularization strength (default 30)")
    t.add_argument("--folds", type=int, default=5, help="folds for the out-of-fold temperature; 0 skips calibration")
    t.set_defaults(func=router_train)
