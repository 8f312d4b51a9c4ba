"""The benchmark scripts stay runnable: each answers --help, and drawing without matplotlib says how to
get it instead of crashing (matplotlib is the optional [bench] extra)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "scripts"
ENTRY_POINTS = sorted(p for p in SCRIPTS.glob("*.py") if "__main__" in p.read_text())
ENV = os.environ | {"PYTHONPATH": os.pathsep.join([str(ROOT), str(SCRIPTS)])}
BLOCKED = "import sys; sys.modules['matplotlib'] = None\n"  # as if it were not installed
DRAW = ("from pathlib import Path; from benchlib import bar_chart\n"
        "print(bar_chart(Path({png!r}), ['a'], {{'x': [1.0]}}, title='t', ylabel='y'))\n")


@pytest.mark.parametrize("script", ENTRY_POINTS, ids=lambda p: p.name)
def test_script_answers_help(script: Path) -> None:
    run = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True, env=ENV,
                         cwd=ROOT, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "usage:" in run.stdout


def test_a_chart_without_matplotlib_says_how_to_get_it(tmp_path: Path) -> None:
    png = tmp_path / "chart.png"
    run = subprocess.run([sys.executable, "-c", BLOCKED + DRAW.format(png=str(png))], capture_output=True,
                         text=True, env=ENV, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "pip install -e '.[bench]'" in run.stderr and not png.exists()


def test_a_chart_with_matplotlib_is_drawn(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    png = tmp_path / "chart.png"
    run = subprocess.run([sys.executable, "-c", DRAW.format(png=str(png))], capture_output=True, text=True,
                         env=ENV, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    assert png.stat().st_size > 1000
