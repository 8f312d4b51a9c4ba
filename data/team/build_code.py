"""Fresh code tasks for issue 26 (team beats its best member), written as Python literals; writes code.jsonl.

Provenance: hand-written from scratch by the `team` helper session on 2026-12-03, before any tuning of
the runtime for issue 26 and without reading the runtime's example extractor. No task was taken,
paraphrased or translated from a public benchmark (HumanEval, MBPP, APPS, LeetCode, ...). The prompts
show examples in free prose ("should return", "e.g. f(3) is 9", "Input: ... Output: ...", Japanese
入力/出力, markdown tables) or no examples at all, on purpose. The set is frozen after its first run:
never edit a task; add a new file instead.

    python3 data/team/build_code.py && python3 data/team/validate.py
"""
from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
PROVENANCE = ("hand-written 2026-12-03 by the team helper session for issue 26, before tuning, without "
              "reading the extractor; not from any public benchmark; frozen after first run")
T: list[tuple[str, str, str, list[str], str]] = []  # (lang, entry point, prompt, hidden tests, reference)


def task(lang: str, entry: str, prompt: str, tests: list[str], reference: str) -> None:
    T.append((lang, entry, prompt.strip(), tests, reference.strip() + "\n"))


task("en", "clamp_percent", """
Write a Python function `clamp_percent(x: float) -> int` that rounds a progress value to the nearest
whole percent and keeps it between 0 and 100. For instance clamp_percent(140.2) should return 100 and
clamp_percent(12.7) should return 13.
""", ["assert clamp_percent(-3) == 0", "assert clamp_percent(55.4) == 55", "assert clamp_percent(99.6) == 100",
      "assert clamp_percent(0) == 0", "assert clamp_percent(100) == 100"], """
def clamp_percent(x):
    return max(0, min(100, round(x)))
""")

task("en", "initials", """
Implement `initials(name: str) -> str`: the upper-cased first letter of every word of a person's
name, each followed by a dot, e.g. initials("grace hopper") is "G.H.". Words are separated by any
amount of whitespace; an empty or blank name gives "".
""", ['assert initials("") == ""', 'assert initials("x") == "X."', 'assert initials("  mary  ann  smith ") == "M.A.S."',
      'assert initials("Élodie bon") == "É.B."', 'assert initials("ada lovelace") == "A.L."'], """
def initials(name):
    return "".join(word[0].upper() + "." for word in name.split())
""")

task("en", "swap_pairs", """
Write `swap_pairs(items: list) -> list` returning a new list where elements 0 and 1 are swapped,
2 and 3 are swapped, and so on. If the length is odd the last element stays where it is. Do not
modify the input list.
""", ["assert swap_pairs([]) == []", "assert swap_pairs([1]) == [1]", "assert swap_pairs([1, 2, 3, 4]) == [2, 1, 4, 3]",
      "assert swap_pairs(['a', 'b', 'c']) == ['b', 'a', 'c']", "x = [5, 6]; swap_pairs(x); assert x == [5, 6]"], """
def swap_pairs(items):
    out = list(items)
    for i in range(0, len(out) - 1, 2):
        out[i], out[i + 1] = out[i + 1], out[i]
    return out
""")

task("en", "digital_root", """
Write a function digital_root(n: int) -> int. Repeatedly add up the decimal digits of a
non-negative integer until a single digit remains, and return that digit.

Input: 38
Output: 2

Input: 7
Output: 7
""", ["assert digital_root(0) == 0", "assert digital_root(9999) == 9", "assert digital_root(123456) == 3",
      "assert digital_root(10) == 1"], """
def digital_root(n):
    while n >= 10:
        n = sum(int(d) for d in str(n))
    return n
""")

task("en", "count_long_words", """
Write `count_long_words(text: str, k: int) -> int` that counts the whitespace-separated words
longer than k characters.

| text | k | result |
|---|---|---|
| "the quick brown fox" | 3 | 2 |
| "a bb ccc" | 0 | 3 |
""", ['assert count_long_words("", 2) == 0', 'assert count_long_words("hello world", 5) == 0',
      'assert count_long_words("hello world", 4) == 2', 'assert count_long_words("  spaced   out  words ", 2) == 3'], """
def count_long_words(text, k):
    return sum(1 for w in text.split() if len(w) > k)
""")

task("en", "run_length", """
Write a Python function `run_length(s: str) -> str` that encodes a string by writing each run of a
repeated character as the character followed by the run length. run_length("aaabcc") should
return "a3b1c2", and an empty string should return an empty string.
""", ['assert run_length("") == ""', 'assert run_length("a") == "a1"', 'assert run_length("zzzzzzzzzzzz") == "z12"',
      'assert run_length("abab") == "a1b1a1b1"', 'assert run_length("  x") == " 2x1"'], """
def run_length(s):
    out, i = [], 0
    while i < len(s):
        j = i
        while j < len(s) and s[j] == s[i]:
            j += 1
        out.append(f"{s[i]}{j - i}")
        i = j
    return "".join(out)
""")

task("en", "version_tuple", """
I need `version_tuple(v: str) -> tuple` that turns a dotted version string into a tuple of three
integers, padding missing parts with zeros. e.g. version_tuple("1.10.3") is (1, 10, 3) and
version_tuple("2") is (2, 0, 0).
""", ['assert version_tuple("0.0.1") == (0, 0, 1)', 'assert version_tuple("3.4") == (3, 4, 0)',
      'assert version_tuple("10.20.30") == (10, 20, 30)', 'assert version_tuple("7.0") == (7, 0, 0)'], """
def version_tuple(v):
    parts = [int(p) for p in v.split(".")]
    return tuple(parts + [0] * (3 - len(parts)))
""")

task("en", "newer_version", """
Write `newer_version(a: str, b: str) -> str` that returns whichever of two dotted numeric version
strings is newer (compare the numbers part by part, a missing part counts as 0). When they are
equal return a.
""", ['assert newer_version("1.2", "1.10") == "1.10"', 'assert newer_version("2.0.0", "2") == "2.0.0"',
      'assert newer_version("2", "2.0.0") == "2"', 'assert newer_version("3.1.4", "3.1.3") == "3.1.4"',
      'assert newer_version("0.9", "1") == "1"'], """
def newer_version(a, b):
    pa = [int(x) for x in a.split(".")]
    pb = [int(x) for x in b.split(".")]
    n = max(len(pa), len(pb))
    pa += [0] * (n - len(pa))
    pb += [0] * (n - len(pb))
    return b if pb > pa else a
""")

task("en", "hex_to_rgb", """
Write `hex_to_rgb(code: str) -> tuple[int, int, int]` for CSS colours. A six-digit code like
"#ff8000" should return (255, 128, 0). The three-digit shorthand doubles each digit, so "#f80"
should return (255, 136, 0). Letters may be upper or lower case.
""", ['assert hex_to_rgb("#000000") == (0, 0, 0)', 'assert hex_to_rgb("#FFFFFF") == (255, 255, 255)',
      'assert hex_to_rgb("#abc") == (170, 187, 204)', 'assert hex_to_rgb("#1A2b3C") == (26, 43, 60)'], """
def hex_to_rgb(code):
    h = code.lstrip("#")
    if len(h) == 3:
        h = "".join(c * 2 for c in h)
    return tuple(int(h[i:i + 2], 16) for i in (0, 2, 4))
""")

task("en", "middle_chars", """
Write a function middle_chars(s: str) -> str returning the middle character of a string of odd
length, or the two middle characters of a string of even length. An empty string gives "".

Input: "abcde"
Output: "c"

Input: "abcd"
Output: "bc"
""", ['assert middle_chars("") == ""', 'assert middle_chars("x") == "x"', 'assert middle_chars("xy") == "xy"',
      'assert middle_chars("testing") == "t"', 'assert middle_chars("middle") == "dd"'], """
def middle_chars(s):
    if not s:
        return ""
    m = len(s) // 2
    return s[m] if len(s) % 2 else s[m - 1:m + 1]
""")

task("en", "longest_ones", """
Write `longest_ones(bits: str) -> int`: the length of the longest run of consecutive '1'
characters in a string of '0' and '1'.

| bits | longest_ones(bits) |
|------|--------------------|
| "1101110" | 3 |
| "000" | 0 |
""", ['assert longest_ones("") == 0', 'assert longest_ones("1") == 1', 'assert longest_ones("0111101111101") == 5',
      'assert longest_ones("10101") == 1'], """
def longest_ones(bits):
    return max((len(r) for r in bits.split("0")), default=0)
""")

task("en", "seconds_to_clock", """
Write seconds_to_clock(n: int) -> str that formats a number of seconds as "HH:MM:SS" with two
digits per field (hours may go past 24 and then use as many digits as needed). e.g.
seconds_to_clock(3661) is "01:01:01".
""", ['assert seconds_to_clock(0) == "00:00:00"', 'assert seconds_to_clock(59) == "00:00:59"',
      'assert seconds_to_clock(86400) == "24:00:00"', 'assert seconds_to_clock(360000) == "100:00:00"',
      'assert seconds_to_clock(4000) == "01:06:40"'], """
def seconds_to_clock(n):
    return f"{n // 3600:02d}:{n % 3600 // 60:02d}:{n % 60:02d}"
""")

task("en", "every_other_word", """
Write `every_other_word(text: str) -> str` that keeps the 1st, 3rd, 5th, ... whitespace-separated
words of a text and joins them with single spaces.
""", ['assert every_other_word("") == ""', 'assert every_other_word("one") == "one"',
      'assert every_other_word("one two three four five") == "one three five"',
      'assert every_other_word("  a   b  c ") == "a c"'], """
def every_other_word(text):
    return " ".join(text.split()[::2])
""")

task("en", "dedupe_keep_last", """
Write a Python function `dedupe_keep_last(items: list) -> list` that removes duplicates but keeps
each value at the position of its LAST occurrence. dedupe_keep_last([1, 2, 1, 3]) should return
[2, 1, 3].
""", ["assert dedupe_keep_last([]) == []", "assert dedupe_keep_last([1, 1, 1]) == [1]",
      "assert dedupe_keep_last(['a', 'b', 'c']) == ['a', 'b', 'c']",
      "assert dedupe_keep_last([3, 1, 3, 2, 1]) == [3, 2, 1]"], """
def dedupe_keep_last(items):
    last = {v: i for i, v in enumerate(items)}
    return [v for i, v in enumerate(items) if last[v] == i]
""")

task("en", "bytes_human", """
Write bytes_human(n: int) -> str that formats a byte count with binary units. Below 1024 it is
"<n> B"; otherwise divide by 1024 until the value is below 1024 (units KiB, MiB, GiB, stop at GiB)
and show one decimal.

Input: 512
Output: "512 B"
Input: 1536
Output: "1.5 KiB"
""", ['assert bytes_human(0) == "0 B"', 'assert bytes_human(1024) == "1.0 KiB"',
      'assert bytes_human(5 * 1024 ** 2) == "5.0 MiB"', 'assert bytes_human(3 * 1024 ** 4) == "3072.0 GiB"',
      'assert bytes_human(1023) == "1023 B"'], """
def bytes_human(n):
    if n < 1024:
        return f"{n} B"
    value = float(n)
    for unit in ("KiB", "MiB", "GiB"):
        value /= 1024
        if value < 1024 or unit == "GiB":
            return f"{value:.1f} {unit}"
""")

task("en", "flatten_once", """
Write `flatten_once(nested: list) -> list` that removes one level of nesting: items that are lists
are replaced by their elements, other items are kept as they are.

| nested | result |
|---|---|
| [1, [2, 3], 4] | [1, 2, 3, 4] |
| [[1, [2]], []] | [1, [2]] |
""", ["assert flatten_once([]) == []", "assert flatten_once([[], []]) == []",
      "assert flatten_once(['ab', ['c']]) == ['ab', 'c']", "assert flatten_once([[[1]], 2]) == [[1], 2]"], """
def flatten_once(nested):
    out = []
    for item in nested:
        if isinstance(item, list):
            out.extend(item)
        else:
            out.append(item)
    return out
""")

task("en", "snake_to_camel", """
Write snake_to_camel(name: str) -> str converting snake_case to lowerCamelCase, e.g.
snake_to_camel("max_new_tokens") is "maxNewTokens". Empty parts caused by repeated or leading
underscores are ignored.
""", ['assert snake_to_camel("top_k") == "topK"', 'assert snake_to_camel("seed") == "seed"',
      'assert snake_to_camel("__private__name") == "privateName"', 'assert snake_to_camel("a_b_c") == "aBC"'], """
def snake_to_camel(name):
    parts = [p for p in name.split("_") if p]
    if not parts:
        return ""
    return parts[0] + "".join(p[0].upper() + p[1:] for p in parts[1:])
""")

task("en", "camel_to_snake", """
Write a Python function `camel_to_snake(name: str) -> str`: insert an underscore before every
upper-case letter that is not the first character and lower-case everything. So "topK" should
return "top_k" and "ContextLength" should return "context_length".
""", ['assert camel_to_snake("a") == "a"', 'assert camel_to_snake("maxNewTokens") == "max_new_tokens"',
      'assert camel_to_snake("X") == "x"', 'assert camel_to_snake("already_snake") == "already_snake"'], """
def camel_to_snake(name):
    return "".join(("_" + c.lower()) if c.isupper() and i else c.lower() for i, c in enumerate(name))
""")

task("en", "count_divisible", """
Write count_divisible(lo: int, hi: int, k: int) -> int returning how many integers in the closed
range [lo, hi] are divisible by k (k > 0). If lo > hi the range is empty.
""", ["assert count_divisible(1, 10, 3) == 3", "assert count_divisible(0, 0, 5) == 1",
      "assert count_divisible(-10, 10, 5) == 5", "assert count_divisible(7, 3, 2) == 0",
      "assert count_divisible(1, 1000000, 7) == 142857"], """
def count_divisible(lo, hi, k):
    if lo > hi:
        return 0
    return hi // k - (lo - 1) // k
""")

task("en", "rotate_left", """
Write `rotate_left(s: str, k: int) -> str` that moves the first k characters of s to its end.
k may be larger than the length of s.

Input: s = "abcdef", k = 2
Output: "cdefab"
""", ['assert rotate_left("", 3) == ""', 'assert rotate_left("abc", 0) == "abc"', 'assert rotate_left("abc", 3) == "abc"',
      'assert rotate_left("abcde", 7) == "cdeab"'], """
def rotate_left(s, k):
    if not s:
        return s
    k %= len(s)
    return s[k:] + s[:k]
""")

task("en", "second_largest", """
Write second_largest(nums: list[int]) -> int | None giving the second largest DISTINCT value in the
list, or None if there is none. second_largest([4, 9, 9, 2]) should return 4.
""", ["assert second_largest([]) == None", "assert second_largest([5, 5]) == None",
      "assert second_largest([1, 2]) == 1", "assert second_largest([-3, -1, -2]) == -2"], """
def second_largest(nums):
    values = sorted(set(nums))
    return values[-2] if len(values) > 1 else None
""")

task("en", "trimmed_mean", """
Write `trimmed_mean(nums: list[float]) -> float | None`: drop one smallest and one largest value
and return the mean of the rest; with fewer than three values return None. e.g.
trimmed_mean([1, 2, 3, 10]) is 2.5.
""", ["assert trimmed_mean([1, 2]) == None", "assert trimmed_mean([5, 5, 5]) == 5",
      "assert trimmed_mean([9, 1, 4, 6, 0]) == (1 + 4 + 6) / 3", "assert trimmed_mean([]) == None"], """
def trimmed_mean(nums):
    if len(nums) < 3:
        return None
    rest = sorted(nums)[1:-1]
    return sum(rest) / len(rest)
""")

task("en", "parse_kv", """
Write a function parse_kv(line: str) -> dict that parses settings such as "a=1; b=two" into
{"a": "1", "b": "two"}. Pairs are separated by ";", keys and values are stripped of surrounding
whitespace, and empty pairs are skipped. Values stay strings.

Input: "threads=4;ctx = 2048"
Output: {"threads": "4", "ctx": "2048"}
""", ['assert parse_kv("") == {}', 'assert parse_kv("x=1;;") == {"x": "1"}',
      'assert parse_kv(" k = v w ") == {"k": "v w"}', 'assert parse_kv("a=1; a=2") == {"a": "2"}'], """
def parse_kv(line):
    out = {}
    for part in line.split(";"):
        if part.strip():
            key, _, value = part.partition("=")
            out[key.strip()] = value.strip()
    return out
""")

task("en", "truncate_words", """
Write truncate_words(text: str, n: int) -> str which keeps the first n whitespace-separated words
joined by single spaces, adding "..." at the end only if words were dropped.
truncate_words("one two three", 2) should return "one two..." and truncate_words("one two", 5)
should return "one two".
""", ['assert truncate_words("", 3) == ""', 'assert truncate_words("a b c", 3) == "a b c"',
      'assert truncate_words("a b c d", 1) == "a..."', 'assert truncate_words("  x   y ", 2) == "x y"'], """
def truncate_words(text, n):
    words = text.split()
    kept = " ".join(words[:n])
    return kept + "..." if len(words) > n else kept
""")

task("en", "grid_neighbors", """
Write `grid_neighbors(r: int, c: int, rows: int, cols: int) -> int`: how many cells share an edge
(up, down, left, right) with cell (r, c) inside a grid of rows x cols cells.

| r | c | rows | cols | answer |
|---|---|---|---|---|
| 0 | 0 | 3 | 3 | 2 |
| 1 | 1 | 3 | 3 | 4 |
""", ["assert grid_neighbors(0, 0, 1, 1) == 0", "assert grid_neighbors(0, 1, 1, 3) == 2",
      "assert grid_neighbors(2, 1, 3, 3) == 3", "assert grid_neighbors(0, 0, 1, 5) == 1"], """
def grid_neighbors(r, c, rows, cols):
    return sum(0 <= r + dr < rows and 0 <= c + dc < cols for dr, dc in ((1, 0), (-1, 0), (0, 1), (0, -1)))
""")

task("en", "days_in_month", """
Write days_in_month(year: int, month: int) -> int for the Gregorian calendar, taking leap years
into account (divisible by 4, except centuries not divisible by 400).
""", ["assert days_in_month(2023, 2) == 28", "assert days_in_month(2024, 2) == 29", "assert days_in_month(1900, 2) == 28",
      "assert days_in_month(2000, 2) == 29", "assert days_in_month(2025, 4) == 30", "assert days_in_month(2025, 12) == 31"], """
def days_in_month(year, month):
    if month == 2:
        return 29 if year % 4 == 0 and (year % 100 != 0 or year % 400 == 0) else 28
    return 30 if month in (4, 6, 9, 11) else 31
""")

task("en", "merge_counts", """
Write `merge_counts(a: dict, b: dict) -> dict` that adds up the counts of two dictionaries key by
key (a key missing from one side counts as 0). e.g. merge_counts({"x": 1}, {"x": 2, "y": 5}) is
{"x": 3, "y": 5}. Do not change the inputs.
""", ["assert merge_counts({}, {}) == {}", "assert merge_counts({'a': 2}, {}) == {'a': 2}",
      "assert merge_counts({'a': 1, 'b': 1}, {'b': -1}) == {'a': 1, 'b': 0}",
      "a = {'k': 1}; merge_counts(a, {'k': 1}); assert a == {'k': 1}"], """
def merge_counts(a, b):
    out = dict(a)
    for key, value in b.items():
        out[key] = out.get(key, 0) + value
    return out
""")

task("en", "top_k_words", """
Write top_k_words(text: str, k: int) -> list[str] returning the k most frequent words (words are
whitespace-separated, compared lower-cased), most frequent first; ties are broken alphabetically.

Input: text = "b a B c a b", k = 2
Output: ["b", "a"]
""", ['assert top_k_words("", 3) == []', 'assert top_k_words("x y z", 2) == ["x", "y"]',
      'assert top_k_words("Dog cat dog CAT bird", 5) == ["cat", "dog", "bird"]',
      'assert top_k_words("a a b", 1) == ["a"]'], """
from collections import Counter

def top_k_words(text, k):
    counts = Counter(w.lower() for w in text.split())
    return [w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:k]]
""")

task("en", "price_with_tax", """
Write `price_with_tax(cents: int, rate_percent: int) -> int`: the price in cents after adding tax
at the given whole-number percent, rounded to the nearest cent with halves rounded up. For
example price_with_tax(1000, 8) should return 1080 and price_with_tax(250, 10) should return 275.
""", ["assert price_with_tax(0, 20) == 0", "assert price_with_tax(105, 10) == 116", "assert price_with_tax(199, 0) == 199",
      "assert price_with_tax(333, 15) == 383"], """
def price_with_tax(cents, rate_percent):
    return (cents * (100 + rate_percent) + 50) // 100
""")

task("en", "mask_email", """
Write mask_email(addr: str) -> str that hides the local part of an email address except its
first character: "alice@example.com" becomes "a***@example.com" (always exactly three stars).
""", ['assert mask_email("b@x.org") == "b***@x.org"', 'assert mask_email("john.doe@mail.co.jp") == "j***@mail.co.jp"',
      'assert mask_email("Zed@Q.io") == "Z***@Q.io"', 'assert mask_email("ab@c") == "a***@c"'], """
def mask_email(addr):
    local, _, domain = addr.partition("@")
    return local[:1] + "***@" + domain
""")

task("en", "ordinal", """
Write `ordinal(n: int) -> str` giving the English ordinal of a positive integer.

| n | ordinal(n) |
|---|---|
| 1 | "1st" |
| 2 | "2nd" |
| 3 | "3rd" |
| 4 | "4th" |
""", ['assert ordinal(11) == "11th"', 'assert ordinal(12) == "12th"', 'assert ordinal(13) == "13th"',
      'assert ordinal(22) == "22nd"', 'assert ordinal(101) == "101st"', 'assert ordinal(113) == "113th"'], """
def ordinal(n):
    if n % 100 in (11, 12, 13):
        return f"{n}th"
    return f"{n}" + {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
""")

task("en", "chunk_string", """
Write chunk_string(s: str, n: int) -> list[str] splitting a string into consecutive pieces of n
characters; the last piece may be shorter. An empty string gives an empty list.
""", ['assert chunk_string("", 3) == []', 'assert chunk_string("abcdefg", 3) == ["abc", "def", "g"]',
      'assert chunk_string("ab", 5) == ["ab"]', 'assert chunk_string("abcd", 2) == ["ab", "cd"]'], """
def chunk_string(s, n):
    return [s[i:i + n] for i in range(0, len(s), n)]
""")

task("en", "shared_extension", """
Write `shared_extension(paths: list[str]) -> str`. It returns the file extension (with its dot,
taken after the last dot of the file name) that every path in the list has, or "" if the list is
empty, some path has no extension, or they differ. shared_extension(["a/x.gguf", "y.gguf"])
should return ".gguf".
""", ['assert shared_extension([]) == ""', 'assert shared_extension(["a.tar.gz", "b.gz"]) == ".gz"',
      'assert shared_extension(["a.onnx", "b.gguf"]) == ""', 'assert shared_extension(["dir.v2/readme"]) == ""',
      'assert shared_extension(["m.bin"]) == ".bin"'], """
def shared_extension(paths):
    exts = set()
    for p in paths:
        name = p.rsplit("/", 1)[-1]
        if "." not in name:
            return ""
        exts.add("." + name.rsplit(".", 1)[1])
    return exts.pop() if len(exts) == 1 else ""
""")

task("en", "bump_patch", """
Write bump_patch(version: str) -> str that increments the last number of a "MAJOR.MINOR.PATCH"
version string.

Input: "1.4.9"
Output: "1.4.10"
""", ['assert bump_patch("0.0.0") == "0.0.1"', 'assert bump_patch("2.10.99") == "2.10.100"',
      'assert bump_patch("10.0.5") == "10.0.6"', 'assert bump_patch("1.2.3") == "1.2.4"'], """
def bump_patch(version):
    major, minor, patch = version.split(".")
    return f"{major}.{minor}.{int(patch) + 1}"
""")

task("en", "indexes_above", """
Write `indexes_above(readings: list[float], limit: float) -> list[int]` returning the positions of
the readings strictly greater than limit, in increasing order.
""", ["assert indexes_above([], 1) == []", "assert indexes_above([1, 5, 3, 7], 3) == [1, 3]",
      "assert indexes_above([2, 2, 2], 2) == []", "assert indexes_above([-1.5, 0.0], -2) == [0, 1]"], """
def indexes_above(readings, limit):
    return [i for i, r in enumerate(readings) if r > limit]
""")

task("en", "normalize_spaces", """
Write normalize_spaces(text: str) -> str that replaces every run of whitespace (spaces, tabs,
newlines) with one space and strips both ends, e.g. normalize_spaces("  a \\t b\\n") is "a b".
""", ['assert normalize_spaces("") == ""', 'assert normalize_spaces("   ") == ""', 'assert normalize_spaces("x") == "x"',
      'assert normalize_spaces("one\\n\\ntwo  three") == "one two three"'], """
def normalize_spaces(text):
    return " ".join(text.split())
""")

task("en", "interleave", """
Write `interleave(a: list, b: list) -> list` that alternates elements of a and b, starting with a;
when one list runs out, the rest of the other is appended.

| a | b | interleave(a, b) |
|---|---|---|
| [1, 2, 3] | ["x"] | [1, "x", 2, 3] |
| [] | [4, 5] | [4, 5] |
""", ["assert interleave([], []) == []", "assert interleave([1, 2], [3, 4]) == [1, 3, 2, 4]",
      "assert interleave(['a'], ['b', 'c', 'd']) == ['a', 'b', 'c', 'd']", "assert interleave([0], []) == [0]"], """
def interleave(a, b):
    out = []
    for i in range(max(len(a), len(b))):
        if i < len(a):
            out.append(a[i])
        if i < len(b):
            out.append(b[i])
    return out
""")

task("en", "column_sums", """
Write column_sums(rows: list[list[int]]) -> list[int] that returns the sum of each column of a
rectangular table. column_sums([[1, 2], [3, 4]]) should return [4, 6]; an empty table should
return [].
""", ["assert column_sums([]) == []", "assert column_sums([[5, 6, 7]]) == [5, 6, 7]",
      "assert column_sums([[1], [2], [3]]) == [6]", "assert column_sums([[1, -1], [-1, 1], [0, 0]]) == [0, 0]"], """
def column_sums(rows):
    return [sum(col) for col in zip(*rows)]
""")

task("en", "percent_change", """
Write `percent_change(old: float, new: float) -> float | None`: the change from old to new in
percent of old, rounded to one decimal. If old is 0 return None.

Input: old = 50, new = 65
Output: 30.0
""", ["assert percent_change(0, 5) == None", "assert percent_change(80, 60) == -25.0",
      "assert percent_change(3, 4) == 33.3", "assert percent_change(10, 10) == 0.0"], """
def percent_change(old, new):
    if old == 0:
        return None
    return round((new - old) / old * 100, 1)
""")

task("en", "longest_word", """
Write longest_word(text: str) -> str returning the longest word of a sentence, ignoring the
punctuation characters .,!?;: attached to words; on a tie the earliest word wins; an empty text
gives "". e.g. longest_word("Hi, wonderful world!") is "wonderful".
""", ['assert longest_word("") == ""', 'assert longest_word("cat dog") == "cat"',
      'assert longest_word("Stop! Hammer time.") == "Hammer"', 'assert longest_word("a bb, ccc!!!") == "ccc"'], """
def longest_word(text):
    best = ""
    for w in text.split():
        w = w.strip(".,!?;:")
        if len(w) > len(best):
            best = w
    return best
""")

task("en", "elapsed_minutes", """
Write `elapsed_minutes(start: str, end: str) -> int` for two "HH:MM" clock times on a 24-hour
clock; if end is earlier than start the interval crosses midnight. elapsed_minutes("23:30",
"00:15") should return 45 and elapsed_minutes("08:00", "09:30") should return 90.
""", ['assert elapsed_minutes("12:00", "12:00") == 0', 'assert elapsed_minutes("00:00", "23:59") == 1439',
      'assert elapsed_minutes("22:10", "01:05") == 175', 'assert elapsed_minutes("06:45", "07:05") == 20'], """
def elapsed_minutes(start, end):
    def minutes(t):
        h, m = t.split(":")
        return int(h) * 60 + int(m)
    return (minutes(end) - minutes(start)) % (24 * 60)
""")

task("en", "valid_port", """
Write valid_port(s: str) -> bool: True when s is a TCP port written in plain decimal digits with no
sign, no spaces and no leading zero, between 1 and 65535.
""", ['assert valid_port("80") == True', 'assert valid_port("0") == False', 'assert valid_port("65535") == True',
      'assert valid_port("65536") == False', 'assert valid_port("080") == False', 'assert valid_port(" 80") == False',
      'assert valid_port("") == False', 'assert valid_port("+8") == False'], """
def valid_port(s):
    return s.isascii() and s.isdigit() and not s.startswith("0") and 1 <= int(s) <= 65535
""")

task("en", "messages_that_fit", """
Write `messages_that_fit(tokens: list[int], budget: int) -> int`. tokens holds the token count of
each chat message, oldest first. Keep the most recent messages whose total fits within the
budget, stopping at the first message (going backwards) that would not fit; return how many
messages are kept.

| tokens | budget | result |
|---|---|---|
| [5, 3, 2] | 5 | 2 |
| [5, 3, 2] | 100 | 3 |
""", ["assert messages_that_fit([], 10) == 0", "assert messages_that_fit([4], 3) == 0",
      "assert messages_that_fit([1, 9, 1], 5) == 1", "assert messages_that_fit([2, 2, 2], 4) == 2"], """
def messages_that_fit(tokens, budget):
    kept = used = 0
    for t in reversed(tokens):
        if used + t > budget:
            break
        used += t
        kept += 1
    return kept
""")

task("en", "checksum8", """
Write checksum8(s: str) -> int: the sum of the UTF-8 bytes of s modulo 256. For instance
checksum8("A") is 65 and checksum8("AB") is 131.
""", ['assert checksum8("") == 0', 'assert checksum8("hello") == 532 % 256', 'assert checksum8("é") == (0xC3 + 0xA9) % 256',
      'assert checksum8("\\xff" * 0) == 0', 'assert checksum8("zz") == 244'], """
def checksum8(s):
    return sum(s.encode("utf-8")) % 256
""")

task("en", "group_by_initial", """
Write `group_by_initial(words: list[str]) -> dict[str, list[str]]` that groups non-empty words by
their lower-cased first letter, keeping the words' order inside each group.

Input: ["apple", "Avocado", "banana"]
Output: {"a": ["apple", "Avocado"], "b": ["banana"]}
""", ["assert group_by_initial([]) == {}", "assert group_by_initial(['x']) == {'x': ['x']}",
      "assert group_by_initial(['b', 'a', 'B']) == {'b': ['b', 'B'], 'a': ['a']}",
      "assert group_by_initial(['', 'c']) == {'c': ['c']}"], """
def group_by_initial(words):
    out = {}
    for w in words:
        if w:
            out.setdefault(w[0].lower(), []).append(w)
    return out
""")

task("en", "is_palindrome_number", """
Write is_palindrome_number(n: int) -> bool that says whether the decimal digits of n read the
same backwards. Negative numbers are never palindromes. e.g. is_palindrome_number(1221) is True.
""", ["assert is_palindrome_number(0) == True", "assert is_palindrome_number(-121) == False",
      "assert is_palindrome_number(10) == False", "assert is_palindrome_number(12321) == True"], """
def is_palindrome_number(n):
    return n >= 0 and str(n) == str(n)[::-1]
""")

task("en", "cumulative", """
Write `cumulative(nums: list[int]) -> list[int]` returning the running totals of a list.
""", ["assert cumulative([]) == []", "assert cumulative([3]) == [3]", "assert cumulative([1, 2, 3]) == [1, 3, 6]",
      "assert cumulative([5, -5, 5]) == [5, 0, 5]"], """
def cumulative(nums):
    out, total = [], 0
    for n in nums:
        total += n
        out.append(total)
    return out
""")

task("en", "title_case_small", """
Write title_case_small(text: str) -> str that capitalises every word except the small words "a",
"an", "the", "of", "and", "in", which stay lower-case unless they are the first word. Other letters
of each word become lower-case, and words are joined by single spaces.
title_case_small("the lord OF the rings") should return "The Lord of the Rings".
""", ['assert title_case_small("") == ""', 'assert title_case_small("a tale of two cities") == "A Tale of Two Cities"',
      'assert title_case_small("war AND peace") == "War and Peace"', 'assert title_case_small("IN the end") == "In the End"'], """
def title_case_small(text):
    small = {"a", "an", "the", "of", "and", "in"}
    words = [w.lower() for w in text.split()]
    return " ".join(w if i and w in small else w.capitalize() for i, w in enumerate(words))
""")

# Japanese prompts (names stay Python).
task("ja", "sum_even_squares", """
整数のリストを受け取り、偶数の要素だけを二乗して合計した値を返す Python 関数
`sum_even_squares(nums: list[int]) -> int` を書いてください。
""", ["assert sum_even_squares([]) == 0", "assert sum_even_squares([1, 3]) == 0", "assert sum_even_squares([1, 2, 3, 4]) == 20",
      "assert sum_even_squares([-2, 0]) == 4"], """
def sum_even_squares(nums):
    return sum(n * n for n in nums if n % 2 == 0)
""")

task("ja", "to_halfwidth_digits", """
文字列の中の全角数字（０〜９）を半角数字に置き換える関数 `to_halfwidth_digits(s: str) -> str` を
書いてください。それ以外の文字はそのままにします。例えば to_halfwidth_digits("１２３円") は "123円" を
返すべきです。
""", ['assert to_halfwidth_digits("") == ""', 'assert to_halfwidth_digits("abc") == "abc"',
      'assert to_halfwidth_digits("２０２６年１２月") == "2026年12月"', 'assert to_halfwidth_digits("9９") == "99"'], """
def to_halfwidth_digits(s):
    return s.translate({0xFF10 + i: ord("0") + i for i in range(10)})
""")

task("ja", "count_hiragana", """
文字列に含まれるひらがな（ぁ から ゖ まで）の数を数える関数 count_hiragana(s: str) -> int を作ってください。

入力: "こんにちは世界"
出力: 5
""", ['assert count_hiragana("") == 0', 'assert count_hiragana("カタカナ") == 0', 'assert count_hiragana("あいうabc") == 3',
      'assert count_hiragana("漢字とかな") == 3'], """
def count_hiragana(s):
    return sum(1 for c in s if "\\u3041" <= c <= "\\u3096")
""")

task("ja", "wareki_to_seireki", """
和暦の元号と年から西暦を返す関数 `wareki_to_seireki(era: str, year: int) -> int` を書いてください。
対応する元号は次の表のとおりです。

| 元号 | 元年の西暦 |
|---|---|
| 昭和 | 1926 |
| 平成 | 1989 |
| 令和 | 2019 |
""", ['assert wareki_to_seireki("令和", 1) == 2019', 'assert wareki_to_seireki("令和", 8) == 2026',
      'assert wareki_to_seireki("平成", 31) == 2019', 'assert wareki_to_seireki("昭和", 64) == 1989'], """
def wareki_to_seireki(era, year):
    return {"昭和": 1926, "平成": 1989, "令和": 2019}[era] + year - 1
""")

task("ja", "format_yen", """
整数の金額を3桁ごとにカンマで区切り、末尾に「円」を付けた文字列にする関数 format_yen(n: int) -> str を
書いてください。例えば format_yen(1000) は "1,000円" です。
""", ['assert format_yen(0) == "0円"', 'assert format_yen(999) == "999円"', 'assert format_yen(1234567) == "1,234,567円"',
      'assert format_yen(-5000) == "-5,000円"'], """
def format_yen(n):
    return f"{n:,}円"
""")

task("ja", "max_gap", """
数値のリストで、隣り合う要素の差の絶対値の最大値を返す関数 `max_gap(nums: list[int]) -> int` を
書いてください。要素が2つ未満のときは 0 を返します。
""", ["assert max_gap([]) == 0", "assert max_gap([5]) == 0", "assert max_gap([1, 10, 4]) == 9",
      "assert max_gap([3, -3, 0]) == 6"], """
def max_gap(nums):
    return max((abs(a - b) for a, b in zip(nums, nums[1:])), default=0)
""")

task("ja", "reverse_words", """
空白で区切られた単語の順番を逆にして、半角スペース1つで連結した文字列を返す関数
reverse_words(s: str) -> str を書いてください。

入力: "I love Python"
出力: "Python love I"
""", ['assert reverse_words("") == ""', 'assert reverse_words("one") == "one"',
      'assert reverse_words("  a  b c ") == "c b a"', 'assert reverse_words("x y") == "y x"'], """
def reverse_words(s):
    return " ".join(reversed(s.split()))
""")

task("ja", "tax_included", """
税抜き価格（円、整数）から消費税10%込みの価格を返す関数 `tax_included(price: int) -> int` を
書いてください。1円未満は切り捨てます。tax_included(980) は 1078 を返すべきです。
""", ["assert tax_included(0) == 0", "assert tax_included(100) == 110", "assert tax_included(99) == 108",
      "assert tax_included(1234) == 1357"], """
def tax_included(price):
    return price * 110 // 100
""")

task("ja", "split_full_name", """
「姓 名」の形の氏名を、姓と名のタプルに分ける関数 split_full_name(name: str) -> tuple[str, str] を
書いてください。区切りは全角スペース「　」または半角スペースのどちらかです。

| name | 結果 |
|---|---|
| "山田 太郎" | ("山田", "太郎") |
| "佐藤　花子" | ("佐藤", "花子") |
""", ['assert split_full_name("田中 一") == ("田中", "一")', 'assert split_full_name("鈴木　次郎") == ("鈴木", "次郎")',
      'assert split_full_name("Smith John") == ("Smith", "John")', 'assert split_full_name("高橋　美咲") == ("高橋", "美咲")'], """
def split_full_name(name):
    family, given = name.replace("\\u3000", " ").split(" ", 1)
    return family, given
""")

task("ja", "unique_sorted", """
整数のリストから重複を取り除き、小さい順に並べたリストを返す関数 `unique_sorted(nums: list[int]) -> list[int]`
を書いてください。
""", ["assert unique_sorted([]) == []", "assert unique_sorted([3, 1, 3, 2]) == [1, 2, 3]",
      "assert unique_sorted([-1, -1]) == [-1]", "assert unique_sorted([5, 4, 3]) == [3, 4, 5]"], """
def unique_sorted(nums):
    return sorted(set(nums))
""")

task("ja", "grade", """
点数（0〜100の整数）から評価を返す関数 grade(score: int) -> str を書いてください。

| 点数 | 評価 |
|---|---|
| 80以上 | "A" |
| 60以上80未満 | "B" |
| 60未満 | "C" |
""", ['assert grade(100) == "A"', 'assert grade(80) == "A"', 'assert grade(79) == "B"', 'assert grade(60) == "B"',
      'assert grade(59) == "C"', 'assert grade(0) == "C"'], """
def grade(score):
    return "A" if score >= 80 else "B" if score >= 60 else "C"
""")

task("ja", "age_on", """
生年月日と基準日（どちらも "YYYY-MM-DD" 形式の文字列）から満年齢を返す関数
`age_on(birth: str, today: str) -> int` を書いてください。age_on("2000-05-10", "2026-05-09") は 25 を
返し、age_on("2000-05-10", "2026-05-10") は 26 を返すべきです。
""", ['assert age_on("2026-01-01", "2026-01-01") == 0', 'assert age_on("1990-12-31", "2026-12-03") == 35',
      'assert age_on("1990-01-01", "2026-12-03") == 36', 'assert age_on("2004-02-29", "2026-03-01") == 22'], """
def age_on(birth, today):
    by, bm, bd = map(int, birth.split("-"))
    ty, tm, td = map(int, today.split("-"))
    return ty - by - ((tm, td) < (bm, bd))
""")

task("ja", "count_nonempty_lines", """
テキストのうち、空白文字だけではない行の数を返す関数 count_nonempty_lines(text: str) -> int を
書いてください。
""", ['assert count_nonempty_lines("") == 0', 'assert count_nonempty_lines("a\\n\\nb") == 2',
      'assert count_nonempty_lines("  \\n\\t\\n") == 0', 'assert count_nonempty_lines("一行目\\n二行目\\n") == 2'], """
def count_nonempty_lines(text):
    return sum(1 for line in text.splitlines() if line.strip())
""")

task("ja", "average_1dp", """
数値のリストの平均を小数第1位までに丸めて返す関数 `average_1dp(nums: list[float]) -> float` を
書いてください（Python の round を使ってかまいません）。空のリストなら 0.0 を返します。

入力: [1, 2, 4]
出力: 2.3
""", ["assert average_1dp([]) == 0.0", "assert average_1dp([5]) == 5.0", "assert average_1dp([1, 2]) == 1.5",
      "assert average_1dp([10, 20, 31]) == 20.3"], """
def average_1dp(nums):
    return round(sum(nums) / len(nums), 1) if nums else 0.0
""")

task("ja", "is_katakana_only", """
文字列が空でなく、すべてカタカナ（ァ〜ヺ）または長音記号「ー」だけでできているかを判定する関数
is_katakana_only(s: str) -> bool を書いてください。例えば is_katakana_only("コーヒー") は True です。
""", ['assert is_katakana_only("") == False', 'assert is_katakana_only("カタカナ") == True',
      'assert is_katakana_only("ひらがな") == False', 'assert is_katakana_only("ラーメン1") == False',
      'assert is_katakana_only("ー") == True'], """
def is_katakana_only(s):
    return bool(s) and all("\\u30a1" <= c <= "\\u30fa" or c == "ー" for c in s)
""")

task("ja", "count_over", """
テストの点数のリストと合格点を受け取り、合格点以上の人数を返す関数 count_over(scores: list[int], line: int) -> int
を書いてください。count_over([50, 70, 90], 70) は 2 になります。
""", ["assert count_over([], 60) == 0", "assert count_over([60], 60) == 1", "assert count_over([10, 20], 30) == 0",
      "assert count_over([100, 99, 98], 0) == 3"], """
def count_over(scores, line):
    return sum(1 for s in scores if s >= line)
""")

task("ja", "minutes_to_hm", """
分数を「○時間○分」の形の文字列にする関数 `minutes_to_hm(m: int) -> str` を書いてください。
入力: 135
出力: "2時間15分"
入力: 45
出力: "0時間45分"
""", ['assert minutes_to_hm(0) == "0時間0分"', 'assert minutes_to_hm(60) == "1時間0分"',
      'assert minutes_to_hm(1441) == "24時間1分"', 'assert minutes_to_hm(59) == "0時間59分"'], """
def minutes_to_hm(m):
    return f"{m // 60}時間{m % 60}分"
""")

task("ja", "bmi", """
身長（cm）と体重（kg）から BMI（体重 ÷ 身長(m) の二乗）を計算し、小数第1位に丸めて返す関数
bmi(height_cm: float, weight_kg: float) -> float を書いてください。
""", ["assert bmi(170, 65) == 22.5", "assert bmi(160, 50) == 19.5", "assert bmi(180, 90) == 27.8",
      "assert bmi(150, 45) == 20.0"], """
def bmi(height_cm, weight_kg):
    return round(weight_kg / (height_cm / 100) ** 2, 1)
""")


# Examples each prompt shows, counted by hand when the prompts were written (for the extractor's recall):
# calls with a result in prose, I/O pairs, table rows; implicit ones ('"topK" should return "top_k"') count too.
SHOWN = {"clamp_percent": 2, "initials": 1, "digital_root": 2, "count_long_words": 2, "run_length": 1,
         "version_tuple": 2, "hex_to_rgb": 2, "middle_chars": 2, "longest_ones": 2, "seconds_to_clock": 1,
         "dedupe_keep_last": 1, "bytes_human": 2, "flatten_once": 2, "snake_to_camel": 1, "camel_to_snake": 2,
         "rotate_left": 1, "second_largest": 1, "trimmed_mean": 1, "parse_kv": 1, "truncate_words": 2,
         "grid_neighbors": 2, "merge_counts": 1, "top_k_words": 1, "price_with_tax": 2, "mask_email": 1,
         "ordinal": 4, "shared_extension": 1, "bump_patch": 1, "normalize_spaces": 1, "interleave": 2,
         "column_sums": 2, "percent_change": 1, "longest_word": 1, "elapsed_minutes": 2, "messages_that_fit": 2,
         "checksum8": 2, "group_by_initial": 1, "is_palindrome_number": 1, "title_case_small": 1,
         "to_halfwidth_digits": 1, "count_hiragana": 1, "format_yen": 1, "reverse_words": 1, "tax_included": 1,
         "split_full_name": 2, "age_on": 2, "average_1dp": 1, "is_katakana_only": 1, "count_over": 1,
         "minutes_to_hm": 2}


def main() -> None:
    counters = {"en": 0, "ja": 0}
    lines = []
    for lang, entry, prompt, tests, reference in T:
        counters[lang] += 1
        tid = f"team-code-{counters[lang]:03d}" if lang == "en" else f"team-code-ja-{counters[lang]:03d}"
        lines.append(json.dumps({"id": tid, "kind": "code", "lang": lang, "prompt": prompt, "entry_point": entry,
                                 "hidden_tests": tests, "reference": reference, "shown_examples": SHOWN.get(entry, 0),
                                 "provenance": PROVENANCE},
                                ensure_ascii=False))
    (HERE / "code.jsonl").write_text("\n".join(lines) + "\n", "utf-8")
    print(f"wrote {len(lines)} code tasks ({counters})")


if __name__ == "__main__":
    main()
