"""`edge-runtime route` and `edge-runtime router train`, added to the main CLI by `register`.

Handlers return an exit code and turn an EdgeRuntimeError into its message and hint on stderr, so
these commands behave the same whichever front end calls them.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from ..config import load_config
from ..errors import EdgeRuntimeError, PromptError
from .model import Router

Handler = Callable[[argparse.Namespace], int]


def _guarded(handler: Handler) -> Handler:
    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except EdgeRuntimeError as err:
            print(f"error: {err}", file=sys.stderr)
            return err.exit_code
    return run


def _read_jsonl(path: str) -> list[str]:
    """The `text` of every line; stdin when the path is `-`."""
    if path != "-" and not Path(path).is_file():
        raise PromptError(f"prompt file not found: {Path(path).name}", "give a JSONL file of {\"text\": ...} lines, or - for stdin")
    lines = sys.stdin.read().splitlines() if path == "-" else Path(path).read_text("utf-8").splitlines()
    texts = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            text = row["text"]
        except (json.JSONDecodeError, KeyError, TypeError):
            raise PromptError(f"line {n}: expected a JSON object with a \"text\" string", 'e.g. {"text": "what is 2+2"}') from None
        if not isinstance(text, str):
            raise PromptError(f"line {n}: \"text\" must be a string")
        texts.append(text)
    return texts


def route(args: argparse.Namespace) -> int:
    if (args.prompt is None) == (args.jsonl is None):
        raise PromptError("give either a PROMPT or --jsonl FILE", 'edge-runtime route "what is 2+2"')
    config = load_config(args.config)
    router = Router.load(args.router or config.router.model)
    if args.jsonl is None:
        decision = router.predict(args.prompt)
        expert = config.experts_for(decision.domain)[0]
        print(f"domain: {decision.domain}   expert: {expert}   ({decision.latency_ms:.2f} ms)")
        for domain, p in sorted(decision.probabilities.items(), key=lambda kv: kv[1], reverse=True):
            print(f"  {domain:<8} {p:6.1%}  {'#' * round(p * 40)}")
        return 0
    for text in _read_jsonl(args.jsonl):
        decision = router.predict(text)
        print(json.dumps({"domain": decision.domain, "expert": config.experts_for(decision.domain)[0],
                          "probabilities": {k: round(v, 6) for k, v in decision.probabilities.items()},
                          "latency_ms": round(decision.latency_ms, 4)}, ensure_ascii=False))
    return 0


def router_train(args: argparse.Namespace) -> int:
    from .train import format_report, train  # needs the [train] extra; only this command pays for it

    meta = train(args.data, args.out, new_user=args.new_user, lexicon=args.lexicon, c=args.c, folds=args.folds)
    print(format_report(meta))
    print(f"\nwrote {Path(args.out).name} and {Path(args.out).with_suffix('.json').name}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add `route` and `router train` to the main parser's subcommands."""
    p = subparsers.add_parser("route", help="show which domain and expert a prompt goes to")
    p.add_argument("prompt", nargs="?", help="the prompt text")
    p.add_argument("--jsonl", metavar="FILE", help='route every {"text": ...} line of FILE (- for stdin), one JSON line out each')
    p.add_argument("--config", metavar="FILE", help="TOML config merged over the defaults")
    p.add_argument("--router", metavar="PATH", help="router .onnx file (default: the config's router.model)")
    p.set_defaults(func=_guarded(route))

    r = subparsers.add_parser("router", help="router tools")
    sub = r.add_subparsers(dest="router_command", required=True)
    t = sub.add_parser("train", help="fit the router from labelled JSONL and export ONNX")
    t.add_argument("--data", required=True, metavar="FILE", help='JSONL of {"text", "domain", "split"?}; split "test" rows are held out')
    t.add_argument("--out", required=True, metavar="FILE", help="the .onnx to write (metadata goes next to it as .json)")
    t.add_argument("--new-user", metavar="FILE", help="a second JSONL evaluated after training, never trained on")
    t.add_argument("--lexicon", metavar="DIR", help="folder of <domain>.txt term lists added as training rows")
    t.add_argument("--c", type=float, default=30.0, help="inverse regularization strength (default 30)")
    t.add_argument("--folds", type=int, default=5, help="folds for the out-of-fold temperature; 0 skips calibration")
    t.set_defaults(func=_guarded(router_train))
