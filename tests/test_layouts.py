"""Layout variants: the config and where variants live, without a model."""
from __future__ import annotations

from pathlib import Path

import pytest

from edge_runtime.config import parse_config
from edge_runtime.errors import ConfigError
from edge_runtime.layouts import check_layout, variant_path


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
