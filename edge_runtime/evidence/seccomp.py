"""The sandbox's seccomp filter, as a classic BPF program packed in Python (handed to `bwrap --seccomp`).

Why hand-packed: PyPI's libseccomp bindings need the C library and headers at install time (not what
`pip install` gives a fresh Raspberry Pi), and the filter is short. The syscall numbers come from the
kernel headers (asm/unistd_64.h for x86_64, asm-generic/unistd.h for aarch64); other architectures get
no filter, and `edge-runtime sandbox check` says so.

What it stops: sockets of any family but AF_UNIX (EAFNOSUPPORT, so a TCP connect fails before the
network namespace is even reached), clone() with namespace flags and clone3 (whose flags a filter cannot
read; ENOSYS makes glibc fall back to clone), and calls that reach the kernel's or other processes' state:
ptrace, mount and the new mount API, bpf, keyrings, perf_event_open, unshare/setns, io_uring (which could
open sockets without the socket syscall), module loading, kexec, reboot and the like (EPERM). A foreign
architecture's syscall ABI (x32 on x86_64, or an arch the filter was not built for) kills the process.
"""
from __future__ import annotations

import errno
import platform
import struct

_LD_W_ABS, _JEQ, _JGE, _JSET, _RET = 0x20, 0x15, 0x35, 0x45, 0x06
_KILL_PROCESS, _ALLOW, _ERRNO = 0x80000000, 0x7FFF0000, 0x00050000
_NR, _ARCH, _ARG0 = 0, 4, 16  # offsets in struct seccomp_data (args are little-endian u64: low word first)
_AF_UNIX = 1
_X32_BIT = 0x40000000
_NAMESPACE_FLAGS = 0x7E020000  # CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET

_DENIED = (
    "ptrace", "mount", "umount2", "bpf", "keyctl", "add_key", "request_key", "perf_event_open", "unshare",
    "setns", "pivot_root", "chroot", "kexec_load", "kexec_file_load", "init_module", "finit_module",
    "delete_module", "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register",
    "process_vm_readv", "process_vm_writev", "open_by_handle_at", "name_to_handle_at", "swapon", "swapoff",
    "reboot", "syslog", "acct", "fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree",
    "mount_setattr", "quotactl", "settimeofday", "clock_settime", "adjtimex", "vhangup", "pidfd_getfd",
    "fanotify_init", "kcmp", "lookup_dcookie",
)
_X86_64 = dict(zip(_DENIED + ("socket", "clone", "clone3"), (
    101, 165, 166, 321, 250, 248, 249, 298, 272, 308, 155, 161, 246, 320, 175, 313, 176, 323, 425, 426, 427,
    310, 311, 304, 303, 167, 168, 169, 103, 163, 430, 431, 432, 433, 429, 428, 442, 179, 164, 227, 159, 153,
    438, 300, 312, 212, 41, 56, 435)))
_AARCH64 = dict(zip(_DENIED + ("socket", "clone", "clone3"), (
    117, 40, 39, 280, 219, 217, 218, 241, 97, 268, 41, 51, 104, 294, 105, 273, 106, 282, 425, 426, 427,
    270, 271, 265, 264, 224, 225, 142, 116, 89, 430, 431, 432, 433, 429, 428, 442, 60, 170, 112, 171, 58,
    438, 262, 272, 18, 198, 220, 435)))
_ARCHES = {"x86_64": (0xC000003E, _X86_64), "aarch64": (0xC00000B7, _AARCH64)}


def supported(machine: str | None = None) -> bool:
    """Whether a filter exists for this CPU architecture."""
    return (machine or platform.machine()) in _ARCHES


def program(machine: str | None = None) -> bytes:
    """The filter as `struct sock_filter[]` bytes for this architecture; ValueError where none exists."""
    machine = machine or platform.machine()
    if machine not in _ARCHES:
        raise ValueError(f"no seccomp filter for {machine}")
    audit_arch, numbers = _ARCHES[machine]
    denied = [numbers[name] for name in _DENIED]
    ops = [(_LD_W_ABS, 0, 0, _ARCH), (_JEQ, 1, 0, audit_arch), (_RET, 0, 0, _KILL_PROCESS),
           (_LD_W_ABS, 0, 0, _NR)]
    if machine == "x86_64":
        ops += [(_JGE, 0, 1, _X32_BIT), (_RET, 0, 0, _KILL_PROCESS)]
    for nr in denied:
        ops += [(_JEQ, 0, 1, nr), (_RET, 0, 0, _ERRNO | errno.EPERM)]
    ops += [(_JEQ, 0, 1, numbers["clone3"]), (_RET, 0, 0, _ERRNO | errno.ENOSYS)]
    ops += [(_JEQ, 0, 4, numbers["clone"]), (_LD_W_ABS, 0, 0, _ARG0), (_JSET, 0, 1, _NAMESPACE_FLAGS),
            (_RET, 0, 0, _ERRNO | errno.EPERM), (_RET, 0, 0, _ALLOW)]
    ops += [(_JEQ, 0, 4, numbers["socket"]), (_LD_W_ABS, 0, 0, _ARG0), (_JEQ, 1, 0, _AF_UNIX),
            (_RET, 0, 0, _ERRNO | errno.EAFNOSUPPORT), (_RET, 0, 0, _ALLOW)]
    ops.append((_RET, 0, 0, _ALLOW))
    return b"".join(struct.pack("=HBBI", *op) for op in ops)
