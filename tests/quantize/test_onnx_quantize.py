"""ONNX backend and quantize toolkit on a real model: SmolLM2-135M, exported once per session to int4."""
from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import numpy as np
import pytest

from edge_runtime.models import catalog
from edge_runtime.models.backends.base import CausalLM
from edge_runtime.models.backends.gguf import GGUFModel
from edge_runtime.models.backends.onnx import ONNXModel, choose_providers
from edge_runtime.errors import ConfigError, ModelFileError
from edge_runtime.sampling import Sampler, SamplingParams
from edge_runtime.speculative.decoder import Decoder
from edge_runtime.speculative.drafters import ModelDrafter

pytest.importorskip("onnx")


def _smol_gguf() -> Path:
    """The catalog copy when pulled, else SMOL_GGUF or /tmp/models/smol.gguf; skip when none exists."""
    entry = catalog.entry_for("smollm2-135m-instruct-q4_1")
    for path in (entry.path if catalog.is_verified(entry) else None, os.environ.get("SMOL_GGUF"),
                 "/tmp/models/smol.gguf"):
        if path and Path(path).is_file():
            return Path(path)
    pytest.skip("SmolLM2-135M GGUF not available: run `edge-runtime pull smollm2-135m-instruct-q4_1`")


@pytest.fixture(scope="session")
def smol_path() -> Path:
    return _smol_gguf()


@pytest.fixture(scope="session")
def int4_dir(smol_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from quantize.export import export

    return export(smol_path, tmp_path_factory.mktemp("export") / "smol-int4", weights="int4")


@pytest.fixture(scope="session")
def gguf(smol_path: Path):
    # one llama.cpp thread: two OpenMP threads spin against each other on a busy 2-core machine
    model = GGUFModel(smol_path, n_ctx=1024, n_threads=1)
    yield model
    model.close()


@pytest.fixture(scope="session")
def onnx_model(int4_dir: Path):
    model = ONNXModel(int4_dir, n_ctx=1024)
    yield model
    model.close()


def greedy(model: CausalLM, prompt: list[int], n: int) -> list[int]:
    model.truncate(0)
    logits, out = model.forward(prompt)[-1], []
    for _ in range(n):
        out.append(int(np.argmax(logits)))
        logits = model.forward([out[-1]])[-1]
    return out


def assert_same_until_near_tie(reference: CausalLM, prompt: list[int], tokens: list[int], tie: float = 0.5) -> None:
    """The tokens are the reference's greedy ones, or they part where the reference's top two logits are within
    `tie`: the ONNX export computes in float32, llama.cpp in quantized dot products whose rounding depends on
    the CPU's SIMD width, so a near-tie may break either way on another machine."""
    reference.truncate(0)
    logits = reference.forward(prompt)[-1]
    for token in tokens:
        best = int(np.argmax(logits))
        if token != best:
            assert logits[best] - logits[token] < tie, (token, best, float(logits[best] - logits[token]))
            return
        logits = reference.forward([token])[-1]


def test_export_writes_a_complete_directory(int4_dir: Path) -> None:
    names = {p.name for p in int4_dir.iterdir()}
    assert names == {"model.onnx", "model.onnx.data", "tokenizer.gguf"}
    assert not list(int4_dir.parent.glob(".*partial*"))


def test_onnx_model_implements_the_protocol(onnx_model: ONNXModel, gguf: GGUFModel) -> None:
    assert isinstance(onnx_model, CausalLM)
    assert onnx_model._shared  # our export declares the shared KV buffer
    assert onnx_model.vocab.size == gguf.vocab.size == onnx_model.n_vocab
    assert onnx_model.vocab.texts == gguf.vocab.texts
    assert onnx_model.vocab.eog == gguf.vocab.eog and onnx_model.vocab.eos == gguf.vocab.eos
    assert onnx_model.chat_template == gguf.chat_template
    text = "<|im_start|>user\nHello, world! 123<|im_end|>"
    assert onnx_model.tokenize(text, special=True) == gguf.tokenize(text, special=True)
    assert 0 < onnx_model.footprint < 400e6


def test_forward_chunks_truncate_and_logits_for(onnx_model: ONNXModel) -> None:
    ids = onnx_model.tokenize("The quick brown fox jumps over the lazy dog, and then it runs away.")
    onnx_model.truncate(0)
    whole = onnx_model.forward(ids, logits_for=len(ids)).copy()
    assert whole.shape == (len(ids), onnx_model.n_vocab) and onnx_model.n_past == len(ids)
    onnx_model.truncate(0)
    onnx_model.forward(ids[:5])
    np.testing.assert_allclose(onnx_model.forward(ids[5:], logits_for=3), whole[-3:], atol=1e-3)
    onnx_model.truncate(7)  # rollback, then the same tokens again
    assert onnx_model.n_past == 7
    np.testing.assert_allclose(onnx_model.forward(ids[7:], logits_for=2), whole[-2:], atol=1e-3)
    with pytest.raises(ValueError):
        onnx_model.forward(ids, logits_for=len(ids) + 1)


def test_logits_do_not_depend_on_batch_size(onnx_model: ONNXModel) -> None:
    """Verification scores k+1 tokens at once; decoding scores one: they must agree exactly."""
    ids = onnx_model.tokenize("Once upon a time, in a small village by the sea, there lived")
    onnx_model.truncate(0)
    onnx_model.forward(ids[:6])
    batch = onnx_model.forward(ids[6:], logits_for=len(ids) - 6).copy()
    onnx_model.truncate(6)
    single = np.stack([onnx_model.forward([t])[-1].copy() for t in ids[6:]])
    np.testing.assert_array_equal(single, batch)


def test_concat_cache_mode_gives_the_same_logits(int4_dir: Path, onnx_model: ONNXModel, monkeypatch) -> None:
    """Optimum-style graphs return past + new; the same graph fed that way must agree with the shared buffer."""
    import edge_runtime.models.backends.onnx as onnx_backend

    monkeypatch.setattr(onnx_backend, "_model_hints", lambda session, directory: (False, 0))
    concat = ONNXModel(int4_dir, n_ctx=256)
    try:
        assert not concat._shared
        ids = concat.tokenize("Rain in the morning, sun in the afternoon.")
        onnx_model.truncate(0)
        expected = onnx_model.forward(ids, logits_for=4).copy()
        concat.forward(ids[:6])
        concat.truncate(4)
        np.testing.assert_allclose(concat.forward(ids[4:], logits_for=4), expected, atol=1e-3)
    finally:
        concat.close()


@pytest.mark.parametrize("prompt", ["The capital of France is", "1, 2, 3, 4,", "def fibonacci(n):"])
def test_first_greedy_tokens_agree_with_gguf(prompt: str, onnx_model: ONNXModel, gguf: GGUFModel) -> None:
    ids = gguf.tokenize(prompt)
    assert greedy(onnx_model, ids, 3) == greedy(gguf, ids, 3)


def test_chat_greedy_generation(onnx_model: ONNXModel, gguf: GGUFModel) -> None:
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    template = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True).from_string(onnx_model.chat_template)
    prompt = template.render(messages=[{"role": "user", "content": "What is 2 + 2?"}], add_generation_prompt=True)
    ids = onnx_model.tokenize(prompt, special=True)
    out = greedy(onnx_model, ids, 8)
    assert_same_until_near_tie(gguf, ids, out[:4])
    assert b"answer" in onnx_model.detokenize(out)


def test_int4_perplexity_within_ten_percent_of_gguf(int4_dir: Path, smol_path: Path, onnx_model: ONNXModel,
                                                    gguf: GGUFModel) -> None:
    from edge_runtime.tuning.perplexity import default_text, negative_log_likelihoods

    ids = gguf.tokenize(default_text())
    ppl_gguf = float(np.exp(negative_log_likelihoods(gguf, ids).mean()))
    ppl_onnx = float(np.exp(negative_log_likelihoods(onnx_model, ids).mean()))
    assert 5 < ppl_gguf < 60
    assert ppl_onnx < ppl_gguf * 1.10, (ppl_onnx, ppl_gguf)


@pytest.mark.parametrize("draft_is_onnx", [True, False], ids=["onnx-draft-gguf-target", "gguf-draft-onnx-target"])
def test_cross_backend_speculative_equals_target_greedy(draft_is_onnx: bool, onnx_model: ONNXModel,
                                                        gguf: GGUFModel) -> None:
    """The runtime's own decoder with a draft model of the other backend: drafts of 4 are verified at
    every step (min_draft), and the output is the target's own greedy output."""
    target, draft = (gguf, onnx_model) if draft_is_onnx else (onnx_model, gguf)
    prompt = target.tokenize("Once upon a time, in a small village by the sea,")
    expected = greedy(target, prompt, 24)
    decoder = Decoder(target, ModelDrafter(draft, Sampler(SamplingParams()), p_min=0.0), max_draft=4, min_draft=4)
    out = [t for step in decoder.generate(prompt, max_tokens=24) for t in step]
    assert out == expected[:len(out)] and (len(out) == 24 or decoder.stats.finish_reason == "stop")
    assert decoder.stats.accepted > 0 and decoder.stats.tokens_per_step > 1


def test_requantize_gguf_and_load(smol_path: Path, tmp_path: Path) -> None:
    from edge_runtime.models.requantize import requantize

    out = requantize(smol_path, tmp_path / "smol-q4_0.gguf", "Q4_0")
    model = GGUFModel(out, n_ctx=256, n_threads=1)
    try:
        assert model.info.file_type == "Q4_0"
        assert len(greedy(model, model.tokenize("The capital of France is"), 4)) == 4
    finally:
        model.close()
    with pytest.raises(ConfigError):  # exists already
        requantize(smol_path, out, "Q8_0")
    with pytest.raises(ConfigError):  # never over the input
        requantize(smol_path, smol_path, "Q8_0", force=True)
    with pytest.raises(ConfigError):
        requantize(smol_path, tmp_path / "x.gguf", "Q3_XYZ")


def test_failed_export_leaves_nothing(smol_path: Path, tmp_path: Path, monkeypatch) -> None:
    import quantize.export as export_mod

    def broken(*args, **kwargs):
        raise RuntimeError("simulated failure")

    monkeypatch.setattr(export_mod, "build_decoder", broken)
    with pytest.raises(RuntimeError):
        export_mod.export(smol_path, tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


def test_cli_refuses_to_overwrite_its_input(int4_dir: Path, capsys) -> None:
    from quantize.__main__ import main

    assert main(["onnx", str(int4_dir), str(int4_dir), "--int8"]) == ConfigError.exit_code
    assert "refusing" in capsys.readouterr().err


def test_not_a_decoder_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "model.onnx").write_bytes(b"not a protobuf")
    with pytest.raises(ModelFileError, match="could not load"):
        ONNXModel(tmp_path)
    with pytest.raises(ModelFileError, match="not found"):
        ONNXModel(tmp_path / "missing")


def test_provider_preference_falls_back_to_cpu(caplog) -> None:
    import onnxruntime as ort

    if "CoreMLExecutionProvider" in ort.get_available_providers():
        pytest.skip("this onnxruntime has CoreML: nothing to fall back from")
    with caplog.at_level(logging.WARNING, logger="edge_runtime.onnx"):
        assert choose_providers(["coreml", "cpu"]) == ["CPUExecutionProvider"]
    assert "CoreMLExecutionProvider not in this onnxruntime" in caplog.text
    assert "falling back to CPUExecutionProvider" in caplog.text


def test_tokenizer_json_directory(int4_dir: Path, smol_path: Path, gguf: GGUFModel, tmp_path: Path) -> None:
    """A model directory with tokenizer.json (as builder/Optimum write it) instead of tokenizer.gguf."""
    from gguf import GGUFReader
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

    from edge_runtime.models.backends.tokenizer import HFTokenizer

    fields = GGUFReader(smol_path).fields
    tokens = fields["tokenizer.ggml.tokens"].contents()
    merges = [tuple(m.split(" ", 1)) for m in fields["tokenizer.ggml.merges"].contents()]
    kinds = fields["tokenizer.ggml.token_type"].contents()
    tok = Tokenizer(models.BPE({t: i for i, t in enumerate(tokens)}, merges))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    from tokenizers import AddedToken

    tok.add_special_tokens([AddedToken(t, special=True, normalized=False) for t, k in zip(tokens, kinds) if k == 3])
    tok.save(str(tmp_path / "tokenizer.json"))
    (tmp_path / "tokenizer_config.json").write_text(json.dumps(
        {"chat_template": gguf.chat_template, "bos_token": "<|im_start|>", "eos_token": "<|im_end|>"}))
    hf = HFTokenizer(tmp_path)
    assert hf.vocab.texts == gguf.vocab.texts and hf.vocab.vocab_type == gguf.vocab.vocab_type == "bpe"
    text = "Hello world, this is a small test of byte-level pieces: café!"
    ids = gguf.tokenize(text)
    assert hf.tokenize(text) == ids
    assert hf.detokenize(ids) == gguf.detokenize(ids) == text.encode()
    assert hf.tokenize("<|im_end|>", special=True) == gguf.tokenize("<|im_end|>", special=True)
    assert hf.token_bytes(gguf.vocab.eos) == b""
    onnx_dir = tmp_path / "model"
    onnx_dir.mkdir()
    for name in ("tokenizer.json", "tokenizer_config.json"):
        (onnx_dir / name).write_bytes((tmp_path / name).read_bytes())
    for name in ("model.onnx", "model.onnx.data"):
        (onnx_dir / name).symlink_to(int4_dir / name)
    model = ONNXModel(onnx_dir, n_ctx=128)
    try:
        assert isinstance(model.tokenizer, HFTokenizer)
        assert model.chat_template == gguf.chat_template
        assert greedy(model, ids, 2) == greedy(gguf, ids, 2)
    finally:
        model.close()


def test_imatrix_guides_requantization(smol_path: Path, tmp_path: Path) -> None:
    """A (synthetic) llama-imatrix GGUF reaches llama.cpp: the Q4_K result changes, and still loads."""
    from gguf import GGUFWriter

    from edge_runtime.models.header import read_gguf
    from edge_runtime.models.requantize import requantize

    info = read_gguf(smol_path)
    rng = np.random.default_rng(0)
    writer = GGUFWriter(str(tmp_path / "imatrix.gguf"), "imatrix")
    for i in range(info.n_layer):
        for name, n_in in (("ffn_down", info.arch_get("feed_forward_length")), ("ffn_up", info.n_embd),
                           ("ffn_gate", info.n_embd), ("attn_q", info.n_embd), ("attn_k", info.n_embd),
                           ("attn_v", info.n_embd), ("attn_output", info.n_embd)):
            writer.add_tensor(f"blk.{i}.{name}.weight.in_sum2", rng.uniform(0.1, 50, (1, n_in)).astype(np.float32))
            writer.add_tensor(f"blk.{i}.{name}.weight.counts", np.full((1,), 10.0, np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    plain = requantize(smol_path, tmp_path / "plain.gguf", "Q4_K_S")
    guided = requantize(smol_path, tmp_path / "guided.gguf", "Q4_K_S", imatrix=tmp_path / "imatrix.gguf")
    assert plain.read_bytes() != guided.read_bytes()
    GGUFModel(guided, n_ctx=64, n_threads=1).close()
    with pytest.raises(ModelFileError):
        requantize(smol_path, tmp_path / "bad.gguf", "Q4_K_S", imatrix=smol_path)


@pytest.mark.parametrize("scheme", ["int4", "int8"])
def test_quantize_onnx_directory(scheme: str, tmp_path: Path) -> None:
    """Block quantization on a small float graph: MatMul (K not a multiple of 32) and Gather."""
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    from quantize.onnx import quantize_onnx, save_model

    rng = np.random.default_rng(1)
    table, weight = rng.standard_normal((50, 64)).astype(np.float32), rng.standard_normal((64, 48)).astype(np.float32)
    weight2 = rng.standard_normal((48, 40)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("Gather", ["table", "ids"], ["h"]), helper.make_node("MatMul", ["h", "w"], ["h2"]),
         helper.make_node("MatMul", ["h2", "w2"], ["y"])], "g",
        [helper.make_tensor_value_info("ids", TensorProto.INT64, [None])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 40])],
        [numpy_helper.from_array(table, "table"), numpy_helper.from_array(weight, "w"),
         numpy_helper.from_array(weight2, "w2")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])
    model.ir_version = 10
    source = tmp_path / "float"
    source.mkdir()
    save_model(model, source)
    (source / "tokenizer.json").write_text("{}")
    out = quantize_onnx(source, tmp_path / scheme, scheme)
    assert (out / "tokenizer.json").is_file()
    assert {n.op_type for n in onnx.load(str(out / "model.onnx")).graph.node} == {"GatherBlockQuantized", "MatMulNBits"}
    ids = np.arange(50, dtype=np.int64)
    expected = table[ids] @ weight @ weight2
    got = ort.InferenceSession(str(out / "model.onnx"), providers=["CPUExecutionProvider"]).run(None, {"ids": ids})[0]
    assert np.abs(got - expected).mean() < (0.25 if scheme == "int4" else 0.05) * np.abs(expected).mean()


def test_runtime_routes_to_an_onnx_expert_and_drafts_speculatively(int4_dir: Path, smol_path: Path,
                                                                    tmp_path: Path) -> None:
    """The issue's user story: an exported int4 expert added to a config is routed to and speculatively
    decoded (prompt lookup), with the GGUF expert's own greedy text."""
    from edge_runtime.config import load_config
    from edge_runtime.runtime import Runtime

    cfg = tmp_path / "onnx.toml"
    cfg.write_text(f'inherit = false\ncontext = 512\ndefault_expert = "onnx"\n'
                   f'[experts.onnx]\nmodel = "{int4_dir}"\ndomains = ["code", "math", "writing", "general"]\n'
                   f'[experts.gguf]\nmodel = "{smol_path}"\n'
                   '[speculative]\nngram_min = 1\n')  # any repeat may be drafted: this tests the path, not tuning
    runtime = Runtime(load_config(cfg), threads=2)
    try:
        prompt = "Repeat this list exactly: apple, banana, cherry, apple, banana, cherry."
        routed = runtime.generate(prompt, expert="auto", draft="lookup", max_tokens=24)
        assert routed.route.expert == "onnx" and routed.draft == "lookup" and routed.stats.drafted > 0
        onnx_plain = runtime.generate(prompt, expert="onnx", draft="none", max_tokens=24)
        assert routed.text == onnx_plain.text
    finally:
        runtime.close()
