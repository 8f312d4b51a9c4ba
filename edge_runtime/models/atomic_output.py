"""Outputs that appear whole or not at all, and never in place of an input.

Everything is written into a hidden sibling temp path and renamed onto the target at the end, so an
interrupted or failed step leaves nothing half-written behind (and onnx, which appends to an existing
external-data file, always starts from an empty directory).
"""
from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence

from edge_runtime.errors import ConfigError


def check_target(out: Path, inputs: Sequence[Path], *, force: bool) -> None:
    out = out.resolve()
    for inp in inputs:
        inp = inp.resolve()
        if out == inp or out in inp.parents:  # replacing out would destroy the input
            raise ConfigError(f"refusing to write {out} over the input {inp}", "choose another output path")
    if out.exists() and not force:
        raise ConfigError(f"{out} already exists", "choose another output path, or pass --force to replace it")


@contextmanager
def atomic_output(out: Path, inputs: Sequence[Path], *, force: bool = False, directory: bool = False) -> Iterator[Path]:
    """Yield a temp path (an empty directory when `directory`); it becomes `out` only if the block succeeds."""
    check_target(out, inputs, force=force)
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.partial-{os.getpid()}")
    _remove(tmp)
    if directory:
        tmp.mkdir()
    try:
        yield tmp
        _remove(out)  # only reached with force=True or when out did not exist
        os.replace(tmp, out)
    finally:
        _remove(tmp)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
