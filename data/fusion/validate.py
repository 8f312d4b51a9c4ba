"""Check data/fusion/tasks.jsonl: schema, code references against their examples and tests, number answers.

- every task: unique id of the form code-NNN / code-ja-NNN / math-NNN / math-ja-NNN matching its kind
  and lang, the fields of its kind and no others, Japanese text in every "ja" prompt and none in "en";
- code: the prompt names the entry point and shows at least one example in a style the runtime
  parses (see visible_examples); at least 4 hidden tests, each an `assert` that calls the entry
  point and repeats no visible example; the reference passes every visible example and every hidden
  test in a fresh interpreter (one subprocess per task, 10 s limit);
- number: `answer` is a plain decimal number and `solution` (an expression, or statements that set
  `ans`) computes it (exactly for integers; formatted to the answer's decimals otherwise);

    python3 data/fusion/validate.py [path/to/tasks.jsonl]
"""
from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
FIELDS = {
    "code": {"id", "kind", "lang", "prompt", "entry_point", "hidden_tests", "reference"},
    "number": {"id", "kind", "lang", "prompt", "answer", "solution"},
}
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
NUMBER = re.compile(r"-?\d+(\.\d+)?")


def _call_of(node: ast.AST, entry_point: str) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == entry_point


def _compare(source: str, entry_point: str) -> tuple[str, str] | None:
    """(call, expected) for `entry_point(...) == expected`, else None."""
    try:
        node = ast.parse(source.strip(), mode="eval").body
    except SyntaxError:
        return None
    if (isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], ast.Eq)
            and _call_of(node.left, entry_point)):
        return ast.get_source_segment(source.strip(), node.left), \
            ast.get_source_segment(source.strip(), node.comparators[0])
    return None


def visible_examples(prompt: str, entry_point: str) -> list[tuple[str, str, str]]:
    """The examples shown in a prompt as (style, call source, expected source). Styles:
    doctest (`>>> f(x)` then the value on the next line), assert (`assert f(x) == y`),
    eq (`f(x) == y`), arrow (`f(x) ➞ y`), io (`Input: args` then `Output: value`)."""
    lines = [line.strip() for line in prompt.splitlines()]
    found: list[tuple[str, str, str]] = []
    pending_input: str | None = None
    for i, line in enumerate(lines):
        if line.startswith(">>> ") and f"{entry_point}(" in line:
            expected = next((x for x in lines[i + 1:] if x), "")
            if expected and not expected.startswith(">>>"):
                found.append(("doctest", line[4:].strip(), expected))
        elif line.startswith("assert ") and (pair := _compare(line[7:], entry_point)):
            found.append(("assert", *pair))
        elif line.startswith(f"{entry_point}(") and "➞" in line:
            call, expected = line.split("➞", 1)
            found.append(("arrow", call.strip(), expected.strip()))
        elif line.startswith(f"{entry_point}(") and (pair := _compare(line, entry_point)):
            found.append(("eq", *pair))
        elif line.startswith("Input:"):
            pending_input = line[len("Input:"):].strip()
        elif line.startswith("Output:") and pending_input is not None:
            found.append(("io", f"{entry_point}({pending_input})", line[len("Output:"):].strip()))
            pending_input = None
    return found


def _normal(source: str) -> str:
    return ast.dump(ast.parse(source, mode="eval"))


def check_code(task: dict, errors: list[str], styles: Counter) -> None:
    tid, entry = task["id"], task["entry_point"]
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", entry) or f"{entry}(" not in task["prompt"]:
        errors.append(f"{tid}: entry point {entry!r} missing from the prompt")
    examples = visible_examples(task["prompt"], entry)
    if not examples:
        errors.append(f"{tid}: no visible example found in the prompt")
    styles.update({style for style, _, _ in examples})
    seen = set()
    for _, call, expected in examples:
        try:
            seen.add((_normal(call), _normal(expected)))
        except SyntaxError:
            errors.append(f"{tid}: visible example does not parse: {call} -> {expected}")
    tests = task["hidden_tests"]
    if not isinstance(tests, list) or len(tests) < 4:
        errors.append(f"{tid}: needs at least 4 hidden tests")
        tests = []
    for test in tests:
        try:
            node = ast.parse(test).body
        except SyntaxError:
            errors.append(f"{tid}: hidden test does not parse: {test}")
            continue
        if len(node) != 1 or not isinstance(node[0], ast.Assert) \
                or not any(_call_of(n, entry) for n in ast.walk(node[0])):
            errors.append(f"{tid}: hidden test is not one assert calling {entry}: {test}")
            continue
        pair = _compare(ast.get_source_segment(test, node[0].test), entry)
        if pair and (_normal(pair[0]), _normal(pair[1])) in seen:
            errors.append(f"{tid}: hidden test repeats a visible example: {test}")
    if task["reference"] in task["prompt"]:
        errors.append(f"{tid}: reference shown in the prompt")
    checks = [("visible", f"assert ({call}) == ({expected})") for _, call, expected in examples]
    checks += [("hidden", test) for test in tests]
    program = [task["reference"]] + [
        f"try:\n    exec({test!r})\nexcept Exception as e:\n    raise SystemExit({where + ': ' + test!r} + ': ' + repr(e))"
        for where, test in checks]
    try:
        run = subprocess.run([sys.executable, "-I", "-c", "\n".join(program)], capture_output=True,
                             text=True, timeout=10)
    except subprocess.TimeoutExpired:
        errors.append(f"{tid}: reference timed out")
        return
    if run.returncode != 0:
        errors.append(f"{tid}: reference fails: {run.stderr.strip().splitlines()[-1]}")


def check_number(task: dict, errors: list[str]) -> None:
    tid, answer = task["id"], task["answer"]
    if not isinstance(answer, str) or not NUMBER.fullmatch(answer):
        errors.append(f"{tid}: answer {answer!r} is not a plain number string")
        return
    source = task["solution"]
    try:
        value = eval(compile(ast.parse(source, mode="eval"), tid, "eval"), {})
    except SyntaxError:
        scope: dict = {}
        exec(compile(source, tid, "exec"), scope)
        if "ans" not in scope:
            errors.append(f"{tid}: solution statements must set `ans`")
            return
        value = scope["ans"]
    decimals = len(answer.split(".")[1]) if "." in answer else 0
    ok = f"{value:.{decimals}f}" == answer and abs(value - float(answer)) < 0.5 * 10 ** -decimals
    if decimals == 0:
        ok = abs(value - int(answer)) < 1e-6
    if not ok:
        errors.append(f"{tid}: solution gives {value!r}, answer says {answer}")


def main() -> int:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "tasks.jsonl"
    tasks = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    errors: list[str] = []
    ids = Counter(t.get("id") for t in tasks)
    errors += [f"{i}: duplicate id" for i, n in ids.items() if n > 1]
    prompts = Counter(t.get("prompt") for t in tasks)
    errors += [f"duplicate prompt: {p[:60]!r}" for p, n in prompts.items() if n > 1]
    styles: Counter = Counter()
    examples_per_task: Counter = Counter()
    for task in tasks:
        tid, kind, lang = task.get("id"), task.get("kind"), task.get("lang")
        if kind not in FIELDS or lang not in ("en", "ja"):
            errors.append(f"{tid}: bad kind {kind!r} or lang {lang!r}")
            continue
        if set(task) != FIELDS[kind]:
            errors.append(f"{tid}: fields {sorted(set(task) ^ FIELDS[kind])} wrong for kind {kind}")
            continue
        prefix = {"code": "code", "number": "math"}[kind] + ("-ja" if lang == "ja" else "")
        if not re.fullmatch(rf"{prefix}-\d{{3}}", tid):
            errors.append(f"{tid}: id should look like {prefix}-NNN")
        if not isinstance(task["prompt"], str) or not task["prompt"].strip():
            errors.append(f"{tid}: empty prompt")
            continue
        if bool(JAPANESE.search(task["prompt"])) != (lang == "ja"):
            errors.append(f"{tid}: prompt language does not match lang={lang}")
        if kind == "code":
            check_code(task, errors, styles)
            examples_per_task[len(visible_examples(task["prompt"], task["entry_point"]))] += 1
        else:
            check_number(task, errors)
    by = Counter((t.get("kind"), t.get("lang")) for t in tasks)
    print(f"{len(tasks)} tasks in {path}")
    for kind in ("code", "number"):
        print(f"  {kind:6}  en {by[kind, 'en']:3}  ja {by[kind, 'ja']:3}  all {by[kind, 'en'] + by[kind, 'ja']:3}")
    ja = sum(n for (_, lang), n in by.items() if lang == "ja")
    print(f"  Japanese: {ja}/{len(tasks)} = {ja / max(len(tasks), 1):.0%}")
    print("  code example styles (tasks using each):", dict(sorted(styles.items())))
    print("  visible examples per code task:", dict(sorted(examples_per_task.items())))
    if len(tasks) < 60:
        errors.append(f"only {len(tasks)} tasks, the benchmark needs at least 60")
    if ja < 0.15 * len(tasks):
        errors.append(f"only {ja} Japanese tasks, need at least 15%")
    for error in errors:
        print("FAIL", error)
    print("all checks passed" if not errors else f"{len(errors)} problem(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
