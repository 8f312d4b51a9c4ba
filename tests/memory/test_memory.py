"""Memory budgets with real models: estimates match measured RSS, swapping, refusal, degrading."""
from __future__ import annotations

import json
import subprocess
import sys

import psutil
import pytest

from edge_runtime.config import load_config
from edge_runtime.memory.budget import estimate_footprint, fmt_bytes, parse_size
from edge_runtime.runtime import Runtime

from tests.conftest import DATA, QWEN_05, QWEN_15, SMOL, model_path

MEASURE = """
import json, sys, psutil
from edge_runtime.models.backends.gguf import GGUFModel
from edge_runtime.memory.budget import estimate_footprint
proc = psutil.Process()
before = proc.memory_info().rss
repack, mmap = sys.argv[2] != "plain", sys.argv[2] != "repack-nommap"
model = GGUFModel(sys.argv[1], n_ctx=4096, n_threads=2, repack=repack, use_mmap=mmap)
model.forward(model.tokenize("hello world " * 40))
print(json.dumps({"measured": proc.memory_info().rss - before,
                  "estimate": estimate_footprint(model.path, 4096, repack=repack, mmap=mmap).total}))
"""


@pytest.mark.parametrize("name,layout", [(SMOL, "plain"), pytest.param(QWEN_05, "plain", marks=pytest.mark.slow),
                                         pytest.param(QWEN_15, "plain", marks=pytest.mark.slow),
                                         pytest.param(QWEN_15, "repack", marks=pytest.mark.slow),
                                         pytest.param(QWEN_05, "repack-nommap", marks=pytest.mark.slow),
                                         pytest.param(QWEN_15, "repack-nommap", marks=pytest.mark.slow)])
def test_estimate_within_15_percent_of_measured_rss(name, layout):
    out = subprocess.run([sys.executable, "-c", MEASURE, str(model_path(name)), layout], check=True,
                         capture_output=True, text=True).stdout
    row = json.loads(out.strip().splitlines()[-1])
    assert abs(row["estimate"] - row["measured"]) <= 0.15 * row["measured"], row


def test_sizes_parse():
    assert parse_size("1.5GB") == 1_500_000_000 and parse_size("600MB") == 600_000_000
    assert parse_size("2GiB") == 2 * 1024**3


def test_too_small_budget_is_refused_with_the_numbers(capsys):
    from edge_runtime.cli.main import main

    code = main(["run", "--memory-budget", "600MB", "--expert", "code", "hello"])
    err = capsys.readouterr().err
    cfg = load_config()
    smallest = estimate_footprint(model_path(QWEN_15), 512, cfg.kv_type, cfg.batch).total  # context halved to 512
    assert code == 2 and f"'code' needs {fmt_bytes(smallest)}" in err and "memory budget" in err and "hint:" in err


def budget_for_models(size: str) -> str:
    """A process budget that leaves `size` for models above what this test process already holds."""
    return str(psutil.Process().memory_info().rss + parse_size(size))


@pytest.mark.slow
def test_a_budget_for_one_expert_at_a_time_swaps():
    # the 0.5B expert plans ~554 MB at 1k context and the 135M ~140 MB: one at a time in 650 MB
    runtime = Runtime(load_config(DATA / "swap.toml"), threads=2, memory_budget=budget_for_models("650MB"))
    try:
        for expert in ("coder", "small", "coder", "small"):
            result = runtime.generate("Say hello.", expert=expert, draft="none", max_tokens=4)
            assert result.stats.completion_tokens > 0
        assert result.pool_evictions >= 3 and result.pool_loads == 4
        for planned, measured in result.footprints.values():  # the pool reports its plan beside the load
            assert abs(planned - measured) <= 0.15 * measured, result.footprints
        assert len(runtime.pool.loaded()) == 1
    finally:
        runtime.close()


@pytest.mark.slow
def test_a_draft_that_does_not_fit_becomes_lookup_and_output_is_unchanged():
    cfg = load_config(DATA / "swap.toml")
    prompt = "Write a Python function that returns the larger of two numbers."
    runtime = Runtime(cfg, threads=2, memory_budget=budget_for_models("650MB"))  # the 0.5B fits once, not twice
    try:
        degraded = runtime.generate(prompt, expert="coder", draft="model", max_tokens=32)
        plain = runtime.generate(prompt, expert="coder", draft="none", max_tokens=32)
    finally:
        runtime.close()
    assert degraded.draft == "lookup" and any("lookup" in n for n in degraded.notes)
    assert degraded.text == plain.text


def test_a_context_that_does_not_fit_is_reduced_and_said_so(tmp_path):
    config = tmp_path / "long.toml"
    config.write_text(f'inherit = false\ncontext = 8192\ndefault_expert = "small"\n'
                      f'[experts.small]\nmodel = "{SMOL}"\ndomains = ["writing", "general"]\n')
    cfg = load_config(config)
    path = model_path(SMOL)
    full, double, small = (estimate_footprint(path, n, cfg.kv_type, cfg.batch).total for n in (8192, 2048, 1024))
    assert full - small > 100_000_000  # the KV cache of 8k tokens is what does not fit
    room = (small + double) // 2  # 1024 tokens fit, 2048 do not
    runtime = Runtime(cfg, threads=2, memory_budget=budget_for_models(str(room)))
    try:
        result = runtime.generate("Say hello.", expert="small", draft="none", max_tokens=4)
        assert runtime.loader.expert("small").n_ctx == 1024
    finally:
        runtime.close()
    assert result.stats.completion_tokens > 0
    assert "context of 'small' reduced from 8192 to 1024 tokens to fit the memory budget" in result.notes
