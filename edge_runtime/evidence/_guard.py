"""An audit hook for the sandbox child (never imported by the runtime; sandbox.py prepends its text).

Not a fence: C code and interpreter tricks (walking frames to this module's globals) get around audit
hooks. It only runs where the kernel's fence is incomplete and the user asked for execution anyway
(`execute_code = true`), as an early, friendly refusal of the ordinary ways out of the directory.
"""
import os
import sys

_ROOT = os.path.realpath(os.getcwd())
_REFUSED = frozenset({
    "os.system", "os.fork", "os.forkpty", "os.exec", "os.spawn", "os.posix_spawn",
    "subprocess.Popen", "pty.spawn", "os.kill", "os.killpg", "signal.pthread_kill",
    "socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg",
    "ctypes.dlopen", "ctypes.dlsym", "ctypes.cdata", "mmap.__new__",
})
_REFUSED_IMPORTS = frozenset({"_posixsubprocess", "_ctypes", "ctypes"})
_PATH_EVENTS = frozenset({
    "os.remove", "os.rmdir", "os.rename", "os.mkdir", "os.chmod", "os.chown", "os.symlink",
    "os.link", "os.truncate", "os.utime", "os.chflags", "os.setxattr", "os.removexattr",
    "shutil.rmtree", "shutil.move", "shutil.copyfile", "shutil.copytree",
})
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


def _inside(path) -> bool:
    """Whether a path (relative ones to the start directory) resolves inside the start directory."""
    full = os.path.realpath(os.path.join(_ROOT, os.fsdecode(path)))
    return full == _ROOT or full.startswith(_ROOT + os.sep)


def _writes(mode, flags) -> bool:
    """`open` audit args: a mode string from open(), flags from os.open()."""
    if isinstance(mode, str) and set(mode) & set("wax+"):
        return True
    return isinstance(flags, int) and bool(flags & _WRITE_FLAGS)


def _paths(args):
    return [a for a in args if isinstance(a, (str, bytes, os.PathLike))]


def _hook(event, args):
    if event in _REFUSED or (event == "import" and args[0] in _REFUSED_IMPORTS):
        raise PermissionError(f"sandbox refuses {event}")
    if event == "open" and _writes(args[1], args[2]) and not all(map(_inside, _paths(args[:1]))):
        raise PermissionError(f"sandbox refuses writing outside its directory: {args[0]!r}")
    if event in _PATH_EVENTS and not all(map(_inside, _paths(args))):
        raise PermissionError(f"sandbox refuses {event} outside its directory")


sys.addaudithook(_hook)
