"""`python -m quantize` / `edge-quantize`: make GGUF and ONNX models small, and say what it cost.

  quantize gguf IN.gguf OUT.gguf --type Q4_K_M [--imatrix imatrix.gguf]
  quantize export IN.gguf --out DIR [--weights fp32|fp16|int8|int4]
  quantize onnx IN OUT --int8|--int4
  quantize eval MODEL... [--text FILE]
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from edge_runtime.cli.options import guarded


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="quantize", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("gguf", help="requantize a GGUF with llama.cpp (e.g. Q4_K_M, Q5_K_M, Q8_0)")
    p.add_argument("input", type=Path)
    p.add_argument("output", type=Path)
    p.add_argument("--type", required=True, help="target type: Q4_0, Q4_K_M, Q5_K_M, Q8_0, F16, ...")
    p.add_argument("--imatrix", type=Path, help="importance matrix from llama-imatrix (GGUF format)")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--force", action="store_true", help="replace OUTPUT if it exists")

    p = sub.add_parser("export", help="GGUF to an ONNX decoder with KV cache")
    p.add_argument("input", type=Path)
    p.add_argument("--out", type=Path, required=True, help="output directory")
    p.add_argument("--weights", choices=("fp32", "fp16", "int8", "int4"), default="int4")
    p.add_argument("--search", action="store_true", help="int4/int8: best of 13 scales per block (slower, lower perplexity)")
    p.add_argument("--force", action="store_true", help="replace --out if it exists")

    p = sub.add_parser("onnx", help="int8/int4 weight quantization of an ONNX model (file or directory)")
    p.add_argument("input", type=Path)
    p.add_argument("output", type=Path, help="output directory")
    bits = p.add_mutually_exclusive_group(required=True)
    bits.add_argument("--int8", dest="scheme", action="store_const", const="int8")
    bits.add_argument("--int4", dest="scheme", action="store_const", const="int4")
    p.add_argument("--search", action="store_true", help="best of 13 scales per block (slower, lower perplexity)")
    p.add_argument("--force", action="store_true", help="replace OUTPUT if it exists")

    p = sub.add_parser("eval", help="perplexity and size of models side by side")
    p.add_argument("models", type=Path, nargs="+", help="GGUF files or ONNX directories (same tokenizer)")
    p.add_argument("--text", type=Path, help="text to score (default: the packaged eval.txt)")
    p.add_argument("--window", type=int, default=512, help="tokens per evaluation window")
    p.add_argument("--threads", type=int, default=0)
    return parser


def run(args: argparse.Namespace) -> None:
    if args.command == "gguf":
        from edge_runtime.models.requantize import requantize

        requantize(args.input, args.output, args.type, imatrix=args.imatrix, threads=args.threads, force=args.force)
        print(args.output)
    elif args.command == "export":
        from .export import export

        export(args.input, args.out, weights=args.weights, search=args.search, force=args.force)
        print(args.out)
    elif args.command == "onnx":
        from .onnx import quantize_onnx

        quantize_onnx(args.input, args.output, args.scheme, search=args.search, force=args.force)
        print(args.output)
    else:
        from edge_runtime.tuning.perplexity import default_text, evaluate, markdown_table

        text = args.text.read_text("utf-8") if args.text else default_text()
        print(markdown_table([evaluate(m, text, window=args.window, n_threads=args.threads) for m in args.models]))


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    return guarded(run, args)  # the edge-runtime CLI's one error boundary


if __name__ == "__main__":
    sys.exit(main())
