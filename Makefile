# The two commands of the README. Everything else a user needs is set up by these.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEMO_PROMPT := Refactor this function to use a list comprehension and add type hints:\n\ndef squares_of_evens(numbers):\n    result = []\n    for n in numbers:\n        if n %% 2 == 0:\n            result.append(n * n)\n    return result

.PHONY: run test bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.core: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e .
	touch $@

$(VENV)/.dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -e '.[dev]'
	touch $@ $(VENV)/.core

run: $(VENV)/.core
	$(BIN)/edge-runtime pull
	$(BIN)/edge-runtime run --expert auto --draft auto "$$(printf '$(DEMO_PROMPT)')"

test: $(VENV)/.dev
	$(BIN)/edge-runtime pull
	$(BIN)/python -m pytest -q -ra

clean:
	rm -rf $(VENV) build *.egg-info
