"""The router: routes clear prompts right in both languages, refuses bad files, and its training
exports a graph that agrees with scikit-learn. Speed is measured in scripts/bench_router.py, not here."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from edge_runtime.config import load_config
from edge_runtime.errors import ModelFileError
from edge_runtime.cli.main import main
from edge_runtime.router.language import detect_language
from edge_runtime.router.model import Router

DATA = Path(__file__).resolve().parents[2] / "data" / "router" / "prompts.jsonl"
SHORT_OFFTOPIC = DATA.with_name("short_offtopic_heldout.jsonl")  # hand-written, never trained on
BUILTIN_FILE = Path(__file__).resolve().parents[2] / "edge_runtime" / "router" / "router.onnx"

# Written for this test; none of these is in the training data (checked below).
CLEAR = [
    ("code", "My Flask route returns 500 and the log says KeyError: 'user_id'. How do I debug it?"),
    ("code", "Write a Python function that returns the longest word in a sentence."),
    ("code", "JavaScriptで配列の合計を計算する関数を書いてください"),
    ("code", "git stashで退避した変更を元に戻すコマンドは？"),
    ("math", "Solve for y: 4y - 9 = 3y + 2"),
    ("math", "What is 35% of 260?"),
    ("math", "半径4cmの円の面積を求めてください"),
    ("math", "x^2 - 9 = 0 を解いて"),
    ("writing", "Write a short poem about a fox in the snow."),
    ("writing", "Draft a polite email asking my landlord to repair the broken window."),
    ("writing", "友達の誕生日に贈るメッセージを書いてください"),
    ("writing", "秋の夕暮れをテーマに俳句を作って"),
    ("general", "What is the capital of Portugal?"),
    ("general", "How do I keep my bread from going moldy so fast?"),
    ("general", "日本で一番高い山はどこですか？"),
    ("general", "猫が急にご飯を食べなくなったらどうすればいい？"),
]


@pytest.fixture(scope="module")
def router() -> Router:
    return Router.load("builtin")


def test_test_prompts_are_not_training_data() -> None:
    texts = {json.loads(line)["text"] for line in DATA.read_text("utf-8").splitlines()}
    assert not texts & {text for _, text in CLEAR}


@pytest.mark.parametrize(("domain", "text"), CLEAR)
def test_clear_prompts_route_right(router: Router, domain: str, text: str) -> None:
    assert router.predict(text).domain == domain


def test_probabilities_are_a_distribution(router: Router) -> None:
    for _, text in CLEAR:
        decision = router.predict(text)
        assert set(decision.probabilities) == {"code", "math", "writing", "general"}
        assert sum(decision.probabilities.values()) == pytest.approx(1.0, abs=1e-5)
        assert decision.probabilities[decision.domain] == max(decision.probabilities.values())
        assert decision.latency_ms > 0


def test_rank_is_sorted_and_agrees_with_predict(router: Router) -> None:
    ranked = router.rank("Write a limerick about a tired programmer")
    assert [p for _, p in ranked] == sorted((p for _, p in ranked), reverse=True)
    assert ranked[0][0] == "writing"


@pytest.mark.parametrize("text", ["hello", "こんにちは"])
def test_greetings_route_to_general(router: Router, text: str) -> None:
    assert router.predict(text).domain == "general"


def test_short_and_offtopic_prompts_route_right(router: Router) -> None:
    rows = [json.loads(line) for line in SHORT_OFFTOPIC.read_text("utf-8").splitlines()]
    training = {json.loads(line)["text"] for line in DATA.read_text("utf-8").splitlines()}
    assert len(rows) >= 100 and not training & {r["text"] for r in rows}
    right = sum(router.predict(r["text"]).domain == r["domain"] for r in rows)
    assert right / len(rows) >= 0.90


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_text_gets_a_distribution_not_an_error(router: Router, text: str) -> None:
    assert sum(router.predict(text).probabilities.values()) == pytest.approx(1.0, abs=1e-5)


def test_a_very_long_prompt_is_routed(router: Router) -> None:
    module = "import json\nfrom pathlib import Path\n\ndef load(path):\n    with open(path) as f:\n        return json.load(f)\n\n"
    code = module * 300 + "this crashes with FileNotFoundError, why?"
    assert router.predict(code).domain == "code"


LANGUAGES = [
    ("ja", "明日の会議の資料を作らなければならない"),  # kanji and kana
    ("ja", "カタカナだけ"),
    ("ja", "def total(xs):\n    # リストの合計を返す\n    return sum(xs)"),  # code with a Japanese comment
    ("zh", "请帮我写一封感谢信"),
    ("ko", "오늘 날씨가 어때요?"),
    ("en", "Where is the nearest train station?"),
    ("en", "print('ok')  # 42"),
    ("en", ""),
]


@pytest.mark.parametrize(("language", "text"), LANGUAGES)
def test_detect_language(language: str, text: str) -> None:
    assert detect_language(text) == language


def test_decision_carries_the_language(router: Router) -> None:
    assert router.predict("ラーメンの美味しい作り方").language == "ja"
    assert router.predict("how are you").language == "en"


def _assert_refused(path: Path) -> None:
    with pytest.raises(ModelFileError) as info:
        Router.load(path)
    message = str(info.value)
    assert path.name in message and str(path.parent) not in message  # the file's name, never its full path
    assert info.value.hint


def test_random_bytes_refused(tmp_path: Path) -> None:
    path = tmp_path / "router.onnx"
    path.write_bytes(os.urandom(4096))
    _assert_refused(path)


def test_truncated_onnx_refused(tmp_path: Path) -> None:
    path = tmp_path / "truncated.onnx"
    path.write_bytes(BUILTIN_FILE.read_bytes()[:20000])
    _assert_refused(path)


def test_empty_file_refused(tmp_path: Path) -> None:
    path = tmp_path / "empty.onnx"
    path.write_bytes(b"")
    _assert_refused(path)


def test_missing_file_refused(tmp_path: Path) -> None:
    _assert_refused(tmp_path / "nowhere.onnx")


def test_onnx_that_is_not_a_router_refused(tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    path = tmp_path / "other.onnx"
    onnx.save(helper.make_model(graph), str(path))
    _assert_refused(path)


def _cli(argv: list[str]) -> int:
    return main(argv)


def test_route_jsonl(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    prompts = tmp_path / "prompts.jsonl"
    rows = [{"text": text} for _, text in CLEAR[::4]]
    prompts.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n\n", "utf-8")
    assert _cli(["route", "--jsonl", str(prompts)]) == 0
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    config = load_config()
    assert [o["domain"] for o in out] == [domain for domain, _ in CLEAR[::4]]
    for o in out:
        assert o["expert"] == config.experts_for(o["domain"])[0]
        assert sum(o["probabilities"].values()) == pytest.approx(1.0, abs=1e-4)
        assert o["latency_ms"] >= 0


def test_route_single_prompt_and_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli(["route", "What is 12 times 12?"]) == 0
    assert "domain: math" in capsys.readouterr().out
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"question": "neither prompt nor text"}\n', "utf-8")
    assert _cli(["route", "--jsonl", str(bad)]) == 2
    assert "line 1" in capsys.readouterr().err
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"not onnx")
    assert _cli(["route", "--router", str(broken), "hello"]) == 1
    assert "broken.onnx" in capsys.readouterr().err


def test_whitespace_class_is_pythons() -> None:
    from edge_runtime.router import train

    assert set(train.WHITESPACE) == {chr(c) for c in range(0x110000) if chr(c).isspace()}


def _subset(per_domain: int) -> list[dict]:
    rows = [json.loads(line) for line in DATA.read_text("utf-8").splitlines()]
    picked: list[dict] = []
    for domain in ("code", "math", "writing", "general"):
        for split, n in (("train", per_domain), ("test", per_domain // 4)):
            picked += [r for r in rows if r["domain"] == domain and r["split"] == split][:n]
    return picked


def test_small_training_exports_a_graph_equal_to_sklearn(tmp_path: Path) -> None:
    pytest.importorskip("sklearn")
    pytest.importorskip("skl2onnx")
    from edge_runtime.router import train

    rows = _subset(20)
    fit_rows = [r for r in rows if r["split"] == "train"]
    pipe = train.build_pipeline(c=3.0)  # a looser fit converges in a fraction of the time
    pipe.fit([r["text"] for r in fit_rows], [r["domain"] for r in fit_rows])
    onnx_bytes = train.export_onnx(pipe)
    again = train.build_pipeline(c=3.0).fit([r["text"] for r in fit_rows], [r["domain"] for r in fit_rows])
    assert train.export_onnx(again) == onnx_bytes  # the packaged router can be rebuilt byte for byte
    # held-out prompts, plus text that trips naive tokenizers: ideographic and odd spaces, tabs, emoji
    texts = [r["text"] for r in rows if r["split"] == "test"] + [
        "", "  ", "Ｐｙｔｈｏｎで\u3000ソート", "a\tb\r\nc  d", "naïve café\xa0menu", "x\u2003y\u205fz", "🙂 2+2?"]
    diff = np.abs(train.onnx_probabilities(onnx_bytes, texts) - pipe.predict_proba(texts)).max()
    assert diff < train.ONNX_TOLERANCE

    data = tmp_path / "small.jsonl"
    data.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), "utf-8")
    meta = train.train(data, tmp_path / "small.onnx", c=3.0, folds=2)
    assert meta["labels"] == sorted(["code", "math", "writing", "general"])
    assert {"cv", "test"} <= set(meta["metrics"]) and meta["metrics"]["onnx_max_abs_diff"] < train.ONNX_TOLERANCE
    assert json.loads((tmp_path / "small.json").read_text("utf-8"))["training_data_sha256"] == meta["training_data_sha256"]
    decision = Router.load(tmp_path / "small.onnx").predict("Solve 2x + 3 = 11")
    assert sum(decision.probabilities.values()) == pytest.approx(1.0, abs=1e-5)


def test_packaged_router_matches_its_metadata_and_data() -> None:
    """router.json describes the shipped graph, and that graph was trained on today's prompts.jsonl."""
    from edge_runtime.router.train import sha256_of

    meta = json.loads(BUILTIN_FILE.with_suffix(".json").read_text("utf-8"))
    assert meta["onnx_sha256"] == sha256_of(BUILTIN_FILE)
    assert meta["training_data_sha256"] == sha256_of(DATA)


def test_structured_requests_go_to_a_capable_expert() -> None:
    """A reply under tools or a schema is served by an expert that declares it; old configs route as before."""
    from edge_runtime.config import default_config_text, parse_config
    from edge_runtime.router.routing import Route, Routing
    from edge_runtime.tomlio import load_toml_text

    cfg = parse_config(load_toml_text(default_config_text(), "default.toml"), "default.toml")
    routing = Routing(cfg)
    greeting = Route("general", "general", {"general": 0.9}, language="en")
    assert routing.structured(greeting, "tools").expert == "code"
    assert routing.structured(greeting, "json").expert == "code"
    coding = Route("code", "code", {"code": 0.9}, language="ja")
    assert routing.structured(coding, "tools") is coding
    for exp in cfg.experts.values():
        exp.capabilities = []
    assert routing.structured(greeting, "tools") is greeting


def test_unknown_capability_refused() -> None:
    from edge_runtime.config import parse_config
    from edge_runtime.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown capability 'toolz'"):
        parse_config({"experts": {"a": {"model": "m", "capabilities": ["toolz"]}}}, "x.toml")


def test_a_typed_signature_routes_to_code_whatever_the_words_around_it(router: Router) -> None:
    from edge_runtime.router.routing import Routing

    prompt = "Write a poem_line(words: list[str]) -> str that joins words into a line of verse, capitalised."
    assert router.predict(prompt).domain != "code"  # the words read as writing to the classifier
    route = Routing(load_config(), router).route(prompt)
    assert (route.domain, route.expert, route.confident) == ("code", "code", True)
    assert "signature" in route.reason
    assert Routing(load_config(), router).route("Write a poem about a closing door.").domain == "writing"
