"""Fusion versus single experts on prompts with checkable answers, written for this benchmark:
arithmetic (the last number in the reply must be the answer) and small Python functions (the reply's
code is run against tests in a subprocess).

    .venv/bin/python scripts/bench_fusion.py --out-dir out/
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
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

FUNCTIONS = [  # (request, tests) written by the edge-runtime team
    ("Write a Python function is_leap(year) that returns True when the year is a leap year.",
     "assert is_leap(2000) and is_leap(2024) and not is_leap(1900) and not is_leap(2023)"),
    ("Write a Python function count_vowels(text) that counts the vowels a, e, i, o, u in any case.",
     "assert count_vowels('Hello World') == 3 and count_vowels('AEIOUxyz') == 5 and count_vowels('') == 0"),
    ("Write a Python function flatten(lists) that joins a list of lists into one list.",
     "assert flatten([[1, 2], [3], []]) == [1, 2, 3] and flatten([]) == []"),
    ("Write a Python function second_largest(numbers) that returns the second largest distinct number.",
     "assert second_largest([3, 1, 4, 4, 2]) == 3 and second_largest([10, 9]) == 9"),
    ("Write a Python function run_length(text) that encodes 'aaabcc' as 'a3b1c2'.",
     "assert run_length('aaabcc') == 'a3b1c2' and run_length('x') == 'x1' and run_length('') == ''"),
    ("Write a Python function to_fahrenheit(celsius) that converts Celsius to Fahrenheit.",
     "assert to_fahrenheit(100) == 212 and to_fahrenheit(0) == 32 and abs(to_fahrenheit(-40) + 40) < 1e-9"),
]


def answer(model, ids: list[int], max_tokens: int) -> str:
    model.truncate(0)
    decoder = Decoder(model)
    out = [t for step in decoder.generate(ids, max_tokens=max_tokens) for t in step]
    return model.detokenize(out).decode("utf-8", "replace")


def number_is(text: str, expected: str) -> bool:
    numbers = re.findall(r"\d+", text.replace(",", ""))
    return bool(numbers) and numbers[-1] == expected


def code_passes(text: str, tests: str) -> bool:
    """The reply's first code block (or the whole reply) and the tests, run in a fresh interpreter."""
    block = re.search(r"```(?:python)?\n(.*?)```", text, re.S)
    code = (block.group(1) if block else text) + "\n" + tests + "\n"
    try:
        return subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=10).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--max-tokens", type=int, default=192, help="per arithmetic answer (worked answers run long)")
    ap.add_argument("--code-tokens", type=int, default=192, help="per function")
    ap.add_argument("--out-dir", default=str(ROOT / "out"))
    args = ap.parse_args()
    small = GGUFModel(resolve("qwen2.5-coder-0.5b-instruct-q4_k_m"), name="0.5B", n_ctx=1024, n_threads=2)
    large = GGUFModel(resolve("qwen2.5-coder-1.5b-instruct-q4_k_m"), name="1.5B", n_ctx=1024, n_threads=2)
    mix = MixtureLM([small, large], [0.5, 0.5])
    methods = ["0.5B alone", "1.5B alone", "token mixture 0.5/0.5", "best-of (1.5B scores)"]
    tasks = [(q, lambda text, a=a: number_is(text, a), args.max_tokens, "arithmetic") for q, a in QUESTIONS]
    tasks += [(q, lambda text, t=t: code_passes(text, t), args.code_tokens, "code") for q, t in FUNCTIONS]
    hits = {(m, kind): 0 for m in methods for kind in ("arithmetic", "code")}
    secs = {m: 0.0 for m in methods}
    for question, check, max_tokens, kind in tqdm(tasks, desc="tasks"):
        ids = encode_prompt(small, question)
        texts, took = {}, {}
        for method, model in (("0.5B alone", small), ("1.5B alone", large), ("token mixture 0.5/0.5", mix)):
            t = time.perf_counter()
            texts[method] = answer(model, ids, max_tokens)
            took[method] = time.perf_counter() - t
        t = time.perf_counter()
        scores = [score_response(large, ids, texts[m]) for m in ("0.5B alone", "1.5B alone")]
        texts["best-of (1.5B scores)"] = texts["0.5B alone"] if scores[0] > scores[1] else texts["1.5B alone"]
        took["best-of (1.5B scores)"] = took["0.5B alone"] + took["1.5B alone"] + time.perf_counter() - t
        for method in methods:
            secs[method] += took[method]
            hits[method, kind] += check(texts[method])
    rows = [[m, f"{hits[m, 'arithmetic']}/{len(QUESTIONS)}", f"{hits[m, 'code']}/{len(FUNCTIONS)}",
             f"{hits[m, 'arithmetic'] + hits[m, 'code']}/{len(tasks)}", secs[m] / len(tasks)] for m in methods]
    table = markdown_table(["method", "arithmetic correct", "functions passing tests", "all", "s/task"], rows)
    print(table)
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_fusion.md").write_text(table + "\n")
    bar_chart(out / "bench_fusion.png", methods,
              {kind: [hits[m, kind] for m in methods] for kind in ("arithmetic", "code")},
              title="Fusion vs single experts (checkable answers)", ylabel="correct answers")


if __name__ == "__main__":
    main()
