"""A throwaway cgroup per sandbox run: a cap on processes and on memory across all of them.

Why: RLIMIT_NPROC counts per user and the kernel never applies it to root, and RLIMIT_AS is per process,
so only a cgroup bounds a fork bomb as root and the sum of a family's memory (tmpfs pages included).
cgroup v2 is used where our group delegates `pids`/`memory` to children; otherwise the v1 `pids` and
`memory` hierarchies where we may create groups (root on most hosts). Where neither is writable, the
caller falls back to rlimits and `sandbox check` says so.
"""
from __future__ import annotations

import functools
import os
import signal
import time
import uuid
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

_ROOT = Path("/sys/fs/cgroup")


@dataclass(frozen=True)
class Parents:
    """Where groups can be made: one v2 directory, or v1 directories per controller."""

    version: int  # 2, 1, or 0 for none
    pids: Path | None
    memory: Path | None

    @property
    def describe(self) -> str:
        if not self.version:
            return "no writable cgroup (rlimits only)"
        kinds = [name for name, path in (("pids", self.pids), ("memory", self.memory)) if path is not None]
        return f"cgroup v{self.version}: " + ", ".join(kinds)


@functools.cache
def parents() -> Parents:
    """This process's cgroups in which a child group with limits may be created."""
    lines = []
    with suppress(OSError):
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    v1: dict[str, Path] = {}
    for line in lines:
        hierarchy, names, path = line.split(":", 2)
        if hierarchy == "0":
            found = _v2_parent(path)
            if found is not None:
                return found
        for name in ("pids", "memory"):
            parent = _ROOT / name / path.lstrip("/")
            if name in names.split(",") and os.access(parent, os.W_OK):
                v1[name] = parent
    return Parents(1 if v1 else 0, v1.get("pids"), v1.get("memory"))


def _v2_parent(path: str) -> Parents | None:
    for mount in (_ROOT, _ROOT / "unified"):
        parent = mount / path.lstrip("/")
        with suppress(OSError):
            delegated = (parent / "cgroup.subtree_control").read_text().split()
            if "pids" in delegated and os.access(parent, os.W_OK):
                return Parents(2, parent, parent if "memory" in delegated else None)
    return None


@contextmanager
def limited(max_procs: int, memory_bytes: int) -> Iterator[list[Path]]:
    """Fresh groups capped at `max_procs` and `memory_bytes`, emptied and removed afterwards;
    their `cgroup.procs` files are what the child writes its pid to. [] where not permitted."""
    where = parents()
    name = f"edge-sandbox-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    made: list[Path] = []
    try:
        if where.version == 2 and where.pids is not None:
            made.append(_make(where.pids / name, {"pids.max": max_procs, "memory.max": memory_bytes}
                              if where.memory else {"pids.max": max_procs}))
        elif where.version == 1:
            if where.pids is not None:
                made.append(_make(where.pids / name, {"pids.max": max_procs}))
            if where.memory is not None:
                made.append(_make(where.memory / name, {"memory.limit_in_bytes": memory_bytes}))
        yield made
    finally:
        for group in made:
            empty(group)
            _remove(group)


def _make(group: Path, limits: dict[str, int]) -> Path:
    group.mkdir()
    for key, value in limits.items():
        (group / key).write_text(str(value))
    return group


def empty(group: Path) -> None:
    """SIGKILL every member until none is left (pids.max bounds how many can appear meanwhile)."""
    for _ in range(200):
        with suppress(OSError):
            pids = (group / "cgroup.procs").read_text().split()
            if not pids:
                return
            for pid in pids:
                with suppress(ProcessLookupError):
                    os.kill(int(pid), signal.SIGKILL)
        time.sleep(0.005)


def _remove(group: Path) -> None:
    for _ in range(100):
        try:
            group.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.01)


def oom_killed(groups: list[Path]) -> bool:
    """Whether the memory limit of one of these groups killed a member."""
    for group in groups:
        for name, key in (("memory.events", "oom_kill"), ("memory.oom_control", "oom_kill")):
            with suppress(OSError):
                for line in (group / name).read_text().splitlines():
                    field, _, value = line.partition(" ")
                    if field == key and int(value) > 0:
                        return True
    return False
