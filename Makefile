# The two commands of the README. Everything else a user needs is set up by these.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
# GPU=cuda|vulkan|metal builds llama.cpp with that backend; the default is the CPU alone. The RPC backend
# (experts on other machines, `edge-runtime rpc-serve`) is always in.
GPU ?=
LLAMA_CMAKE_cuda := -DGGML_CUDA=ON
LLAMA_CMAKE_vulkan := -DGGML_VULKAN=ON
LLAMA_CMAKE_metal := -DGGML_METAL=ON
LLAMA_CMAKE_ARGS := -DGGML_RPC=ON $(LLAMA_CMAKE_$(GPU))
LLAMA_STAMP := $(VENV)/.llama-$(or $(GPU),cpu)
DEMO_PROMPT := Refactor this function to use a list comprehension and add type hints:\n\ndef squares_of_evens(numbers):\n    result = []\n    for n in numbers:\n        if n %% 2 == 0:\n            result.append(n * n)\n    return result

.PHONY: run test clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# llama-cpp-python compiled for this machine and backend; a backend change rebuilds it (pip's wheel
# cache does not know CMAKE_ARGS, so a GPU build must not come from it).
$(LLAMA_STAMP): | $(BIN)/python
	rm -f $(VENV)/.llama-*
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) $(BIN)/python -m pip install \
		$(if $(GPU),--no-cache-dir --force-reinstall --no-deps) "llama-cpp-python>=0.3.36,<0.4"
	touch $@

$(VENV)/.core: pyproject.toml $(LLAMA_STAMP) | $(BIN)/python
	$(BIN)/python -m pip install -e .
	touch $@

$(VENV)/.dev: pyproject.toml $(LLAMA_STAMP) | $(BIN)/python
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
