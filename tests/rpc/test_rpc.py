"""Experts on llama.cpp RPC devices, over loopback only, with servers these tests start and kill."""
from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Iterator

import pytest

from edge_runtime.cli.main import main
from edge_runtime.config import parse_config
from edge_runtime.rpc.endpoints import RemoteUnavailable
from edge_runtime.cli.rpc import free_port, start_local_server
from edge_runtime.runtime import Runtime

from tests.conftest import SMOL, model_path

PROMPT = "Write one sentence about the sea."


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[list[tuple[subprocess.Popen, str]]]:
    started = [start_local_server(tmp_path / f"cache{i}") for i in range(3)]
    yield started
    for proc, _ in started:
        proc.kill()
        proc.wait()


def runtime(experts: dict[str, dict]) -> Runtime:
    """SmolLM2 experts; the first lists every domain, so routing picks it and the next ranks after it."""
    model = str(model_path(SMOL))
    tables = {name: {"model": model, **table} for name, table in experts.items()}
    first = next(iter(tables))
    tables[first]["domains"] = ["code", "math", "writing", "general"]
    config = parse_config({"experts": tables, "context": 512, "fusion_experts": 1, "default_expert": first,
                           "speculative": {"draft": "lookup"}}, "test")
    return Runtime(config, threads=1)


def test_split_across_devices_gives_the_local_greedy_text(servers) -> None:
    (_, one), (_, two), (_, three) = servers
    rt = runtime({"local": {}, "half": {"rpc": [one], "tensor_split": [1, 1]},
                  "both": {"rpc": [two, three], "tensor_split": [0, 1, 1]}})
    try:
        texts = {name: rt.generate(PROMPT, expert=name, max_tokens=32).text for name in ("local", "half", "both")}
        health = rt.loader.endpoints.status()
    finally:
        rt.close()
    assert texts["half"] == texts["local"] and texts["both"] == texts["local"], texts
    assert health[one]["state"] == "in use" and health[one]["devices"][0]["free_bytes"] > 0


def test_second_load_uses_the_servers_tensor_cache(tmp_path: Path) -> None:
    proc, endpoint = start_local_server(tmp_path / "cache")
    try:
        seconds = []
        for _ in range(2):
            rt = runtime({"remote": {"rpc": [endpoint]}})
            started = time.perf_counter()
            rt.loader.expert("remote")
            seconds.append(time.perf_counter() - started)
            cached = {p: p.stat().st_mtime_ns for p in (tmp_path / "cache").iterdir()}
            rt.close()
            if len(seconds) == 1:
                first = cached
    finally:
        proc.kill()
        proc.wait()
    assert first, "the first load left no weights in the server's cache"
    assert cached == first, "the second load sent the weights again instead of their hashes"
    print(f"loads: cold {seconds[0]:.2f}s, cached {seconds[1]:.2f}s")


def test_server_killed_mid_generation_fails_that_request_only(tmp_path: Path) -> None:
    proc, endpoint = start_local_server(tmp_path / "cache")
    rt = runtime({"remote": {"rpc": [endpoint]}, "local": {}})
    try:
        generation = rt.stream(PROMPT, max_tokens=200)
        with pytest.raises(RemoteUnavailable, match=endpoint):
            for n, _ in enumerate(generation):
                if n == 0:
                    proc.kill()
                    proc.wait()
        assert rt.loader.endpoints.status()[endpoint]["state"] == "down"
        result = rt.generate(PROMPT, max_tokens=8)
        assert result.route.expert == "local" and result.text
        assert any("'remote' unavailable" in note for note in result.notes), result.notes
    finally:
        rt.close()


def test_expert_whose_server_is_down_at_load_routes_to_the_next() -> None:
    rt = runtime({"remote": {"rpc": [f"127.0.0.1:{free_port()}"]}, "local": {}})
    try:
        result = rt.generate(PROMPT, max_tokens=4)
    finally:
        rt.close()
    assert result.route.expert == "local"
    assert any("unreachable" in note for note in result.notes), result.notes


def test_rpc_serve_beyond_loopback_needs_allow_remote(capsys) -> None:
    assert main(["rpc-serve", "--host", "0.0.0.0", "--port", "50999"]) == 2
    err = capsys.readouterr().err
    assert "--allow-remote" in err and "ssh -N -L" in err and "authentication" in err


def test_http_server_survives_a_dead_rpc_server(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from edge_runtime.server.app import create_app

    proc, endpoint = start_local_server(tmp_path / "cache")
    rt = runtime({"remote": {"rpc": [endpoint]}, "local": {}})
    body = {"model": "auto", "messages": [{"role": "user", "content": PROMPT}], "max_tokens": 8}
    try:
        with TestClient(create_app(rt)) as client:
            first = client.post("/v1/chat/completions", json=body).json()
            proc.kill()
            proc.wait()
            failed = client.post("/v1/chat/completions", json=body)
            after = client.post("/v1/chat/completions", json=body).json()
            health = client.get("/health").json()
    finally:
        rt.close()
    assert first["edge_runtime"]["expert"] == "remote"
    assert failed.status_code == 500 and failed.json()["error"]["code"] == "model_unavailable"
    assert after["edge_runtime"]["expert"] == "local" and after["choices"][0]["message"]["content"]
    assert health["status"] == "ok" and health["remote"][endpoint]["state"] == "down"


def test_split_plan_counts_both_sides_and_refuses_with_numbers() -> None:
    from edge_runtime.rpc.endpoints import RemoteDevice
    from edge_runtime.errors import BudgetError
    from edge_runtime.memory.budget import estimate_footprint
    from edge_runtime.memory.placement import fit, place

    path = model_path(SMOL)
    whole = estimate_footprint(path, 512).total
    half = place(path, 512, "f16", 512, [1, 1])
    assert half.local + sum(half.remote) >= whole * 0.95 and half.local < whole * 0.75
    small = RemoteDevice("127.0.0.1:1", 0, free=10_000_000, total=10_000_000)
    with pytest.raises(BudgetError, match="10.00 MB free"):
        fit(path, 512, "f16", 512, [small], [])
