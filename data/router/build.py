"""Assemble the hand-written prompts in src/ into prompts.jsonl and the two evaluation-only files.

Nothing here generates text: every prompt was written by hand in src/<domain>_<lang>_<n>.txt
(router training data), src/new_user.txt or src/short_offtopic.txt (evaluations, never trained
on: new_user_prompts.jsonl and short_offtopic_heldout.jsonl). This script only parses those
files, removes exact duplicates and assigns the train/test split from a hash of the text, so the
split stays stable when prompts are added.

Source format: one prompt per line; a prompt spanning several lines sits between a line `<<<`
and a line `>>>`. Blank lines between prompts are ignored. In the evaluation files each prompt
line (or `<<<` line) starts with `domain lang|`, e.g. `math en|whats 20% of 45`.

    python data/router/build.py
"""
from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path

from edge_runtime.config import DOMAINS  # the one list of domains (run with the project's venv)

HERE = Path(__file__).resolve().parent
LANGS = ("en", "ja")
TEST_SHARE = 5  # one prompt in five is held out
HELDOUT = {"new_user.txt": "new_user_prompts.jsonl",  # evaluation-only source -> output
           "short_offtopic.txt": "short_offtopic_heldout.jsonl"}


def parse(path: Path) -> list[str]:
    """Prompts in one source file, in order."""
    prompts: list[str] = []
    block: list[str] | None = None
    for line in path.read_text("utf-8").splitlines():
        if block is not None:
            if line == ">>>":
                prompts.append("\n".join(block).strip())
                block = None
            else:
                block.append(line)
        elif line.startswith("<<<") or line.endswith("|<<<"):
            block = [line[:-3]] if line.endswith("|<<<") else []
        elif line.strip():
            prompts.append(line.strip())
    if block is not None:
        raise SystemExit(f"{path.name}: unterminated <<< block")
    return prompts


def split_of(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "test" if int.from_bytes(digest[:4], "big") % TEST_SHARE == 0 else "train"


def build_training() -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    seen: set[str] = set()
    for path in sorted((HERE / "src").glob("*_*_*.txt")):
        domain, lang, _ = path.stem.split("_")
        assert domain in DOMAINS and lang in LANGS, path.name
        for text in parse(path):
            if text in seen:
                continue
            seen.add(text)
            rows.append({"text": text, "domain": domain, "lang": lang, "split": split_of(text)})
    return rows


def build_heldout(name: str, train_texts: set[str]) -> list[dict[str, str]]:
    """An evaluation file's `domain lang|text` prompts; none may also be a training prompt."""
    rows = []
    for item in parse(HERE / "src" / name):
        head, text = item.split("|", 1)
        domain, lang = head.split()
        assert domain in DOMAINS and lang in LANGS, item
        text = text.strip()
        assert text not in train_texts, f"{name}: prompt also in training data: {text!r}"
        rows.append({"text": text, "domain": domain, "lang": lang})
    return rows


def write_jsonl(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def main() -> None:
    rows = build_training()
    write_jsonl(HERE / "prompts.jsonl", rows)
    train_texts = {r["text"] for r in rows}
    heldout = {out: build_heldout(src, train_texts) for src, out in HELDOUT.items()}
    for out, held in heldout.items():
        write_jsonl(HERE / out, held)
    counts = Counter((r["domain"], r["lang"], r["split"]) for r in rows)
    for d in DOMAINS:
        print(d, {f"{lang}/{s}": counts[d, lang, s] for lang in LANGS for s in ("train", "test")})
    ja = sum(r["lang"] == "ja" for r in rows)
    test = sum(r["split"] == "test" for r in rows)
    print(f"prompts.jsonl: {len(rows)} prompts, {ja / len(rows):.1%} Japanese, {test / len(rows):.1%} test")
    for out, held in heldout.items():
        print(f"{out}: {len(held)} prompts", dict(Counter(r["domain"] for r in held)))


if __name__ == "__main__":
    main()
