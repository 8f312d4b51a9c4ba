"""Bad input gets a clear error and a non-zero exit, and nothing half-written is left behind."""
from __future__ import annotations

import json
import os
from pathlib import Path

import gguf
import numpy as np
import pytest

from edge_runtime.cli.main import main
from edge_runtime.config import load_config
from edge_runtime.errors import ConfigError, ModelFileError
from edge_runtime.models.header import read_gguf

from tests.conftest import DATA, SMOL, model_path

SMOL_CFG = str(DATA / "smol.toml")


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def tiny_gguf(path: Path, *, tensor_type: int | None = None) -> Path:
    """A valid two-tensor GGUF written with the `gguf` package, for header edge cases."""
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_block_count(1)
    writer.add_context_length(64)
    writer.add_tensor("token_embd.weight", np.zeros((8, 4), dtype=np.float32))
    writer.add_tensor("output.weight", np.ones((8, 4), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    if tensor_type is not None:  # patch the first tensor's type id in the tensor-info table
        raw = bytearray(path.read_bytes())
        at = raw.index(b"token_embd.weight") + len(b"token_embd.weight")
        n_dims = int.from_bytes(raw[at:at + 4], "little")
        type_at = at + 4 + 8 * n_dims
        raw[type_at:type_at + 4] = tensor_type.to_bytes(4, "little")
        path.write_bytes(bytes(raw))
    return path


def test_tiny_gguf_reads(tmp_path):
    info = read_gguf(tiny_gguf(tmp_path / "tiny.gguf"))
    assert info.arch == "llama" and info.n_tensors == 2 and info.n_params == 64


def test_missing_file(capsys):
    code, _, err = cli(capsys, "inspect", "/no/such/model.gguf")
    assert code == 1 and "not found" in err and "hint:" in err


def test_not_a_gguf(tmp_path, capsys):
    bad = tmp_path / "weights.gguf"
    bad.write_bytes(os.urandom(4096))
    code, _, err = cli(capsys, "inspect", str(bad))
    assert code == 1 and "not a GGUF file" in err


def test_truncated_gguf_is_refused_before_llama_cpp(tmp_path):
    cut = tmp_path / "cut.gguf"
    with open(model_path(SMOL), "rb") as src:
        cut.write_bytes(src.read(20_000_000))
    with pytest.raises(ModelFileError, match="truncated"):
        read_gguf(cut)
    from edge_runtime.models.backends.gguf import GGUFModel

    with pytest.raises(ModelFileError, match="truncated"):
        GGUFModel(cut)


def test_truncated_inside_the_header(tmp_path):
    cut = tmp_path / "head.gguf"
    cut.write_bytes(tiny_gguf(tmp_path / "t.gguf").read_bytes()[:60])
    with pytest.raises(ModelFileError, match="cut short|truncated"):
        read_gguf(cut)


def test_unknown_tensor_type(tmp_path):
    with pytest.raises(ModelFileError, match="unknown type"):
        read_gguf(tiny_gguf(tmp_path / "odd.gguf", tensor_type=999))


def test_empty_prompt(capsys):
    code, _, err = cli(capsys, "run", "--config", SMOL_CFG, "--expert", "code", "   ")
    assert code == 2 and "empty" in err


def test_prompt_longer_than_context(capsys):
    code, _, err = cli(capsys, "run", "--config", SMOL_CFG, "--expert", "code", "lorem ipsum " * 400)
    assert code == 2 and "exceed the context" in err


@pytest.mark.parametrize("value", ["0", "-5"])
def test_max_tokens_not_positive(capsys, value):
    code, _, err = cli(capsys, "run", "--config", SMOL_CFG, "--expert", "code", "--max-tokens", value, "hi")
    assert code == 2 and "max-tokens" in err


def test_unknown_expert(capsys):
    code, _, err = cli(capsys, "run", "--config", SMOL_CFG, "--expert", "poetry", "hi")
    assert code == 2 and "unknown expert 'poetry'" in err and "code, general" in err


def test_config_key_typo(tmp_path, capsys):
    cfg = tmp_path / "typo.toml"
    cfg.write_text('[experts.code]\nmodle = "x"\n')
    code, _, err = cli(capsys, "run", "--config", str(cfg), "hi")
    assert code == 2 and "unknown key 'modle'" in err and "did you mean 'model'" in err


def test_config_wrong_type_and_bad_toml(tmp_path):
    wrong = tmp_path / "wrong.toml"
    wrong.write_text('context = "big"\n')
    with pytest.raises(ConfigError, match="context"):
        load_config(wrong)
    broken = tmp_path / "broken.toml"
    broken.write_text("[experts.code\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(broken)


def test_bad_prompts_file_line(tmp_path, capsys):
    f = tmp_path / "p.jsonl"
    f.write_text('{"prompt": "ok"}\n{"question": "wrong key"}\n')
    code, _, err = cli(capsys, "run", "--config", SMOL_CFG, "--expert", "code", "--prompts-file", str(f))
    assert code == 2 and "line 2" in err and '"prompt"' in err


def test_prompts_file_and_route_jsonl_read_the_same_files(tmp_path, capsys):
    """`route --jsonl` data ({"text": ...}) can be answered by `run --prompts-file` and the other way."""
    f = tmp_path / "p.jsonl"
    f.write_text('{"text": "Say hi."}\n{"prompt": "Say bye."}\n')
    code, out, _ = cli(capsys, "run", "--config", SMOL_CFG, "--expert", "code", "--json", "--max-tokens", "2",
                       "--prompts-file", str(f))
    assert code == 0 and len(out.strip().splitlines()) == 2
    code, out, _ = cli(capsys, "route", "--config", SMOL_CFG, "--jsonl", str(f))
    assert code == 0 and len(out.strip().splitlines()) == 2


def test_run_json_fields_and_prompts_file(tmp_path, capsys):
    f = tmp_path / "p.jsonl"
    f.write_text(json.dumps({"prompt": "What is 2 + 2?"}) + "\n" + json.dumps({"prompt": "Name three colors."}) + "\n")
    code, out, _ = cli(capsys, "run", "--config", SMOL_CFG, "--expert", "code", "--json", "--max-tokens", "12",
                       "--prompts-file", str(f))
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == 2
    for row in rows:
        for key in ("text", "expert", "domain", "draft", "prompt_tokens", "completion_tokens", "drafted",
                    "accepted", "ttft_s", "decode_s", "tokens_per_s", "peak_rss_bytes"):
            assert key in row
        assert row["expert"] == "code" and 0 < row["completion_tokens"] <= 12 and row["peak_rss_bytes"] > 0
    assert rows[1]["cached_prompt_tokens"] > 0, "the second prompt reuses the shared system-prompt prefix"


@pytest.mark.slow
def test_run_json_with_the_real_code_expert(capsys):
    code, out, _ = cli(capsys, "run", "--expert", "code", "--draft", "auto", "--json", "--max-tokens", "24",
                       "Write a Python function that returns the square of a number.")
    row = json.loads(out)
    assert code == 0 and row["expert"] == "code" and row["draft"] == "lookup"
    assert "def " in row["text"] and row["tokens_per_s"] > 0


def test_execute_code_takes_auto_true_or_false(tmp_path):
    assert load_config().execute_code == "auto" and load_config().fusion == "auto"
    for text, value in (('"auto"', "auto"), ("true", True), ("false", False)):
        (tmp_path / "ok.toml").write_text(f"execute_code = {text}\n")
        assert load_config(tmp_path / "ok.toml").execute_code == value
    for text in ('"maybe"', "1"):
        (tmp_path / "bad.toml").write_text(f"execute_code = {text}\n")
        with pytest.raises(ConfigError, match="execute_code"):
            load_config(tmp_path / "bad.toml")


def test_sandbox_run_refuses_a_missing_file_and_a_bad_timeout(tmp_path, capsys):
    code, _, err = cli(capsys, "sandbox", "run", str(tmp_path / "nope.py"))
    assert code == 2 and "no such file" in err and "hint:" in err
    program = tmp_path / "p.py"
    program.write_text("print(1)\n")
    code, _, err = cli(capsys, "sandbox", "run", str(program), "--timeout", "0")
    assert code == 2 and "--timeout must be positive" in err
