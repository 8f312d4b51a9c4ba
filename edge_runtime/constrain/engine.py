"""The grammar engine (llguidance) and the one thing it needs from a model: its vocabulary as bytes.

llguidance was chosen by measurement (scripts/bench_structured.py): a mask over Qwen2.5's 151,936
tokens costs about 0.5 ms, under 1% of a 0.5B decode step on a 2-core CPU, and it rolls back, which
draft/verify needs. Its wheel is 3 MB with no Python dependencies (x86_64 and aarch64), so it is a
core dependency; a platform without a wheel still runs everything except constrained decoding.
"""
from __future__ import annotations

import weakref
from typing import Any

from edge_runtime.errors import ConfigError
from edge_runtime.models.backends.base import CausalLM

SPECIAL_PREFIX = b"\xff"  # llguidance's mark for a control token: never matched by grammar text
KNOWN_TEXTS = 4096  # tokenizations kept per model (forced texts: keys, `", "`, closing braces)

_tokenizers: "weakref.WeakKeyDictionary[Any, Any]" = weakref.WeakKeyDictionary()


def llguidance() -> Any:
    """The engine module, or a clear error where it is not installed."""
    try:
        import llguidance as llg
    except ImportError:
        raise ConfigError("constrained decoding (JSON schema, tools, grammars) needs the llguidance package",
                          "pip install 'llguidance>=1.9,<2' (wheels for x86_64 and aarch64)") from None
    return llg


class _Vocabulary:
    """What llguidance's TokenizerWrapper reads: token bytes, special ids, and a tokenize callable.

    llguidance tokenizes the text a grammar forces (with the last token before it) for every mask and
    forced-token query in such a state, and llama.cpp's tokenizer takes ~30 us a call; under a schema the
    same texts recur in every reply, so tokenizations are kept (dropped all at once when `KNOWN_TEXTS` fill).
    """

    def __init__(self, model: CausalLM) -> None:
        vocab = model.vocab
        self.eos_token_id = vocab.eos
        self.bos_token_id = vocab.bos
        self.tokens = [_token(model, i) for i in range(vocab.size)]
        self.special_token_ids = [i for i, t in enumerate(self.tokens) if t.startswith(SPECIAL_PREFIX)]
        self._model = model
        self._known: dict[str, list[int]] = {}

    def __call__(self, text: bytes | str) -> list[int]:
        raw = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
        ids = self._known.get(raw)
        if ids is None:
            if len(self._known) >= KNOWN_TEXTS:
                self._known.clear()
            ids = self._known[raw] = self._model.tokenize(raw, add_bos=False)
        return list(ids)


def _token(model: CausalLM, token: int) -> bytes:
    """A token's bytes in generated text; control tokens (no text) keep their name behind the mark."""
    piece = model.token_bytes(token)
    text = model.vocab.texts[token] if token < len(model.vocab.texts) else b""
    return piece if piece or not text else SPECIAL_PREFIX + text


def tokenizer_for(model: CausalLM) -> Any:
    """The engine's tokenizer for a model, built once per model object (about a second for 152k tokens)."""
    found = _tokenizers.get(model)
    if found is None:
        llg = llguidance()
        vocab = model.vocab
        found = llg.LLTokenizer(llg.TokenizerWrapper(_Vocabulary(model)), n_vocab=vocab.size,
                                eos_token=sorted(vocab.eog) or None)
        _tokenizers[model] = found
    return found
