"""The first load of a GGUF file on a machine measures repack on and off, once, and loads the faster."""
from __future__ import annotations

import pytest

from edge_runtime.config import parse_config
from edge_runtime.errors import BudgetError
from edge_runtime.runtime import Runtime
from edge_runtime.tuning.profile import PROBE, tuned

from tests.conftest import SMOL, model_path


@pytest.fixture
def fresh_home(tmp_path, monkeypatch):
    source = model_path(SMOL)  # pulled into the real models directory before the home moves
    monkeypatch.setenv("EDGE_RUNTIME_HOME", str(tmp_path))
    (tmp_path / "models").mkdir()
    return source


def answer(cfg_raw: dict) -> list[str]:
    runtime = Runtime(parse_config(cfg_raw, "t.toml"), threads=1)
    try:
        return runtime.generate("Say hi.", expert="w", max_tokens=4, draft="none").notes
    finally:
        runtime.close()


def test_first_load_measures_both_settings_once_and_says_so(fresh_home, capfd, monkeypatch):
    monkeypatch.setattr("edge_runtime.tuning.probe.machine_is_busy", lambda: False)
    cfg = {"context": 512, "experts": {"w": {"model": str(fresh_home)}}}
    answer(cfg)
    profile = tuned(fresh_home, 1)
    assert profile is not None and profile.source == PROBE
    assert set(profile.settings) == {"plain", "repack"} and all(s.step_ms > 0 for s in profile.settings.values())
    assert profile.repack == (profile.settings["repack"].step_ms < profile.settings["plain"].step_ms)
    assert f"first load of {fresh_home.name} on this machine" in capfd.readouterr().err
    answer(cfg)  # a second process run: the stored profile is used, nothing is measured again
    assert "first load" not in capfd.readouterr().err and tuned(fresh_home, 1) == profile


def test_a_probe_on_a_busy_machine_serves_its_process_and_is_not_kept(fresh_home, capfd, monkeypatch):
    monkeypatch.setattr("edge_runtime.tuning.probe.machine_is_busy", lambda: True)
    cfg = parse_config({"context": 512, "experts": {"w": {"model": str(fresh_home)}}}, "t.toml")
    runtime = Runtime(cfg, threads=1)
    try:
        runtime.generate("Say hi.", expert="w", max_tokens=4, draft="none")
        assert "not kept: the machine was busy" in capfd.readouterr().err and tuned(fresh_home, 1) is None
        assert runtime.loader.profile(fresh_home).source == PROBE  # this process loads as measured
    finally:
        runtime.close()


def test_tuned_off_and_a_budget_too_small_for_both_settings_skip_the_probe(fresh_home, capfd):
    answer({"context": 512, "tuned": False, "experts": {"w": {"model": str(fresh_home)}}})
    assert tuned(fresh_home, 1) is None
    with pytest.raises(BudgetError):
        answer({"context": 512, "memory_budget": "1MB", "experts": {"w": {"model": str(fresh_home)}}})
    assert tuned(fresh_home, 1) is None and "first load" not in capfd.readouterr().err
