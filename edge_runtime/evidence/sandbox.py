"""Run untrusted, model-written Python in a throwaway child whose fence is the kernel's.

The child runs under bubblewrap (fence.py: its own user, mount, pid, net, ipc and uts namespaces, a
read-only minimal root and a size-capped tmpfs work directory), with no_new_privs and a seccomp filter
(seccomp.py), Landlock from its first line where the kernel has it (_landlock.py), a cgroup capping its
processes and memory where one can be made (cgroups.py), rlimits for CPU seconds, address space, file
size and core dumps, an empty environment and no stdin. stdout/stderr go to files bounded by the file
size limit. On timeout the pid namespace's init is killed, which takes every process in it along.

Where bubblewrap cannot build the namespaces (layers.py finds out once per process), code runs only if
the caller insists (`execute_code = true`): then as plain `python -I` in a host temporary directory,
with the rlimits, Landlock where the kernel has it, the cgroup and the audit-hook guard (_guard.py),
which is not a fence. docs/sandbox.md says what each layer stops.
"""
from __future__ import annotations

import json
import os
import resource
import select
import signal
import subprocess
import tempfile
import time
from contextlib import ExitStack, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Mapping

from edge_runtime.evidence import cgroups, fence, seccomp
from edge_runtime.evidence.layers import Layers, probe

MiB = 1 << 20
_HERE = Path(__file__).parent
_LIMITS, _GUARD, _LANDLOCK, _START = (
    (_HERE / name).read_text() for name in ("_limits.py", "_guard.py", "_landlock.py", "_start.py"))


@dataclass(frozen=True)
class Limits:
    """What one run may use; seconds are wall-clock (timeout_s) and CPU (cpu_s, per process).

    `guard`: the audit hook; None runs it only where the kernel fence is incomplete."""

    timeout_s: float = 5.0
    cpu_s: int = 5
    memory_bytes: int = 512 * MiB  # per process (RLIMIT_AS) and, with a cgroup, for all of them together
    file_bytes: int = 1 * MiB  # per file written, stdout and stderr included
    disk_bytes: int = 16 * MiB  # the whole work directory (a tmpfs)
    max_procs: int = 64
    max_output: int = 64 * 1024
    guard: bool | None = None


@dataclass(frozen=True)
class SandboxResult:
    """How the child ended: exit_code is negative for a signal, as in subprocess."""

    exit_code: int
    stdout: str
    stderr: str
    timed_out: bool
    killed_by: str | None
    seconds: float
    fenced: bool  # the kernel fence (namespaces, and seccomp where `layers` say so) held the child
    network_isolated: bool
    procs_capped: bool
    truncated: bool
    limit: str | None = None  # the limit hit: memory (a process OOM-killed), timeout, cpu, file size; or None

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out

    @property
    def ended(self) -> str:
        """How it ended, in words (what `edge-runtime sandbox run` prints)."""
        how = f"killed by {self.killed_by}" if self.killed_by else f"exit status {self.exit_code}"
        return how + (f" ({self.limit} limit)" if self.limit else "")


def run_python(code: str, *, files: Mapping[str, str] | None = None, **limits: Any) -> SandboxResult:
    """Run `code` as main.py (plus `files`, same directory) under `Limits(**limits)`."""
    lim, layers = Limits(**limits), probe()
    fenced = not layers.namespaces
    guard = (not layers.strong) if lim.guard is None else lim.guard
    with ExitStack() as stack:
        groups = stack.enter_context(cgroups.limited(lim.max_procs, lim.memory_bytes))
        out, err = (stack.enter_context(tempfile.TemporaryFile()) for _ in range(2))
        sources = {"main.py": code, **(files or {})}
        status_read, status_write = os.pipe()  # bwrap reports the namespace init's pid here
        stack.callback(os.close, status_read)
        if fenced:
            argv, fds, cwd, env = _fenced_argv(sources, lim, layers, guard)
            argv[1:1] = ["--json-status-fd", str(status_write)]
        else:
            argv, fds, cwd, env = _host_argv(stack, sources, lim, layers, guard)
        start = time.monotonic()
        try:
            proc = subprocess.Popen(
                _joining(groups, argv), cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                stdout=out, stderr=err, start_new_session=True, pass_fds=[*fds, status_write])
        finally:
            for fd in (*fds, status_write):
                os.close(fd)
        timed_out = _wait(proc, lim.timeout_s)
        _kill_everything(proc, groups, status_read if fenced else None)
        return _result(proc.returncode, timed_out, time.monotonic() - start, (out, err), lim, fenced, groups)


def _fenced_argv(sources: Mapping[str, str], lim: Limits, layers: Layers,
                 guard: bool) -> tuple[list[str], list[int], str, dict[str, str]]:
    """bwrap's command line, the descriptors it reads (files, filter), the host cwd and bwrap's environment
    (empty: the child's is set by --setenv)."""
    fds: list[int] = []
    copies: list[str] = []
    for name, text in sources.items():
        if "/" in name or name.startswith("."):
            raise ValueError(f"sandbox file names are plain names, got {name!r}")
        fds.append(_memfd(text.encode("utf-8")))
        copies += ["--file", str(fds[-1]), f"{fence.WORK}/{name}"]
    filter_fd = _memfd(seccomp.program()) if layers.seccomp else None
    if filter_fd is not None:
        fds.append(filter_fd)
    landlock = fence.WORK if layers.landlock_abi else None
    argv = fence.command(copies, seccomp_fd=filter_fd, tmpfs_bytes=lim.disk_bytes,
                         argv=[fence.interpreter(), "-I", "-B", "-c", _script(lim, guard, landlock, True)])
    return argv, fds, "/", {}


def _host_argv(stack: ExitStack, sources: Mapping[str, str], lim: Limits, layers: Layers,
               guard: bool) -> tuple[list[str], list[int], str, dict[str, str]]:
    """Without bubblewrap: plain `python -I` in a host temporary directory (its cwd, HOME and TMPDIR)."""
    cwd = stack.enter_context(tempfile.TemporaryDirectory(prefix="edge-sandbox-", ignore_cleanup_errors=True))
    for name, text in sources.items():
        Path(cwd, name).write_text(text, encoding="utf-8")
    landlock = cwd if layers.landlock_abi else None
    argv = [fence.interpreter(), "-I", "-B", "-c", _script(lim, guard, landlock, False)]
    return argv, [], cwd, {**fence.environment(), "HOME": cwd, "TMPDIR": cwd}


def _memfd(data: bytes) -> int:
    fd = os.memfd_create("edge-sandbox", 0)  # no CLOEXEC: bwrap reads it after exec
    os.write(fd, data)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def _script(lim: Limits, guard: bool, landlock_work: str | None, fenced: bool) -> str:
    """The child's `-c` program: rlimits, Landlock, the guard if wanted, then main.py."""
    parts = [f"_RLIMITS = {_rlimits(lim, fenced)!r}\n" + _LIMITS]
    if landlock_work:
        parts.append(f"_LANDLOCK_WORK = {landlock_work!r}\n" + _LANDLOCK)
    return "\n".join([*parts, *([_GUARD] if guard else []), _START])


def _wait(proc: subprocess.Popen, timeout_s: float) -> bool:
    """Wait for the child; True when the wall clock ran out first. A pidfd wakes us the moment it ends
    (Popen.wait with a timeout polls with sleeps of up to 50 ms: most of a short run's cost)."""
    with suppress(OSError, AttributeError):
        pidfd = os.pidfd_open(proc.pid)
        try:
            if not select.select([pidfd], [], [], timeout_s)[0]:
                return True
        finally:
            os.close(pidfd)
    try:
        proc.wait(timeout=timeout_s)
        return False
    except subprocess.TimeoutExpired:
        return True


def _rlimits(lim: Limits, fenced: bool) -> list[tuple[int, tuple[int, int]]]:
    """What the child sets on itself first: CPU seconds, address space, file size, no core dumps,
    and processes (per user; the kernel ignores it for root, where the cgroup is the cap)."""
    return [
        (resource.RLIMIT_CPU, (lim.cpu_s, lim.cpu_s + 1)),
        (resource.RLIMIT_AS, (lim.memory_bytes,) * 2),
        (resource.RLIMIT_FSIZE, (lim.file_bytes,) * 2),
        (resource.RLIMIT_CORE, (0, 0)),
        (resource.RLIMIT_NPROC, ((lim.max_procs if fenced else _nproc_limit(lim.max_procs)),) * 2),
    ]


def _joining(groups: list[Path], argv: list[str]) -> list[str]:
    """`argv` started by a shell that first moves itself into the cgroups, so every process of the run
    is born inside them (a preexec_fn would do it in Python, at the cost of vfork)."""
    if not groups:
        return argv
    script = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"'
    return ["/bin/sh", "-c", script, "sh", *(str(g / "cgroup.procs") for g in groups), "--", *argv]


def _nproc_limit(max_procs: int) -> int:
    """Without a user namespace of its own, RLIMIT_NPROC counts all of this user's processes, so allow what
    is already running (inside one, the kernel counts the namespace's processes against it)."""
    uid = os.getuid()
    if uid == 0:
        return max_procs  # ignored by the kernel for root; the cgroup is the cap
    running = 0
    for entry in os.scandir("/proc"):
        with suppress(OSError):
            running += entry.name.isdigit() and entry.stat().st_uid == uid
    return running + max_procs


def _kill_everything(proc: subprocess.Popen, groups: list[Path], status: int | None) -> None:
    """Kill the run, ended or not: the pid namespace's init (its death kills every process in the
    namespace, and bwrap then exits), then the session group and the cgroups for what is left."""
    init = _init_pid(status) if status is not None else None
    if init is not None and proc.poll() is None:
        with suppress(ProcessLookupError, PermissionError):
            os.kill(init, signal.SIGKILL)
        with suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=2.0)
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    for group in groups:
        cgroups.empty(group)
    proc.wait()


def _init_pid(status: int) -> int | None:
    """The namespace init's host pid from bwrap's --json-status-fd lines, if it got that far."""
    os.set_blocking(status, False)
    with suppress(OSError):
        for line in os.read(status, 4096).decode("utf-8", "replace").splitlines():
            with suppress(ValueError):
                pid = json.loads(line).get("child-pid")
                if pid:
                    return int(pid)
    return None


def _read(stream: IO[bytes], bound: int) -> tuple[str, bool]:
    stream.seek(0)
    data = stream.read(bound + 1)
    return data[:bound].decode("utf-8", errors="replace"), len(data) > bound


def _result(code: int, timed_out: bool, seconds: float, streams: tuple[IO[bytes], IO[bytes]], lim: Limits,
            fenced: bool, groups: list[Path]) -> SandboxResult:
    if fenced and 128 < code < 128 + 65:  # bwrap reports a signal the way a shell does
        code = 128 - code
    stdout, cut_out = _read(streams[0], lim.max_output)
    stderr, cut_err = _read(streams[1], lim.max_output)
    killed_by = signal.Signals(-code).name if code < 0 else None
    full = any(os.fstat(s.fileno()).st_size >= lim.file_bytes for s in streams)  # Python ignores SIGXFSZ: EFBIG
    limit = ("memory" if cgroups.oom_killed(groups) else "timeout" if timed_out
             else "file size" if full or killed_by == "SIGXFSZ" else "cpu" if killed_by == "SIGXCPU" else None)
    return SandboxResult(
        exit_code=code, stdout=stdout, stderr=stderr, timed_out=timed_out, killed_by=killed_by,
        seconds=seconds, fenced=fenced, network_isolated=fenced, truncated=cut_out or cut_err or killed_by == "SIGXFSZ",
        procs_capped=any((g / "pids.max").exists() for g in groups) or os.getuid() != 0,
        limit=limit,
    )
