"""JSON Lines in, with errors that name the file, the line and the shape expected."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Iterator

from edge_runtime.errors import ConfigError

PROMPT_KEYS = ("prompt", "text")  # `run --prompts-file` and `route --jsonl` read the same files


def read_jsonl(path: str | Path, shape: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, object) for every non-blank line; `-` reads stdin. `shape` describes a line for errors."""
    name = "stdin" if str(path) == "-" else Path(path).name
    if str(path) == "-":
        lines = sys.stdin.read().splitlines()
    elif Path(path).is_file():
        lines = Path(path).read_text("utf-8").splitlines()
    else:
        raise ConfigError(f"file not found: {name}", f"give a JSONL file of {shape} lines")
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            raise ConfigError(f"{name} line {n}: not JSON", f"expected {shape}") from None
        if not isinstance(row, dict):
            raise ConfigError(f"{name} line {n}: not a JSON object", f"expected {shape}")
        yield f"{name} line {n}", row


def read_prompts(path: str | Path) -> list[str]:
    """The prompt of every line: its `prompt` or, as routing data spells it, its `text`."""
    prompts = []
    for where, row in read_jsonl(path, '{"prompt": "..."}'):
        text = next((row[k] for k in PROMPT_KEYS if k in row), None)
        if not isinstance(text, str):
            raise ConfigError(f"{where}: expected a \"prompt\" (or \"text\") string", 'e.g. {"prompt": "what is 2+2"}')
        prompts.append(text)
    return prompts
