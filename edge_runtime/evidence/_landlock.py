"""The sandbox child's first lines (never imported by the runtime): restrict itself with Landlock.

A second fence inside bubblewrap's: even if a bind were writable by mistake, this process and its
children may write only under the work directory and /dev/null, may not connect or bind TCP (ABI 4+),
and may not signal or reach abstract sockets outside their own domain (ABI 6+). Runs before any
candidate code, also where bubblewrap could not start (then the work directory is a host temporary directory). `_LANDLOCK_WORK` is set by the lines prepended.
"""
import ctypes as _ct
import os as _os
import struct as _st


def _landlock(work):
    libc = _ct.CDLL(None, use_errno=True)
    abi = libc.syscall(444, None, 0, 1)  # landlock_create_ruleset(NULL, 0, LANDLOCK_CREATE_RULESET_VERSION)
    if abi < 1:
        raise SystemExit(f"sandbox: Landlock was probed but is not available here (errno {_ct.get_errno()})")
    every = (1 << 13) - 1 | (1 << 13 if abi >= 2 else 0) | (1 << 14 if abi >= 3 else 0) | (1 << 15 if abi >= 5 else 0)
    read = 1 | 4 | 8  # EXECUTE, READ_FILE, READ_DIR
    attr = _st.pack("=Q", every) + (_st.pack("=Q", 3) if abi >= 4 else b"") + (_st.pack("=Q", 3) if abi >= 6 else b"")
    libc.prctl(38, 1, 0, 0, 0)  # PR_SET_NO_NEW_PRIVS: bwrap has set it; without bwrap, Landlock needs it
    ruleset = libc.syscall(444, attr, len(attr), 0)
    for path, allowed in (("/", read), (work, every), ("/dev/null", 2 | 4 | (1 << 14 if abi >= 3 else 0))):
        fd = _os.open(path, 0o10000000)  # O_PATH
        rule = _st.pack("=Qi", allowed, fd)
        if libc.syscall(445, ruleset, 1, rule, 0) != 0:
            raise SystemExit(f"sandbox: Landlock rule for {path} refused (errno {_ct.get_errno()})")
        _os.close(fd)
    if libc.syscall(446, ruleset, 0) != 0:
        raise SystemExit(f"sandbox: Landlock restrict_self refused (errno {_ct.get_errno()})")


_landlock(_LANDLOCK_WORK)  # noqa: F821 - defined by the line sandbox.py puts before this text
del _landlock, _ct, _os, _st
