"""Prefix states on disk under `$EDGE_RUNTIME_HOME/prefix`, so a long system prompt survives the process
(`edge-runtime run` is one process per prompt) and memory pressure.

A state is only valid for the exact weights and KV layout that computed it: the directory is named by
the model file's sha256 and the KV type, and each entry repeats the full hash, which is checked again
when the entries are read. Writes go to a temporary name and are renamed, so a reader never sees half.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from edge_runtime.models.catalog import file_sha256, models_dir

log = logging.getLogger("edge_runtime.cache")


@dataclass
class SpilledState:
    tokens: list[int]
    path: Path  # the state's bytes; the token ids are in the .json beside it


class SpillStore:
    """One model file's states on disk, at most `capacity` bytes: the least recently used go first."""

    def __init__(self, model_path: Path, kv_type: str, capacity: int, root: Path | None = None) -> None:
        self.sha256 = file_sha256(Path(model_path))
        self.kv_type, self.capacity = kv_type, capacity
        self.dir = (root or models_dir().parent / "prefix") / f"{self.sha256[:16]}-{kv_type}"

    def entries(self) -> list[SpilledState]:
        """The states stored for this very file (hash checked per entry); unreadable ones are skipped."""
        found = []
        for meta in sorted(self.dir.glob("*.json")):
            try:
                data = json.loads(meta.read_text("utf-8"))
                state = meta.with_suffix(".kv")
                if data["sha256"] == self.sha256 and data["kv_type"] == self.kv_type and state.is_file():
                    found.append(SpilledState([int(t) for t in data["tokens"]], state))
            except (OSError, ValueError, KeyError, TypeError):
                log.warning("skipping an unreadable prefix state %s", meta.name)
        return found

    def write(self, tokens: list[int], blob: bytearray) -> SpilledState | None:
        """Store one state (None when the disk refuses: the cache then keeps it in memory only)."""
        name = hashlib.sha256(json.dumps(tokens).encode()).hexdigest()[:24]
        state = self.dir / f"{name}.kv"
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
            _atomic_write(state, bytes(blob))
            meta = {"sha256": self.sha256, "kv_type": self.kv_type, "tokens": tokens}
            _atomic_write(state.with_suffix(".json"), json.dumps(meta).encode())
        except OSError as exc:
            log.warning("could not spill a prefix state to disk (%s)", exc.strerror)
            return None
        self._trim()
        return SpilledState(tokens, state)

    def read(self, state: SpilledState) -> bytearray | None:
        try:
            os.utime(state.path)  # its use, for the least-recently-used trim
            return bytearray(state.path.read_bytes())
        except OSError:
            return None

    def delete(self, state: SpilledState) -> None:
        for path in (state.path, state.path.with_suffix(".json")):
            path.unlink(missing_ok=True)

    def _trim(self) -> None:
        """Delete the least recently used states until the directory fits its capacity."""
        states = sorted(self.dir.glob("*.kv"), key=lambda p: p.stat().st_mtime)
        total = sum(p.stat().st_size for p in states)
        for path in states:
            if total <= self.capacity:
                break
            total -= path.stat().st_size
            self.delete(SpilledState([], path))


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
