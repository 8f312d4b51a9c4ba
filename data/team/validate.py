"""Check data/team/*.jsonl: every code reference passes its hidden tests in a fresh interpreter, every
number solution computes its answer. Stdlib only, no models.

    python3 data/team/validate.py
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def check_code(task: dict) -> str | None:
    """The first failure of the reference on the hidden tests, or None."""
    program = task["reference"] + "\n" + "\n".join(task["hidden_tests"]) + "\n"
    run = subprocess.run([sys.executable, "-I", "-c", program], capture_output=True, text=True, timeout=10)
    return None if run.returncode == 0 else run.stderr.strip().splitlines()[-1]


def check_number(task: dict) -> str | None:
    value = eval(task["solution"], {})  # our own literals, never model output
    decimals = len(task["answer"].partition(".")[2])
    if f"{value:.{decimals}f}" != task["answer"]:
        return f"solution gives {value!r}, answer is {task['answer']}"
    return None


def main() -> int:
    errors = []
    for name, check in (("code.jsonl", check_code), ("numbers.jsonl", check_number)):
        tasks = [json.loads(line) for line in (HERE / name).read_text("utf-8").splitlines() if line.strip()]
        ids = [t["id"] for t in tasks]
        if len(set(ids)) != len(ids):
            errors.append(f"{name}: duplicate ids")
        for task in tasks:
            if (problem := check(task)) is not None:
                errors.append(f"{task['id']}: {problem}")
        print(f"{name}: {len(tasks)} tasks")
    for e in errors:
        print("ERROR", e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
