"""Write tasks.jsonl from the hand-written tasks below (the source of truth; edit here, then rebuild).

Every task was written by hand by the edge-runtime team for this project (2026-11); none is taken,
paraphrased or translated from a public benchmark. See README.md. After rebuilding, run
validate.py: it runs each reference against the visible examples and hidden tests and checks
each number answer against its solution.

    python3 data/fusion/build.py && python3 data/fusion/validate.py
"""
from __future__ import annotations

import json
import textwrap
from pathlib import Path

HERE = Path(__file__).resolve().parent


def code(id, lang, entry_point, prompt, hidden_tests, reference):
    return {"id": id, "kind": "code", "lang": lang, "prompt": textwrap.dedent(prompt).strip(),
            "entry_point": entry_point, "hidden_tests": list(hidden_tests),
            "reference": textwrap.dedent(reference).strip() + "\n"}


def number(id, lang, prompt, answer, solution):
    return {"id": id, "kind": "number", "lang": lang, "prompt": prompt, "answer": answer,
            "solution": textwrap.dedent(solution).strip()}


EN = "Answer with the number."
JA = "数字だけで答えてください。"

TASKS = [
    # ----------------------------------------------------------------- code, English
    code("code-001", "en", "parse_duration", '''
        Write a Python function `parse_duration(text: str) -> int` that converts a duration such as
        "1h30m" or "2m5s" into seconds. The units are h, m and s; each appears at most once and in
        that order, and any of them may be missing. An empty string is 0 seconds.

        >>> parse_duration("1h30m")
        5400
        >>> parse_duration("45s")
        45
        ''', [
        'assert parse_duration("") == 0',
        'assert parse_duration("2m5s") == 125',
        'assert parse_duration("1h1s") == 3601',
        'assert parse_duration("10h") == 36000',
        'assert parse_duration("12m30s") == 750',
    ], '''
        import re

        def parse_duration(text):
            seconds = {"h": 3600, "m": 60, "s": 1}
            return sum(int(value) * seconds[unit] for value, unit in re.findall(r"(\\d+)([hms])", text))
        '''),
    code("code-002", "en", "chunk_tokens", '''
        Write a Python function `chunk_tokens(tokens: list, size: int, overlap: int) -> list[list]`
        that cuts a list into windows of `size` items, where each window starts `size - overlap`
        items after the previous one (0 <= overlap < size). Stop as soon as a window reaches the end
        of the list; the last window may be shorter. An empty list gives no windows.

        chunk_tokens([1, 2, 3, 4, 5], 3, 1) == [[1, 2, 3], [3, 4, 5]]
        chunk_tokens([1, 2, 3, 4, 5, 6], 3, 1) == [[1, 2, 3], [3, 4, 5], [5, 6]]
        ''', [
        'assert chunk_tokens([], 4, 2) == []',
        'assert chunk_tokens([1, 2], 4, 1) == [[1, 2]]',
        'assert chunk_tokens(list(range(7)), 2, 0) == [[0, 1], [2, 3], [4, 5], [6]]',
        'assert chunk_tokens(["a", "b", "c", "d"], 2, 1) == [["a", "b"], ["b", "c"], ["c", "d"]]',
        'assert chunk_tokens([1, 2, 3], 3, 2) == [[1, 2, 3]]',
    ], '''
        def chunk_tokens(tokens, size, overlap):
            windows, start = [], 0
            while start < len(tokens):
                windows.append(tokens[start:start + size])
                if start + size >= len(tokens):
                    break
                start += size - overlap
            return windows
        '''),
    code("code-003", "en", "mask_digits", '''
        Write a Python function `mask_digits(line: str) -> str` for log redaction: every run of 4
        or more consecutive digits is replaced by the same number of "#" characters. Shorter runs
        of digits are left alone.

        assert mask_digits("card 12345678 exp 09/27") == "card ######## exp 09/27"
        assert mask_digits("pin 123") == "pin 123"
        ''', [
        'assert mask_digits("") == ""',
        'assert mask_digits("1234") == "####"',
        'assert mask_digits("a1234b56789") == "a####b#####"',
        'assert mask_digits("tel 090-1234-5678") == "tel 090-####-####"',
        'assert mask_digits("year 2026, room 101") == "year ####, room 101"',
    ], '''
        import re

        def mask_digits(line):
            return re.sub(r"\\d{4,}", lambda m: "#" * len(m.group()), line)
        '''),
    code("code-004", "en", "bump_version", '''
        Write a Python function `bump_version(version: str, part: str) -> str`. `version` looks like
        "MAJOR.MINOR.PATCH", optionally with a leading "v" that must be kept. `part` is "major",
        "minor" or "patch": add one to that number and reset the numbers after it to 0.

        bump_version("1.4.2", "minor") ➞ "1.5.0"
        bump_version("v2.0.9", "patch") ➞ "v2.0.10"
        ''', [
        'assert bump_version("1.4.2", "major") == "2.0.0"',
        'assert bump_version("0.0.0", "patch") == "0.0.1"',
        'assert bump_version("v9.9.9", "major") == "v10.0.0"',
        'assert bump_version("3.19.4", "minor") == "3.20.0"',
        'assert bump_version("v0.1.0", "minor") == "v0.2.0"',
    ], '''
        def bump_version(version, part):
            prefix = "v" if version.startswith("v") else ""
            numbers = [int(x) for x in version[len(prefix):].split(".")]
            i = ["major", "minor", "patch"].index(part)
            numbers[i] += 1
            numbers[i + 1:] = [0] * (2 - i)
            return prefix + ".".join(map(str, numbers))
        '''),
    code("code-005", "en", "free_slots", '''
        Write a Python function `free_slots(busy, start, end)` for a calendar. `busy` is a list of
        ("HH:MM", "HH:MM") meetings that may be unsorted, may overlap and may stick out of the day.
        Return the free intervals between `start` and `end` as a sorted list of ("HH:MM", "HH:MM")
        tuples, leaving out empty gaps.

        Example 1:
        Input: busy = [("10:00", "11:00"), ("09:00", "09:30")], start = "09:00", end = "12:00"
        Output: [("09:30", "10:00"), ("11:00", "12:00")]

        Example 2:
        Input: busy = [], start = "08:00", end = "09:15"
        Output: [("08:00", "09:15")]
        ''', [
        'assert free_slots([("09:00", "10:30"), ("10:00", "11:00")], "08:00", "12:00") == [("08:00", "09:00"), ("11:00", "12:00")]',
        'assert free_slots([("08:00", "12:00")], "09:00", "11:00") == []',
        'assert free_slots([("07:00", "08:30"), ("11:30", "13:00")], "08:00", "12:00") == [("08:30", "11:30")]',
        'assert free_slots([("09:00", "10:00"), ("10:00", "11:00")], "09:00", "11:00") == []',
        'assert free_slots([("13:00", "14:00")], "09:00", "10:00") == [("09:00", "10:00")]',
    ], '''
        def free_slots(busy, start, end):
            def minutes(t):
                h, m = t.split(":")
                return int(h) * 60 + int(m)

            def clock(x):
                return f"{x // 60:02d}:{x % 60:02d}"

            cur, stop, out = minutes(start), minutes(end), []
            for a, b in sorted((minutes(a), minutes(b)) for a, b in busy):
                if min(a, stop) > cur:
                    out.append((clock(cur), clock(min(a, stop))))
                cur = max(cur, b)
                if cur >= stop:
                    break
            if cur < stop:
                out.append((clock(cur), clock(stop)))
            return out
        '''),
    code("code-006", "en", "top_words", '''
        Write a Python function `top_words(text: str, k: int) -> list[str]` that returns the k most
        frequent words of the text, most frequent first. Words are runs of the letters a-z after
        lowercasing (anything else separates words). Break ties alphabetically.

        Example:
        Input: text = "the cat and the hat and the bat", k = 2
        Output: ["the", "and"]
        ''', [
        'assert top_words("", 3) == []',
        'assert top_words("b a c", 2) == ["a", "b"]',
        'assert top_words("Go go GO, stop! Stop.", 5) == ["go", "stop"]',
        'assert top_words("x y x y z", 2) == ["x", "y"]',
        'assert top_words("one two two", 0) == []',
        'assert top_words("it\'s its it", 3) == ["it", "its", "s"]',
    ], '''
        import re
        from collections import Counter

        def top_words(text, k):
            counts = Counter(re.findall(r"[a-z]+", text.lower()))
            return [w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:k]]
        '''),
    code("code-007", "en", "human_bytes", '''
        Write a Python function `human_bytes(n: int) -> str` that formats a byte count with binary
        units. Below 1024 it prints the integer and " B". Otherwise it divides by 1024 until the
        value is below 1024 (going no further than TiB) and prints one decimal with the unit:
        KiB, MiB, GiB or TiB.

        >>> human_bytes(512)
        '512 B'
        >>> human_bytes(1536)
        '1.5 KiB'
        >>> human_bytes(1048576)
        '1.0 MiB'
        ''', [
        'assert human_bytes(0) == "0 B"',
        'assert human_bytes(1023) == "1023 B"',
        'assert human_bytes(1024) == "1.0 KiB"',
        'assert human_bytes(5 * 1024 ** 3) == "5.0 GiB"',
        'assert human_bytes(3 * 1024 ** 5) == "3072.0 TiB"',
        'assert human_bytes(1000000) == "976.6 KiB"',
    ], '''
        def human_bytes(n):
            if n < 1024:
                return f"{n} B"
            value = float(n)
            for unit in ("KiB", "MiB", "GiB", "TiB"):
                value /= 1024
                if value < 1024 or unit == "TiB":
                    return f"{value:.1f} {unit}"
        '''),
    code("code-008", "en", "expand_ranges", '''
        Write a Python function `expand_ranges(spec: str) -> list[int]` that expands a page
        selection such as "1-3,5,7-8" into a sorted list of numbers without duplicates. Items are
        separated by commas and may have spaces around them; "a-b" includes both ends. An empty
        string gives an empty list.

        expand_ranges("1-3,5,7-8") ➞ [1, 2, 3, 5, 7, 8]
        expand_ranges("10") ➞ [10]
        ''', [
        'assert expand_ranges("") == []',
        'assert expand_ranges("4-6, 5-7") == [4, 5, 6, 7]',
        'assert expand_ranges(" 9 , 2-3 ") == [2, 3, 9]',
        'assert expand_ranges("3-3") == [3]',
        'assert expand_ranges("0-2,1") == [0, 1, 2]',
    ], '''
        def expand_ranges(spec):
            pages = set()
            for item in spec.split(","):
                item = item.strip()
                if not item:
                    continue
                if "-" in item:
                    a, b = item.split("-")
                    pages.update(range(int(a), int(b) + 1))
                else:
                    pages.add(int(item))
            return sorted(pages)
        '''),
    code("code-009", "en", "wrap_words", '''
        Write a Python function `wrap_words(text: str, width: int) -> list[str]` that wraps text
        greedily: words (split on any whitespace) are put on a line joined by single spaces as long
        as the line stays within `width` characters. A word longer than `width` gets a line of its
        own and is not broken. Text without words gives an empty list.

        assert wrap_words("the quick brown fox", 10) == ["the quick", "brown fox"]
        assert wrap_words("a bb ccc", 4) == ["a bb", "ccc"]
        ''', [
        'assert wrap_words("", 5) == []',
        'assert wrap_words("   ", 5) == []',
        'assert wrap_words("extraordinary day", 5) == ["extraordinary", "day"]',
        'assert wrap_words("one two  three", 7) == ["one two", "three"]',
        'assert wrap_words("a b c d", 3) == ["a b", "c d"]',
        'assert wrap_words("word", 4) == ["word"]',
    ], '''
        def wrap_words(text, width):
            lines, line = [], ""
            for word in text.split():
                if not line:
                    line = word
                elif len(line) + 1 + len(word) <= width:
                    line += " " + word
                else:
                    lines.append(line)
                    line = word
            if line:
                lines.append(line)
            return lines
        '''),
    code("code-010", "en", "parse_kv", '''
        Write a Python function `parse_kv(line: str) -> dict[str, str]` that parses space-separated
        key=value pairs. A value may be wrapped in double quotes, in which case it may contain spaces
        and "=" and the quotes are removed. Values stay strings; a later key overrides an earlier one.

        parse_kv('a=1 b=two') == {'a': '1', 'b': 'two'}
        parse_kv('model="qwen 1.5b" threads=2') == {'model': 'qwen 1.5b', 'threads': '2'}
        ''', [
        "assert parse_kv('') == {}",
        "assert parse_kv('x=') == {'x': ''}",
        "assert parse_kv('msg=\"a=b c\"  n=3') == {'msg': 'a=b c', 'n': '3'}",
        "assert parse_kv('k=\"\" z=9') == {'k': '', 'z': '9'}",
        "assert parse_kv('a=1 a=2') == {'a': '2'}",
    ], '''
        import re

        def parse_kv(line):
            pairs = re.findall(r'(\\w+)=("([^"]*)"|\\S*)', line)
            return {key: quoted if raw.startswith('"') else raw for key, raw, quoted in pairs}
        '''),
    code("code-011", "en", "moving_average", '''
        Write a Python function `moving_average(values: list[float], window: int) -> list[float]`
        that returns the mean of every full window of `window` consecutive values, each rounded to
        2 decimals. If the window is longer than the list, return an empty list.

        >>> moving_average([1, 2, 3, 4], 2)
        [1.5, 2.5, 3.5]
        >>> moving_average([10, 20], 3)
        []
        ''', [
        'assert moving_average([], 1) == []',
        'assert moving_average([5], 1) == [5.0]',
        'assert moving_average([1, 2, 4], 3) == [2.33]',
        'assert moving_average([2, 2, 2, 8], 2) == [2.0, 2.0, 5.0]',
        'assert moving_average([1, 1, 2], 2) == [1.0, 1.5]',
    ], '''
        def moving_average(values, window):
            return [round(sum(values[i:i + window]) / window, 2) for i in range(len(values) - window + 1)]
        '''),
    code("code-012", "en", "percentile", '''
        Write a Python function `percentile(values: list, p: float)` using the nearest-rank method:
        sort the values, take rank = ceil(p / 100 * n) (but at least 1) and return the value at that
        1-based rank. p is between 0 and 100 and the list is not empty.

        percentile([15, 20, 35, 40, 50], 40) ➞ 20
        percentile([3, 1, 2], 100) ➞ 3
        ''', [
        'assert percentile([7], 50) == 7',
        'assert percentile([3, 1, 2], 0) == 1',
        'assert percentile([10, 20, 30, 40], 50) == 20',
        'assert percentile([10, 20, 30, 40], 51) == 30',
        'assert percentile(list(range(1, 101)), 95) == 95',
        'assert percentile([5, 5, 1], 34) == 5',
    ], '''
        import math

        def percentile(values, p):
            ordered = sorted(values)
            rank = max(1, math.ceil(p * len(ordered) / 100))
            return ordered[rank - 1]
        '''),
    code("code-013", "en", "dedupe_keep_last", '''
        Write a Python function `dedupe_keep_last(items: list) -> list` that removes duplicates but,
        unlike the usual way, keeps the LAST occurrence of each item; the result lists those last
        occurrences in their original order.

        assert dedupe_keep_last([1, 2, 1, 3]) == [2, 1, 3]
        assert dedupe_keep_last(["a", "b", "a", "b"]) == ["a", "b"]
        ''', [
        'assert dedupe_keep_last([]) == []',
        'assert dedupe_keep_last([5, 5, 5]) == [5]',
        'assert dedupe_keep_last([1, 2, 3]) == [1, 2, 3]',
        'assert dedupe_keep_last([3, 1, 2, 1, 3]) == [2, 1, 3]',
        'assert dedupe_keep_last(["x", "y", "x", "z", "y"]) == ["x", "z", "y"]',
    ], '''
        def dedupe_keep_last(items):
            seen, out = set(), []
            for item in reversed(items):
                if item not in seen:
                    seen.add(item)
                    out.append(item)
            return out[::-1]
        '''),
    code("code-014", "en", "strip_comment", r'''
        Write a Python function `strip_comment(line: str) -> str` that removes a `#` comment from one
        line of Python source and strips trailing whitespace. A `#` inside a single- or double-quoted
        string is not a comment; a backslash inside a string escapes the next character. There are
        no triple-quoted strings.

        >>> strip_comment("x = 1  # set x")
        'x = 1'
        >>> strip_comment("s = '#not a comment'")
        "s = '#not a comment'"
        ''', [
        'assert strip_comment("# only") == ""',
        'assert strip_comment("") == ""',
        'assert strip_comment(\'print("a#b")  # c\') == \'print("a#b")\'',
        r"""assert strip_comment('t = "it\'s" # q') == 't = "it\'s"'""",
        r'''assert strip_comment(r"s = 'a\'#b' # x") == r"s = 'a\'#b'"''',
        'assert strip_comment("y = 2   ") == "y = 2"',
    ], r'''
        def strip_comment(line):
            quote, i = None, 0
            while i < len(line):
                c = line[i]
                if quote:
                    if c == "\\":
                        i += 2
                        continue
                    if c == quote:
                        quote = None
                elif c in "'\"":
                    quote = c
                elif c == "#":
                    return line[:i].rstrip()
                i += 1
            return line.rstrip()
        '''),
    code("code-015", "en", "snake_to_camel", '''
        Write a Python function `snake_to_camel(name: str) -> str` that turns a lowercase snake_case
        name into camelCase. Leading underscores are kept as they are; several underscores between
        words count as one.

        snake_to_camel("load_model_file") == "loadModelFile"
        snake_to_camel("x") == "x"
        ''', [
        'assert snake_to_camel("_private_value") == "_privateValue"',
        'assert snake_to_camel("a__b") == "aB"',
        'assert snake_to_camel("__init") == "__init"',
        'assert snake_to_camel("max_len_2") == "maxLen2"',
        'assert snake_to_camel("") == ""',
    ], '''
        def snake_to_camel(name):
            body = name.lstrip("_")
            lead = name[:len(name) - len(body)]
            parts = [p for p in body.split("_") if p]
            if not parts:
                return lead
            return lead + parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])
        '''),
    code("code-016", "en", "camel_to_snake", '''
        Write a Python function `camel_to_snake(name: str) -> str` that turns camelCase or
        PascalCase into snake_case. A run of capitals is an acronym and stays one word
        ("HTTPServer" is "http_server"); a digit belongs to the word before it.

        camel_to_snake("loadModel") ➞ "load_model"
        camel_to_snake("HTTPServerError") ➞ "http_server_error"
        ''', [
        'assert camel_to_snake("parseJSON") == "parse_json"',
        'assert camel_to_snake("x") == "x"',
        'assert camel_to_snake("Simple") == "simple"',
        'assert camel_to_snake("getHTTPResponseCode") == "get_http_response_code"',
        'assert camel_to_snake("version2Update") == "version2_update"',
        'assert camel_to_snake("already_snake") == "already_snake"',
    ], '''
        import re

        def camel_to_snake(name):
            name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\\1_\\2", name)
            name = re.sub(r"([a-z0-9])([A-Z])", r"\\1_\\2", name)
            return name.lower()
        '''),
    code("code-017", "en", "column_sums", r'''
        Write a Python function `column_sums(csv_text: str) -> dict` for simple CSV (comma-separated,
        no quoting, first line is the header). Return, for each column whose non-empty cells are all
        numbers (int or float), the sum of those cells; empty cells are skipped and a column with no
        values sums to 0. Columns with any non-numeric cell are left out. Blank lines are ignored.

        Example:
        Input: csv_text = "name,qty,price\npen,3,1.5\ncup,2,4.25"
        Output: {"qty": 5, "price": 5.75}
        ''', [
        r'assert column_sums("a,b\n1,\n,2\n3,4") == {"a": 4, "b": 6}',
        r'assert column_sums("x\n") == {"x": 0}',
        r'assert column_sums("id,tag\n1,a\n2,b") == {"id": 3}',
        r'assert column_sums("v\n-1.5\n0.5") == {"v": -1.0}',
        r'assert column_sums("p,q\n1,2\n\n") == {"p": 1, "q": 2}',
    ], '''
        def column_sums(csv_text):
            lines = [line for line in csv_text.split("\\n") if line.strip()]
            header = [h.strip() for h in lines[0].split(",")]
            sums = {h: 0 for h in header}
            numeric = {h: True for h in header}
            for line in lines[1:]:
                for h, cell in zip(header, line.split(",")):
                    cell = cell.strip()
                    if not cell:
                        continue
                    try:
                        sums[h] += float(cell)
                    except ValueError:
                        numeric[h] = False
            return {h: sums[h] for h in header if numeric[h]}
        '''),
    code("code-018", "en", "next_weekday", '''
        Write a Python function `next_weekday(date_str: str, weekday: str) -> str`. `date_str` is
        "YYYY-MM-DD" and `weekday` is a lowercase three-letter English day name ("mon" ... "sun").
        Return the date of the next such weekday strictly after `date_str`, as "YYYY-MM-DD".

        >>> next_weekday("2026-11-03", "fri")
        '2026-11-06'
        >>> next_weekday("2026-11-06", "fri")
        '2026-11-13'
        ''', [
        'assert next_weekday("2026-12-30", "mon") == "2027-01-04"',
        'assert next_weekday("2024-02-27", "thu") == "2024-02-29"',
        'assert next_weekday("2026-11-08", "sun") == "2026-11-15"',
        'assert next_weekday("2026-11-08", "mon") == "2026-11-09"',
        'assert next_weekday("2025-02-28", "sat") == "2025-03-01"',
    ], '''
        import datetime

        def next_weekday(date_str, weekday):
            day = datetime.date.fromisoformat(date_str)
            target = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"].index(weekday)
            ahead = (target - day.weekday() - 1) % 7 + 1
            return (day + datetime.timedelta(days=ahead)).isoformat()
        '''),
    code("code-019", "en", "business_days", '''
        Write a Python function `business_days(start: str, end: str) -> int` that counts the
        weekdays (Monday to Friday) from `start` to `end`, both included; dates are "YYYY-MM-DD".
        Holidays are ignored. If `end` is before `start`, return 0.

        assert business_days("2026-11-02", "2026-11-06") == 5
        assert business_days("2026-11-07", "2026-11-08") == 0
        ''', [
        'assert business_days("2026-11-04", "2026-11-04") == 1',
        'assert business_days("2026-11-06", "2026-11-09") == 2',
        'assert business_days("2026-11-10", "2026-11-02") == 0',
        'assert business_days("2026-11-01", "2026-11-30") == 21',
        'assert business_days("2026-12-28", "2027-01-08") == 10',
    ], '''
        import datetime

        def business_days(start, end):
            day = datetime.date.fromisoformat(start)
            last = datetime.date.fromisoformat(end)
            count = 0
            while day <= last:
                count += day.weekday() < 5
                day += datetime.timedelta(days=1)
            return count
        '''),
    code("code-020", "en", "fit_history", '''
        Write a Python function `fit_history(messages: list[str], limit: int) -> list[str]` that
        trims a chat history to a word budget. A message costs len(message.split()) words. Walk back
        from the newest (last) message and keep messages while the total stays within `limit`; stop
        at the first message that does not fit, even if an older one would. Return the kept
        messages in their original order.

        Example 1:
        Input: messages = ["hello there", "how are you today", "fine thanks"], limit = 6
        Output: ["how are you today", "fine thanks"]

        Example 2:
        Input: messages = ["a b c d e"], limit = 3
        Output: []
        ''', [
        'assert fit_history([], 10) == []',
        'assert fit_history(["a", "b", "c"], 2) == ["b", "c"]',
        'assert fit_history(["one two", "x y z w", "k"], 3) == ["k"]',
        'assert fit_history(["", "a"], 1) == ["", "a"]',
        'assert fit_history(["a b", "c"], 0) == []',
    ], '''
        def fit_history(messages, limit):
            kept, used = [], 0
            for message in reversed(messages):
                cost = len(message.split())
                if used + cost > limit:
                    break
                kept.append(message)
                used += cost
            return kept[::-1]
        '''),
    code("code-021", "en", "parse_model_file", '''
        Write a Python function `parse_model_file(filename: str) -> dict` that reads a GGUF model
        file name. Lowercase it, drop a ".gguf" ending and split on "-". The size is the first part
        that is a number (decimals allowed) followed by "b" or "m". The quant is the last part if it
        is "f16", "f32", "bf16" or starts with "q" and a digit, otherwise None. The family is the
        parts before the size joined with "-"; if there is no size, size is None and the family is
        every part except the quant. Return {"family": ..., "size": ..., "quant": ...}.

        parse_model_file("qwen2.5-coder-1.5b-instruct-q4_k_m.gguf") == {"family": "qwen2.5-coder", "size": "1.5b", "quant": "q4_k_m"}
        parse_model_file("SmolLM2-135M-Instruct-f16.gguf") == {"family": "smollm2", "size": "135m", "quant": "f16"}
        ''', [
        'assert parse_model_file("tiny-7b.gguf") == {"family": "tiny", "size": "7b", "quant": None}',
        'assert parse_model_file("Llama-3.2-1B-Instruct-Q8_0.gguf") == {"family": "llama-3.2", "size": "1b", "quant": "q8_0"}',
        'assert parse_model_file("phi-3-mini-3.8b-bf16.gguf") == {"family": "phi-3-mini", "size": "3.8b", "quant": "bf16"}',
        'assert parse_model_file("model-q5_0.gguf") == {"family": "model", "size": None, "quant": "q5_0"}',
        'assert parse_model_file("demo-base") == {"family": "demo-base", "size": None, "quant": None}',
    ], '''
        import re

        def parse_model_file(filename):
            name = filename.lower()
            if name.endswith(".gguf"):
                name = name[:-5]
            parts = name.split("-")
            last = parts[-1]
            quant = last if re.fullmatch(r"q\\d.*", last) or last in ("f16", "f32", "bf16") else None
            for i, part in enumerate(parts):
                if re.fullmatch(r"\\d+(\\.\\d+)?[bm]", part):
                    return {"family": "-".join(parts[:i]), "size": part, "quant": quant}
            rest = parts[:-1] if quant else parts
            return {"family": "-".join(rest), "size": None, "quant": quant}
        '''),
    code("code-022", "en", "histogram", '''
        Write a Python function `histogram(values, bins: int, lo: float, hi: float) -> list[int]`
        that counts values into `bins` equal-width bins covering [lo, hi]. Each bin includes its
        left edge; a value equal to `hi` goes into the last bin; values outside [lo, hi] are ignored.

        >>> histogram([1, 2, 2, 3, 9], 4, 0, 8)
        [1, 3, 0, 0]
        >>> histogram([0, 10], 2, 0, 10)
        [1, 1]
        ''', [
        'assert histogram([], 3, 0, 1) == [0, 0, 0]',
        'assert histogram([5, 5, 5], 1, 0, 5) == [3]',
        'assert histogram([-1, 0, 0.5, 1, 2], 2, 0, 1) == [1, 2]',
        'assert histogram([2.5, 7.5, 7.4], 4, 0, 10) == [0, 1, 1, 1]',
        'assert histogram([3, 4, 5, 6], 3, 3, 6) == [1, 1, 2]',
    ], '''
        def histogram(values, bins, lo, hi):
            counts = [0] * bins
            for v in values:
                if v < lo or v > hi:
                    continue
                i = bins - 1 if v == hi else int((v - lo) * bins / (hi - lo))
                counts[i] += 1
            return counts
        '''),
    code("code-023", "en", "ordinal", '''
        Write a Python function `ordinal(n: int) -> str` that writes a non-negative integer as an
        English ordinal: "1st", "2nd", "3rd", "4th", with 11, 12 and 13 (and 111, 212, ...) taking
        "th".

        ordinal(1) ➞ "1st"
        ordinal(22) ➞ "22nd"
        ordinal(13) ➞ "13th"
        ordinal(2) ➞ "2nd"
        ''', [
        'assert ordinal(0) == "0th"',
        'assert ordinal(11) == "11th"',
        'assert ordinal(101) == "101st"',
        'assert ordinal(112) == "112th"',
        'assert ordinal(1003) == "1003rd"',
        'assert ordinal(4) == "4th"',
    ], '''
        def ordinal(n):
            if n % 100 in (11, 12, 13):
                return f"{n}th"
            return f"{n}" + {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
        '''),
    code("code-024", "en", "backoff_delays", '''
        Write a Python function `backoff_delays(base, factor, cap, n) -> list` that returns the
        first n retry delays of exponential backoff: base, base*factor, base*factor**2, ..., each
        capped at `cap`.

        assert backoff_delays(1, 2, 10, 5) == [1, 2, 4, 8, 10]
        assert backoff_delays(0.5, 3, 100, 3) == [0.5, 1.5, 4.5]
        ''', [
        'assert backoff_delays(1, 2, 10, 0) == []',
        'assert backoff_delays(5, 2, 3, 3) == [3, 3, 3]',
        'assert backoff_delays(2, 1, 10, 3) == [2, 2, 2]',
        'assert backoff_delays(1, 10, 1000, 5) == [1, 10, 100, 1000, 1000]',
    ], '''
        def backoff_delays(base, factor, cap, n):
            return [min(base * factor ** i, cap) for i in range(n)]
        '''),
    code("code-025", "en", "lru_misses", '''
        Write a Python function `lru_misses(capacity: int, accesses: list) -> int` that simulates a
        least-recently-used cache holding at most `capacity` keys and returns how many accesses
        miss. A hit makes the key the most recently used; a miss inserts the key, evicting the least
        recently used key when the cache is full. With capacity 0 every access misses.

        Example 1:
        Input: capacity = 2, accesses = ["a", "b", "a", "c", "b"]
        Output: 4

        Example 2:
        Input: capacity = 1, accesses = [1, 1, 2, 1]
        Output: 3
        ''', [
        'assert lru_misses(3, []) == 0',
        'assert lru_misses(0, [1, 1]) == 2',
        'assert lru_misses(2, [1, 2, 1, 3, 1, 2]) == 4',
        'assert lru_misses(3, [1, 2, 3, 1, 4, 2]) == 5',
        'assert lru_misses(2, ["x"] * 5) == 1',
    ], '''
        from collections import OrderedDict

        def lru_misses(capacity, accesses):
            cache, misses = OrderedDict(), 0
            for key in accesses:
                if key in cache:
                    cache.move_to_end(key)
                    continue
                misses += 1
                if capacity == 0:
                    continue
                if len(cache) >= capacity:
                    cache.popitem(last=False)
                cache[key] = True
            return misses
        '''),
    code("code-026", "en", "add_minutes", '''
        Write a Python function `add_minutes(clock: str, minutes: int) -> str` that adds minutes
        (possibly negative, possibly more than a day) to a 24-hour "HH:MM" time and returns the new
        "HH:MM", wrapping around midnight.

        add_minutes("23:45", 30) == "00:15"
        add_minutes("08:05", 90) == "09:35"
        ''', [
        'assert add_minutes("00:10", -20) == "23:50"',
        'assert add_minutes("12:00", 0) == "12:00"',
        'assert add_minutes("06:30", 1440 * 3 + 5) == "06:35"',
        'assert add_minutes("00:00", -1441) == "23:59"',
        'assert add_minutes("09:59", 1) == "10:00"',
    ], '''
        def add_minutes(clock, minutes):
            h, m = clock.split(":")
            total = (int(h) * 60 + int(m) + minutes) % 1440
            return f"{total // 60:02d}:{total % 60:02d}"
        '''),
    code("code-027", "en", "diff_dicts", '''
        Write a Python function `diff_dicts(old: dict, new: dict) -> dict` that compares two
        configurations and returns {"added": [...], "removed": [...], "changed": [...]}: keys only in
        `new`, keys only in `old`, and keys in both whose values differ. Each list is sorted.

        >>> diff_dicts({"a": 1, "b": 2}, {"b": 3, "c": 4})
        {'added': ['c'], 'removed': ['a'], 'changed': ['b']}
        ''', [
        'assert diff_dicts({}, {}) == {"added": [], "removed": [], "changed": []}',
        'assert diff_dicts({"x": 1}, {"x": 1}) == {"added": [], "removed": [], "changed": []}',
        'assert diff_dicts({"k": [1]}, {"k": [1, 2], "b": None, "a": 0}) == {"added": ["a", "b"], "removed": [], "changed": ["k"]}',
        'assert diff_dicts({"z": 1, "y": 2}, {}) == {"added": [], "removed": ["y", "z"], "changed": []}',
    ], '''
        def diff_dicts(old, new):
            return {
                "added": sorted(k for k in new if k not in old),
                "removed": sorted(k for k in old if k not in new),
                "changed": sorted(k for k in old if k in new and old[k] != new[k]),
            }
        '''),
    code("code-028", "en", "interleave", '''
        Write a Python function `interleave(*lists) -> list` that merges any number of lists
        round-robin: the first item of each list in turn, then the second items, and so on; lists
        that run out are skipped.

        interleave([1, 2, 3], ["a", "b"]) ➞ [1, "a", 2, "b", 3]
        ''', [
        'assert interleave() == []',
        'assert interleave([]) == []',
        'assert interleave([1], [2], [3]) == [1, 2, 3]',
        'assert interleave([], [1, 2]) == [1, 2]',
        'assert interleave([1, 2], [3], [4, 5, 6]) == [1, 3, 4, 2, 5, 6]',
    ], '''
        def interleave(*lists):
            out = []
            for i in range(max((len(x) for x in lists), default=0)):
                out.extend(x[i] for x in lists if i < len(x))
            return out
        '''),
    code("code-029", "en", "longest_streak", '''
        Write a Python function `longest_streak(dates: list[str]) -> int` that returns the length of
        the longest run of consecutive calendar days in a list of "YYYY-MM-DD" dates. The list may
        be unsorted and may repeat a date; an empty list gives 0.

        Example:
        Input: dates = ["2026-11-03", "2026-11-01", "2026-11-02", "2026-11-05"]
        Output: 3
        ''', [
        'assert longest_streak([]) == 0',
        'assert longest_streak(["2026-01-01"]) == 1',
        'assert longest_streak(["2024-02-28", "2024-02-29", "2024-03-01"]) == 3',
        'assert longest_streak(["2026-12-31", "2027-01-01", "2026-12-31"]) == 2',
        'assert longest_streak(["2026-03-01", "2026-03-03"]) == 1',
    ], '''
        import datetime

        def longest_streak(dates):
            days = sorted({datetime.date.fromisoformat(d).toordinal() for d in dates})
            best = run = 0
            for i, day in enumerate(days):
                run = run + 1 if i and day == days[i - 1] + 1 else 1
                best = max(best, run)
            return best
        '''),
    # ----------------------------------------------------------------- code, Japanese
    code("code-ja-001", "ja", "count_hiragana", '''
        文字列に含まれるひらがな（「ぁ」U+3041 から「ゖ」U+3096 まで）の文字数を数える Python の関数
        `count_hiragana(text: str) -> int` を書いてください。長音符「ー」、カタカナ、漢字、英数字は数えません。

        >>> count_hiragana("こんにちは世界")
        5
        >>> count_hiragana("カタカナとabc")
        1
        ''', [
        'assert count_hiragana("") == 0',
        'assert count_hiragana("ぁゖ") == 2',
        'assert count_hiragana("ラーメンをたべる") == 4',
        'assert count_hiragana("123") == 0',
        'assert count_hiragana("あいうえお。かきくけこ") == 10',
    ], '''
        def count_hiragana(text):
            return sum("\\u3041" <= ch <= "\\u3096" for ch in text)
        '''),
    code("code-ja-002", "ja", "split_sentences", '''
        日本語の文章を文に分ける Python の関数 `split_sentences(text: str) -> list[str]` を書いてください。
        「。」「！」「？」で区切り、区切りの記号はその文の最後に含めます。記号が続く場合（「！！」など）は
        まとめて一つの文の終わりとします。各文の前後の空白（全角スペースも含む）は取り除き、空の文は捨てます。
        最後に記号のない文もそのまま含めます。

        split_sentences("今日は晴れ。明日は雨？") ➞ ["今日は晴れ。", "明日は雨？"]
        split_sentences("こんにちは") ➞ ["こんにちは"]
        ''', [
        'assert split_sentences("") == []',
        'assert split_sentences("すごい！！本当？") == ["すごい！！", "本当？"]',
        'assert split_sentences("\u3000はい。\u3000いいえ。") == ["はい。", "いいえ。"]',
        'assert split_sentences("一つ目。二つ目") == ["一つ目。", "二つ目"]',
        'assert split_sentences("あ。。い") == ["あ。。", "い"]',
    ], '''
        import re

        def split_sentences(text):
            parts = re.findall(r"[^。！？]*[。！？]+|[^。！？]+", text)
            return [p.strip() for p in parts if p.strip()]
        '''),
    code("code-ja-003", "ja", "format_yen", '''
        整数の金額を3桁ごとにカンマで区切り、最後に「円」を付けた文字列にする Python の関数
        `format_yen(amount: int) -> str` を書いてください。負の金額は先頭に「-」を付けます。

        format_yen(1234567) == "1,234,567円"
        format_yen(500) == "500円"
        ''', [
        'assert format_yen(0) == "0円"',
        'assert format_yen(-500) == "-500円"',
        'assert format_yen(1000) == "1,000円"',
        'assert format_yen(-1234567) == "-1,234,567円"',
        'assert format_yen(999999) == "999,999円"',
    ], '''
        def format_yen(amount):
            return f"{amount:,}円"
        '''),
    code("code-ja-004", "ja", "to_wareki", '''
        西暦の年を和暦の文字列にする Python の関数 `to_wareki(year: int)` を書いてください。
        2019年以降は令和、1989年から2018年は平成、1926年から1988年は昭和とします（年の途中の改元は考えません）。
        1年目は「元年」と書きます。1926年より前の年には None を返します。

        assert to_wareki(2026) == "令和8年"
        assert to_wareki(1989) == "平成元年"
        ''', [
        'assert to_wareki(2019) == "令和元年"',
        'assert to_wareki(2018) == "平成30年"',
        'assert to_wareki(1926) == "昭和元年"',
        'assert to_wareki(1988) == "昭和63年"',
        'assert to_wareki(1925) is None',
        'assert to_wareki(2000) == "平成12年"',
    ], '''
        def to_wareki(year):
            for era, first in (("令和", 2019), ("平成", 1989), ("昭和", 1926)):
                if year >= first:
                    n = year - first + 1
                    return f"{era}{'元' if n == 1 else n}年"
            return None
        '''),
    code("code-ja-005", "ja", "parse_zenkaku_number", '''
        全角数字「０」〜「９」を含む数の文字列を整数に変換する Python の関数
        `parse_zenkaku_number(text: str) -> int` を書いてください。半角数字が混ざっていてもかまいません。
        桁区切りの全角カンマ「，」と半角カンマ「,」は無視し、先頭の全角マイナス「－」または半角「-」は負の数を表します。

        例:
        Input: text = "１，２３４"
        Output: 1234

        Input: text = "－５６"
        Output: -56
        ''', [
        'assert parse_zenkaku_number("0") == 0',
        'assert parse_zenkaku_number("１２,３４５") == 12345',
        'assert parse_zenkaku_number("-7") == -7',
        'assert parse_zenkaku_number("１０００") == 1000',
        'assert parse_zenkaku_number("１，０００，０００") == 1000000',
    ], '''
        def parse_zenkaku_number(text):
            table = str.maketrans("０１２３４５６７８９－", "0123456789-")
            return int(text.translate(table).replace("，", "").replace(",", ""))
        '''),
    code("code-ja-006", "ja", "shift_minutes", '''
        「HH:MM-HH:MM」形式の勤務時間のリストを受け取り、合計の勤務時間を分で返す Python の関数
        `shift_minutes(shifts: list[str]) -> int` を書いてください。終了時刻が開始時刻より前なら日付をまたいだ
        勤務とみなします。開始と終了が同じ時刻なら0分です。

        >>> shift_minutes(["09:00-17:30"])
        510
        >>> shift_minutes(["22:00-06:00", "10:15-11:00"])
        525
        ''', [
        'assert shift_minutes([]) == 0',
        'assert shift_minutes(["12:00-12:00"]) == 0',
        'assert shift_minutes(["23:30-00:15"]) == 45',
        'assert shift_minutes(["00:00-23:59"]) == 1439',
        'assert shift_minutes(["08:00-12:00", "13:00-17:00"]) == 480',
    ], '''
        def shift_minutes(shifts):
            def minutes(t):
                h, m = t.split(":")
                return int(h) * 60 + int(m)

            total = 0
            for shift in shifts:
                start, end = shift.split("-")
                total += (minutes(end) - minutes(start)) % 1440
            return total
        '''),
    # ----------------------------------------------------------------- number, English
    number("math-001", "en", f"What is 48 times 25? {EN}", "1200", "48 * 25"),
    number("math-002", "en", f"What is 7305 minus 2869? {EN}", "4436", "7305 - 2869"),
    number("math-003", "en", f"What is three eighths of 960? {EN}", "360", "960 * 3 / 8"),
    number("math-004", "en", f"Compute 15 + 6 × 7 − 18 ÷ 3. {EN}", "51", "15 + 6 * 7 - 18 / 3"),
    number("math-005", "en", f"What is 2 to the power of 12, minus 100? {EN}", "3996", "2 ** 12 - 100"),
    number("math-006", "en",
           "A laptop costs $840. It is discounted by 15%, and then 8% sales tax is added to the discounted "
           "price. What is the final price in dollars? Round to 2 decimal places and answer with the number.",
           "771.12", "round(840 * 0.85 * 1.08, 2)"),
    number("math-007", "en",
           "A car uses 6.5 liters of fuel per 100 km. How many liters does it need for a 340 km trip? "
           "Answer with the number, to one decimal place.", "22.1", "round(6.5 * 340 / 100, 1)"),
    number("math-008", "en",
           f"A 3.6 GB file downloads at 12 MB per second, with 1 GB = 1000 MB. How many seconds does the "
           f"download take? {EN}", "300", "3.6 * 1000 / 12"),
    number("math-009", "en",
           f"A bus leaves at 08:47 and the ride takes 1 hour 38 minutes. How many minutes after 10:00 does "
           f"it arrive? {EN}", "25", "8 * 60 + 47 + 98 - 10 * 60"),
    number("math-010", "en",
           f"Mia is 4 times as old as her son. In 20 years she will be twice as old as he will be then. "
           f"How old is Mia now? {EN}", "40",
           "ans = next(4 * s for s in range(1, 100) if 4 * s + 20 == 2 * (s + 20))"),
    number("math-011", "en",
           f"Tom is 7 years older than Ana. The sum of their ages is 45. How old is Tom? {EN}", "26",
           "(45 + 7) / 2"),
    number("math-012", "en",
           f"In how many ways can a committee of 3 people be chosen from 7 people? {EN}", "35",
           "__import__('math').comb(7, 3)"),
    number("math-013", "en",
           f"How many three-digit numbers have three different digits that are all odd? {EN}", "60",
           "sum(1 for n in range(100, 1000) if len(set(str(n))) == 3 and all(int(d) % 2 for d in str(n)))"),
    number("math-014", "en",
           f"A door code is two letters, each from A, B, C or D (letters may repeat), followed by one digit "
           f"from 0 to 9. How many different codes are there? {EN}", "160", "4 * 4 * 10"),
    number("math-015", "en",
           f"One printer prints 18 pages per minute and a second prints 12 pages per minute. Working "
           f"together, how many minutes do they need for 450 pages? {EN}", "15", "450 / (18 + 12)"),
    number("math-016", "en",
           f"A town had 24,000 people. The population grew by 5% in one year and then fell by 5% the "
           f"next year. How many people live there now? {EN}", "23940", "24000 * 1.05 * 0.95"),
    number("math-017", "en",
           f"A runner finished 10 km in 52 minutes. What was her average pace in seconds per kilometer? "
           f"{EN}", "312", "52 * 60 / 10"),
    number("math-018", "en",
           f"A recipe needs 250 g of flour for 4 servings. How many grams of flour are needed for 10 "
           f"servings? {EN}", "625", "250 / 4 * 10"),
    number("math-019", "en",
           f"How many days after March 3, 2025 is May 17, 2025? {EN}", "75",
           "import datetime\nans = (datetime.date(2025, 5, 17) - datetime.date(2025, 3, 3)).days"),
    number("math-020", "en",
           f"In a year that is not a leap year, January 1 is a Monday. How many Mondays are there in "
           f"January and February together? {EN}", "9",
           "import datetime\n"
           "d = datetime.date(2018, 1, 1)  # a Monday, 2018 is not a leap year\n"
           "ans = sum((d + datetime.timedelta(days=i)).weekday() == 0 for i in range(31 + 28))"),
    number("math-021", "en",
           "Three friends share a restaurant bill of $86.40 plus a 15% tip on the bill, split equally. How "
           "many dollars does each pay? Round to 2 decimal places and answer with the number.", "33.12",
           "round(86.40 * 1.15 / 3, 2)"),
    number("math-022", "en",
           "You deposit $2,500 in an account that pays 4% interest compounded once a year. How many dollars "
           "are in the account after 3 years? Round to the nearest cent and answer with the number.",
           "2812.16", "round(2500 * 1.04 ** 3, 2)"),
    number("math-023", "en",
           f"A warehouse holds 1,200 boxes. On Monday 35% of them are shipped; on Tuesday 40% of the boxes "
           f"still there are shipped. How many boxes remain? {EN}", "468", "1200 * 0.65 * 0.60"),
    number("math-024", "en",
           f"A cyclist rides 18 km at 12 km/h and then 24 km at 16 km/h. What is her average speed for the "
           f"whole ride in km/h? {EN}", "14", "(18 + 24) / (18 / 12 + 24 / 16)"),
    number("math-025", "en",
           f"A phone plan costs $25 a month plus $0.10 for every MB above 2,000 MB. This month you used "
           f"2,750 MB. What is the bill in dollars? {EN}", "100", "25 + (2750 - 2000) * 0.10"),
    number("math-026", "en",
           f"How many integers from 1 to 500 are divisible by 3 or by 7, but not by both? {EN}", "191",
           "sum(1 for n in range(1, 501) if (n % 3 == 0) != (n % 7 == 0))"),
    number("math-027", "en",
           f"A grid of 3 rows and 4 columns of unit squares is drawn. How many rectangles of any size "
           f"(squares included) can be found in it? {EN}", "60",
           "sum(1 for r1 in range(4) for r2 in range(r1 + 1, 4) for c1 in range(5) for c2 in range(c1 + 1, 5))"),
    number("math-028", "en",
           f"What is the smaller angle, in degrees, between the hour hand and the minute hand of a clock "
           f"at 3:40? {EN}", "130",
           "a = abs((3 * 30 + 40 * 0.5) - 40 * 6)\nans = min(a, 360 - a)"),
    number("math-029", "en",
           f"What is the sum of all even numbers from 2 to 200 that are not multiples of 4? {EN}", "5000",
           "sum(n for n in range(2, 201, 2) if n % 4)"),
    number("math-030", "en",
           f"After a 20% markdown a shirt costs $40. What was the original price in dollars? {EN}", "50",
           "40 / 0.8"),
    number("math-031", "en",
           f"The average of five numbers is 18. Four of them are 12, 20, 25 and 9. What is the fifth "
           f"number? {EN}", "24", "5 * 18 - (12 + 20 + 25 + 9)"),
    number("math-032", "en",
           "Using 1 mile = 1.609 km, how many kilometers are 7 miles? Round to one decimal place and answer "
           "with the number.", "11.3", "round(7 * 1.609, 1)"),
    number("math-033", "en",
           f"A water tank is 2.4 m long, 1.5 m wide and 0.8 m deep. How many liters does it hold when full? "
           f"{EN}", "2880", "2.4 * 1.5 * 0.8 * 1000"),
    number("math-034", "en",
           f"A server handles 240 requests per second. How many requests does it handle in 6 hours? {EN}",
           "5184000", "240 * 6 * 3600"),
    # ----------------------------------------------------------------- number, Japanese
    number("math-ja-001", "ja",
           f"りんごは1個120円、みかんは1個45円です。りんごを3個とみかんを8個買うと、合計はいくらですか。{JA}",
           "720", "3 * 120 + 8 * 45"),
    number("math-ja-002", "ja",
           f"定価2,800円の本が25%引きで売られています。さらに値引き後の価格に10%の消費税がかかります。支払う金額は何円ですか。{JA}",
           "2310", "2800 * 0.75 * 1.10"),
    number("math-ja-003", "ja",
           f"電車が9時42分に出発し、12時7分に目的地に着きました。乗っていた時間は何分ですか。{JA}",
           "145", "(12 * 60 + 7) - (9 * 60 + 42)"),
    number("math-ja-004", "ja",
           f"父は今42歳で、子どもは10歳です。父の年齢が子どもの年齢のちょうど3倍になるのは何年後ですか。{JA}",
           "6", "ans = next(x for x in range(100) if 42 + x == 3 * (10 + x))"),
    number("math-ja-005", "ja",
           f"クッキーが96個あります。8人で同じ数ずつ分け、それぞれが自分の分の3分の1を食べました。残っているクッキーは全部で何個ですか。{JA}",
           "64", "8 * (96 // 8 - 96 // 8 // 3)"),
    number("math-ja-006", "ja",
           f"時速4.5kmで歩くと、6.3kmの道のりを歩くのに何分かかりますか。{JA}", "84", "6.3 / 4.5 * 60"),
    number("math-ja-007", "ja",
           f"赤・青・黄・緑の4色から違う2色を選び、旗の上半分と下半分を塗り分けます。塗り方は何通りありますか。{JA}",
           "12", "4 * 3"),
    number("math-ja-008", "ja",
           f"1から100までの整数のうち、4でも6でも割り切れない数は何個ありますか。{JA}", "67",
           "sum(1 for n in range(1, 101) if n % 4 and n % 6)"),
    number("math-ja-009", "ja",
           f"ノートは1冊150円ですが、6冊セットは5冊分の値段で買えます。ノートを12冊手に入れるには最低いくら払えばよいですか。{JA}",
           "1500", "(12 // 6) * 5 * 150 + (12 % 6) * 150"),
    number("math-ja-010", "ja",
           f"ある数に7を足してから3倍すると51になります。ある数はいくつですか。{JA}", "10", "51 / 3 - 7"),
]


def main() -> None:
    out = HERE / "tasks.jsonl"
    with out.open("w", encoding="utf-8") as f:
        for task in TASKS:
            f.write(json.dumps(task, ensure_ascii=False) + "\n")
    print(f"wrote {len(TASKS)} tasks to {out}")


if __name__ == "__main__":
    main()
