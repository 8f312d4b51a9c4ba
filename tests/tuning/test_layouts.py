"""Layout variants: the choice rule and the config without a model; a real SmolLM2 Q4_0 variant made,
judged by perplexity and loaded by a Runtime."""
from __future__ import annotations

import math
from pathlib import Path

import pytest

from edge_runtime.config import parse_config
from edge_runtime.errors import ConfigError
from edge_runtime.models.loader import ExpertLoader
from edge_runtime.models.header import read_gguf
from edge_runtime.tuning.layouts import check_layout, perplexity_loss, variant, variant_path
from edge_runtime.memory.budget import ModelPool
from edge_runtime.tuning.profile import SettingTiming, TunedProfile, describe, save, tuned
from edge_runtime.runtime import Runtime
from edge_runtime.cli.tune import table
from edge_runtime.tuning.tune import choose_layout

from tests.conftest import SMOL, model_path


def measured(step_ms: float, repack: bool = False) -> SettingTiming:
    return SettingTiming(repack, step_ms, {2: 1.9, 4: 3.1, 8: 6.0, 16: 7.0}, 4, 1.3, 2.1)


def profile(plain_ms: float, repack_ms: float, **extra: object) -> TunedProfile:
    return TunedProfile({"plain": measured(plain_ms), "repack": measured(repack_ms, True)},
                        modes={"exact": {"tok_s": 20.0, "acceptance": 0.5, "tokens_per_step": 1.1}}, **extra)


@pytest.mark.parametrize("variant_ms,loss,expected", [
    (30.0, 0.03, "Q4_0"),  # faster and within the loss
    (30.0, 0.08, ""),  # faster, but loses too much
    (40.0, 0.01, ""),  # as fast as the original's best (its repack step): not faster
    (45.0, 0.01, ""),  # slower
    (30.0, math.nan, ""),  # a loss that could not be measured is never within the limit
])
def test_a_variant_is_chosen_only_when_faster_and_within_the_loss(variant_ms, loss, expected):
    original = profile(50.0, 40.0)
    variants = {"Q4_0": profile(variant_ms + 5, variant_ms, loss=loss)}
    assert choose_layout(original, variants, max_loss=0.05) == expected


def test_no_variant_keeps_the_file_as_it_is():
    assert choose_layout(profile(50.0, 40.0), {}, max_loss=0.05) == ""


def config(**expert: object) -> dict:
    return {"experts": {"w": {"model": "m.gguf", **expert}}}


def test_layout_config_is_validated_with_the_allowed_values():
    assert parse_config(config(), "t.toml").experts["w"].layout == ""
    assert parse_config(config(layout="Q4_0"), "t.toml").experts["w"].layout == "Q4_0"
    with pytest.raises(ConfigError) as err:
        parse_config(config(layout="q4_k_m"), "t.toml")
    assert "unknown layout 'q4_k_m'" in err.value.message and "Q4_0" in err.value.hint
    with pytest.raises(ConfigError, match="ONNX"):
        parse_config({"experts": {"w": {"model": "model.onnx", "layout": "Q4_0"}}}, "t.toml")
    assert parse_config(config(), "t.toml").max_layout_loss == 0.05
    with pytest.raises(ConfigError, match="max_layout_loss"):
        parse_config({**config(), "max_layout_loss": -0.1}, "t.toml")
    with pytest.raises(ConfigError, match="--layouts"):
        check_layout("Q8_0", "--layouts")


def test_variants_live_in_the_models_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("EDGE_RUNTIME_HOME", str(tmp_path))
    assert variant_path(Path("/read-only/Model.Q4_K_M.gguf"), "Q4_0") == tmp_path / "models" / "Model.Q4_K_M.Q4_0.gguf"


def test_inspect_and_the_tune_table_name_the_layout_and_its_loss(tmp_path, monkeypatch):
    monkeypatch.setenv("EDGE_RUNTIME_HOME", str(tmp_path))
    chosen = profile(50.0, 40.0, layout="Q4_0", variants={"Q4_0": profile(35.0, 30.0, loss=0.031)})
    source = tmp_path / "m.gguf"
    source.write_bytes(b"GGUF")  # the profile is keyed by the file's identity only
    save(source, 2, chosen)
    assert describe(source, 2).startswith("layout Q4_0 (perplexity +3.1%), repack on, mmap off, verify exact; "
                                          "step 30.0 ms")
    rows = table({"code": chosen}).splitlines()
    assert "| layout |" in rows[0] and "| perplexity loss |" in rows[0]
    assert [r for r in rows if "yes" in r] == [r for r in rows if "| Q4_0 | repack |" in r]
    assert "+3.1%" in rows[-3]


def test_the_tune_table_leaves_what_was_not_measured_blank():
    """tune times a slower variant's steps only: its curve, exact batch and loss are never measured."""
    slower = profile(60.0, 45.0)
    for setting in slower.settings.values():
        setting.curve = setting.exact_batch = setting.bound_exact = setting.bound_fast = None
    rows = table({"code": profile(50.0, 40.0, layout="", variants={"Q4_0": slower})}).splitlines()
    q4_0 = [r for r in rows if "| Q4_0 |" in r]
    assert len(q4_0) == 2 and all("| - | - | - | - | - | - | - | not measured: slower |" in r for r in q4_0)
    assert choose_layout(profile(50.0, 40.0), {"Q4_0": slower}, max_loss=0.05) == ""


def test_smollm2_q4_0_variant_is_made_judged_and_loaded(tmp_path, monkeypatch):
    source = model_path(SMOL)  # pulled into the real models directory before it moves
    monkeypatch.setenv("EDGE_RUNTIME_HOME", str(tmp_path))
    made = variant(source, "Q4_0", threads=1)
    info = read_gguf(made)
    assert made.parent == tmp_path / "models" and info.file_type == "Q4_0" and "Q4_0" in info.tensor_types
    made_ns = made.stat().st_mtime_ns
    assert variant(source, "Q4_0", threads=1) == made and made.stat().st_mtime_ns == made_ns  # made once

    loss = perplexity_loss(source, made, threads=1)
    print(f"SmolLM2-135M Q4_1 -> Q4_0 perplexity loss {loss:+.2%}")
    assert math.isfinite(loss) and abs(loss) < 0.5

    cfg = parse_config({"context": 512, "experts": {"w": {"model": str(source), "layout": "Q4_0"}}}, "t.toml")
    runtime = Runtime(cfg, threads=1)
    try:
        result = runtime.generate("Write one sentence about the sea.", expert="w", max_tokens=8, draft="none")
        assert result.text.strip() and f"'w' loads layout Q4_0: {made.name}" in result.notes
        assert runtime.pool.cached("w").path == made
        assert result.footprints["w"][0] == runtime.loader.plan(made, 512) != runtime.loader.plan(source, 512)
    finally:
        runtime.close()

    as_is = parse_config({"experts": {"w": {"model": str(source)}}}, "t.toml")
    save(source, 1, profile(50.0, 40.0, layout="Q4_0"))
    assert ExpertLoader(as_is, ModelPool(), 1).weights(str(source)) == (made, "Q4_0")  # tune's choice
    as_is.tuned = False
    assert ExpertLoader(as_is, ModelPool(), 1).weights(str(source)) == (source, "")


def test_tuned_off_ignores_the_profiles_verify_default_too(tmp_path, monkeypatch):
    """`tuned = false` drops every choice of tune's, the verify default included (one switch, one place)."""
    from edge_runtime.tuning.profile import verify_mode

    monkeypatch.setenv("EDGE_RUNTIME_HOME", str(tmp_path))
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")  # the profile is keyed by the file's identity; nothing loads it here
    save(model, 1, profile(50.0, 40.0, verify="fast"))
    cfg = parse_config({"experts": {"m": {"model": str(model)}}}, "t.toml")
    assert verify_mode("auto", ExpertLoader(cfg, ModelPool(), 1).profile(model)) == "fast"
    assert verify_mode("exact", ExpertLoader(cfg, ModelPool(), 1).profile(model)) == "exact"
    cfg.tuned = False
    assert verify_mode("auto", ExpertLoader(cfg, ModelPool(), 1).profile(model)) == "exact"
    assert ExpertLoader(cfg, ModelPool(), 1).profile(None) is None


def test_decoders_start_from_the_cost_curve_of_the_setting_that_loads():
    measured_profile = profile(50.0, 40.0)  # repack steps faster: it loads, and its curve seeds the decoder
    measured_profile.settings["repack"].curve = {2: 1.5, 4: 2.5, 8: 5.0, 16: 6.0}
    cost = measured_profile.cost()
    assert cost.relative(4) == pytest.approx(2.5) and cost.relative(16) == pytest.approx(6.0)
    measured_profile.settings["repack"].curve = None  # a probe's profile: the decoder learns the curve as it decodes
    assert measured_profile.cost() is None


def test_a_profile_survives_the_store_and_a_foreign_entry_is_measured_again(tmp_path, monkeypatch):
    from edge_runtime.tuning import machine_cache
    from edge_runtime.tuning.profile import KIND, _key

    monkeypatch.setenv("EDGE_RUNTIME_HOME", str(tmp_path))
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    written = profile(50.0, 40.0, layout="Q4_0", variants={"Q4_0": profile(35.0, 30.0, loss=0.031)})
    save(model, 2, written)
    assert tuned(model, 2) == written and tuned(model, 2).repack and tuned(model, 3) is None
    machine_cache.write_entry(KIND, _key(model, 2), {"repack": True})  # an entry from an older version
    assert tuned(model, 2) is None
