"""Scores bench_prose.py's recorded replies (see that script): a table, a PNG, and cascades simulated from the
recorded single experts (FrugalGPT's way of choosing the order: quality against cost on one's own data)."""
from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from benchlib import ROOT, bar_chart, markdown_table
from edge_runtime.evidence.prose import assess, echo, loop
from edge_runtime.language.japanese import japanese_problems

SETS = {"shapes": ROOT / "data" / "prose" / "shapes.json", "japanese": ROOT / "data" / "prose" / "japanese.json"}
OVERRIDE = " +repair (failing prompts)"
CASCADES = (("general", "code"), ("writing", "general", "code"), ("writing", "code"))


def prompts() -> dict[str, dict[str, Any]]:
    out = {}
    for name, path in SETS.items():
        for p in json.loads(path.read_text("utf-8"))["prompts"]:
            out[p["id"]] = {**p, "set": name}
    return out


def acceptable_japanese(prompt: str, text: str) -> bool:
    """The issue's measure: Japanese (kana share, no Chinese-only characters or words), no loop, no echo."""
    return bool(text.strip()) and not japanese_problems(text) and not loop(text) and not echo(prompt, text)


def score(record: dict[str, Any], prompt: dict[str, Any]) -> dict[str, Any]:
    text = record["text"]
    return {**record, "lang": prompt["lang"], "failures": assess(prompt["prompt"], text),
            "japanese_ok": acceptable_japanese(prompt["prompt"], text) if prompt["lang"] == "ja" else None}


def simulate(by_label: dict[str, dict[str, dict]], order: tuple[str, ...], langs: dict[str, str]) -> dict[str, dict]:
    """The cascade's reply per prompt from the singles' recorded replies (greedy decoding is deterministic, so
    the runtime's cascade gives the same replies); experts that do not read Japanese are skipped there."""
    out = {}
    common = set.intersection(*(set(by_label[name]) for name in order if name != "writing"))
    for pid in common:
        steps = [name for name in order if not (name == "writing" and langs[pid] == "ja")]
        if any(pid not in by_label[name] for name in steps):
            continue
        tried = []
        for name in steps:
            tried.append(by_label[name][pid])
            if not tried[-1]["failures"]:
                break
        best = min(range(len(tried)), key=lambda i: (len(tried[i]["failures"]), -i))
        out[pid] = {**tried[best], "seconds": sum(t["seconds"] for t in tried),
                    "completion_tokens": sum(t["completion_tokens"] for t in tried),
                    "decode_s": sum(t["decode_s"] for t in tried)}
    return out


def row(label: str, scored: dict[str, dict]) -> list[Any]:
    rows = list(scored.values())
    shapes = [r for r in rows if r["set"] == "shapes"]
    ja = [r for r in rows if r["japanese_ok"] is not None]

    def rate(items: list[dict], ok) -> str:
        return f"{sum(ok(r) for r in items)}/{len(items)}" if items else "-"

    tokens, decode = sum(r["completion_tokens"] for r in rows), sum(r["decode_s"] for r in rows)
    return [label, rate(shapes, lambda r: not r["failures"]),
            rate([r for r in shapes if r["lang"] == "en"], lambda r: not r["failures"]),
            rate([r for r in shapes if r["lang"] == "ja"], lambda r: not r["failures"]),
            rate(ja, lambda r: r["japanese_ok"]), round(tokens / decode, 2) if decode else 0.0,
            round(sum(r["seconds"] for r in rows) / len(rows), 2), len(rows)]


def pct(cell: str) -> float:
    if cell == "-":
        return 0.0
    a, b = cell.split("/")
    return 100.0 * int(a) / int(b) if int(b) else 0.0


def report(out_dir: Path) -> None:
    ps = prompts()
    by_label: dict[str, dict[str, dict]] = defaultdict(dict)
    for line in (out_dir / "replies.jsonl").read_text("utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            by_label[record["label"]][record["id"]] = score(record, ps[record["id"]])
    langs = {pid: p["lang"] for pid, p in ps.items()}
    if "writing" in by_label:  # SmolLM2 reads English only (the team never asks it Japanese); its Japanese is
        by_label["writing"] = {k: r for k, r in by_label["writing"].items() if r["lang"] == "en"}  # gibberish
    for label in [lbl for lbl in by_label if lbl.endswith(OVERRIDE)]:
        base = label[:-len(OVERRIDE)]  # a run of only the prompts its mechanism changes, over the base run
        if base in by_label:
            by_label[base + " +repair*"] = {**by_label[base], **by_label.pop(label)}
    rows = [row(label, scored) for label, scored in by_label.items()]
    for order in CASCADES:
        if all(name in by_label for name in order):
            rows.append(row("cascade " + " > ".join(order) + " (simulated)", simulate(by_label, order, langs)))
    headers = ["method", "shapes pass", "shapes en", "shapes ja", "Japanese acceptable", "tok/s",
               "s/reply", "prompts"]
    table = markdown_table(headers, rows)
    (out_dir / "prose.md").write_text(table + "\n", "utf-8")
    failures = {label: {pid: r["failures"] for pid, r in scored.items() if r["failures"]}
                for label, scored in by_label.items()}
    (out_dir / "failures.json").write_text(json.dumps(failures, ensure_ascii=False, indent=1), "utf-8")
    bar_chart(out_dir / "prose.png", [r[0].replace(" (simulated)", "*").replace("cascade ", "").replace(" > ", ">\n").replace(", ", ",\n")
                                             for r in rows],
              {"shapes pass %": [pct(r[1]) for r in rows], "Japanese acceptable %": [pct(r[4]) for r in rows]},
              title="Everyday prose: pass rates (* simulated from recorded singles)", ylabel="%")
    print(table)
