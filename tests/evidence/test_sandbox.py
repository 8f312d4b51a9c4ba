"""Hostile candidates: each must end quickly, leave the test process and its files alone, and be reported.

`guard=False` runs show what the OS layers hold on their own (skipped where this host lacks them).
"""
from __future__ import annotations

import os
import socket
import time

import pytest

from edge_runtime.evidence.sandbox import run_python

FAST = {"timeout_s": 3.0, "cpu_s": 2}


def test_normal_program_passes():
    result = run_python("import math\nprint(math.factorial(5))")
    assert result.ok and result.stdout == "120\n" and not result.timed_out


def test_infinite_loop_is_killed_on_time():
    started = time.monotonic()
    result = run_python("while True:\n    pass", timeout_s=1.0, cpu_s=5)
    assert result.timed_out and not result.ok and result.killed_by == "SIGKILL"
    assert time.monotonic() - started < 3.0


def test_cpu_limit_ends_a_busy_loop_before_the_wall_clock():
    result = run_python("while True:\n    pass", timeout_s=10.0, cpu_s=1)
    assert not result.timed_out and result.killed_by in {"SIGXCPU", "SIGKILL"} and result.seconds < 5.0


def test_memory_hog_fails_with_memory_error():
    result = run_python("chunks = []\nwhile True:\n    chunks.append(bytearray(50 * 2**20))", memory_bytes=256 * 2**20, **FAST)
    assert not result.ok and not result.timed_out and "MemoryError" in result.stderr


@pytest.mark.parametrize("guard", [True, False])
def test_fork_bomb_is_capped_and_cleaned_up(guard):
    probe = run_python("print(1)")
    if not guard and not probe.procs_capped:
        pytest.skip("no process cap on this host without the guard (root without a pids cgroup)")
    bomb = (
        "import os, time\nborn = 0\nfor _ in range(500):\n    try:\n        pid = os.fork()\n"
        "    except OSError:\n        break\n    if pid == 0:\n        time.sleep(60)\n        os._exit(0)\n"
        "    born += 1\nprint(born, flush=True)\ntime.sleep(60)\n"
    )
    started = time.monotonic()
    result = run_python(bomb, guard=guard, max_procs=16, **FAST)
    assert time.monotonic() - started < 6.0
    born = int(result.stdout)
    assert result.timed_out and (born == 0 if guard else 0 < born <= 16)
    assert _sleepers() == 0


def _sleepers() -> int:
    """Processes still running a sandbox child (their cwd is a sandbox directory)."""
    count = 0
    for entry in os.scandir("/proc"):
        try:
            count += entry.name.isdigit() and "edge-sandbox-" in os.readlink(f"/proc/{entry.name}/cwd")
        except OSError:
            continue
    return count


def test_writing_outside_the_directory_is_refused(tmp_path):
    """Only the guard holds here: the child keeps this user's file permissions (see sandbox.py)."""
    target = tmp_path / "escaped.txt"
    result = run_python(f"open({str(target)!r}, 'w').write('x')", **FAST)
    assert not result.ok and "PermissionError" in result.stderr and not target.exists()


def test_deleting_outside_the_directory_is_refused(tmp_path):
    victim = tmp_path / "keep.txt"
    victim.write_text("precious")
    result = run_python(f"import os, shutil\nos.remove({str(victim)!r})", **FAST)
    assert not result.ok and victim.read_text() == "precious"
    result = run_python(f"import shutil\nshutil.rmtree({str(tmp_path)!r})", **FAST)
    assert not result.ok and victim.exists()


def test_writing_inside_the_directory_is_allowed():
    result = run_python("open('note.txt', 'w').write('hi')\nprint(open('note.txt').read())")
    assert result.ok and result.stdout == "hi\n"


@pytest.mark.parametrize("guard", [True, False])
def test_socket_to_a_local_listener_never_connects(guard):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        listener.settimeout(0.3)
        port = listener.getsockname()[1]
        code = f"import socket\ns = socket.socket()\ns.settimeout(1)\ns.connect(('127.0.0.1', {port}))\nprint('connected')"
        result = run_python(code, guard=guard, **FAST)
        if not guard and not result.network_isolated:
            pytest.skip("network namespaces are not permitted here; only the guard holds")
        with pytest.raises(socket.timeout):
            listener.accept()
    assert not result.ok and "connected" not in result.stdout


def test_huge_stdout_is_bounded():
    result = run_python("while True:\n    print('x' * 10_000)", max_output=4096, **FAST)
    assert result.truncated and len(result.stdout) == 4096 and not result.ok


def test_network_opt_in_is_not_isolated():
    assert run_python("pass", network=True).network_isolated is False
