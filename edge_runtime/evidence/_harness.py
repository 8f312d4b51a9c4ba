"""Runs inside the sandbox (never imported by the runtime): candidate.py, then each check of checks.json.

One JSON line per result, prefixed by the run's nonce and flushed at once, so a later
timeout or crash cannot hide the results already reached.  Each check has its own time limit
(an interval timer) and its own try/except; checks share the candidate's namespace, in order,
so a doctest's `>>> x = make()` is seen by the next example.
"""
import contextlib
import io
import json
import math
import signal
import sys

_OUT = sys.stdout


def _report(nonce, **fields):
    _OUT.write(nonce + json.dumps(fields) + "\n")
    _OUT.flush()


def _alarm(signum, frame):
    raise TimeoutError("check took too long")


def _same(actual, printed, expected, ns):
    """Doctest-like: the value equals the expected expression, or its repr/print reads the same."""
    if printed and actual is None:
        return " ".join(printed.split()) == " ".join(expected.split())
    with contextlib.suppress(Exception):
        want = eval(expected, ns)
        if isinstance(actual, float) and isinstance(want, (int, float)):
            return math.isclose(actual, want, rel_tol=1e-6, abs_tol=1e-9)
        if actual == want:
            return True
    return " ".join(repr(actual).split()) == " ".join(expected.split())


def _execute(source, ns, filename):
    """An expression's value; statements (assignments, loops that print) run for effect, giving None."""
    try:
        code = compile(source, filename, "eval")
    except SyntaxError:
        exec(compile(source, filename, "exec"), ns)
        return None
    return eval(code, ns)


def _run(check, ns, seconds, filename="<check>"):
    """(passed, detail) for one check; any exception is the check's failure, not the harness's."""
    signal.setitimer(signal.ITIMER_REAL, seconds)
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            actual = _execute(check["source"], ns, filename)
            if check["expected"] is None:
                return True, ""
        if _same(actual, printed.getvalue(), check["expected"], ns):
            return True, ""
        return False, f"got {repr(actual)[:200]}" if actual is not None else f"printed {printed.getvalue()[:200]!r}"
    except BaseException as exc:  # noqa: BLE001 - SystemExit and friends fail the check too
        return False, f"{type(exc).__name__}: {str(exc)[:200]}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def main():
    spec = json.loads(open("checks.json", encoding="utf-8").read())
    nonce, seconds = spec["nonce"], spec["per_check_s"]
    signal.signal(signal.SIGALRM, _alarm)
    ns = {"__name__": "candidate"}
    candidate = {"source": open("candidate.py", encoding="utf-8").read(), "expected": None}
    loaded, load_error = _run(candidate, ns, seconds, "candidate.py")
    _report(nonce, load=load_error)
    for index, check in enumerate(spec["checks"]):
        passed, detail = _run(check, ns, seconds) if loaded else (False, "candidate did not load: " + load_error)
        _report(nonce, index=index, passed=passed, detail=detail)


main()
