"""Fusion versus single experts on prompts with checkable answers (arithmetic written for this
benchmark; each answer is checked by finding the exact number in the reply).

    .venv/bin/python scripts/bench_fusion.py --out-dir out/
"""
from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

from tqdm import tqdm

from benchlib import ROOT, bar_chart, markdown_table
from edge_runtime.backends.gguf import GGUFModel
from edge_runtime.catalog import resolve
from edge_runtime.chat import encode_prompt
from edge_runtime.fusion import MixtureLM, score_response
from edge_runtime.speculative.decoder import Decoder

QUESTIONS = [  # (question, answer) written by the edge-runtime team
    ("A shop sells pencils at 3 for 45 cents. How many cents do 12 pencils cost? Answer with the number.", "180"),
    ("I had 250 euros, spent 87 on shoes and 46 on a jacket. How many euros are left? Answer with the number.", "117"),
    ("What is 17 multiplied by 23? Answer with the number.", "391"),
    ("A train leaves at 14:20 and arrives at 17:05. How many minutes is the trip? Answer with the number.", "165"),
    ("What is 1000 minus 357? Answer with the number.", "643"),
    ("A rectangle is 12 cm by 7 cm. What is its area in square cm? Answer with the number.", "84"),
    ("If 5 workers build a wall in 8 days, how many worker-days does the wall take? Answer with the number.", "40"),
    ("What is 144 divided by 12, plus 30? Answer with the number.", "42"),
]


def answer(model, ids: list[int], max_tokens: int) -> str:
    model.truncate(0)
    decoder = Decoder(model)
    out = [t for step in decoder.generate(ids, max_tokens=max_tokens) for t in step]
    return model.detokenize(out).decode("utf-8", "replace")


def correct(text: str, expected: str) -> bool:
    return expected in re.findall(r"\d+", text.replace(",", ""))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--max-tokens", type=int, default=96)
    ap.add_argument("--out-dir", default=str(ROOT / "out"))
    args = ap.parse_args()
    small = GGUFModel(resolve("qwen2.5-coder-0.5b-instruct-q4_k_m"), name="0.5B", n_ctx=1024, n_threads=2)
    large = GGUFModel(resolve("qwen2.5-coder-1.5b-instruct-q4_k_m"), name="1.5B", n_ctx=1024, n_threads=2)
    mix = MixtureLM([small, large], [0.5, 0.5])
    methods = ["0.5B alone", "1.5B alone", "token mixture 0.5/0.5", "best-of (1.5B scores)"]
    hits = {m: 0 for m in methods}
    secs = {m: 0.0 for m in methods}
    for question, expected in tqdm(QUESTIONS, desc="questions"):
        ids = encode_prompt(small, question)
        texts, took = {}, {}
        for method, model in (("0.5B alone", small), ("1.5B alone", large), ("token mixture 0.5/0.5", mix)):
            t = time.perf_counter()
            texts[method] = answer(model, ids, args.max_tokens)
            took[method] = time.perf_counter() - t
        t = time.perf_counter()
        scores = [score_response(large, ids, texts[m]) for m in ("0.5B alone", "1.5B alone")]
        texts["best-of (1.5B scores)"] = texts["0.5B alone"] if scores[0] > scores[1] else texts["1.5B alone"]
        took["best-of (1.5B scores)"] = took["0.5B alone"] + took["1.5B alone"] + time.perf_counter() - t
        for method in methods:
            secs[method] += took[method]
        for method in methods:
            hits[method] += correct(texts[method], expected)
    rows = [[m, f"{hits[m]}/{len(QUESTIONS)}", secs[m] / len(QUESTIONS)] for m in methods]
    table = markdown_table(["method", "correct", "s/question"], rows)
    print(table)
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_fusion.md").write_text(table + "\n")
    bar_chart(out / "bench_fusion.png", methods, {"correct": [hits[m] for m in methods]},
              title="Fusion vs single experts (checkable arithmetic)", ylabel="correct answers")


if __name__ == "__main__":
    main()
