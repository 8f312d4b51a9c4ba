"""The example extractor's recall on fresh prompts: how many of the examples a prompt shows (counted by
hand when the set was written, `shown_examples`) become runnable checks, and how many prompts get any.

    PYTHONPATH=. .venv/bin/python scripts/extractor_recall.py [data/team/code.jsonl]
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from edge_runtime.evidence.checks import extract_checks, function_name

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("tasks", nargs="?", default=str(ROOT / "data" / "team" / "code.jsonl"))
    path = Path(ap.parse_args().tasks)
    tasks = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    shown = [t for t in tasks if t["shown_examples"]]
    found = {t["id"]: len(extract_checks(t["prompt"])) for t in tasks}
    examples = sum(min(found[t["id"]], t["shown_examples"]) for t in shown)
    print(f"prompts with examples: {sum(found[t['id']] > 0 for t in shown)}/{len(shown)} get checks; "
          f"examples: {examples}/{sum(t['shown_examples'] for t in shown)}; "
          f"prompts without examples given checks: {sum(found[t['id']] > 0 for t in tasks if not t['shown_examples'])}"
          f"/{len(tasks) - len(shown)}; function named right: "
          f"{sum(function_name(t['prompt']) == t['entry_point'] for t in tasks)}/{len(tasks)}")
    for t in shown:
        if found[t["id"]] < t["shown_examples"]:
            print(f"  missed: {t['id']} ({found[t['id']]}/{t['shown_examples']})")


if __name__ == "__main__":
    main()
