"""Running the sandbox as root and as an ordinary user, for the hostile suite.

As root, the "user" half runs a small driver as `nobody` (an ordinary user every Linux has), with an
interpreter that user can execute and this tree and the venv's packages on its path; as an ordinary
user (CI), that half runs in-process and the root half is skipped with the reason.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge_runtime.evidence.sandbox import SandboxResult, run_python

ROOT = Path(__file__).resolve().parents[2]
NOBODY = 65534
_DRIVER = """
import json, os, sys
from dataclasses import asdict
from edge_runtime.evidence.sandbox import run_python
spec = json.loads(sys.stdin.read())
readable = {p: os.access(p, os.R_OK) for p in spec["host_paths"]}
result = run_python(spec["code"], **spec["limits"])
print(json.dumps({"result": asdict(result), "readable": readable}))
"""


@dataclass
class Mode:
    """Who runs the sandbox: `name` is root or user; `python` the driver's interpreter (None: in-process)."""

    name: str
    python: str | None = None

    @property
    def uid(self) -> int:
        return os.getuid() if self.python is None else NOBODY

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        paths = [str(ROOT), sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]]
        return {"PATH": "/usr/bin:/bin", "PYTHONPATH": os.pathsep.join(paths), **(extra or {})}

    def run(self, code: str, *, env: dict[str, str] | None = None, host_paths: tuple[str, ...] = (),
            **limits: Any) -> tuple[SandboxResult, dict[str, bool]]:
        """The sandbox's result, and which `host_paths` this mode's user can read outside it."""
        if self.python is None:
            saved = dict(os.environ)
            os.environ.update(env or {})
            try:
                return run_python(code, **limits), {p: os.access(p, os.R_OK) for p in host_paths}
            finally:
                os.environ.clear()
                os.environ.update(saved)
        spec = json.dumps({"code": code, "limits": limits, "host_paths": list(host_paths)})
        done = subprocess.run([self.python, "-c", _DRIVER], input=spec, capture_output=True, text=True, cwd="/",
                              env=self.env(env), user=NOBODY, group=NOBODY, extra_groups=[], timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"driver failed as uid {NOBODY}: {done.stderr[-2000:]}")
        answer = json.loads(done.stdout)
        return SandboxResult(**answer["result"]), answer["readable"]


def user_mode() -> tuple[Mode | None, str]:
    """The ordinary-user mode here, or None and why not."""
    if os.getuid() != 0:
        return Mode("user"), ""
    why = ""
    for python in (sys.executable, "/usr/bin/python3"):
        try:
            probe = subprocess.run([python, "-c", "import edge_runtime.evidence.sandbox"], capture_output=True,
                                   text=True, cwd="/", env=Mode("user").env(), user=NOBODY, group=NOBODY,
                                   extra_groups=[])
        except OSError as exc:
            why = str(exc)
            continue
        if probe.returncode == 0:
            return Mode("user", python), ""
        why = probe.stderr[-300:]
    return None, f"no interpreter uid {NOBODY} can run with this tree importable: {why}"




def refuse_namespaces() -> None:
    """A preexec_fn: this child and its descendants may not create namespaces, as on hosts that refuse
    user namespaces (our own seccomp filter denies clone/unshare with namespace flags)."""
    import ctypes

    from edge_runtime.evidence import seccomp

    class Program(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    libc = ctypes.CDLL(None, use_errno=True)
    code = ctypes.create_string_buffer(seccomp.program())
    program = Program(len(code.raw) // 8, ctypes.addressof(code))
    if libc.prctl(38, 1, 0, 0, 0) != 0 or libc.prctl(22, 2, ctypes.byref(program), 0, 0) != 0:  # NO_NEW_PRIVS, SECCOMP
        os._exit(99)
