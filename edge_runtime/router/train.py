"""Fit the domain router from labelled JSONL and export one ONNX graph: text in, probabilities out.

Why this shape:
- Tokens are single characters (Japanese has no spaces) plus whitespace runs, n-grams 1-3; a second
  branch sees ASCII words (and single non-ASCII characters), n-grams 1-2. Both branches are plain
  regex tokenizers, so the exported graph (Tokenizer -> TfIdfVectorizer) reproduces scikit-learn
  exactly. skl2onnx cannot convert `char_wb`, its `char` path disagrees on whitespace, and
  `lowercase=True` adds a StringNormalizer node that fails to load where the en_US.UTF-8 locale is
  missing. So the text is left as typed, and the whitespace class is spelled out because
  onnxruntime's regex engine (RE2) reads `\\s` as ASCII only.
- A multinomial logistic regression reads the features. Its temperature is fitted on out-of-fold
  logits and folded into the weights, so the calibrated probabilities cost nothing at run time.
- A hand-written lexicon (one term per row) is added to the training rows: a few thousand prompts
  cannot teach every tool or topic name.
"""
from __future__ import annotations

import datetime
import hashlib
import json
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edge_runtime.config import DOMAINS
from edge_runtime.errors import ConfigError, EdgeRuntimeError
from edge_runtime.jsonl import read_jsonl
from edge_runtime.sampling import log_softmax

# Every character for which str.isspace() is true (Python's `\s`), spelled out for RE2.
WHITESPACE = ("\t\n\v\f\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
              "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
CHAR_TOKENS = f"[^{WHITESPACE}]|[{WHITESPACE}]+"
WORD_TOKENS = f"[A-Za-z0-9_]+|[^A-Za-z0-9_{WHITESPACE}]"
TARGET_OPSET = {"": 17, "ai.onnx.ml": 3}
ONNX_TOLERANCE = 1e-4  # largest allowed |onnxruntime - scikit-learn| probability difference


@dataclass
class Example:
    text: str
    domain: str
    split: str = "train"


def load_examples(path: str | Path) -> list[Example]:
    """Rows of a JSONL file with `text` and `domain` (and optionally `split`)."""
    rows = []
    for where, row in read_jsonl(path, '{"text", "domain"}'):
        try:
            rows.append(Example(row["text"], row["domain"], row.get("split", "train")))
        except KeyError as err:
            raise ConfigError(f"{where}: missing {err}", 'expected {"text", "domain"}') from None
        if rows[-1].domain not in DOMAINS:
            raise ConfigError(f"{where}: unknown domain {rows[-1].domain!r}", "domains: " + ", ".join(DOMAINS))
    return rows


def load_lexicon(folder: str | Path | None) -> list[Example]:
    """One training row per term in <folder>/<domain>.txt, plus its capitalized form."""
    if folder is None or not Path(folder).is_dir():
        return []
    rows = []
    for domain in DOMAINS:
        path = Path(folder) / f"{domain}.txt"
        terms = [t.strip() for t in path.read_text("utf-8").splitlines() if t.strip()] if path.is_file() else []
        for term in terms:
            rows.append(Example(term, domain))
            if term.isascii() and term[0].islower():
                rows.append(Example(term.capitalize(), domain))
    return rows


def _vectorizer_class() -> Any:
    """skl2onnx's TfidfVectorizer that keeps n-grams as tuples, so tokens may hold spaces."""
    try:
        from skl2onnx.sklapi import TraceableTfidfVectorizer
        import skl2onnx.sklapi.register  # noqa: F401  (registers its converter)
    except ImportError:
        raise EdgeRuntimeError("training the router needs scikit-learn and skl2onnx",
                               "pip install 'edge-runtime[train]'") from None
    return TraceableTfidfVectorizer


def build_pipeline(c: float = 30.0) -> Any:
    """The unfitted scikit-learn pipeline; its shape is what the ONNX graph reproduces."""
    vectorizer = _vectorizer_class()
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union

    chars = vectorizer(analyzer="word", token_pattern=CHAR_TOKENS, ngram_range=(1, 3), lowercase=False, min_df=2)
    words = vectorizer(analyzer="word", token_pattern=WORD_TOKENS, ngram_range=(1, 2), lowercase=False, min_df=1)
    return make_pipeline(make_union(chars, words), LogisticRegression(C=c, max_iter=5000))


def _fit(texts: list[str], labels: list[str], c: float) -> Any:
    pipe = build_pipeline(c)
    pipe.fit(texts, labels)
    return pipe


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The softmax temperature that minimizes the negative log-likelihood of `y` (class indices)."""
    from scipy.optimize import minimize_scalar

    def nll(log_t: float) -> float:
        return float(-np.mean(log_softmax(logits / np.exp(log_t))[np.arange(len(y)), y]))

    return float(np.exp(minimize_scalar(nll, bounds=(-3.0, 3.0), method="bounded").x))


def expected_calibration_error(probs: np.ndarray, y: np.ndarray, bins: int = 10) -> float:
    """|accuracy - confidence| over equal-width confidence bins, weighted by bin size."""
    conf, right = probs.max(axis=1), probs.argmax(axis=1) == y
    edges = np.linspace(0.0, 1.0, bins + 1)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:]):
        inside = (conf > lo) & (conf <= hi)
        if inside.any():
            ece += inside.mean() * abs(right[inside].mean() - conf[inside].mean())
    return float(ece)


def evaluate(probs: np.ndarray, domains: list[str], labels: list[str]) -> dict[str, Any]:
    """Accuracy, confusion matrix (rows: true, columns: predicted, in `labels` order) and ECE."""
    y = np.array([labels.index(d) for d in domains])
    pred = probs.argmax(axis=1)
    confusion = np.zeros((len(labels), len(labels)), dtype=int)
    np.add.at(confusion, (y, pred), 1)
    return {"n": len(y), "accuracy": round(float((pred == y).mean()), 4),
            "ece": round(expected_calibration_error(probs, y), 4), "confusion": confusion.tolist()}


def export_onnx(pipe: Any) -> bytes:
    """The fitted pipeline as one ONNX graph: `text` (string[N]) -> `probabilities` (float[N, 4])."""
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import StringTensorType

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # skl2onnx warns on every non-default tokenizer
        model = to_onnx(pipe, initial_types=[("text", StringTensorType([None]))],
                        options={id(pipe[-1]): {"zipmap": False}}, target_opset=TARGET_OPSET)
    model.graph.name = "edge_runtime_router"
    opsets = sorted((o.domain, o.version) for o in model.opset_import)  # skl2onnx's order varies run to run
    del model.opset_import[:]
    for domain, version in opsets:
        model.opset_import.add(domain=domain, version=version)
    entry = model.metadata_props.add()
    entry.key, entry.value = "edge_runtime.labels", json.dumps([str(c) for c in pipe.classes_])
    return model.SerializeToString()


def onnx_probabilities(onnx_bytes: bytes, texts: list[str]) -> np.ndarray:
    """Run the exported graph one text at a time, as the Router does."""
    import onnxruntime as ort

    session = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    return np.vstack([session.run(["probabilities"], {"text": np.array([t], dtype=object)})[0] for t in texts])


def _oof_logits(texts: list[str], labels: list[str], extra: list[Example], c: float, folds: int) -> np.ndarray:
    """Out-of-fold decision values of the training prompts (lexicon rows always in training)."""
    from sklearn.model_selection import StratifiedKFold

    logits = np.zeros((len(texts), len(DOMAINS)))
    splitter = StratifiedKFold(folds, shuffle=True, random_state=0)
    for fit_idx, out_idx in splitter.split(texts, labels):
        pipe = _fit([texts[i] for i in fit_idx] + [e.text for e in extra],
                    [labels[i] for i in fit_idx] + [e.domain for e in extra], c)
        logits[out_idx] = pipe.decision_function([texts[i] for i in out_idx])
    return logits


def sha256_of(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def train(data: str | Path, out: str | Path, *, new_user: str | Path | None = None,
          lexicon: str | Path | None = None, c: float = 30.0, folds: int = 5) -> dict[str, Any]:
    """Fit on the `train` rows, check the ONNX graph against scikit-learn, write out and out.json.

    `folds` >= 2 fits the temperature on out-of-fold logits (and reports cross-validated metrics);
    `folds` = 0 skips calibration (temperature 1), for quick fits.
    """
    rows = load_examples(data)
    train_rows = [r for r in rows if r.split == "train"]
    test_rows = [r for r in rows if r.split == "test"]
    missing = sorted(set(DOMAINS) - {r.domain for r in train_rows})
    if missing:
        raise ConfigError(f"{Path(data).name}: no training prompts for {', '.join(missing)}",
                          "the router needs examples of every domain")
    extra = load_lexicon(lexicon)
    texts, labels = [r.text for r in train_rows], [r.domain for r in train_rows]
    metrics: dict[str, Any] = {}

    temperature = 1.0
    if folds >= 2:
        logits = _oof_logits(texts, labels, extra, c, folds)
        order = sorted(DOMAINS)  # scikit-learn's class order
        y = np.array([order.index(d) for d in labels])
        temperature = fit_temperature(logits, y)
        for name, t in (("cv_uncalibrated", 1.0), ("cv", temperature)):
            z = logits / t
            p = np.exp(z - z.max(axis=1, keepdims=True))
            metrics[name] = evaluate(p / p.sum(axis=1, keepdims=True), labels, order)

    pipe = _fit(texts + [e.text for e in extra], labels + [e.domain for e in extra], c)
    clf = pipe[-1]
    clf.coef_ /= temperature  # softmax(z / T) == softmax of the rescaled linear model
    clf.intercept_ /= temperature
    onnx_bytes = export_onnx(pipe)
    order = [str(x) for x in clf.classes_]

    check = [r.text for r in test_rows] or texts[:200]
    check_probs = onnx_probabilities(onnx_bytes, check)
    diff = float(np.abs(check_probs - pipe.predict_proba(check)).max())
    if diff > ONNX_TOLERANCE:
        raise EdgeRuntimeError(f"the exported graph disagrees with scikit-learn (max |diff| {diff:.2e})",
                               "check the tokenizer patterns against the skl2onnx version in use")
    metrics["onnx_max_abs_diff"] = diff
    if test_rows:
        metrics["test"] = evaluate(check_probs, [r.domain for r in test_rows], order)
    if new_user is not None:
        nu = load_examples(new_user)
        metrics["new_user"] = evaluate(onnx_probabilities(onnx_bytes, [r.text for r in nu]), [r.domain for r in nu], order)

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(onnx_bytes)
    meta = {
        "labels": order,
        "metrics": metrics,
        "temperature": round(temperature, 4),
        "c": c,
        "features": {"chars": {"token_pattern": "single non-space character | whitespace run", "ngram_range": [1, 3], "min_df": 2},
                     "words": {"token_pattern": WORD_TOKENS.replace(WHITESPACE, "<whitespace>"), "ngram_range": [1, 2]}},
        "n_train": len(train_rows), "n_lexicon_rows": len(extra), "n_test": len(test_rows),
        "training_data": Path(data).name,
        "training_data_sha256": sha256_of(data),
        "onnx_sha256": hashlib.sha256(onnx_bytes).hexdigest(),
        "onnx_bytes": len(onnx_bytes),
        "date": datetime.date.today().isoformat(),
    }
    out.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n", "utf-8")
    return meta


def format_report(meta: dict[str, Any]) -> str:
    """Accuracy, ECE and confusion matrices as plain text, for the CLI."""
    labels = meta["labels"]
    lines = [f"labels: {', '.join(labels)}   temperature: {meta['temperature']}   "
             f"onnx: {meta['onnx_bytes'] / 1e6:.2f} MB (max |onnx - sklearn| {meta['metrics']['onnx_max_abs_diff']:.1e})"]
    for name in ("cv", "test", "new_user"):
        m = meta["metrics"].get(name)
        if m is None:
            continue
        lines.append(f"\n{name}: accuracy {m['accuracy']:.1%}  ECE {m['ece']:.3f}  (n={m['n']})")
        lines.append("  true \\ pred " + "".join(f"{lab:>9}" for lab in labels))
        lines += [f"  {lab:<11} " + "".join(f"{v:>9}" for v in row) for lab, row in zip(labels, m["confusion"])]
    return "\n".join(lines)
