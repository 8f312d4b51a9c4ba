"""Issue 26's evidence mechanisms without models: prose examples, typed signatures, Japanese numerals,
the number gate, and behaviour fingerprints / clusters (the sandbox runs real code)."""
from __future__ import annotations

from edge_runtime.evidence.answers import asks_for_code, asks_for_number, final_number
from edge_runtime.evidence.behaviour import behaviour, cluster_sizes, fingerprint, parse_inputs
from edge_runtime.evidence.checks import extract_checks, function_name, run_checks
from edge_runtime.evidence.numerals import kanji_value, quantities, with_digits
from edge_runtime.evidence.prose_examples import prose_checks
from edge_runtime.evidence.signature import signature

MATH = {"code": 0.0, "general": 0.0, "math": 0.9, "writing": 0.1}
UNSURE = {"code": 0.3, "general": 0.5, "math": 0.1, "writing": 0.1}


def examples(prompt: str) -> list[tuple[str, str]]:
    return [(c.source, c.expected) for c in extract_checks(prompt)]


def test_signature_names_the_function_without_the_word_function():
    assert signature("Write `clamp(x: float) -> int` that keeps x in range.") == ("clamp", ["x"])
    assert signature("I need pad(s, width) -> str, e.g. len(s) is small") == ("pad", ["s", "width"])
    assert signature("Call print(x) and then len(y).") is None  # no annotation: a call, not a signature
    assert function_name("文字列を返す関数 rev(s: str) -> str を書いてください。") == "rev"


def test_prose_examples_in_sentences_become_checks():
    prompt = ("Write square(n: int) -> int. square(3) should return 9 and\nsquare(-2) should return 4. "
              "e.g. square(0) is 0.")
    assert examples(prompt) == [("square(3)", "9"), ("square(-2)", "4"), ("square(0)", "0")]
    ja = '関数 up(s: str) -> str を書いてください。例えば up("ab") は "AB" を返すべきです。'
    assert examples(ja) == [("up('ab')", "'AB'")]


def test_a_second_example_after_and_is_not_read_as_the_first_ones_result():
    prompt = 'Write cut(s: str, n: int) -> str. cut("abc", 2) should return "ab" and cut("x", 5) should return "x".'
    assert examples(prompt) == [("cut('abc', 2)", "'ab'"), ("cut('x', 5)", "'x'")]


def test_input_output_pairs_in_english_and_japanese_with_named_arguments():
    prompt = "Write rot(s: str, k: int) -> str.\n\nInput: s = \"abc\", k = 1\nOutput: \"bca\"\n入力：k = 2, s = \"abc\"\n出力：\"cab\""
    assert examples(prompt) == [("rot('abc', 1)", "'bca'"), ("rot('abc', 2)", "'cab'")]


def test_markdown_table_rows_whose_header_names_the_parameters():
    prompt = ("Write area(w: int, h: int) -> int.\n\n| w | h | result |\n|---|---|---|\n| 2 | 3 | 6 |\n| 0 | 5 | 0 |\n\n"
              "| 点数 | 評価 |\n|---|---|\n| 80以上 | \"A\" |")
    assert prose_checks(prompt) == [("area(2, 3)", "table: area(2, 3) -> 6", "6"),
                                    ("area(0, 5)", "table: area(0, 5) -> 0", "0")]


def test_prose_checks_run_against_code():
    prompt = "Write double(n: int) -> int. double(4) should return 8, e.g. double(0) is 0."
    report = run_checks("def double(n):\n    return 2 * n\n", extract_checks(prompt))
    assert report.total == 2 and report.passed == 2
    assert run_checks("def double(n):\n    return n + 2\n", extract_checks(prompt)).passed == 0


def test_kanji_numerals_and_full_width_digits():
    assert [kanji_value(s) for s in ("三百二十", "二千五百", "十七", "一万二千", "二〇二六")] == [320, 2500, 17, 12000, 2026]
    assert with_digits("鉛筆を五ダース、１２０円") == "鉛筆を5ダース、120円"
    assert with_digits("3万5千") == "3万5千"  # digits with units are left to final_number's expansion
    assert final_number("答えは四十三本です。") == "43" and final_number("合計は３万５千円") == "35000"
    assert quantities("二千五百円の本と八百円のノート") == 2


def test_number_gate_follows_the_router_with_a_structural_fallback():
    assert asks_for_number("What is the final price in dollars? It was $80, 25% off. End with the number.", MATH)
    assert asks_for_number("鉛筆を五ダース買い、十七本使いました。残りは何本ですか。", UNSURE)  # router unsure
    assert not asks_for_number("Write a haiku about 3 cats.", UNSURE)  # not a question
    assert not asks_for_number("Write count(xs: list) -> int returning how many items are over 10?", MATH)
    assert not asks_for_number("What is a closure?", MATH)  # no quantity to compute with
    assert asks_for_code("Write `f(x: int) -> int`.") and not asks_for_code("How many apples are left?")


def test_parse_inputs_keeps_literal_calls_of_the_function_once():
    reply = "```python\nf(1)\nf('a', k=2)\nassert f(3) == 9\nf(1)\ng(2)\nf(x)\n```"
    assert parse_inputs(reply, "f") == ["f(1)", "f('a', k=2)", "f(3)"]


def test_behaviour_fingerprints_cluster_equal_code_and_ignore_crashes():
    calls = ["f(2)", "f(-3)", "f(0)"]
    square = behaviour("def f(n):\n    return n * n\n", calls)
    also_square = behaviour("def f(n):\n    return n ** 2\n", calls)
    double = behaviour("def f(n):\n    return n + n\n", calls)
    crash = behaviour("def f(n):\n    return 1 / 0\n", calls)
    assert square == ("4", "9", "0") and double == ("4", "-6", "0")
    assert behaviour("def f(:\n", calls) is None
    keys = [fingerprint(b) for b in (square, double, also_square, crash, crash)]
    assert keys[0] == keys[2] and keys[1] != keys[0] and keys[3] is None
    assert cluster_sizes(keys) == [2, 1, 2, 0, 0]
