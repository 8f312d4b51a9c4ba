"""Judging code without trusted examples by what it does (CodeT / MBR-exec): the model writes test
inputs, every candidate is run on them, and candidates that print the same results form a cluster.
Independent samples that are wrong tend to be wrong differently; right ones agree, so the largest
agreeing cluster is the best guess when the prompt carries no examples to check against.
"""
from __future__ import annotations

import ast
import hashlib
import json
import secrets
from collections import Counter
from typing import Any, Sequence

from edge_runtime.evidence.sandbox import run_python
from edge_runtime.evidence.signature import is_literal

INPUTS_ASK = ("{prompt}\n\nDo not write the function. Write {n} different example calls of `{name}` that test it, "
              "including edge cases (empty, zero, ties), one per line, like `{name}(...)`, with no results "
              "and no other text.")
MAX_INPUTS = 8
_RUNNER = """
import json, sys
ns = {{"__name__": "candidate"}}
nonce = {nonce!r}
try:
    exec(open("candidate.py", encoding="utf-8").read(), ns)
except BaseException as e:
    print(nonce + json.dumps(["load", type(e).__name__]), flush=True)
    sys.exit(0)
for i, call in enumerate({calls!r}):
    try:
        out = repr(eval(call, ns))
    except BaseException as e:
        out = "error:" + type(e).__name__
    print(nonce + json.dumps([i, out[:2000]]), flush=True)
"""
Behaviour = tuple[str, ...]


def parse_inputs(reply: str, name: str, limit: int = MAX_INPUTS) -> list[str]:
    """The calls of `name` with literal arguments in a reply, one spelling each, at most `limit`."""
    calls: list[str] = []
    for raw in reply.splitlines():
        line = raw.strip().strip("`").removeprefix("assert ").strip()
        line = line.split("==")[0].split("#")[0].strip().rstrip(",;")
        try:
            node = ast.parse(line, mode="eval").body
        except SyntaxError:
            continue
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name
                and all(is_literal(a) for a in [*node.args, *(k.value for k in node.keywords)])):
            call = ast.unparse(node)
            if call not in calls:
                calls.append(call)
    return calls[:limit]


def behaviour(code: str, calls: Sequence[str], **limits: Any) -> Behaviour | None:
    """What the code returns on each call (repr, or "error:Type"); None when it does not even load."""
    if not code or not calls:
        return None
    nonce = f"@@out-{secrets.token_hex(8)}@@"
    result = run_python(_RUNNER.format(nonce=nonce, calls=list(calls)), files={"candidate.py": code}, **limits)
    seen: dict[Any, str] = {}
    for line in result.stdout.splitlines():
        if nonce in line:
            key, value = json.loads(line.partition(nonce)[2])
            seen[key] = value
    if "load" in seen:
        return None
    missing = "timeout" if result.timed_out else "no output"
    return tuple(seen.get(i, missing) for i in range(len(calls)))


def fingerprint(outputs: Behaviour | None) -> str | None:
    """A short key equal for equal behaviour; None for code that does not load or fails on every input
    (a shared crash is no evidence of being right)."""
    if outputs is None or all(out.startswith("error:") or out in ("timeout", "no output") for out in outputs):
        return None
    return hashlib.sha1(json.dumps(outputs).encode()).hexdigest()[:12]


def cluster_sizes(keys: Sequence[str | None]) -> list[int]:
    """For each candidate, how many candidates (itself included) share its fingerprint; 0 for None."""
    counts = Counter(k for k in keys if k is not None)
    return [counts[k] if k is not None else 0 for k in keys]
