"""Accelerator support: the device list, the host/device split of the memory plan, the GPU-layer
fit, config and CLI plumbing, and the lookup drafter on repeating text. The GPU tests skip on
machines where llama.cpp sees no GPU; scripts/bench_gpu.py measures them on one."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from edge_runtime.cli.main import main
from edge_runtime.config import load_config, parse_config
from edge_runtime.models.backends.ggml import gpu_devices, list_devices
from edge_runtime.errors import ConfigError
from edge_runtime.models.header import read_gguf
from edge_runtime.memory.budget import estimate_footprint, fit_gpu_layers, offloaded, split_footprint
from edge_runtime.speculative.drafters import PromptLookupDrafter

from tests.conftest import QWEN_05, QWEN_15, model_path

HAS_GPU = bool(gpu_devices())


def gpu_model() -> Path:
    """The model the GPU tests load: EDGE_RUNTIME_GPU_TEST_MODEL where the catalog cannot be fetched (the
    lent GPU machine: scripts/bench_gpu.py writes a random-weight GGUF of the 0.5B's shape there), else
    the real 0.5B."""
    return Path(os.environ.get("EDGE_RUNTIME_GPU_TEST_MODEL") or model_path(QWEN_05))
needs_gpu = pytest.mark.skipif(not HAS_GPU, reason="llama.cpp sees no GPU device here (CPU-only build or "
                                                   "machine); scripts/bench_gpu.py measures this on one")


def test_devices_come_from_the_library_llama_cpp_python_was_pointed_at(tmp_path):
    """LLAMA_CPP_LIB_PATH (how bench_gpu.py runs a CUDA build) holds for the device list too, not only for
    libllama: llama_cpp's own _ggml module ignores it and found no library on the GPU machine."""
    import shutil
    import subprocess
    import sys

    import llama_cpp

    libs = tmp_path / "libs"
    shutil.copytree(Path(llama_cpp.__file__).parent / "lib", libs, symlinks=True)
    probe = ("from edge_runtime.models.backends.ggml import ggml_lib, list_devices; "
             "print(ggml_lib()._name); print(sorted(d.type for d in list_devices()))")
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120,
                         env=os.environ | {"LLAMA_CPP_LIB_PATH": str(libs)})
    assert run.returncode == 0, run.stderr[-2000:]
    loaded, types = run.stdout.splitlines()
    assert Path(loaded).parent == libs and "cpu" in types


def test_devices_lists_the_cpu(capsys):
    devices = list_devices()
    cpu = [d for d in devices if d.type == "cpu"]
    assert cpu and cpu[0].total > 0 and 0 < cpu[0].free <= cpu[0].total
    assert main(["devices", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [d["device"] for d in listed if d["where"] == "local"] == [d.name for d in devices]


def test_offloaded_counts_the_output_layer_first():
    assert offloaded(28, 0) == (0, False)
    assert offloaded(28, 1) == (0, True)  # llama.cpp offloads the output layer before any block
    assert offloaded(28, 15) == (14, True)
    assert offloaded(28, -1) == offloaded(28, 29) == offloaded(28, 99) == (28, True)


@pytest.mark.parametrize("name", [QWEN_05, QWEN_15])
def test_split_footprint_arithmetic(name):
    path = model_path(name)
    info = read_gguf(path)
    full = estimate_footprint(path, 4096)
    assert sum(info.block_bytes.values()) + info.token_embd_bytes + info.output_bytes == info.tensor_bytes
    assert len(info.block_bytes) == info.n_layer and not info.tied_output
    none = split_footprint(path, 4096, 0)
    assert none.device.total == 0 and none.host == full
    everything = split_footprint(path, 4096, -1)
    assert everything.layers_on_device == info.n_layer
    assert everything.host.weights == info.token_embd_bytes  # the embedding never leaves the host
    assert everything.device.weights == info.tensor_bytes - info.token_embd_bytes
    assert everything.device.kv_cache == full.kv_cache and everything.host.kv_cache == 0
    half = split_footprint(path, 4096, info.n_layer // 2 + 1)  # output layer + n/2 blocks
    last = range(info.n_layer - info.n_layer // 2, info.n_layer)
    assert half.device.weights == sum(info.block_bytes[i] for i in last) + info.output_bytes
    assert half.host.weights + half.device.weights == info.tensor_bytes
    assert half.device.kv_cache == full.kv_cache * (info.n_layer // 2) // info.n_layer


def test_fit_gpu_layers_reduces_layers_until_the_budget_fits():
    path = model_path(QWEN_15)
    everything = split_footprint(path, 4096, -1)
    fitted_all = fit_gpu_layers(path, 4096, -1, everything.device.total)
    assert (fitted_all.layers_on_device, fitted_all.device) == (everything.layers_on_device, everything.device)
    budget = everything.device.total // 2
    fitted = fit_gpu_layers(path, 4096, -1, budget)
    assert 0 < fitted.layers_on_device < everything.layers_on_device and fitted.device.total <= budget
    more = split_footprint(path, 4096, fitted.gpu_layers + 1)
    assert more.device.total > budget  # the most layers that fit
    assert fit_gpu_layers(path, 4096, -1, 0).gpu_layers == 0


def test_gpu_layers_config_and_cli():
    cfg = parse_config({"experts": {"c": {"model": "m", "gpu_layers": "all", "main_gpu": 1}}}, "t.toml")
    assert cfg.experts["c"].n_gpu_layers == -1 and cfg.experts["c"].main_gpu == 1
    assert parse_config({"experts": {"c": {"model": "m", "gpu_layers": 12}}}, "t.toml").experts["c"].n_gpu_layers == 12
    assert load_config().experts["code"].n_gpu_layers == 0  # the default stays on the CPU
    for bad in ("most", -2, 1.5):
        with pytest.raises(ConfigError):
            parse_config({"experts": {"c": {"model": "m", "gpu_layers": bad}}}, "t.toml")


def test_gpu_layers_without_a_gpu_runs_on_the_cpu():
    from edge_runtime.models.backends.gguf import GPU_EXACT_BATCH
    from edge_runtime.config import Config, ExpertConfig
    from edge_runtime.runtime import Runtime

    if HAS_GPU:
        pytest.skip("this machine has a GPU: the CPU fallback is not what runs here")
    cfg = Config(experts={"g": ExpertConfig("g", str(model_path(QWEN_05)), ["general"], gpu_layers="all")},
                 default_expert="g", context=512, tuned=False)  # not this machine's tuned repack
    notes: list[str] = []
    rt = Runtime(cfg, memory_budget="4GB")
    try:
        model = rt.loader.expert("g", notes)
        assert model.gpu_layers == 0 and model.exact_batch > GPU_EXACT_BATCH  # measured on the CPU
        assert any("0 of 24 layers on the GPU" in n for n in notes)
    finally:
        rt.close()


def test_lookup_continues_a_repeating_text():
    drafter = PromptLookupDrafter(ngram_max=4, ngram_min=3)
    assert drafter.propose([5, 9, 9, 9, 9], 6).tokens == [9] * 6  # period 1
    drafter.reset()
    assert drafter.propose([1, 2, 3, 1, 2, 3, 1, 2], 5).tokens == [3, 1, 2, 3, 1]  # period 3
    drafter.reset()
    assert drafter.propose([7, 1, 2, 3, 4, 5, 1, 2, 3], 3).tokens == [4, 5, 1]  # an ordinary match


@needs_gpu
def test_gpu_vram_plan_matches_the_device():
    from edge_runtime.models.backends.gguf import GGUFModel
    from edge_runtime.models.backends.ggml import device_memory

    gpu = gpu_devices()[0]
    path = gpu_model()
    free0, _ = device_memory(gpu.name)
    model = GGUFModel(path, n_ctx=4096, gpu_layers=-1)
    model.forward(model.tokenize("def f(x):\n    return x\n"))
    used = free0 - device_memory(gpu.name)[0]
    model.close()
    planned = split_footprint(path, 4096, -1).device.total
    assert abs(planned - used) <= 0.15 * used


@needs_gpu
def test_gpu_logits_close_to_cpu():
    import numpy as np

    from edge_runtime.models.backends.gguf import GGUFModel

    path = gpu_model()
    cpu, gpu = GGUFModel(path, n_ctx=512), GGUFModel(path, n_ctx=512, gpu_layers=-1)
    ids = cpu.tokenize("def fibonacci(n):\n    a, b = 0, 1\n")
    a, b = cpu.forward(ids, logits_for=4).copy(), gpu.forward(ids, logits_for=4).copy()
    cpu.close(), gpu.close()
    assert (a.argmax(1) == b.argmax(1)).all()
    assert np.max(np.abs(a - b)) < 0.05 * np.max(np.abs(a))


def test_policy_rests_drafting_that_is_slower_than_plain():
    """The measured guard: on a flat cost curve the model favours drafts; when the drafting steps'
    tokens/s fall below plain steps', drafting rests, for longer each time it loses again."""
    from edge_runtime.speculative.decoder import DraftPolicy

    policy = DraftPolicy(max_draft=4, pause_steps=4, judge_after=3)
    for size in range(1, 6):
        policy.cost.observe(size, 0.010 + 0.001 * (size - 1))  # nearly flat, as on a GPU
    for _ in range(5):  # plain steps: 100 tokens/s
        policy.observe("lookup", 0, 0, 0.010)

    def drafting_step() -> None:  # a costly proposal and a miss: 1 token in 20 ms
        assert policy.proposal_length(8) > 0
        policy.observe_proposal(2, 0.006)
        policy.observe("model", 2, 0, 0.014)

    for _ in range(3):
        drafting_step()
    rests = [policy.proposal_length(8) for _ in range(4)]
    assert rests == [0, 0, 0, 0]  # rested for pause_steps
    for _ in range(3):
        drafting_step()
    assert [policy.proposal_length(8) for _ in range(8)] == [0] * 8  # the second rest is twice as long


def test_policy_rests_a_drafter_that_proposes_nothing_yet_costs_time():
    """A draft model below its confidence floor proposes nothing every step, so no step is plain; the
    guard judges it against the timed one-token forwards instead (GPU: 0.5B draft, random weights)."""
    from edge_runtime.speculative.decoder import DraftPolicy

    policy = DraftPolicy(max_draft=4, pause_steps=4, judge_after=3)
    for _ in range(3):
        assert policy.proposal_length(8) > 0
        policy.observe_proposal(0, 0.004)  # the draft model ran and found nothing worth proposing
        policy.observe("model", 0, 0, 0.010)  # a one-token forward: 1 token in 14 ms against 10 ms
    assert [policy.proposal_length(8) for _ in range(4)] == [0, 0, 0, 0]
