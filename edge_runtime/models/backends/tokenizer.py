"""Tokenizers for models that do not carry their own (ONNX): a GGUF's vocabulary, or a tokenizer.json.

Both give what the CausalLM protocol exposes: ids, token bytes, a `Vocab` with token texts (so a
draft/target check can compare an ONNX model with a GGUF one) and the chat template.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Protocol

from edge_runtime.errors import ModelFileError
from edge_runtime.models.backends.base import Vocab


class Tokenizer(Protocol):
    vocab: Vocab
    chat_template: str | None

    def tokenize(self, text: str, *, special: bool = False, add_bos: bool | None = None) -> list[int]: ...

    def token_bytes(self, token: int) -> bytes: ...

    def detokenize(self, ids: list[int]) -> bytes: ...

    def close(self) -> None: ...


def byte_alphabet() -> list[tuple[int, str]]:
    """GPT-2's byte-level alphabet in its vocabulary order (printable ASCII first): (byte, the printable
    stand-in a byte-level BPE vocabulary spells it with)."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    codes, extra = list(printable), 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            codes.append(256 + extra)
            extra += 1
    return [(b, chr(c)) for b, c in zip(printable, codes)]


def _byte_decoder() -> dict[str, int]:
    """GPT-2's byte-level alphabet, inverted: the printable stand-in for each byte back to the byte."""
    return {char: b for b, char in byte_alphabet()}


def _json(path: Path) -> dict:
    return json.loads(path.read_text("utf-8")) if path.is_file() else {}


def _token_name(value: object) -> str | None:
    """tokenizer_config.json writes special tokens as strings or as {"content": ...} objects."""
    return value.get("content") if isinstance(value, dict) else value if isinstance(value, str) else None


class HFTokenizer:
    """tokenizer.json through the `tokenizers` library, with tokenizer_config.json for the template."""

    def __init__(self, directory: str | Path) -> None:
        from tokenizers import Tokenizer as _Tokenizer

        directory = Path(directory)
        spec = _json(directory / "tokenizer.json")
        self._tok = _Tokenizer.from_file(str(directory / "tokenizer.json"))
        config = _json(directory / "tokenizer_config.json")
        self.chat_template: str | None = config.get("chat_template") or None
        model = spec.get("model", {})
        self._byte_level = "ByteLevel" in json.dumps(spec.get("decoder") or spec.get("pre_tokenizer") or {})
        vocab_type = {"BPE": "spm" if model.get("byte_fallback") else "bpe", "Unigram": "ugm",
                      "WordPiece": "wpm"}.get(model.get("type", ""), "none")
        size = self._tok.get_vocab_size(with_added_tokens=True)
        self._special = {t["id"] for t in spec.get("added_tokens", []) if t.get("special")}
        bos = self._id(_token_name(config.get("bos_token")))
        eos = self._id(_token_name(config.get("eos_token")))
        generation = _json(directory / "generation_config.json")
        eos_ids = generation.get("eos_token_id", [])
        eog = {eos} | set(eos_ids if isinstance(eos_ids, list) else [eos_ids])
        eog |= {self._id(t) for t in ("<|im_end|>", "<|endoftext|>", "<|eot_id|>", "<end_of_turn>")}
        texts = [(self._tok.id_to_token(i) or "").encode("utf-8") for i in range(size)]
        self.vocab = Vocab(size=size, vocab_type=vocab_type, bos=bos, eos=eos,
                           eog=frozenset(i for i in eog if i is not None),
                           add_bos=bool(config.get("add_bos_token", False)) and bos is not None, texts=texts)
        self._decoder = _byte_decoder() if self._byte_level else {}
        self._pieces: dict[int, bytes] = {}

    def _id(self, text: str | None) -> int | None:
        return self._tok.token_to_id(text) if text else None

    def tokenize(self, text: str, *, special: bool = False, add_bos: bool | None = None) -> list[int]:
        self._tok.encode_special_tokens = not special  # special=False: "<|im_end|>" in text is plain text
        ids = self._tok.encode(text, add_special_tokens=False).ids
        add = self.vocab.add_bos if add_bos is None else add_bos
        return [self.vocab.bos, *ids] if add and self.vocab.bos is not None else ids

    def token_bytes(self, token: int) -> bytes:
        piece = self._pieces.get(token)
        if piece is None:
            piece = self._piece(token)
            self._pieces[token] = piece
        return piece

    def _piece(self, token: int) -> bytes:
        if token in self._special:
            return b""  # control tokens do not appear in generated text, as with llama.cpp
        text = self._tok.id_to_token(token) or ""
        if self._byte_level:
            return bytes(self._decoder[c] for c in text if c in self._decoder)
        if text.startswith("<0x") and text.endswith(">") and len(text) == 6:
            return bytes([int(text[3:5], 16)])  # sentencepiece byte fallback
        return text.replace("\u2581", " ").encode("utf-8")

    def detokenize(self, ids: list[int]) -> bytes:
        return b"".join(self.token_bytes(t) for t in ids)

    def close(self) -> None:
        """Nothing native to free."""


def open_tokenizer(source: str | Path) -> Tokenizer:
    """A GGUF file (its vocabulary only), or a directory with tokenizer.gguf or tokenizer.json."""
    source = Path(source)
    if source.is_dir():
        if (source / "tokenizer.gguf").is_file():
            source = source / "tokenizer.gguf"
        elif (source / "tokenizer.json").is_file():
            return HFTokenizer(source)
        else:
            raise ModelFileError(f"{source.name}: no tokenizer.gguf or tokenizer.json in the model directory",
                                 "pass `tokenizer=` a GGUF of the same model family, or add its tokenizer.json")
    from edge_runtime.models.backends.gguf import LlamaVocab

    return LlamaVocab.from_gguf(source)
