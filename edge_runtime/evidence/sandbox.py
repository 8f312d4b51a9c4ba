"""Run untrusted, model-written Python in a throwaway child process with bounded harm.

Why each layer (measured on Linux 6.x, see docs/sandbox.md):
- `python -I -B` in a fresh temporary directory (cwd, HOME and TMPDIR), a minimal environment
  and stdin from /dev/null: no user site, no PYTHON* variables, no .pyc writes.
- rlimits set in the child before exec: CPU seconds, address space, file size (which also bounds
  stdout/stderr, written to unlinked files), core dumps off, and RLIMIT_NPROC.
- Processes: RLIMIT_NPROC counts per *user* and the kernel never applies it to root, so as root
  a fork bomb is capped by a cgroup `pids` group (pids.max) when the host lets us make one; its
  process list also lets teardown kill escapees that left the process group.  Without root the
  limit is the user's current process count plus `max_procs`.
- The child runs in its own session; on timeout (and after every run) the whole group is killed.
- Network: a new network namespace (only a down loopback) via unshare(2) -- plain as root,
  inside a new user namespace otherwise; `network_isolated` says whether it happened.
- An audit-hook guard (_guard.py) refuses writes and deletes outside the directory, sockets,
  new processes and ctypes: defence in depth, bypassable by C code.

Risks that remain: the child keeps this user's file permissions, so only the guard stops writes
to files the user owns outside the directory (as root: to any file); memory is bounded per process, not per group; reading files is
allowed (secrets readable by this user are readable by the candidate); if namespaces are not
permitted, the network is open to anything the guard does not catch; the temporary directory
has no total size cap, only a per-file one; preexec_fn is not thread-safe in heavily threaded
parents.  Prefer running the runtime as an unprivileged user, or in a container, for real use.
"""
from __future__ import annotations

import ctypes
import functools
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Iterator, Mapping

MiB = 1 << 20
_CLONE_NEWUSER, _CLONE_NEWNET = 0x10000000, 0x40000000
_GUARD = (Path(__file__).with_name("_guard.py")).read_text()
_PIDS_V1 = Path("/sys/fs/cgroup/pids")


@dataclass(frozen=True)
class Limits:
    """What one run may use; seconds are wall-clock (timeout_s) and CPU (cpu_s)."""

    timeout_s: float = 5.0
    cpu_s: int = 5
    memory_bytes: int = 512 * MiB
    file_bytes: int = 1 * MiB
    max_procs: int = 64
    max_output: int = 64 * 1024
    network: bool = False
    guard: bool = True


@dataclass(frozen=True)
class SandboxResult:
    """How the child ended: exit_code is negative for a signal, as in subprocess."""

    exit_code: int
    stdout: str
    stderr: str
    timed_out: bool
    killed_by: str | None
    seconds: float
    network_isolated: bool
    procs_capped: bool
    truncated: bool

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out


def run_python(code: str, *, files: Mapping[str, str] | None = None, **limits: Any) -> SandboxResult:
    """Run `code` as main.py (plus `files`, same directory) under `Limits(**limits)`."""
    lim = Limits(**limits)
    netns = 0 if lim.network else _netns_flags()
    with ExitStack() as stack:
        work = stack.enter_context(tempfile.TemporaryDirectory(prefix="edge-sandbox-", ignore_cleanup_errors=True))
        group = stack.enter_context(_pids_cgroup(lim.max_procs))
        out, err = (stack.enter_context(tempfile.TemporaryFile()) for _ in range(2))
        for name, text in {"main.py": code, **(files or {})}.items():
            Path(work, name).write_text(text, encoding="utf-8")
        start = time.monotonic()
        proc = subprocess.Popen(
            _command(lim), cwd=work, env=_env(work), stdin=subprocess.DEVNULL, stdout=out, stderr=err,
            start_new_session=True, preexec_fn=functools.partial(_child_setup, lim, netns, group),
        )
        timed_out = _wait(proc, lim.timeout_s)
        _kill_everything(proc, group)
        return _result(proc.returncode, timed_out, time.monotonic() - start, out, err, lim, netns, group)


def _command(lim: Limits) -> list[str]:
    if lim.guard:
        return [sys.executable, "-I", "-B", "-c", _GUARD]
    return [sys.executable, "-I", "-B", "main.py"]


def _env(work: str) -> dict[str, str]:
    return {"HOME": work, "TMPDIR": work, "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}


def _wait(proc: subprocess.Popen, timeout_s: float) -> bool:
    """Wait for the child; True when the wall clock ran out first."""
    try:
        proc.wait(timeout=timeout_s)
        return False
    except subprocess.TimeoutExpired:
        return True


def _child_setup(lim: Limits, netns: int, group: Path | None) -> None:
    """In the forked child, before exec: join the cgroup, set rlimits, leave the network."""
    if group is not None:
        (group / "cgroup.procs").write_text(str(os.getpid()))
    for limit, value in (
        (resource.RLIMIT_CPU, (lim.cpu_s, lim.cpu_s + 1)),
        (resource.RLIMIT_AS, (lim.memory_bytes,) * 2),
        (resource.RLIMIT_FSIZE, (lim.file_bytes,) * 2),
        (resource.RLIMIT_CORE, (0, 0)),
        (resource.RLIMIT_NPROC, (_nproc_limit(lim.max_procs),) * 2),
    ):
        resource.setrlimit(limit, value)
    if netns and _libc().unshare(netns) != 0:
        raise OSError(ctypes.get_errno(), "unshare of the network namespace failed")


def _nproc_limit(max_procs: int) -> int:
    """RLIMIT_NPROC counts all of this user's processes, so allow what is already running."""
    uid = os.getuid()
    if uid == 0:
        return max_procs  # ignored by the kernel for root; the cgroup is the cap
    running = 0
    for entry in os.scandir("/proc"):
        with suppress(OSError):
            running += entry.name.isdigit() and entry.stat().st_uid == uid
    return running + max_procs


@functools.cache
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


@functools.cache
def _netns_flags() -> int:
    """The unshare(2) flags that give a child its own network here, or 0 if none are allowed."""
    if not hasattr(_libc(), "unshare"):
        return 0
    for flags in (_CLONE_NEWNET, _CLONE_NEWUSER | _CLONE_NEWNET):
        pid = os.fork()
        if pid == 0:
            os._exit(0 if _libc().unshare(flags) == 0 else 1)
        if os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0:
            return flags
    return 0


@functools.cache
def _cgroup_parent() -> Path | None:
    """A cgroup-v1 pids hierarchy we may create groups in (root on most Linux hosts), else None."""
    with suppress(OSError):
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, names, path = line.split(":", 2)
            parent = _PIDS_V1 / path.lstrip("/")
            if "pids" in names.split(",") and os.access(parent, os.W_OK):
                return parent
    return None


@contextmanager
def _pids_cgroup(max_procs: int) -> Iterator[Path | None]:
    """A fresh pids cgroup capped at `max_procs`, removed afterwards; None where not permitted."""
    parent = _cgroup_parent()
    group = None if parent is None else parent / f"edge-sandbox-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    try:
        if group is not None:
            group.mkdir()
            (group / "pids.max").write_text(str(max_procs))
        yield group
    finally:
        if group is not None and group.exists():
            _empty_cgroup(group)
            _remove_cgroup(group)


def _empty_cgroup(group: Path) -> None:
    """SIGKILL every member until none is left (pids.max bounds how many can appear meanwhile)."""
    for _ in range(200):
        pids = (group / "cgroup.procs").read_text().split()
        if not pids:
            return
        for pid in pids:
            with suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)
        time.sleep(0.005)


def _remove_cgroup(group: Path) -> None:
    for _ in range(100):
        try:
            group.rmdir()
            return
        except OSError:
            time.sleep(0.01)


def _kill_everything(proc: subprocess.Popen, group: Path | None) -> None:
    """Kill the child's session group (and cgroup), whether it ended or not: orphans go too."""
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    if group is not None:
        _empty_cgroup(group)
    proc.wait()


def _read(stream: IO[bytes], bound: int) -> tuple[str, bool]:
    stream.seek(0)
    data = stream.read(bound + 1)
    return data[:bound].decode("utf-8", errors="replace"), len(data) > bound


def _result(code: int, timed_out: bool, seconds: float, out: IO[bytes], err: IO[bytes],
            lim: Limits, netns: int, group: Path | None) -> SandboxResult:
    stdout, cut_out = _read(out, lim.max_output)
    stderr, cut_err = _read(err, lim.max_output)
    killed_by = signal.Signals(-code).name if code < 0 else None
    return SandboxResult(
        exit_code=code, stdout=stdout, stderr=stderr, timed_out=timed_out, killed_by=killed_by,
        seconds=seconds, network_isolated=bool(netns), procs_capped=group is not None or os.getuid() != 0,
        truncated=cut_out or cut_err or killed_by == "SIGXFSZ",
    )
