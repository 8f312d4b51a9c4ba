"""Honest degrading: where user namespaces are refused (simulated by a seccomp filter on the CLI's process),
`sandbox check` says so and what follows, `execute_code = auto` runs nothing, `true` runs and says how."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from edge_runtime.evidence import seccomp
from edge_runtime.evidence.layers import probe
from tests.evidence.sandbox_modes import ROOT, refuse_namespaces

pytestmark = pytest.mark.skipif(not seccomp.supported(), reason="no seccomp filter to refuse namespaces with here")


def cli(*args: str, refused: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "edge_runtime.cli.main", *args], capture_output=True, text=True,
                          cwd=ROOT, preexec_fn=refuse_namespaces if refused else None, timeout=120)


def test_check_tells_the_truth_where_namespaces_are_refused():
    done = cli("sandbox", "check")
    assert done.returncode == 1
    assert "namespaces:  no:" in done.stdout and "fence:       INCOMPLETE" in done.stdout
    assert "execute_code = auto: model-written code will NOT run" in done.stdout
    report = json.loads(cli("sandbox", "check", "--json").stdout)
    assert report["strong"] is False and report["runs_code"] is False and report["namespaces"]


def test_check_tells_the_truth_here():
    done = cli("sandbox", "check", refused=False)
    assert done.returncode == (0 if probe().strong else 1)
    assert ("fence:       complete" in done.stdout) == probe().strong


def test_auto_runs_nothing_and_true_runs_with_the_guard(tmp_path):
    program = tmp_path / "hello.py"
    program.write_text("import os\nprint('hello')\nprint(os.getcwd().startswith('/tmp/edge-sandbox-'))\n")
    refused = cli("sandbox", "run", str(program))
    assert refused.returncode == 2 and "not running" in refused.stderr and "kernel fence is incomplete" in refused.stderr
    ran = cli("sandbox", "run", str(program), "--execute-code", "true", "--json")
    result = json.loads(ran.stdout)
    assert result["stdout"] == "hello\nTrue\n" and result["fenced"] is False and result["ended"] == "exit status 0"
    assert "WITHOUT the kernel fence" in ran.stderr  # said once, on stderr


def test_true_without_the_fence_still_has_the_guard(tmp_path):
    program = tmp_path / "escape.py"
    program.write_text("open('/tmp/edge-degraded-escape', 'w').write('x')\n")
    ran = json.loads(cli("sandbox", "run", str(program), "--execute-code", "--json").stdout)
    assert ran["exit_code"] == 1 and "PermissionError" in ran["stderr"] and "sandbox refuses" in ran["stderr"]
    assert not Path("/tmp/edge-degraded-escape").exists()
