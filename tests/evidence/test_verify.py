"""Checks from a prompt's own examples, candidates run against them, final numbers and votes: no model."""
from __future__ import annotations

from fractions import Fraction

import pytest

from edge_runtime.evidence.answers import final_number, normal_form, program_answer, vote
from edge_runtime.evidence.checks import Check, extract_checks, extract_code, function_name, run_checks

DOCTEST_PROMPT = '''
def squash_runs(text: str) -> str:
    """Collapse each run of a repeated letter into one letter.

    >>> squash_runs("aaabcc")
    'abc'
    >>> squash_runs("")
    ''
    >>> print(squash_runs("zz z"))
    z z
    """
'''

MIXED_PROMPT = """Write a function called `tally_even` that counts the even numbers in a list.
Examples:
- `tally_even([1, 2, 4]) == 2`
- tally_even([]) ➞ 0
- tally_even([6]) -> 1.
- Example 3: tally_even([3, 5, 8, 10]) => 2
assert tally_even([0, 0]) == 2
Input: numbers = [7, 7, 14]
Output: 1
"""

GOOD_TALLY = "def tally_even(numbers):\n    return sum(1 for n in numbers if n % 2 == 0)\n"
WRONG_TALLY = "def tally_even(numbers):\n    return sum(1 for n in numbers if n % 2 == 1)\n"


def test_function_name_prefers_the_last_top_level_def_then_prose():
    assert function_name("def helper(x):\n    pass\n\ndef target(y):\n    '''doc'''") == "target"
    assert function_name(MIXED_PROMPT) == "tally_even"
    assert function_name("Add two numbers.") is None


def test_function_name_from_a_signature_in_prose():
    """The task set's style: the signature in backticks, so Input/Output examples become checks too."""
    assert function_name("Write a Python function `parse_kv(line: str) -> dict` that ...") == "parse_kv"
    assert function_name("文を分ける Python の関数 `split_sentences(text: str)` を書いてください。") == "split_sentences"
    assert function_name("Write a Python function add(a, b) that returns the sum.") == "add"
    prompt = "Write a Python function `double(n: int) -> int`.\n\nInput: 3\nOutput: 6"
    assert [(c.source, c.expected) for c in extract_checks(prompt)] == [("double(3)", "6")]


def test_doctest_examples_become_checks():
    checks = extract_checks(DOCTEST_PROMPT)
    assert [(c.source, c.expected) for c in checks] == [
        ('squash_runs("aaabcc")', "'abc'"),
        ('squash_runs("")', "''"),
        ('print(squash_runs("zz z"))', "z z"),
    ]


def test_every_line_style_becomes_a_check():
    checks = extract_checks(MIXED_PROMPT)
    assert [(c.source, c.expected) for c in checks] == [
        ("tally_even([1, 2, 4])", "2"),
        ("tally_even([])", "0"),
        ("tally_even([6])", "1"),
        ("tally_even([3, 5, 8, 10])", "2"),
        ("assert tally_even([0, 0]) == 2", None),
        ("tally_even([7, 7, 14])", "1"),
    ]


def test_same_line_input_output_and_no_checks_from_prose():
    prompt = "def mid(a, b):\nInput: 2, 8 Output: 5\nThe result -> should be sensible."
    assert [(c.source, c.expected) for c in extract_checks(prompt)] == [("mid(2, 8)", "5")]


def test_correct_candidate_passes_all_and_wrong_one_fails():
    checks = extract_checks(MIXED_PROMPT)
    good, wrong = run_checks(GOOD_TALLY, checks), run_checks(WRONG_TALLY, checks)
    assert (good.passed, good.total) == (6, 6)
    assert wrong.passed < 3 and [o.passed for o in wrong.outcomes][1] is True  # empty list: 0 either way


def test_doctest_candidate_including_printed_output():
    code = "import itertools\ndef squash_runs(text):\n    return ''.join(k for k, _ in itertools.groupby(text))\n"
    report = run_checks(code, extract_checks(DOCTEST_PROMPT))
    assert report.passed == report.total == 3


def test_a_crashing_or_hanging_check_does_not_hide_the_others():
    code = (
        "def tally_even(numbers):\n"
        "    if not numbers:\n        raise ValueError('empty')\n"
        "    if len(numbers) == 1:\n        while True:\n            pass\n"
        "    return sum(1 for n in numbers if n % 2 == 0)\n"
    )
    report = run_checks(code, extract_checks(MIXED_PROMPT), per_check_s=0.5)
    assert [o.passed for o in report.outcomes] == [True, False, False, True, True, True]
    assert "ValueError" in report.outcomes[1].detail and "TimeoutError" in report.outcomes[2].detail


def test_candidate_that_does_not_load_fails_every_check():
    report = run_checks("def tally_even(:\n", extract_checks(MIXED_PROMPT))
    assert report.passed == 0 and report.total == 6 and "SyntaxError" in report.load_error


def test_checks_not_reached_before_the_timeout_are_failures():
    checks = [Check("1 + 1", "two", "2"), Check("__import__('time').sleep(30)", "sleeps", "None"), Check("3", "three", "3")]
    report = run_checks("", checks, per_check_s=30, timeout_s=1.0)
    assert [o.passed for o in report.outcomes] == [True, False, False]
    assert report.sandbox.timed_out and "timed out" in report.outcomes[2].detail


def test_extract_code_takes_the_largest_python_block():
    reply = "Try:\n```python\nx = 1\n```\nFull:\n```python\ndef f():\n    return 2\n```\nRun:\n```bash\npython f.py\n```"
    assert extract_code(reply) == "def f():\n    return 2"
    assert extract_code("```py\nprint(3)") == "print(3)"  # cut off before the closing fence
    assert extract_code("def g(a):\n    return a") == "def g(a):\n    return a"
    assert extract_code("I think the answer is the first one.") == ""


def test_extract_code_prefers_the_block_that_defines_the_function():
    """Models often repeat the prompt's doctests in a block larger than the function's own."""
    reply = "```python\ndef add(a, b):\n    return a + b\n```\nTry:\n```python\n>>> add(2, 3)\n5\n>>> add(1, 1)\n2\n```"
    assert extract_code(reply).startswith(">>>")
    assert extract_code(reply, "add") == "def add(a, b):\n    return a + b"
    assert extract_code(reply, "missing").startswith(">>>")


@pytest.mark.parametrize("text, expected", [
    ("So the total is 1,250.", "1250"),
    ("First 3, then \\boxed{17} so 17 it is... wait 18", "17"),
    ("\\boxed{\\frac{4}{6}}", "2/3"),
    ("about 3/4 of the cake", "0.75"),
    ("exactly 0.750", "0.75"),
    ("12.0 marbles", "12"),
    ("temperature −4 today", "-4"),
    ("答えは１２０円です。", "120"),
    ("りんごは全部で35個", "35"),
    ("費用は2万4000円", "24000"),
    ("人口は1億2500万人", "125000000"),
    ("3万5千本", "35000"),
    ("items 1, 2, 3", "3"),
    ("no digits at all", None),
])
def test_final_number_normal_form(text, expected):
    assert final_number(text) == expected


def test_normal_form_keeps_non_decimal_fractions():
    assert normal_form(Fraction(2, 6)) == "1/3" and normal_form(Fraction(5, 4)) == "1.25"


def test_vote_counts_missing_answers_as_disagreement():
    assert vote(["7", "7", "9", None]) == ("7", 0.5)
    assert vote(["7", "9"], weights=[0.2, 0.8]) == ("9", 0.8)
    assert vote(["5", "6"]) == ("5", 0.5)  # tie: first seen
    assert vote([None, None]) == (None, 0.0)
    with pytest.raises(ValueError):
        vote(["1"], weights=[1.0, 2.0])


def test_program_answer_reads_the_last_printed_number():
    reply = "Compute it:\n```python\nboxes = 4 * 6\nprint('boxes', boxes)\nprint('cost', boxes * 25)\n```"
    assert program_answer(reply) == "600"
    assert program_answer("```python\nraise SystemExit(3)\nprint(5)\n```") is None
    assert program_answer("no code here") is None
