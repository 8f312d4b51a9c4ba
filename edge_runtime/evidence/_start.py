"""The sandbox child's last lines (never imported by the runtime): run the candidate as __main__.

compile + exec rather than runpy: importing runpy costs a short run about a third of its startup."""
import sys as _sys

_sys.argv = ["main.py"]
with open("main.py", encoding="utf-8") as _file:
    _code = compile(_file.read(), "main.py", "exec")
del _sys, _file
exec(_code, {"__name__": "__main__", "__file__": "main.py", "__builtins__": __builtins__})
