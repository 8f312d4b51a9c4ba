"""The OpenAI-compatible server, for real: uvicorn on a free loopback port, SmolLM2-135M behind every
expert, and the official `openai` client (raw HTTP and sockets only where a client would refuse to
send the bad request, or to hang up at a chosen moment)."""
from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import httpx
import openai
import psutil
import pytest
import uvicorn

from edge_runtime.models.catalog import resolve
from edge_runtime.config import ExpertConfig, load_config
from edge_runtime.memory.budget import estimate_footprint
from edge_runtime.router.routing import Route
from edge_runtime.runtime import Runtime
from edge_runtime.server.app import ServerSettings, create_app

from tests.conftest import DATA, SMOL

KEY = "test-key"
COUNTING = "1, 2, 3, 4, 5, 6, 7,"  # a raw prompt SmolLM2 continues for as long as it is allowed to
SHORT = {"max_tokens": 4, "temperature": 0}


@dataclass
class Server:
    url: str
    port: int
    runtime: Runtime

    def health(self) -> dict[str, Any]:
        return httpx.get(f"{self.url}/health", timeout=10).json()

    def post(self, path: str, body: Any = None, *, content: Any = None) -> httpx.Response:
        return httpx.post(f"{self.url}{path}", json=body, content=content, timeout=120,
                          headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"})


@contextmanager
def serving(memory_budget: str | None = None, config: str = "smol.toml", threads: int = 1,
            parallel: int = 1) -> Iterator[Server]:
    """uvicorn on a free loopback port, in a thread, in front of a runtime (SmolLM2 unless `config`
    names another of tests/data; max_queue 1)."""
    runtime = Runtime(load_config(DATA / config), threads=threads, memory_budget=memory_budget)
    app = create_app(runtime, ServerSettings(api_key=KEY, max_queue=1, parallel=parallel))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=5))
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    wait_for(lambda: srv.started, "the server to start")
    try:
        yield Server(f"http://127.0.0.1:{port}", port, runtime)
    finally:
        srv.should_exit = True
        thread.join(30)
        runtime.close()


def openai_client(server: Server) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key=KEY, max_retries=0, timeout=120)


@pytest.fixture(scope="module")
def server():
    """One server for most tests (one model load); max_queue 1, so the 429 path takes three requests."""
    with serving() as srv:
        yield srv


@pytest.fixture(scope="module")
def client(server):
    return openai_client(server)


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 60) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if value := condition():
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def error_of(response: httpx.Response, status: int) -> dict[str, Any]:
    """The body of an error response: OpenAI's shape, and nothing a client should not see."""
    assert response.status_code == status, response.text
    assert "Traceback" not in response.text and "/work" not in response.text and ".gguf" not in response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["message"]
    return error


# -- answers ---------------------------------------------------------------------------------------

def test_models_lists_the_experts_and_auto(client, server):
    assert {m.id for m in client.models.list()} == {"auto", *server.runtime.config.experts}
    assert client.models.retrieve("code").id == "code"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-4")


def test_health_needs_no_key(server):
    health = server.health()
    assert health["status"] == "ok" and health["queue"]["max_queue"] == 1


def test_chat_completion_forced_expert(client):
    resp = client.chat.completions.create(model="general", messages=[{"role": "user", "content": "Say hello."}],
                                          **SHORT)
    choice = resp.choices[0]
    assert choice.message.role == "assistant" and choice.message.content
    assert choice.finish_reason in ("stop", "length")
    assert 0 < resp.usage.completion_tokens <= 4
    assert resp.usage.total_tokens == resp.usage.prompt_tokens + resp.usage.completion_tokens
    stats = resp.model_extra["edge_runtime"]
    assert stats["expert"] == "general" and stats["route_reason"] == "forced"
    assert {"draft", "acceptance_rate", "tokens_per_s", "ttft_s", "queue_s"} <= set(stats)


def test_chat_stream_matches_the_whole_answer(client):
    args = dict(model="code", messages=[{"role": "user", "content": "What is 2 + 2?"}], **SHORT)
    whole = client.chat.completions.create(**args).choices[0].message.content
    chunks = list(client.chat.completions.create(stream=True, stream_options={"include_usage": True}, **args))
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == whole
    finish = [c for c in chunks if c.choices and c.choices[0].finish_reason]
    assert len(finish) == 1 and finish[0].model_extra["edge_runtime"]["expert"] == "code"
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens <= 4


def test_completion_whole_and_streamed(client):
    whole = client.completions.create(model="code", prompt=COUNTING, **SHORT)
    assert "8" in whole.choices[0].text and whole.usage.prompt_tokens > 0
    assert whole.model_extra["edge_runtime"]["expert"] == "code"
    pieces = list(client.completions.create(model="code", prompt=COUNTING, stream=True, **SHORT))
    assert "".join(p.choices[0].text for p in pieces) == whole.choices[0].text
    assert pieces[-1].choices[0].finish_reason == "length"


def test_stop_strings_end_the_answer(client):
    resp = client.completions.create(model="code", prompt=COUNTING, stop=[" 9"], max_tokens=8, temperature=0)
    assert resp.choices[0].text.rstrip(",") == " 8" and resp.choices[0].finish_reason == "stop"


def test_seeded_sampling_reproduces(client):
    args = dict(model="general", prompt="Once upon a time", max_tokens=4, temperature=0.9, seed=11)
    assert client.completions.create(**args).choices[0].text == client.completions.create(**args).choices[0].text


def test_auto_asks_the_runtime_to_route(client, server, monkeypatch):
    """Without the router on this branch, routing is stubbed at the Runtime's seam: the server must
    pass expert="auto" through, and report the route the runtime chose."""
    calls = []

    def route(text: str) -> Route:
        calls.append(text)
        return Route("writing", "general", {"writing": 0.9, "code": 0.1}, reason="routed")

    monkeypatch.setattr(server.runtime, "route", route)
    resp = client.chat.completions.create(model="auto", messages=[{"role": "user", "content": "A haiku, please."}],
                                          **SHORT)
    assert calls == ["A haiku, please."]
    stats = resp.model_extra["edge_runtime"]
    assert resp.model == "auto" and stats["expert"] == "general" and stats["domain"] == "writing"


def test_auto_routes_with_the_real_router(client):
    pytest.importorskip("edge_runtime.router.model")
    resp = client.chat.completions.create(
        model="auto", messages=[{"role": "user", "content": "Write a Python function that reverses a list."}],
        **SHORT)
    stats = resp.model_extra["edge_runtime"]
    assert stats["route_reason"] != "forced" and stats["route_probabilities"]
    assert stats["expert"] == "code"


def test_verified_fusion_streams_its_progress_as_sse_comments(server, monkeypatch):
    """Verified fusion judges before it answers; meanwhile a stream shows each judged candidate as an
    SSE comment line, which OpenAI clients skip."""
    monkeypatch.setattr(server.runtime.config, "fusion", "verify")
    unsure = Route("general", "general", {"general": 0.4, "code": 0.3}, confident=False)
    monkeypatch.setattr(server.runtime, "route", lambda text: unsure)
    body = {"model": "auto", "messages": [{"role": "user", "content": "Name three colors."}], "stream": True, **SHORT}
    with httpx.stream("POST", f"{server.url}/v1/chat/completions", json=body, timeout=120,
                      headers={"Authorization": f"Bearer {KEY}"}) as resp:
        lines = [line for line in resp.iter_lines() if line]
    comments = [i for i, line in enumerate(lines) if line.startswith(":")]
    assert [lines[i].split(":")[1].strip() for i in comments] == ["candidate 1/2 general greedy", "candidate 2/2 code greedy"]
    content = [i for i, line in enumerate(lines) if '"content": "' in line and '"content": ""' not in line]
    assert content and max(comments) < min(content)
    assert lines[-1] == "data: [DONE]"


# -- bad input -------------------------------------------------------------------------------------

def test_unknown_model_is_404(client, server):
    with pytest.raises(openai.NotFoundError) as err:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}], **SHORT)
    assert err.value.code == "model_not_found"
    error = error_of(server.post("/v1/completions", {"model": "nope", "prompt": "x"}), 404)
    assert error["param"] == "model" and "nope" in error["message"]


@pytest.mark.parametrize("body, param, words", [
    ({"model": "code"}, "messages", "missing"),
    ({"model": "code", "messages": []}, None, "no messages"),
    ({"model": "code", "messages": [{"role": "user", "content": 5}]}, "messages[0].content", "string"),
    ({"model": "code", "messages": [{"role": "wizard", "content": "hi"}]}, None, "role"),
    ({"model": "code", "messages": "hi"}, "messages", "list"),
    ({"model": 7, "messages": [{"role": "user", "content": "hi"}]}, "model", "string"),
    ({"model": "code", "messages": [{"role": "user", "content": "hi"}], "max_tokens": "8"}, "max_tokens", "integer"),
    ({"model": "code", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 0}, "max_tokens", "1"),
    ({"model": "code", "messages": [{"role": "user", "content": "hi"}], "temperature": "hot"}, "temperature",
     "number"),
    ({"model": "code", "messages": [{"role": "user", "content": "hi"}], "top_p": 0}, "top_p", "greater"),
    ({"model": "code", "messages": [{"role": "user", "content": "hi"}], "stop": 5}, "stop", "string"),
    ({"model": "code", "messages": [{"role": "user", "content": "hi"}], "n": 2}, "n", "n=1"),
    ({"model": "code", "messages": [{"role": "user", "content": "hi"}], "stream": "yes"}, "stream", "boolean"),
])
def test_bad_chat_bodies_are_400_naming_the_problem(server, body, param, words):
    error = error_of(server.post("/v1/chat/completions", body), 400)
    assert error["param"] == param and words in error["message"] and error["type"] == "invalid_request_error"


def test_bad_completion_bodies_are_400(server):
    for body, param in [({"model": "code"}, "prompt"), ({"model": "code", "prompt": ["a", "b"]}, "prompt"),
                        ({"model": "code", "prompt": [1, 2, 3]}, "prompt")]:
        assert error_of(server.post("/v1/completions", body), 400)["param"] == param


def test_malformed_json_is_400(server):
    for junk in (b'{"model": "code",', b"", b"\xff\xfe\x00", b"[" * 100_000):
        assert "not valid JSON" in error_of(server.post("/v1/chat/completions", content=junk), 400)["message"]
    assert "JSON object" in error_of(server.post("/v1/chat/completions", [1, 2]), 400)["message"]


def test_oversized_body_is_413(server):
    body = json.dumps({"model": "code", "messages": [{"role": "user", "content": "x" * (2 << 20)}]}).encode()
    assert error_of(server.post("/v1/chat/completions", content=body), 413)["code"] == "request_too_large"


def test_oversized_chunked_body_is_413(server):
    chunks = (b"x" * 65536 for _ in range(20))  # no Content-Length: counted as it arrives
    assert error_of(server.post("/v1/chat/completions", content=chunks), 413)["code"] == "request_too_large"


def test_max_tokens_over_the_context_is_400_before_streaming(client):
    for stream in (False, True):
        with pytest.raises(openai.BadRequestError) as err:
            client.chat.completions.create(model="code", messages=[{"role": "user", "content": "hi"}],
                                           max_tokens=100_000, stream=stream)
        assert "max_tokens" in err.value.message and "context" in err.value.message


def test_prompt_over_the_context_is_400(client):
    with pytest.raises(openai.BadRequestError) as err:
        client.completions.create(model="code", prompt="word " * 600, max_tokens=4)
    assert "context" in err.value.message


def test_model_file_problems_are_generic_and_logged(client, server, tmp_path, monkeypatch):
    broken = tmp_path / "secret-name.gguf"
    broken.write_bytes(b"not a gguf at all" * 10)
    monkeypatch.setitem(server.runtime.config.experts, "broken", ExpertConfig("broken", str(broken)))
    with pytest.raises(openai.InternalServerError) as err:
        client.chat.completions.create(model="broken", messages=[{"role": "user", "content": "hi"}], **SHORT)
    assert err.value.code == "model_unavailable"
    assert "secret-name" not in err.value.response.text and str(tmp_path) not in err.value.response.text


def test_memory_budget_too_small_is_503(client, server, monkeypatch):
    monkeypatch.setitem(server.runtime.config.experts, "extra", ExpertConfig("extra", SMOL))
    monkeypatch.setattr(server.runtime.pool, "budget", 1000)
    with pytest.raises(openai.InternalServerError) as err:
        client.completions.create(model="extra", prompt="hi", **SHORT)
    assert err.value.status_code == 503 and "budget" in err.value.message
    assert "extra" not in server.runtime.pool.loaded()


def test_memory_budget_holds_across_requests():
    """A budget with room for one expert: each request evicts the other expert instead of growing."""
    one = estimate_footprint(resolve(SMOL), 512).total
    # the budget covers the whole process: leave room for one expert above what it holds now
    with serving(memory_budget=str(psutil.Process().memory_info().rss + int(one * 1.5))) as tight:
        client = openai_client(tight)
        for expert in ("general", "code", "general"):
            assert client.completions.create(model=expert, prompt="hi", **SHORT).choices[0].finish_reason
            health = tight.health()
            assert health["loaded"] == [expert] and health["memory"]["used_bytes"] <= one * 1.5


def test_api_key_is_checked(server):
    wrong = openai.OpenAI(base_url=f"{server.url}/v1", api_key="wrong-key", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as err:
        wrong.models.list()
    assert err.value.code == "invalid_api_key" and "wrong-key" not in err.value.response.text
    assert error_of(httpx.get(f"{server.url}/v1/models", timeout=10), 401)["code"] == "invalid_api_key"
    basic = httpx.post(f"{server.url}/v1/completions", json={"model": "code", "prompt": "x"},
                       headers={"Authorization": f"Basic {KEY}"}, timeout=10)
    assert error_of(basic, 401)


# -- concurrency -----------------------------------------------------------------------------------

def hang_up_later(server: Server, path: str, body: dict[str, Any]) -> socket.socket:
    """Send a request on a raw socket and return it unread: closing it is a client that went away."""
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=60)
    data = json.dumps(body).encode()
    sock.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {KEY}\r\n"
                 f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n".encode() + data)
    return sock


def read_until(sock: socket.socket, marker: bytes) -> bytes:
    seen = b""
    while marker not in seen:
        chunk = sock.recv(4096)
        assert chunk, "the server closed the connection"
        seen += chunk
    return seen


def long_stream(server: Server) -> socket.socket:
    """A streamed completion that would run for hundreds of tokens, already past its first piece."""
    sock = hang_up_later(server, "/v1/completions", {"model": "code", "prompt": COUNTING, "max_tokens": 400,
                                                     "temperature": 0, "stream": True})
    assert b"200 OK" in read_until(sock, b'"text": ')
    return sock


def test_disconnect_mid_stream_stops_the_generation_and_frees_the_slot(client, server):
    before = server.health()["queue"]
    long_stream(server).close()
    after = wait_for(lambda: (q := server.health()["queue"])["running"] == 0 and q, "the slot to free", 30)
    assert after["cancelled"] == before["cancelled"] + 1 and after["completed"] == before["completed"]
    assert client.completions.create(model="code", prompt=COUNTING, **SHORT).choices[0].text


def test_full_queue_is_429_and_a_queued_client_that_leaves_frees_its_slot(client, server):
    running = long_stream(server)
    waiting = hang_up_later(server, "/v1/completions", {"model": "code", "prompt": "hi", **SHORT})
    wait_for(lambda: server.health()["queue"]["waiting"] == 1, "the second request to queue")
    with pytest.raises(openai.RateLimitError) as err:
        client.completions.create(model="code", prompt="hi", **SHORT)
    assert err.value.code == "queue_full" and err.value.response.headers["retry-after"]
    waiting.close()
    wait_for(lambda: server.health()["queue"]["waiting"] == 0, "the queued request to leave", 10)
    assert server.health()["queue"]["running"] == 1
    running.close()
    wait_for(lambda: server.health()["queue"]["running"] == 0, "the slot to free", 30)
    assert client.completions.create(model="code", prompt=COUNTING, **SHORT).choices[0].text


# -- the command ---------------------------------------------------------------------------------

def test_serve_options(monkeypatch):
    from edge_runtime.cli.serve import register

    monkeypatch.delenv("EDGE_RUNTIME_API_KEY", raising=False)
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())
    args = parser.parse_args(["serve"])
    assert (args.host, args.port, args.max_queue, args.api_key) == ("127.0.0.1", 8080, 8, None)


def test_serve_without_the_server_extra_says_what_to_install(monkeypatch):
    from edge_runtime.errors import ConfigError
    from edge_runtime.cli.serve import cmd_serve

    monkeypatch.setitem(sys.modules, "uvicorn", None)
    with pytest.raises(ConfigError) as err:
        cmd_serve(argparse.Namespace())
    assert "edge-runtime[server]" in err.value.hint


@pytest.mark.slow
def test_fusion_over_budget_answers_through_the_server(tmp_path):
    """Issue 14's segfault, through HTTP: `edge-runtime serve` in a process of its own (the budget covers
    the whole process), the default team under 1.5GB and a router that is unsure. The server must answer
    and say what fusion did, not take every client down."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "edge_runtime.cli.main", "serve", "--port", str(port),
                             "--memory-budget", "1.5GB", "--config", str(DATA / "unsure.toml"), "--api-key", KEY],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        srv = Server(f"http://127.0.0.1:{port}", port, None)  # type: ignore[arg-type]
        wait_for(lambda: _answers(srv.health), "the server to start", timeout=120)
        resp = openai_client(srv).chat.completions.create(
            model="auto", messages=[{"role": "user", "content": "メールの書き方を教えて"}], max_tokens=8, temperature=0)
        stats = resp.model_extra["edge_runtime"]
        assert resp.choices[0].message.content and stats["fusion"]["mode"] == "best-of"
        assert any("token mixture" in note for note in stats["notes"])
        assert srv.health()["status"] == "ok" and proc.poll() is None
    finally:
        proc.terminate()
        proc.wait(30)


def _answers(call: Callable[[], Any]) -> bool:
    try:
        return bool(call())
    except httpx.HTTPError:
        return False


def test_preload_reports_an_expert_it_cannot_load_and_goes_on(capsys):
    """`serve --preload` loads before listening; a name that cannot load is a warning, not a dead server."""
    from edge_runtime.cli.serve import preload
    from edge_runtime.config import load_config
    from edge_runtime.runtime import Runtime

    runtime = Runtime(load_config(None))
    try:
        preload(runtime, "none")
        assert runtime.pool.loaded() == []
        preload(runtime, "no-such-expert")
        assert "expert 'no-such-expert' not preloaded: unknown expert" in capsys.readouterr().err
    finally:
        runtime.close()


# -- parallel requests -----------------------------------------------------------------------------

def test_parallel_requests_decode_together_and_answer_as_alone():
    body = {"model": "code", "prompt": COUNTING, "max_tokens": 12, "temperature": 0}
    with serving(parallel=2) as srv:
        alone = srv.post("/v1/completions", body).json()["choices"][0]["text"]
        replies: list[str] = []
        threads = [threading.Thread(target=lambda: replies.append(
            srv.post("/v1/completions", body).json()["choices"][0]["text"])) for _ in range(2)]
        for t in threads:
            t.start()
        wait_for(lambda: srv.health()["queue"]["running"] == 2 or len(replies) == 2, "both requests to run")
        for t in threads:
            t.join(120)
        assert replies == [alone, alone]
        assert srv.health()["queue"]["parallel"] == 2


def test_parallel_queue_holds_max_queue_behind_the_running_lanes():
    with serving(parallel=2) as srv:  # max_queue 1: two run, one waits, the fourth is refused
        streams = [long_stream(srv) for _ in range(2)]
        wait_for(lambda: srv.health()["queue"]["running"] == 2, "two requests to run")
        waiting = hang_up_later(srv, "/v1/completions", {"model": "code", "prompt": "hi", **SHORT})
        wait_for(lambda: srv.health()["queue"]["waiting"] == 1, "the third request to queue")
        refused = srv.post("/v1/completions", {"model": "code", "prompt": "hi", **SHORT})
        assert refused.status_code == 429 and refused.headers["retry-after"]
        for sock in [*streams, waiting]:
            sock.close()
        wait_for(lambda: srv.health()["queue"]["running"] == 0, "the lanes to free", 30)
