"""Which of the sandbox's layers this machine allows, found once per process, and what follows from it.

The strong layers are bubblewrap's namespaces (the child sees a minimal, read-only world with no
network) and the seccomp filter; Landlock and cgroups add to them where the kernel and our privileges
allow. `execute_code = "auto"` runs model code only with both strong layers; `true` runs with whatever
there is (the audit-hook guard standing in for the rest) and warns; `false` never runs it.
"""
from __future__ import annotations

import ctypes
import functools
import logging
import os
import platform
import subprocess
from dataclasses import dataclass

from edge_runtime.evidence import cgroups, fence, seccomp

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Layers:
    bwrap: str | None  # the executable, or None
    bwrap_origin: str  # where it came from, or why there is none
    namespaces: str  # "" when bwrap built the child's namespaces here, else why not
    seccomp: bool
    landlock_abi: int  # 0: none
    cgroup: cgroups.Parents
    user: str

    @property
    def missing(self) -> str:
        """The strong layer missing, in words ('' when none is)."""
        if self.namespaces:
            return f"no namespaces: {self.namespaces}"
        return "" if self.seccomp else f"no seccomp filter ({platform.machine()})"

    @property
    def strong(self) -> bool:
        """Both strong layers: the kernel, not the child's own interpreter, is the fence."""
        return not self.namespaces and self.seccomp

    def lines(self) -> list[str]:
        """What `edge-runtime sandbox check` prints: each layer, on or off, and why."""
        ns_ok = not self.namespaces
        return [
            f"bubblewrap:  {self.bwrap or 'missing'} ({self.bwrap_origin})",
            "namespaces:  " + ("user, mount, pid, net, ipc, uts: yes" if ns_ok else f"no: {self.namespaces}"),
            "seccomp:     " + (f"yes ({platform.machine()} filter)" if self.seccomp
                               else f"no filter for {platform.machine()}" if not seccomp.supported()
                               else "no: needs bubblewrap's namespaces" if not ns_ok
                               else "no: bwrap refused the filter"),
            "landlock:    " + (f"yes (ABI {self.landlock_abi})" if self.landlock_abi else "no (kernel without it)"),
            "limits:      " + self.cgroup.describe + "; rlimits for CPU time, address space, file size",
            f"running as:  {self.user}",
        ]


def landlock_abi() -> int:
    """The kernel's Landlock ABI version, 0 where it has none (or the call is refused)."""
    if platform.system() != "Linux":
        return 0
    libc = ctypes.CDLL(None, use_errno=True)
    abi = libc.syscall(444, None, 0, 1)  # landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION)
    return max(abi, 0)


@functools.cache
def probe() -> Layers:
    """Try the fence once (bwrap with every namespace and the filter, running `pass`) and record what held."""
    exe, origin = fence.bwrap()
    why = "no bwrap" if exe is None else _try(with_seccomp=False)
    filtered = seccomp.supported() and not why and not _try(with_seccomp=True)
    user = "root" if os.getuid() == 0 else f"uid {os.getuid()}"
    return Layers(exe, origin, why, filtered, landlock_abi(), cgroups.parents(), user)


def _try(*, with_seccomp: bool) -> str:
    """'' when the full fence starts here, else bwrap's own words on why not."""
    read, write = os.pipe()
    try:
        os.write(write, seccomp.program() if with_seccomp else b"")
        os.close(write)
        argv = fence.command([], seccomp_fd=read if with_seccomp else None, tmpfs_bytes=1 << 20,
                             argv=[fence.interpreter(), "-I", "-S", "-c", "pass"])
        done = subprocess.run(argv, pass_fds=[read], env={}, stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap did not start: {exc.__class__.__name__}"
    finally:
        os.close(read)
    if done.returncode == 0:
        return ""
    text = done.stderr.decode("utf-8", "replace").strip().splitlines()
    return (text[-1] if text else f"exit status {done.returncode}").removeprefix("bwrap: ")


def refusal(execute_code: str | bool) -> str:
    """Why model code does not run under this setting here, or '' when it does."""
    if execute_code is False:
        return "code execution is off (execute_code = false)"
    layers = probe()
    if layers.strong or execute_code is True:
        return ""
    return f"the sandbox's kernel fence is incomplete here ({layers.missing}); see `edge-runtime sandbox check`"


@functools.cache
def allowed(execute_code: str | bool) -> bool:
    """Whether model code runs under this setting here; says why not (or warns) once per process."""
    why = refusal(execute_code)
    if why and execute_code == "auto":
        log.warning("execute_code = auto: model-written code will not run: %s", why)
    elif execute_code is True and not probe().strong:
        log.warning("execute_code = true: running model-written code WITHOUT the kernel fence (%s): only "
                    "rlimits and an audit hook stand between it and your files", probe().missing)
    return not why
